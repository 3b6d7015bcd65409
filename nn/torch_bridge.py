"""`to_torch` and `from_torch`: the same model as a `torch.nn.Module`, and back.

Our layers take PyTorch's constructor arguments and lay out their parameters
and buffers under PyTorch's names, so a model crosses over by building the
same layers from the same arguments and copying the state dict. `LAYERS` is
the whole map: one entry per layer, naming its PyTorch class and the
constructor arguments to copy with their PyTorch defaults (a new layer is one
entry). `Sequential` (and `MLP`, which is one) becomes `torch.nn.Sequential`
with the same child names; `Snake`, which PyTorch lacks, becomes a small
torch module with the same formula and state.

    torch_model = nn.to_torch(model)       # PyTorch's classes, our weights (copied)
    model = nn.from_torch(torch_model)     # our classes, its weights (copied, same dtype)

PyTorch stays optional: without it both raise ImportError with the install command.
"""
import functools
import inspect

import numpy as np

from autograd_lite import Value

from .activations import (ELU, GELU, Identity, LeakyReLU, LogSoftmax, ReLU, Sigmoid, SiLU, Snake,
                          Softmax, Softplus, Tanh)
from .batchnorm import BatchNorm1d, BatchNorm2d, LayerNorm
from .conv import Conv2d
from .embedding import Embedding
from .layers import Dropout, Flatten, Linear
from .module import Sequential
from .pooling import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d
from .rnn import GRU, LSTM, RNN
from .serialization import optional_package

__all__ = ["to_torch", "from_torch"]

REQUIRED = inspect.Parameter.empty  # an argument with no default

_BATCH_NORM = dict(num_features=REQUIRED, eps=1e-5, momentum=0.1, affine=True,
                   track_running_stats=True, bias=True)
_RECURRENT = dict(input_size=REQUIRED, hidden_size=REQUIRED, num_layers=1, bias=True,
                  batch_first=False, dropout=0.0, bidirectional=False)

# our class -> (PyTorch's class name in torch.nn, {argument: PyTorch's default})
LAYERS = {
    Linear: ("Linear", dict(in_features=REQUIRED, out_features=REQUIRED, bias=True)),
    Conv2d: ("Conv2d", dict(in_channels=REQUIRED, out_channels=REQUIRED, kernel_size=REQUIRED,
                            stride=1, padding=0, dilation=1, groups=1, bias=True,
                            padding_mode="zeros")),
    MaxPool2d: ("MaxPool2d", dict(kernel_size=REQUIRED, stride=None, padding=0, dilation=1,
                                  return_indices=False, ceil_mode=False)),
    AvgPool2d: ("AvgPool2d", dict(kernel_size=REQUIRED, stride=None, padding=0, ceil_mode=False,
                                  count_include_pad=True, divisor_override=None)),
    AdaptiveAvgPool2d: ("AdaptiveAvgPool2d", dict(output_size=REQUIRED)),
    Flatten: ("Flatten", dict(start_dim=1, end_dim=-1)),
    Dropout: ("Dropout", dict(p=0.5)),
    BatchNorm1d: ("BatchNorm1d", _BATCH_NORM),
    BatchNorm2d: ("BatchNorm2d", _BATCH_NORM),
    LayerNorm: ("LayerNorm", dict(normalized_shape=REQUIRED, eps=1e-5, elementwise_affine=True,
                                  bias=True)),
    Embedding: ("Embedding", dict(num_embeddings=REQUIRED, embedding_dim=REQUIRED,
                                  padding_idx=None, max_norm=None, norm_type=2.0,
                                  scale_grad_by_freq=False, sparse=False)),
    RNN: ("RNN", dict(_RECURRENT, nonlinearity="tanh")),
    LSTM: ("LSTM", dict(_RECURRENT, proj_size=0)),
    GRU: ("GRU", _RECURRENT),
    Tanh: ("Tanh", {}),
    Sigmoid: ("Sigmoid", {}),
    ReLU: ("ReLU", {}),
    LeakyReLU: ("LeakyReLU", dict(negative_slope=0.01)),
    ELU: ("ELU", dict(alpha=1.0)),
    GELU: ("GELU", dict(approximate="none")),
    SiLU: ("SiLU", {}),
    Softplus: ("Softplus", dict(beta=1.0, threshold=20.0)),
    Softmax: ("Softmax", dict(dim=None)),
    LogSoftmax: ("LogSoftmax", dict(dim=None)),
    Identity: ("Identity", {}),
    Snake: ("Snake", dict(a=1.0, learnable=False)),  # not in torch.nn: _torch_snake_class()
}


def entry_for(table, module, caller, path):
    """The table entry of `module`'s class, or of the nearest base class whose forward it keeps
    (so `MLP`, a `Sequential`, finds Sequential's); a clear error naming the layer otherwise."""
    for cls in type(module).__mro__:
        if cls in table and cls.forward is type(module).forward:
            return table[cls]
    names = ", ".join(sorted({cls.__name__ for cls in table}))
    raise TypeError(f"{caller}: layer {_where(path)} ({type(module).__name__}) has no "
                    f"equivalent to convert it to; supported: {names}")


def _where(path):
    return f"'{path}'" if path else "(the model itself)"


@functools.lru_cache(maxsize=None)
def _torch_snake_class():
    """Snake as a torch module, made on first use (torch is optional): the same formula,
    with `a` a parameter when learnable and otherwise a constant left out of the state dict."""
    torch = optional_package("torch", "nn.to_torch")

    class Snake(torch.nn.Module):
        """x + sin²(a·x) / a, as autograd_lite's nn.Snake."""

        def __init__(self, a=1.0, learnable=False):
            super().__init__()
            self.learnable = bool(learnable)
            a = torch.as_tensor(np.array(a, dtype=np.float64))
            if self.learnable:
                self.a = torch.nn.Parameter(a)
            elif a.ndim == 0:
                self.a = a.item()  # a number keeps float32 inputs float32, as ours does
            else:
                self.register_buffer("a", a, persistent=False)

        def forward(self, x):
            s = torch.sin(x * self.a)
            return x + s * s / self.a

        def extra_repr(self):
            a = self.a if isinstance(self.a, float) else tuple(self.a.shape) or self.a.item()
            return f"a={a}" + (", learnable=True" if self.learnable else "")

    return Snake


def _torch_class(torch, name):
    return _torch_snake_class() if name == "Snake" else getattr(torch.nn, name)


def _argument(module, name):
    """`module`'s setting `name` as a plain constructor argument (missing: REQUIRED).

    A bias parameter becomes True (None: False); a parameter or tensor becomes a numpy array.
    """
    attributes = vars(module)
    for place in (attributes, attributes.get("_parameters", {}), attributes.get("_buffers", {})):
        if name in place:
            value = place[name]
            break
    else:
        return REQUIRED
    if name == "bias" and not isinstance(value, bool):
        return value is not None
    if isinstance(value, Value):
        return np.array(value.data)
    if hasattr(value, "detach"):  # a torch tensor
        return value.detach().cpu().numpy()
    return value


def _is_default(value, default):
    """Whether `value` is PyTorch's default, also when stored as a pair ((1, 1) for 1)."""
    if isinstance(value, (tuple, list)):
        return all(_is_default(v, default) for v in value)
    return value is default or (not isinstance(value, np.ndarray) and value == default)


# --- ours -> PyTorch ---------------------------------------------------------------------
def to_torch(model):
    """The equivalent `torch.nn.Module`: PyTorch's classes, our parameters and buffers copied
    (same dtypes, same requires_grad, same train/eval mode), so outputs and gradients match."""
    torch = optional_package("torch", "nn.to_torch")
    theirs = _to_torch(model, torch, "", {})
    state = {key: torch.from_numpy(np.asarray(array, order="C"))  # 0-d stays 0-d
             for key, array in model.state_dict().items()}
    theirs.load_state_dict(state, assign=True)  # assign: keep our dtypes, not float32's
    frozen = {name for name, param in model.named_parameters() if not param.requires_grad}
    for name, param in theirs.named_parameters():
        param.requires_grad_(name not in frozen)
    return theirs


def _to_torch(module, torch, path, made):
    if id(module) in made:  # a layer used twice stays one layer, as in the original
        return made[id(module)]
    if entry_for({Sequential: None, **LAYERS}, module, "nn.to_torch", path) is None:
        theirs = torch.nn.Sequential()
        for name, child in module.named_children():
            theirs.add_module(name, _to_torch(child, torch, f"{path}.{name}".lstrip("."), made))
    else:
        name, defaults = entry_for(LAYERS, module, "nn.to_torch", path)
        arguments = {}
        for argument in defaults:
            value = _argument(module, argument)
            if value is not REQUIRED:
                arguments[argument] = value
        theirs = _torch_class(torch, name)(**arguments)
    theirs.training = module.training  # this module only: children keep their own mode
    made[id(module)] = theirs
    return theirs


# --- PyTorch -> ours -------------------------------------------------------------------
def from_torch(module):
    """Our equivalent of a `torch.nn.Module` built from the layers in `LAYERS` and
    `torch.nn.Sequential`: same structure and names, its weights copied in its dtype,
    the same train/eval mode and requires_grad. A layer we lack, or a setting of it we
    do not support (e.g. `ceil_mode=True`), is a clear error naming the layer."""
    torch = optional_package("torch", "nn.from_torch")
    table = {_torch_class(torch, name): (ours, name, defaults)
             for ours, (name, defaults) in LAYERS.items()}
    table[torch.nn.Sequential] = None
    ours = _from_torch(module, table, "", {})
    floating = [t for t in module.state_dict().values() if t.is_floating_point()]
    if floating:  # keep its precision: a float32 model stays float32
        ours.to(str(floating[0].dtype).replace("torch.", ""))
    ours.load_state_dict({key: value.detach().cpu().numpy()
                          for key, value in module.state_dict().items()})
    frozen = {name for name, param in module.named_parameters() if not param.requires_grad}
    for name, param in ours.named_parameters():
        param.requires_grad = name not in frozen
    return ours


def _from_torch(theirs, table, path, made):
    if id(theirs) in made:
        return made[id(theirs)]
    entry = entry_for(table, theirs, "nn.from_torch", path)
    if entry is None:
        ours = Sequential()
        for name, child in theirs._modules.items():  # named_children() would skip a repeat
            if child is not None:
                ours.add_module(name, _from_torch(child, table, f"{path}.{name}".lstrip("."),
                                                  made))
    else:
        cls, name, defaults = entry
        accepted = inspect.signature(cls).parameters
        arguments = {}
        for argument, default in defaults.items():
            value = _argument(theirs, argument)
            if argument in accepted and value is not REQUIRED:
                arguments[argument] = value
            elif value is not REQUIRED and not _is_default(value, default):
                raise ValueError(f"nn.from_torch: layer {_where(path)} ({name}) has "
                                 f"{argument}={value!r}, which nn.{cls.__name__} does not "
                                 f"support (only {argument}={default!r})")
        try:
            ours = cls(**arguments)
        except (TypeError, ValueError) as error:  # e.g. Conv2d(padding="same")
            raise ValueError(f"nn.from_torch: layer {_where(path)} ({name}): {error}") from error
    ours.training = theirs.training  # this module only: children keep their own mode
    made[id(theirs)] = ours
    return ours

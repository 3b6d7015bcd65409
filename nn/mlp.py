"""MLP: the neural-network-basics guide's "list of layer sizes" network, built from modules.

    model = nn.MLP([2, 4, 4, 1], activation="sigmoid", output_activation="sigmoid")

is Linear(2, 4), Sigmoid, Linear(4, 4), Sigmoid, Linear(4, 1), Sigmoid. An
MLP *is* a `Sequential`, so its state-dict keys are "0.weight", "0.bias",
"2.weight", ... (activations take the odd places), exactly those of the
equivalent `torch.nn.Sequential(Linear, Sigmoid, Linear, ...)`.
"""
import copy
import inspect

from . import init as initializers
from .activations import Identity, LeakyReLU, ReLU, Sigmoid, Snake, Tanh
from .layers import Linear
from .module import Module, Sequential

__all__ = ["MLP"]

ACTIVATIONS = {"tanh": Tanh, "sigmoid": Sigmoid, "relu": ReLU, "leaky_relu": LeakyReLU,
               "linear": Identity, "identity": Identity, "snake": Snake}


def _activation(spec):
    """A fresh activation module from a name, a Module class, an instance (copied) or None."""
    if spec is None:
        return None
    if isinstance(spec, str):
        if spec.lower() not in ACTIVATIONS:
            raise ValueError(f"MLP: unknown activation {spec!r}; use one of "
                             f"{sorted(ACTIVATIONS)}, None, or a Module class or instance")
        return ACTIVATIONS[spec.lower()]()
    if inspect.isclass(spec) and issubclass(spec, Module):
        return spec()
    if isinstance(spec, Module):
        return copy.deepcopy(spec)
    raise TypeError(f"MLP: activation must be a name, a Module class or instance, or None; "
                    f"got {type(spec).__name__}")


def _initialize(linear, init, rng):
    """Re-initialize one Linear layer's weight with the `init` scheme; biases start at zero."""
    schemes = {
        "he": lambda w: initializers.kaiming_normal_(w, nonlinearity="relu", generator=rng),
        "kaiming": lambda w: initializers.kaiming_normal_(w, nonlinearity="relu", generator=rng),
        "xavier": lambda w: initializers.xavier_uniform_(w, generator=rng),
        "normal": lambda w: initializers.normal_(w, 0.0, 0.01, generator=rng),
    }
    if isinstance(init, str):
        if init.lower() not in schemes:
            raise ValueError(f"MLP: unknown init {init!r}; use one of {sorted(schemes)}, "
                             f"None (PyTorch's default) or a callable taking the weight")
        schemes[init.lower()](linear.weight)
    elif callable(init):
        init(linear.weight)
    else:
        raise TypeError(f"MLP: init must be a name, a callable or None, got {type(init).__name__}")
    if linear.bias is not None:
        initializers.zeros_(linear.bias)


class MLP(Sequential):
    """Fully connected layers of the given sizes with an activation after each hidden one.

    `layer_sizes`: [inputs, hidden..., outputs], at least two entries.
    `activation` (hidden layers) and `output_activation` (after the last layer;
    None = linear output): "tanh", "sigmoid", "relu", "leaky_relu", "snake",
    "linear", None, or a Module class or instance (an instance is copied for
    each place, so a learnable Snake gets its own `a` per layer). "linear"
    places an `Identity` module; None places nothing (which shifts the indices).
    `init`: None keeps PyTorch's default (U(±1/sqrt(fan_in)) for weights and
    biases); "he"/"kaiming" is the guide's randn * sqrt(2 / fan_in)
    (kaiming_normal_ for ReLU); "xavier" is xavier_uniform_ (gain 1);
    "normal" is N(0, 0.01²); a callable is called on each weight (e.g.
    `nn.init.xavier_normal_`). With a named or callable init, biases start at 0.
    `rng`: an np.random.Generator for all initial draws (reproducible models).
    """

    def __init__(self, layer_sizes, activation="tanh", output_activation=None, init=None,
                 bias=True, rng=None):
        sizes = [int(n) for n in layer_sizes]
        if len(sizes) < 2 or min(sizes) < 1:
            raise ValueError(f"MLP: layer_sizes needs at least an input and an output size, "
                             f"all positive; got {list(layer_sizes)}")
        layers = []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            linear = Linear(n_in, n_out, bias=bias, rng=rng)
            if init is not None:
                _initialize(linear, init, rng)
            layers.append(linear)
            last = i == len(sizes) - 2
            act = _activation(output_activation if last else activation)
            if act is not None:
                layers.append(act)
        super().__init__(*layers)
        self.layer_sizes = sizes

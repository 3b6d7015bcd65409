"""`export_onnx`: write a model as an ONNX file that ONNX Runtime (and Netron, and every
ONNX tool) opens, built with the `onnx` package's helper API; no PyTorch needed.

The model is walked layer by layer: `Sequential` (and `MLP`) is followed child by
child, and each layer is looked up in `CONVERTERS`, one function per layer that
adds that layer's ONNX nodes (a new layer is one entry). The layer is also run on
the example input, so a wrong input shape is our own layer's error, and the
example's shapes size the nodes that need them. Parameters become initializers
named as in the state dict ("0.weight"), nodes are named after their layer ("0"
or "0/Transpose"), and the graph is float32, what ONNX Runtime's kernels and GPUs
run. With `dynamic_batch` the batch dimension is a symbol ("batch"), so the file
runs any batch size.

    model.eval()
    nn.export_onnx(model, X[:1], "model.onnx")
    onnxruntime.InferenceSession("model.onnx").run(None, {"input": X.astype(np.float32)})
"""
import math

import numpy as np

from autograd_lite import Value, no_grad

from .activations import (ELU, GELU, Identity, LeakyReLU, LogSoftmax, ReLU, Sigmoid, SiLU, Snake,
                          Softmax, Softplus, Tanh, _softmax_dim)
from .batchnorm import BatchNorm1d, BatchNorm2d, LayerNorm
from .conv import Conv2d
from .embedding import Embedding
from .layers import Dropout, Flatten, Linear
from .module import Sequential
from .pooling import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d
from .rnn import GRU, LSTM, RNN
from .serialization import optional_package, write_atomically
from .torch_bridge import entry_for

__all__ = ["export_onnx"]


class OnnxGraph:
    """The graph being built: nodes, initializers and unique names, in float32."""

    def __init__(self, onnx, opset):
        self.onnx, self.opset = onnx, opset
        self.nodes, self.initializers, self.names = [], [], set()

    def _unique(self, name):
        candidate, count = name, 1
        while candidate in self.names:
            count += 1
            candidate = f"{name}_{count}"
        self.names.add(candidate)
        return candidate

    def node(self, op, inputs, layer, outputs=1, **attributes):
        """Add one `op` node of `layer` (named after it); returns its output name(s)."""
        name = self._unique(layer if layer not in self.names else f"{layer}/{op}")
        results = [name] + [self._unique(f"{name}:{i}") for i in range(1, outputs)]
        self.nodes.append(self.onnx.helper.make_node(op, list(inputs), results, name=name,
                                                     **attributes))
        return results[0] if outputs == 1 else results

    def tensor(self, name, array):
        """A constant named `name` (made unique): floats as float32, integers as int64."""
        array = np.asarray(array.data if isinstance(array, Value) else array)
        array = array.astype(np.float32 if array.dtype.kind in "fc" else np.int64)
        name = self._unique(name)
        self.initializers.append(self.onnx.numpy_helper.from_array(array, name))
        return name

    def parameter(self, layer_path, attribute, module, default=None):
        """The initializer of `module.<attribute>`, named by its state-dict key; where that is
        None (bias=False), a constant holding `default` instead."""
        value = getattr(module, attribute)
        if value is None:
            return self.tensor(f"{layer_path or 'model'}/{attribute}", default)
        return self.tensor(f"{layer_path}.{attribute}" if layer_path else attribute, value)

    def mean(self, x, axes, layer):
        """ReduceMean over `axes`, keeping them (axes: an attribute before opset 18, then an
        input)."""
        if self.opset < 18:
            return self.node("ReduceMean", [x], layer, axes=list(axes), keepdims=1)
        return self.node("ReduceMean", [x, self.tensor(f"{layer}/axes", list(axes))], layer,
                         keepdims=1)

    def normalize(self, x, axes, eps, layer):
        """(x - mean) / sqrt(biased variance + eps) over `axes`, as our layers compute it."""
        centred = self.node("Sub", [x, self.mean(x, axes, layer)], layer)
        var = self.mean(self.node("Mul", [centred, centred], layer), axes, layer)
        spread = self.node("Sqrt", [self.node("Add", [var, self.tensor(f"{layer}/eps", eps)],
                                              layer)], layer)
        return self.node("Div", [centred, spread], layer)


def _pair(value):
    return [int(value), int(value)] if np.ndim(value) == 0 else [int(v) for v in value]


# --- one function per layer: (graph, module, path, node name, input name, input shape) -------
def _linear(g, m, path, name, x, shape):
    weight = g.parameter(path, "weight", m)
    bias = [g.parameter(path, "bias", m)] if m.bias is not None else []
    if len(shape) == 2:
        return g.node("Gemm", [x, weight] + bias, name, transB=1)
    y = g.node("MatMul", [x, g.node("Transpose", [weight], name)], name)  # any (*, in) input
    return g.node("Add", [y] + bias, name) if bias else y


def _conv_padding(m):
    """[top, left, bottom, right] of a Conv2d, also for padding="valid"/"same" (which, as
    PyTorch's, puts the odd pixel of an even kernel at the bottom and right)."""
    if isinstance(m.padding, str):
        total = [0, 0] if m.padding == "valid" else \
            [d * (k - 1) for d, k in zip(_pair(m.dilation), _pair(m.kernel_size))]
        return [t // 2 for t in total] + [t - t // 2 for t in total]
    return _pair(m.padding) * 2


def _batched(convert):
    """A 4-D-only converter that also takes one unbatched (C, H, W) sample, as our layers do."""
    def with_unbatched(g, m, path, name, x, shape):
        if len(shape) == 4:
            return convert(g, m, path, name, x, shape)
        axis = g.tensor(f"{name}/axis0", [0])
        y = convert(g, m, path, name, g.node("Unsqueeze", [x, axis], name), (1,) + tuple(shape))
        return g.node("Squeeze", [y, axis], name)
    return with_unbatched


_PAD_MODES = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}  # ours -> ONNX's


def _conv2d(g, m, path, name, x, shape):
    pads, mode = _conv_padding(m), m.padding_mode
    if mode != "zeros":  # pad first, as PyTorch does, then convolve without padding
        if mode == "circular" and g.opset < 19:
            raise ValueError(f"nn.export_onnx: layer '{name}' (Conv2d) has padding_mode="
                             f"'circular', which needs opset_version 19 or newer")
        edges = g.tensor(f"{name}/pads", [0, 0, pads[0], pads[1], 0, 0, pads[2], pads[3]])
        x, pads = g.node("Pad", [x, edges], name, mode=_PAD_MODES[mode]), [0, 0, 0, 0]
    bias = [g.parameter(path, "bias", m)] if m.bias is not None else []
    return g.node("Conv", [x, g.parameter(path, "weight", m)] + bias, name,
                  kernel_shape=_pair(m.kernel_size), strides=_pair(m.stride), pads=pads,
                  dilations=_pair(m.dilation), group=m.groups)


def _pool_length(n, kernel, stride, pad, dilation, ceil_mode):
    """PyTorch's output length of a pool over n inputs, and the right padding that makes a
    floor-mode ONNX pool give as many. (PyTorch's ceil_mode drops a last window that would
    start in the right padding; ONNX's ceil_mode, before opset 19, does not.)"""
    span, room = dilation * (kernel - 1) + 1, n + 2 * pad - dilation * (kernel - 1) - 1
    out = (-(-room // stride) if ceil_mode else room // stride) + 1
    if ceil_mode and (out - 1) * stride >= n + pad:
        out -= 1
    return out, max(pad, (out - 1) * stride + span - n - pad)


def _pool_geometry(m, shape, dilation=(1, 1)):
    """(kernel, stride, ONNX pads, output sizes) of a pool over `shape`'s last two axes."""
    kernel, stride, pads = _pair(m.kernel_size), _pair(m.stride), _pair(m.padding)
    sizes = [_pool_length(n, k, s, p, d, m.ceil_mode)
             for n, k, s, p, d in zip(shape[-2:], kernel, stride, pads, dilation)]
    return kernel, stride, pads + [right for _, right in sizes], [out for out, _ in sizes]


def _pool(g, op, x, name, kernel, pads, fill, **attributes):
    """An ONNX pool `op`; padding wider than the kernel, which ONNX Runtime refuses, is done
    by a Pad node first, with `fill` (-inf for maxima, 0 for sums)."""
    if any(pad >= k for pad, k in zip(pads, kernel * 2)):
        edges = g.tensor(f"{name}/pads", [0, 0] + pads[:2] + [0, 0] + pads[2:])
        x = g.node("Pad", [x, edges, g.tensor(f"{name}/fill", fill)], name, mode="constant")
        pads = [0, 0, 0, 0]
    return g.node(op, [x], name, kernel_shape=kernel, pads=pads, **attributes)


def _max_pool2d(g, m, path, name, x, shape):
    if m.return_indices:
        raise ValueError(f"nn.export_onnx: layer '{name}' (MaxPool2d) has return_indices=True; "
                         f"ONNX's indices count differently, so only the maxima export")
    dilation = _pair(m.dilation)
    kernel, stride, pads, _ = _pool_geometry(m, shape, dilation)
    return _pool(g, "MaxPool", x, name, kernel, pads, -np.inf, strides=stride, dilations=dilation)


def _avg_pool2d(g, m, path, name, x, shape):
    """AveragePool counting the padding, times a constant that turns its divisor (the kernel's
    area) into PyTorch's at each output position: the window clipped to the padded input,
    its part inside the input (count_include_pad=False), or divisor_override."""
    kernel, stride, pads, outs = _pool_geometry(m, shape)
    y = _pool(g, "AveragePool", x, name, kernel, pads, 0.0, strides=stride, count_include_pad=1)
    counts = []
    for n, k, s, p, out in zip(shape[-2:], kernel, stride, pads, outs):
        start = np.arange(out) * s - p
        end = np.minimum(start + k, n + p)
        counts.append(end - start if m.count_include_pad else
                      np.minimum(end, n) - np.maximum(start, 0))
    divisor = np.outer(*counts) if m.divisor_override is None else \
        np.full(outs, float(m.divisor_override))
    correction = kernel[0] * kernel[1] / divisor
    if np.all(correction == 1):
        return y
    return g.node("Mul", [y, g.tensor(f"{name}/divisor", correction)], name)


def _adaptive_avg_pool2d(g, m, path, name, x, shape):
    """Global average pooling, or an AveragePool where each output cell averages an equal,
    non-overlapping block (the input size a multiple of the output size)."""
    size = shape[-2:]
    wanted = [n if want is None else want
              for n, want in zip(size, [m.output_size] * 2 if np.ndim(m.output_size) == 0 and
                                 m.output_size is not None else m.output_size)]
    if wanted == [1, 1]:
        return g.node("GlobalAveragePool", [x], name)
    if any(n % want for n, want in zip(size, wanted)):
        raise ValueError(f"nn.export_onnx: layer '{name}' (AdaptiveAvgPool2d) pools {tuple(size)}"
                         f" to {tuple(wanted)}: ONNX has a form only when each output size "
                         f"divides the input size")
    kernel = [n // want for n, want in zip(size, wanted)]
    return g.node("AveragePool", [x], name, kernel_shape=kernel, strides=kernel)


def _flatten(g, m, path, name, x, shape):
    """A Reshape that copies the dims before start_dim (0), merges the rest up to end_dim (-1)
    and keeps those after it: batch-size independent, unlike a fixed target shape."""
    ndim = max(len(shape), 1)
    start, end = m.start_dim % ndim, m.end_dim % ndim
    target = [0] * start + [-1] + list(shape[end + 1:])
    return g.node("Reshape", [x, g.tensor(f"{name}/shape", target)], name)


def _batch_norm(g, m, path, name, x, shape):
    """BatchNormalization with the running statistics; without them (track_running_stats=False)
    eval mode normalizes by the batch's own, as our layer does."""
    ones, zeros = np.ones(m.num_features), np.zeros(m.num_features)
    scale, shift = g.parameter(path, "weight", m, ones), g.parameter(path, "bias", m, zeros)
    if m.track_running_stats:
        return g.node("BatchNormalization", [x, scale, shift, g.parameter(path, "running_mean", m),
                                             g.parameter(path, "running_var", m)],
                      name, epsilon=float(m.eps))
    y = g.normalize(x, [0] + list(range(2, len(shape))), m.eps, name)
    channel = g.tensor(f"{name}/channel", [0] + list(range(2, len(shape))))  # (C,) -> (1, C, 1..)
    y = g.node("Mul", [y, g.node("Unsqueeze", [scale, channel], name)], name)
    return g.node("Add", [y, g.node("Unsqueeze", [shift, channel], name)], name)


def _layer_norm(g, m, path, name, x, shape):
    y = g.normalize(x, range(len(shape) - len(m.normalized_shape), len(shape)), m.eps, name)
    if m.weight is not None:
        y = g.node("Mul", [y, g.parameter(path, "weight", m)], name)
    if m.bias is not None:
        y = g.node("Add", [y, g.parameter(path, "bias", m)], name)
    return y


def _activation(op, **attributes):
    return lambda g, m, path, name, x, shape: g.node(op, [x], name, **attributes)


def _leaky_relu(g, m, path, name, x, shape):
    return g.node("LeakyRelu", [x], name, alpha=float(m.negative_slope))


def _elu(g, m, path, name, x, shape):
    return g.node("Elu", [x], name, alpha=float(m.alpha))


def _gelu(g, m, path, name, x, shape):
    """x Φ(x) as its formula (ONNX's Gelu op arrived only in opset 20)."""
    if m.approximate == "tanh":  # 0.5 x (1 + tanh(sqrt(2/π) (x + 0.044715 x³)))
        cube = g.node("Mul", [g.node("Mul", [x, x], name), x], name)
        inner = g.node("Add", [x, g.node("Mul", [cube, g.tensor(f"{name}/c", 0.044715)], name)],
                       name)
        scale = g.tensor(f"{name}/k", math.sqrt(2 / math.pi))
        curve = g.node("Tanh", [g.node("Mul", [inner, scale], name)], name)
    else:  # 0.5 x (1 + erf(x / sqrt(2)))
        curve = g.node("Erf", [g.node("Mul", [x, g.tensor(f"{name}/k", 1 / math.sqrt(2))], name)],
                       name)
    half = g.node("Mul", [x, g.tensor(f"{name}/half", 0.5)], name)
    return g.node("Mul", [half, g.node("Add", [curve, g.tensor(f"{name}/one", 1.0)], name)], name)


def _silu(g, m, path, name, x, shape):
    return g.node("Mul", [x, g.node("Sigmoid", [x], name)], name)


def _softplus(g, m, path, name, x, shape):
    """log(1 + exp(beta x)) / beta, and x itself where beta x > threshold, as PyTorch's."""
    scaled = x if m.beta == 1 else g.node("Mul", [x, g.tensor(f"{name}/beta", m.beta)], name)
    y = g.node("Softplus", [scaled], name)
    if m.beta != 1:
        y = g.node("Div", [y, g.tensor(f"{name}/beta", m.beta)], name)
    if math.isinf(m.threshold):
        return y
    above = g.node("Greater", [scaled, g.tensor(f"{name}/threshold", m.threshold)], name)
    return g.node("Where", [above, x, y], name)


def _softmax(op):
    def convert(g, m, path, name, x, shape):  # dim=None: the layer's (PyTorch's) implicit choice
        return g.node(op, [x], name, axis=int(_softmax_dim(op, len(shape), m.dim)))
    return convert


def _embedding(g, m, path, name, x, shape):
    if m.max_norm is not None:
        raise ValueError(f"nn.export_onnx: layer '{name}' (Embedding) has max_norm={m.max_norm}, "
                         f"which rewrites its weights on every call; ONNX has no form for it")
    return g.node("Gather", [g.parameter(path, "weight", m), x], name, axis=0)


def _snake(g, m, path, name, x, shape):
    """x + sin²(a·x) / a, as its formula; `a` is an initializer named like the parameter."""
    a = g.parameter(path, "a", m)
    s = g.node("Sin", [g.node("Mul", [x, a], name)], name)
    return g.node("Add", [x, g.node("Div", [g.node("Mul", [s, s], name), a], name)], name)


# ONNX's RNN, GRU and LSTM ops take every direction's weights stacked, with the gate blocks in
# ONNX's order: for each of our classes, (op, the ONNX order as indices of PyTorch's blocks)
_RECURRENT_OPS = {"RNN": ("RNN", [0]), "GRU": ("GRU", [1, 0, 2]),  # r z n -> z r h
                  "LSTM": ("LSTM", [0, 3, 1, 2])}                   # i f g o -> i o f c


def _recurrent_weight(g, m, path, name, key, order):
    """Parameter `key` as ONNX wants it: gate blocks reordered, then a leading direction axis."""
    weight = g.parameter(path, key, m)
    if order != sorted(order):
        rows = getattr(m, key).shape[0] // len(order)
        blocks = g.node("Split", [weight, g.tensor(f"{name}/split", [rows] * len(order))], name,
                        outputs=len(order), axis=0)
        weight = g.node("Concat", [blocks[i] for i in order], name, axis=0)
    return g.node("Unsqueeze", [weight, g.tensor(f"{name}/axis0", [0])], name)


def _recurrent(g, m, path, name, x, shape):
    """Each layer one ONNX RNN/GRU/LSTM node over the whole sequence (both directions in one);
    returns the output and the final states, laid out as our forward returns them."""
    kind = type(m).__name__
    op, order = _RECURRENT_OPS[kind]
    if getattr(m, "proj_size", 0):  # LSTM only
        raise ValueError(f"nn.export_onnx: layer '{name}' ({kind}) has proj_size="
                         f"{m.proj_size}; ONNX's LSTM has no projection")
    suffixes = ("", "_reverse") if m.bidirectional else ("",)
    axis = lambda k: g.tensor(f"{name}/axis{k}", [k])  # noqa: E731
    if len(shape) == 2:  # unbatched (L, features): a batch of one
        x = g.node("Unsqueeze", [x, axis(1)], name)
    elif m.batch_first:
        x = g.node("Transpose", [x], name, perm=[1, 0, 2])
    attributes = dict(hidden_size=m.hidden_size,
                      direction="bidirectional" if len(suffixes) == 2 else "forward")
    if op == "RNN":
        attributes["activations"] = [m.nonlinearity.capitalize()] * len(suffixes)
    if op == "GRU":
        attributes["linear_before_reset"] = 1  # PyTorch's GRU: r multiplies W_hn h + b_hn
    finals = []
    for k in range(m.num_layers):
        def stacked(key):
            parts = [_recurrent_weight(g, m, path, name, f"{key}_l{k}{s}", order) for s in suffixes]
            return parts[0] if len(parts) == 1 else g.node("Concat", parts, name, axis=0)
        inputs = [x, stacked("weight_ih"), stacked("weight_hh")]
        if m.bias:  # ONNX's B is [W_b, R_b] per direction
            inputs.append(g.node("Concat", [stacked("bias_ih"), stacked("bias_hh")], name, axis=1))
        outputs = g.node(op, inputs, name, outputs=3 if op == "LSTM" else 2, **attributes)
        y = g.node("Transpose", [outputs[0]], name, perm=[0, 2, 1, 3])  # (L, N, D, H)
        x = g.node("Reshape", [y, g.tensor(f"{name}/merge", [0, 0, -1])], name)  # (L, N, D*H)
        finals.append(outputs[1:])
    states = [g.node("Concat", list(parts), name, axis=0) for parts in zip(*finals)]
    if len(shape) == 2:
        return [g.node("Squeeze", [x, axis(1)], name)] + \
            [g.node("Squeeze", [s, axis(1)], name) for s in states]
    if m.batch_first:
        x = g.node("Transpose", [x], name, perm=[1, 0, 2])
    return [x] + states


# our class -> the function that adds its nodes; Dropout is the identity in eval mode
CONVERTERS = {
    Linear: _linear,
    Conv2d: _batched(_conv2d),
    MaxPool2d: _batched(_max_pool2d),
    AvgPool2d: _batched(_avg_pool2d),
    AdaptiveAvgPool2d: _batched(_adaptive_avg_pool2d),
    Flatten: _flatten,
    Dropout: _activation("Identity"),
    BatchNorm1d: _batch_norm,
    BatchNorm2d: _batch_norm,
    LayerNorm: _layer_norm,
    Embedding: _embedding,
    RNN: _recurrent,
    LSTM: _recurrent,
    GRU: _recurrent,
    Tanh: _activation("Tanh"),
    Sigmoid: _activation("Sigmoid"),
    ReLU: _activation("Relu"),
    LeakyReLU: _leaky_relu,
    ELU: _elu,
    GELU: _gelu,
    SiLU: _silu,
    Softplus: _softplus,
    Softmax: _softmax("Softmax"),
    LogSoftmax: _softmax("LogSoftmax"),
    Identity: _activation("Identity"),
    Snake: _snake,
}


def _flat(value):
    """Our forward's result as a flat list of values ((output, (h_n, c_n)) has three)."""
    if isinstance(value, (tuple, list)):
        return [v for part in value for v in _flat(part)]
    return [value]


def _export_layer(g, module, path, names, value):
    """Add `module`'s nodes reading the tensors `names` (our values `value`); returns both
    for its output. Sequential's children are followed in order, each a layer of its own."""
    entry = entry_for({Sequential: None, **CONVERTERS}, module, "nn.export_onnx", path)
    if entry is None:
        for child_name, child in module.named_children():
            names, value = _export_layer(g, child, f"{path}.{child_name}".lstrip("."), names, value)
        return names, value
    label = path or type(module).__name__
    if len(names) != 1:
        raise TypeError(f"nn.export_onnx: layer '{label}' ({type(module).__name__}) follows a "
                        f"layer with {len(names)} outputs; only the last layer may return several")
    try:
        result = module(value)
    except ValueError as error:  # our layers' wrong-shape errors, naming the layer
        raise ValueError(f"nn.export_onnx: the example input does not fit the model: "
                         f"{error}") from error
    outputs = entry(g, module, path, label, names[0], value.shape)
    return (outputs if isinstance(outputs, list) else [outputs]), result


def _first_layer(model):
    while isinstance(model, Sequential) and len(model):
        model = model[0]
    return model


def _takes_indices(model):
    """Whether the model's input is integer indices (an Embedding first), not numbers."""
    return isinstance(_first_layer(model), Embedding)


def _batch_axis(model, ndim):
    """Which axis of the input is the batch: 1 for a time-first recurrent first layer
    ((L, N, features)), none for an unbatched input, else 0 (also for a vector of indices)."""
    first = _first_layer(model)
    if hasattr(first, "batch_first"):
        return None if ndim == 2 else (0 if first.batch_first else 1)
    return 0 if ndim >= 2 or (ndim == 1 and isinstance(first, Embedding)) else None


def _dynamic_shapes(model, example, values, axis):
    """The input's batch axis and each output's shape, with the axes that follow the batch
    size named "batch" and ones that grow otherwise unknown: found by running our model again
    on one more example. If the model refuses that, `axis` was no batch axis (an unbatched
    example, as (C, H, W) for a Conv2d) and every shape stays fixed."""
    if axis is not None:
        size = example.shape[axis]
        grown = np.concatenate([example, example.take([0], axis=axis)], axis=axis) if size else \
            np.zeros(example.shape[:axis] + (1,) + example.shape[axis + 1:], example.dtype)
        try:
            with no_grad():
                others = _flat(model(grown))
        except ValueError:
            axis = None
    if axis is None:
        return None, [list(v.shape) for v in values]
    shapes = []
    for value, other in zip(values, others):
        shape = []
        for size, other_size in zip(value.shape, other.shape):
            follows_batch = (size, other_size) == (example.shape[axis], grown.shape[axis])
            shape.append(size if size == other_size else ("batch" if follows_batch else None))
        shapes.append(shape)
    return axis, shapes


def _check_eval_mode(model):
    """An exported model is an inference model: refuse one (or a layer) in training mode."""
    for name, module in model.named_modules():
        if module.training:
            where = f"layer '{name}'" if name else "the model"
            raise ValueError(f"nn.export_onnx: {where} ({type(module).__name__}) is in training "
                             f"mode; call model.eval() first (Dropout and BatchNorm act "
                             f"differently in training)")


def export_onnx(model, example_input, path, opset_version=17, input_names=None,
                output_names=None, dynamic_batch=True):
    """Write `model` (in eval mode) to `path` as an ONNX model; returns the `onnx.ModelProto`.

    `example_input` (an array or Value) is run through the model to check it and
    size the graph. `input_names` (one name; default "input") and `output_names`
    (one per output; default "output", or "output", "h_n"(, "c_n") for a recurrent
    last layer) name the graph's tensors. `dynamic_batch` makes the batch axis a
    symbol. `opset_version` 13 or newer. The file is checked with
    `onnx.checker.check_model` and written atomically: on any error nothing is written.
    """
    onnx = optional_package("onnx", "nn.export_onnx")
    newest = onnx.defs.onnx_opset_version()
    if not 13 <= int(opset_version) <= newest:
        raise ValueError(f"nn.export_onnx: opset_version must be between 13 and {newest} (the "
                         f"installed onnx's newest), got {opset_version}")
    _check_eval_mode(model)
    example = np.asarray(example_input.data if isinstance(example_input, Value) else example_input)
    example = example.astype(np.int64 if example.dtype.kind in "iub" and _takes_indices(model)
                             else np.float64)
    input_names = ["input"] if input_names is None else list(input_names)
    if len(input_names) != 1:
        raise ValueError(f"nn.export_onnx: the model takes one input, got input_names="
                         f"{input_names}")
    g = OnnxGraph(onnx, int(opset_version))
    g.names.add(input_names[0])
    with no_grad():
        outputs, result = _export_layer(g, model, "", input_names, example)  # as model(x) would
    values = _flat(result)
    if output_names is None:  # several outputs only come from a recurrent last layer
        output_names = ["output", "h_n", "c_n"][:len(outputs)]
    output_names = list(output_names)
    if len(output_names) != len(outputs):
        raise ValueError(f"nn.export_onnx: the model has {len(outputs)} output(s), got "
                         f"output_names={output_names}")
    _rename_outputs(g, outputs, output_names)
    axis = _batch_axis(model, example.ndim) if dynamic_batch else None
    axis, output_shapes = _dynamic_shapes(model, example, values, axis)
    input_shape = [("batch" if i == axis else size) for i, size in enumerate(example.shape)]
    float32 = onnx.TensorProto.FLOAT
    input_type = onnx.TensorProto.INT64 if example.dtype == np.int64 else float32  # indices
    graph = onnx.helper.make_graph(
        g.nodes, type(model).__name__,
        [onnx.helper.make_tensor_value_info(input_names[0], input_type, input_shape)],
        [onnx.helper.make_tensor_value_info(name, float32, shape)
         for name, shape in zip(output_names, output_shapes)],
        initializer=g.initializers)
    opsets = [onnx.helper.make_opsetid("", int(opset_version))]
    proto = onnx.helper.make_model(graph, opset_imports=opsets, producer_name="autograd_lite",
                                   doc_string=repr(model),
                                   ir_version=onnx.helper.find_min_ir_version_for(opsets))
    onnx.checker.check_model(proto, full_check=True)
    data = proto.SerializeToString()
    write_atomically(path, lambda file: file.write(data), "nn.export_onnx")
    return proto


def _rename_outputs(g, outputs, output_names):
    """Give the tensors the model returns their graph-output names (an Identity where a
    tensor is not made by a node of ours, e.g. an empty Sequential's input)."""
    made_by = {out: node for node in g.nodes for out in node.output}
    for internal, name in zip(outputs, output_names):
        if name != internal and name in g.names:
            raise ValueError(f"nn.export_onnx: output name {name!r} is already the name of "
                             f"another tensor in the graph; choose another")
        g.names.add(name)
        node = made_by.get(internal)
        if node is None:  # the graph's input itself
            g.nodes.append(g.onnx.helper.make_node("Identity", [internal], [name], name=name))
            continue
        node.output[list(node.output).index(internal)] = name
        for other in g.nodes:  # a node reading the tensor reads it under its new name
            for i, source in enumerate(other.input):
                if source == internal:
                    other.input[i] = name

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
import numpy as np

from autograd_lite import Value, no_grad

from .activations import Identity, LeakyReLU, ReLU, Sigmoid, Snake, Tanh
from .batchnorm import BatchNorm1d
from .layers import Conv2d, Dropout, Flatten, Linear, MaxPool2d
from .module import Sequential
from .rnn import GRU, LSTM, RNN
from .serialization import optional_package, write_atomically
from .torch_bridge import entry_for

__all__ = ["export_onnx"]


class OnnxGraph:
    """The graph being built: nodes, initializers and unique names, in float32."""

    def __init__(self, onnx):
        self.onnx, self.nodes, self.initializers, self.names = onnx, [], [], set()

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

    def parameter(self, layer_path, attribute, module):
        """The initializer of `module.<attribute>`, named by its state-dict key."""
        key = f"{layer_path}.{attribute}" if layer_path else attribute
        return self.tensor(key, getattr(module, attribute))


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


def _conv2d(g, m, path, name, x, shape):
    bias = [g.parameter(path, "bias", m)] if m.bias is not None else []
    ph, pw = _pair(m.padding)
    return g.node("Conv", [x, g.parameter(path, "weight", m)] + bias, name,
                  kernel_shape=_pair(m.kernel_size), strides=_pair(m.stride),
                  pads=[ph, pw, ph, pw], dilations=_pair(getattr(m, "dilation", 1)),
                  group=int(getattr(m, "groups", 1)))


def _max_pool2d(g, m, path, name, x, shape):
    ph, pw = _pair(getattr(m, "padding", 0))
    return g.node("MaxPool", [x], name, kernel_shape=_pair(m.kernel_size),
                  strides=_pair(m.stride), pads=[ph, pw, ph, pw],
                  dilations=_pair(getattr(m, "dilation", 1)),
                  ceil_mode=int(getattr(m, "ceil_mode", False)))


def _flatten(g, m, path, name, x, shape):
    """A Reshape that copies the dims before start_dim (0), merges the rest up to end_dim (-1)
    and keeps those after it: batch-size independent, unlike a fixed target shape."""
    ndim = max(len(shape), 1)
    start, end = m.start_dim % ndim, m.end_dim % ndim
    target = [0] * start + [-1] + list(shape[end + 1:])
    return g.node("Reshape", [x, g.tensor(f"{name}/shape", target)], name)


def _batch_norm(g, m, path, name, x, shape):
    if m.affine:
        scale, shift = g.parameter(path, "weight", m), g.parameter(path, "bias", m)
    else:
        scale = g.tensor(f"{name}/ones", np.ones(m.num_features))
        shift = g.tensor(f"{name}/zeros", np.zeros(m.num_features))
    return g.node("BatchNormalization", [x, scale, shift, g.parameter(path, "running_mean", m),
                                         g.parameter(path, "running_var", m)],
                  name, epsilon=float(m.eps))


def _activation(op, **attributes):
    return lambda g, m, path, name, x, shape: g.node(op, [x], name, **attributes)


def _leaky_relu(g, m, path, name, x, shape):
    return g.node("LeakyRelu", [x], name, alpha=float(m.negative_slope))


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
    if getattr(m, "proj_size", 0):
        raise ValueError(f"nn.export_onnx: layer '{name}' ({kind}) has proj_size="
                         f"{m.proj_size}; ONNX's LSTM has no projection")
    suffixes = ("", "_reverse") if getattr(m, "bidirectional", False) else ("",)
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
    Conv2d: _conv2d,
    MaxPool2d: _max_pool2d,
    Flatten: _flatten,
    Dropout: _activation("Identity"),
    BatchNorm1d: _batch_norm,
    RNN: _recurrent,
    LSTM: _recurrent,
    GRU: _recurrent,
    Tanh: _activation("Tanh"),
    Sigmoid: _activation("Sigmoid"),
    ReLU: _activation("Relu"),
    LeakyReLU: _leaky_relu,
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


def _batch_axis(model, ndim):
    """Which axis of the input is the batch: 1 for a time-first recurrent first layer
    ((L, N, features)), none for an unbatched input, else 0."""
    first = model
    while isinstance(first, Sequential) and len(first):
        first = first[0]
    if hasattr(first, "batch_first"):
        return None if ndim == 2 else (0 if first.batch_first else 1)
    return 0 if ndim >= 2 else None


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
    example = np.asarray(example_input.data if isinstance(example_input, Value) else example_input,
                         dtype=np.float64)
    input_names = ["input"] if input_names is None else list(input_names)
    if len(input_names) != 1:
        raise ValueError(f"nn.export_onnx: the model takes one input, got input_names="
                         f"{input_names}")
    g = OnnxGraph(onnx)
    g.names.add(input_names[0])
    with no_grad():
        outputs, result = _export_layer(g, model, "", input_names,
                                        Value(example, requires_grad=False))
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
    graph = onnx.helper.make_graph(
        g.nodes, type(model).__name__,
        [onnx.helper.make_tensor_value_info(input_names[0], float32, input_shape)],
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

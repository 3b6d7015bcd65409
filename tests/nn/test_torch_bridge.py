"""nn.to_torch / nn.from_torch: the same model in PyTorch's classes, and back.

For every layer over hypothesis-drawn shapes and options (`layer_cases`, which
the ONNX and safetensors tests draw from too): PyTorch's module gives our
outputs and gradients (parameters and input) to 1e-10 in float64, and
`from_torch(to_torch(m))` has `m`'s state dict, key for key, dtype for dtype.
A model built in PyTorch comes over with its dtype, modes and frozen
parameters; layers and settings we lack are clear errors naming the layer.
Without PyTorch only the ImportError test runs.
"""
import sys

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import nn
from autograd_lite import Value
from nn import torch_bridge

ACTIVATIONS = ["Tanh", "Sigmoid", "ReLU", "LeakyReLU", "Identity", "Snake", "Dropout", "ELU",
               "GELU", "SiLU", "Softplus", "Softmax", "LogSoftmax"]
KINDS = ["Linear", "Conv2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "Flatten",
         "BatchNorm", "LayerNorm", "Embedding", "recurrent", "activation", "MLP"]


def outputs_of(result):
    """A forward's result as a flat list ((output, (h_n, c_n)) has three)."""
    if isinstance(result, (tuple, list)):
        return [v for part in result for v in outputs_of(part)]
    return [result]


def image(draw, batch, channels, smallest):
    """An (N, C, H, W) shape, or an unbatched (C, H, W) one, of sides at least `smallest`."""
    sides = (smallest + draw(st.integers(0, 3)), smallest + draw(st.integers(0, 3)))
    return draw(st.sampled_from([(batch, channels) + sides, (channels,) + sides]))


def pool_options(draw, kernel):
    """stride, and padding at most half the kernel (PyTorch's limit)."""
    return dict(stride=draw(st.sampled_from([None, 1, 2, 3])),
                padding=draw(st.integers(0, kernel // 2)), ceil_mode=draw(st.booleans()))


@st.composite
def layer_cases(draw, onnx=False, training=False):
    """(layer, input, batch axis or None): every layer kind with drawn options, its parameters
    drawn from a drawn seed; the input is float64 (integer indices for Embedding). `onnx`:
    only what ONNX can express (no LSTM projection, circular padding or uneven adaptive
    pooling); `training`: no dropout (its masks are random)."""
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    kind = draw(st.sampled_from(KINDS))
    batch = draw(st.integers(1, 3))
    axis = 0
    if kind == "Linear":
        n_in = draw(st.integers(1, 4))
        layer = nn.Linear(n_in, draw(st.integers(1, 4)), bias=draw(st.booleans()), rng=rng)
        shape = draw(st.sampled_from([(n_in,), (batch, n_in), (batch, 2, n_in)]))
    elif kind == "Conv2d":
        groups = draw(st.integers(1, 2))
        kernel = draw(st.tuples(st.integers(1, 3), st.integers(1, 3)))
        dilation = draw(st.tuples(st.integers(1, 2), st.integers(1, 2)))
        modes = ["zeros", "reflect", "replicate"] + ([] if onnx else ["circular"])
        options = dict(stride=draw(st.tuples(st.integers(1, 2), st.integers(1, 2))),
                       padding=draw(st.tuples(st.integers(0, 1), st.integers(0, 1))),
                       padding_mode=draw(st.sampled_from(modes)))
        if draw(st.booleans()):
            options.update(stride=1, padding=draw(st.sampled_from(["same", "valid"])))
        c_in, c_out = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
        layer = nn.Conv2d(c_in, c_out, kernel, dilation=dilation, groups=groups,
                          bias=draw(st.booleans()), rng=rng, **options)
        shape = image(draw, batch, c_in, max(k * d for k, d in zip(kernel, dilation)) + 1)
    elif kind in ("MaxPool2d", "AvgPool2d"):
        kernel = draw(st.integers(1, 3))
        options = pool_options(draw, kernel)
        if kind == "MaxPool2d":
            layer = nn.MaxPool2d(kernel, dilation=draw(st.integers(1, 2)), **options)
            smallest = kernel * layer.dilation
        else:
            layer = nn.AvgPool2d(kernel, count_include_pad=draw(st.booleans()),
                                 divisor_override=draw(st.sampled_from([None, 3])), **options)
            smallest = kernel
        shape = image(draw, batch, draw(st.integers(1, 2)), smallest)
    elif kind == "AdaptiveAvgPool2d":
        wanted = draw(st.tuples(st.integers(1, 3), st.sampled_from([1, 2, None])))
        layer = nn.AdaptiveAvgPool2d(wanted)
        sides = []
        for want in wanted:  # a multiple of the output size for ONNX, any size otherwise
            side = draw(st.integers(1, 4)) if want is None else want * draw(st.integers(1, 2))
            sides.append(side if onnx else side + draw(st.integers(0, 2)))
        shape = (batch, draw(st.integers(1, 2))) + tuple(sides)
    elif kind == "Flatten":
        shape = (batch,) + tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=3)))
        start = draw(st.integers(0, len(shape) - 1))
        end = draw(st.integers(start, len(shape) - 1))
        layer = nn.Flatten(start - len(shape) * draw(st.booleans()),  # negative dims too
                           end - len(shape) * draw(st.booleans()))
    elif kind == "BatchNorm":
        features = draw(st.integers(1, 4))
        two_d = draw(st.booleans())
        layer = (nn.BatchNorm2d if two_d else nn.BatchNorm1d)(
            features, eps=draw(st.sampled_from([1e-5, 0.1])), affine=draw(st.booleans()),
            track_running_stats=draw(st.booleans()), bias=draw(st.booleans()))
        if layer.track_running_stats:
            layer.running_mean = rng.normal(size=features)
            layer.running_var = rng.uniform(0.5, 2.0, size=features)
        for param in layer.parameters():
            param.data = rng.normal(size=features)
        shape = (batch + 1, features, 2, 3) if two_d else \
            draw(st.sampled_from([(batch + 1, features), (batch, features, 3)]))
    elif kind == "LayerNorm":
        shape = (batch,) + tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=3)))
        normalized = shape[len(shape) - draw(st.integers(1, len(shape) - 1)):]
        layer = nn.LayerNorm(normalized, eps=draw(st.sampled_from([1e-5, 0.1])),
                             elementwise_affine=draw(st.booleans()), bias=draw(st.booleans()))
        for param in layer.parameters():
            param.data = rng.normal(size=normalized)
    elif kind == "Embedding":
        count = draw(st.integers(1, 5))
        layer = nn.Embedding(count, draw(st.integers(1, 3)), rng=rng,
                             padding_idx=draw(st.sampled_from([None, 0])))
        indices = rng.integers(0, count, size=draw(st.sampled_from([(batch,), (batch, 3)])))
        layer.train(training)
        return layer, indices, 0
    elif kind == "recurrent":
        cls = draw(st.sampled_from([nn.RNN, nn.LSTM, nn.GRU]))
        n_in, hidden = draw(st.integers(1, 3)), draw(st.integers(1, 4))
        options = dict(num_layers=draw(st.integers(1, 2)), bias=draw(st.booleans()),
                       batch_first=draw(st.booleans()), bidirectional=draw(st.booleans()))
        if cls is nn.RNN:
            options["nonlinearity"] = draw(st.sampled_from(["tanh", "relu"]))
        if cls is nn.LSTM and not onnx and hidden > 1:
            options["proj_size"] = draw(st.integers(0, hidden - 1))
        layer = cls(n_in, hidden, rng=rng, **options)
        steps = draw(st.integers(1, 4))
        if draw(st.booleans()):  # unbatched
            shape, axis = (steps, n_in), None
        elif options["batch_first"]:
            shape = (batch, steps, n_in)
        else:
            shape, axis = (steps, batch, n_in), 1
    elif kind == "activation":
        name = draw(st.sampled_from(ACTIVATIONS))
        shape = tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=3)))
        if name in ("LeakyReLU", "ELU"):
            layer = getattr(nn, name)(draw(st.sampled_from([0.01, 0.2, 1.5])))
        elif name == "Snake":
            a = rng.uniform(0.5, 2.0, size=draw(st.sampled_from([(), shape[-1:]])))
            layer = nn.Snake(a if a.ndim else float(a), learnable=draw(st.booleans()))
        elif name == "Dropout":
            layer = nn.Dropout(0.0 if training else draw(st.sampled_from([0.0, 0.5])))
        elif name == "GELU":
            layer = nn.GELU(draw(st.sampled_from(["none", "tanh"])))
        elif name == "Softplus":
            layer = nn.Softplus(draw(st.sampled_from([1.0, 2.0])),
                                draw(st.sampled_from([1.0, 20.0])))
        elif name in ("Softmax", "LogSoftmax"):
            layer = getattr(nn, name)(draw(st.integers(-len(shape), len(shape) - 1)))
        else:
            layer = getattr(nn, name)()
    else:
        sizes = draw(st.lists(st.integers(1, 4), min_size=2, max_size=4))
        activation = draw(st.sampled_from(["tanh", "sigmoid", "relu", "leaky_relu", "snake"]))
        layer = nn.MLP(sizes, activation=activation, output_activation=draw(
            st.sampled_from([None, "sigmoid", "linear"])), rng=rng)
        shape = (batch, sizes[0])
    if kind in ("Linear", "activation", "Conv2d", "MaxPool2d", "AvgPool2d") and \
            len(shape) < (4 if "2d" in kind.lower() else 2):
        axis = None  # one unbatched sample
    layer.train(training)
    return layer, rng.normal(size=shape) * 2, axis


# --- ours -> PyTorch -> ours ------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore:Using padding='same'")  # PyTorch's note on its speed
@settings(max_examples=60)
@given(case=layer_cases(training=False), training=st.booleans())
def test_each_layer_in_torch_gives_our_outputs_and_gradients(case, training):
    torch = pytest.importorskip("torch")
    layer, x, _ = case
    if training and not isinstance(layer, nn.Dropout):  # no random masks to compare
        layer.train()
    theirs = nn.to_torch(layer)
    assert theirs.training == layer.training
    differentiable = x.dtype.kind == "f"  # not Embedding's indices
    ours_x, their_x = (Value(x) if differentiable else x), torch.tensor(x)
    their_x.requires_grad_(differentiable)
    ours, expected = outputs_of(layer(ours_x)), outputs_of(theirs(their_x))
    assert len(ours) == len(expected)
    for mine, their in zip(ours, expected):
        np.testing.assert_allclose(mine.data, their.detach().numpy(), rtol=1e-10, atol=1e-10)
    # a different weight per output, so each output's gradient counts
    sum((i + 1.5) * (o * o).sum() for i, o in enumerate(ours)).backward()
    sum((i + 1.5) * (o * o).sum() for i, o in enumerate(expected)).backward()
    if differentiable:
        np.testing.assert_allclose(ours_x.grad, their_x.grad.numpy(), rtol=1e-10, atol=1e-10)
    their_params = dict(theirs.named_parameters())
    assert list(their_params) == [name for name, _ in layer.named_parameters()]
    for name, param in layer.named_parameters():
        np.testing.assert_allclose(param.grad, their_params[name].grad.numpy(), rtol=1e-10,
                                   atol=1e-10, err_msg=name)


@settings(max_examples=40)
@given(case=layer_cases())
def test_from_torch_of_to_torch_has_the_same_state_dict(case):
    pytest.importorskip("torch")
    layer, x, _ = case
    back = nn.from_torch(nn.to_torch(layer))
    expected = layer.state_dict()
    assert list(back.state_dict()) == list(expected)
    for key, array in back.state_dict().items():
        assert (array.dtype, array.shape) == (expected[key].dtype, expected[key].shape), key
        np.testing.assert_array_equal(array, expected[key], err_msg=key)
    for mine, theirs in zip(outputs_of(back(x)), outputs_of(layer(x))):
        np.testing.assert_array_equal(mine.data, theirs.data)


def test_structure_names_modes_and_frozen_parameters_carry_over():
    torch = pytest.importorskip("torch")
    model = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(), nn.Flatten(),
                          nn.Linear(2 * 4 * 4, 3), nn.Snake(0.5), nn.Dropout(0.2))
    model.eval()
    model[0].train()
    model[3].requires_grad_(False)
    theirs = nn.to_torch(model)
    assert [type(m).__name__ for m in theirs] == ["Conv2d", "ReLU", "Flatten", "Linear", "Snake",
                                                  "Dropout"]
    assert isinstance(theirs, torch.nn.Sequential) and theirs[5].p == 0.2
    assert [m.training for m in theirs.modules()] == [m.training for m in model.modules()]
    assert [p.requires_grad for p in theirs.parameters()] == [True, True, False, False]
    assert theirs[0].weight.dtype == torch.float64
    back = nn.from_torch(theirs)
    assert [p.requires_grad for p in back.parameters()] == [True, True, False, False]
    assert [m.training for m in back.modules()] == [m.training for m in model.modules()]
    assert repr(back) == repr(model)


def test_a_model_built_in_torch_comes_over_in_its_dtype():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.BatchNorm1d(5),
                                 torch.nn.LeakyReLU(0.1), torch.nn.Linear(5, 2), torch.nn.Sigmoid())
    theirs(torch.randn(8, 3))  # running statistics move away from their defaults
    theirs.eval()
    ours = nn.from_torch(theirs)
    assert ours[0].weight.dtype == np.float32 and not ours.training
    x = np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32)
    np.testing.assert_allclose(ours(x).data, theirs(torch.from_numpy(x)).detach().numpy(),
                               rtol=1e-6, atol=1e-6)
    assert ours.state_dict()["1.num_batches_tracked"] == 1


def test_a_shared_layer_stays_shared():
    pytest.importorskip("torch")
    shared = nn.Linear(3, 3)
    theirs = nn.to_torch(nn.Sequential(shared, nn.Tanh(), shared))
    assert theirs[0] is theirs[2]
    back = nn.from_torch(theirs)
    assert back[0] is back[2] and len(list(back.parameters())) == 2


# --- what cannot cross -------------------------------------------------------------------
class Scaled(nn.Module):
    def forward(self, x):
        return 2 * x


def test_a_layer_without_an_equivalent_is_named():
    pytest.importorskip("torch")
    with pytest.raises(TypeError, match=r"nn.to_torch: layer '1\.0' \(Scaled\) has no "
                                        r"equivalent.*supported: .*BatchNorm1d, .*Conv2d"):
        nn.to_torch(nn.Sequential(nn.Linear(2, 2), nn.Sequential(Scaled())))


def test_a_subclass_with_its_own_forward_is_not_taken_for_its_base():
    pytest.importorskip("torch")

    class Doubled(nn.Linear):
        def forward(self, x):
            return 2 * super().forward(x)

    with pytest.raises(TypeError, match=r"\(the model itself\) \(Doubled\)"):
        nn.to_torch(Doubled(2, 2))


def test_torch_layers_and_settings_we_lack_are_named(monkeypatch):
    torch = pytest.importorskip("torch")
    with pytest.raises(TypeError, match=r"nn.from_torch: layer '1' \(Bilinear\) has no equivalent"):
        nn.from_torch(torch.nn.Sequential(torch.nn.ReLU(), torch.nn.Bilinear(2, 2, 2)))
    with pytest.raises(ValueError, match=r"layer '0' \(Embedding\): Embedding: "
                                         r"scale_grad_by_freq and sparse gradients are not"):
        nn.from_torch(torch.nn.Sequential(torch.nn.Embedding(3, 2, scale_grad_by_freq=True)))
    # a PyTorch argument our class does not take must be at PyTorch's default
    monkeypatch.setitem(torch_bridge.LAYERS, nn.Dropout, ("Dropout", dict(p=0.5, inplace=False)))
    nn.from_torch(torch.nn.Dropout(0.2))
    with pytest.raises(ValueError, match=r"\(the model itself\) \(Dropout\) has inplace=True, "
                                         r"which nn.Dropout does not support \(only "
                                         r"inplace=False\)"):
        nn.from_torch(torch.nn.Dropout(0.2, inplace=True))


@pytest.mark.parametrize("function, argument", [("to_torch", "model"), ("from_torch", "module")])
def test_without_torch_the_error_says_how_to_install_it(monkeypatch, function, argument):
    monkeypatch.setitem(sys.modules, "torch", None)  # what an absent package looks like
    with pytest.raises(ImportError, match=f"nn.{function} needs the torch package: "
                                          f"python -m pip install torch"):
        getattr(nn, function)(nn.Linear(2, 2))

"""Layers, activations and MLP: forward against plain numpy, gradients against finite differences."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nn
from autograd_lite import Value, gradcheck, gradgradcheck, manual_seed


def check_module_gradients(module, *inputs):
    """gradcheck of module(*inputs) with respect to the inputs and every parameter, in float64.

    gradcheck differentiates float64 copies of what it is given, so the
    copies of the parameters are swapped into the module while it runs.
    """
    owners = []
    for name, _ in module.named_parameters():
        path, _, attr = name.rpartition(".")
        owner = module
        for part in path.split(".") if path else ():
            owner = getattr(owner, part)
        owners.append((owner, attr))
    originals = [owner._parameters[attr] for owner, attr in owners]

    def run(*values):
        for (owner, attr), value in zip(owners, values[len(inputs):]):
            owner._parameters[attr] = value
        return module(*values[:len(inputs)])

    try:
        return gradcheck(run, tuple(Value(x) for x in inputs) + tuple(originals))
    finally:
        for (owner, attr), param in zip(owners, originals):
            owner._parameters[attr] = param


def test_check_module_gradients_sees_the_swapped_parameters():
    """A layer whose weight gets no gradient must fail the check (the swap must reach forward)."""
    class Detached(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(np.array([1.5, -0.5]))

        def forward(self, x):
            return x * Value(self.w.data, requires_grad=False) * self.w.data.sum()

    with pytest.raises(Exception, match="(?i)jacobian mismatch"):
        check_module_gradients(Detached(), np.array([0.3, 0.7]))


def conv2d_reference(x, w, b, stride, padding):
    """Direct loops over output positions: the definition of cross-correlation."""
    x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    n, _, h, wd = x.shape
    o, _, kh, kw = w.shape
    oh, ow = (h - kh) // stride + 1, (wd - kw) // stride + 1
    out = np.zeros((n, o, oh, ow))
    for i in range(oh):
        for j in range(ow):
            patch = x[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
            out[:, :, i, j] = np.einsum("nchw,ochw->no", patch, w) + b
    return out


# --- Linear -------------------------------------------------------------------------
@given(st.integers(1, 4), st.integers(1, 4), st.integers(1, 3), st.booleans())
def test_linear_forward_matches_numpy(n_in, n_out, batch, bias):
    layer = nn.Linear(n_in, n_out, bias=bias)
    x = np.random.default_rng(batch).normal(size=(batch, n_in))
    expected = x @ layer.weight.data.T + (layer.bias.data if bias else 0.0)
    np.testing.assert_allclose(layer(x).data, expected, rtol=1e-12)
    assert layer.weight.shape == (n_out, n_in)


def test_linear_gradients(rng):
    assert check_module_gradients(nn.Linear(3, 2), rng.normal(size=(4, 3)))
    assert check_module_gradients(nn.Linear(3, 2), rng.normal(size=(2, 5, 3)))  # (*, in)


def test_linear_default_init_is_pytorch_uniform():
    layer = nn.Linear(50, 400, rng=np.random.default_rng(0))
    bound = 1 / np.sqrt(50)
    for p in (layer.weight.data, layer.bias.data):
        assert np.abs(p).max() <= bound and np.abs(p).max() > 0.95 * bound
    again = nn.Linear(50, 400, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(again.weight.data, layer.weight.data)


def test_linear_shape_error_names_layer_and_shapes():
    with pytest.raises(ValueError) as info:
        nn.Linear(2, 4)(np.ones((5, 3)))
    assert str(info.value) == "Linear(2→4): expected input with last dimension 2, got shape (5, 3)"


# --- Conv2d and MaxPool2d -------------------------------------------------------------
@pytest.mark.parametrize("stride, padding", [(1, 0), (2, 1), (1, 2)])
def test_conv2d_forward_matches_loops(rng, stride, padding):
    layer = nn.Conv2d(2, 3, 3, stride=stride, padding=padding)
    assert layer.weight.shape == (3, 2, 3, 3)
    x = rng.normal(size=(2, 2, 6, 5))
    expected = conv2d_reference(x, layer.weight.data, layer.bias.data, stride, padding)
    np.testing.assert_allclose(layer(x).data, expected, rtol=1e-10, atol=1e-12)


def test_conv2d_gradients_with_stride_and_padding(rng):
    layer = nn.Conv2d(2, 3, kernel_size=3, stride=2, padding=1)
    assert check_module_gradients(layer, rng.normal(size=(2, 2, 5, 5)))
    assert check_module_gradients(nn.Conv2d(1, 2, (2, 3), bias=False), rng.normal(size=(1, 1, 4, 4)))


def test_conv2d_default_init_bound_uses_receptive_field():
    layer = nn.Conv2d(4, 16, 3, rng=np.random.default_rng(0))
    assert np.abs(layer.weight.data).max() <= 1 / np.sqrt(4 * 9)
    assert np.abs(layer.bias.data).max() <= 1 / np.sqrt(4 * 9)


def test_conv2d_shape_error():
    with pytest.raises(ValueError, match=r"Conv2d\(3→8\): expected input of shape \(N, 3, H, W\), "
                                         r"got shape \(1, 1, 8, 8\)"):
        nn.Conv2d(3, 8, 3)(np.ones((1, 1, 8, 8)))
    with pytest.raises(ValueError, match=r"got shape \(8, 8\)"):
        nn.Conv2d(3, 8, 3)(np.ones((8, 8)))  # (3, 8, 8) is one unbatched sample


def test_maxpool_forward_matches_numpy(rng):
    x = rng.normal(size=(2, 3, 6, 4))
    expected = x.reshape(2, 3, 3, 2, 2, 2).max(axis=(3, 5))
    np.testing.assert_array_equal(nn.MaxPool2d(2)(x).data, expected)
    overlapping = nn.MaxPool2d(3, stride=1)(x).data
    assert overlapping.shape == (2, 3, 4, 2)
    assert overlapping[1, 2, 0, 1] == x[1, 2, 0:3, 1:4].max()


def test_maxpool_gradients_distinct_and_tied(rng):
    distinct = rng.permutation(48).reshape(1, 3, 4, 4) / 10.0
    assert check_module_gradients(nn.MaxPool2d(2), distinct)
    assert check_module_gradients(nn.MaxPool2d(3, stride=1), distinct)
    # a two-way tie in each window: the engine splits the gradient, as central differences see
    tied = np.array([[[[1.0, 1.0, 0.0, 2.0],
                       [0.0, 0.5, 1.0, 2.0]]]])
    assert check_module_gradients(nn.MaxPool2d(2), tied)
    x = Value(tied)
    nn.MaxPool2d(2)(x).sum().backward()
    np.testing.assert_array_equal(x.grad, [[[[0.5, 0.5, 0, 0.5], [0, 0, 0, 0.5]]]])


def test_maxpool_shape_error():
    with pytest.raises(ValueError, match=r"MaxPool2d\(kernel_size=2\): expected input of shape "
                                         r"\(N, C, H, W\) or \(C, H, W\), got shape \(4, 4\)"):
        nn.MaxPool2d(2)(np.ones((4, 4)))


# --- Flatten and Dropout ----------------------------------------------------------------
def test_flatten():
    x = np.arange(24.0).reshape(2, 3, 2, 2)
    np.testing.assert_array_equal(nn.Flatten()(x).data, x.reshape(2, 12))
    np.testing.assert_array_equal(nn.Flatten(0)(x).data, x.reshape(24))
    np.testing.assert_array_equal(nn.Flatten(1, 2)(x).data, x.reshape(2, 6, 2))
    with pytest.raises(ValueError, match="Flatten"):
        nn.Flatten(3, 1)(x)


def _flatten_cases():
    for shape in [(0, 2, 3, 3), (2, 0, 3, 3), (2, 3, 0, 4), (0,), (0, 0)]:
        n = len(shape)
        for start_dim, end_dim in [(1, -1), (0, -1), (1, 2), (-3, -2), (2, 2)]:
            if -n <= start_dim < n and -n <= end_dim < n and start_dim % n <= end_dim % n:
                yield shape, start_dim, end_dim


@pytest.mark.parametrize("shape, start_dim, end_dim", list(_flatten_cases()))
def test_flatten_with_a_size_0_dimension(shape, start_dim, end_dim):
    x = np.zeros(shape)
    start, end = start_dim % x.ndim, end_dim % x.ndim
    expected = shape[:start] + (int(np.prod(shape[start:end + 1])),) + shape[end + 1:]
    out = nn.Flatten(start_dim, end_dim)(Value(x))
    assert out.shape == expected  # e.g. (0, 2, 3, 3) -> (0, 18), as torch.flatten gives
    out.sum().backward()
    try:
        import torch
    except ImportError:  # absent or broken: the known answer above still stands
        return
    assert out.shape == tuple(torch.nn.Flatten(start_dim, end_dim)(torch.zeros(shape)).shape)


def test_dropout_statistics_and_scaling():
    layer = nn.Dropout(p=0.3, rng=np.random.default_rng(0))
    x = Value(np.ones((200, 500)))
    out = layer(x)
    zeros = np.mean(out.data == 0)
    assert abs(zeros - 0.3) < 0.01
    np.testing.assert_allclose(out.data[out.data != 0], 1 / 0.7)
    assert abs(out.data.mean() - 1.0) < 0.02  # expected value preserved
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, out.data)  # gradient flows only where kept


def test_dropout_eval_identity_and_edge_probabilities():
    x = np.random.default_rng(0).normal(size=(3, 4))
    layer = nn.Dropout(0.5).eval()
    np.testing.assert_array_equal(layer(x).data, x)
    np.testing.assert_array_equal(nn.Dropout(0.0)(x).data, x)
    np.testing.assert_array_equal(nn.Dropout(1.0)(x).data, np.zeros_like(x))
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)


def test_dropout_reproducible_with_seed():
    x = np.ones((10, 10))
    manual_seed(3)
    first = nn.Dropout(0.5)(x).data
    manual_seed(3)
    np.testing.assert_array_equal(nn.Dropout(0.5)(x).data, first)
    a = nn.Dropout(0.5, rng=np.random.default_rng(1))(x).data
    b = nn.Dropout(0.5, rng=np.random.default_rng(1))(x).data
    np.testing.assert_array_equal(a, b)


# --- BatchNorm1d -------------------------------------------------------------------------
def batchnorm_reference(x, weight, bias, mean, var, eps=1e-5):
    shape = (1, -1) if x.ndim == 2 else (1, -1, 1)
    return (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps) * weight.reshape(shape) \
        + bias.reshape(shape)


@pytest.mark.parametrize("shape, axes", [((6, 3), (0,)), ((4, 3, 5), (0, 2))])
def test_batchnorm_train_then_eval_matches_numpy(rng, shape, axes):
    norm = nn.BatchNorm1d(3, momentum=0.2)
    norm.weight.data = rng.normal(size=3)
    norm.bias.data = rng.normal(size=3)
    x = rng.normal(2.0, 3.0, size=shape)
    mean, var = x.mean(axis=axes), x.var(axis=axes)
    expected = batchnorm_reference(x, norm.weight.data, norm.bias.data, mean, var)
    np.testing.assert_allclose(norm(x).data, expected, rtol=1e-10)
    count = x.size // 3
    np.testing.assert_allclose(norm.running_mean, 0.2 * mean)
    np.testing.assert_allclose(norm.running_var, 0.8 + 0.2 * var * count / (count - 1))
    assert norm.num_batches_tracked == 1
    norm.eval()
    y = rng.normal(size=shape)
    expected = batchnorm_reference(y, norm.weight.data, norm.bias.data,
                                   norm.running_mean, norm.running_var)
    np.testing.assert_allclose(norm(y).data, expected, rtol=1e-10)
    assert norm.num_batches_tracked == 1  # eval leaves the statistics alone


def test_batchnorm_gradients_train_and_eval(rng):
    norm = nn.BatchNorm1d(3)
    norm.weight.data = rng.normal(size=3)
    assert check_module_gradients(norm, rng.normal(size=(5, 3)))
    assert check_module_gradients(norm, rng.normal(size=(3, 3, 4)))
    norm.eval()
    assert check_module_gradients(norm, rng.normal(size=(5, 3)))


def test_batchnorm_cumulative_average_and_no_affine(rng):
    norm = nn.BatchNorm1d(2, momentum=None, affine=False)
    assert list(norm.parameters()) == []
    batches = [rng.normal(size=(4, 2)) for _ in range(3)]
    for b in batches:
        norm(b)
    np.testing.assert_allclose(norm.running_mean, np.mean([b.mean(0) for b in batches], axis=0))


def test_batchnorm_errors():
    with pytest.raises(ValueError, match=r"BatchNorm1d\(3\): expected input of shape \(N, 3\) or "
                                         r"\(N, 3, L\), got shape \(4, 2\)"):
        nn.BatchNorm1d(3)(np.ones((4, 2)))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(3)(np.ones((1, 3)))
    assert nn.BatchNorm1d(3).eval()(np.ones((1, 3))).shape == (1, 3)


# --- RNN ----------------------------------------------------------------------------------
def rnn_reference(rnn, x, h0):
    """Plain numpy loop over time and layers (x: (L, N, I), h0: (layers, N, H))."""
    layer_input, last = x, []
    for k in range(rnn.num_layers):
        w_ih, w_hh = getattr(rnn, f"weight_ih_l{k}").data, getattr(rnn, f"weight_hh_l{k}").data
        b = getattr(rnn, f"bias_ih_l{k}").data + getattr(rnn, f"bias_hh_l{k}").data
        h, outputs = h0[k], []
        for x_t in layer_input:
            h = np.tanh(x_t @ w_ih.T + h @ w_hh.T + b)
            outputs.append(h)
        layer_input = np.stack(outputs)
        last.append(h)
    return layer_input, np.stack(last)


@pytest.mark.parametrize("num_layers", [1, 2])
def test_rnn_forward_matches_numpy(rng, num_layers):
    rnn = nn.RNN(3, 4, num_layers=num_layers)
    x, h0 = rng.normal(size=(5, 2, 3)), rng.normal(size=(num_layers, 2, 4))
    output, h_n = rnn(x, h0)
    expected_output, expected_h = rnn_reference(rnn, x, h0)
    np.testing.assert_allclose(output.data, expected_output, rtol=1e-12)
    np.testing.assert_allclose(h_n.data, expected_h, rtol=1e-12)
    assert output.shape == (5, 2, 4) and h_n.shape == (num_layers, 2, 4)


def test_rnn_layouts(rng):
    rnn = nn.RNN(3, 4)
    x = rng.normal(size=(5, 2, 3))
    output, h_n = rnn(x)
    np.testing.assert_allclose(h_n.data[0], output.data[-1])
    batch_first = nn.RNN(3, 4, batch_first=True)
    batch_first.load_state_dict(rnn.state_dict())
    out_bf, h_bf = batch_first(x.swapaxes(0, 1))
    np.testing.assert_allclose(out_bf.data, output.data.swapaxes(0, 1))
    np.testing.assert_allclose(h_bf.data, h_n.data)
    out_single, h_single = rnn(x[:, 0])  # unbatched (L, I)
    np.testing.assert_allclose(out_single.data, output.data[:, 0])
    assert h_single.shape == (1, 4)
    relu = nn.RNN(3, 4, nonlinearity="relu")
    assert np.all(relu(x)[0].data >= 0)


def test_rnn_gradients_over_several_steps(rng):
    rnn = nn.RNN(2, 3)
    assert check_module_gradients(rnn, rng.normal(size=(4, 2, 2)), rng.normal(size=(1, 2, 3)))
    deep = nn.RNN(2, 2, num_layers=2, nonlinearity="relu", batch_first=True)
    assert check_module_gradients(deep, rng.normal(size=(2, 3, 2)))


def test_rnn_parameters_and_errors():
    rnn = nn.RNN(3, 5, rng=np.random.default_rng(0))
    assert [(n, p.shape) for n, p in rnn.named_parameters()] == [
        ("weight_ih_l0", (5, 3)), ("weight_hh_l0", (5, 5)), ("bias_ih_l0", (5,)),
        ("bias_hh_l0", (5,))]
    assert all(np.abs(p.data).max() <= 1 / np.sqrt(5) for p in rnn.parameters())
    with pytest.raises(ValueError, match=r"RNN\(3→5\): expected input of shape \(L, N, 3\)"):
        rnn(np.ones((4, 2, 2)))
    with pytest.raises(ValueError, match=r"RNN\(3→5\): expected h0 of shape \(1, 2, 5\), "
                                         r"got shape \(2, 5\)"):
        rnn(np.ones((4, 2, 3)), np.zeros((2, 5)))
    with pytest.raises(ValueError, match="nonlinearity"):
        nn.RNN(3, 5, nonlinearity="sigmoid")


# --- activations --------------------------------------------------------------------------
@pytest.mark.parametrize("module, reference", [
    (nn.Tanh(), np.tanh),
    (nn.Sigmoid(), lambda x: 1 / (1 + np.exp(-x))),
    (nn.ReLU(), lambda x: np.maximum(x, 0)),
    (nn.LeakyReLU(0.2), lambda x: np.where(x > 0, x, 0.2 * x)),
    (nn.Identity(), lambda x: x),
    (nn.Snake(), lambda x: x + np.sin(x) ** 2),
    (nn.Snake(2.5), lambda x: x + np.sin(2.5 * x) ** 2 / 2.5),
])
def test_activations_match_numpy_and_gradcheck(rng, module, reference):
    x = rng.normal(size=(3, 4)) * 2 + 0.01  # away from ReLU's kink at 0
    np.testing.assert_allclose(module(x).data, reference(x), rtol=1e-12)
    assert check_module_gradients(module, x)


def test_snake_learnable_frequency(rng):
    snake = nn.Snake(a=np.array([0.5, 1.0, 2.0]), learnable=True)
    assert [n for n, _ in snake.named_parameters()] == ["a"]
    assert check_module_gradients(snake, rng.normal(size=(4, 3)))
    assert repr(snake) == "Snake(a=array of shape (3,), learnable=True)"
    assert list(nn.Snake(1.0).parameters()) == []
    with pytest.raises(ValueError, match="non-zero"):
        nn.Snake(0.0)


# --- MLP ----------------------------------------------------------------------------------
def test_mlp_structure_matches_the_guide():
    model = nn.MLP([2, 4, 4, 1], activation="sigmoid", output_activation="sigmoid")
    kinds = [type(m).__name__ for m in model]
    assert kinds == ["Linear", "Sigmoid", "Linear", "Sigmoid", "Linear", "Sigmoid"]
    assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias",
                                        "4.weight", "4.bias"]
    x = np.random.default_rng(0).normal(size=(7, 2))
    h = x
    for i in (0, 2, 4):
        h = 1 / (1 + np.exp(-(h @ model[i].weight.data.T + model[i].bias.data)))
    np.testing.assert_allclose(model(x).data, h, rtol=1e-12)
    assert [type(m).__name__ for m in nn.MLP([3, 5, 2])] == ["Linear", "Tanh", "Linear"]


@pytest.mark.parametrize("activation, kind", [
    ("relu", nn.ReLU), ("leaky_relu", nn.LeakyReLU), ("linear", nn.Identity), ("snake", nn.Snake),
    (nn.ReLU, nn.ReLU), (nn.LeakyReLU(0.3), nn.LeakyReLU)])
def test_mlp_activation_choices(activation, kind):
    model = nn.MLP([2, 3, 3, 1], activation=activation)
    assert isinstance(model[1], kind) and isinstance(model[3], kind)
    assert model[1] is not model[3]


def test_mlp_init_schemes_and_reproducibility():
    he = nn.MLP([200, 300, 1], activation="relu", init="he", rng=np.random.default_rng(0))
    assert abs(he[0].weight.data.std() - np.sqrt(2 / 200)) < 0.01 * np.sqrt(2 / 200) * 5
    assert not np.any(he[0].bias.data)
    xavier = nn.MLP([200, 300, 1], init="xavier", rng=np.random.default_rng(0))
    assert np.abs(xavier[0].weight.data).max() <= np.sqrt(6 / 500)
    custom = nn.MLP([2, 3], init=lambda w: nn.init.constant_(w, 0.5))
    np.testing.assert_array_equal(custom[0].weight.data, np.full((3, 2), 0.5))
    same = nn.MLP([4, 5, 1], rng=np.random.default_rng(7)).state_dict()
    for key, value in nn.MLP([4, 5, 1], rng=np.random.default_rng(7)).state_dict().items():
        np.testing.assert_array_equal(value, same[key])


def test_mlp_errors():
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        nn.MLP([2, 1], output_activation="swish")
    with pytest.raises(ValueError, match="unknown init 'orthogonal'"):
        nn.MLP([2, 1], init="orthogonal")
    with pytest.raises(ValueError, match="at least an input and an output"):
        nn.MLP([2])


@settings(max_examples=10)
@given(st.sampled_from(["tanh", "sigmoid", "relu", "snake"]))
def test_mlp_gradients(activation):
    rng = np.random.default_rng(0)
    model = nn.MLP([2, 3, 2], activation=activation, output_activation="sigmoid", rng=rng)
    assert check_module_gradients(model, rng.normal(size=(3, 2)))


@pytest.mark.parametrize("make, shape", [
    (lambda: nn.MLP([3, 4, 2], activation="tanh", output_activation="sigmoid"), (2, 3)),
    (lambda: nn.BatchNorm1d(3), (4, 3)),
    (lambda: nn.Snake(1.5), (2, 3)),
    (lambda: nn.Sequential(nn.Conv2d(1, 2, 2, stride=2, padding=1), nn.Tanh()), (1, 1, 3, 3)),
])
def test_second_derivatives_through_layers(rng, make, shape):
    manual_seed(0)
    module = make()
    assert gradgradcheck(lambda x: module(x), [Value(rng.normal(size=shape))])


def test_rnn_second_derivatives(rng):
    manual_seed(0)
    rnn = nn.RNN(2, 2)
    assert gradgradcheck(lambda x: rnn(x)[0], [Value(rng.normal(size=(3, 1, 2)))])


def test_rnn_third_argument_is_the_layer_count_as_in_pytorch():
    assert nn.RNN(3, 4, 2).num_layers == 2
    with pytest.raises(TypeError, match="nonlinearity="):
        nn.RNN(3, 4, "relu")



# --- a batch of 0 samples: every layer, forward and backward --------------------------------
def small_cnn():
    return nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Dropout(0.5), nn.Linear(4 * 3 * 3, 5))


def eval_batchnorm():
    bn = nn.BatchNorm1d(3)
    bn.eval()
    return bn


@pytest.mark.parametrize("make, shape, expected", [
    (lambda: nn.Linear(3, 2), (0, 3), (0, 2)),
    (lambda: nn.Conv2d(2, 3, 3, stride=2, padding=1), (0, 2, 6, 6), (0, 3, 3, 3)),
    (lambda: nn.MaxPool2d(2), (0, 2, 6, 6), (0, 2, 3, 3)),
    (lambda: nn.Flatten(), (0, 2, 3, 3), (0, 18)),
    (eval_batchnorm, (0, 3), (0, 3)),
    (eval_batchnorm, (0, 3, 4), (0, 3, 4)),
    (lambda: nn.RNN(3, 4), (5, 0, 3), (5, 0, 4)),
    (lambda: nn.RNN(3, 4, num_layers=2, batch_first=True), (0, 5, 3), (0, 5, 4)),
    (lambda: nn.Dropout(0.5), (0, 3), (0, 3)),
    (lambda: nn.MLP([3, 4, 2]), (0, 3), (0, 2)),
    (small_cnn, (0, 2, 6, 6), (0, 5)),
], ids=["Linear", "Conv2d", "MaxPool2d", "Flatten", "BatchNorm1d-eval", "BatchNorm1d-eval-3d",
        "RNN", "RNN-batch-first", "Dropout", "MLP", "small-CNN"])
def test_layers_take_a_batch_of_0(make, shape, expected):
    check_batch_of_0(make, shape, expected)


def check_batch_of_0(make, shape, expected):
    """The layer `make()` maps a batch of 0 of `shape` to `expected`, and backward gives zero
    gradients (no samples) to every parameter."""
    module = make()
    out = module(Value(np.zeros(shape)))
    out = out[0] if isinstance(out, tuple) else out
    assert out.shape == expected
    out.sum().backward()
    for name, p in module.named_parameters():
        assert p.grad is not None and not p.grad.any(), name  # no samples: zero gradient

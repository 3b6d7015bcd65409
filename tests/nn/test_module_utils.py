"""Module.to/float/double/requires_grad_/apply/named_modules/children, forward and backward
hooks, nn.utils (gradient clipping, parameters as a vector) and nn.init's trunc_normal_,
orthogonal_ and calculate_gain: known answers, then PyTorch where it is installed.
"""
import contextlib
import math
import re

import numpy as np
import pytest

import nn
from autograd_lite import Value


def small_model():
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Tanh(), nn.Linear(4, 2))


def torch_small_model(torch):
    return torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.Tanh(),
                               torch.nn.Linear(4, 2))


# --- dtype moves and switches -------------------------------------------------------------
def test_float_casts_parameters_gradients_and_float_buffers_in_place(rng):
    model = small_model()
    weight = model[0].weight
    optimizer = nn.SGD(model.parameters(), lr=0.1)
    nn.mse_loss(model(rng.normal(size=(5, 3))), np.zeros((5, 2))).backward()
    assert model.float() is model
    assert model[0].weight is weight and weight.dtype == np.float32
    assert weight.grad.dtype == np.float32 and model[1].running_mean.dtype == np.float32
    assert model[1].num_batches_tracked.dtype == np.int64  # integer buffers keep their dtype
    optimizer.zero_grad()
    out = model(rng.normal(size=(5, 3)).astype(np.float32))
    assert out.dtype == np.float32
    nn.mse_loss(out, np.zeros((5, 2))).backward()
    optimizer.step()
    assert weight.dtype == np.float32
    assert model.double()[0].weight.dtype == np.float64
    assert model.to("float32", device="cpu")[3].bias.dtype == np.float32
    assert model.to(Value(np.zeros(1))).to("cpu")[3].bias.dtype == np.float64  # like a Value
    with pytest.raises(ValueError, match="Sequential.to: nn runs on the CPU"):
        model.to("cuda")
    with pytest.raises(TypeError, match="only accepts floating point dtypes, but got desired "
                                        "dtype=int64"):
        model.to(np.int64)


def test_a_float32_model_matches_pytorch_to_1e_5(rng):
    torch = pytest.importorskip("torch", exc_type=ImportError)
    theirs = torch_small_model(torch)
    ours = small_model()
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    ours.float()
    x = rng.normal(size=(6, 3)).astype(np.float32)
    out, expected = ours(x), theirs(torch.tensor(x))
    out.sum().backward()
    expected.sum().backward()
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-5, atol=1e-6)
    for (name, p), (_, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert p.grad.dtype == np.float32
        np.testing.assert_allclose(p.grad, tp.grad.numpy(), rtol=1e-5, atol=1e-5, err_msg=name)


def test_requires_grad_false_freezes_a_layer(rng):
    model = small_model()
    model[0].requires_grad_(False)
    nn.mse_loss(model(rng.normal(size=(5, 3))), np.zeros((5, 2))).backward()
    assert model[0].weight.grad is None and model[3].weight.grad is not None
    assert model.requires_grad_() is model and model[0].weight.requires_grad


def test_apply_named_modules_and_children_follow_pytorchs_order():
    model = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Tanh(), nn.Linear(2, 1)))
    visited = []
    model.apply(lambda m: visited.append(type(m).__name__))
    assert visited == ["Linear", "Tanh", "Linear", "Sequential", "Sequential"]
    assert [name for name, _ in model.named_modules()] == ["", "0", "1", "1.0", "1.1"]
    assert [type(m).__name__ for m in model.children()] == ["Linear", "Sequential"]
    torch = pytest.importorskip("torch", exc_type=ImportError)
    theirs = torch.nn.Sequential(torch.nn.Linear(2, 2),
                                 torch.nn.Sequential(torch.nn.Tanh(), torch.nn.Linear(2, 1)))
    torch_visited = []
    theirs.apply(lambda m: torch_visited.append(type(m).__name__))
    assert visited == torch_visited
    assert [n for n, _ in model.named_modules()] == [n for n, _ in theirs.named_modules()]


# --- hooks ---------------------------------------------------------------------------------
def test_forward_hooks_see_and_replace_inputs_and_outputs(rng):
    layer, calls = nn.Linear(3, 2), []
    pre = layer.register_forward_pre_hook(lambda m, args: (args[0] * 0,))
    post = layer.register_forward_hook(lambda m, args, out: calls.append(out.shape) or out + 1)
    first = layer.register_forward_hook(lambda m, args, out: calls.append("first"), prepend=True)
    out = layer(rng.normal(size=(4, 3)))
    np.testing.assert_allclose(out.data, np.broadcast_to(layer.bias.data + 1, (4, 2)))
    assert calls == ["first", (4, 2)]
    pre.remove(), post.remove(), first.remove()
    x = rng.normal(size=(4, 3))
    np.testing.assert_allclose(layer(x).data, x @ layer.weight.data.T + layer.bias.data)
    with layer.register_forward_pre_hook(lambda m, args, kwargs: ((args[0] * 2,), kwargs),
                                         with_kwargs=True):
        np.testing.assert_allclose(layer(x).data, 2 * x @ layer.weight.data.T + layer.bias.data)
    np.testing.assert_allclose(layer(x).data, x @ layer.weight.data.T + layer.bias.data)


@pytest.mark.parametrize("input_requires_grad", [True, False])
def test_full_backward_hooks_match_pytorch(rng, input_requires_grad):
    torch = pytest.importorskip("torch", exc_type=ImportError)
    ours, theirs = small_model(), torch_small_model(torch).double()
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    seen = {"ours": [], "theirs": []}
    for model, key in ((ours, "ours"), (theirs, "theirs")):
        def record(module, grad_input, grad_output, key=key):
            seen[key].append([None if g is None else g.detach().numpy() if hasattr(g, "detach")
                              else np.array(g) for g in grad_input + grad_output])
        def halve(module, grad_input, grad_output):  # noqa: E306
            return (grad_input[0] * 0.5,)
        model[0].register_full_backward_hook(record)
        model[2].register_full_backward_hook(halve)
        model[2].register_full_backward_hook(record)
    x = rng.normal(size=(5, 3))
    x_ours, x_theirs = Value(x, requires_grad=input_requires_grad), \
        torch.tensor(x, requires_grad=input_requires_grad)
    weights = rng.normal(size=(5, 2))
    (ours(x_ours) * weights).sum().backward()
    quiet = contextlib.nullcontext() if input_requires_grad else \
        pytest.warns(UserWarning, match="Full backward hook is firing")  # PyTorch says so
    with quiet:
        (theirs(x_theirs) * torch.tensor(weights)).sum().backward()
    assert len(seen["ours"]) == len(seen["theirs"]) == 2
    for got, expected in zip(seen["ours"], seen["theirs"]):
        for a, b in zip(got, expected):
            assert (a is None) == (b is None)
            if a is not None:
                np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    for (name, p), (_, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(p.grad, tp.grad.numpy(), rtol=1e-10, atol=1e-12, err_msg=name)
    if input_requires_grad:
        np.testing.assert_allclose(x_ours.grad, x_theirs.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_a_backward_hook_on_a_module_outside_the_subset_is_a_clear_error(rng):
    rnn = nn.RNN(2, 3)
    rnn.register_full_backward_hook(lambda m, gi, go: None)
    with pytest.raises(ValueError, match=re.escape(
            "RNN: register_full_backward_hook supports modules called with one positional input "
            "that return one Value; this one returned tuple")):
        rnn(rng.normal(size=(4, 1, 2)))


# --- nn.utils ------------------------------------------------------------------------------
def gradients_of(model, rng):
    nn.mse_loss(model(rng.normal(size=(6, 3))), rng.normal(size=(6, 2)) * 10).backward()
    return [p.grad.copy() for p in model.parameters()]


@pytest.mark.parametrize("norm_type", [2.0, 1.0, math.inf])
def test_clip_grad_norm_by_hand(rng, norm_type):
    model = small_model()
    grads = gradients_of(model, rng)
    flat = np.concatenate([g.ravel() for g in grads])
    total = np.abs(flat).max() if norm_type == math.inf else np.linalg.norm(flat, ord=norm_type)
    returned = nn.utils.clip_grad_norm_(model.parameters(), max_norm=0.5, norm_type=norm_type)
    assert returned.item() == pytest.approx(total, rel=1e-12)
    for p, g in zip(model.parameters(), grads):
        np.testing.assert_allclose(p.grad, g * 0.5 / (total + 1e-6), rtol=1e-12)
    unclipped = [p.grad.copy() for p in model.parameters()]
    nn.utils.clip_grad_norm_(model.parameters(), max_norm=1e9, norm_type=norm_type)
    for p, g in zip(model.parameters(), unclipped):
        np.testing.assert_array_equal(p.grad, g)


def test_clipping_matches_pytorch(rng):
    torch = pytest.importorskip("torch", exc_type=ImportError)
    for clip in ("norm", "value"):
        ours, theirs = small_model(), torch_small_model(torch).double()
        ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
        x, y = rng.normal(size=(6, 3)), rng.normal(size=(6, 2)) * 10
        nn.mse_loss(ours(x), y).backward()
        torch.nn.functional.mse_loss(theirs(torch.tensor(x)), torch.tensor(y)).backward()
        if clip == "norm":
            got = nn.utils.clip_grad_norm_(ours.parameters(), 0.3).item()
            assert got == pytest.approx(torch.nn.utils.clip_grad_norm_(theirs.parameters(),
                                                                       0.3).item(), rel=1e-12)
        else:
            nn.utils.clip_grad_value_(ours.parameters(), 0.05)
            torch.nn.utils.clip_grad_value_(theirs.parameters(), 0.05)
        for p, tp in zip(ours.parameters(), theirs.parameters()):
            np.testing.assert_allclose(p.grad, tp.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_clip_grad_value_and_a_non_finite_norm():
    p = Value(np.zeros(3))
    p.grad = np.array([-2.0, 0.5, 3.0], dtype=np.float64)
    nn.utils.clip_grad_value_([p], 1.0)
    np.testing.assert_array_equal(p.grad, [-1.0, 0.5, 1.0])
    p.grad = np.array([np.inf, 0.0, 1.0])
    with pytest.raises(RuntimeError, match="clip_grad_norm_: the total norm of order 2.0 of the "
                                           "gradients is non-finite"):
        nn.utils.clip_grad_norm_(p, 1.0, error_if_nonfinite=True)
    assert nn.utils.clip_grad_norm_([Value(1.0)], 1.0).item() == 0.0  # no gradients at all


def test_parameters_to_vector_and_back(rng):
    model = small_model()
    vector = nn.utils.parameters_to_vector(model.parameters())
    assert vector.shape == (sum(p.size for p in model.parameters()),)
    (vector * vector).sum().backward()  # gradients flow back to every parameter
    for p in model.parameters():
        np.testing.assert_allclose(p.grad, 2 * p.data)
    new = rng.normal(size=vector.shape)
    nn.utils.vector_to_parameters(new, model.parameters())
    np.testing.assert_array_equal(nn.utils.parameters_to_vector(model.parameters()).data, new)
    with pytest.raises(ValueError, match=r"vector_to_parameters: expected a vector of 34 "
                                         r"elements \(the parameters' total\), got shape \(3,\)"):
        nn.utils.vector_to_parameters(np.zeros(3), model.parameters())


# --- nn.init -------------------------------------------------------------------------------
def test_trunc_normal_stays_inside_with_the_truncated_moments():
    w = nn.Parameter(np.empty((200, 200)))
    nn.init.trunc_normal_(w, mean=0.5, std=1.0, a=0.0, b=2.0, generator=np.random.default_rng(0))
    assert w.data.min() >= 0.0 and w.data.max() <= 2.0
    alpha, beta = -0.5, 1.5  # the bounds in standard deviations from the mean
    pdf = lambda z: math.exp(-z * z / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    cdf = lambda z: 0.5 * (1 + math.erf(z / math.sqrt(2)))  # noqa: E731
    mass = cdf(beta) - cdf(alpha)
    mean = 0.5 + (pdf(alpha) - pdf(beta)) / mass
    assert w.data.mean() == pytest.approx(mean, abs=0.01)  # 40,000 draws: error about 0.003
    with pytest.raises(ValueError, match="trunc_normal_: expected a < b"):
        nn.init.trunc_normal_(w, a=1.0, b=1.0)


@pytest.mark.parametrize("shape", [(5, 5), (3, 7), (7, 3), (4, 2, 3, 3)])
def test_orthogonal_gives_orthonormal_rows_or_columns(shape):
    w = nn.Parameter(np.empty(shape))
    nn.init.orthogonal_(w, gain=2.0, generator=np.random.default_rng(1))
    flat = w.data.reshape(shape[0], -1)
    small = flat @ flat.T if flat.shape[0] <= flat.shape[1] else flat.T @ flat
    np.testing.assert_allclose(small, 4.0 * np.eye(len(small)), atol=1e-12)
    with pytest.raises(ValueError, match="orthogonal_: only tensors with 2 or more dimensions"):
        nn.init.orthogonal_(nn.Parameter(np.zeros(3)))


def test_calculate_gain_is_pytorchs():
    names = ["linear", "conv2d", "sigmoid", "tanh", "relu", "leaky_relu", "selu"]
    expected = [1, 1, 1, 5 / 3, math.sqrt(2), math.sqrt(2 / (1 + 0.01 ** 2)), 0.75]
    assert [nn.init.calculate_gain(n) for n in names] == pytest.approx(expected, rel=1e-15)
    torch = pytest.importorskip("torch", exc_type=ImportError)
    for name in names:
        assert nn.init.calculate_gain(name) == pytest.approx(torch.nn.init.calculate_gain(name))
    assert nn.init.calculate_gain("leaky_relu", 0.2) == \
        pytest.approx(torch.nn.init.calculate_gain("leaky_relu", 0.2))

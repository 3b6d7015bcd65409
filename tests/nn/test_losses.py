"""Losses: values against plain-numpy formulas, reductions, gradcheck, saturation, errors, torch parity."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import nn
from autograd_lite import Value, gradcheck, gradgradcheck


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def numpy_losses(x, y):
    """Per-element reference formulas (y: targets; for cross-entropy y are labels)."""
    p = sigmoid(x)
    return {
        "mse_loss": (x - y) ** 2,
        "l1_loss": np.abs(x - y),
        "binary_cross_entropy": -(y * np.log(p) + (1 - y) * np.log(1 - p)),
        "binary_cross_entropy_with_logits": -(y * np.log(p) + (1 - y) * np.log(1 - p)),
    }


ELEMENTWISE = {"mse_loss": nn.MSELoss, "l1_loss": nn.L1Loss, "binary_cross_entropy": nn.BCELoss,
               "binary_cross_entropy_with_logits": nn.BCEWithLogitsLoss}


def loss_input(name, x):
    """BCE takes probabilities, the others the raw numbers."""
    return sigmoid(x) if name == "binary_cross_entropy" else x


@pytest.fixture
def data(rng):
    x = rng.normal(size=(6, 3))
    y = rng.integers(0, 2, size=(6, 3)).astype(float)
    return x, y


@pytest.mark.parametrize("name", ELEMENTWISE)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_elementwise_losses_match_numpy(name, reduction, data):
    x, y = data
    expected = numpy_losses(x, y)[name]
    expected = {"mean": expected.mean(), "sum": expected.sum(), "none": expected}[reduction]
    function = getattr(nn, name)
    got = function(Value(loss_input(name, x)), y, reduction=reduction)
    np.testing.assert_allclose(got.data, expected, rtol=1e-12, atol=1e-12)
    module = ELEMENTWISE[name](reduction=reduction)
    np.testing.assert_allclose(module(Value(loss_input(name, x)), y).data, expected, rtol=1e-12)


def numpy_cross_entropy(logits, labels):
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return -log_probs[np.arange(len(labels)), labels]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_matches_numpy(reduction, rng):
    logits, labels = rng.normal(size=(7, 4)), rng.integers(0, 4, size=7)
    expected = numpy_cross_entropy(logits, labels)
    expected = {"mean": expected.mean(), "sum": expected.sum(), "none": expected}[reduction]
    got = nn.cross_entropy(Value(logits), labels, reduction=reduction)
    np.testing.assert_allclose(got.data, expected, rtol=1e-12)
    module = nn.CrossEntropyLoss(reduction=reduction)
    np.testing.assert_allclose(module(Value(logits), labels).data, expected, rtol=1e-12)


def test_cross_entropy_gradient_is_softmax_minus_one_hot(rng):
    logits, labels = rng.normal(size=(5, 3)), rng.integers(0, 3, size=5)
    x = Value(logits)
    nn.cross_entropy(x, labels).backward()
    softmax = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(x.grad, (softmax - np.eye(3)[labels]) / 5, atol=1e-12)


@given(st.integers(0, 2 ** 32 - 1), st.sampled_from(["mean", "sum", "none"]))
def test_losses_pass_gradcheck(seed, reduction):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(4, 3)) * 3
    y = rng.uniform(size=(4, 3))  # soft targets in [0, 1]
    labels = rng.integers(0, 3, size=4)
    for name in ELEMENTWISE:
        if name == "l1_loss":
            x = x + np.sign(x - y) * 0.01  # keep away from the kink at x = y
        fn = getattr(nn, name)
        inputs = [Value(loss_input(name, x)), Value(y, requires_grad=True)]
        assert gradcheck(lambda a, b: fn(a, b, reduction=reduction), inputs)
    assert gradcheck(lambda a: nn.cross_entropy(a, labels, reduction=reduction), [Value(x)])


def test_losses_have_second_derivatives(rng):
    """Built from engine ops, the losses work under create_graph (Hessians, gradient penalties)."""
    x, y, labels = rng.normal(size=(3, 4)), rng.uniform(size=(3, 4)), rng.integers(0, 4, 3)
    for loss in [lambda a: nn.mse_loss(a, y), lambda a: nn.binary_cross_entropy(a.sigmoid(), y),
                 lambda a: nn.binary_cross_entropy_with_logits(a, y),
                 lambda a: nn.cross_entropy(a, labels)]:
        assert gradgradcheck(loss, [Value(x)])


def test_bce_with_logits_gradient_at_zero_is_sigmoid_minus_target():
    """A zero-initialized output layer gives logits exactly 0: the gradient must be 0.5 - y."""
    x = Value(np.zeros(4))
    y = np.array([0.0, 1.0, 0.0, 1.0])
    nn.binary_cross_entropy_with_logits(x, y, reduction="sum").backward()
    np.testing.assert_allclose(x.grad, 0.5 - y)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_saturated_inputs_give_finite_losses_and_gradients(dtype):
    logits = np.array([[-1000.0, 1000.0, -1000.0, 1000.0, -95.0, 95.0]], dtype=dtype)
    y = np.array([[1.0, 0.0, 0.0, 1.0, 1.0, 0.0]], dtype=dtype)
    for loss_fn, make_input in [(nn.binary_cross_entropy, lambda v: v.sigmoid()),
                                (nn.binary_cross_entropy_with_logits, lambda v: v)]:
        x = Value(logits)
        loss = loss_fn(make_input(x), y, reduction="none")
        loss.sum().backward()
        assert np.isfinite(loss.data).all() and np.isfinite(x.grad).all()
        assert loss.dtype == dtype and x.grad.dtype == dtype
    x = Value(logits.reshape(3, 2))
    loss = nn.cross_entropy(x, np.array([0, 1, 1]))
    loss.backward()
    assert np.isfinite(loss.data) and np.isfinite(x.grad).all()


def test_binary_cross_entropy_clamps_log_at_minus_100():
    p = Value(np.array([0.0, 1.0, 0.0, 1.0, 1e-50]))
    y = np.array([1.0, 0.0, 0.0, 1.0, 1.0])
    np.testing.assert_allclose(nn.binary_cross_entropy(p, y, reduction="none").data,
                               [100.0, 100.0, 0.0, 0.0, 100.0])
    np.testing.assert_allclose(nn.binary_cross_entropy_with_logits(
        Value(np.array([-1000.0, 1000.0])), np.array([1.0, 0.0]), reduction="none").data,
        [1000.0, 1000.0])


def test_numpy_target_takes_the_input_dtype(rng):
    x = Value(rng.normal(size=(4, 2)).astype(np.float32))
    for loss_fn in (nn.mse_loss, nn.l1_loss, nn.binary_cross_entropy_with_logits):
        loss = loss_fn(x, rng.integers(0, 2, size=(4, 2)))
        assert loss.dtype == np.float32
    assert nn.cross_entropy(x, np.array([0, 1, 1, 0])).dtype == np.float32


def test_loss_modules_have_a_readable_repr_and_record_their_call(rng):
    logits = Value(rng.normal(size=(2, 3)))
    loss = nn.CrossEntropyLoss()(logits, np.array([0, 2]))
    assert repr(nn.CrossEntropyLoss(reduction="sum")) == "CrossEntropyLoss(reduction='sum')"
    assert loss.scope.name == "CrossEntropyLoss(reduction='mean')"
    assert loss.scope.inputs == [logits] and loss.scope.parent is None


# --- clear errors --------------------------------------------------------------------
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_shape_mismatch_names_the_loss_and_both_shapes(name):
    with pytest.raises(ValueError, match=rf"{name}: input shape \(5, 1\) and target shape "
                                         rf"\(5,\) must be the same.*reshape"):
        getattr(nn, name)(Value(np.full((5, 1), 0.5)), np.zeros(5))


def test_unknown_reduction():
    x = Value(np.zeros((2, 2)))
    for call in [lambda: nn.mse_loss(x, np.zeros((2, 2)), reduction="avg"),
                 lambda: nn.cross_entropy(x, np.zeros(2, dtype=int), reduction="avg"),
                 lambda: nn.BCELoss(reduction="avg")]:
        with pytest.raises(ValueError, match="unknown reduction 'avg'"):
            call()


def test_cross_entropy_errors():
    logits = Value(np.zeros((3, 4)))
    with pytest.raises(TypeError, match="labels must be integer class indices, got dtype float64"):
        nn.cross_entropy(logits, np.array([0.0, 1.0, 2.0]))
    with pytest.raises(IndexError, match=r"label 4 is out of range for 4 classes"):
        nn.cross_entropy(logits, np.array([0, 4, 1]))
    with pytest.raises(IndexError, match=r"label -1 is out of range"):
        nn.cross_entropy(logits, np.array([0, -1, 1]))
    with pytest.raises(ValueError, match=r"logits of shape \(4,\) are one unbatched sample and "
                                         r"need a 0-d label, got labels of shape \(1,\)"):
        nn.cross_entropy(Value(np.zeros(4)), np.array([1]))
    with pytest.raises(ValueError, match=r"need labels of shape \(3,\), got \(3, 1\)"):
        nn.cross_entropy(logits, np.array([[0], [1], [2]]))


def test_bce_rejects_values_outside_0_1():
    with pytest.raises(ValueError, match="must be probabilities in .0, 1.*with_logits"):
        nn.binary_cross_entropy(Value(np.array([-0.5, 2.0])), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="must be probabilities"):
        nn.BCELoss()(Value(np.array([np.nan, 0.5])), np.array([0.0, 1.0]))


@pytest.mark.parametrize("target, found", [
    ([1.5, 0.0], r"values in \[0, 1.5\]"),
    ([-1.0, 1.0], r"values in \[-1, 1\]"),
    ([np.nan, 1.0], r"values in \[1, 1\] and 1 NaN"),
    ([np.inf, 0.0], r"values in \[0, inf\]"),
])
@pytest.mark.parametrize("call", [nn.binary_cross_entropy, lambda p, y: nn.BCELoss()(p, y),
                                  lambda p, y: nn.binary_cross_entropy(p, Value(y))],
                         ids=["function", "BCELoss", "Value-target"])
def test_bce_rejects_targets_outside_0_1_as_torch_does(target, found, call):
    probabilities = Value(np.array([0.3, 0.6]))
    with pytest.raises(ValueError, match=r"binary_cross_entropy: target must be in \[0, 1\].*"
                                         + found):
        call(probabilities, np.array(target))
    try:
        import torch
    except ImportError:  # absent or broken: the known answer (an error) is tested above
        return
    with pytest.raises(RuntimeError, match="target should be between 0 and 1"):
        torch.nn.functional.binary_cross_entropy(torch.tensor([0.3, 0.6], dtype=torch.float64),
                                                 torch.tensor(target, dtype=torch.float64))


def test_other_losses_take_any_target_as_torch_does():
    # BCE with logits, MSE and L1 are defined for any real target: no range check in PyTorch,
    # and a NaN target gives a NaN loss there and here
    x = np.array([0.3, 0.6])
    for target, expected in [([1.5, 0.0], None), ([np.nan, 0.0], np.nan)]:
        for name in ["binary_cross_entropy_with_logits", "mse_loss", "l1_loss"]:
            got = getattr(nn, name)(Value(x), np.array(target)).item()
            if expected is None:
                assert np.isfinite(got)
            else:
                assert np.isnan(got)
    np.testing.assert_allclose(  # softplus(x) - x y, with y = 1.5
        nn.binary_cross_entropy_with_logits(Value(x), np.array([1.5, 0.0])).item(),
        np.mean(np.log1p(np.exp(x)) - x * np.array([1.5, 0.0])))


def test_cross_entropy_label_minus_100_is_ignored_as_in_pytorch():
    logits = Value(np.array([[0.0, 1.0, 2.0], [3.0, 0.0, 1.0]]))
    np.testing.assert_allclose(nn.cross_entropy(logits, np.array([-100, 1])).item(),
                               nn.cross_entropy(logits[1:], np.array([1])).item())
    with pytest.raises(IndexError, match=r"label -100 is out of range for 3 classes.*a label "
                                         r"equal to ignore_index=-1 leaves its sample out"):
        nn.cross_entropy(logits, np.array([-100, 1]), ignore_index=-1)


# --- torch parity ----------------------------------------------------------------------
@pytest.mark.parametrize("name", list(ELEMENTWISE) + ["cross_entropy"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_losses_match_torch(name, reduction, rng):
    torch = pytest.importorskip("torch", exc_type=ImportError)  # absent or broken: skip
    import torch.nn.functional as F
    if name == "cross_entropy":
        x, y = rng.normal(size=(6, 4)) * 3, rng.integers(0, 4, size=6)
        torch_y = torch.tensor(y)
    else:
        x, y = loss_input(name, rng.normal(size=(6, 3)) * 3), rng.uniform(size=(6, 3))
        torch_y = torch.tensor(y)
    ours = Value(x)
    loss = getattr(nn, name)(ours, y, reduction=reduction)
    theirs = torch.tensor(x, requires_grad=True)
    torch_loss = getattr(F, name)(theirs, torch_y, reduction=reduction)
    seed = rng.normal(size=loss.shape)
    loss.backward(seed)
    torch_loss.backward(torch.tensor(seed))
    np.testing.assert_allclose(loss.data, torch_loss.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=1e-10, atol=1e-14)

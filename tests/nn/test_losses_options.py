"""The losses' options: class weights, ignore_index, label smoothing, probability targets,
(N, C, d1, ...) and unbatched layouts, nll_loss, huber/smooth L1, kl_div, BCE weights.

Known answers in numpy first (no PyTorch needed), then every option combination
hypothesis draws against PyTorch: the loss and the input's gradient to 1e-10 in
float64 and 1e-5 in float32.
"""
import re

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import nn
from autograd_lite import Value, gradcheck


def log_softmax(x, axis):
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def test_weighted_ignored_smoothed_cross_entropy_by_hand():
    logits = np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0], [2.0, 2.0, 2.0]])
    labels, weight, eps = np.array([1, -100, 0]), np.array([0.2, 1.0, 3.0]), 0.3
    log_p = log_softmax(logits, axis=1)
    counted = [0, 2]
    nll = [-weight[labels[i]] * log_p[i, labels[i]] for i in counted]
    uniform = [-(weight * log_p[i]).sum() for i in counted]
    total_weight = sum(weight[labels[i]] for i in counted)
    expected = ((1 - eps) * sum(nll) + eps / 3 * sum(uniform)) / total_weight
    got = nn.cross_entropy(Value(logits), labels, weight=weight, label_smoothing=eps)
    np.testing.assert_allclose(got.item(), expected, rtol=1e-14)
    per_sample = nn.cross_entropy(Value(logits), labels, weight=weight, reduction="none")
    np.testing.assert_allclose(per_sample.data, [nll[0], 0.0, nll[1]], rtol=1e-14)


def test_probability_targets_and_per_position_scores_by_hand(rng):
    logits = rng.normal(size=(2, 4, 3))                        # (N, C, d1)
    soft = rng.uniform(size=(2, 4, 3))
    soft /= soft.sum(axis=1, keepdims=True)
    expected = -(log_softmax(logits, 1) * soft).sum(axis=1)    # (N, d1)
    got = nn.cross_entropy(Value(logits), soft, reduction="none")
    np.testing.assert_allclose(got.data, expected, rtol=1e-13)
    labels = rng.integers(0, 4, size=(2, 3))
    one_hot = np.moveaxis(np.eye(4)[labels], -1, 1)
    np.testing.assert_allclose(nn.cross_entropy(Value(logits), labels).item(),
                               nn.cross_entropy(Value(logits), one_hot).item(), rtol=1e-13)
    single = nn.cross_entropy(Value(logits[0, :, 0]), np.array(labels[0, 0]), reduction="none")
    assert single.shape == () and np.isclose(single.item(), -log_softmax(logits, 1)[0, labels[0, 0], 0])


def test_nll_loss_of_log_softmax_is_cross_entropy(rng):
    logits, labels = rng.normal(size=(5, 3)), np.array([0, 2, 1, 1, -100])
    weight = np.array([1.0, 2.0, 0.5])
    via_nll = nn.nll_loss(nn.log_softmax(Value(logits), dim=1), labels, weight=weight)
    np.testing.assert_allclose(via_nll.item(), nn.cross_entropy(Value(logits), labels,
                                                                weight=weight).item(), rtol=1e-14)


def test_regression_losses_by_hand():
    x, y = np.array([0.0, 0.3, -2.0, 4.0]), np.array([0.0, 0.0, 0.0, 1.0])
    d = x - y
    huber = np.where(np.abs(d) < 0.5, 0.5 * d ** 2, 0.5 * (np.abs(d) - 0.25))
    np.testing.assert_allclose(nn.huber_loss(Value(x), y, reduction="none", delta=0.5).data, huber)
    smooth = np.where(np.abs(d) < 0.5, 0.5 * d ** 2 / 0.5, np.abs(d) - 0.25)
    np.testing.assert_allclose(nn.smooth_l1_loss(Value(x), y, reduction="none", beta=0.5).data,
                               smooth)
    np.testing.assert_allclose(nn.smooth_l1_loss(Value(x), y, beta=0.0).item(), np.abs(d).mean())
    log_q, p = np.log([[0.2, 0.8], [0.5, 0.5]]), np.array([[0.0, 1.0], [0.25, 0.75]])
    kl = np.array([[0.0, np.log(1 / 0.8)], [0.25 * np.log(0.5), 0.75 * np.log(1.5)]])
    np.testing.assert_allclose(nn.kl_div(Value(log_q), p, reduction="none").data, kl)
    np.testing.assert_allclose(nn.kl_div(Value(log_q), p, reduction="batchmean").item(),
                               kl.sum() / 2)
    np.testing.assert_allclose(nn.kl_div(Value(log_q), np.log(p + 1e-300), reduction="sum",
                                         log_target=True).item(), kl.sum(), rtol=1e-12)
    with pytest.warns(UserWarning, match="'batchmean' divides only by the batch size"):
        nn.kl_div(Value(log_q), p)


def test_bce_weights_by_hand():
    x, y = np.array([[-1.0, 0.0, 2.0]]), np.array([[1.0, 0.0, 1.0]])
    weight, pos_weight = np.array([1.0, 2.0, 0.5]), np.array([3.0, 1.0, 2.0])
    softplus = lambda v: np.log1p(np.exp(v))  # noqa: E731
    expected = weight * (pos_weight * y * softplus(-x) + (1 - y) * softplus(x))
    got = nn.binary_cross_entropy_with_logits(Value(x), y, weight=weight, pos_weight=pos_weight,
                                              reduction="none")
    np.testing.assert_allclose(got.data, expected, rtol=1e-14)
    p = 1 / (1 + np.exp(-x))
    expected = -weight * (y * np.log(p) + (1 - y) * np.log(1 - p))
    np.testing.assert_allclose(nn.binary_cross_entropy(Value(p), y, weight=weight).item(),
                               expected.mean(), rtol=1e-14)


def test_gradients_match_finite_differences(rng):
    logits, soft = rng.normal(size=(3, 4, 2)), rng.dirichlet(np.ones(4), size=(3, 2))
    labels = np.array([[0, 3], [-100, 1], [2, 2]])
    weight = Value(rng.uniform(0.5, 2.0, size=4))
    assert gradcheck(lambda x, w: nn.cross_entropy(x, labels, weight=w, label_smoothing=0.1),
                     [Value(logits), weight])
    assert gradcheck(lambda x: nn.cross_entropy(x, soft.swapaxes(1, 2)), [Value(logits)])
    x, t = rng.normal(size=(4, 3)), rng.uniform(size=(4, 3))
    assert gradcheck(lambda a, b: nn.kl_div(a, b, reduction="batchmean"), [Value(x), Value(t)])
    assert gradcheck(lambda a: nn.binary_cross_entropy_with_logits(a, t, pos_weight=np.ones(3) * 2),
                     [Value(x)])


def test_module_classes_carry_their_options(rng):
    weight = np.array([1.0, 2.0, 3.0])
    loss = nn.CrossEntropyLoss(weight, ignore_index=1, label_smoothing=0.1)
    assert list(loss.state_dict()) == ["weight"]  # a buffer, as in PyTorch
    logits, labels = Value(rng.normal(size=(4, 3))), np.array([0, 1, 2, 2])
    np.testing.assert_allclose(
        loss(logits, labels).item(),
        nn.cross_entropy(logits, labels, weight=weight, ignore_index=1, label_smoothing=0.1).item())
    assert repr(nn.HuberLoss(delta=2.0)) == "HuberLoss(reduction='mean', delta=2.0)"
    assert list(nn.BCEWithLogitsLoss(pos_weight=np.ones(3)).state_dict()) == ["pos_weight"]
    assert nn.BCELoss("sum").reduction == "sum"
    assert nn.KLDivLoss(reduction="batchmean", log_target=True)(
        Value(np.log([[0.5, 0.5]])), np.log([[0.5, 0.5]])).item() == 0.0
    float32 = nn.NLLLoss(weight).float()
    assert float32.weight.dtype == np.float32
    out = float32(Value(rng.normal(size=(4, 3)).astype(np.float32)), labels)
    assert out.dtype == np.float32


@pytest.mark.parametrize("call, error, message", [
    (lambda x: nn.cross_entropy(x, np.array([0, 5])), IndexError,
     "cross_entropy: label 5 is out of range for 3 classes"),
    (lambda x: nn.nll_loss(x, np.array([0, -100]), ignore_index=-1), IndexError,
     "nll_loss: label -100 is out of range for 3 classes (labels must be in [0, 3)); a label "
     "equal to ignore_index=-1 leaves its sample out"),
    (lambda x: nn.cross_entropy(x, np.array([0, 1]), weight=np.ones(2)), ValueError,
     "cross_entropy: weight should be defined either for all 3 classes or no classes, got "
     "weight of shape (2,)"),
    (lambda x: nn.cross_entropy(x, np.array([0, 1]), label_smoothing=1.5), ValueError,
     "cross_entropy: label_smoothing must be between 0.0 and 1.0, got 1.5"),
    (lambda x: nn.cross_entropy(x, np.full((2, 3), 1 / 3), ignore_index=0), ValueError,
     "cross_entropy: ignore_index is not supported for class-probability"),
    (lambda x: nn.huber_loss(x, np.zeros((2, 3)), delta=0), ValueError,
     "huber_loss does not support non-positive values for delta"),
    (lambda x: nn.smooth_l1_loss(x, np.zeros((2, 3)), beta=-1), ValueError,
     "smooth_l1_loss does not support negative values for beta"),
    (lambda x: nn.binary_cross_entropy_with_logits(x, np.zeros((2, 3)), pos_weight=np.ones(2)),
     ValueError, "binary_cross_entropy_with_logits: pos_weight of shape (2,) does not broadcast "
                 "to the input's shape (2, 3)"),
    (lambda x: nn.kl_div(x, np.zeros((2, 3)), reduction="avg"), ValueError,
     "kl_div: unknown reduction 'avg'"),
])
def test_what_pytorch_rejects_is_a_clear_error(call, error, message):
    with pytest.raises(error, match=re.escape(message)):
        call(Value(np.zeros((2, 3))))


# --- against PyTorch ---------------------------------------------------------------------
def compare(ours, theirs, x, float32, torch, seed):
    """ours(Value) and theirs(tensor) of the same input: the loss and the input's gradient."""
    dtype = np.float32 if float32 else np.float64
    x = x.astype(dtype)
    x_ours, x_theirs = Value(x), torch.tensor(x, requires_grad=True)
    loss, torch_loss = ours(x_ours), theirs(x_theirs)
    grad = np.random.default_rng(seed).normal(size=loss.shape).astype(dtype)
    loss.backward(grad)
    torch_loss.backward(torch.tensor(grad))
    tol = dict(rtol=1e-5, atol=1e-6) if float32 else dict(rtol=1e-10, atol=1e-12)
    assert loss.dtype == dtype
    np.testing.assert_allclose(loss.data, torch_loss.detach().numpy(), **tol)
    np.testing.assert_allclose(x_ours.grad, x_theirs.grad.numpy(), **tol)


@settings(max_examples=30)
@given(layout=st.sampled_from([(5,), (3, 5), (2, 5, 3), (2, 5, 2, 2)]),
       reduction=st.sampled_from(["mean", "sum", "none"]), weighted=st.booleans(),
       ignore_index=st.sampled_from([-100, 0, 2]), label_smoothing=st.sampled_from([0.0, 0.25]),
       probabilities=st.booleans(), float32=st.booleans(), seed=st.integers(0, 2 ** 16))
def test_cross_entropy_against_pytorch(layout, reduction, weighted, ignore_index, label_smoothing,
                                       probabilities, float32, seed):
    torch = pytest.importorskip("torch", exc_type=ImportError)
    rng = np.random.default_rng(seed)
    x = rng.normal(size=layout) * 2
    classes = layout[0] if len(layout) == 1 else layout[1]
    weight = rng.uniform(0.5, 2.0, size=classes).astype(np.float32 if float32 else np.float64) \
        if weighted else None
    options = dict(reduction=reduction, label_smoothing=label_smoothing)
    if probabilities:
        target = rng.dirichlet(np.ones(classes), size=layout[:1] + layout[2:] if len(layout) > 1
                               else ()).astype(x.dtype)
        target = np.moveaxis(target, -1, 1) if len(layout) > 1 else target
        target = target.astype(np.float32 if float32 else np.float64)
        torch_target = torch.tensor(target)
    else:
        target = rng.integers(0, classes, size=layout[:1] + layout[2:] if len(layout) > 1 else ())
        if target.ndim and target.size > 1:
            target.flat[0] = ignore_index  # one sample left out
        options["ignore_index"] = ignore_index
        torch_target = torch.tensor(target)
    torch_weight = None if weight is None else torch.tensor(weight)
    compare(lambda v: nn.cross_entropy(v, target, weight=weight, **options),
            lambda t: torch.nn.functional.cross_entropy(t, torch_target, weight=torch_weight,
                                                        **options),
            x, float32, torch, seed)


@settings(max_examples=30)
@given(name=st.sampled_from(["nll_loss", "huber_loss", "smooth_l1_loss", "kl_div",
                             "binary_cross_entropy", "binary_cross_entropy_with_logits"]),
       reduction=st.sampled_from(["mean", "sum", "none"]), option=st.booleans(),
       float32=st.booleans(), seed=st.integers(0, 2 ** 16))
def test_other_losses_against_pytorch(name, reduction, option, float32, seed):
    torch = pytest.importorskip("torch", exc_type=ImportError)
    F = torch.nn.functional
    rng = np.random.default_rng(seed)
    dtype = np.float32 if float32 else np.float64
    x, t = rng.normal(size=(4, 3)) * 2, rng.uniform(size=(4, 3)).astype(dtype)
    kwargs = dict(reduction=reduction)
    if name == "nll_loss":
        t = np.array([0, 2, 1, 2])
        if option:
            kwargs["weight"] = rng.uniform(0.5, 2, size=3).astype(dtype)
    elif name in ("huber_loss", "smooth_l1_loss"):
        kwargs["delta" if name == "huber_loss" else "beta"] = 0.7 if option else 1.0
    elif name == "kl_div":
        x = np.log(rng.dirichlet(np.ones(3), size=4))
        kwargs["reduction"] = "batchmean" if reduction == "mean" else reduction
        if option:
            kwargs["log_target"], t = True, np.log(t).astype(dtype)
    elif name == "binary_cross_entropy":
        x = rng.uniform(0.05, 0.95, size=(4, 3))
        if option:
            kwargs["weight"] = rng.uniform(size=3).astype(dtype)
    elif option:
        kwargs["weight"] = rng.uniform(size=(4, 1)).astype(dtype)
        kwargs["pos_weight"] = rng.uniform(0.5, 3, size=3).astype(dtype)
    torch_kwargs = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v
                    for k, v in kwargs.items()}
    compare(lambda v: getattr(nn, name)(v, t, **kwargs),
            lambda v: getattr(F, name)(v, torch.tensor(t), **torch_kwargs), x, float32, torch, seed)

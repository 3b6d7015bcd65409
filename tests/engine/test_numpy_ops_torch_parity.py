"""numpy_ops against PyTorch: the same values, gradients and second derivatives.

Each op of test_numpy_ops.CASES that PyTorch has (torch.tan, torch.cumsum,
torch.einsum, torch.tensor_split, …) runs on both from the same hypothesis-drawn
inputs in float64; both backpropagate the same random output gradients, and,
for the smooth ops, differentiate the gradient again along a random direction.
Without PyTorch every test here skips; test_numpy_ops.py still checks every op
against numpy and finite differences.
"""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import test_numpy_ops as cases
from autograd_lite import Value, grad, numpy_ops as N

torch = pytest.importorskip("torch", exc_type=ImportError)  # absent or broken: skip

WITH_TORCH = sorted(name for name, case in cases.CASES.items() if case.torch is not None)


def _run_both(name, data):
    """Our outputs and PyTorch's (None if PyTorch has no such call for these inputs)."""
    case = cases.CASES[name]
    arrays, options = case.draw(data)
    ours = [Value(a) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    expected = case.torch(torch, *theirs, **options)
    if expected is None:
        return None
    return ours, theirs, cases.as_list(case.ours(*ours, **options)), cases.as_list(expected)


def _gradients(outputs, inputs, seeds, create_graph=False):
    """Ours: d(sum of outputs * seeds)/d(inputs)."""
    total = sum((o * s).sum() for o, s in zip(outputs, seeds))
    return grad(total, inputs, create_graph=create_graph, allow_unused=True)


def _torch_gradients(outputs, inputs, seeds, create_graph=False):
    total = sum((o * torch.tensor(s)).sum() for o, s in zip(outputs, seeds))
    return torch.autograd.grad(total, inputs, create_graph=create_graph, allow_unused=True)


def _assert_close(ours, theirs, what, shapes, rtol=1e-8, atol=1e-10):
    """Ours and PyTorch's gradients (None: zeros of the input's shape) agree."""
    for k, (a, b, shape) in enumerate(zip(ours, theirs, shapes)):
        a = np.zeros(shape) if a is None else a.data
        b = np.zeros(shape) if b is None else b.detach().numpy()
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=f"{what}, input {k}")


@pytest.mark.parametrize("name", WITH_TORCH)
@cases.few(4)
@given(data=st.data())
def test_values_and_gradients_match_pytorch(name, data):
    both = _run_both(name, data)
    if both is None:
        return
    ours, theirs, out, expected = both
    assert len(out) == len(expected)
    for o, e in zip(out, expected):
        np.testing.assert_allclose(o.data, e.detach().numpy(), rtol=1e-12, atol=1e-12,
                                   err_msg=f"{name} forward")
    rng = cases.rng_of(data)
    seeds = [rng.normal(size=o.shape) for o in out]
    if not any(e.requires_grad for e in expected):
        return
    _assert_close(_gradients(out, ours, seeds), _torch_gradients(expected, theirs, seeds),
                  f"{name} gradient", [x.shape for x in ours])


@pytest.mark.parametrize("name", [n for n in WITH_TORCH if cases.CASES[n].smooth])
@cases.few(8)
@given(data=st.data())
def test_second_derivatives_match_pytorch(name, data):
    both = _run_both(name, data)
    if both is None:
        return
    ours, theirs, out, expected = both
    if not any(e.requires_grad for e in expected):
        return
    rng = cases.rng_of(data)
    seeds = [rng.normal(size=o.shape) for o in out]
    first = _gradients(out, ours, seeds, create_graph=True)
    their_first = _torch_gradients(expected, theirs, seeds, create_graph=True)
    directions = [rng.normal(size=x.shape) for x in ours]
    # d/dx of (gradient . direction); a gradient that does not depend on the inputs (where
    # one library records a constant) contributes zeros
    used = [(g, d) for g, d in zip(first, directions) if g is not None and g.requires_grad]
    second = grad(sum((g * d).sum() for g, d in used), ours, allow_unused=True) if used \
        else [None] * len(ours)
    their_used = [(g, torch.tensor(d)) for g, d in zip(their_first, directions)
                  if g is not None and g.requires_grad]
    their_second = torch.autograd.grad(sum((g * d).sum() for g, d in their_used), theirs,
                                       allow_unused=True) if their_used else [None] * len(ours)
    _assert_close(second, their_second, f"{name} second derivative", [x.shape for x in ours])


def test_std_at_zero_spread_has_pytorchs_zero_gradient():
    x = np.array([[2.0, 2.0, 2.0], [1.0, 4.0, 2.0]])
    ours, theirs = Value(x), torch.tensor(x, requires_grad=True)
    N.std(ours, axis=1, ddof=1).sum().backward()
    theirs.std(dim=1).sum().backward()
    np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=1e-12)
    assert not np.isnan(ours.grad).any()


@pytest.mark.parametrize("x", [[2.0, 0.0, 3.0, 4.0], [0.0, 2.0, 0.0, 3.0], [0.0, 0.0, 0.0, 1.0]])
def test_prod_and_cumprod_at_zeros_match_pytorch_to_second_order(x):
    rng = np.random.default_rng(0)
    u, v = rng.normal(size=4), rng.normal(size=4)
    for ours_fn, torch_fn in [(N.prod, torch.prod), (N.cumprod, lambda t: torch.cumprod(t, 0))]:
        ours, theirs = Value(np.array(x)), torch.tensor(x, requires_grad=True, dtype=torch.float64)
        out, expected = ours_fn(ours), torch_fn(theirs)
        seed = u[:out.size].reshape(out.shape)
        (g,) = grad((out * seed).sum(), ours, create_graph=True)
        (tg,) = torch.autograd.grad((expected * torch.tensor(seed)).sum(), theirs, create_graph=True)
        np.testing.assert_allclose(g.data, tg.detach().numpy(), rtol=1e-12, atol=1e-12)
        (h,) = grad((g * v).sum(), ours)
        (th,) = torch.autograd.grad((tg * torch.tensor(v)).sum(), theirs)
        np.testing.assert_allclose(h.data, th.numpy(), rtol=1e-12, atol=1e-12)


def test_value_methods_match_pytorch_tensor_methods():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 1, 3))
    M = N.VALUE_METHODS
    calls = [
        (lambda v: M["squeeze"](v, 1), lambda t: t.squeeze(1)),
        (lambda v: M["squeeze"](v, 0), lambda t: t.squeeze(0)),
        (lambda v: M["unsqueeze"](v, -2), lambda t: t.unsqueeze(-2)),
        (lambda v: M["permute"](v, 2, 0, 1), lambda t: t.permute(2, 0, 1)),
        (lambda v: M["expand"](v, 4, 2, 5, -1), lambda t: t.expand(4, 2, 5, -1)),
        (lambda v: M["view"](v, 3, 2), lambda t: t.view(3, 2)),
        (lambda v: M["std"](v, dim=2, correction=1), lambda t: t.std(dim=2)),
        (lambda v: M["prod"](v, dim=2, keepdim=True), lambda t: t.prod(dim=2, keepdim=True)),
        (lambda v: M["norm"](v), lambda t: t.norm()),
        (lambda v: M["norm"](v, 3, dim=[0, 2]), lambda t: t.norm(3, dim=[0, 2])),
        (lambda v: M["clamp"](v, -0.5, 0.5), lambda t: t.clamp(-0.5, 0.5)),
        (lambda v: v.sum(axis=[0, 2], keepdims=True), lambda t: t.sum(dim=[0, 2], keepdim=True)),
    ]
    for ours_fn, torch_fn in calls:
        ours, theirs = Value(x), torch.tensor(x, requires_grad=True)
        out, expected = ours_fn(ours), torch_fn(theirs)
        np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-12)
        seed = rng.normal(size=out.shape)
        out.backward(seed)
        expected.backward(torch.tensor(seed))
        np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=1e-10, atol=1e-12)

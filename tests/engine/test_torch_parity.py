"""Random expressions computed by the engine and by PyTorch: same values, same gradients.

A hypothesis strategy draws two broadcastable input shapes and a short program
of unary ops, binary ops against either input, keepdims reductions, softmax
and a final matrix product; both libraries run it in float64 and
backpropagate the same random output gradient.
"""
import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

import autograd_lite as ag
from autograd_lite import Value

torch = pytest.importorskip("torch", exc_type=ImportError)  # absent or broken: skip

UNARY = {
    "tanh": (lambda x: x.tanh(), lambda x: x.tanh()),
    "sigmoid": (lambda x: x.sigmoid(), lambda x: x.sigmoid()),
    "sin": (lambda x: x.sin(), lambda x: x.sin()),
    "cos": (lambda x: x.cos(), lambda x: x.cos()),
    "relu": (lambda x: x.relu(), lambda x: x.relu()),
    "abs": (lambda x: x.abs(), lambda x: x.abs()),
    "leaky_relu": (lambda x: x.leaky_relu(0.1),
                   lambda x: torch.nn.functional.leaky_relu(x, 0.1)),
    "exp_tanh": (lambda x: x.tanh().exp(), lambda x: x.tanh().exp()),
    "log1p_square": (lambda x: (x * x + 1).log(), lambda x: (x * x + 1).log()),
    "sqrt": (lambda x: (x * x + 0.5).sqrt(), lambda x: (x * x + 0.5).sqrt()),
    "square": (lambda x: x ** 2, lambda x: x ** 2),
    "reciprocal": (lambda x: 1 / (x * x + 1), lambda x: 1 / (x * x + 1)),
    "neg": (lambda x: -x, lambda x: -x),
    "clip": (lambda x: x.clip(-0.5, 0.7), lambda x: x.clamp(-0.5, 0.7)),
}
BINARY = {
    "add": (lambda x, y: x + y, lambda x, y: x + y),
    "sub": (lambda x, y: y - x, lambda x, y: y - x),
    "mul": (lambda x, y: x * y, lambda x, y: x * y),
    "div": (lambda x, y: x / (y * y + 1), lambda x, y: x / (y * y + 1)),
    "pow": (lambda x, y: (x * x + 1) ** y, lambda x, y: (x * x + 1) ** y),
    "maximum": (ag.maximum, torch.maximum),
    "minimum": (ag.minimum, torch.minimum),
    "where": (lambda x, y: ag.where(x > y, x, y * 2), lambda x, y: torch.where(x > y, x, y * 2)),
}
REDUCE = {
    "sum": (lambda x, d: x.sum(axis=d, keepdims=True), lambda x, d: x.sum(dim=d, keepdim=True)),
    "mean": (lambda x, d: x.mean(axis=d, keepdims=True), lambda x, d: x.mean(dim=d, keepdim=True)),
    "max": (lambda x, d: x.max(axis=d, keepdims=True), lambda x, d: x.amax(dim=d, keepdim=True)),
    "min": (lambda x, d: x.min(axis=d, keepdims=True), lambda x, d: x.amin(dim=d, keepdim=True)),
    "var": (lambda x, d: x.var(axis=d, keepdims=True, ddof=1),
            lambda x, d: x.var(dim=d, keepdim=True)),
    "logsumexp": (lambda x, d: x.logsumexp(axis=d, keepdims=True),
                  lambda x, d: x.logsumexp(dim=d, keepdim=True)),
    "softmax": (lambda x, d: ag.softmax(x, axis=d), lambda x, d: x.softmax(dim=d)),
    "log_softmax": (lambda x, d: ag.log_softmax(x, axis=d), lambda x, d: x.log_softmax(dim=d)),
}

steps = st.one_of(
    st.tuples(st.just("unary"), st.sampled_from(sorted(UNARY)), st.just(0)),
    st.tuples(st.just("binary"), st.sampled_from(sorted(BINARY)), st.integers(0, 1)),
    st.tuples(st.just("reduce"), st.sampled_from(sorted(REDUCE)), st.integers(0, 10)))


def run(program, a, b, engine, matrix):
    """Apply `program` to input `a` (binary steps use input a or b); engine 0 = ours, 1 = torch."""
    inputs, current = (a, b), a
    for kind, name, arg in program:
        if kind == "unary":
            current = UNARY[name][engine](current)
        elif kind == "binary":
            current = BINARY[name][engine](current, inputs[arg])
        elif current.ndim and (name != "var" or current.shape[arg % current.ndim] > 1):
            current = REDUCE[name][engine](current, arg % current.ndim)
    if current.ndim:
        current = current @ matrix[:current.shape[-1]]
    return current


@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3),
       program=st.lists(steps, min_size=1, max_size=6), seed=st.integers(0, 2**32 - 1))
def test_random_expressions_match_pytorch(shapes, program, seed):
    rng = np.random.default_rng(seed)
    a, b = (rng.uniform(-2, 2, size=s) for s in shapes.input_shapes)
    matrix = rng.normal(size=(3, 2))
    ours = [Value(a), Value(b)]
    theirs = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in (a, b)]
    out = run(program, *ours, 0, Value(matrix, requires_grad=False))
    expected = run(program, *theirs, 1, torch.tensor(matrix))
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-9, atol=1e-12)
    seed_grad = rng.normal(size=out.shape)
    expected.backward(torch.tensor(seed_grad))
    if out.requires_grad:
        out.backward(seed_grad)
    for value, tensor in zip(ours, theirs):
        want = tensor.grad.numpy() if tensor.grad is not None else np.zeros(value.shape)
        got = value.grad if value.grad is not None else np.zeros(value.shape)
        np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-10)


@given(seed=st.integers(0, 2**32 - 1), stride=st.sampled_from([1, 2]), padding=st.sampled_from([0, 1]))
def test_conv2d_and_max_pool2d_match_pytorch(seed, stride, padding):
    rng = np.random.default_rng(seed)
    x, w, b = rng.normal(size=(2, 3, 6, 5)), rng.normal(size=(4, 3, 3, 2)), rng.normal(size=4)
    ours = [Value(v) for v in (x, w, b)]
    theirs = [torch.tensor(v, requires_grad=True) for v in (x, w, b)]
    out = ag.max_pool2d(ag.conv2d(*ours, stride=stride, padding=padding).tanh(), 2, 1)
    expected = torch.nn.functional.max_pool2d(
        torch.nn.functional.conv2d(*theirs, stride=stride, padding=padding).tanh(), 2, 1)
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-10, atol=1e-12)
    g = rng.normal(size=out.shape)
    out.backward(g)
    expected.backward(torch.tensor(g))
    for value, tensor in zip(ours, theirs):
        np.testing.assert_allclose(value.grad, tensor.grad.numpy(), rtol=1e-8, atol=1e-10)


def test_float32_matches_pytorch_float32():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5, 4)).astype(np.float32)
    ours, theirs = Value(x), torch.tensor(x, requires_grad=True)
    out = ag.log_softmax((ours * 3).tanh(), axis=1).sum()
    expected = torch.log_softmax((theirs * 3).tanh(), dim=1).sum()
    out.backward()
    expected.backward()
    assert out.dtype == ours.grad.dtype == np.float32
    np.testing.assert_allclose(out.item(), expected.item(), rtol=1e-5)
    np.testing.assert_allclose(ours.grad, theirs.grad.numpy(), rtol=1e-4, atol=1e-6)

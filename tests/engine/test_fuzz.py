"""Graph fuzzer: random expression graphs, every leaf's gradient checked against finite differences.

A hypothesis strategy writes a small *program*: a few leaves of random
(mutually broadcastable) shapes, then steps that each apply one op from the
engine's table to earlier values. Operands are drawn from everything made so
far, so values are reused, diamonds form, and with `deep=True` a long chain
grows from the latest value. The loss adds every value of the program, each
weighted by fixed random constants, so every node's gradient matters.

The program is plain data (op names, operand positions, parameters), so it
can be run again: by `numerical_grad` with nudged leaves, and by PyTorch
(when installed) as an independent reference for values and gradients.

Domains are made safe while the program is written, from the data at hand:
log, sqrt, division and powers read `x * x + 1` unless the value is already
>= 0.1 away from trouble; kinked ops (abs, relu, leaky_relu, clip, max, min,
maximum, minimum) fall back to tanh when an input lies within MARGIN of a
kink or tie, because a finite difference across a kink measures neither side;
an op whose result would exceed 100 in size is replaced by tanh. The CI
profile runs a few dozen programs per test; `HYPOTHESIS_PROFILE=thorough`
runs a thousand.
"""
import operator
from collections import namedtuple

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import autograd_lite as ag
import nn
from autograd_lite import Value, gradgradcheck, numerical_grad

MARGIN = 1e-2   # how far inputs stay from kinks and ties
LIMIT = 100.0   # largest magnitude a program value may reach
MAX_SIZE = 200  # most elements a program value may have

Program = namedtuple("Program", ["leaves", "steps", "weights"])
Step = namedtuple("Step", ["op", "operands", "params"])


# --- two backends that run the same program ---------------------------------------
class Ours:
    """Runs program steps with autograd_lite."""

    def __init__(self, dtype=np.float64):
        self.dtype = dtype

    def leaf(self, array):
        return Value(np.asarray(array, dtype=self.dtype))

    def const(self, array):
        return np.asarray(array, dtype=self.dtype if np.asarray(array).dtype.kind == "f" else None)

    def data(self, x):
        return x.data

    def reduce(self, x, how, axis, keepdims, ddof=0):
        if how == "var":
            return x.var(axis=axis, keepdims=keepdims, ddof=ddof)
        return getattr(x, how)(axis=axis, keepdims=keepdims)

    def leaky_relu(self, x, slope):
        return x.leaky_relu(slope)

    def clip(self, x, lo, hi):
        return x.clip(lo, hi)

    def transpose(self, x, axes):
        return x.transpose(axes) if axes is not None else x.T

    def swapaxes(self, x, a, b):
        return x.swapaxes(a, b)

    def index(self, x, index):
        return x[index]

    def concatenate(self, xs, axis):
        return ag.concatenate(xs, axis=axis)

    def stack(self, xs, axis):
        return ag.stack(xs, axis=axis)

    def where(self, cond, a, b):
        return ag.where(cond, a, b)

    def extremum(self, how, a, b):
        return getattr(ag, how)(a, b)

    def softmax(self, how, x, axis):
        return getattr(ag, how)(x, axis=axis)

    def conv2d(self, x, w, b=None, stride=1, padding=0):
        return ag.conv2d(x, w, b, stride=stride, padding=padding)

    def max_pool2d(self, x, kernel_size, stride):
        return ag.max_pool2d(x, kernel_size, stride=stride)


class Torch(Ours):
    """Runs the same steps with PyTorch tensors (float64 only)."""

    def __init__(self, torch):
        super().__init__(np.float64)
        self.torch = torch

    def leaf(self, array):
        return self.torch.tensor(np.asarray(array, dtype=np.float64), requires_grad=True)

    def const(self, array):
        return self.torch.as_tensor(np.asarray(array))

    def data(self, x):
        return x.detach().numpy()

    def reduce(self, x, how, axis, keepdims, ddof=0):
        dims = tuple(range(x.ndim)) if axis is None else axis
        if how == "var":
            return x.var(dim=dims, correction=ddof, keepdim=keepdims)
        fn = {"max": "amax", "min": "amin"}.get(how, how)
        return getattr(x, fn)(dim=dims, keepdim=keepdims)

    def leaky_relu(self, x, slope):
        return self.torch.nn.functional.leaky_relu(x, slope)

    def clip(self, x, lo, hi):
        return x.clamp(lo, hi)

    def transpose(self, x, axes):
        return x.permute(axes if axes is not None else tuple(reversed(range(x.ndim))))

    def swapaxes(self, x, a, b):
        return x.transpose(a, b)

    def index(self, x, index):
        # numpy picks the positions (torch has no negative slice steps); torch gathers them
        positions = np.arange(x.numel()).reshape(tuple(x.shape))[index]
        return x.reshape(-1)[self.torch.as_tensor(positions.copy())]

    def concatenate(self, xs, axis):
        return self.torch.cat(xs, dim=axis)

    def stack(self, xs, axis):
        return self.torch.stack(xs, dim=axis)

    def where(self, cond, a, b):
        return self.torch.where(self.torch.as_tensor(cond), a, b)

    def extremum(self, how, a, b):
        return getattr(self.torch, how)(a, b)

    def softmax(self, how, x, axis):
        return getattr(self.torch, how)(x, dim=axis)

    def conv2d(self, x, w, b=None, stride=1, padding=0):
        return self.torch.nn.functional.conv2d(x, w, b, stride=stride, padding=padding)

    def max_pool2d(self, x, kernel_size, stride):
        return self.torch.nn.functional.max_pool2d(x, kernel_size, stride=stride or kernel_size)


BINARY = {"add": operator.add, "sub": operator.sub, "mul": operator.mul,
          "div": operator.truediv, "pow": operator.pow, "matmul": operator.matmul}
UNARY = ("exp", "log", "sqrt", "abs", "tanh", "sigmoid", "relu", "sin", "cos")


def apply(backend, step, values):
    """One program step on `backend`; `values` are the program's values so far."""
    xs = [values[i] for i in step.operands]
    op, p = step.op, step.params
    if op in BINARY:
        return BINARY[op](*xs)
    if op in UNARY:
        return getattr(xs[0], op)()
    if op == "neg":
        return -xs[0]
    if op == "square_plus_one":
        return xs[0] * xs[0] + 1.0
    if op == "pow_const":
        return xs[0] ** p["exponent"]
    if op == "rpow":  # a number raised to a value
        return p["base"] ** xs[0]
    if op == "const_left":  # a numpy constant on the left: the reflected operators
        return BINARY[p["how"]](backend.const(p["c"]), xs[0])
    if op == "const_right":
        return BINARY[p["how"]](xs[0], backend.const(p["c"]))
    if op in ("sum", "mean", "max", "min", "logsumexp", "var"):
        return backend.reduce(xs[0], op, **p)
    if op in ("maximum", "minimum"):
        return backend.extremum(op, *xs)
    if op in ("softmax", "log_softmax"):
        return backend.softmax(op, xs[0], p["axis"])
    if op == "reshape":
        return xs[0].reshape(p["shape"])
    if op in ("concatenate", "stack"):
        return getattr(backend, op)(xs, p["axis"])
    if op == "conv2d":
        return backend.conv2d(*xs, **p)
    if op == "where":
        return backend.where(p["cond"], *xs)
    return getattr(backend, op)(xs[0], **p)  # leaky_relu, clip, transpose, swapaxes, index


def run(backend, program, leaves=None):
    """All of the program's values, and the weighted loss that adds them up."""
    values = list(leaves) if leaves is not None else [backend.leaf(x) for x in program.leaves]
    for step in program.steps:
        values.append(apply(backend, step, values))
    loss = 0.0
    for v, w in zip(values, program.weights):
        loss = loss + (v * backend.const(w)).sum()
    return values, loss


# --- writing programs -----------------------------------------------------------------
OPS = ["add", "sub", "mul", "div", "pow", "matmul", "neg", "pow_const", "rpow", "const_left",
       "const_right", "sum", "mean", "max", "min", "logsumexp", "var", "maximum", "minimum",
       "softmax", "log_softmax", "reshape", "transpose", "swapaxes", "index", "concatenate",
       "stack", "where", "leaky_relu", "clip", "conv2d", "max_pool2d"] + list(UNARY)


def _broadcasts(a, b):
    try:
        np.broadcast_shapes(a, b)
        return True
    except ValueError:
        return False


def _matmul_fits(a, b):
    if not a or not b:
        return False
    inner = b[0] if len(b) == 1 else b[-2]
    if a[-1] != inner:
        return False
    return len(a) < 3 and len(b) < 3 or _broadcasts(a[:-2], b[:-2])


def _gap(x, axis, how):
    """Smallest distance between the extremum and the runner-up in any reduced slice."""
    x = np.asarray(x)
    axes = tuple(range(x.ndim)) if axis is None else tuple(np.atleast_1d(axis) % x.ndim)
    moved = np.moveaxis(x, axes, tuple(range(-len(axes), 0)))
    flat = moved.reshape(moved.shape[:x.ndim - len(axes)] + (-1,))
    if flat.shape[-1] < 2 or flat.size == 0:
        return np.inf
    s = np.sort(flat, axis=-1)
    gaps = s[..., -1] - s[..., -2] if how == "max" else s[..., 1] - s[..., 0]
    return gaps.min() if gaps.size else np.inf


class _Writer:
    """Draws steps with hypothesis, running each at once to keep domains safe."""

    def __init__(self, draw, leaves, deep, rng):
        self.draw, self.deep, self.rng = draw, deep, rng
        self.backend = Ours()
        self.steps = []
        self.values = [Value(x, requires_grad=False) for x in leaves]

    def data(self, i):
        return self.values[i].data

    def add(self, op, operands, **params):
        step = Step(op, tuple(operands), params)
        with np.errstate(all="ignore"):
            out = apply(self.backend, step, self.values)
        if not np.all(np.isfinite(out.data)) or np.abs(out.data).max(initial=0) > LIMIT \
                or not 0 < out.size <= MAX_SIZE:
            step = Step("tanh", (operands[0],), {})
            out = apply(self.backend, step, self.values)
        self.steps.append(step)
        self.values.append(out)
        return len(self.values) - 1

    def pick(self, fits=lambda i: True):
        """An earlier value (the latest one, for deep chains) that `fits`; None if none does."""
        if self.deep and fits(len(self.values) - 1) and self.draw(st.integers(0, 3)):
            return len(self.values) - 1
        candidates = [i for i in range(len(self.values)) if fits(i)]
        return self.draw(st.sampled_from(candidates)) if candidates else None

    def shape(self, i):
        return self.values[i].shape

    def positive(self, i):
        """`i` if its values are all >= 0.1, else x * x + 1 of it (of tanh(x) for large x)."""
        if self.data(i).min(initial=1) >= 0.1:
            return i
        if np.abs(self.data(i)).max() ** 2 + 1 > LIMIT:  # else `add` would swap in tanh(x) >= 0
            i = self.add("tanh", [i])
        return self.add("square_plus_one", [i])

    def nonzero(self, i):
        return i if np.abs(self.data(i)).min(initial=1) >= 0.1 else self.positive(i)

    def clear_of(self, x, *kinks):
        return all(np.abs(np.asarray(x) - k).min(initial=1) >= MARGIN for k in kinks)

    def axis(self, ndim, allow_pairs=True):
        choices = [None] + list(range(-ndim, ndim))
        if allow_pairs and ndim >= 2:
            choices.append((0, ndim - 1))
        return self.draw(st.sampled_from(choices))

    def step(self):
        op = OPS[self.rng.integers(len(OPS))]  # uniform: hypothesis favours a list's first entries
        a = self.pick()
        x, shape, ndim = self.data(a), self.shape(a), len(self.shape(a))
        if op in ("add", "sub", "mul", "div", "pow", "maximum", "minimum", "where"):
            b = self.pick(lambda i: _broadcasts(shape, self.shape(i)))
            if op == "div":
                b = self.nonzero(b)
            elif op == "pow":
                a = self.positive(a)
            elif op in ("maximum", "minimum") and not self.clear_of(x - self.data(b), 0.0):
                op = "add"
            if op == "where":
                out_shape = np.broadcast_shapes(shape, self.shape(b))
                cond = np.asarray(self.draw(hnp.arrays(bool, out_shape)))
                return self.add(op, [a, b], cond=cond)
            return self.add(op, [a, b])
        if op == "matmul":
            b = self.pick(lambda i: _matmul_fits(shape, self.shape(i)))
            if b is None:
                if ndim < 2:
                    return self.add("tanh", [a])
                b = self.add("swapaxes", [a], a=-1, b=-2)  # a @ a^T: a used twice
            return self.add(op, [a, b])
        if op in ("log", "sqrt"):
            return self.add(op, [self.positive(a)])
        if op == "exp" and np.abs(x).max(initial=0) > 4:
            return self.add("exp", [self.add("tanh", [a])])
        if op == "pow_const":
            exponent = self.draw(st.sampled_from([2.0, 3.0, 0.5, 1.5, -1.0, -2.0, 0.0]))
            if exponent < 0:
                a = self.nonzero(a)
            if exponent != int(exponent):
                a = self.positive(a)
            return self.add(op, [a], exponent=exponent)
        if op == "rpow":
            return self.add(op, [a], base=self.draw(st.sampled_from([2.0, 0.5, 3.0])))
        if op in ("const_left", "const_right"):
            how = self.draw(st.sampled_from(["add", "sub", "mul", "div"]))
            c_shape = self.draw(hnp.broadcastable_shapes(shape, max_dims=3))
            c = np.random.default_rng(self.draw(st.integers(0, 2**16))).uniform(0.5, 2, c_shape)
            if how == "div" and op == "const_left":
                a = self.nonzero(a)
            return self.add(op, [a], how=how, c=c)
        if op in ("abs", "relu", "leaky_relu") and not self.clear_of(x, 0.0):
            return self.add("tanh", [a])
        if op == "leaky_relu":
            return self.add(op, [a], slope=self.draw(st.sampled_from([0.01, 0.2, -0.5])))
        if op == "clip":
            lo = self.draw(st.sampled_from([None, -1.5, -0.5, 0.3]))
            hi = self.draw(st.sampled_from([None, 1.5, 0.8] if lo is not None else [1.5, 0.8]))
            if not self.clear_of(x, *[k for k in (lo, hi) if k is not None]):
                return self.add("tanh", [a])
            return self.add(op, [a], lo=lo, hi=hi)
        if op in UNARY or op == "neg":
            return self.add(op, [a])
        if ndim == 0:  # the remaining ops need an axis
            a = self.add("reshape", [a], shape=(1, 1))
            x, shape, ndim = self.data(a), (1, 1), 2
        if op in ("sum", "mean", "max", "min", "logsumexp", "var"):
            axis = self.axis(ndim)
            params = dict(axis=axis, keepdims=self.draw(st.booleans()))
            if op in ("max", "min") and _gap(x, axis, op) < MARGIN:
                op = "logsumexp"
            if op == "var":
                count = x.size // max(np.sum(x, axis=axis).size, 1)
                params["ddof"] = self.draw(st.sampled_from([0, 1])) if count > 1 else 0
            return self.add(op, [a], **params)
        if op in ("softmax", "log_softmax"):
            return self.add(op, [a], axis=self.draw(st.integers(-ndim, ndim - 1)))
        if op == "reshape":
            choices = [(-1,), shape + (1,), (1,) + shape, tuple(reversed(shape))]
            return self.add(op, [a], shape=self.draw(st.sampled_from(choices)))
        if op == "transpose":
            permutation = tuple(self.draw(st.permutations(range(ndim))))
            axes = self.draw(st.sampled_from([None, permutation]))
            return self.add(op, [a], axes=axes)
        if op == "swapaxes":
            return self.add(op, [a], a=self.draw(st.integers(-ndim, ndim - 1)),
                            b=self.draw(st.integers(-ndim, ndim - 1)))
        if op == "index":
            return self.add(op, [a], index=self.index(shape))
        if op in ("conv2d", "max_pool2d"):
            return self.image_op(op, a)
        axis = self.draw(st.integers(-ndim, ndim - 1))
        if op == "concatenate":
            others = self.pick(lambda i: len(self.shape(i)) == ndim and all(
                n == m for k, (n, m) in enumerate(zip(shape, self.shape(i))) if k != axis % ndim))
        else:
            others = self.pick(lambda i: self.shape(i) == shape)
        return self.add(op, [a, others, a], axis=axis)

    def image_op(self, op, a):
        """conv2d or max_pool2d of `a` seen as an (N, C, H, W) image; the kernel is gathered
        from the elements of another value, so gradients flow into it from the whole graph."""
        shape = self.shape(a)
        if len(shape) != 4:
            rows = int(np.prod(shape[:-1]))
            a = self.add("reshape", [a], shape=(1, 1, rows, shape[-1]))
        n, c, h, w = self.shape(a)
        if op == "max_pool2d":
            k = (self.draw(st.integers(1, min(h, 3))), self.draw(st.integers(1, min(w, 3))))
            stride = self.draw(st.sampled_from([None, 1]))
            windows = np.lib.stride_tricks.sliding_window_view(self.data(a), k, axis=(2, 3))
            if _gap(windows.reshape(windows.shape[:4] + (-1,)), -1, "max") < MARGIN:
                return self.add("tanh", [a])
            return self.add(op, [a], kernel_size=k, stride=stride)
        padding, stride = self.draw(st.integers(0, 1)), self.draw(st.integers(1, 2))
        out_channels = self.draw(st.integers(1, 2))
        k = (self.draw(st.integers(1, min(h + 2 * padding, 3))),
             self.draw(st.integers(1, min(w + 2 * padding, 3))))
        if out_channels * c * k[0] * k[1] > MAX_SIZE:
            return self.add("tanh", [a])
        operands = [a, self.gather(self.pick(), (out_channels, c) + k)]
        if self.draw(st.booleans()):
            operands.append(self.gather(self.pick(), (out_channels,)))
        return self.add(op, operands, stride=stride, padding=padding)

    def gather(self, source, shape):
        """A value of `shape` made of (repeated) elements of value `source`."""
        flat = self.add("reshape", [source], shape=(-1,))
        picked = self.add("index", [flat], index=self.rng.integers(0, self.values[flat].size,
                                                                   size=int(np.prod(shape))))
        return self.add("reshape", [picked], shape=shape)

    def index(self, shape):
        n = shape[0]
        kind = ["int", "slice", "array", "mask", "last", "newaxis"][self.rng.integers(6)]
        if kind == "int":
            return self.draw(st.integers(-n, n - 1))
        if kind == "slice":
            start = self.draw(st.integers(0, n - 1))
            return slice(start, None, self.draw(st.sampled_from([1, 2, -1])))
        if kind == "array":  # repeated indices: their gradients must add up
            return self.rng.integers(0, n, size=self.rng.integers(2, 5))
        if kind == "mask":
            mask = np.array(self.draw(st.lists(st.booleans(), min_size=n, max_size=n)))
            mask[self.draw(st.integers(0, n - 1))] = True
            return mask
        if kind == "last":
            return (Ellipsis, self.draw(st.integers(-shape[-1], shape[-1] - 1)))
        return (None, slice(None, None, -1))


@st.composite
def programs(draw, max_steps=10, deep=False, max_side=3):
    """A random program: leaves, steps and loss weights (see the module docstring)."""
    shapes = draw(hnp.mutually_broadcastable_shapes(
        num_shapes=draw(st.integers(1, 3)), min_dims=1, max_dims=3, max_side=max_side)).input_shapes
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    leaves = [rng.uniform(-2, 2, size=s) for s in shapes]
    writer = _Writer(draw, leaves, deep, rng)
    for _ in range(draw(st.integers(1, max_steps))):
        writer.step()
    weights = [rng.uniform(-1, 1, size=v.shape) for v in writer.values]
    return Program(leaves, writer.steps, weights)


# --- the checks -----------------------------------------------------------------------
def fewer(factor):
    """A fraction of the profile's examples, for the slower properties (still scales with it)."""
    return settings(max_examples=max(1, settings.default.max_examples // factor))


def check_against_finite_differences(program):
    leaves = [Value(x) for x in program.leaves]
    _, loss = run(Ours(), program, leaves)
    loss.backward()
    numerical = numerical_grad(lambda *xs: run(Ours(), program, xs)[1], leaves)
    scale = 1.0 + abs(loss.item())
    for i, (leaf, expected) in enumerate(zip(leaves, numerical)):
        assert leaf.grad is not None and leaf.grad.shape == leaf.shape
        np.testing.assert_allclose(leaf.grad, expected, rtol=1e-5, atol=1e-7 * scale,
                                   err_msg=f"leaf {i} of {describe(program)}")


def describe(program):
    lines = [f"leaves {[x.shape for x in program.leaves]}"]
    n = len(program.leaves)
    for k, step in enumerate(program.steps):
        params = {key: (v.shape if isinstance(v, np.ndarray) and v.ndim else v)
                  for key, v in step.params.items()}
        lines.append(f"v{n + k} = {step.op}{[f'v{i}' for i in step.operands]} {params}")
    return "\n".join(lines)


def regression(leaves, steps):
    """A hand-written program (for explicit regression cases), with all-ones loss weights."""
    leaves = [np.asarray(x, dtype=np.float64) for x in leaves]
    values = run(Ours(), Program(leaves, [], [np.ones(np.shape(x)) for x in leaves]))[0]
    for step in steps:
        values.append(apply(Ours(), step, values))
    return Program(leaves, steps, [np.ones(v.shape) for v in values])


@given(programs())
def test_random_graphs_match_finite_differences(program):
    check_against_finite_differences(program)


@fewer(2)
@given(programs(max_steps=150, deep=True, max_side=2))
def test_deep_random_chains_match_finite_differences(program):
    check_against_finite_differences(program)


def test_safe_domains_hold_for_large_values_with_zeros():
    # found by the thorough profile: x * x + 1 of relu output up to 12.8 exceeded LIMIT, `add`
    # swapped in tanh(x), which is 0 where relu was, and sqrt then had an infinite derivative
    writer = _Writer(draw=None, leaves=[np.array([12.8, 0.0, -1.3])], deep=False, rng=None)
    relu = writer.add("relu", [0])
    assert writer.data(writer.positive(relu)).min() >= 0.1
    assert np.abs(writer.data(writer.nonzero(relu))).min() >= 0.1


def test_one_value_used_many_times_in_a_diamond():
    steps = [Step("exp", (0,), {}), Step("sin", (0,), {}), Step("mul", (1, 2), {}),
             Step("mul", (3, 0), {}), Step("stack", (4, 0, 4), {"axis": 0})]
    check_against_finite_differences(regression([[0.3, -1.2, 0.7]], steps))


def test_a_thousand_step_chain_with_a_side_branch_at_every_step():
    steps = []
    for k in range(1000):
        steps.append(Step("sin", (2 * k,), {}))
        steps.append(Step("add", (len(steps), 0), {}))
    check_against_finite_differences(regression([[0.5, -0.25]], steps))


@given(programs())
def test_backward_grad_and_create_graph_agree_and_accumulate(program):
    leaves = [Value(x) for x in program.leaves]
    loss = run(Ours(), program, leaves)[1]
    returned = ag.grad(loss, leaves, retain_graph=True)
    recorded = ag.grad(loss, leaves, retain_graph=True, create_graph=True)
    loss.backward(retain_graph=True)
    first = [leaf.grad.copy() for leaf in leaves]
    loss.backward()  # a second backward adds the same gradient again
    for leaf, g, r, c in zip(leaves, first, returned, recorded):
        np.testing.assert_array_equal(r.data, g)
        np.testing.assert_allclose(c.data, g, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(leaf.grad, 2 * g, rtol=1e-12, atol=1e-14)


@fewer(3)
@given(programs(max_steps=5, max_side=2))
def test_random_graphs_second_derivatives(program):
    gradgradcheck(lambda *xs: run(Ours(), program, xs)[1],
                  [Value(x) for x in program.leaves], atol=1e-5, rtol=1e-4)


@fewer(2)
@given(programs())
def test_float32_graphs_stay_float32(program):
    values, loss = run(Ours(np.float32), program)
    for v, step in zip(values[len(program.leaves):], program.steps):
        assert v.dtype == np.float32, f"{step.op} gave {v.dtype}"
    loss.backward()
    for leaf in values[:len(program.leaves)]:
        assert leaf.grad.dtype == np.float32


@given(programs())
def test_random_graphs_match_pytorch(program):
    torch = pytest.importorskip("torch", exc_type=ImportError)  # absent or broken: skip
    ours, our_loss = run(Ours(), program)
    theirs, their_loss = run(Torch(torch), program)
    assert_agrees_with_torch(ours, our_loss, theirs, their_loss, len(program.leaves),
                             describe(program))


def assert_agrees_with_torch(ours, our_loss, theirs, their_loss, leaves, program):
    """Every value of a program run by both engines agrees, and so does the gradient of each of
    its first `leaves` values (the leaves) after both losses' backward."""
    for k, (a, b) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(a.data, b.detach().numpy(), rtol=1e-10, atol=1e-12,
                                   err_msg=f"value v{k} of {program}")
    our_loss.backward()
    their_loss.backward()
    for i in range(leaves):
        np.testing.assert_allclose(ours[i].grad, theirs[i].grad.numpy(), rtol=1e-9, atol=1e-11,
                                   err_msg=f"gradient of leaf {i} of {program}")


# --- random networks from nn ------------------------------------------------------------
AFTER_LINEAR = {
    "tanh": lambda n, rng: nn.Tanh(), "sigmoid": lambda n, rng: nn.Sigmoid(),
    "snake": lambda n, rng: nn.Snake(a=rng.uniform(0.5, 2, n), learnable=True),
    "batchnorm": lambda n, rng: nn.BatchNorm1d(n), "none": None,
}
LOSSES = {
    "mse": (nn.mse_loss, lambda rng, n, c: rng.normal(size=(n, c))),
    "cross_entropy": (nn.cross_entropy, lambda rng, n, c: rng.integers(0, c, n)),
    "bce_with_logits": (nn.binary_cross_entropy_with_logits,
                        lambda rng, n, c: rng.integers(0, 2, (n, c)).astype(float)),
}


@st.composite
def networks(draw):
    """A random smooth nn model (Linear layers with activations, Snake, BatchNorm), data, a loss."""
    sizes = draw(st.lists(st.integers(1, 4), min_size=2, max_size=5))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    layers = []
    for n_in, n_out in zip(sizes, sizes[1:]):
        layers.append(nn.Linear(n_in, n_out, bias=draw(st.booleans()), rng=rng))
        make = AFTER_LINEAR[draw(st.sampled_from(sorted(AFTER_LINEAR)))]
        if make is not None:
            layers.append(make(n_out, rng))
    loss_fn, make_target = LOSSES[draw(st.sampled_from(sorted(LOSSES)))]
    batch = draw(st.integers(2, 5))
    X = rng.normal(size=(batch, sizes[0]))
    return nn.Sequential(*layers), loss_fn, X, make_target(rng, batch, sizes[-1])


@fewer(2)
@given(networks())
def test_random_networks_parameter_gradients_match_finite_differences(network):
    model, loss_fn, X, target = network
    params = list(model.parameters())
    x = Value(X)
    loss = loss_fn(model(x), target)
    loss.backward()
    originals = [p.data.copy() for p in params]

    def loss_at(*values):  # the loss with the parameters' data and the input replaced by `values`
        for p, v in zip(params, values):
            p.data = v.data
        return loss_fn(model(values[-1]), target)

    try:
        numerical = numerical_grad(loss_at, [Value(p.data) for p in params] + [x])
    finally:
        for p, original in zip(params, originals):
            p.data = original
    scale = 1.0 + abs(loss.item())
    names = [name for name, _ in model.named_parameters()] + ["the input"]
    for name, value, expected in zip(names, params + [x], numerical):
        np.testing.assert_allclose(value.grad, expected, rtol=1e-5, atol=1e-7 * scale,
                                   err_msg=f"{name} of {model}")

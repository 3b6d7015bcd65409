"""Graph fuzzer for numpy_ops: random programs of the new ops, every leaf's gradient checked.

A hypothesis strategy writes a program: one to three leaves of mutually
broadcastable shapes, then steps that each apply an op of numpy_ops (as
test_numpy_ops.CASES calls it, for us and for PyTorch) to earlier values, so
values are reused and chains and diamonds form. The loss adds every value
weighted by fixed random constants. Each program is checked against central
differences, against PyTorch where it is installed, and to second order.

Domains are kept safe as the program is written: an op with a restricted
domain first maps its operand into it with core ops (arcsin of 0.9 tanh(x),
arccosh of x * x + 1.5, ...); an op whose gradient would be taken at a kink
(sort with near-ties, std with no spread, a norm near 0) or whose result is
not finite, too large or empty is replaced by tanh, as in test_fuzz.py. Step
functions (sign floor ceil), mod and fmax/fmin are left to test_numpy_ops.py:
a finite difference across their jumps measures neither side.
"""
from collections import namedtuple

import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

import test_numpy_ops as cases
from test_fuzz import assert_agrees_with_torch
from autograd_lite import Value, gradgradcheck, numerical_grad

MARGIN, LIMIT, MAX_SIZE = 1e-2, 100.0, 200

Program = namedtuple("Program", ["leaves", "steps", "weights"])
Step = namedtuple("Step", ["op", "operands", "params", "prepare", "piece"])

# operands mapped into the op's domain first (written once for values and tensors alike)
PREPARE = {
    "tanh": lambda x: x.tanh(),
    "unit": lambda x: x.tanh() * 0.9,         # |x| < 1: arcsin, arccos, arctanh
    "bounded": lambda x: x.tanh() * 2.0,      # sinh, cosh, exp2, expm1 stay small
    "positive": lambda x: x * x + 0.5,        # log2, log10, the second input of arctan2, hypot
    "above_one": lambda x: x * x + 1.5,       # arccosh
    "square": lambda x: x * x,                # log1p
    "one_plus_square": lambda x: x * x + 1.0,  # reciprocal
}
UNARY = {"tan": "tanh", "sinh": "bounded", "cosh": "bounded", "arcsin": "unit", "arccos": "unit",
         "arctan": None, "arcsinh": None, "arccosh": "above_one", "arctanh": "unit",
         "log2": "positive", "log10": "positive", "log1p": "square", "exp2": "bounded",
         "expm1": "bounded", "square": None, "reciprocal": "one_plus_square"}
BINARY = {"arctan2": "positive", "hypot": "positive", "logaddexp": None}
SHAPED = ["prod", "cumsum", "cumprod", "std", "vector_norm", "flip", "roll", "moveaxis", "swapaxes",
          "repeat", "tile", "pad", "squeeze", "expand_dims", "ravel", "sort", "diagonal", "trace",
          "tril", "triu", "diag", "einsum", "tensordot", "kron", "outer", "array_split"]
OPS = list(UNARY) + list(BINARY) + SHAPED


# --- running a program on either library ------------------------------------------------
def run_step(step, values, torch=None):
    """One step on our values, or on PyTorch's tensors when `torch` is given."""
    xs = [values[i] for i in step.operands]
    if step.prepare:
        xs = [xs[0]] + [PREPARE[step.prepare](x) for x in xs[1:]] if step.op in BINARY \
            else [PREPARE[step.prepare](x) for x in xs]
    if step.op == "tanh":
        return xs[0].tanh()
    case = cases.CASES[step.op]
    out = case.ours(*xs, **step.params) if torch is None else case.torch(torch, *xs, **step.params)
    return out[step.piece] if step.piece is not None else out


def run(program, leaves, torch=None):
    """All of the program's values and the loss that weighs and adds them."""
    values = list(leaves)
    for step in program.steps:
        values.append(run_step(step, values, torch))
    loss = 0.0
    for v, w in zip(values, program.weights):
        loss = loss + (v * (w if torch is None else torch.tensor(w))).sum()
    return values, loss


# --- writing programs ---------------------------------------------------------------------
class _Writer:
    """Draws steps, running each at once on values to keep domains safe and sizes small."""

    def __init__(self, draw, leaves, rng):
        self.draw, self.rng, self.steps = draw, rng, []
        self.values = [Value(x, requires_grad=False) for x in leaves]

    def add(self, op, operands, params=None, prepare=None, piece=None):
        step = Step(op, tuple(operands), params or {}, prepare, piece)
        with np.errstate(all="ignore"):
            out = run_step(step, self.values)
        if not np.all(np.isfinite(out.data)) or np.abs(out.data).max(initial=0) > LIMIT \
                or not 0 < out.size <= MAX_SIZE:
            step = Step("tanh", (operands[0],), {}, None, None)
            out = run_step(step, self.values)
        self.steps.append(step)
        self.values.append(out)

    def pick(self, fits=lambda shape: True):
        candidates = [i for i, v in enumerate(self.values) if fits(v.shape)]
        return self.draw(st.sampled_from(candidates)) if candidates else None

    def axis(self, ndim, tuples=True):
        choices = [None] + list(range(-ndim, ndim)) + ([(0, ndim - 1)] if tuples and ndim > 1 else [])
        return self.draw(st.sampled_from(choices))

    def step(self):
        op = OPS[self.rng.integers(len(OPS))]  # uniform: hypothesis favours a list's first entries
        a = self.pick()
        x = self.values[a].data
        if op in UNARY:
            return self.add(op, [a], prepare=UNARY[op])
        if op in BINARY:
            b = self.pick(lambda s: _broadcasts(x.shape, s))
            return self.add(op, [a, b], prepare=BINARY[op])
        if x.ndim == 0 and op not in ("prod", "cumsum", "cumprod", "kron", "outer", "tile",
                                      "expand_dims", "repeat", "ravel"):
            return self.add("expand_dims", [a], {"axis": 0})
        return getattr(self, "_" + op, self._shaped)(op, a, x)

    def _shaped(self, op, a, x):
        """Ops whose only parameter is an axis, or none."""
        params = {
            "prod": lambda: {"axis": self.axis(x.ndim), "keepdims": self.draw(st.booleans())},
            "cumsum": lambda: {"axis": self.axis(x.ndim, tuples=False)},
            "flip": lambda: {"axis": self.axis(x.ndim)},
            "ravel": lambda: {"order": self.draw(st.sampled_from(["C", "F"]))},
            "expand_dims": lambda: {"axis": self.draw(st.integers(-x.ndim - 1, x.ndim))},
            "repeat": lambda: {"repeats": self.draw(st.integers(1, 2)),
                               "axis": self.draw(st.sampled_from([None] + list(range(x.ndim))))},
            "tile": lambda: {"reps": tuple(self.draw(st.lists(st.integers(1, 2), max_size=3)))},
            "swapaxes": lambda: {"axis1": self.draw(st.integers(0, x.ndim - 1)),
                                 "axis2": self.draw(st.integers(-x.ndim, -1))},
            "moveaxis": lambda: {"source": self.draw(st.integers(0, x.ndim - 1)),
                                 "destination": self.draw(st.integers(-x.ndim, -1))},
            "roll": lambda: {"shift": self.draw(st.integers(-3, 3)), "axis": self.draw(
                st.sampled_from([None] + list(range(x.ndim))))},
            "pad": lambda: {"pad_width": self.draw(st.integers(0, 1)), "mode": self.draw(
                st.sampled_from(["constant", "edge", "reflect", "symmetric", "wrap"]))},
        }[op]()
        if op == "pad" and params["mode"] != "constant":
            return self.add("tanh", [a])  # (PyTorch pads only batches in its other modes)
        return self.add(op, [a], params)

    def _cumprod(self, op, a, x):
        self.add(op, [a], {"axis": self.axis(x.ndim, tuples=False)}, prepare="tanh")

    def _std(self, op, a, x):
        axis = self.axis(x.ndim)
        spread = np.std(x, axis=axis)
        if np.min(spread, initial=np.inf) < MARGIN or x.size // max(spread.size, 1) < 2:
            return self.add("tanh", [a])
        self.add(op, [a], {"axis": axis, "ddof": self.draw(st.sampled_from([0, 1])),
                           "keepdims": self.draw(st.booleans())})

    def _vector_norm(self, op, a, x):
        axis, order = self.axis(x.ndim), self.draw(st.sampled_from([2, 3]))
        if np.min(np.linalg.vector_norm(x, axis=axis, ord=order), initial=np.inf) < 0.1:
            return self.add("tanh", [a])
        self.add(op, [a], {"axis": axis, "keepdims": self.draw(st.booleans()), "ord": order})

    def _sort(self, op, a, x):
        axis = self.draw(st.sampled_from([-1, 0, None]))
        ordered = np.sort(x, axis=axis)
        if ordered.shape[axis or 0] > 1 and np.diff(ordered, axis=axis or 0).min() < MARGIN:
            return self.add("flip", [a], {"axis": None})  # near-ties: no derivative to compare
        self.add(op, [a], {"axis": axis, "kind": None})

    def _squeeze(self, op, a, x):
        if 1 not in x.shape:
            return self.add("expand_dims", [a], {"axis": 0})
        self.add(op, [a], {"axis": None})

    def _diagonal(self, op, a, x):
        if x.ndim < 2:
            return self.add("expand_dims", [a], {"axis": -1})
        self.add(op, [a], {"offset": self.draw(st.integers(-1, 1)), "axis1": 0, "axis2": -1})

    _trace = _diagonal

    def _tril(self, op, a, x):
        if x.ndim < 2:
            return self.add("expand_dims", [a], {"axis": 0})
        self.add(op, [a], {"k": self.draw(st.integers(-1, 1))})

    _triu = _tril

    def _diag(self, op, a, x):
        if x.ndim > 2:
            return self.add("ravel", [a], {"order": "C"})
        self.add(op, [a], {"k": self.draw(st.integers(-1, 1))})

    def _einsum(self, op, a, x):
        # a sum of products along the last axis, with another value of that length or itself
        b = self.pick(lambda s: len(s) >= 1 and s[-1] == x.shape[-1] and _broadcasts(s[:-1], x.shape[:-1]))
        self.add(op, [a, b], {"subscripts": "...i,...i->..."})

    def _tensordot(self, op, a, x):
        b = self.pick(lambda s: len(s) >= 1 and s[0] == x.shape[-1])
        if b is None:  # a full contraction of the value with itself
            return self.add(op, [a, a], {"axes": x.ndim})
        self.add(op, [a, b], {"axes": 1})

    def _two(self, op, a, x):
        b = self.pick(lambda s: x.size * int(np.prod(s)) <= MAX_SIZE)
        self.add(op, [a, b] if b is not None else [a, a])

    _kron = _outer = _two

    def _array_split(self, op, a, x):
        axis = self.draw(st.integers(0, x.ndim - 1))
        sections = self.draw(st.integers(1, 3))
        self.add(op, [a], {"indices_or_sections": sections, "axis": axis},
                 piece=self.draw(st.integers(0, sections - 1)))


def _broadcasts(a, b):
    try:
        np.broadcast_shapes(a, b)
        return True
    except ValueError:
        return False


@st.composite
def programs(draw, max_steps=8):
    shapes = draw(hnp.mutually_broadcastable_shapes(
        num_shapes=draw(st.integers(1, 3)), min_dims=1, max_dims=3, max_side=3)).input_shapes
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    writer = _Writer(draw, [rng.uniform(-2, 2, size=s) for s in shapes], rng)
    for _ in range(draw(st.integers(1, max_steps))):
        writer.step()
    weights = [rng.uniform(-1, 1, size=v.shape) for v in writer.values]
    return Program([v.data for v in writer.values[:len(shapes)]], writer.steps, weights)


def describe(program):
    n = len(program.leaves)
    return "\n".join([f"leaves {[x.shape for x in program.leaves]}"] + [
        f"v{n + k} = {s.op}{[f'v{i}' for i in s.operands]} {s.params} prepare={s.prepare} "
        f"piece={s.piece}" for k, s in enumerate(program.steps)])


# --- the checks -------------------------------------------------------------------------------
@cases.few(2)
@given(programs())
def test_random_programs_match_finite_differences(program):
    leaves = [Value(x) for x in program.leaves]
    loss = run(program, leaves)[1]
    loss.backward()
    numerical = numerical_grad(lambda *xs: run(program, xs)[1], leaves)
    scale = 1.0 + abs(loss.item())
    for i, (leaf, expected) in enumerate(zip(leaves, numerical)):
        assert leaf.grad is not None and leaf.grad.shape == leaf.shape
        np.testing.assert_allclose(leaf.grad, expected, rtol=1e-5, atol=1e-7 * scale,
                                   err_msg=f"leaf {i} of\n{describe(program)}")


@cases.few(2)
@given(programs())
def test_random_programs_match_pytorch(program):
    torch = pytest.importorskip("torch", exc_type=ImportError)  # absent or broken: skip
    ours, our_loss = run(program, [Value(x) for x in program.leaves])
    theirs, their_loss = run(program, [torch.tensor(x, requires_grad=True) for x in program.leaves],
                             torch)
    assert_agrees_with_torch(ours, our_loss, theirs, their_loss, len(program.leaves),
                             "\n" + describe(program))


@cases.few(4)
@given(programs(max_steps=4))
def test_random_programs_second_derivatives(program):
    gradgradcheck(lambda *xs: run(program, xs)[1], [Value(x) for x in program.leaves],
                  atol=1e-5, rtol=1e-4)

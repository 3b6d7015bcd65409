"""What users see from sums, sigmoid, operators, matmul and backward's gradient arrays.

- `sum_to` (how a broadcast gradient is summed back to its input's shape)
  gives numpy's sums, dtype kept, inf and nan included, as a new array;
- bias gradients of `x @ W + b` are the upstream gradient summed over the
  broadcast axes, to first and second order, float32 and float64, empty batches;
- sigmoid matches the stable two-branch formula without warnings in every
  float dtype, down to its far tails, and its gradient is zero (not nan) there;
- arithmetic operators and `@` with a `Value` on either side and any operand
  (`Value` subclasses, numbers, numpy scalars, arrays, lists) give numpy's
  results and dtypes, and a TypeError for anything else;
- matmul of 1-D to 3-D operands (empty, tall and narrow, Fortran-ordered) has
  numpy's results and the textbook gradients; bad shapes fail naming the op;
- a change to `.data` after the forward makes backward raise, leaving every
  `.grad` and the graph as they were; unrelated changes do not;
- every `.grad` is an array of its own: never shared with another `.grad`, the
  graph or an array the caller passed in, and accumulated in place;
- full reductions, squares, broadcast gradients under `create_graph` and odd
  `keepdims` arguments behave as the plain formulas and numpy do.
"""
import math
import operator
import warnings

import numpy as np
import pytest
from hypothesis import assume, example, given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import nn
from autograd_lite import Value, grad, gradcheck, ops

INF, NAN = float("inf"), float("nan")


# --- sum_to -------------------------------------------------------------------------
def plain_sum_to(x, shape):
    """np.sum over the axes broadcasting added in front, then over each axis it stretched from 1."""
    lead = x.ndim - len(shape)
    out = np.sum(x, axis=tuple(range(lead)))
    for axis, n in enumerate(shape):
        if n == 1:
            out = np.sum(out, axis=axis, keepdims=True)
    return out


LAYOUTS = ["contiguous", "transposed", "strided", "reversed"]


def with_layout(a, layout):
    """The same values as `a` laid out differently: F-order, every other element, or negative strides."""
    if a.ndim == 0 or layout == "contiguous":
        return a
    if layout == "transposed":
        return np.ascontiguousarray(a.T).T
    if layout == "strided":
        wide = np.zeros(a.shape[:-1] + (2 * a.shape[-1],), dtype=a.dtype)
        wide[..., ::2] = a
        return wide[..., ::2]
    return np.ascontiguousarray(a[::-1])[::-1]


@st.composite
def sum_to_cases(draw, dtypes, elements):
    """(x, shape): `x` has the shape broadcasting `shape` can give, in some memory layout."""
    shape = tuple(draw(st.lists(st.integers(0, 3), max_size=3)))
    added = tuple(draw(st.lists(st.integers(0, 3), max_size=2)))
    if draw(st.booleans()):  # only leading axes (a bias gradient)
        stretched = shape
    else:  # an axis of size 1 may have been stretched to any length, 0 included
        stretched = tuple(draw(st.integers(0, 3)) if n == 1 else n for n in shape)
    data = draw(hnp.arrays(draw(st.sampled_from(dtypes)), added + stretched, elements=elements))
    return with_layout(data, draw(st.sampled_from(LAYOUTS))), shape


# '>f8' and '>f4' are byte-swapped (not native byte order)
ALL_DTYPES = [np.float64, np.float32, np.float16, ">f8", ">f4", np.int64]
FLOAT_DTYPES = [np.float64, np.float32, np.float16]
small_integers = st.integers(-8, 8)  # every sum of up to 3**5 of them is exact, even in float16


@given(sum_to_cases(ALL_DTYPES, small_integers))
@example((np.ones((4, 3)), (3,)))              # a bias gradient
@example((np.ones((0, 3)), (3,)))              # no rows
@example((np.ones((2, 0)), (0,)))              # no columns
@example((np.ones((0, 0)), (0,)))
@example((np.arange(4.0), ()))                 # a 0-d target
@example((np.ones((0,), np.float32), ()))
@example((np.ones((2, 0, 3)), (1, 3)))         # an axis stretched from 1 to 0
@example((np.arange(6.0).reshape(1, 2, 3), (2, 3)))  # one row
def test_sum_to_equals_plain_sums_exactly_on_integer_valued_data(case):
    x, shape = case
    out = ops.sum_to(x, shape=shape)
    expected = plain_sum_to(x, shape)
    assert np.shape(out) == shape
    # float32 stays float32, float16 stays float16 (byte order may differ: with nothing to sum,
    # sum_to returns x itself, while np.sum gives native order)
    assert out.dtype.type is expected.dtype.type
    np.testing.assert_array_equal(out, expected, strict=False)


def assert_within_summation_error(out, x, shape):
    """`out` is the exact (float64) sum, up to what rounding can do to a sum of that many terms."""
    exact = plain_sum_to(x.astype(np.float64), shape)
    magnitude = plain_sum_to(np.abs(x.astype(np.float64)), shape)
    terms = x.size // max(math.prod(shape), 1)
    finfo = np.finfo(x.dtype)
    bound = (terms + 1) * finfo.eps * magnitude + finfo.smallest_subnormal
    error = np.abs(np.asarray(out, dtype=np.float64) - exact)
    assert np.all(error <= bound), f"error {error.max()} exceeds {bound.max()}"



@given(sum_to_cases(FLOAT_DTYPES, st.floats(-100, 100, width=16)))
def test_sum_to_float_data_is_within_rounding_of_the_exact_sum(case):
    x, shape = case
    out = ops.sum_to(x, shape=shape)
    assert out.dtype == x.dtype
    assert_within_summation_error(out, x, shape)


@given(sum_to_cases(FLOAT_DTYPES + [">f8"], st.sampled_from([0.0, 1.0, -2.0, INF, -INF, NAN])))
@example((np.array([[INF, 1.0], [-INF, 2.0]]), (2,)))
@example((np.array([[NAN, INF], [1.0, INF]], np.float32), (2,)))
def test_sum_to_has_inf_and_nan_where_np_sum_has_them(case):
    x, shape = case
    with np.errstate(invalid="ignore"):  # inf + -inf = nan may set numpy's invalid flag
        out = ops.sum_to(x, shape=shape)
        expected = plain_sum_to(x, shape)
    np.testing.assert_array_equal(out, expected)  # nan matches nan, inf matches inf of the same sign


@given(sum_to_cases(FLOAT_DTYPES, small_integers))
def test_sum_to_result_is_a_fresh_writable_array(case):
    """Never a view of the input: writing into it changes nothing else."""
    x, shape = case
    assume(x.shape != shape)  # with nothing to sum, sum_to returns x itself
    before = x.copy()
    out = ops.sum_to(x, shape=shape)
    assert isinstance(out, np.generic) or out.flags.writeable
    assert not np.shares_memory(out, x)
    np.asarray(out)[...] = 99
    np.testing.assert_array_equal(x, before)
    np.testing.assert_array_equal(ops.sum_to(x, shape=shape), plain_sum_to(x, shape))


# --- bias gradients through the engine ---------------------------------------------
def integer_array(rng, shape, dtype):
    return rng.integers(-3, 4, size=shape).astype(dtype)


bias_layouts = st.sampled_from(["vector", "row", "per-position"])


def bias_shape(kind, batch, n_out):
    """(n_out,) sums every leading axis; (1, n_out) also sums an axis of size 1; (N, n_out) keeps N."""
    if kind == "vector":
        return (n_out,)
    if kind == "row":
        return (1, n_out)
    return (batch[-1], n_out)


@given(batch=st.lists(st.integers(0, 4), min_size=1, max_size=2), n_in=st.integers(1, 3),
       n_out=st.integers(1, 4), kind=bias_layouts, dtype=st.sampled_from([np.float64, np.float32]),
       seed=st.integers(0, 2**16))
@example(batch=[0], n_in=2, n_out=3, kind="vector", dtype=np.float32, seed=0)
@example(batch=[3, 0], n_in=2, n_out=3, kind="vector", dtype=np.float64, seed=0)
def test_bias_gradient_is_the_upstream_gradient_summed_over_leading_axes(
        batch, n_in, n_out, kind, dtype, seed):
    rng = np.random.default_rng(seed)
    x = Value(integer_array(rng, tuple(batch) + (n_in,), dtype), requires_grad=False)
    W = Value(integer_array(rng, (n_in, n_out), dtype))
    b = Value(integer_array(rng, bias_shape(kind, batch, n_out), dtype))
    upstream = integer_array(rng, tuple(batch) + (n_out,), dtype)
    expected_b = plain_sum_to(upstream, b.shape)
    expected_W = x.data.reshape(-1, n_in).T @ upstream.reshape(-1, n_out)
    for passes in (1, 2):  # the second backward accumulates into the first's .grad
        (x @ W + b).backward(upstream)
        assert b.grad.dtype == dtype and W.grad.dtype == dtype
        np.testing.assert_array_equal(b.grad, passes * expected_b)
        np.testing.assert_array_equal(W.grad, passes * expected_W)


@given(batch=st.lists(st.integers(0, 4), min_size=1, max_size=2), n_in=st.integers(1, 3),
       n_out=st.integers(1, 3), kind=bias_layouts, dtype=st.sampled_from([np.float64, np.float32]),
       seed=st.integers(0, 2**16))
@example(batch=[0], n_in=2, n_out=3, kind="vector", dtype=np.float32, seed=0)
@settings(max_examples=25)
def test_bias_second_derivatives_through_create_graph(batch, n_in, n_out, kind, dtype, seed):
    """loss = sum((xW + b)^2): dL/db = sum_to(2(xW + b)); then d(sum dL/db)/db = sum_to(2), /dW = 2 sum(x)."""
    rng = np.random.default_rng(seed)
    x = Value(integer_array(rng, tuple(batch) + (n_in,), dtype), requires_grad=False)
    W = Value(integer_array(rng, (n_in, n_out), dtype))
    b = Value(integer_array(rng, bias_shape(kind, batch, n_out), dtype))
    out = x @ W + b
    db, = grad((out ** 2).sum(), b, create_graph=True)
    assert db.dtype == dtype and db.requires_grad
    np.testing.assert_array_equal(db.data, plain_sum_to(2 * out.data, b.shape))
    d2b, d2W = grad(db.sum(), [b, W])
    assert d2b.dtype == dtype and d2W.dtype == dtype
    np.testing.assert_array_equal(d2b.data, plain_sum_to(np.full(out.shape, 2, dtype), b.shape))
    column_sums = 2 * x.data.reshape(-1, n_in).sum(axis=0)
    np.testing.assert_array_equal(d2W.data, np.repeat(column_sums[:, None], n_out, axis=1))


# --- sigmoid ------------------------------------------------------------------------
def stable_sigmoid(x):
    """1 / (1 + e^-x) for x >= 0 and e^x / (1 + e^x) below: e^-|x| never overflows."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0, e) / (1.0 + e)


def tails(*points):
    """Each point and its negative, plus the values every dtype must survive."""
    return [sign * p for p in points for sign in (1.0, -1.0)] + [0.0, -0.0, INF, -INF, NAN]


SIGMOID_DTYPES = {  # dtype: (rtol, the points where e^-x overflows or sigmoid goes subnormal, 0 or 1)
    np.float64: (1e-15, tails(1e-300, 5e-324, 36.0, 37.0, 38.0, 708.0, 709.0, 709.78, 709.79, 710.0,
                              720.0, 744.0, 745.0, 745.13, 745.14, 746.0, 1e308, 1.7976931348623157e308)),
    np.float32: (1e-6, tails(1e-38, 1e-45, 16.0, 17.0, 88.0, 88.72, 88.73, 89.0, 100.0, 103.0, 103.97,
                             104.0, 105.0, 3.4e38)),
    np.float16: (4e-3, tails(6e-5, 6e-8, 7.0, 8.0, 11.0, 11.1, 12.0, 16.6, 17.0, 17.4, 18.0, 65504.0)),
}


@st.composite
def sigmoid_inputs(draw):
    dtype = draw(st.sampled_from(list(SIGMOID_DTYPES)))
    width = np.dtype(dtype).itemsize * 8
    rtol, points = SIGMOID_DTYPES[dtype]
    elements = st.one_of(st.sampled_from(points), st.floats(width=width),
                         st.floats(-800, 800, width=width))
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=0, max_side=6))
    return draw(hnp.arrays(dtype, shape, elements=elements)), rtol


@given(sigmoid_inputs())
@example((np.array(tails(709.78, 745.13, 1e308)), 1e-15))
@example((np.array(tails(88.72, 103.97, 3.4e38), np.float32), 1e-6))
@example((np.array(-720.0), 1e-15))
def test_sigmoid_matches_the_stable_two_branch_formula_without_warnings(case):
    x, rtol = case
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow (or any other) RuntimeWarning escapes
        got = ops.sigmoid(x)
        expected = stable_sigmoid(x)
    got = np.asarray(got)
    assert got.dtype == x.dtype and got.shape == x.shape  # a 0-d input gives a 0-d result
    tiny = np.finfo(x.dtype).tiny
    # Far below zero e^-x overflows, so 1/(1+e^-x) is exactly 0 where the true sigmoid e^x is
    # still a subnormal number that the two-branch formula returns: float64 x = -720 gives 0
    # instead of 2.0e-313, float32 x = -100 gives 0 instead of 3.8e-44 (PyTorch's CPU sigmoid
    # gives 0 there too). Every such gap, and the lost digits of subnormal results just above
    # the overflow, is below the smallest *normal* number, so that is the absolute tolerance;
    # the smallest subnormal would be too tight for these tails. Everywhere else the relative
    # error is a few ulp.
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=tiny)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(x))
    assert np.all(got[expected == 1] == 1)
    assert np.all(got[expected == 0] == 0)
    assert np.all((got[~np.isnan(got)] >= 0) & (got[~np.isnan(got)] <= 1))


@pytest.mark.parametrize("dtype", list(SIGMOID_DTYPES))
def test_sigmoid_of_a_0d_value_is_0d_and_keeps_its_dtype(dtype):
    for x in (-1000.0, -3.0, 0.0, 2.5, 1000.0):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            out = Value(np.array(x, dtype=dtype)).sigmoid()
        assert out.shape == () and out.dtype == dtype
        np.testing.assert_allclose(out.data, stable_sigmoid(np.array(x, dtype=dtype)),
                                   rtol=SIGMOID_DTYPES[dtype][0])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sigmoid_gradient_in_the_tails_is_zero_not_nan(dtype):
    x = Value(np.array([-INF, -1e30, -800.0, -720.0, 720.0, 800.0, 1e30, INF], dtype=dtype))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x.sigmoid().sum().backward()
    assert x.grad.dtype == dtype
    np.testing.assert_array_equal(x.grad, np.zeros(8))


@given(hnp.arrays(np.float64, hnp.array_shapes(min_dims=0, max_dims=2, max_side=4),
                  elements=st.floats(-8, 8)))
@settings(max_examples=20)
def test_sigmoid_gradient_matches_finite_differences(x):
    assert gradcheck(lambda v: v.sigmoid(), [Value(x)])


def test_sigmoid_gradient_keeps_a_wider_upstream_dtype_until_it_is_stored():
    """A float64 gradient through a float16 sigmoid is not rounded to float16 mid-backward."""
    x = Value(np.array([0.0, 1.0, -2.0], np.float16))
    s = (x * 1e-3).sigmoid()
    (s * Value(np.full(3, 1e6))).sum().backward()  # 1e6 itself is beyond float16 (max 65504)
    sig = s.data.astype(np.float64)
    expected = 1e6 * sig * (1 - sig) * 1e-3  # about 250
    assert np.all(np.isfinite(x.grad)) and x.grad.dtype == np.float16
    np.testing.assert_allclose(x.grad, expected, rtol=5e-3)


# --- operators with Value operands --------------------------------------------------
OPERATORS = [operator.add, operator.sub, operator.mul, operator.truediv]
OPERAND_KINDS = ["Value", "Parameter", "float", "int", "ndarray", "np.float64", "np.float32", "list"]
DATA = [1.5, -2.0, 0.25]


def make_operand(kind, dtype):
    values = {"Value": lambda: Value(DATA, dtype=dtype),
              "Parameter": lambda: nn.Parameter([0.5, 4.0, -3.0], dtype=dtype),
              "float": lambda: 2.5, "int": lambda: 3,
              "ndarray": lambda: np.array([2.0, -1.0, 8.0]),  # float64, like any plain array
              "np.float64": lambda: np.float64(2.5), "np.float32": lambda: np.float32(-0.5),
              "list": lambda: [4.0, 0.5, -2.0]}
    return values[kind]()


def plain(operand):
    """What numpy computes with: a Value's array; a numpy scalar as a Python number (weakly typed)."""
    if isinstance(operand, Value):
        return operand.data
    return operand.item() if isinstance(operand, np.generic) else operand


def derivatives(op, a, b):
    """d(a op b)/da and d(a op b)/db, elementwise, in float64."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    ones = np.ones(np.broadcast(a, b).shape)
    return {operator.add: (ones, ones), operator.sub: (ones, -ones),
            operator.mul: (b * ones, a * ones), operator.truediv: (ones / b, -a / b ** 2 * ones)}[op]


@given(op=st.sampled_from(OPERATORS), value_kind=st.sampled_from(["Value", "Parameter"]),
       other_kind=st.sampled_from(OPERAND_KINDS), value_on_left=st.booleans(),
       dtype=st.sampled_from([np.float64, np.float32]))
@example(op=operator.mul, value_kind="Value", other_kind="np.float64", value_on_left=True,
         dtype=np.float32)
@example(op=operator.mul, value_kind="Value", other_kind="np.float64", value_on_left=False,
         dtype=np.float32)
@example(op=operator.sub, value_kind="Parameter", other_kind="Value", value_on_left=True,
         dtype=np.float64)
@example(op=operator.truediv, value_kind="Parameter", other_kind="Value", value_on_left=False,
         dtype=np.float32)
def test_operators_with_a_value_on_either_side_match_numpy(
        op, value_kind, other_kind, value_on_left, dtype):
    a, b = make_operand(value_kind, dtype), make_operand(other_kind, dtype)
    if not value_on_left:
        a, b = b, a
    out = op(a, b)
    expected = op(np.asarray(plain(a)) if isinstance(a, list) else plain(a), plain(b))
    assert type(out) is Value and out.requires_grad
    assert out.dtype == expected.dtype  # a float32 Value stays float32 with numpy scalars
    np.testing.assert_array_equal(out.data, expected)
    out.sum().backward()
    for operand, derivative in zip((a, b), derivatives(op, plain(a), plain(b))):
        if isinstance(operand, Value):
            assert operand.grad.dtype == dtype
            np.testing.assert_allclose(operand.grad, derivative, rtol=1e-6)


def test_matmul_with_values_parameters_and_arrays_on_either_side():
    a = Value([[1.0, 2.0], [3.0, -1.0]])
    p = nn.Parameter([[0.5, -2.0], [1.0, 4.0]])
    m = np.array([[2.0, 0.0], [1.0, 3.0]])
    for left, right in [(a, m), (m, a), (a, p), (p, a), (p, p)]:
        out = left @ right
        assert type(out) is Value
        np.testing.assert_array_equal(out.data, plain(left) @ plain(right))
    a.zero_grad()
    (a @ m).sum().backward()
    np.testing.assert_array_equal(a.grad, np.ones((2, 2)) @ m.T)


def test_numpy_array_on_the_left_gives_a_value_and_gradient():
    a = Value([1.0, 2.0, 3.0])
    scale = np.array([2.0, -1.0, 0.5])
    out = scale * a
    assert type(out) is Value
    out.sum().backward()
    np.testing.assert_array_equal(a.grad, scale)


@pytest.mark.parametrize("other", ["x", None, object(), {"a": 1}])
@pytest.mark.parametrize("op", OPERATORS + [operator.matmul])
def test_unsupported_operands_raise_type_error_on_either_side(op, other):
    a = Value([1.0, 2.0])
    with pytest.raises(TypeError):
        op(a, other)
    with pytest.raises(TypeError):
        op(other, a)


# --- backward's version check and saved inputs -------------------------------------
def small_graph():
    """loss = sum(tanh((x @ w) * c)) + sum(3 x): x and w need grad, c is a named constant Value."""
    x = Value([[0.1, 0.2], [0.3, -0.4], [0.5, 0.6]], name="x")
    w = Value([[0.5, -1.0], [2.0, 0.25]], name="w")
    c = Value([1.0, 2.0], requires_grad=False, name="c")
    hidden = ((x @ w) * c).tanh().retain_grad()
    loss = hidden.sum() + (x * 3.0).sum()
    loss.name = "loss"
    return {"x": x, "w": w, "c": c, "hidden": hidden, "loss": loss}


def snapshot_grads(values):
    return {name: (v.grad, None if v.grad is None else v.grad.copy()) for name, v in values.items()}


def assert_grads_unchanged(values, before):
    for name, v in values.items():
        was, copy = before[name]
        assert v.grad is was, name
        if copy is not None:
            np.testing.assert_array_equal(v.grad, copy)


@pytest.mark.parametrize("change", ["assign", "subtract"])
@pytest.mark.parametrize("changed", ["x", "w", "c", "loss"])
@pytest.mark.parametrize("create_graph", [False, True])
def test_changing_data_after_forward_makes_backward_raise_and_change_no_grad(
        changed, change, create_graph):
    values = small_graph()
    values["x"].grad = np.full((3, 2), 7.0)  # left over from an earlier backward
    before = snapshot_grads(values)
    target = values[changed]
    if change == "assign":
        target.data = target.data + 1.0
    else:
        target.data -= 0.5
    with pytest.raises(RuntimeError, match=rf"modified in place: .*'{changed}'"):
        values["loss"].backward(create_graph=create_graph)
    assert_grads_unchanged(values, before)
    assert values["loss"].parents  # the failed pass did not free the graph
    assert values["loss"]._record.saved is not None


def test_changing_a_parameter_after_a_retained_backward_fails_the_second_one():
    values = small_graph()
    values["loss"].backward(retain_graph=True)
    before = snapshot_grads(values)
    values["w"].data -= 0.1 * values["w"].grad  # an optimizer step before the second backward
    with pytest.raises(RuntimeError, match=r"op 'matmul' was modified in place: its input 1 \('w'"):
        values["loss"].backward()
    assert_grads_unchanged(values, before)


def test_unmodified_graph_gives_the_plain_gradients():
    values = small_graph()
    x, w, c = (values[k].data for k in "xwc")
    values["loss"].backward()
    dz = (1 - np.tanh((x @ w) * c) ** 2) * c
    np.testing.assert_allclose(values["w"].grad, x.T @ dz, rtol=1e-12)
    np.testing.assert_allclose(values["x"].grad, dz @ w.T + 3.0, rtol=1e-12)
    assert values["c"].grad is None


def test_constant_inputs_reach_the_vjps_as_the_forward_saw_them():
    x = Value([1.0, -2.0, 3.0], dtype=np.float32)
    const = np.array([2.0, 0.5, -1.0], dtype=np.float32)
    c = Value([4.0, 5.0, 6.0], dtype=np.float32, requires_grad=False)
    y = x * const
    saved = y._record.saved
    assert saved[0] is x.data  # a value's array is kept (its version guards it)
    # a numpy constant is copied: the caller may change it in place before backward
    assert saved[1] is not const and saved[1].dtype == np.float32
    np.testing.assert_array_equal(saved[1], const)
    const *= 10
    loss = (y + np.float64(3.0) * x + x * c).sum()
    loss.backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad, const / 10 + 3.0 + c.data)  # the original constant


# --- which gradient arrays backward copies into .grad --------------------------------
def assert_owned(*grads):
    """Every array is its own memory: not a view, and sharing nothing with the others."""
    for i, g in enumerate(grads):
        assert g.base is None
        for other in grads[i + 1:]:
            assert not np.shares_memory(g, other)


def test_add_passing_one_gradient_to_two_leaves_gives_each_its_own_grad():
    a, b = Value([1.0, 2.0]), Value([3.0, 4.0])
    (a + b).backward(np.array([1.0, 1.0]))
    assert_owned(a.grad, b.grad)
    a.grad += 1.0
    np.testing.assert_array_equal(b.grad, [1.0, 1.0])


def test_the_callers_gradient_array_is_never_a_grad():
    x = Value([1.0, 2.0, 3.0])
    seed = np.array([0.5, 1.0, 2.0])
    (x + 1.0).backward(seed)
    assert not np.shares_memory(x.grad, seed)
    x.grad *= 0.0
    np.testing.assert_array_equal(seed, [0.5, 1.0, 2.0])
    (g,) = grad(x * 1.0, [x], grad_outputs=[seed])  # grad() returns new Values too
    assert not np.shares_memory(g.data, seed)


def test_a_leaf_used_as_the_root_gets_a_copy_of_its_seed():
    x = Value(3.0)
    x.backward()
    assert x.grad == 1.0
    seed = np.array([1.0, 2.0])
    y = Value([5.0, 6.0])
    y.backward(seed)
    assert not np.shares_memory(y.grad, seed)


def test_views_kept_grads_and_retained_values_own_their_arrays():
    x = Value(np.arange(6.0))
    h = (x * 2.0).retain_grad()
    out = h.reshape(2, 3).sum() + x.reshape(3, 2).T.sum() + h.sum()
    out.backward()
    assert_owned(x.grad, h.grad)
    np.testing.assert_array_equal(x.grad, np.full(6, 5.0))
    np.testing.assert_array_equal(h.grad, np.full(6, 2.0))


def test_a_second_backward_accumulates_into_the_existing_grad_array():
    x = Value([1.0, 2.0])
    (x * x).sum().backward()
    first = x.grad
    (x * 3.0).sum().backward()
    assert x.grad is first
    np.testing.assert_array_equal(x.grad, [5.0, 7.0])


def test_float32_leaves_get_float32_grads_even_from_float64_gradients():
    x = Value([1.0, 2.0], dtype=np.float32)
    (x * 2.0).backward(np.array([1.0, 1.0]))
    assert x.grad.dtype == np.float32


def test_versions_are_compared_only_for_ops_made_before_a_change():
    """A change to any .data makes backward check the ops recorded before it, and only those."""
    w, other = Value([1.0, 2.0], name="w"), Value([3.0])
    early = w * w
    other.data = other.data + 1.0  # unrelated change: early's inputs are unchanged
    late = early * w  # recorded after the change
    late.sum().backward()
    np.testing.assert_array_equal(w.grad, 3.0 * w.data ** 2)
    early = w * w
    w.data = w.data + 1.0
    with pytest.raises(RuntimeError, match=r"op 'mul' was modified in place: its input 0 \('w'"):
        early.sum().backward()


# --- matmul ----------------------------------------------------------------------------
@st.composite
def matmul_operands(draw):
    """Two arrays numpy's matmul accepts, 1-D to 3-D, sizes 0 to 3, mixed dtypes included."""
    n, k, m = (draw(st.integers(0, 3)) for _ in range(3))
    a_shape = draw(st.sampled_from([(k,), (n, k), (2, n, k)]))
    b_shape = draw(st.sampled_from([(k,), (k, m), (2, k, m)]))
    arrays = []
    for shape in (a_shape, b_shape):
        dtype = draw(st.sampled_from([np.float64, np.float32, np.int64]))
        array = draw(hnp.arrays(dtype, shape, elements=st.integers(-8, 8)))
        if len(shape) == 2 and draw(st.booleans()):  # a transposed (non-contiguous) view
            array = np.ascontiguousarray(array.T).T
        arrays.append(array)
    return arrays


@given(matmul_operands())
@settings(max_examples=40)
def test_matmul_gradients_equal_the_plain_formulas(operands):
    a, b = (Value(x.astype(np.float64)) for x in operands)
    upstream = np.arange(1.0, 1.0 + np.matmul(a.data, b.data).size).reshape(
        np.matmul(a.data, b.data).shape)
    (a @ b).backward(upstream)
    A = a.data if a.ndim > 1 else a.data[None]          # as matrices, for the textbook formulas
    B = b.data if b.ndim > 1 else b.data[:, None]
    G = upstream.reshape(np.matmul(A, B).shape)
    ga = np.matmul(G, np.swapaxes(B, -1, -2))
    gb = np.matmul(np.swapaxes(A, -1, -2), G)
    for value, g_matrix, matrix in ((a, ga, A), (b, gb, B)):  # summed over the batch axes
        expected = plain_sum_to(g_matrix, matrix.shape[-2:] if value.ndim == 1 else value.shape)
        np.testing.assert_array_equal(value.grad, expected.reshape(value.shape))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("rows, inner, cols", [(127, 3, 4), (128, 3, 1), (128, 3, 2), (800, 3, 4),
                                               (300, 3, 16), (300, 3, 17), (300, 16, 4),
                                               (300, 17, 4)])
def test_tall_narrow_matmul_results_equal_numpys_and_their_gradients_too(rows, inner, cols, dtype,
                                                                         rng):
    """Many rows and few columns, a short or longer inner dimension, C- or Fortran-ordered
    inputs, with a bias added: numpy's results and the textbook gradients."""
    a = rng.integers(-8, 9, (rows, inner)).astype(dtype)
    b = rng.integers(-8, 9, (inner, cols)).astype(dtype)
    out = ops.matmul(a, b)
    assert out.dtype == dtype
    np.testing.assert_array_equal(out, np.matmul(a, b))  # integer-valued: exact in any order
    for a_arg in (a, np.asfortranarray(a)):
        w, bias = Value(b), Value(rng.integers(-4, 5, cols).astype(dtype))
        upstream = rng.integers(-4, 5, (rows, cols)).astype(dtype)
        (a_arg @ w + bias).backward(upstream)
        np.testing.assert_array_equal(w.grad, a.T @ upstream)
        np.testing.assert_array_equal(bias.grad, upstream.sum(axis=0))
        x = Value(a_arg)
        (x @ Value(b)).backward(upstream)
        np.testing.assert_array_equal(x.grad, upstream @ b.T)


def test_matmul_of_mismatched_or_0d_operands_fails_naming_the_op():
    with pytest.raises(ValueError, match=r"matmul: invalid input shapes \(2, 3\), \(2, 3\)"):
        Value(np.ones((2, 3))) @ Value(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"matmul: invalid input shapes \(\), \(2,\)"):
        ops.matmul(Value(2.0), Value([1.0, 2.0]))


# --- squares and full reductions -----------------------------------------------------
@given(x=hnp.arrays(st.sampled_from([np.float64, np.float32]),
                    hnp.array_shapes(min_dims=0, max_dims=3), elements=st.floats(-1e3, 1e3, width=32)),
       keepdims=st.booleans())
def test_square_and_full_mean_gradients_are_the_plain_formulas(x, keepdims):
    v = Value(x)
    upstream = np.float64(3.0)
    loss = (v ** 2).mean(keepdims=keepdims) * upstream
    (g,) = grad(loss.sum(), [v], create_graph=True)
    expected = (upstream / max(x.size, 1)) * (2.0 * x)
    assert g.dtype == x.dtype and g.shape == x.shape
    np.testing.assert_allclose(g.data, expected.astype(x.dtype), rtol=1e-6)
    (g2,) = grad(g.sum(), [v])  # d/dx of sum(2 c x) = 2 c everywhere
    np.testing.assert_allclose(g2.data, np.full(x.shape, 2.0 * upstream / max(x.size, 1)), rtol=1e-6)


def test_list_operands_are_arrays_to_the_vjps():
    w = Value(np.arange(6.0).reshape(2, 3))
    ([1.0, 2.0] @ w).sum().backward()
    np.testing.assert_array_equal(w.grad, [[1.0] * 3, [2.0] * 3])
    v = Value([1.0, 2.0, 3.0])
    (v @ [[1.0], [0.0], [2.0]]).sum().backward()
    np.testing.assert_array_equal(v.grad, [1.0, 0.0, 2.0])
    x = Value([1.0, 2.0], dtype=np.float32)
    y = x * [3.0, 4.0]  # numpy's own rule: a list is a float64 array
    assert y.dtype == (x.data * [3.0, 4.0]).dtype
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 4.0])


# --- broadcast gradients and keepdims ---------------------------------------------------
def test_broadcast_gradients_are_summed_plainly_and_recorded_under_create_graph():
    """A broadcast gradient is summed back to its input's shape (plain numpy, which only its value
    can show), and under create_graph the sum is a recorded sum_to, differentiable again."""
    b = Value(np.array([1.0, 2.0, 3.0]))
    x = np.arange(12.0).reshape(4, 3)
    ((x * b) ** 2).sum().backward()
    np.testing.assert_allclose(b.grad, (2 * x * x * b.data).sum(axis=0))
    (g,) = grad(((x * b) ** 2).sum(), [b], create_graph=True)
    assert g.op == "sum_to" and g.requires_grad
    (h,) = grad(g.sum(), [b])  # d/db of sum_i 2 x_i^2 b = 2 sum_i x_i^2
    np.testing.assert_allclose(h.data, 2 * (x * x).sum(axis=0))


@pytest.mark.parametrize("keepdims", [None, 0, np.False_])
def test_falsy_keepdims_other_than_false_behave_as_in_numpy(keepdims):
    """keepdims=None, 0 or np.False_ reach numpy as given: an error where numpy rejects them
    (numpy 2 rejects None and numpy bools), else numpy's result, with the option recorded as given."""
    x = Value(np.arange(6.0).reshape(2, 3))
    for method in (x.sum, x.mean):
        try:
            expected = getattr(np, method.__name__)(x.data, keepdims=keepdims)
        except TypeError:
            with pytest.raises(TypeError):
                method(keepdims=keepdims)
            continue
        out = method(keepdims=keepdims)
        np.testing.assert_array_equal(out.data, expected)
        assert out._record.options == {"axis": None, "keepdims": keepdims}

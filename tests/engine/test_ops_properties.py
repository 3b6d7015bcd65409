"""Every primitive and function against central finite differences, in float64.

Hypothesis draws shapes (broadcasting pairs, size-1 axes, 0-d) and a seed for
the values; values are kept inside each op's domain and away from its kinks
(|x| >= 0.1 for abs/relu, no ties for max/min unless a test is about ties),
because a finite difference across a kink measures neither side.
Smooth ops also get `gradgradcheck` (second derivatives through the recorded
backward), on smaller shapes and fewer examples to keep the suite fast.
"""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import autograd_lite as ag
from autograd_lite import Value, gradcheck, gradgradcheck

shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3)
small_shapes = hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=2)
pairs = hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, min_side=1, max_side=3)
small_pairs = hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=2, min_side=1, max_side=2)
seeds = st.integers(0, 2**32 - 1)
second_order = settings(max_examples=15)


def values(seed, shape, low=-2.0, high=2.0, away_from_zero=False):
    """float64 uniform values; with away_from_zero, |x| >= 0.1 (no kink at 0 inside eps)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(low, high, size=shape)
    if away_from_zero:
        x = np.sign(rng.uniform(-1, 1, size=shape)) * rng.uniform(0.1, 2.0, size=shape)
    return np.asarray(x)


def distinct(seed, shape):
    """Values at least 0.01 apart from each other (no ties for max/min/maximum)."""
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape))
    return (rng.permutation(n) * 0.05 - n * 0.025 + rng.uniform(0, 0.01)).reshape(shape)


def check(fn, *arrays, second=False):
    inputs = [Value(a) for a in arrays]
    assert gradcheck(fn, inputs)
    if second:
        assert gradgradcheck(fn, inputs)


# --- elementwise --------------------------------------------------------------------
SMOOTH_UNARY = {
    "exp": (lambda x: x.exp(), -2, 2),
    "log": (lambda x: x.log(), 0.2, 3),
    "sqrt": (lambda x: x.sqrt(), 0.2, 3),
    "tanh": (lambda x: x.tanh(), -2, 2),
    "sigmoid": (lambda x: x.sigmoid(), -4, 4),
    "sin": (lambda x: x.sin(), -3, 3),
    "cos": (lambda x: x.cos(), -3, 3),
    "neg": (lambda x: -x, -2, 2),
    "square": (lambda x: x ** 2, -2, 2),
    "cube": (lambda x: x ** 3, -2, 2),
    "pow_half": (lambda x: x ** 0.5, 0.2, 3),
    "pow_minus_one": (lambda x: x ** -1, 0.5, 3),
    "pow_zero": (lambda x: x ** 0, -2, 2),
    "pos": (lambda x: +x * 1.0, -2, 2),
}
KINKED_UNARY = {
    "abs": lambda x: x.abs(),
    "builtin_abs": lambda x: abs(x),
    "relu": lambda x: x.relu(),
    "leaky_relu": lambda x: x.leaky_relu(),
    "leaky_relu_0.2": lambda x: x.leaky_relu(negative_slope=0.2),
    "clip": lambda x: x.clip(-0.95, 1.05),  # values are never within 0.05 of these
    "clip_low_only": lambda x: x.clip(lo=0.05),
    "clip_high_only": lambda x: x.clip(hi=-0.05),
}


@pytest.mark.parametrize("name", sorted(SMOOTH_UNARY))
@given(shape=shapes, seed=seeds)
def test_smooth_unary_gradient(name, shape, seed):
    fn, low, high = SMOOTH_UNARY[name]
    check(fn, values(seed, shape, low, high))


@pytest.mark.parametrize("name", sorted(SMOOTH_UNARY))
@second_order
@given(shape=small_shapes, seed=seeds)
def test_smooth_unary_second_derivative(name, shape, seed):
    fn, low, high = SMOOTH_UNARY[name]
    check(fn, values(seed, shape, low, high), second=True)


@pytest.mark.parametrize("name", sorted(KINKED_UNARY))
@given(shape=shapes, seed=seeds)
def test_kinked_unary_gradient_away_from_kinks(name, shape, seed):
    x = values(seed, shape, away_from_zero=True)
    x = np.where(np.abs(np.abs(x) - 1.0) < 0.06, x * 0.9, x)  # keep clear of the clip bounds
    check(KINKED_UNARY[name], x)


BINARY = {
    "add": (lambda a, b: a + b, False),
    "sub": (lambda a, b: a - b, False),
    "mul": (lambda a, b: a * b, False),
    "div": (lambda a, b: a / b, True),
    "pow": (lambda a, b: a.abs() ** b, True),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@given(shapes=pairs, seed=seeds)
def test_broadcasting_binary_gradient(name, shapes, seed):
    fn, away = BINARY[name]
    a_shape, b_shape = shapes.input_shapes
    check(fn, values(seed, a_shape, away_from_zero=True), values(seed + 1, b_shape, away_from_zero=away))


@pytest.mark.parametrize("name", sorted(BINARY))
@second_order
@given(shapes=small_pairs, seed=seeds)
def test_broadcasting_binary_second_derivative(name, shapes, seed):
    fn, away = BINARY[name]
    a_shape, b_shape = shapes.input_shapes
    check(fn, values(seed, a_shape, away_from_zero=True),
          values(seed + 1, b_shape, away_from_zero=away), second=True)


@pytest.mark.parametrize("fn", [lambda a, b: a * b, lambda a, b: a - b, lambda a, b: a / b,
                                lambda a, b: a ** b, lambda a, b: a + b, lambda a, b: a @ b])
@given(seed=seeds)
def test_numpy_constants_mix_in_on_either_side(fn, seed):
    a, c = values(seed, (3, 3), 0.5, 2), values(seed + 1, (3, 3), 0.5, 2)
    check(lambda x: fn(x, c), a, second=True)
    check(lambda x: fn(c, x), a, second=True)


@given(shapes=pairs, seed=seeds)
def test_constant_array_exponent_is_not_differentiated(shapes, seed):
    x_shape, p_shape = shapes.input_shapes
    exponent = np.random.default_rng(seed).integers(-2, 4, size=p_shape).astype(float)
    x = values(seed, x_shape, away_from_zero=True)  # negative bases are fine: p is an integer
    np.testing.assert_allclose((Value(x) ** exponent).data, x ** exponent)
    check(lambda v: v ** exponent, x, second=True)


@given(shapes=pairs, seed=seeds)
def test_maximum_and_minimum_without_ties(shapes, seed):
    a_shape, b_shape = shapes.input_shapes
    rng = np.random.default_rng(seed)
    a = rng.integers(-20, 20, size=a_shape) * 0.1         # multiples of 0.1 ...
    b = rng.integers(-20, 20, size=b_shape) * 0.1 + 0.05  # ... never within 0.05 of these
    np.testing.assert_array_equal(ag.maximum(Value(a), Value(b)).data, np.maximum(a, b))
    check(ag.maximum, a, b, second=True)
    check(ag.minimum, a, b)


def test_maximum_and_minimum_split_the_gradient_on_ties_like_pytorch():
    a, b = Value([1.0, 2.0, 3.0]), Value([1.0, 5.0, 0.0])
    ag.maximum(a, b).sum().backward()
    np.testing.assert_allclose(a.grad, [0.5, 0.0, 1.0])
    np.testing.assert_allclose(b.grad, [0.5, 1.0, 0.0])
    a.grad = b.grad = None
    ag.minimum(a, b).sum().backward()
    np.testing.assert_allclose(a.grad, [0.5, 1.0, 0.0])
    np.testing.assert_allclose(b.grad, [0.5, 0.0, 1.0])
    # the tie share is also what central differences see
    assert gradcheck(ag.maximum, [Value([1.0, 2.0]), Value([1.0, 0.0])])


@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=3, max_side=3), seed=seeds)
def test_where_routes_the_gradient_to_the_chosen_side(shapes, seed):
    c_shape, a_shape, b_shape = shapes.input_shapes
    cond = np.random.default_rng(seed).uniform(size=c_shape) > 0.5
    check(lambda a, b: ag.where(cond, a, b), values(seed, a_shape), values(seed + 1, b_shape),
          second=True)


def test_where_accepts_a_value_condition_and_constant_branches():
    x = Value([-1.0, 2.0, -3.0])
    y = ag.where(x > 0, x, 0.0) + ag.where(Value([1.0, 0.0, 0.0]), 5.0, x)
    y.sum().backward()
    np.testing.assert_allclose(y.data, [5.0, 4.0, -3.0])
    np.testing.assert_allclose(x.grad, [0.0, 2.0, 1.0])


# --- matrix product -----------------------------------------------------------------
MATMUL_SHAPES = [((3,), (3,)), ((3,), (3, 2)), ((2, 3), (3,)), ((2, 3), (3, 4)),
                 ((2, 2, 3), (3, 4)), ((3,), (2, 3, 4)), ((2, 3, 4), (4,)),
                 ((1, 2, 3), (2, 3, 2)), ((2, 1, 2, 3), (3, 3, 1)), ((1, 1), (1, 1))]


@pytest.mark.parametrize("a_shape,b_shape", MATMUL_SHAPES)
@second_order
@given(seed=seeds)
def test_matmul_including_vectors_and_batch_broadcasting(a_shape, b_shape, seed):
    check(lambda a, b: a @ b, values(seed, a_shape), values(seed + 1, b_shape), second=True)



# x @ weight.T + bias as one op (nn.Linear's), for inputs with any number of leading axes
LINEAR_SHAPES = [((3,), (2, 3), (2,)), ((4, 3), (2, 3), (2,)), ((2, 4, 3), (2, 3), (2,)),
                 ((4, 3), (2, 3), None), ((4, 3), (2, 3), (1,)), ((4, 3), (2, 3), (4, 2)),
                 ((1, 1), (1, 1), (1,))]


@pytest.mark.parametrize("x_shape,w_shape,b_shape", LINEAR_SHAPES)
@second_order
@given(seed=seeds)
def test_linear_equals_matmul_with_the_transpose_plus_bias(x_shape, w_shape, b_shape, seed):
    arrays = [values(seed, x_shape), values(seed + 1, w_shape)]
    if b_shape is not None:
        arrays.append(values(seed + 2, b_shape))
    out = ag.linear(*[Value(a) for a in arrays])
    expected = arrays[0] @ arrays[1].T + (arrays[2] if b_shape is not None else 0.0)
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-12)
    check(lambda *inputs: ag.linear(*inputs), *arrays, second=True)


def test_linear_takes_constant_inputs_and_names_itself_in_shape_errors():
    x, w, b = np.ones((4, 3)), Value(np.ones((2, 3))), Value(np.zeros(2))
    ag.linear(x, w, b).sum().backward()
    np.testing.assert_allclose(w.grad, np.full((2, 3), 4.0))
    np.testing.assert_allclose(b.grad, [4.0, 4.0])
    with pytest.raises(ValueError, match=r"linear: invalid input shapes \(4, 3\), \(2, 4\)"):
        ag.linear(x, Value(np.ones((2, 4))))

# --- reductions ----------------------------------------------------------------------
@st.composite
def shape_and_axis(draw, shapes=shapes):
    shape = draw(shapes)
    ndim = len(shape)
    axis = draw(st.one_of(
        st.none(),
        st.integers(-ndim, ndim - 1) if ndim else st.none(),
        st.lists(st.integers(0, ndim - 1), unique=True, max_size=ndim).map(tuple)
        if ndim else st.none()))
    return shape, axis, draw(st.booleans())


REDUCTIONS = {
    "sum": lambda x, axis, keep: x.sum(axis=axis, keepdims=keep),
    "mean": lambda x, axis, keep: x.mean(axis=axis, keepdims=keep),
    "var": lambda x, axis, keep: x.var(axis=axis, keepdims=keep),
    "logsumexp": lambda x, axis, keep: x.logsumexp(axis=axis, keepdims=keep),
}


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@given(case=shape_and_axis(), seed=seeds)
def test_smooth_reductions(name, case, seed):
    shape, axis, keep = case
    x = values(seed, shape)
    out = REDUCTIONS[name](Value(x), axis, keep)
    reference = {"sum": np.sum, "mean": np.mean, "var": np.var}.get(name)
    if reference is not None:
        np.testing.assert_allclose(out.data, reference(x, axis=axis, keepdims=keep), atol=1e-12)
    check(lambda v: REDUCTIONS[name](v, axis, keep), x)


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@second_order
@given(case=shape_and_axis(small_shapes), seed=seeds)
def test_smooth_reductions_second_derivative(name, case, seed):
    shape, axis, keep = case
    check(lambda v: REDUCTIONS[name](v, axis, keep), values(seed, shape), second=True)


@pytest.mark.parametrize("method", ["max", "min"])
@given(case=shape_and_axis(), seed=seeds)
def test_max_and_min_reductions_without_ties(method, case, seed):
    shape, axis, keep = case
    x = distinct(seed, shape)
    out = getattr(Value(x), method)(axis=axis, keepdims=keep)
    np.testing.assert_array_equal(out.data, getattr(np, method)(x, axis=axis, keepdims=keep))
    check(lambda v: getattr(v, method)(axis=axis, keepdims=keep), x, second=True)


def test_max_reduction_splits_ties_evenly():
    x = Value([[1.0, 3.0, 3.0], [2.0, 0.0, 2.0]])
    x.max(axis=1).sum().backward()
    np.testing.assert_allclose(x.grad, [[0, 0.5, 0.5], [0.5, 0, 0.5]])


@pytest.mark.parametrize("ddof", [0, 1])
def test_var_matches_numpy_and_torch_convention(ddof):
    x = np.arange(12.0).reshape(3, 4) ** 1.5
    out = Value(x).var(axis=0, ddof=ddof)
    np.testing.assert_allclose(out.data, np.var(x, axis=0, ddof=ddof))
    check(lambda v: v.var(axis=1, ddof=ddof, keepdims=True), x, second=True)


@pytest.mark.filterwarnings("error")
def test_logsumexp_is_stable_for_huge_and_minus_infinite_inputs():
    x = Value([1000.0, 1000.0])
    out = x.logsumexp()
    np.testing.assert_allclose(out.data, 1000.0 + np.log(2.0))
    out.backward()
    np.testing.assert_allclose(x.grad, [0.5, 0.5])
    assert Value([-np.inf, -np.inf]).logsumexp().item() == -np.inf


# --- softmax family -----------------------------------------------------------------
@pytest.mark.parametrize("fn", [ag.softmax, ag.log_softmax])
@given(case=shape_and_axis(hnp.array_shapes(min_dims=1, max_dims=3, max_side=3)), seed=seeds)
def test_softmax_and_log_softmax(fn, case, seed):
    shape, _, _ = case
    axis = seed % len(shape) - len(shape)
    x = values(seed, shape, -3, 3)
    out = fn(Value(x), axis=axis)
    p = np.exp(x - x.max(axis=axis, keepdims=True))
    p /= p.sum(axis=axis, keepdims=True)
    np.testing.assert_allclose(out.data, p if fn is ag.softmax else np.log(p), atol=1e-12)
    check(lambda v: fn(v, axis=axis), x)


@pytest.mark.parametrize("fn", [ag.softmax, ag.log_softmax])
@second_order
@given(shape=hnp.array_shapes(min_dims=1, max_dims=2, max_side=3), seed=seeds)
def test_softmax_and_log_softmax_second_derivative(fn, shape, seed):
    check(lambda v: fn(v, axis=-1), values(seed, shape, -3, 3), second=True)


# --- shapes, indexing, joining -------------------------------------------------------
@st.composite
def reshapes(draw):
    shape = draw(shapes)
    size = int(np.prod(shape))
    divisors = [d for d in range(1, size + 1) if size % d == 0]
    first = draw(st.sampled_from(divisors))
    new = draw(st.sampled_from([(first, -1), (size,), (-1,), (1, size, 1), (first, size // first)]))
    return shape, new


@given(case=reshapes(), seed=seeds)
def test_reshape_and_flatten(case, seed):
    shape, new = case
    x = values(seed, shape)
    assert Value(x).reshape(*new).shape == x.reshape(new).shape
    check(lambda v: v.reshape(new) * v.reshape(*new), x, second=True)
    check(lambda v: v.flatten() ** 2, x)


@given(shape=shapes, seed=seeds, data=st.data())
def test_transpose_T_and_swapaxes(shape, seed, data):
    x = values(seed, shape)
    axes = tuple(data.draw(st.permutations(range(len(shape)))))
    negative = tuple(a - len(shape) for a in axes)
    np.testing.assert_array_equal(Value(x).transpose(*axes).data, x.transpose(axes))
    check(lambda v: v.transpose(axes) * 2.0, x, second=True)
    check(lambda v: v.transpose(*negative), x)
    check(lambda v: v.T, x)
    if len(shape) >= 2:
        check(lambda v: v.swapaxes(0, -1), x)


@st.composite
def basic_indices(draw, shape):
    """A tuple of ints, slices (any step, negative too), None and Ellipsis for `shape`."""
    parts = []
    for n in shape:
        parts.append(draw(st.one_of(
            st.integers(-n, n - 1),
            st.builds(slice, st.none() | st.integers(-n - 1, n + 1),
                      st.none() | st.integers(-n - 1, n + 1),
                      st.none() | st.sampled_from([-2, -1, 1, 2])))))
    if parts and draw(st.booleans()):
        parts[draw(st.integers(0, len(parts) - 1))] = Ellipsis
    if draw(st.booleans()):
        parts.insert(draw(st.integers(0, len(parts))), None)
    return tuple(parts)


@given(shape=shapes, seed=seeds, data=st.data())
def test_basic_indexing(shape, seed, data):
    x = values(seed, shape)
    index = data.draw(basic_indices(shape))
    np.testing.assert_array_equal(Value(x)[index].data, x[index])
    check(lambda v: v[index] * 3.0, x, second=True)


@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=4), seed=seeds, data=st.data())
def test_integer_array_indexing_with_repeated_indices(shape, seed, data):
    x = values(seed, shape)
    rows = np.array(data.draw(st.lists(st.integers(-shape[0], shape[0] - 1), min_size=1,
                                       max_size=6)))
    np.testing.assert_array_equal(Value(x)[rows].data, x[rows])
    check(lambda v: v[rows] ** 2, x, second=True)
    check(lambda v: v[list(rows)] * 2.0, x)
    if len(shape) >= 2:
        cols = np.resize(np.arange(shape[1]), rows.shape)
        check(lambda v: v[rows, cols] ** 2, x)
        check(lambda v: v[..., cols[:1]] * 2.0, x)
        check(lambda v: v[1:, cols] * 2.0, x)


def test_repeated_indices_accumulate_and_masks_select():
    x = Value([1.0, 2.0, 3.0])
    y = x[np.array([0, 0, 2, 0])] * Value([1.0, 2.0, 3.0, 4.0], requires_grad=False)
    y.sum().backward()
    np.testing.assert_allclose(x.grad, [7.0, 0.0, 3.0])
    x.grad = None
    x[x.data > 1.5].sum().backward()
    np.testing.assert_allclose(x.grad, [0.0, 1.0, 1.0])
    x.grad = None
    x[Value([2.0, 1.0], requires_grad=False)].sum().backward()  # float indices become ints
    np.testing.assert_allclose(x.grad, [0.0, 1.0, 1.0])


@pytest.mark.parametrize("join", ["concatenate", "stack"])
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=3), count=st.integers(1, 3),
       seed=seeds, data=st.data())
def test_concatenate_and_stack(join, shape, count, seed, data):
    ndim = len(shape) + (join == "stack")
    axis = data.draw(st.integers(-ndim, ndim - 1))
    arrays = []
    for i in range(count):
        s = list(shape)
        if join == "concatenate":
            s[axis] = data.draw(st.integers(1, 3))
        arrays.append(values(seed + i, tuple(s)))
    fn = getattr(ag, join)
    np.testing.assert_array_equal(fn([Value(a) for a in arrays], axis=axis).data,
                                  getattr(np, join)(arrays, axis=axis))
    check(lambda *vs: fn(list(vs), axis=axis) ** 2, *arrays, second=True)
    if join == "concatenate":
        check(lambda *vs: fn(list(vs), axis=None) ** 2, *arrays)
    constant = np.ones_like(arrays[0])  # a plain array mixes in as a constant
    check(lambda v: fn([constant, v], axis=axis), arrays[0])


# --- convolution and pooling --------------------------------------------------------
@st.composite
def conv_cases(draw):
    n, c, o = draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(st.integers(1, 2))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    stride = draw(st.sampled_from([1, 2, (1, 2), (2, 1)]))
    padding = draw(st.sampled_from([0, 1, (0, 1), (2, 0)]))
    h, w = draw(st.integers(max(kh - 1, 1), 5)), draw(st.integers(max(kw - 1, 1), 5))
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    if h + 2 * ph < kh or w + 2 * pw < kw:
        h, w = kh, kw
    return (n, c, h, w), (o, c, kh, kw), stride, padding, draw(st.booleans())


def conv2d_reference(x, w, b, stride, padding):
    """A direct loop over output positions, independent of the engine's windows/fold."""
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    x = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    n, _, h, wd = x.shape
    o, _, kh, kw = w.shape
    out = np.zeros((n, o, (h - kh) // sh + 1, (wd - kw) // sw + 1))
    for i in range(out.shape[2]):
        for j in range(out.shape[3]):
            patch = x[:, :, i * sh:i * sh + kh, j * sw:j * sw + kw]
            out[:, :, i, j] = np.einsum("nchw,ochw->no", patch, w)
    return out + (b.reshape(1, -1, 1, 1) if b is not None else 0.0)


@given(case=conv_cases(), seed=seeds)
def test_conv2d_with_stride_and_padding(case, seed):
    x_shape, w_shape, stride, padding, bias = case
    x, w = values(seed, x_shape), values(seed + 1, w_shape)
    b = values(seed + 2, (w_shape[0],)) if bias else None
    out = ag.conv2d(Value(x), Value(w), None if b is None else Value(b), stride, padding)
    np.testing.assert_allclose(out.data, conv2d_reference(x, w, b, stride, padding), atol=1e-12)
    if bias:
        check(lambda x, w, b: ag.conv2d(x, w, b, stride=stride, padding=padding), x, w, b)
    else:
        check(lambda x, w: ag.conv2d(x, w, stride=stride, padding=padding), x, w)


@settings(max_examples=10)
@given(case=conv_cases(), seed=seeds)
def test_conv2d_second_derivative(case, seed):
    x_shape, w_shape, stride, padding, _ = case
    check(lambda x, w: ag.conv2d(x, w, stride=stride, padding=padding),
          values(seed, x_shape), values(seed + 1, w_shape), second=True)


@given(n=st.integers(1, 2), c=st.integers(1, 2), h=st.integers(2, 5), w=st.integers(2, 5),
       kernel=st.sampled_from([1, 2, 3, (2, 1), (1, 3)]),
       stride=st.sampled_from([None, 1, 2, (1, 2)]), seed=seeds)
def test_max_pool2d(n, c, h, w, kernel, stride, seed):
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    if h < kh or w < kw:
        h, w = max(h, kh), max(w, kw)
    x = distinct(seed, (n, c, h, w))
    out = ag.max_pool2d(Value(x), kernel, stride)
    sh, sw = (kh, kw) if stride is None else (stride, stride) if isinstance(stride, int) else stride
    expected = np.array([[[[x[a, b, i:i + kh, j:j + kw].max()
                            for j in range(0, w - kw + 1, sw)]
                           for i in range(0, h - kh + 1, sh)]
                          for b in range(c)] for a in range(n)])
    np.testing.assert_array_equal(out.data, expected)
    check(lambda v: ag.max_pool2d(v, kernel, stride), x, second=True)


def test_contiguous_copies_to_c_order_and_passes_the_gradient_through():
    x = Value(np.arange(6.0).reshape(2, 3))
    y = ag.ops.contiguous(x.T)
    assert y.data.flags.c_contiguous and y.op == "contiguous"
    np.testing.assert_array_equal(y.data, x.data.T)
    (y * np.arange(6.0).reshape(3, 2)).sum().backward()
    np.testing.assert_array_equal(x.grad, np.arange(6.0).reshape(3, 2).T)
    # conv2d's output (a channels-last product moved to NCHW) comes back C-ordered: the ops
    # after it (ReLU, pooling, their backward) run over contiguous arrays
    out = ag.conv2d(Value(np.ones((2, 1, 5, 5))), Value(np.ones((3, 1, 2, 2))))
    assert out.shape == (2, 3, 4, 4) and out.data.flags.c_contiguous


def test_linear_refuses_what_its_backward_could_not_handle():
    x = Value(np.ones((4, 3)))
    with pytest.raises(ValueError, match=r"linear: weight must be 2-D .* got shape \(3,\)"):
        ag.linear(x, Value(np.ones(3)))
    with pytest.raises(ValueError, match=r"linear: bias of shape \(4, 2\) does not broadcast "
                                         r"to the output shape \(1, 2\)"):
        ag.linear(Value(np.ones((1, 3))), Value(np.ones((2, 3))), Value(np.ones((4, 2))))


def test_bias_gradient_to_one_element_keeps_float32_accuracy():
    # a 1-output layer's bias summed over a million rows: numpy's pairwise sum is exact here
    x = Value(np.ones((1_000_000, 4), np.float32), requires_grad=False)
    w, b = Value(np.ones((1, 4), np.float32)), Value(np.zeros(1, np.float32))
    ag.linear(x, w, b).mean().backward()
    assert b.grad.dtype == np.float32 and b.grad[0] == 1.0


def test_max_pool_output_never_shares_memory_with_its_input():
    x = Value(np.arange(16.0).reshape(1, 1, 4, 4))
    y = ag.max_pool2d(x, 1)
    assert not np.shares_memory(y.data, x.data)
    np.testing.assert_array_equal(y.data, x.data)


def test_contiguous_keeps_zero_d_values_zero_d():
    assert ag.ops.contiguous(Value(3.0)).shape == ()

"""The table of primitives: every op's forward next to its vector-Jacobian product.

Each entry is `name = primitive(name, forward, *vjps)`, one vjp per input.
A vjp receives the upstream gradient `g`, the forward result `ans` and the
op's inputs, and returns the gradient for its input; backward calls only the
vjps of inputs that need a gradient, and hands `g` on without a call where the
vjp is `unchanged` (an input that passes into the output as it is). A vjp uses
only operators, methods and other entries of this table, so one definition
serves numpy arrays (a plain backward) and `Value`s (`create_graph=True`: the
backward is recorded too, which is what makes second and higher derivatives
work).

Gradients may come back in a broadcast shape; the engine sums them back to
each input's shape with `sum_to`, so no vjp has to care about broadcasting.
Masks (where an input was positive, which element was the max) are taken
from the raw data: their derivative is zero almost everywhere.
"""
import builtins
import functools
import math
import numbers

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .value import Value, primitive, _in_place, _operator, _raw


def unchanged(g, ans, *inputs, **kwargs):
    """The vjp of an input that passes into the output as it is (add's, sub's first): g itself.

    backward() knows it and hands g on without calling it.
    """
    return g


def _like(mask, g):
    """A numpy mask in g's float dtype, so float32 gradients stay float32."""
    return np.asarray(mask).astype(g.dtype, copy=False)


def _kept_shape(shape, axis):
    """`shape` with the reduced axes kept as size 1 (what keepdims=True gives)."""
    if axis is None:
        return (1,) * len(shape)
    axes = {a % len(shape) for a in ((axis,) if isinstance(axis, numbers.Integral) else axis)}
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def count_reduced(shape, axis):
    """How many elements a reduction over `axis` folds into each result."""
    if axis is None:
        return math.prod(shape)
    return math.prod(shape) // builtins.max(math.prod(_kept_shape(shape, axis)), 1)


def _expand(g, shape, axis):
    """Broadcast a reduction's gradient `g` back to the input's `shape`."""
    if axis is not None:  # put back the reduced axes (a full reduction's g broadcasts as it is)
        g = g.reshape(_kept_shape(shape, axis))
    return broadcast_to(g, shape)


def _sum_to_forward(x, shape):
    """Sum `x` down to `shape`: the leading axes broadcasting added, and those it stretched from 1."""
    if x.shape == shape:
        return x
    size = math.prod(shape)
    lead = x.ndim - len(shape)
    kind = x.dtype.char
    if size == 1 and kind != "d":
        # into one element: numpy's pairwise sum keeps float32 accurate (a float64 bias-shaped
        # sum is accurate enough in BLAS, below, and faster: (800, 1) -> (1,) in 1 us, not 3)
        return np.asarray(np.add.reduce(x, axis=None)).reshape(shape)
    if x.shape[lead:] == shape and kind in "fd":
        # only leading axes (a bias gradient): one BLAS call, ones @ rows, is several times
        # faster than numpy's reduction over the first axis of a narrow array
        rows = x if x.ndim == 2 and lead == 1 else x.reshape(math.prod(x.shape[:lead]), size)
        out = _ones(len(rows), kind).dot(rows)  # (the method: np.dot's dispatch costs more)
        return out if len(shape) == 1 else out.reshape(shape)  # (a view would be copied into .grad)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and x.shape[lead + i] != 1)
    return np.add.reduce(x, axis=axes).reshape(shape)


def _ones(n, kind):
    """A vector of n ones of type code `kind` ("d", "f"; it hashes faster than a numpy dtype).

    Batch-sized ones are kept (read-only), since batch sizes repeat.
    """
    return _small_ones(n, kind) if n <= 65536 else np.ones(n, dtype=kind)


@functools.lru_cache(maxsize=16)
def _small_ones(n, kind):
    ones = np.ones(n, dtype=kind)
    ones.flags.writeable = False
    return ones


def _broadcast_to_forward(x, shape):
    """`x` repeated to `shape`, as a new array (numpy's broadcast_to view costs more on small arrays)."""
    out = np.empty(shape, dtype=x.dtype if hasattr(x, "dtype") else np.result_type(x))
    out[...] = x
    return out


# --- broadcasting: each is the other's vjp -------------------------------------
sum_to = primitive("sum_to", _sum_to_forward,
                   lambda g, ans, x, shape: broadcast_to(g, np.shape(x)))
broadcast_to = primitive("broadcast_to", _broadcast_to_forward,
                         lambda g, ans, x, shape: sum_to(g, np.shape(x)))

# --- arithmetic: the vjp for a, then the one for b ----------------------------------
add = primitive("add", np.add, unchanged, unchanged)
sub = primitive("sub", np.subtract, unchanged, lambda g, ans, a, b: -g)
mul = primitive("mul", np.multiply, lambda g, ans, a, b: g * b, lambda g, ans, a, b: g * a)
div = primitive("div", np.true_divide,
                lambda g, ans, a, b: g / b, lambda g, ans, a, b: -g * ans / b)
neg = primitive("neg", np.negative, lambda g, ans, x: -g)


def _pow_const_vjp(g, ans, x, exponent):
    # d/dx x**p = p x**(p-1); where p == 0 that is 0, so use x**1 there
    # (x**-1 would be inf at x == 0, and inf * 0 is nan)
    if isinstance(exponent, np.ndarray):
        return g * exponent * x ** np.where(exponent == 0, 1.0, exponent - 1.0)
    if exponent == 2.0:  # a square, the common case: 2x needs no power
        return g * (2.0 * x)
    return g * exponent * x ** (exponent - 1.0 if exponent else 1.0)


# x ** p for a constant exponent p (a number or an array): p is not differentiated
pow_scalar = primitive("pow", lambda x, exponent: np.power(x, exponent), _pow_const_vjp)


def _power_vjp_exponent(g, ans, a, b):
    # d/db a**b = a**b log a; at a == 0 PyTorch (and the limit for b > 0) give 0
    safe_a = where(_raw(a) == 0, 1.0, a)
    return g * ans * log(safe_a)


def _power_vjp_base(g, ans, a, b):
    # b a**(b-1); where b == 0 that is 0, so use a**0 there (a**-1 is inf at a == 0)
    return g * b * a ** (where(_raw(b) == 0, 1.0, b) - 1)


power = primitive("pow", np.power, _power_vjp_base, _power_vjp_exponent)


def _matmul_forward(a, b):
    """np.matmul's product, through whichever numpy call is fastest for these shapes."""
    if (a.__class__ is np.ndarray and b.__class__ is np.ndarray
            and 0 < a.ndim <= 2 and 0 < b.ndim <= 2):
        rows = a.shape[0] if a.ndim == 2 else 1
        cols = b.shape[1] if b.ndim == 2 else 1
        if (rows >= 128 and 1 < cols <= 16 and a.shape[1] <= 16  # (rows > 1: a is 2-D)
                and a.dtype == b.dtype and a.dtype.char in "fd"):
            # many rows of few columns, from few: made column-major, so numpy adds a bias to
            # it one long column at a time instead of in 800 loops of 4 elements: (800, 4) +
            # (4,) takes 2.7 us instead of 7.2. (A transposed view: as a leaf's gradient it is
            # copied into .grad; writing into an owned array with out= costs more per call.)
            # With a long inner dimension the product dominates, and BLAS computes the
            # transposed one slower: (128, 256) @ (256, 10) takes 18 us instead of 14
            return b.T.dot(a.T).T
        if rows * cols <= 8192:
            # np.dot has less overhead: 0.3-0.4 us less per call, and a (100, 1) @ (1, 30)
            # outer product takes 2.2 us instead of 5.7. On bigger results it is slower (it
            # clears the result before BLAS writes it): 13% on (800, 30) @ (30, 30), 4% on
            # the (784, 128) @ (128, 256) of a weight gradient. (The method, a.dot(b): the
            # function np.dot first asks its arguments for __array_function__, 0.15 us more)
            return a.dot(b)
    return np.matmul(a, b)


def _matmul_vjp_a(g, ans, a, b):
    if b.ndim == 1:  # (..., n, m) @ (m,) -> (..., n)
        return g * b if a.ndim == 1 else g.reshape(g.shape + (1,)) * b
    if a.ndim == 1:  # (n,) @ (..., n, m) -> (..., m)
        return (b @ g.reshape(g.shape + (1,))).reshape(g.shape[:-1] + (b.shape[-2],))
    return _product(g, b.swapaxes(-1, -2))


def _matmul_vjp_b(g, ans, a, b):
    if a.ndim == 1:  # (n,) @ (..., n, m) -> (..., m)
        return g * a if b.ndim == 1 else a.reshape((-1, 1)) * g.reshape(g.shape[:-1] + (1, g.shape[-1]))
    if b.ndim == 1:  # (..., n, m) @ (m,) -> (..., n)
        return (a.swapaxes(-1, -2) @ g.reshape(g.shape + (1,))).reshape(g.shape[:-1] + (a.shape[-1],))
    return _product(a.swapaxes(-1, -2), g)


def _product(a, b):
    """a @ b inside a vjp: straight to the forward for arrays (a plain backward), else recorded.

    (The op's own wrapper would find the same, after looking through its arguments
    for a Value: 0.2 us more per product.)
    """
    if a.__class__ is np.ndarray and b.__class__ is np.ndarray:
        return _matmul_forward(a, b)
    return matmul(a, b)


matmul = primitive("matmul", _matmul_forward, _matmul_vjp_a, _matmul_vjp_b)


def _ndim(a):
    """np.ndim(a), read directly from arrays and values (np.ndim's dispatch costs 0.3 us)."""
    return a.ndim if isinstance(a, (np.ndarray, Value)) else np.ndim(a)


def _rows(a):
    """`a` as a matrix: one row per position along all but its last axis."""
    if a.ndim == 2:
        return a
    return a.reshape(math.prod(a.shape[:-1]), a.shape[-1])


def _linear_forward(x, weight, bias=None):
    out = _matmul_forward(x, weight.T)
    return out if bias is None else out + bias


# x @ weight.T + bias as one op (what nn.Linear computes): one record and one backward
# step instead of three (transpose, matmul, add). The bias gradient is g, summed to
# the bias's shape by the engine; weight's sums over every leading axis of x.
linear_ = primitive("linear", _linear_forward,
                    lambda g, ans, x, weight, bias=None: _product(g, weight),
                    lambda g, ans, x, weight, bias=None: _product(_rows(g).T, _rows(x)),
                    unchanged)


def linear(x, weight, bias=None):
    """x @ weight.T + bias, as one op (PyTorch's functional.linear); no bias if None.

    weight is (out_features, in_features); bias broadcasts to the output (..., out_features)
    and may not enlarge it (its gradient is summed back over the output's shape).
    """
    if _ndim(weight) != 2:
        raise ValueError(f"linear: weight must be 2-D (out_features, in_features), "
                         f"got shape {np.shape(weight)}")
    if bias is None:
        return linear_(x, weight)
    if _ndim(bias) > 1:  # a 1-D bias either fits the output or fails in the forward
        out_shape = np.shape(x)[:-1] + np.shape(weight)[:1]
        if np.broadcast_shapes(np.shape(bias), out_shape) != out_shape:
            raise ValueError(f"linear: bias of shape {np.shape(bias)} does not broadcast to the "
                             f"output shape {out_shape} (input {np.shape(x)}, weight "
                             f"{np.shape(weight)})")
    return linear_(x, weight, bias)

# --- elementwise functions ----------------------------------------------------------
exp = primitive("exp", np.exp, lambda g, ans, x: g * ans)
log = primitive("log", np.log, lambda g, ans, x: g / x)
sqrt = primitive("sqrt", np.sqrt, lambda g, ans, x: g / (2.0 * ans))
abs = primitive("abs", np.abs, lambda g, ans, x: g * np.sign(_raw(x)))
tanh = primitive("tanh", np.tanh, lambda g, ans, x: g * (1.0 - ans * ans))


@np.errstate(over="ignore")  # as a decorator it costs half what a `with` block does
def _sigmoid_forward(x):
    # 1 / (1 + e^-x); far below zero e^-x overflows to inf and 1 / inf = 0 is the right answer
    return 1.0 / (1.0 + np.exp(-x))


def _sigmoid_vjp(g, ans, x):
    slope = 1.0 - ans  # a new array (or Value), so it can be scaled in place
    slope *= ans       # sigmoid' = sigmoid (1 - sigmoid)
    return g * slope   # not in place: g may be of a wider dtype than ans


sigmoid = primitive("sigmoid", _sigmoid_forward, _sigmoid_vjp)
relu = primitive("relu", lambda x: np.maximum(x, 0.0),
                 lambda g, ans, x: g * (_raw(x) > 0))
leaky_relu = primitive(
    "leaky_relu", lambda x, negative_slope: np.where(x > 0, x, x * negative_slope),
    lambda g, ans, x, negative_slope: g * _like(np.where(_raw(x) > 0, 1.0, negative_slope), g))
sin = primitive("sin", np.sin, lambda g, ans, x: g * cos(x))
cos = primitive("cos", np.cos, lambda g, ans, x: -g * sin(x))


def _clip_vjp(g, ans, x, lo, hi):
    inside = np.ones(np.shape(x), dtype=bool)
    if lo is not None:
        inside &= _raw(x) >= lo
    if hi is not None:
        inside &= _raw(x) <= hi
    return g * inside


clip = primitive("clip", lambda x, lo, hi: np.clip(x, lo, hi), _clip_vjp)


def _where_forward(a, b, cond):
    return np.where(cond, a, b)


where_ = primitive("where", _where_forward,
                   lambda g, ans, a, b, cond: g * cond, lambda g, ans, a, b, cond: g * ~cond)


def where(cond, a, b):
    """`a` where `cond` is true, else `b` (numpy broadcasting); cond is not differentiated."""
    return where_(a, b, cond=np.asarray(_raw(cond), dtype=bool))


def _extremum_weights(a, b, a_wins):
    """Gradient share of `a`: 1 where it wins, 1/2 on ties (PyTorch's rule), else 0."""
    a, b = _raw(a), _raw(b)
    return np.where(a == b, 0.5, np.where(a_wins(a, b), 1.0, 0.0))


maximum = primitive("maximum", np.maximum,
                    lambda g, ans, a, b: g * _like(_extremum_weights(a, b, np.greater), g),
                    lambda g, ans, a, b: g * _like(_extremum_weights(b, a, np.greater), g))
minimum = primitive("minimum", np.minimum,
                    lambda g, ans, a, b: g * _like(_extremum_weights(a, b, np.less), g),
                    lambda g, ans, a, b: g * _like(_extremum_weights(b, a, np.less), g))

# --- reductions ---------------------------------------------------------------------
sum = primitive("sum", lambda x, axis=None, keepdims=False: np.add.reduce(x, axis=axis, keepdims=keepdims),
                lambda g, ans, x, axis=None, keepdims=False: _expand(g, x.shape, axis))
mean = primitive(  # np.mean's own arithmetic (a sum, then one division), minus its Python wrapper
    "mean", lambda x, axis=None, keepdims=False:
        np.add.reduce(x, axis=axis, keepdims=keepdims) / count_reduced(np.shape(x), axis),
    lambda g, ans, x, axis=None, keepdims=False:
        _expand(g / count_reduced(x.shape, axis), x.shape, axis))


def _extremum_vjp(g, ans, x, axis=None, keepdims=False):
    # ties share the gradient equally, which is also what central differences see
    kept = _kept_shape(np.shape(x), axis)
    hit = _like(_raw(x) == np.reshape(_raw(ans), kept), g)
    return g.reshape(kept) * (hit / hit.sum(axis=axis, keepdims=True))


max = primitive("max", lambda x, axis=None, keepdims=False: np.max(x, axis=axis, keepdims=keepdims),
                _extremum_vjp)
min = primitive("min", lambda x, axis=None, keepdims=False: np.min(x, axis=axis, keepdims=keepdims),
                _extremum_vjp)


def _logsumexp_forward(x, axis=None, keepdims=False):
    top = np.max(x, axis=axis, keepdims=True, initial=-np.inf)  # empty input -> -inf
    top = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore"):  # all -inf: log(0) = -inf is the right answer
        out = np.log(np.sum(np.exp(x - top), axis=axis, keepdims=True)) + top
    return out if keepdims else np.squeeze(out, axis=axis)


def _logsumexp_vjp(g, ans, x, axis=None, keepdims=False):
    kept = _kept_shape(np.shape(x), axis)
    return g.reshape(kept) * exp(x - ans.reshape(kept))


logsumexp = primitive("logsumexp", _logsumexp_forward, _logsumexp_vjp)

# x - logsumexp(x) as one op (every cross-entropy loss takes it): its vjp, g - softmax * sum(g),
# is one step instead of the subtraction's and logsumexp's with a sum in between
def _log_softmax_forward(x, axis=-1):
    # (x - max) - log(sum(e^(x - max))): the sum is at least 1 (e^0 at the max), so its log
    # is finite; rows holding nan or inf give nan, as in PyTorch
    shifted = x - np.max(x, axis=axis, keepdims=True, initial=-np.inf)  # checks the axis too
    if shifted.size == 0:  # nothing to normalize (and no log(0) warning for an empty axis)
        return shifted
    return shifted - np.log(np.add.reduce(np.exp(shifted), axis=axis, keepdims=True))


log_softmax = primitive(
    "log_softmax", _log_softmax_forward,
    lambda g, ans, x, axis=-1: g - exp(ans) * sum(g, axis=axis, keepdims=True))

# --- shape and indexing -------------------------------------------------------------
reshape = primitive("reshape", lambda x, shape: np.reshape(x, shape),
                    lambda g, ans, x, shape: g.reshape(np.shape(x)))


# a C-ordered copy (PyTorch's .contiguous()): numpy runs much faster over contiguous
# arrays than over transposed views with short rows, e.g. the output of conv2d
contiguous = primitive("contiguous", lambda x: np.asarray(x, order="C"), unchanged)

# a change of dtype (grad() uses it to give each input's gradient in the input's dtype)
astype = primitive("astype", lambda x, dtype: x.astype(dtype),
                   lambda g, ans, x, dtype: astype(g, dtype=_raw(x).dtype))


def _transpose_vjp(g, ans, x, axes):
    if axes is None:
        return g.transpose()
    return g.transpose(tuple(np.argsort([a % np.ndim(x) for a in axes])))


transpose = primitive("transpose", lambda x, axes: np.transpose(x, axes), _transpose_vjp)


def as_index(index):
    """Turn `Value`s and lists inside an index into numpy arrays (they are never differentiated)."""
    if isinstance(index, tuple):
        return tuple(as_index(i) for i in index)
    if isinstance(index, Value):
        data = index._data
        if data.dtype.kind != "f":
            return data
        whole = data.astype(np.intp)
        if not np.array_equal(whole, data):  # (a Value of integers holds them as floats)
            raise IndexError(f"index: a Value used as an index must hold whole numbers, got "
                             f"{np.array2string(data, threshold=6)}")
        return whole
    if isinstance(index, list):
        return np.asarray(index)
    return index


def _is_basic(index):
    parts = index if isinstance(index, tuple) else (index,)
    return all(isinstance(p, (numbers.Integral, slice, type(None), type(Ellipsis))) for p in parts)


def _index_add_forward(g, index, shape):
    out = np.zeros(shape, dtype=np.result_type(g))
    if _is_basic(index):
        out[index] = g
    else:
        np.add.at(out, index, g)
    return out


getitem = primitive("getitem", lambda x, index: x[index],
                    lambda g, ans, x, index: index_add(g, index=index, shape=np.shape(x)))
index_add = primitive("index_add", _index_add_forward,
                      lambda g, ans, x, index, shape: getitem(g, index=index))


def _concatenate_vjp(i, g, ans, *xs, axis=0):
    axis = axis % np.ndim(ans)
    start = builtins.sum(np.shape(x)[axis] for x in xs[:i])
    lead = (slice(None),) * axis
    return g[lead + (slice(start, start + np.shape(xs[i])[axis]),)]


concatenate_ = primitive("concatenate", lambda *xs, axis=0: np.concatenate(xs, axis=axis),
                         each_input=_concatenate_vjp)


def _stack_vjp(i, g, ans, *xs, axis=0):
    return g[(slice(None),) * (axis % np.ndim(ans)) + (i,)]


stack_ = primitive("stack", lambda *xs, axis=0: np.stack(xs, axis=axis), each_input=_stack_vjp)


def concatenate(values, axis=0):
    """Join values along an existing axis (numpy.concatenate; axis=None flattens them first)."""
    if not values:
        raise ValueError("concatenate: expected at least one value to join, got none")
    if axis is None:
        return concatenate_(*[reshape(v, shape=(-1,)) for v in values], axis=0)
    return concatenate_(*values, axis=axis)


def stack(values, axis=0):
    """Join values along a new axis (numpy.stack)."""
    if not values:
        raise ValueError("stack: expected at least one value to join, got none")
    return stack_(*values, axis=axis)


# --- convolution building blocks: zero padding and sliding windows -----------------
def _pad_vjp(g, ans, x, padding):
    return g[tuple(slice(lo, lo + n) for (lo, _), n in zip(padding, np.shape(x)))]


pad = primitive("pad", lambda x, padding: np.pad(x, padding), _pad_vjp)


def _windows_forward(x, size, stride):
    """(N, C, H, W) -> (N, C, OH, OW, KH, KW): every KHxKW patch, `stride` (SH, SW) apart (a view)."""
    return sliding_window_view(x, size, axis=(2, 3))[:, :, ::stride[0], ::stride[1]]


def _fold_forward(g, size, stride, shape):
    """Adjoint of `windows`: add every patch back where it came from."""
    out = np.zeros(shape, dtype=np.result_type(g))
    for k, part in enumerate(_window_offsets(out, size, stride)):  # views into out
        part += g[:, :, :, :, k // size[1], k % size[1]]
    return out


windows = primitive("windows", _windows_forward,
                    lambda g, ans, x, size, stride:
                        fold(g, size=size, stride=stride, shape=np.shape(x)))
fold = primitive("fold", _fold_forward,
                 lambda g, ans, x, size, stride, shape: windows(g, size=size, stride=stride))


# --- max pooling: a running maximum over each window offset ------------------------
def _window_offsets(x, size, stride):
    """For each offset (i, j) inside a window, that element of every window: (N, C, OH, OW) views.

    numpy reduces tiny axes slowly (a 2x2 max over axes of length 2 is an inner loop
    of two elements), so pooling takes elementwise maxima of these views instead.
    """
    (kh, kw), (sh, sw) = size, stride
    oh, ow = (x.shape[2] - kh) // sh + 1, (x.shape[3] - kw) // sw + 1
    return [x[:, :, i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw]
            for i in range(kh) for j in range(kw)]


def _max_pool_vjp(g, ans, x, size, stride):
    # each window's gradient goes to its maximum; tied maxima share it equally (as `max` does)
    hits = [_like(part == _raw(ans), g) for part in _window_offsets(_raw(x), size, stride)]
    share = g / builtins.sum(hits)
    pieces = stack_(*[share * hit for hit in hits], axis=-1)  # (N, C, OH, OW, KH*KW)
    return fold(pieces.reshape(tuple(ans.shape) + tuple(size)), size=size, stride=stride,
                shape=np.shape(x))


def _max_pool_forward(x, size, stride):
    first, *rest = _window_offsets(x, size, stride)
    return functools.reduce(np.maximum, rest, first.copy())  # a new array even for a 1x1 window


max_pool = primitive("max_pool2d", _max_pool_forward, _max_pool_vjp)


# --- Value's binary operators, each recording one entry of the table -------------------
for _name, _op in (("add", add), ("sub", sub), ("mul", mul), ("truediv", div), ("matmul", matmul)):
    for _method_name, _reflected in ((f"__{_name}__", False), (f"__r{_name}__", True)):
        _method = _operator(_op, _reflected)
        _method.__name__, _method.__qualname__ = _method_name, f"Value.{_method_name}"
        setattr(Value, _method_name, _method)
for _name, _ufunc, _symbol in (("iadd", np.add, "+="), ("isub", np.subtract, "-="),
                               ("imul", np.multiply, "*="), ("itruediv", np.true_divide, "/=")):
    _method = _in_place(_ufunc, _symbol)
    _method.__name__, _method.__qualname__ = f"__{_name}__", f"Value.__{_name}__"
    setattr(Value, f"__{_name}__", _method)

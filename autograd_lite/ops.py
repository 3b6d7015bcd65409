"""The op table: every primitive's forward next to its vector-Jacobian products.

Each entry is `name = primitive("name", forward, vjp_for_input_0, vjp_for_input_1, ...)`.
A vjp gets the output's gradient `g`, the forward's result `ans`, the op's inputs and
options, and returns the gradient for its input (backward hands `g` on as it is where
the vjp is `unchanged`). A vjp uses operators, methods and other entries of this table,
never raw numpy on `g`: in a plain backward it gets arrays; under `create_graph=True` it
gets `Value`s and is recorded, which is where higher derivatives come from. Backward sums
gradients back to each input's shape (`sum_to`), so no vjp cares about broadcasting.
Masks (where x > 0, which element was the max) come from the raw data. Adding an op is
one entry here; see docs/architecture.md.
"""
import builtins
import functools
import math
import numbers

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .value import PRIMITIVES, Primitive, Value, apply


def primitive(name, forward, *vjps, each_input=None):
    """Add op `name` to the table and return the function that applies it.

    Pass one vjp per input, or, for ops taking any number of inputs (stack,
    concatenate), `each_input=vjp(i, g, ans, *inputs, **options)`. The function
    returned records the op when any input is a `Value`, and otherwise just
    runs `forward` (as vjps do in a plain backward).
    """
    if name in PRIMITIVES:
        raise ValueError(f"primitive: an op named {name!r} is already in the table; pick a new name")
    if each_input is not None:
        vjps = _EachInput(each_input)
    prim = PRIMITIVES[name] = Primitive(name, forward, vjps)

    def op(*args, **options):
        for x in args:
            if isinstance(x, Value):
                return apply(name, *args, **options)
        return prim.forward(*args, **options)

    op.__name__ = op.__qualname__ = name
    return op


class _EachInput:
    """The vjps of an op with any number of inputs: input i's is `vjp(i, g, ans, *inputs)`."""

    def __init__(self, vjp):
        self.vjp = vjp

    def __getitem__(self, i):
        return functools.partial(self.vjp, i)


def unchanged(g, ans, *inputs, **options):
    """The vjp of an input that passes into the output as it is (add's): g itself."""
    return g


def _raw(x):
    return x._data if isinstance(x, Value) else x


def _like(mask, g):
    """A numpy mask in g's float dtype, so float32 gradients stay float32."""
    return np.asarray(mask).astype(g.dtype, copy=False)


def _kept_shape(shape, axis):
    """`shape` with the reduced axes kept as size 1 (what keepdims=True gives)."""
    if axis is None:
        return (1,) * len(shape)
    axes = {a % len(shape) for a in ((axis,) if isinstance(axis, numbers.Integral) else axis)}
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _expand(g, shape, axis):
    """Broadcast a reduction's gradient `g` back to the input's `shape`."""
    if axis is not None:  # put back the reduced axes (a full reduction's g broadcasts as it is)
        g = g.reshape(_kept_shape(shape, axis))
    return broadcast_to(g, shape=shape)


# --- broadcasting: each is the other's vjp -------------------------------------
def _sum_to_forward(x, shape):
    """Sum `x` down to `shape`: over the leading axes broadcasting added and those it stretched from 1."""
    if x.shape == shape:
        return x
    lead = x.ndim - len(shape)
    if x.shape[lead:] == shape and (x.dtype.char == "d" or x.dtype.char == "f" and math.prod(shape) > 1):
        return _sum_leading_axes(x, shape)  # (into one float32 element numpy's pairwise sum is more accurate)
    stretched = tuple(lead + i for i, n in enumerate(shape) if n == 1 and x.shape[lead + i] != 1)
    return np.add.reduce(x, axis=tuple(range(lead)) + stretched).reshape(shape)


def _sum_leading_axes(x, shape):
    """A bias gradient, the sum over x's leading axes, as one BLAS product (ones @ rows):
    numpy's reduction over the first axis of a narrow array is several times slower."""
    lead = x.ndim - len(shape)
    rows = x if x.ndim == 2 and lead == 1 else x.reshape(math.prod(x.shape[:lead]), math.prod(shape))
    out = _ones(len(rows), x.dtype.char).dot(rows)
    return out if len(shape) == 1 else out.reshape(shape)


@functools.lru_cache(maxsize=16)
def _ones(n, dtype):
    """A read-only vector of n ones, kept: batch sizes repeat from step to step."""
    ones = np.ones(n, dtype=dtype)
    ones.flags.writeable = False
    return ones


def _broadcast_to_forward(x, shape):
    out = np.empty(shape, dtype=np.result_type(x))
    out[...] = x  # x repeated along the axes broadcasting adds or stretches
    return out


sum_to = primitive("sum_to", _sum_to_forward,
                   lambda g, ans, x, shape: broadcast_to(g, shape=np.shape(x)))
broadcast_to = primitive("broadcast_to", _broadcast_to_forward,
                         lambda g, ans, x, shape: sum_to(g, shape=np.shape(x)))

# --- arithmetic: the vjp for a, then the one for b ----------------------------------
add = primitive("add", np.add, unchanged, unchanged)
sub = primitive("sub", np.subtract, unchanged, lambda g, ans, a, b: -g)
mul = primitive("mul", np.multiply, lambda g, ans, a, b: g * b, lambda g, ans, a, b: g * a)
div = primitive("div", np.true_divide, lambda g, ans, a, b: g / b, lambda g, ans, a, b: -g * ans / b)
neg = primitive("neg", np.negative, lambda g, ans, x: -g)


def _pow_const_vjp(g, ans, x, exponent):
    # p x**(p-1); where p == 0 that is 0, so use x**1 there (x**-1 is inf at 0, and inf * 0 nan)
    if isinstance(exponent, np.ndarray):
        return g * exponent * x ** np.where(exponent == 0, 1.0, exponent - 1.0)
    return g * exponent * x ** (exponent - 1.0 if exponent else 1.0)


def _power_vjp_base(g, ans, a, b):
    # b a**(b-1); where b == 0 that is 0, so use a**0 there (a**-1 is inf at a == 0)
    return g * b * a ** (where(1.0, b, cond=_raw(b) == 0) - 1)


def _power_vjp_exponent(g, ans, a, b):
    # d/db a**b = a**b log a; where a == 0 and b >= 0 that is 0 (the limit, and PyTorch's rule);
    # for b < 0 it is inf * log 0 = -inf, the one-sided limit
    zero = (_raw(a) == 0) & (_raw(b) >= 0)
    with np.errstate(divide="ignore"):
        return where(0.0, g * ans * log(where(1.0, a, cond=zero)), cond=zero)


pow_const = primitive("pow_const", lambda x, exponent: np.power(x, exponent), _pow_const_vjp)  # x ** p, p a constant
pow = primitive("pow", np.power, _power_vjp_base, _power_vjp_exponent)  # a ** b, both values

# --- matrix products ------------------------------------------------------------------
def _matmul_vjp_a(g, ans, a, b):
    if b.ndim == 1:  # (..., n, m) @ (m,) -> (..., n)
        return g * b if a.ndim == 1 else g.reshape(g.shape + (1,)) * b
    if a.ndim == 1:  # (n,) @ (..., n, m) -> (..., m)
        return (b @ g.reshape(g.shape + (1,))).reshape(g.shape[:-1] + (b.shape[-2],))
    return matmul(g, b.swapaxes(-1, -2))


def _matmul_vjp_b(g, ans, a, b):
    if a.ndim == 1:  # (n,) @ (..., n, m) -> (..., m)
        return g * a if b.ndim == 1 else a.reshape((-1, 1)) * g.reshape(g.shape[:-1] + (1, g.shape[-1]))
    if b.ndim == 1:  # (..., n, m) @ (m,) -> (..., n)
        return (a.swapaxes(-1, -2) @ g.reshape(g.shape + (1,))).reshape(g.shape[:-1] + (a.shape[-1],))
    return matmul(a.swapaxes(-1, -2), g)


def _matmul_forward(a, b):
    """a @ b, through the quickest numpy call for small matrices (see the two below)."""
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.ndim == 2 == b.ndim:
        rows, inner, cols = a.shape[0], a.shape[1], b.shape[1]
        if rows >= 128 and inner <= 16 and 1 < cols <= 16 and a.dtype == b.dtype:
            return _tall_narrow_product(a, b)
        if rows * cols <= 8192:
            return a.dot(b)  # the same BLAS call as np.matmul with less overhead
    return np.matmul(a, b)   # (np.dot is slower on big results: it clears them first)


def _tall_narrow_product(a, b):
    """Many rows of few columns, made column-major: numpy then adds a bias to each long
    column at once instead of looping over many short rows (twice as fast on (800, 4))."""
    return b.T.dot(a.T).T


matmul = primitive("matmul", _matmul_forward, _matmul_vjp_a, _matmul_vjp_b)


def _rows(a):
    """`a` as a matrix: one row per position along all but its last axis."""
    return a if a.ndim == 2 else a.reshape(math.prod(a.shape[:-1]), a.shape[-1])


def _linear_forward(x, weight, bias=None):
    out = _matmul_forward(x, weight.T)
    return out if bias is None else out + bias


# x @ weight.T + bias as one op (nn.Linear's): one record and one backward step instead of
# three. The bias gradient is g, summed to the bias's shape by backward.
linear = primitive("linear", _linear_forward,
                   lambda g, ans, x, weight, bias=None: matmul(g, weight),
                   lambda g, ans, x, weight, bias=None: matmul(_rows(g).T, _rows(x)),
                   unchanged)

# --- elementwise functions ----------------------------------------------------------
exp = primitive("exp", np.exp, lambda g, ans, x: g * ans)
log = primitive("log", np.log, lambda g, ans, x: g / x)
sqrt = primitive("sqrt", np.sqrt, lambda g, ans, x: g / (2.0 * ans))
abs = primitive("abs", np.abs, lambda g, ans, x: g * np.sign(_raw(x)))
tanh = primitive("tanh", np.tanh, lambda g, ans, x: g * (1.0 - ans * ans))
sin = primitive("sin", np.sin, lambda g, ans, x: g * cos(x))
cos = primitive("cos", np.cos, lambda g, ans, x: -g * sin(x))


@np.errstate(over="ignore")
def _sigmoid_forward(x):
    return 1.0 / (1.0 + np.exp(-x))  # far below zero e^-x overflows to inf, and 1 / inf = 0


sigmoid = primitive("sigmoid", _sigmoid_forward, lambda g, ans, x: g * (ans * (1.0 - ans)))
relu = primitive("relu", lambda x: np.maximum(x, 0.0), lambda g, ans, x: g * (_raw(x) > 0))
leaky_relu = primitive(
    "leaky_relu", lambda x, negative_slope: np.where(x > 0, x, x * negative_slope),
    lambda g, ans, x, negative_slope: g * _like(np.where(_raw(x) > 0, 1.0, negative_slope), g))


def _clip_vjp(g, ans, x, lo, hi):
    inside = np.ones(np.shape(ans), dtype=bool)  # (bounds may broadcast x to a bigger shape)
    if lo is not None:
        inside &= _raw(x) >= lo
    if hi is not None:
        inside &= _raw(x) <= hi
    return g * inside


clip = primitive("clip", lambda x, lo, hi: np.clip(x, lo, hi), _clip_vjp)
where = primitive("where", lambda a, b, cond: np.where(cond, a, b),  # cond: a bool array option
                  lambda g, ans, a, b, cond: g * cond, lambda g, ans, a, b, cond: g * ~cond)


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
def _count(shape, axis):
    """How many elements a reduction over `axis` folds into each result."""
    return math.prod(shape) // builtins.max(math.prod(_kept_shape(shape, axis)), 1)


# np.add.reduce is np.sum without its Python wrapper; a mean is that sum divided by the count
sum = primitive("sum", lambda x, axis=None, keepdims=False: np.add.reduce(x, axis=axis, keepdims=keepdims),
                lambda g, ans, x, axis=None, keepdims=False: _expand(g, x.shape, axis))
mean = primitive("mean", lambda x, axis=None, keepdims=False:
                 np.add.reduce(x, axis=axis, keepdims=keepdims) / _count(x.shape, axis),
                 lambda g, ans, x, axis=None, keepdims=False:
                     _expand(g / _count(x.shape, axis), x.shape, axis))


def _is_extremum(x, ans):
    """Where x equals its max (or min) `ans`, broadcast; a NaN is the extremum of what holds it."""
    return (x == ans) | (np.isnan(x) & np.isnan(ans))


def _extremum_vjp(g, ans, x, axis=None, keepdims=False):
    # ties share the gradient equally, which is also what central differences see
    kept = _kept_shape(np.shape(x), axis)
    hit = _like(_is_extremum(_raw(x), np.reshape(_raw(ans), kept)), g)
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


logsumexp = primitive("logsumexp", _logsumexp_forward, lambda g, ans, x, axis=None, keepdims=False:
                      g.reshape(_kept_shape(np.shape(x), axis))
                      * exp(x - ans.reshape(_kept_shape(np.shape(x), axis))))


def _log_softmax_forward(x, axis=-1):
    # (x - max) - log(sum(e^(x - max))): the sum is at least 1 (e^0 at the max), so its log
    # is finite; rows holding nan or inf give nan, as in PyTorch
    shifted = x - np.max(x, axis=axis, keepdims=True, initial=-np.inf)  # checks the axis too
    if shifted.size == 0:  # nothing to normalize (and no log(0) warning for an empty axis)
        return shifted
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


# x - logsumexp(x) as one op: its vjp, g - softmax * sum(g), is one step
log_softmax = primitive("log_softmax", _log_softmax_forward,
                        lambda g, ans, x, axis=-1: g - exp(ans) * sum(g, axis=axis, keepdims=True))

# --- shape and indexing -------------------------------------------------------------
reshape = primitive("reshape", lambda x, shape: np.reshape(x, shape),
                    lambda g, ans, x, shape: g.reshape(np.shape(x)))
# a C-ordered copy (PyTorch's .contiguous()): numpy runs faster over contiguous arrays
contiguous = primitive("contiguous", lambda x: np.asarray(x, order="C"), unchanged)
# a change of dtype (grad() gives each input's gradient in the input's dtype with it)
astype = primitive("astype", lambda x, dtype: x.astype(dtype),
                   lambda g, ans, x, dtype: astype(g, dtype=_raw(x).dtype))


def _transpose_vjp(g, ans, x, axes):
    if axes is None:
        return g.transpose()
    return g.transpose(tuple(np.argsort([a % np.ndim(x) for a in axes])))


transpose = primitive("transpose", lambda x, axes: np.transpose(x, axes), _transpose_vjp)


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
    return g[(slice(None),) * axis + (slice(start, start + np.shape(xs[i])[axis]),)]


concatenate = primitive("concatenate", lambda *xs, axis=0: np.concatenate(xs, axis=axis),
                        each_input=_concatenate_vjp)
stack = primitive("stack", lambda *xs, axis=0: np.stack(xs, axis=axis),
                  each_input=lambda i, g, ans, *xs, axis=0: g[(slice(None),) * (axis % np.ndim(ans)) + (i,)])


# --- convolution building blocks: zero padding and sliding windows -----------------
pad = primitive("pad", lambda x, padding: np.pad(x, padding), lambda g, ans, x, padding:
                g[tuple(slice(lo, lo + n) for (lo, _), n in zip(padding, np.shape(x)))])


def _window_offsets(x, size, stride):
    """For each offset (i, j) inside a window, that element of every window: (N, C, OH, OW) views."""
    (kh, kw), (sh, sw) = size, stride
    oh, ow = (x.shape[2] - kh) // sh + 1, (x.shape[3] - kw) // sw + 1
    return [x[:, :, i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw]
            for i in range(kh) for j in range(kw)]


def _windows_forward(x, size, stride):
    """(N, C, H, W) -> (N, C, OH, OW, KH, KW): every KHxKW patch, `stride` (SH, SW) apart (a view)."""
    return sliding_window_view(x, size, axis=(2, 3))[:, :, ::stride[0], ::stride[1]]


def _fold_forward(g, size, stride, shape):
    """Adjoint of `windows`: add every patch back where it came from."""
    out = np.zeros(shape, dtype=np.result_type(g))
    for k, part in enumerate(_window_offsets(out, size, stride)):  # views into out
        part += g[:, :, :, :, k // size[1], k % size[1]]
    return out


windows = primitive("windows", _windows_forward, lambda g, ans, x, size, stride:
                    fold(g, size=size, stride=stride, shape=np.shape(x)))
fold = primitive("fold", _fold_forward, lambda g, ans, x, size, stride, shape:
                 windows(g, size=size, stride=stride))


# --- max pooling: a running maximum over each window offset ------------------------
def _max_pool_forward(x, size, stride):
    first, *rest = _window_offsets(x, size, stride)
    return functools.reduce(np.maximum, rest, first.copy())  # a new array even for a 1x1 window


def _max_pool_vjp(g, ans, x, size, stride):
    # each window's gradient goes to its maximum; tied maxima share it equally (as `max` does)
    hits = [_like(_is_extremum(part, _raw(ans)), g) for part in _window_offsets(_raw(x), size, stride)]
    share = g / builtins.sum(hits)
    pieces = stack(*[share * hit for hit in hits], axis=-1)  # (N, C, OH, OW, KH*KW)
    return fold(pieces.reshape(tuple(ans.shape) + tuple(size)), size=size, stride=stride,
                shape=np.shape(x))


max_pool2d = primitive("max_pool2d", _max_pool_forward, _max_pool_vjp)


# --- losses PyTorch runs as one kernel: one op each, the reduction included --------
def _reduce(losses, reduction):
    return losses.mean() if reduction == "mean" else losses.sum() if reduction == "sum" else losses


def _per_element(g, like, reduction):
    """The loss's gradient `g` as each element's share: divided by the count for "mean"."""
    return g * (1.0 / builtins.max(np.size(like), 1)) if reduction == "mean" else g


def _mse_forward(x, y, reduction):
    diff = x - y
    return _reduce(diff * diff, reduction)


mse_loss = primitive("mse_loss", _mse_forward,
                     lambda g, ans, x, y, reduction: _per_element(g, x, reduction) * (2.0 * (x - y)),
                     lambda g, ans, x, y, reduction: _per_element(g, x, reduction) * (2.0 * (y - x)))


def _floored_log(q):
    """max(log q, -100) of an array, PyTorch's floor in BCELoss (log 0 = -inf, floored)."""
    with np.errstate(divide="ignore"):
        return np.maximum(np.log(q), -100.0)


@functools.lru_cache(maxsize=8)
def _smallest_live(dtype):  # above it max(log q, -100) is log q, and 1/q is finite
    return builtins.max(math.exp(-100.0), float(np.finfo(dtype).tiny))


def _live(q):
    q = np.asarray(_raw(q))
    return q > _smallest_live(q.dtype)


def _clamped_log(q):
    """`_floored_log` of a value too: log q where it follows log q, else a constant."""
    live = _live(q)
    return where(log(where(q, 1.0, cond=live)), _floored_log(np.asarray(_raw(q))), cond=live)


def _clamped_log_slope(q):
    """The derivative of `_clamped_log`: 1/q where it follows log q, else 0 (never inf * 0)."""
    live = _live(q)
    return where(1.0 / where(q, 1.0, cond=live), 0.0, cond=live)


def _bce_forward(p, y, reduction):
    return _reduce(-(y * _floored_log(p) + (1 - y) * _floored_log(1 - p)), reduction)


binary_cross_entropy = primitive(
    "binary_cross_entropy", _bce_forward,
    lambda g, ans, p, y, reduction: _per_element(g, p, reduction)
        * ((1 - y) * _clamped_log_slope(1 - p) - y * _clamped_log_slope(p)),
    lambda g, ans, p, y, reduction: _per_element(g, p, reduction)
        * (_clamped_log(1 - p) - _clamped_log(p)))


def _bce_logits_forward(x, y, reduction):
    # softplus(x) - x y, softplus(x) = log(1 + e^x) = max(x, 0) + log(1 + e^-|x|): no overflow
    return _reduce(np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x))) - x * y, reduction)


binary_cross_entropy_with_logits = primitive(
    "binary_cross_entropy_with_logits", _bce_logits_forward,
    lambda g, ans, x, y, reduction: _per_element(g, x, reduction) * (sigmoid(x) - y),
    lambda g, ans, x, y, reduction: _per_element(g, x, reduction) * -x)


def _cross_entropy_forward(logits, labels, reduction):
    picked = _log_softmax_forward(logits, axis=1)[np.arange(len(labels)), labels]
    return _reduce(-picked, reduction)


def _cross_entropy_vjp(g, ans, logits, labels, reduction):
    # softmax(logits) - one_hot(labels), each row scaled by its sample's gradient
    rows = _per_element(g, labels, reduction)
    one_hot = np.zeros(np.shape(logits), dtype=_raw(logits).dtype)
    one_hot[np.arange(len(labels)), labels] = 1.0
    rows = rows.reshape((-1, 1)) if reduction == "none" else rows
    return rows * (exp(log_softmax(logits, axis=1)) - one_hot)


# softmax cross-entropy of logits (N, C) against integer labels (N,), an option (not differentiated)
cross_entropy = primitive("cross_entropy", _cross_entropy_forward, _cross_entropy_vjp)

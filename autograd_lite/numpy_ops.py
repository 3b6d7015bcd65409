"""The op table, part two: NumPy's functions beyond the core, each with its vjps.

Each entry is a primitive of the one table (`ops.primitive`) named as numpy
names the function, beside the function users call, with numpy's signature and
argument names: `cumsum(a, axis=None)`, `einsum(subscripts, *operands)`,
`split(ary, indices_or_sections, axis=0)`. On plain arrays each is numpy's own
function; given a `Value` it records. Where numpy's function is a composition
of table entries (`ravel`, `swapaxes`, `diag`, `pad`, `split`) it composes them
and adds no primitive.

As in ops.py, every vjp is written with table entries, never raw numpy on `g`,
so second and higher derivatives work; masks and permutations come from the
raw data. Step functions (`sign floor ceil`) have gradient 0, as in PyTorch.

At the bottom: `Value` methods with PyTorch's names and signatures (`squeeze
unsqueeze permute expand view std prod norm clamp`), in `VALUE_METHODS`.
"""
import builtins
import functools
import math
import numbers
import string

import numpy as np
from numpy.lib.array_utils import normalize_axis_index, normalize_axis_tuple

from . import ops
from .ops import _count, _kept_shape, _like, _raw, primitive, unchanged
from .value import Value

LN2, LN10 = math.log(2.0), math.log(10.0)


def _shape(x):
    return np.shape(_raw(x))


def _array(x):
    """A `Value` as it is; anything else as a numpy array (for functions that read its shape)."""
    return x if isinstance(x, Value) else np.asarray(x)


def _refuse(name, **given):
    """numpy's `out=` and `dtype=` arguments, which a recorded op cannot honour: a clear error."""
    for key, value in given.items():
        if value is not None:
            instead = "assign the result instead" if key == "out" else "cast with astype() first"
            raise TypeError(f"{name}: {key}= is not supported on values; {instead}")


def _zero_vjp(g, ans, *inputs, **options):
    """A step function's vjp (sign, floor, ceil): 0 almost everywhere, as in PyTorch."""
    return np.zeros(_shape(g), dtype=_raw(g).dtype)


# --- elementwise functions of one input ----------------------------------------------
tan = primitive("tan", np.tan, lambda g, ans, x: g * (1.0 + ans * ans))
sinh = primitive("sinh", np.sinh, lambda g, ans, x: g * cosh(x))
cosh = primitive("cosh", np.cosh, lambda g, ans, x: g * sinh(x))
arcsin = primitive("arcsin", np.arcsin, lambda g, ans, x: g / ops.sqrt(1.0 - x * x))
arccos = primitive("arccos", np.arccos, lambda g, ans, x: -g / ops.sqrt(1.0 - x * x))
arctan = primitive("arctan", np.arctan, lambda g, ans, x: g / (1.0 + x * x))
arcsinh = primitive("arcsinh", np.arcsinh, lambda g, ans, x: g / ops.sqrt(x * x + 1.0))
arccosh = primitive("arccosh", np.arccosh, lambda g, ans, x: g / ops.sqrt(x * x - 1.0))
arctanh = primitive("arctanh", np.arctanh, lambda g, ans, x: g / (1.0 - x * x))
log2 = primitive("log2", np.log2, lambda g, ans, x: g / (x * LN2))
log10 = primitive("log10", np.log10, lambda g, ans, x: g / (x * LN10))
log1p = primitive("log1p", np.log1p, lambda g, ans, x: g / (1.0 + x))
exp2 = primitive("exp2", np.exp2, lambda g, ans, x: g * (ans * LN2))
expm1 = primitive("expm1", np.expm1, lambda g, ans, x: g * (ans + 1.0))
square = primitive("square", np.square, lambda g, ans, x: g * (2.0 * x))
reciprocal = primitive("reciprocal", np.reciprocal, lambda g, ans, x: -g * (ans * ans))
sign = primitive("sign", np.sign, _zero_vjp)
floor = primitive("floor", np.floor, _zero_vjp)
ceil = primitive("ceil", np.ceil, _zero_vjp)


# --- elementwise functions of two inputs (numpy broadcasting) ------------------------
def _nan_ignoring_share(a, b, a_wins):
    """`a`'s share of fmax's (fmin's) gradient: 1 where it wins or `b` is NaN (numpy then
    returns `a`), 1/2 on ties (as `maximum`), else 0; `b` gets the rest."""
    a, b = _raw(a), _raw(b)
    return np.where(a == b, 0.5, np.where(a_wins(a, b) | np.isnan(b), 1.0, 0.0))


def _mod_vjp_divisor(g, ans, a, b):
    # a mod b = a - b floor(a / b), and the floor is constant almost everywhere
    with np.errstate(divide="ignore", invalid="ignore"):
        return -g * np.floor(_raw(a) / _raw(b))


arctan2 = primitive("arctan2", np.arctan2,
                    lambda g, ans, a, b: g * b / (a * a + b * b),
                    lambda g, ans, a, b: -g * a / (a * a + b * b))
hypot = primitive("hypot", np.hypot, lambda g, ans, a, b: g * a / ans,
                  lambda g, ans, a, b: g * b / ans)
logaddexp = primitive("logaddexp", np.logaddexp, lambda g, ans, a, b: g * ops.exp(a - ans),
                      lambda g, ans, a, b: g * ops.exp(b - ans))
fmax = primitive("fmax", np.fmax,
                 lambda g, ans, a, b: g * _like(_nan_ignoring_share(a, b, np.greater), g),
                 lambda g, ans, a, b: g * _like(1.0 - _nan_ignoring_share(a, b, np.greater), g))
fmin = primitive("fmin", np.fmin,
                 lambda g, ans, a, b: g * _like(_nan_ignoring_share(a, b, np.less), g),
                 lambda g, ans, a, b: g * _like(1.0 - _nan_ignoring_share(a, b, np.less), g))
mod = primitive("mod", np.mod, unchanged, _mod_vjp_divisor)  # the sign of the divisor, as numpy
remainder = mod  # numpy's other name for the same ufunc (np.mod.__name__ is 'remainder')


# --- shapes: flips, moves and copies (the adjoint of each is another) ----------------
_flip = primitive("flip", lambda m, axis: np.flip(m, axis), lambda g, ans, m, axis: flip(g, axis))


def flip(m, axis=None):
    """numpy.flip: reverse the order of elements along `axis` (all axes if None)."""
    return _flip(m, axis=axis)


def _negated(shift):
    return -shift if isinstance(shift, numbers.Integral) else tuple(-s for s in shift)


_roll = primitive("roll", lambda a, shift, axis: np.roll(a, shift, axis),
                  lambda g, ans, a, shift, axis: roll(g, _negated(shift), axis))


def roll(a, shift, axis=None):
    """numpy.roll: shift elements along `axis` (of the flattened array if None), wrapping around."""
    return _roll(a, shift=shift, axis=axis)


_moveaxis = primitive("moveaxis", lambda a, source, destination: np.moveaxis(a, source, destination),
                      lambda g, ans, a, source, destination: moveaxis(g, destination, source))


def moveaxis(a, source, destination):
    """numpy.moveaxis: move axes to new positions, the others keep their order."""
    return _moveaxis(a, source=source, destination=destination)


def swapaxes(a, axis1, axis2):
    """numpy.swapaxes: a transpose that exchanges two axes."""
    ndim = np.ndim(_raw(a))
    axes = list(range(ndim))
    i, j = normalize_axis_index(axis1, ndim), normalize_axis_index(axis2, ndim)
    axes[i], axes[j] = axes[j], axes[i]
    return ops.transpose(a, axes=tuple(axes))


def ravel(a, order="C"):
    """numpy.ravel: the elements as one axis, in C (row-major) or F (column-major) order."""
    if order not in ("C", "F"):
        raise ValueError(f"ravel: order must be 'C' or 'F' on values, got {order!r}")
    return ops.reshape(a if order == "C" else ops.transpose(a, axes=None), shape=(-1,))


_squeeze = primitive("squeeze", lambda a, axis: np.squeeze(a, axis=axis),
                     lambda g, ans, a, axis: g.reshape(_shape(a)))


def squeeze(a, axis=None):
    """numpy.squeeze: drop axes of length 1 (all of them, or those in `axis`, which must be 1)."""
    return _squeeze(a, axis=axis)


_expand_dims = primitive("expand_dims", lambda a, axis: np.expand_dims(a, axis),
                         lambda g, ans, a, axis: g.reshape(_shape(a)))


def expand_dims(a, axis):
    """numpy.expand_dims: insert axes of length 1 at the positions `axis` (an int or a tuple)."""
    return _expand_dims(a, axis=axis)


def _repeat_vjp(g, ans, a, repeats, axis):
    # every output element is a copy of one input element: add the copies' gradients back
    shape = _shape(a)
    if axis is None:  # numpy repeats the flattened array
        size = math.prod(shape)
        source = np.repeat(np.arange(size), repeats)
        return ops.index_add(g, index=source, shape=(size,)).reshape(shape)
    axis = normalize_axis_index(axis, len(shape))
    source = np.repeat(np.arange(shape[axis]), repeats)
    return ops.index_add(g, index=(slice(None),) * axis + (source,), shape=shape)


_repeat = primitive("repeat", lambda a, repeats, axis: np.repeat(a, repeats, axis), _repeat_vjp)


def repeat(a, repeats, axis=None):
    """numpy.repeat: each element `repeats` times (an int, or one count per element) along `axis`."""
    return _repeat(a, repeats=repeats, axis=axis)


def _tile_vjp(g, ans, A, reps):
    # the output is (r0, s0, r1, s1, ...) blocks of A's (s0, s1, ...): sum over the copies r
    shape = _shape(A)
    reps = (reps,) if isinstance(reps, numbers.Integral) else tuple(reps)
    n = builtins.max(len(shape), len(reps))
    sizes = (1,) * (n - len(shape)) + tuple(shape)
    reps = (1,) * (n - len(reps)) + reps
    blocks = g.reshape(tuple(v for pair in zip(reps, sizes) for v in pair))
    return blocks.sum(axis=tuple(range(0, 2 * n, 2))).reshape(shape)


_tile = primitive("tile", lambda A, reps: np.tile(A, reps), _tile_vjp)


def tile(A, reps):
    """numpy.tile: `A` repeated `reps` times along each axis (as whole blocks)."""
    return _tile(A, reps=reps)


def _padding(array, pad_width):
    """numpy's pad_width for every axis as ((before, after), ...)."""
    try:
        widths = np.broadcast_to(np.asarray(pad_width, dtype=np.intp), (np.ndim(_raw(array)), 2))
    except ValueError:
        raise ValueError(f"pad: pad_width {pad_width!r} does not fit a value of shape "
                         f"{_shape(array)}: give (before, after) for every axis, or one pair "
                         f"for all") from None
    if (widths < 0).any():
        raise ValueError(f"pad: pad_width must not be negative, got {pad_width!r}")
    return tuple((int(lo), int(hi)) for lo, hi in widths)


_GATHERING_MODES = ("edge", "reflect", "symmetric", "wrap")


def pad(array, pad_width, mode="constant", **kwargs):
    """numpy.pad for the modes that copy elements: 'constant' (with `constant_values`),
    'edge', 'reflect', 'symmetric' and 'wrap'. Each of the last four is a gather: numpy pads
    an array of element numbers the same way, and that picks the elements."""
    array = _array(array)
    widths = _padding(array, pad_width)
    if mode == "constant" and set(kwargs) <= {"constant_values"}:
        out = ops.pad(array, padding=widths)  # zeros around the array
        fill = kwargs.get("constant_values", 0)
        if np.any(np.asarray(fill) != 0):
            out = out + np.pad(np.zeros(array.shape, dtype=array.dtype), widths,
                               constant_values=fill)
        return out
    if mode in _GATHERING_MODES and kwargs in ({}, {"reflect_type": "even"}):
        source = np.pad(np.arange(array.size).reshape(array.shape), widths, mode=mode)
        return ops.getitem(ops.reshape(array, shape=(-1,)), index=source)
    raise ValueError(f"pad: mode {mode!r} with options {sorted(kwargs)} is not differentiable "
                     f"here; use mode 'constant' (constant_values=...) or one of "
                     f"{', '.join(_GATHERING_MODES)} (without options)")


# --- splitting: one piece per slice, each a getitem of the input ------------------------
def array_split(ary, indices_or_sections, axis=0):
    """numpy.array_split: a list of values, `indices_or_sections` equal-as-possible pieces
    (an int) or the pieces between the given indices along `axis`."""
    ary = _array(ary)
    axis = normalize_axis_index(axis, ary.ndim)
    length = ary.shape[axis]
    if isinstance(indices_or_sections, numbers.Integral):
        if indices_or_sections <= 0:
            raise ValueError(f"array_split: the number of sections must be positive, got "
                             f"{indices_or_sections}")
        each, extra = divmod(length, int(indices_or_sections))
        sizes = [each + 1] * extra + [each] * (int(indices_or_sections) - extra)
        bounds = np.concatenate([[0], np.cumsum(sizes)]).tolist()
    else:
        bounds = [0] + [int(i) for i in indices_or_sections] + [length]
    return [ops.getitem(ary, index=(slice(None),) * axis + (slice(lo, hi),))
            for lo, hi in zip(bounds[:-1], bounds[1:])]


def split(ary, indices_or_sections, axis=0):
    """numpy.split: as array_split, but an int number of sections must divide the axis."""
    ary = _array(ary)
    if isinstance(indices_or_sections, numbers.Integral):
        length = ary.shape[normalize_axis_index(axis, ary.ndim)]
        if indices_or_sections <= 0 or length % indices_or_sections:
            raise ValueError(f"split: {indices_or_sections} sections do not divide axis {axis} "
                             f"of length {length} equally (shape {ary.shape}); use array_split")
    return array_split(ary, indices_or_sections, axis)


def _split_along(name, axis_for, fewest):
    def split_at(ary, indices_or_sections):
        ary = _array(ary)
        if ary.ndim < fewest:
            raise ValueError(f"{name} needs a value of at least {fewest} dimensions, got shape "
                             f"{ary.shape}")
        return split(ary, indices_or_sections, axis_for(ary.ndim))
    split_at.__name__ = split_at.__qualname__ = name
    split_at.__doc__ = f"numpy.{name}: split along axis {axis_for(3)} (see split)."
    return split_at


vsplit = _split_along("vsplit", lambda ndim: 0, 2)
hsplit = _split_along("hsplit", lambda ndim: 1 if ndim > 1 else 0, 1)
dsplit = _split_along("dsplit", lambda ndim: 2, 3)


# --- sorting: the gradient goes back through the permutation ----------------------------
def _sort_vjp(g, ans, a, axis, kind):
    x = _raw(a)
    if axis is None:  # numpy sorts the flattened array
        order = np.argsort(x, axis=None, kind="stable")
        return ops.getitem(g, index=np.argsort(order)).reshape(x.shape)
    axis = normalize_axis_index(axis, x.ndim)
    order = np.argsort(x, axis=axis, kind="stable")  # sorted[..., p] = x[..., order[p]]
    index = list(np.indices(x.shape, sparse=True))
    index[axis] = np.argsort(order, axis=axis)  # where each element went
    return ops.getitem(g, index=tuple(index))


_sort = primitive("sort", lambda a, axis, kind: np.sort(a, axis=axis, kind=kind), _sort_vjp)


def sort(a, axis=-1, kind=None, order=None, *, stable=None):
    """numpy.sort along `axis` (the flattened array if None); each element's gradient is
    the gradient of the place it was sorted to (tied elements: in their stable order)."""
    if order is not None:
        raise TypeError("sort: order= (fields of structured arrays) does not apply to values")
    return _sort(a, axis=axis, kind="stable" if stable else kind)


def astype(x, dtype, *, copy=True, device=None):
    """numpy.astype: the values in another dtype (the gradient comes back in x's dtype)."""
    return ops.astype(x, dtype=np.dtype(dtype))


# --- reductions and cumulative reductions -----------------------------------------------
def _reverse_cumsum(g, axis):
    """Sums from each position to the end along `axis`: the adjoint of cumsum."""
    return flip(cumsum(flip(g, axis), axis), axis)


def _cumsum_vjp(g, ans, a, axis):
    if axis is None:  # numpy sums the flattened array
        return _reverse_cumsum(g, 0).reshape(_shape(a))
    return _reverse_cumsum(g, axis)


_cumsum = primitive("cumsum", lambda a, axis: np.cumsum(a, axis=axis), _cumsum_vjp)


def cumsum(a, axis=None, dtype=None, out=None):
    """numpy.cumsum: running sums along `axis` (of the flattened array if None)."""
    _refuse("cumsum", dtype=dtype, out=out)
    return _cumsum(a, axis=axis)


def _cumprod_grad(g, x, axis, products=None):
    """d/dx of sum(g * cumprod(x, axis)), exact at zeros and differentiable again.

    Without zeros it is the reversed running sum of g * cumprod(x), divided by x. A slice
    with zeros is split at its first zero x_k: with z = x where x_k is replaced by 1,
    cumprod(x) = w * cumprod(z), where w is 1 before k and x_k from k on. So x_k's gradient
    is sum(g * cumprod(z)) from k on, and every other element's is z's, for the gradient
    g * w: the same question for z, which has one zero fewer per slice.
    """
    zero = _raw(x) == 0
    if not zero.any():
        products = _cumprod(x, axis=axis) if products is None else products
        return _reverse_cumsum(g * products, axis) / x
    seen = np.cumsum(zero, axis=axis)
    first, from_first = zero & (seen == 1), seen >= 1
    z = ops.where(1.0, x, cond=first)
    x_k = ops.sum(ops.where(x, 0.0, cond=first), axis=axis, keepdims=True)
    w = ops.where(x_k, 1.0, cond=from_first)
    at_first = ops.sum(g * _cumprod(z, axis=axis) * from_first, axis=axis, keepdims=True)
    return ops.where(at_first, _cumprod_grad(g * w, z, axis), cond=first)


def _cumprod_vjp(g, ans, a, axis):
    if axis is None:  # numpy multiplies the flattened array
        return _cumprod_grad(g, ops.reshape(a, shape=(-1,)), 0, ans).reshape(_shape(a))
    return _cumprod_grad(g, a, axis, ans)


_cumprod = primitive("cumprod", lambda a, axis: np.cumprod(a, axis=axis), _cumprod_vjp)


def cumprod(a, axis=None, dtype=None, out=None):
    """numpy.cumprod: running products along `axis` (of the flattened array if None)."""
    _refuse("cumprod", dtype=dtype, out=out)
    return _cumprod(a, axis=axis)


def _products_of_others(x, axis):
    """For each element, the product of the others its slice of prod(x, axis) multiplies:
    the running product of those before it times that of those after it, with no division,
    so zeros (one or several) give exact gradients, and second derivatives follow cumprod's."""
    shape = _shape(x)
    axes = normalize_axis_tuple(range(len(shape)) if axis is None else axis, len(shape))
    kept = [i for i in range(len(shape)) if i not in axes]
    order = kept + sorted(axes)
    lead = tuple(shape[i] for i in kept)
    rows = ops.transpose(x, axes=tuple(order)).reshape(lead + (-1,))  # one slice per row
    if rows.shape[-1] == 0:
        return np.zeros(shape, dtype=_raw(x).dtype)
    ones = np.ones(lead + (1,), dtype=_raw(x).dtype)
    before = _cumprod(ops.concatenate(ones, rows[..., :-1], axis=-1), axis=-1)
    after = flip(_cumprod(ops.concatenate(ones, flip(rows, -1)[..., :-1], axis=-1), axis=-1), -1)
    others = (before * after).reshape(tuple(shape[i] for i in order))
    return ops.transpose(others, axes=tuple(np.argsort(order)))


_prod = primitive("prod", lambda a, axis, keepdims: np.prod(a, axis=axis, keepdims=keepdims),
                  lambda g, ans, a, axis, keepdims:
                      g.reshape(_kept_shape(_shape(a), axis)) * _products_of_others(a, axis))


def prod(a, axis=None, dtype=None, out=None, keepdims=False):
    """numpy.prod over `axis` (an int, a tuple, or None for all); exact gradients at zeros."""
    _refuse("prod", dtype=dtype, out=out)
    return _prod(a, axis=axis, keepdims=keepdims)


def _std_vjp(g, ans, a, axis, ddof, keepdims):
    # (x - mean) / ((N - ddof) std), and 0 where std is 0 (PyTorch's and HIPS's choice, not 0/0)
    shape = _shape(a)
    kept = _kept_shape(shape, axis)
    spread = ans.reshape(kept)
    flat = _raw(spread) == 0
    centered = a - ops.mean(a, axis=axis, keepdims=True)
    scale = (_count(shape, axis) - ddof) * ops.where(1.0, spread, cond=flat)
    return ops.where(0.0, g.reshape(kept) * centered / scale, cond=flat)


_std = primitive("std", lambda a, axis, ddof, keepdims:
                 np.std(a, axis=axis, ddof=ddof, keepdims=keepdims), _std_vjp)


def std(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, correction=None):
    """numpy.std: the standard deviation over `axis`, dividing by N - ddof (numpy's ddof=0;
    PyTorch's default is 1). Where it is 0 its gradient is 0, as in PyTorch."""
    _refuse("std", dtype=dtype, out=out)
    if correction is not None and ddof:
        raise ValueError("std: pass ddof= or correction=, not both")
    return _std(a, axis=axis, ddof=ddof if correction is None else correction, keepdims=keepdims)


def _vector_norm_vjp(g, ans, x, axis, keepdims, ord):
    shape, raw = _shape(x), _raw(x)
    kept = _kept_shape(shape, axis)
    g, norm = g.reshape(kept), ans.reshape(kept)
    if ord == 0:  # the count of nonzero elements
        return np.zeros(shape, dtype=raw.dtype)
    if ord == 1:
        return g * np.sign(raw)
    if ord in (np.inf, -np.inf):  # the largest (smallest) |x|: ties share, as max does
        hit = _like(np.abs(raw) == _raw(norm), g)
        return g * (np.sign(raw) * hit / hit.sum(axis=axis, keepdims=True))
    zero = _raw(norm) == 0  # the gradient at a zero norm is 0, as in PyTorch
    safe = ops.where(1.0, norm, cond=zero)
    if ord == 2:
        return ops.where(0.0, g * x / safe, cond=zero)
    powered = ops.abs(ops.where(1.0, x, cond=raw == 0)) ** (ord - 1.0) * np.sign(raw)  # 0 at 0
    return ops.where(0.0, g * powered / safe ** (ord - 1.0), cond=zero)


_vector_norm = primitive(
    "vector_norm", lambda x, axis, keepdims, ord:
        np.linalg.vector_norm(x, axis=axis, keepdims=keepdims, ord=ord), _vector_norm_vjp)


def vector_norm(x, axis=None, keepdims=False, ord=2):
    """numpy.linalg.vector_norm: (sum |x|^ord)^(1/ord) over `axis` (every element if None);
    ord inf/-inf is max/min |x|, 0 the count of nonzeros. A zero norm has gradient 0."""
    return _vector_norm(x, axis=axis, keepdims=keepdims, ord=ord)


# --- products and diagonals -------------------------------------------------------------
_LETTERS = string.ascii_letters


def _sublists_to_subscripts(operands):
    """einsum's other form, (op0, sublist0, op1, sublist1, ..., [sublistout]), as a string
    (numpy's letters: 0-25 are A-Z, 26-51 a-z)."""
    def letters(sublist):
        return "".join("..." if s is Ellipsis else _LETTERS[(s + 26) % 52] for s in sublist)
    operands = list(operands)
    output = operands.pop() if len(operands) % 2 else None
    spec = ",".join(letters(s) for s in operands[1::2])
    return spec + ("" if output is None else "->" + letters(output)), operands[0::2]


def _einsum_parts(subscripts, shapes):
    """Each operand's subscripts and the output's, with '...' spelled out in fresh letters
    (right-aligned, as numpy broadcasts) and an implicit output made explicit."""
    subscripts = subscripts.replace(" ", "")
    given, arrow, output = subscripts.partition("->")
    fresh = [c for c in _LETTERS if c not in subscripts]
    width = builtins.max([len(shape) - len(s) + 3 for s, shape in zip(given.split(","), shapes)
                          if "..." in s], default=0)
    dots = "".join(fresh[:width])
    inputs = [s.replace("...", dots[width - (len(shape) - len(s) + 3):]) if "..." in s else s
              for s, shape in zip(given.split(","), shapes)]
    if arrow:
        return inputs, output.replace("...", dots)
    named = given.replace(",", "").replace(".", "")  # numpy: letters used once, sorted
    return inputs, dots + "".join(sorted(c for c in set(named) if named.count(c) == 1))


def _einsum_vjp(i, g, ans, *operands, subscripts, optimize=False):
    """Operand i's gradient is itself an einsum: of g and the other operands, into operand
    i's letters. A letter operand i repeats (a diagonal, 'ii') gets a fresh letter tied to
    the first by an identity matrix; a letter only operand i has (summed in the forward)
    comes back through a ones array."""
    shapes = [_shape(x) for x in operands]
    inputs, output = _einsum_parts(subscripts, shapes)
    own = dict(zip(inputs[i], shapes[i]))
    used = set("".join(inputs) + output)
    fresh = iter(c for c in _LETTERS if c not in used)
    dtype = _raw(g).dtype
    wanted, extra_subscripts, extra_operands = "", [], []
    for c in inputs[i]:
        if c in wanted:
            d = next(fresh)
            wanted += d
            extra_subscripts.append(c + d)
            extra_operands.append(np.eye(own[c], dtype=dtype))
        else:
            wanted += c
    others = [x for k, x in enumerate(operands) if k != i]
    other_subscripts = [s for k, s in enumerate(inputs) if k != i]
    named_elsewhere = set(output + "".join(other_subscripts))
    summed = "".join(c for c in dict.fromkeys(inputs[i]) if c not in named_elsewhere)
    if summed:
        extra_subscripts.append(summed)
        extra_operands.append(np.ones([own[c] for c in summed], dtype=dtype))
    spec = ",".join([output] + other_subscripts + extra_subscripts) + "->" + wanted
    return _einsum(g, *others, *extra_operands, subscripts=spec, optimize=optimize)


_einsum = primitive("einsum", lambda *operands, subscripts, optimize=False:
                    np.einsum(subscripts, *operands, optimize=optimize), each_input=_einsum_vjp)


def einsum(*operands, out=None, optimize=False):
    """numpy.einsum(subscripts, *operands): explicit ('ij,jk->ik') or implicit ('ij,jk')
    output, '...' broadcasting, repeated letters (diagonals), or the sublist form
    einsum(a, [0, 1], b, [1, 2], [0, 2])."""
    _refuse("einsum", out=out)
    if operands and isinstance(operands[0], str):
        subscripts, arrays = operands[0], operands[1:]
    else:
        subscripts, arrays = _sublists_to_subscripts(operands)
    return _einsum(*arrays, subscripts=subscripts, optimize=optimize)


def _tensordot_subscripts(a_ndim, b_ndim, axes):
    """np.tensordot(a, b, axes) as einsum subscripts: a's summed axes share b's letters."""
    if isinstance(axes, numbers.Integral):
        a_axes, b_axes = list(range(a_ndim - axes, a_ndim)), list(range(axes))
    else:
        a_axes, b_axes = ([x] if isinstance(x, numbers.Integral) else list(x) for x in axes)
    a_axes = [normalize_axis_index(x, a_ndim) for x in a_axes]
    b_axes = [normalize_axis_index(x, b_ndim) for x in b_axes]
    a = _LETTERS[:a_ndim]
    shared = dict(zip(b_axes, (a[x] for x in a_axes)))
    new = iter(_LETTERS[a_ndim:])
    b = "".join(shared[x] if x in shared else next(new) for x in range(b_ndim))
    out = "".join(c for k, c in enumerate(a) if k not in a_axes) + \
          "".join(c for k, c in enumerate(b) if k not in b_axes)
    return f"{a},{b}->{out}"


def _tensordot_vjp(i, g, ans, a, b, axes):
    spec = _tensordot_subscripts(np.ndim(_raw(a)), np.ndim(_raw(b)), axes)
    return _einsum_vjp(i, g, ans, a, b, subscripts=spec)


_tensordot = primitive("tensordot", lambda a, b, axes: np.tensordot(a, b, axes),
                       each_input=_tensordot_vjp)


def tensordot(a, b, axes=2):
    """numpy.tensordot: sum products over the last `axes` axes of a and the first of b,
    or over the axes listed in a pair ([a's], [b's])."""
    return _tensordot(a, b, axes=axes)


outer = primitive(
    "outer", np.outer,  # a.ravel()[:, None] * b.ravel()[None, :]
    lambda g, ans, a, b: ops.matmul(g, ops.reshape(b, shape=(-1,))).reshape(_shape(a)),
    lambda g, ans, a, b: ops.matmul(ops.reshape(a, shape=(-1,)), g).reshape(_shape(b)))


def _kron_vjp(i, g, ans, a, b):
    # with both shapes padded to one length, kron's output is the (a0, b0, a1, b1, ...)
    # array of products a[i] b[j]: each gradient is an einsum of that with the other input
    shapes = [_shape(a), _shape(b)]
    n = builtins.max(len(s) for s in shapes)
    padded = [(1,) * (n - len(s)) + tuple(s) for s in shapes]
    blocks = g.reshape(tuple(v for pair in zip(*padded) for v in pair))
    letters = [_LETTERS[:n], _LETTERS[n:2 * n]]
    interleaved = "".join(x + y for x, y in zip(*letters))
    other = ops.reshape((b, a)[i], shape=padded[1 - i])
    spec = f"{interleaved},{letters[1 - i]}->{letters[i]}"
    return _einsum(blocks, other, subscripts=spec).reshape(shapes[i])


kron = primitive("kron", np.kron, functools.partial(_kron_vjp, 0), functools.partial(_kron_vjp, 1))


def _trace_vjp(g, ans, a, offset, axis1, axis2):
    # g on the chosen diagonal of every matrix, 0 elsewhere
    shape = _shape(a)
    i, j = normalize_axis_index(axis1, len(shape)), normalize_axis_index(axis2, len(shape))
    eye = np.eye(shape[i], shape[j], k=offset, dtype=_raw(g).dtype)
    mask_shape, kept = [1] * len(shape), list(shape)
    mask_shape[i], mask_shape[j] = shape[i], shape[j]
    kept[i] = kept[j] = 1
    return g.reshape(kept) * (eye if i < j else eye.T).reshape(mask_shape)


_trace = primitive("trace", lambda a, offset, axis1, axis2:
                   np.trace(a, offset=offset, axis1=axis1, axis2=axis2), _trace_vjp)


def trace(a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    """numpy.trace: the sum along a diagonal (offset `offset`) of the (axis1, axis2) matrices."""
    _refuse("trace", dtype=dtype, out=out)
    return _trace(a, offset=offset, axis1=axis1, axis2=axis2)


def _put_diagonal_forward(d, offset, axis1, axis2, shape):
    """Zeros of `shape` with d's last axis on the diagonal that diagonal() would read."""
    out = np.zeros(shape, dtype=np.result_type(d))
    matrices = np.moveaxis(out, (axis1, axis2), (-2, -1))  # a view: writes land in out
    n = np.shape(d)[-1]
    rows, cols = np.arange(n) + builtins.max(-offset, 0), np.arange(n) + builtins.max(offset, 0)
    matrices[..., rows, cols] = d
    return out


_diagonal = primitive("diagonal", lambda a, offset, axis1, axis2:
                      np.diagonal(a, offset=offset, axis1=axis1, axis2=axis2),
                      lambda g, ans, a, offset, axis1, axis2:
                          put_diagonal(g, offset=offset, axis1=axis1, axis2=axis2, shape=_shape(a)))
# diagonal's adjoint (and diag of a vector): not a numpy function of its own
put_diagonal = primitive("put_diagonal", _put_diagonal_forward,
                         lambda g, ans, d, offset, axis1, axis2, shape:
                             _diagonal(g, offset=offset, axis1=axis1, axis2=axis2))


def diagonal(a, offset=0, axis1=0, axis2=1):
    """numpy.diagonal: the diagonal of each (axis1, axis2) matrix, as a last axis."""
    return _diagonal(a, offset=offset, axis1=axis1, axis2=axis2)


def diag(v, k=0):
    """numpy.diag: a vector's square matrix with it on diagonal k, or a matrix's diagonal k."""
    ndim = np.ndim(_raw(v))
    if ndim == 1:
        n = _shape(v)[0] + builtins.abs(k)
        return put_diagonal(v, offset=k, axis1=0, axis2=1, shape=(n, n))
    if ndim == 2:
        return _diagonal(v, offset=k, axis1=0, axis2=1)
    raise ValueError(f"diag: input must be 1-D or 2-D, got shape {_shape(v)}")


_tril = primitive("tril", lambda m, k: np.tril(m, k), lambda g, ans, m, k: tril(g, k))
_triu = primitive("triu", lambda m, k: np.triu(m, k), lambda g, ans, m, k: triu(g, k))


def tril(m, k=0):
    """numpy.tril: zeros above diagonal k of the last two axes."""
    return _tril(m, k=k)


def triu(m, k=0):
    """numpy.triu: zeros below diagonal k of the last two axes."""
    return _triu(m, k=k)


__all__ = [  # numpy's names (numpy_api.py runs np.<name> on values through these)
    "tan", "sinh", "cosh", "arcsin", "arccos", "arctan", "arcsinh", "arccosh", "arctanh",
    "log2", "log10", "log1p", "exp2", "expm1", "square", "reciprocal", "sign", "floor", "ceil",
    "arctan2", "hypot", "logaddexp", "fmax", "fmin", "mod", "remainder",
    "prod", "cumsum", "cumprod", "std", "vector_norm",
    "einsum", "tensordot", "outer", "kron", "trace", "diagonal", "diag", "tril", "triu",
    "squeeze", "expand_dims", "ravel", "moveaxis", "swapaxes", "repeat", "tile", "pad", "flip",
    "roll", "split", "array_split", "vsplit", "hsplit", "dsplit", "sort", "astype",
]


# --- methods on Value, with PyTorch's names (the lead's value.py attaches VALUE_METHODS) ---
def _axis(name, axis, dim):
    """numpy's `axis` or PyTorch's `dim` (not both); a list of axes as a tuple."""
    if axis is not None and dim is not None:
        raise TypeError(f"{name}: pass axis= or dim=, not both")
    axis = dim if dim is not None else axis
    return tuple(axis) if isinstance(axis, list) else axis


def _keep(name, keepdims, keepdim):
    if keepdim is not None and keepdims:
        raise TypeError(f"{name}: pass keepdims= or keepdim=, not both")
    return bool(keepdim) if keepdim is not None else keepdims


def _sizes(name, sizes):
    """`*sizes` as PyTorch takes them: v.view(2, 3) or v.view((2, 3))."""
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = tuple(sizes[0])
    if not all(isinstance(n, numbers.Integral) for n in sizes):
        raise TypeError(f"{name}: sizes must be ints, got {sizes!r}")
    return tuple(int(n) for n in sizes)


def value_prod(self, axis=None, keepdims=False, *, dim=None, keepdim=None):
    """Product over `axis` (see prod); PyTorch's dim/keepdim too."""
    return _prod(self, axis=_axis("prod", axis, dim), keepdims=_keep("prod", keepdims, keepdim))


def value_std(self, axis=None, keepdims=False, ddof=0, *, dim=None, keepdim=None,
              correction=None):
    """Standard deviation with numpy's default ddof=0, as `var` (PyTorch's default is
    correction=1: pass it); PyTorch's dim/keepdim/correction names too."""
    if correction is not None and ddof:
        raise TypeError("std: pass ddof= or correction=, not both")
    return _std(self, axis=_axis("std", axis, dim), ddof=ddof if correction is None else correction,
                keepdims=_keep("std", keepdims, keepdim))


def value_norm(self, p="fro", dim=None, keepdim=False):
    """PyTorch's Tensor.norm: the vector p-norm over `dim` (every element if None);
    'fro' is the 2-norm. A zero norm has gradient 0, as in PyTorch."""
    if p == "fro" or p is None:
        p = 2
    if isinstance(p, str):
        raise ValueError(f"norm: p={p!r} is not supported; use a number, inf, -inf or 'fro'")
    return _vector_norm(self, axis=_axis("norm", None, dim), keepdims=bool(keepdim), ord=p)


def value_clamp(self, min=None, max=None):
    """PyTorch's clamp: each element limited to [min, max]; bounds may be numbers, arrays
    or values (then they get gradients too, through maximum and minimum)."""
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    if isinstance(min, Value) or isinstance(max, Value):
        out = self if min is None else ops.maximum(self, min)
        return out if max is None else ops.minimum(out, max)
    return ops.clip(self, lo=min, hi=max)


def value_squeeze(self, dim=None, *, axis=None):
    """PyTorch's squeeze: drop the given dims (all if None) that have size 1, leaving the
    others as they are. numpy's `axis=` keeps numpy's meaning: each must have size 1."""
    if axis is not None:
        if dim is not None:
            raise TypeError("squeeze: pass dim= or axis=, not both")
        return squeeze(self, axis)
    dims = range(self.ndim) if dim is None else (dim,) if isinstance(dim, numbers.Integral) else dim
    try:
        dims = normalize_axis_tuple(dims, builtins.max(self.ndim, 1))
    except np.exceptions.AxisError as error:
        raise IndexError(f"squeeze: {error} (shape {self.shape})") from None
    return _squeeze(self, axis=tuple(d for d in dims if d < self.ndim and self.shape[d] == 1))


def value_unsqueeze(self, dim):
    """PyTorch's unsqueeze: a new dim of size 1 at position `dim` (-ndim-1 <= dim <= ndim)."""
    return _expand_dims(self, axis=dim)


def value_permute(self, *dims):
    """PyTorch's permute: the dims in a new order, v.permute(2, 0, 1) or v.permute((2, 0, 1))."""
    dims = _sizes("permute", dims)
    if sorted(d % builtins.max(self.ndim, 1) for d in dims) != list(range(self.ndim)) or \
            not all(-self.ndim <= d < self.ndim for d in dims):
        raise ValueError(f"permute: dims {dims} are not an order of the {self.ndim} dims of "
                         f"shape {self.shape}")
    return ops.transpose(self, axes=dims)


def value_expand(self, *sizes):
    """PyTorch's expand: size-1 dims repeated to `sizes` (-1 keeps a dim), new dims in front."""
    sizes = _sizes("expand", sizes)
    lead = len(sizes) - self.ndim
    if lead < 0:
        raise ValueError(f"expand: {len(sizes)} sizes for a value of {self.ndim} dims "
                         f"(shape {self.shape}); give at least one per dim")
    target = list(sizes[:lead])
    if any(n < 0 for n in target):
        raise ValueError(f"expand: -1 is not allowed for a new leading dim, got {sizes}")
    for k, (n, have) in enumerate(zip(sizes[lead:], self.shape)):
        if n != -1 and have != 1 and n != have:
            raise ValueError(f"expand: dim {k} of shape {self.shape} has size {have}, which "
                             f"cannot expand to {n} (only size-1 dims can)")
        target.append(have if n == -1 else n)
    return ops.broadcast_to(self, shape=tuple(target))


def value_view(self, *shape):
    """PyTorch's view: the same elements in a new shape (-1 for one inferred size)."""
    return ops.reshape(self, shape=_sizes("view", shape))


VALUE_METHODS = {
    "squeeze": value_squeeze, "unsqueeze": value_unsqueeze, "permute": value_permute,
    "expand": value_expand, "view": value_view, "std": value_std, "prod": value_prod,
    "norm": value_norm, "clamp": value_clamp,
}

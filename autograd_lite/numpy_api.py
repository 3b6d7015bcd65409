"""NumPy's own functions on values: `np.tanh(v)`, `np.dot(W, v)`, `np.sum(v, axis=0)`.

`Value` implements numpy's two override protocols (NEP 13 `__array_ufunc__`,
NEP 18 `__array_function__`), so plain NumPy code runs on values and is
recorded like any other: `np.tanh(np.dot(W, x) + b)` with `W` a `Value` gives
a `Value` whose gradient flows back to `W`. `dispatch` finds what to run:

- a ufunc or function we differentiate runs as ops (`UFUNCS`, `FUNCTIONS`, and
  every numpy-named function of numpy_ops.py);
- a question about the data that carries no gradient (`np.shape`, `np.isnan`,
  `np.argmax`, comparisons) is answered from `.data`, as numpy would;
- anything else raises TypeError naming the function: converting the value to
  a constant would silently drop its gradient.
"""
import numpy as np

from . import functional, numpy_ops, ops
from . import value as value_module
from .value import Value


def _data(x):
    return x.data if isinstance(x, Value) else x


def _power(base, exponent):
    return base ** exponent if isinstance(base, Value) else Value.__rpow__(exponent, base)


def _dot(a, b):
    """np.dot: a product of scalars, vectors and matrices (higher dimensions: np.matmul/tensordot)."""
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return ops.mul(a, b)
    if np.ndim(a) > 2 or np.ndim(b) > 2:
        raise TypeError("numpy.dot of arrays above 2-D is not differentiated here (its axes differ "
                        "from matmul's); use np.matmul or np.tensordot")
    return ops.matmul(a, b)


def _reduction(method):
    def reduce(a, axis=None, dtype=None, out=None, keepdims=False, **numpy_options):
        _refuse_out(method, out)
        if dtype is not None or numpy_options:
            raise TypeError(f"numpy.{method} on a Value takes axis and keepdims only, got "
                            f"{sorted(numpy_options) + (['dtype'] if dtype is not None else [])}")
        a = a if isinstance(a, Value) else Value(a, requires_grad=False)
        return getattr(a, method)(axis=tuple(axis) if isinstance(axis, list) else axis,
                               keepdims=keepdims)
    return reduce


def _refuse_out(name, out):
    if out is not None and not (isinstance(out, tuple) and all(o is None for o in out)):
        raise TypeError(f"numpy.{name}(..., out=...) cannot write into a Value: assign the "
                        f"result instead (v = numpy.{name}(v))")


def _norm(x, ord=None, axis=None, keepdims=False):
    """np.linalg.norm: vector norms, and the Frobenius norm of a matrix (others: refused)."""
    matrix = np.ndim(x) == 2 and axis is None or isinstance(axis, tuple) and len(axis) == 2
    if matrix and ord not in (None, "fro"):
        raise TypeError(f"numpy.linalg.norm with ord={ord!r} of a matrix is not differentiated "
                        f"here; the Frobenius norm (ord=None) and vector norms are")
    return numpy_ops.vector_norm(x, ord=2 if ord in (None, "fro") else ord, axis=axis,
                                 keepdims=keepdims)


def _constant_like(make):
    return lambda a, *args, **kwargs: Value(make(_data(a), *args, **kwargs), requires_grad=False)


# ufuncs whose op has another name in the table; the others use numpy's own name (np.tanh: "tanh")
UFUNCS = {np.add: ops.add, np.subtract: ops.sub, np.multiply: ops.mul, np.divide: ops.div,
          np.negative: ops.neg, np.positive: lambda x: x, np.absolute: ops.abs, np.power: _power,
          np.float_power: _power}
# ufunc methods: np.add.reduce(v, axis) is np.sum(v, axis), and so on
UFUNC_METHODS = {(np.add, "reduce"): _reduction("sum"), (np.maximum, "reduce"): _reduction("max"),
                 (np.minimum, "reduce"): _reduction("min")}
FUNCTIONS = {
    np.dot: _dot, np.sum: _reduction("sum"), np.mean: _reduction("mean"),
    np.max: _reduction("max"), np.min: _reduction("min"),
    np.var: lambda a, axis=None, ddof=0, keepdims=False: a.var(axis=axis, ddof=ddof,
                                                               keepdims=keepdims),
    np.where: lambda condition, x, y: functional.where(condition, x, y),
    np.concatenate: lambda arrays, axis=0: functional.concatenate(list(arrays), axis=axis),
    np.stack: lambda arrays, axis=0: functional.stack(list(arrays), axis=axis),
    np.hstack: lambda arrays: functional.concatenate(
        list(arrays), axis=0 if all(np.ndim(a) == 1 for a in arrays) else 1),
    np.vstack: lambda arrays: functional.concatenate(
        [ops.reshape(a, shape=(1, -1)) if np.ndim(a) == 1 else a for a in arrays], axis=0),
    np.reshape: lambda a, shape=None, order="C", *, newshape=None:
        Value.reshape(a, shape if shape is not None else newshape),
    np.transpose: lambda a, axes=None: ops.transpose(a, axes=None if axes is None else tuple(axes)),
    np.swapaxes: lambda a, axis1, axis2: Value.swapaxes(a, axis1, axis2),
    np.clip: lambda a, a_min=None, a_max=None: Value.clip(a, a_min, a_max),
    np.broadcast_to: lambda array, shape: ops.broadcast_to(array, shape=tuple(np.atleast_1d(shape))),
    np.linalg.norm: _norm,
    np.copy: lambda a, order="K": ops.astype(a, dtype=_data(a).dtype),  # a new array, differentiable
    # the data's shape and size, and arrays of the same shape (constants, as in PyTorch)
    np.shape: lambda a: np.shape(_data(a)), np.ndim: lambda a: np.ndim(_data(a)),
    np.size: lambda a, axis=None: np.size(_data(a), axis),
    np.zeros_like: _constant_like(np.zeros_like), np.ones_like: _constant_like(np.ones_like),
    np.empty_like: _constant_like(np.empty_like), np.full_like: _constant_like(np.full_like),
}
# questions about the data that carry no gradient: answered from .data, as numpy would
DATA_QUERIES = {np.argmax, np.argmin, np.argsort, np.nonzero, np.count_nonzero, np.any, np.all,
                np.allclose, np.isclose, np.array_equal, np.array_equiv, np.isnan, np.isinf,
                np.isfinite, np.signbit, np.greater, np.greater_equal, np.less, np.less_equal,
                np.equal, np.not_equal, np.logical_and, np.logical_or, np.logical_not,
                np.logical_xor, np.result_type, np.iscomplexobj, np.isrealobj, np.isscalar,
                np.array2string, np.array_repr, np.array_str, np.unique}
# what to use instead, for the functions people reach for most that we refuse
INSTEAD = {
    np.linalg.inv: "no matrix inverse op yet: solve with gradient descent, or use .data for a constant",
    np.linalg.solve: "no linear solve op yet: use .data for a constant",
    np.fft.fft: "no FFT op: use .data for a constant",
    np.round: "rounding has zero gradient almost everywhere: use .data, or np.floor/np.ceil",
    np.interp: "no interpolation op: use .data for a constant",
}


def _numpy_named_functions():
    """numpy_ops' functions that carry numpy's names (np.cumsum -> numpy_ops.cumsum, ...)."""
    found = {}
    for name in numpy_ops.__all__:
        for space in (np, np.linalg):
            if callable(getattr(space, name, None)):
                found[getattr(space, name)] = getattr(numpy_ops, name)
    return found


FUNCTIONS.update(_numpy_named_functions())


def dispatch(function, args, kwargs):
    """Run numpy's `function` (a function, a ufunc, or a `(ufunc, method)` pair) on values."""
    if isinstance(function, tuple):
        ufunc, method = function
        name = f"{ufunc.__name__}.{method}"
        implementation = UFUNC_METHODS.get(function)
    else:
        if function in DATA_QUERIES:
            return function(*[_data(a) for a in args], **kwargs)
        name = getattr(function, "__name__", None) or repr(function)
        implementation = FUNCTIONS.get(function) or UFUNCS.get(function)
        if implementation is None and isinstance(function, np.ufunc):  # np.tanh: ops.tanh
            implementation = getattr(ops, name, None)
    if implementation is None:
        hint = INSTEAD.get(function if not isinstance(function, tuple) else None,
                           "use .data for a constant (no gradient), or an op from the "
                           "README's list")
        raise TypeError(f"numpy.{name} is not differentiated by autograd_lite: turning the "
                        f"Value into a constant would silently drop its gradient; {hint}")
    if isinstance(function, np.ufunc):
        _refuse_out(name, kwargs.pop("out", None))
        if kwargs:
            raise TypeError(f"numpy.{name} on a Value takes no options, got {sorted(kwargs)}")
    return implementation(*args, **kwargs)


value_module.numpy_dispatch = dispatch  # `Value.__array_ufunc__/__array_function__` call this
value_module.METHODS.update(numpy_ops.VALUE_METHODS)  # v.squeeze(), v.permute(), ... call these

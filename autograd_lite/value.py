"""`Value`: a numpy array that remembers how it was computed.

Every operation on values goes through `apply(name, *inputs, **options)`: it
runs the primitive `name` forward on the inputs' arrays and, when an input
requires grad and recording is on, gives the result a `Record` of the op
(primitive, inputs, options, the input arrays). `backward()` walks those
records in reverse (see backprop.py).

This module is the bottom of the engine and imports nothing above it. It knows
the primitives by name only: `PRIMITIVES` is the op table, filled in by ops.py
as each entry is defined; `backward_walk`, `numpy_dispatch` and `METHODS` are
filled in by backprop.py and numpy_api.py.
"""
import builtins
import numbers

import numpy as np

from . import anomaly, hooks, versions
from .grad_mode import _state as _grad_mode
from .scopes import _state as _scopes

PRIMITIVES = {}        # op name -> Primitive (ops.py adds every entry)
backward_walk = None   # backprop.backward (set by backprop.py)
numpy_dispatch = None  # numpy_api.dispatch: numpy's functions on values (set by numpy_api.py)
METHODS = {}           # PyTorch-named methods of numpy_ops.py (VALUE_METHODS; set by numpy_api.py)


class Primitive:
    """One differentiable op: `forward(*arrays, **options)`, and `vjps[i](g, ans, *inputs,
    **options)`, input i's gradient given the output's gradient `g` and the result `ans`."""

    __slots__ = ("name", "forward", "vjps")

    def __init__(self, name, forward, vjps):
        self.name, self.forward, self.vjps = name, forward, vjps

    def __repr__(self): return f"<primitive {self.name}>"


class Record:
    """How a value was made: the primitive, its inputs as given (values and constants), its
    options, and the arrays the forward saw (`saved`, which backward frees after use)."""

    __slots__ = ("primitive", "inputs", "options", "saved")

    def __init__(self, primitive, inputs, options, saved):
        self.primitive, self.inputs, self.options, self.saved = primitive, inputs, options, saved


def apply(name, *args, **options):
    """Run primitive `name` on `args` (values and constants); record it if an input requires grad."""
    number = versions.next_number()  # before reading any input: a change from now on is later
    primitive = PRIMITIVES[name]
    arrays, needs_grad, array_constants = [], False, False
    for x in args:
        if isinstance(x, Value):
            arrays.append(x._data)
            needs_grad = needs_grad or x._requires_grad
        elif x.__class__ in _PLAIN:  # (a float, an int or an array: nothing to convert)
            arrays.append(x)
            array_constants = array_constants or x.__class__ is np.ndarray
        else:
            arrays.append(_constant(x))
    try:
        out = primitive.forward(*arrays, **options)
    except (ValueError, IndexError) as error:
        raise _input_error(name, error, arrays) from None
    value = Value.__new__(Value)
    value._init(out if out.__class__ is np.ndarray else np.asarray(out), number)
    if value._data.base is not None:  # a view (reshape, transpose, slicing): of an input's array?
        versions.share_with_view(value, args)
    if needs_grad and _grad_mode.enabled:
        if array_constants:  # the caller may change its arrays in place: keep what the op saw
            arrays = [a.copy() if a is x else a for x, a in zip(args, arrays)]
        value._record = Record(primitive, args, options, arrays)
        value._requires_grad = True
    if anomaly.state.enabled:
        value._site = anomaly.user_frame()
        anomaly.check_forward(name, value._data, arrays, value._site)
    return value


_PLAIN = {float, int, np.ndarray}


def _constant(x):
    """A constant input as the forward should see it: numpy scalars become Python numbers
    (numpy treats those as weakly typed: float32 * 2.0 stays float32), lists become arrays."""
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, (list, tuple)):
        return np.asarray(x)
    return x


def _input_error(name, error, arrays):
    shapes = ", ".join(str(np.shape(a)) for a in arrays)
    if isinstance(error, (np.exceptions.AxisError, IndexError)):
        return type(error)(f"{name}: {error} (input shape {shapes})")
    return type(error)(f"{name}: invalid input shapes {shapes}: {error}")


_HOLDS_VALUES = ("; it holds Values: join them with autograd_lite.stack(...) to keep their "
                 "gradients, or pass their .data")


def _to_array(data, dtype):
    """A numpy array from user data, with a clear error for what cannot be one."""
    data = data._data if isinstance(data, Value) else data
    try:
        array = np.array(data, dtype=dtype)
    except RuntimeError:  # from a Value inside that requires grad (see Value.__array__)
        raise TypeError(f"Value: data must be numeric{_HOLDS_VALUES}") from None
    except (ValueError, TypeError) as error:
        raise ValueError(f"Value: data must be a number, a rectangular nested list or a numpy "
                         f"array; got {type(data).__name__}: {error}") from None
    if array.dtype.kind not in "fiub":
        values = array.dtype.kind == "O" and any(isinstance(a, Value) for a in array.reshape(-1))
        raise TypeError(f"Value: data must be numeric, got {type(data).__name__} "
                        f"(numpy dtype {array.dtype}){_HOLDS_VALUES if values else ''}")
    return array


def as_index(index):
    """An index with `Value`s and lists turned into numpy arrays (indices are never differentiated)."""
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
    if isinstance(index, list):  # (an empty list selects nothing, as in numpy)
        return np.asarray(index) if index else np.zeros(0, dtype=np.intp)
    return index


class Value:
    """A scalar or numpy-backed tensor that records the operations applied to it.

    `Value(data, requires_grad=True, dtype=None, name=None)`: `data` is a
    number, a nested list or an array (copied, like `torch.tensor`). Integers
    become float64, float32 stays float32. After `backward()`, `.grad` holds
    d(output)/d(this value) as a numpy array of `.data`'s shape.
    """

    __slots__ = ("_data", "_grad", "_requires_grad", "name", "retains_grad", "scope", "_record",
                 "_number", "_array_version", "_site", "__weakref__")
    __hash__ = object.__hash__  # == is elementwise, identity is the hash

    def __init__(self, data, requires_grad=True, dtype=None, name=None):
        array = _to_array(data, dtype)
        if array.dtype.kind != "f":
            if dtype is not None and requires_grad:
                raise TypeError(
                    f"Value: only floating-point values can require gradients, "
                    f"got dtype {array.dtype}; pass a float dtype or requires_grad=False")
            if dtype is None and (requires_grad or array.dtype.kind != "b"):
                array = array.astype(np.float64)  # (a boolean constant stays a mask, as in PyTorch)
        self._init(array, versions.next_number())
        self._requires_grad, self.name = bool(requires_grad), name

    def _init(self, array, number):
        """Every slot of a new value without a record: a leaf, or an op's output before recording."""
        self._data, self._number = array, number
        self._grad = self.name = self._record = self._array_version = self._site = None
        self._requires_grad = self.retains_grad = False
        self.scope = _scopes.current

    # --- data and its version (the rules: versions.py) ---------------------------
    @property
    def data(self):
        """The numpy array. Assigning to it (`v.data = ...`, `v.data -= ...`) is a change that
        backward sees: a graph recorded before it raises instead of giving wrong gradients."""
        return self._data

    @data.setter
    def data(self, new):
        if new.__class__ is not np.ndarray or new.dtype.kind not in "fiub":
            new = _to_array(new, None)  # the constructor's checks and messages
        versions.record_change(self, new)

    grad = property(lambda self: self._grad, lambda self, g: setattr(self, "_grad", g),
                    lambda self: setattr(self, "_grad", None),  # `del v.grad` forgets it, as PyTorch
                    doc="d(output)/d(this value) after `backward()`, an array of `.data`'s shape.")

    def _set_requires_grad(self, flag):
        flag = bool(flag)
        if self._record is not None and flag != self._requires_grad:
            raise RuntimeError(
                f"you can only change requires_grad of leaf values; this one was computed by op "
                f"'{self.op}'. For a copy outside the graph, use .detach()")
        if flag and self._data.dtype.kind != "f":
            raise TypeError(f"only floating-point values can require gradients, got dtype "
                            f"{self._data.dtype}")
        self._requires_grad = flag

    def _refuse_delete(self):
        raise AttributeError("cannot delete requires_grad; set it to True or False on a leaf")

    requires_grad = property(lambda self: self._requires_grad, _set_requires_grad, _refuse_delete,
                             doc="Whether ops on this value are recorded for gradients to flow.")

    _version = property(versions.count, doc="How many times `.data` was changed (as PyTorch's).")

    # --- what it is -----------------------------------------------------------
    shape = property(lambda self: self._data.shape, doc="Shape of `.data`.")
    ndim = property(lambda self: self._data.ndim, doc="Number of dimensions.")
    size = property(lambda self: self._data.size, doc="Number of elements.")
    dtype = property(lambda self: self._data.dtype, doc="numpy dtype of `.data`.")
    op = property(lambda self: self._record.primitive.name if self._record else "",
                  doc="Name of the op that produced this value; '' for leaves and constants.")
    is_leaf = property(lambda self: self._record is None,
                       doc="True for values no recorded op produced (parameters, inputs, constants).")

    @property
    def parents(self):
        """The op's inputs as `Value`s (constants wrapped); () for leaves or freed graphs."""
        if self._record is None or self._record.inputs is None:
            return ()
        return tuple(a if isinstance(a, Value) else Value(a, requires_grad=False)
                     for a in self._record.inputs)

    def item(self): return self._data.item()  # the single element as a Python number
    def numpy(self): return self._data        # the array itself (shared, not copied)

    def detach(self):
        """A new leaf on the same array, outside any graph, sharing its version (as PyTorch's)."""
        out = Value.__new__(Value)
        out._init(self._data, versions.next_number())
        versions.share(self, out)
        return out

    # --- copies (copy, deepcopy, pickle) ---------------------------------------------
    def __reduce_ex__(self, protocol):
        """Copy or pickle a leaf. A value an op recorded refuses (as PyTorch's deepcopy):
        the copy's graph would carry the original's numbers, which backward orders by."""
        if self._record is not None:
            raise RuntimeError(
                f"cannot copy or pickle a value computed by op '{self.op}' (shape {self.shape}): "
                f"only leaves can be copied; copy its .detach() (a leaf with the same data), "
                f"or its .data")
        return super().__reduce_ex__(max(protocol, 2))  # (protocols 0 and 1 need no other form)

    def __copy__(self):
        """A new leaf on the same array sharing its version (as detach()), with its own `.grad`."""
        out = object.__new__(type(self))
        out.__setstate__(self.__reduce_ex__(4)[2])
        if out._grad is not None:
            out._grad = np.array(out._grad)
        versions.share(self, out)
        return out

    def __setstate__(self, state):
        """A copied or unpickled leaf is a new value: it gets a number of its own."""
        own, slots = state if isinstance(state, tuple) else (state, None)  # (a subclass's __dict__)
        for name, value in {**(own or {}), **(slots or {})}.items():
            object.__setattr__(self, name, value)
        self._number, self.scope = versions.next_number(), None

    # --- Python conversions ------------------------------------------------------------
    def __repr__(self):
        """`Value(data, name=, op=, grad=)`. Numbers show at numpy's print precision (8
        digits by default: tanh(6) reads 0.99998771, not 1.); when an array spans several
        lines, each field starts a line of its own, aligned under the data's first row."""
        indent = " " * len("Value(")
        body = np.array2string(self._data, threshold=20, separator=", ", prefix="Value(")
        extras = [f"name={self.name!r}"] if self.name else []
        if self._record is not None:
            extras.append(f"op={self.op!r}")
        elif not self.requires_grad:
            extras.append("requires_grad=False")
        if self._data.dtype != np.float64:
            extras.append(f"dtype={self._data.dtype}")
        if self.grad is not None:
            extras.append("grad=" + np.array2string(np.asarray(self.grad), threshold=20,
                                                    separator=", ", prefix=indent + "grad="))
        multiline = any("\n" in part for part in [body] + extras)
        return "Value(" + (",\n" + indent if multiline else ", ").join([body] + extras) + ")"

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d Value")
        return self.shape[0]

    def __iter__(self): return (self[i] for i in range(len(self)))

    def __float__(self): return float(self.item())
    def __int__(self): return int(self.item())
    def __bool__(self): return bool(self._data)

    def __format__(self, spec):
        """`f"{loss:.4f}"` formats a one-element value's number, as for a PyTorch tensor."""
        if spec and self._data.size == 1:
            return format(self.item(), spec)
        return format(str(self), spec)

    def __array__(self, dtype=None, copy=None):
        """The data for numpy and matplotlib (`np.asarray(v)`); a value that requires grad
        refuses while recording, as a PyTorch tensor does: it would quietly leave the graph."""
        if self._requires_grad and _grad_mode.enabled:
            raise RuntimeError(
                "cannot convert a Value that requires grad to a numpy array (it would leave "
                "the graph); use .data (or .detach()) for its numbers, or "
                "autograd_lite.stack(...) to join values and keep their gradients")
        return np.array(self._data, dtype=dtype, copy=copy)

    # --- numpy's functions and ufuncs run as ops (numpy_api.py): np.tanh(v), array * v ------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return numpy_dispatch(ufunc if method == "__call__" else (ufunc, method), inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        return numpy_dispatch(func, args, kwargs)

    # --- gradients --------------------------------------------------------------
    def backward(self, grad=None, retain_graph=False, create_graph=False):
        """Accumulate d(self)/d(leaf) into `.grad` of every leaf that requires grad."""
        backward_walk(self, grad, retain_graph, create_graph)

    def register_hook(self, hook):  # `hook(grad)` when backward reaches this value (hooks.py)
        return hooks.register(self, hook)

    def retain_grad(self):
        """Keep `.grad` on this non-leaf value too during backward."""
        self.retains_grad = True
        return self

    def zero_grad(self): self._grad = None  # forget the accumulated gradient

    # --- comparisons give plain numpy bool arrays -------------------------------
    def __lt__(self, other): return self._data < _raw(other)
    def __le__(self, other): return self._data <= _raw(other)
    def __gt__(self, other): return self._data > _raw(other)
    def __ge__(self, other): return self._data >= _raw(other)
    def __eq__(self, other): return self._data == _raw(other)
    def __ne__(self, other): return self._data != _raw(other)

    # --- arithmetic: each operator is one op of the table; another type of operand
    # gives NotImplemented, so Python tries its reflected operator, then raises TypeError
    def __add__(self, other): return apply("add", self, other) if isinstance(other, _OPERANDS) else NotImplemented
    def __radd__(self, other): return apply("add", other, self) if isinstance(other, _OPERANDS) else NotImplemented
    def __sub__(self, other): return apply("sub", self, other) if isinstance(other, _OPERANDS) else NotImplemented
    def __rsub__(self, other): return apply("sub", other, self) if isinstance(other, _OPERANDS) else NotImplemented
    def __mul__(self, other): return apply("mul", self, other) if isinstance(other, _OPERANDS) else NotImplemented
    def __rmul__(self, other): return apply("mul", other, self) if isinstance(other, _OPERANDS) else NotImplemented
    def __truediv__(self, other): return apply("div", self, other) if isinstance(other, _OPERANDS) else NotImplemented
    def __rtruediv__(self, other): return apply("div", other, self) if isinstance(other, _OPERANDS) else NotImplemented
    def __matmul__(self, other): return apply("matmul", self, other) if isinstance(other, _OPERANDS) else NotImplemented
    def __rmatmul__(self, other): return apply("matmul", other, self) if isinstance(other, _OPERANDS) else NotImplemented
    def __rpow__(self, other): return apply("pow", other, self) if isinstance(other, _OPERANDS) else NotImplemented
    def __neg__(self): return apply("neg", self)
    def __pos__(self): return self

    def __pow__(self, other):
        if isinstance(other, Value):
            return apply("pow", self, other)
        if not isinstance(other, _OPERANDS):
            return NotImplemented
        exponent = np.asarray(other)  # a constant exponent: a number, or an array (not differentiated)
        return apply("pow_const", self, exponent=float(exponent) if exponent.ndim == 0 else exponent)

    def __getitem__(self, index): return apply("getitem", self, index=as_index(index))

    # in place: `v += x` changes v itself under no_grad() (see versions.change_in_place)
    def __iadd__(self, o): return versions.change_in_place(self, o, np.add, "+=") if isinstance(o, _OPERANDS) else NotImplemented
    def __isub__(self, o): return versions.change_in_place(self, o, np.subtract, "-=") if isinstance(o, _OPERANDS) else NotImplemented
    def __imul__(self, o): return versions.change_in_place(self, o, np.multiply, "*=") if isinstance(o, _OPERANDS) else NotImplemented
    def __itruediv__(self, o): return versions.change_in_place(self, o, np.true_divide, "/=") if isinstance(o, _OPERANDS) else NotImplemented

    # --- elementwise functions --------------------------------------------------
    def exp(self): return apply("exp", self)
    def log(self): return apply("log", self)
    def sqrt(self): return apply("sqrt", self)
    def abs(self): return apply("abs", self)
    __abs__ = abs
    def tanh(self): return apply("tanh", self)
    def sigmoid(self): return apply("sigmoid", self)
    def relu(self): return apply("relu", self)
    def leaky_relu(self, negative_slope=0.01): return apply("leaky_relu", self, negative_slope=negative_slope)
    def sin(self): return apply("sin", self)
    def cos(self): return apply("cos", self)
    def clip(self, lo=None, hi=None): return apply("clip", self, lo=lo, hi=hi)

    # --- reductions (numpy's axis/keepdims) -------------------------------------
    def sum(self, axis=None, keepdims=False): return apply("sum", self, axis=_axes(axis), keepdims=keepdims)
    def mean(self, axis=None, keepdims=False): return apply("mean", self, axis=axis, keepdims=keepdims)
    def max(self, axis=None, keepdims=False): return apply("max", self, axis=axis, keepdims=keepdims)
    def min(self, axis=None, keepdims=False): return apply("min", self, axis=axis, keepdims=keepdims)
    def logsumexp(self, axis=None, keepdims=False): return apply("logsumexp", self, axis=axis, keepdims=keepdims)

    def var(self, axis=None, keepdims=False, ddof=0):
        """Variance with numpy's default `ddof=0` (pass `ddof=1` for PyTorch's default);
        as numpy, inf (with a warning) when `ddof` leaves no degrees of freedom."""
        centered = self - self.mean(axis=axis, keepdims=True)
        squares = (centered * centered).sum(axis=axis, keepdims=keepdims)
        count = self.size // squares.size if squares.size else 0
        return squares / builtins.max(count - ddof, 0)

    # --- shape --------------------------------------------------------------------
    def reshape(self, *shape):
        shape = shape[0] if len(shape) == 1 and not isinstance(shape[0], numbers.Integral) else shape
        return apply("reshape", self, shape=tuple(shape))

    def transpose(self, *axes):
        axes = axes[0] if len(axes) == 1 and not isinstance(axes[0], numbers.Integral) else axes
        return apply("transpose", self, axes=tuple(axes) if axes else None)

    T = property(lambda self: apply("transpose", self, axes=None), doc="All axes reversed, like numpy.")

    def swapaxes(self, axis1, axis2):
        for axis in (axis1, axis2):
            if not -self.ndim <= axis < self.ndim:
                raise np.exceptions.AxisError(
                    f"swapaxes: axis {axis} is out of bounds for a value of shape {self.shape}")
        axes = list(range(self.ndim))
        axes[axis1], axes[axis2] = axes[axis2], axes[axis1]
        return apply("transpose", self, axes=tuple(axes))

    def flatten(self): return apply("reshape", self, shape=(-1,))

    # --- PyTorch's names, each a few ops written in numpy_ops.py -----------------------
    def squeeze(self, *args, **kwargs): return METHODS["squeeze"](self, *args, **kwargs)
    def unsqueeze(self, *args, **kwargs): return METHODS["unsqueeze"](self, *args, **kwargs)
    def permute(self, *args, **kwargs): return METHODS["permute"](self, *args, **kwargs)
    def expand(self, *args, **kwargs): return METHODS["expand"](self, *args, **kwargs)
    def view(self, *args, **kwargs): return METHODS["view"](self, *args, **kwargs)
    def std(self, *args, **kwargs): return METHODS["std"](self, *args, **kwargs)
    def prod(self, *args, **kwargs): return METHODS["prod"](self, *args, **kwargs)
    def norm(self, *args, **kwargs): return METHODS["norm"](self, *args, **kwargs)
    def clamp(self, *args, **kwargs): return METHODS["clamp"](self, *args, **kwargs)


# Operand types an operator accepts; anything else gives Python's own TypeError.
_OPERANDS = (Value, float, int, np.ndarray, np.generic, numbers.Number, list, tuple)


def _axes(axis):
    """An axis list as the tuple numpy takes (v.sum(axis=[0, 1]))."""
    return tuple(axis) if isinstance(axis, list) else axis


def _raw(x):
    """The numpy data behind `x` (a `Value`, an array or a number)."""
    return x._data if isinstance(x, Value) else x

"""`Value`: a numpy array that remembers how it was computed.

Each `Value` made by an op keeps a small record, `(primitive, inputs, kwargs,
input arrays)`, that `backward()` walks in reverse. A value made outside any
recording (a leaf, a constant, or anything under `no_grad`) keeps none.

The ops themselves live in `ops.py`, one table entry each; this file only
holds the value type, `apply` (the one place where an op is recorded) and
`_operator`, which makes the binary-operator methods `ops.py` attaches.
"""
import functools
import itertools
import numbers
import threading
import types

import numpy as np

from . import anomaly
from .grad_mode import _state as _grad_state

# Operand types an arithmetic operator accepts; anything else gives Python's
# own "unsupported operand type(s)" TypeError. The common types come first:
# checking the abstract numbers.Number is slow.
_OPERANDS = (float, int, np.ndarray, np.generic, numbers.Number, list, tuple)


class Primitive:
    """One differentiable operation: its forward and one vector-Jacobian product per input.

    `forward(*arrays, **kwargs)` computes the result from numpy arrays.
    `vjps[i](g, ans, *inputs, **kwargs)` is the gradient for input `i` (None
    if it gets none), given the upstream gradient `g` and the result `ans`.
    One vjp per input (as in HIPS autograd's `defvjp`) lets backward skip the
    gradients no input needs, such as a matmul's gradient for the data batch.
    The vjps use only operators, methods and other primitives, so they work on
    numpy arrays (ordinary backward) and on `Value`s (`create_graph=True`,
    where the backward is itself recorded).
    """

    __slots__ = ("name", "forward", "vjps", "freed")

    def __init__(self, name, forward, vjps):
        self.name, self.forward, self.vjps = name, forward, vjps
        self.freed = (self, None, None, None)  # the record of an output whose graph was freed

    def __repr__(self):
        return f"<primitive {self.name}>"


class _EachInput:
    """The vjps of an op with any number of inputs: input i's is `vjp(i, g, ans, *inputs)`."""

    __slots__ = ("vjp",)

    def __init__(self, vjp):
        self.vjp = vjp

    def __getitem__(self, i):
        return functools.partial(self.vjp, i)


def primitive(name, forward, *vjps, each_input=None):
    """Make the user-facing function for an op from its forward and its vjps.

    Pass one vjp per input, or, for ops taking any number of inputs (stack,
    concatenate), `each_input=vjp(i, g, ans, *inputs, **kwargs)`. Called with
    numpy arrays only, the function just runs `forward` (that is how vjps run
    in an ordinary backward); called with any `Value` it records the op.
    """
    prim = Primitive(name, forward, _EachInput(each_input) if each_input else vjps)

    def op(*args, **kwargs):
        for a in args:
            if isinstance(a, Value):
                return apply(prim, args, kwargs)
        return forward(*args, **kwargs)

    op.__name__ = op.__qualname__ = name
    op.primitive = prim
    return op


def _describe_inputs(args):
    return ", ".join(str(np.shape(a.data if isinstance(a, Value) else a)) for a in args)


# One count orders everything: each Value's creation (`_order`: inputs are always numbered
# before outputs) and each change to a `.data` (`_edited`, and `edits.last` for the latest
# anywhere). A value changed after an op ran has `_changed_at` (its `_edited`, or a later
# in-place change through a value sharing its array) above that op's `_order`.
_numbers = itertools.count()
edits = types.SimpleNamespace(last=-1)
_edit_lock = threading.Lock()  # keeps edits.last from going back when threads edit at once
_NO_KWARGS = {}  # shared by every op called without keyword arguments (never mutated)


def apply(prim, args, kwargs=_NO_KWARGS):
    """Run `prim` forward on the inputs' data and record it if any input needs grad."""
    order = next(_numbers)  # before reading the inputs: a change from now on counts as later
    datas, needs_grad, converted = [], False, False
    for a in args:
        if isinstance(a, Value):
            datas.append(a._data)
            needs_grad = needs_grad or a.requires_grad
        else:
            # numpy scalars become Python numbers, which numpy treats as weakly typed:
            # float32 * np.float64(2) stays float32, as float32 * 2.0 does; lists become
            # arrays, as numpy would make them, so that every vjp gets arrays
            if isinstance(a, np.generic):
                a, converted = a.item(), True
            elif isinstance(a, (list, tuple)):
                a, converted = np.asarray(a), True
            datas.append(a)
    if converted:  # record the converted constants, so backward sees what forward saw
        args = tuple(a if isinstance(a, Value) else d for a, d in zip(args, datas))
    return _record(prim, order, args, datas, needs_grad, kwargs)


def _unary(prim, x):
    """`apply(prim, (x,))` for a `Value` x: nothing to look at or convert."""
    return _record(prim, next(_numbers), (x,), (x._data,), x.requires_grad)  # numbered first


def _reduction(op, x, axis, keepdims):
    """`op(x, axis=axis, keepdims=keepdims)`; with the defaults there are no options to record."""
    if axis is None and keepdims is False:
        return _unary(op.primitive, x)
    return op(x, axis=axis, keepdims=keepdims)


def _record(prim, order, args, datas, needs_grad, kwargs=_NO_KWARGS):
    """Run `prim` forward on the input arrays `datas` and make the output `Value`.

    The op is recorded, `(prim, args, kwargs, datas)`, if an input needs grad
    and recording is on. `order` is the op's number, taken before any input's
    data was read. `apply` gathers `datas` for any inputs; the methods of
    `Value` whose inputs are values or plain constants call this directly.
    """
    try:
        out = prim.forward(*datas, **kwargs) if kwargs else prim.forward(*datas)
    except (ValueError, IndexError) as error:
        raise type(error)(
            f"{prim.name}: invalid input shapes {_describe_inputs(args)}: {error}") from None
    if out.__class__ is not np.ndarray:  # numpy gives scalars for 0-d results
        out = np.asarray(out)
    value = Value.__new__(Value)
    value._data = out
    value._order = order
    value.grad = None
    value.name = None
    value._own_version = 0
    value._edited = -1
    value._site = None
    value._shared = None
    value._module_calls = None
    if needs_grad and _grad_state.enabled:
        value._node = (prim, args, kwargs or _NO_KWARGS, datas)
        value.requires_grad = True
    else:
        value._node = None
        value.requires_grad = False
    if anomaly.state.enabled:
        value._site = anomaly.user_frame()
        anomaly.check_forward(prim.name, out, datas, value._site)
    return value


def _to_array(data, dtype):
    """numpy array from user data, with a clear error for what cannot be one."""
    if isinstance(data, Value):
        data = data._data
    try:
        array = np.array(data, dtype=dtype)
    except RuntimeError:  # from a Value inside that requires grad (see Value.__array__)
        raise TypeError(
            f"Value: data must be numeric, got a {type(data).__name__} that holds Values: join "
            f"them with autograd_lite.stack(...) to keep their gradients, or pass their .data "
            f"(values that require grad do not turn into numbers silently)") from None
    except (ValueError, TypeError) as error:
        raise ValueError(
            f"Value: data must be a number, a rectangular nested list or a numpy array; "
            f"got {type(data).__name__}: {error}") from None
    if array.dtype.kind not in "fiub":
        hint = ""
        if array.dtype.kind == "O" and any(isinstance(a, Value) for a in array.reshape(-1)):
            hint = ("; it holds Values: join them with autograd_lite.stack(...) to keep their "
                    "gradients, or pass their .data")
        raise TypeError(
            f"Value: data must be numeric, got {type(data).__name__} "
            f"(numpy dtype {array.dtype}){hint}")
    return array


class _SharedVersion:
    """The version of an array that a value and the values detach() made from it share."""

    __slots__ = ("version", "edited")

    def __init__(self, version):
        self.version, self.edited = version, -1  # edited: the number of the latest change

    def __setstate__(self, state):
        """Deep-copied or unpickled: no change has happened to the copies yet (see Value's)."""
        self.version, self.edited = state[1]["version"], -1


class Value:
    """A scalar or numpy-backed tensor that records the operations applied to it.

    `Value(data, requires_grad=True, dtype=None, name=None)`: `data` is a
    number, a nested list or an array (copied, like `torch.tensor`). Integers
    become float64, float32 stays float32. After `backward()`, `.grad` holds
    d(output)/d(this value) as a numpy array of `.data`'s shape.
    """

    __slots__ = ("_data", "grad", "requires_grad", "name", "_node", "_own_version", "_edited",
                 "_order", "_site", "_shared", "_module_calls", "__weakref__")
    __array_ufunc__ = None  # numpy defers to our reflected operators: array * Value -> Value
    __hash__ = object.__hash__  # == is elementwise, identity is the hash

    def __init__(self, data, requires_grad=True, dtype=None, name=None):
        array = _to_array(data, dtype)
        if array.dtype.kind != "f":
            if dtype is not None and requires_grad:
                raise TypeError(
                    f"Value: only floating-point values can require gradients, "
                    f"got dtype {array.dtype}; pass a float dtype or requires_grad=False")
            if dtype is None:
                array = array.astype(np.float64)
        self._data = array
        self._order = next(_numbers)
        self.grad = None
        self.requires_grad = bool(requires_grad)
        self.name = name
        self._node = None
        self._own_version = 0
        self._edited = -1
        self._site = None
        self._shared = None  # the _SharedVersion of an array detach() shares, else None
        self._module_calls = None  # the nn layer calls that returned it (see module_calls.py)

    # --- data and its version -------------------------------------------------
    @property
    def data(self):
        """The numpy array. Assigning to it (`v.data = ...`, `v.data -= ...`) bumps its version.

        The assignment is numbered too; backward() sees when a value was changed
        after an op used it, so changing a value that a live graph still needs
        raises instead of giving wrong gradients. Writing into the
        array's elements (`v.data[0] = 1`, `np.copyto(v.data, ...)`) is not
        seen: assign to `.data` instead.
        """
        return self._data

    @data.setter
    def data(self, new):
        new = new if isinstance(new, np.ndarray) else np.asarray(new)
        _edit_lock.acquire()  # (acquire and release directly: a `with` block costs 0.09 us more)
        try:
            shared = self._shared
            if shared is not None and new is not self._data:  # a new array: no longer shared
                self._own_version, self._shared, shared = shared.version, None, None
            self._data = new
            self._edited = edits.last = next(_numbers)
            if shared is None:
                self._own_version += 1
            else:  # `v.data -= ...` wrote into the array its sharers hold: a change to each
                shared.version += 1
                shared.edited = self._edited
        finally:
            _edit_lock.release()

    @property
    def _version(self):
        """How many times `.data` was assigned; values sharing an array share it (detach)."""
        return self._own_version if self._shared is None else self._shared.version

    @property
    def _changed_at(self):
        """The number of the latest change to `.data`, through this value or one sharing it."""
        shared = self._shared
        return self._edited if shared is None else max(self._edited, shared.edited)

    # --- what it is -----------------------------------------------------------
    shape = property(lambda self: self._data.shape, doc="Shape of `.data`.")
    ndim = property(lambda self: self._data.ndim, doc="Number of dimensions.")
    size = property(lambda self: self._data.size, doc="Number of elements.")
    dtype = property(lambda self: self._data.dtype, doc="numpy dtype of `.data`.")

    @property
    def op(self):
        """Name of the op that produced this value; '' for leaves and constants."""
        return self._node[0].name if self._node is not None else ""

    @property
    def is_leaf(self):
        """True for values no recorded op produced (parameters, inputs, constants)."""
        return self._node is None

    @property
    def parents(self):
        """The op's inputs as `Value`s (constants wrapped); () for leaves or freed graphs."""
        if self._node is None or self._node[1] is None:
            return ()
        return tuple(a if isinstance(a, Value) else Value(a, requires_grad=False)
                     for a in self._node[1])

    def item(self):
        """The single element as a Python number."""
        return self._data.item()

    def numpy(self):
        """The underlying numpy array (shared, not copied)."""
        return self._data

    def detach(self):
        """A new leaf sharing this value's data, outside any graph.

        As in PyTorch, it shares the version too: an in-place change through
        either (`w.detach().data -= 1`) counts for both, so a graph that used
        this value refuses to backward instead of giving gradients of the old
        data. Only a small counter is shared: no reference to this value or its
        graph.
        """
        out = Value.__new__(Value)
        Value.__init__(out, 0.0, requires_grad=False)
        out._data = self._data
        self._share_version_with(out)
        return out

    def _share_version_with(self, other):
        """Make `other`, a new value on this value's array, share this value's version."""
        with _edit_lock:
            if self._shared is None:
                self._shared = _SharedVersion(self._own_version)
            other._shared = self._shared

    # --- copies (copy, deepcopy, pickle) ---------------------------------------------
    def __reduce_ex__(self, protocol):
        """Copy or pickle a leaf; a value an op recorded refuses (PyTorch's deepcopy does too).

        Its graph cannot be copied safely: the copy's ops would carry the
        original's numbers, and backward orders and checks ops by number.
        """
        if self._node is not None:
            raise RuntimeError(
                f"cannot copy or pickle a value computed by op '{self.op}' (shape {self.shape}): "
                f"only leaves can be copied; copy its .detach() (a leaf with the same data), "
                f"or its .data")
        return super().__reduce_ex__(protocol)

    def __copy__(self):
        """copy.copy of a leaf: a new leaf on the same array, sharing its version as detach() does.

        It keeps `requires_grad` and `name` and gets its own copy of `.grad`, so a
        backward into both never adds into one array, and an in-place change
        through either counts for the graphs of both.
        """
        out = object.__new__(type(self))
        out.__setstate__(self.__reduce_ex__(4)[2])  # (which refuses a value an op recorded)
        if out.grad is not None:
            out.grad = np.array(out.grad)
        self._share_version_with(out)
        return out

    def __setstate__(self, state):
        """Restore a copied or unpickled leaf as a new value.

        It gets a number of its own, and no change to it has happened yet: the
        numbers it carried were given before the copy, or in another process,
        and compared with this process's ops they would raise false
        "modified in place" errors.
        """
        own, slots = state if isinstance(state, tuple) else (state, None)  # (a subclass's __dict__)
        for name, value in {**(own or {}), **(slots or {})}.items():
            object.__setattr__(self, name, value)
        self._order, self._edited, self._module_calls = next(_numbers), -1, None

    def __repr__(self):
        body = np.array2string(np.asarray(self._data), precision=4, threshold=20,
                               separator=", ", prefix="Value(")
        extras = []
        if self.name:
            extras.append(f"name={self.name!r}")
        if self._node is not None:
            extras.append(f"op={self.op!r}")
        elif not self.requires_grad:
            extras.append("requires_grad=False")
        if self._data.dtype != np.float64:
            extras.append(f"dtype={self._data.dtype}")
        if self.grad is not None:
            extras.append("grad=" + np.array2string(np.asarray(self.grad), precision=4,
                                                    threshold=20, separator=", "))
        return "Value(" + ", ".join([body] + extras) + ")"

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d Value")
        return self.shape[0]

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __float__(self):  # any one-element value, as PyTorch allows
        return float(self.item())

    def __format__(self, spec):
        """`f"{loss:.4f}"` formats a one-element value's number, as for a PyTorch tensor."""
        if spec and self._data.size == 1:
            return format(self.item(), spec)
        return format(str(self), spec)

    def __array__(self, dtype=None, copy=None):
        """The data for numpy and matplotlib (`np.asarray(v)`, `plt.plot(x, v)`).

        A value that requires grad refuses, as a PyTorch tensor does: converting it
        would quietly drop it from the graph (`Value([a, b])` of values, say).
        """
        if self.requires_grad:
            raise RuntimeError(
                "cannot convert a Value that requires grad to a numpy array (it would leave "
                "the graph); use .data (or .detach()) for its numbers, or "
                "autograd_lite.stack(...) to join values and keep their gradients")
        return np.array(self._data, dtype=dtype, copy=copy)  # (numpy's meaning of copy=)

    def __int__(self):
        return int(self.item())

    def __bool__(self):
        return bool(self._data)

    # --- gradients --------------------------------------------------------------
    def backward(self, grad=None, retain_graph=False, create_graph=False):
        """Accumulate d(self)/d(leaf) into `.grad` of every leaf that requires grad."""
        autograd.backward(self, grad, retain_graph=retain_graph, create_graph=create_graph)

    def retain_grad(self):
        """Keep `.grad` on this non-leaf value too during the next backward."""
        autograd.retained[id(self)] = self
        return self

    def zero_grad(self):
        """Forget the accumulated gradient (`.grad = None`)."""
        self.grad = None

    # --- comparisons give plain numpy bool arrays ---------------------------
    def __lt__(self, other): return self._data < _raw(other)
    def __le__(self, other): return self._data <= _raw(other)
    def __gt__(self, other): return self._data > _raw(other)
    def __ge__(self, other): return self._data >= _raw(other)
    def __eq__(self, other): return self._data == _raw(other)
    def __ne__(self, other): return self._data != _raw(other)


    # --- arithmetic: each operator is one op from the table in ops.py -----------
    # (+ - * / @ and their reflected forms are attached at the end of ops.py, by `_operator`;
    # these and the functions below that take no options record the op themselves: the op's
    # own wrapper would only look for a Value again, one call more per op)
    def __neg__(self): return _unary(ops.neg.primitive, self)
    def __pos__(self): return self

    def __pow__(self, other):
        if isinstance(other, Value):
            return ops.power(self, other)
        if isinstance(other, (float, int)) or (
                isinstance(other, (numbers.Real, np.generic)) and np.ndim(other) == 0):
            return _record(ops.pow_scalar.primitive, next(_numbers), (self,), (self._data,),
                           self.requires_grad, {"exponent": float(other)})
        if isinstance(other, _OPERANDS):  # a constant array exponent is not differentiated
            return ops.pow_scalar(self, exponent=np.asarray(other))
        return NotImplemented

    def __rpow__(self, other):
        return ops.power(other, self) if isinstance(other, _OPERANDS) else NotImplemented

    def __getitem__(self, index): return ops.getitem(self, index=ops.as_index(index))

    # --- elementwise functions --------------------------------------------------
    def exp(self): return _unary(ops.exp.primitive, self)
    def log(self): return _unary(ops.log.primitive, self)
    def sqrt(self): return _unary(ops.sqrt.primitive, self)
    def abs(self): return _unary(ops.abs.primitive, self)
    __abs__ = abs
    def tanh(self): return _unary(ops.tanh.primitive, self)
    def sigmoid(self): return _unary(ops.sigmoid.primitive, self)
    def relu(self): return _unary(ops.relu.primitive, self)
    def leaky_relu(self, negative_slope=0.01): return ops.leaky_relu(self, negative_slope=negative_slope)
    def sin(self): return _unary(ops.sin.primitive, self)
    def cos(self): return _unary(ops.cos.primitive, self)
    def clip(self, lo=None, hi=None): return ops.clip(self, lo=lo, hi=hi)

    # --- reductions (numpy's axis/keepdims) -------------------------------------
    def sum(self, axis=None, keepdims=False): return _reduction(ops.sum, self, axis, keepdims)
    def mean(self, axis=None, keepdims=False): return _reduction(ops.mean, self, axis, keepdims)

    def max(self, axis=None, keepdims=False): return ops.max(self, axis=axis, keepdims=keepdims)
    def min(self, axis=None, keepdims=False): return ops.min(self, axis=axis, keepdims=keepdims)
    def logsumexp(self, axis=None, keepdims=False): return ops.logsumexp(self, axis=axis, keepdims=keepdims)

    def var(self, axis=None, keepdims=False, ddof=0):
        """Variance with numpy's default `ddof=0` (pass `ddof=1` for PyTorch's default)."""
        centered = self - self.mean(axis=axis, keepdims=True)
        count = ops.count_reduced(self.shape, axis)
        return (centered * centered).sum(axis=axis, keepdims=keepdims) / (count - ddof)

    # --- shape --------------------------------------------------------------------
    def reshape(self, *shape):
        shape = shape[0] if len(shape) == 1 and not isinstance(shape[0], numbers.Integral) else shape
        return ops.reshape(self, shape=tuple(shape))

    def transpose(self, *axes):
        axes = axes[0] if len(axes) == 1 and not isinstance(axes[0], numbers.Integral) else axes
        return ops.transpose(self, axes=tuple(axes) if axes else None)

    T = property(lambda self: ops.transpose(self, axes=None), doc="All axes reversed, like numpy.")

    def swapaxes(self, axis1, axis2):
        axes = list(range(self.ndim))
        for axis in (axis1, axis2):
            if not -self.ndim <= axis < self.ndim:
                raise np.exceptions.AxisError(
                    f"swapaxes: axis {axis} is out of bounds for a value of shape {self.shape}")
        axes[axis1], axes[axis2] = axes[axis2], axes[axis1]
        return ops.transpose(self, axes=tuple(axes))

    def flatten(self): return ops.reshape(self, shape=(-1,))


_PLAIN = (float, np.ndarray, int)  # constant operands numpy takes as they are (exact types)
_OPERANDS_V = (Value,) + _OPERANDS


def _raw(x):
    """The numpy data behind `x` (a `Value`, an array or a number)."""
    return x._data if isinstance(x, Value) else x


def _operator(op, reflected=False):
    """The method for a binary operator: record `op` with this value on the left (right if reflected).

    Operands of other types give NotImplemented, so Python raises its usual TypeError.
    The common operands, another value or a plain number or array, skip `apply`'s
    general loop (each call's order: the op's number before reading any data).
    """
    prim = op.primitive
    if reflected:  # other is not a Value: Python asked this value after other's own operator
        def method(self, other):
            if other.__class__ in _PLAIN:
                return _record(prim, next(_numbers), (other, self), (other, self._data),
                               self.requires_grad)
            return apply(prim, (other, self)) if isinstance(other, _OPERANDS) else NotImplemented
    else:
        def method(self, other):
            if isinstance(other, Value):
                return _record(prim, next(_numbers), (self, other), (self._data, other._data),
                               self.requires_grad or other.requires_grad)
            if other.__class__ in _PLAIN:
                return _record(prim, next(_numbers), (self, other), (self._data, other),
                               self.requires_grad)
            return apply(prim, (self, other)) if isinstance(other, _OPERANDS) else NotImplemented
    return method


def _in_place(ufunc, symbol):
    """The method for `v += x` (and `-= *= /=`): in place while nothing is recorded.

    Under `no_grad()`, or when neither side requires grad, `v` itself changes
    (so `with no_grad(): p -= lr * p.grad` updates the parameter every reference
    sees, as in PyTorch) and its version moves, as with `.data = ...`. An array
    of its own is written in place; a view of another array (from `.T`,
    `reshape`, slicing) gets a new array instead, because the value it views
    would change behind its version. While recording for a side that requires
    grad, Python's fallback applies: `v = v + x`, a new recorded value (micrograd's
    `total += term`). Except for a leaf that already has a gradient: that is a
    parameter being updated outside `no_grad()`, where the fallback would only
    rebind the loop variable and leave the parameter as it was, so it raises
    (PyTorch raises for any leaf that requires grad).
    """
    def method(self, other):
        if not isinstance(other, _OPERANDS_V):
            return NotImplemented
        if _grad_state.enabled and (self.requires_grad
                                    or (isinstance(other, Value) and other.requires_grad)):
            if self._node is None and self.requires_grad and self.grad is not None:
                raise RuntimeError(
                    f"{symbol}: an in-place change of a leaf that requires grad and has a "
                    f"gradient (a parameter, shape {self.shape}) while gradients are recorded "
                    f"would leave the parameter unchanged; update it under "
                    f"`with no_grad():` (as in PyTorch) or through `.data` (`p.data -= ...`)")
            return NotImplemented
        array = self._data
        owned = array.base is None and array.flags.writeable
        target = array if owned else np.empty_like(array)
        try:
            ufunc(array, _raw(other), out=target)  # numpy's in-place rules: v's shape and dtype
        except (ValueError, TypeError) as error:  # a broadcast that would grow v, a bad cast
            kind = ValueError if isinstance(error, ValueError) else TypeError
            given = np.asarray(_raw(other))
            raise kind(f"{symbol}: cannot change a value of shape {self.shape} and dtype "
                       f"{self.dtype} in place with shape {given.shape} and dtype {given.dtype}: "
                       f"{error}") from None
        self.data = target  # a new version (and, for a new array, no longer shared)
        return self
    return method


from . import autograd, ops  # noqa: E402  (both need Value defined first)

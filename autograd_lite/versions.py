"""In-place changes: a backward that would use changed data raises instead of lying.

The rules, all of them:
1. One counter numbers everything: each value when it is made (an op takes its
   number before reading its inputs) and each change to an array.
2. Values holding the same array or views of it share one `ArrayVersion` (`.detach()`,
   `copy.copy`, `.T`, `reshape`, slices): the count of changes and the latest's number.
3. Assigning to `.data` is a change: the same array written in place (`v.data -= 1`,
   `v += 1` under no_grad) moves the shared version; a new array gets its own version.
4. Backward checks an op only when a change happened after it ran (`latest_change`):
   then its output and inputs must not have changed since the op's number.
Writing single elements (`v.data[0] = 1`) is not seen, as with PyTorch's `.data`.
"""
import itertools
import threading

import numpy as np

from .grad_mode import _state as _grad_mode

next_number = itertools.count().__next__
latest_change = -1   # the number of the latest change to any array
_lock = threading.Lock()  # keeps latest_change from going back when threads change values at once


class ArrayVersion:
    """An array's count of changes, the latest one's number, and the value changed through."""

    __slots__ = ("count", "changed_at", "changed_through")

    def __init__(self, count=0, changed_at=-1, changed_through=None):
        self.count, self.changed_at, self.changed_through = count, changed_at, changed_through

    def __setstate__(self, state):  # a copy (deepcopy, pickle) keeps the count, not the changes
        self.count, self.changed_at, self.changed_through = state[1]["count"], -1, None


def count(value):  # how many times the value's array changed (PyTorch's `_version`)
    return 0 if value._array_version is None else value._array_version.count


def changed_at(value):  # the number of the latest change to the value's array, else -1
    return -1 if value._array_version is None else value._array_version.changed_at


def share(source, target):  # `target`, a new value on `source`'s array, shares its version
    with _lock:
        if source._array_version is None:
            source._array_version = ArrayVersion()
        target._array_version = source._array_version


def share_with_view(view, inputs):  # rule 2 for an op's output viewing an input's array
    base = view._data.base
    for x in inputs:
        array = getattr(x, "_data", None)
        if array is not None and (array is base or array.base is base):
            share(x, view)
            return


def record_change(value, new_array):
    """Rule 3: `value.data = new_array` is a change, numbered now."""
    global latest_change
    with _lock:
        number = latest_change = next_number()
        version = value._array_version
        if version is not None and new_array is value._data:
            version.count += 1
            version.changed_at, version.changed_through = number, value.name
        else:
            value._array_version = ArrayVersion(count(value) + 1, number, value.name)
        value._data = new_array


def check_unchanged(value):
    """Rule 4 for the op that made `value`: raise if it or an input changed since it ran."""
    if changed_at(value) > value._number:
        raise _changed_error(value, "its output", value)
    for i, parent in enumerate(value._record.inputs):
        if hasattr(parent, "_array_version") and changed_at(parent) > value._number:
            raise _changed_error(value, f"its input {i}", parent)


def _changed_error(node, which, changed):
    label = f"'{changed.name}'" if changed.name else "an unnamed value"
    through = changed._array_version.changed_through
    if through and through != changed.name:
        label += f", sharing its memory with '{through}', which was changed"
    return RuntimeError(
        f"A value needed to compute the gradient of op '{node.op}' was modified in place: "
        f"{which} ({label}, shape {changed.shape}) was changed after the op ran (it is now "
        f"at version {count(changed)}). Change .data only after backward() has used the "
        f"graph (e.g. optimizer.step() after loss.backward()), or run a new forward pass.")


def change_in_place(value, other, ufunc, symbol):
    """`v += x` changes `v` itself when nothing is recorded (`with no_grad(): p -= lr * p.grad`,
    as in PyTorch; a view gets a new array). While recording, Python's fallback makes `v = v + x`
    (micrograd's `total += term`), except for a parameter with a gradient: that raises."""
    if _grad_mode.enabled and (value._requires_grad or getattr(other, "requires_grad", False)):
        if value._record is None and value._requires_grad and value._grad is not None:
            raise RuntimeError(
                f"{symbol}: an in-place change of a leaf that requires grad and has a gradient "
                f"(a parameter, shape {value.shape}) while gradients are recorded would leave the "
                f"parameter unchanged; update it under `with no_grad():` (as in PyTorch) or "
                f"through `.data` (`p.data -= ...`)")
        return NotImplemented
    array, given = value._data, getattr(other, "_data", other)
    target = array if array.base is None and array.flags.writeable else np.empty_like(array)
    try:
        ufunc(array, given, out=target)  # numpy's in-place rules: v's shape and dtype
    except (ValueError, TypeError) as error:  # a broadcast that would grow v, a bad cast
        kind = ValueError if isinstance(error, ValueError) else TypeError  # (not numpy's subclasses)
        given = np.asarray(given)
        raise kind(f"{symbol}: cannot change a value of shape {value.shape} and dtype "
                   f"{value.dtype} in place with shape {given.shape} and dtype {given.dtype}: "
                   f"{error}") from None
    value.data = target  # a change: a new version (and, for a new array, no longer shared)
    return value

"""`detect_anomaly()`: stop at the first op whose forward or backward makes NaN or inf.

Outside the context nothing here runs: the engine only reads `state.enabled`.
Inside it, every op checks its output, remembers where in the user's code it
was created, and every gradient is checked on the way back.
"""
import os
import sys
import threading

import numpy as np


class _AnomalyState(threading.local):
    enabled = False


state = _AnomalyState()
# code in these folders is the library's, not the user's: an error points past it
_library_dirs = (os.path.dirname(os.path.abspath(__file__)) + os.sep,)


def skip_file_prefix(path):
    """Count code under `path` (a package folder built on this engine) as library code, so
    an anomaly names the line of user code that called into it, not a line inside it."""
    global _library_dirs
    _library_dirs += (os.path.join(os.path.abspath(path), ""),)


class detect_anomaly:
    """Context manager (and decorator) that raises at the first non-finite value.

    The error names the op, says whether its forward output or its gradient
    went bad, and points at the line of user code that created the op.
    """

    def __init__(self, check_nan=True):
        self.check_nan = check_nan

    def __enter__(self):
        self._previous = state.enabled
        state.enabled = self.check_nan
        return self

    def __exit__(self, *exc):
        state.enabled = self._previous
        return False

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with detect_anomaly(self.check_nan):
                return fn(*args, **kwargs)
        return wrapper


class AnomalyError(RuntimeError, FloatingPointError):
    """Raised inside `detect_anomaly()` at the first NaN or inf."""


def user_frame():
    """'file:line in function' of the innermost caller outside the library (see skip_file_prefix)."""
    frame = sys._getframe(1)
    while frame is not None:
        path = os.path.abspath(frame.f_code.co_filename)
        if not path.startswith(_library_dirs):
            return f"{frame.f_code.co_filename}:{frame.f_lineno} in {frame.f_code.co_name}"
        frame = frame.f_back
    return "unknown location"


def _what(array):
    array = np.asarray(array)
    kinds = []
    if np.isnan(array).any():
        kinds.append("nan")
    if np.isinf(array).any():
        kinds.append("inf")
    return " and ".join(kinds)


def check_forward(op_name, output, inputs, site):
    """Raise if `output` of op `op_name` is not finite."""
    if np.isfinite(output).all():
        return
    finite_inputs = all(np.isfinite(x).all() for x in inputs)
    origin = "from finite inputs" if finite_inputs else "(its inputs were already not finite)"
    raise AnomalyError(
        f"detect_anomaly: op '{op_name}' produced {_what(output)} in its forward output "
        f"{origin}; the op was called at {site}")


def check_backward(op_name, index, grad, site):
    """Raise if the gradient that op `op_name` sends to its input `index` is not finite."""
    data = grad.data if hasattr(grad, "requires_grad") else grad
    if np.isfinite(data).all():
        return
    raise AnomalyError(
        f"detect_anomaly: the backward of op '{op_name}' produced {_what(data)} in the gradient "
        f"for its input {index}; the op was called at {site or 'an unknown location (created outside detect_anomaly)'}")

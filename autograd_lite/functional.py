"""The functions users call that are not methods of `Value`.

Each checks its arguments (naming the function and the shapes in errors) and
then applies primitives from the op table in ops.py, or composes them. None has
gradient code of its own: gradients, and higher derivatives, come from the table.
"""
import numbers

import numpy as np

from . import ops
from .value import Value

maximum = ops.maximum            # elementwise max of two values (ties share the gradient)
minimum = ops.minimum            # elementwise min
log_softmax = ops.log_softmax    # x - logsumexp(x) along `axis` (default -1), stable for any logits


def _shape(x):
    """x's shape, read from a value or an array directly (np.shape would go through numpy_api)."""
    return x.shape if isinstance(x, (Value, np.ndarray)) else np.shape(x)


def softmax(x, axis=-1):
    """exp(x) / sum(exp(x)) along `axis`, computed stably through log_softmax."""
    return ops.exp(log_softmax(x, axis=axis))


def where(cond, a, b):
    """`a` where `cond` is true, else `b` (numpy broadcasting); cond is not differentiated."""
    cond = cond._data if isinstance(cond, Value) else cond
    return ops.where(a, b, cond=np.asarray(cond, dtype=bool))


def concatenate(values, axis=0):
    """Join values along an existing axis (numpy.concatenate; axis=None flattens them first)."""
    if not values:
        raise ValueError("concatenate: expected at least one value to join, got none")
    if axis is None:
        return ops.concatenate(*[ops.reshape(v, shape=(-1,)) for v in values], axis=0)
    return ops.concatenate(*values, axis=axis)


def stack(values, axis=0):
    """Join values along a new axis (numpy.stack)."""
    if not values:
        raise ValueError("stack: expected at least one value to join, got none")
    return ops.stack(*values, axis=axis)


def linear(x, weight, bias=None):
    """x @ weight.T + bias, as one op (PyTorch's functional.linear); no bias if None.

    weight is (out_features, in_features); bias broadcasts to the output (..., out_features)
    and may not enlarge it (its gradient is summed back over the output's shape).
    """
    if len(_shape(weight)) != 2:
        raise ValueError(f"linear: weight must be 2-D (out_features, in_features), "
                         f"got shape {_shape(weight)}")
    if bias is None:
        return ops.linear(x, weight)
    if len(_shape(bias)) > 1:  # a 1-D bias either fits the output or fails in the forward
        out_shape = _shape(x)[:-1] + _shape(weight)[:1]
        if np.broadcast_shapes(_shape(bias), out_shape) != out_shape:
            raise ValueError(f"linear: bias of shape {_shape(bias)} does not broadcast to the "
                             f"output shape {out_shape} (input {_shape(x)}, weight "
                             f"{_shape(weight)})")
    return ops.linear(x, weight, bias)


def as_pair(x, what, smallest=None):
    """(x, x) for an int, the pair itself for a pair; each at least `smallest` if given.

    `what` names the argument in errors, e.g. "conv2d: stride".
    """
    if isinstance(x, numbers.Integral):
        x = (x, x)
    if not isinstance(x, (tuple, list)) or len(x) != 2 or \
            not all(isinstance(v, numbers.Integral) for v in x):
        raise ValueError(f"{what} must be an int or a pair of ints, got {x!r}")
    if smallest is not None and min(x) < smallest:
        kind = "positive" if smallest == 1 else "non-negative"
        raise ValueError(f"{what} must be {kind}, got {x!r}")
    return (int(x[0]), int(x[1]))


def _check_4d(op, name, x):
    if len(_shape(x)) != 4:
        raise ValueError(f"{op}: {name} must be 4-D (N, C, H, W), got shape {_shape(x)}")


def conv2d(x, w, b=None, stride=1, padding=0):
    """2-D cross-correlation, PyTorch layout: x (N, C, H, W), w (O, C, KH, KW), b (O,).

    Pads, takes every KHxKW window (a strided view), then one matrix product.
    """
    x = x if isinstance(x, Value) else Value(x, requires_grad=False)
    _check_4d("conv2d", "input", x)
    _check_4d("conv2d", "weight", w)
    stride = as_pair(stride, "conv2d: stride", smallest=1)
    ph, pw = as_pair(padding, "conv2d: padding", smallest=0)
    n, c, h, wd = x.shape
    o, wc, kh, kw = _shape(w)
    if wc != c:
        raise ValueError(f"conv2d: input has {c} channels (shape {x.shape}) but weight expects "
                         f"{wc} (shape {_shape(w)})")
    if b is not None and _shape(b) != (o,):
        raise ValueError(f"conv2d: bias must have shape ({o},), got {_shape(b)}")
    if h + 2 * ph < kh or wd + 2 * pw < kw:
        raise ValueError(f"conv2d: kernel {kh}x{kw} is larger than the padded input "
                         f"{h + 2 * ph}x{wd + 2 * pw} (input shape {x.shape})")
    if ph or pw:
        x = ops.pad(x, padding=((0, 0), (0, 0), (ph, ph), (pw, pw)))
    patches = ops.windows(x, size=(kh, kw), stride=stride)          # N, C, OH, OW, KH, KW
    oh, ow = patches.shape[2], patches.shape[3]
    columns = patches.transpose(0, 2, 3, 1, 4, 5).reshape(n * oh * ow, c * kh * kw)
    out = ops.linear(columns, ops.reshape(w, shape=(o, c * kh * kw)), b)  # N*OH*OW, O
    return ops.contiguous(out.reshape(n, oh, ow, o).transpose(0, 3, 1, 2))


def max_pool2d(x, kernel_size, stride=None):
    """Max over each kernel_size window, `stride` apart (default: the kernel size).

    Tied maxima in a window share its gradient equally (as `max` does); PyTorch
    gives all of it to the first one. Both are valid subgradients.
    """
    x = x if isinstance(x, Value) else Value(x, requires_grad=False)
    _check_4d("max_pool2d", "input", x)
    kh, kw = as_pair(kernel_size, "max_pool2d: kernel_size", smallest=1)
    stride = as_pair(stride, "max_pool2d: stride", smallest=1) if stride is not None else (kh, kw)
    if x.shape[2] < kh or x.shape[3] < kw:
        raise ValueError(f"max_pool2d: kernel {kh}x{kw} is larger than the input (shape {x.shape})")
    return ops.max_pool2d(x, size=(kh, kw), stride=stride)

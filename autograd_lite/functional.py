"""Functions built from the primitives in `ops.py` (no gradient code of their own).

Because they are compositions, their gradients, and their second
derivatives, come from the table for free.
"""
import numbers

import numpy as np

from . import ops
from .value import Value


def _pair(x, what, smallest=None):
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


def softmax(x, axis=-1):
    """exp(x) / sum(exp(x)) along `axis`, computed stably through log_softmax."""
    return ops.exp(log_softmax(x, axis=axis))


def log_softmax(x, axis=-1):
    """x - logsumexp(x) along `axis`: stable for any logits (one primitive, see ops.py)."""
    return ops.log_softmax(x, axis=axis)


def _check_4d(op, name, x):
    if np.ndim(x) != 4:
        raise ValueError(f"{op}: {name} must be 4-D (N, C, H, W), got shape {np.shape(x)}")


def conv2d(x, w, b=None, stride=1, padding=0):
    """2-D cross-correlation, PyTorch layout: x (N, C, H, W), w (O, C, KH, KW), b (O,).

    Pads, takes every KHxKW window (a strided view), then one matrix product.
    """
    x = x if isinstance(x, Value) else Value(x, requires_grad=False)
    _check_4d("conv2d", "input", x)
    _check_4d("conv2d", "weight", w)
    stride = _pair(stride, "conv2d: stride", smallest=1)
    ph, pw = _pair(padding, "conv2d: padding", smallest=0)
    n, c, h, wd = x.shape
    o, wc, kh, kw = np.shape(w)
    if wc != c:
        raise ValueError(f"conv2d: input has {c} channels (shape {x.shape}) but weight expects "
                         f"{wc} (shape {np.shape(w)})")
    if b is not None and np.shape(b) != (o,):
        raise ValueError(f"conv2d: bias must have shape ({o},), got {np.shape(b)}")
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
    kh, kw = _pair(kernel_size, "max_pool2d: kernel_size", smallest=1)
    stride = _pair(stride, "max_pool2d: stride", smallest=1) if stride is not None else (kh, kw)
    n, c, h, w = x.shape
    if h < kh or w < kw:
        raise ValueError(f"max_pool2d: kernel {kh}x{kw} is larger than the input (shape {x.shape})")
    return ops.max_pool(x, size=(kh, kw), stride=stride)

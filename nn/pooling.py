"""Pooling with PyTorch's options: MaxPool2d, AvgPool2d and AdaptiveAvgPool2d, on batched
(N, C, H, W) or unbatched (C, H, W) input, as modules and as functions.

Built from engine ops: the input is padded (with -inf for max, zeros for average;
`ceil_mode` adds what the last, partial window needs on the right and bottom), the
engine's `windows` take every window (a strided slice keeps a dilated window's taps),
then `max` or `sum` reduces each. Plain max pooling is the engine's `max_pool2d`.
Adaptive average pooling is two products with averaging matrices, rows then columns.

Tied maxima share the gradient equally (as the engine's `max` does); PyTorch gives it
all to the first. Both are valid subgradients; `return_indices` names the first, as
PyTorch's does.
"""
import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from autograd_lite import Value, max_pool2d as plain_max_pool2d, ops
from autograd_lite.functional import as_pair

from .conv import pad
from .module import Module

__all__ = ["MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "max_pool2d", "avg_pool2d",
           "adaptive_avg_pool2d"]


def _output_size(size, kernel, stride, padding, dilation, ceil_mode):
    """PyTorch's pooling output size along one axis (a ceil_mode window must start inside the
    input or its left padding)."""
    span = dilation * (kernel - 1) + 1
    out = (size + 2 * padding - span + (stride - 1 if ceil_mode else 0)) // stride + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1
    return out


def _settings(name, input, kernel_size, stride, padding, dilation, ceil_mode):
    """Check the arguments and the input; returns the input as 4-D, whether it was unbatched,
    the pairs, the output size and the padding (left, right, top, bottom) the windows need."""
    input = input if isinstance(input, Value) else Value(input, requires_grad=False)
    if input.ndim not in (3, 4):
        raise ValueError(f"{name}: expected input of shape (N, C, H, W) or (C, H, W), got shape "
                         f"{input.shape}")
    unbatched = input.ndim == 3
    x = input.reshape((1,) + input.shape) if unbatched else input
    kernel = as_pair(kernel_size, f"{name}: kernel_size", smallest=1)
    stride = kernel if stride is None else as_pair(stride, f"{name}: stride", smallest=1)
    padding = as_pair(padding, f"{name}: padding", smallest=0)
    dilation = as_pair(dilation, f"{name}: dilation", smallest=1)
    for k, p, d in zip(kernel, padding, dilation):
        if p > (d * (k - 1) + 1) // 2:
            raise ValueError(f"{name}: pad should be at most half of effective kernel size, but "
                             f"got pad={p}, kernel_size={k} and dilation={d}")
    out = tuple(_output_size(n, k, s, p, d, ceil_mode)
                for n, k, s, p, d in zip(x.shape[2:], kernel, stride, padding, dilation))
    if min(out) < 1:
        raise ValueError(f"{name}: the input of shape {input.shape} is too small for kernel "
                         f"{kernel} with padding {padding} and dilation {dilation} (output size "
                         f"{out})")
    extra = [max(0, (o - 1) * s + d * (k - 1) + 1 - (n + 2 * p))
             for o, s, d, k, n, p in zip(out, stride, dilation, kernel, x.shape[2:], padding)]
    sides = (padding[1], padding[1] + extra[1], padding[0], padding[0] + extra[0])
    return x, unbatched, kernel, stride, padding, dilation, sides


def _windows(x, kernel, stride, dilation):
    """(N, C, OH, OW, KH, KW): every (dilated) window of x."""
    span = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    patches = ops.windows(x, size=span, stride=stride)
    if dilation != (1, 1):
        patches = patches[:, :, :, :, ::dilation[0], ::dilation[1]]
    return patches


def _first_max_indices(padded, kernel, stride, padding, dilation, width):
    """For each window, the flat index (row * W + column) into its input plane of its first
    maximum (NaN counting as the maximum), as PyTorch's return_indices gives."""
    span = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    windows = sliding_window_view(padded, span, axis=(2, 3))[:, :, ::stride[0], ::stride[1],
                                                             ::dilation[0], ::dilation[1]]
    flat = windows.reshape(windows.shape[:4] + (kernel[0] * kernel[1],))  # (-1 fails on 0 windows)
    nan = np.isnan(flat)
    first = np.where(nan.any(axis=-1), nan.argmax(axis=-1), flat.argmax(axis=-1))
    i, j = np.divmod(first, kernel[1])
    rows = np.arange(windows.shape[2])[:, None] * stride[0] + i * dilation[0] - padding[0]
    cols = np.arange(windows.shape[3])[None, :] * stride[1] + j * dilation[1] - padding[1]
    return (rows * width + cols).astype(np.int64)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """PyTorch's functional.max_pool2d; with return_indices, also each maximum's flat index
    into its (H, W) input plane (an int64 numpy array, not differentiated)."""
    x, unbatched, kernel, stride, padding, dilation, sides = _settings(
        "max_pool2d", input, kernel_size, stride, padding, dilation, ceil_mode)
    padded = pad(x, sides, value=-np.inf) if any(sides) else x
    if dilation == (1, 1):
        out = plain_max_pool2d(padded, kernel, stride=stride)
    else:
        patches = _windows(padded, kernel, stride, dilation)
        out = patches.reshape(patches.shape[:4] + (kernel[0] * kernel[1],)).max(axis=-1)
    out = out.reshape(out.shape[1:]) if unbatched else out
    if not return_indices:
        return out
    indices = _first_max_indices(padded.data, kernel, stride, padding, dilation, x.shape[3])
    return out, (indices[0] if unbatched else indices)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """PyTorch's functional.avg_pool2d: each window's sum over the number of its elements
    (padding included or not), or over `divisor_override`."""
    x, unbatched, kernel, stride, padding, dilation, sides = _settings(
        "avg_pool2d", input, kernel_size, stride, padding, 1, ceil_mode)
    if divisor_override is not None and not divisor_override > 0:
        raise ValueError(f"avg_pool2d: divisor_override must be positive, got {divisor_override}")
    padded = pad(x, sides) if any(sides) else x
    sums = _windows(padded, kernel, stride, dilation).sum(axis=(-2, -1))
    if divisor_override is not None:
        out = sums / divisor_override
    else:  # count, for each window, the elements that are input (or, included, padding)
        h, w = x.shape[2:]
        counted = np.zeros((1, 1) + padded.shape[2:], dtype=x.dtype)
        if count_include_pad:
            counted[..., :h + 2 * padding[0], :w + 2 * padding[1]] = 1
        else:
            counted[..., padding[0]:padding[0] + h, padding[1]:padding[1] + w] = 1
        counts = sliding_window_view(counted, kernel, axis=(2, 3))[:, :, ::stride[0], ::stride[1]]
        out = sums / counts.sum(axis=(-2, -1))
    return out.reshape(out.shape[1:]) if unbatched else out


def _averaging_matrix(size, out):
    """(out, size): row i averages input positions floor(i*size/out) .. ceil((i+1)*size/out)-1."""
    matrix = np.zeros((out, size))
    for i in range(out):
        start, end = (i * size) // out, math.ceil((i + 1) * size / out)
        matrix[i, start:end] = 1.0 / (end - start)
    return matrix


def adaptive_avg_pool2d(input, output_size):
    """PyTorch's functional.adaptive_avg_pool2d: average windows chosen so the output has
    `output_size` (an int, or a pair whose None entries keep the input's size)."""
    input = input if isinstance(input, Value) else Value(input, requires_grad=False)
    if input.ndim not in (3, 4):
        raise ValueError(f"adaptive_avg_pool2d: expected input of shape (N, C, H, W) or "
                         f"(C, H, W), got shape {input.shape}")
    h, w = input.shape[-2:]
    sizes = (output_size, output_size) if not isinstance(output_size, (tuple, list)) \
        else tuple(output_size)
    oh, ow = (h if sizes[0] is None else int(sizes[0])), (w if sizes[1] is None else int(sizes[1]))
    if oh < 1 or ow < 1 or h < 1 or w < 1:
        raise ValueError(f"adaptive_avg_pool2d: output size {(oh, ow)} and input size {(h, w)} "
                         f"must be positive")
    rows = _averaging_matrix(h, oh).astype(input.dtype)
    cols = _averaging_matrix(w, ow).T.astype(input.dtype)
    return rows @ input @ cols


class MaxPool2d(Module):
    """`MaxPool2d(kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
    ceil_mode=False)`: the maximum of each window (stride defaults to kernel_size)."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
                 ceil_mode=False):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = bool(return_indices), bool(ceil_mode)

    def forward(self, x):
        if x.ndim not in (3, 4):
            name = self._named(f"MaxPool2d(kernel_size={self.kernel_size})")
            raise ValueError(f"{name}: expected input of shape (N, C, H, W) or (C, H, W), got "
                             f"shape {x.shape}")
        if (x.ndim == 4 and self.padding == 0 and self.dilation == 1 and not self.ceil_mode
                and not self.return_indices):
            # the common case, straight to the engine's max_pool2d: no per-call option handling
            return plain_max_pool2d(x, self.kernel_size, self.stride)
        return max_pool2d(x, self.kernel_size, self.stride, self.padding, self.dilation,
                          self.ceil_mode, self.return_indices)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool2d(Module):
    """`AvgPool2d(kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
    divisor_override=None)`: the mean of each window."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True, divisor_override=None):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding, self.ceil_mode = padding, bool(ceil_mode)
        self.count_include_pad, self.divisor_override = bool(count_include_pad), divisor_override

    def forward(self, x):
        return avg_pool2d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                          self.count_include_pad, self.divisor_override)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """`AdaptiveAvgPool2d(output_size)`: average pooling to a fixed output size, whatever the
    input's (e.g. `AdaptiveAvgPool2d(1)`, global average pooling)."""

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, x):
        return adaptive_avg_pool2d(x, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"

"""Conv2d with PyTorch's options: stride, padding (a number, a pair, "same" or "valid"),
dilation, groups and padding_mode, on batched (N, C, H, W) or unbatched (C, H, W) input.

Built from engine ops only:
- padding: zeros through the engine's `pad`; "reflect", "replicate" and "circular"
  as indexing with the row and column numbers numpy's own np.pad modes produce
  ("reflect", "edge", "wrap"), so the gradient of a repeated pixel is summed by `getitem`;
- the plain case (no dilation, one group) is the engine's `conv2d`;
- otherwise the engine's `windows` take every patch, a strided slice keeps the
  dilated taps, and one batched `matmul` multiplies each group's patches by that
  group's filters (the groups' products stacked along a leading axis).
"""
import numbers

import numpy as np

from autograd_lite import Value, concatenate, conv2d as plain_conv2d, ops
from autograd_lite.functional import as_pair

from . import init
from .module import Module, Parameter

__all__ = ["Conv2d", "conv2d", "pad"]

# Conv2d's padding modes, and the np.pad mode that numbers the rows and columns each one reads
PADDING_MODES = {"zeros": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def pad(input, pad, mode="constant", value=0.0):
    """PyTorch's functional.pad: `pad` = (left, right) for the last axis, then (top, bottom)
    for the one before, and so on; mode "constant" (with `value`), "reflect", "replicate"
    or "circular". Sizes PyTorch refuses (negative, reflecting by as much as the axis is
    long, wrapping around more than once) are errors naming the sizes."""
    input = input if isinstance(input, Value) else Value(input, requires_grad=False)
    if len(pad) % 2 or len(pad) // 2 > input.ndim or min(pad, default=0) < 0:
        raise ValueError(f"pad: expected an even number of non-negative sizes, at most two per "
                         f"axis of the input (shape {input.shape}), got {tuple(pad)}")
    if mode not in ("constant", "reflect", "replicate", "circular"):
        raise ValueError(f"pad: unknown mode {mode!r} (use 'constant', 'reflect', 'replicate' or "
                         f"'circular')")
    sizes = {input.ndim - 1 - i: (pad[2 * i], pad[2 * i + 1]) for i in range(len(pad) // 2)}
    if mode == "constant" and not value:
        return ops.pad(input, padding=tuple(sizes.get(axis, (0, 0)) for axis in range(input.ndim)))
    for axis, (before, after) in sizes.items():
        length = input.shape[axis]
        if mode == "constant":
            block = lambda n: np.full(input.shape[:axis] + (n,) + input.shape[axis + 1:],  # noqa
                                      value, dtype=input.dtype)
            input = concatenate([block(before), input, block(after)], axis=axis)
            continue
        if mode == "reflect" and max(before, after) >= length or \
                mode == "circular" and max(before, after) > length:
            limit = "less than" if mode == "reflect" else "at most"
            raise ValueError(f"pad: {mode} padding ({before}, {after}) must be {limit} the size "
                             f"{length} of axis {axis} (input shape {input.shape})")
        index = np.pad(np.arange(length), (before, after), mode=PADDING_MODES[mode])
        input = input[(slice(None),) * axis + (index,)]
    return input


def _same_padding(kernel_size, dilation):
    """(left, right, top, bottom) keeping the size at stride 1; an odd total puts the extra on
    the right/bottom, as PyTorch does."""
    (kh, kw), (dh, dw) = kernel_size, dilation
    th, tw = dh * (kh - 1), dw * (kw - 1)
    return (tw // 2, tw - tw // 2, th // 2, th - th // 2)


def _grouped_conv(x, weight, stride, dilation, groups):
    """Cross-correlation of padded (N, C, H, W) x with (O, C/groups, KH, KW) weight, no bias."""
    n, c = x.shape[:2]
    o, cg, kh, kw = weight.shape
    dh, dw = dilation
    span = (dh * (kh - 1) + 1, dw * (kw - 1) + 1)  # the window a dilated kernel covers
    if x.shape[2] < span[0] or x.shape[3] < span[1]:
        raise ValueError(f"conv2d: kernel {kh}x{kw} with dilation {dilation} covers "
                         f"{span[0]}x{span[1]}, larger than the padded input "
                         f"{x.shape[2]}x{x.shape[3]}")
    patches = ops.windows(x, size=span, stride=stride)           # N, C, OH, OW, span
    if dilation != (1, 1):
        patches = patches[:, :, :, :, ::dh, ::dw]                 # N, C, OH, OW, KH, KW
    oh, ow = patches.shape[2], patches.shape[3]
    columns = (patches.reshape(n, groups, cg, oh, ow, kh, kw).transpose(1, 0, 3, 4, 2, 5, 6)
               .reshape(groups, n * oh * ow, cg * kh * kw))
    filters = weight.reshape(groups, o // groups, cg * kh * kw).swapaxes(1, 2)
    out = columns @ filters                                       # groups, N*OH*OW, O/groups
    return ops.contiguous(out.reshape(groups, n, oh, ow, o // groups).transpose(1, 0, 4, 2, 3)
                          .reshape(n, o, oh, ow))


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1,
           padding_mode="zeros"):
    """PyTorch's functional.conv2d (plus the module's padding_mode): input (N, C, H, W) or
    (C, H, W), weight (O, C/groups, KH, KW), bias (O,); padding a number, a pair, "same"
    or "valid"."""
    input = input if isinstance(input, Value) else Value(input, requires_grad=False)
    unbatched = input.ndim == 3
    x = input.reshape((1,) + input.shape) if unbatched else input
    kernel = np.shape(weight)[2:]
    stride = as_pair(stride, "conv2d: stride", smallest=1)
    dilation = as_pair(dilation, "conv2d: dilation", smallest=1)
    if isinstance(padding, str):
        padding = _same_padding(kernel, dilation) if padding == "same" else (0, 0, 0, 0)
    else:
        ph, pw = as_pair(padding, "conv2d: padding", smallest=0)
        padding = (pw, pw, ph, ph)
    if x.shape[1] != np.shape(weight)[1] * groups:
        raise ValueError(f"conv2d: input has {x.shape[1]} channels (shape {input.shape}) but "
                         f"weight of shape {np.shape(weight)} with groups={groups} expects "
                         f"{np.shape(weight)[1] * groups}")
    left, right, top, bottom = padding
    plain = dilation == (1, 1) and groups == 1
    if any(padding) and not (plain and padding_mode == "zeros" and left == right and top == bottom):
        x = pad(x, padding, mode="constant" if padding_mode == "zeros" else padding_mode)
        left = top = 0
    if plain:  # the engine's conv2d (it pads with zeros itself)
        out = plain_conv2d(x, weight, bias, stride=stride, padding=(top, left))
    else:
        out = _grouped_conv(x, weight, stride, dilation, groups)
        if bias is not None:
            out = out + bias.reshape(1, -1, 1, 1)
    return out.reshape(out.shape[1:]) if unbatched else out


class Conv2d(Module):
    """`Conv2d(in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
    bias=True, padding_mode="zeros")`, PyTorch's arguments in PyTorch's order.

    Weight (out_channels, in_channels / groups, kH, kW), bias (out_channels,), both
    from PyTorch's default init (`rng`, keyword only, seeds them). `groups` splits the
    channels into that many independent convolutions (groups = in_channels: depthwise).
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", *, rng=None):
        super().__init__()
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size = as_pair(kernel_size, "Conv2d: kernel_size", smallest=1)
        self.stride = as_pair(stride, "Conv2d: stride", smallest=1)
        self.dilation = as_pair(dilation, "Conv2d: dilation", smallest=1)
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"Conv2d: invalid padding string {padding!r}, should be one of "
                                 f"'valid', 'same'")
            if padding == "same" and self.stride != (1, 1):
                raise ValueError(f"Conv2d: padding='same' is not supported for strided "
                                 f"convolutions (stride={self.stride})")
            self.padding = padding
        else:
            self.padding = as_pair(padding, "Conv2d: padding", smallest=0)
        if not isinstance(groups, numbers.Integral) or groups < 1:
            raise ValueError(f"Conv2d: groups must be a positive integer, got {groups!r}")
        for name, channels in (("in_channels", self.in_channels),
                               ("out_channels", self.out_channels)):
            if channels % groups:
                raise ValueError(f"Conv2d: {name} must be divisible by groups ({name}="
                                 f"{channels}, groups={groups})")
        if padding_mode not in PADDING_MODES:
            raise ValueError(f"Conv2d: padding_mode must be one of {list(PADDING_MODES)}, but "
                             f"got padding_mode={padding_mode!r}")
        self.groups, self.padding_mode = int(groups), padding_mode
        self.weight = Parameter(np.empty((self.out_channels, self.in_channels // self.groups)
                                         + self.kernel_size))
        self.bias = Parameter(np.empty(self.out_channels)) if bias else None
        self.reset_parameters(rng)

    def reset_parameters(self, rng=None):
        init.reset_weight_and_bias(self.weight, self.bias, rng)

    def forward(self, x):
        if x.ndim not in (3, 4) or x.shape[-3] != self.in_channels:
            name = self._named(f"Conv2d({self.in_channels}→{self.out_channels})")
            raise ValueError(f"{name}: expected input of shape (N, {self.in_channels}, H, W), got "
                             f"shape {x.shape}; one unbatched sample is ({self.in_channels}, H, W)")
        if (x.ndim == 4 and self.groups == 1 and self.dilation == (1, 1)
                and self.padding_mode == "zeros" and not isinstance(self.padding, str)):
            # the common case, straight to the engine's conv2d: no per-call option handling
            return plain_conv2d(x, self.weight, self.bias, self.stride, self.padding)
        return conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation,
                      self.groups, self.padding_mode)

    def extra_repr(self):
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        if self.padding != (0, 0):
            text += f", padding={self.padding}"
        if self.dilation != (1, 1):
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        return text + (f", padding_mode={self.padding_mode}" if self.padding_mode != "zeros" else "")

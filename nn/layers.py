"""The basic layers: Linear, Conv2d, MaxPool2d, Flatten and Dropout.

Parameters are laid out exactly as PyTorch lays them out (Linear.weight is
(out_features, in_features), Conv2d.weight is (out, in, kH, kW)) and start
from PyTorch's default init, so weights copy one-to-one between the two.
Each forward is a few engine operations; the engine supplies the gradients.
A wrong input shape is an error that names the layer, what it expected and
what it got. (BatchNorm1d and RNN have files of their own.)
"""
import math

import numpy as np

from autograd_lite import conv2d, default_generator, linear, max_pool2d
from autograd_lite.functional import as_pair

from . import init
from .module import Module, Parameter

__all__ = ["Linear", "Conv2d", "MaxPool2d", "Flatten", "Dropout", "dropout"]


def reset_weight_and_bias(weight, bias, rng=None):
    """PyTorch's default init for Linear and Conv: kaiming_uniform_(a=sqrt(5)) for the weight,
    which is U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and the same bound for the bias."""
    init.kaiming_uniform_(weight, a=math.sqrt(5), generator=rng)
    if bias is not None:
        fan_in, _ = init._calculate_fan_in_and_fan_out(weight)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        init.uniform_(bias, -bound, bound, generator=rng)


class Linear(Module):
    """y = x @ weight.T + bias, for inputs of shape (*, in_features).

    `rng` (an optional np.random.Generator) only seeds the initial weights.
    """

    def __init__(self, in_features, out_features, bias=True, rng=None):
        super().__init__()
        self.in_features, self.out_features = int(in_features), int(out_features)
        self.weight = Parameter(np.empty((self.out_features, self.in_features)))
        self.bias = Parameter(np.empty(self.out_features)) if bias else None
        self.reset_parameters(rng)

    def reset_parameters(self, rng=None):
        reset_weight_and_bias(self.weight, self.bias, rng)

    def forward(self, x):
        if x.ndim < 1 or x.shape[-1] != self.in_features:
            name = self._named(f"Linear({self.in_features}→{self.out_features})")
            raise ValueError(f"{name}: expected input with last dimension {self.in_features}, "
                             f"got shape {x.shape}")
        return linear(x, self.weight, self.bias)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Conv2d(Module):
    """2-D convolution (cross-correlation) of (N, C_in, H, W) inputs; weight (C_out, C_in, kH, kW)."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True,
                 rng=None):
        super().__init__()
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size = as_pair(kernel_size, "Conv2d: kernel_size")
        self.stride = as_pair(stride, "Conv2d: stride")
        self.padding = as_pair(padding, "Conv2d: padding")
        self.weight = Parameter(np.empty((self.out_channels, self.in_channels) + self.kernel_size))
        self.bias = Parameter(np.empty(self.out_channels)) if bias else None
        self.reset_parameters(rng)

    def reset_parameters(self, rng=None):
        reset_weight_and_bias(self.weight, self.bias, rng)

    def forward(self, x):
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            name = self._named(f"Conv2d({self.in_channels}→{self.out_channels})")
            raise ValueError(f"{name}: expected input of shape (N, {self.in_channels}, H, W), "
                             f"got shape {x.shape}")
        return conv2d(x, self.weight, self.bias, stride=self.stride, padding=self.padding)

    def extra_repr(self):
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}")
        if self.padding != (0, 0):
            text += f", padding={self.padding}"
        return text if self.bias is not None else text + ", bias=False"


class MaxPool2d(Module):
    """Max over each kernel_size window of (N, C, H, W) inputs, `stride` apart (default: kernel_size)."""

    def __init__(self, kernel_size, stride=None):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride

    def forward(self, x):
        if x.ndim != 4:
            name = self._named(f"MaxPool2d(kernel_size={self.kernel_size})")
            raise ValueError(f"{name}: expected 4-D input (N, C, H, W), got shape {x.shape}")
        return max_pool2d(x, self.kernel_size, stride=self.stride)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}"


class Flatten(Module):
    """Merge dimensions start_dim..end_dim into one: (N, C, H, W) -> (N, C*H*W) by default."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        ndim = max(x.ndim, 1)
        start, end = self.start_dim % ndim, self.end_dim % ndim
        if not (-ndim <= self.start_dim < ndim and -ndim <= self.end_dim < ndim) or start > end:
            name = self._named(f"Flatten(start_dim={self.start_dim}, end_dim={self.end_dim})")
            raise ValueError(f"{name}: dimensions out of range for input of shape {x.shape}")
        # explicit sizes, not -1: numpy can't infer a -1 when another size is 0 (a batch of 0)
        merged = int(np.prod(x.shape[start:end + 1], dtype=np.int64))
        return x.reshape(x.shape[:start] + (merged,) + x.shape[end + 1:])

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


def dropout(input, p=0.5, training=True, *, rng=None):
    """Inverted dropout (PyTorch's functional.dropout): in training, zero each element with
    probability p and scale the rest by 1/(1-p); the identity when not training or p == 0.

    The mask comes from `rng` (an np.random.Generator) or the library's generator.
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: probability p must be between 0 and 1, got {p}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0
    rng = default_generator() if rng is None else rng
    keep = rng.random(input.shape) >= p
    return input * (keep.astype(input.dtype) / (1.0 - p))


class Dropout(Module):
    """Inverted dropout: in training, zero each element with probability p and scale the
    rest by 1/(1-p), so eval mode (the identity) sees the same expected values.

    Masks come from `rng` (an np.random.Generator) or, without one, from the
    library's generator at call time (`autograd_lite.manual_seed` makes runs repeat).
    """

    def __init__(self, p=0.5, rng=None):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: probability p must be between 0 and 1, got {p}")
        self.p, self.rng = float(p), rng

    def forward(self, x):
        return dropout(x, self.p, self.training, rng=self.rng)

    def extra_repr(self):
        return f"p={self.p}"

"""The basic layers: Linear, Flatten and Dropout (and `dropout`, its function).

Parameters are laid out exactly as PyTorch lays them out (Linear.weight is
(out_features, in_features)) and start from PyTorch's default init, so weights
copy one-to-one between the two. Each forward is a few engine operations; the
engine supplies the gradients. A wrong input shape is an error that names the
layer, what it expected and what it got. Conv2d (conv.py) and MaxPool2d
(pooling.py) are importable from here too; BatchNorm, RNN and the rest have
files of their own.
"""
import numpy as np

from autograd_lite import default_generator, linear

from . import init
from .conv import Conv2d
from .module import Module, Parameter
from .pooling import MaxPool2d

__all__ = ["Linear", "Conv2d", "MaxPool2d", "Flatten", "Dropout", "dropout"]


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
        init.reset_weight_and_bias(self.weight, self.bias, rng)

    def forward(self, x):
        if x.ndim < 1 or x.shape[-1] != self.in_features:
            name = self._named(f"Linear({self.in_features}→{self.out_features})")
            raise ValueError(f"{name}: expected input with last dimension {self.in_features}, "
                             f"got shape {x.shape}")
        return linear(x, self.weight, self.bias)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


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

"""Activation functions as modules, so they can sit in a `Sequential`.

Each is one engine op (or a short formula of them): the module adds only a
name and a place in the model's tree.
"""
import math
import warnings

import numpy as np


from autograd_lite import Value, log_softmax as _log_softmax, softmax as _softmax, stack, where

from .module import Module, Parameter

__all__ = ["Tanh", "Sigmoid", "ReLU", "LeakyReLU", "Identity", "Snake", "softplus", "softmax",
           "log_softmax"]


def _softmax_dim(name, ndim, dim):
    """`dim`, or PyTorch's legacy implicit choice (0 for 0-, 1- and 3-D inputs, else 1) with
    PyTorch's warning: pass dim= explicitly."""
    if dim is not None:
        return dim
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated (in PyTorch too). "
                  f"Change the call to include dim=X as an argument.", stacklevel=3)
    return 0 if ndim in (0, 1, 3) else 1


def log_softmax(input, dim=None):
    """x - logsumexp(x) along `dim` (PyTorch's functional.log_softmax), stable for any x."""
    input = input if isinstance(input, Value) else Value(input, requires_grad=False)
    return _log_softmax(input, axis=_softmax_dim("log_softmax", input.ndim, dim))


def softmax(input, dim=None):
    """exp(x) / sum(exp(x)) along `dim` (PyTorch's functional.softmax), via log_softmax."""
    input = input if isinstance(input, Value) else Value(input, requires_grad=False)
    return _softmax(input, axis=_softmax_dim("softmax", input.ndim, dim))


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + exp(beta * x)) / beta, PyTorch's functional.softplus: x itself where
    beta * x > threshold (there the two agree to rounding, and the gradient is exactly 1).

    Computed as logsumexp([0, beta * x]) / beta: no overflow for any x, and the
    gradient, sigmoid(beta * x), is exact everywhere (0.5 at 0).
    """
    input = input if isinstance(input, Value) else Value(input, requires_grad=False)
    scaled = input * beta if beta != 1 else input
    out = stack([np.zeros(input.shape, dtype=input.dtype), scaled]).logsumexp(axis=0)
    out = out / beta if beta != 1 else out
    if math.isinf(threshold):
        return out
    return where(scaled.data > threshold, input, out)


class Tanh(Module):
    """tanh(x), in (-1, 1)."""

    def forward(self, x):
        return x.tanh()


class Sigmoid(Module):
    """1 / (1 + exp(-x)), in (0, 1); computed without overflow for large |x|."""

    def forward(self, x):
        return x.sigmoid()


class ReLU(Module):
    """max(x, 0)."""

    def forward(self, x):
        return x.relu()


class LeakyReLU(Module):
    """x for x > 0, negative_slope * x otherwise."""

    def __init__(self, negative_slope=0.01):
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, x):
        return x.leaky_relu(self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}"


class Identity(Module):
    """Returns its input unchanged (a placeholder, or the "linear" activation)."""

    def forward(self, x):
        return x


class Snake(Module):
    """x + sin²(a·x) / a: the periodic activation of Ziyin, Hartwig & Ueda (2020).

    A tanh or ReLU network extrapolates a periodic signal as a flat line or a
    ramp; Snake's sin² term lets it keep oscillating, while the +x keeps it
    monotone-ish and easy to optimize. Larger `a` means higher frequency.

    `a` is a number, or an array broadcast over the last dimension (one
    frequency per feature). With `learnable=True` it is a `Parameter` (named
    `a`) trained with the rest of the model, as the paper suggests;
    otherwise it is a fixed constant.
    """

    def __init__(self, a=1.0, learnable=False):
        super().__init__()
        a = np.array(a, dtype=np.float64)
        if np.any(a == 0):
            raise ValueError("Snake: frequency a must be non-zero (the formula divides by a)")
        self.learnable = learnable
        if learnable:
            self.a = Parameter(a)
        else:  # a plain number keeps float32 inputs float32
            self.a = a.item() if a.ndim == 0 else a

    def forward(self, x):
        s = (x * self.a).sin()
        return x + s * s / self.a

    def extra_repr(self):
        a = np.asarray(self.a.data if self.learnable else self.a)
        shown = a.item() if a.ndim == 0 else f"array of shape {a.shape}"
        return f"a={shown}" + (", learnable=True" if self.learnable else "")

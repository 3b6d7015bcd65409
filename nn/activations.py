"""Activation functions as modules, so they can sit in a `Sequential`.

Each is one engine op (or a short formula of them): the module adds only a
name and a place in the model's tree.
"""
import math
import warnings

import numpy as np


from autograd_lite import Value, log_softmax as _log_softmax, maximum, ops, softmax as _softmax, where
from autograd_lite.ops import primitive

from .module import Module, Parameter

__all__ = ["Tanh", "Sigmoid", "ReLU", "LeakyReLU", "Identity", "Snake", "GELU", "SiLU", "ELU",
           "Softplus", "Softmax", "LogSoftmax", "gelu", "silu", "elu", "softplus", "softmax",
           "log_softmax"]

_erf_elements = np.frompyfunc(math.erf, 1, 1)

# erf, which GELU needs and the engine lacks: one primitive (math.erf, element by element),
# its derivative 2/sqrt(pi) exp(-x²) written with engine ops so higher derivatives work
erf = primitive("nn.erf", lambda x: _erf_elements(x).astype(np.result_type(x, np.float32)),
                lambda g, ans, x: g * (2.0 / math.sqrt(math.pi)) * ops.exp(-(x * x)))


# log(1 + x), accurate for tiny x (softplus of a very negative number); the engine has log only
log1p = primitive("nn.log1p", np.log1p, lambda g, ans, x: g / (1.0 + x))


def _as_value(x):
    return x if isinstance(x, Value) else Value(x, requires_grad=False)


def gelu(input, approximate="none"):
    """x * Φ(x), Φ the standard normal CDF (PyTorch's functional.gelu); approximate="tanh"
    uses 0.5 x (1 + tanh(sqrt(2/π) (x + 0.044715 x³)))."""
    x = _as_value(input)
    if approximate == "none":
        return x * (0.5 * (1.0 + erf(x * (1.0 / math.sqrt(2.0)))))
    if approximate == "tanh":
        inner = math.sqrt(2.0 / math.pi) * (x + 0.044715 * (x * x * x))
        return 0.5 * x * (1.0 + inner.tanh())
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


def silu(input):
    """x * sigmoid(x) (PyTorch's functional.silu; also called swish)."""
    x = _as_value(input)
    return x * x.sigmoid()


def elu(input, alpha=1.0):
    """x for x > 0, alpha * (exp(x) - 1) otherwise (PyTorch's functional.elu).

    The exponential sees min(x, 0) only, so a large x neither overflows nor makes
    0 * inf = NaN in the gradient of the branch not taken.
    """
    x = _as_value(input)
    return where(x.data > 0, x, alpha * (x.clip(None, 0.0).exp() - 1.0))


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
    input = _as_value(input)
    return _log_softmax(input, axis=_softmax_dim("log_softmax", input.ndim, dim))


def softmax(input, dim=None):
    """exp(x) / sum(exp(x)) along `dim` (PyTorch's functional.softmax), via log_softmax."""
    input = _as_value(input)
    return _softmax(input, axis=_softmax_dim("softmax", input.ndim, dim))


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + exp(beta * x)) / beta, PyTorch's functional.softplus: x itself where
    beta * x > threshold (there the two agree to rounding, and the gradient is exactly 1).

    Computed as max(z, 0) + log1p(exp(-|z|)), z = beta * x: no overflow for any x, full
    precision where it is tiny (z = -30: 9.4e-14), and the gradient sigmoid(z) exact
    everywhere (at 0 the max's tie gives 0.5).
    """
    input = _as_value(input)
    scaled = input * beta if beta != 1 else input
    out = maximum(scaled, 0.0) + log1p((-scaled.abs()).exp())
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


class GELU(Module):
    """`GELU(approximate="none")`: x * Φ(x), the activation of BERT and GPT; see `gelu`."""

    def __init__(self, approximate="none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x):
        return gelu(x, self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    """x * sigmoid(x)."""

    def forward(self, x):
        return silu(x)


class ELU(Module):
    """`ELU(alpha=1.0)`: x for x > 0, alpha * (exp(x) - 1) otherwise."""

    def __init__(self, alpha=1.0):
        super().__init__()
        self.alpha = alpha

    def forward(self, x):
        return elu(x, self.alpha)

    def extra_repr(self):
        return f"alpha={self.alpha}"


class Softplus(Module):
    """`Softplus(beta=1.0, threshold=20.0)`: log(1 + exp(beta x)) / beta, a smooth ReLU."""

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, x):
        return softplus(x, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class Softmax(Module):
    """`Softmax(dim=None)`: probabilities along `dim` (pass it: None is PyTorch's deprecated guess)."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return softmax(x, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """`LogSoftmax(dim=None)`: log-probabilities along `dim`, stable for any input."""

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return log_softmax(x, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"

"""Weight initializers with PyTorch's names, arguments and formulas (`torch.nn.init`).

Each one overwrites a tensor's values in place (a `Value`/`Parameter`
through `.data =`, so its version counter moves; a numpy array element by
element) and returns it. Random ones draw from `generator`, an optional
`np.random.Generator`; without one they use the library's generator
(`autograd_lite.default_generator()`, reseeded by `manual_seed`), so a seeded
run is reproducible either way.

Why the scale matters: with n inputs of unit variance, a weighted sum has
variance n * Var(w). Xavier (Glorot & Bengio, 2010) keeps activations and
gradients at unit variance with Var(w) = 2 / (fan_in + fan_out); Kaiming/He
(He et al., 2015) compensates ReLU zeroing half its inputs with
Var(w) = 2 / fan_in. "fan" counts the inputs (or outputs) of one unit: for a
convolution that includes the kernel's receptive field.
"""
import math

import numpy as np

from autograd_lite import Value, default_generator

__all__ = ["calculate_gain", "uniform_", "normal_", "trunc_normal_", "constant_", "zeros_",
           "ones_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_",
           "orthogonal_"]

_GAIN_ONE = ("linear", "identity", "sigmoid", "conv1d", "conv2d", "conv3d",
             "conv_transpose1d", "conv_transpose2d", "conv_transpose3d")


def calculate_gain(nonlinearity, param=None):
    """The factor that keeps activations' variance steady through `nonlinearity` (PyTorch's table)."""
    if nonlinearity in _GAIN_ONE:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        if isinstance(slope, bool) or not isinstance(slope, (int, float)):
            raise ValueError(f"calculate_gain: negative_slope {slope!r} is not a valid number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def _calculate_fan_in_and_fan_out(tensor):
    """(fan_in, fan_out) of a weight laid out (out, in, *kernel), as PyTorch computes them."""
    shape = np.shape(tensor.data if isinstance(tensor, Value) else tensor)
    if len(shape) < 2:
        raise ValueError(f"Fan in and fan out can not be computed for a tensor with fewer than "
                         f"2 dimensions (got shape {shape})")
    receptive_field = math.prod(shape[2:])
    return shape[1] * receptive_field, shape[0] * receptive_field


def _fill(tensor, make):
    """Overwrite `tensor` with `make(shape)`, keeping its dtype; returns `tensor`."""
    if isinstance(tensor, Value):
        tensor.data = np.asarray(make(tensor.shape), dtype=tensor.dtype)
    elif isinstance(tensor, np.ndarray):
        tensor[...] = make(tensor.shape)
    else:
        raise TypeError(f"nn.init: expected a Value/Parameter or a numpy array, "
                        f"got {type(tensor).__name__}")
    return tensor


def _rng(generator):
    return default_generator() if generator is None else generator


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """Fill with draws from U(a, b)."""
    return _fill(tensor, lambda shape: _rng(generator).uniform(a, b, shape))


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """Fill with draws from N(mean, std²)."""
    return _fill(tensor, lambda shape: _rng(generator).normal(mean, std, shape))


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """Fill with draws from N(mean, std²) truncated to [a, b] (a and b are values, not stds).

    Draws outside [a, b] are drawn again (exact truncation); an interval holding less
    than 0.1% of the distribution, where that would take long, is an error.
    """
    if not a < b:
        raise ValueError(f"trunc_normal_: expected a < b, got a={a}, b={b}")
    cdf = lambda x: 0.5 * (1 + math.erf((x - mean) / (std * math.sqrt(2))))  # noqa: E731
    if cdf(b) - cdf(a) < 1e-3:
        raise ValueError(f"trunc_normal_: [{a}, {b}] holds only {cdf(b) - cdf(a):.2g} of "
                         f"N({mean}, {std}²); widen it or move the mean into it")

    def draw(shape):
        rng = _rng(generator)
        values = rng.normal(mean, std, shape)
        outside = (values < a) | (values > b)
        while outside.any():
            values[outside] = rng.normal(mean, std, int(outside.sum()))
            outside = (values < a) | (values > b)
        return values

    return _fill(tensor, draw)


def constant_(tensor, val):
    """Fill with `val`."""
    return _fill(tensor, lambda shape: np.full(shape, val))


def zeros_(tensor):
    """Fill with 0."""
    return constant_(tensor, 0.0)


def ones_(tensor):
    """Fill with 1."""
    return constant_(tensor, 1.0)


def _xavier_std(tensor, gain):
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return gain * math.sqrt(2.0 / (fan_in + fan_out)) if fan_in + fan_out else 0.0  # empty: no draws


def xavier_uniform_(tensor, gain=1.0, generator=None):
    """U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio, 2010)."""
    bound = math.sqrt(3.0) * _xavier_std(tensor, gain)
    return uniform_(tensor, -bound, bound, generator=generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    """N(0, std²) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    return normal_(tensor, 0.0, _xavier_std(tensor, gain), generator=generator)


def _kaiming_std(tensor, a, mode, nonlinearity):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"kaiming init: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan = _calculate_fan_in_and_fan_out(tensor)[0 if mode == "fan_in" else 1]
    return calculate_gain(nonlinearity, a) / math.sqrt(fan) if fan else 0.0  # empty: no draws


def kaiming_uniform_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """U(-bound, bound) with bound = gain * sqrt(3 / fan) (He et al., 2015).

    `a` is the negative slope of the leaky ReLU that follows (0 means ReLU).
    PyTorch's default Linear/Conv init is this with a = sqrt(5), which works
    out to U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
    """
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity)
    return uniform_(tensor, -bound, bound, generator=generator)


def kaiming_normal_(tensor, a=0.0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """N(0, std²) with std = gain / sqrt(fan): with ReLU, the guide's randn * sqrt(2 / n_in)."""
    return normal_(tensor, 0.0, _kaiming_std(tensor, a, mode, nonlinearity), generator=generator)


def orthogonal_(tensor, gain=1.0, generator=None):
    """Fill with a (semi-)orthogonal matrix times gain (Saxe et al., 2013), as PyTorch builds it:
    the Q of a QR decomposition of a normal matrix, signs fixed by R's diagonal. A tensor of
    more than 2 dimensions is treated as (size of dim 0, all the rest)."""
    shape = np.shape(tensor.data if isinstance(tensor, Value) else tensor)
    if len(shape) < 2:
        raise ValueError(f"orthogonal_: only tensors with 2 or more dimensions are supported, "
                         f"got shape {shape}")

    def draw(shape):
        rows = shape[0]
        cols = math.prod(shape) // rows if rows else 0
        flat = _rng(generator).normal(0.0, 1.0, (rows, cols))
        if rows < cols:
            flat = flat.T
        q, r = np.linalg.qr(flat)
        q = q * np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        return (gain * q).reshape(shape)

    return _fill(tensor, draw)


def reset_weight_and_bias(weight, bias, rng=None):
    """PyTorch's default init for Linear and Conv: kaiming_uniform_(a=sqrt(5)) for the weight,
    which is U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and the same bound for the bias."""
    kaiming_uniform_(weight, a=math.sqrt(5), generator=rng)
    if bias is not None:
        fan_in, _ = _calculate_fan_in_and_fan_out(weight)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        uniform_(bias, -bound, bound, generator=rng)

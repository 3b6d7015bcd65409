"""Normalization layers: BatchNorm1d, BatchNorm2d (Ioffe & Szegedy, 2015) and LayerNorm (Ba et al., 2016).

Batch normalization normalizes each channel over the batch (and positions), then
scales and shifts. In training it uses the batch's own mean and (biased) variance
and updates running estimates: running = (1 - momentum) * running + momentum *
batch, with the *unbiased* variance, exactly as PyTorch does. In eval mode it uses
the running estimates, so one example's output no longer depends on the others
in its batch. Running statistics are buffers: saved in `state_dict()` but not
trained. With `track_running_stats=False` there are none, and batch statistics
are used in eval mode too.

Layer normalization normalizes each sample over its last dimensions instead: no
batch statistics, the same in training and eval.
"""
import numbers

import numpy as np

from autograd_lite import side_effect

from .module import Module, Parameter

__all__ = ["BatchNorm1d", "BatchNorm2d", "LayerNorm"]


def _normalize(x, axes, eps):
    """(x - mean) / sqrt(biased var + eps) over `axes`; also returns the mean and biased var."""
    mean = x.mean(axis=axes, keepdims=True)
    centred = x - mean  # reused by the variance and the output
    var = (centred * centred).mean(axis=axes, keepdims=True)
    return centred / (var + eps) ** 0.5, mean, var


class _BatchNorm(Module):
    """What BatchNorm1d and BatchNorm2d share; a subclass says which input shapes it takes."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, *, bias=True):
        super().__init__()
        self.num_features, self.eps, self.momentum = int(num_features), eps, momentum
        self.affine, self.track_running_stats = bool(affine), bool(track_running_stats)
        self.weight = Parameter(np.ones(self.num_features)) if affine else None
        self.bias = Parameter(np.zeros(self.num_features)) if affine and bias else None
        if self.track_running_stats:
            self.register_buffer("running_mean", np.zeros(self.num_features))
            self.register_buffer("running_var", np.ones(self.num_features))
            self.register_buffer("num_batches_tracked", np.array(0, dtype=np.int64))

    def _layouts(self):
        """The input shapes this layer takes, for its error message."""
        raise NotImplementedError

    def forward(self, x):
        if x.ndim not in self._ranks or x.shape[1] != self.num_features:
            raise ValueError(f"{self._describe()}: expected input of shape {self._layouts()}, "
                             f"got shape {x.shape}")
        axes = (0,) + tuple(range(2, x.ndim))
        channel = (1, -1) + (1,) * (x.ndim - 2)  # broadcasts a (C,) vector over x
        if self.training or not self.track_running_stats:
            count = x.size // self.num_features
            if self.training and count < 2:
                raise ValueError(f"{self._describe()}: expected more than 1 value per channel "
                                 f"when training, got input of shape {x.shape}")
            y, mean, var = _normalize(x, axes, self.eps)
            if self.training and self.track_running_stats:  # (replayed by compile on every call)
                side_effect(self._update_running_stats, mean, var, count=count)
        else:
            mean = self.running_mean.reshape(channel).astype(x.dtype, copy=False)
            var = self.running_var.reshape(channel).astype(x.dtype, copy=False)
            y = (x - mean) / (var + self.eps) ** 0.5
        if self.weight is not None:
            y = y * self.weight.reshape(channel)
        if self.bias is not None:
            y = y + self.bias.reshape(channel)
        return y

    def _describe(self):
        return self._named(f"{type(self).__name__}({self.num_features})")

    def _update_running_stats(self, mean, biased_var, count):
        """running = (1 - momentum) * running + momentum * batch statistic (new arrays)."""
        mean, biased_var = mean.reshape(-1), biased_var.reshape(-1)
        self.num_batches_tracked = self.num_batches_tracked + 1
        factor = 1.0 / self.num_batches_tracked if self.momentum is None else self.momentum
        unbiased_var = biased_var * count / (count - 1)
        self.running_mean = (1 - factor) * self.running_mean + factor * mean
        self.running_var = (1 - factor) * self.running_var + factor * unbiased_var

    def extra_repr(self):
        text = f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}"
        return text + ("" if self.track_running_stats else ", track_running_stats=False")


class BatchNorm1d(_BatchNorm):
    """`BatchNorm1d(num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
    *, bias=True)`: batch normalization of (N, C) or (N, C, L) inputs over N (and L), per channel C.

    `momentum=None` averages all batches seen so far equally (a cumulative mean).
    """

    _ranks = (2, 3)

    def _layouts(self):
        return f"(N, {self.num_features}) or (N, {self.num_features}, L)"


class BatchNorm2d(_BatchNorm):
    """`BatchNorm2d(num_features, ...)`, BatchNorm1d's arguments: batch normalization of
    (N, C, H, W) inputs over N, H and W, per channel C (after a Conv2d)."""

    _ranks = (4,)

    def _layouts(self):
        return f"(N, {self.num_features}, H, W)"


class LayerNorm(Module):
    """`LayerNorm(normalized_shape, eps=1e-5, elementwise_affine=True, bias=True)`: normalize
    each sample over its last len(normalized_shape) dimensions (biased variance), then scale
    by `weight` and shift by `bias`, both of shape normalized_shape."""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True):
        super().__init__()
        if isinstance(normalized_shape, numbers.Integral):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(int(n) for n in normalized_shape)
        self.eps, self.elementwise_affine = eps, bool(elementwise_affine)
        self.weight = Parameter(np.ones(self.normalized_shape)) if elementwise_affine else None
        self.bias = Parameter(np.zeros(self.normalized_shape)) \
            if elementwise_affine and bias else None

    def forward(self, x):
        dims = len(self.normalized_shape)
        if x.shape[x.ndim - dims:] != self.normalized_shape or x.ndim < dims:
            name = self._named(f"LayerNorm({self.normalized_shape})")
            raise ValueError(f"{name}: expected input of shape (*, "
                             f"{', '.join(map(str, self.normalized_shape))}), got shape {x.shape}")
        y, _, _ = _normalize(x, tuple(range(x.ndim - dims, x.ndim)), self.eps)
        if self.weight is not None:
            y = y * self.weight
        if self.bias is not None:
            y = y + self.bias
        return y

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")

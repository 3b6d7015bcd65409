"""BatchNorm1d: normalize each feature over the batch, then scale and shift (Ioffe & Szegedy, 2015).

In training it uses the batch's own mean and (biased) variance and updates
running estimates: running = (1 - momentum) * running + momentum * batch,
with the *unbiased* variance, exactly as PyTorch does. In eval mode it uses
the running estimates, so one example's output no longer depends on the
others in its batch. Running statistics are buffers: saved in `state_dict()`
but not trained.
"""
import numpy as np

from .module import Module, Parameter

__all__ = ["BatchNorm1d"]


class BatchNorm1d(Module):
    """Batch normalization of (N, C) or (N, C, L) inputs over N (and L), per channel C.

    `momentum=None` averages all batches seen so far equally (a cumulative mean).
    """

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True):
        super().__init__()
        self.num_features, self.eps, self.momentum = int(num_features), eps, momentum
        self.affine = affine
        self.weight = Parameter(np.ones(self.num_features)) if affine else None
        self.bias = Parameter(np.zeros(self.num_features)) if affine else None
        self.register_buffer("running_mean", np.zeros(self.num_features))
        self.register_buffer("running_var", np.ones(self.num_features))
        self.register_buffer("num_batches_tracked", np.array(0, dtype=np.int64))

    def forward(self, x):
        if x.ndim not in (2, 3) or x.shape[1] != self.num_features:
            raise ValueError(f"{self._describe()}: expected input of shape "
                             f"(N, {self.num_features}) or (N, {self.num_features}, L), "
                             f"got shape {x.shape}")
        axes = (0,) if x.ndim == 2 else (0, 2)
        channel = (1, -1) if x.ndim == 2 else (1, -1, 1)  # broadcasts a (C,) vector over x
        if self.training:
            count = x.size // self.num_features
            if count < 2:
                raise ValueError(f"{self._describe()}: expected more than 1 value per channel when "
                                 f"training, got input of shape {x.shape}")
            mean = x.mean(axis=axes, keepdims=True)
            centred = x - mean  # reused by the variance and the output
            var = (centred * centred).mean(axis=axes, keepdims=True)  # biased, as PyTorch
            self._update_running_stats(mean.data.reshape(-1), var.data.reshape(-1), count)
        else:
            mean = self.running_mean.reshape(channel).astype(x.dtype, copy=False)
            centred = x - mean
            var = self.running_var.reshape(channel).astype(x.dtype, copy=False)
        y = centred / (var + self.eps) ** 0.5
        if self.affine:
            y = y * self.weight.reshape(channel) + self.bias.reshape(channel)
        return y

    def _describe(self):
        return self._named(f"BatchNorm1d({self.num_features})")

    def _update_running_stats(self, mean, biased_var, count):
        self.num_batches_tracked = self.num_batches_tracked + 1
        factor = 1.0 / self.num_batches_tracked if self.momentum is None else self.momentum
        unbiased_var = biased_var * count / (count - 1)
        self.running_mean = (1 - factor) * self.running_mean + factor * mean
        self.running_var = (1 - factor) * self.running_var + factor * unbiased_var

    def extra_repr(self):
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}"

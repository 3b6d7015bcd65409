"""Learning-rate schedulers: StepLR, ExponentialLR, CosineAnnealingLR and ReduceLROnPlateau.

A scheduler changes `group["lr"]` in its optimizer's `param_groups`. Call
`scheduler.step()` once per epoch, after that epoch's `optimizer.step()`
calls (`ReduceLROnPlateau.step(metric)` takes the number it watches, e.g.
the validation loss). `nn.fit(..., scheduler=...)` does this for you.

The epoch-based schedulers use the closed form of PyTorch's schedule:
lr(t) is a function of the initial lr (`base_lrs`) and the epoch count t,
so the sequence is exactly PyTorch's (to rounding). Unlike PyTorch's
recursive form, an lr set by hand between steps is overwritten at the next step.
"""
import math
import numbers

import numpy as np

from .optim import Optimizer

__all__ = ["LRScheduler", "StepLR", "ExponentialLR", "CosineAnnealingLR", "ReduceLROnPlateau"]


class LRScheduler:
    """Base class: sets lr = `lr_at(base_lr, t)` in every group at epoch t = 0, 1, 2, ...

    Constructing it is epoch 0 (the lrs stay as they are); each `step()` moves on one epoch.
    """

    def __init__(self, optimizer):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(self).__name__}: expected an nn optimizer (nn.SGD, "
                            f"nn.Adam, ...), got {type(optimizer).__name__}")
        self.optimizer = optimizer
        self.base_lrs = [float(group["lr"]) for group in optimizer.param_groups]
        self.last_epoch = 0
        self._last_lr = list(self.base_lrs)

    def lr_at(self, base_lr, epoch):
        raise NotImplementedError

    def step(self):
        """Advance one epoch and set each group's lr for it."""
        self.last_epoch += 1
        for group, base_lr in zip(self.optimizer.param_groups, self.base_lrs):
            group["lr"] = self.lr_at(base_lr, self.last_epoch)
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self):
        """The lrs (one per parameter group) set by the last `step()` (or the initial ones)."""
        return list(self._last_lr)

    # state: the epoch count and the lrs; the settings come from the constructor
    _state_keys = ("last_epoch", "base_lrs", "_last_lr")

    def state_dict(self):
        """The scheduler's progress as a dict of numpy arrays (`nn.save` can store it)."""
        return {key: np.array(getattr(self, key)) for key in self._state_keys}

    def load_state_dict(self, state_dict):
        """Continue from a saved `state_dict()`; the settings are this scheduler's own."""
        missing = [key for key in self._state_keys if key not in state_dict]
        if missing:
            raise KeyError(f"{type(self).__name__}.load_state_dict: missing key(s) {missing}")
        for key in self._state_keys:
            value = np.asarray(state_dict[key])
            setattr(self, key, value.tolist())

    def __repr__(self):
        return f"{type(self).__name__}(last_epoch={self.last_epoch}, lr={self.get_last_lr()})"


class StepLR(LRScheduler):
    """lr = base_lr * gamma ** (epoch // step_size): divide the lr every `step_size` epochs."""

    def __init__(self, optimizer, step_size, gamma=0.1):
        if not isinstance(step_size, numbers.Integral) or step_size < 1:
            raise ValueError(f"StepLR: step_size must be a positive integer, got {step_size!r}")
        self.step_size, self.gamma = int(step_size), gamma
        super().__init__(optimizer)

    def lr_at(self, base_lr, epoch):
        return base_lr * self.gamma ** (epoch // self.step_size)


class ExponentialLR(LRScheduler):
    """lr = base_lr * gamma ** epoch."""

    def __init__(self, optimizer, gamma):
        self.gamma = gamma
        super().__init__(optimizer)

    def lr_at(self, base_lr, epoch):
        return base_lr * self.gamma ** epoch


class CosineAnnealingLR(LRScheduler):
    """lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2.

    Half a cosine from base_lr down to eta_min over T_max epochs (then back up
    again, as PyTorch's does, if you keep stepping).
    """

    def __init__(self, optimizer, T_max, eta_min=0.0):
        if not T_max > 0:
            raise ValueError(f"CosineAnnealingLR: T_max must be positive, got {T_max!r}")
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer)

    def lr_at(self, base_lr, epoch):
        return self.eta_min + (base_lr - self.eta_min) * (
            1 + math.cos(math.pi * epoch / self.T_max)) / 2


class ReduceLROnPlateau(LRScheduler):
    """Multiply the lr by `factor` when a watched metric stops improving (PyTorch's rules).

    `step(metric)` once per epoch. The metric "improves" when it beats the best
    so far by more than `threshold` (relative: best * (1 ∓ threshold); absolute:
    best ∓ threshold), in `mode` "min" (a loss) or "max" (an accuracy). After
    more than `patience` epochs without improvement each group's lr becomes
    max(lr * factor, min_lr) (changes smaller than `eps` are skipped), then
    `cooldown` epochs pass before bad epochs are counted again.
    """

    def __init__(self, optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4,
                 threshold_mode="rel", cooldown=0, min_lr=0.0, eps=1e-8):
        super().__init__(optimizer)
        if mode not in ("min", "max"):
            raise ValueError(f"ReduceLROnPlateau: mode must be 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"ReduceLROnPlateau: threshold_mode must be 'rel' or 'abs', "
                             f"got {threshold_mode!r}")
        if not 0 <= factor < 1:
            raise ValueError(f"ReduceLROnPlateau: factor must be in [0, 1), got {factor!r}")
        groups = optimizer.param_groups
        min_lrs = list(min_lr) if isinstance(min_lr, (list, tuple)) else [min_lr] * len(groups)
        if len(min_lrs) != len(groups):
            raise ValueError(f"ReduceLROnPlateau: expected {len(groups)} min_lrs (one per "
                             f"parameter group), got {len(min_lrs)}")
        self.mode, self.factor, self.patience = mode, factor, patience
        self.threshold, self.threshold_mode = threshold, threshold_mode
        self.cooldown, self.min_lrs, self.eps = cooldown, min_lrs, eps
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0

    def is_better(self, current, best):
        """Whether `current` beats `best` by more than the threshold."""
        sign = 1 if self.mode == "min" else -1
        if self.threshold_mode == "rel":
            return sign * current < sign * best * (1 - sign * self.threshold)
        return sign * current < sign * best - self.threshold

    def step(self, metrics):
        """Record this epoch's metric and reduce the lr if it has plateaued."""
        current = float(metrics.item() if hasattr(metrics, "item") else metrics)
        self.last_epoch += 1
        if self.is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def _reduce_lr(self):
        for group, min_lr in zip(self.optimizer.param_groups, self.min_lrs):
            new_lr = max(group["lr"] * self.factor, min_lr)
            if group["lr"] - new_lr > self.eps:
                group["lr"] = new_lr

    _state_keys = ("last_epoch", "best", "num_bad_epochs", "cooldown_counter", "_last_lr")

"""Learning-rate schedulers: StepLR, ExponentialLR, CosineAnnealingLR and ReduceLROnPlateau.

A scheduler changes `group["lr"]` in its optimizer's `param_groups`. Call
`scheduler.step()` once per epoch, after that epoch's `optimizer.step()`
calls (`ReduceLROnPlateau.step(metric)` takes the number it watches, e.g.
the validation loss). `nn.fit(..., scheduler=...)` does this for you.

The epoch-based schedulers use PyTorch's recursive ("chainable") form: each
step computes the new lr from the group's *current* lr (StepLR multiplies it
by gamma every step_size epochs, ExponentialLR every epoch, CosineAnnealingLR
scales its distance to eta_min by the ratio of successive cosine terms), so
the sequence is exactly PyTorch's (to rounding), several schedulers on one
optimizer compose (StepLR and ExponentialLR together multiply both factors in),
an lr set by hand between steps is kept and scheduled on from, and a group
added with `optimizer.add_param_group(...)` after the scheduler was made is
scheduled from its own lr.

As in PyTorch, a scheduler records each group's starting lr in the group as
`group["initial_lr"]` (kept if already there, so every scheduler on one optimizer
shares it) and in `base_lrs`; only CosineAnnealingLR reads it.
"""
import math
import numbers

import numpy as np

from .optim import Optimizer

__all__ = ["LRScheduler", "StepLR", "ExponentialLR", "CosineAnnealingLR", "ReduceLROnPlateau"]


def _check_optimizer(scheduler, optimizer):
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{type(scheduler).__name__}: expected an nn optimizer (nn.SGD, "
                        f"nn.Adam, ...), got {type(optimizer).__name__}")


class LRScheduler:
    """Base class: each `step()` sets every group's lr to `get_lr()`, computed from the current lrs.

    Constructing it is epoch 0 (the lrs stay as they are); each `step()` moves on one epoch.
    Subclasses implement `get_lr()`, the new lrs (one per group) for epoch `last_epoch`.
    """

    def __init__(self, optimizer):
        _check_optimizer(self, optimizer)
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])
        self.base_lrs = [float(group["initial_lr"]) for group in optimizer.param_groups]
        self.last_epoch = 0
        self._last_lr = [group["lr"] for group in optimizer.param_groups]

    def _sync_groups(self):
        """Give groups added to the optimizer since construction their own initial_lr and base_lr."""
        for group in self.optimizer.param_groups[len(self.base_lrs):]:
            group.setdefault("initial_lr", group["lr"])
            self.base_lrs.append(float(group["initial_lr"]))

    def get_lr(self):
        """The lrs, one per parameter group, for epoch `last_epoch` (called by `step()`)."""
        raise NotImplementedError

    def step(self):
        """Advance one epoch and set each group's lr for it."""
        self._sync_groups()
        self.last_epoch += 1
        for group, lr in zip(self.optimizer.param_groups, self.get_lr()):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self):
        """The lrs (one per parameter group) set by the last `step()` (or the initial ones)."""
        return list(self._last_lr)

    # state: the epoch count and the lrs; the settings come from the constructor. As in
    # PyTorch, the groups' current lrs live in the optimizer: restore its state_dict too.
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
    """Multiply each group's lr by gamma every `step_size` epochs.

    Alone, lr = initial_lr * gamma ** (epoch // step_size).
    """

    def __init__(self, optimizer, step_size, gamma=0.1):
        if not isinstance(step_size, numbers.Integral) or step_size < 1:
            raise ValueError(f"StepLR: step_size must be a positive integer, got {step_size!r}")
        self.step_size, self.gamma = int(step_size), gamma
        super().__init__(optimizer)

    def get_lr(self):
        groups = self.optimizer.param_groups
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return [group["lr"] for group in groups]
        return [group["lr"] * self.gamma for group in groups]


class ExponentialLR(LRScheduler):
    """Multiply each group's lr by gamma every epoch. Alone, lr = initial_lr * gamma ** epoch."""

    def __init__(self, optimizer, gamma):
        self.gamma = gamma
        super().__init__(optimizer)

    def get_lr(self):
        groups = self.optimizer.param_groups
        if self.last_epoch == 0:
            return [group["lr"] for group in groups]
        return [group["lr"] * self.gamma for group in groups]


class CosineAnnealingLR(LRScheduler):
    """Half a cosine from the lr down to eta_min over T_max epochs (then back up
    again, as PyTorch's does, if you keep stepping).

    Alone, lr = eta_min + (initial_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2;
    each step computes it recursively from the current lr, as PyTorch does:
        lr_t = eta_min + (lr_{t-1} - eta_min) * (1 + cos(pi t / T_max)) / (1 + cos(pi (t-1) / T_max))
    and, at the bottom of the cosine (where that ratio is 0/0),
        lr_t = lr_{t-1} + (initial_lr - eta_min) * (1 - cos(pi / T_max)) / 2.
    """

    def __init__(self, optimizer, T_max, eta_min=0.0):
        if not T_max > 0:
            raise ValueError(f"CosineAnnealingLR: T_max must be positive, got {T_max!r}")
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer)

    def get_lr(self):
        groups, t, T_max, eta_min = self.optimizer.param_groups, self.last_epoch, self.T_max, \
            self.eta_min
        if t == 0:
            return [group["lr"] for group in groups]
        if (t - 1 - T_max) % (2 * T_max) == 0:
            return [group["lr"] + (base_lr - eta_min) * (1 - math.cos(math.pi / T_max)) / 2
                    for base_lr, group in zip(self.base_lrs, groups)]
        return [eta_min + (group["lr"] - eta_min) * (1 + math.cos(math.pi * t / T_max))
                / (1 + math.cos(math.pi * (t - 1) / T_max)) for group in groups]


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
        # as PyTorch's: it works on the current lrs only (no initial_lr, no base_lrs)
        _check_optimizer(self, optimizer)
        self.optimizer = optimizer
        self.last_epoch = 0
        self._last_lr = [group["lr"] for group in optimizer.param_groups]
        if mode not in ("min", "max"):
            raise ValueError(f"ReduceLROnPlateau: mode must be 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"ReduceLROnPlateau: threshold_mode must be 'rel' or 'abs', "
                             f"got {threshold_mode!r}")
        if not 0 <= factor < 1:
            raise ValueError(f"ReduceLROnPlateau: factor must be in [0, 1), got {factor!r}")
        groups = optimizer.param_groups
        # a single min_lr also applies to groups added later; a list is one per group
        self.default_min_lr = None if isinstance(min_lr, (list, tuple)) else min_lr
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
        groups = self.optimizer.param_groups
        if len(groups) != len(self.min_lrs):  # a group was added (or removed) since construction
            if self.default_min_lr is None:
                raise RuntimeError(
                    f"ReduceLROnPlateau: the optimizer has {len(groups)} parameter groups but "
                    f"min_lr was given as a list of {len(self.min_lrs)} (one per group when the "
                    f"scheduler was made), usually because optimizer.add_param_group() was called "
                    f"since; set scheduler.min_lrs to a list with one min_lr per group")
            self.min_lrs = [self.default_min_lr] * len(groups)
        for group, min_lr in zip(groups, self.min_lrs):
            new_lr = max(group["lr"] * self.factor, min_lr)
            if group["lr"] - new_lr > self.eps:
                group["lr"] = new_lr

    _state_keys = ("last_epoch", "best", "num_bad_epochs", "cooldown_counter", "_last_lr")

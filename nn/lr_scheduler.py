"""Learning-rate schedulers with PyTorch's names, arguments and sequences.

A scheduler changes `group["lr"]` in its optimizer's `param_groups`. Call
`scheduler.step()` once per epoch, after that epoch's `optimizer.step()`
calls (`ReduceLROnPlateau.step(metric)` takes the number it watches, e.g.
the validation loss; OneCycleLR steps once per batch). `nn.fit(..., scheduler=...)`
calls `step()` once per epoch for you.

Construction is epoch 0: as in PyTorch, it runs the schedule's first step, which
leaves the lrs as they are except where the schedule starts elsewhere (LinearLR's
start_factor, OneCycleLR's max_lr / div_factor). `last_epoch=k` resumes a schedule
at epoch k + 1 (each group must then hold its `initial_lr`, as an optimizer state
saved with a scheduler does).

The epoch-based schedulers use PyTorch's recursive ("chainable") form: each
step computes the new lr from the group's *current* lr (StepLR multiplies it
by gamma every step_size epochs, ExponentialLR every epoch, CosineAnnealingLR
scales its distance to eta_min by the ratio of successive cosine terms), so
the sequence is exactly PyTorch's (to rounding), several schedulers on one
optimizer compose (StepLR and ExponentialLR together multiply both factors in),
an lr set by hand between steps is kept and scheduled on from, and a group
added with `optimizer.add_param_group(...)` after the scheduler was made is
scheduled from its own lr. LambdaLR, CosineAnnealingWarmRestarts and OneCycleLR
compute each lr from the starting one instead, as PyTorch's do. SequentialLR and
ChainedScheduler (composition.py) run several schedulers one after another or
all at once.

As in PyTorch, a scheduler records each group's starting lr in the group as
`group["initial_lr"]` (kept if already there, so every scheduler on one optimizer
shares it) and in `base_lrs`.
"""
import bisect
import math
import numbers
from collections import Counter

import numpy as np

from .optim import Optimizer

__all__ = ["LRScheduler", "StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR",
           "LambdaLR", "MultiplicativeLR", "LinearLR", "CosineAnnealingWarmRestarts",
           "ReduceLROnPlateau"]


def _check_optimizer(scheduler, optimizer):
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{type(scheduler).__name__}: expected an nn optimizer (nn.SGD, "
                        f"nn.Adam, ...), got {type(optimizer).__name__}")


class LRScheduler:
    """Base class: each `step()` sets every group's lr to `get_lr()`, computed from the current lrs.

    Subclasses implement `get_lr()`, the new lrs (one per group) for epoch `last_epoch`,
    and, where the schedule has one, `_get_closed_form_lr()`, the lrs of epoch
    `last_epoch` from the base lrs alone (SequentialLR restarts a scheduler with it).
    """

    def __init__(self, optimizer, last_epoch=-1):
        _check_optimizer(self, optimizer)
        self.optimizer = optimizer
        for i, group in enumerate(optimizer.param_groups):
            if last_epoch == -1:
                group.setdefault("initial_lr", group["lr"])
            elif "initial_lr" not in group:
                raise KeyError(f"{type(self).__name__}: param 'initial_lr' is not specified in "
                               f"param_groups[{i}] when resuming at last_epoch={last_epoch}; "
                               f"load the optimizer's state_dict saved with the scheduler first")
        self.base_lrs = [float(group["initial_lr"]) for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self):
        """Epoch last_epoch + 1 (0 for a new schedule), as PyTorch's constructor does."""
        self.step()

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
        self._set_lrs(self.get_lr())

    def _set_lrs(self, lrs):
        for group, lr in zip(self.optimizer.param_groups, lrs):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def _restart(self):
        """Go back to epoch 0 with the schedule's closed form (SequentialLR, at a milestone)."""
        self._sync_groups()
        self.last_epoch = 0
        closed_form = getattr(self, "_get_closed_form_lr", None)
        self._set_lrs(closed_form() if closed_form else self.get_lr())

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


def _groups_lrs(scheduler):
    return [group["lr"] for group in scheduler.optimizer.param_groups]


class StepLR(LRScheduler):
    """Multiply each group's lr by gamma every `step_size` epochs.

    Alone, lr = initial_lr * gamma ** (epoch // step_size).
    """

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        if not isinstance(step_size, numbers.Integral) or step_size < 1:
            raise ValueError(f"StepLR: step_size must be a positive integer, got {step_size!r}")
        self.step_size, self.gamma = int(step_size), gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return _groups_lrs(self)
        return [lr * self.gamma for lr in _groups_lrs(self)]

    def _get_closed_form_lr(self):
        return [base_lr * self.gamma ** (self.last_epoch // self.step_size)
                for base_lr in self.base_lrs]


class MultiStepLR(LRScheduler):
    """Multiply each group's lr by gamma at each epoch listed in `milestones` (twice if listed
    twice). Alone, lr = initial_lr * gamma ** (number of milestones <= epoch)."""

    def __init__(self, optimizer, milestones, gamma=0.1, last_epoch=-1):
        self.milestones, self.gamma = Counter(int(m) for m in milestones), gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch not in self.milestones:
            return _groups_lrs(self)
        return [lr * self.gamma ** self.milestones[self.last_epoch] for lr in _groups_lrs(self)]

    def _get_closed_form_lr(self):
        passed = bisect.bisect_right(sorted(self.milestones.elements()), self.last_epoch)
        return [base_lr * self.gamma ** passed for base_lr in self.base_lrs]


class ExponentialLR(LRScheduler):
    """Multiply each group's lr by gamma every epoch. Alone, lr = initial_lr * gamma ** epoch."""

    def __init__(self, optimizer, gamma, last_epoch=-1):
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch == 0:
            return _groups_lrs(self)
        return [lr * self.gamma for lr in _groups_lrs(self)]

    def _get_closed_form_lr(self):
        return [base_lr * self.gamma ** self.last_epoch for base_lr in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """Half a cosine from the lr down to eta_min over T_max epochs (then back up
    again, as PyTorch's does, if you keep stepping).

    Alone, lr = eta_min + (initial_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2;
    each step computes it recursively from the current lr, as PyTorch does:
        lr_t = eta_min + (lr_{t-1} - eta_min) * (1 + cos(pi t / T_max)) / (1 + cos(pi (t-1) / T_max))
    and, at the bottom of the cosine (where that ratio is 0/0),
        lr_t = lr_{t-1} + (initial_lr - eta_min) * (1 - cos(pi / T_max)) / 2.
    """

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        if not T_max > 0:
            raise ValueError(f"CosineAnnealingLR: T_max must be positive, got {T_max!r}")
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer, last_epoch)

    def _get_closed_form_lr(self):
        return [self.eta_min + (base_lr - self.eta_min)
                * (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
                for base_lr in self.base_lrs]

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


class _PerGroupFunctions:
    """What LambdaLR and MultiplicativeLR share: one function of the epoch per group
    (one function given applies to every group, also to groups added later)."""

    def _take_functions(self, optimizer, lr_lambda):
        name = type(self).__name__
        self._shared = None if isinstance(lr_lambda, (list, tuple)) else lr_lambda
        functions = list(lr_lambda) if self._shared is None else \
            [lr_lambda] * len(optimizer.param_groups)
        if len(functions) != len(optimizer.param_groups):
            raise ValueError(f"{name}: expected {len(optimizer.param_groups)} lr_lambdas (one "
                             f"per parameter group), got {len(functions)}")
        if not all(callable(f) for f in functions):
            raise TypeError(f"{name}: lr_lambda must be a function of the epoch (or a list of "
                            f"them, one per group)")
        self.lr_lambdas = functions

    def _sync_groups(self):
        LRScheduler._sync_groups(self)
        missing = len(self.optimizer.param_groups) - len(self.lr_lambdas)
        if missing > 0:
            if self._shared is None:
                raise RuntimeError(
                    f"{type(self).__name__}: the optimizer has {len(self.optimizer.param_groups)} "
                    f"parameter groups but lr_lambda was a list of {len(self.lr_lambdas)} (one per "
                    f"group when the scheduler was made), usually because add_param_group() was "
                    f"called since; append a function to scheduler.lr_lambdas for each new group")
            self.lr_lambdas += [self._shared] * missing


class LambdaLR(_PerGroupFunctions, LRScheduler):
    """lr = initial_lr * lr_lambda(epoch): any schedule as a function of the epoch (e.g. a
    warm-up `lambda epoch: min(1, (epoch + 1) / 10)`); a list gives one function per group."""

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        _check_optimizer(self, optimizer)
        self._take_functions(optimizer, lr_lambda)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return [base_lr * f(self.last_epoch) for f, base_lr in zip(self.lr_lambdas, self.base_lrs)]


class MultiplicativeLR(_PerGroupFunctions, LRScheduler):
    """Multiply each group's lr by lr_lambda(epoch) every epoch (from epoch 1 on)."""

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        _check_optimizer(self, optimizer)
        self._take_functions(optimizer, lr_lambda)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch > 0:
            return [lr * f(self.last_epoch) for f, lr in zip(self.lr_lambdas, _groups_lrs(self))]
        return _groups_lrs(self)


class LinearLR(LRScheduler):
    """Scale the lr by a factor going linearly from start_factor (at construction) to
    end_factor (at epoch total_iters), then keep it: the usual warm-up.

    Alone, lr = initial_lr * (start + (end - start) * min(epoch, total_iters) / total_iters).
    """

    def __init__(self, optimizer, start_factor=1.0 / 3, end_factor=1.0, total_iters=5,
                 last_epoch=-1):
        if not 0 < start_factor <= 1:
            raise ValueError(f"LinearLR: starting multiplicative factor expected to be greater "
                             f"than 0 and less or equal to 1, got {start_factor}")
        if not 0 <= end_factor <= 1:
            raise ValueError(f"LinearLR: ending multiplicative factor expected to be between 0 "
                             f"and 1, got {end_factor}")
        if not isinstance(total_iters, numbers.Integral) or total_iters < 1:
            raise ValueError(f"LinearLR: total_iters must be a positive integer, got "
                             f"{total_iters!r}")
        self.start_factor, self.end_factor, self.total_iters = start_factor, end_factor, total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch == 0:
            return [lr * self.start_factor for lr in _groups_lrs(self)]
        if self.last_epoch > self.total_iters:
            return _groups_lrs(self)
        change = self.end_factor - self.start_factor
        ratio = 1.0 + change / (self.total_iters * self.start_factor
                                + (self.last_epoch - 1) * change)
        return [lr * ratio for lr in _groups_lrs(self)]

    def _get_closed_form_lr(self):
        progress = min(self.total_iters, self.last_epoch) / self.total_iters
        return [base_lr * (self.start_factor + (self.end_factor - self.start_factor) * progress)
                for base_lr in self.base_lrs]


class CosineAnnealingWarmRestarts(LRScheduler):
    """Half a cosine from each group's initial lr down to eta_min over T_0 epochs, then a
    restart at the initial lr; each period T_mult times as long as the one before
    (SGDR, Loshchilov & Hutter, 2017).

    `step(epoch)` may also be given a fractional epoch (e.g. `epoch + batch / batches`,
    to anneal within an epoch), as in PyTorch.
    """

    def __init__(self, optimizer, T_0, T_mult=1, eta_min=0.0, last_epoch=-1):
        if not isinstance(T_0, numbers.Integral) or T_0 <= 0:
            raise ValueError(f"CosineAnnealingWarmRestarts: expected a positive integer T_0, "
                             f"got {T_0!r}")
        if not isinstance(T_mult, numbers.Integral) or T_mult < 1:
            raise ValueError(f"CosineAnnealingWarmRestarts: expected an integer T_mult >= 1, "
                             f"got {T_mult!r}")
        self.T_0, self.T_i, self.T_mult, self.eta_min = T_0, T_0, T_mult, eta_min
        self.T_cur = last_epoch
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return [self.eta_min + (base_lr - self.eta_min)
                * (1 + math.cos(math.pi * self.T_cur / self.T_i)) / 2 for base_lr in self.base_lrs]

    def step(self, epoch=None):
        """Advance one epoch, or go to `epoch` (a number, fractions allowed)."""
        self._sync_groups()
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur += 1
            if self.T_cur >= self.T_i:
                self.T_cur -= self.T_i
                self.T_i *= self.T_mult
        else:
            if epoch < 0:
                raise ValueError(f"CosineAnnealingWarmRestarts: expected a non-negative epoch, "
                                 f"got {epoch}")
            if epoch >= self.T_0 and self.T_mult == 1:
                self.T_cur = epoch % self.T_0
            elif epoch >= self.T_0:
                n = int(math.log(epoch / self.T_0 * (self.T_mult - 1) + 1, self.T_mult))
                self.T_cur = epoch - self.T_0 * (self.T_mult ** n - 1) / (self.T_mult - 1)
                self.T_i = self.T_0 * self.T_mult ** n
            else:
                self.T_i, self.T_cur = self.T_0, epoch
        self.last_epoch = math.floor(epoch)
        self._set_lrs(self.get_lr())

    def _restart(self):
        self.step(0)

    _state_keys = LRScheduler._state_keys + ("T_i", "T_cur")


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

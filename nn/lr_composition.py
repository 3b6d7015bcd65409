"""Schedulers made of schedulers: SequentialLR (one after another) and ChainedScheduler (all at
once), with PyTorch's arguments and sequences.

    warmup = nn.LinearLR(optimizer, start_factor=0.1, total_iters=5)
    decay = nn.CosineAnnealingLR(optimizer, T_max=95)
    scheduler = nn.SequentialLR(optimizer, [warmup, decay], milestones=[5])

SequentialLR steps only the scheduler whose turn it is, and at each milestone restarts
the next one at its epoch 0 (from its closed form: decay starts from the initial lr,
not from where warmup left it). ChainedScheduler steps every scheduler each epoch, so
their factors multiply, exactly as stepping each of them by hand would.
"""
import bisect

import numpy as np

from .lr_scheduler import LRScheduler, ReduceLROnPlateau, _check_optimizer

__all__ = ["SequentialLR", "ChainedScheduler"]


def _check_schedulers(name, schedulers, optimizer):
    """A non-empty list of epoch schedulers, all on `optimizer` (the first one's if None)."""
    schedulers = list(schedulers)
    if not schedulers:
        raise ValueError(f"{name}: expects at least one scheduler")
    optimizer = schedulers[0].optimizer if optimizer is None else optimizer
    for i, scheduler in enumerate(schedulers):
        if not isinstance(scheduler, LRScheduler) or isinstance(scheduler, ReduceLROnPlateau):
            raise TypeError(f"{name}: scheduler {i} must be an epoch scheduler (StepLR, "
                            f"LinearLR, ...; not ReduceLROnPlateau), got "
                            f"{type(scheduler).__name__}")
        if scheduler.optimizer is not optimizer:
            raise ValueError(f"{name}: expects all schedulers to belong to the same optimizer, "
                             f"but scheduler {i} ({type(scheduler).__name__}) has another")
    return schedulers, optimizer


class _Composite(LRScheduler):
    """State dicts of composites: their own keys plus each scheduler's, as "_schedulers.i.key"."""

    def state_dict(self):
        state = {key: np.array(getattr(self, key)) for key in self._state_keys}
        for i, scheduler in enumerate(self._schedulers):
            state.update({f"_schedulers.{i}.{key}": value
                          for key, value in scheduler.state_dict().items()})
        return state

    def load_state_dict(self, state_dict):
        own = {key: value for key, value in state_dict.items() if not key.startswith("_schedulers.")}
        LRScheduler.load_state_dict(self, own)
        for i, scheduler in enumerate(self._schedulers):
            prefix = f"_schedulers.{i}."
            scheduler.load_state_dict({key[len(prefix):]: value for key, value
                                       in state_dict.items() if key.startswith(prefix)})


class SequentialLR(_Composite):
    """`SequentialLR(optimizer, schedulers, milestones, last_epoch=-1)`: schedulers[0] until
    epoch milestones[0], then schedulers[1] (restarted at its epoch 0), and so on."""

    _state_keys = ("last_epoch", "_last_lr")

    def __init__(self, optimizer, schedulers, milestones, last_epoch=-1):
        _check_optimizer(self, optimizer)
        self._schedulers, self.optimizer = _check_schedulers("SequentialLR", schedulers, optimizer)
        self._milestones = [int(m) for m in milestones]
        if len(self._milestones) != len(self._schedulers) - 1:
            raise ValueError(f"SequentialLR: expects one milestone fewer than schedulers, got "
                             f"{len(self._schedulers)} schedulers and {len(self._milestones)} "
                             f"milestones")
        if self._milestones != sorted(self._milestones):
            raise ValueError(f"SequentialLR: milestones must increase, got {self._milestones}")
        self.last_epoch = last_epoch + 1
        for group in self.optimizer.param_groups:  # undo what the schedulers' constructors did
            group["lr"] = group["initial_lr"]
        for scheduler in self._schedulers:
            scheduler.last_epoch -= 1
        self._schedulers[0]._initial_step()
        self._last_lr = self._schedulers[0].get_last_lr()

    def step(self):
        self.last_epoch += 1
        index = bisect.bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[index]
        if index > 0 and self._milestones[index - 1] == self.last_epoch:
            scheduler._restart()
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()


class ChainedScheduler(_Composite):
    """`ChainedScheduler(schedulers, optimizer=None)`: every scheduler steps each epoch, in order."""

    _state_keys = ("_last_lr",)

    def __init__(self, schedulers, optimizer=None):
        self._schedulers, self.optimizer = _check_schedulers("ChainedScheduler", schedulers,
                                                             optimizer)
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def step(self):
        for scheduler in self._schedulers:
            scheduler.step()
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

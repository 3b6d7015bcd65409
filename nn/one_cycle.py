"""OneCycleLR: the 1cycle policy (Smith & Topin, 2018), with PyTorch's arguments and sequence.

Stepped once per batch, for `total_steps` steps: the lr rises from max_lr / div_factor
to max_lr over the first pct_start of the steps, then falls to initial_lr /
final_div_factor (cosine or linear). The momentum (SGD's momentum, or Adam's beta1)
moves the other way, from max_momentum down to base_momentum and back. With
`three_phase` the lr comes back down to initial_lr symmetrically before a last,
shorter fall to the minimum.
"""
import math
import numbers

from .lr_scheduler import LRScheduler, _check_optimizer

__all__ = ["OneCycleLR"]


def _per_group(name, value, groups):
    if isinstance(value, (list, tuple)):
        if len(value) != len(groups):
            raise ValueError(f"OneCycleLR: expected {len(groups)} values for {name} (one per "
                             f"parameter group), got {len(value)}")
        return list(value)
    return [value] * len(groups)


def _anneal_cos(start, end, pct):
    return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)


def _anneal_linear(start, end, pct):
    return (end - start) * pct + start


class OneCycleLR(LRScheduler):
    """`OneCycleLR(optimizer, max_lr, total_steps=None, epochs=None, steps_per_epoch=None,
    pct_start=0.3, anneal_strategy="cos", cycle_momentum=True, base_momentum=0.85,
    max_momentum=0.95, div_factor=25.0, final_div_factor=1e4, three_phase=False,
    last_epoch=-1)`.

    Each group's initial_lr, max_lr and min_lr (and, cycling momentum, its
    max_momentum and base_momentum) are kept in the group, as PyTorch does, so an
    optimizer state saved mid-cycle holds them.
    """

    def __init__(self, optimizer, max_lr, total_steps=None, epochs=None, steps_per_epoch=None,
                 pct_start=0.3, anneal_strategy="cos", cycle_momentum=True, base_momentum=0.85,
                 max_momentum=0.95, div_factor=25.0, final_div_factor=1e4, three_phase=False,
                 last_epoch=-1):
        _check_optimizer(self, optimizer)
        groups = optimizer.param_groups
        self.total_steps = self._total_steps(total_steps, epochs, steps_per_epoch)
        if not 0 <= pct_start <= 1 or isinstance(pct_start, bool):
            raise ValueError(f"OneCycleLR: expected a float between 0 and 1 for pct_start, got "
                             f"{pct_start!r}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"OneCycleLR: anneal_strategy must be one of 'cos' or 'linear', got "
                             f"{anneal_strategy!r}")
        self._anneal = _anneal_cos if anneal_strategy == "cos" else _anneal_linear
        up = float(pct_start * self.total_steps) - 1
        if three_phase:
            self._phases = [(up, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                            (float(2 * pct_start * self.total_steps) - 2, "max_lr", "initial_lr",
                             "base_momentum", "max_momentum"),
                            (self.total_steps - 1, "initial_lr", "min_lr", "max_momentum",
                             "max_momentum")]
        else:
            self._phases = [(up, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                            (self.total_steps - 1, "max_lr", "min_lr", "base_momentum",
                             "max_momentum")]
        if last_epoch == -1:
            for group, top in zip(groups, _per_group("max_lr", max_lr, groups)):
                group["initial_lr"] = top / div_factor
                group["max_lr"] = top
                group["min_lr"] = group["initial_lr"] / final_div_factor
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            self._use_beta1 = "betas" in optimizer.defaults
            if not self._use_beta1 and "momentum" not in optimizer.defaults:
                raise ValueError(f"OneCycleLR: optimizer must support momentum or beta1 with "
                                 f"cycle_momentum enabled ({type(optimizer).__name__} has "
                                 f"neither); pass cycle_momentum=False")
            if last_epoch == -1:
                for group, low, high in zip(groups,
                                            _per_group("base_momentum", base_momentum, groups),
                                            _per_group("max_momentum", max_momentum, groups)):
                    self._set_momentum(group, high)
                    group["max_momentum"], group["base_momentum"] = high, low
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _total_steps(total_steps, epochs, steps_per_epoch):
        if total_steps is not None:
            if not isinstance(total_steps, numbers.Integral) or total_steps <= 0:
                raise ValueError(f"OneCycleLR: expected a positive integer total_steps, got "
                                 f"{total_steps!r}")
            return int(total_steps)
        if epochs is None or steps_per_epoch is None:
            raise ValueError("OneCycleLR: you must define either total_steps OR (epochs AND "
                             "steps_per_epoch)")
        for name, value in (("epochs", epochs), ("steps_per_epoch", steps_per_epoch)):
            if not isinstance(value, numbers.Integral) or value <= 0:
                raise ValueError(f"OneCycleLR: expected a positive integer {name}, got {value!r}")
        return int(epochs) * int(steps_per_epoch)

    def _set_momentum(self, group, momentum):
        if self._use_beta1:
            group["betas"] = (momentum,) + tuple(group["betas"][1:])
        else:
            group["momentum"] = momentum

    def _sync_groups(self):
        groups = self.optimizer.param_groups
        if len(groups) > len(self.base_lrs):
            raise RuntimeError(f"OneCycleLR: parameter group {len(self.base_lrs)} was added after "
                               f"the scheduler was made, but OneCycleLR sets each group's max_lr "
                               f"when it is made; make the scheduler after adding every group")

    def get_lr(self):
        step = self.last_epoch
        if step > self.total_steps:
            raise ValueError(f"OneCycleLR: tried to step {step} times; the specified number of "
                             f"total steps is {self.total_steps}")
        lrs = []
        for group in self.optimizer.param_groups:
            start = 0.0
            for i, (end, lr_from, lr_to, momentum_from, momentum_to) in enumerate(self._phases):
                if step <= end or i == len(self._phases) - 1:
                    pct = (step - start) / (end - start)
                    lrs.append(self._anneal(group[lr_from], group[lr_to], pct))
                    if self.cycle_momentum:
                        self._set_momentum(group, self._anneal(group[momentum_from],
                                                               group[momentum_to], pct))
                    break
                start = end
        return lrs

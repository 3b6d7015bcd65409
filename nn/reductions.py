"""What every loss shares: the `reduction` argument and turning its input into a `Value`."""
import numpy as np

from autograd_lite import Value

REDUCTIONS = ("mean", "sum", "none")


def check_reduction(name, reduction):
    """A clear error for a reduction other than "mean", "sum" or "none", naming the loss."""
    if reduction not in REDUCTIONS:
        raise ValueError(f"{name}: unknown reduction {reduction!r}; use 'mean', 'sum' or 'none'")


def reduce(losses, reduction):
    """The mean or sum of per-element losses, or the losses themselves for "none"."""
    if reduction == "mean":
        return losses.mean()
    if reduction == "sum":
        return losses.sum()
    return losses


def as_value(x):
    """x itself if it is a Value, else a constant Value of it (numpy arrays, lists, numbers)."""
    return x if isinstance(x, Value) else Value(np.asarray(x), requires_grad=False)

"""`side_effect(update, *values)`: state a layer changes from computed values, replayed by `compile`.

BatchNorm's running statistics are not part of the graph: each training call
updates them from the batch's mean and variance. Eagerly that is a plain
function call; a compiled function must make it again on every replay, with
that call's arrays. A layer says so by calling

    side_effect(self._update_running_stats, mean, var, count=count)

instead of `self._update_running_stats(mean.data, var.data, count=count)`: the
update runs now, on the values' arrays, and while `compile` traces it is also
written down, so the generated forward calls `update` at the same point with
the arrays of the replay. `update` gets arrays (never values) and returns
nothing; it must leave the graph alone (it runs outside recording).
"""
import threading

from .grad_mode import no_grad


class _Recording(threading.local):
    effects = None  # while compile traces on this thread: the list (update, values, options) go to


state = _Recording()


def side_effect(update, *values, **options):
    """Call `update(*arrays, **options)` with the values' arrays now, and on every replay of a
    compiled function that traced this call."""
    if state.effects is not None:
        state.effects.append((update, values, options))
    with no_grad():
        update(*[getattr(v, "_data", v) for v in values], **options)

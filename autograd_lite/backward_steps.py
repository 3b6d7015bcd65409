"""The backward pass, step by step: which op ran when, the gradient that reached its
output, and what it sent to each input. Graph pictures use it to show every value's
gradient and to step through the pass.

`backward()` keeps none of this: it passes each intermediate gradient on and frees
it, and after the pass a small graph keeps its structure but not the arrays the
forward saw (see `backprop._release`; a big graph keeps neither). So a picture
replays the pass on its own: the same order as `backprop._walk` (the
highest-numbered value that has received gradient goes next), the same vjps and
the same `sum_to`, on the same numbers: a live graph's saved arrays, or, after
backward, its inputs' arrays, checked unchanged by the engine's version rule (an
optimizer step since then changed them, and the replay says so instead of showing
gradients of other numbers). The output's gradient starts at 1, as in
`backward()`. It is not `_walk`: that one must stay lean, and keeps no per-edge
gradients.
"""
import heapq
import typing

import numpy as np

from . import ops, versions
from .grad_mode import no_grad
from .value import Value, _constant


class Step(typing.NamedTuple):
    """One op's turn: `node` (the value it made) received `grad`; it sent `sent`.

    `sent` has one `(index, input, gradient)` per input that needs a gradient, in
    input order; `gradient` is summed to the input's shape (None: the vjp gave none).
    """
    node: Value
    grad: np.ndarray
    sent: list


class Replay(typing.NamedTuple):
    """The replayed pass: `steps` in the order backward runs them, and `grads`,
    id(value) -> the total gradient of every value that received one (outputs included)."""
    steps: list
    grads: dict


class NotReplayable(Exception):
    """Why a graph's backward pass cannot be replayed (the message says it in words)."""


def replay(roots):
    """Replay the backward pass from `roots` (one-element `Value`s, each seeded with 1)."""
    for root in roots:
        if root._data.size != 1:
            raise NotReplayable(
                f"the output has shape {root.shape}; backward() starts from a one-element "
                f"output (reduce it first, e.g. out.sum())")
        if not root.requires_grad:
            raise NotReplayable("the output does not require grad: no gradient flows")
    grads, steps, waiting = {}, [], []
    arrivals = [(root, np.ones(root.shape, root.dtype)) for root in roots]
    with no_grad():
        while True:
            for value, g in arrivals:
                old = grads.get(id(value))
                grads[id(value)] = g if old is None else old + g
                if old is None and value._record is not None:
                    heapq.heappush(waiting, (-value._number, id(value), value))
            if not waiting:
                return Replay(steps, grads)
            node = heapq.heappop(waiting)[2]
            g = grads[id(node)]
            sent = [(i, parent, grad) for i, parent, grad in _send(node, g)]
            steps.append(Step(node, g, sent))
            arrivals = [(parent, grad) for _, parent, grad in sent if grad is not None]


def _send(node, g):
    """The gradients `node`'s op sends to its inputs that need one, as backprop's walk does."""
    record = node._record
    if record.inputs is None:
        raise NotReplayable("the graph was released by backward(); call backward("
                            "retain_graph=True) to keep it, or draw before backward()")
    arrays = record.saved
    if arrays is None:  # released after backward: the inputs' own arrays, if unchanged since
        if versions.latest_change > node._number:
            try:
                versions.check_unchanged(node)
            except RuntimeError:
                raise NotReplayable(
                    "values of the graph were changed in place after the forward pass (an "
                    "optimizer step?), so its gradients cannot be worked out again") from None
        arrays = [x._data if isinstance(x, Value) else _constant(x) for x in record.inputs]
    vjps, options = record.primitive.vjps, record.options
    for index, parent in enumerate(record.inputs):
        if not isinstance(parent, Value) or not parent.requires_grad:
            continue
        vjp = vjps[index]
        grad = g if vjp is ops.unchanged else vjp(g, node._data, *arrays, **options)
        if grad is not None:
            grad = np.asarray(grad)
            if grad.shape != parent.shape:
                grad = ops.sum_to(grad, shape=parent.shape)
        yield index, parent, grad

"""Reverse mode: walk a recorded graph from its outputs back to its inputs.

`backward()` accumulates gradients into the leaves' `.grad`; `grad()` returns
them instead. Both run `_walk`, which sends gradients back from the outputs in
one pass, calling each op's vjps once (no recursion: a chain of a million ops
is fine), and then frees the graph unless asked to keep it.
"""
import heapq

import numpy as np

from . import anomaly, hooks, ops, value as value_module, versions
from .grad_mode import _state as _grad_mode
from .value import Value


def _walk(roots, root_grads, retain_graph, create_graph, inputs=None):
    """Propagate `root_grads` back from `roots`; return the gradients reaching `inputs`.

    Values are numbered as they are made, so an op's inputs always have smaller numbers
    than its output: the highest-numbered value that has received gradient has received
    all of it (every op that used it came later), so its vjps can run. A heap hands out
    that value each step; leaves only sum what they get. `.grad`s are written and the
    graph freed only once the pass has succeeded: a failing backward changes nothing.
    """
    wanted = set(inputs) if inputs is not None else ()
    grads = {}     # value -> the sum of the gradients sent to it so far
    waiting = []   # heap of (-number, value): non-leaf values that have received gradient
    reached = []   # values whose .grad is written at the end: leaves, and those that retain it
    used = []      # values whose records are freed at the end

    arrivals = list(zip(roots, root_grads))  # (value, gradient) sent to it, not yet added in
    pop, push, unchanged = heapq.heappop, heapq.heappush, ops.unchanged
    check_nan = anomaly.state.enabled
    recording, _grad_mode.enabled = _grad_mode.enabled, create_graph  # vjps record only then
    try:
        while True:
            for value, g in arrivals:
                old = grads.get(value)
                if old is not None:
                    grads[value] = old + g
                else:
                    grads[value] = g
                    if value._record is None:
                        reached.append(value)
                    else:
                        push(waiting, (-value._number, value))
            if not waiting:
                break
            node = pop(waiting)[1]
            g = grads[node] if node.retains_grad or node in wanted else grads.pop(node)
            if hooks.registered and id(node) in hooks.registered:  # (register_hook)
                g = grads[node] = hooks.run(node, g)
            if node.retains_grad:
                reached.append(node)
            record = node._record
            if record.saved is None:
                raise _freed_error(node)
            if versions.latest_change > node._number:  # a change since the op ran: to its data?
                versions.check_unchanged(node)
            used.append(node)
            ans, saved = node._data, record.saved
            if create_graph:  # the vjps get the values themselves, so their work is recorded
                ans, saved = node, [x if isinstance(x, Value) else a for x, a in zip(record.inputs, saved)]
            vjps, options = record.primitive.vjps, record.options
            arrivals = []
            for index, parent in enumerate(record.inputs):
                if not isinstance(parent, Value) or not parent._requires_grad:
                    continue
                vjp = vjps[index]
                parent_g = g if vjp is unchanged else vjp(g, ans, *saved, **options)
                if parent_g is None:
                    continue
                if check_nan:
                    anomaly.check_backward(record.primitive.name, index, parent_g, node._site)
                shape = parent._data.shape
                if parent_g.shape != shape:  # broadcasting: sum back to the input's shape
                    parent_g = ops.sum_to(parent_g, shape=shape)
                arrivals.append((parent, parent_g))
    finally:
        _grad_mode.enabled = recording
    for value in reached if hooks.registered else ():  # a leaf's hooks see its whole gradient
        if value._record is None and id(value) in hooks.registered:
            grads[value] = hooks.run(value, grads[value])
    handed_out = set(map(id, root_grads))
    for value in reached if inputs is None else ():
        _store_grad(value, grads[value], handed_out)
    if not retain_graph:
        _release(used)
    return None if inputs is None else [grads.get(x) for x in inputs]


KEEP_BYTES = 16 * 1024  # a graph whose computed arrays fit in this keeps its structure


def _release(used):
    """Free what only a second backward needs (`saved`, which also marks the graph released).
    A graph whose computed values hold at most `KEEP_BYTES` keeps `inputs`, so `draw_graph`
    can still draw it after `backward()`; a bigger one frees its intermediate arrays now.
    The size check stops at the first `KEEP_BYTES`: a big graph pays for a node or two."""
    budget = KEEP_BYTES
    for node in used:
        budget -= node._data.nbytes
        if budget < 0:
            for node in used:
                node._record.inputs = node._record.saved = None
            return
    for node in used:
        node._record.saved = None


def _store_grad(value, g, handed_out):
    """`.grad += g`, an array of the value's own shape and dtype. An array this pass made
    becomes `.grad` as it is; anything others can see is copied (a view, a recorded value's
    data, a caller's array: `handed_out`, or one already given to another `.grad`)."""
    if isinstance(g, Value):
        g = np.array(g._data)
    if value._grad is not None:
        value._grad += g
    elif (g.__class__ is not np.ndarray or g.base is not None or id(g) in handed_out
          or g.dtype != value._data.dtype):
        value._grad = np.array(g, dtype=value._data.dtype)
    else:
        value._grad = g
        handed_out.add(id(g))


def _freed_error(node):
    return RuntimeError(f"Trying to backward through the graph a second time: the saved values of "
                        f"op '{node.op}' (output shape {node.shape}) were freed by an earlier backward()."
                        f" Pass retain_graph=True to the first backward() (or grad()) to keep it.")


def _as_list(x): return list(x) if isinstance(x, (list, tuple)) else [x]


def _seed_grads(outputs, grads, create_graph, argument):
    """The starting gradient of each output: ones for a one-element output, else what the user
    passed as `argument` (named in errors)."""
    grads = _as_list(grads) if grads is not None else [None] * len(outputs)
    if len(grads) != len(outputs):
        raise ValueError(f"got {len(grads)} gradients for {len(outputs)} outputs")
    seeds = []
    for out, g in zip(outputs, grads):
        data = out._data
        if g is None:
            if data.size != 1:
                raise RuntimeError(f"grad can be implicitly created only for scalar outputs, but the "
                                   f"output has shape {data.shape}; pass {argument}= (an array of "
                                   f"that shape), or reduce it first, e.g. out.sum().backward()")
            g = np.ones(data.shape, data.dtype)
        else:
            g = (g if create_graph else g._data) if isinstance(g, Value) else np.asarray(g, data.dtype)
            if g.shape != data.shape:
                raise ValueError(f"{argument}: gradient shape {g.shape} does not match output "
                                 f"shape {data.shape}")
        seeds.append(Value(g, requires_grad=False) if create_graph and not isinstance(g, Value) else g)
    return seeds


def backward(output, grad=None, retain_graph=False, create_graph=False):
    """Accumulate d(output)/d(leaf) into `.grad` of every leaf that requires grad."""
    if not isinstance(output, Value):
        raise TypeError(f"backward: expected a Value, got {type(output).__name__}")
    if not output.requires_grad:
        raise RuntimeError("backward: this value does not require grad and has no graph (it was "
                           "made from constants only, or under no_grad())")
    seeds = _seed_grads([output], [grad] if grad is not None else None, create_graph, "grad")
    _walk([output], seeds, retain_graph or create_graph, create_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=False):
    """d(outputs)/d(inputs) as a tuple of `Value`s, without touching any `.grad`; with
    `create_graph=True` they are differentiable, so `grad` again gives higher derivatives."""
    outputs, inputs = _as_list(outputs), _as_list(inputs)
    for kind, values in (("output", outputs), ("input", inputs)):
        for i, x in enumerate(values):
            if not isinstance(x, Value):
                raise TypeError(f"grad: outputs and inputs must be Values, got {type(x).__name__}")
            if not x.requires_grad:  # (an output: PyTorch's rule, its gradient would count as 0)
                raise RuntimeError(f"grad: {kind} {i} (shape {x.shape}) does not require grad: it "
                                   f"was made from constants only, or under no_grad()")
    seeds = _seed_grads(outputs, grad_outputs, create_graph, "grad_outputs")
    retain_graph = create_graph if retain_graph is None else retain_graph
    found = _walk(outputs, seeds, retain_graph, create_graph, inputs)
    result = []
    for i, (x, g) in enumerate(zip(inputs, found)):
        if g is None and not allow_unused:
            raise RuntimeError(f"grad: input {i} (shape {x.shape}) was not used to compute the "
                               f"outputs; pass allow_unused=True to get None for it")
        if isinstance(g, Value):  # recorded (create_graph): cast, as a recorded op too
            g = g if g.dtype == x.dtype else ops.astype(g, dtype=x.dtype)
        elif g is not None:
            g = Value(g, requires_grad=False, dtype=x.dtype)
        result.append(g)
    return tuple(result)


value_module.backward_walk = backward  # `Value.backward` calls this (value.py imports nothing above it)

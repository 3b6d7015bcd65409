"""Reverse mode: walk a recorded graph from its outputs back to its inputs.

`backward()` accumulates gradients into the leaves' `.grad`; `grad()` returns
them instead. Both run `_run`, which sends gradients back from the outputs in
one pass, calling each op's vjps once (no recursion: a chain of a million
ops is fine), and then frees the graph unless asked to keep it.
"""
import heapq
import weakref

import numpy as np

from . import anomaly, ops
from .grad_mode import _state as _grad_state
from .ops import unchanged
from .value import Value, edits

# non-leaf values whose .grad the user asked to keep, by id: a WeakSet would
# compare values with ==, which is elementwise for a Value
retained = weakref.WeakValueDictionary()


def _check_unchanged(node, args):
    """Raise if a value `node`'s op saw (its output or an input) was changed in place since it ran."""
    if node._changed_at > node._order:
        raise _version_error(node, "its output", node)
    for i, parent in enumerate(args):
        if isinstance(parent, Value) and parent._changed_at > node._order:
            raise _version_error(node, f"its input {i}", parent)


def _freed_error(node):
    return RuntimeError(
        f"Trying to backward through the graph a second time: the saved values of op "
        f"'{node.op}' (output shape {node.shape}) were freed by an earlier backward(). "
        f"Pass retain_graph=True to the first backward() (or grad()) to keep the graph.")


def _version_error(node, which, changed):
    """The in-place-change error: which op, which of its values, and how to avoid it."""
    label = f"'{changed.name}'" if changed.name else "an unnamed value"
    return RuntimeError(
        f"A value needed to compute the gradient of op '{node.op}' was modified in place: "
        f"{which} ({label}, shape {changed.shape}) was changed after the op ran (it is now "
        f"at version {changed._version}). Change .data only after backward() has used the "
        f"graph (e.g. optimizer.step() after loss.backward()), or run a new forward pass.")


def _store_grad(value, g, handed_out):
    """`.grad += g` as a numpy array of the value's own shape and dtype.

    A gradient array that this backward pass made becomes `.grad` as it is,
    the first time. Anything others can see is copied: a view, a recorded
    `Value`'s data, an array the caller gave (`handed_out` starts with the
    ids of the root gradients), or an array already given to another `.grad`
    (`add` passes its gradient on unchanged to both inputs). So no `.grad`
    shares memory with another `.grad`, the graph or the caller's arrays.
    """
    if isinstance(g, Value):
        g = np.array(g._data)
    if value.grad is not None:
        value.grad += g
    elif (g.__class__ is not np.ndarray or g.base is not None or id(g) in handed_out
          or g.dtype != value._data.dtype):
        value.grad = np.array(g, dtype=value._data.dtype)
    else:
        value.grad = g
        handed_out.add(id(g))


def _run(roots, root_grads, retain_graph, create_graph, inputs=None):
    """Propagate `root_grads` back from `roots`; return the gradients reaching `inputs`.

    Values are numbered as they are made (`Value._order`), so an op's inputs
    always have smaller numbers than its output. The highest-numbered value
    that has received gradient has therefore received all of it (every op
    that used it came later and has already sent its share), so its own vjps
    can run. A heap hands out that value each step: one pass, in order.
    Leaves have no vjps, so their gradients are only summed, off the heap.
    `.grad`s are written and the graph is freed only once the pass has
    succeeded, so a failing backward leaves everything as it was.
    """
    wanted = set(inputs) if inputs is not None else ()  # grads to return: keep them
    check_nan = anomaly.state.enabled
    keep = len(retained) > 0  # any non-leaf asked to keep its .grad?
    # value -> the sum of the gradients sent to it so far. Keyed by the values themselves:
    # a Value hashes by identity and no two live objects share that hash, so lookups never
    # fall back to == (elementwise for a Value)
    grads = {}
    waiting = []  # heap of (-number, value) for non-leaf values that have received gradient
    reached = []  # values whose gradient is final once the pass ends: leaves, and the ones kept
    pop, push = heapq.heappop, heapq.heappush
    # a plain backward sums with sum_to's numpy forward directly (the op's wrapper would too, one call later)
    sum_to = ops.sum_to if create_graph else ops.sum_to.primitive.forward
    for root, g in zip(roots, root_grads):
        if root in grads:
            grads[root] = grads[root] + g
        else:
            grads[root] = g
            if root._node is None:
                reached.append(root)
            else:
                push(waiting, (-root._order, root))
    used = []  # ops whose records are freed after the pass
    recording, _grad_state.enabled = _grad_state.enabled, create_graph  # vjps record only for create_graph
    try:
        while waiting:
            node = pop(waiting)[1]
            if keep and retained.get(id(node)) is node:
                reached.append(node)
                g = grads[node]
            elif node in wanted:
                g = grads[node]
            else:
                g = grads.pop(node)
            prim, args, kwargs, saved = node._node
            if args is None:
                raise _freed_error(node)
            if edits.last > node._order:  # some .data changed after this op ran: was it one of its?
                _check_unchanged(node, args)
            used.append(node)
            if create_graph:  # the vjps get the Values themselves, so their work is recorded
                ans, saved = node, args
            else:
                ans = node._data
            vjps = prim.vjps
            for index, parent in enumerate(args):
                if not isinstance(parent, Value) or not parent.requires_grad:
                    continue
                vjp = vjps[index]
                if vjp is unchanged:
                    pg = g
                else:  # (a call with **{} costs a little more, and most ops take no options)
                    pg = vjp(g, ans, *saved, **kwargs) if kwargs else vjp(g, ans, *saved)
                if pg is None:
                    continue
                if check_nan:
                    anomaly.check_backward(prim.name, index, pg, node._site)
                shape = parent._data.shape
                if pg.shape != shape:
                    pg = sum_to(pg, shape=shape)
                old = grads.get(parent)
                if old is None:
                    grads[parent] = pg
                    if parent._node is None:
                        reached.append(parent)
                    else:
                        push(waiting, (-parent._order, parent))
                else:
                    grads[parent] = old + pg  # a new array
    finally:
        _grad_state.enabled = recording
    if inputs is None:
        handed_out = set(map(id, root_grads))
        for value in reached:
            _store_grad(value, grads[value], handed_out)
    if not retain_graph:
        for node in used:
            node._node = node._node[0].freed
    return [grads.get(x) for x in inputs] if inputs is not None else None


def _as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _seed_grads(outputs, grads, create_graph):
    """The starting gradient of each output: ones for scalars, else what the user passed."""
    grads = _as_list(grads) if grads is not None else [None] * len(outputs)
    if len(grads) != len(outputs):
        raise ValueError(f"got {len(grads)} gradients for {len(outputs)} outputs")
    seeds = []
    for out, g in zip(outputs, grads):
        if g is None:
            data = out._data
            if data.size != 1:
                raise RuntimeError(
                    f"grad can be implicitly created only for scalar outputs, but the output has "
                    f"shape {data.shape}; pass grad= (an array of that shape), or reduce it first, "
                    f"e.g. out.sum().backward()")
            g = np.ones(data.shape, data.dtype) if data.ndim else np.array(1.0, data.dtype)
        else:
            if isinstance(g, Value):
                g = g if create_graph else g._data
            else:
                g = np.asarray(g, dtype=out.dtype)
            if np.shape(g) != out.shape:
                raise ValueError(f"backward: gradient shape {np.shape(g)} does not match output "
                                 f"shape {out.shape}")
        if create_graph and not isinstance(g, Value):
            g = Value(g, requires_grad=False)
        seeds.append(g)
    return seeds


def backward(output, grad=None, retain_graph=False, create_graph=False):
    """Accumulate d(output)/d(leaf) into `.grad` of every leaf that requires grad."""
    if not isinstance(output, Value):
        raise TypeError(f"backward: expected a Value, got {type(output).__name__}")
    if not output.requires_grad:
        raise RuntimeError(
            "backward: this value does not require grad and has no graph (it was made from "
            "constants only, or under no_grad())")
    seeds = _seed_grads([output], [grad] if grad is not None else None, create_graph)
    _run([output], seeds, retain_graph or create_graph, create_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=False):
    """d(outputs)/d(inputs) as a tuple of `Value`s, without touching any `.grad`.

    With `create_graph=True` the results are themselves differentiable, so
    second and higher derivatives come from calling `grad` again.
    """
    outputs, inputs = _as_list(outputs), _as_list(inputs)
    for x in outputs + inputs:
        if not isinstance(x, Value):
            raise TypeError(f"grad: outputs and inputs must be Values, got {type(x).__name__}")
    for i, x in enumerate(inputs):
        if not x.requires_grad:
            raise RuntimeError(f"grad: input {i} (shape {x.shape}) does not require grad")
    if not allow_unused and not any(o.requires_grad for o in outputs):
        raise RuntimeError(
            "grad: no output requires grad (they were made from constants only, or under "
            "no_grad()), so no input was used; pass allow_unused=True to get None for each")
    if retain_graph is None:
        retain_graph = create_graph
    seeds = _seed_grads(outputs, grad_outputs, create_graph)
    pairs = [(o, s) for o, s in zip(outputs, seeds) if o.requires_grad]
    found = _run([o for o, _ in pairs], [s for _, s in pairs], retain_graph, create_graph,
                 inputs) if pairs else [None] * len(inputs)
    result = []
    for i, (x, g) in enumerate(zip(inputs, found)):
        if g is None:
            if not allow_unused:
                raise RuntimeError(
                    f"grad: input {i} (shape {x.shape}) was not used to compute the outputs; "
                    f"pass allow_unused=True to get None for it")
            result.append(None)
        elif isinstance(g, Value):  # recorded (create_graph): cast, as a recorded op too
            result.append(g if g.dtype == x.dtype else ops.astype(g, dtype=x.dtype))
        else:
            result.append(Value(g, requires_grad=False, dtype=x.dtype))
    return tuple(result)

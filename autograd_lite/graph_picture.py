"""See a computation graph: draw the values and ops behind a `Value` with Graphviz.

    from autograd_lite import draw_graph, save_graph
    loss.backward(retain_graph=True)   # keep the graph so the picture shows the grads
    draw_graph(loss)                   # a graphviz.Digraph: shows inline in Jupyter
    save_graph(loss, "loss.svg")       # or .png, .pdf, .dot

The look follows micrograd's `draw_dot`: every value is a box (its name,
shape, dtype, data and grad), every op a small ellipse feeding the value it
produced, arrows run from inputs to outputs. Colours tell the kinds of value
apart: blue leaves that require grad (inputs, parameters), grey constants
(numbers, arrays, values with `requires_grad=False`), orange the output.

Gradients appear on leaves after `backward()`, and on intermediate values
you called `.retain_grad()` on, as in PyTorch. `backward()` frees the graph
unless asked to keep it, so draw before backward, or pass
`retain_graph=True` to see both the graph and its gradients.
"""
import collections
import html
import pathlib
import warnings

import numpy as np

from .value import Value

LEAF_COLOR = "#cfe2ff"      # leaves that require grad: inputs, parameters
CONSTANT_COLOR = "#e9ecef"  # numbers, arrays, values with requires_grad=False
OUTPUT_COLOR = "#ffd8a8"    # the value(s) the picture was drawn from
VALUE_COLOR = "#ffffff"     # everything an op computed
OP_COLOR = "#fff3bf"

# op names drawn as the Python operator that records them
_SYMBOLS = {"add": "+", "sub": "-", "mul": "*", "div": "/", "matmul": "@", "pow": "**",
            "pow_const": "**",
            "neg": "-x"}

_RELEASED = ("the graph was released by backward(): draw before backward(), "
             "or call backward(retain_graph=True)")


def _number(x):
    """A number in at most 4 significant digits, without scientific notation where it is not needed."""
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    if not np.isfinite(x) or x == 0 or 1e-3 <= abs(x) < 1e5:
        return np.format_float_positional(x, precision=4, trim="0") if np.isfinite(x) else str(x)
    return np.format_float_scientific(x, precision=3, trim="0")


def format_array(array, max_elements=6):
    """Tidy text for data or grad: the numbers of small arrays, min/mean/max of large ones."""
    array = np.asarray(array)
    if array.ndim == 0:
        return _number(array.item())
    if array.size <= max_elements:
        return np.array2string(array, precision=4, separator=", ")
    if array.dtype.kind == "b":
        return f"{int(array.sum())} of {array.size} True"
    return (f"min {_number(array.min().item())}, mean {_number(array.mean().item())}, "
            f"max {_number(array.max().item())}")


def _shape_text(array):
    array = np.asarray(array)
    shape = "scalar" if array.ndim == 0 else str(array.shape)
    return f"{shape} {array.dtype}"


def _lines(text):
    """Escaped text for an HTML label, one line of `text` per line, left-aligned."""
    return '<BR ALIGN="LEFT"/>'.join(html.escape(line) for line in text.split("\n")) + \
        '<BR ALIGN="LEFT"/>'


def _record(color, name, array, grad, show_data, show_grad, max_elements, bold_border=False):
    """An HTML-table label in micrograd's record style: | name | shape dtype | data | grad |."""
    cells = []
    if name:
        cells.append(f"<B>{html.escape(str(name))}</B>")
    cells.append(html.escape(_shape_text(array)))
    if show_data:
        cells.append(_lines("data " + format_array(array, max_elements)))
    if show_grad and grad is not None:
        cells.append(_lines("grad " + format_array(grad, max_elements)))
    row = "".join(f"<TD>{c}</TD>" for c in cells)
    border = 2 if bold_border else 1
    return (f'<<TABLE BORDER="{border}" CELLBORDER="1" CELLSPACING="0" CELLPADDING="4" '
            f'BGCOLOR="{color}"><TR>{row}</TR></TABLE>>')


def _op_label(prim, kwargs):
    """The op's symbol or name, with its short keyword arguments (`sum axis=0`, `**2`)."""
    kwargs = kwargs or {}  # None once backward has released the graph
    exponent = kwargs.get("exponent")
    if prim.name == "pow_const" and exponent is not None and np.ndim(exponent) == 0:
        return f"**{exponent:g}"
    label = _SYMBOLS.get(prim.name, prim.name)
    for key, val in kwargs.items():
        text = repr(val)
        if val is not None and val is not False and len(text) <= 18:
            label += f"\n{key}={text}"
    return label


def _inputs(value):
    """The recorded inputs of the op that made `value`: () for leaves, None once released."""
    return () if value._record is None else value._record.inputs


def _walk(roots):
    """Every value reachable from `roots`, breadth-first: nearest the roots first."""
    order, seen = [], {id(r) for r in roots}
    queue = collections.deque(roots)
    while queue:
        value = queue.popleft()
        order.append(value)
        for arg in _inputs(value) or ():
            if isinstance(arg, Value) and id(arg) not in seen:
                seen.add(id(arg))
                queue.append(arg)
    return order


def _cost(value):
    """How many picture nodes a value takes: its box, its op, constant inputs, a 'released' note."""
    if value._record is None:
        return 1
    args = _inputs(value)
    if args is None:
        return 3
    return 2 + sum(1 for a in args if not isinstance(a, Value))


def _keep(order, max_nodes):
    """The values to draw: all of them, or as many nearest the roots as fit in `max_nodes - 1`."""
    if max_nodes is None or sum(_cost(v) for v in order) <= max_nodes:
        return order
    kept, used = [], 0
    for value in order:
        used += _cost(value)
        if used > max_nodes - 1 and kept:  # one node is left for the summary
            break
        kept.append(value)
    return kept


def _summary_label(left_out):
    """'… N more nodes' with the op counts and leaves that were not drawn."""
    ops = collections.Counter(v.op for v in left_out if v._record is not None)
    nodes = sum(_cost(v) for v in left_out)
    leaves = sum(1 for v in left_out if v._record is None)
    common = ", ".join(f"{n} {_SYMBOLS.get(name, name)}" for name, n in ops.most_common(4))
    more = ", …" if len(ops) > 4 else ""
    lines = [f"… {nodes} more nodes ({sum(ops.values())} ops)"]
    if ops:
        lines.append(f"ops: {common}{more}")
    lines.append(f"leaves: {leaves}")
    return "\n".join(lines)


def _scope_clusters(kept):
    """The scopes to draw as boxes, outermost first: `(label, member ids)`, and each one's parent.

    A value made inside a scope (`autograd_lite.scope`, entered by every `nn` layer
    call) is drawn in the innermost one. A value made outside every scope, such as
    a layer's parameter, is drawn in the innermost scope that holds every op using
    it, unless it was passed into that scope as an input (then it is drawn outside).
    """
    home = {id(v): v.scope for v in kept if v.scope is not None}
    users = collections.defaultdict(list)  # id of a value made outside scopes -> its users' scopes
    for value in kept:
        for arg in _inputs(value) or ():
            if isinstance(arg, Value) and arg.scope is None:
                users[id(arg)].append(value.scope)
    for value in kept:
        if value.scope is None and users[id(value)]:
            scope = _innermost_common(users[id(value)])
            while scope is not None and any(v is value for v in scope.inputs):
                scope = scope.parent
            if scope is not None:
                home[id(value)] = scope
    members = collections.defaultdict(set)
    for value_id, scope in home.items():
        for outer in _chain(scope):
            members[outer].add(value_id)
    scopes = sorted(members, key=lambda s: len(_chain(s)))  # outermost first (stable)
    position = {scope: i for i, scope in enumerate(scopes)}
    parents = [position.get(scope.parent) for scope in scopes]
    return [(scope.name, members[scope]) for scope in scopes], parents


def _chain(scope):
    """`scope` and the scopes around it, innermost first."""
    chain = []
    while scope is not None:
        chain.append(scope)
        scope = scope.parent
    return chain


def _innermost_common(scopes):
    """The innermost scope around every one of `scopes` (None is outside all)."""
    common = _chain(scopes[0])
    for scope in scopes[1:]:
        around = {id(s) for s in _chain(scope)}
        common = [s for s in common if id(s) in around]
    return common[0] if common else None


def _color(value, is_root):
    if is_root:
        return OUTPUT_COLOR
    if value._record is not None:
        return VALUE_COLOR
    return LEAF_COLOR if value.requires_grad else CONSTANT_COLOR


def _value_picture(value, index, is_root, show_data, show_grad, max_elements):
    """One value's picture: its box, the op that made it, and the op's constant inputs.

    Returns `(nodes, edges)`: nodes as `(id, attributes)`, edges as `(tail, head,
    attributes)`. Ids come from `index` (id(value) -> number): value `v3` is made
    by op `op3`; inputs that are not drawn get no edge.
    """
    number = index[id(value)]
    nodes = [(f"v{number}", dict(label=_record(_color(value, is_root), value.name, value.data,
                                               value.grad, show_data, show_grad, max_elements,
                                               bold_border=is_root), shape="plain"))]
    if value._record is None:
        return nodes, []
    prim, args, kwargs = value._record.primitive, value._record.inputs, value._record.options
    op = f"op{number}"
    nodes.append((op, dict(label=_op_label(prim, kwargs), shape="ellipse", style="filled",
                           fillcolor=OP_COLOR, margin="0.05,0.02", height="0.3")))
    edges = [(op, f"v{number}", {})]
    if args is None:
        nodes.append((f"released{number}", dict(label="inputs released\nby backward()",
                                                shape="note", style="dashed",
                                                fontcolor="#666666")))
        edges.append((f"released{number}", op, dict(style="dashed")))
        return nodes, edges
    for position, (arg, seen) in enumerate(zip(args, value._record.saved)):
        if isinstance(arg, Value):
            if id(arg) in index:
                edges.append((f"v{index[id(arg)]}", op, {}))
        else:  # a constant, as the op saw it
            const = f"c{number}_{position}"
            nodes.append((const, dict(label=_record(CONSTANT_COLOR, None, seen, None, show_data,
                                                    False, max_elements), shape="plain")))
            edges.append((const, op, {}))
    return nodes, edges


def _graphviz():
    """The `graphviz` package, imported when a picture is drawn: the engine works without it."""
    try:
        import graphviz
    except ImportError:
        raise ImportError("drawing graphs needs the graphviz Python package: "
                          "python -m pip install graphviz (and Graphviz's dot program to "
                          "render: apt-get install graphviz or brew install graphviz)") from None
    return graphviz


def draw_graph(root, *, rankdir="LR", show_data=True, show_grad=True, max_nodes=200,
               group_modules=False, max_elements=6, legend=True):
    """The computation graph that produced `root` as a `graphviz.Digraph`.

    root: a `Value` (or a list of them), drawn orange.
    rankdir: "LR" (inputs left, output right, like micrograd) or "TB".
    show_data / show_grad: print each value's data / grad (grads appear after
        backward on leaves and on values that called `.retain_grad()`).
    max_elements: arrays up to this many elements are printed in full; larger
        ones as min/mean/max.
    max_nodes: past this many picture nodes, only the values nearest the root
        are drawn and one "… N more nodes" node stands for the rest (None: no limit).
    group_modules: draw each scope (`autograd_lite.scope`; every `nn` module call
        enters one, e.g. "0: Linear(2→4)") as a box around the values made in it.
    legend: add a colour key under the picture.
    """
    roots = [root] if isinstance(root, Value) else list(root) if isinstance(root, (list, tuple)) \
        else []
    if not roots or not all(isinstance(r, Value) for r in roots):
        raise TypeError(f"draw_graph: expected a Value or a list of Values, got {root!r:.80}")
    if rankdir not in ("LR", "RL", "TB", "BT"):
        raise ValueError(f"draw_graph: rankdir must be 'LR', 'RL', 'TB' or 'BT', got {rankdir!r}")
    if max_nodes is not None and max_nodes < 1:
        raise ValueError(f"draw_graph: max_nodes must be at least 1 (or None), got {max_nodes}")

    order = _walk(roots)
    kept = _keep(order, max_nodes)
    index = {id(v): i for i, v in enumerate(kept)}
    root_ids = {id(r) for r in roots}

    dot = _graphviz().Digraph("computation_graph")
    dot.attr(rankdir=rankdir, fontname="Helvetica", fontsize="11")
    dot.attr("node", fontname="Helvetica", fontsize="11")
    dot.attr("edge", color="#555555", arrowsize="0.7")

    # each value's picture nodes go into the module cluster that holds it (or the top level)
    homes = {}
    clusters, parents = _scope_clusters(kept) if group_modules else ([], [])
    for number, (_, members) in enumerate(clusters):
        for member in members:
            homes[member] = number  # later (smaller) calls overwrite: innermost wins
    bodies = [[] for _ in clusters]
    top = []
    for value in kept:
        nodes, edges = _value_picture(value, index, id(value) in root_ids,
                                      show_data, show_grad, max_elements)
        (bodies[homes[id(value)]] if id(value) in homes else top).extend(nodes)
        for tail, head, attrs in edges:
            dot.edge(tail, head, **attrs)

    for node_name, attrs in top:
        dot.node(node_name, **attrs)
    _add_clusters(dot, clusters, parents, bodies, None)

    notes = []
    left_out = order[len(kept):]
    if left_out:
        dot.node("more", label=_summary_label(left_out), shape="box", style="dashed,rounded",
                 fontcolor="#444444")
        cut = {id(v) for v in left_out}
        for value in kept:
            if any(isinstance(a, Value) and id(a) in cut for a in _inputs(value) or ()):
                dot.edge("more", f"op{index[id(value)]}", style="dashed")
        drawn = sum(_cost(v) for v in kept)
        notes.append(f"showing the {drawn} nodes nearest the output of "
                     f"{drawn + sum(_cost(v) for v in left_out)} (max_nodes={max_nodes})")
    if any(_inputs(v) is None for v in kept):
        notes.append(_RELEASED)
    if legend or notes:
        dot.attr(label=_legend(legend, notes), labelloc="b", labeljust="l")
    return dot


def _add_clusters(dot, clusters, parents, bodies, parent):
    """Emit the module calls whose parent is `parent` as (nested) clusters."""
    for index, (label, _) in enumerate(clusters):
        if parents[index] != parent:
            continue
        with dot.subgraph(name=f"cluster_{index}") as sub:
            sub.attr(label=label, style="rounded,dashed", color="#868e96", fontcolor="#495057",
                     labeljust="l")
            for node_name, attrs in bodies[index]:
                sub.node(node_name, **attrs)
            _add_clusters(sub, clusters, parents, bodies, index)


def _legend(legend, notes):
    """The colour key (and any notes on what is not drawn) as the graph's HTML label."""
    rows = []
    if legend:
        keys = [(LEAF_COLOR, "leaf (requires grad)"), (CONSTANT_COLOR, "constant"),
                (VALUE_COLOR, "computed value"), (OUTPUT_COLOR, "output"), (OP_COLOR, "op")]
        cells = "".join(f'<TD BGCOLOR="{c}" BORDER="1">{html.escape(t)}</TD>' for c, t in keys)
        rows.append(f"<TR>{cells}</TR>")
    for note in notes:
        rows.append(f'<TR><TD COLSPAN="5" ALIGN="LEFT" BORDER="0">{html.escape(note)}</TD></TR>')
    return (f'<<TABLE BORDER="0" CELLSPACING="2" CELLPADDING="3">{"".join(rows)}</TABLE>>')


_FORMATS = ("svg", "png", "pdf", "dot")


def save_graph(root, path, **kwargs):
    """Draw `root`'s graph (`draw_graph` keyword arguments) into `path`; returns the path written.

    The format comes from the extension: .svg, .png, .pdf, or .dot (Graphviz
    source, needs no Graphviz). If Graphviz's `dot` program is missing, the
    .dot source is written next to `path` instead, with a warning that says
    how to install Graphviz, and that .dot path is returned.
    """
    path = pathlib.Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in _FORMATS:
        raise ValueError(f"save_graph: cannot tell the format from {path.name!r}; "
                         f"use one of the extensions {', '.join('.' + f for f in _FORMATS)}")
    dot = draw_graph(root, **kwargs)
    if fmt == "dot":
        path.write_text(dot.source, encoding="utf-8")
        return path
    try:
        image = dot.pipe(format=fmt)
    except _graphviz().ExecutableNotFound:
        source = path.with_suffix(".dot")
        source.write_text(dot.source, encoding="utf-8")
        warnings.warn(
            f"save_graph: Graphviz's 'dot' program was not found, so {source} was written instead "
            f"of {path.name}; install Graphviz (apt-get install graphviz, brew install graphviz "
            f"or conda install graphviz) and run again, or: dot -T{fmt} {source} -o {path}",
            RuntimeWarning, stacklevel=2)
        return source
    path.write_bytes(image)
    return path

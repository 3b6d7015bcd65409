"""See a computation graph: draw the values and ops behind a `Value` with Graphviz.

    from autograd_lite import draw_graph, save_graph
    loss.backward()
    draw_graph(loss)                   # a graphviz.Digraph: shows inline in Jupyter
    save_graph(loss, "loss.svg")       # or .png, .pdf, .dot, .html (interactive: graph_page.py)
    draw_graph(loss, depth=1)          # an nn model's layers as one box each

The look follows micrograd's `draw_dot`: every value is a box (its name,
shape, dtype, data and grad), every op a small ellipse feeding the value it
produced, arrows run from inputs to outputs. Colours tell the kinds of value
apart: blue leaves that require grad (inputs, parameters), grey constants
(numbers, arrays, values with `requires_grad=False`), orange the output.

Once the output has been through `backward()`, every value shows its gradient:
leaves (and values that called `.retain_grad()`) their `.grad`, the others the
gradient backward sent them, worked out again by `backward_steps.replay` (the
engine keeps no intermediate gradients). `backward()` keeps a small graph's
structure for this; a big one it releases, and its picture says so (draw before
backward, or pass `retain_graph=True`).
"""
import collections
import html
import pathlib
import warnings

import numpy as np

from . import backward_steps
from .value import Value

LEAF_COLOR = "#cfe2ff"      # leaves that require grad: inputs, parameters
CONSTANT_COLOR = "#e9ecef"  # numbers, arrays, values with requires_grad=False
OUTPUT_COLOR = "#ffd8a8"    # the value(s) the picture was drawn from
VALUE_COLOR = "#ffffff"     # everything an op computed
OP_COLOR = "#fff3bf"
MODULE_COLOR = "#e6fcf5"    # a module call drawn as one box (depth=)

# op names drawn as the Python operator that records them
_SYMBOLS = {"add": "+", "sub": "-", "mul": "*", "div": "/", "matmul": "@", "pow": "**",
            "pow_const": "**",
            "neg": "-x"}

_RELEASED = ("the graph was released by backward() (it was too big to keep): draw before "
             "backward(), or call backward(retain_graph=True)")


def _number(x):
    """A number in at most 4 significant digits, without scientific notation where it is not needed."""
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    if x == 0:
        return "0.0"  # also for -0.0 (a gradient times a zero mask): the sign means nothing here
    if not np.isfinite(x) or 1e-3 <= abs(x) < 1e5:
        return np.format_float_positional(x, precision=4, trim="0") if np.isfinite(x) else str(x)
    return np.format_float_scientific(x, precision=3, trim="0")


def format_array(array, max_elements=6):
    """Tidy text for data or grad: the numbers of small arrays, min/mean/max of large ones."""
    array = np.asarray(array)
    if array.ndim == 0:
        return _number(array.item())
    if array.size <= max_elements:
        if array.dtype.kind == "f":
            array = array + 0.0  # -0.0 prints as 0.0
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


class _Style:
    """How values are printed: the draw_graph flags, and `one_line` (the page rewrites the
    grad line as the backward pass goes, so it must be a single line of text)."""

    def __init__(self, show_data, show_grad, max_elements, one_line=False):
        self.show_data, self.show_grad = show_data, show_grad
        self.max_elements, self.one_line = max_elements, one_line

    def text(self, array):
        text = format_array(array, self.max_elements)
        return " ".join(text.split()) if self.one_line else text


def _record(color, name, array, grad, style, bold_border=False, show_grad=True):
    """An HTML-table label in micrograd's record style: | name | shape dtype | data | grad |."""
    cells = []
    if name:
        cells.append(f"<B>{html.escape(str(name))}</B>")
    cells.append(html.escape(_shape_text(array)))
    if style.show_data:
        cells.append(_lines("data " + style.text(array)))
    if style.show_grad and show_grad and grad is not None:
        cells.append(_lines("grad " + style.text(grad)))
    row = "".join(f"<TD>{c}</TD>" for c in cells)
    border = 2 if bold_border else 1
    return (f'<<TABLE BORDER="{border}" CELLBORDER="1" CELLSPACING="0" CELLPADDING="4" '
            f'BGCOLOR="{color}"><TR>{row}</TR></TABLE>>')


def _op_label(prim, kwargs):
    """The op's symbol or name, with its short keyword arguments (`sum axis=0`, `**2`)."""
    kwargs = kwargs or {}
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


def _keep(order, max_nodes, groups):
    """The values to draw: all of them, or as many nearest the roots as fit in `max_nodes - 1`.

    A value inside a module drawn as one box (`groups`: id -> that module's scope)
    costs nothing but the box, once.
    """
    seen_groups = set()

    def cost(value):
        group = groups.get(id(value))
        if group is None:
            return _cost(value)
        first = id(group) not in seen_groups
        seen_groups.add(id(group))
        return int(first)

    costs = [cost(v) for v in order]
    if max_nodes is None or sum(costs) <= max_nodes:
        return order, sum(costs), sum(costs)
    kept, used = [], 0
    for value, c in zip(order, costs):
        if used + c > max_nodes - 1 and kept:  # one node is left for the summary
            break
        used += c
        kept.append(value)
    return kept, used, sum(costs)


def _summary_label(left_out, nodes):
    """'… N more nodes' with the op counts and leaves that were not drawn."""
    ops = collections.Counter(v.op for v in left_out if v._record is not None)
    leaves = sum(1 for v in left_out if v._record is None)
    common = ", ".join(f"{n} {_SYMBOLS.get(name, name)}" for name, n in ops.most_common(4))
    more = ", …" if len(ops) > 4 else ""
    lines = [f"… {nodes} more nodes ({sum(ops.values())} ops)"]
    if ops:
        lines.append(f"ops: {common}{more}")
    lines.append(f"leaves: {leaves}")
    return "\n".join(lines)


# --- module boxes: scopes ------------------------------------------------------------

def _homes(values):
    """id(value) -> the innermost scope to draw it in (values outside every scope are absent).

    A value made inside a scope (`autograd_lite.scope`, entered by every `nn` layer
    call) is drawn in the innermost one. A value made outside every scope, such as
    a layer's parameter, is drawn in the innermost scope that holds every op using
    it, unless it was passed into that scope as an input (then it is drawn outside).
    """
    home = {id(v): v.scope for v in values if v.scope is not None}
    users = collections.defaultdict(list)  # id of a value made outside scopes -> its users' scopes
    for value in values:
        for arg in _inputs(value) or ():
            if isinstance(arg, Value) and arg.scope is None:
                users[id(arg)].append(value.scope)
    for value in values:
        if value.scope is None and users[id(value)]:
            scope = _innermost_common(users[id(value)])
            while scope is not None and any(v is value for v in scope.inputs):
                scope = scope.parent
            if scope is not None:
                home[id(value)] = scope
    return home


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


def _collapsed(homes, depth):
    """id(value) -> the module call nested `depth` deep around it, drawn as one box
    (`depth=0`: the outermost call); values not that deep inside any are absent."""
    if depth is None:
        return {}
    groups = {}
    for value_id, scope in homes.items():
        chain = _chain(scope)
        if len(chain) > depth:
            groups[value_id] = chain[-1 - depth]
    return groups


def _module_rows(scope, members, drawn, grads, roots, style):
    """A collapsed module call in lines of text: its label, input and output shapes, each
    parameter's name, shape and gradient summary, and the gradient at its output(s)."""
    inside = {id(v) for v in members}
    inputs, outputs = {}, {}
    for value in drawn:
        for arg in _inputs(value) or ():
            if isinstance(arg, Value) and id(arg) in inside and id(value) not in inside:
                outputs[id(arg)] = arg
    for value in members:
        for arg in _inputs(value) or ():
            if isinstance(arg, Value) and id(arg) not in inside:
                inputs[id(arg)] = arg
    outputs.update({id(r): r for r in roots if id(r) in inside})
    shapes = lambda values: ", ".join(str(v.shape) for v in values) or "–"
    rows = [scope.name, f"in {shapes(inputs.values())} → out {shapes(outputs.values())}"]
    params = sorted((v for v in members if v._record is None and v.requires_grad),
                    key=lambda v: v._number)  # in the order they were made: 0.weight, 0.bias
    for param in params:
        text = f"{param.name or 'parameter'} {param.shape}"
        if style.show_grad and id(param) in grads:
            text += "  grad " + style.text(grads[id(param)])
        rows.append(text)
    for out in outputs.values():
        if style.show_grad and id(out) in grads:
            rows.append("out grad " + style.text(grads[id(out)]))
    return rows


def _module_label(rows):
    """The HTML label of a collapsed module call's box: its rows, the first in bold."""
    cells = [f"<B>{html.escape(rows[0])}</B>"] + [html.escape(row) for row in rows[1:]]
    rows = "".join(f'<TR><TD ALIGN="LEFT">{cell}</TD></TR>' for cell in cells)
    return (f'<<TABLE BORDER="1" CELLBORDER="0" CELLSPACING="0" CELLPADDING="3" '
            f'BGCOLOR="{MODULE_COLOR}" STYLE="ROUNDED">{rows}</TABLE>>')


# --- the picture --------------------------------------------------------------------

def _color(value, is_root):
    if is_root:
        return OUTPUT_COLOR
    if value._record is not None:
        return VALUE_COLOR
    return LEAF_COLOR if value.requires_grad else CONSTANT_COLOR


def _value_picture(value, index, is_root, grads, style):
    """One value's picture: its box, the op that made it, and the op's constant inputs.

    Returns `(nodes, edges)`: nodes as `(id, attributes)`, edges as `(tail, head,
    attributes)`. Ids come from `index` (id(value) -> number): value `v3` is made
    by op `op3`; inputs that are not drawn get no edge.
    """
    number = index[id(value)]
    label = _record(_color(value, is_root), value.name, value.data, grads.get(id(value)), style,
                    bold_border=is_root)
    nodes = [(f"v{number}", dict(label=label, shape="plain"))]
    if value._record is None:
        return nodes, []
    prim, args, kwargs = value._record.primitive, value._record.inputs, value._record.options
    op = f"op{number}"
    nodes.append((op, dict(label=_op_label(prim, kwargs), shape="ellipse", style="filled",
                           fillcolor=OP_COLOR, margin="0.05,0.02", height="0.3")))
    spine = dict(weight="4")  # computed values in a straight line; inputs join from the side
    edges = [(op, f"v{number}", spine)]
    if args is None:
        nodes.append((f"released{number}", dict(label="inputs released\nby backward()",
                                                shape="note", style="dashed",
                                                fontcolor="#666666")))
        edges.append((f"released{number}", op, dict(style="dashed")))
        return nodes, edges
    saved = value._record.saved or args  # (the arrays the op saw, kept until backward)
    for position, (arg, seen) in enumerate(zip(args, saved)):
        if isinstance(arg, Value):
            if id(arg) in index:
                edges.append((f"v{index[id(arg)]}", op, spine if arg._record is not None else {}))
        else:  # a constant, as the op saw it
            const = f"c{number}_{position}"
            nodes.append((const, dict(label=_record(CONSTANT_COLOR, None, seen, None, style,
                                                    show_grad=False), shape="plain")))
            edges.append((const, op, {}))
    return nodes, edges


def _gradients(roots, values, style, page=False):
    """id(value) -> the gradient to print, the replayed pass (or None), and a note when
    gradients cannot be shown.

    A picture shows no gradients before the output has been through backward (no
    leaf has a `.grad` and the graph still holds its saved arrays). After it: the
    replayed pass's gradient for every value, and `.grad` where a value has one
    (leaves and values that called `.retain_grad()`: what the user sees). The
    page (`page=True`) always replays the pass and shows its gradients, since it
    steps through it.
    """
    if not style.show_grad:
        return {}, None, None
    own = {} if page else {id(v): v.grad for v in values if v.grad is not None}
    after_backward = page or own or any(r._record is not None and r._record.saved is None
                                        for r in roots)
    if not after_backward or any(_inputs(v) is None for v in values):
        return own, None, None  # (a released graph has its own note)
    try:
        replay = backward_steps.replay(roots)
    except backward_steps.NotReplayable as why:
        return own, None, f"gradients of computed values are not shown: {why}"
    return {**replay.grads, **own}, replay, None


class Picture:
    """A drawn graph before it becomes Graphviz source: what `draw_graph` and the page share.

    `nodes`: `(id, attributes, scope or None)`, the scope being the cluster to
    draw the node in; `edges`: `(tail, head, attributes)`; `scopes`: the module
    calls drawn as clusters, outermost first; `groups`: id(value) -> the module
    call drawn as one box in its place; `values`: node id -> `Value` drawn there;
    `grads`: id(value) -> the gradient printed; `replay`: the replayed backward pass
    (or None); `notes`: lines under the legend. `page=True` draws for the page.
    """

    def __init__(self, roots, *, show_data=True, show_grad=True, max_nodes=200,
                 group_modules=False, depth=None, max_elements=6, page=False):
        self.roots = roots
        self.style = style = _Style(show_data, show_grad, max_elements, one_line=page)
        order = _walk(roots)
        homes = _homes(order) if group_modules or depth is not None else {}
        self.groups = _collapsed(homes, depth)
        kept, drawn, total = _keep(order, max_nodes, self.groups)
        self.grads, self.replay, note = _gradients(roots, kept, style, page)
        self.homes, self.kept = homes, kept
        self.notes = [note] if note else []
        self.index = index = {id(v): i for i, v in enumerate(kept)}
        root_ids = {id(r) for r in roots}
        self.values, self.nodes, self.edges, self.shown_as = {}, [], [], {}
        members, boxes = collections.defaultdict(list), {}  # id(scope) -> values inside, box name
        for value in kept:
            nodes, edges = _value_picture(value, index, id(value) in root_ids, self.grads, style)
            self.values[f"v{index[id(value)]}"] = value
            self.edges += edges
            group = self.groups.get(id(value))
            if group is None:
                self.nodes += [(name, attrs, homes.get(id(value))) for name, attrs in nodes]
                continue
            if id(group) not in boxes:
                boxes[id(group)] = (f"m{len(boxes)}", group)
                self.nodes.append((boxes[id(group)][0], None, group.parent))
            members[id(group)].append(value)
            self.shown_as.update((name, boxes[id(group)][0]) for name, _ in nodes)
        if boxes:  # each collapsed module call: one box, and the edges to and from it
            labels = {name: _module_label(_module_rows(scope, members[key], kept, self.grads,
                                                       roots, style))
                      for key, (name, scope) in boxes.items()}
            self.nodes = [(name, attrs or dict(label=labels[name], shape="plain"), home)
                          for name, attrs, home in self.nodes]
            self.edges = _dedupe((self._shown(t), self._shown(h), a) for t, h, a in self.edges)
        drawn_scopes = {id(s): s for _, _, home in self.nodes for s in _chain(home)}
        self.scopes = sorted(drawn_scopes.values(), key=lambda s: len(_chain(s)))

        left_out = order[len(kept):]
        if left_out:
            self.nodes.append(("more", dict(label=_summary_label(left_out, total - drawn),
                                            shape="box", style="dashed,rounded",
                                            fontcolor="#444444"), None))
            cut = {id(v) for v in left_out}
            for value in kept:
                if any(isinstance(a, Value) and id(a) in cut for a in _inputs(value) or ()):
                    self.edges.append(("more", self._shown(f"op{index[id(value)]}"),
                                       dict(style="dashed")))
            self.edges = _dedupe(self.edges)
            self.notes.append(f"showing the {drawn} nodes nearest the output of {total} "
                              f"(max_nodes={max_nodes})")
        if any(_inputs(v) is None for v in kept):
            self.notes.append(_RELEASED)

    def _shown(self, node):
        """The node that stands for `node` in the picture: itself, or its module's box."""
        return self.shown_as.get(node, node)

    def rankdir(self):
        """Top to bottom when the graph is long and narrow, else left to right as micrograd draws.

        Long and narrow: more than three times as many ranks as the widest rank has
        nodes, ranking each node by its longest path to an output (so an input sits
        beside the op that uses it, as Graphviz places it).
        """
        rank = {name: 0 for name, _, _ in self.nodes}
        tails = collections.defaultdict(list)
        for tail, head, _ in self.edges:
            tails[head].append(tail)
        for name in _topological(rank, tails):
            for tail in tails[name]:
                rank[tail] = max(rank[tail], rank[name] + 1)
        ranks = max(rank.values(), default=0) + 1
        widest = max(collections.Counter(rank.values()).values(), default=1)
        return "TB" if ranks > 3 * widest else "LR"

    def digraph(self, rankdir=None, legend=True, ids=False):
        """The `graphviz.Digraph`; with `ids`, every node, edge and cluster carries an SVG id
        (the page finds them by it: cluster_<k> is `scopes[k]`)."""
        dot = _graphviz().Digraph("computation_graph")
        dot.attr(rankdir=rankdir or self.rankdir(), fontname="Helvetica", fontsize="11")
        dot.attr("node", fontname="Helvetica", fontsize="11")
        dot.attr("edge", color="#555555", arrowsize="0.7")
        for tail, head, attrs in self.edges:
            dot.edge(tail, head, **(dict(attrs, id=f"e:{tail}:{head}") if ids else attrs))
        numbers = {id(s): i for i, s in enumerate(self.scopes)}
        bodies = collections.defaultdict(list)
        for name, attrs, home in self.nodes:
            bodies[id(home) if home is not None else None].append(
                (name, dict(attrs, id=name) if ids else attrs))
        children = collections.defaultdict(list)
        for scope in self.scopes:
            children[id(scope.parent) if scope.parent is not None else None].append(scope)
        _add_clusters(dot, None, bodies, children, numbers, ids)
        notes = self.notes
        if legend or notes:
            dot.attr(label=_legend(legend, notes, bool(self.shown_as)), labelloc="b",
                     labeljust="l")
        return dot


def _dedupe(edges):
    """Edges without loops (inside one box) and without repeats, in their first order."""
    kept, seen = [], set()
    for tail, head, attrs in edges:
        if tail != head and (tail, head) not in seen:
            seen.add((tail, head))
            kept.append((tail, head, attrs))
    return kept


def _topological(names, after):
    """`names` in an order where each comes before every name in `after[name]` (a DAG)."""
    waiting = collections.Counter(later for laters in after.values() for later in laters)
    ready = [name for name in names if waiting[name] == 0]
    order = []
    while ready:
        name = ready.pop()
        order.append(name)
        for later in after[name]:
            waiting[later] -= 1
            if waiting[later] == 0:
                ready.append(later)
    return order


def _add_clusters(dot, parent, bodies, children, numbers, ids):
    """Emit the nodes drawn in scope `parent` (None: the top level), then its child scopes as
    (nested) clusters."""
    for name, attrs in bodies[id(parent) if parent is not None else None]:
        dot.node(name, **attrs)
    for scope in children[id(parent) if parent is not None else None]:
        number = numbers[id(scope)]
        with dot.subgraph(name=f"cluster_{number}") as sub:
            sub.attr(label=scope.name, style="rounded,dashed", color="#868e96",
                     fontcolor="#495057", labeljust="l")
            if ids:
                sub.attr(id=f"cluster_{number}")
            _add_clusters(sub, scope, bodies, children, numbers, ids)


def _legend(legend, notes, modules=False):
    """The colour key (and any notes on what is not drawn) as the graph's HTML label."""
    rows = []
    keys = [(LEAF_COLOR, "leaf (requires grad)"), (CONSTANT_COLOR, "constant"),
            (VALUE_COLOR, "computed value"), (OUTPUT_COLOR, "output"), (OP_COLOR, "op")]
    if modules:
        keys.append((MODULE_COLOR, "module call"))
    if legend:
        cells = "".join(f'<TD BGCOLOR="{c}" BORDER="1">{html.escape(t)}</TD>' for c, t in keys)
        rows.append(f"<TR>{cells}</TR>")
    for note in notes:
        rows.append(f'<TR><TD COLSPAN="{len(keys)}" ALIGN="LEFT" BORDER="0">'
                    f'{html.escape(note)}</TD></TR>')
    return (f'<<TABLE BORDER="0" CELLSPACING="2" CELLPADDING="3">{"".join(rows)}</TABLE>>')


def _graphviz():
    """The `graphviz` package, imported when a picture is drawn: the engine works without it."""
    try:
        import graphviz
    except ImportError:
        raise ImportError("drawing graphs needs the graphviz Python package: "
                          "python -m pip install graphviz (and Graphviz's dot program to "
                          "render: apt-get install graphviz or brew install graphviz)") from None
    return graphviz


def roots_of(root, caller="draw_graph"):
    """`root` as a list of `Value`s, with a clear error for anything else."""
    roots = [root] if isinstance(root, Value) else list(root) if isinstance(root, (list, tuple)) \
        else []
    if not roots or not all(isinstance(r, Value) for r in roots):
        raise TypeError(f"{caller}: expected a Value or a list of Values, got {root!r:.80}")
    return roots


def check_options(rankdir=None, max_nodes=200, depth=None, caller="draw_graph"):
    """Refuse bad drawing options with a message naming them."""
    if rankdir is not None and rankdir not in ("LR", "RL", "TB", "BT"):
        raise ValueError(f"{caller}: rankdir must be 'LR', 'RL', 'TB' or 'BT' (or None to "
                         f"choose), got {rankdir!r}")
    if max_nodes is not None and (not isinstance(max_nodes, int) or max_nodes < 1):
        raise ValueError(f"{caller}: max_nodes must be at least 1 (or None), got {max_nodes!r}")
    if depth is not None and (not isinstance(depth, int) or isinstance(depth, bool) or depth < 0):
        raise ValueError(f"{caller}: depth must be a whole number >= 0 (or None), got {depth!r}")


def draw_graph(root, *, rankdir=None, show_data=True, show_grad=True, max_nodes=200,
               group_modules=False, depth=None, max_elements=6, legend=True):
    """The computation graph that produced `root` as a `graphviz.Digraph`.

    root: a `Value` (or a list of them), drawn orange.
    rankdir: "LR" (inputs left, output right, like micrograd), "TB", "RL", "BT";
        None chooses: top to bottom when the graph is long and narrow, else "LR".
    show_data / show_grad: print each value's data / grad. After backward every
        value has a grad: leaves and retain_grad() values their `.grad`, the others
        the gradient backward sent them (worked out again for the picture).
    max_elements: arrays up to this many elements are printed in full; larger
        ones as min/mean/max.
    max_nodes: past this many picture nodes, only the values nearest the root
        are drawn and one "… N more nodes" node stands for the rest (None: no limit).
    group_modules: draw each scope (`autograd_lite.scope`; every `nn` module call
        enters one, e.g. "0: Linear(2→4)") as a box around the values made in it.
    depth: draw a module call nested deeper than `depth` as one box with its
        label, input and output shapes, its parameters (name, shape, gradient) and
        its output's gradient (torchview's name: 0 draws the whole model as one
        box, 1 its layers); the calls around it are drawn as `group_modules` does.
    legend: add a colour key under the picture.
    """
    roots = roots_of(root)
    check_options(rankdir, max_nodes, depth)
    picture = Picture(roots, show_data=show_data, show_grad=show_grad, max_nodes=max_nodes,
                      group_modules=group_modules, depth=depth, max_elements=max_elements)
    return picture.digraph(rankdir, legend)


_FORMATS = ("svg", "png", "pdf", "dot", "html")


def save_graph(root, path, **kwargs):
    """Draw `root`'s graph (`draw_graph` keyword arguments) into `path`; returns the path written.

    The format comes from the extension: .svg, .png, .pdf, .dot (Graphviz
    source, needs no Graphviz), or .html: one self-contained page that steps
    through the backward pass (`graph_page` keyword arguments: depth, max_nodes,
    max_elements, rankdir, show_data, title). If Graphviz's `dot` program is
    missing, the .dot source is written next to `path` instead, with a warning
    that says how to install Graphviz, and that .dot path is returned.
    """
    path = pathlib.Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in _FORMATS:
        raise ValueError(f"save_graph: cannot tell the format from {path.name!r}; "
                         f"use one of the extensions {', '.join('.' + f for f in _FORMATS)}")
    if fmt == "html":
        from .graph_page import graph_page  # (that module imports this one)
        return graph_page(root, **kwargs).save(path, _stacklevel=3)
    dot = draw_graph(root, **kwargs)
    if fmt == "dot":
        path.write_text(dot.source, encoding="utf-8")
        return path
    return write(path, lambda: dot.pipe(format=fmt), dot.source, stacklevel=2)


def write(path, render, source, stacklevel=2):
    """Write `render()` (which runs Graphviz's `dot`: bytes, or the page's text) to `path`.

    Without `dot`, write the Graphviz `source` beside `path` as .dot instead and
    warn how to install it, naming the line `stacklevel` frames above this function.
    """
    try:
        document = render()
    except _graphviz().ExecutableNotFound:
        written = path.with_suffix(".dot")
        written.write_text(source, encoding="utf-8")
        warnings.warn(
            f"save_graph: Graphviz's 'dot' program was not found, so {written} was written instead "
            f"of {path.name}; install Graphviz (apt-get install graphviz, brew install graphviz "
            f"or conda install graphviz) and run again"
            + ("" if path.suffix.lower() == ".html" else
               f", or: dot -T{path.suffix.lower().lstrip('.')} {written} -o {path}"),
            RuntimeWarning, stacklevel=stacklevel + 1)
        return written
    if isinstance(document, str):
        path.write_text(document, encoding="utf-8")
    else:
        path.write_bytes(document)
    return path

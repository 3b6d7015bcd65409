"""An interactive page for a computation graph that steps through the backward pass.

    save_graph(loss, "graph.html")     # one self-contained file: opens offline
    show(loss)                         # the same page inline in a Jupyter notebook

The page is one HTML file with everything inlined: the picture (rendered to SVG
by Graphviz's `dot` when the page is made, with every module call boxed), the
numbers (JSON) and a small script (`graph_page.js`, `graph_page.css` beside this
file). In a browser you can

- pan (drag) and zoom (wheel, or the +/- buttons);
- click a module box to collapse it to one box (label, parameters, input and
  output shapes, gradients) or expand it again;
- hover a value to see its shape, dtype, data and grad statistics, and small
  arrays in full;
- step through the backward pass: Step or → runs the next op in the order
  backward runs them, ← goes back, Home resets, End runs all. Each step
  highlights the op, the gradient that arrived at its output and the gradients
  it sends to each input, with the local rule in words for scalars (for `*`:
  "grad of a = grad of out × b"); a value used twice visibly adds up its parts.

The steps come from `backward_steps.replay`: the page needs no `backward()` call
first, and does not change any `.grad`.
"""
import html
import importlib.resources
import json
import pathlib

import numpy as np

from . import graph_picture
from .graph_picture import Picture, check_options, roots_of
from .value import Value

FULL_ELEMENTS = 64  # arrays up to this size are listed in full when hovered

# The local rule of each op for scalars: the gradient sent to input i, written with
# {g} (the gradient of the output), {a} {b} (the inputs), {out} (the output), {n} (an exponent).
RULES = {
    "add": ("{g}", "{g}"),
    "sub": ("{g}", "−{g}"),
    "mul": ("{g} × {b}", "{g} × {a}"),
    "div": ("{g} ÷ {b}", "−{g} × {a} ÷ {b}²"),
    "neg": ("−{g}",),
    "pow_const": ("{g} × {n} × {a}^({n} − 1)",),
    "pow": ("{g} × {b} × {a}^({b} − 1)", "{g} × {out} × ln {a}"),
    "exp": ("{g} × {out}",),
    "log": ("{g} ÷ {a}",),
    "sqrt": ("{g} ÷ (2 × {out})",),
    "tanh": ("{g} × (1 − {out}²)",),
    "sigmoid": ("{g} × {out} × (1 − {out})",),
    "relu": ("{g} × (1 if {a} > 0 else 0)",),
    "sin": ("{g} × cos {a}",),
    "cos": ("−{g} × sin {a}",),
    "abs": ("{g} × sign {a}",),
    "sum": ("{g}",),
    "mean": ("{g}",),
}


class GraphPage:
    """The page: `html()` renders it (runs `dot`), `save(path)` writes it, and in a notebook
    it shows itself inline (an iframe, so its script and styles stay its own)."""

    def __init__(self, picture, data, rankdir, title):
        self._picture, self._data, self._title = picture, data, title
        self._dot = picture.digraph(rankdir, legend=True, ids=True)
        self._html = None

    @property
    def source(self):
        """The Graphviz source of the picture on the page."""
        return self._dot.source

    def html(self):
        """The whole page as one string (renders the picture with `dot` the first time)."""
        if self._html is None:
            svg = self._dot.pipe(format="svg").decode("utf-8")
            svg = svg[svg.index("<svg"):]  # without the XML prolog and doctype
            data = json.dumps(self._data).replace("</", "<\\/")
            assets = importlib.resources.files(__package__)
            self._html = _TEMPLATE.format(
                title=html.escape(self._title), css=(assets / "graph_page.css").read_text("utf-8"),
                svg=svg, data=data, js=(assets / "graph_page.js").read_text("utf-8"))
        return self._html

    def save(self, path, _stacklevel=2):
        """Write the page to `path` (an .html file) and return the path (without Graphviz's
        `dot`: its .dot source instead, with a warning, as `save_graph`)."""
        return graph_picture.write(pathlib.Path(path), self.html, self.source, _stacklevel)

    def _repr_html_(self):
        return (f'<iframe srcdoc="{html.escape(self.html())}" style="width: 100%; height: 640px; '
                f'border: 1px solid #dee2e6" title="{html.escape(self._title)}"></iframe>')


def graph_page(root, *, depth=None, max_nodes=200, max_elements=6, rankdir=None, show_data=True,
               title=None):
    """The interactive page for `root`'s graph (a `GraphPage`).

    depth: module calls nested deeper than this start collapsed (click to expand);
    rankdir, max_nodes, max_elements, show_data: as for `draw_graph`; title: the
    page's title (default: "Computation graph of <root's name>").
    """
    roots = roots_of(root, "graph_page")
    check_options(rankdir, max_nodes, depth, "graph_page")
    picture = Picture(roots, show_data=show_data, max_nodes=max_nodes, group_modules=True,
                      max_elements=max_elements, page=True)
    name = ", ".join(r.name for r in roots if r.name)
    title = title or f"Computation graph{' of ' + name if name else ''}"
    return GraphPage(picture, _page_data(picture, depth), rankdir, title)


def show(root, **options):
    """Show `root`'s interactive page inline in a Jupyter notebook (`graph_page` options).

    Returns the `GraphPage`, which a notebook displays; `draw_graph` stays the static picture.
    """
    return graph_page(root, **options)


# --- what the page's script needs ------------------------------------------------

def _page_data(picture, depth):
    """The page's JSON: values (for hovering), steps, the grad text after each step, modules."""
    node_of = {id(v): name for name, v in picture.values.items()}
    roots = {id(r) for r in picture.roots}
    values = {name: _value_info(v, picture.grads.get(id(v)), id(v) in roots)
              for name, v in picture.values.items()}
    steps, grad_texts = _steps(picture, node_of)
    return {"values": values, "steps": steps, "gradTexts": grad_texts,
            "modules": _modules(picture, depth), "notes": picture.notes,
            "nodeCount": len(picture.nodes)}


def _stats(array):
    """What hovering shows of data or grad: its picture text, statistics of an array, and
    every number of one up to FULL_ELEMENTS long."""
    array = np.asarray(array)
    info = {"text": graph_picture.format_array(array)}
    if array.size > 1 and array.dtype.kind in "fiu":
        data = array.astype(np.float64)
        number = graph_picture._number
        info["stats"] = (f"min {number(data.min())}  mean {number(data.mean())}  "
                         f"max {number(data.max())}  std {number(data.std())}  "
                         f"norm {number(np.linalg.norm(data))}")
    if 6 < array.size <= FULL_ELEMENTS:
        info["full"] = np.array2string(array + 0.0 if array.dtype.kind == "f" else array,
                                       precision=4, separator=", ", threshold=FULL_ELEMENTS)
    return info


def _value_info(value, grad, is_root):
    kind = ("output" if is_root else "computed by " + value.op if value._record is not None
            else "leaf (requires grad)" if value.requires_grad else "constant")
    info = {"name": value.name or "", "kind": kind, "shape": list(value.shape),
            "dtype": str(value.dtype), "data": _stats(value.data)}
    if grad is not None:
        info["grad"] = _stats(grad)
    return info


def _label(value, position=None):
    """How the step panel names a value: its name, else a letter for the op's inputs."""
    if isinstance(value, Value) and value.name:
        return value.name
    return "ab"[position] if position is not None and position < 2 else "out"


def _steps(picture, node_of):
    """Each step of the replayed pass for the page, and each value's grad text as it grows."""
    replay = picture.replay
    if replay is None:
        return [], {}
    style = picture.style
    grad_texts = {node_of[id(r)]: [[0, "grad " + style.text(replay.grads[id(r)])]]
                  for r in picture.roots if id(r) in node_of}
    so_far, parts = {}, {}  # id(value) -> its gradient so far, and the parts it was summed from
    for root in picture.roots:
        so_far[id(root)] = replay.grads[id(root)]
    steps = []
    for number, step in enumerate(replay.steps, start=1):
        node = node_of.get(id(step.node))
        if node is None:  # (not drawn: past max_nodes)
            continue
        op_name = graph_picture._SYMBOLS.get(step.node.op, step.node.op)
        entry = {"op": "op" + node[1:], "out": node,
                 "opName": op_name if op_name == step.node.op else f"{op_name} ({step.node.op})",
                 "grad": style.text(step.grad), "sent": []}
        for index, parent, grad in step.sent:
            target = node_of.get(id(parent))
            if grad is None or target is None:
                continue
            before = so_far.get(id(parent))
            so_far[id(parent)] = grad if before is None else before + grad
            parts.setdefault(id(parent), []).append(grad)
            total = style.text(so_far[id(parent)])
            sum_text = (" + ".join(style.text(p) for p in parts[id(parent)]) + " = " + total
                        if len(parts[id(parent)]) > 1 else total)
            entry["sent"].append({
                "to": target, "index": index,
                "text": style.text(grad), "total": sum_text, "parts": len(parts[id(parent)]),
                "rule": _rule(step, index, parent, grad)})
            grad_texts.setdefault(target, []).append([number, "grad " + total])
        entry["number"] = number
        steps.append(entry)
    return steps, grad_texts


def _rule(step, index, parent, grad):
    """The local rule in words, with its numbers, for a step on scalars (else its shapes)."""
    node, record = step.node, step.node._record
    inputs = record.inputs
    scalars = node.size == 1 and all(np.size(x.data if isinstance(x, Value) else x) == 1
                                     for x in inputs)
    target, result = _label(parent, index), graph_picture.format_array(grad)
    rules = RULES.get(node.op)
    exponent = record.options.get("exponent")
    words = dict(g=f"grad of {_label(node)}", out=_label(node), a=_label(inputs[0], 0),
                 b=_label(inputs[1], 1) if len(inputs) > 1 else "b",
                 n=f"{exponent:g}" if np.ndim(exponent) == 0 and exponent is not None else "n")
    if rules is None or index >= len(rules) or (not scalars and node.op in ("sum", "mean")):
        return (f"grad of {target} {tuple(parent.shape)} = the vjp of {node.op} applied to "
                f"{words['g']} {tuple(node.shape)} = {result}")
    rule = rules[index]
    if not scalars:  # the same rule, element by element (summed back where it broadcast)
        summed = f", summed to {tuple(parent.shape)}" if parent.shape != node.shape else ""
        return (f"grad of {target} = {rule.format(**words)}, element by element{summed} = "
                f"{result}")
    number = lambda x: graph_picture.format_array(np.asarray(x.data if isinstance(x, Value)
                                                             else x, dtype=np.float64))
    numbers = dict(words, g=graph_picture.format_array(step.grad), out=number(node),
                   a=number(inputs[0]), b=number(inputs[1]) if len(inputs) > 1 else "b")
    return f"grad of {target} = {rule.format(**words)} = {rule.format(**numbers)} = {result}"


def _modules(picture, depth):
    """Every module call drawn as a cluster: its text for the collapsed box, the nodes and
    clusters inside, and whether it starts collapsed (nested `depth` deep)."""
    modules = {}
    for number, scope in enumerate(picture.scopes):
        inside = [name for name, _, home in picture.nodes
                  if home is not None and any(s is scope for s in graph_picture._chain(home))]
        members = [v for v in picture.kept
                   if any(s is scope for s in graph_picture._chain(picture.homes.get(id(v))))]
        level = len(graph_picture._chain(scope)) - 1
        modules[f"cluster_{number}"] = {
            "rows": graph_picture._module_rows(scope, members, picture.kept, picture.grads,
                                               picture.roots, picture.style),
            "nodes": inside,
            "clusters": [f"cluster_{i}" for i, s in enumerate(picture.scopes)
                         if s is not scope and any(o is scope for o in graph_picture._chain(s))],
            "level": level,
            "collapsed": depth is not None and level == depth,
        }
    return modules


_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<link rel="icon" href="data:,">
<style>
{css}
</style>
</head>
<body>
<header>
  <h1>{title}</h1>
  <div class="controls">
    <button id="reset" title="Home: back to the start of backward">Reset</button>
    <button id="back" title="←: undo the last step">◀ Back</button>
    <button id="step" title="→: run the next op of backward">Step ▶</button>
    <button id="end" title="End: run every step">Run all</button>
    <span id="counter"></span>
    <span class="spacer"></span>
    <button id="zoom-in" title="zoom in (wheel)">+</button>
    <button id="zoom-out" title="zoom out (wheel)">−</button>
    <button id="fit" title="fit the graph to the window">Fit</button>
  </div>
</header>
<main>
  <div id="graph">{svg}</div>
  <aside id="panel"><div id="explain"></div><div id="notes"></div></aside>
</main>
<div id="tooltip" hidden></div>
<script type="application/json" id="graph-data">{data}</script>
<script>
{js}
</script>
</body>
</html>
"""

"""Graph pictures rendered by the real Graphviz `dot`, read back as SVG.

Each test draws a graph, renders it to SVG and parses the XML: Graphviz puts
every node in a `<g class="node">` whose `<title>` is the node's id and whose
`<text>`s are its label, and every edge in a `<g class="edge">` titled `a->b`.
"""
import copy
import gc
import importlib.util
import pathlib
import pickle
import re
import shutil
import subprocess
import sys
import weakref
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import nn
from autograd_lite import Value, backprop, backward_steps, draw_graph, grad, no_grad, save_graph, scope
from autograd_lite.graph_picture import (CONSTANT_COLOR, LEAF_COLOR, OUTPUT_COLOR, _number,
                                         format_array)
from autograd_lite.ops import primitive

needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="Graphviz's dot program is not installed")
NS = "{http://www.w3.org/2000/svg}"
ROOT = pathlib.Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


class Svg:
    """The nodes, edges and clusters of a Graphviz SVG file."""

    def __init__(self, path):
        self.texts, self.fills, self.boxes, self.edges, self.clusters = {}, {}, {}, set(), {}
        for group in ET.parse(path).getroot().iter(NS + "g"):
            kind = group.get("class")
            if kind not in ("node", "edge", "cluster"):
                continue
            title = group.find(NS + "title").text
            texts = [t.text for t in group.iter(NS + "text") if t.text]
            if kind == "edge":
                self.edges.add(tuple(title.split("->")))
            elif kind == "cluster":
                self.clusters[" ".join(texts)] = _bbox(group)
            else:
                self.texts[title] = texts
                self.fills[title] = {p.get("fill") for p in group.iter(NS + "polygon")}
                self.boxes[title] = _bbox(group)

    def node(self, first_text):
        """The id of the one node whose label starts with `first_text` (a value's name)."""
        found = [t for t, texts in self.texts.items() if texts and texts[0] == first_text]
        assert len(found) == 1, (first_text, found)
        return found[0]

    def label(self, node):
        return " ".join(self.texts[node])

    def inputs(self, node):
        return {a for a, b in self.edges if b == node}

    def consumer(self, node):
        """The op node a value feeds (exactly one in these graphs)."""
        (op,) = {b for a, b in self.edges if a == node}
        return op

    def inside(self, node, cluster):
        (x0, y0, x1, y1), (cx0, cy0, cx1, cy1) = self.boxes[node], self.clusters[cluster]
        return cx0 <= x0 and x1 <= cx1 and cy0 <= y0 and y1 <= cy1


def _bbox(group):
    """Bounding box of a group's own shapes (polygons, paths, ellipses): x0, y0, x1, y1."""
    xs, ys = [], []
    for shape in group:
        if shape.tag in (NS + "polygon", NS + "polyline"):
            numbers = [float(n) for n in re.findall(r"-?[\d.]+", shape.get("points"))]
        elif shape.tag == NS + "path":
            numbers = [float(n) for n in re.findall(r"-?[\d.]+", shape.get("d"))]
        elif shape.tag == NS + "ellipse":
            cx, cy, rx, ry = (float(shape.get(k)) for k in ("cx", "cy", "rx", "ry"))
            numbers = [cx - rx, cy - ry, cx + rx, cy + ry]
        else:
            continue
        xs += numbers[0::2]
        ys += numbers[1::2]
    return min(xs), min(ys), max(xs), max(ys)


def render(root, tmp_path, **kwargs):
    path = save_graph(root, tmp_path / "graph.svg", **kwargs)
    assert path == tmp_path / "graph.svg"
    return Svg(path)


def numbers_in(text):
    return np.array([float(n) for n in re.findall(r"-?\d+\.?\d*(?:e[-+]?\d+)?", text)])


def _load_example():
    """examples/graph_picture.py as a module: its neuron is the README's picture."""
    spec = importlib.util.spec_from_file_location("graph_picture", EXAMPLES / "graph_picture.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


graph_picture = _load_example()
single_neuron = graph_picture.single_neuron  # y = tanh(b + w1 x1 + w2 x2), micrograd's numbers


@needs_dot
@pytest.mark.parametrize("retain_graph", [False, True])
def test_single_neuron_after_backward_shows_names_data_grads_and_edges(tmp_path, retain_graph):
    """micrograd's flow: y.backward(), then draw y: every value shows its data and grad."""
    y, n = single_neuron()
    y.backward(retain_graph=retain_graph)
    svg = render(y, tmp_path)

    # 5 leaves + 2 products + 2 sums + tanh = 10 values, each computed one with its op
    assert len(svg.texts) == 15
    ops = sorted(svg.label(t) for t in svg.texts if t.startswith("op"))
    assert ops == ["*", "*", "+", "+", "tanh"]
    assert len(svg.edges) == 14

    expected = {"x1": ("2.0", "-1.5"), "w1": ("-3.0", "1.0"), "x2": ("0.0", "0.5"),
                "w2": ("1.0", "0.0"), "b": ("6.8814", "0.5"), "n": ("0.8814", "0.5"),
                "y": ("0.7071", "1.0")}  # the output's grad is 1, as backward seeded it
    for name, (data, grad) in expected.items():
        node = svg.node(name)
        assert svg.texts[node] == [name, "scalar float64", f"data {data}", f"grad {grad}"]
    unnamed = sorted(svg.texts[t][1:] for t in svg.texts
                     if t.startswith("v") and svg.texts[t][0] == "scalar float64")
    assert unnamed == [["data -6.0", "grad 0.5"], ["data 0.0", "grad 0.5"],
                       ["data 0.8814", "grad 0.5"]]  # w1·x1, w2·x2, b + w1·x1
    assert n.grad is None and y.grad is None  # the picture changes no .grad
    root = svg.node("y")

    # x1 and w1 meet in one product, which feeds a sum, which with b ... feeds tanh -> y
    product = svg.consumer(svg.node("x1"))
    assert svg.label(product) == "*" and svg.inputs(product) == {svg.node("x1"), svg.node("w1")}
    assert svg.inputs(root) == {svg.consumer(svg.node("n"))}
    assert svg.label(svg.consumer(svg.node("n"))) == "tanh"
    assert svg.label(svg.consumer(svg.node("b"))) == "+"

    # colours: leaves that require grad, the output, and computed values differ
    assert LEAF_COLOR in svg.fills[svg.node("x1")]
    assert OUTPUT_COLOR in svg.fills[root]
    assert not {LEAF_COLOR, OUTPUT_COLOR} & svg.fills[svg.node("n")]
    if not retain_graph:  # and the graph is still released for a second backward
        with pytest.raises(RuntimeError, match="retain_graph=True"):
            y.backward()


def test_intermediate_gradients_are_the_engines():
    """The picture's gradients of computed values (replayed) equal grad()'s, on a network."""
    loss, params = cosine_network(np.random.default_rng(3))
    values = [v for v in _values(loss) if v._record is not None]
    expected = grad(loss, values, retain_graph=True)
    replayed = backward_steps.replay([loss]).grads
    for value, want in zip(values, expected):
        np.testing.assert_allclose(replayed[id(value)], want.data, rtol=1e-12, atol=1e-15)
    loss.backward()
    for param in params:
        np.testing.assert_allclose(replayed[id(param)], param.grad, rtol=1e-12, atol=1e-15)


def _values(root):
    seen, stack, order = set(), [root], []
    while stack:
        value = stack.pop()
        if id(value) not in seen:
            seen.add(id(value))
            order.append(value)
            stack.extend(value.parents)
    return order


def test_replay_runs_the_ops_in_the_order_backward_runs_them():
    """Primitives that log their vjp calls: backward and the replay call them in one order."""
    calls = []

    def logged(name):
        return primitive(f"graph_test_{name}_{len(calls)}_{id(calls)}", np.multiply,
                         lambda g, ans, a, b: (calls.append(name), g * b)[1],
                         lambda g, ans, a, b: g * a)

    ops = {name: logged(name) for name in "pqrst"}
    x, w = Value(1.5, name="x"), Value(-2.0, name="w")
    a = ops["p"](x, w)
    b = ops["q"](a, x)
    c = ops["r"](w, b)
    d = ops["s"](a, c)
    out = ops["t"](d, b)
    out.backward(retain_graph=True)
    engine_order, calls[:] = list(calls), []
    steps = backward_steps.replay([out]).steps
    assert calls == engine_order == ["t", "s", "r", "q", "p"]
    assert [s.node for s in steps] == [out, d, c, b, a]


def test_gradients_after_an_in_place_change_are_not_made_up(tmp_path):
    """An optimizer step after backward changes the numbers the replay would use: it says so."""
    w = Value(2.0, name="w")
    h = (w * 3.0).tanh()
    h.name = "h"
    loss = h * h
    loss.backward()
    w.data -= 0.1 * w.grad
    source = draw_graph(loss).source
    assert "changed in place" in source
    assert "grad" not in source.split("<B>h</B>")[1].split("</TR>")[0]  # h has no made-up grad
    assert "grad " in source.split("<B>w</B>")[1].split("</TR>")[0]  # a leaf shows its .grad


@needs_dot
def test_a_big_graph_is_released_by_backward_and_its_picture_says_so(tmp_path):
    """Past backprop.KEEP_BYTES the graph keeps no structure: the picture says what to do."""
    x = Value(np.ones(3000), name="x")
    y = (x * 2.0).tanh().sum()
    y.name = "y"
    y.backward()
    assert y.parents == ()
    svg = render(y, tmp_path)
    root = svg.node("y")
    (op,) = svg.inputs(root)
    assert svg.label(op) == "sum"
    (note,) = svg.inputs(op)
    assert "released" in svg.label(note)
    assert any("retain_graph=True" in t for t in _graph_texts(tmp_path / "graph.svg"))


def test_small_graphs_keep_their_structure_within_the_budget_and_big_ones_do_not():
    per_value = backprop.KEEP_BYTES // 8 // 3  # float64 numbers in each of 3 computed values
    small = Value(np.ones(per_value))
    loss = (small * 2.0).exp().sum()
    loss.backward()
    assert loss.parents and loss.parents[0].parents  # kept: drawable after backward
    big = Value(np.ones(2 * per_value))
    loss = (big * 2.0).exp().sum()
    loss.backward()
    assert loss.parents == ()


@needs_dot
def test_before_backward_there_are_no_grads_and_show_flags_hide_rows(tmp_path):
    y, _ = single_neuron()
    svg = render(y, tmp_path)
    assert not any("grad" in svg.label(t) for t in svg.texts)
    assert svg.texts[svg.node("x1")] == ["x1", "scalar float64", "data 2.0"]
    y.backward(retain_graph=True)
    svg = render(y, tmp_path, show_data=False, show_grad=False)
    assert svg.texts[svg.node("x1")] == ["x1", "scalar float64"]


def cosine_network(rng):
    """The cosine post's 1-5-1 tanh network y = tanh(w2ᵀ tanh(w1 t + b1) + b2) and its MSE."""
    t = np.linspace(0.0, 1.0, 50).reshape(1, -1)
    target = np.cos(2 * np.pi * t)
    w1, b1 = Value(rng.normal(size=(5, 1)), name="w1"), Value(rng.normal(size=(5, 1)), name="b1")
    w2, b2 = Value(rng.normal(size=(5, 1)), name="w2"), Value(rng.normal(), name="b2")
    prediction = (w2.T @ (w1 @ t + b1).tanh() + b2).tanh()
    loss = ((prediction - target) ** 2).mean()
    loss.name = "loss"
    return loss, (w1, b1, w2, b2)


@needs_dot
def test_cosine_network_shows_shapes_small_arrays_and_summaries(tmp_path, rng):
    loss, (w1, b1, w2, b2) = cosine_network(rng)
    loss.backward(retain_graph=True)
    svg = render(loss, tmp_path)

    # 4 parameters, 2 array constants (t, the target), 10 ops each with its value
    assert len(svg.texts) == 26
    ops = sorted(svg.label(n) for n in svg.texts if n.startswith("op"))
    assert ops == sorted(["@", "+", "tanh", "transpose", "@", "+", "tanh", "-", "**2", "mean"])
    assert len(svg.edges) == 25

    for param in (w1, b1, w2):  # (5, 1): printed in full, data and grad
        label = svg.label(svg.node(param.name))
        assert "(5, 1) float64" in label
        data, grad = label.split("grad")
        np.testing.assert_allclose(numbers_in(data.split("data")[1]), param.data.ravel(),
                                   rtol=1e-3, atol=1e-4)
        np.testing.assert_allclose(numbers_in(grad), param.grad.ravel(), rtol=1e-3, atol=1e-4)
    b2_text = svg.texts[svg.node("b2")]
    assert b2_text[1] == "scalar float64"
    assert float(b2_text[3].split()[1]) == pytest.approx(b2.grad.item(), rel=1e-3, abs=1e-4)
    assert float(svg.texts[svg.node("loss")][2].split()[1]) == pytest.approx(loss.item(), rel=1e-3)

    # the input t is an array constant, summarised, and meets w1 in the first matmul
    first = svg.consumer(svg.node("w1"))
    (t_node,) = svg.inputs(first) - {svg.node("w1")}
    assert svg.label(first) == "@"
    assert svg.texts[t_node] == ["(1, 50) float64", "data min 0.0, mean 0.5, max 1.0"]
    assert CONSTANT_COLOR in svg.fills[t_node]
    hidden = [n for n in svg.texts if svg.texts[n][0] == "(5, 50) float64"]
    assert len(hidden) == 3 and all("min" in svg.label(n) for n in hidden)


@needs_dot
def test_graph_over_max_nodes_keeps_the_nodes_nearest_the_root_and_counts_the_rest(tmp_path):
    x, w = Value(0.5, name="x"), Value(0.9, name="w")
    s = x
    for _ in range(50):
        s = (s * w + 0.1).tanh()
    s.name = "out"
    # per step: product, sum and tanh (value + op each) and the constant 0.1 = 7; plus x and w
    total = 50 * 7 + 2
    unlimited = draw_graph(s, max_nodes=None).source
    assert len(re.findall(r"^\t(?:v|op|c)\d+(?:_\d+)? \[", unlimited, re.M)) == total
    assert "more" not in unlimited
    svg = render(s, tmp_path, max_nodes=40)

    (more,) = [n for n in svg.texts if svg.texts[n][0].startswith("…")]
    drawn = len(svg.texts) - 1
    assert 37 <= drawn <= 39  # as many as fit, one node left for the summary
    left_nodes, left_ops = map(int, re.match(r"… (\d+) more nodes \((\d+) ops\)",
                                             svg.texts[more][0]).groups())
    assert drawn + left_nodes == total
    drawn_ops = sum(1 for n in svg.texts if n.startswith("op"))
    assert drawn_ops + left_ops == 150
    assert "leaves: 1" in svg.label(more)  # x is far from the root; w is next to it
    for kept in ("out", "w"):
        svg.node(kept)  # exactly one node each
    assert not any(svg.texts[n][0] == "x" for n in svg.texts)
    assert svg.edges & {("more", op) for op in svg.texts if op.startswith("op")}
    caption = " ".join(t for t in _graph_texts(tmp_path / "graph.svg"))
    assert f"showing the {drawn} nodes nearest the output of {total} (max_nodes=40)" in caption


def _graph_texts(path):
    """Texts of the graph's own label (the legend and notes), outside any node or edge."""
    svg_root = ET.parse(path).getroot()
    graph = svg_root.find(NS + "g")
    return [t.text for t in graph.findall(NS + "text") if t.text] + [
        t.text for g in graph.findall(NS + "g") if g.get("class") is None
        for t in g.iter(NS + "text") if t.text]


def test_missing_dot_writes_the_source_and_says_how_to_install_graphviz(tmp_path, monkeypatch):
    y, _ = single_neuron()
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot program anywhere
    with pytest.warns(RuntimeWarning) as caught:
        written = save_graph(y, tmp_path / "neuron.png")
    (warning,) = caught
    message = str(warning.message)
    assert "\n" not in message
    assert "apt-get install graphviz" in message and "brew install graphviz" in message
    assert written == tmp_path / "neuron.dot" and str(written) in message
    assert not (tmp_path / "neuron.png").exists()
    source = written.read_text()
    assert source.startswith("digraph") and "<B>x1</B>" in source
    assert warning.filename == __file__  # points at the caller, not into graphviz


def test_dot_extension_needs_no_graphviz_and_unknown_extensions_are_refused(tmp_path,
                                                                              monkeypatch):
    y, _ = single_neuron()
    monkeypatch.setenv("PATH", str(tmp_path))
    assert save_graph(y, tmp_path / "g.dot").read_text() == draw_graph(y).source
    with pytest.raises(ValueError, match=r"'g\.jpeg'.*\.svg"):
        save_graph(y, tmp_path / "g.jpeg")


def test_bad_arguments_are_named():
    with pytest.raises(TypeError, match="draw_graph: expected a Value"):
        draw_graph(np.ones(3))
    with pytest.raises(TypeError, match="draw_graph: expected a Value"):
        draw_graph(5)
    with pytest.raises(ValueError, match="rankdir"):
        draw_graph(Value(1.0), rankdir="up")
    with pytest.raises(ValueError, match="max_nodes"):
        draw_graph(Value(1.0), max_nodes=0)


def test_format_array_is_tidy():
    assert format_array(np.float64(2.0)) == "2.0"
    assert format_array(np.float64(1 / 3)) == "0.3333"
    assert format_array(np.float64(1.5e-7)) == "1.5e-07"
    assert format_array(np.float64(123456.0)) == "1.235e+05"
    assert format_array(np.array(np.nan)) == "nan"
    assert format_array(np.array([1.0, 0.5])) == "[1. , 0.5]"
    assert format_array(np.arange(10.0)) == "min 0.0, mean 4.5, max 9.0"
    assert format_array(np.arange(10) > 6) == "3 of 10 True"


def layered_graph():
    """x -> Linear -> Tanh -> Linear, in scopes as nn.Module.__call__ enters them for a Sequential."""
    rng = np.random.default_rng(1)
    x = Value(rng.normal(size=(3, 2)), requires_grad=False)
    w1, b1 = Value(rng.normal(size=(2, 4)), name="0.weight"), Value(np.zeros(4), name="0.bias")
    w2, b2 = Value(rng.normal(size=(4, 1)), name="2.weight"), Value(np.zeros(1), name="2.bias")
    with scope("Sequential", inputs=[x]):
        with scope("0: Linear(2→4)", inputs=[x]):
            h = x @ w1 + b1
        with scope("1: Tanh()", inputs=[h]):
            a = h.tanh()
        with scope("2: Linear(4→1)", inputs=[a]):
            out = a @ w2 + b2
    loss = out.sum()
    loss.name = "loss"
    return loss, x


@needs_dot
def test_group_modules_draws_one_cluster_per_module_call(tmp_path):
    loss, _ = layered_graph()
    svg = render(loss, tmp_path, group_modules=True)
    assert set(svg.clusters) == {"0: Linear(2→4)", "1: Tanh()", "2: Linear(4→1)", "Sequential"}

    tanh_op = [n for n in svg.texts if svg.label(n) == "tanh"][0]
    places = {"0.weight": "0: Linear(2→4)", "0.bias": "0: Linear(2→4)",
              "2.weight": "2: Linear(4→1)", "2.bias": "2: Linear(4→1)"}
    for name, cluster in places.items():
        node = svg.node(name)
        assert svg.inside(node, cluster) and svg.inside(node, "Sequential")
        others = set(places.values()) - {cluster} | {"1: Tanh()"}
        assert not any(svg.inside(node, c) for c in others)
    assert svg.inside(tanh_op, "1: Tanh()") and svg.inside(tanh_op, "Sequential")
    # the input and the loss, made outside any module, are outside every cluster
    x_node = [n for n in svg.texts if svg.texts[n][0] == "(3, 2) float64"][0]
    for outside in (x_node, svg.node("loss")):
        assert not any(svg.inside(outside, c) for c in svg.clusters)

    assert not render(loss, tmp_path).clusters  # group_modules=False ignores the record


def test_group_modules_nests_outer_calls_around_inner_ones():
    loss, _ = layered_graph()
    source = draw_graph(loss, group_modules=True).source
    outer = source.index('label=Sequential')
    for inner in ("0: Linear(2→4)", "1: Tanh()", "2: Linear(4→1)"):
        assert source.index(f'label="{inner}"') > outer
    assert source.count("subgraph cluster_") == 4


def test_group_modules_with_real_nn_layers():
    nn = pytest.importorskip("nn")
    model = nn.Sequential(nn.Linear(2, 3), nn.Tanh())
    source = draw_graph(model(np.ones((4, 2))).sum(), group_modules=True).source
    assert source.count("subgraph cluster_") == 3
    assert "0.weight" in source and "label=\"0: Linear" in source


def test_scopes_tag_what_is_made_inside_and_hold_their_inputs_weakly():
    x = Value(np.ones((2, 3)))
    with scope("Scale()", inputs=[x]) as outer:
        out = x * 2
        with scope(lambda: "made only when asked") as inner:
            deeper = out + 1
    assert out.scope is outer and outer.name == "Scale()" and outer.parent is None
    assert deeper.scope is inner and inner.parent is outer and inner.name == "made only when asked"
    assert outer.inputs == [x] and x.scope is None and (out * 1).scope is None
    gone, kept = weakref.ref(out), weakref.ref(x)
    del out, deeper
    gc.collect()
    assert gone() is None  # a scope holds no reference to what was made in it
    del x
    gc.collect()
    assert kept() is None and outer.inputs == []  # nor to its inputs


def test_layers_passing_values_through_tag_nothing_and_frozen_layers_keep_their_label():
    """A layer returning its input (Identity, Dropout in eval) or a parameter made no graph of
    its own: the value keeps the scope it had (none), and still copies."""
    x, constant = Value(np.ones((2, 3))), Value(np.ones((2, 3)), requires_grad=False)
    for _ in range(3):
        nn.Identity()(x), nn.Identity()(constant), nn.Dropout(0.5).eval()(x)
    assert x.scope is None and constant.scope is None
    copy.deepcopy(x), pickle.loads(pickle.dumps(x))
    frozen = nn.Linear(3, 2)
    for p in frozen.parameters():
        p.requires_grad = False
    with no_grad():  # a layer's own new (constant) output keeps its label for pictures
        assert nn.Linear(3, 2)(x).scope.name == "Linear(in_features=3, out_features=2, bias=True)"
    assert frozen(constant).scope.name == "Linear(in_features=3, out_features=2, bias=True)"


@needs_dot
def test_example_script_reproduces_the_committed_pictures(tmp_path, monkeypatch, capsys):
    """examples/graph_picture.py makes docs/images/*; the committed files show the same labels."""
    pytest.importorskip("matplotlib")
    monkeypatch.syspath_prepend(str(EXAMPLES))  # for its _common
    graph_picture.main(["--out", str(tmp_path)])
    assert "neuron_y: 0.707107" in capsys.readouterr().out
    for name in ("single_neuron.svg", "mlp_layers.svg"):
        fresh, committed = Svg(tmp_path / name), Svg(ROOT / "docs" / "images" / name)
        assert fresh.texts == committed.texts and fresh.edges == committed.edges
        assert set(fresh.clusters) == set(committed.clusters)
    assert Svg(tmp_path / "mlp_layers.svg").clusters  # grouped by layer
    with pytest.importorskip("PIL.Image").open(tmp_path / "gradient_flow.png") as image:
        assert image.format == "PNG"


def test_several_roots_are_all_drawn_as_outputs():
    x = Value([1.0, 2.0], name="x")
    source = draw_graph([(x * 2).sum(), x.exp()]).source
    assert source.count(f'BGCOLOR="{OUTPUT_COLOR}"><TR>') == 2
    assert source.count("<B>x</B>") == 1  # shared input drawn once


@needs_dot
def test_readme_graph_snippet_runs(tmp_path, monkeypatch):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Seeing the graph"):]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "README.md", "exec"), {})
    svg = Svg(tmp_path / "single_neuron.svg")
    assert svg.texts[svg.node("x1")] == ["x1", "scalar float64", "data 2.0", "grad -1.5"]
    assert "docs/images/single_neuron.svg" in section
    assert (ROOT / "docs" / "images" / "single_neuron.svg").is_file()


def test_graph_of_an_array_exponent_draws():
    from autograd_lite import draw_graph
    x = Value([1.0, 2.0])
    assert "op0 [label=\"**" in draw_graph(x ** np.array([2.0, 3.0])).source  # the ** op node


def test_the_engine_imports_without_graphviz_and_drawing_says_how_to_install_it(tmp_path):
    """graphviz is optional: blocked from import, the engine works and draw_graph names the fix."""
    code = (
        "import sys\n"
        "sys.modules['graphviz'] = None  # as if not installed\n"
        "import autograd_lite, nn\n"
        "x = autograd_lite.Value([1.0, 2.0]); (x * x).sum().backward()\n"
        "try:\n"
        "    autograd_lite.draw_graph(x * 2)\n"
        "except ImportError as error:\n"
        "    print(error)\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "pip install graphviz" in run.stdout


def guide_mlp_loss():
    """The guide's [2, 4, 4, 1] sigmoid MLP on a batch of 8, after backward()."""
    rng = np.random.default_rng(0)
    model = nn.MLP([2, 4, 4, 1], activation="sigmoid", output_activation="sigmoid", rng=rng)
    labels = (rng.random(size=(8, 1)) < 0.5).astype(np.float64)
    loss = nn.binary_cross_entropy(model(rng.normal(size=(8, 2))), labels)
    loss.name = "loss"
    loss.backward()
    return loss, model


@needs_dot
def test_depth_one_draws_each_layer_as_one_box_with_its_gradients(tmp_path):
    loss, model = guide_mlp_loss()
    svg = render(loss, tmp_path, depth=1)
    boxes = {svg.texts[n][0]: [t.replace("\xa0", " ") for t in svg.texts[n]]  # (dot's nbsp)
             for n in svg.texts if n.startswith("m")}
    assert len(boxes) == 6 and set(svg.clusters) == {"MLP()"}  # the model around its layers
    first = boxes["0: Linear(in_features=2, out_features=4, bias=True)"]
    assert first[1] == "in (8, 2) → out (8, 4)"
    weight = model[0].weight.grad
    assert first[2] == (f"0.weight (4, 2)  grad min {_number(weight.min())}, mean "
                        f"{_number(weight.mean())}, max {_number(weight.max())}")
    assert first[3].startswith("0.bias (4,)  grad [") and first[4].startswith("out grad min")
    assert boxes["5: Sigmoid()"][1:3] == ["in (8, 1) → out (8, 1)", boxes["5: Sigmoid()"][2]]
    assert all(any("grad" in line for line in box) for box in boxes.values())
    assert not any(svg.texts[n][0] == "0.weight" for n in svg.texts)  # drawn inside its box
    # layers chain box to box, the loss below them: top to bottom, at most 1,600 px wide
    chain = [svg.node(name) for name in ("0: Linear(in_features=2, out_features=4, bias=True)",
                                         "1: Sigmoid()", "2: Linear(in_features=4, "
                                         "out_features=4, bias=True)")]
    assert {(chain[0], chain[1]), (chain[1], chain[2])} <= svg.edges
    width = float(re.search(r'width="([\d.]+)pt"', (tmp_path / "graph.svg").read_text())[1])
    assert width * 96 / 72 <= 1600
    assert "rankdir=TB" in draw_graph(loss, depth=1).source


def test_depth_zero_draws_the_whole_model_as_one_box_and_none_draws_everything():
    loss, _ = guide_mlp_loss()
    source = draw_graph(loss, depth=0).source
    (box,) = re.findall(r"\tm\d+ \[label=<(.*?)> shape=plain", source)
    assert "<B>MLP()</B>" in box and "in (8, 2) → out (8, 1)" in box
    assert [n for n in ("0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias")
            if n + " (" in box] == ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight",
                                    "4.bias"]
    assert "subgraph cluster_" not in source and "rankdir=LR" in source  # short and wide
    everything = draw_graph(loss).source
    assert "\tm0 [" not in everything and "<B>0.weight</B>" in everything
    assert draw_graph(loss, depth=5).source == draw_graph(loss, group_modules=True).source


def test_rankdir_is_chosen_unless_given():
    y, _ = single_neuron()
    assert "rankdir=LR" in draw_graph(y).source  # as micrograd draws it
    chain = Value(0.5)
    for _ in range(12):
        chain = (chain * 0.9).tanh()
    assert "rankdir=TB" in draw_graph(chain).source  # long and narrow
    assert "rankdir=RL" in draw_graph(chain, rankdir="RL").source


def test_negative_zero_prints_as_zero():
    assert _number(-0.0) == "0.0"
    assert format_array(np.array([-0.0, 1.5])) == "[0. , 1.5]"
    assert format_array(np.array([-0.0] * 8)) == "min 0.0, mean 0.0, max 0.0"


def test_bad_depth_is_named():
    for depth in (-1, 1.5, True):
        with pytest.raises(ValueError, match="draw_graph: depth must be a whole number"):
            draw_graph(Value(1.0), depth=depth)

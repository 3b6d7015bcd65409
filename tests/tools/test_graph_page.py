"""The interactive graph page (`save_graph(root, "graph.html")`, `autograd_lite.show`).

The page is checked in a real browser: headless Chromium (Debian's `chromium`
and `chromium-driver`, which .ci/run installs) driven by selenium. Those tests
skip where either is missing; the checks on the file itself run everywhere
Graphviz's `dot` is installed.
"""
import base64
import io
import json
import pathlib
import re
import shutil

import numpy as np
import pytest

from autograd_lite import Value, backward_steps, draw_graph, save_graph, show
from autograd_lite.graph_page import graph_page
from autograd_lite.graph_picture import format_array
from test_graph import guide_mlp_loss, single_neuron

needs_dot = pytest.mark.skipif(shutil.which("dot") is None,
                               reason="Graphviz's dot program is not installed")
pytestmark = needs_dot


def neuron():
    """micrograd's neuron y = tanh(b + w1 x1 + w2 x2), as in the README (the example's)."""
    return single_neuron()[0]


def mlp_loss():
    """The guide's [2, 4, 4, 1] sigmoid MLP on 8 points: 7 module calls, drawn as clusters."""
    return guide_mlp_loss()[0]


def page_data(page_html):
    return json.loads(re.search(r'<script type="application/json" id="graph-data">(.*?)</script>',
                                page_html, re.S).group(1).replace("<\\/", "</"))


# --- the file ----------------------------------------------------------------------

def test_the_page_is_one_self_contained_file(tmp_path):
    y = neuron()
    path = save_graph(y, tmp_path / "graph.html")
    assert path == tmp_path / "graph.html"
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and "<svg" in text
    # nothing to fetch: no external script, style, image or font (only XML namespace names)
    assert not re.search(r'(src|href)\s*=\s*"(?!data:|#)', text)
    urls = set(re.findall(r"https?://[^\s\"'<>)]+", text))
    assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}, urls
    assert "@import" not in text and "url(" not in text


def test_steps_follow_the_order_backward_runs_and_say_the_local_rule():
    y = neuron()
    data = page_data(graph_page(y).html())
    replay = backward_steps.replay([y])
    assert [s["opName"] for s in data["steps"]] == ["tanh", "+ (add)", "* (mul)", "+ (add)",
                                                    "* (mul)"]
    assert len(data["steps"]) == len(replay.steps)
    rules = [e["rule"] for s in data["steps"] for e in s["sent"]]
    assert "grad of n = grad of y × (1 − y²) = 1.0 × (1 − 0.7071²) = 0.5" in rules
    assert "grad of w2 = grad of out × x2 = 0.5 × 0.0 = 0.0" in rules
    assert "grad of x1 = grad of out × w1 = 0.5 × -3.0 = -1.5" in rules
    # each value's grad text grows step by step: the output's is 1 from the start
    output = next(k for k, v in data["values"].items() if v["name"] == "y")
    assert data["gradTexts"][output] == [[0, "grad 1.0"]]
    assert y.grad is None  # the page replays backward; it changes no .grad


def test_a_value_used_twice_adds_up_its_parts():
    x = Value(3.0, name="x")
    z = x * x + x  # dz/dx = 2x + 1 = 7: three parts, 1 (from +) then 3 and 3 (from *)
    data = page_data(graph_page(z).html())
    node = next(k for k, v in data["values"].items() if v["name"] == "x")
    assert data["gradTexts"][node] == [[1, "grad 1.0"], [2, "grad 4.0"], [2, "grad 7.0"]]
    last = data["steps"][-1]["sent"]
    assert [e["total"] for e in last] == ["1.0 + 3.0 = 4.0", "1.0 + 3.0 + 3.0 = 7.0"]


def test_modules_start_collapsed_below_depth_and_know_their_layers():
    data = page_data(graph_page(mlp_loss(), depth=1).html())
    modules = data["modules"]
    assert len(modules) == 7  # the MLP call and its 6 layers
    collapsed = sorted(m["rows"][0] for m in modules.values() if m["collapsed"])
    assert len(collapsed) == 6 and collapsed[0].startswith("0: Linear(in_features=2")
    linear = next(m for m in modules.values() if m["rows"][0].startswith("0: Linear"))
    assert linear["rows"][1] == "in (8, 2) → out (8, 4)"
    assert linear["rows"][2].startswith("0.weight (4, 2)  grad min")
    outer = next(m for m in modules.values() if m["level"] == 0)
    assert len(outer["clusters"]) == 6 and not outer["collapsed"]


def test_show_is_an_inline_page_for_notebooks_and_draw_graph_stays_static():
    y = neuron()
    shown = show(y)._repr_html_()
    assert shown.startswith("<iframe srcdoc=") and "&lt;svg" in shown
    assert draw_graph(y)._repr_image_svg_xml().startswith("<?xml")  # Jupyter's static SVG


def test_bad_options_are_named():
    with pytest.raises(ValueError, match="graph_page: depth"):
        graph_page(neuron(), depth=-1)
    with pytest.raises(TypeError, match="graph_page: expected a Value"):
        graph_page([1.0])
    with pytest.raises(TypeError, match="unexpected keyword argument 'group_modules'"):
        save_graph(neuron(), "graph.html", group_modules=True)


def test_a_page_of_a_vector_output_has_no_steps_and_says_why():
    x = Value([1.0, 2.0], name="x")
    data = page_data(graph_page(x * 2).html())
    assert data["steps"] == [] and "one-element output" in " ".join(data["notes"])


def test_a_page_of_a_released_graph_says_what_to_do():
    x = Value(np.ones(3000), name="x")
    y = (x * 2.0).tanh().sum()
    y.backward()  # too big to keep: released
    data = page_data(graph_page(y).html())
    assert data["steps"] == [] and "retain_graph=True" in " ".join(data["notes"])


def test_without_dot_the_page_source_is_written_with_a_warning(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot program anywhere
    with pytest.warns(RuntimeWarning, match="apt-get install graphviz") as caught:
        written = save_graph(neuron(), tmp_path / "graph.html")
    assert written == tmp_path / "graph.dot" and written.read_text().startswith("digraph")
    assert caught[0].filename == __file__ and not (tmp_path / "graph.html").exists()


def test_a_notebook_shows_the_static_picture_and_the_page(tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    root = pathlib.Path(__file__).resolve().parents[2]
    setup = (f"import sys; sys.path.insert(0, {str(root)!r})\n"
             "from autograd_lite import Value, draw_graph, show\n"
             "x = Value(3.0, name='x'); z = x * x + x; z.backward()")
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell(setup), nbformat.v4.new_code_cell("draw_graph(z)"),
        nbformat.v4.new_code_cell("show(z)")])
    nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    static, page = (cell.outputs[0]["data"] for cell in notebook.cells[1:])
    assert "image/svg+xml" in static and "grad 7.0" in static["image/svg+xml"]
    assert page["text/html"].startswith("<iframe srcdoc=")


# --- in a browser ------------------------------------------------------------------

def _browser():
    """Headless Chromium through selenium, or a skip naming what is missing."""
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service
    binary = next(filter(None, map(shutil.which, ("chromium", "chromium-browser",
                                                   "google-chrome"))), None)
    driver = shutil.which("chromedriver")
    if binary is None or driver is None:
        pytest.skip("Chromium and chromedriver are not installed "
                    "(apt-get install chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", "--window-size=1280,720"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(options=options, service=Service(driver))


@pytest.fixture(scope="module")
def browser():
    driver = _browser()
    yield driver
    driver.quit()


def _open(browser, root, tmp_path, **options):
    from selenium.webdriver.common.by import By
    path = save_graph(root, tmp_path / "graph.html", **options)
    browser.get(path.as_uri())
    return browser.find_element(By.TAG_NAME, "body")


def _errors(browser):
    return [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]


def test_in_a_browser_the_page_loads_and_steps_through_backward(browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    y = neuron()
    body = _open(browser, y, tmp_path)
    assert _errors(browser) == []
    # one SVG node per value and op of the graph: 10 values, 5 ops
    assert len(browser.find_elements(By.CSS_SELECTOR, "#graph g.node")) == 15
    order = [f"op{graph_page(y)._picture.index[id(s.node)]}"
             for s in backward_steps.replay([y]).steps]
    assert body.get_attribute("data-step") == "0" and body.get_attribute("data-op") == ""

    seen = []
    for _ in order:
        body.send_keys(Keys.ARROW_RIGHT)
        seen.append(body.get_attribute("data-op"))
        (highlighted,) = browser.find_elements(By.CSS_SELECTOR, "g.node.current-op")
        assert highlighted.get_attribute("id") == seen[-1]
    assert seen == order  # → runs the ops in the order backward ran them
    body.send_keys(Keys.ARROW_RIGHT)  # past the end: stays there
    assert body.get_attribute("data-step") == str(len(order))
    body.send_keys(Keys.ARROW_LEFT)
    assert body.get_attribute("data-op") == order[-2]  # ← undoes the last step
    browser.find_element(By.ID, "step").click()
    assert body.get_attribute("data-op") == order[-1]  # the Step button is →
    body.send_keys(Keys.HOME)
    assert body.get_attribute("data-step") == "0"
    assert browser.find_elements(By.CSS_SELECTOR, "g.node.current-op") == []
    assert _errors(browser) == []

    # the picture is not blank: many colours, and the graph's own
    from PIL import Image
    shot = Image.open(io.BytesIO(base64.b64decode(browser.get_screenshot_as_base64())))
    colours = shot.convert("RGB").getcolors(maxcolors=1 << 20)
    assert len(colours) > 50
    assert max(count for count, _ in colours) < 0.95 * shot.size[0] * shot.size[1]


def test_in_a_browser_grads_fill_in_and_add_up_where_a_value_is_used_twice(browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    x = Value(3.0, name="x")
    z = x * x + x
    z.name = "z"
    body = _open(browser, z, tmp_path)

    def grad_text(name):
        node = next(n for n in browser.find_elements(By.CSS_SELECTOR, "g.node")
                    if n.find_elements(By.TAG_NAME, "text")[0].text == name)
        return [t.text for t in node.find_elements(By.TAG_NAME, "text")][-1]

    assert grad_text("x") == "grad ·" and grad_text("z") == "grad 1.0"
    body.send_keys(Keys.ARROW_RIGHT)  # the sum sends 1 to x and to x·x
    assert grad_text("x") == "grad 1.0"
    body.send_keys(Keys.ARROW_RIGHT)  # the product sends 3 twice more
    assert grad_text("x") == "grad 7.0"
    assert "1.0 + 3.0 + 3.0 = 7.0" in browser.find_element(By.ID, "explain").text
    assert browser.find_elements(By.CSS_SELECTOR, "g.node.accumulated")
    body.send_keys(Keys.HOME)
    assert grad_text("x") == "grad ·"
    assert _errors(browser) == []


def test_in_a_browser_modules_collapse_and_expand_and_values_explain_themselves(browser,
                                                                                tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    loss = mlp_loss()
    _open(browser, loss, tmp_path, depth=1)
    assert _errors(browser) == []
    visible = lambda css: [e for e in browser.find_elements(By.CSS_SELECTOR, css)
                           if e.is_displayed()]
    boxes = visible("g.module-box")
    assert len(boxes) == 6  # each layer collapsed to one box
    hidden_nodes = len(browser.find_elements(By.CSS_SELECTOR, "g.node")) - len(visible("g.node"))
    assert hidden_nodes > 0

    linear = next(b for b in boxes if b.text.startswith("0: Linear"))
    browser.execute_script("arguments[0].dispatchEvent(new MouseEvent('click', {bubbles: true}))",
                           linear)
    assert len(visible("g.module-box")) == 5  # expanded: its weight and bias are drawn again
    names = [n.find_elements(By.TAG_NAME, "text")[0].text for n in visible("g.node")]
    assert "0.weight" in names and "0.bias" in names
    cluster = next(c for c in browser.find_elements(By.CSS_SELECTOR, "g.cluster")
                   if c.find_element(By.TAG_NAME, "text").text.startswith("0: Linear"))
    browser.execute_script(
        "arguments[0].querySelector('path, polygon').dispatchEvent("
        "new MouseEvent('click', {bubbles: true}))", cluster)
    assert len(visible("g.module-box")) == 6  # and collapsed again

    # hovering the loss shows its shape, dtype, data and grad
    node = next(n for n in visible("g.node")
                if n.find_elements(By.TAG_NAME, "text")[0].text == "loss")
    ActionChains(browser).move_to_element(node).perform()
    tip = browser.find_element(By.ID, "tooltip")
    assert tip.is_displayed()
    assert tip.text.startswith("loss — output\nshape () float64")
    assert f"data: {format_array(loss.data)}" in tip.text and "grad: 1.0" in tip.text
    weight = next(n for n in browser.find_elements(By.CSS_SELECTOR, "g.node")  # (hidden: textContent)
                  if n.find_elements(By.TAG_NAME, "text")[0].get_attribute("textContent")
                  == "0.weight")
    browser.execute_script("arguments[0].dispatchEvent(new MouseEvent('mousemove', "
                           "{bubbles: true, clientX: 50, clientY: 50}))", weight)
    assert "shape (4, 2) float64" in tip.text and "std " in tip.text  # an array's statistics
    assert _errors(browser) == []

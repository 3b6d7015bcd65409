"""The notebooks in examples/notebooks/ run, and the committed ones are what running gives.

- Each notebook's source (NAME.py, jupytext's percent format) and its committed
  NAME.ipynb hold the same cells, so the readable diff is the whole change.
- A committed .ipynb carries a complete run: every code cell executed once, in
  order, without an error, its figures inline, and the numbers the README quotes.
- Each notebook runs top to bottom in a fresh kernel (nbclient), in its quick
  mode (AUTOGRAD_LITE_QUICK=1: fewer epochs, the same code), and prints what it
  should where that does not depend on how long it trained.

Without nbclient, ipykernel or jupytext (the `notebooks` extra) these skip.
"""
import shutil
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
jupytext = pytest.importorskip("jupytext")
pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("sklearn")
pytest.importorskip("matplotlib")

NOTEBOOKS = Path(__file__).resolve().parents[2] / "examples" / "notebooks"
sys.path.insert(0, str(NOTEBOOKS))
import run_notebooks  # noqa: E402

SOURCES = run_notebooks.sources()
NAMES = [source.stem for source in SOURCES]

# What a quick run prints (the same in a full run): numbers fixed by the documents.
QUICK_RUN_PRINTS = {
    "01_intro_slides": ["loss = 0.1054", "loss = 2.3026", "by hand and conv2d agree: True",
                        "x after 15 steps: -4.18"],
    "02_micrograd_tour": ["24.7041\n138.8338\n645.5773", "dy/dx1 = -1.5000", "dy/dw1 = 1.0000",
                          "hand shape (8, 2) vs (2, 8)", "a factor N = 100",
                          "activation derivative f'(z)?", "gradient check: PASSED"],
    "03_cosine_post": ["initial MSE: 0.586003", "hand = 50 × auto", "factor: 50.0",
                       "gradient check: PASSED"],
    "04_nn_basics": ["sigmoid    + BCE: right", "tanh       + MSE: wrong",
                     "leaky_relu corrected: PASSED", "factor 0.5;", "a factor 1/N = 1/8"],
    "05_sine_readme": ["final loss (MSE) < 0.001", "worst in the second half",
                       "max |u - cos t| = "],
}
# What the committed full runs print: the numbers the README quotes for these runs.
FULL_RUN_PRINTS = {
    "01_intro_slides": ["epochs: 20, test accuracy: 0.980 (9 of 450 test digits wrong)",
                        "lr = 0.1    final training MSE 0.011"],
    "02_micrograd_tour": ["step 99 loss"],
    "03_cosine_post": ["epochs run: 10000, final MSE: 0.00227664, max fit error: 0.127",
                       "RMSE 1.204, max error 1.989", "RMSE 0.094, max error 0.160"],
    "04_nn_basics": ["test accuracy 0.9000 (train 0.9025)", "logistic regression): 0.9000",
                     "test R²: 0.980 with a linear output, 0.446 as written"],
    "05_sine_readme": ["0.000113154  holds", "0.0285852    holds", "0.999787     holds",
                       "max |u - cos t| = 6.0e-04, max |u' + sin t| = 8.2e-04"],
}


def printed(notebook):
    """Everything the notebook's code cells wrote to stdout, in order."""
    return "".join(output.get("text", "") for cell in notebook.cells if cell.cell_type == "code"
                   for output in cell.get("outputs", []) if output.output_type == "stream")


def images(notebook):
    return [output for cell in notebook.cells for output in cell.get("outputs", [])
            if {"image/png", "image/svg+xml"} & set(output.get("data", {}))]


def test_there_is_a_notebook_per_document_and_the_tour():
    assert set(NAMES) == set(QUICK_RUN_PRINTS) == set(FULL_RUN_PRINTS)


@pytest.mark.parametrize("name", NAMES)
def test_the_committed_notebook_is_its_source_run_in_full(name):
    committed = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    source = jupytext.read(NOTEBOOKS / f"{name}.py")
    assert [(c.cell_type, c.source) for c in committed.cells] == \
           [(c.cell_type, c.source) for c in source.cells], \
        f"{name}.ipynb is out of step with {name}.py: python examples/notebooks/run_notebooks.py {name}"
    code = [cell for cell in committed.cells if cell.cell_type == "code"]
    assert [cell.execution_count for cell in code] == list(range(1, len(code) + 1))
    assert not [o for cell in code for o in cell.outputs if o.output_type == "error"]
    assert len(images(committed)) >= 2
    for text in FULL_RUN_PRINTS[name]:
        assert text in printed(committed), f"{name}.ipynb's outputs lack {text!r}"


@pytest.mark.parametrize("name", NAMES)
def test_the_notebook_runs_top_to_bottom(name):
    if name == "02_micrograd_tour" and shutil.which("dot") is None:
        pytest.skip("the tour draws graphs inline, which needs Graphviz's dot program")
    notebook = run_notebooks.execute(NOTEBOOKS / f"{name}.py", quick=True)
    text = printed(notebook)
    for expected in QUICK_RUN_PRINTS[name]:
        assert expected in text, f"{name} (quick) did not print {expected!r}:\n{text}"
    assert images(notebook), f"{name} showed no figure"

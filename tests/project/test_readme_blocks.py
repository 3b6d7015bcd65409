"""Every Python block in the README runs by itself, as a learner pastes it.

Each block runs alone in a fresh Python process, in an empty temporary folder,
with matplotlib's Agg backend: a block that leans on a name defined elsewhere
(another block, an example script) fails here. Blocks whose result the README
states are checked for it: the `nn` block's accuracy and checkpoint, and the
`check_gradients` block's report, line for line as the README prints it.
"""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"^```python\n(.*?)^```", README, re.S | re.M)
NN_BLOCK = "import numpy as np\nimport nn"
CHECK_BLOCK = "from functools import partial\nfrom autograd_lite import check_gradients"
OTHERS = [b for b in BLOCKS if not b.startswith((NN_BLOCK, CHECK_BLOCK))]  # tested below
DRAWS = re.compile(r"\b(draw_graph|save_graph)\b")  # needs the graphviz package


def skip_without_what_it_imports(code):
    """Skip (not fail) when an optional package the block imports is not installed."""
    for module in re.findall(r"^\s*(?:from|import)\s+(\w+)", code, re.M):
        if module not in ("autograd_lite", "nn"):
            pytest.importorskip(module)
    if DRAWS.search(code):
        pytest.importorskip("graphviz")


def run_block(code, folder):
    """Run `code` as a script in `folder` in a new interpreter; return what it printed."""
    script = folder / "readme_block.py"
    script.write_text(code, encoding="utf-8")
    completed = subprocess.run([sys.executable, str(script)], cwd=folder, capture_output=True,
                               text=True, env={**os.environ, "MPLBACKEND": "Agg"})
    assert completed.returncode == 0, (
        f"this README block fails when run by itself:\n{code}\n{completed.stderr}")
    return completed.stdout


def block(starting_with):
    found = [b for b in BLOCKS if b.startswith(starting_with)]
    assert len(found) == 1, f"expected one README python block starting with {starting_with!r}"
    return found[0]


def shown_after(code):
    """The first plain ``` block after `code` in the README: what the README says it prints."""
    rest = README[README.index(code) + len(code) + len("```"):]  # past the block's own fence
    return re.search(r"^```\n(.*?)^```", rest, re.S | re.M).group(1)


def test_the_readme_blocks_are_found():
    assert len(BLOCKS) >= 4 and len(OTHERS) == len(BLOCKS) - 2
    assert len(BLOCKS) == README.count("```python\n")


@pytest.mark.parametrize("code", OTHERS, ids=[b.splitlines()[1][:40] for b in OTHERS])
def test_every_python_block_runs_by_itself(code, tmp_path):
    skip_without_what_it_imports(code)
    run_block(code, tmp_path)


def test_the_nn_block_learns_and_saves(tmp_path):
    code = block(NN_BLOCK)
    skip_without_what_it_imports(code)
    printed = run_block(code, tmp_path)
    final_loss, accuracy = map(float, printed.splitlines()[0].split())
    assert accuracy >= 0.95 and final_loss < 0.2  # two blobs, well apart
    assert (tmp_path / "model.npz").is_file()
    assert "MLP(" in printed  # print(model): the module tree


def test_the_check_gradients_block_prints_what_the_readme_shows(tmp_path):
    code = block(CHECK_BLOCK)
    shown = shown_after(code)
    assert shown.startswith("gradient check: FAILED"), "the README shows the report after the block"
    printed = run_block(code, tmp_path)
    assert printed.splitlines() == shown.splitlines()  # every number the README shows

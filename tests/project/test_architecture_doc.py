"""docs/architecture.md's worked example runs as written: a new primitive is one entry."""
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "architecture.md"


def _blocks():
    return re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)


def test_the_add_a_primitive_example_runs_and_checks_its_gradients():
    entry, example = _blocks()
    assert entry.strip().splitlines()[-1] in example  # the test uses the very line shown
    run = subprocess.run([sys.executable, "-c", example], cwd=ROOT, capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 0, run.stderr


def test_a_second_op_with_a_taken_name_is_refused():
    from autograd_lite.ops import primitive
    with pytest.raises(ValueError, match="'exp' is already in the table"):
        primitive("exp", lambda x: x, lambda g, ans, x: g)

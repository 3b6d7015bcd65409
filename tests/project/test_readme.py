"""The README's code runs as shown: a user copying it gets what it says."""
import re
from pathlib import Path

import pytest

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()
BLOCKS = re.findall(r"```python\n(.*?)```", README, re.S)


def block_starting_with(line):
    found = [b for b in BLOCKS if b.startswith(line)]
    assert len(found) == 1, f"expected one README python block starting with {line!r}"
    return found[0]


@pytest.mark.parametrize("first_line", [
    "import numpy as np\nfrom autograd_lite import",   # the engine in one screen
    "import numpy as np\nimport nn",                    # nn: fit, a hand loop, save/load
])
def test_readme_block_runs(first_line, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    namespace = {}
    exec(compile(block_starting_with(first_line), "README.md", "exec"), namespace)
    if "history" in namespace:  # the nn block's network learns the blobs
        import nn
        assert nn.score(namespace["model"], namespace["X"], namespace["y"]) >= 0.95
        assert (tmp_path / "model.npz").exists()

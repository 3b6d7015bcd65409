"""The README's prose keeps its promises to a learner.

Its code blocks are run by test_readme_blocks.py and its commands checked by
test_project.py; here: how to set up before the two commands, numbers quoted
at round-off level, and the notebooks it lists.
"""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_two_commands_say_how_to_make_a_virtual_environment():
    before_commands = README[README.index("## Two commands"):README.index("```bash")]
    assert "python -m venv .venv && . .venv/bin/activate" in before_commands


def test_round_off_numbers_are_quoted_as_round_off():
    """A number at round-off level (below 1e-12) differs by CPU: the README says "about"."""
    for match in re.finditer(r"\d(?:\.\d+)?e-(\d+)", README):
        if int(match.group(1)) > 12:
            before = README[max(0, match.start() - 6):match.start()]
            assert "about" in before, f"quote {match.group()} as 'about 1e-{match.group(1)}'"


def test_the_notebooks_the_readme_lists_are_the_ones_shipped():
    listed = set(re.findall(r"examples/notebooks/(\w+)\.ipynb", README))
    shipped = {path.stem for path in (ROOT / "examples" / "notebooks").glob("*.ipynb")}
    assert listed == shipped and len(shipped) == 5

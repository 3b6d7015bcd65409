"""The README's promises about setting up and testing stay true."""
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _readme_commands():
    block = re.search(r"## Two commands.*?```bash\n(.*?)```", ROOT.joinpath("README.md").read_text(), re.S)
    return [line for line in block.group(1).splitlines() if line and not line.startswith("#")]


def test_readme_has_exactly_two_commands():
    commands = _readme_commands()
    assert len(commands) == 2
    assert "examples/" in commands[0] and "pytest" in commands[1]


def test_ci_runs_exactly_the_readme_test_command():
    ci_lines = ROOT.joinpath(".ci", "run").read_text().splitlines()
    assert _readme_commands()[1] in ci_lines


def test_demo_named_in_readme_exists():
    demo = re.search(r"python (examples/\S+\.py)", _readme_commands()[0]).group(1)
    assert ROOT.joinpath(demo).is_file()

"""Execute the notebooks from their plain-text form and save them with their outputs.

Each notebook here exists twice: `NAME.py` in jupytext's percent format (the
source, which diffs well: edit this one, or the notebook in Jupyter with
jupytext installed, which keeps the pair in step) and `NAME.ipynb` with the
outputs of a full run, so that it reads well on a code host without running.
This script runs each `.py` top to bottom in a fresh Python kernel (nbclient),
from this folder, and writes the `.ipynb`:

    python examples/notebooks/run_notebooks.py            # every notebook, full length
    python examples/notebooks/run_notebooks.py tour       # those whose name contains "tour"
    python examples/notebooks/run_notebooks.py --quick    # a few-second run of each, not saved

With AUTOGRAD_LITE_QUICK=1 in the environment (what --quick sets) each
notebook trains for fewer epochs: the same code, in a few seconds; the test
suite runs them that way (tests/project/test_notebooks.py). Needs the
`notebooks` extra: `pip install -e ".[notebooks]"`.
"""
import argparse
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
QUICK_ENV = "AUTOGRAD_LITE_QUICK"


def sources():
    """The notebooks' plain-text sources, in reading order."""
    return sorted(path for path in HERE.glob("[0-9]*.py"))


def execute(source, quick=False, timeout=300):
    """Run the notebook whose percent-format source is `source`; return it, outputs included.

    The kernel starts in this folder, so the notebooks find the example scripts one
    level up; `quick` runs it with AUTOGRAD_LITE_QUICK=1. A failing cell raises
    nbclient's CellExecutionError naming the cell and the error.
    """
    import jupytext
    from nbclient import NotebookClient

    notebook = jupytext.read(source)
    previous = os.environ.get(QUICK_ENV)
    os.environ[QUICK_ENV] = "1" if quick else "0"  # the kernel inherits the environment
    try:
        NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                       resources={"metadata": {"path": str(HERE)}},
                       record_timing=False, coalesce_streams=True).execute()  # stable diffs
    finally:
        if previous is None:
            del os.environ[QUICK_ENV]
        else:
            os.environ[QUICK_ENV] = previous
    return notebook


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="run only notebooks whose name contains one")
    parser.add_argument("--quick", action="store_true", help="a short run of each; nothing saved")
    args = parser.parse_args(argv)
    import jupytext

    chosen = [s for s in sources() if not args.names or any(n in s.stem for n in args.names)]
    if not chosen:
        sys.exit(f"no notebook matches {args.names}; there are {[s.stem for s in sources()]}")
    for source in chosen:
        start = time.perf_counter()
        notebook = execute(source, quick=args.quick)
        seconds = time.perf_counter() - start
        if args.quick:
            print(f"ran {source.stem} (quick) in {seconds:.1f} s")
        else:
            jupytext.write(notebook, source.with_suffix(".ipynb"))
            print(f"wrote {source.with_suffix('.ipynb').name} in {seconds:.1f} s")


if __name__ == "__main__":
    main()

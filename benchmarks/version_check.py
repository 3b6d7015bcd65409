"""Does backward's version-counter check cost measurable time on workload 8?

    python benchmarks/version_check.py [--rounds 21] [--iterations 1000]

One process runs workload 8's loop in alternating blocks, with the engine as
shipped and with its backward version check removed (benchmarks/engines/ours.py
`_VersionCheckRemoved`: the engine's `versions.check_unchanged` replaced by one that accepts
everything). Backward calls it only for ops that ran before the latest `.data` change
anywhere, and workload 8 changes none, so both run the same code (the one comparison per op
that decides this stays in both) and the ratio is noise around 1.
Alternating in one process cancels the drift
of a shared machine that separate processes suffer from. Reports the median
time per 10,000 iterations of each and their ratio.
"""
import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchmarks import workloads  # noqa: E402
from benchmarks.engines import ours  # noqa: E402


def compare(rounds=21, iterations=1000):
    """Median seconds per 10,000 iterations: (with check, without check)."""
    ours._check_is_removed()
    problem = dict(workloads.op_overhead(False), iterations=iterations)
    with_check, without = [], []
    for round_ in range(rounds):
        for removed in ((False, True) if round_ % 2 else (True, False)):
            train = ours.overhead(problem)
            start = time.perf_counter()
            if removed:
                with ours._VersionCheckRemoved():
                    train()
            else:
                train()
            (without if removed else with_check).append(time.perf_counter() - start)
    scale = 10_000 / iterations
    return statistics.median(with_check) * scale, statistics.median(without) * scale


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument("--iterations", type=int, default=1000)
    args = parser.parse_args(argv)
    checked, unchecked = compare(args.rounds, args.iterations)
    print("| with check (s / 10k) | without check (s / 10k) | ratio |\n|---:|---:|---:|\n"
          f"| {checked:.3f} | {unchecked:.3f} | {checked / unchecked:.3f} |")


if __name__ == "__main__":
    main()

"""Where does our engine spend its time? cProfile of one workload, top functions by own time.

    python benchmarks/profile_ours.py 8            # workload 8, full size
    python benchmarks/profile_ours.py 1 --steps 2000 --top 25

cProfile adds a fixed cost per Python call, so it overstates small functions;
read the percentages as "where the calls are", and confirm a fix with run.py.
"""
import argparse
import cProfile
import os
import pstats
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchmarks import workloads  # noqa: E402
from benchmarks.engines import ours  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workload", choices=list(workloads.WORKLOADS))
    parser.add_argument("--steps", type=int, help="fewer steps/iterations than the workload's")
    parser.add_argument("--top", type=int, default=20)
    parser.add_argument("--variant", default="ours", choices=list(ours.RUNNERS))
    args = parser.parse_args(argv)
    problem = workloads.WORKLOADS[args.workload][2](False)
    if args.steps:
        problem["iterations" if "iterations" in problem else "steps"] = args.steps
    train = ours.RUNNERS[args.variant][problem["kind"]](problem)
    profiler = cProfile.Profile()
    profiler.runcall(train)
    pstats.Stats(profiler).strip_dirs().sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()

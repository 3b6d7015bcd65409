"""What each of the engine's fast paths gains: the workloads with it and with plain numpy instead.

    python benchmarks/fast_paths.py                 # workloads 1-5 and 8, 7 rounds
    python benchmarks/fast_paths.py --workloads 3 --rounds 11

A fast path stays in the engine only where it gains at least 3% on some
workload. Each is a small named function in autograd_lite/ops.py; here each is
swapped for the plain numpy it stands for, and the eager training loop
(`engines/ours.py`) runs with and without it in alternating blocks in one
process, one thread, so drift on a shared machine hits both alike. The table
gives the median time ratio plain ÷ with (above 1: the fast path gains).
"""
import argparse
import os
import statistics
import sys
import time

for _name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[_name] = "1"
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

from autograd_lite import ops  # noqa: E402
from autograd_lite.value import PRIMITIVES  # noqa: E402
from benchmarks import workloads  # noqa: E402
from benchmarks.engines import ours  # noqa: E402


def _plain_matmul(a, b):
    return np.matmul(a, b)


def _plain_sum_leading_axes(x, shape):
    return np.add.reduce(x.reshape(-1, *shape), axis=0)


def _plain_tall_narrow_product(a, b):
    return a.dot(b)


# name -> [(object, attribute, plain replacement)]
FAST_PATHS = {
    "small products through a.dot (matmul, linear)": [
        (ops, "_matmul_forward", _plain_matmul), (PRIMITIVES["matmul"], "forward", _plain_matmul)],
    "tall-narrow products made column-major": [
        (ops, "_tall_narrow_product", _plain_tall_narrow_product)],
    "bias gradients as ones @ rows (sum_to)": [
        (ops, "_sum_leading_axes", _plain_sum_leading_axes)],
    "the ones vector kept per batch size (sum_to)": [
        (ops, "_ones", lambda n, dtype: np.ones(n, dtype=dtype))],
}

STEPS = {"1": 400, "2": 300, "3": 100, "4": 20, "5": 30, "8": 1500}


def _train(workload):
    problem = workloads.WORKLOADS[workload][2](workload in ("5", "8"))
    if workload == "8":
        problem["iterations"] = STEPS[workload]
        return ours.overhead(problem)
    problem["steps"] = STEPS[workload]
    return (ours.cnn if workload == "5" else ours.mlp)(problem)


class _Swapped:
    """Context manager: the fast path's functions replaced by the plain ones."""

    def __init__(self, swaps):
        self.swaps = swaps

    def __enter__(self):
        self.saved = [getattr(obj, attr) for obj, attr, _ in self.swaps]
        for obj, attr, plain in self.swaps:
            setattr(obj, attr, plain)

    def __exit__(self, *exc):
        for (obj, attr, _), old in zip(self.swaps, self.saved):
            setattr(obj, attr, old)


def measure(workload, swaps, rounds):
    """Median over `rounds` alternating blocks of time(plain) / time(with the fast path)."""
    ratios = []
    for _ in range(rounds):
        times = []
        for plain in (False, True):
            train = _train(workload)  # fresh parameters, built outside the timing
            with _Swapped(swaps if plain else []):
                start = time.perf_counter()
                train()
                times.append(time.perf_counter() - start)
        ratios.append(times[1] / times[0])
    return statistics.median(ratios)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workloads", default="1,2,3,4,5,8")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)
    chosen = args.workloads.split(",")
    print("| fast path | " + " | ".join(f"w{w}" for w in chosen) + " |")
    print("|---|" + "---:|" * len(chosen))
    for name, swaps in FAST_PATHS.items():
        cells = [f"{measure(w, swaps, args.rounds):.3f}" for w in chosen]
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()

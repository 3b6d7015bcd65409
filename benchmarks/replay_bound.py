"""How fast could a traced step be? Workloads 1-3 replayed without the eager engine.

    python benchmarks/replay_bound.py [--workloads 1,2,3] [--rounds 7] [--epochs 500]

`record` runs one epoch through the engine and keeps its graph as a tape: the
primitives in the order they ran, where each input comes from (a parameter, a
constant or an earlier op) and which inputs need a gradient. `Replay` then runs
epochs as straight-line calls of those same forwards and vjps, with values and
gradients in lists instead of `Value`s, the engine's dictionaries and its heap,
and none of its checks (versions, anomaly mode, freed graphs, create_graph). So
it does the engine's numpy work with the least Python around it: the bound a
traced or compiled step could approach, and what the eager engine's bookkeeping
costs. It is a measurement, not a feature: a tape is only valid while the
step's graph keeps its shape, which nothing here checks.

Before timing, `compare` proves the replay does the engine's math: after a few
epochs from the same start its loss equals that of the engine's own loop
(`benchmarks/engines/ours.py`, which the eager timing runs too).
"""
import argparse
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from autograd_lite import Value, ops  # noqa: E402
from autograd_lite.graph_picture import _walk  # noqa: E402
from benchmarks import workloads  # noqa: E402
from benchmarks.engines import formulas, ours  # noqa: E402

WORKLOADS = ("1", "2", "3")  # full-batch dense nets: the same graph every epoch


def _loss(problem, params):
    count = len(problem["weights"])
    out = formulas.mlp_forward(ours.F, problem["x"], params[:count], params[count:],
                               problem["hidden"], problem["out_act"])
    return formulas.mlp_loss(ours.F, out, problem["y"], problem["loss"])


def record(problem):
    """One epoch's graph as a tape over slots: parameters first, then constants, then op results."""
    params = [Value(a) for a in problem["weights"] + problem["biases"]]
    nodes = sorted((v for v in _walk([_loss(problem, params)]) if v._record is not None),
                   key=lambda v: v._number)  # inputs before outputs
    slot_of = {id(p): i for i, p in enumerate(params)}
    constants = []
    for node in nodes:
        for arg, data in zip(node._record.inputs, node._record.saved):
            if not isinstance(arg, Value):
                slot_of[id(arg)] = len(params) + len(constants)
                constants.append(data)
    first_result = len(params) + len(constants)
    for i, node in enumerate(nodes):
        slot_of[id(node)] = first_result + i
    tape = []
    for node in nodes:
        prim, args, kwargs = node._record.primitive, node._record.inputs, node._record.options
        needs = tuple(isinstance(a, Value) and a.requires_grad for a in args)
        tape.append((prim, tuple(slot_of[id(a)] for a in args), kwargs, slot_of[id(node)], needs))
    return tape, constants


class Replay:
    """Epochs of a recorded step: forward, backward, SGD, on plain numpy arrays."""

    def __init__(self, problem):
        self.tape, constants = record(problem)
        self.params = [np.array(a) for a in problem["weights"] + problem["biases"]]
        self.size = len(self.params) + len(constants) + len(self.tape)
        self.fixed = self.params + constants  # the parameters are updated in place
        self.lr = problem["lr"]

    def forward(self):
        values = self.fixed + [None] * len(self.tape)
        for prim, inputs, kwargs, out, _ in self.tape:
            values[out] = prim.forward(*[values[i] for i in inputs], **kwargs)
        return values

    def epoch(self):
        values = self.forward()
        grads = [None] * self.size
        grads[self.tape[-1][3]] = np.array(1.0)
        for prim, inputs, kwargs, out, needs in reversed(self.tape):
            g, ans = grads[out], values[out]
            arrays = [values[i] for i in inputs]
            for k, i in enumerate(inputs):
                if not needs[k]:
                    continue
                vjp = prim.vjps[k]
                pg = g if vjp is ops.unchanged else vjp(g, ans, *arrays, **kwargs)
                if pg.shape != arrays[k].shape:
                    pg = ops.sum_to(pg, shape=arrays[k].shape)
                grads[i] = pg if grads[i] is None else grads[i] + pg
        for i, p in enumerate(self.params):
            p -= self.lr * grads[i]
        return values[self.tape[-1][3]]


def same_math(problem, epochs=5):
    """Raise AssertionError unless `epochs` replayed epochs end at the engine's loss."""
    eager = ours.mlp(dict(problem, steps=epochs))()["loss"]
    replay = Replay(problem)
    for _ in range(epochs):
        loss = replay.epoch()
    np.testing.assert_allclose(loss, eager, rtol=1e-12)


def _repeat(step, n):
    for _ in range(n):
        step()  # (results dropped at once: keeping them alive would time the allocator)


def compare(workload, rounds=7, epochs=500):
    """Median µs per epoch: (the eager engine, the replay, the replay's forward alone)."""
    problem = workloads.WORKLOADS[workload][2](False)
    same_math(problem)
    eager = ours.mlp(dict(problem, steps=epochs))  # (each call starts again from the same weights)
    replay = Replay(problem)
    times = {"eager": [], "replay": [], "forward": []}
    jobs = {"eager": eager,
            "replay": lambda: _repeat(replay.epoch, epochs),
            "forward": lambda: _repeat(replay.forward, epochs)}
    for round_ in range(rounds):
        for name in (list(jobs) if round_ % 2 else list(jobs)[::-1]):
            start = time.perf_counter()
            jobs[name]()
            times[name].append((time.perf_counter() - start) / epochs * 1e6)
    return tuple(statistics.median(times[name]) for name in ("eager", "replay", "forward"))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workloads", default=",".join(WORKLOADS))
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--epochs", type=int, default=500)
    args = parser.parse_args(argv)
    names = args.workloads.split(",")
    unknown = [w for w in names if w not in WORKLOADS]
    if unknown:
        parser.error(f"replay covers workloads {', '.join(WORKLOADS)}; got {', '.join(unknown)}")
    print("| workload | eager µs/epoch | replay µs/epoch | replay forward | replay ÷ eager |\n"
          "|---|---:|---:|---:|---:|")
    for w in names:
        eager, replay, forward = compare(w, args.rounds, args.epochs)
        print(f"| {w} | {eager:.1f} | {replay:.1f} | {forward:.1f} | {replay / eager:.2f} |")


if __name__ == "__main__":
    main()

"""Karpathy's micrograd: scalar `Value`s (workload 6, its own demo, and the scalar chain 7)."""
from micrograd.engine import Value

from . import formulas
from .. import workloads


def _sgd(params, lr):
    for p in params:
        p.data -= lr * p.grad
        p.grad = 0.0  # micrograd's backward adds to .grad


def moons(problem):
    return formulas.scalar_moons_training(problem, Value, _sgd, workloads.learning_rate)


def chain(problem):
    def train():
        x = Value(problem["x0"])
        y = formulas.chain(x, problem["n_ops"])
        y.backward()  # recursive topological sort: RecursionError on a long chain
        return {"loss": y.data, "grad": x.grad}
    return train


RUNNERS = {"micrograd": {"moons": moons, "chain": chain}}

"""Karpathy's micrograd: scalar `Value`s (workload 6, its own demo, and the scalar chain 7)."""
from micrograd.engine import Value

from . import formulas
from .. import workloads


def moons(problem):
    layers = formulas.scalar_layers(problem["weights"], problem["biases"], Value)
    params = formulas.scalar_params(layers)

    def train():
        for step in range(problem["steps"]):
            loss = formulas.scalar_svm_loss(layers, problem["x"], problem["y"], problem["l2"])
            for p in params:
                p.grad = 0.0
            loss.backward()
            lr = workloads.learning_rate(problem, step)
            for p in params:
                p.data -= lr * p.grad
        return {"loss": loss.data}
    return train


def chain(problem):
    def train():
        x = Value(problem["x0"])
        y = formulas.chain(x, problem["n_ops"])
        y.backward()  # recursive topological sort: RecursionError on a long chain
        return {"loss": y.data, "grad": x.grad}
    return train


RUNNERS = {"micrograd": {"moons": moons, "chain": chain}}

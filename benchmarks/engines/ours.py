"""autograd_lite through its public API (Value, functions), the engine being measured.

Variants: "ours" (workload 6 built from scalar Values, like micrograd),
"ours-vec" (workload 6 vectorized), "ours-nocheck" (workload 8 with the
version-counter check of issue 9 patched out, to measure what it costs).
"""
import numpy as np

import autograd_lite
from autograd_lite import Value, conv2d, log_softmax, max_pool2d

from . import formulas
from .. import workloads

F = formulas.namespace(
    tanh=Value.tanh, sigmoid=Value.sigmoid, relu=Value.relu, log=Value.log,
    log_softmax=log_softmax, mean=Value.mean, sum=Value.sum)


def _sgd(params, lr):
    for p in params:
        p.data -= lr * p.grad
        p.grad = None


def mlp(problem):
    weights = [Value(w) for w in problem["weights"]]
    biases = [Value(b) for b in problem["biases"]]
    params = weights + biases

    def train():
        for step, (x, y) in enumerate(workloads.batches(problem)):
            out = formulas.mlp_forward(F, x, weights, biases, problem["hidden"], problem["out_act"])
            loss = formulas.mlp_loss(F, out, y, problem["loss"])
            if problem["l2"]:
                loss = loss + formulas.l2_penalty(F, weights + biases, problem["l2"])
            loss.backward()
            _sgd(params, workloads.learning_rate(problem, step))
        return {"loss": loss.item()}
    return train


def scalar_moons(problem):
    layers = formulas.scalar_layers(problem["weights"], problem["biases"], Value)
    params = formulas.scalar_params(layers)

    def train():
        for step in range(problem["steps"]):
            loss = formulas.scalar_svm_loss(layers, problem["x"], problem["y"], problem["l2"])
            loss.backward()
            _sgd(params, workloads.learning_rate(problem, step))
        return {"loss": loss.item()}
    return train


def cnn(problem):
    params = [Value(problem[k]) for k in ("conv_w", "conv_b", "fc_w", "fc_b")]
    conv_w, conv_b, fc_w, fc_b = params

    def train():
        for x, y in workloads.batches(problem):
            h = max_pool2d(conv2d(x, conv_w, conv_b).relu(), 2)
            out = h.reshape(len(x), -1) @ fc_w + fc_b
            loss = formulas.mlp_loss(F, out, y, "cross_entropy")
            loss.backward()
            _sgd(params, problem["lr"])
        return {"loss": loss.item()}
    return train


def chain(problem):
    def train():
        x = Value(problem["x0"])
        y = formulas.chain(x, problem["n_ops"])
        y.backward()
        return {"loss": y.item(), "grad": x.grad.item()}
    return train


def overhead(problem):
    a, b = Value(problem["a"]), Value(problem["b"])

    def train():
        for _ in range(problem["iterations"]):
            a.grad = b.grad = None
            out = formulas.overhead_expression(F, a, b)
            out.backward()
        return {"loss": out.item(), "grad": float(a.grad.sum())}
    return train


def overhead_without_version_check(problem):
    """Workload 8 with autograd_lite.autograd._check_versions replaced by a no-op (issue 9)."""
    engine = autograd_lite.autograd
    if not hasattr(engine, "_check_versions"):
        raise NotImplementedError("autograd_lite.autograd has no _check_versions to patch out")
    run = overhead(problem)

    def train():
        original = engine._check_versions
        engine._check_versions = lambda *args: None
        try:
            return run()
        finally:
            engine._check_versions = original
    return train


RUNNERS = {
    "ours": {"mlp": mlp, "moons": scalar_moons, "cnn": cnn, "chain": chain, "overhead": overhead},
    "ours-vec": {"moons": mlp},
    "ours-nocheck": {"overhead": overhead_without_version_check},
}

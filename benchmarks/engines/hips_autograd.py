"""HIPS autograd (`autograd.numpy` + `grad`): traces a numpy function, the same formulas as ours."""
import autograd.numpy as anp
import numpy as np
from autograd import value_and_grad

from . import formulas
from .. import workloads


def _log_softmax(z):
    top = anp.max(z, axis=-1, keepdims=True)
    return z - top - anp.log(anp.sum(anp.exp(z - top), axis=-1, keepdims=True))


F = formulas.namespace(
    tanh=anp.tanh, sigmoid=lambda z: 1.0 / (1.0 + anp.exp(-z)), relu=lambda z: anp.maximum(z, 0.0),
    log=anp.log, log_softmax=_log_softmax, mean=anp.mean, sum=anp.sum)


def mlp(problem):
    params = [w.copy() for w in problem["weights"]] + [b.copy() for b in problem["biases"]]
    layers = len(problem["weights"])

    def objective(params, x, y):
        weights, biases = params[:layers], params[layers:]
        out = formulas.mlp_forward(F, x, weights, biases, problem["hidden"], problem["out_act"])
        loss = formulas.mlp_loss(F, out, y, problem["loss"])
        if problem["l2"]:
            loss = loss + formulas.l2_penalty(F, params, problem["l2"])
        return loss

    loss_and_grads = value_and_grad(objective)

    def train():
        for step, (x, y) in enumerate(workloads.batches(problem)):
            loss, grads = loss_and_grads(params, x, y)
            lr = workloads.learning_rate(problem, step)
            for p, g in zip(params, grads):
                p -= lr * g
        return {"loss": float(loss)}
    return train


def chain(problem):
    def train():
        y, slope = value_and_grad(lambda x: formulas.chain(x, problem["n_ops"]))(problem["x0"])
        return {"loss": float(y), "grad": float(slope)}
    return train


def overhead(problem):
    a, b = problem["a"], problem["b"]
    loss_and_grads = value_and_grad(lambda a, b: formulas.overhead_expression(F, a, b), argnum=(0, 1))

    def train():
        for _ in range(problem["iterations"]):
            out, (grad_a, grad_b) = loss_and_grads(a, b)
        return {"loss": float(out), "grad": float(np.sum(grad_a))}
    return train


RUNNERS = {"autograd": {"mlp": mlp, "moons": mlp, "chain": chain, "overhead": overhead}}

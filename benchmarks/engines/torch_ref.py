"""PyTorch CPU (reference only; one thread, see the README), the same formulas as ours."""
import numpy as np
import torch

from . import formulas
from .. import workloads

torch.set_num_threads(1)

F = formulas.namespace(
    tanh=torch.tanh, sigmoid=torch.sigmoid, relu=torch.relu, log=torch.log,
    log_softmax=lambda z: torch.log_softmax(z, dim=-1), mean=torch.mean, sum=torch.sum,
    conv2d=torch.conv2d, max_pool2d=torch.nn.functional.max_pool2d)


def _tensor(array, requires_grad=False):
    return torch.tensor(array, requires_grad=requires_grad)


def _sgd(params, lr):
    with torch.no_grad():
        for p in params:
            p -= lr * p.grad
            p.grad = None


def _on_torch(problem):
    """The problem with its data as tensors (labels as int64), so batches slice tensors."""
    problem = dict(problem)
    problem["x"] = _tensor(problem["x"])
    problem["y"] = torch.from_numpy(np.asarray(problem["y"]))
    return problem


def mlp(problem):
    weights = [_tensor(w, True) for w in problem["weights"]]
    biases = [_tensor(b, True) for b in problem["biases"]]
    params = weights + biases
    data = _on_torch(problem)

    def train():
        for step, (x, y) in enumerate(workloads.batches(data)):
            out = formulas.mlp_forward(F, x, weights, biases, problem["hidden"], problem["out_act"])
            loss = formulas.mlp_loss(F, out, y, problem["loss"])
            if problem["l2"]:
                loss = loss + formulas.l2_penalty(F, params, problem["l2"])
            loss.backward()
            _sgd(params, workloads.learning_rate(problem, step))
        return {"loss": loss.item()}
    return train


def cnn(problem):
    params = [_tensor(problem[k], True) for k in ("conv_w", "conv_b", "fc_w", "fc_b")]
    data = _on_torch(problem)
    return formulas.cnn_training(F, params, lambda: workloads.batches(data), problem["lr"], _sgd)


def chain(problem):
    def train():
        return formulas.chain_backward(torch.tensor(problem["x0"], dtype=torch.float64, requires_grad=True), problem["n_ops"])
    return train


def overhead(problem):
    a, b = _tensor(problem["a"], True), _tensor(problem["b"], True)
    return formulas.overhead_training(F, a, b, problem["iterations"])


RUNNERS = {"torch": {"mlp": mlp, "moons": mlp, "cnn": cnn, "chain": chain, "overhead": overhead}}

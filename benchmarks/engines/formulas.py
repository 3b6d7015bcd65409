"""The workloads' forward passes and losses, written once for every autodiff engine.

`F` is a small namespace of the engine's functions (tanh, sigmoid, relu, log,
log_softmax, mean, sum); everything else is operators (`@ + - * **`), which
our Value, torch tensors and HIPS autograd boxes all share. So every engine
computes the same formula, in the same order.
"""
from types import SimpleNamespace

import numpy as np


def namespace(**functions):
    return SimpleNamespace(**functions)


def mlp_forward(F, x, weights, biases, hidden, out_act):
    """x @ W + b per layer; `hidden` activation between layers, `out_act` (or none) at the end."""
    h = x
    for i, (w, b) in enumerate(zip(weights, biases)):
        h = h @ w + b
        activation = hidden if i < len(weights) - 1 else out_act
        if activation is not None:
            h = getattr(F, activation)(h)
    return h


def mlp_loss(F, out, y, kind):
    """The workload's loss of predictions `out` against targets `y`."""
    if kind == "half_sse":      # the cosine post: ½ Σ (ŷ - y)²
        return F.sum((out - y) ** 2) * 0.5
    if kind == "mse":
        return F.mean((out - y) ** 2)
    if kind == "bce":
        return -F.mean(y * F.log(out) + (1.0 - y) * F.log(1.0 - out))
    if kind == "cross_entropy":  # integer labels y
        return -F.mean(F.log_softmax(out)[np.arange(len(y)), y])
    if kind == "svm":            # micrograd's demo: max-margin loss
        return F.mean(F.relu(1.0 - y * out))
    raise ValueError(f"unknown loss {kind!r}")


def cnn_loss(F, x, y, conv_w, conv_b, fc_w, fc_b):
    """Workload 5: conv 3x3, ReLU, max-pool 2, linear, softmax cross-entropy."""
    h = F.max_pool2d(F.relu(F.conv2d(x, conv_w, conv_b)), 2)
    return mlp_loss(F, h.reshape(len(x), -1) @ fc_w + fc_b, y, "cross_entropy")


def cnn_training(F, params, batches, lr, sgd):
    """Workload 5's loop for any engine: `batches()` yields (x, y), `sgd` updates `params`."""
    def train():
        for x, y in batches():
            loss = cnn_loss(F, x, y, *params)
            loss.backward()
            sgd(params, lr)
        return {"loss": loss.item()}
    return train


def l2_penalty(F, params, alpha):
    """micrograd's demo regularisation: alpha * Σ p²."""
    total = F.sum(params[0] * params[0])
    for p in params[1:]:
        total = total + F.sum(p * p)
    return total * alpha


def overhead_expression(F, a, b):
    """Workload 8's expression: sum(tanh(a*b + a))."""
    return F.sum(F.tanh(a * b + a))


def overhead_training(F, a, b, iterations):
    """Workload 8's loop for an engine whose values have `.grad`, `.backward()` and `.item()`."""
    def train():
        for _ in range(iterations):
            a.grad = b.grad = None
            out = overhead_expression(F, a, b)
            out.backward()
        return {"loss": out.item(), "grad": float(a.grad.sum())}
    return train


def scalar_layers(weights, biases, make_value):
    """micrograd's layout: per layer a list of neurons, each ([w_i], b), as the engine's scalars."""
    return [[([make_value(float(w[i, j])) for i in range(w.shape[0])], make_value(float(b[j])))
             for j in range(w.shape[1])] for w, b in zip(weights, biases)]


def scalar_forward(layers, row):
    """micrograd's Neuron: b + Σ w_i x_i, ReLU on every layer but the last (same op order)."""
    h = [float(v) for v in row]
    for index, layer in enumerate(layers):
        h = [sum((wi * xi for wi, xi in zip(w, h)), b) for w, b in layer]
        if index < len(layers) - 1:
            h = [v.relu() for v in h]
    return h[0]


def scalar_svm_loss(layers, x, y, alpha):
    """micrograd demo's loss: mean of relu(1 - y·score) plus alpha * Σ p²."""
    losses = [(1 + -float(yi) * scalar_forward(layers, row)).relu() for row, yi in zip(x, y[:, 0])]
    data_loss = sum(losses) * (1.0 / len(losses))
    return data_loss + alpha * sum(p * p for p in scalar_params(layers))


def scalar_params(layers):
    return [p for layer in layers for w, b in layer for p in w + [b]]


def scalar_moons_training(problem, make_value, sgd, learning_rate):
    """Workload 6's loop for a scalar engine: `sgd(params, lr)` after each backward also resets the grads."""
    layers = scalar_layers(problem["weights"], problem["biases"], make_value)
    params = scalar_params(layers)

    def train():
        for step in range(problem["steps"]):
            loss = scalar_svm_loss(layers, problem["x"], problem["y"], problem["l2"])
            loss.backward()
            sgd(params, learning_rate(problem, step))
        return {"loss": float(loss.data)}
    return train


def chain(x, n_ops):
    """Workload 7: n_ops scalar ops, y = y * 0.9999 + 0.0001 repeated."""
    y = x
    for _ in range(n_ops // 2):
        y = y * 0.9999 + 0.0001
    return y


def chain_backward(x, n_ops):
    """Workload 7 on a scalar `x` of an engine with `.backward()`, `.item()` and `.grad.item()`."""
    y = chain(x, n_ops)
    y.backward()
    return {"loss": y.item(), "grad": x.grad.item()}

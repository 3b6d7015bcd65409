"""Hand-written vectorized numpy: forward plus a hand-derived backward, no autodiff at all.

This is the no-overhead limit an autodiff engine on numpy can approach.
"""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .. import workloads

_ACTIVATIONS = {  # activation and its derivative written in terms of its output
    "tanh": (np.tanh, lambda a: 1.0 - a * a),
    "sigmoid": (lambda z: 1.0 / (1.0 + np.exp(-z)), lambda a: a * (1.0 - a)),
    "relu": (lambda z: np.maximum(z, 0.0), lambda a: a > 0),
}


def _log_softmax(z):
    shifted = z - z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def _loss_and_grad(out, y, kind):
    """The loss and d(loss)/d(out)."""
    if kind == "half_sse":
        return 0.5 * np.sum((out - y) ** 2), out - y
    if kind == "mse":
        return np.mean((out - y) ** 2), 2.0 * (out - y) / out.size
    if kind == "bce":
        loss = -np.mean(y * np.log(out) + (1.0 - y) * np.log(1.0 - out))
        return loss, (out - y) / (out * (1.0 - out)) / out.size
    if kind == "cross_entropy":
        logp = _log_softmax(out)
        rows = np.arange(len(y))
        grad = np.exp(logp)
        grad[rows, y] -= 1.0
        return -np.mean(logp[rows, y]), grad / len(y)
    if kind == "svm":
        margin = 1.0 - y * out
        return np.mean(np.maximum(margin, 0.0)), -y * (margin > 0) / out.size
    raise ValueError(kind)


def mlp(problem):
    weights = [w.copy() for w in problem["weights"]]
    biases = [b.copy() for b in problem["biases"]]
    hidden, out_act, l2 = problem["hidden"], problem["out_act"], problem["l2"]

    def train():
        for step, (x, y) in enumerate(workloads.batches(problem)):
            activations = [x]
            for i, (w, b) in enumerate(zip(weights, biases)):
                z = activations[-1] @ w + b
                name = hidden if i < len(weights) - 1 else out_act
                activations.append(_ACTIVATIONS[name][0](z) if name else z)
            loss, g = _loss_and_grad(activations[-1], y, problem["loss"])
            if out_act:
                g = g * _ACTIVATIONS[out_act][1](activations[-1])
            if l2:
                loss += l2 * sum(np.sum(p * p) for p in weights + biases)
            lr = workloads.learning_rate(problem, step)
            for i in range(len(weights) - 1, -1, -1):
                grad_w, grad_b = activations[i].T @ g, g.sum(axis=0)
                if i:
                    g = (g @ weights[i].T) * _ACTIVATIONS[hidden][1](activations[i])
                if l2:
                    grad_w, grad_b = grad_w + 2 * l2 * weights[i], grad_b + 2 * l2 * biases[i]
                weights[i] -= lr * grad_w
                biases[i] -= lr * grad_b
        return {"loss": float(loss)}
    return train


def cnn(problem):
    conv_w, conv_b, fc_w, fc_b = (problem[k].copy() for k in ("conv_w", "conv_b", "fc_w", "fc_b"))
    o, c, kh, kw = conv_w.shape

    def train():
        for x, y in workloads.batches(problem):
            n = len(x)
            patches = sliding_window_view(x, (kh, kw), axis=(2, 3))      # N, C, OH, OW, KH, KW
            oh, ow = patches.shape[2:4]
            columns = patches.transpose(0, 2, 3, 1, 4, 5).reshape(n * oh * ow, c * kh * kw)
            conv = columns @ conv_w.reshape(o, -1).T + conv_b               # N*OH*OW, O
            relu = np.maximum(conv, 0.0).reshape(n, oh, ow, o).transpose(0, 3, 1, 2)
            blocks = relu.reshape(n, o, oh // 2, 2, ow // 2, 2)
            pooled = blocks.max(axis=(3, 5))
            flat = pooled.reshape(n, -1)
            loss, g = _loss_and_grad(flat @ fc_w + fc_b, y, "cross_entropy")
            grad_fc_w, grad_fc_b = flat.T @ g, g.sum(axis=0)
            g_pool = (g @ fc_w.T).reshape(pooled.shape)
            winner = blocks == pooled[:, :, :, None, :, None]
            winner = winner / winner.sum(axis=(3, 5), keepdims=True)       # ties share, as ours
            g_relu = (winner * g_pool[:, :, :, None, :, None]).reshape(relu.shape)
            g_conv = (g_relu * (relu > 0)).transpose(0, 2, 3, 1).reshape(n * oh * ow, o)
            grad_conv_w = (g_conv.T @ columns).reshape(conv_w.shape)
            grad_conv_b = g_conv.sum(axis=0)
            for p, gp in ((conv_w, grad_conv_w), (conv_b, grad_conv_b), (fc_w, grad_fc_w),
                          (fc_b, grad_fc_b)):
                p -= problem["lr"] * gp
        return {"loss": float(loss)}
    return train


def chain(problem):
    def train():
        y, slope = problem["x0"], 1.0
        for _ in range(problem["n_ops"] // 2):
            y = y * 0.9999 + 0.0001
            slope *= 0.9999
        return {"loss": y, "grad": slope}
    return train


def overhead(problem):
    a, b = problem["a"], problem["b"]

    def train():
        for _ in range(problem["iterations"]):
            t = np.tanh(a * b + a)
            out = t.sum()
            g = 1.0 - t * t
            grad_a, grad_b = g * (b + 1.0), g * a
        return {"loss": float(out), "grad": float(grad_a.sum())}
    return train


RUNNERS = {"numpy": {"mlp": mlp, "moons": mlp, "cnn": cnn, "chain": chain, "overhead": overhead}}

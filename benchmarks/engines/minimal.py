"""A minimal numpy autodiff engine: micrograd's design on arrays, and nothing else.

The speed targets were set against "a 60-line NumPy engine". This is one,
so the table can show what an engine with no features costs: each op builds a
closure that sends gradients to its inputs, and backward runs them in a
topological order. No version check, no `create_graph`, no anomaly hooks, no
`no_grad`, no protection against aliased `.grad`s. Workloads 1-4 and 8.
"""
import numpy as np

from . import formulas
from .. import workloads


def _sum_to(g, shape):
    """Undo broadcasting: sum the added leading axes and the stretched ones."""
    while g.ndim > len(shape):
        g = g.sum(axis=0)
    for axis, n in enumerate(shape):
        if n == 1 and g.shape[axis] != 1:
            g = g.sum(axis=axis, keepdims=True)
    return g


class Tensor:
    __slots__ = ("data", "grad", "parents", "send", "constant")
    __array_ufunc__ = None  # ndarray @ Tensor -> Tensor.__rmatmul__

    def __init__(self, data, parents=(), send=None, constant=False):
        self.data, self.grad, self.parents, self.send = data, None, parents, send
        self.constant = constant

    def receive(self, g):
        g = g if g.shape == self.data.shape else _sum_to(g, self.data.shape)
        self.grad = g if self.grad is None else self.grad + g

    def _op(self, other, forward, vjp_a, vjp_b):
        other = _wrap(other)
        a, b = self.data, other.data

        def send(g):
            if not self.constant:
                self.receive(vjp_a(g, a, b))
            if not other.constant:
                other.receive(vjp_b(g, a, b))
        return Tensor(forward(a, b), (self, other), send)

    def __add__(self, o): return self._op(o, np.add, lambda g, a, b: g, lambda g, a, b: g)
    def __mul__(self, o): return self._op(o, np.multiply, lambda g, a, b: g * b, lambda g, a, b: g * a)
    def __matmul__(self, o): return self._op(o, np.matmul, lambda g, a, b: g @ b.T, lambda g, a, b: a.T @ g)
    def __rmatmul__(self, o): return _wrap(o) @ self
    def __sub__(self, o): return self + -1.0 * _wrap(o)
    def __rsub__(self, o): return _wrap(o) + -1.0 * self
    def __neg__(self): return -1.0 * self
    __radd__, __rmul__ = __add__, __mul__

    def _unary(self, value, derivative):
        def send(g):
            self.receive(g * derivative(out.data))
        out = Tensor(value, (self,), send)
        return out

    def __pow__(self, p): return self._unary(self.data ** p, lambda ans: p * self.data ** (p - 1))
    def tanh(self): return self._unary(np.tanh(self.data), lambda ans: 1.0 - ans * ans)
    def sigmoid(self): return self._unary(1.0 / (1.0 + np.exp(-self.data)), lambda ans: ans * (1.0 - ans))
    def log(self): return self._unary(np.log(self.data), lambda ans: 1.0 / self.data)
    def relu(self): return self._unary(np.maximum(self.data, 0.0), lambda ans: ans > 0)
    def sum(self): return self._unary(np.asarray(self.data.sum()), lambda ans: np.ones_like(self.data))
    def mean(self): return self.sum() * (1.0 / self.data.size)
    def item(self): return self.data.item()

    def log_softmax(self):
        shifted = self.data - self.data.max(axis=-1, keepdims=True)
        value = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
        return Tensor(value, (self,), lambda g: self.receive(g - np.exp(value) * g.sum(axis=-1, keepdims=True)))

    def __getitem__(self, index):
        def send(g):
            full = np.zeros_like(self.data)
            np.add.at(full, index, g)
            self.receive(full)
        return Tensor(self.data[index], (self,), send)

    def backward(self):
        order, seen, stack = [], set(), [(self, False)]
        while stack:  # iterative depth-first topological sort
            node, children_done = stack.pop()
            if children_done:
                order.append(node)
            elif id(node) not in seen:
                seen.add(id(node))
                stack.append((node, True))
                stack.extend((p, False) for p in node.parents)
        self.grad = np.ones_like(self.data)
        for node in reversed(order):
            if node.send is not None:
                node.send(node.grad)


def _wrap(x):
    return x if isinstance(x, Tensor) else Tensor(np.asarray(x), constant=True)


F = formulas.namespace(tanh=Tensor.tanh, sigmoid=Tensor.sigmoid, relu=Tensor.relu, log=Tensor.log,
                       log_softmax=Tensor.log_softmax, mean=Tensor.mean, sum=Tensor.sum)


def mlp(problem):
    params = [Tensor(p.copy()) for p in problem["weights"] + problem["biases"]]
    weights, biases = params[:len(problem["weights"])], params[len(problem["weights"]):]

    def train():
        for step, (x, y) in enumerate(workloads.batches(problem)):
            out = formulas.mlp_forward(F, x, weights, biases, problem["hidden"], problem["out_act"])
            loss = formulas.mlp_loss(F, out, y, problem["loss"])
            loss.backward()
            lr = workloads.learning_rate(problem, step)
            for p in params:
                p.data -= lr * p.grad
                p.grad = None
        return {"loss": loss.item()}
    return train


def overhead(problem):
    a, b = Tensor(problem["a"].copy()), Tensor(problem["b"].copy())
    return formulas.overhead_training(F, a, b, problem["iterations"])


RUNNERS = {"minimal": {"mlp": mlp, "overhead": overhead}}

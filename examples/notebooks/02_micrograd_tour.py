# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # From micrograd to autograd_lite
#
# [micrograd](https://github.com/karpathy/micrograd) is the smallest autodiff engine worth
# reading: a scalar `Value` that records `+ * ** relu`, and a `backward()` that walks the
# records in reverse. autograd_lite is the same idea with numpy arrays inside each `Value`.
# This tour runs micrograd's own demo line by line here, then the network of its demo
# notebook with tensors instead of scalars, draws that network's graph after `backward()`,
# and ends with an exercise: derive a gradient by hand and let `check_gradients` grade it.
#
# Every cell runs top to bottom in a few seconds.

# %%
import os

import numpy as np
import matplotlib.pyplot as plt
from sklearn.datasets import make_moons

import nn
from autograd_lite import Value, check_gradients, draw_graph

QUICK = os.environ.get("AUTOGRAD_LITE_QUICK") == "1"  # the test suite's short run

# %% [markdown]
# ## 1. micrograd's demo, line by line
#
# micrograd's README opens with this program. Only the import differs: autograd_lite's
# `Value` takes the same numbers and operators.

# %%
a = Value(-4.0)
b = Value(2.0)
c = a + b
d = a * b + b**3
c += c + 1            # while recording, += makes a new recorded value, as in micrograd
c += 1 + c + (-a)
d += d * 2 + (b + a).relu()
d += 3 * d + (b - a).relu()
e = c - d
f = e**2
g = f / 2.0
g += 10.0 / f
print(f"{g.data:.4f}")  # micrograd prints 24.7041, the outcome of this forward pass
g.backward()
print(f"{a.grad:.4f}")  # micrograd prints 138.8338, i.e. the numerical value of dg/da
print(f"{b.grad:.4f}")  # micrograd prints 645.5773, i.e. the numerical value of dg/db

# %% [markdown]
# The same three numbers. A value shows its data, the op that made it and, after
# `backward()`, its gradient; `.data` and `.grad` are numpy arrays (0-d here):

# %%
print(repr(a), repr(g), sep="\n")

# %% [markdown]
# ### One neuron, drawn
#
# micrograd's lecture builds a neuron y = tanh(b + w1·x1 + w2·x2) with a bias chosen so that
# the output is 1/√2, and draws its graph. `draw_graph` does that here: a box per value
# (data and grad), an ellipse per op. Blue boxes are leaves that want a gradient, the orange
# one is the output. `retain_graph=True` keeps the graph for the picture.

# %%
x1, x2 = Value(2.0, name="x1"), Value(0.0, name="x2")
w1, w2 = Value(-3.0, name="w1"), Value(1.0, name="w2")
bias = Value(6.8813735870195432, name="b")
n = bias + w1 * x1 + w2 * x2
n.name = "n"
n.retain_grad()      # keep the gradient of an intermediate value too
y = n.tanh()
y.name = "y"
y.backward(retain_graph=True)
print(f"y = {y.item():.4f}")
for leaf in (x1, w1, x2, w2, bias, n):
    print(f"dy/d{leaf.name} = {leaf.grad:.4f}")
draw_graph(y)

# %% [markdown]
# The gradients are the lecture's: 1 - tanh²(n) = 0.5 at n, then each product passes the
# other factor's value back (dy/dw1 = 0.5 · x1 = 1, dy/dx1 = 0.5 · w1 = -1.5).
#
# ## 2. micrograd's demo network, with tensors
#
# micrograd's `demo.ipynb` trains `MLP(2, [16, 16, 1])` on 100 points of scikit-learn's
# two moons, labels ±1, with a max-margin (hinge) loss plus a small L2 penalty, 100 steps of
# gradient descent with the learning rate falling from 1.0 to 0.1. In micrograd every weight
# is its own `Value` and every multiply-add its own graph node: thousands per step. Here a
# layer is one `Value` holding a matrix, so a step records a few dozen ops. The initial
# weights follow micrograd's: uniform in [-1, 1], biases 0.

# %%
X, labels = make_moons(n_samples=100, noise=0.1, random_state=1)
y = labels.reshape(-1, 1) * 2.0 - 1.0          # labels -1 and +1

rng = np.random.default_rng(1337)
model = nn.MLP([2, 16, 16, 1], activation="relu")
for layer in (model[0], model[2], model[4]):
    nn.init.uniform_(layer.weight, -1.0, 1.0, generator=rng)
    nn.init.zeros_(layer.bias)
print(model)


def hinge_loss(scores):
    return (1 - y * scores).relu().mean()                 # mean of max(0, 1 - y·score)


def loss_and_accuracy(model):
    scores = model(X)
    data_loss = hinge_loss(scores)
    reg_loss = 1e-4 * sum((p * p).sum() for p in model.parameters())
    accuracy = np.mean((scores.data > 0) == (y > 0))
    return data_loss + reg_loss, accuracy


steps = 20 if QUICK else 100
for k in range(steps):
    loss, accuracy = loss_and_accuracy(model)
    model.zero_grad()
    loss.backward()
    learning_rate = 1.0 - 0.9 * k / 100
    for p in model.parameters():
        p.data -= learning_rate * p.grad       # .data: the update is not recorded
    if k % 10 == 0 or k == steps - 1:
        print(f"step {k} loss {loss.item():.4f}, accuracy {accuracy * 100:.0f}%")

# %% [markdown]
# The decision boundary, as in micrograd's notebook:

# %%
grid = np.linspace(-2.0, 2.5, 150)
xx, yy = np.meshgrid(grid, np.linspace(-1.5, 2.0, 150))
scores = nn.predict(model, np.c_[xx.ravel(), yy.ravel()]).reshape(xx.shape)
fig, ax = plt.subplots(figsize=(5, 4))
ax.contourf(xx, yy, scores > 0, cmap=plt.cm.Spectral, alpha=0.8)
ax.scatter(X[:, 0], X[:, 1], c=y.ravel(), s=20, cmap=plt.cm.jet, edgecolors="k")
ax.set(title="MLP [2, 16, 16, 1] on two moons: score > 0", xlabel="x₁", ylabel="x₂")
plt.show()

# %% [markdown]
# ### Its graph after backward
#
# The data loss of one step, drawn after `backward()` with a dashed box per layer call
# (`group_modules=True`): three `linear` ops and two `relu`s where micrograd's graph has
# thousands of scalar nodes. Arrays larger than six numbers show min/mean/max.

# %%
data_loss = hinge_loss(model(X))
data_loss.name = "data loss"
model.zero_grad()
data_loss.backward(retain_graph=True)
draw_graph(data_loss, group_modules=True, rankdir="TB")

# %% [markdown]
# ## 3. Exercise: derive a gradient by hand; `check_gradients` grades it
#
# As in cs231n's assignments: you write the backward pass of a small network in numpy, and a
# checker compares it with the engine's gradient and with finite differences. The network is
# one hidden tanh layer on the moons with the hinge loss (no penalty):
#
#     h = tanh(X W1 + b1)        X (N, 2), W1 (2, 8), b1 (8,)
#     s = h W2 + b2              W2 (8, 1), b2 (1,)
#     loss = mean(max(0, 1 - y·s))
#
# `loss_fn` is that loss written with `Value` ops; the engine differentiates it.

# %%
rng = np.random.default_rng(1)  # a point where about a third of the margins are inactive
params = {"W1": rng.normal(size=(2, 8)), "b1": rng.normal(size=8) * 0.5,
          "W2": rng.normal(size=(8, 1)), "b2": np.zeros(1)}


def loss_fn(W1, b1, W2, b2):
    h = (X @ W1 + b1).tanh()
    s = h @ W2 + b2
    return (1 - y * s).relu().mean()


# %% [markdown]
# **Your turn.** Below is a first attempt with three mistakes a learner often makes. The
# report's table says which parameter is wrong and how (a row with a shape instead of
# errors: the gradient has the wrong shape); the hints say what to look for. Edit
# `your_gradients` and rerun the cell until the report says PASSED.

# %%
def your_gradients(W1, b1, W2, b2):
    h = np.tanh(X @ W1 + b1)
    s = h @ W2 + b2
    margins = 1 - y * s
    loss = np.maximum(0, margins).mean()
    ds = -y * (margins > 0)          # ∂loss/∂s
    dW2 = h.T @ ds
    db2 = ds.sum(axis=0)
    dz = ds @ W2.T                   # back through tanh
    dW1 = dz.T @ X
    db1 = dz.sum(axis=0)
    return loss, {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}


print(check_gradients(your_gradients, loss_fn, params, batch_size=len(X)))

# %% [markdown]
# ### A solution (look after trying)

# %%
def solution(W1, b1, W2, b2):
    N = len(X)
    h = np.tanh(X @ W1 + b1)
    s = h @ W2 + b2
    margins = 1 - y * s
    loss = np.maximum(0, margins).mean()
    ds = -y * (margins > 0) / N      # the mean divides by N
    dW2 = h.T @ ds
    db2 = ds.sum(axis=0)
    dz = (ds @ W2.T) * (1 - h**2)    # tanh'(z) = 1 - tanh(z)²
    dW1 = X.T @ dz                   # (2, N) @ (N, 8): W1's shape
    db1 = dz.sum(axis=0)
    return loss, {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}


print(check_gradients(solution, loss_fn, params, batch_size=len(X)))

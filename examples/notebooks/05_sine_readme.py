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
# # The sine approximator: its claims, learning-rate scheduling, then a PINN
#
# The sine README describes a 1-30-1 tanh network, written from scratch in numpy, that
# learns sin(x) from 100 points on [-2π, 2π] with Xavier initialization and "gradient
# descent with learning rate scheduling" in about 8000 epochs, and claims a final loss
# below 0.001, a max error below 0.05 and "99%+ accuracy". This notebook checks each claim
# with autograd_lite, shows what the schedule is for, and takes the README's last "next
# step": a physics-informed network that solves u'' + u = 0 without ever seeing its solution.
#
# Runs top to bottom in about fifteen seconds.

# %%
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path.cwd().parent))  # examples/: the scripts' functions

import numpy as np
import matplotlib.pyplot as plt

import nn
from autograd_lite import Value, grad, no_grad
import sine_fit
from _common import train_full_batch

# %matplotlib inline

QUICK = os.environ.get("AUTOGRAD_LITE_QUICK") == "1"  # the test suite's short run
EPOCHS = 800 if QUICK else sine_fit.EPOCHS            # the README's ~8000

# %% [markdown]
# ## 1. The README's network and its claims
#
# 1-30-1, tanh hidden units, a linear output, Xavier-normal weights. The README leaves the
# rest open; `examples/sine_fit.py` picks full-batch descent with momentum 0.9 and a
# learning rate of 0.05 halved every quarter of the epochs (`nn.StepLR`).

# %%
x, y = sine_fit.make_data()                    # 100 points of sin(x) on [-2π, 2π]
model = sine_fit.sine_network(np.random.default_rng(0))
losses, rates = sine_fit.train(model, x, y, EPOCHS)

x_dense = np.linspace(-2 * np.pi, 2 * np.pi, 1000).reshape(-1, 1)  # between the points too
with no_grad():
    final_mse = nn.mse_loss(model(x), y).item()
    prediction = model(x_dense).data
error = (prediction - np.sin(x_dense)).ravel()
r2 = nn.r2_score(prediction, np.sin(x_dense))
claims = [("final loss (MSE) < 0.001", final_mse, final_mse < 0.001),
          ("max error < 0.05 (1000-point grid)", np.abs(error).max(), np.abs(error).max() < 0.05),
          ("99%+ accuracy (R² on the grid)", r2, r2 > 0.99),
          ("~8000 epochs", len(losses), len(losses) <= 8000)]
for claim, value, holds in claims:
    print(f"{claim:36} {value:<12.6g} {'holds' if holds else 'does not hold'}")

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 4))
axes[0].plot(x_dense, np.sin(x_dense), color="0.6", linewidth=3, label="sin(x)")
axes[0].plot(x, y, "o", markersize=3, label="training points")
axes[0].plot(x_dense, prediction, "--", label="network")
axes[0].set(xlabel="x", ylabel="y", title="1-30-1 tanh network approximating sin(x)")
axes[0].legend(loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=3, fontsize=8)
axes[1].plot(x_dense, error)
axes[1].axhline(0, color="0.5", linewidth=0.8)
axes[1].set(xlabel="x", ylabel="prediction - sin(x)", title="Pointwise error")
plt.show()

# %% [markdown]
# ## 2. What the learning-rate schedule is for
#
# The same network from the same start, three ways for the same number of epochs: the
# schedule above; momentum with the learning rate held at 0.05; and plain gradient descent
# (no momentum) at 0.05.

# %%
def train_constant(momentum):
    network = sine_fit.sine_network(np.random.default_rng(0))
    optimizer = nn.SGD(network.parameters(), lr=sine_fit.LEARNING_RATE, momentum=momentum)
    return nn.fit(network, nn.mse_loss, optimizer, x, y, EPOCHS, shuffle=False).loss


runs = {"momentum 0.9, lr halved every quarter": losses,
        "momentum 0.9, lr 0.05 throughout": train_constant(0.9),
        "plain descent, lr 0.05": train_constant(0.0)}
for name, run in runs.items():
    print(f"{name:40} final MSE {run[-1]:.3g}, worst in the second half {max(run[EPOCHS // 2:]):.3g}")

fig, axes = plt.subplots(1, 2, figsize=(11, 4))
for name, run in runs.items():
    axes[0].semilogy(run, linewidth=1, label=name)
axes[0].axhline(1e-3, color="k", linestyle=":", linewidth=1, label="the README's 0.001")
axes[0].set(xlabel="epoch", ylabel="MSE", title="Training loss")
axes[0].legend(fontsize=8)
axes[1].plot(rates)
axes[1].set(xlabel="epoch", ylabel="learning rate", title="The schedule (nn.StepLR)")
plt.show()

# %% [markdown]
# Held at 0.05, momentum makes fast progress but the loss keeps spiking, to about 1e-2
# even late in training: where it ends depends on when you stop (here, between two spikes,
# lower than the schedule's). Halving the rate every 2000 epochs removes the spikes: after
# the first halving the loss falls steadily and stays under the README's 0.001. Without
# momentum, 0.05 is far too slow for 8000 epochs here (and larger rates diverge).
#
# ## 3. The next step: a physics-informed network
#
# The README's list of next steps ends with "Build Physics-Informed Neural Networks for
# differential equations". A PINN learns u(t) with no solution data: its loss asks u to
# satisfy the equation and the initial conditions. For the oscillator u'' + u = 0,
# u(0) = 1, u'(0) = 0 on [0, 2π] (exact solution cos t):
#
#     loss = mean over 64 points of (u''(t) + u(t))²  +  (u(0) - 1)²  +  u'(0)²
#
# u' and u'' are derivatives of the network with respect to its *input*, taken by the
# engine with `grad(..., create_graph=True)`, so they are themselves differentiable. The
# network treats each row of t on its own, so the gradient of Σ u(tᵢ) is u'(tᵢ) at every
# point, and the gradient of Σ u'(tᵢ) is u''(tᵢ):

# %%
def derivatives(model, t_points):
    """u, u' and u'' of the network at the given times, all differentiable Values."""
    t = Value(t_points, requires_grad=True)
    u = model(t)
    (du,) = grad(u.sum(), t, create_graph=True)
    (d2u,) = grad(du.sum(), t, create_graph=True)
    return u, du, d2u


def physics_loss(model, t_collocation):
    u, _, d2u = derivatives(model, t_collocation)
    u0, du0, _ = derivatives(model, np.zeros((1, 1)))
    return ((d2u + u) ** 2).mean() + ((u0 - 1.0) ** 2).sum() + (du0 ** 2).sum()


# %% [markdown]
# Training differentiates that loss, through both derivatives, with respect to the weights
# (a third derivative in reverse mode): a 1-32-32-1 tanh network, Adam with the learning
# rate annealed from 0.01, 3000 iterations. (`examples/pinn_oscillator.py` is this section
# as a script.)

# %%
t_collocation = np.linspace(0.0, 2 * np.pi, 64).reshape(-1, 1)
pinn = nn.MLP([1, 32, 32, 1], activation="tanh", rng=np.random.default_rng(0))
pinn_losses = train_full_batch(pinn, lambda: physics_loss(pinn, t_collocation),
                               epochs=300 if QUICK else 3000, lr=0.01)
t = np.linspace(0.0, 2 * np.pi, 500).reshape(-1, 1)
u, du, d2u = (v.data for v in derivatives(pinn, t))
print(f"max |u - cos t| = {np.max(np.abs(u - np.cos(t))):.1e}, "
      f"max |u' + sin t| = {np.max(np.abs(du + np.sin(t))):.1e}")

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 4))
axes[0].plot(t, np.cos(t), color="0.6", linewidth=4, label="u = cos t (exact)")
axes[0].plot(t, u, "--", label="u (PINN)")
axes[0].plot(t, -np.sin(t), color="0.8", linewidth=4, label="u' = -sin t (exact)")
axes[0].plot(t, du, ":", label="u' (PINN, by autograd)")
axes[0].set(xlabel="t", title="u'' + u = 0,  u(0) = 1,  u'(0) = 0")
axes[0].legend(fontsize=8)
axes[1].semilogy(pinn_losses)
axes[1].set(xlabel="iteration", ylabel="physics loss", title="Training the PINN (Adam)")
plt.show()

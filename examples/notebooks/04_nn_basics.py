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
# # The NN-basics guide: its two examples, and its backward pass checked
#
# "Neural Network Basics" writes a feedforward network in numpy, forward and backward by
# hand, and runs two scikit-learn examples: a [2, 4, 4, 1] sigmoid classifier and a
# [3, 5, 5, 1] ReLU regressor. Here both run with `nn`, where the engine derives the
# gradients; then `check_gradients` holds the guide's hand-written backward against the
# engine for each activation it offers: right for sigmoid with cross-entropy, wrong for the
# others, where it drops the activation's derivative f'(z).
#
# Runs top to bottom in about ten seconds.

# %%
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path.cwd().parent))  # examples/: the scripts' functions

import numpy as np
import matplotlib.pyplot as plt
from sklearn.linear_model import LogisticRegression

import nn
from autograd_lite import check_gradients
from autograd_lite.references import nn_basics
import classification
import regression

# %matplotlib inline

QUICK = os.environ.get("AUTOGRAD_LITE_QUICK") == "1"  # the test suite's short run
EPOCHS = 100 if QUICK else 1000                       # the guide's 1000

# %% [markdown]
# ## 1. Example 1: binary classification
#
# The guide's data (`make_classification`, 1000 points in 2-D, an 80/20 split, features
# standardized) and its `NeuralNetwork(layers=[2, 4, 4, 1], activation='sigmoid',
# learning_rate=0.1)`: sigmoid on every layer, He initialization, full-batch gradient
# descent for 1000 epochs. Its backward starts from (ŷ - y)/m, the gradient of the binary
# cross-entropy, so that is the loss here.

# %%
X_train, X_test, y_train, y_test = classification.load_data()
model = nn.MLP([2, 4, 4, 1], activation="sigmoid", output_activation="sigmoid", init="he",
               rng=np.random.default_rng(0))
history = nn.fit(model, nn.binary_cross_entropy, nn.SGD(model.parameters(), lr=0.1),
                 X_train, y_train, epochs=EPOCHS)
linear = LogisticRegression().fit(X_train, y_train.ravel())
print(f"test accuracy {nn.score(model, X_test, y_test):.4f} "
      f"(train {nn.score(model, X_train, y_train):.4f}); "
      f"a linear boundary (logistic regression): {linear.score(X_test, y_test.ravel()):.4f}")

# %% [markdown]
# The guide prints no number to compare with. 0.90 is also what a straight line gets:
# the two classes overlap, and the network's boundary is nearly straight.

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 4))
axes[0].plot(history.loss)
axes[0].set(xlabel="Epoch", ylabel="Loss", title="Training Loss")
axes[0].grid(True)
grid = np.linspace(-3.5, 3.5, 200)
xx, yy = np.meshgrid(grid, grid)
probability = nn.predict(model, np.c_[xx.ravel(), yy.ravel()]).reshape(xx.shape)
axes[1].contourf(xx, yy, probability, levels=20, cmap="RdBu_r", alpha=0.6)
axes[1].contour(xx, yy, probability, levels=[0.5], colors="k")
axes[1].scatter(X_test[:, 0], X_test[:, 1], c=y_test.ravel(), cmap="RdBu_r", edgecolors="k", s=18)
axes[1].set(xlabel="feature 1", ylabel="feature 2", title="p = 0.5 boundary and test points")
plt.show()

# %% [markdown]
# ## 2. Example 2: regression
#
# `make_regression` with 3 features, target standardized, and `NeuralNetwork(layers=[3, 5,
# 5, 1], activation='relu', learning_rate=0.01)`. As written, the guide's class puts a ReLU
# on the output too, and a ReLU cannot output the negative half of a standardized target.
# We train both: the network as written, and with a linear output (the guide's
# `NeuralNetworkAdvanced(..., output_activation='linear')`). The loss is ½·MSE, whose
# gradient is the guide's (ŷ - y)/m.

# %%
X_train, X_test, y_train, y_test = regression.load_data()
linear_output, history = regression.train(X_train, y_train, None, EPOCHS, seed=0)
relu_output, history_relu = regression.train(X_train, y_train, "relu", EPOCHS, seed=0)
print(f"test R²: {nn.score(linear_output, X_test, y_test):.3f} with a linear output, "
      f"{nn.score(relu_output, X_test, y_test):.3f} as written (ReLU output)")

# %%
prediction = nn.predict(linear_output, X_test)
relu_prediction = nn.predict(relu_output, X_test)
fig, axes = plt.subplots(1, 2, figsize=(10, 4))
axes[0].plot(2 * np.array(history.loss), label="linear output")
axes[0].plot(2 * np.array(history_relu.loss), "--", label="ReLU output (as written)")
axes[0].set(xlabel="Epoch", ylabel="Loss (MSE)", title="Training Loss (Regression)")
axes[0].legend()
axes[1].scatter(y_test, prediction, s=12, label="linear output")
axes[1].scatter(y_test, relu_prediction, s=12, marker="x", label="ReLU output: never below 0")
axes[1].plot([-3, 3], [-3, 3], "k--", linewidth=1)
axes[1].set(xlabel="true (standardized)", ylabel="predicted", title="Test set")
axes[1].legend()
plt.show()

# %% [markdown]
# ## 3. The guide's backward pass, checked per activation
#
# Both of the guide's classes start the backward pass from
#
#     dz = (output.T - y.T) / m          # "For other activations, use MSE derivative"
#
# whatever the activation. `autograd_lite.references.nn_basics` transcribes the code as
# written. `check_gradients` runs it on a small random problem ([3, 5, 5, 1], m = 8) and
# compares it with the engine's gradient of the loss the guide's `compute_loss` reports:
# binary cross-entropy for sigmoid, MSE for the others.

# %%
rng = np.random.default_rng(0)
m = 8
X = rng.standard_normal((m, 3))
weights, biases = nn_basics.init_parameters([3, 5, 5, 1], rng)
biases = [b + 0.1 * rng.standard_normal(b.shape) for b in biases]  # away from relu's kink
params = nn_basics.as_params(weights, biases)
targets = {"binary": (rng.random((m, 1)) < 0.5).astype(float), "real": rng.standard_normal((m, 1))}

reports = {}
for activation in ("sigmoid", "tanh", "relu", "leaky_relu"):
    loss = "bce" if activation == "sigmoid" else "mse"
    y = targets["binary" if loss == "bce" else "real"]
    reports[activation] = check_gradients(
        nn_basics.hand_fn(nn_basics.implementation1, X, y, activation),
        nn_basics.loss_fn(X, y, activation, activation, loss), params, batch_size=m)
    wrong = [p.name for p in reports[activation].parameters.values() if not p.passed]
    print(f"{activation:10} + {loss.upper():3}: "
          f"{'right' if not wrong else 'wrong for ' + ', '.join(wrong)}")

# %% [markdown]
# Right for sigmoid: with cross-entropy, ∂L/∂z at the output really is (ŷ - y)/m, the
# sigmoid's derivative cancels. For every other activation the derivative f'(z) of the
# output is missing (and a 2: the derivative of (ŷ - y)² is 2(ŷ - y)). tanh's report names it:

# %%
print(reports["tanh"])

# %% [markdown]
# With f'(z) and the 2 put back (`nn_basics.gradients_of_reported_loss`), all four pass:

# %%
for activation in ("sigmoid", "tanh", "relu", "leaky_relu"):
    loss = "bce" if activation == "sigmoid" else "mse"
    y = targets["binary" if loss == "bce" else "real"]
    report = check_gradients(
        nn_basics.hand_fn(nn_basics.gradients_of_reported_loss, X, y, activation, activation, loss),
        nn_basics.loss_fn(X, y, activation, activation, loss), params, batch_size=m)
    print(f"{activation:10} corrected: {'PASSED' if report.passed else 'FAILED'}")

# %% [markdown]
# Two more of the guide's derivations, each off by a constant the report names: its
# `NeuralNetworkAdvanced` with a linear output (the 2 is missing: ½), and the formula
# section, which divides by m twice (1/m).

# %%
y = targets["real"]
advanced = check_gradients(
    nn_basics.hand_fn(nn_basics.implementation2, X, y, "relu", "linear"),
    nn_basics.loss_fn(X, y, "relu", "linear", "mse"), params, batch_size=m)
formulas = check_gradients(
    nn_basics.hand_fn(nn_basics.formula_section, X, y, "tanh"),
    nn_basics.loss_fn(X, y, "tanh", "tanh", "half_mse"), params, batch_size=m)
for title, report in (("implementation 2, linear output", advanced),
                      ("formula section", formulas)):
    print(f"{title}: factor {report['W0'].factor}; {report['W0'].hint}")

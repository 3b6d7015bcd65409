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
# # An introduction to neural networks, runnable
#
# The intro slides ("An Introduction to Neural networks", Lim & Mohta) go from gradient
# descent to a neuron, then convolution, and end with "a Python simulation of a simple
# CNN" for handwritten digits. This notebook runs each step with autograd_lite: the engine
# computes every derivative the slides write down (or leave to "the chain rule").
#
# Runs top to bottom in about half a minute (the digits CNN is most of it).

# %%
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path.cwd().parent))  # examples/: the scripts' functions

import numpy as np
import matplotlib.pyplot as plt

import nn
from autograd_lite import Value, check_gradients, conv2d
from autograd_lite.references import slides
import digits_cnn
import learning_rates

# %matplotlib inline

QUICK = os.environ.get("AUTOGRAD_LITE_QUICK") == "1"  # the test suite's short run

# %% [markdown]
# ## 1. Gradient descent, and the step size α
#
# The slides: $x_{n+1} = x_n - \alpha f'(x_n)$, "where α is the step size", and its two
# problems, α too small and α too large. On $f(x) = x^2$ from $x_0 = 1$, with $f'$ from the
# engine: build $f$ from a `Value`, call `backward()`, read `.grad`.

# %%
x = Value(1.0)
(x**2).backward()
print("f'(1) =", x.grad)  # 2x at x = 1

paths = {alpha: learning_rates.gradient_descent_1d(alpha, x0=1.0, steps=15)
         for alpha in (0.02, 0.3, 1.05)}
for alpha, xs in paths.items():
    print(f"α = {alpha:<5} x after 15 steps: {xs[-1]: .3g}")

# %% [markdown]
# α = 0.02 crawls (each step keeps 96 % of x), α = 0.3 lands at 1e-6, and α = 1.05
# overshoots further every step: each step multiplies x by 1 - 2α = -1.1.

# %%
grid = np.linspace(-2.2, 2.2, 200)
fig, ax = plt.subplots(figsize=(6, 4))
ax.plot(grid, grid**2, color="0.6")
for (alpha, xs), marker in zip(paths.items(), "os^"):
    shown = np.abs(xs) < 2.2
    ax.plot(xs[shown], xs[shown] ** 2, marker + "-", markersize=4, linewidth=0.8, label=f"α = {alpha}")
ax.set(xlabel="x", ylabel="f(x) = x²", ylim=(-0.2, 4.9), title="15 steps of gradient descent from x₀ = 1")
ax.legend()
plt.show()

# %% [markdown]
# The same on a real network: the NN-basics guide's [3, 5, 5, 1] ReLU regressor (see the
# NN-basics notebook), full-batch descent for 200 epochs at five learning rates.

# %%
from regression import load_data

data = load_data()
epochs = 30 if QUICK else learning_rates.EPOCHS
curves = {lr: learning_rates.train_with(lr, data, epochs, seed=0)
          for lr in learning_rates.LEARNING_RATES}
for lr, losses in curves.items():
    print(f"lr = {lr:<6} final training MSE {losses[-1]:.3g}")

fig, ax = plt.subplots(figsize=(8, 4))
for lr, losses in curves.items():
    note = " (diverged at once)" if not np.isfinite(losses[-1]) else ""
    ax.semilogy(np.where(losses < 1e6, losses, np.nan), label=f"α = {lr:g}{note}")
ax.set(xlabel="epoch", ylabel="training MSE", ylim=(3e-3, 1e3), title="α too small, about right, too large")
ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1))
plt.show()

# %% [markdown]
# 0.001 barely moves; 0.1 is best; at 1 the ReLUs die (every unit's input goes negative, so
# no gradient flows and the loss stays high); at 3 the weights overflow to inf.
#
# ## 2. The neuron and the binary cross-entropy
#
# A neuron computes $y = f(b + w_1x_1 + \dots + w_nx_n)$; for two classes the slides use the
# binary cross-entropy $-[y \log \hat y + (1-y)\log(1-\hat y)]$. Their two example
# calculations, with `nn.binary_cross_entropy`:

# %%
for y_hat in (0.9, 0.1):
    loss = nn.binary_cross_entropy(Value([y_hat]), np.array([1.0]))
    print(f"y = 1, ŷ = {y_hat}: loss = {loss.item():.4f}")  # the slides: 0.1054 and 2.3026

# %% [markdown]
# "The loss is higher when the model is confident but wrong." The slides write no
# derivative; the textbook one for a sigmoid neuron is ∂L/∂z = ŷ - y, so ∂L/∂wᵢ = (ŷ - y) xᵢ
# and ∂L/∂b = ŷ - y (`autograd_lite.references.slides` has it). `check_gradients` compares it
# with the engine's gradient and with finite differences:

# %%
rng = np.random.default_rng(42)
x4 = rng.standard_normal(4)
neuron_params = {"w": rng.standard_normal(4), "b": np.asarray(0.1)}
print(check_gradients(lambda w, b: slides.neuron_gradients_shortcut(x4, 1.0, w, b),
                      lambda w, b: slides.engine_neuron_loss(x4, 1.0, w, b), neuron_params))

# %% [markdown]
# ## 3. Convolution by hand, and `conv2d`
#
# "A convolution turns a small patch of an image into a single value in a feature map": slide
# a small kernel over the image and take the sum of products at each position. By hand,
# with two loops:

# %%
def convolve_by_hand(image, kernel):
    kh, kw = kernel.shape
    out = np.zeros((image.shape[0] - kh + 1, image.shape[1] - kw + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(image[i:i + kh, j:j + kw] * kernel)
    return out


X_train, X_test, y_train, y_test = digits_cnn.load_data()  # scikit-learn's 8×8 digits
image = X_train[0, 0]
edges = np.array([[-1.0, 0.0, 1.0]] * 3)                # a vertical-edge detector
by_hand = convolve_by_hand(image, edges)
# conv2d takes batches of multi-channel images (N, C, H, W) and kernels (out, in, kh, kw)
by_engine = conv2d(Value(image.reshape(1, 1, 8, 8)), Value(edges.reshape(1, 1, 3, 3)))
print("by hand and conv2d agree:", np.allclose(by_hand, by_engine.data[0, 0], rtol=1e-12, atol=1e-12))

fig, axes = plt.subplots(1, 3, figsize=(9, 3))
axes[0].imshow(image, cmap="gray_r")
for ax, signed in zip(axes[1:], (edges, by_hand)):  # red positive, blue negative, white 0
    ax.imshow(signed, cmap="RdBu_r", vmin=-np.abs(signed).max(), vmax=np.abs(signed).max())
for ax, title in zip(axes, (f"a digit {y_train[0]}", "kernel: -1, 0, +1 columns",
                            "feature map (6×6)")):
    ax.set(title=title, xticks=[], yticks=[])
plt.show()

# %% [markdown]
# The feature map is large (red) where the digit gets darker from left to right and
# negative (blue) where it gets lighter: the kernel finds vertical edges.
#
# Like PyTorch's, `conv2d` does not flip the kernel (a cross-correlation, what CNNs call
# convolution). Its gradients by hand are two more slides of chain rule: with G = ∂L/∂out,
# ∂L/∂K = x ⋆ G and ∂L/∂x = pad(G) ⋆ flip(K). `references.slides.tiny_cnn_gradients` chains
# them for image → convolution → tanh → sigmoid neuron → cross-entropy; the engine agrees:

# %%
rng = np.random.default_rng(0)
cnn_params = {"kernel": rng.standard_normal((3, 3)), "conv_bias": np.asarray(0.0),
              "w": rng.standard_normal((6, 6)), "b": np.asarray(0.0)}
print(check_gradients(lambda **p: slides.tiny_cnn_gradients(image, 1.0, **p),
                      lambda **p: slides.engine_tiny_cnn_loss(image, 1.0, **p), cnn_params))

# %% [markdown]
# ## 4. The digits CNN
#
# The slides' last step: a simple CNN for handwritten digits. Filters slide over the image,
# pooling keeps "the essence" of each area, a linear layer makes the prediction:
#
#     Conv2d(1, 16, 3, padding=1) → ReLU → MaxPool2d(2)      8×8 → 4×4
#     Conv2d(16, 32, 3, padding=1) → ReLU → MaxPool2d(2)     4×4 → 2×2
#     Flatten → Linear(128, 10)
#
# trained with cross-entropy and Adam, mini-batches of 32, for 20 epochs on 1347 images;
# 450 are kept for the test. (`examples/digits_cnn.py` is the same as a script.)

# %%
rng = np.random.default_rng(0)
if QUICK:  # a smaller training set and three epochs: the same code, in a few seconds
    X_train, y_train = X_train[:600], y_train[:600]
model = digits_cnn.digit_cnn(rng)
history = digits_cnn.train(model, X_train, y_train, X_test, y_test,
                           epochs=3 if QUICK else digits_cnn.EPOCHS, rng=rng)
predicted = nn.predict(model, X_test).argmax(axis=1)
print(f"epochs: {len(history['loss'])}, test accuracy: {np.mean(predicted == y_test):.3f} "
      f"({np.sum(predicted != y_test)} of {len(y_test)} test digits wrong)")

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
epoch_numbers = np.arange(1, len(history["loss"]) + 1)
axes[0].plot(epoch_numbers, history["loss"], "o-")
axes[0].set(xlabel="epoch", ylabel="cross-entropy", title="Training loss")
axes[1].plot(epoch_numbers, history["accuracy"], "o-", label="train (during the epoch)")
axes[1].plot(epoch_numbers, history["val_accuracy"], "s-", label="test")
axes[1].set(xlabel="epoch", ylabel="accuracy", title="Accuracy")
axes[1].legend()
plt.show()

# %% [markdown]
# The first layer's sixteen 3×3 filters, as learned, and the test digits it gets wrong:

# %%
filters = model[0].weight.data[:, 0]
fig, axes = plt.subplots(2, 8, figsize=(8, 2.2))
for ax, kernel in zip(axes.flat, filters):
    ax.imshow(kernel, cmap="RdBu_r")
    ax.set(xticks=[], yticks=[])
plt.show()

wrong = np.flatnonzero(predicted != y_test)[:10]
fig, axes = plt.subplots(1, len(wrong), figsize=(1.2 * len(wrong), 1.6), squeeze=False)
for ax, i in zip(axes[0], wrong):
    ax.imshow(X_test[i, 0], cmap="gray_r")
    ax.set_title(f"true {y_test[i]}\nsaid {predicted[i]}", fontsize=8)
    ax.set(xticks=[], yticks=[])
plt.show()

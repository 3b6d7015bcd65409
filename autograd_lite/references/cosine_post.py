"""The cosine post ("Neural Networks I: First Network from Scratch"), its code transcribed.

Source: shared/seeds/cosine-fit-one-hidden-layer.md, section "Code". A 1-H-1
network (the post uses H = 5)

    ŷ = σ(w2ᵀ σ(w1 t + b1) + b2),   σ = tanh,   w1, b1, w2: (H, 1), b2: (1, 1)

fitted to N = 50 points t in [0, 1]. What the post says and what its code does:

- data: the text says "a cosine wave y = cos(2πt)", the code's `my_func`
  returns `np.sin(2 * np.pi * x)`. We transcribe the code (sine).
- loss: the text defines E = (1/N) Σₙ (ŷₙ - yₙ)²; the code's `loss_fn`, the
  number it prints as "MSE loss" and plots as "Mean squared error E", is
  Σₙ (yₙ - ŷₙ)² / (2N). The reported loss here is the code's.
- gradient: the code's per-point `gradients` are the derivatives of the
  network output ŷₙ (correct), and its training loop accumulates
  `dEdw1_sum += dEdw1 * (y_hat[j] - y[j])` over the points with no 1/N, so the
  sums are the gradient of ½ Σₙ (ŷₙ - yₙ)² = N · loss_fn = (N/2) · E — not of
  the reported loss: N = 50 times too large. `gradients_of_reported_loss` divides by N.
- the text's eq. (nn_ex1) puts the sum outside the outer σ and counts 4 hidden
  units; the code (and eq. nn_ex2) computes σ(w2ᵀ z + b2) with 5. We follow the code.

The draft of the post (cosine-fit-one-hidden-layer.draft.md) stops at eq.
(nn_ex1): no code and no gradients to transcribe.
"""
import numpy as np

N_POINTS = 50
N_HIDDEN = 5
LEARNING_RATE = 0.01


def my_func(x):
    """The target the code fits: `return np.sin(2 * np.pi * x)` (the text says cos(2πt))."""
    return np.sin(2 * np.pi * x)


def sigma(x):
    """`def sigma(x): return np.tanh(x)`."""
    return np.tanh(x)


def dsigma(x):
    """`def dsigma(x): return (1 - np.tanh(x)**2)`."""
    return 1 - np.tanh(x) ** 2


def make_data(n=N_POINTS):
    """`x = np.linspace(0, 1.0, 50); x = x.reshape(-1,1); y = my_func(x)`."""
    x = np.linspace(0, 1.0, n).reshape(-1, 1)
    return x, my_func(x)


def initialize_weights(n_size=N_HIDDEN, seed=42):
    """The post's `intialize_weights`: `np.random.seed(42)`, then N(0, 1) draws of
    w1, w2, b1 (n_size × 1) and b2 (1 × 1), in that order (replayed with RandomState)."""
    draws = np.random.RandomState(seed)
    w1 = draws.normal(loc=0.0, scale=1.0, size=(n_size, 1))
    w2 = draws.normal(loc=0.0, scale=1.0, size=(n_size, 1))
    b1 = draws.normal(loc=0.0, scale=1.0, size=(n_size, 1))
    b2 = draws.normal(loc=0.0, scale=1.0, size=(1, 1))
    return {"w1": w1, "b1": b1, "w2": w2, "b2": b2}


def feed_forward1(x, w1, b1):
    """`z = sigma(w1 * x + b1)`: the hidden layer for one point x (shape (1,))."""
    return sigma(w1 * x + b1)


def feed_forward2(z, w2, b2):
    """`y_hat = sigma(np.dot(w2.T, z) + b2)`: the output for one point, shape (1, 1)."""
    return sigma(np.dot(w2.T, z) + b2)


def gradients(x, w1, b1, w2, b2):
    """The post's per-point `gradients`: the derivatives of ŷ (not of a loss) for one x.

        dEdw1 = dsigma(np.dot(w2.T, z) + b2) * w2 * dsigma(w1 * x +  b1) * x
        dEdb1 = dsigma(np.dot(w2.T, z) + b2) * w2 * dsigma(w1 * x +  b1)
        dEdw2 = dsigma(np.dot(w2.T, z) + b2) * z
        dEdb2 = dsigma(np.dot(w2.T, z) + b2)
    """
    z = feed_forward1(x, w1, b1)
    dEdw1 = dsigma(np.dot(w2.T, z) + b2) * w2 * dsigma(w1 * x + b1) * x
    dEdb1 = dsigma(np.dot(w2.T, z) + b2) * w2 * dsigma(w1 * x + b1)
    dEdw2 = dsigma(np.dot(w2.T, z) + b2) * z
    dEdb2 = dsigma(np.dot(w2.T, z) + b2)
    return dEdw1, dEdb1, dEdw2, dEdb2


def loss_fn(y, y_hat):
    """The reported "MSE": `square_vals.sum() / (2.0 * len(y))` with
    `square_vals = np.abs(y - y_hat) ** 2`, i.e. Σₙ (yₙ - ŷₙ)² / (2N)."""
    square_vals = np.abs(y - y_hat) ** 2
    return square_vals.sum() / (2.0 * len(y))


def training_gradients(x, y, w1, b1, w2, b2):
    """One epoch of the post's training loop: (reported loss, the accumulated gradients).

    Transcribes the loop body, flaw included:

        dEdw1_sum += dEdw1 * (y_hat[j] - y[j])     (likewise b1, w2, b2)
        loss = loss_fn(y_hat, y)

    The sums are the gradient of ½ Σₙ (ŷₙ - yₙ)² = N · loss_fn(y, ŷ), so they
    are N times the gradient of the loss the post reports.
    """
    sums = {"w1": 0, "b1": 0, "w2": 0, "b2": 0}
    y_hat = 0.0 * x
    for j in range(len(x)):
        z = feed_forward1(x[j], w1, b1)
        y_hat[j] = feed_forward2(z, w2, b2)
        per_point = gradients(x[j], w1, b1, w2, b2)
        for name, g in zip(("w1", "b1", "w2", "b2"), per_point):
            sums[name] = sums[name] + g * (y_hat[j] - y[j])
    return loss_fn(y_hat, y), sums


def gradients_of_reported_loss(x, y, w1, b1, w2, b2):
    """Corrected: the gradient of the reported loss Σₙ (yₙ - ŷₙ)² / (2N).

    What changed: the post's accumulated sums divided by N = len(x). (For the
    text's E = (1/N) Σₙ (ŷₙ - yₙ)², which has no ½, divide by N/2 instead.)
    """
    loss, sums = training_gradients(x, y, w1, b1, w2, b2)
    return loss, {name: g / len(x) for name, g in sums.items()}


def engine_loss(x, y, w1, b1, w2, b2):
    """The reported loss Σₙ (yₙ - ŷₙ)² / (2N), built from autograd_lite `Value` ops.

    `x`, `y` are the (N, 1) data columns (numpy); the parameters are `Value`s.
    All N points at once: hidden (H, N), output (1, N).
    """
    hidden = (w1 @ x.T + b1).tanh()
    y_hat = (w2.T @ hidden + b2).tanh()
    return ((y.T - y_hat) ** 2).sum() / (2.0 * len(y))

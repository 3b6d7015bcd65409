"""The sine README ("A simple neural network built from scratch ... to approximate sin(x)").

Source: shared/seeds/sine-approximator-readme.md. It states the setup only:
"Input Layer (1 neuron) → Hidden Layer (30 neurons) → Output Layer (1 neuron)",
"Activation Function: Hyperbolic tangent (tanh)", "Loss Function: Mean Squared
Error (MSE)", "Training Data: 100 points sampled from sin(x)", "x values from
-2π to 2π", "Xavier Weight Initialization". It shows no code and no gradient
formula, so the backward pass here is ours: the textbook chain rule, written in
the documents' style (the cosine post's): per point, then accumulated over the
points, with the MSE's 2/N written out. It does not say whether the output
unit is tanh or linear; both are provided (`output_activation`).

Parameters as in the cosine post: w1, b1, w2 of shape (H, 1), b2 of shape (1, 1).
"""
import numpy as np

N_POINTS = 100
N_HIDDEN = 30
OUTPUT_ACTIVATIONS = ("linear", "tanh")


def make_data(n=N_POINTS):
    """"100 points sampled from sin(x)", "x values from -2π to 2π": (x, y) columns."""
    x = np.linspace(-2 * np.pi, 2 * np.pi, n).reshape(-1, 1)
    return x, np.sin(x)


def xavier_init(n_hidden=N_HIDDEN, seed=0):
    """"Xavier Weight Initialization": Glorot uniform, U(±√(6 / (fan_in + fan_out))),
    zero biases (the README names the scheme, not its variant)."""
    rng = np.random.default_rng(seed)
    limit = np.sqrt(6.0 / (1 + n_hidden))  # both layers: fan_in + fan_out = 1 + H
    return {"w1": rng.uniform(-limit, limit, (n_hidden, 1)), "b1": np.zeros((n_hidden, 1)),
            "w2": rng.uniform(-limit, limit, (n_hidden, 1)), "b2": np.zeros((1, 1))}


def _output(v, output_activation):
    """(ŷ, dŷ/dv) for the output pre-activation v."""
    _check(output_activation)
    if output_activation == "linear":
        return v, np.ones_like(v)
    return np.tanh(v), 1 - np.tanh(v) ** 2


def _check(output_activation):
    if output_activation not in OUTPUT_ACTIVATIONS:
        raise ValueError(f"sine_readme: output_activation must be 'linear' or 'tanh', "
                         f"got {output_activation!r}")


def predict(x, w1, b1, w2, b2, output_activation="linear"):
    """ŷ = g(w2ᵀ tanh(w1 x + b1) + b2) for every point: (N, 1)."""
    hidden = np.tanh(x @ w1.T + b1.T)
    return _output(hidden @ w2 + b2, output_activation)[0]


def mse(y, y_hat):
    """"Mean Squared Error (MSE)": (1/N) Σₙ (ŷₙ - yₙ)²."""
    return np.mean((y_hat - y) ** 2)


def gradients(x, y, w1, b1, w2, b2, output_activation="linear"):
    """(MSE, its gradient), derived by the chain rule point by point (ours; the README has none).

    For each point n, with z = tanh(w1 xₙ + b1), v = w2ᵀ z + b2, ŷₙ = g(v):

        δ2 = (2/N) (ŷₙ - yₙ) g'(v)            ∂E/∂v for this point
        ∂E/∂w2 += δ2 z        ∂E/∂b2 += δ2
        δ1 = δ2 w2 ⊙ (1 - z²)                 ∂E/∂(w1 xₙ + b1)
        ∂E/∂w1 += δ1 xₙ       ∂E/∂b1 += δ1
    """
    n = len(x)
    grads = {"w1": np.zeros_like(w1), "b1": np.zeros_like(b1),
             "w2": np.zeros_like(w2), "b2": np.zeros_like(b2)}
    for x_n, y_n in zip(x, y):
        z = np.tanh(w1 * x_n + b1)
        y_hat_n, slope = _output(w2.T @ z + b2, output_activation)
        delta2 = 2.0 / n * (y_hat_n - y_n) * slope
        grads["w2"] += delta2 * z
        grads["b2"] += delta2
        delta1 = delta2 * w2 * (1 - z ** 2)
        grads["w1"] += delta1 * x_n
        grads["b1"] += delta1
    return mse(y, predict(x, w1, b1, w2, b2, output_activation)), grads


def engine_loss(x, y, w1, b1, w2, b2, output_activation="linear"):
    """The MSE from autograd_lite `Value` ops (parameters are `Value`s, data numpy)."""
    _check(output_activation)
    v = (x @ w1.T + b1.T).tanh() @ w2 + b2
    y_hat = v.tanh() if output_activation == "tanh" else v
    return ((y_hat - y) ** 2).mean()

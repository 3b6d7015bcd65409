"""The NN-basics guide ("Neural Network Basics"): its L-layer network and three backward passes.

Source: shared/seeds/neural-network-basics.md. Layout as in the guide: weights
W[l] of shape (n_l, n_{l-1}), biases (n_l, 1), data X (m, n_features), targets
y (m, n_out); inside, samples are columns (`a = X.T`). Every layer computes
`z = np.dot(W, a) + b; a = σ(z)`.

The guide gives three derivations, transcribed here as written:

1. the "Backpropagation" formula section, for its MSE L = (1/2m) Σ (y - ŷ)²:
   correct down to ∂L/∂z, then `∂L/∂W[l] = (1/m) * ∂L/∂z[l] * (a[l-1])ᵀ` and
   `∂L/∂b[l] = (1/m) * Σ ∂L/∂z[l]` divide by m a second time: its dW and db
   are the gradient of L divided by m, i.e. the gradient of (1/2m²) Σ (y - ŷ)².
2. Implementation 1 (`NeuralNetwork`, one activation for every layer, output
   included): `dz = (output.T - y.T) / m` at the output "for binary
   classification with sigmoid output" and, identically, "for other
   activations, use MSE derivative". Its `compute_loss` reports binary
   cross-entropy (`np.mean`) for sigmoid and MSE `np.mean((y_true - y_pred) ** 2)`
   otherwise.
3. Implementation 2 (`NeuralNetworkAdvanced`, hidden and output activations,
   'linear' allowed): the same `dz = (output.T - y.T) / m`, and `fit` always
   reports MSE `np.mean((y - output) ** 2)`.

`dz = (ŷ - y)/m` leaves out the output activation's derivative. Whatever the
output activation f, it is exactly the gradient of the *matching loss*
(1/m) Σ [F(z) - y·z] with F' = f (`matching_loss`): binary cross-entropy on
the logits for sigmoid, (1/2m) Σ (z - y)² (+ const) for linear,
(1/m) Σ [log cosh z - y z] for tanh, (1/m) Σ [½ z·relu(z) - y z] for relu.
So it is the gradient of the reported loss only for sigmoid with binary
cross-entropy and one output unit (with n_out outputs `np.mean` divides by
m·n_out, so the hand gradient is n_out times too large). Against the reported
MSE, the output error is off elementwise: hand dz = ∂MSE/∂z · n_out / (2 f'(z));
for a linear output that is the constant n_out/2 (½ for one output: the
classic missing 2), for relu it is ½ where z > 0 and nonzero where the true
gradient is 0. `gradients_of_reported_loss` is the corrected backward.
"""
import numpy as np

BCE_EPSILON = 1e-15  # `epsilon = 1e-15  # Small value to prevent log(0)`


def _sigmoid(z):
    return 1 / (1 + np.exp(-np.clip(z, -500, 500)))


# `_apply_activation` / `_apply_activation_derivative` (Implementation 2; Implementation 1
# has the same four functions, without 'linear').
ACTIVATIONS = {
    "sigmoid": (_sigmoid, lambda z: _sigmoid(z) * (1 - _sigmoid(z))),
    "tanh": (np.tanh, lambda z: 1 - np.tanh(z) ** 2),
    "relu": (lambda z: np.maximum(0, z), lambda z: (z > 0).astype(float)),
    "leaky_relu": (lambda z: np.where(z > 0, z, 0.01 * z), lambda z: np.where(z > 0, 1, 0.01)),
    "linear": (lambda z: z, np.ones_like),
}
IMPLEMENTATION1_ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu")


def _activation(name, allowed=tuple(ACTIVATIONS)):
    if name not in allowed:
        raise ValueError(f"Unknown activation: {name}")  # the guide's own message
    return ACTIVATIONS[name]


def init_parameters(layers, rng):
    """He initialization as in both implementations:
    `w = np.random.randn(layers[i], layers[i-1]) * np.sqrt(2.0 / layers[i-1])`,
    `b = np.zeros((layers[i], 1))`; returns (weights, biases) lists."""
    weights = [rng.standard_normal((n, n_prev)) * np.sqrt(2.0 / n_prev)
               for n_prev, n in zip(layers[:-1], layers[1:])]
    biases = [np.zeros((n, 1)) for n in layers[1:]]
    return weights, biases


def as_params(weights, biases):
    """The lists as one {name: array} dict ("W0", "W1", ..., "b0", "b1", ...), the form
    `check_gradients` takes; `split_params` undoes it."""
    return {**{f"W{i}": w for i, w in enumerate(weights)},
            **{f"b{i}": b for i, b in enumerate(biases)}}


def split_params(params):
    """(weights, biases) lists from an `as_params` dict."""
    n = sum(name.startswith("W") for name in params)
    return [params[f"W{i}"] for i in range(n)], [params[f"b{i}"] for i in range(n)]


def forward(weights, biases, X, hidden_activation, output_activation):
    """`forward(X)`: returns (output (m, n_out), activations, z_values) as the guide stores them.

        a = X.T
        z = np.dot(self.weights[i], a) + self.biases[i]
        a = activation(z)        (output activation on the last layer)
    """
    activations, z_values = [X.T], []
    a = X.T
    for i, (w, b) in enumerate(zip(weights, biases)):
        z = np.dot(w, a) + b
        z_values.append(z)
        name = output_activation if i == len(weights) - 1 else hidden_activation
        a = _activation(name)[0](z)
        activations.append(a)
    return a.T, activations, z_values


def _backpropagate(weights, activations, z_values, dz, hidden_activation):
    """The guide's backward loop from the output layer's dz (shared by every variant):

        dW[l] = np.dot(dz, self.activations[l].T)
        db[l] = np.sum(dz, axis=1, keepdims=True)
        if l > 0:
            dz = np.dot(self.weights[l].T, dz)
            dz = dz * self._activate_derivative(self.z_values[l-1])
    """
    dW, db = [None] * len(weights), [None] * len(weights)
    derivative = _activation(hidden_activation)[1]
    for l in range(len(weights) - 1, -1, -1):
        dW[l] = np.dot(dz, activations[l].T)
        db[l] = np.sum(dz, axis=1, keepdims=True)
        if l > 0:
            dz = np.dot(weights[l].T, dz)
            dz = dz * derivative(z_values[l - 1])
    return dW, db


def compute_loss_implementation1(y_true, y_pred, activation):
    """Implementation 1's `compute_loss`: for sigmoid
    `-np.mean(y_true * np.log(y_pred) + (1 - y_true) * np.log(1 - y_pred))` after
    `np.clip(y_pred, epsilon, 1 - epsilon)`; otherwise `np.mean((y_true - y_pred) ** 2)`."""
    if activation == "sigmoid":
        y_pred = np.clip(y_pred, BCE_EPSILON, 1 - BCE_EPSILON)
        return -np.mean(y_true * np.log(y_pred) + (1 - y_true) * np.log(1 - y_pred))
    return np.mean((y_true - y_pred) ** 2)


def implementation1(weights, biases, X, y, activation):
    """Implementation 1 (`NeuralNetwork.fit` + `backward`): (reported loss, (dW, db)).

        if self.activation == 'sigmoid':
            dz = (output.T - y.T) / m
        else:
            # For other activations, use MSE derivative
            dz = (output.T - y.T) / m

    The gradient of the reported loss only for sigmoid with one output unit;
    otherwise the gradient of `matching_loss` (see the module docstring).
    """
    _activation(activation, IMPLEMENTATION1_ACTIVATIONS)
    output, activations, z_values = forward(weights, biases, X, activation, activation)
    m = X.shape[0]
    dz = (output.T - y.T) / m
    grads = _backpropagate(weights, activations, z_values, dz, activation)
    return compute_loss_implementation1(y, output, activation), grads


def implementation2(weights, biases, X, y, hidden_activation, output_activation):
    """Implementation 2 (`NeuralNetworkAdvanced.fit` + `backward`): (reported loss, (dW, db)).

        loss = np.mean((y - output) ** 2)
        if self.output_activation == 'sigmoid':
            dz = (output.T - y.T) / m
        else:
            dz = (output.T - y.T) / m

    (Its hidden layers use `hidden_activation` in both branches of its
    `if l == self.num_layers - 2`, which is right: z_values[l-1] is hidden.)
    Never the gradient of the reported MSE; for a linear output it is exactly
    n_out/2 times it, in general the gradient of `matching_loss`.
    """
    output, activations, z_values = forward(weights, biases, X, hidden_activation,
                                            output_activation)
    m = X.shape[0]
    dz = (output.T - y.T) / m
    grads = _backpropagate(weights, activations, z_values, dz, hidden_activation)
    return np.mean((y - output) ** 2), grads


def formula_section(weights, biases, X, y, activation):
    """The "Backpropagation" formula section: (its MSE (1/2m) Σ (y - ŷ)², (dW, db)).

        ∂L/∂a[L] = (a[L] - y) / m
        ∂L/∂z[L] = ∂L/∂a[L] * σ'(z[L])
        ∂L/∂a[l] = (W[l+1])ᵀ * ∂L/∂z[l+1];   ∂L/∂z[l] = ∂L/∂a[l] * σ'(z[l])
        ∂L/∂W[l] = (1/m) * ∂L/∂z[l] * (a[l-1])ᵀ
        ∂L/∂b[l] = (1/m) * Σ ∂L/∂z[l]

    ∂L/∂z already carries the 1/m, so dW and db are 1/m times the gradient of L.
    (The section also lists cross-entropy, but ∂L/∂a[L] = (a[L] - y)/m is the
    derivative of its MSE; cross-entropy's would be (a - y) / (a(1 - a) m).)
    """
    output, activations, z_values = forward(weights, biases, X, activation, activation)
    m = X.shape[0]
    dz = (output.T - y.T) / m * _activation(activation)[1](z_values[-1])
    dW, db = _backpropagate(weights, activations, z_values, dz, activation)
    loss = np.sum((y - output) ** 2) / (2 * m)
    return loss, ([g / m for g in dW], [g / m for g in db])


def gradients_of_reported_loss(weights, biases, X, y, hidden_activation, output_activation,
                               loss):
    """Corrected backward: (loss, (dW, db)) for the loss the guide reports.

    `loss` is "bce" (Implementation 1 with sigmoid: `-np.mean(...)`), "mse"
    (`np.mean((y - ŷ)²)`, Implementation 1 otherwise and Implementation 2) or
    "half_mse" (the formula section's (1/2m) Σ (y - ŷ)²). What changed: the
    output error is ∂loss/∂ŷ times the output activation's derivative f'(z[L]),
    with the mean over all m·n_out entries, and dW, db are not divided by m again.
    """
    output, activations, z_values = forward(weights, biases, X, hidden_activation,
                                            output_activation)
    m, count = X.shape[0], y.size
    if loss == "bce":
        value = compute_loss_implementation1(y, output, "sigmoid")
        d_output = (output - y) / (output * (1 - output)) / count  # away from the clip
    elif loss == "mse":
        value = np.mean((y - output) ** 2)
        d_output = 2 * (output - y) / count
    elif loss == "half_mse":
        value = np.sum((y - output) ** 2) / (2 * m)
        d_output = (output - y) / m
    else:
        raise ValueError(f"gradients_of_reported_loss: loss must be 'bce', 'mse' or "
                         f"'half_mse', got {loss!r}")
    dz = d_output.T * _activation(output_activation)[1](z_values[-1])
    return value, _backpropagate(weights, activations, z_values, dz, hidden_activation)


# ---- the same network and losses from autograd_lite ops --------------------------

def _engine_activation(z, name):
    """A `Value` z through the guide's activation (leaky slope 0.01, as the guide)."""
    if name == "linear":
        return z
    if name == "leaky_relu":
        return z.leaky_relu(0.01)
    _activation(name)  # an unknown name raises the guide's error
    return getattr(z, name)()  # z.sigmoid(), z.tanh(), z.relu()


def engine_forward(weights, biases, X, hidden_activation, output_activation):
    """(output (m, n_out), last pre-activation z[L] (n_out, m)) with `Value` weights/biases."""
    a = X.T
    for i, (w, b) in enumerate(zip(weights, biases)):
        z = w @ a + b
        a = _engine_activation(z, output_activation if i == len(weights) - 1
                               else hidden_activation)
    return a.T, z


def engine_loss(output, y, loss):
    """The reported losses from `Value` ops: "bce", "mse" or "half_mse" (see
    `gradients_of_reported_loss`); the BCE clips as the guide does."""
    if loss == "bce":
        p = output.clip(BCE_EPSILON, 1 - BCE_EPSILON)
        return -(y * p.log() + (1 - y) * (1 - p).log()).mean()
    if loss == "mse":
        return ((y - output) ** 2).mean()
    if loss == "half_mse":
        return ((y - output) ** 2).sum() / (2 * y.shape[0])
    raise ValueError(f"engine_loss: loss must be 'bce', 'mse' or 'half_mse', got {loss!r}")


def matching_loss(z, y, activation):
    """(1/m) Σ [F(z) - y·z] with F' = the output activation: the loss whose
    gradient `dz = (output - y) / m` really is. `z` is the `Value` z[L] (n_out, m).

    F: sigmoid → softplus log(1 + eᶻ) (this is binary cross-entropy on the
    logits); tanh → log cosh z; relu → ½ z·relu(z); leaky_relu → ½ z·leaky_relu(z);
    linear → ½ z².
    """
    if activation == "sigmoid":
        antiderivative = (1 + z.exp()).log()
    elif activation == "tanh":
        antiderivative = ((z.exp() + (-z).exp()) / 2).log()
    else:
        antiderivative = 0.5 * z * _engine_activation(z, activation)
    return (antiderivative - y.T * z).sum() / y.shape[0]


# ---- in check_gradients' form: functions of named parameters ------------------------

def hand_fn(derivation, X, y, *activations, **options):
    """`derivation` (implementation1, implementation2, formula_section or
    gradients_of_reported_loss) as a function of `as_params` keywords returning
    (loss, {name: gradient}), the hand_fn that `check_gradients` takes."""
    def run(**params):
        loss, (dW, db) = derivation(*split_params(params), X, y, *activations, **options)
        return loss, as_params(dW, db)
    return run


def loss_fn(X, y, hidden_activation, output_activation, loss):
    """The engine loss as a function of `as_params` keywords (`Value`s): `loss` is
    "bce", "mse", "half_mse" or "matching" (`matching_loss` of the output activation)."""
    def run(**params):
        output, z = engine_forward(*split_params(params), X, hidden_activation,
                                   output_activation)
        if loss == "matching":
            return matching_loss(z, y, output_activation)
        return engine_loss(output, y, loss)
    return run

"""The neural-network-basics guide's second usage example: a [3, 5, 5, 1] ReLU regressor.

The guide's setup, with `nn`:

- data: `make_regression(n_samples=500, n_features=3, n_informative=3,
  noise=10, random_state=42)`, an 80/20 split (random_state=42), features *and*
  target standardized with the training set's statistics;
- model: `nn.MLP([3, 5, 5, 1], activation="relu", init="he")` (the guide's He
  initialization: randn · √(2/fan_in), zero biases);
- training: full-batch gradient descent, learning rate 0.01, 1000 epochs. The
  guide's backward pass starts from (output - y)/m, the gradient of ½·MSE, so
  that is the loss we differentiate (`half_mse`); R² on the test set via
  `nn.score`.

One thing differs, on purpose. The guide's `NeuralNetwork` class applies its
activation to *every* layer, the output included, so its regressor ends in a
ReLU — which cannot output the negative half of a standardized target — and
its hand-written backward pass quietly skips that ReLU's derivative. A linear
output (the guide's own `NeuralNetworkAdvanced` with output_activation='linear')
is the working version, and our headline number. We also train the network as
literally written, ReLU output and all, with its true gradient, and report its
R² as `r2_relu_output` for comparison.

Figures (in --out): regression.png (both loss curves, and predicted vs true
on the test set).

    python examples/regression.py [--out out/] [--quick] [--seed 0]
"""
import numpy as np
from matplotlib import pyplot as plt
from sklearn.datasets import make_regression

import nn
from _common import Stopwatch, parse_args, report, save_figure, standardized_split

EPOCHS, LEARNING_RATE = 1000, 0.01


def load_data():
    X, y = make_regression(n_samples=500, n_features=3, n_informative=3, noise=10,
                           random_state=42)
    X_train, X_test, y_train, y_test = standardized_split(X, y.reshape(-1, 1))
    mean, std = y_train.mean(), y_train.std()
    return X_train, X_test, (y_train - mean) / std, (y_test - mean) / std


def half_mse(outputs, targets):
    """½ · mean squared error: its gradient with respect to the outputs is (output - y)/m."""
    return 0.5 * nn.mse_loss(outputs, targets)


def train(X_train, y_train, output_activation, epochs, seed):
    model = nn.MLP([3, 5, 5, 1], activation="relu", output_activation=output_activation,
                   init="he", rng=np.random.default_rng(seed))
    optimizer = nn.SGD(model.parameters(), lr=LEARNING_RATE)
    history = nn.fit(model, half_mse, optimizer, X_train, y_train, epochs=epochs, metric="r2")
    return model, history


def plot(history, history_relu, prediction, y_test, out):
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    axes[0].plot(2 * np.array(history.loss), label="linear output")
    axes[0].plot(2 * np.array(history_relu.loss), "--", label="ReLU output (as written)")
    axes[0].set(xlabel="Epoch", ylabel="Loss (MSE)", title="Training Loss (Regression)")
    axes[0].grid(True)
    axes[0].legend()
    axes[1].scatter(y_test, prediction, s=12, label="test points")
    limits = [min(y_test.min(), prediction.min()), max(y_test.max(), prediction.max())]
    axes[1].plot(limits, limits, "k--", linewidth=1, label="predicted = true")
    r2 = 1 - np.sum((y_test - prediction) ** 2) / np.sum((y_test - np.mean(y_test)) ** 2)
    axes[1].set(xlabel="true (standardized)", ylabel="predicted",
                title=f"Test set: the linear-output network (R² = {r2:.3f})")
    axes[1].legend(loc="upper left")
    return save_figure(fig, out, "regression.png")


def main(argv=None):
    args = parse_args(__doc__.splitlines()[0], default_seed=0, argv=argv)
    X_train, X_test, y_train, y_test = load_data()
    epochs = 100 if args.quick else EPOCHS
    with Stopwatch("train"):
        model, history = train(X_train, y_train, None, epochs, args.seed)
        relu_model, history_relu = train(X_train, y_train, "relu", epochs, args.seed)
    report("final_mse", 2 * history.loss[-1])
    report("train_r2", nn.score(model, X_train, y_train))
    report("r2", nn.score(model, X_test, y_test))
    report("r2_relu_output", nn.score(relu_model, X_test, y_test))
    plot(history, history_relu, nn.predict(model, X_test), y_test, args.out)


if __name__ == "__main__":
    main()

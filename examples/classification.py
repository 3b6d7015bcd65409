"""The neural-network-basics guide's first usage example: a [2, 4, 4, 1] sigmoid classifier.

The guide builds `NeuralNetwork(layers=[2, 4, 4, 1], activation='sigmoid',
learning_rate=0.1)` by hand and trains it with `fit(X_train, y_train,
epochs=1000)`. The same, with `nn`:

- data: `make_classification(n_samples=1000, n_features=2, n_redundant=0,
  n_informative=2, n_clusters_per_class=1, random_state=42)`, an 80/20 split
  (random_state=42), features standardized with the training set's statistics;
- model: `nn.MLP([2, 4, 4, 1], activation="sigmoid", output_activation="sigmoid",
  init="he")` — sigmoid on every layer as the guide's class applies it, and its
  He initialization (randn · √(2/fan_in), zero biases);
- loss: binary cross-entropy, whose gradient at the output pre-activation is the
  guide's (output - y)/m; full-batch gradient descent, learning rate 0.1,
  1000 epochs, via `nn.fit`, then `nn.score` for the test accuracy.

The guide shows no number for this; for comparison the script also prints
what a linear boundary (scikit-learn's logistic regression) gets on the same
split: 0.90, about what the network gets (the two classes overlap).

Figures (in --out): classification.png (training loss, and the decision
boundary over the test points).

    python examples/classification.py [--out out/] [--quick] [--seed 0]
"""
import numpy as np
from matplotlib import pyplot as plt
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

import nn
from _common import Stopwatch, parse_args, report, save_figure, standardized_split

EPOCHS, LEARNING_RATE = 1000, 0.1


def load_data():
    X, y = make_classification(n_samples=1000, n_features=2, n_redundant=0, n_informative=2,
                               n_clusters_per_class=1, random_state=42)
    return standardized_split(X, y.reshape(-1, 1).astype(np.float64))


def plot(history, model, X_test, y_test, out):
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.6))
    axes[0].plot(history.loss)
    axes[0].set(xlabel="Epoch", ylabel="Loss", title="Training Loss")
    axes[0].grid(True)
    grid = np.linspace(-3.5, 3.5, 200)
    xx, yy = np.meshgrid(grid, grid)
    probability = nn.predict(model, np.c_[xx.ravel(), yy.ravel()]).reshape(xx.shape)
    shading = axes[1].contourf(xx, yy, probability, levels=20, cmap="RdBu_r", alpha=0.6)
    axes[1].contour(xx, yy, probability, levels=[0.5], colors="k")
    colours = plt.get_cmap("RdBu_r")([0.0, 1.0])
    for label, colour in enumerate(colours):  # one scatter per class, so the legend names them
        points = X_test[y_test.ravel() == label]
        axes[1].scatter(points[:, 0], points[:, 1], color=colour, edgecolors="k", s=18,
                        label=f"class {label} (test points)")
    axes[1].plot([], [], "k-", label="boundary, p = 0.5")
    axes[1].set(xlabel="feature 1 (standardized)", ylabel="feature 2 (standardized)",
                title="Decision boundary and test points")
    axes[1].legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=3, fontsize=9,
                   frameon=False)
    fig.colorbar(shading, ax=axes[1], label="predicted p(class 1)", ticks=[0, 0.5, 1])
    return save_figure(fig, out, "classification.png")


def main(argv=None):
    args = parse_args(__doc__.splitlines()[0], default_seed=0, argv=argv)
    X_train, X_test, y_train, y_test = load_data()
    model = nn.MLP([2, 4, 4, 1], activation="sigmoid", output_activation="sigmoid", init="he",
                   rng=np.random.default_rng(args.seed))
    optimizer = nn.SGD(model.parameters(), lr=LEARNING_RATE)
    with Stopwatch("train"):
        history = nn.fit(model, nn.binary_cross_entropy, optimizer, X_train, y_train,
                         epochs=100 if args.quick else EPOCHS)
    report("final_loss", history.loss[-1])
    report("train_accuracy", nn.score(model, X_train, y_train))
    report("test_accuracy", nn.score(model, X_test, y_test))
    linear = LogisticRegression().fit(X_train, y_train.ravel())
    report("linear_test_accuracy", linear.score(X_test, y_test.ravel()))
    plot(history, model, X_test, y_test, args.out)


if __name__ == "__main__":
    main()

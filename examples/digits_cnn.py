"""The slides' handwritten-digit CNN, on scikit-learn's bundled 8×8 digits.

"An Introduction to Neural Networks" (the intro slides) ends with "a Python
simulation of a simple CNN" for handwritten digit recognition: filters slide
over the image to detect features, pooling keeps "the essence" of each area,
and ordinary layers make the prediction. Here it is with autograd_lite:

    Conv2d(1, 16, 3, padding=1) → ReLU → MaxPool2d(2)      8×8 → 4×4
    Conv2d(16, 32, 3, padding=1) → ReLU → MaxPool2d(2)     4×4 → 2×2
    Flatten → Linear(128, 10)                               class scores

trained with cross-entropy and Adam by `nn.fit` (mini-batches of 32, learning
rate annealed over 20 epochs; a progress bar shows in a terminal) on `sklearn.datasets.load_digits` (1797 images, 75 % train /
25 % test, stratified). Target: at least 97 % test accuracy.

Figures (in --out): digits_curves.png (loss and accuracy per epoch),
digits_confusion.png, digits_filters.png (the first layer's learned 3×3
filters), digits_misclassified.png.

    python examples/digits_cnn.py [--out out/] [--quick] [--seed 0]
"""
import numpy as np
from matplotlib import pyplot as plt
from sklearn.datasets import load_digits
from sklearn.metrics import confusion_matrix
from sklearn.model_selection import train_test_split

import nn
from _common import Stopwatch, parse_args, report, save_figure

EPOCHS, BATCH_SIZE, LEARNING_RATE = 20, 32, 0.005


def load_data():
    """Images scaled to [0, 1] as (N, 1, 8, 8), labels 0-9; a fixed stratified 75/25 split."""
    digits = load_digits()
    images = (digits.images / 16.0).reshape(-1, 1, 8, 8)
    return train_test_split(images, digits.target, test_size=0.25, random_state=0,
                            stratify=digits.target)


def digit_cnn(rng):
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1, rng=rng), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1, rng=rng), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 2 * 2, 10, rng=rng))


def train(model, X_train, y_train, X_test, y_test, epochs, rng):
    """Mini-batch Adam via `nn.fit`, scoring the test set after every epoch; returns the history."""
    optimizer = nn.Adam(model.parameters(), lr=LEARNING_RATE)
    scheduler = nn.CosineAnnealingLR(optimizer, T_max=epochs)
    return nn.fit(model, nn.cross_entropy, optimizer, X_train, y_train, epochs=epochs,
                  batch_size=BATCH_SIZE, scheduler=scheduler, validation_data=(X_test, y_test),
                  rng=rng)


def plot_curves(history, out):
    epochs = np.arange(1, len(history["loss"]) + 1)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    axes[0].plot(epochs, history["loss"], "o-")
    axes[0].set(xlabel="epoch", ylabel="cross-entropy", title="Training loss")
    axes[1].plot(epochs, history["accuracy"], "o-", label="train (during the epoch)")
    axes[1].plot(epochs, history["val_accuracy"], "s-", label="test")
    axes[1].set(xlabel="epoch", ylabel="accuracy", title="Accuracy")
    axes[1].legend()
    return save_figure(fig, out, "digits_curves.png")


def plot_confusion(y_true, y_pred, out):
    matrix = confusion_matrix(y_true, y_pred, labels=range(10))
    fig, ax = plt.subplots(figsize=(6, 5))
    image = ax.imshow(matrix, cmap="Blues")
    for (i, j), count in np.ndenumerate(matrix):
        ax.text(j, i, count, ha="center", va="center",
                color="white" if count > matrix.max() / 2 else "black", fontsize=8)
    ax.set(xticks=range(10), yticks=range(10), xlabel="predicted", ylabel="true",
           title="Confusion matrix (test set)")
    fig.colorbar(image)
    return save_figure(fig, out, "digits_confusion.png")


def plot_filters(model, out):
    filters = model[0].weight.data[:, 0]          # (16, 3, 3)
    fig, axes = plt.subplots(2, 8, figsize=(10, 3.9))  # tall enough for each row's titles
    largest = np.abs(filters).max()
    for k, ax in enumerate(axes.flat):
        ax.imshow(filters[k], cmap="RdBu_r", vmin=-largest, vmax=largest)
        ax.set(xticks=[], yticks=[])
        ax.set_title(f"#{k}", fontsize=8)
    fig.suptitle("First-layer 3×3 filters (red positive, blue negative)")
    return save_figure(fig, out, "digits_filters.png")


def plot_misclassified(images, y_true, y_pred, out):
    wrong = np.flatnonzero(y_true != y_pred)[:16]
    rows = max(1, -(-len(wrong) // 8))
    columns = max(1, -(-len(wrong) // rows))  # as many per row as the rows need: no empty row
    fig, axes = plt.subplots(rows, columns, figsize=(1.3 * columns + 0.6, 1.75 * rows + 0.5),
                             squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, i in zip(axes.flat, wrong):
        ax.imshow(images[i, 0], cmap="gray_r")
        ax.set_title(f"true {y_true[i]}, said {y_pred[i]}", fontsize=8)
    fig.suptitle(f"Misclassified test digits ({len(np.flatnonzero(y_true != y_pred))} in all)")
    return save_figure(fig, out, "digits_misclassified.png")


def main(argv=None):
    args = parse_args(__doc__.splitlines()[0], default_seed=0, argv=argv)
    rng = np.random.default_rng(args.seed)
    X_train, X_test, y_train, y_test = load_data()
    if args.quick:  # a smaller training set and three epochs: the same code, in a few seconds
        X_train, y_train = X_train[:600], y_train[:600]
    model = digit_cnn(rng)
    print(model)
    with Stopwatch("train"):
        history = train(model, X_train, y_train, X_test, y_test,
                        epochs=3 if args.quick else EPOCHS, rng=rng)
    y_pred = nn.predict(model, X_test).argmax(axis=1)
    report("epochs", len(history["loss"]))
    report("final_loss", history["loss"][-1])
    report("train_accuracy", nn.score(model, X_train, y_train))
    report("test_accuracy", float(np.mean(y_pred == y_test)))
    report("misclassified", int(np.sum(y_pred != y_test)))
    plot_curves(history, args.out)
    plot_confusion(y_test, y_pred, args.out)
    plot_filters(model, args.out)
    plot_misclassified(X_test, y_test, y_pred, args.out)


if __name__ == "__main__":
    main()

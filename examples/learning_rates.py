"""The intro slides' warning about gradient descent: "α too small / α too large".

The slides write gradient descent as x_{n+1} = x_n - α f'(x_n) and list its
two problems: a step size α that is too small, and one that is too large.
Both panels of the figure show them:

1. the slides' formula itself on f(x) = x², from x₀ = 1, with f'(x) computed
   by the engine: a tiny α crawls, a good α lands quickly, α > 1 overshoots
   further each step and diverges;
2. training loss curves on one real problem — the NN-basics guide's [3, 5, 5, 1]
   ReLU regressor (see regression.py), full-batch gradient descent for 200
   epochs — for α from 0.001 to 3: too small barely moves, too large blows up
   (a dead network, or overflow to inf).

Prints each run's final loss as ``final_loss_lr_<α>: <loss>`` (inf when it diverged).

Figures (in --out): learning_rates.png.

    python examples/learning_rates.py [--out out/] [--quick] [--seed 0]
"""
import warnings

import numpy as np
from matplotlib import pyplot as plt

import nn
from autograd_lite import Value
from _common import parse_args, report, save_figure
from regression import load_data

STEP_SIZES_1D = {"too small (α = 0.02)": 0.02, "good (α = 0.3)": 0.3,
                 "too large (α = 1.05)": 1.05}
LEARNING_RATES = (0.001, 0.01, 0.1, 1.0, 3.0)
EPOCHS = 200


def gradient_descent_1d(alpha, x0=1.0, steps=15):
    """The slides' x_{n+1} = x_n - α f'(x_n) on f(x) = x²; returns the iterates."""
    xs = [x0]
    for _ in range(steps):
        x = Value(xs[-1])
        (x ** 2).backward()
        xs.append(xs[-1] - alpha * x.grad.item())
    return np.array(xs)


def train_with(lr, data, epochs, seed):
    """Train the guide's regressor with learning rate `lr`; its loss per epoch (inf on overflow)."""
    X_train, _, y_train, _ = data
    model = nn.MLP([3, 5, 5, 1], activation="relu", init="he", rng=np.random.default_rng(seed))
    with warnings.catch_warnings():  # a diverging run overflows on purpose
        warnings.simplefilter("ignore", RuntimeWarning)
        history = nn.fit(model, nn.mse_loss, nn.SGD(model.parameters(), lr=lr), X_train, y_train,
                         epochs=epochs, shuffle=False, progress=False)
    losses = np.array(history.loss)
    return np.where(np.isfinite(losses), losses, np.inf)


def plot(paths, curves, out):
    fig, axes = plt.subplots(1, 2, figsize=(12, 5.2))
    grid = np.linspace(-2.2, 2.2, 200)
    axes[0].plot(grid, grid ** 2, color="0.6")
    for (label, xs), marker in zip(paths.items(), "os^"):
        shown = np.abs(xs) < 2.2
        axes[0].plot(xs[shown], xs[shown] ** 2, marker + "-", markersize=4, linewidth=0.8,
                     label=label)
    axes[0].set(xlabel="x", ylabel="f(x) = x²", ylim=(-0.2, 4.9),
                title=r"$x_{n+1} = x_n - \alpha\, f'(x_n)$, from $x_0 = 1$")
    top = 1e3
    for lr, losses in curves.items():
        shown = np.where(losses < top, losses, np.nan)  # past the top of the plot: diverged
        note = "" if losses[-1] < losses[0] else " (worse than at the start)"
        (line,) = axes[1].semilogy(shown, linewidth=2, label=f"α = {lr:g}{note}")
        gone = np.flatnonzero(~(losses < top))
        if gone.size:  # where it left the plot, marked, so a curve that blows up at once shows
            axes[1].plot(gone[0], top / 1.6, "X", markersize=11, color=line.get_color(),
                         clip_on=False)
            axes[1].annotate(f"α = {lr:g} leaves the plot at epoch {gone[0]}",
                             (gone[0], top / 1.6), xytext=(12, -4), textcoords="offset points",
                             color=line.get_color(), fontsize=9)
    axes[1].set(xlabel="epoch", ylabel="training MSE", ylim=(3e-3, top),
                title="The guide's [3, 5, 5, 1] regressor, full-batch descent")
    for ax in axes:  # under each panel: no legend sits on the data
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=3, fontsize=9,
                  frameon=False)
    return save_figure(fig, out, "learning_rates.png")


def main(argv=None):
    args = parse_args(__doc__.splitlines()[0], default_seed=0, argv=argv)
    paths = {label: gradient_descent_1d(alpha) for label, alpha in STEP_SIZES_1D.items()}
    for (label, xs), alpha in zip(paths.items(), STEP_SIZES_1D.values()):
        report(f"x_final_alpha_{alpha:g}", float(xs[-1]))

    data = load_data()
    curves = {lr: train_with(lr, data, 30 if args.quick else EPOCHS, args.seed)
              for lr in LEARNING_RATES}
    for lr, losses in curves.items():
        report(f"final_loss_lr_{lr:g}", float(losses[-1]))
    finite = {lr: losses[-1] for lr, losses in curves.items() if np.isfinite(losses[-1])}
    report("best_lr", min(finite, key=finite.get))
    plot(paths, curves, args.out)


if __name__ == "__main__":
    main()

"""The cosine post ("Neural Networks I: First Network from Scratch"), reproduced with autograd.

The post fits y = cos(2πt), measured at N = 50 evenly spaced t in [0, 1], with a
1-5-1 network y = tanh(w2ᵀ tanh(w1 t + b1) + b2) and derives the gradients by
hand. Here the engine derives them; everything else is the post's setup:

- init: `np.random.seed(42)`, then w1, w2, b1, b2 drawn from N(0, 1) in that order;
- update rule: the post sums its per-point gradients times (ŷ - y), which is the
  gradient of ½ Σₙ (ŷₙ - yₙ)² (a sum over the points, not a mean), and steps
  w ← w - 0.01 ∇; it reports the "MSE" Σₙ (ŷₙ - yₙ)² / (2N);
- at most 10,000 epochs, stopping as soon as that MSE is below 1e-4 (checked
  before the update, as the post does). With this init it never gets there: it
  runs all 10,000 epochs and plateaus, as the post's Fig. 4 shows.

(The post's text and title say cosine; the `my_func` in its code returns
sin(2πt). We follow the text.)

Then its "Moving forward" section: fed t > 1, the network does not continue the
wave, because tanh has no notion of period. The post cites the fix — a periodic
activation, Snake(x) = x + sin²(a x)/a (Ziyin, Hartwig & Ueda, 2020) — and we
apply it: the same data, a 1-16-1 network with `nn.Snake`, trained with Adam,
and the extrapolation error on t in [1, 2] for both networks.

Figures (in --out): cosine_data.png, cosine_training.gif, cosine_final_fit.png,
cosine_mse.png, cosine_extrapolation.png.

    python examples/cosine_fit.py [--out out/] [--quick] [--seed 42]
"""
import numpy as np
from matplotlib import pyplot as plt
from matplotlib.animation import FuncAnimation, PillowWriter

import nn
from autograd_lite import no_grad
from autograd_lite.references import cosine_post
from _common import Stopwatch, parse_args, report, save_figure, save_loss_plot, train_full_batch

N_POINTS = 50
HIDDEN = 5
LEARNING_RATE = 0.01
MAX_EPOCHS = 10_000
STOP_BELOW = 1e-4
SNAKE_HIDDEN, SNAKE_FREQUENCY, SNAKE_EPOCHS, SNAKE_LR = 16, 2 * np.pi, 3000, 0.01


def target(t):
    return np.cos(2 * np.pi * t)


def make_data(n=N_POINTS):
    """The post's measurements: n evenly spaced t in [0, 1] (a column) and y = cos(2πt)."""
    t = np.linspace(0.0, 1.0, n).reshape(-1, 1)
    return t, target(t)


def post_network(seed=42):
    """The post's 1-5-1 tanh network with its exact initial weights.

    The post draws column vectors w1, w2, b1 (5×1) and b2 (1×1) after
    `np.random.seed(seed)` (transcribed in `cosine_post.initialize_weights`).
    nn.Linear stores weight as (out, in), so w1 is the first layer's weight as
    drawn and w2 enters the second layer transposed.
    """
    w1, b1, w2, b2 = cosine_post.initialize_weights(HIDDEN, seed).values()
    model = nn.Sequential(nn.Linear(1, HIDDEN), nn.Tanh(), nn.Linear(HIDDEN, 1), nn.Tanh())
    model[0].weight.data, model[0].bias.data = w1, b1.ravel()
    model[2].weight.data, model[2].bias.data = w2.T, b2.ravel()
    return model


def post_mse(prediction, y):
    """The post's loss_fn: Σ (y - ŷ)² / (2N)."""
    return ((prediction - y) ** 2).sum() / (2 * len(y))


def train_post(model, t, y, max_epochs=MAX_EPOCHS, n_snapshots=40):
    """The post's training loop; returns its MSE per epoch and (epoch, prediction) snapshots.

    Snapshots are spaced geometrically (epochs 0, 1, 2, 4, ...), since most of
    the change happens early, and the last epoch is always included.
    """
    snapshot_epochs = set(np.unique(np.geomspace(1, max_epochs, n_snapshots).astype(int)) - 1)
    losses, snapshots = [], []
    params = list(model.parameters())
    for epoch in range(max_epochs):
        prediction = model(t)
        half_sum_of_squares = 0.5 * ((prediction - y) ** 2).sum()
        loss = half_sum_of_squares.item() / len(y)      # = post_mse(prediction, y)
        losses.append(loss)
        if epoch in snapshot_epochs:
            snapshots.append((epoch, prediction.data.copy()))
        if epoch % 1000 == 0:
            print(f"MSE loss at epoch {epoch} is {loss:.6g}")
        if abs(loss) < STOP_BELOW:
            break
        model.zero_grad()
        half_sum_of_squares.backward()
        with no_grad():
            for p in params:
                p.data -= LEARNING_RATE * p.grad
    if snapshots[-1][0] != epoch:  # stopped early: show where it stopped
        snapshots.append((epoch, prediction.data.copy()))
    return losses, snapshots


def snake_network(rng):
    """The fix: the same kind of one-hidden-layer network with a periodic Snake activation."""
    return nn.MLP([1, SNAKE_HIDDEN, 1], activation=nn.Snake(SNAKE_FREQUENCY), rng=rng)


def extrapolation_errors(model, t_future):
    """RMSE and max |error| of the model against the true wave at the times t_future."""
    error = nn.predict(model, t_future) - target(t_future)
    return float(np.sqrt(np.mean(error ** 2))), float(np.max(np.abs(error)))


def plot_data(t, y, out):
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.plot(t, y, "o-", linewidth=1, markersize=4)
    ax.set(xlabel="t", ylabel="y", title="Measured data: y = cos(2πt), N = 50")
    return save_figure(fig, out, "cosine_data.png")


def plot_fit(t, y, prediction, out):
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.plot(t, y, "o-", linewidth=1, markersize=4, label="Measured")
    ax.plot(t, prediction, "x--", linewidth=1, markersize=5, label="Predicted")
    ax.set(xlabel="t", ylabel="y", title="Trained network")
    ax.legend()
    return save_figure(fig, out, "cosine_final_fit.png")


def animate_training(t, y, snapshots, out):
    """The post's Fig. 3: the network's output at successive epochs, as a GIF."""
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.plot(t, y, "o", markersize=4, label="Measured")
    (line,) = ax.plot(t, snapshots[0][1], "--", linewidth=1.5, label="Network")
    ax.set(xlabel="t", ylabel="y", ylim=(-1.3, 1.3))
    ax.legend(loc="lower right")

    def show(i):
        epoch, prediction = snapshots[i]
        line.set_ydata(prediction)
        ax.set_title(f"epoch {epoch}")
        return (line,)

    animation = FuncAnimation(fig, show, frames=len(snapshots), blit=False)
    path = out / "cosine_training.gif"
    animation.save(path, writer=PillowWriter(fps=8), dpi=80)
    plt.close(fig)
    print(f"wrote {path}", flush=True)
    return path


def plot_beyond_the_data(t, y, panels, out, name):
    """Side-by-side panels of predictions past the data (t > 1 shaded), over the true wave.

    panels: (title, times, predicted values, line style) for each panel.
    """
    t_all = np.linspace(0.0, 2.0, 400)
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 4), sharey=True)
    for ax, (title, t_predicted, predicted, style) in zip(axes, panels):
        ax.axvspan(1.0, 2.0, color="0.93", label="beyond the data")
        ax.plot(t_all, target(t_all), color="0.5", linewidth=1, label="cos(2πt)")
        ax.plot(t, y, "o", markersize=3, label="training data")
        ax.plot(t_predicted, predicted, style, markersize=4, linewidth=1.5, label="network")
        ax.set(xlabel="t", title=title, ylim=(-2.2, 1.6))
    axes[0].set_ylabel("y")
    axes[0].legend(loc="lower center", ncol=2, fontsize=8)
    return save_figure(fig, out, name)


def main(argv=None):
    args = parse_args(__doc__.splitlines()[0], default_seed=42, argv=argv)
    t, y = make_data()
    plot_data(t, y, args.out)

    model = post_network(args.seed)
    with Stopwatch("train"):
        losses, snapshots = train_post(model, t, y, max_epochs=400 if args.quick else MAX_EPOCHS,
                                       n_snapshots=8 if args.quick else 40)
    prediction = nn.predict(model, t)
    report("initial_mse", losses[0])
    report("epochs_run", len(losses))
    report("final_mse", losses[-1])
    report("fit_max_error", float(np.max(np.abs(prediction - y))))
    plot_fit(t, y, prediction, args.out)
    save_loss_plot(losses, args.out, "cosine_mse.png", "MSE vs epoch",
                   ylabel="Mean squared error E")
    animate_training(t, y, snapshots, args.out)

    snake = snake_network(np.random.default_rng(args.seed))
    snake_losses = train_full_batch(snake, lambda: nn.mse_loss(snake(t), y),
                                    epochs=300 if args.quick else SNAKE_EPOCHS, lr=SNAKE_LR)
    report("snake_train_mse", snake_losses[-1])
    t_future = np.linspace(1.0, 2.0, N_POINTS).reshape(-1, 1)
    for name, net in (("tanh", model), ("snake", snake)):
        rmse, max_error = extrapolation_errors(net, t_future)
        report(f"extrap_rmse_{name}", rmse)
        report(f"extrap_max_error_{name}", max_error)
    t_all = np.linspace(0.0, 2.0, 400).reshape(-1, 1)
    plot_beyond_the_data(t, y, [("tanh (the post's network)", t_all, nn.predict(model, t_all), "--"),
                                ("Snake, a = 2π", t_all, nn.predict(snake, t_all), "--")],
                         args.out, "cosine_extrapolation.png")
    return model


if __name__ == "__main__":
    main()

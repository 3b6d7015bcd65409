"""The cosine post's announced follow-up: forecast the wave beyond t = 1 with a recurrent network.

The post ends (Fig. 5) by showing that its network, fed t > 1, does not
continue the wave, and announces the fix for its next post: a recurrent
network, "rearranging the input dataset to conform with supervised learning".
That rearrangement is windowing: from the same 50 measurements of cos(2πt) on
[0, 1], every run of WINDOW consecutive values becomes an input sequence and
the value after it the target. A recurrent layer (`nn.RNN`, `nn.LSTM` or
`nn.GRU`, each trained the same way) reads the window, a Linear layer maps its
last hidden state to the next value.

To forecast, the network predicts one step past the data, appends its own
prediction to the window and slides on (closed loop), step after step, over
t in (1, 2]. We compare the three with the plain network of the post (trained
exactly as in cosine_fit.py) evaluated at the same times. The output comes in
blocks, each headed by the model it belongs to; the numbers of model NAME are
named NAME_train_mse, extrap_rmse_NAME and extrap_max_error_NAME.

Figures (in --out): rnn_forecast.png (every forecast against the true wave),
rnn_loss.png (the three recurrent networks' training losses).

    python examples/rnn_forecast.py [--out out/] [--quick] [--seed 0]
"""
import numpy as np

import nn
from autograd_lite import no_grad
from _common import Stopwatch, parse_args, plt, report, save_figure, train_full_batch
from cosine_fit import (MAX_EPOCHS, make_data, plot_beyond_the_data, post_network,
                        target, train_post)

WINDOW, HIDDEN, EPOCHS, LEARNING_RATE = 5, 16, 3000, 0.01


RECURRENT = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


class Forecaster(nn.Module):
    """Window of past values (N, WINDOW, 1) → the next value (N, 1), through `layer`
    (nn.RNN, nn.LSTM or nn.GRU)."""

    def __init__(self, layer, rng):
        super().__init__()
        self.rnn = layer(1, HIDDEN, batch_first=True, rng=rng)
        self.head = nn.Linear(HIDDEN, 1, rng=rng)

    def forward(self, windows):
        output, _ = self.rnn(windows)            # (N, WINDOW, HIDDEN): h at every step
        return self.head(output[:, -1])          # the last step's (for LSTM: h, not c)


def make_windows(series, window=WINDOW):
    """Supervised pairs from a series: each run of `window` values and the value after it."""
    inputs = np.stack([series[i:i + window] for i in range(len(series) - window)])
    return inputs.reshape(-1, window, 1), series[window:].reshape(-1, 1)


def forecast(model, history, steps):
    """Closed loop: predict the next value, append it to the window, repeat `steps` times."""
    window = list(history[-WINDOW:])
    predictions = []
    with no_grad():
        for _ in range(steps):
            next_value = model(np.array(window).reshape(1, WINDOW, 1)).item()
            predictions.append(next_value)
            window = window[1:] + [next_value]
    return np.array(predictions)


def errors(prediction, truth):
    error = prediction - truth
    return float(np.sqrt(np.mean(error ** 2))), float(np.max(np.abs(error)))


def heading(text):
    """A line that says which model the lines below belong to."""
    print(f"\n== {text} ==", flush=True)


def save_losses_plot(curves, out):
    """Every recurrent network's training loss on one log-scale plot, saved as rnn_loss.png."""
    fig, ax = plt.subplots(figsize=(5, 4))
    for name, losses in curves.items():
        ax.semilogy(losses, linewidth=1.5, label=name.upper())
    ax.set(xlabel="epoch", ylabel="MSE (one-step-ahead)", title="Training the recurrent networks")
    ax.legend()
    return save_figure(fig, out, "rnn_loss.png")


def main(argv=None):
    args = parse_args(__doc__.splitlines()[0], default_seed=0, argv=argv)
    t, y = make_data()
    step = t[1, 0] - t[0, 0]
    t_future = 1.0 + step * np.arange(1, len(t))            # (1, 2] on the same grid
    truth = target(t_future)
    inputs, targets = make_windows(y.ravel())

    heading("plain: the post's 1-5-1 tanh network, trained as in cosine_fit.py")
    plain = post_network()
    train_post(plain, t, y, max_epochs=400 if args.quick else MAX_EPOCHS)
    predictions = {"plain": nn.predict(plain, t_future.reshape(-1, 1)).ravel()}
    curves = {}
    for name, layer in RECURRENT.items():
        heading(f"{name}: nn.{layer.__name__}(1, {HIDDEN}) on windows of {WINDOW}, then Linear")
        model = Forecaster(layer, np.random.default_rng(args.seed))
        with Stopwatch(f"{name}_train"):
            curves[name] = train_full_batch(model, lambda: nn.mse_loss(model(inputs), targets),
                                            epochs=150 if args.quick else EPOCHS, lr=LEARNING_RATE)
        report(f"{name}_train_mse", curves[name][-1])
        predictions[name] = forecast(model, y.ravel(), steps=len(t_future))

    heading("forecasts over t in (1, 2], closed loop (plain: evaluated at those t)")
    for name, prediction in predictions.items():
        rmse, max_error = errors(prediction, truth)
        report(f"extrap_rmse_{name}", rmse)
        report(f"extrap_max_error_{name}", max_error)
    titles = {"plain": "The post's network", **{name: f"{name.upper()}, windows of {WINDOW}"
                                                 for name in RECURRENT}}
    plot_beyond_the_data(t, y, [(titles[name], t_future, prediction, "x--")
                                for name, prediction in predictions.items()],
                         args.out, "rnn_forecast.png")
    save_losses_plot(curves, args.out)


if __name__ == "__main__":
    main()

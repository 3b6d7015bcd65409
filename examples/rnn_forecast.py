"""The cosine post's announced follow-up: forecast the wave beyond t = 1 with a recurrent network.

The post ends (Fig. 5) by showing that its network, fed t > 1, does not
continue the wave, and announces the fix for its next post: a recurrent
network, "rearranging the input dataset to conform with supervised learning".
That rearrangement is windowing: from the same 50 measurements of cos(2πt) on
[0, 1], every run of WINDOW consecutive values becomes an input sequence and
the value after it the target. An `nn.RNN` reads the window, a Linear layer
maps its last hidden state to the next value.

To forecast, the network predicts one step past the data, appends its own
prediction to the window and slides on (closed loop), step after step, over
t in (1, 2]. We compare that with the plain network of the post (trained
exactly as in cosine_fit.py) evaluated at the same times.

Figures (in --out): rnn_forecast.png (both forecasts against the true wave),
rnn_loss.png.

    python examples/rnn_forecast.py [--out out/] [--quick] [--seed 0]
"""
import numpy as np

import nn
from autograd_lite import no_grad
from _common import Stopwatch, parse_args, report, save_loss_plot, train_full_batch
from cosine_fit import (MAX_EPOCHS, make_data, plot_beyond_the_data, post_network,
                        target, train_post)

WINDOW, HIDDEN, EPOCHS, LEARNING_RATE = 5, 16, 3000, 0.01


class Forecaster(nn.Module):
    """Window of past values (N, WINDOW, 1) → the next value (N, 1)."""

    def __init__(self, rng):
        super().__init__()
        self.rnn = nn.RNN(1, HIDDEN, batch_first=True, rng=rng)
        self.head = nn.Linear(HIDDEN, 1, rng=rng)

    def forward(self, windows):
        _, last_hidden = self.rnn(windows)       # (num_layers=1, N, HIDDEN)
        return self.head(last_hidden[0])


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


def main(argv=None):
    args = parse_args(__doc__.splitlines()[0], default_seed=0, argv=argv)
    t, y = make_data()
    step = t[1, 0] - t[0, 0]
    t_future = 1.0 + step * np.arange(1, len(t))            # (1, 2] on the same grid
    truth = target(t_future)

    rnn_model = Forecaster(np.random.default_rng(args.seed))
    inputs, targets = make_windows(y.ravel())
    with Stopwatch("train"):
        losses = train_full_batch(rnn_model, lambda: nn.mse_loss(rnn_model(inputs), targets),
                                  epochs=150 if args.quick else EPOCHS, lr=LEARNING_RATE)
    rnn_prediction = forecast(rnn_model, y.ravel(), steps=len(t_future))

    plain = post_network()
    train_post(plain, t, y, max_epochs=400 if args.quick else MAX_EPOCHS)
    plain_prediction = nn.predict(plain, t_future.reshape(-1, 1)).ravel()

    report("rnn_train_mse", losses[-1])
    for name, prediction in (("plain", plain_prediction), ("rnn", rnn_prediction)):
        rmse, max_error = errors(prediction, truth)
        report(f"extrap_rmse_{name}", rmse)
        report(f"extrap_max_error_{name}", max_error)
    plot_beyond_the_data(t, y, [("The post's network", t_future, plain_prediction, "x--"),
                                (f"RNN, windows of {WINDOW}", t_future, rnn_prediction, "x--")],
                         args.out, "rnn_forecast.png")
    save_loss_plot(losses, args.out, "rnn_loss.png", "Training the RNN",
                   ylabel="MSE (one-step-ahead)")


if __name__ == "__main__":
    main()

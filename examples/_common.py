"""What every example shares: its command line, its printed numbers and its figures.

Every example takes the same three options:

    --out DIR   where figures go (default: out/)
    --quick     a few-second version for the tests: fewer epochs, same code path
    --seed N    the random seed (default: the one the source document uses)

and prints its key numbers one per line as ``name: value``, so a test (or a
reader) can pick them out with `parse_report`. Figures are matplotlib PNGs
written with the non-interactive Agg backend, so examples run on servers.
Also here: the guide's data preprocessing and the full-batch Adam loop that
several examples share.
"""
import argparse
import pathlib
import re
import time

import matplotlib

matplotlib.use("Agg")  # before pyplot is imported anywhere: no window, works headless
import matplotlib.pyplot as plt  # noqa: E402

import nn  # noqa: E402


def parse_args(description, default_seed=0, argv=None):
    """The shared command line; returns the parsed arguments with `out` made a Path that exists."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--out", default="out/", help="folder for the figures (default: out/)")
    parser.add_argument("--quick", action="store_true",
                        help="a few-second run (fewer epochs) for tests and smoke checks")
    parser.add_argument("--seed", type=int, default=default_seed,
                        help=f"random seed (default: {default_seed})")
    args = parser.parse_args(argv)
    args.out = pathlib.Path(args.out)
    args.out.mkdir(parents=True, exist_ok=True)
    return args


def report(name, value):
    """Print one key number as ``name: value`` (floats with 6 significant digits)."""
    if isinstance(value, float):
        value = f"{value:.6g}"
    print(f"{name}: {value}", flush=True)


_REPORT_LINE = re.compile(r"^([A-Za-z_][\w.]*): (\S+)$")


def parse_report(text):
    """The ``name: value`` lines of an example's output as a dict (numbers as floats)."""
    numbers = {}
    for line in text.splitlines():
        match = _REPORT_LINE.match(line.strip())
        if match:
            name, value = match.groups()
            try:
                numbers[name] = float(value)
            except ValueError:
                numbers[name] = value
    return numbers


def save_figure(fig, out, name):
    """Write `fig` as out/name (PNG), close it, print where it went, and return the path."""
    path = pathlib.Path(out) / name
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print(f"wrote {path}", flush=True)
    return path


def save_loss_plot(losses, out, name, title, ylabel="loss", xlabel="epoch"):
    """A loss curve on a log scale, saved as out/name."""
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.semilogy(losses, linewidth=1.5)
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    return save_figure(fig, out, name)


def train_full_batch(model, compute_loss, epochs, lr, log_every=None):
    """Adam on `compute_loss()` (a scalar Value from the whole data set), the learning rate
    annealed to 0 over `epochs` (cosine schedule); returns the loss of every epoch."""
    optimizer = nn.Adam(model.parameters(), lr=lr)
    scheduler = nn.CosineAnnealingLR(optimizer, T_max=epochs)
    losses = []
    for epoch in range(epochs):
        loss = compute_loss()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
        if log_every and epoch % log_every == 0:
            print(f"epoch {epoch:5d}  loss {loss.item():.3e}", flush=True)
    return losses


class Stopwatch:
    """`with Stopwatch("train"): ...` reports ``train_seconds: 1.23`` when the block ends."""

    def __init__(self, name):
        self.name = name

    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start
        report(f"{self.name}_seconds", round(self.seconds, 2))


def standardized_split(X, y, test_size=0.2, random_state=42):
    """The guide's preprocessing: train/test split, then features scaled by the training set's
    mean and standard deviation (scikit-learn's StandardScaler). Returns X_train, X_test,
    y_train, y_test."""
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=test_size,
                                                        random_state=random_state)
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test

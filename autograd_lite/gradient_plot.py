"""Gradient flow: how big each parameter's gradient is, to spot vanishing and exploding gradients.

    loss.backward()
    fig = plot_gradient_flow(model.named_parameters())
    fig.savefig("gradient_flow.png")

One pair of bars per parameter, first layer on the left: the mean |grad|
and the max |grad|, on a log scale. Gradients that shrink by orders of
magnitude towards the first layers are vanishing; huge ones are exploding.
A parameter whose gradient is missing (it was not used, or backward has not
run) or exactly zero cannot sit on a log scale: its name is marked in red.

matplotlib is imported only when a plot is made, so `import autograd_lite`
never needs it (install the `plot` extra: pip install "autograd_lite[plot]").
"""
import numpy as np

from .value import Value


def gradient_magnitudes(parameters):
    """`(names, mean |grad|, max |grad|)` per parameter; NaN where a parameter has no grad.

    `parameters`: `(name, Value)` pairs such as `model.named_parameters()`, or
    plain `Value`s (named by `.name`, else by position).
    """
    names, means, maxes = [], [], []
    for index, item in enumerate(parameters):
        name, param = item if isinstance(item, tuple) else (item.name or f"param {index}", item)
        if not isinstance(param, Value):
            raise TypeError(f"plot_gradient_flow: parameter {name!r} is a "
                            f"{type(param).__name__}, not a Value")
        names.append(str(name))
        if param.grad is None or np.size(param.grad) == 0:
            means.append(np.nan)
            maxes.append(np.nan)
        else:
            magnitude = np.abs(np.asarray(param.grad, dtype=np.float64))
            means.append(magnitude.mean())
            maxes.append(magnitude.max())
    if not names:
        raise ValueError("plot_gradient_flow: no parameters given")
    return names, np.array(means), np.array(maxes)


def plot_gradient_flow(parameters, ax=None, title="Gradient flow"):
    """A matplotlib Figure with each parameter's mean and max |grad| as bars on a log scale.

    Draws into `ax` when given (and returns its figure), else into a new figure.
    """
    import matplotlib.pyplot as plt  # optional dependency: only needed here

    names, means, maxes = gradient_magnitudes(parameters)
    if np.all(np.isnan(maxes)):
        raise ValueError("plot_gradient_flow: no parameter has a gradient yet; "
                         "call loss.backward() first")
    if ax is None:
        fig, ax = plt.subplots(figsize=(max(4.0, 0.6 * len(names) + 2.0), 4.0))
    else:
        fig = ax.figure
    positions = np.arange(len(names))
    shown = lambda heights: np.where(heights > 0, heights, np.nan)  # log scale: no zeros
    ax.bar(positions, shown(maxes), width=0.8, color="#74c0fc", label="max |grad|")
    ax.bar(positions, shown(means), width=0.4, color="#1864ab", label="mean |grad|")
    ax.set_yscale("log")
    positive = means[means > 0]
    if positive.size:  # room below the smallest bar, so it does not vanish into the axis
        ax.set_ylim(bottom=positive.min() / 5)
    ax.set_xticks(positions)
    ax.set_xticklabels(names, rotation=45, ha="right")
    flat = ~(maxes > 0)  # missing (NaN) or exactly zero everywhere
    for label, is_flat in zip(ax.get_xticklabels(), flat):
        if is_flat:
            label.set_color("#c92a2a")
    if flat.any():
        ax.set_xlabel("red: no gradient, or all zero")
    ax.set_ylabel("|grad| (log scale)")
    ax.set_title(title, pad=24)  # room for the legend between the title and the bars
    ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=2, frameon=False,
              borderaxespad=0.2)  # above the axes: it never covers a bar
    ax.grid(axis="y", which="major", alpha=0.3)
    fig.tight_layout()
    return fig

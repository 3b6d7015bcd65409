"""The gradient-flow figure: one pair of bars (mean and max |grad|) per parameter, log scale."""
import subprocess
import sys

import numpy as np
import pytest

from autograd_lite import Value, plot_gradient_flow
from autograd_lite.gradient_plot import gradient_magnitudes

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from PIL import Image  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def deep_tanh_chain(rng, depth=4):
    """A chain of (1, 1) tanh layers; returns named parameters after backward."""
    x = np.array([[0.5]])
    params, h = [], x
    for layer in range(depth):
        w = Value(rng.normal(size=(1, 1)), name=f"{layer}.weight")
        b = Value(rng.normal(size=(1,)), name=f"{layer}.bias")
        params += [(w.name, w), (b.name, b)]
        h = (h @ w + b).tanh()
    h.sum().backward()
    return params


def test_one_bar_of_each_kind_per_parameter_with_the_gradient_magnitudes(tmp_path, rng):
    params = deep_tanh_chain(rng)
    fig = plot_gradient_flow(params)
    (ax,) = fig.axes
    maxes, means = ax.containers
    assert len(maxes) == len(means) == len(params) == 8
    expected = [np.abs(p.grad).max() for _, p in params]
    np.testing.assert_allclose([bar.get_height() for bar in maxes], expected)
    np.testing.assert_allclose([bar.get_height() for bar in means],
                               [np.abs(p.grad).mean() for _, p in params])
    assert [t.get_text() for t in ax.get_xticklabels()] == [name for name, _ in params]
    assert ax.get_yscale() == "log"
    assert ax.get_ylim()[0] <= min(expected)

    path = tmp_path / "flow.png"
    fig.savefig(path, dpi=50)
    with Image.open(path) as image:
        assert image.format == "PNG" and image.size[0] > 100 and image.size[1] > 100
        image.verify()


def test_plain_values_are_named_by_name_or_position_and_missing_grads_are_red(rng):
    used, unused = Value(rng.normal(size=3), name="used"), Value(np.ones(2))
    zero = Value(np.ones(2), name="zero")
    (used * used).sum().backward()
    zero.grad = np.zeros(2)
    fig = plot_gradient_flow([used, unused, zero])
    ax = fig.axes[0]
    labels = ax.get_xticklabels()
    assert [t.get_text() for t in labels] == ["used", "param 1", "zero"]
    red = [t.get_text() for t in labels if t.get_color() != labels[0].get_color()]
    assert red == ["param 1", "zero"]
    assert np.isnan(ax.containers[0][1].get_height())
    assert "no gradient" in ax.get_xlabel()


def test_draws_into_a_given_axes():
    fig, (left, right) = plt.subplots(1, 2)
    x = Value([1.0, -2.0], name="x")
    (x * 3).sum().backward()
    assert plot_gradient_flow([("x", x)], ax=right) is fig
    assert len(right.containers) == 2 and not left.containers


def test_magnitudes_and_errors():
    w = Value([[1.0, -4.0]], name="w")
    w.grad = np.array([[0.5, -2.0]])
    names, means, maxes = gradient_magnitudes([w])
    assert names == ["w"] and means.tolist() == [1.25] and maxes.tolist() == [2.0]
    with pytest.raises(ValueError, match="backward"):
        plot_gradient_flow([Value(1.0)])
    with pytest.raises(ValueError, match="no parameters"):
        plot_gradient_flow([])
    with pytest.raises(TypeError, match="'a' is a ndarray, not a Value"):
        plot_gradient_flow([("a", np.ones(2))])


def test_importing_the_package_does_not_import_matplotlib():
    code = "import sys, autograd_lite; sys.exit('matplotlib' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0

"""Every example runs (in its --quick mode), prints sane numbers and writes valid figures.

Each example is run as a user runs it — `python examples/<name>.py --quick
--out <tmp>` in a subprocess from the repository root — and its printed
``name: value`` lines are checked against ranges that a broken engine, layer
or optimizer would miss. Figures must open and verify with Pillow (the GIF
must be animated). Full-length runs, and their numbers, are in the README.
"""
import pathlib
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ElementTree

import numpy as np
import pytest

PIL = pytest.importorskip("PIL.Image")
pytest.importorskip("matplotlib")
pytest.importorskip("sklearn")

ROOT = pathlib.Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
sys.path.insert(0, str(EXAMPLES))

from _common import parse_report  # noqa: E402

HAVE_DOT = shutil.which("dot") is not None


def run_example(name, out, *extra):
    """Run examples/<name>.py --quick --out <out>; return its printed numbers."""
    completed = subprocess.run(
        [sys.executable, str(EXAMPLES / f"{name}.py"), "--quick", "--out", str(out), *extra],
        cwd=ROOT, capture_output=True, text=True)
    assert completed.returncode == 0, f"{name} failed:\n{completed.stdout}\n{completed.stderr}"
    return parse_report(completed.stdout)


def assert_images(out, *names):
    for name in names:
        path = out / name
        assert path.is_file(), f"{name} was not written"
        with PIL.open(path) as image:
            image.verify()
        with PIL.open(path) as image:  # verify() leaves the file unusable: reopen to look inside
            assert min(image.size) > 50
            if name.endswith(".gif"):
                assert getattr(image, "n_frames", 1) > 1, f"{name} is not animated"


def test_cosine_fit(tmp_path):
    numbers = run_example("cosine_fit", tmp_path)
    assert numbers["initial_mse"] == pytest.approx(0.586003, rel=1e-5)  # the post's init, exactly
    assert numbers["epochs_run"] == 400
    assert numbers["final_mse"] < 0.5 * numbers["initial_mse"]
    assert numbers["snake_train_mse"] < 0.05
    assert numbers["extrap_rmse_tanh"] > 0.5          # tanh does not continue the wave
    assert numbers["extrap_max_error_tanh"] >= numbers["extrap_rmse_tanh"]
    assert numbers["extrap_rmse_snake"] < numbers["extrap_rmse_tanh"]
    assert_images(tmp_path, "cosine_data.png", "cosine_training.gif", "cosine_final_fit.png",
                  "cosine_mse.png", "cosine_extrapolation.png")


def test_cosine_fit_follows_the_posts_own_update_rule():
    """Three epochs of cosine_fit's training move the weights exactly as the post's code does."""
    import cosine_fit
    from autograd_lite.references import cosine_post

    t, y = cosine_fit.make_data()
    model = cosine_fit.post_network(seed=42)
    losses, _ = cosine_fit.train_post(model, t, y, max_epochs=3)

    params = cosine_post.initialize_weights(seed=42)
    post_losses = []
    for _ in range(3):
        loss, sums = cosine_post.training_gradients(t, y, **params)
        post_losses.append(loss)
        params = {name: value - cosine_post.LEARNING_RATE * sums[name]
                  for name, value in params.items()}
    # each epoch: the loss at the current weights, then one update (in both)
    np.testing.assert_allclose(losses, post_losses, rtol=1e-12)
    np.testing.assert_allclose(model[0].weight.data, params["w1"], rtol=1e-10)
    np.testing.assert_allclose(model[0].bias.data, params["b1"].ravel(), rtol=1e-10)
    np.testing.assert_allclose(model[2].weight.data, params["w2"].T, rtol=1e-10)
    np.testing.assert_allclose(model[2].bias.data, params["b2"].ravel(), rtol=1e-10)


def test_sine_fit(tmp_path):
    numbers = run_example("sine_fit", tmp_path)
    assert numbers["epochs"] == 800  # --quick; the README's 8000 for a full run
    assert numbers["final_mse"] < 0.05
    assert numbers["max_error"] < 0.7  # an untrained (zero) network is off by 1.0
    assert numbers["r2"] > 0.9
    assert_images(tmp_path, "sine_fit.png", "sine_error_analysis.png")


def test_classification(tmp_path):
    numbers = run_example("classification", tmp_path)
    assert numbers["final_loss"] < 0.69  # below chance level's log 2
    assert 0.75 < numbers["test_accuracy"] <= 1.0
    assert numbers["linear_test_accuracy"] == pytest.approx(0.90, abs=0.005)  # the README's
    assert_images(tmp_path, "classification.png")


def test_regression(tmp_path):
    numbers = run_example("regression", tmp_path)
    assert numbers["r2"] > 0.6
    assert numbers["r2"] > numbers["r2_relu_output"]  # a ReLU output cannot go negative
    assert_images(tmp_path, "regression.png")


def test_digits_cnn(tmp_path):
    numbers = run_example("digits_cnn", tmp_path)
    assert numbers["epochs"] == 3  # --quick; the README's 20 for a full run
    assert numbers["test_accuracy"] > 0.6  # chance is 0.1; three short epochs on 600 images
    assert numbers["misclassified"] == pytest.approx(450 * (1 - numbers["test_accuracy"]), abs=0.5)
    assert_images(tmp_path, "digits_curves.png", "digits_confusion.png", "digits_filters.png",
                  "digits_misclassified.png")


def test_rnn_forecast(tmp_path):
    numbers = run_example("rnn_forecast", tmp_path)
    assert numbers["rnn_train_mse"] < 0.01
    assert numbers["extrap_rmse_rnn"] < numbers["extrap_rmse_plain"]
    assert_images(tmp_path, "rnn_forecast.png", "rnn_loss.png")


def test_pinn_oscillator(tmp_path):
    numbers = run_example("pinn_oscillator", tmp_path)
    assert numbers["final_physics_loss"] < 0.1
    assert numbers["max_error"] < 0.7  # u = 0 is off by 1.0 at t = 0
    assert np.isfinite(numbers["max_residual"])
    assert_images(tmp_path, "pinn_solution.png", "pinn_loss.png")


def test_learning_rates(tmp_path):
    numbers = run_example("learning_rates", tmp_path)
    assert abs(numbers["x_final_alpha_0.3"]) < 1e-3     # a good step converges
    assert 0.3 < numbers["x_final_alpha_0.02"] < 1.0     # a tiny one crawls
    assert abs(numbers["x_final_alpha_1.05"]) > 1.0      # a large one diverges
    small, medium, good = (numbers[f"final_loss_lr_{lr}"] for lr in ("0.001", "0.01", "0.1"))
    assert good < medium < small
    assert numbers["final_loss_lr_3"] > 100 * small      # blown up (or inf)
    assert numbers["best_lr"] == 0.1
    assert_images(tmp_path, "learning_rates.png")


def test_graph_tour(tmp_path):
    numbers = run_example("graph_tour", tmp_path)
    # micrograd's neuron: y = tanh(n) = 0.7071, and its gradients
    assert numbers["neuron_y"] == pytest.approx(0.707107, abs=1e-6)
    expected = {"n": 0.5, "b": 0.5, "x1": -1.5, "w1": 1.0, "x2": 0.5, "w2": 0.0}
    for name, value in expected.items():
        assert numbers[f"neuron_{name}_grad"] == pytest.approx(value, abs=1e-6), name
    assert numbers["cosine_loss"] == pytest.approx(0.586003, rel=1e-5)
    assert numbers["mlp_layer_boxes"] == 7  # the MLP itself, 3 Linear and 3 Sigmoid calls
    pictures = [f"graph_{g}_{w}" for g in ("neuron", "cosine", "mlp") for w in ("before", "after")]
    if HAVE_DOT:
        assert_images(tmp_path, *(p + ".png" for p in pictures))
    else:
        assert all((tmp_path / (p + ".dot")).is_file() for p in pictures)


def test_demo(tmp_path):
    numbers = run_example("demo", tmp_path)
    assert numbers["initial_mse"] == pytest.approx(0.586003, rel=1e-5)
    assert numbers["printed_loss_check"] == "fail"  # the post's sums: N times its printed loss's
    assert numbers["printed_loss_factor"] == pytest.approx(50, rel=1e-9)
    assert numbers["gradient_check"] == "pass"
    assert numbers["gradient_check_max_abs_error"] < 1e-10
    assert_images(tmp_path, "cosine_training.gif", "cosine_extrapolation.png",
                  "demo_gradient_flow.png")
    if HAVE_DOT:
        svg = ElementTree.parse(tmp_path / "demo_graph.svg").getroot()
        texts = {t.text for t in svg.iter("{http://www.w3.org/2000/svg}text")}
        assert {"loss", "0.weight", "2.bias", "tanh", "linear"} <= texts  # named values, ops
        assert "0: Linear(in_features=1, out_features=5, bias=True)" in texts  # layer boxes
    else:
        assert (tmp_path / "demo_graph.dot").is_file()

"""check_gradients: verdicts and hints on right, deliberately wrong and the documents' gradients,
and the exercise example's printed verdicts."""
import inspect
import pathlib
import subprocess
import sys
from functools import partial

import numpy as np
import pytest

from autograd_lite import GradientReport, check_gradients
from autograd_lite.hand_gradients import automatic_and_numerical, hand_loss_on_values
from autograd_lite.references import cosine_post, nn_basics

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture
def regression(rng):
    """A linear model with mean squared error: x (6, 3), y (6, 2), w (3, 2), b (2,)."""
    x, y = rng.normal(size=(6, 3)), rng.normal(size=(6, 2))
    params = {"w": rng.normal(size=(3, 2)), "b": rng.normal(size=2)}

    def hand(w, b):
        err = x @ w + b - y
        return (err ** 2).mean(), {"w": 2 * x.T @ err / err.size, "b": 2 * err.sum(0) / err.size}

    def loss(w, b):
        return ((x @ w + b - y) ** 2).mean()

    return hand, loss, params


def wrong(hand, **changes):
    """hand with some gradients replaced: changes maps name -> f(right gradient) (None drops it)."""
    def run(**params):
        value, grads = hand(**params)
        for name, change in changes.items():
            if change is None:
                del grads[name]
            else:
                grads[name] = change(grads[name])
        return value, grads
    return run


def test_a_right_gradient_passes(regression):
    hand, loss, params = regression
    report = check_gradients(hand, loss, params)
    assert isinstance(report, GradientReport)
    assert report.passed and report.loss_passed
    assert set(report.parameters) == {"w", "b"}
    for check in report.parameters.values():
        assert check.passed and check.hint == "" and check.factor is None
        assert check.max_abs_error < 1e-12 and check.numeric_agrees
        np.testing.assert_allclose(check.hand, check.numeric, rtol=1e-6)
    text = str(report)
    assert text.startswith("gradient check: PASSED") and "hints:" not in text


@pytest.mark.parametrize("factor, words", [
    (-1.0, "sign flip"), (2.0, "factor 2"), (0.5, "factor ½"), (6.0, "factor N = 6"),
    (1 / 6, "1/N = 1/6"), (-2.0, "flipped sign"), (3.0, "constant factor 3")])
def test_a_constant_factor_is_named(regression, factor, words):
    hand, loss, params = regression
    report = check_gradients(wrong(hand, w=lambda g: factor * g, b=lambda g: factor * g), loss,
                             params, batch_size=6)
    assert not report.passed
    for name in ("w", "b"):
        assert report[name].factor == pytest.approx(factor, rel=1e-9)
        assert words in report[name].hint
    assert report["w"].differing == 6


def test_factor_without_batch_size_suggests_it(regression):
    hand, loss, params = regression
    report = check_gradients(wrong(hand, w=lambda g: 6 * g), loss, params)
    assert "factor 6 — if that is your batch size" in report["w"].hint
    assert report["b"].passed


def test_transposed_gradient(regression):
    hand, loss, params = regression
    report = check_gradients(wrong(hand, w=lambda g: g.T), loss, params)
    assert not report["w"].passed and "transposed" in report["w"].hint
    assert "(2, 3)" in report["w"].hint and report["b"].passed
    square = check_gradients(lambda a: (np.sum(a * [[1., 2.], [3., 4.]]), {"a": np.array([[1., 3.], [2., 4.]])}),
                             lambda a: (a * np.array([[1., 2.], [3., 4.]])).sum(),
                             {"a": np.zeros((2, 2))})
    assert "transposed" in square["a"].hint


def test_missing_and_unknown_gradients(regression):
    hand, loss, params = regression
    report = check_gradients(wrong(hand, b=None), loss, params)
    assert not report.passed and "missing" in report["b"].hint

    def extra(w, b):
        value, grads = hand(w, b)
        return value, {**grads, "bias": grads["b"]}
    report = check_gradients(extra, loss, params)
    assert report.passed and "unknown names ['bias']" in str(report)


def test_the_table_names_a_shape_mistake_instead_of_nan(regression):
    """Transposed, missing and per-sample gradients have no errors to print: the row says why."""
    hand, loss, params = regression
    report = check_gradients(wrong(hand, w=lambda g: g.T, b=None), loss, params)
    assert report["w"].hand_shape == (2, 3) and report["b"].hand_shape is None
    rows = {line.split()[0]: line for line in str(report).splitlines()[3:5]}
    assert "hand shape (2, 3) vs (3, 2)" in rows["w"] and rows["w"].endswith("NO")
    assert "hand gradient missing" in rows["b"] and rows["b"].endswith("NO")
    assert "nan" not in str(report) and "()" not in str(report)
    per_sample = check_gradients(wrong(hand, b=lambda g: np.tile(g / 6, (6, 1))), loss, params)
    assert "hand shape (6, 2) vs (2,)" in str(per_sample)
    assert "sum them over the batch" in per_sample["b"].hint


def test_gradient_per_sample_not_summed(rng):
    x, y = rng.normal(size=(5, 2)), rng.normal(size=(5, 2))
    report = check_gradients(
        lambda b: (((x + b - y) ** 2).sum(), {"b": 2 * (x + b - y)}),
        lambda b: ((x + b - y) ** 2).sum(), {"b": np.zeros(2)})
    assert "sum them over the batch" in report["b"].hint


def test_missing_relu_derivative_is_pointed_at(rng):
    """One sample through relu(W x + b): units whose input is negative have gradient 0."""
    x, y = rng.normal(size=4), rng.normal(size=6)
    params = {"W": rng.normal(size=(6, 4)), "b": np.array([1.0, -1.0, 2.0, -2.0, 0.5, -0.5])}

    def hand(W, b):  # forgets relu'(z)
        err = np.maximum(W @ x + b, 0) - y
        return 0.5 * err @ err, {"W": np.outer(err, x), "b": err}

    def loss(W, b):
        err = (W @ x + b).relu() - y
        return 0.5 * (err * err).sum()

    report = check_gradients(hand, loss, params)
    inactive = int(np.sum(params["W"] @ x + params["b"] < 0))
    assert 0 < inactive < 6
    assert report["b"].differing == inactive
    assert f"{inactive} of 6 entries differ" in report["b"].hint
    assert "true gradient is exactly 0" in report["b"].hint and "relu" in report["b"].hint


def test_loss_mismatch_is_reported(regression):
    hand, loss, params = regression

    def doubled(w, b):
        value, grads = hand(w, b)
        return 2 * value, grads
    report = check_gradients(doubled, loss, params)
    assert not report.loss_passed and not report.passed
    assert all(p.passed for p in report.parameters.values())
    assert "factor 2" in report.loss_hint and "MISMATCH" in str(report)


def test_a_kink_is_flagged_as_engine_vs_numeric():
    report = check_gradients(lambda w: (np.maximum(w, 0).sum(), {"w": (w > 0) * 1.0}),
                             lambda w: w.relu().sum(), {"w": np.array([0.0, 1.0])})
    assert report.passed and not report["w"].numeric_agrees
    assert "finite differences disagree on 1 of 2" in report["w"].hint


def test_loss_fn_must_return_a_scalar_and_hand_fn_a_pair():
    with pytest.raises(ValueError, match="scalar Value"):
        check_gradients(lambda w: (0.0, {"w": w}), lambda w: w * 2, {"w": np.ones(3)})
    with pytest.raises(TypeError, match=r"hand_fn must return \(loss, \{name: gradient\}\)"):
        check_gradients(lambda w: (0.0, w), lambda w: w.sum(), {"w": np.ones(3)})


def test_nan_gradient_fails(regression):
    hand, loss, params = regression
    report = check_gradients(wrong(hand, b=lambda g: g * np.nan), loss, params)
    assert not report.passed and report["b"].differing == 2
    assert "2 of 2 entries are NaN or inf" in report["b"].hint


def test_cosine_post_report_names_the_batch_size():
    x, y = cosine_post.make_data()
    report = check_gradients(partial(cosine_post.training_gradients, x, y),
                             partial(cosine_post.engine_loss, x, y),
                             cosine_post.initialize_weights(), batch_size=len(x))
    assert report.loss_passed and not report.passed
    for check in report.parameters.values():
        assert check.factor == 50.0  # rounded: the ratio itself reads 49.999999999999986
        assert "factor N = 50 (the batch size)" in check.hint
    assert str(report).count("factor N = 50") == 1  # one shared hint line


@pytest.mark.parametrize("derivation, hand_args, engine_args, factor, words", [
    (nn_basics.implementation2, ["tanh", "linear"], ["tanh", "linear", "mse"], 0.5, "factor ½"),
    (nn_basics.formula_section, ["sigmoid"], ["sigmoid", "sigmoid", "half_mse"], 1 / 5,
     "1/N = 1/5"),
    (nn_basics.implementation1, ["sigmoid"], ["sigmoid", "sigmoid", "bce"], None, ""),
    (nn_basics.implementation1, ["tanh"], ["tanh", "tanh", "mse"], None, "activation derivative"),
])
def test_nn_basics_reports(rng, derivation, hand_args, engine_args, factor, words):
    weights, biases = nn_basics.init_parameters([3, 4, 1], rng)
    X = rng.normal(size=(5, 3))
    y = (rng.random((5, 1)) < 0.5) * 1.0 if engine_args[2] == "bce" else rng.normal(size=(5, 1))
    report = check_gradients(nn_basics.hand_fn(derivation, X, y, *hand_args),
                             nn_basics.loss_fn(X, y, *engine_args),
                             nn_basics.as_params(weights, biases), batch_size=5)
    assert report.loss_passed
    if factor is None and not words:
        assert report.passed
        return
    assert not report.passed
    for check in report.parameters.values():
        if factor is not None:
            assert check.factor == pytest.approx(factor, rel=1e-9)
        if factor is not None or check.shape != (1, 1):  # one number has no pattern to read
            assert words in check.hint


def test_the_exercise_example_prints_each_documents_verdict(tmp_path):
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "gradient_check_exercise.py"), "--quick",
         "--out", str(tmp_path)], capture_output=True, text=True, check=True)
    lines = dict(line.split(": ", 1) for line in result.stdout.splitlines()
                 if line.startswith(("verdict.", "factor.", "needs_loss_fn.")))
    verdicts = {k[len("verdict."):]: v for k, v in lines.items() if k.startswith("verdict.")}
    assert verdicts == {
        "cosine_post": "fail", "cosine_post_corrected": "pass",
        "nn_basics_impl1_sigmoid_bce": "pass", "nn_basics_impl1_tanh_mse": "fail",
        "nn_basics_impl1_relu_mse": "fail", "nn_basics_impl1_relu_mse_corrected": "pass",
        "nn_basics_impl2_linear_mse": "fail", "nn_basics_impl2_sigmoid_mse": "fail",
        "nn_basics_formula_section": "fail", "sine_readme_linear": "pass",
        "sine_readme_tanh": "pass", "slides_neuron": "pass", "slides_tiny_cnn": "pass"}
    assert float(lines["factor.cosine_post"]) == pytest.approx(50)
    assert float(lines["factor.nn_basics_impl2_linear_mse"]) == pytest.approx(0.5)
    assert float(lines["factor.nn_basics_formula_section"]) == pytest.approx(1 / 8)
    assert "factor.nn_basics_impl1_tanh_mse" not in lines
    assert "factor N = 50 (the batch size)" in result.stdout
    line = _line_of(cosine_post.training_gradients, "y_hat[j] = feed_forward2(z, w2, b2)")
    assert lines["needs_loss_fn.cosine_post"] == f"cosine_post.py:{line}"


# ---- check_gradients(hand_fn, params): no loss_fn, hand_fn's own loss run on Values ----------

def _line_of(function, text):
    """The line number of `text` in `function`'s source file (no hard-coded numbers)."""
    source, first = inspect.getsourcelines(function)
    return first + next(i for i, line in enumerate(source) if text in line)


def test_every_call_form_gives_the_same_report(regression):
    hand, loss, params = regression
    reports = [check_gradients(hand, loss, params),
               check_gradients(hand, loss_fn=loss, params=params),
               check_gradients(hand, params), check_gradients(hand, params=params),
               check_gradients(hand, None, params)]
    for report in reports:
        assert report.passed and report.loss_passed and set(report.parameters) == {"w", "b"}
        assert report.auto_loss == pytest.approx(reports[0].auto_loss, rel=1e-14)
        for name in ("w", "b"):
            assert report[name].max_abs_error < 1e-12
            assert report[name].auto == pytest.approx(reports[0][name].auto, rel=1e-12)
            assert report[name].numeric == pytest.approx(reports[0][name].numeric, rel=1e-6)
    with pytest.raises(TypeError, match="params must be a {name: array} dict"):
        check_gradients(hand, loss)
    with pytest.raises(TypeError, match="loss_fn must be a function"):
        check_gradients(hand, params, params)


def test_without_loss_fn_wrong_gradients_get_the_same_hints(regression):
    hand, loss, params = regression
    changes = dict(w=lambda g: 6 * g, b=lambda g: -g)
    with_loss = check_gradients(wrong(hand, **changes), loss, params, batch_size=6)
    own_loss = check_gradients(wrong(hand, **changes), params, batch_size=6)
    assert not own_loss.passed and own_loss.loss_passed
    assert own_loss["w"].factor == 6.0 and "factor N = 6" in own_loss["w"].hint
    assert own_loss["b"].factor == -1.0 and "sign flip" in own_loss["b"].hint
    assert str(own_loss) == str(with_loss)


def test_without_loss_fn_the_gradients_are_hand_fns_numpy_ones(rng):
    """hand_fn runs once on Values (for the engine's graph of its loss); its gradients and
    the finite differences come from numpy calls, so the numpy backward is checked as written."""
    x = rng.normal(size=(4, 3))
    calls = []

    def hand(w):
        calls.append(type(w).__name__)
        z = np.tanh(np.dot(x, w))
        grad = x.T @ (1 - z ** 2) if isinstance(w, np.ndarray) else np.zeros(3)  # numpy: right
        return np.sum(z), {"w": grad}

    report = check_gradients(hand, {"w": rng.normal(size=3)})
    assert report.passed
    assert calls[0] == "ndarray" and calls.count("Value") == 1
    assert calls.count("ndarray") >= 1 + 2 * 3  # the check, then ±eps per entry


@pytest.mark.parametrize("derivation, hand_args, engine_args, factor, right", [
    (nn_basics.implementation2, ["tanh", "linear"], ["tanh", "linear", "mse"], 0.5, False),
    (nn_basics.formula_section, ["sigmoid"], ["sigmoid", "sigmoid", "half_mse"], 1 / 5, False),
    (nn_basics.implementation1, ["sigmoid"], ["sigmoid", "sigmoid", "bce"], None, True),
    (nn_basics.implementation1, ["relu"], ["relu", "relu", "mse"], None, False),
    (nn_basics.gradients_of_reported_loss, ["tanh", "tanh", "mse"], ["tanh", "tanh", "mse"], None,
     True),
])
def test_nn_basics_without_loss_fn(rng, derivation, hand_args, engine_args, factor, right):
    """The guide's numpy code runs on Values unchanged: its own loss gives the verdicts and
    the engine gradients that its loss written with Value ops (nn_basics.loss_fn) gives."""
    weights, biases = nn_basics.init_parameters([3, 4, 1], rng)
    biases = [b + 0.1 * rng.normal(size=b.shape) for b in biases]
    X = rng.normal(size=(5, 3))
    y = (rng.random((5, 1)) < 0.5) * 1.0 if engine_args[2] == "bce" else rng.normal(size=(5, 1))
    params = nn_basics.as_params(weights, biases)
    hand = nn_basics.hand_fn(derivation, X, y, *hand_args)
    own = check_gradients(hand, params, batch_size=5)
    written = check_gradients(hand, nn_basics.loss_fn(X, y, *engine_args), params, batch_size=5)
    assert own.loss_passed and own.auto_loss == pytest.approx(written.auto_loss, rel=1e-12)
    assert own.passed == written.passed == right
    _, own_auto, _ = automatic_and_numerical(hand_loss_on_values(hand), params)
    _, written_auto, _ = automatic_and_numerical(nn_basics.loss_fn(X, y, *engine_args), params)
    for name, check in own.parameters.items():
        np.testing.assert_allclose(own_auto[name], written_auto[name], rtol=1e-10, atol=1e-14)
        assert check.numeric_agrees and check.hint == written[name].hint
        if factor is not None:
            assert check.factor == pytest.approx(factor, rel=1e-9)


def test_the_cosine_posts_loop_asks_for_loss_fn_naming_its_line():
    """The post stores each prediction with y_hat[j] = ... into a numpy array: Values cannot
    follow that, so the checker names the line and asks for loss_fn (which then works)."""
    x, y = cosine_post.make_data()
    params = cosine_post.initialize_weights()
    line = _line_of(cosine_post.training_gradients, "y_hat[j] = feed_forward2(z, w2, b2)")
    for derivation in (cosine_post.training_gradients, cosine_post.gradients_of_reported_loss):
        with pytest.raises(TypeError) as caught:
            check_gradients(partial(derivation, x, y), params, batch_size=len(x))
        message = str(caught.value)
        assert f'cosine_post.py", line {line}, in training_gradients' in message
        assert "y_hat[j] = feed_forward2(z, w2, b2)" in message and "Item assignment" in message
        assert "pass the same loss written with Value ops as loss_fn" in message
    corrected = check_gradients(partial(cosine_post.gradients_of_reported_loss, x, y),
                                partial(cosine_post.engine_loss, x, y), params)
    assert corrected.passed


def test_item_assignment_in_the_backward_asks_for_loss_fn_naming_its_line(rng):
    """Softmax cross-entropy, the classic hand backward: g[np.arange(n), labels] -= 1."""
    X, labels = rng.normal(size=(6, 4)), np.array([0, 2, 1, 2, 0, 1])

    def hand(W):
        n = len(X)
        z = np.dot(X, W)
        p = np.exp(z - np.max(z, axis=1, keepdims=True))
        p = p / np.sum(p, axis=1, keepdims=True)
        loss = -np.mean(np.log(p[np.arange(n), labels]))
        g = np.copy(p)
        g[np.arange(n), labels] -= 1
        return loss, {"W": X.T @ g / n}

    def loss(W):
        z = X @ W
        log_p = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
        return -log_p[np.arange(len(X)), labels].mean()

    params = {"W": rng.normal(size=(4, 3))}
    with pytest.raises(TypeError) as caught:
        check_gradients(hand, params)
    message = str(caught.value)
    line = _line_of(hand, "g[np.arange(n), labels] -= 1")
    assert f'test_check_gradients.py", line {line}, in hand' in message
    assert "    g[np.arange(n), labels] -= 1" in message
    assert "Item assignment (a[i] = ..., a[i] -= ...)" in message
    assert "check_gradients(hand_fn, loss_fn, params)" in message
    assert isinstance(caught.value.__cause__, TypeError)  # the original error, chained
    assert check_gradients(hand, loss, params).passed  # the fallback the message asks for


def test_an_unsupported_numpy_function_or_a_lost_loss_asks_for_loss_fn():
    def hand(w):  # the backward uses np.linalg.inv (on a w-dependent matrix): Values refuse it
        inverse = np.linalg.inv(np.diag(np.exp(w)))
        return np.sum(np.exp(w)), {"w": 1 / np.diag(inverse)}

    with pytest.raises(TypeError) as caught:
        check_gradients(hand, {"w": np.ones(3)})
    message = str(caught.value)
    assert f"line {_line_of(hand, 'np.linalg.inv(np.diag(')}, in hand" in message
    assert "numpy.inv is not differentiated" in message and "Item assignment" not in message
    assert "Pass the same loss written with Value ops as loss_fn" in message

    def constant_loss(w):  # float() leaves the graph: the loss is no Value
        return float(np.sum(w)), {"w": np.ones(3)}

    with pytest.raises(TypeError, match="loss of type float, not a Value.*loss_fn"):
        check_gradients(constant_loss, {"w": np.ones(3)})

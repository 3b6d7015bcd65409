"""The cosine post's hand-derived gradients vs the engine vs finite differences.

The post's training loop sums its per-point derivatives times (ŷ - y) with no
1/N: that is the gradient of ½ Σₙ (ŷₙ - yₙ)² = N · loss_fn, where loss_fn =
Σₙ (yₙ - ŷₙ)² / (2N) is the "MSE" the post prints. So the post's gradient is
exactly N times the gradient of its reported loss; it agrees only when N = 1.
The corrected formula (divided by N) matches the engine for every N.
"""
from functools import partial

import numpy as np
from hypothesis import given, strategies as st

from autograd_lite.hand_gradients import automatic_and_numerical
from autograd_lite.references import cosine_post

HAND_RTOL, HAND_ATOL = 1e-6, 1e-8        # hand vs engine: same numbers, different order of sums
NUMERIC_RTOL, NUMERIC_ATOL = 1e-5, 1e-7  # engine vs central differences with eps = 1e-6


def draw_problem(n_hidden, n_points, seed):
    rng = np.random.default_rng(seed)
    params = {"w1": rng.normal(size=(n_hidden, 1)), "b1": rng.normal(size=(n_hidden, 1)),
              "w2": rng.normal(size=(n_hidden, 1)), "b2": rng.normal(size=(1, 1))}
    x = rng.uniform(0, 1, size=(n_points, 1))
    y = rng.uniform(-1, 1, size=(n_points, 1))
    return params, x, y


def assert_grads_close(hand, expected, rtol=HAND_RTOL, atol=HAND_ATOL):
    assert hand.keys() == expected.keys()
    for name in expected:
        np.testing.assert_allclose(hand[name], expected[name], rtol=rtol, atol=atol,
                                   err_msg=name)


@given(n_hidden=st.integers(1, 8), n_points=st.integers(1, 12), seed=st.integers(0, 2**32 - 1))
def test_post_gradient_is_n_times_the_gradient_of_its_reported_loss(n_hidden, n_points, seed):
    """Post's sums == N · ∇loss_fn exactly, i.e. ∇ of ½ Σ (ŷ - y)²; engine == finite differences."""
    params, x, y = draw_problem(n_hidden, n_points, seed)
    loss, hand = cosine_post.training_gradients(x, y, **params)
    engine_loss, auto, numeric = automatic_and_numerical(
        partial(cosine_post.engine_loss, x, y), params)

    np.testing.assert_allclose(loss, engine_loss, rtol=1e-12)
    assert_grads_close(numeric, auto, NUMERIC_RTOL, NUMERIC_ATOL)
    assert_grads_close(hand, {k: n_points * g for k, g in auto.items()},
                       atol=HAND_ATOL * n_points)


@given(n_hidden=st.integers(1, 8), n_points=st.integers(1, 12), seed=st.integers(0, 2**32 - 1))
def test_corrected_gradient_matches_the_engine(n_hidden, n_points, seed):
    """gradients_of_reported_loss (the sums / N) == ∇loss_fn from the engine."""
    params, x, y = draw_problem(n_hidden, n_points, seed)
    loss, corrected = cosine_post.gradients_of_reported_loss(x, y, **params)
    _, auto, _ = automatic_and_numerical(partial(cosine_post.engine_loss, x, y), params)
    assert_grads_close(corrected, auto)


def test_with_the_posts_own_setup_the_gradient_is_50_times_too_large():
    """N = 50 points, 5 tanh units, seed-42 init, the code's sin(2πt): factor exactly 50 on
    the code's loss Σ (y - ŷ)²/(2N), and exactly 25 on the text's E = (1/N) Σ (ŷ - y)²."""
    x, y = cosine_post.make_data()
    params = cosine_post.initialize_weights()
    assert x.shape == (50, 1) and params["w1"].shape == (5, 1)
    np.testing.assert_array_equal(y, np.sin(2 * np.pi * x))  # the code fits sine, not cosine

    _, hand = cosine_post.training_gradients(x, y, **params)
    _, auto, _ = automatic_and_numerical(partial(cosine_post.engine_loss, x, y), params)
    assert_grads_close(hand, {k: 50 * g for k, g in auto.items()})

    def text_mse(**p):
        return 2 * cosine_post.engine_loss(x, y, **p)  # (1/N) Σ (ŷ - y)², no ½
    _, auto_text, _ = automatic_and_numerical(text_mse, params)
    assert_grads_close(hand, {k: 25 * g for k, g in auto_text.items()})


def test_initial_weights_replay_the_posts_random_stream():
    """np.random.seed(42), then w1, w2, b1, b2 in that order."""
    np.random.seed(42)
    expected = [np.random.normal(0.0, 1.0, size=s) for s in [(5, 1), (5, 1), (5, 1), (1, 1)]]
    params = cosine_post.initialize_weights()
    for name, want in zip(["w1", "w2", "b1", "b2"], expected):
        np.testing.assert_array_equal(params[name], want)

"""The sine README's network: our per-point chain-rule derivation (the README states
none) vs the engine vs finite differences, of its loss, MSE = (1/N) Σ (ŷ - y)².

The derivation is the gradient of the reported loss for both output units the
README could mean (tanh or linear); no discrepancy to document.
"""
from functools import partial

import numpy as np
import pytest
from hypothesis import given, strategies as st

from autograd_lite.hand_gradients import automatic_and_numerical
from autograd_lite.references import sine_readme

HAND_RTOL, HAND_ATOL = 1e-6, 1e-8
NUMERIC_RTOL, NUMERIC_ATOL = 1e-5, 1e-7


def check(params, x, y, output_activation):
    loss, hand = sine_readme.gradients(x, y, **params, output_activation=output_activation)
    value, auto, numeric = automatic_and_numerical(
        partial(sine_readme.engine_loss, x, y, output_activation=output_activation), params)
    np.testing.assert_allclose(loss, value, rtol=1e-12)
    for name in params:
        np.testing.assert_allclose(hand[name], auto[name], rtol=HAND_RTOL, atol=HAND_ATOL,
                                   err_msg=name)
        np.testing.assert_allclose(numeric[name], auto[name], rtol=NUMERIC_RTOL,
                                   atol=NUMERIC_ATOL, err_msg=name)


@given(n_hidden=st.integers(1, 30), n_points=st.integers(1, 20),
       output_activation=st.sampled_from(sine_readme.OUTPUT_ACTIVATIONS),
       seed=st.integers(0, 2**32 - 1))
def test_derivation_is_the_gradient_of_the_mse(n_hidden, n_points, output_activation, seed):
    rng = np.random.default_rng(seed)
    params = {"w1": rng.normal(size=(n_hidden, 1)), "b1": rng.normal(size=(n_hidden, 1)),
              "w2": rng.normal(size=(n_hidden, 1)), "b2": rng.normal(size=(1, 1))}
    x = rng.uniform(-2 * np.pi, 2 * np.pi, size=(n_points, 1))
    check(params, x, np.sin(x), output_activation)


@pytest.mark.parametrize("output_activation", sine_readme.OUTPUT_ACTIVATIONS)
def test_the_readmes_setup(output_activation):
    """1-30-1, 100 points on [-2π, 2π], Xavier init."""
    x, y = sine_readme.make_data()
    params = sine_readme.xavier_init()
    assert x.shape == (100, 1) and params["w1"].shape == (30, 1)
    assert x.min() == -2 * np.pi and x.max() == 2 * np.pi
    check(params, x, y, output_activation)


def test_unknown_output_activation_is_refused():
    x, y = sine_readme.make_data(3)
    with pytest.raises(ValueError, match="output_activation"):
        sine_readme.gradients(x, y, **sine_readme.xavier_init(2), output_activation="relu")

"""The slides' neuron and convolution: our chain-rule gradients (the slides write none)
vs the engine vs finite differences, of the slides' binary cross-entropy.

Everything here is the gradient of the loss it is stated for: the neuron's
∂L/∂z = ŷ - y is the sigmoid + BCE simplification of ∂L/∂ŷ · ŷ(1-ŷ); the
convolution's ∂L/∂K = x ⋆ G and ∂L/∂x = pad(G) ⋆ flip(K) are the gradients of
any loss whose gradient at the convolution's output is G.
"""
from functools import partial

import numpy as np
from hypothesis import given, strategies as st

from autograd_lite import Value
from autograd_lite.hand_gradients import automatic_and_numerical
from autograd_lite.references import slides

HAND_RTOL, HAND_ATOL = 1e-6, 1e-8
NUMERIC_RTOL, NUMERIC_ATOL = 1e-5, 1e-7
seeds = st.integers(0, 2**32 - 1)
labels = st.sampled_from([0.0, 1.0])


def assert_matches(hand, auto, numeric):
    for name in auto:
        np.testing.assert_allclose(hand[name], auto[name], rtol=HAND_RTOL, atol=HAND_ATOL,
                                   err_msg=name)
        np.testing.assert_allclose(numeric[name], auto[name], rtol=NUMERIC_RTOL,
                                   atol=NUMERIC_ATOL, err_msg=name)


@given(n_inputs=st.integers(1, 8), y=labels, seed=seeds)
def test_neuron_chain_rule_and_shortcut_are_the_gradient_of_bce(n_inputs, y, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n_inputs)
    params = {"w": rng.normal(size=n_inputs), "b": np.asarray(rng.normal())}
    value, auto, numeric = automatic_and_numerical(
        partial(slides.engine_neuron_loss, x, y), params)
    for derivation in (slides.neuron_gradients, slides.neuron_gradients_shortcut):
        loss, hand = derivation(x, y, **params)
        np.testing.assert_allclose(loss, value, rtol=1e-12)
        assert_matches(hand, auto, numeric)


def test_slides_worked_losses():
    """'y = 1 and ŷ = 0.9 ... = 0.1054'; 'ŷ = 0.1 ... = 2.3026'."""
    np.testing.assert_allclose(slides.binary_cross_entropy(1, 0.9), 0.1054, atol=5e-5)
    np.testing.assert_allclose(slides.binary_cross_entropy(1, 0.1), 2.3026, atol=5e-5)


@given(height=st.integers(1, 7), width=st.integers(1, 7), kh=st.integers(1, 3),
       kw=st.integers(1, 3), seed=seeds)
def test_convolution_gradients_match_the_engines_conv2d(height, width, kh, kw, seed):
    """With L = Σ G ⊙ (x ⋆ K + c) for a random G: ∂L/∂K, ∂L/∂c, ∂L/∂x by hand == engine."""
    height, width = height + kh - 1, width + kw - 1  # at least one output pixel
    rng = np.random.default_rng(seed)
    params = {"x": rng.normal(size=(height, width)), "kernel": rng.normal(size=(kh, kw)),
              "conv_bias": np.asarray(rng.normal())}
    upstream = rng.normal(size=(height - kh + 1, width - kw + 1))

    def loss_fn(x, kernel, conv_bias):
        return (slides.engine_conv(x, kernel, conv_bias) * upstream).sum()

    value, auto, numeric = automatic_and_numerical(loss_fn, params)
    out = slides.correlate2d(params["x"], params["kernel"]) + params["conv_bias"]
    np.testing.assert_allclose(np.sum(out * upstream), value, rtol=1e-12)
    np.testing.assert_allclose(
        out, slides.engine_conv(Value(params["x"]), Value(params["kernel"]),
                                Value(params["conv_bias"])).data, rtol=1e-12, atol=1e-12)
    d_kernel, d_bias, d_x = slides.conv_gradients(params["x"], params["kernel"], upstream)
    assert_matches({"x": d_x, "kernel": d_kernel, "conv_bias": d_bias}, auto, numeric)


@given(height=st.integers(2, 6), width=st.integers(2, 6), k=st.integers(1, 2), y=labels,
       seed=seeds)
def test_tiny_cnn_gradients_are_the_gradient_of_bce(height, width, k, y, seed):
    rng = np.random.default_rng(seed)
    image = rng.normal(size=(height, width))
    params = {"kernel": rng.normal(size=(k, k)), "conv_bias": np.asarray(rng.normal()),
              "w": rng.normal(size=(height - k + 1, width - k + 1)),
              "b": np.asarray(rng.normal())}
    loss, hand = slides.tiny_cnn_gradients(image, y, **params)
    value, auto, numeric = automatic_and_numerical(
        partial(slides.engine_tiny_cnn_loss, image, y), params)
    np.testing.assert_allclose(loss, value, rtol=1e-12)
    assert_matches(hand, auto, numeric)

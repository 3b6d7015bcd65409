"""The NN-basics guide's three backward passes vs the engine vs finite differences.

What each is the gradient of (W = weights, m = batch size, n_out = output units):

- Implementation 1 and 2 start the backward pass from dz = (ŷ - y)/m for every
  output activation f. That is exactly the gradient of the matching loss
  (1/m) Σ [F(z) - y z], F' = f, for every f (asserted below). It equals the
  gradient of the reported loss only for Implementation 1 with sigmoid and
  binary cross-entropy, and then only with one output unit (n_out outputs: the
  guide's np.mean divides by m·n_out, so the hand gradient is n_out times it).
  Against the reported MSE, the output error misses the factor 2·f'(z)/n_out
  (asserted elementwise at z[L]); for Implementation 2's linear output that
  is the constant n_out/2 for every parameter (½: the classic missing 2).
- The formula section is right down to ∂L/∂z for its L = (1/2m) Σ (y - ŷ)², then
  divides dW and db by m once more: exactly 1/m times the gradient of L.

The corrected backward (`gradients_of_reported_loss`) matches the engine in all cases.
"""
import numpy as np
import pytest
from hypothesis import given, strategies as st

from autograd_lite import Value, grad
from autograd_lite.hand_gradients import automatic_and_numerical
from autograd_lite.references import nn_basics

HAND_RTOL, HAND_ATOL = 1e-6, 1e-8
NUMERIC_RTOL, NUMERIC_ATOL = 1e-5, 1e-7
KINKED = ("relu", "leaky_relu")

layer_sizes = st.lists(st.integers(1, 4), min_size=2, max_size=4)
hidden_activations = st.sampled_from(["sigmoid", "tanh", "relu", "leaky_relu"])
output_activations = st.sampled_from(["sigmoid", "tanh", "relu", "leaky_relu", "linear"])
batch_sizes = st.integers(1, 6)
seeds = st.integers(0, 2**32 - 1)


def draw_problem(layers, m, seed, binary_targets):
    rng = np.random.default_rng(seed)
    weights, biases = nn_basics.init_parameters(layers, rng)
    biases = [b + rng.normal(scale=0.5, size=b.shape) for b in biases]  # the guide starts at 0
    X = rng.normal(size=(m, layers[0]))
    y = (rng.random((m, layers[-1])) < 0.5).astype(float) if binary_targets \
        else rng.normal(size=(m, layers[-1]))
    return weights, biases, X, y


def engine(weights, biases, X, y, hidden, output, loss):
    """(loss, engine grads, numeric grads) as [dW..., db...] lists; loss "matching" or reported."""
    value, auto, numeric = automatic_and_numerical(
        nn_basics.loss_fn(X, y, hidden, output, loss), nn_basics.as_params(weights, biases))
    return value, list(auto.values()), list(numeric.values())


def flat(grads):
    dW, db = grads
    return list(dW) + list(db)


def assert_all_close(actual, expected, rtol=HAND_RTOL, atol=HAND_ATOL):
    assert len(actual) == len(expected)
    for i, (a, e) in enumerate(zip(actual, expected)):
        np.testing.assert_allclose(a, e, rtol=rtol, atol=atol, err_msg=f"gradient {i}")


def away_from_kinks(weights, biases, X, hidden, output):
    """Finite differences need every relu input clear of 0 by more than their step."""
    if hidden not in KINKED and output not in KINKED:
        return True
    _, _, z_values = nn_basics.forward(weights, biases, X, hidden, output)
    return min(np.abs(z).min() for z in z_values) > 1e-4


def output_error_relation(weights, biases, X, y, hidden, output):
    """(engine ∂MSE/∂z[L], the guide's dz = (ŷ - y)/m, f'(z[L])) at the output layer."""
    out_np, _, z_values = nn_basics.forward(weights, biases, X, hidden, output)
    w_values = [Value(w) for w in weights]
    b_values = [Value(b) for b in biases]
    out, z = nn_basics.engine_forward(w_values, b_values, X, hidden, output)
    (dz_engine,) = grad(nn_basics.engine_loss(out, y, "mse"), [z])
    guide_dz = (out_np.T - y.T) / X.shape[0]
    return dz_engine.data, guide_dz, nn_basics.ACTIVATIONS[output][1](z_values[-1])


def assert_mse_discrepancy(weights, biases, X, y, hidden, output, loss, hand):
    """For a backward from dz = (ŷ - y)/m with the reported loss MSE: the loss is the
    engine's; hand == ∇(matching loss); hand dz · 2 f'(z)/n_out == ∂MSE/∂z[L] elementwise;
    the corrected backward == ∇MSE == finite differences. Returns the engine's ∇MSE."""
    value, auto, numeric = engine(weights, biases, X, y, hidden, output, "mse")
    np.testing.assert_allclose(loss, value, rtol=1e-12)
    _, auto_matching, _ = engine(weights, biases, X, y, hidden, output, "matching")
    assert_all_close(flat(hand), auto_matching)

    dz_engine, guide_dz, slope = output_error_relation(weights, biases, X, y, hidden, output)
    np.testing.assert_allclose(guide_dz * 2 * slope / y.shape[1], dz_engine,
                               rtol=HAND_RTOL, atol=HAND_ATOL)
    _, corrected = nn_basics.gradients_of_reported_loss(weights, biases, X, y, hidden,
                                                        output, "mse")
    assert_all_close(flat(corrected), auto)
    if away_from_kinks(weights, biases, X, hidden, output):
        assert_all_close(numeric, auto, NUMERIC_RTOL, NUMERIC_ATOL)
    return auto


@given(layers=layer_sizes, m=batch_sizes, seed=seeds)
def test_implementation1_sigmoid_bce_is_right_for_one_output_and_n_out_times_otherwise(
        layers, m, seed):
    """Sigmoid + BCE: hand == n_out · ∇BCE (== ∇BCE for the guide's single output unit)."""
    weights, biases, X, y = draw_problem(layers, m, seed, binary_targets=True)
    loss, hand = nn_basics.implementation1(weights, biases, X, y, "sigmoid")
    value, auto, numeric = engine(weights, biases, X, y, "sigmoid", "sigmoid", "bce")
    np.testing.assert_allclose(loss, value, rtol=1e-12)
    assert_all_close(numeric, auto, NUMERIC_RTOL, NUMERIC_ATOL)
    n_out = layers[-1]
    assert_all_close(flat(hand), [n_out * g for g in auto])
    _, corrected = nn_basics.gradients_of_reported_loss(weights, biases, X, y, "sigmoid",
                                                        "sigmoid", "bce")
    assert_all_close(flat(corrected), auto)


@given(layers=layer_sizes, m=batch_sizes, seed=seeds,
       activation=st.sampled_from(["tanh", "relu", "leaky_relu"]))
def test_implementation1_with_mse_misses_the_output_derivative(layers, m, seed, activation):
    """tanh/relu/leaky_relu + MSE: hand == ∇(matching loss), not ∇MSE; at the output the
    guide's dz times 2·f'(z)/n_out is ∂MSE/∂z exactly; the corrected backward == ∇MSE."""
    weights, biases, X, y = draw_problem(layers, m, seed, binary_targets=False)
    loss, hand = nn_basics.implementation1(weights, biases, X, y, activation)
    assert_mse_discrepancy(weights, biases, X, y, activation, activation, loss, hand)


@given(layers=layer_sizes, m=batch_sizes, seed=seeds, hidden=hidden_activations,
       output=output_activations)
def test_implementation2_is_the_gradient_of_the_matching_loss_not_of_its_mse(
        layers, m, seed, hidden, output):
    """hand == ∇(matching loss of the output activation) for every pair; with a linear
    output hand == (n_out/2) · ∇MSE exactly (the missing 2); corrected == ∇MSE."""
    weights, biases, X, y = draw_problem(layers, m, seed, binary_targets=output == "sigmoid")
    loss, hand = nn_basics.implementation2(weights, biases, X, y, hidden, output)
    auto = assert_mse_discrepancy(weights, biases, X, y, hidden, output, loss, hand)
    if output == "linear":
        assert_all_close(flat(hand), [layers[-1] / 2 * g for g in auto])


@given(layers=layer_sizes, m=batch_sizes, seed=seeds, activation=hidden_activations)
def test_formula_section_divides_by_m_twice(layers, m, seed, activation):
    """Formula section: dW, db == (1/m) · ∇[(1/2m) Σ (y - ŷ)²], i.e. ∇ of (1/2m²) Σ (y - ŷ)²."""
    weights, biases, X, y = draw_problem(layers, m, seed, binary_targets=False)
    loss, hand = nn_basics.formula_section(weights, biases, X, y, activation)
    value, auto, numeric = engine(weights, biases, X, y, activation, activation, "half_mse")
    np.testing.assert_allclose(loss, value, rtol=1e-12)
    assert_all_close(flat(hand), [g / m for g in auto])
    _, corrected = nn_basics.gradients_of_reported_loss(weights, biases, X, y, activation,
                                                        activation, "half_mse")
    assert_all_close(flat(corrected), auto)
    if away_from_kinks(weights, biases, X, activation, activation):
        assert_all_close(numeric, auto, NUMERIC_RTOL, NUMERIC_ATOL)


def test_the_guides_own_examples():
    """Its classification net [2, 4, 4, 1] with sigmoid is right; its regression net
    [3, 5, 5, 1] with relu is not the gradient of the MSE it reports."""
    weights, biases, X, y = draw_problem([2, 4, 4, 1], 8, 42, binary_targets=True)
    _, hand = nn_basics.implementation1(weights, biases, X, y, "sigmoid")
    _, auto, _ = engine(weights, biases, X, y, "sigmoid", "sigmoid", "bce")
    assert_all_close(flat(hand), auto)

    weights, biases, X, y = draw_problem([3, 5, 5, 1], 8, 42, binary_targets=False)
    _, hand = nn_basics.implementation1(weights, biases, X, y, "relu")
    _, auto, _ = engine(weights, biases, X, y, "relu", "relu", "mse")
    assert not all(np.allclose(h, a, rtol=1e-3) for h, a in zip(flat(hand), auto))


def test_implementation1_has_no_linear_activation():
    weights, biases, X, y = draw_problem([2, 1], 3, 0, binary_targets=False)
    with pytest.raises(ValueError, match="Unknown activation: linear"):
        nn_basics.implementation1(weights, biases, X, y, "linear")

"""Edge cases across the public API, each with a documented behaviour.

Empty inputs, NaN and inf, integer data and mixed precision: where numpy or
PyTorch has a well-known answer (NaN propagates, the sum of nothing is 0, the
mean of nothing is NaN with a RuntimeWarning, float32 meets float64 as float64)
the engine gives the same answer, and gradients come back in each input's own dtype.
"""
import numpy as np
import pytest

import nn
from autograd_lite import Value, log_softmax, softmax


# --- batches of zero examples ----------------------------------------------------------------
@pytest.mark.parametrize("layer, shape, out_shape", [
    (nn.Linear(3, 4), (0, 3), (0, 4)),
    (nn.MLP([3, 4, 1], activation="relu"), (0, 3), (0, 1)),
    (nn.Conv2d(3, 4, 3, padding=1), (0, 3, 5, 5), (0, 4, 5, 5)),
    (nn.MaxPool2d(2), (0, 3, 4, 4), (0, 3, 2, 2)),
    (nn.Dropout(0.5), (0, 3), (0, 3)),
    (nn.BatchNorm1d(3).eval(), (0, 3), (0, 3)),
    (nn.RNN(3, 4), (5, 0, 3), (5, 0, 4)),
    (nn.Snake(learnable=True), (0, 3), (0, 3)),
])
def test_an_empty_batch_gives_an_empty_output_and_zero_gradients(layer, shape, out_shape):
    out = layer(np.ones(shape))
    out = out[0] if isinstance(out, tuple) else out
    assert out.shape == out_shape
    if any(p.requires_grad for p in layer.parameters()):
        out.sum().backward()
        for name, param in layer.named_parameters():
            np.testing.assert_array_equal(param.grad, np.zeros(param.shape), err_msg=name)


def test_predict_on_an_empty_batch():
    assert nn.predict(nn.Linear(2, 1), np.ones((0, 2))).shape[0] == 0


def test_a_layer_with_no_inputs_initialises_and_runs():
    layer = nn.Linear(0, 3)  # PyTorch allows it too: the output is the bias
    assert layer.weight.shape == (3, 0)
    np.testing.assert_array_equal(layer(np.ones((2, 0))).data, np.tile(layer.bias.data, (2, 1)))


# --- empty arrays in the engine --------------------------------------------------------------
def test_sum_of_nothing_is_zero_and_its_gradient_is_empty():
    x = Value(np.ones((0, 3)))
    total = x.sum()
    assert total.item() == 0.0
    total.backward()
    assert x.grad.shape == (0, 3)
    np.testing.assert_array_equal(x.sum(axis=0).data, np.zeros(3))


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_mean_of_nothing_is_nan_with_a_runtime_warning():
    x = Value(np.ones(0))
    with pytest.warns(RuntimeWarning):  # numpy: "Mean of empty slice" or "invalid value"
        mean = x.mean()
    assert np.isnan(mean.item())
    with pytest.warns(RuntimeWarning):  # numpy: "Mean of empty slice" or "invalid value"
        loss = nn.mse_loss(np.ones((0, 1)), np.ones((0, 1)))
    assert np.isnan(loss.item())


def test_softmax_of_an_empty_batch():
    assert softmax(Value(np.ones((0, 3)))).shape == (0, 3)


def test_logsumexp_of_nothing_is_minus_infinity_like_pytorch():
    x = Value(np.ones(0))
    out = x.logsumexp()
    assert out.item() == -np.inf
    out.backward()
    assert x.grad.shape == (0,)
    np.testing.assert_array_equal(Value(np.ones((2, 0))).logsumexp(axis=1).data, [-np.inf, -np.inf])


@pytest.mark.parametrize("shape", [(2, 0), (0, 3)])
def test_log_softmax_of_nothing_is_nothing_like_pytorch(shape):
    x = Value(np.ones(shape))
    out = log_softmax(x, axis=-1)
    assert out.shape == shape
    out.sum().backward()
    assert x.grad.shape == shape
    with pytest.raises(ValueError, match=r"log_softmax: axis 5 is out of bounds .*\(input shape \(2, 0\)\)"):
        log_softmax(Value(np.ones((2, 0))), axis=5)


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_cross_entropy_of_an_empty_batch_follows_numpy():
    logits = Value(np.ones((0, 3)))
    assert nn.cross_entropy(logits, np.zeros(0, int), reduction="sum").item() == 0.0
    with pytest.warns(RuntimeWarning):  # numpy: "Mean of empty slice" or "invalid value"
        assert np.isnan(nn.cross_entropy(logits, np.zeros(0, int)).item())


# --- NaN and inf in the data -----------------------------------------------------------------
def test_nan_propagates_like_numpy_and_only_where_it_flows():
    x = Value([[np.nan, 1.0], [2.0, 3.0]])
    layer = nn.Linear(2, 2)
    out = layer(x)
    assert np.isnan(out.data[0]).all() and np.isfinite(out.data[1]).all()  # rows stay apart
    (x * x).sum().backward()
    np.testing.assert_array_equal(np.isnan(x.grad), [[True, False], [False, False]])


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_log_softmax_rows_with_infinities_match_pytorch():
    """A row holding +inf (or only -inf) is all nan; a row with some -inf is fine."""
    rows = np.array([[np.inf, 1.0, 0.0], [-np.inf, -np.inf, -np.inf], [-np.inf, 1.0, 1.0]])
    out = log_softmax(Value(rows), axis=-1).data
    assert np.isnan(out[:2]).all()
    np.testing.assert_allclose(out[2], [-np.inf, -np.log(2.0), -np.log(2.0)])


def test_r2_of_nan_predictions_is_nan_even_for_constant_targets():
    # nn/training.py: NaN predictions against constant targets scored 0.0, hiding the NaN
    assert np.isnan(nn.r2_score(np.array([[np.nan], [1.0]]), np.array([[1.0], [1.0]])))
    assert np.isnan(nn.r2_score(np.array([[np.nan], [1.0]]), np.array([[1.0], [2.0]])))


def test_overflow_gives_inf_with_numpys_warning():
    with pytest.warns(RuntimeWarning, match="overflow encountered in exp"):
        assert Value([1000.0]).exp().data[0] == np.inf


# --- powers with an array exponent -----------------------------------------------------------
def test_zero_exponent_array_gives_zero_gradient_like_pytorch():
    x = Value([0.0, 2.0])
    (x ** Value([0.0, 0.0], requires_grad=False)).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0])  # not 0 * inf = nan at x = 0


# --- integer data, and float32 meets float64 -------------------------------------------------
def test_integer_data_becomes_float64_unless_an_integer_dtype_is_asked_for():
    assert Value(np.arange(3)).dtype == np.float64 and Value(np.arange(3)).requires_grad
    assert Value([True, False]).dtype == np.float64
    assert nn.Parameter(np.arange(3)).dtype == np.float64
    with pytest.raises(TypeError, match="only floating-point values can require gradients, "
                                        "got dtype int64"):
        Value(np.arange(3), dtype=np.int64)
    counts = Value(np.arange(3), dtype=np.int64, requires_grad=False)
    assert counts.dtype == np.int64
    w = Value([0.5, 0.5, 0.5])
    (counts * w).sum().backward()  # an integer constant mixes into a float graph
    np.testing.assert_array_equal(w.grad, [0.0, 1.0, 2.0])


def test_mixed_precision_follows_numpy_and_gradients_keep_each_inputs_dtype():
    a, b = Value(np.ones(2, np.float32)), Value(np.ones(2))
    out = (a * b).sum()
    assert out.dtype == np.float64  # numpy promotion
    out.backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64
    assert (a * 2.0).dtype == np.float32 and (a * np.float64(2)).dtype == np.float32  # weak scalars
    assert (a * np.ones(2)).dtype == np.float64  # a float64 array promotes, as in numpy


def test_float32_data_into_a_float64_model():
    layer = nn.Linear(2, 3)
    x = Value(np.ones((4, 2), np.float32))
    out = layer(x)
    assert out.dtype == np.float64
    nn.mse_loss(out, np.zeros((4, 3))).backward()
    assert x.grad.dtype == np.float32 and layer.weight.grad.dtype == np.float64
    assert nn.mse_loss(Value(np.ones(2, np.float32)), np.ones(2)).dtype == np.float32


def test_float32_stays_float32_through_rnn_and_batchnorm_in_eval():
    rnn, norm = nn.RNN(2, 3), nn.BatchNorm1d(3)
    for p in list(rnn.parameters()) + list(norm.parameters()):
        p.data = p.data.astype(np.float32)
    norm.eval()
    assert rnn(np.ones((4, 2, 2), np.float32))[0].dtype == np.float32
    assert norm(np.ones((4, 3), np.float32)).dtype == np.float32

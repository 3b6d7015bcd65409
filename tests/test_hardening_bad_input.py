"""Bad input across the public API: each case gets a clear error or a documented behaviour.

Errors name the layer (and its place in the model), what it expected and what
it got. Where numpy has a well-known answer (NaN propagates, the sum of
nothing is 0, the mean of nothing is NaN with a RuntimeWarning, float32 meets
float64 as float64) the engine gives the same answer, and gradients come back
in each input's own dtype.
"""
import re
import numpy as np
import pytest

import nn
from autograd_lite import AnomalyError, Value, detect_anomaly, softmax


# --- wrong shapes into layers ---------------------------------------------------------
LINEAR = "Linear(3→4): expected input with last dimension 3"
CONV = "Conv2d(3→4): expected input"
BATCHNORM = "BatchNorm1d(3): expected"


@pytest.mark.parametrize("layer, shape, message", [
    (nn.Linear(3, 4), (2, 2), f"{LINEAR}, got shape (2, 2)"),
    (nn.Linear(3, 4), (), f"{LINEAR}, got shape ()"),
    (nn.Conv2d(3, 4, 3), (2, 2, 5, 5), f"{CONV} of shape (N, 3, H, W), got shape (2, 2, 5, 5)"),
    (nn.Conv2d(3, 4, 3), (3, 5, 5), f"{CONV} of shape (N, 3, H, W), got shape (3, 5, 5)"),
    (nn.Conv2d(3, 4, 3), (1, 3, 2, 2), "conv2d: kernel 3x3 is larger than the padded input 2x2"),
    (nn.MaxPool2d(2), (3, 4, 4),
     "MaxPool2d(kernel_size=2): expected 4-D input (N, C, H, W), got shape (3, 4, 4)"),
    (nn.Flatten(), (3,),
     "Flatten(start_dim=1, end_dim=-1): dimensions out of range for input of shape (3,)"),
    (nn.BatchNorm1d(3), (4, 2),
     f"{BATCHNORM} input of shape (N, 3) or (N, 3, L), got shape (4, 2)"),
    (nn.BatchNorm1d(3), (1, 3), f"{BATCHNORM} more than 1 value per channel when training"),
    (nn.BatchNorm1d(3), (0, 3), f"{BATCHNORM} more than 1 value per channel when training"),
    (nn.RNN(3, 4), (5, 2, 2),
     "RNN(3→4): expected input of shape (L, N, 3) or (L, 3), got shape (5, 2, 2)"),
    (nn.RNN(3, 4), (0, 2, 3),
     "RNN(3→4): expected at least one time step, got input of shape (0, 2, 3)"),
])
def test_wrong_input_shape_names_the_layer_and_both_shapes(layer, shape, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        layer(np.ones(shape))


def test_a_layer_inside_a_model_says_where_it_sits():
    model = nn.Sequential(nn.Flatten(), nn.MLP([12, 5, 3]), nn.ReLU(), nn.Linear(4, 2))
    with pytest.raises(ValueError, match=re.escape(
            "Linear(4→2) (layer '3'): expected input with last dimension 4, got shape (6, 3)")):
        model(np.ones((6, 3, 4)))
    with pytest.raises(ValueError, match=re.escape(
            "Linear(12→5) (layer '1.0'): expected input with last dimension 12, "
            "got shape (6, 10)")):
        model(np.ones((6, 2, 5)))


def test_rnn_initial_state_of_the_wrong_shape():
    message = "RNN(3→4): expected h0 of shape (1, 2, 4), got shape (1, 3, 4)"
    with pytest.raises(ValueError, match=re.escape(message)):
        nn.RNN(3, 4)(np.ones((5, 2, 3)), np.zeros((1, 3, 4)))


# --- batches of zero examples -----------------------------------------------------------
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


# --- empty arrays in the engine ---------------------------------------------------------
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


def test_max_and_min_of_nothing_name_the_op():
    for op in ("max", "min"):
        with pytest.raises(ValueError, match=rf"{op}: invalid input shapes \(0,\): zero-size"):
            getattr(Value(np.ones(0)), op)()


def test_softmax_of_an_empty_batch():
    assert softmax(Value(np.ones((0, 3)))).shape == (0, 3)


# --- cross_entropy labels ---------------------------------------------------------------
@pytest.mark.parametrize("labels, error, message", [
    (np.array([0.0, 1.0]), TypeError,
     "labels must be integer class indices, got dtype float64"),
    (Value([0.0, 1.0], requires_grad=False), TypeError, "labels must be integer class indices"),
    (np.array([True, False]), TypeError,
     "labels must be integer class indices, got dtype bool"),
    (np.array([0, 3]), IndexError,
     r"label 3 is out of range for 3 classes \(labels must be in \[0, 3\)\)"),
    (np.array([-1, 0]), IndexError, "label -1 is out of range for 3 classes"),
    (np.array([[0], [1]]), ValueError,
     r"logits of shape \(2, 3\) need labels of shape \(2,\), got \(2, 1\)"),
])
def test_cross_entropy_rejects_bad_labels(labels, error, message):
    with pytest.raises(error, match=f"cross_entropy: {message}"):
        nn.cross_entropy(np.ones((2, 3)), labels)


def test_cross_entropy_needs_2d_logits_and_takes_list_labels():
    with pytest.raises(ValueError, match=r"logits must be 2-D \(N, C\), got shape \(3,\); "
                                         r"for one sample use logits.reshape\(1, -1\)"):
        nn.cross_entropy(np.ones(3), [0])
    np.testing.assert_allclose(nn.cross_entropy(np.zeros((2, 3)), [0, 2]).item(), np.log(3))


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_cross_entropy_of_an_empty_batch_follows_numpy():
    logits = Value(np.ones((0, 3)))
    assert nn.cross_entropy(logits, np.zeros(0, int), reduction="sum").item() == 0.0
    with pytest.warns(RuntimeWarning):  # numpy: "Mean of empty slice" or "invalid value"
        assert np.isnan(nn.cross_entropy(logits, np.zeros(0, int)).item())


# --- NaN and inf in the data ------------------------------------------------------------
def test_nan_propagates_like_numpy_and_only_where_it_flows():
    x = Value([[np.nan, 1.0], [2.0, 3.0]])
    layer = nn.Linear(2, 2)
    out = layer(x)
    assert np.isnan(out.data[0]).all() and np.isfinite(out.data[1]).all()  # rows stay apart
    (x * x).sum().backward()
    np.testing.assert_array_equal(np.isnan(x.grad), [[True, False], [False, False]])


def test_detect_anomaly_catches_nan_data_at_the_first_op_that_sees_it():
    x = Value([[np.nan, 1.0], [2.0, 3.0]])
    layer = nn.Linear(2, 2)
    with detect_anomaly():
        with pytest.raises(AnomalyError, match=r"op 'linear' produced nan in its forward output "
                                               r"\(its inputs were already not finite\).*"
                                               r"test_hardening_bad_input.py:\d+"):
            layer(x)


def test_overflow_gives_inf_with_numpys_warning():
    with pytest.warns(RuntimeWarning, match="overflow encountered in exp"):
        assert Value([1000.0]).exp().data[0] == np.inf


# --- integer data and requires_grad -----------------------------------------------------
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


def test_optimizers_refuse_integer_values():
    with pytest.raises(TypeError, match="can only optimize floating-point values, got int64"):
        nn.SGD([Value(np.arange(3), dtype=np.int64, requires_grad=False)], lr=0.1)


# --- float32 meets float64 --------------------------------------------------------------
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


# --- the training loop used in the wrong order ------------------------------------------
@pytest.mark.parametrize("optimizer", [nn.SGD, nn.RMSprop, nn.Adam, nn.AdamW])
def test_step_before_backward_is_an_error(optimizer):
    model = nn.Linear(2, 2)
    opt = optimizer(model.parameters(), lr=0.1)
    before = model.state_dict()
    with pytest.raises(RuntimeError, match=r"step\(\) called before backward\(\)"):
        opt.step()
    nn.mse_loss(model(np.ones((1, 2))), np.zeros((1, 2))).backward()
    opt.zero_grad()
    with pytest.raises(RuntimeError, match=r"step\(\) called before backward\(\)"):
        opt.step()
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[key])


# --- a checkpoint for another architecture ----------------------------------------------
def test_loading_a_checkpoint_into_another_architecture(tmp_path):
    path = tmp_path / "small.npz"
    nn.save(nn.MLP([2, 3, 1]), path)
    for model, problems in [
        (nn.MLP([2, 4, 1]), ["size mismatch for 0.weight: copying an array of shape (3, 2), "
                             "the shape in the current model is (4, 2)"]),
        (nn.MLP([2, 3, 3, 1]), ["Missing key(s) in state_dict: '4.weight', '4.bias'",
                                "size mismatch for 2.weight"]),
        (nn.Sequential(nn.Linear(2, 3)), ["Unexpected key(s) in state_dict: '2.weight', '2.bias'"]),
    ]:
        before = model.state_dict()
        with pytest.raises(RuntimeError) as error:
            model.load_state_dict(nn.load(path))
        text = str(error.value)
        assert text.startswith(f"Error(s) in loading state_dict from '{path}' for ")
        for problem in problems:
            assert problem in text
        for key, value in model.state_dict().items():  # nothing was half loaded
            np.testing.assert_array_equal(value, before[key])
    with pytest.raises(RuntimeError, match="size mismatch"):  # shapes are checked even when lax
        nn.MLP([2, 4, 1]).load_state_dict(nn.load(path), strict=False)

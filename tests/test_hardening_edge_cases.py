"""Edge cases the hardening pass found: empty inputs, non-integer sizes, NaN scores."""
import numpy as np
import pytest

import nn
from autograd_lite import Value, concatenate, log_softmax, max_pool2d, stack


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
    with pytest.raises(ValueError, match=r"log_softmax: invalid input shapes \(2, 0\)"):
        log_softmax(Value(np.ones((2, 0))), axis=5)


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_log_softmax_rows_with_infinities_match_pytorch():
    """A row holding +inf (or only -inf) is all nan; a row with some -inf is fine."""
    rows = np.array([[np.inf, 1.0, 0.0], [-np.inf, -np.inf, -np.inf], [-np.inf, 1.0, 1.0]])
    out = log_softmax(Value(rows), axis=-1).data
    assert np.isnan(out[:2]).all()
    np.testing.assert_allclose(out[2], [-np.inf, -np.log(2.0), -np.log(2.0)])


@pytest.mark.parametrize("join", [concatenate, stack])
def test_joining_nothing_names_the_op(join):
    with pytest.raises(ValueError, match=rf"{join.__name__}: expected at least one value"):
        join([])


def test_a_float_kernel_size_is_a_clear_error():
    with pytest.raises(ValueError, match=r"max_pool2d: kernel_size must be an int or a pair of "
                                         r"ints, got 2.0"):
        max_pool2d(Value(np.ones((1, 1, 4, 4))), 2.0)
    with pytest.raises(ValueError, match=r"Conv2d: kernel_size must be an int or a pair of ints"):
        nn.Conv2d(1, 1, kernel_size=3.0)


def test_r2_of_nan_predictions_is_nan_even_for_constant_targets():
    # nn/training.py: NaN predictions against constant targets scored 0.0, hiding the NaN
    assert np.isnan(nn.r2_score(np.array([[np.nan], [1.0]]), np.array([[1.0], [1.0]])))
    assert np.isnan(nn.r2_score(np.array([[np.nan], [1.0]]), np.array([[1.0], [2.0]])))


def test_float32_stays_float32_through_rnn_and_batchnorm_in_eval():
    rnn, norm = nn.RNN(2, 3), nn.BatchNorm1d(3)
    for p in list(rnn.parameters()) + list(norm.parameters()):
        p.data = p.data.astype(np.float32)
    norm.eval()
    assert rnn(np.ones((4, 2, 2), np.float32))[0].dtype == np.float32
    assert norm(np.ones((4, 3), np.float32)).dtype == np.float32


def test_predict_on_an_empty_batch():
    assert nn.predict(nn.Linear(2, 1), np.ones((0, 2))).shape[0] == 0


def test_zero_exponent_array_gives_zero_gradient_like_pytorch():
    x = Value([0.0, 2.0])
    (x ** Value([0.0, 0.0], requires_grad=False)).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0])  # not 0 * inf = nan at x = 0


def test_graph_of_an_array_exponent_draws():
    from autograd_lite import draw_graph
    x = Value([1.0, 2.0])
    assert "op0 [label=\"**" in draw_graph(x ** np.array([2.0, 3.0])).source  # the ** op node


def test_anomaly_names_user_code_in_a_folder_called_nn(tmp_path):
    import subprocess
    import sys
    folder = tmp_path / "nn"
    folder.mkdir()
    (folder / "train.py").write_text(
        "import autograd_lite as al\n"
        "with al.detect_anomaly():\n"
        "    al.Value([-1.0]).log()\n")
    run = subprocess.run([sys.executable, "-W", "ignore", str(folder / "train.py")],
                         capture_output=True, text=True, cwd=tmp_path)
    assert "train.py:3" in run.stderr, run.stderr


def test_a_layer_with_no_inputs_initialises_and_runs():
    layer = nn.Linear(0, 3)  # PyTorch allows it too: the output is the bias
    assert layer.weight.shape == (3, 0)
    np.testing.assert_array_equal(layer(np.ones((2, 0))).data, np.tile(layer.bias.data, (2, 1)))

"""detect_anomaly(): the first NaN or inf, forward or backward, is named by its op and by the
line of the user's code that made it (lines inside nn are skipped).

Outside detect_anomaly nothing is checked: NaN just propagates, as numpy does.
"""
import numpy as np
import pytest

import nn
from autograd_lite import AnomalyError, Value, detect_anomaly


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_forward_nan_names_the_op_and_the_line():
    x = Value([1.0, -1.0])
    with detect_anomaly():
        y = x * 2
        with pytest.raises(AnomalyError, match=r"op 'log' produced nan in its forward output "
                                               r"from finite inputs.*test_anomaly.py:\d+"):
            y.log()
    assert issubclass(AnomalyError, RuntimeError)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_backward_inf_names_the_op():
    x = Value([0.0, 4.0])
    with detect_anomaly():
        y = x.sqrt().sum()  # forward is finite; d sqrt / dx at 0 is inf
        with pytest.raises(AnomalyError, match=r"backward of op 'sqrt' produced inf in the gradient "
                                               r"for its input 0.*test_anomaly.py:\d+"):
            y.backward()


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_nothing_is_checked_outside_the_context():
    x = Value([0.0, -1.0])
    y = x.log()
    assert np.isnan(y.data[1])
    z = x.sqrt()
    z.sum().backward()
    assert np.isinf(x.grad[0])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_non_finite_inputs_are_reported_as_such_and_decorator_form_works():
    @detect_anomaly()
    def run():
        return Value([np.inf]) * 0.0

    with pytest.raises(AnomalyError, match="inputs were already not finite"):
        run()
    assert (Value([np.inf]) * 0.0).data[0] != 0.0  # outside again: no error


def test_finite_computations_pass():
    with detect_anomaly():
        x = Value([1.0, 2.0])
        (x.log() * x).sum().backward()
    np.testing.assert_allclose(x.grad, np.log([1.0, 2.0]) + 1)


# --- in real networks: the line of the user's code that made the NaN -------------------------
HERE = "test_anomaly.py"


def line_of(marker):
    """The number of the line of this file that carries the comment `marker`."""
    with open(__file__, encoding="utf-8") as source:
        return next(number for number, text in enumerate(source, start=1)
                    if text.rstrip().endswith("# " + marker))


def network(seed=0):
    rng = np.random.default_rng(seed)
    return nn.Sequential(nn.Linear(3, 8, rng=rng), nn.Tanh(), nn.Linear(8, 8, rng=rng),
                         nn.ReLU(), nn.Linear(8, 2, rng=rng))


def handmade_cross_entropy(scores, onehot):
    # the classic mistake: log of raw scores, which can be negative
    return -(onehot * scores.log()).sum(axis=1).mean()  # LOG OF SCORES


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # numpy warns as NaN appears
def test_log_of_a_negative_number_inside_a_loss_is_caught_at_the_log():
    model = network()
    X = np.random.default_rng(1).normal(size=(16, 3))
    onehot = np.eye(2)[np.arange(16) % 2]
    loss = handmade_cross_entropy(model(X), onehot)
    assert np.isnan(loss.item())  # outside detect_anomaly NaN just propagates
    with detect_anomaly():
        scores = model(X)
        with pytest.raises(AnomalyError) as error:
            handmade_cross_entropy(scores, onehot)
    assert str(error.value) == (
        f"detect_anomaly: op 'log' produced nan in its forward output from finite inputs; "
        f"the op was called at {__file__}:{line_of('LOG OF SCORES')} in handmade_cross_entropy")


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # numpy warns as NaN appears
def test_sqrt_at_zero_is_caught_in_backward_before_relu_turns_it_into_nan():
    model = network()
    X = np.random.default_rng(1).normal(size=(16, 3))
    with detect_anomaly():
        hidden = model[:4](X)  # after the ReLU: some units are exactly 0
        assert (hidden.data == 0).any()
        # finite forward, infinite slope at the zeros
        penalty = hidden.sqrt().sum()  # SQRT AT ZERO
        with pytest.raises(AnomalyError, match=rf"backward of op 'sqrt' produced inf in the "
                                               rf"gradient for its input 0; the op was called at "
                                               rf".*{HERE}:{line_of('SQRT AT ZERO')} "):
            penalty.backward()
    for param in model.parameters():  # the failed backward wrote no gradient
        assert param.grad is None


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # numpy warns as NaN appears
def test_nan_made_inside_a_layer_points_at_the_users_call_of_the_model():
    # eps=0: a constant batch has variance 0, and BatchNorm divides 0 by 0
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3, eps=0.0))
    X = np.ones((4, 2))
    with detect_anomaly():
        with pytest.raises(AnomalyError, match=rf"op 'div' produced nan in its forward output from "
                                               rf"finite inputs; the op was called at "
                                               rf".*{HERE}:{line_of('CONSTANT BATCH')} "):
            model(X)  # CONSTANT BATCH


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # numpy warns as NaN appears
def test_the_first_bad_op_is_reported_not_the_ones_its_nan_flows_into():
    model = network()
    X = np.random.default_rng(1).normal(size=(16, 3))
    with detect_anomaly():
        with pytest.raises(AnomalyError, match="op 'log' produced nan .* from finite inputs"):
            out = model((model(X).sum(axis=1, keepdims=True) * np.ones((1, 3))).log())
            nn.mse_loss(out, np.zeros((16, 2)))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # numpy warns as NaN appears
def test_a_healthy_training_step_is_unchanged_by_detect_anomaly():
    X = np.random.default_rng(1).normal(size=(16, 3))
    y = np.arange(16) % 2
    states = []
    for watch in (False, True):
        model = network()
        optimizer = nn.Adam(model.parameters(), lr=1e-2)
        with detect_anomaly(check_nan=watch):
            for _ in range(3):
                optimizer.zero_grad()
                nn.cross_entropy(model(X), y).backward()
                optimizer.step()
        states.append(model.state_dict())
    for key, value in states[0].items():
        np.testing.assert_array_equal(states[1][key], value)


# --- NaN already in the data, and user code in a folder called nn ----------------------------
def test_detect_anomaly_catches_nan_data_at_the_first_op_that_sees_it():
    x = Value([[np.nan, 1.0], [2.0, 3.0]])
    layer = nn.Linear(2, 2)
    with detect_anomaly():
        with pytest.raises(AnomalyError, match=r"op 'linear' produced nan in its forward output "
                                               r"\(its inputs were already not finite\).*"
                                               r"test_anomaly.py:\d+"):
            layer(x)


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

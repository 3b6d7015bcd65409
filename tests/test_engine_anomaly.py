"""detect_anomaly(): the first NaN/inf in forward or backward names its op and where it was made."""
import numpy as np
import pytest

from autograd_lite import AnomalyError, Value, detect_anomaly


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_forward_nan_names_the_op_and_the_line():
    x = Value([1.0, -1.0])
    with detect_anomaly():
        y = x * 2
        with pytest.raises(AnomalyError, match=r"op 'log' produced nan in its forward output "
                                               r"from finite inputs.*test_engine_anomaly.py:\d+"):
            y.log()
    assert issubclass(AnomalyError, RuntimeError)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_backward_inf_names_the_op():
    x = Value([0.0, 4.0])
    with detect_anomaly():
        y = x.sqrt().sum()  # forward is finite; d sqrt / dx at 0 is inf
        with pytest.raises(AnomalyError, match=r"backward of op 'sqrt' produced inf in the gradient "
                                               r"for its input 0.*test_engine_anomaly.py:\d+"):
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

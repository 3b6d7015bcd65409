"""What PyTorch and NumPy users write, and get right: each case was once a silent wrong
answer or an unclear error.

A boolean mask passed into a module, a PyTorch update loop written outside
no_grad(), f-string formatting of a loss, numpy/matplotlib conversion,
nn.load of a file that is not an archive, swapaxes out of range.
"""
import numpy as np
import pytest

import nn
from autograd_lite import Value, no_grad


class Masked(nn.Module):
    def forward(self, x, mask):
        return x[mask].sum()


def test_a_boolean_mask_passed_into_a_module_selects_like_numpy():
    x = np.array([10.0, 20.0, 30.0, 40.0])
    assert Masked()(x, x > 15).item() == x[x > 15].sum() == 90.0  # was 70: the mask as 0/1


def test_an_index_value_must_hold_whole_numbers():
    x = Value([1.0, 2.0, 3.0])
    assert x[Value([0, 2], requires_grad=False)].data.tolist() == [1.0, 3.0]
    with pytest.raises(IndexError, match="must hold whole numbers"):
        x[Value([0.9, 1.0], requires_grad=False)]  # was silently truncated to [0, 1]


def test_an_update_loop_outside_no_grad_raises_instead_of_doing_nothing():
    model = nn.Linear(2, 1)
    before = model.weight.data.copy()
    nn.mse_loss(model(np.ones((4, 2))), np.zeros((4, 1))).backward()
    with pytest.raises(RuntimeError, match=r"-=: .*leaf that requires grad.*with no_grad"):
        for p in model.parameters():
            p -= 0.1 * p.grad
    np.testing.assert_array_equal(model.weight.data, before)
    with no_grad():  # the right way still works
        for p in model.parameters():
            p -= 0.1 * p.grad
    assert not np.array_equal(model.weight.data, before)
    total = Value(0.0)  # micrograd's accumulator (no gradient yet) still rebinds
    total += Value(2.0) * 3.0
    assert total.item() == 6.0 and total.op == "add"


def test_format_a_one_element_value_like_its_number():
    loss = Value(0.123456)
    assert f"{loss:.4f}" == "0.1235" and f"{loss:>8.2f}" == "    0.12"
    assert f"{Value([1.0, 2.0])}" == str(Value([1.0, 2.0]))


def test_numpy_conversion_gives_data_or_a_clear_refusal():
    constant = Value([1.0, 2.0], requires_grad=False)
    assert np.asarray(constant).tolist() == [1.0, 2.0]
    assert np.asarray(constant, dtype=np.float32).dtype == np.float32
    with pytest.raises(RuntimeError, match=r"requires grad.*use \.data"):
        np.asarray(Value([1.0]) * 2.0)
    with pytest.raises(TypeError, match="holds Values: join them with autograd_lite.stack"):
        Value([Value(1.0), Value(2.0)])


def test_nn_load_names_what_a_foreign_file_is(tmp_path):
    csv = tmp_path / "data.csv"
    csv.write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match=r"data\.csv' is not a \.npz archive .*starts with b'a,b"):
        nn.load(csv)


def test_swapaxes_out_of_range_names_itself_and_the_shape():
    with pytest.raises(np.exceptions.AxisError, match=r"swapaxes: axis 2 .*shape \(2, 3\)"):
        Value(np.ones((2, 3))).swapaxes(0, 2)
    assert Value(np.ones((2, 3))).swapaxes(-1, 0).shape == (3, 2)

"""`v += x`, `-=`, `*=`, `/=`: in place while nothing is recorded, as in PyTorch.

The PyTorch update idiom, `with no_grad(): p -= lr * p.grad`, must change the
parameter itself: before, Python's fallback rebound the loop variable to a new
value and the parameter silently stayed as it was.
"""
import operator

import numpy as np
import pytest

from autograd_lite import Value, no_grad


def test_the_pytorch_update_idiom_changes_the_parameters_themselves():
    w, b = Value(np.ones((2, 2))), Value(np.zeros(2))
    params = [w, b]
    ((Value(np.ones((3, 2)), requires_grad=False) @ w + b) ** 2).sum().backward()
    expected = [p.data - 0.1 * p.grad for p in params]
    arrays = [p.data for p in params]
    with no_grad():
        for p in params:
            p -= 0.1 * p.grad
    for p, array, want in zip(params, arrays, expected):
        assert p.data is array  # the same array, changed in place
        np.testing.assert_allclose(p.data, want)
        assert p._version == 1  # a change that backward can see, as with .data -= ...


@pytest.mark.parametrize("in_place, expected", [(operator.iadd, 5.0), (operator.isub, -1.0),
                                                (operator.imul, 6.0), (operator.itruediv, 2 / 3)])
def test_each_operator_changes_the_value_itself(in_place, expected):
    v = Value([2.0, 2.0], requires_grad=False)
    result = in_place(v, Value([3.0, 3.0], requires_grad=False))  # what `v += ...` runs
    assert result is v and v.data.tolist() == [expected, expected]


def test_while_recording_a_grad_side_gives_a_new_recorded_value_as_before():
    total = Value(0.0)  # a leaf that requires grad: changing it in place would lose the graph
    first = total
    x = Value(2.0)
    total += x * 3.0
    assert total is not first and first.item() == 0.0
    total.backward()
    assert x.grad == 3.0
    constant = Value(np.ones(2), requires_grad=False)  # no grad itself, but the other side has
    y = Value(np.ones(2))
    out = constant
    out += y
    assert out is not constant and constant.data.tolist() == [1.0, 1.0]
    out.sum().backward()
    np.testing.assert_array_equal(y.grad, [1.0, 1.0])


def test_an_in_place_change_to_a_saved_value_is_caught_by_backward():
    w = Value(np.ones(2))
    loss = (w * w).sum()
    with no_grad():
        w *= 2.0
    with pytest.raises(RuntimeError, match=r"op 'mul' was modified in place"):
        loss.backward()


def test_dtype_is_kept_and_a_growing_broadcast_names_the_operator_and_shapes():
    v = Value(np.ones(2, dtype=np.float32))
    with no_grad():
        v *= np.float64(3.0)
    assert v.dtype == np.float32 and v.data.tolist() == [3.0, 3.0]
    with pytest.raises(ValueError, match=r"\+=: cannot change a value of shape \(2,\) and dtype "
                                         r"float32 in place with shape \(3, 2\) and dtype float64"):
        with no_grad():
            v += np.ones((3, 2))
    assert v.data.tolist() == [3.0, 3.0] and v._version == 1  # the failed change changed nothing


def test_a_cast_numpy_refuses_is_a_type_error_naming_both_dtypes():
    counts = Value(np.array([1, 2]), requires_grad=False, dtype=np.int64)
    with pytest.raises(TypeError, match=r"\+=: cannot change a value of shape \(2,\) and dtype "
                                        r"int64 in place with shape \(\) and dtype float64"):
        counts += 0.5
    assert counts.data.tolist() == [1, 2]


def test_a_view_of_another_value_gets_a_new_array_so_that_value_never_changes_unseen():
    x = Value(np.ones((2, 2)), requires_grad=False)
    w = Value(np.ones((2, 2)))
    loss = (x * w).sum()  # saves x
    view = x.T  # a value whose array is a view of x's
    view += 1.0
    assert view.data.tolist() == [[2.0, 2.0], [2.0, 2.0]] and view._version == 1
    assert x.data.tolist() == [[1.0, 1.0], [1.0, 1.0]] and x._version == 0
    loss.backward()  # x is as the op saw it: no error, and the right gradient
    np.testing.assert_array_equal(w.grad, np.ones((2, 2)))


def test_other_operand_types_still_raise_pythons_type_error():
    v = Value(1.0, requires_grad=False)
    with pytest.raises(TypeError, match="unsupported operand"):
        v += "a"

"""Behaviours where PyTorch or NumPy define the right answer, each checked against it.

Where PyTorch is installed the test compares with it; the known right answer
is asserted either way, so the test means the same without it.
"""
import copy
import pickle
import warnings

import numpy as np
import pytest

from autograd_lite import (Value, enable_grad, grad, is_grad_enabled, max_pool2d, no_grad,
                           set_grad_enabled, where)

try:
    import torch
except ImportError:  # the known answers below still hold
    torch = None


# --- in-place changes seen through views and numpy constants ------------------------
@pytest.mark.parametrize("view", [lambda w: w.T, lambda w: w.transpose(1, 0),
                                  lambda w: w.reshape(4), lambda w: w[0:1], lambda w: w[:, 1]])
def test_a_change_through_a_view_made_outside_the_graph_is_caught(view):
    w, v = Value([[1.0, 2.0], [3.0, 4.0]], name="w"), Value(np.ones((2, 2)))
    loss = (view(w.detach()) * view(v)).sum()
    w.data -= 1.0  # an optimizer step on w
    with pytest.raises(RuntimeError, match="modified in place.*'w'"):
        loss.backward()


def test_a_slice_of_a_constant_value_changed_in_place_is_caught():
    a, b = Value([1.0, 2.0], requires_grad=False), Value([1.0, 1.0])
    z = (a[0:2] * b).sum()
    a += 10
    with pytest.raises(RuntimeError, match="modified in place"):
        z.backward()
    assert b.grad is None


def test_a_view_of_a_value_that_requires_grad_is_checked_too():
    w = Value([[1.0, 2.0], [3.0, 4.0]], name="w")
    loss = (w.T * w.T).sum()
    w.data -= 1.0
    with pytest.raises(RuntimeError, match="modified in place"):
        loss.backward()


def test_a_numpy_constant_changed_after_the_forward_does_not_change_the_gradient():
    c = np.array([1.0, 2.0])
    w = Value([1.0, 1.0])
    y = (w * c).sum()
    c *= 10
    y.backward()
    np.testing.assert_array_equal(w.grad, [1.0, 2.0])  # PyTorch's answer: the data it used


def test_values_that_are_not_views_share_no_version():
    w = Value([1.0, 2.0])
    y = (w * 2.0).sum()
    doubled = w * 2.0  # a new array
    doubled.data = doubled.data + 1
    y.backward()  # nothing y used was changed
    np.testing.assert_array_equal(w.grad, [2.0, 2.0])


# --- NaN in max, min and max pooling -------------------------------------------------
@pytest.mark.parametrize("reduce", ["max", "min"])
def test_a_nan_is_the_extremum_and_takes_the_gradient(reduce):
    x = Value([1.0, np.nan, 3.0])
    getattr(x, reduce)().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 1.0, 0.0])
    x2 = Value([1.0, np.nan, 3.0])
    where(np.array(False), getattr(x2, reduce)(), 0.0).backward()  # masked out: no NaN leaks
    np.testing.assert_array_equal(x2.grad, [0.0, 0.0, 0.0])
    if torch is not None:
        t = torch.tensor([1.0, np.nan, 3.0], requires_grad=True)
        getattr(t, reduce)().backward()
        np.testing.assert_array_equal(x.grad, t.grad.numpy())


def test_max_over_an_axis_and_max_pooling_send_the_gradient_to_the_nan():
    x = Value([[1.0, np.nan], [4.0, 3.0]])
    x.max(axis=1).sum().backward()
    np.testing.assert_array_equal(x.grad, [[0.0, 1.0], [1.0, 0.0]])
    p = Value(np.array([[[[1.0, np.nan], [0.0, 2.0]]]]))
    max_pool2d(p, 2).sum().backward()
    np.testing.assert_array_equal(p.grad, [[[[0.0, 1.0], [0.0, 0.0]]]])


# --- powers of zero -------------------------------------------------------------------
@pytest.mark.parametrize("exponent, base_grad, exponent_grad", [
    (-2.0, -np.inf, -np.inf), (-1.0, -np.inf, -np.inf), (0.0, 0.0, 0.0), (2.0, 0.0, 0.0),
    (0.5, np.inf, 0.0)])
def test_zero_to_a_power_has_pytorchs_gradients(exponent, base_grad, exponent_grad):
    a, b = Value(0.0), Value(exponent)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy's divide-by-zero notes
        (a ** b).backward()
    assert (a.grad, b.grad) == (base_grad, exponent_grad)
    if torch is not None:
        ta, tb = torch.tensor(0.0, dtype=torch.float64, requires_grad=True), \
            torch.tensor(exponent, dtype=torch.float64, requires_grad=True)
        (ta ** tb).backward()
        assert (a.grad, b.grad) == (ta.grad.item(), tb.grad.item())


def test_a_nonzero_base_keeps_the_usual_exponent_gradient():
    a, b = Value([2.0, -0.0, 0.0]), Value([3.0, 1.0, -1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        (a ** b).sum().backward()
    assert b.grad[0] == pytest.approx(8.0 * np.log(2.0))


# --- variance with no degrees of freedom left -----------------------------------------
@pytest.mark.parametrize("ddof", [2, 3])
def test_var_with_ddof_at_least_the_count_is_inf_as_numpy(ddof):
    with pytest.warns(RuntimeWarning):
        ours = Value([1.0, 2.0]).var(ddof=ddof).item()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert ours == np.var([1.0, 2.0], ddof=ddof) == np.inf


# --- requires_grad, grad and data are guarded -----------------------------------------
def test_requires_grad_of_a_computed_value_cannot_be_switched_off():
    x = Value([1.0, 2.0])
    z = x * 2
    y = (z * 3).sum()
    with pytest.raises(RuntimeError, match="only change requires_grad of leaf values.*'mul'"):
        z.requires_grad = False
    z.requires_grad = True  # no change: allowed, as in PyTorch
    y.backward()
    np.testing.assert_array_equal(x.grad, [6.0, 6.0])


def test_requires_grad_of_a_leaf_can_be_switched_and_must_be_float():
    x = Value([1.0, 2.0])
    x.requires_grad = False
    assert not (x * 2).requires_grad
    with pytest.raises(TypeError, match="floating-point"):
        Value([True, False], requires_grad=False).requires_grad = True


def test_del_grad_forgets_it_and_del_requires_grad_is_refused():
    x = Value([1.0, 2.0])
    (x * x).sum().backward()
    del x.grad
    assert x.grad is None
    (x * x).sum().backward()  # works again
    np.testing.assert_array_equal(x.grad, [2.0, 4.0])
    with pytest.raises(AttributeError, match="cannot delete requires_grad"):
        del x.requires_grad
    assert x.requires_grad and (x * 2).requires_grad


@pytest.mark.parametrize("bad", [None, "abc", {"a": 1}, np.array([object()])])
def test_assigning_non_numeric_data_is_refused_like_the_constructor(bad):
    x = Value([1.0, 2.0])
    with pytest.raises((TypeError, ValueError), match="Value: data must be"):
        x.data = bad
    np.testing.assert_array_equal(x.data, [1.0, 2.0])
    x.data = [3.0, 4.0]  # lists and numbers still work
    np.testing.assert_array_equal(x.data, [3.0, 4.0])


def test_asarray_of_a_value_that_requires_grad_works_under_no_grad():
    x = Value([1.0, 2.0])
    with pytest.raises(RuntimeError, match="requires grad"):
        np.asarray(x)
    with no_grad():
        np.testing.assert_array_equal(np.asarray(x), [1.0, 2.0])


# --- indexing ---------------------------------------------------------------------------
def test_a_boolean_mask_value_stays_a_mask():
    x = Value([1.0, 2.0, 3.0])
    mask = Value(np.array([True, False, True]), requires_grad=False)
    assert mask.dtype == bool
    picked = x[mask]
    np.testing.assert_array_equal(picked.data, [1.0, 3.0])
    picked.sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0, 0.0, 1.0])
    assert Value([True, False]).dtype == np.float64  # one that requires grad is a float


def test_an_empty_list_index_gives_an_empty_result_as_numpy():
    x = Value([1.0, 2.0, 3.0])
    out = x[[]]
    assert out.shape == np.array([1.0, 2.0, 3.0])[[]].shape == (0,)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 0.0])


# --- clip with bounds that broadcast ---------------------------------------------------
def test_clip_with_bounds_that_grow_the_output_differentiates():
    x = Value([1.0, 5.0])
    out = x.clip(np.array([[0.0], [2.0]]), 4.0)
    assert out.shape == (2, 2)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0, 0.0])  # row 0: inside, outside; row 1: below, outside
    if torch is not None:
        t = torch.tensor([1.0, 5.0], dtype=torch.float64, requires_grad=True)
        torch.clamp(t, torch.tensor([[0.0], [2.0]], dtype=torch.float64),
                    torch.tensor(4.0, dtype=torch.float64)).sum().backward()
        np.testing.assert_array_equal(x.grad, t.grad.numpy())


# --- grad() with an output that does not require grad ----------------------------------
def test_grad_refuses_an_output_that_does_not_require_grad():
    x = Value([1.0, 2.0])
    z, q = x * 2, Value([1.0], requires_grad=False) * 2
    with pytest.raises(RuntimeError, match=r"output 1 \(shape \(\)\) does not require grad"):
        grad([z.sum(), q.sum()], [x])


def test_the_seed_error_names_the_argument_of_the_call():
    x = Value([1.0, 2.0])
    with pytest.raises(RuntimeError, match="pass grad_outputs="):
        grad(x * 2, [x])
    with pytest.raises(RuntimeError, match="pass grad="):
        (x * 2).backward()


# --- no_grad / enable_grad on generators ------------------------------------------------
@pytest.mark.parametrize("make_decorator", [lambda: no_grad(), lambda: no_grad,
                                            lambda: set_grad_enabled(False)])
def test_grad_mode_decorators_hold_inside_a_generator(make_decorator):
    x, inside = Value(1.0), False

    @make_decorator()
    def steps():
        for _ in range(2):
            received = yield x * 2, is_grad_enabled()
            assert received == "go"
        return "done"

    made = steps()
    value, mode = next(made)
    assert mode is inside and value.requires_grad is inside and is_grad_enabled()
    value, mode = made.send("go")
    assert mode is inside and is_grad_enabled()
    with pytest.raises(StopIteration) as stop:
        made.send("go")
    assert stop.value.value == "done"


def test_enable_grad_inside_a_no_grad_caller_on_a_generator():
    x = Value(1.0)

    @enable_grad()
    def recorded():
        yield x * 2

    with no_grad():
        (value,) = list(recorded())
    assert value.requires_grad


# --- pickling a leaf with every protocol -----------------------------------------------
@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_a_leaf_pickles_with_every_protocol(protocol):
    x = Value([1.0, 2.0], name="x")
    loaded = pickle.loads(pickle.dumps(x, protocol=protocol))
    assert loaded.name == "x" and loaded.requires_grad
    np.testing.assert_array_equal(loaded.data, [1.0, 2.0])
    assert copy.deepcopy(x).name == "x"


# --- third derivatives through a broadcast ----------------------------------------------
def test_a_third_derivative_through_a_broadcast():
    x = Value([1.0, 2.0, 3.0])
    u = Value(np.array(0.0))
    (g,) = grad((x * x).sum(), x, grad_outputs=u, create_graph=True)  # g = 2 x u
    (h,) = grad(g, u, grad_outputs=np.ones(3), create_graph=True)     # h = 2 sum(x)
    np.testing.assert_allclose(h.data, 12.0)
    (third,) = grad(h, x)
    np.testing.assert_allclose(third.data, [2.0, 2.0, 2.0])


# --- error texts that say what is wrong -------------------------------------------------
def test_axis_and_index_errors_say_what_is_wrong():
    x = Value(np.ones((2, 2)))
    with pytest.raises(np.exceptions.AxisError, match=r"sum: axis 2 is out of bounds.*\(input shape \(2, 2\)\)"):
        x.sum(axis=2)
    with pytest.raises(IndexError, match=r"getitem: index 5 is out of bounds.*\(input shape \(2, 2\)\)"):
        x[5]
    with pytest.raises(ValueError, match=r"matmul: invalid input shapes \(2, 2\), \(3,\)"):
        x @ np.ones(3)

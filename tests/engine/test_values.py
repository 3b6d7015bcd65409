"""`Value` itself: construction, dtypes, attributes, repr, operators with constants."""
import operator
import warnings

import numpy as np
import pytest

from autograd_lite import Value
from autograd_lite.ops import primitive


@pytest.mark.parametrize("data,shape", [(3, ()), (2.5, ()), (True, ()), ([1, 2, 3], (3,)),
                                        ([[1.0, 2.0], [3.0, 4.0]], (2, 2)),
                                        (np.arange(6).reshape(2, 3), (2, 3)), ([], (0,))])
def test_numbers_lists_and_ints_become_float64_arrays(data, shape):
    v = Value(data)
    assert isinstance(v.data, np.ndarray)
    assert v.shape == shape and v.ndim == len(shape) and v.size == int(np.prod(shape))
    assert v.dtype == np.float64
    np.testing.assert_array_equal(v.data, np.asarray(data, dtype=np.float64))


def test_data_is_copied_like_torch_tensor():
    source = np.ones(3)
    v = Value(source)
    source[0] = 5.0
    assert v.data[0] == 1.0
    assert Value(v).data is not v.data


def test_float32_stays_float32_through_ops_and_gradients():
    x = Value(np.array([0.5, -1.0, 2.0], dtype=np.float32))
    w = Value(np.ones((3, 2), dtype=np.float32))
    out = (x @ w).tanh() * 2.0 + np.float64(1.5)
    out = (out ** 2).sigmoid().relu().leaky_relu().exp().log().mean() / 3 - 1
    assert out.dtype == np.float32
    out.backward()
    assert x.grad.dtype == np.float32 and w.grad.dtype == np.float32
    y = Value([1.0, 2.0], dtype=np.float32)
    assert (2 ** y).dtype == (1 - y).dtype == (y / 2).dtype == y.max().dtype == np.float32
    assert (y * np.ones(2, dtype=np.float32)).dtype == np.float32


def test_explicit_dtype_and_integer_values_without_grad():
    assert Value([1, 2], dtype=np.float32).dtype == np.float32
    labels = Value([0, 2, 1], dtype=np.int64, requires_grad=False)
    assert labels.dtype == np.int64 and not labels.requires_grad


def test_zero_d_results_are_arrays_not_numpy_scalars():
    x = Value([1.0, 2.0])
    for out in [x.sum(), x.max(), x.mean(), x @ x, x[0], x.sum() + x.sum(), x[0] * 2.0]:
        assert type(out.data) is np.ndarray and out.shape == ()


def test_properties_op_parents_and_is_leaf():
    a = Value([1.0, 2.0], name="a")
    b = a * 3.0
    assert a.op == "" and a.is_leaf and a.parents == () and a.name == "a"
    assert b.op == "mul" and not b.is_leaf and b.requires_grad
    assert b.parents[0] is a
    assert not b.parents[1].requires_grad and b.parents[1].item() == 3.0
    assert (a ** 2).op == "pow_const" and (a ** a).op == "pow" and (a @ a).op == "matmul" and a[0].op == "getitem"
    assert Value(1.0, requires_grad=False).requires_grad is False


def test_item_numpy_and_detach():
    v = Value([[2.5]])
    assert v.item() == 2.5 and isinstance(v.item(), float)
    assert v.numpy() is v.data
    y = v * 2
    d = y.detach()
    assert d.is_leaf and not d.requires_grad and d.data is y.data
    assert float(Value(1.5)) == 1.5
    with pytest.raises(ValueError):
        Value([1.0, 2.0]).item()


def test_len_iteration_and_truth():
    v = Value([[1.0, 2.0], [3.0, 4.0]])
    assert len(v) == 2
    rows = list(v)
    assert [r.shape for r in rows] == [(2,), (2,)] and rows[1].op == "getitem"
    with pytest.raises(TypeError, match="0-d"):
        len(Value(1.0))
    with pytest.raises(TypeError, match="0-d"):
        list(Value(1.0))
    assert bool(Value(1.0)) and not bool(Value(0.0))


def test_repr_is_readable():
    assert repr(Value(2.0)) == "Value(2.)"
    text = repr(Value([1.0, 2.0], name="w") * 2)
    assert text == "Value([2., 4.], op='mul')"
    assert "name='w'" in repr(Value([1.0], name="w"))
    assert "requires_grad=False" in repr(Value(1.0, requires_grad=False))
    assert "dtype=float32" in repr(Value(1.0, dtype=np.float32))
    x = Value(3.0)
    (x * x).backward()
    assert repr(x) == "Value(3., grad=6.)"
    assert "..." in repr(Value(np.zeros(1000)))  # long arrays are summarized


def test_repr_tells_near_one_from_one_and_aligns_a_matrix_grad():
    assert repr(Value(6.0).tanh()) == "Value(0.99998771, op='tanh')"  # not "1."
    w = Value([[1.0, 2.0], [3.0, 4.0]], name="w")
    (w * w).sum().backward()
    assert repr(w) == ("Value([[1., 2.],\n"
                       "       [3., 4.]],\n"
                       "      name='w',\n"
                       "      grad=[[2., 4.],\n"
                       "            [6., 8.]])")


def test_comparisons_return_numpy_bool_arrays():
    v = Value([1.0, 2.0, 3.0])
    for result, expected in [(v < 2, [1, 0, 0]), (v <= 2, [1, 1, 0]), (v > 2, [0, 0, 1]),
                             (v >= 2, [0, 1, 1]), (v == 2, [0, 1, 0]), (v != 2, [1, 0, 1]),
                             (v == Value([1.0, 0.0, 3.0]), [1, 0, 1]),
                             (2 < v, [0, 0, 1]), (np.full(3, 2.0) > v, [1, 0, 0])]:
        assert isinstance(result, np.ndarray) and result.dtype == bool
        np.testing.assert_array_equal(result, np.array(expected, dtype=bool))
    assert isinstance(Value(1.0) < 2, np.bool_)
    assert len({v, Value(v)}) == 2  # hashable by identity


@pytest.mark.parametrize("expr,value,grad", [
    (lambda v: 2 * v, 6.0, 2.0), (lambda v: 1 - v, -2.0, -1.0), (lambda v: 2 ** v, 8.0, 8 * np.log(2)),
    (lambda v: 6 / v, 2.0, -6 / 9), (lambda v: 1 + v, 4.0, 1.0), (lambda v: -v, -3.0, -1.0),
    (lambda v: v - 1, 2.0, 1.0), (lambda v: v ** 2, 9.0, 6.0), (lambda v: abs(-v), 3.0, 1.0),
    (lambda v: v / 2, 1.5, 0.5), (lambda v: v ** Value(2.0), 9.0, 6.0)])
def test_operators_and_reflected_forms(expr, value, grad):
    v = Value(3.0)
    out = expr(v)
    assert isinstance(out, Value)
    out.backward()
    np.testing.assert_allclose([out.item(), v.grad], [value, grad])


@pytest.mark.parametrize("op", [operator.add, operator.sub, operator.mul, operator.truediv,
                                operator.pow, operator.matmul])
def test_numpy_arrays_on_either_side_give_values(op):
    v = Value(np.full((2, 2), 2.0))
    c = np.full((2, 2), 3.0)
    left, right = op(c, v), op(v, c)  # c first: numpy must defer to Value (__array_ufunc__ = None)
    assert isinstance(left, Value) and isinstance(right, Value)
    np.testing.assert_allclose(left.data, op(c, v.data))
    np.testing.assert_allclose(right.data, op(v.data, c))
    (left.sum() + right.sum()).backward()
    assert v.grad.shape == (2, 2)


def test_lists_and_numpy_scalars_mix_in_as_constants():
    v = Value([1.0, 2.0])
    np.testing.assert_allclose((v + [1, 1]).data, [2.0, 3.0])
    np.testing.assert_allclose((np.float64(2.0) * v).data, [2.0, 4.0])
    assert isinstance(np.float64(2.0) * v, Value)


def test_shape_methods():
    v = Value(np.arange(6.0).reshape(2, 3))
    assert v.reshape(3, 2).shape == v.reshape((3, 2)).shape == (3, 2)
    assert v.reshape(-1).shape == v.flatten().shape == (6,)
    assert v.T.shape == v.transpose().shape == v.transpose(1, 0).shape == (3, 2)
    assert v.transpose((1, 0)).shape == v.swapaxes(0, 1).shape == (3, 2)
    assert v[None, :, 1].shape == (1, 2)


def test_zero_grad_and_retain_grad():
    x = Value([1.0, 2.0])
    y = (x * 2).retain_grad()
    (y * y).sum().backward()
    np.testing.assert_allclose(y.grad, 2 * y.data)
    np.testing.assert_allclose(x.grad, 8 * x.data)
    x.zero_grad()
    assert x.grad is None


def test_constant_exponents_do_not_warn_for_negative_bases():
    x = Value([-2.0, 3.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (x ** np.array([2.0, 3.0])).sum().backward()
        (x ** 2).sum().backward()
    np.testing.assert_allclose(x.grad, [-4.0 - 4.0, 27.0 + 6.0])


def test_float32_gradients_stay_float32_inside_the_graph_too():
    seen = []
    spy = primitive("spy", lambda x: x, lambda g, ans, x: seen.append(g.dtype) or g)
    x = Value(np.ones(3, dtype=np.float32))
    out = (spy(x) * np.float64(2.0) / np.float64(3.0) - np.float64(1.0)) ** np.float64(2.0)
    assert out.dtype == np.float32
    out.sum().backward()
    assert seen == [np.float32] and x.grad.dtype == np.float32


def test_int_and_float_of_a_single_element_value():
    assert int(Value(3.7)) == 3 and float(Value([2.5])) == 2.5
    with pytest.raises(ValueError, match="size 1"):
        int(Value([1.0, 2.0]))

"""Bad input gets a clear exception that names the op and the shapes, never a wrong answer."""
import numpy as np
import pytest

import autograd_lite as ag
from autograd_lite import Value, grad


@pytest.mark.parametrize("data,error,message", [
    ("abc", TypeError, "data must be numeric.*str"),
    (object(), TypeError, "data must be numeric.*object"),
    (None, TypeError, "data must be numeric.*NoneType"),
    ([1.0, "a"], TypeError, "data must be numeric"),
    ([[1.0, 2.0], [3.0]], ValueError, "rectangular nested list"),
    ([1.0, [2.0, 3.0]], ValueError, "rectangular nested list"),
    (1 + 2j, TypeError, "complex"),
    ({"a": 1}, TypeError, "data must be numeric.*dict"),
])
def test_bad_data(data, error, message):
    with pytest.raises(error, match=message):
        Value(data)


def test_a_list_of_values_points_to_stack():
    with pytest.raises(TypeError, match=r"holds Values: join them with autograd_lite.stack"):
        Value([Value(1.0), Value(2.0)])


def test_integer_dtype_cannot_require_grad():
    with pytest.raises(TypeError, match="only floating-point values can require gradients.*int64"):
        Value([1, 2], dtype=np.int64)


@pytest.mark.parametrize("op,name", [(lambda a, b: a + b, "add"), (lambda a, b: a - b, "sub"),
                                     (lambda a, b: a * b, "mul"), (lambda a, b: a / b, "div"),
                                     (lambda a, b: a ** b, "pow"),
                                     (ag.maximum, "maximum"), (ag.minimum, "minimum")])
def test_elementwise_shape_mismatch_names_op_and_both_shapes(op, name):
    with pytest.raises(ValueError, match=rf"{name}: .*\(2, 3\), \(4,\)"):
        op(Value(np.ones((2, 3))), Value(np.ones(4)))


@pytest.mark.parametrize("a,b", [((2, 3), (4, 5)), ((3,), (4,)), ((2, 3), (2,)), ((), (3,))])
def test_matmul_shape_mismatch_names_op_and_both_shapes(a, b):
    with pytest.raises(ValueError, match=r"matmul: .*" + re_shape(a) + ", " + re_shape(b)):
        Value(np.ones(a)) @ Value(np.ones(b))


def re_shape(shape):
    return str(shape).replace("(", r"\(").replace(")", r"\)")


@pytest.mark.parametrize("other", ["a", None, object(), {1: 2}])
def test_unsupported_operands_raise_type_error(other):
    v = Value(1.0)
    for expr in (lambda: v + other, lambda: other * v, lambda: v @ other, lambda: v ** other):
        with pytest.raises(TypeError):
            expr()


def test_bad_reshape_index_and_axis():
    v = Value(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"reshape: .*\(2, 3\)"):
        v.reshape(4, 2)
    with pytest.raises(IndexError, match=r"getitem: .*\(2, 3\)"):
        v[5]
    with pytest.raises(IndexError, match=r"getitem"):
        v[np.array([0, 7])]
    with pytest.raises(ValueError, match="sum"):
        v.sum(axis=2)
    with pytest.raises(ValueError, match="concatenate"):
        ag.concatenate([v, Value(np.ones((3, 3)))], axis=1)
    with pytest.raises(ValueError, match="stack"):
        ag.stack([v, Value(np.ones((3, 2)))])
    with pytest.raises(ValueError, match="where"):
        ag.where(np.ones(4, dtype=bool), v, 0.0)


def test_conv2d_and_pool_argument_errors():
    x, w = Value(np.ones((1, 2, 4, 4))), Value(np.ones((3, 2, 2, 2)))
    with pytest.raises(ValueError, match=r"conv2d: input must be 4-D.*\(2, 4, 4\)"):
        ag.conv2d(Value(np.ones((2, 4, 4))), w)
    with pytest.raises(ValueError, match=r"conv2d: weight must be 4-D"):
        ag.conv2d(x, Value(np.ones((3, 2, 2))))
    with pytest.raises(ValueError, match=r"conv2d: input has 2 channels.*weight expects 3"):
        ag.conv2d(x, Value(np.ones((3, 3, 2, 2))))
    with pytest.raises(ValueError, match=r"conv2d: kernel 5x5 is larger"):
        ag.conv2d(x, Value(np.ones((1, 2, 5, 5))))
    with pytest.raises(ValueError, match=r"conv2d: stride must be positive"):
        ag.conv2d(x, w, stride=0)
    with pytest.raises(ValueError, match=r"conv2d: padding must be non-negative"):
        ag.conv2d(x, w, padding=-1)
    with pytest.raises(ValueError, match=r"conv2d: bias must have shape \(3,\), got \(2,\)"):
        ag.conv2d(x, w, Value(np.ones(2)))
    with pytest.raises(ValueError, match=r"stride must be an int or a pair"):
        ag.conv2d(x, w, stride=(1, 2, 3))
    with pytest.raises(ValueError, match=r"max_pool2d: kernel 5x5 is larger"):
        ag.max_pool2d(x, 5)
    with pytest.raises(ValueError, match=r"max_pool2d: kernel_size must be positive"):
        ag.max_pool2d(x, 0)


def test_non_scalar_backward_without_grad():
    y = Value([1.0, 2.0]) * 2
    with pytest.raises(RuntimeError, match=r"only for scalar outputs.*shape \(2,\).*grad="):
        y.backward()
    with pytest.raises(ValueError, match=r"gradient shape \(3,\) does not match output shape \(2,\)"):
        y.backward(np.ones(3))


def test_backward_of_something_without_a_graph():
    with pytest.raises(RuntimeError, match="does not require grad"):
        Value(1.0, requires_grad=False).exp().backward()
    with pytest.raises(TypeError, match="expected a Value"):
        ag.backward(np.ones(()))


def test_backward_twice_says_retain_graph():
    x = Value(2.0)
    y = (x * x).exp()
    y.backward()
    with pytest.raises(RuntimeError, match=r"second time.*retain_graph=True"):
        y.backward()


def test_grad_of_unused_or_non_grad_inputs():
    x, unused = Value(1.0), Value(2.0)
    with pytest.raises(RuntimeError, match=r"input 1 \(shape \(\)\) was not used.*allow_unused=True"):
        grad(x * 3, [x, unused])
    with pytest.raises(RuntimeError, match="input 0 .* does not require grad"):
        grad(x * 3, [Value(1.0, requires_grad=False)])
    with pytest.raises(RuntimeError, match="no output requires grad"):
        grad(Value(1.0, requires_grad=False) * 2, [x])
    with pytest.raises(TypeError, match="must be Values"):
        grad(x * 3, [np.ones(1)])
    with pytest.raises(ValueError, match="got 2 gradients for 1 outputs"):
        grad(x * 3, [x], grad_outputs=[np.ones(()), np.ones(())])


def test_numerical_grad_needs_a_scalar_function():
    with pytest.raises(ValueError, match="numerical_grad: fn must return one scalar"):
        ag.numerical_grad(lambda v: v * 2, Value([1.0, 2.0]))

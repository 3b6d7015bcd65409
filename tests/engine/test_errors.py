"""Bad input gets a clear exception, never a wrong answer.

Errors name the op or the layer (and its place in the model), what it expected
and what it got: shapes, dtypes, arguments, labels, and calls made in the wrong order.
"""
import re

import numpy as np
import pytest

import autograd_lite as ag
import nn
from autograd_lite import Value, concatenate, grad, max_pool2d, stack


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
    with pytest.raises(RuntimeError, match=r"output 0 \(shape \(\)\) does not require grad"):
        grad(Value(1.0, requires_grad=False) * 2, [x])
    with pytest.raises(RuntimeError, match=r"output 0 .*does not require grad"):
        grad(Value(1.0, requires_grad=False) * 2, [x], allow_unused=True)  # as in PyTorch
    with pytest.raises(TypeError, match="must be Values"):
        grad(x * 3, [np.ones(1)])
    with pytest.raises(ValueError, match="got 2 gradients for 1 outputs"):
        grad(x * 3, [x], grad_outputs=[np.ones(()), np.ones(())])


def test_numerical_grad_needs_a_scalar_function():
    with pytest.raises(ValueError, match="numerical_grad: fn must return one scalar"):
        ag.numerical_grad(lambda v: v * 2, Value([1.0, 2.0]))


# --- wrong shapes into layers ----------------------------------------------------------------
LINEAR = "Linear(3→4): expected input with last dimension 3"


CONV = "Conv2d(3→4): expected input"


BATCHNORM = "BatchNorm1d(3): expected"


@pytest.mark.parametrize("layer, shape, message", [
    (nn.Linear(3, 4), (2, 2), f"{LINEAR}, got shape (2, 2)"),
    (nn.Linear(3, 4), (), f"{LINEAR}, got shape ()"),
    (nn.Conv2d(3, 4, 3), (2, 2, 5, 5), f"{CONV} of shape (N, 3, H, W), got shape (2, 2, 5, 5)"),
    (nn.Conv2d(3, 4, 3), (5, 5), f"{CONV} of shape (N, 3, H, W), got shape (5, 5)"),
    (nn.Conv2d(3, 4, 3), (1, 3, 2, 2), "conv2d: kernel 3x3 is larger than the padded input 2x2"),
    (nn.MaxPool2d(2), (4, 4),
     "MaxPool2d(kernel_size=2): expected input of shape (N, C, H, W) or (C, H, W), got shape "
     "(4, 4)"),
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


# --- layer arguments -------------------------------------------------------------------------
def test_a_float_kernel_size_is_a_clear_error():
    with pytest.raises(ValueError, match=r"max_pool2d: kernel_size must be an int or a pair of "
                                         r"ints, got 2.0"):
        max_pool2d(Value(np.ones((1, 1, 4, 4))), 2.0)
    with pytest.raises(ValueError, match=r"Conv2d: kernel_size must be an int or a pair of ints"):
        nn.Conv2d(1, 1, kernel_size=3.0)


# --- operations that have no answer for empty input ------------------------------------------
def test_max_and_min_of_nothing_name_the_op():
    for op in ("max", "min"):
        with pytest.raises(ValueError, match=rf"{op}: invalid input shapes \(0,\): zero-size"):
            getattr(Value(np.ones(0)), op)()


@pytest.mark.parametrize("join", [concatenate, stack])
def test_joining_nothing_names_the_op(join):
    with pytest.raises(ValueError, match=rf"{join.__name__}: expected at least one value"):
        join([])


# --- cross_entropy labels --------------------------------------------------------------------
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


# --- optimizers: integer values, and the training loop used in the wrong order ---------------
def test_optimizers_refuse_integer_values():
    with pytest.raises(TypeError, match="can only optimize floating-point values, got int64"):
        nn.SGD([Value(np.arange(3), dtype=np.int64, requires_grad=False)], lr=0.1)


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

"""Plain NumPy code runs on values: numpy's functions and ufuncs record ops (NEP 13 and 18)."""
import numpy as np
import pytest

from autograd_lite import Value, gradcheck, no_grad
from autograd_lite.references import cosine_post, nn_basics

rng = np.random.default_rng(0)


def leaf(*shape):
    return Value(rng.normal(size=shape))


# each: numpy code, the same with Value methods; both run on values and must agree exactly
CASES = {
    "tanh": (lambda a: np.tanh(a), lambda a: a.tanh()),
    "exp": (lambda a: np.exp(a), lambda a: a.exp()),
    "log of square": (lambda a: np.log(a * a + 1), lambda a: (a * a + 1).log()),
    "sqrt": (lambda a: np.sqrt(a * a + 1), lambda a: (a * a + 1).sqrt()),
    "abs": (lambda a: np.abs(a), lambda a: a.abs()),
    "sin cos": (lambda a: np.sin(a) * np.cos(a), lambda a: a.sin() * a.cos()),
    "maximum with 0": (lambda a: np.maximum(0, a), lambda a: a.relu()),
    "power": (lambda a: np.power(a, 3), lambda a: a ** 3),
    "sum axis": (lambda a: np.sum(a, axis=0, keepdims=True), lambda a: a.sum(axis=0, keepdims=True)),
    "sum axes list": (lambda a: np.sum(a, axis=[0, 1]), lambda a: a.sum(axis=(0, 1))),
    "mean": (lambda a: np.mean(a, axis=1), lambda a: a.mean(axis=1)),
    "max": (lambda a: np.max(a, axis=0), lambda a: a.max(axis=0)),
    "min": (lambda a: np.min(a), lambda a: a.min()),
    "var": (lambda a: np.var(a, axis=0), lambda a: a.var(axis=0)),
    "add.reduce": (lambda a: np.add.reduce(a, axis=1), lambda a: a.sum(axis=1)),
    "where": (lambda a: np.where(a.data > 0, a, 0.01 * a), lambda a: a.leaky_relu()),
    "reshape": (lambda a: np.reshape(a, (-1,)), lambda a: a.reshape(-1)),
    "transpose": (lambda a: np.transpose(a), lambda a: a.T),
    "clip": (lambda a: np.clip(a, -0.5, 0.5), lambda a: a.clip(-0.5, 0.5)),
    "negative, divide": (lambda a: np.negative(a) / 2.0, lambda a: -a / 2.0),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_numpy_functions_record_the_same_ops_as_the_methods(name):
    numpy_code, methods = CASES[name]
    a = leaf(3, 4)
    ours = numpy_code(a)
    assert isinstance(ours, Value) and ours.requires_grad
    np.testing.assert_array_equal(ours.data, methods(a).data)
    assert gradcheck(lambda v: numpy_code(v), (a,))


def test_an_array_on_the_left_records_too():
    w = leaf(3)
    x = np.array([1.0, 2.0, 3.0])
    for out in (x * w, x + w, x - w, x / (w * w + 1), np.float64(2.0) * w, x @ w):
        assert isinstance(out, Value) and out.requires_grad
    (x * w).sum().backward()
    np.testing.assert_array_equal(w.grad, x)


def test_dot_on_vectors_matrices_and_scalars():
    W, x, b = leaf(2, 3), leaf(3, 1), leaf(2, 1)
    out = np.tanh(np.dot(W, x) + b)  # the documents' layer, as written
    np.testing.assert_allclose(out.data, np.tanh(W.data @ x.data + b.data))
    assert gradcheck(lambda W, x, b: np.tanh(np.dot(W, x) + b), (W, x, b))
    np.testing.assert_array_equal(np.dot(2.0, W).data, 2.0 * W.data)
    np.testing.assert_array_equal(np.dot(x[:, 0], x[:, 0]).data, x.data[:, 0] @ x.data[:, 0])
    with pytest.raises(TypeError, match="numpy.dot of arrays above 2-D"):
        np.dot(leaf(2, 2, 2), leaf(2, 2))


def test_joining_and_shape_questions():
    a, b = leaf(2, 3), leaf(2, 3)
    assert np.concatenate([a, b], axis=1).shape == (2, 6)
    assert np.stack([a, b]).shape == (2, 2, 3)
    assert np.vstack([a, b]).shape == (4, 3) and np.hstack([a, b]).shape == (2, 6)
    assert np.shape(a) == (2, 3) and np.ndim(a) == 2 and np.size(a) == 6
    assert gradcheck(lambda a, b: np.concatenate([a, b], axis=0) * 2.0, (a, b))


def test_questions_about_the_data_answer_as_numpy():
    a = Value([1.0, np.nan, 3.0])
    np.testing.assert_array_equal(np.isnan(a), [False, True, False])
    assert np.argmax(Value([1.0, 5.0, 2.0])) == 1
    assert np.allclose(Value([1.0, 2.0]), [1.0, 2.0])
    np.testing.assert_array_equal(np.array([0.0, 2.0, 4.0]) > Value([1.0, 1.0, 5.0]),
                                  [False, True, False])
    zeros = np.zeros_like(a)
    assert isinstance(zeros, Value) and not zeros.requires_grad and zeros.shape == (3,)


def test_what_is_not_differentiated_is_refused_by_name():
    a = leaf(2, 2)
    with pytest.raises(TypeError, match=r"numpy.inv is not differentiated.*no matrix inverse"):
        np.linalg.inv(a)
    with pytest.raises(TypeError, match=r"numpy.multiply.at is not differentiated"):
        np.multiply.at(a, [0], 2.0)
    with pytest.raises(TypeError, match=r"numpy.exp\(\.\.\., out=\.\.\.\) cannot write into a Value"):
        np.exp(a, out=np.empty((2, 2)))
    with pytest.raises(TypeError, match=r"numpy.sum on a Value takes axis and keepdims only"):
        np.sum(a, dtype=np.float32)


def test_results_are_values_under_no_grad_and_for_constants():
    a = leaf(3)
    with no_grad():
        out = np.tanh(a)
    assert isinstance(out, Value) and not out.requires_grad
    constant = Value([1.0, 2.0], requires_grad=False)
    assert isinstance(np.exp(constant), Value) and not np.exp(constant).requires_grad


def test_the_cosine_posts_numpy_forward_runs_on_values_and_gives_the_reference_gradient():
    x, y = cosine_post.make_data()
    start = cosine_post.initialize_weights()
    params = {name: Value(p) for name, p in start.items()}
    w1, b1, w2, b2 = (params[k] for k in ("w1", "b1", "w2", "b2"))
    y_hat = [cosine_post.feed_forward2(cosine_post.feed_forward1(x[j], w1, b1), w2, b2)
             for j in range(len(x))]  # the post's own per-point numpy code, unchanged
    loss = sum(((p - t) ** 2).sum() for p, t in zip(y_hat, y)) / (2.0 * len(x))  # its reported loss
    loss.backward()
    expected_loss, expected = cosine_post.gradients_of_reported_loss(x, y, **start)
    np.testing.assert_allclose(loss.item(), expected_loss, rtol=1e-12)
    for name, value in params.items():
        np.testing.assert_allclose(value.grad, np.reshape(expected[name], value.shape), rtol=1e-10)


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu", "leaky_relu"])
def test_the_guides_numpy_forward_runs_on_values(activation):
    weights, biases = nn_basics.init_parameters([2, 4, 1], np.random.default_rng(1))
    X = np.random.default_rng(2).normal(size=(5, 2))
    W, B = [Value(w) for w in weights], [Value(b) for b in biases]
    out = nn_basics.forward(W, B, X, activation, "sigmoid")[0]  # the guide's code, unchanged
    assert isinstance(out, Value)
    expected = nn_basics.forward(weights, biases, X, activation, "sigmoid")[0]
    np.testing.assert_allclose(out.data, expected, rtol=1e-12)
    assert gradcheck(lambda *p: nn_basics.forward(p[:2], p[2:], X, activation, "sigmoid")[0],
                     (*W, *B))


def test_the_numpy_named_ops_and_pytorch_methods_are_reachable():
    x = Value(np.arange(1.0, 7.0).reshape(1, 2, 3))
    assert np.cumsum(x, axis=2).op == "cumsum" and np.tan(x).op == "tan"
    assert np.einsum("ijk->k", x).shape == (3,) and np.linalg.norm(x).op == "vector_norm"
    assert x.squeeze().shape == (2, 3) and x.unsqueeze(0).shape == (1, 1, 2, 3)
    assert x.permute(2, 0, 1).shape == (3, 1, 2) and x.sum(axis=[1, 2]).shape == (1,)
    m = Value(np.array([[1.0, 2.0], [3.0, 4.0]]))
    np.testing.assert_allclose(np.linalg.norm(m).item(), np.linalg.norm(m.data))
    assert gradcheck(lambda m: np.linalg.norm(m), (m,))
    with pytest.raises(TypeError, match="ord=2 of a matrix is not differentiated"):
        np.linalg.norm(m, ord=2)

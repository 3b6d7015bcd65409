"""Second and higher derivatives: backward rules are recorded under create_graph=True."""
import numpy as np

from autograd_lite import Value, grad, gradgradcheck


def test_second_and_third_derivative_of_tanh():
    x = Value([-1.0, 0.3, 2.0])
    (d1,) = grad(x.tanh().sum(), [x], create_graph=True)
    (d2,) = grad(d1.sum(), [x], create_graph=True)
    (d3,) = grad(d2.sum(), [x])
    t = np.tanh(x.data)
    np.testing.assert_allclose(d1.data, 1 - t ** 2)
    np.testing.assert_allclose(d2.data, -2 * t * (1 - t ** 2))
    np.testing.assert_allclose(d3.data, -2 * (1 - t ** 2) ** 2 + 4 * t ** 2 * (1 - t ** 2))
    assert d1.requires_grad and d2.requires_grad and not d3.requires_grad


def test_hessian_vector_product_of_a_quadratic():
    rng = np.random.default_rng(0)
    m = rng.normal(size=(4, 4))
    a = m @ m.T
    b, v = rng.normal(size=4), rng.normal(size=4)
    x = Value(rng.normal(size=4))
    f = 0.5 * (x @ (a @ x)) + (b * x).sum()
    (g,) = grad(f, [x], create_graph=True)
    np.testing.assert_allclose(g.data, a @ x.data + b)
    (hv,) = grad((g * v).sum(), [x])
    np.testing.assert_allclose(hv.data, a @ v)


def test_hessian_vector_product_of_a_small_mlp_matches_finite_differences_of_its_gradient():
    rng = np.random.default_rng(1)
    w1, w2, x0 = rng.normal(size=(3, 5)), rng.normal(size=(5, 1)), rng.normal(size=(4, 3))
    v = rng.normal(size=(3, 5))

    def gradient(w1_value):
        loss = ((Value(x0, requires_grad=False) @ w1_value).tanh() @ w2).sigmoid().mean()
        return grad(loss, [w1_value], create_graph=True)[0]

    w = Value(w1)
    (hv,) = grad((gradient(w) * v).sum(), [w])
    eps = 1e-5
    numeric = (gradient(Value(w1 + eps * v)).data - gradient(Value(w1 - eps * v)).data) / (2 * eps)
    np.testing.assert_allclose(hv.data, numeric, rtol=1e-6, atol=1e-9)


def test_backward_with_create_graph_makes_dot_grad_differentiable_data():
    x = Value(3.0)
    (x ** 3).backward(create_graph=True)
    np.testing.assert_allclose(x.grad, 27.0)
    (g,) = grad(x ** 3, [x], create_graph=True)
    g.backward()  # accumulates d/dx 3x^2 = 6x on top
    np.testing.assert_allclose(x.grad, 27.0 + 18.0)


def test_physics_style_loss_with_du_dx_and_d2u_dx2():
    # u(x) = sin(a x): the residual u'' + a^2 u is zero, and its gradient with respect to a too
    a, x = Value(1.7), Value(np.linspace(-1, 1, 5))
    u = (a * x).sin()
    (du,) = grad(u.sum(), [x], create_graph=True)
    (d2u,) = grad(du.sum(), [x], create_graph=True)
    residual = ((d2u + a * a * u) ** 2).mean()
    np.testing.assert_allclose(du.data, 1.7 * np.cos(1.7 * x.data))
    assert residual.item() < 1e-25
    (ga,) = grad(residual, [a])
    assert abs(ga.item()) < 1e-10


def test_gradgradcheck_through_a_composite_function():
    rng = np.random.default_rng(2)
    fn = lambda w, x: ((x @ w).tanh() * (x @ w).sigmoid()).logsumexp(axis=1).var()
    assert gradgradcheck(fn, [Value(rng.normal(size=(3, 2))), Value(rng.normal(size=(4, 3)))])


def test_create_graph_gradients_come_in_the_inputs_dtype_and_differentiate_again():
    """Like PyTorch: a float32 input's gradient is float32 even where the graph went float64."""
    x = Value(np.array([1.0, 2.0], dtype=np.float32))
    y = (x * x * np.array([3.0, 4.0])).sum()  # a float64 constant: the graph is float64
    (g,) = grad(y, x, create_graph=True)
    assert y.dtype == np.float64 and g.dtype == np.float32
    np.testing.assert_allclose(g.data, [6.0, 16.0])
    (gg,) = grad(g.sum(), x)
    assert gg.dtype == np.float32
    np.testing.assert_allclose(gg.data, [6.0, 8.0])

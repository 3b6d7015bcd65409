"""autograd_lite.func: torch.func's transforms, checked against finite differences (always)
and torch.func (where PyTorch is installed), their compositions, layouts and errors."""
import numpy as np
import pytest

from autograd_lite import Value, func, no_grad, numerical_grad
from autograd_lite import grad as autograd_grad

RNG = np.random.default_rng(7)
W, B, A = RNG.normal(size=(4, 3)), RNG.normal(size=4), RNG.normal(size=(3, 3)) / 2
W1, W2 = RNG.normal(size=(6, 5)) / 2, RNG.normal(size=(2, 6)) / 2


def scalar_cases(const):
    """Smooth scalar functions, written with methods both engines have; `const` turns a
    numpy constant into the engine's own (numpy for ours, a tensor for torch)."""
    w, b, a, w1, w2 = map(const, (W, B, A, W1, W2))
    return {
        "tanh layer": ((3,), lambda x: ((w @ x + b).tanh() ** 2).sum()),
        "sin exp polynomial": ((2, 3), lambda x: ((x.sin() * 0.5).exp() * x ** 3).sum() + (x @ a).sum() ** 2),
        "two-layer mlp": ((5,), lambda x: (w2 @ (w1 @ x).tanh()).sigmoid().sum()),
        "scalar": ((), lambda x: (x * 1.3).sin() * x.exp() + x ** 4),
    }


def vector_cases(const):
    w, a = const(W), const(A)
    return {
        "vector to vector": ((3,), lambda x: (w @ x).tanh() * (w @ x.sin())),  # (3,) -> (4,)
        "matrix to matrix": ((2, 3), lambda x: (x @ a).tanh() @ x.T),          # (2, 3) -> (2, 2)
    }


SCALAR, VECTOR = scalar_cases(np.asarray), vector_cases(np.asarray)


def point(shape, seed=0):
    return np.random.default_rng(seed).uniform(-1.0, 1.0, size=shape)


def numeric_jacobian(f, x):
    """d f(x) / dx shaped f(x).shape + x.shape, by central differences (numerical_grad per
    output element)."""
    out_shape = f(Value(x, requires_grad=False)).shape
    rows = [numerical_grad(lambda v, k=k: f(v).reshape(-1)[k], Value(x))
            for k in range(int(np.prod(out_shape)))]
    return np.array(rows).reshape(out_shape + np.shape(x))


# --- against finite differences ---------------------------------------------------------
@pytest.mark.parametrize("name", SCALAR)
def test_grad_and_hessian_match_finite_differences(name):
    shape, f = SCALAR[name]
    x = point(shape)
    g = func.grad(f)(x)
    assert isinstance(g, Value) and g.shape == shape and not g.requires_grad
    np.testing.assert_allclose(g.data, numerical_grad(f, Value(x)), rtol=1e-6, atol=1e-8)
    hessian = func.hessian(f)(x)
    assert hessian.shape == shape + shape
    np.testing.assert_allclose(hessian.data, numeric_jacobian(func.grad(f), x), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("name", VECTOR)
def test_jacobians_match_finite_differences(name):
    shape, f = VECTOR[name]
    x = point(shape)
    numeric = numeric_jacobian(f, x)
    out_shape = f(Value(x)).shape
    for transform in (func.jacrev, func.jacfwd):
        jacobian = transform(f)(x)
        assert jacobian.shape == out_shape + shape
        np.testing.assert_allclose(jacobian.data, numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", VECTOR)
def test_jvp_vjp_hvp_are_products_with_the_jacobian_and_hessian(name):
    shape, f = VECTOR[name]
    x, v = point(shape), point(shape, seed=1)
    jacobian = numeric_jacobian(f, x)
    out_shape = jacobian.shape[:jacobian.ndim - len(shape)]
    output, jv = func.jvp(f, (x,), (v,))
    np.testing.assert_allclose(output.data, f(Value(x)).data)
    np.testing.assert_allclose(jv.data, np.tensordot(jacobian, v, axes=len(shape)), rtol=1e-6, atol=1e-8)
    c = point(out_shape, seed=2)
    output, vjp_fn = func.vjp(f, x)
    (vj,) = vjp_fn(c)
    np.testing.assert_allclose(vj.data, np.tensordot(c, jacobian, axes=len(out_shape)), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(vjp_fn(2 * c)[0].data, 2 * vj.data)  # vjp_fn can be called again
    scalar = lambda y: (f(y) * c).sum()
    hessian = numeric_jacobian(func.grad(scalar), x)
    np.testing.assert_allclose(func.hvp(scalar, (x,), (v,)).data,
                               np.tensordot(hessian, v, axes=len(shape)), rtol=1e-5, atol=1e-7)


# --- against torch.func ----------------------------------------------------------------
def test_every_transform_matches_torch_func():
    torch = pytest.importorskip("torch")
    tf = torch.func
    to_torch = lambda a: torch.from_numpy(np.asarray(a, dtype=np.float64))
    theirs_scalar, theirs_vector = scalar_cases(to_torch), vector_cases(to_torch)

    def same(ours, theirs):
        np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-9, atol=1e-11)

    for name, (shape, f) in SCALAR.items():
        g = theirs_scalar[name][1]
        x, v = point(shape), point(shape, seed=1)
        same(func.grad(f)(x), tf.grad(g)(to_torch(x)))
        same(func.grad_and_value(f)(x)[1], tf.grad_and_value(g)(to_torch(x))[1])
        same(func.hessian(f)(x), tf.hessian(g)(to_torch(x)))
        same(func.hvp(f, (x,), (v,)), tf.jvp(tf.grad(g), (to_torch(x),), (to_torch(v),))[1])
    for name, (shape, f) in VECTOR.items():
        g = theirs_vector[name][1]
        x, v = point(shape), point(shape, seed=1)
        same(func.jacrev(f)(x), tf.jacrev(g)(to_torch(x)))
        same(func.jacfwd(f)(x), tf.jacfwd(g)(to_torch(x)))
        same(func.hessian(f)(x), tf.hessian(g)(to_torch(x)))
        same(func.jvp(f, (x,), (v,))[1], tf.jvp(g, (to_torch(x),), (to_torch(v),))[1])
        output, vjp_fn = func.vjp(f, x)
        c = point(output.shape, seed=2)
        same(vjp_fn(c)[0], tf.vjp(g, to_torch(x))[1](to_torch(c))[0])


def test_layouts_of_several_arguments_and_outputs_match_torch_func():
    torch = pytest.importorskip("torch")
    tf = torch.func

    def f(x, y):  # two outputs of two arguments, written for both engines
        return (x * y.sum()).tanh(), (x ** 2).sum() * y

    x, y = point((3,)), point((2,), seed=1)
    tx, ty = torch.tensor(x), torch.tensor(y)
    for ours, theirs in ((func.jacrev, tf.jacrev), (func.jacfwd, tf.jacfwd)):
        mine, reference = ours(f, argnums=(0, 1))(x, y), theirs(f, argnums=(0, 1))(tx, ty)
        assert isinstance(mine, tuple) and len(mine) == 2
        for mine_row, reference_row in zip(mine, reference):
            assert isinstance(mine_row, tuple) and len(mine_row) == 2
            for a, b in zip(mine_row, reference_row):
                np.testing.assert_allclose(a.data, b.numpy(), rtol=1e-9, atol=1e-12)
        single = ours(f, argnums=1)(x, y)
        assert [j.shape for j in single] == [(3, 2), (2, 2)]
    scalar = lambda x, y: f(x, y)[1].sum()
    (gx, gy) = func.grad(scalar, argnums=(0, 1))(x, y)
    (tgx, tgy) = tf.grad(scalar, argnums=(0, 1))(tx, ty)
    np.testing.assert_allclose(gx.data, tgx.numpy())
    np.testing.assert_allclose(gy.data, tgy.numpy())
    mine, reference = func.hessian(scalar, argnums=(0, 1))(x, y), tf.hessian(scalar, argnums=(0, 1))(tx, ty)
    for mine_row, reference_row in zip(mine, reference):  # ((d2/dx dx, d2/dx dy), (d2/dy dx, d2/dy dy))
        for a, b in zip(mine_row, reference_row):
            np.testing.assert_allclose(a.data, b.numpy(), rtol=1e-9, atol=1e-12)
    u, v = point((3,), seed=2), point((2,), seed=3)
    (out, jv), (t_out, t_jv) = func.jvp(f, (x, y), (u, v)), tf.jvp(f, (tx, ty), (torch.tensor(u), torch.tensor(v)))
    for a, b in zip(out + jv, t_out + t_jv):
        np.testing.assert_allclose(a.data, b.numpy(), rtol=1e-9, atol=1e-12)
    hx, hy = func.hvp(scalar, (x, y), (u, v))  # the Hessian over both arguments times (u, v)
    np.testing.assert_allclose(hx.data, mine[0][0].data @ u + mine[0][1].data @ v, rtol=1e-9)
    np.testing.assert_allclose(hy.data, mine[1][0].data @ u + mine[1][1].data @ v, rtol=1e-9)


def test_plain_numpy_code_is_differentiated_like_the_same_code_written_with_methods():
    f = lambda x: np.sum(np.tanh(np.dot(W, x) + B) ** 2)
    x = point((3,))
    _, same = SCALAR["tanh layer"]
    np.testing.assert_allclose(func.grad(f)(x).data, func.grad(same)(x).data, rtol=1e-12)
    np.testing.assert_allclose(func.hessian(f)(x).data, func.hessian(same)(x).data, rtol=1e-12)
    u = lambda t: np.sin(2 * t)
    assert np.isclose(func.grad(func.grad(u))(0.3).item(), -4 * np.sin(0.6))


# --- compositions ------------------------------------------------------------------------
def test_compositions_agree():
    shape, f = SCALAR["two-layer mlp"]
    x = point(shape)
    hessian = func.hessian(f)(x).data
    for other in (func.jacfwd(func.jacrev(f)), func.jacrev(func.jacrev(f)), func.jacrev(func.grad(f)),
                  func.jacfwd(func.grad(f))):
        np.testing.assert_allclose(other(x).data, hessian, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(hessian, hessian.T, atol=1e-12)


def test_second_and_third_derivatives_of_a_scalar_function():
    x = 0.7
    d2 = func.grad(func.grad(lambda t: t.sin()))(x)
    d3 = func.grad(func.grad(func.grad(lambda t: t.sin())))(x)
    assert d2.shape == () and np.isclose(d2.item(), -np.sin(x)) and np.isclose(d3.item(), -np.cos(x))


def test_no_perturbation_confusion():
    # d/dx [x * (d/dy (x + y) at y=1)] at x=1 is 1; mixing the two derivatives gives 2
    inner = lambda x: x * func.grad(lambda y: x + y)(1.0)
    assert func.grad(inner)(1.0).item() == 1.0


def test_pinn_residual_is_differentiable_with_respect_to_the_network_weights():
    def residual_loss(w1, b1, w2):
        def u(t):  # a 1-8-1 tanh network of a scalar t
            return (w2 @ (w1 * t + b1).tanh()).reshape(())
        return sum((func.grad(func.grad(u))(t) + u(t)) ** 2 for t in (0.0, 0.5, 1.5))

    rng = np.random.default_rng(3)
    params = [Value(rng.normal(size=shape)) for shape in ((8, 1), (8, 1), (1, 8))]
    w1, b1, w2 = params
    u = lambda t: (w2 @ (w1 * t + b1).tanh()).reshape(())
    u_xx = func.grad(func.grad(u))(0.5)
    t = Value(0.5)
    (du,) = autograd_grad(u(t), t, create_graph=True)
    (d2u,) = autograd_grad(du, t)
    assert u_xx.shape == () and u_xx.requires_grad and np.isclose(u_xx.item(), d2u.item())
    residual_loss(*params).backward()
    numeric = numerical_grad(residual_loss, [Value(p.data) for p in params])
    for p, expected in zip(params, numeric):
        np.testing.assert_allclose(p.grad, expected, rtol=1e-5, atol=1e-7)


# --- inputs, outputs and what they carry ------------------------------------------------
def test_inputs_may_be_numbers_int_arrays_values_and_trees():
    f = lambda x: (x ** 2).sum()
    np.testing.assert_array_equal(func.grad(f)(np.array([1, 2])).data, [2.0, 4.0])
    assert func.grad(f)(3).item() == 6.0
    assert func.grad(f)(Value([1.0], requires_grad=False)).data.tolist() == [2.0]
    x32 = np.ones(3, np.float32)
    assert func.grad(f)(x32).dtype == np.float32
    params = {"w": point((3, 2)), "b": [point((2,), 1), 0.5]}

    def loss(p, x):
        return ((x @ p["w"] + p["b"][0]).tanh() * p["b"][1]).sum()

    x = point((4, 3), seed=2)
    g = func.grad(loss)(params, x)
    assert isinstance(g, dict) and list(g) == ["w", "b"] and isinstance(g["b"], list)
    np.testing.assert_allclose(g["w"].data, numerical_grad(lambda w: loss({**params, "w": w}, x),
                                                           Value(params["w"])), rtol=1e-6)
    np.testing.assert_allclose(g["b"][1].data, numerical_grad(
        lambda s: loss({"w": Value(params["w"]), "b": [params["b"][0], s]}, x), Value(0.5)), rtol=1e-6)


def test_results_of_plain_arrays_are_detached_and_closures_stay_differentiable():
    x = point((3,))
    g = func.grad(lambda v: v.sin().sum())(x)
    assert not g.requires_grad and np.asarray(g).shape == (3,)  # no graph left behind
    w = Value(point((3,), seed=1))
    g = func.grad(lambda v: (v * w).sin().sum())(x)
    assert g.requires_grad
    g.sum().backward()  # g = cos(x w) w, so d/dw sum(g) = cos(x w) - sin(x w) x w
    xw = x * w.data
    np.testing.assert_allclose(w.grad, np.cos(xw) - np.sin(xw) * xw)
    with no_grad():
        assert not func.grad(lambda v: (v * w).sin().sum())(x).requires_grad
    _, vjp_fn = func.vjp(lambda v: (v * w).sin(), x)
    assert vjp_fn(np.ones(3))[0].requires_grad
    with no_grad():
        assert not vjp_fn(np.ones(3))[0].requires_grad


def test_a_value_that_requires_grad_passed_in_stays_connected():
    x = Value(point((3,)))
    g = func.grad(lambda v: (v ** 3).sum())(x)
    assert g.requires_grad
    g.sum().backward()  # d/dx sum 3 x^2 = 6 x
    np.testing.assert_allclose(x.grad, 6 * x.data)
    assert x.grad is not None and func.grad(lambda v: (v * 2.0).sum())(x).data.tolist() == [2.0] * 3


def test_unused_argument_and_constant_output_give_zeros():
    g = func.grad(lambda x, y: (x ** 2).sum(), argnums=(0, 1))(np.ones(2), np.ones(3))
    np.testing.assert_array_equal(g[1].data, np.zeros(3))
    constant = Value(2.0, requires_grad=False)
    np.testing.assert_array_equal(func.grad(lambda x: constant)(np.ones(2)).data, [0.0, 0.0])
    np.testing.assert_array_equal(func.jacfwd(lambda x: constant * 1.0)(np.ones(2)).data, [0.0, 0.0])
    assert func.jvp(lambda x: constant, (np.ones(2),), (np.ones(2),))[1].item() == 0.0


def test_argnums_kwargs_and_negative_indices():
    f = lambda x, y, scale=1.0: (x * y).sum() * scale
    x, y = point((3,)), point((3,), seed=1)
    gx, gy = func.grad(f, argnums=(0, 1))(x, y, scale=2.0)
    np.testing.assert_allclose(gx.data, 2 * y)
    np.testing.assert_allclose(gy.data, 2 * x)
    np.testing.assert_allclose(func.grad(f, argnums=-1)(x, y).data, x)
    (only,) = func.grad(f, argnums=(1,))(x, y)
    np.testing.assert_allclose(only.data, x)


def test_has_aux():
    x = point((3,))

    def f(v):
        return (v ** 2).sum(), {"doubled": v * 2}

    g, aux = func.grad(f, has_aux=True)(x)
    np.testing.assert_allclose(g.data, 2 * x)
    assert not aux["doubled"].requires_grad
    np.testing.assert_allclose(aux["doubled"].data, 2 * x)
    g, (value, aux) = func.grad_and_value(f, has_aux=True)(x)
    assert np.isclose(value.item(), (x ** 2).sum()) and "doubled" in aux
    output, vjp_fn, aux = func.vjp(f, x, has_aux=True)
    np.testing.assert_allclose(vjp_fn(1.0)[0].data, 2 * x)
    output, jv, aux = func.jvp(f, (x,), (np.ones(3),), has_aux=True)
    assert np.isclose(jv.item(), 2 * x.sum())
    for transform in (func.jacrev, func.jacfwd):
        jacobian, aux = transform(lambda v: (v.sin(), v.sum()), has_aux=True)(x)
        np.testing.assert_allclose(jacobian.data, np.diag(np.cos(x)))
        assert np.isclose(aux.item(), x.sum())


def test_shapes_of_jacobians():
    f = lambda x: x.sum(axis=1)                                             # (2, 3) -> (2,)
    assert func.jacrev(f)(np.ones((2, 3))).shape == (2, 2, 3)
    assert func.jacfwd(f)(np.ones((2, 3))).shape == (2, 2, 3)
    assert func.jacrev(lambda x: x * 2)(1.0).shape == ()
    assert func.jacrev(lambda x: x * 2)(np.ones(0)).shape == (0, 0)
    assert func.jacfwd(lambda x: x.sum())(np.ones(4)).shape == (4,)
    assert func.hessian(lambda x: (x ** 3).sum())(np.ones((2, 2))).shape == (2, 2, 2, 2)


# --- errors, as torch.func raises them -------------------------------------------------
def test_errors():
    x = np.ones(3)
    with pytest.raises(RuntimeError, match=r"scalar Value, got one with 1 dims \(shape \(3,\)\).*jacrev"):
        func.grad(lambda v: v * 2)(x)
    with pytest.raises(RuntimeError, match="return a Value, got"):
        func.grad(lambda v: (v.sum(), v.sum()))(x)
    with pytest.raises(RuntimeError, match=r"should be a tuple: \(output, aux\)"):
        func.grad(lambda v: v.sum(), has_aux=True)(x)
    with pytest.raises(RuntimeError, match="return Values .* got float"):
        func.jacrev(lambda v: 3.0)(x)
    with pytest.raises(RuntimeError, match="argnums must be int or Tuple"):
        func.grad(lambda v: v.sum(), argnums=1.5)(x)
    with pytest.raises(RuntimeError, match="only 1 positional inputs"):
        func.grad(lambda v: v.sum(), argnums=1)(x)
    with pytest.raises(RuntimeError, match="must be unique"):
        func.grad(lambda v, w: v.sum(), argnums=(0, 0))(x, x)
    with pytest.raises(RuntimeError, match="at least one positional argument"):
        func.grad(lambda: Value(1.0))()
    with pytest.raises(TypeError, match="arrays, numbers or Values"):
        func.grad(lambda v: v)("text")
    with pytest.raises(RuntimeError, match="expected primals to be a tuple"):
        func.jvp(lambda v: v, x, x)
    with pytest.raises(RuntimeError, match=r"same structure; got primals \(\*,\) and tangents \(\*, \*\)"):
        func.jvp(lambda v: v, (x,), (x, x))
    with pytest.raises(RuntimeError, match=r"tangent 0 has shape \(2,\) but its primal has shape \(3,\)"):
        func.jvp(lambda v: v, (x,), (np.ones(2),))
    _, vjp_fn = func.vjp(lambda v: (v, v.sum()), x)
    with pytest.raises(RuntimeError, match=r"laid out as the output of f, \(\*, \*\); got \*"):
        vjp_fn(np.ones(3))
    with pytest.raises(RuntimeError, match=r"cotangent 1 has shape \(3,\) but output 1 of f has shape \(\)"):
        vjp_fn((np.ones(3), np.ones(3)))

"""backward() and grad(): accumulation, graph shapes, memory, long chains, grad_outputs."""
import gc
import weakref

import numpy as np
import pytest

from autograd_lite import Value, backward, grad


def test_gradients_accumulate_like_pytorch():
    x = Value([1.0, 2.0])
    (x * x).sum().backward()
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad, 2 * x.data + 3)


def test_diamond_and_reuse_sum_every_path():
    x = Value(2.0)
    a, b = x * 3, x.exp()
    y = a * b + a + x * x
    y.backward()
    np.testing.assert_allclose(x.grad, 3 * np.exp(2) + 6 * np.exp(2) + 3 + 4)
    z = Value(3.0)
    w = z * z * z  # the same value as both inputs of one op
    w.backward()
    np.testing.assert_allclose(z.grad, 27.0)


def test_broadcast_gradient_is_reduced_to_each_input_shape():
    a, b, c = Value(np.ones((2, 3))), Value(np.ones((1, 3))), Value(2.0)
    ((a * b + c) * np.arange(3.0)).sum().backward()
    assert a.grad.shape == (2, 3) and b.grad.shape == (1, 3) and c.grad.shape == ()
    np.testing.assert_allclose(b.grad, [[0.0, 2.0, 4.0]])
    np.testing.assert_allclose(c.grad, 6.0)


def test_leaves_that_do_not_require_grad_get_none():
    x, const = Value([1.0, 2.0]), Value([3.0, 4.0], requires_grad=False)
    (x * const).sum().backward()
    assert const.grad is None and x.grad is not None


def test_backward_with_explicit_grad_for_non_scalar_output():
    x = Value([1.0, 2.0, 3.0])
    (x * x).backward(np.array([1.0, 0.0, 2.0]))
    np.testing.assert_allclose(x.grad, [2.0, 0.0, 12.0])
    x.grad = None
    backward(x * 2, Value([1.0, 1.0, 1.0]))
    np.testing.assert_allclose(x.grad, [2.0, 2.0, 2.0])


def test_retain_graph_allows_a_second_backward():
    x = Value([1.0, 2.0])
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    first = x.grad.copy()
    y.backward()
    np.testing.assert_allclose(x.grad, 2 * first)


def test_a_million_op_chain_does_not_hit_the_recursion_limit():
    x = Value(1.0)
    y = x
    for _ in range(1_000_000):
        y = y * 1.0
    y.backward()
    assert x.grad == 1.0


def test_intermediate_arrays_are_freed_after_backward():
    x = Value(np.ones(1000))

    def loss_and_probes():
        hidden = (x * 2.0).exp()
        squashed = hidden.tanh()
        return (squashed * hidden).sum(), weakref.ref(hidden), weakref.ref(squashed.data)

    loss, hidden_ref, data_ref = loss_and_probes()
    gc.collect()
    assert hidden_ref() is not None and data_ref() is not None  # the graph holds them
    loss.backward()
    gc.collect()
    assert hidden_ref() is None and data_ref() is None
    assert loss.op == "sum" and loss.parents == ()


def test_retained_graph_keeps_intermediates_alive():
    x = Value(np.ones(10))
    hidden = x.exp()
    probe = weakref.ref(hidden)
    loss = hidden.sum()
    del hidden
    loss.backward(retain_graph=True)
    gc.collect()
    assert probe() is not None


def test_grad_returns_values_and_leaves_dot_grad_alone():
    x, y = Value([1.0, 2.0]), Value(3.0)
    out = (x * y).sum()
    gx, gy = grad(out, [x, y])
    assert isinstance(gx, Value) and not gx.requires_grad
    np.testing.assert_allclose(gx.data, [3.0, 3.0])
    np.testing.assert_allclose(gy.data, 3.0)
    assert x.grad is None and y.grad is None
    assert grad(x.sum() * 2, x)[0].shape == (2,)  # a single input is fine too


def test_grad_of_an_intermediate_value_and_of_a_repeated_input():
    x = Value(2.0)
    h = x * x
    out = h.exp()
    (gh,) = grad(out, [h], retain_graph=True)
    np.testing.assert_allclose(gh.data, np.exp(4.0))
    g1, g2 = grad(out, [x, x])
    np.testing.assert_allclose([g1.item(), g2.item()], [4 * np.exp(4.0)] * 2)


def test_grad_allow_unused_gives_none():
    x, unused = Value(1.0), Value(2.0)
    gx, gu = grad(x * 3, [x, unused], allow_unused=True)
    assert gx.item() == 3.0 and gu is None
    # an output that does not require grad is refused even then, as in PyTorch
    with pytest.raises(RuntimeError, match="output 0 .*does not require grad"):
        grad(Value(1.0, requires_grad=False) * 2, [x], allow_unused=True)


def test_grad_outputs_weight_each_output():
    x = Value([1.0, 2.0])
    (gx,) = grad(x * x, [x], grad_outputs=np.array([10.0, 1.0]))
    np.testing.assert_allclose(gx.data, [20.0, 4.0])
    a, b = x.sum(), (x * 3).sum()
    (gx,) = grad([a, b], [x], grad_outputs=[np.array(1.0), np.array(2.0)], retain_graph=True)
    np.testing.assert_allclose(gx.data, [7.0, 7.0])
    (gx,) = grad([a, b], [x])  # scalar outputs default to ones
    np.testing.assert_allclose(gx.data, [4.0, 4.0])


def test_grad_without_retain_graph_frees_it():
    x = Value(1.0)
    y = x.exp() * 2
    grad(y, [x])
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        grad(y, [x])


def test_leaf_backward_and_gradient_dtype():
    x = Value(3.0, dtype=np.float32)
    x.backward()
    assert x.grad == 1.0 and x.grad.dtype == np.float32


def test_value_subclass_works_as_a_leaf():
    class Parameter(Value):
        pass

    p = Parameter([1.0, 2.0])
    (p * p).sum().backward()
    np.testing.assert_allclose(p.grad, [2.0, 4.0])

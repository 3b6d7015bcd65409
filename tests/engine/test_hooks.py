"""`Value.register_hook`: PyTorch's gradient hooks, checked against PyTorch where installed."""
import gc
import weakref

import numpy as np
import pytest

from autograd_lite import Value, grad
from autograd_lite import hooks as hook_table


def test_a_leaf_hook_sees_the_whole_gradient_and_its_result_goes_into_grad():
    x = Value([1.0, 2.0])
    seen = []
    x.register_hook(lambda g: seen.append(np.array(g)))
    x.register_hook(lambda g: g * 2)  # runs second, on the first hook's result
    (x * x).sum().backward()
    np.testing.assert_array_equal(seen[0], [2.0, 4.0])
    np.testing.assert_array_equal(x.grad, [4.0, 8.0])


def test_a_hook_on_a_computed_value_changes_what_flows_on_and_runs_once():
    x = Value([1.0, 2.0])
    z = x * 3
    calls = []
    z.register_hook(lambda g: calls.append(1) or g * 10)
    (z.sum() + (z * z).sum()).backward()  # z used twice: its hook sees the summed gradient once
    assert calls == [1]
    np.testing.assert_allclose(x.grad, 3 * 10 * (1 + 2 * 3 * x.data))


def test_remove_takes_the_hook_off_and_grad_runs_hooks_too():
    x = Value([1.0, 2.0])
    handle = x.register_hook(lambda g: -g)
    (g,) = grad((x * x).sum(), x)
    np.testing.assert_array_equal(g.data, [-2.0, -4.0])
    handle.remove()
    handle.remove()  # twice is harmless
    (g,) = grad((x * x).sum(), x)
    np.testing.assert_array_equal(g.data, [2.0, 4.0])


def test_hooks_match_pytorch():
    torch = pytest.importorskip("torch")
    data = np.array([[0.5, -1.0], [2.0, 0.25]])
    x, t = Value(data), torch.tensor(data, requires_grad=True)
    for v, tanh in ((x, lambda a: a.tanh()), (t, torch.tanh)):
        h = tanh(v * 2)
        h.register_hook(lambda g: g * 3)
        v.register_hook(lambda g: g + 1)
        (h * h).sum().backward()
    np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=1e-12)


def test_bad_hooks_and_values_are_refused_and_entries_go_with_their_value():
    with pytest.raises(RuntimeError, match="does not require grad"):
        Value([1.0], requires_grad=False).register_hook(lambda g: g)
    with pytest.raises(TypeError, match="expected a function"):
        Value([1.0]).register_hook(3)
    x = Value([1.0, 2.0])
    x.register_hook(lambda g: g[:1])
    with pytest.raises(ValueError, match=r"hook returned a gradient of shape \(1,\) for a value of shape \(2,\)"):
        (x * 2).sum().backward()
    key, gone = id(x), weakref.ref(x)
    del x
    gc.collect()
    assert gone() is None and key not in hook_table.registered

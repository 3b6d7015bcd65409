"""no_grad / enable_grad / set_grad_enabled: context managers, decorators, nesting, threads."""
import threading

import numpy as np
import pytest

from autograd_lite import Value, enable_grad, is_grad_enabled, no_grad, set_grad_enabled


def test_nothing_is_recorded_under_no_grad():
    x = Value([1.0, 2.0])
    with no_grad():
        assert not is_grad_enabled()
        y = (x * 2).exp()
    assert is_grad_enabled()
    assert not y.requires_grad and y.is_leaf and y.op == ""
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.sum().backward()


def test_nesting_restores_each_outer_mode():
    x = Value(1.0)
    with no_grad():
        with enable_grad():
            assert is_grad_enabled()
            assert (x * 2).requires_grad
            with no_grad():
                assert not (x * 2).requires_grad
            assert is_grad_enabled()
        assert not is_grad_enabled()
    assert is_grad_enabled()


def test_mode_is_restored_after_an_exception():
    with pytest.raises(ZeroDivisionError):
        with no_grad():
            1 / 0
    assert is_grad_enabled()


def test_decorators_with_and_without_parentheses():
    @no_grad()
    def a():
        return is_grad_enabled()

    @no_grad
    def b():
        return is_grad_enabled()

    @enable_grad
    def c():
        return is_grad_enabled()

    @set_grad_enabled(False)
    def d():
        return is_grad_enabled()

    assert is_grad_enabled()  # decorating changes nothing
    assert (a(), b(), d()) == (False, False, False)
    with no_grad():
        assert c() is True
        assert not is_grad_enabled()
    assert a.__name__ == "a" and b.__name__ == "b"


def test_set_grad_enabled_as_context_and_as_function():
    with set_grad_enabled(False):
        assert not is_grad_enabled()
        with set_grad_enabled(True):
            assert is_grad_enabled()
        assert not is_grad_enabled()
    assert is_grad_enabled()
    try:
        set_grad_enabled(False)  # like torch: a plain call switches the mode
        assert not is_grad_enabled()
    finally:
        set_grad_enabled(True)
    assert is_grad_enabled()


def test_grad_mode_is_per_thread():
    inside = threading.Event()
    release = threading.Event()
    seen = {}

    def evaluate():
        with no_grad():
            inside.set()
            assert release.wait(120)
            seen["worker"] = is_grad_enabled()

    def train():
        seen["fresh thread"] = is_grad_enabled()

    worker = threading.Thread(target=evaluate)
    worker.start()
    assert inside.wait(120)
    x = Value([1.0, 2.0])
    y = (x * x).sum()  # the worker's no_grad must not reach this thread
    other = threading.Thread(target=train)
    other.start()
    other.join()
    release.set()
    worker.join()
    assert y.requires_grad and is_grad_enabled()
    assert seen == {"worker": False, "fresh thread": True}
    y.backward()
    np.testing.assert_allclose(x.grad, [2.0, 4.0])

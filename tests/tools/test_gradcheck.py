"""gradcheck, gradgradcheck, numerical_grad: pass on right gradients, pinpoint wrong ones."""
import numpy as np
import pytest

from autograd_lite import (GradcheckError, Value, default_generator, gradcheck, gradgradcheck,
                           manual_seed, numerical_grad)
from autograd_lite.ops import primitive

# a deliberately wrong primitive: cube with the derivative 3x (should be 3x^2)
wrong_cube = primitive("wrong_cube", lambda x: x ** 3, lambda g, ans, x: g * 3 * x)
# right first derivative, wrong second: the vjp's own derivative is dropped
right_then_wrong = primitive("square_detached", lambda x: x ** 2,
                             lambda g, ans, x: g * 2 * (x.data if isinstance(x, Value) else x))


def test_passes_on_correct_functions_with_several_inputs_and_outputs():
    a, b = Value([[1.0, 2.0], [3.0, 4.0]]), Value([0.5, -1.0])
    assert gradcheck(lambda a, b: ((a @ b).tanh(), (a * b).exp().sum()), [a, b])
    assert gradgradcheck(lambda a, b: (a @ b).tanh(), [a, b])
    assert gradcheck(lambda a, c: a * c, [a, np.ones(2)])  # non-Value inputs are left alone


def test_fails_naming_input_element_and_both_values():
    x = Value([1.0, 2.0, 3.0], name="x")
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda a, v: a + wrong_cube(v), [Value(0.0), x])
    message = str(info.value)
    assert "input 1 ('x') of shape (3,)" in message
    assert "at input element (1,), output element (1,)" in message
    assert "numerical 12" in message and "analytic 6" in message
    assert "2 of 9 entries differ" in message  # x = 1 happens to be right: 3x == 3x^2
    assert gradcheck(wrong_cube, [x], raise_exception=False) is False


def test_gradgradcheck_catches_a_wrong_second_derivative():
    x = Value([1.0, 2.0])
    assert gradcheck(right_then_wrong, [x])
    with pytest.raises(GradcheckError, match=r"numerical 2, analytic 0"):
        gradgradcheck(right_then_wrong, [x], grad_outputs=[np.ones(2)])
    assert gradgradcheck(right_then_wrong, [x], raise_exception=False) is False


def test_float32_inputs_are_checked_in_float64():
    x = Value(np.array([0.3, 0.7], dtype=np.float32))
    assert gradcheck(lambda v: (v * 1e3).sin(), [x])
    assert x.dtype == np.float32  # the caller's value is untouched


def test_numerical_grad_for_one_or_several_inputs():
    g = numerical_grad(lambda v: (v ** 3).sum(), Value([1.0, 2.0]))
    np.testing.assert_allclose(g, [3.0, 12.0], rtol=1e-8)
    ga, gb = numerical_grad(lambda a, b: (a * b).sum(), [Value([1.0, 2.0]), Value([3.0, 4.0])])
    np.testing.assert_allclose(ga, [3.0, 4.0], rtol=1e-8)
    np.testing.assert_allclose(gb, [1.0, 2.0], rtol=1e-8)
    np.testing.assert_allclose(numerical_grad(lambda v: v.sum(), [np.ones(2)])[0], [1.0, 1.0])


def test_manual_seed_makes_the_library_generator_reproducible():
    manual_seed(3)
    first = default_generator().standard_normal(4)
    assert gradgradcheck(lambda v: v.exp() * v, [Value([0.1, 0.2])])  # draws grad_outputs
    manual_seed(3)
    np.testing.assert_array_equal(default_generator().standard_normal(4), first)
    assert manual_seed(4) is default_generator()


def test_finite_differences_of_an_input_that_is_not_c_contiguous():
    z = np.arange(6.0).reshape(2, 3)
    x = Value(z.T)  # a transposed (Fortran-ordered) array
    assert not x.data.flags.c_contiguous
    assert gradcheck(lambda v: (v * v).sum(), (x,))
    np.testing.assert_allclose(numerical_grad(lambda v: (v * v).sum(), x), 2 * z.T, rtol=1e-6)

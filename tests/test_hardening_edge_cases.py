"""Edge cases the hardening pass found: empty inputs, non-integer sizes, NaN scores."""
import numpy as np
import pytest

import nn
from autograd_lite import Value, concatenate, max_pool2d, stack


def test_logsumexp_of_nothing_is_minus_infinity_like_pytorch():
    x = Value(np.ones(0))
    out = x.logsumexp()
    assert out.item() == -np.inf
    out.backward()
    assert x.grad.shape == (0,)
    np.testing.assert_array_equal(Value(np.ones((2, 0))).logsumexp(axis=1).data, [-np.inf, -np.inf])


@pytest.mark.parametrize("join", [concatenate, stack])
def test_joining_nothing_names_the_op(join):
    with pytest.raises(ValueError, match=rf"{join.__name__}: expected at least one value"):
        join([])


def test_a_float_kernel_size_is_a_clear_error():
    with pytest.raises(ValueError, match=r"max_pool2d: kernel_size must be an int or a pair of "
                                         r"ints, got 2.0"):
        max_pool2d(Value(np.ones((1, 1, 4, 4))), 2.0)
    with pytest.raises(ValueError, match=r"Conv2d: kernel_size must be an int or a pair of ints"):
        nn.Conv2d(1, 1, kernel_size=3.0)


def test_r2_of_nan_predictions_is_nan_even_for_constant_targets():
    # nn/training.py: NaN predictions against constant targets scored 0.0, hiding the NaN
    assert np.isnan(nn.r2_score(np.array([[np.nan], [1.0]]), np.array([[1.0], [1.0]])))
    assert np.isnan(nn.r2_score(np.array([[np.nan], [1.0]]), np.array([[1.0], [2.0]])))

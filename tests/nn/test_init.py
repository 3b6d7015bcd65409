"""nn.init: bounds and standard deviations of each scheme, fans, gains, reproducibility."""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import nn
from autograd_lite import Value, manual_seed
from nn import init


def parameter(*shape):
    return nn.Parameter(np.zeros(shape))


def test_fans_count_the_receptive_field():
    assert init._calculate_fan_in_and_fan_out(parameter(30, 20)) == (20, 30)
    assert init._calculate_fan_in_and_fan_out(parameter(8, 3, 5, 5)) == (75, 200)
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(parameter(5))


def test_gains():
    assert init.calculate_gain("linear") == init.calculate_gain("sigmoid") == 1.0
    assert init.calculate_gain("conv2d") == 1.0
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01 ** 2)))
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    with pytest.raises(ValueError, match="unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")


def test_xavier_uniform_bound_and_std():
    w = init.xavier_uniform_(parameter(400, 600), generator=np.random.default_rng(0))
    bound = math.sqrt(6 / 1000)
    assert np.abs(w.data).max() <= bound and np.abs(w.data).max() > 0.99 * bound
    assert w.data.std() == pytest.approx(bound / math.sqrt(3), rel=0.01)
    tanh = init.xavier_uniform_(parameter(400, 600), gain=5 / 3, generator=np.random.default_rng(0))
    np.testing.assert_allclose(tanh.data, w.data * 5 / 3)


def test_xavier_normal_std():
    w = init.xavier_normal_(parameter(400, 600), generator=np.random.default_rng(0))
    assert w.data.std() == pytest.approx(math.sqrt(2 / 1000), rel=0.01)
    assert abs(w.data.mean()) < 0.001


def test_kaiming_uniform_and_normal():
    rng = np.random.default_rng(0)
    w = init.kaiming_uniform_(parameter(300, 500), nonlinearity="relu", generator=rng)
    bound = math.sqrt(2) * math.sqrt(3 / 500)
    assert np.abs(w.data).max() <= bound and np.abs(w.data).max() > 0.99 * bound
    w = init.kaiming_normal_(parameter(300, 500), mode="fan_out", nonlinearity="relu", generator=rng)
    assert w.data.std() == pytest.approx(math.sqrt(2 / 300), rel=0.01)
    conv = init.kaiming_normal_(parameter(64, 16, 3, 3), generator=rng)  # leaky_relu, a=0
    assert conv.data.std() == pytest.approx(math.sqrt(2 / 144), rel=0.02)
    # PyTorch's default layer init: a = sqrt(5) gives U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    default = init.kaiming_uniform_(parameter(300, 500), a=math.sqrt(5), generator=rng)
    assert np.abs(default.data).max() == pytest.approx(1 / math.sqrt(500), rel=0.01)
    with pytest.raises(ValueError, match="mode must be 'fan_in' or 'fan_out'"):
        init.kaiming_uniform_(parameter(3, 3), mode="fan_avg")


def test_simple_fills_and_uniform_normal():
    rng = np.random.default_rng(0)
    assert np.all(init.zeros_(parameter(2, 3)).data == 0)
    assert np.all(init.ones_(parameter(2, 3)).data == 1)
    assert np.all(init.constant_(parameter(4), 0.25).data == 0.25)
    u = init.uniform_(parameter(10000), -2.0, 3.0, generator=rng).data
    assert u.min() >= -2 and u.max() < 3 and u.mean() == pytest.approx(0.5, abs=0.05)
    n = init.normal_(parameter(10000), 1.0, 0.5, generator=rng).data
    assert n.mean() == pytest.approx(1.0, abs=0.02) and n.std() == pytest.approx(0.5, rel=0.03)


@given(st.sampled_from([init.uniform_, init.normal_, init.xavier_uniform_, init.xavier_normal_,
                        init.kaiming_uniform_, init.kaiming_normal_]),
       st.integers(0, 2 ** 32 - 1))
def test_seeded_generator_is_reproducible(scheme, seed):
    first = scheme(parameter(4, 5), generator=np.random.default_rng(seed)).data
    second = scheme(parameter(4, 5), generator=np.random.default_rng(seed)).data
    np.testing.assert_array_equal(first, second)


def test_default_generator_follows_manual_seed():
    manual_seed(11)
    first = init.normal_(parameter(3, 3)).data
    manual_seed(11)
    np.testing.assert_array_equal(init.normal_(parameter(3, 3)).data, first)


def test_in_place_semantics():
    w = parameter(3, 2)
    version = w._version
    assert init.ones_(w) is w and w._version == version + 1  # through .data: version moves
    low = nn.Parameter(np.zeros((3, 2), dtype=np.float32))
    assert init.xavier_normal_(low).dtype == np.float32
    array = np.zeros((3, 2))
    assert init.constant_(array, 2.0) is array and np.all(array == 2.0)
    with pytest.raises(TypeError, match="expected a Value/Parameter or a numpy array"):
        init.zeros_([1.0, 2.0])
    graph_input = Value(np.ones((2, 2)))
    stale = (graph_input * graph_input).sum()
    init.zeros_(graph_input)
    with pytest.raises(RuntimeError, match="modified in place"):
        stale.backward()

"""The same layers in PyTorch, with copied weights, give the same outputs and gradients.

State-dict keys are compared with the equivalent torch model's, and torch's
state dict is loaded into ours, so weights move one-to-one between the two.
Skipped cleanly without torch.
"""
import math

import numpy as np
import pytest

import nn
from autograd_lite import Value
from nn import init

torch = pytest.importorskip("torch", exc_type=ImportError)  # absent or broken: skip


def to_numpy_state(module):
    return {key: value.detach().numpy() for key, value in module.state_dict().items()}


def run_both(ours, theirs, x, *extra, copy_weights=True):
    """Copy theirs' weights into ours, run both on x, backprop sum(outputs * fixed weights).

    Everything runs in float64, and parameter, extra-input and input gradients must agree.
    """
    theirs.double()
    if copy_weights:
        ours.load_state_dict(to_numpy_state(theirs))
    x_ours, x_theirs = Value(x), torch.tensor(x, requires_grad=True)
    extra_ours = [Value(e) for e in extra]
    extra_theirs = [torch.tensor(e, requires_grad=True) for e in extra]
    out_ours, out_theirs = ours(x_ours, *extra_ours), theirs(x_theirs, *extra_theirs)
    if not isinstance(out_ours, tuple):
        out_ours, out_theirs = (out_ours,), (out_theirs,)
    rng = np.random.default_rng(123)
    weights = [rng.normal(size=o.shape) for o in out_ours]
    sum(((o * w).sum() for o, w in zip(out_ours, weights)), Value(0.0)).backward()
    sum((o * torch.tensor(w)).sum() for o, w in zip(out_theirs, weights)).backward()
    assert len(list(ours.parameters())) == len(list(theirs.parameters()))
    for (name, p), (torch_name, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert name == torch_name
        np.testing.assert_allclose(p.grad, tp.grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=name)
    for ours_e, theirs_e in zip(extra_ours, extra_theirs):
        np.testing.assert_allclose(ours_e.grad, theirs_e.grad.numpy(), rtol=1e-9, atol=1e-12)
    for o, t in zip(out_ours, out_theirs):
        np.testing.assert_allclose(o.data, t.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(x_ours.grad, x_theirs.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_linear(rng):
    run_both(nn.Linear(3, 4), torch.nn.Linear(3, 4), rng.normal(size=(5, 3)))
    run_both(nn.Linear(3, 2, bias=False), torch.nn.Linear(3, 2, bias=False), rng.normal(size=(2, 4, 3)))


@pytest.mark.parametrize("stride, padding", [(1, 0), (2, 1), ((1, 2), (2, 0))])
def test_conv2d(rng, stride, padding):
    run_both(nn.Conv2d(2, 3, (3, 2), stride=stride, padding=padding),
             torch.nn.Conv2d(2, 3, (3, 2), stride=stride, padding=padding),
             rng.normal(size=(2, 2, 7, 6)))


@pytest.mark.parametrize("kernel_size, stride", [(2, None), (3, 1), (3, 2)])
def test_maxpool2d_distinct_values(rng, kernel_size, stride):
    x = rng.permutation(2 * 3 * 7 * 6).reshape(2, 3, 7, 6) / 7.0
    run_both(nn.MaxPool2d(kernel_size, stride), torch.nn.MaxPool2d(kernel_size, stride), x)


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5)])
def test_batchnorm1d_train_steps_then_eval(rng, shape):
    ours, theirs = nn.BatchNorm1d(3, momentum=0.3), torch.nn.BatchNorm1d(3, momentum=0.3).double()
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(rng.normal(size=3)))
        theirs.bias.copy_(torch.tensor(rng.normal(size=3)))
    ours.load_state_dict(to_numpy_state(theirs))
    for _ in range(3):  # several batches move the running statistics the same way
        ours.zero_grad()
        theirs.zero_grad()
        run_both(ours, theirs, rng.normal(1.0, 2.0, size=shape), copy_weights=False)
    ours_state = ours.state_dict()
    for key, value in to_numpy_state(theirs).items():
        np.testing.assert_allclose(ours_state[key], value, rtol=1e-12, err_msg=key)
    ours.eval()
    theirs.eval()
    run_both(ours, theirs, rng.normal(size=shape))


def test_batchnorm1d_cumulative_average(rng):
    ours, theirs = nn.BatchNorm1d(2, momentum=None), torch.nn.BatchNorm1d(2, momentum=None).double()
    for _ in range(3):
        x = rng.normal(size=(5, 2))
        ours(x)
        theirs(torch.tensor(x))
    for key, value in to_numpy_state(theirs).items():
        np.testing.assert_allclose(ours.state_dict()[key], value, rtol=1e-12, err_msg=key)


@pytest.mark.parametrize("num_layers, nonlinearity, batch_first", [
    (1, "tanh", False), (2, "tanh", True), (2, "relu", False)])
def test_rnn(rng, num_layers, nonlinearity, batch_first):
    ours = nn.RNN(3, 4, num_layers=num_layers, nonlinearity=nonlinearity, batch_first=batch_first)
    theirs = torch.nn.RNN(3, 4, num_layers=num_layers, nonlinearity=nonlinearity,
                          batch_first=batch_first)
    x = rng.normal(size=(2, 5, 3) if batch_first else (5, 2, 3))
    run_both(ours, theirs, x, rng.normal(size=(num_layers, 2, 4)))
    ours.zero_grad()
    theirs.zero_grad()
    run_both(ours, theirs, x)  # h0 = zeros


def test_rnn_unbatched(rng):
    run_both(nn.RNN(3, 4), torch.nn.RNN(3, 4), rng.normal(size=(6, 3)))


@pytest.mark.parametrize("ours, theirs", [
    (nn.Tanh(), torch.nn.Tanh()), (nn.Sigmoid(), torch.nn.Sigmoid()), (nn.ReLU(), torch.nn.ReLU()),
    (nn.LeakyReLU(0.1), torch.nn.LeakyReLU(0.1)), (nn.Identity(), torch.nn.Identity()),
    (nn.Flatten(), torch.nn.Flatten()), (nn.Flatten(0, 2), torch.nn.Flatten(0, 2))])
def test_parameter_free_modules(rng, ours, theirs):
    run_both(ours, theirs, rng.normal(size=(2, 3, 2, 2)) * 3)


def test_state_dict_keys_map_one_to_one():
    pairs = [
        (nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1)),
         torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1))),
        (nn.MLP([2, 4, 4, 1], activation="sigmoid", output_activation="sigmoid"),
         torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.Sigmoid(), torch.nn.Linear(4, 4),
                             torch.nn.Sigmoid(), torch.nn.Linear(4, 1), torch.nn.Sigmoid())),
        (nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm1d(4), nn.ReLU(),
                       nn.MaxPool2d(2), nn.Flatten(), nn.Dropout(0.2), nn.Linear(64, 10)),
         torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.BatchNorm1d(4),
                             torch.nn.ReLU(), torch.nn.MaxPool2d(2), torch.nn.Flatten(),
                             torch.nn.Dropout(0.2), torch.nn.Linear(64, 10))),
        (nn.RNN(3, 5, num_layers=2), torch.nn.RNN(3, 5, num_layers=2)),
    ]
    for ours, theirs in pairs:
        theirs_state = to_numpy_state(theirs)
        assert list(ours.state_dict()) == list(theirs_state)
        assert [(k, v.shape) for k, v in ours.state_dict().items()] == \
               [(k, v.shape) for k, v in theirs_state.items()]
        ours.load_state_dict(theirs_state)  # strict: every key and shape must agree
        assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]


def test_mlp_matches_torch_sequential(rng):
    ours = nn.MLP([2, 5, 3], activation="relu", output_activation="sigmoid")
    theirs = torch.nn.Sequential(torch.nn.Linear(2, 5), torch.nn.ReLU(), torch.nn.Linear(5, 3),
                                 torch.nn.Sigmoid())
    run_both(ours, theirs, rng.normal(size=(6, 2)))


def test_init_formulas_match_torch():
    for name in ["linear", "conv2d", "sigmoid", "tanh", "relu", "leaky_relu", "selu"]:
        assert init.calculate_gain(name) == pytest.approx(torch.nn.init.calculate_gain(name))
    assert init.calculate_gain("leaky_relu", 0.3) == pytest.approx(
        torch.nn.init.calculate_gain("leaky_relu", 0.3))
    for shape in [(7, 3), (8, 3, 5, 5), (4, 2, 3)]:
        ours = init._calculate_fan_in_and_fan_out(nn.Parameter(np.zeros(shape)))
        assert ours == torch.nn.init._calculate_fan_in_and_fan_out(torch.zeros(shape))
    # the default Linear/Conv init: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights and biases
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    for ours, theirs, fan_in in [(nn.Linear(40, 300, rng=rng), torch.nn.Linear(40, 300), 40),
                                 (nn.Conv2d(3, 200, 5, rng=rng), torch.nn.Conv2d(3, 200, 5), 75)]:
        bound = 1 / math.sqrt(fan_in)
        for p, tp in zip(ours.parameters(), theirs.parameters()):
            for largest in (np.abs(p.data).max(), tp.detach().abs().max().item()):
                assert 0.95 * bound < largest <= bound


def test_a_layer_used_twice_appears_under_both_names_like_pytorch():
    shared, theirs_shared = nn.Linear(3, 3), torch.nn.Linear(3, 3)
    ours = nn.Sequential(shared, nn.Tanh(), shared)
    theirs = torch.nn.Sequential(theirs_shared, torch.nn.Tanh(), theirs_shared)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    np.testing.assert_array_equal(shared.weight.data, theirs_shared.weight.detach().numpy())
    assert len(list(ours.parameters())) == 2  # parameters() still lists each once

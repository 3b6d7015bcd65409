"""Optimizers: closed-form steps on a quadratic, torch parity over several steps, state dicts, errors."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import nn
from autograd_lite import Value


def quadratic_step(opt, x, target):
    """One optimizer step on f(x) = sum((x - target)²) / 2, whose gradient is x - target."""
    opt.zero_grad()
    (((x - target) ** 2).sum() / 2).backward()
    opt.step()


def test_sgd_is_p_minus_lr_grad():
    x = Value([1.0, -2.0])
    opt = nn.SGD([x], lr=0.1)
    quadratic_step(opt, x, np.zeros(2))
    np.testing.assert_allclose(x.data, [0.9, -1.8])


def test_sgd_momentum_first_two_steps_by_hand():
    x = Value([1.0])
    opt = nn.SGD([x], lr=0.1, momentum=0.9, dampening=0.5, weight_decay=0.2)
    quadratic_step(opt, x, np.zeros(1))
    g1 = 1.0 + 0.2 * 1.0              # grad + weight decay
    b1 = g1                           # first step: the buffer is the gradient
    x1 = 1.0 - 0.1 * b1
    np.testing.assert_allclose(x.data, [x1])
    quadratic_step(opt, x, np.zeros(1))
    g2 = x1 + 0.2 * x1
    b2 = 0.9 * b1 + (1 - 0.5) * g2    # momentum * b + (1 - dampening) * g
    np.testing.assert_allclose(x.data, [x1 - 0.1 * b2])


def test_sgd_nesterov_by_hand():
    x = Value([2.0])
    opt = nn.SGD([x], lr=0.1, momentum=0.5, nesterov=True)
    quadratic_step(opt, x, np.zeros(1))
    x1 = 2.0 - 0.1 * (2.0 + 0.5 * 2.0)
    quadratic_step(opt, x, np.zeros(1))
    b2 = 0.5 * 2.0 + x1
    np.testing.assert_allclose(x.data, [x1 - 0.1 * (x1 + 0.5 * b2)])


@pytest.mark.parametrize("make", [lambda p: nn.Adam(p, lr=0.1),
                                  lambda p: nn.AdamW(p, lr=0.1, weight_decay=0)])
def test_adam_first_step_is_lr_times_sign_of_gradient(make):
    g = np.array([3.0, -1e-3, 50.0])  # the gradient of the quadratic at x = g
    x = Value(g)
    quadratic_step(make([x]), x, np.zeros(3))
    np.testing.assert_allclose(x.data, g - 0.1 * g / (np.abs(g) + 1e-8), rtol=1e-14)
    np.testing.assert_allclose(x.data, g - 0.1 * np.sign(g), rtol=1e-4)


def test_adam_second_step_by_hand():
    x = Value([1.0])
    opt = nn.Adam([x], lr=0.1, betas=(0.5, 0.75), eps=0.0)
    quadratic_step(opt, x, np.zeros(1))
    x1 = 0.9
    quadratic_step(opt, x, np.zeros(1))
    m = 0.5 * (0.5 * 1.0) + 0.5 * x1
    v = 0.75 * (0.25 * 1.0) + 0.25 * x1 ** 2
    m_hat, v_hat = m / (1 - 0.5 ** 2), v / (1 - 0.75 ** 2)
    np.testing.assert_allclose(x.data, [x1 - 0.1 * m_hat / np.sqrt(v_hat)])


def test_adamw_decays_the_parameter_not_the_gradient():
    x = Value([2.0])
    opt = nn.AdamW([x], lr=0.1, weight_decay=0.5)
    quadratic_step(opt, x, np.array([2.0]))  # zero gradient: Adam moves nothing, only the decay acts
    np.testing.assert_allclose(x.data, [2.0 * (1 - 0.1 * 0.5)])


def test_rmsprop_first_step_by_hand():
    x = Value([2.0])
    opt = nn.RMSprop([x], lr=0.01, alpha=0.9, eps=0.0)
    quadratic_step(opt, x, np.zeros(1))
    np.testing.assert_allclose(x.data, [2.0 - 0.01 * 2.0 / np.sqrt(0.1 * 4.0)])


@pytest.mark.parametrize("make", [
    lambda p: nn.SGD(p, lr=0.1, momentum=0.9),
    lambda p: nn.RMSprop(p, lr=0.05),
    lambda p: nn.Adam(p, lr=0.2),
    lambda p: nn.AdamW(p, lr=0.2, weight_decay=0.0),
])
def test_optimizers_minimize_a_quadratic(make):
    x, target = Value([5.0, -3.0]), np.array([1.0, 2.0])
    opt = make([x])
    for _ in range(300):
        quadratic_step(opt, x, target)
    np.testing.assert_allclose(x.data, target, atol=1e-2)


# --- behaviour that every optimizer shares --------------------------------------------
ALL = [lambda p: nn.SGD(p, lr=0.1, momentum=0.9), lambda p: nn.RMSprop(p, momentum=0.5),
       lambda p: nn.Adam(p, amsgrad=True), lambda p: nn.AdamW(p)]


@pytest.mark.parametrize("make", ALL)
def test_float32_stays_float32_and_version_bumps(make):
    x = Value(np.ones(3, dtype=np.float32))
    opt = make([x])
    version = x._version
    quadratic_step(opt, x, np.zeros(3))
    assert x.dtype == np.float32
    assert x._version > version
    assert all(a.dtype == np.float32 for a in opt.state_dict().values()
               if a.ndim and a.shape == x.shape)


def test_step_refuses_a_graph_built_before_it():
    x = Value([1.0, 2.0])
    loss = (x * x).sum()
    loss.backward(retain_graph=True)
    nn.SGD([x], lr=0.1).step()
    with pytest.raises(RuntimeError):
        loss.backward()


@pytest.mark.parametrize("make", ALL)
def test_parameters_without_gradient_are_skipped(make):
    used, unused = Value([1.0]), Value([7.0])
    opt = make([used, unused])
    quadratic_step(opt, used, np.zeros(1))
    assert unused.data.tolist() == [7.0] and unused not in opt.state
    assert used.data.tolist() != [1.0]


@pytest.mark.parametrize("make", ALL)
def test_step_before_backward_is_a_clear_error(make):
    opt = make([Value([1.0])])
    with pytest.raises(RuntimeError, match=r"step\(\): none of this optimizer's 1 parameter has "
                                           r"a gradient .*step\(\) called before backward\(\)"):
        opt.step()


@pytest.mark.parametrize("make", ALL)
def test_step_after_backward_of_another_model_says_so(make):
    model, other = nn.Linear(2, 3), nn.Linear(2, 3)
    opt = make(model.parameters())
    nn.mse_loss(other(np.ones((1, 2))), np.zeros((1, 3))).backward()  # the wrong model
    with pytest.raises(RuntimeError, match=r"none of this optimizer's 2 parameters has a gradient"
                                           r".*they may belong to another model; check that the "
                                           r"optimizer was built from the same model's "
                                           r"parameters\(\)"):
        opt.step()


def test_zero_grad_sets_none_or_zeros():
    x = Value([1.0, 2.0])
    (x * x).sum().backward()
    opt = nn.SGD([x], lr=0.1)
    opt.zero_grad(set_to_none=False)
    assert x.grad.tolist() == [0.0, 0.0]
    opt.zero_grad()
    assert x.grad is None


def test_closure_is_called_and_its_loss_returned():
    x = Value([3.0])
    opt = nn.SGD([x], lr=0.5)

    def closure():
        opt.zero_grad()
        loss = (x * x).sum()
        loss.backward()
        return loss

    assert opt.step(closure).item() == 9.0
    assert x.data.tolist() == [0.0]


def test_parameter_groups_have_their_own_hyperparameters():
    a, b = Value([1.0]), Value([1.0])
    opt = nn.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1, momentum=0.0)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    opt.zero_grad()
    (a + b).sum().backward()
    opt.step()
    np.testing.assert_allclose([a.item(), b.item()], [0.9, 0.5])


def test_invalid_arguments_are_clear_errors():
    x = Value([1.0])
    with pytest.raises(TypeError, match="iterable of Values.*model.parameters"):
        nn.SGD(x, lr=0.1)
    with pytest.raises(TypeError, match=r"pass model.parameters\(\), not the model itself "
                                        r"\(Sequential\)"):
        nn.Adam(nn.Sequential(nn.Linear(2, 1)))
    with pytest.raises(ValueError, match="empty parameter list"):
        nn.Adam([])
    with pytest.raises(TypeError, match="can only optimize Values"):
        nn.SGD([np.ones(2)], lr=0.1)
    with pytest.raises(ValueError, match="non-leaf Value"):
        nn.SGD([x * 2], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        nn.SGD([x, x], lr=0.1)
    with pytest.raises(ValueError, match="invalid lr -1"):
        nn.SGD([x], lr=-1)
    with pytest.raises(ValueError, match="invalid beta parameter at index 1: 1.0"):
        nn.Adam([x], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="Nesterov momentum requires"):
        nn.SGD([x], lr=0.1, nesterov=True)


# --- state dicts ------------------------------------------------------------------------
@pytest.mark.parametrize("make", ALL + [lambda p: nn.RMSprop(p, centered=True)])
def test_state_dict_round_trip_continues_identically(make, tmp_path, rng):
    start, target = rng.normal(size=(2, 3)), rng.normal(size=(2, 3))
    x, y = Value(start), Value(start)
    first = make([x])
    for _ in range(3):
        quadratic_step(first, x, target)
    nn.save(first.state_dict(), tmp_path / "opt.npz")  # numbers and arrays only
    y.data = x.data.copy()
    second = make([y])
    second.load_state_dict(nn.load(tmp_path / "opt.npz"))
    for _ in range(4):
        quadratic_step(first, x, target)
        quadratic_step(second, y, target)
    np.testing.assert_array_equal(x.data, y.data)


def test_state_dict_format_and_restored_types():
    a, b = Value(np.ones(2)), Value(np.ones(3))
    opt = nn.Adam([{"params": [a]}, {"params": [b], "lr": 0.5}], betas=(0.8, 0.9))
    opt.zero_grad()
    (a.sum() + b.sum()).backward()
    opt.step()
    sd = opt.state_dict()
    assert sd["param_groups.1.params"].tolist() == [1]
    assert sd["param_groups.0.betas"].tolist() == [0.8, 0.9]
    assert sd["state.1.exp_avg"].shape == (3,) and int(sd["state.1.step"]) == 1
    fresh = nn.Adam([{"params": [a]}, {"params": [b]}], lr=1.0, amsgrad=True)
    fresh.load_state_dict(sd)
    assert fresh.param_groups[1]["lr"] == 0.5 and fresh.param_groups[0]["betas"] == (0.8, 0.9)
    assert fresh.param_groups[0]["amsgrad"] is False
    assert fresh.state[b]["step"] == 1


def test_load_state_dict_rejects_what_does_not_fit():
    x = Value(np.ones(2))
    opt = nn.SGD([x], lr=0.1, momentum=0.9)
    quadratic_step(opt, x, np.zeros(2))
    sd = opt.state_dict()
    other = nn.SGD([Value(np.ones(3))], lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match=r"'state.0.momentum_buffer' has shape \(2,\), its "
                                         r"parameter has shape \(3,\)"):
        other.load_state_dict(sd)
    with pytest.raises(KeyError, match="unexpected key 'bogus'"):
        opt.load_state_dict({**sd, "bogus": np.zeros(1)})
    two = nn.SGD([Value(np.ones(2)), Value(np.ones(2))], lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match=r"holds parameters \[0\], this optimizer's group "
                                         r"holds \[0, 1\]"):
        two.load_state_dict(sd)
    assert two.state == {}  # nothing changed


# --- torch parity -------------------------------------------------------------------------
TORCH_CASES = {
    "SGD": dict(lr=0.01),
    "SGD momentum": dict(lr=0.01, momentum=0.9, dampening=0.1, weight_decay=0.1),
    "SGD nesterov": dict(lr=0.01, momentum=0.9, nesterov=True),
    "RMSprop": dict(lr=0.01),
    "RMSprop centered momentum": dict(lr=0.01, momentum=0.5, centered=True, weight_decay=0.1),
    "Adam": dict(lr=0.05),
    "Adam amsgrad": dict(lr=0.05, amsgrad=True, weight_decay=0.1, betas=(0.8, 0.99)),
    "AdamW": dict(lr=0.05),
    "AdamW amsgrad": dict(lr=0.05, amsgrad=True, betas=(0.8, 0.9), weight_decay=0.3),
}


@pytest.mark.parametrize("case", TORCH_CASES)
def test_optimizers_match_torch_over_several_steps(case, rng):
    torch = pytest.importorskip("torch", exc_type=ImportError)  # absent or broken: skip
    name, kwargs = case.split()[0], TORCH_CASES[case]
    A = rng.normal(size=(4, 4))
    A = A @ A.T + np.eye(4)
    b, x0, w0 = rng.normal(size=4), rng.normal(size=4), rng.normal(size=(3, 4))

    def objective(x, w, A, b):  # a quadratic plus an MLP-like coupled term
        return ((x @ A) * x).sum() * 0.5 - (x * b).sum() + ((w @ x).tanh() ** 2).sum() \
            + (w * w * w).sum()

    ours = [Value(x0), Value(w0)]
    theirs = [torch.tensor(x0, requires_grad=True), torch.tensor(w0, requires_grad=True)]
    opt = getattr(nn, name)(ours, **kwargs)
    torch_opt = getattr(torch.optim, name)(theirs, **kwargs)
    for _ in range(10):
        opt.zero_grad()
        objective(*ours, A, b).backward()
        opt.step()
        torch_opt.zero_grad()
        objective(*theirs, torch.tensor(A), torch.tensor(b)).backward()
        torch_opt.step()
    for p, t in zip(ours, theirs):
        np.testing.assert_allclose(p.data, t.detach().numpy(), rtol=1e-11, atol=1e-13)


OPTIMIZER_SETTINGS = {
    "SGD": dict(lr=st.floats(1e-3, 0.1), momentum=st.sampled_from([0.0, 0.5, 0.9]),
                dampening=st.sampled_from([0.0, 0.3]), weight_decay=st.sampled_from([0.0, 0.1])),
    "RMSprop": dict(lr=st.floats(1e-3, 0.1), alpha=st.floats(0.5, 0.999),
                    eps=st.sampled_from([1e-8, 1e-3]), weight_decay=st.sampled_from([0.0, 0.1]),
                    momentum=st.sampled_from([0.0, 0.7]), centered=st.booleans()),
    "Adam": dict(lr=st.floats(1e-3, 0.1), betas=st.tuples(st.floats(0.0, 0.99),
                                                          st.floats(0.5, 0.9999)),
                 eps=st.sampled_from([1e-8, 1e-3]), weight_decay=st.sampled_from([0.0, 0.1]),
                 amsgrad=st.booleans()),
}
OPTIMIZER_SETTINGS["AdamW"] = OPTIMIZER_SETTINGS["Adam"]


@given(st.sampled_from(sorted(OPTIMIZER_SETTINGS)).flatmap(
    lambda name: st.tuples(st.just(name), st.fixed_dictionaries(OPTIMIZER_SETTINGS[name]))),
    st.integers(0, 2 ** 32 - 1))
def test_random_settings_match_torch(case, seed):
    torch = pytest.importorskip("torch", exc_type=ImportError)  # absent or broken: skip
    name, settings = case
    start = np.random.default_rng(seed).normal(size=(2, 3))
    ours, theirs = Value(start), torch.tensor(start, requires_grad=True)
    opt = getattr(nn, name)([ours], **settings)
    torch_opt = getattr(torch.optim, name)([theirs], **settings)
    for _ in range(4):
        opt.zero_grad()
        ((ours * ours * ours).sum() + (ours.sin() * 2).sum()).backward()
        opt.step()
        torch_opt.zero_grad()
        ((theirs * theirs * theirs).sum() + (theirs.sin() * 2).sum()).backward()
        torch_opt.step()
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_sgd_positional_order_is_pytorchs():
    p = Value(np.ones(2))
    group = nn.SGD([p], 0.1, 0.9, 0.5, 0.01).param_groups[0]  # dampening third, as in PyTorch
    assert (group["momentum"], group["dampening"], group["weight_decay"], group["nesterov"]) == (
        0.9, 0.5, 0.01, False)
    assert nn.SGD([p]).param_groups[0]["lr"] == 1e-3
    with pytest.raises(TypeError, match=r"SGD: dampening must be a number, got True; the "
                                        r"arguments' order is PyTorch's \(lr, momentum, "
                                        r"dampening, weight_decay, nesterov\)"):
        nn.SGD([p], 0.1, 0.9, True, 0.01)  # the old order (momentum, nesterov, weight_decay)

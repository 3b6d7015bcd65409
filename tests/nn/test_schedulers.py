"""Learning-rate schedulers: closed forms, PyTorch's sequences, ReduceLROnPlateau's rules, state."""
import math

import numpy as np
import pytest

import nn
from autograd_lite import Value


def optimizer(lr=0.5, groups=1):
    return nn.SGD([{"params": [Value([1.0])], "lr": lr * (g + 1)} for g in range(groups)], lr=lr)


def lrs(scheduler, steps, metrics=None):
    """The lr of group 0 at construction and after each of `steps` steps."""
    out = [scheduler.get_last_lr()[0]]
    for i in range(steps):
        scheduler.step(*([] if metrics is None else [metrics[i]]))
        out.append(scheduler.get_last_lr()[0])
        assert out[-1] == scheduler.optimizer.param_groups[0]["lr"]
    return out


def test_step_lr_closed_form():
    assert lrs(nn.StepLR(optimizer(1.0), step_size=3, gamma=0.5), 7) == \
        [1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25]


def test_exponential_lr_closed_form():
    np.testing.assert_allclose(lrs(nn.ExponentialLR(optimizer(2.0), gamma=0.9), 5),
                               [2.0 * 0.9 ** t for t in range(6)])


def test_cosine_annealing_reaches_eta_min_at_t_max():
    seq = lrs(nn.CosineAnnealingLR(optimizer(1.0), T_max=4, eta_min=0.1), 8)
    np.testing.assert_allclose(seq[:5], [0.1 + 0.9 * (1 + math.cos(math.pi * t / 4)) / 2
                                         for t in range(5)])
    assert seq[4] == pytest.approx(0.1) and seq[8] == pytest.approx(1.0)


def test_every_group_is_scheduled_from_its_own_base_lr():
    scheduler = nn.StepLR(optimizer(1.0, groups=2), step_size=1, gamma=0.5)
    scheduler.step()
    assert scheduler.get_last_lr() == [0.5, 1.0]


def test_plateau_reduces_after_patience_then_cools_down():
    scheduler = nn.ReduceLROnPlateau(optimizer(1.0), patience=2, factor=0.5, cooldown=1)
    losses = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]
    # best at epoch 1; bad epochs 2, 3, 4 -> reduce after the 3rd (> patience 2); the next
    # epoch is cooldown (not counted); then 3 more bad epochs -> reduce again
    assert lrs(scheduler, 8, losses) == [1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.25]


def test_plateau_threshold_max_mode_and_min_lr():
    scheduler = nn.ReduceLROnPlateau(optimizer(1.0), mode="max", patience=0, factor=0.1,
                                     threshold=0.1, min_lr=0.05)
    # +5% is not an improvement with a 10% relative threshold; +20% is
    assert lrs(scheduler, 4, [1.0, 1.05, 1.3, 1.0]) == [1, 1, 0.1, 0.1, 0.05]


def test_schedulers_reject_bad_arguments():
    with pytest.raises(TypeError, match="expected an nn optimizer"):
        nn.StepLR(object(), step_size=1)
    with pytest.raises(ValueError, match="step_size must be a positive integer"):
        nn.StepLR(optimizer(), step_size=0)
    with pytest.raises(ValueError, match="T_max must be positive"):
        nn.CosineAnnealingLR(optimizer(), T_max=0)
    with pytest.raises(ValueError, match="mode must be 'min' or 'max'"):
        nn.ReduceLROnPlateau(optimizer(), mode="lowest")
    with pytest.raises(ValueError, match=r"factor must be in \[0, 1\)"):
        nn.ReduceLROnPlateau(optimizer(), factor=2.0)
    with pytest.raises(ValueError, match="expected 2 min_lrs"):
        nn.ReduceLROnPlateau(optimizer(groups=2), min_lr=[0.1])


@pytest.mark.parametrize("make", [
    lambda o: nn.StepLR(o, step_size=2, gamma=0.5),
    lambda o: nn.CosineAnnealingLR(o, T_max=5),
    lambda o: nn.ReduceLROnPlateau(o, patience=1),
])
def test_state_dict_round_trip_continues_identically(make, tmp_path):
    metrics = [3, 2, 2, 2, 2, 1, 1, 1, 1, 1]
    plateau = "Plateau" in type(make(optimizer())).__name__
    args = (lambda i: [metrics[i]]) if plateau else (lambda i: [])
    first = make(optimizer())
    for i in range(4):
        first.step(*args(i))
    nn.save(first.state_dict(), tmp_path / "sched.npz")
    second_optimizer = optimizer()
    second_optimizer.param_groups[0]["lr"] = first.optimizer.param_groups[0]["lr"]
    second = make(second_optimizer)
    second.load_state_dict(nn.load(tmp_path / "sched.npz"))
    for i in range(4, 10):
        first.step(*args(i))
        second.step(*args(i))
        assert first.get_last_lr() == second.get_last_lr()


# --- PyTorch's sequences -------------------------------------------------------------------
TORCH_CASES = {
    "StepLR": dict(step_size=7, gamma=0.5),
    "ExponentialLR": dict(gamma=0.9),
    "CosineAnnealingLR": dict(T_max=10, eta_min=0.01),
    "ReduceLROnPlateau": dict(patience=2, cooldown=1, min_lr=1e-3, threshold=0.01),
    "ReduceLROnPlateau max abs": dict(mode="max", threshold_mode="abs", threshold=0.05,
                                      patience=1, factor=0.5),
}
SCRIPTED = [1.0, 0.9, 0.8, 0.8, 0.8, 0.8, 0.79999, 0.8, 0.8, 0.7, 0.7, 0.7, 0.7, 0.7, 0.71,
            0.69, 0.7, 0.7, 0.7, 0.6] * 2


@pytest.mark.parametrize("case", TORCH_CASES)
def test_schedulers_match_torch(case):
    torch = pytest.importorskip("torch", exc_type=ImportError)  # absent or broken: skip
    name, kwargs = case.split()[0], TORCH_CASES[case]
    metrics = SCRIPTED if name == "ReduceLROnPlateau" else None
    ours = getattr(nn, name)(optimizer(0.5, groups=2), **kwargs)
    parameters = [{"params": [torch.ones(1, requires_grad=True)], "lr": 0.5 * (g + 1)}
                  for g in range(2)]
    torch_optimizer = torch.optim.SGD(parameters, lr=0.5)
    theirs = getattr(torch.optim.lr_scheduler, name)(torch_optimizer, **kwargs)
    expected = [theirs.get_last_lr()]
    for i in range(len(SCRIPTED)):  # 40 epochs: past T_max, through several plateaus
        torch_optimizer.step()
        theirs.step(*([] if metrics is None else [metrics[i]]))
        expected.append(theirs.get_last_lr())
    got = [ours.get_last_lr()]
    for i in range(len(SCRIPTED)):
        ours.step(*([] if metrics is None else [metrics[i]]))
        got.append(ours.get_last_lr())
    np.testing.assert_allclose(got, expected, rtol=1e-13)
    assert len(set(map(tuple, expected))) > 3  # the schedule did change the lr


# --- the recursive (chainable) form: composing, hand-set lrs, groups added later -------------
def torch_or_none():
    try:
        import torch
    except ImportError:  # absent or broken: the known answers below still run
        return None
    return torch


def run_torch(make_schedulers, lrs0, epochs, add_group_at=None, added_lr=None, metrics=None):
    """The lr of every group after construction and after each epoch, in PyTorch."""
    torch = torch_or_none()
    groups = [{"params": [torch.ones(1, requires_grad=True)], "lr": lr} for lr in lrs0]
    opt = torch.optim.SGD(groups, lr=lrs0[0])
    schedulers = make_schedulers(torch.optim.lr_scheduler, opt)
    out = [[g["lr"] for g in opt.param_groups]]
    for epoch in range(epochs):
        if epoch == add_group_at:
            opt.add_param_group({"params": [torch.ones(1, requires_grad=True)], "lr": added_lr})
        opt.step()
        for s in schedulers:
            s.step(*([] if metrics is None else [metrics[epoch]]))
        out.append([g["lr"] for g in opt.param_groups])
    return out


def run_ours(make_schedulers, lrs0, epochs, add_group_at=None, added_lr=None, metrics=None):
    opt = nn.SGD([{"params": [Value([1.0])], "lr": lr} for lr in lrs0], lr=lrs0[0])
    schedulers = make_schedulers(nn, opt)
    out = [[g["lr"] for g in opt.param_groups]]
    for epoch in range(epochs):
        if epoch == add_group_at:
            opt.add_param_group({"params": [Value([1.0])], "lr": added_lr})
        for s in schedulers:
            s.step(*([] if metrics is None else [metrics[epoch]]))
        out.append([g["lr"] for g in opt.param_groups])
    return out


def step_and_exponential(lib, opt):
    return [lib.StepLR(opt, step_size=3, gamma=0.5), lib.ExponentialLR(opt, gamma=0.9)]


def test_step_lr_and_exponential_lr_compose():
    # both factors apply: lr_t = 0.5 ** (t // 3) * 0.9 ** t (the last scheduler used to win: 0.9 ** t)
    got = [lr[0] for lr in run_ours(step_and_exponential, [1.0], 8)]
    np.testing.assert_allclose(got, [0.5 ** (t // 3) * 0.9 ** t for t in range(9)], rtol=1e-13)
    assert got[8] == pytest.approx(0.1076, abs=1e-4)
    if torch_or_none() is not None:
        expected = [lr[0] for lr in run_torch(step_and_exponential, [1.0], 8)]
        np.testing.assert_allclose(got, expected, rtol=1e-13)


@pytest.mark.parametrize("make", [
    lambda lib, opt: [lib.CosineAnnealingLR(opt, T_max=4, eta_min=0.01),
                      lib.StepLR(opt, step_size=5, gamma=0.5)],
    lambda lib, opt: [lib.ExponentialLR(opt, gamma=0.95),
                      lib.CosineAnnealingLR(opt, T_max=6)],
], ids=["cosine+step", "exponential+cosine"])
def test_chained_schedulers_match_torch(make):
    torch_or_none() or pytest.skip("torch not installed")
    got = run_ours(make, [0.5, 1.0], 30)
    np.testing.assert_allclose(got, run_torch(make, [0.5, 1.0], 30), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name, kwargs, expected", [
    ("StepLR", dict(step_size=2, gamma=0.5), [1, 1, 0.3, 0.3, 0.15, 0.15]),
    ("ExponentialLR", dict(gamma=0.5), [1, 0.5, 0.3, 0.15, 0.075, 0.0375]),
])
def test_an_lr_set_by_hand_is_scheduled_on_from(name, kwargs, expected):
    opt = optimizer(1.0)
    scheduler = getattr(nn, name)(opt, **kwargs)
    got = [opt.param_groups[0]["lr"]]
    for epoch in range(5):
        if epoch == 1:
            opt.param_groups[0]["lr"] = 0.6  # by hand, e.g. a warm-up rule
        scheduler.step()
        got.append(opt.param_groups[0]["lr"])
    np.testing.assert_allclose(got, expected)


def test_a_group_added_later_decays_from_its_own_lr():
    # StepLR and ExponentialLR: known answers
    got = run_ours(lambda lib, o: [lib.StepLR(o, step_size=2, gamma=0.5)], [1.0], 6,
                   add_group_at=1, added_lr=0.4)
    assert [lr[-1] for lr in got[2:]] == [0.2, 0.2, 0.1, 0.1, 0.05]  # halved at epochs 2, 4, 6
    got = run_ours(lambda lib, o: [lib.ExponentialLR(o, gamma=0.5)], [1.0], 4,
                   add_group_at=0, added_lr=0.8)
    assert [lr[-1] for lr in got[1:]] == [0.4, 0.2, 0.1, 0.05]
    # CosineAnnealingLR: from its own lr, down to eta_min at T_max, back to its own lr at 2 T_max
    opt = optimizer(1.0)
    scheduler = nn.CosineAnnealingLR(opt, T_max=4, eta_min=0.1)
    opt.add_param_group({"params": [Value([1.0])], "lr": 0.5})
    seq = [lrs[1] for lrs in (scheduler.step() or scheduler.get_last_lr() for _ in range(8))]
    np.testing.assert_allclose(seq, [0.1 + 0.4 * (1 + math.cos(math.pi * t / 4)) / 2
                                     for t in range(1, 9)], atol=1e-12)
    assert opt.param_groups[1]["initial_lr"] == 0.5 and scheduler.base_lrs == [1.0, 0.5]


@pytest.mark.parametrize("make", [
    lambda lib, o: [lib.StepLR(o, step_size=3, gamma=0.5)],
    lambda lib, o: [lib.ExponentialLR(o, gamma=0.8)],
    lambda lib, o: [lib.CosineAnnealingLR(o, T_max=20)],  # torch fails past T_max + 1
    lambda lib, o: [lib.ReduceLROnPlateau(o, patience=1, factor=0.5)],
], ids=["StepLR", "ExponentialLR", "CosineAnnealingLR", "ReduceLROnPlateau"])
def test_a_group_added_later_matches_torch(make):
    torch_or_none() or pytest.skip("torch not installed")
    metrics = [1.0] * 20
    args = dict(add_group_at=2, added_lr=0.3, metrics=metrics if "Plateau" in repr(
        make(nn, optimizer())) else None)
    got = run_ours(make, [0.5, 1.0], 20, **args)
    expected = run_torch(make, [0.5, 1.0], 20, **args)
    assert len(got[-1]) == 3 and got[-1][2] < 0.3  # the added group was scheduled
    for ours, theirs in zip(got, expected):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_plateau_reduces_a_group_added_later_and_explains_a_short_min_lr_list():
    opt = optimizer(1.0)
    scheduler = nn.ReduceLROnPlateau(opt, patience=0, factor=0.5, min_lr=0.2)
    opt.add_param_group({"params": [Value([1.0])], "lr": 0.3})
    for loss in [1.0, 1.0, 1.0]:
        scheduler.step(loss)
    assert scheduler.get_last_lr() == [0.25, 0.2]  # 1 -> 0.5 -> 0.25; 0.3 -> max(0.15, 0.2)
    opt = optimizer(1.0)
    scheduler = nn.ReduceLROnPlateau(opt, patience=0, min_lr=[0.0])
    opt.add_param_group({"params": [Value([1.0])], "lr": 0.3})
    scheduler.step(1.0)
    with pytest.raises(RuntimeError, match=r"2 parameter groups but min_lr was given as a list "
                                           r"of 1.*add_param_group"):
        scheduler.step(1.0)


def test_initial_lr_is_recorded_as_in_torch_and_an_optimizer_state_with_it_loads():
    opt = optimizer(0.5, groups=2)
    nn.StepLR(opt, step_size=1, gamma=0.5).step()
    nn.ExponentialLR(opt, gamma=0.9)  # a second scheduler keeps the first's initial_lr
    assert [g["initial_lr"] for g in opt.param_groups] == [0.5, 1.0]
    plateau_opt = optimizer(0.5)
    nn.ReduceLROnPlateau(plateau_opt)
    assert "initial_lr" not in plateau_opt.param_groups[0]  # PyTorch's plateau sets none either
    fresh = optimizer(0.5, groups=2)  # no scheduler yet, as when resuming from a checkpoint
    fresh.load_state_dict(opt.state_dict())
    assert [g["initial_lr"] for g in fresh.param_groups] == [0.5, 1.0]
    assert [g["lr"] for g in fresh.param_groups] == [0.25, 0.5]

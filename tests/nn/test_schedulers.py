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

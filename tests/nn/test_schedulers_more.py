"""MultiStepLR, LambdaLR, MultiplicativeLR, LinearLR, OneCycleLR, CosineAnnealingWarmRestarts,
SequentialLR and ChainedScheduler: closed forms by hand, then 200 epochs against PyTorch,
alone and chained, state dicts resumed mid-run, `last_epoch=`, and clear errors.
"""
import math
import re

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import nn
from autograd_lite import Value

EPOCHS = 200


def sgd(lrs=(0.5, 1.0), momentum=0.9):
    return nn.SGD([{"params": [Value([1.0])], "lr": lr} for lr in lrs], lr=lrs[0],
                  momentum=momentum)


def history(optimizer, schedulers, epochs=EPOCHS, key="lr"):
    """The `key` of every group after construction and after each epoch's step of each scheduler."""
    out = [[group[key] for group in optimizer.param_groups]]
    for _ in range(epochs):
        for scheduler in schedulers:
            scheduler.step()
        out.append([group[key] for group in optimizer.param_groups])
    return out


def test_closed_forms_by_hand():
    o = sgd([1.0])
    got = [lr[0] for lr in history(o, [nn.MultiStepLR(o, [2, 5, 5], gamma=0.5)], 7)]
    assert got == [1, 1, 0.5, 0.5, 0.5, 0.125, 0.125, 0.125]   # 5 listed twice: gamma squared
    o = sgd([1.0])
    got = [lr[0] for lr in history(o, [nn.LambdaLR(o, lambda e: 1 / (e + 1))], 4)]
    np.testing.assert_allclose(got, [1, 1 / 2, 1 / 3, 1 / 4, 1 / 5])
    o = sgd([1.0])
    got = [lr[0] for lr in history(o, [nn.MultiplicativeLR(o, lambda e: 0.5)], 3)]
    assert got == [1, 0.5, 0.25, 0.125]
    o = sgd([1.0])
    got = [lr[0] for lr in history(o, [nn.LinearLR(o, start_factor=0.2, total_iters=4)], 6)]
    np.testing.assert_allclose(got, [0.2, 0.4, 0.6, 0.8, 1.0, 1.0, 1.0], rtol=1e-14)
    o = sgd([1.0])
    got = [lr[0] for lr in history(o, [nn.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=2,
                                                                       eta_min=0.1)], 7)]
    cosine = lambda t, T: 0.1 + 0.9 * (1 + math.cos(math.pi * t / T)) / 2  # noqa: E731
    np.testing.assert_allclose(got, [cosine(0, 2), cosine(1, 2), cosine(0, 4), cosine(1, 4),
                                     cosine(2, 4), cosine(3, 4), cosine(0, 8), cosine(1, 8)])


def test_warm_restarts_take_fractional_epochs():
    o = sgd([1.0])
    scheduler = nn.CosineAnnealingWarmRestarts(o, T_0=4)
    scheduler.step(5.5)  # 1.5 epochs into the second period
    assert o.param_groups[0]["lr"] == pytest.approx((1 + math.cos(math.pi * 1.5 / 4)) / 2)
    assert scheduler.last_epoch == 5


def test_one_cycle_by_hand():
    o = sgd([0.5])
    scheduler = nn.OneCycleLR(o, max_lr=2.0, total_steps=10, pct_start=0.3)
    lrs = history(o, [scheduler], 9)
    assert lrs[0][0] == pytest.approx(2.0 / 25) and o.defaults["momentum"] == 0.9
    assert lrs[2][0] == pytest.approx(2.0)                      # the peak: step 0.3 * 10 - 1
    assert lrs[9][0] == pytest.approx(2.0 / 25 / 1e4)           # the end: initial / final_div
    assert o.param_groups[0]["momentum"] == pytest.approx(0.95)  # back up at the end
    assert max(lr[0] for lr in lrs) == lrs[2][0]
    with pytest.raises(ValueError, match="OneCycleLR: tried to step 11 times; the specified "
                                         "number of total steps is 10"):
        scheduler.step()
        scheduler.step()


def test_sequential_restarts_the_next_scheduler_and_chained_multiplies():
    o = sgd([1.0])
    warmup, decay = nn.LinearLR(o, start_factor=0.5, total_iters=2), nn.ExponentialLR(o, 0.5)
    got = [lr[0] for lr in history(o, [nn.SequentialLR(o, [warmup, decay], milestones=[3])], 5)]
    np.testing.assert_allclose(got, [0.5, 0.75, 1.0, 1.0, 0.5, 0.25])  # decay from the initial lr
    o = sgd([1.0])
    chained = nn.ChainedScheduler([nn.StepLR(o, 2, 0.1), nn.ExponentialLR(o, 0.5)])
    got = [lr[0] for lr in history(o, [chained], 4)]
    np.testing.assert_allclose(got, [1, 0.5, 0.025, 0.0125, 0.000625])


# --- against PyTorch, 200 epochs ---------------------------------------------------------
def in_torch(torch, make, lrs=(0.5, 1.0), momentum=0.9, epochs=EPOCHS, key="lr"):
    optimizer = torch.optim.SGD([{"params": [torch.ones(1, requires_grad=True)], "lr": lr}
                                 for lr in lrs], lr=lrs[0], momentum=momentum)
    schedulers = make(torch.optim.lr_scheduler, optimizer)
    out = [[group[key] for group in optimizer.param_groups]]
    for _ in range(epochs):
        optimizer.step()
        for scheduler in schedulers:
            scheduler.step()
        out.append([group[key] for group in optimizer.param_groups])
    return out


def compare(make, key="lr", epochs=EPOCHS, **options):
    torch = pytest.importorskip("torch", exc_type=ImportError)
    o = sgd(**options)
    got = history(o, make(nn, o), epochs, key)
    expected = in_torch(torch, make, epochs=epochs, key=key, **options)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15)
    assert len({tuple(lrs) for lrs in expected}) > 1  # the schedule did change something


ALONE = {
    "MultiStepLR": lambda lib, o: [lib.MultiStepLR(o, [10, 50, 50, 120], gamma=0.7)],
    "LambdaLR": lambda lib, o: [lib.LambdaLR(o, [lambda e: 0.98 ** e, lambda e: 1 / (1 + e)])],
    "MultiplicativeLR": lambda lib, o: [lib.MultiplicativeLR(o, lambda e: 0.99)],
    "LinearLR": lambda lib, o: [lib.LinearLR(o, start_factor=0.1, end_factor=0.6,
                                             total_iters=150)],
    "CosineAnnealingWarmRestarts": lambda lib, o: [lib.CosineAnnealingWarmRestarts(
        o, T_0=7, T_mult=2, eta_min=0.01)],
    "OneCycleLR": lambda lib, o: [lib.OneCycleLR(o, max_lr=[1.0, 3.0], total_steps=EPOCHS)],
    "OneCycleLR three-phase": lambda lib, o: [lib.OneCycleLR(
        o, max_lr=2.0, epochs=20, steps_per_epoch=10, three_phase=True, anneal_strategy="linear",
        pct_start=0.25, div_factor=10)],
}
CHAINED = {
    "MultiStepLR + ExponentialLR": lambda lib, o: [lib.MultiStepLR(o, [30, 80]),
                                                   lib.ExponentialLR(o, 0.99)],
    "LinearLR + MultiplicativeLR": lambda lib, o: [lib.LinearLR(o, 0.25, total_iters=20),
                                                   lib.MultiplicativeLR(o, lambda e: 0.995)],
    "ChainedScheduler": lambda lib, o: [lib.ChainedScheduler(
        [lib.LinearLR(o, 0.5, total_iters=10), lib.StepLR(o, 25, 0.5)])],
    "SequentialLR warm-up then cosine": lambda lib, o: [lib.SequentialLR(
        o, [lib.LinearLR(o, 0.1, total_iters=10), lib.CosineAnnealingLR(o, T_max=190)],
        milestones=[10])],
    "SequentialLR of three": lambda lib, o: [lib.SequentialLR(
        o, [lib.LinearLR(o, 0.5, 0.5, 5), lib.ExponentialLR(o, 0.97),
            lib.CosineAnnealingWarmRestarts(o, T_0=20)],
        milestones=[5, 100])],
    "ChainedScheduler of a SequentialLR": lambda lib, o: [lib.ChainedScheduler([
        lib.SequentialLR(o, [lib.LinearLR(o, 0.2, total_iters=5), lib.StepLR(o, 40, 0.5)],
                         milestones=[5]),
        lib.MultiplicativeLR(o, lambda e: 0.998)])],
}


@pytest.mark.parametrize("name", ALONE)
def test_each_scheduler_alone_matches_pytorch_over_200_epochs(name):
    compare(ALONE[name])


@pytest.mark.parametrize("name", CHAINED)
def test_chained_and_sequential_schedulers_match_pytorch_over_200_epochs(name):
    compare(CHAINED[name])


def test_one_cycle_cycles_momentum_and_adams_beta1_as_pytorch():
    compare(ALONE["OneCycleLR"], key="momentum")
    torch = pytest.importorskip("torch", exc_type=ImportError)
    ours = nn.Adam([Value([1.0])], lr=0.1)
    theirs = torch.optim.Adam([torch.ones(1, requires_grad=True)], lr=0.1)
    a, b = nn.OneCycleLR(ours, 0.5, total_steps=50), \
        torch.optim.lr_scheduler.OneCycleLR(theirs, 0.5, total_steps=50)
    for _ in range(49):
        theirs.step()
        a.step()
        b.step()
        assert ours.param_groups[0]["betas"] == pytest.approx(theirs.param_groups[0]["betas"],
                                                              rel=1e-12)
        assert ours.param_groups[0]["lr"] == pytest.approx(theirs.param_groups[0]["lr"], rel=1e-12)


@settings(max_examples=20)
@given(kind=st.sampled_from(["MultiStepLR", "LinearLR", "CosineAnnealingWarmRestarts",
                             "OneCycleLR"]),
       a=st.integers(1, 60), b=st.integers(1, 4), c=st.floats(0.05, 0.95), d=st.booleans())
def test_drawn_settings_match_pytorch(kind, a, b, c, d):
    settings_of = {
        "MultiStepLR": lambda lib, o: [lib.MultiStepLR(o, sorted({a, a + 30 * b, 150}), gamma=c)],
        "LinearLR": lambda lib, o: [lib.LinearLR(o, start_factor=c, end_factor=1.0 if d else c / 2,
                                                 total_iters=a)],
        "CosineAnnealingWarmRestarts": lambda lib, o: [lib.CosineAnnealingWarmRestarts(
            o, T_0=a, T_mult=b, eta_min=c / 100)],
        "OneCycleLR": lambda lib, o: [lib.OneCycleLR(
            o, max_lr=2.0, total_steps=EPOCHS, pct_start=max(c, 0.1), three_phase=d,
            anneal_strategy="cos" if b % 2 else "linear", div_factor=a + 1.0)],
    }
    compare(settings_of[kind])


# --- resuming ------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(ALONE) + list(CHAINED))
def test_a_run_saved_at_epoch_100_resumes_exactly(name, tmp_path):
    make = {**ALONE, **CHAINED}[name]
    straight = sgd()
    expected = history(straight, make(nn, straight), EPOCHS)
    o = sgd()
    first = make(nn, o)
    history(o, first, 100)
    nn.save(o.state_dict(), tmp_path / "optimizer.npz")
    for i, scheduler in enumerate(first):
        nn.save(scheduler.state_dict(), tmp_path / f"scheduler{i}.npz")
    resumed = sgd()
    schedulers = make(nn, resumed)
    resumed.load_state_dict(nn.load(tmp_path / "optimizer.npz"))
    for i, scheduler in enumerate(schedulers):
        scheduler.load_state_dict(nn.load(tmp_path / f"scheduler{i}.npz"))
    assert history(resumed, schedulers, 100) == expected[100:]


def test_last_epoch_resumes_as_pytorch():
    torch = pytest.importorskip("torch", exc_type=ImportError)
    make = lambda lib, o: [lib.MultiStepLR(o, [5, 12], gamma=0.5, last_epoch=9)]  # noqa: E731
    o = sgd()
    for group in o.param_groups:
        group["initial_lr"] = group["lr"] * 4
    got = history(o, make(nn, o), 10)
    topt = torch.optim.SGD([{"params": [torch.ones(1, requires_grad=True)], "lr": lr,
                             "initial_lr": lr * 4} for lr in (0.5, 1.0)], lr=0.5)
    theirs = make(torch.optim.lr_scheduler, topt)
    expected = [[g["lr"] for g in topt.param_groups]]
    for _ in range(10):
        topt.step()
        theirs[0].step()
        expected.append([g["lr"] for g in topt.param_groups])
    np.testing.assert_allclose(got, expected, rtol=1e-14)
    with pytest.raises(KeyError, match=re.escape("param 'initial_lr' is not specified in "
                                                 "param_groups[0] when resuming")):
        nn.StepLR(sgd(), 3, last_epoch=4)


@pytest.mark.parametrize("make, error, message", [
    (lambda o: nn.LinearLR(o, start_factor=0), ValueError,
     "LinearLR: starting multiplicative factor expected to be greater than 0"),
    (lambda o: nn.CosineAnnealingWarmRestarts(o, T_0=0), ValueError,
     "CosineAnnealingWarmRestarts: expected a positive integer T_0, got 0"),
    (lambda o: nn.LambdaLR(o, [lambda e: 1.0]), ValueError,
     "LambdaLR: expected 2 lr_lambdas (one per parameter group), got 1"),
    (lambda o: nn.OneCycleLR(o, 1.0), ValueError,
     "OneCycleLR: you must define either total_steps OR (epochs AND steps_per_epoch)"),
    (lambda o: nn.OneCycleLR(nn.Adagrad([Value(1.0)]), 1.0, total_steps=5), ValueError,
     "OneCycleLR: optimizer must support momentum or beta1 with cycle_momentum enabled"),
    (lambda o: nn.SequentialLR(o, [nn.StepLR(o, 2), nn.StepLR(o, 3)], milestones=[]), ValueError,
     "SequentialLR: expects one milestone fewer than schedulers, got 2 schedulers and 0"),
    (lambda o: nn.ChainedScheduler([nn.StepLR(o, 2), nn.StepLR(sgd(), 3)]), ValueError,
     "ChainedScheduler: expects all schedulers to belong to the same optimizer, but "
     "scheduler 1 (StepLR) has another"),
    (lambda o: nn.SequentialLR(o, [nn.ReduceLROnPlateau(o)], milestones=[]), TypeError,
     "SequentialLR: scheduler 0 must be an epoch scheduler"),
])
def test_what_pytorch_rejects_is_a_clear_error(make, error, message):
    with pytest.raises(error, match=re.escape(message)):
        make(sgd())

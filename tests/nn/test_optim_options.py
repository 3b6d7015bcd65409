"""Adagrad, `maximize=`, and checkpoints that resume a run exactly.

Adagrad's first steps are checked by hand; `maximize=True` on f must retrace
minimizing -f; both against PyTorch over drawn settings (skipped without it).
A model, its optimizer and its scheduler saved at step 50 and loaded into fresh
objects must finish a 100-step run bit for bit as the uninterrupted run does.
"""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import nn
from autograd_lite import Value


def quadratic_step(opt, x, target, sign=1.0):
    """One step on sign * sum((x - target)²) / 2 (gradient sign * (x - target))."""
    opt.zero_grad()
    (sign * ((x - target) ** 2).sum() / 2).backward()
    opt.step()


def test_adagrad_first_two_steps_by_hand():
    x = Value([1.0, -2.0])
    opt = nn.Adagrad([x], lr=0.5, lr_decay=0.1, initial_accumulator_value=0.25, eps=1e-10)
    quadratic_step(opt, x, 0.0)                          # g = x = (1, -2)
    s = 0.25 + np.array([1.0, 4.0])
    expected = np.array([1.0, -2.0]) - 0.5 * np.array([1.0, -2.0]) / (np.sqrt(s) + 1e-10)
    np.testing.assert_allclose(x.data, expected, rtol=1e-15)
    g = expected.copy()
    quadratic_step(opt, x, 0.0)                          # lr decayed to 0.5 / 1.1
    s = s + g * g
    np.testing.assert_allclose(x.data, g - 0.5 / 1.1 * g / (np.sqrt(s) + 1e-10), rtol=1e-15)
    assert opt.state[x]["step"] == 2 and opt.state[x]["sum"].shape == (2,)


MAKERS = {
    "SGD": lambda p, **kw: nn.SGD(p, 0.05, 0.9, 0.0, 0.01, True, **kw),
    "RMSprop": lambda p, **kw: nn.RMSprop(p, lr=0.01, momentum=0.5, centered=True, **kw),
    "Adagrad": lambda p, **kw: nn.Adagrad(p, lr=0.1, weight_decay=0.1, **kw),
    "Adam": lambda p, **kw: nn.Adam(p, lr=0.05, amsgrad=True, **kw),
    "AdamW": lambda p, **kw: nn.AdamW(p, lr=0.05, **kw),
}


@pytest.mark.parametrize("name", MAKERS)
def test_maximize_retraces_minimizing_the_negative(name, rng):
    start, target = rng.normal(size=(2, 3)), rng.normal(size=(2, 3))
    up, down = Value(start), Value(start)
    climb, descend = MAKERS[name]([up], maximize=True), MAKERS[name]([down])
    for _ in range(5):
        quadratic_step(climb, up, target, sign=-1.0)     # maximize -f ...
        quadratic_step(descend, down, target)            # ... is minimize f
    np.testing.assert_array_equal(up.data, down.data)
    assert np.abs(up.data - target).sum() < np.abs(start - target).sum()


def test_a_flag_where_a_number_belongs_is_a_type_error():
    with pytest.raises(TypeError, match="Adagrad: lr_decay must be a number, got True"):
        nn.Adagrad([Value(1.0)], 0.1, True)
    with pytest.raises(ValueError, match="Adagrad: invalid initial_accumulator_value -1"):
        nn.Adagrad([Value(1.0)], initial_accumulator_value=-1)


SETTINGS = {
    "Adagrad": dict(lr=st.floats(1e-3, 0.5), lr_decay=st.sampled_from([0.0, 0.05]),
                    weight_decay=st.sampled_from([0.0, 0.1]),
                    initial_accumulator_value=st.sampled_from([0.0, 0.3]),
                    eps=st.sampled_from([1e-10, 1e-3]), maximize=st.booleans()),
    "SGD": dict(lr=st.floats(1e-3, 0.1), momentum=st.sampled_from([0.0, 0.9]),
                dampening=st.sampled_from([0.0, 0.3]), maximize=st.booleans()),
    "RMSprop": dict(lr=st.floats(1e-3, 0.1), centered=st.booleans(), maximize=st.booleans()),
    "Adam": dict(lr=st.floats(1e-3, 0.1), amsgrad=st.booleans(), maximize=st.booleans()),
    "AdamW": dict(lr=st.floats(1e-3, 0.1), weight_decay=st.sampled_from([0.0, 0.1]),
                  maximize=st.booleans()),
}


@settings(max_examples=25)
@given(st.sampled_from(sorted(SETTINGS)).flatmap(
    lambda name: st.tuples(st.just(name), st.fixed_dictionaries(SETTINGS[name]))),
    st.integers(0, 2 ** 32 - 1))
def test_against_pytorch(case, seed):
    torch = pytest.importorskip("torch", exc_type=ImportError)
    name, options = case
    start = np.random.default_rng(seed).normal(size=(2, 3))
    ours, theirs = Value(start), torch.tensor(start, requires_grad=True)
    opt, torch_opt = getattr(nn, name)([ours], **options), getattr(torch.optim, name)([theirs], **options)
    sign = -1.0 if options["maximize"] else 1.0  # climb a function with a maximum
    for _ in range(6):
        for x, o in ((ours, opt), (theirs, torch_opt)):
            o.zero_grad()
            (sign * ((x * x * x).sum() * 0.1 + (x * x).sum() + (x.sin() * 2).sum())).backward()
            o.step()
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-10, atol=1e-12)


# --- checkpoints --------------------------------------------------------------------------
def make_run(name, seed=0):
    """A model, an optimizer with two parameter groups, a scheduler, and the data."""
    model = nn.MLP([3, 8, 8, 1], rng=np.random.default_rng(seed))
    first = list(model[0].parameters())
    groups = [{"params": first},
              {"params": [p for p in model.parameters() if all(p is not q for q in first)],
               "lr": 0.02}]
    optimizer = MAKERS[name](groups)
    scheduler = nn.StepLR(optimizer, step_size=30, gamma=0.5)
    return model, optimizer, scheduler


def train(model, optimizer, scheduler, steps, data):
    X, y = data
    for _ in range(steps):
        optimizer.zero_grad()
        nn.mse_loss(model(X), y).backward()
        optimizer.step()
        scheduler.step()


@pytest.mark.parametrize("name", MAKERS)
def test_a_checkpoint_at_step_50_resumes_a_100_step_run_exactly(name, tmp_path, rng):
    data = rng.normal(size=(16, 3)), rng.normal(size=(16, 1))
    straight = make_run(name)
    train(*straight, steps=100, data=data)

    first = make_run(name)
    train(*first, steps=50, data=data)
    model, optimizer, scheduler = first
    nn.save(model.state_dict(), tmp_path / "model.npz")
    nn.save(optimizer.state_dict(), tmp_path / "optimizer.npz")
    nn.save(scheduler.state_dict(), tmp_path / "scheduler.npz")

    resumed = make_run(name, seed=1)  # other starting weights: everything must come from files
    model, optimizer, scheduler = resumed
    model.load_state_dict(nn.load(tmp_path / "model.npz"))
    optimizer.load_state_dict(nn.load(tmp_path / "optimizer.npz"))
    scheduler.load_state_dict(nn.load(tmp_path / "scheduler.npz"))
    train(*resumed, steps=50, data=data)

    for (key, a), b in zip(straight[0].state_dict().items(), model.state_dict().values()):
        np.testing.assert_array_equal(a, b, err_msg=key)
    assert [g["lr"] for g in optimizer.param_groups] == \
        [g["lr"] for g in straight[1].param_groups]
    # and not trivially: the run moved the weights a long way from the checkpoint
    assert not np.allclose(nn.load(tmp_path / "model.npz")["0.weight"],
                           model.state_dict()["0.weight"])

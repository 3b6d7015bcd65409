"""autograd_lite.compile: a traced and replayed function gives the eager engine's numbers.

Gradients are compared bit for bit with eager runs of the same function (the
replay calls the same forwards and vjps in the same order); where outputs are
summed outside the trace the order of additions differs and 1e-12 relative is
the bar. Then: what makes a call trace again, the layers a trace must follow
(Dropout, BatchNorm1d), the engine features around it (no_grad, anomaly mode,
the in-place check, retain_graph, grad, create_graph), check=True, the source
it shows, flat memory and nn.fit(compile=True).
"""
import copy
import os
import sys
import tracemalloc
import warnings

import numpy as np
import pytest
from hypothesis import given

import autograd_lite as ag
import nn
from autograd_lite import Value, compile, no_grad

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_fuzz import Ours, fewer, programs, run  # noqa: E402


def grads(values):
    return [None if v.grad is None else v.grad.copy() for v in values]


def assert_same(actual, expected, exact=True):
    assert len(actual) == len(expected)
    for a, e in zip(actual, expected):
        if e is None:
            assert a is None
        elif exact:
            np.testing.assert_array_equal(a, e)
            assert a.dtype == e.dtype
        else:
            np.testing.assert_allclose(a, e, rtol=1e-12, atol=1e-300)


def side_by_side(model, loss_of, batches, lr=0.05):
    """Train `model` compiled and a copy of it eagerly, one SGD step per batch; every loss and
    gradient must be the same bits. Returns the compiled function."""
    twin = copy.deepcopy(model)
    compiled = compile(lambda *batch: loss_of(model, *batch))
    optimizers = nn.SGD(model.parameters(), lr=lr), nn.SGD(twin.parameters(), lr=lr)
    for batch in batches:
        losses = []
        for optimizer, step in zip(optimizers, (compiled, lambda *b: loss_of(twin, *b))):
            optimizer.zero_grad()
            loss = step(*batch)
            loss.backward()
            losses.append(loss.data)
        assert_same([losses[0]], [losses[1]])
        assert_same(grads(model.parameters()), grads(twin.parameters()))
        for optimizer in optimizers:
            optimizer.step()
    return compiled


# --- every workload's network, as a user writes it with nn ----------------------------
def _mlp_batches(rng, n, d_in, d_out, steps, labels=None, dtype=np.float64):
    batches = []
    for _ in range(steps):
        x = rng.standard_normal((n, d_in)).astype(dtype)
        y = rng.integers(0, labels, n) if labels else rng.standard_normal((n, d_out)).astype(dtype)
        batches.append((x, y))
    return batches


def _f32(model):
    for p in model.parameters():
        p.data = p.data.astype(np.float32)
    return model


def workload(name, rng):
    """(model, loss_of(model, *batch), batches) of a workload, small where it is big."""
    if name == "1 cosine post":
        t = np.linspace(0, 1, 50).reshape(-1, 1)
        model = nn.Sequential(nn.Linear(1, 5), nn.Tanh(), nn.Linear(5, 1), nn.Tanh())
        return model, lambda m, x, y: nn.mse_loss(m(x), y, reduction="sum") * 0.5, \
            [(t, np.cos(2 * np.pi * t))] * 3
    if name == "2 sine README":
        x = np.linspace(-np.pi, np.pi, 100).reshape(-1, 1)
        model = nn.Sequential(nn.Linear(1, 30), nn.Tanh(), nn.Linear(30, 1))
        return model, lambda m, x, y: nn.mse_loss(m(x), y), [(x, np.sin(x))] * 3
    if name == "3 guide":
        x = rng.standard_normal((800, 2))
        y = (x[:, :1] * x[:, 1:] > 0).astype(float)
        model = nn.MLP([2, 4, 4, 1], activation="sigmoid", output_activation="sigmoid", init="he",
                       rng=rng)
        return model, lambda m, x, y: nn.binary_cross_entropy(m(x), y), [(x, y)] * 3
    if name == "4 MLP float32":
        model = _f32(nn.MLP([64, 32, 32, 10], activation="relu", rng=rng))
        return model, lambda m, x, y: nn.cross_entropy(m(x), y), \
            _mlp_batches(rng, 16, 64, 10, 3, labels=10, dtype=np.float32)
    if name == "5 digits CNN":
        model = _f32(nn.Sequential(nn.Conv2d(1, 8, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                                   nn.Linear(72, 10)))
        return model, lambda m, x, y: nn.cross_entropy(m(x), y), \
            [(rng.uniform(0, 1, (16, 1, 8, 8)).astype(np.float32), rng.integers(0, 10, 16))
             for _ in range(3)]
    if name == "6 micrograd demo, vectorized":
        model = nn.MLP([2, 16, 16, 1], activation="relu", rng=rng)

        def svm(m, x, y):
            penalty = sum((p * p).sum() for p in m.parameters())
            return (1.0 - y * m(x)).relu().mean() + 1e-4 * penalty
        return model, svm, [(rng.standard_normal((20, 2)),
                             rng.choice([-1.0, 1.0], (20, 1)))] * 3
    raise ValueError(name)


WORKLOADS = ["1 cosine post", "2 sine README", "3 guide", "4 MLP float32", "5 digits CNN",
             "6 micrograd demo, vectorized"]


@pytest.mark.parametrize("name", WORKLOADS)
def test_workload_networks_train_to_the_same_bits_as_eager(name, rng):
    model, loss_of, batches = workload(name, rng)
    compiled = side_by_side(model, loss_of, batches)
    assert compiled.traces == 1 and compiled._last.program is not None


def test_workload_7_scalar_chain_and_8_small_arrays_match_eager(rng):
    def chain(x):
        for _ in range(1000):
            x = x * 0.9999 + 0.0001
        return x
    x, twin = Value(0.5), Value(0.5)
    compile(chain)(x).backward()
    chain(twin).backward()
    assert_same([x.grad], [twin.grad])

    overhead = compile(lambda a, b: (a * b + a).tanh().sum())
    a, b = Value(rng.standard_normal((4, 4))), Value(rng.standard_normal((4, 4)))
    a2, b2 = Value(a.data), Value(b.data)
    for _ in range(3):
        for x in (a, b, a2, b2):
            x.grad = None
        overhead(a, b).backward()
        (a2 * b2 + a2).tanh().sum().backward()
        assert_same(grads([a, b]), grads([a2, b2]))
        a.data, a2.data = a.data + 0.1, a2.data + 0.1  # arguments are read on every call


# --- the fuzz suite's random programs -----------------------------------------------------
@fewer(2)
@given(programs())
def test_random_programs_replay_with_fresh_data_as_eager(program):
    compiled = compile(lambda *xs: run(Ours(), program, xs)[1])
    rng = np.random.default_rng(0)
    for call in range(3):
        data = [x + 0.01 * call * rng.standard_normal(np.shape(x)) for x in program.leaves]
        mine, theirs = [Value(x) for x in data], [Value(x) for x in data]
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)  # (no eager fallback)
            loss = compiled(*mine)
        loss.backward()
        run(Ours(), program, theirs)[1].backward()
        assert_same([loss.data], [run(Ours(), program, theirs)[1].data])
        assert_same(grads(mine), grads(theirs))
    assert compiled.traces == 1


# --- every nn layer -----------------------------------------------------------------------
def _sum_all(out):
    if isinstance(out, (tuple, list)):
        return sum(_sum_all(o) for o in out)
    return (out * out).sum()


LAYERS = {  # name -> (layer, input shape or a maker of numpy inputs)
    "Linear": (lambda: nn.Linear(3, 4), (5, 3)),
    "Linear on 3-D input": (lambda: nn.Linear(3, 4, bias=False), (2, 5, 3)),
    "Conv2d": (lambda: nn.Conv2d(2, 3, 3, stride=2, padding=1), (2, 2, 7, 7)),
    "MaxPool2d": (lambda: nn.MaxPool2d(2), (2, 3, 6, 6)),
    "AvgPool2d": (lambda: nn.AvgPool2d(2), (2, 3, 6, 6)),
    "AdaptiveAvgPool2d": (lambda: nn.AdaptiveAvgPool2d(1), (2, 3, 4, 4)),
    "Flatten": (lambda: nn.Flatten(), (2, 3, 2, 2)),
    "Dropout": (lambda: nn.Dropout(0.3), (4, 6)),
    "BatchNorm1d (eval)": (lambda: nn.BatchNorm1d(3).eval(), (6, 3)),
    "BatchNorm2d (eval)": (lambda: nn.BatchNorm2d(3).eval(), (4, 3, 2, 2)),
    "BatchNorm1d (training)": (lambda: nn.BatchNorm1d(3), (6, 3)),
    "BatchNorm2d (training, momentum=None)": (lambda: nn.BatchNorm2d(3, momentum=None), (4, 3, 2, 2)),
    "LayerNorm": (lambda: nn.LayerNorm(4), (3, 4)),
    "RNN": (lambda: nn.RNN(3, 4, num_layers=2), (5, 2, 3)),
    "RNN relu, batch_first": (lambda: nn.RNN(3, 4, nonlinearity="relu", batch_first=True), (2, 5, 3)),
    "GRU": (lambda: nn.GRU(3, 4), (5, 2, 3)),
    "LSTM": (lambda: nn.LSTM(3, 4), (5, 2, 3)),
    "Embedding": (lambda: nn.Embedding(10, 3), lambda rng: rng.integers(0, 10, (4, 2))),
    "Tanh": (lambda: nn.Tanh(), (3, 4)),
    "Sigmoid": (lambda: nn.Sigmoid(), (3, 4)),
    "ReLU": (lambda: nn.ReLU(), (3, 4)),
    "LeakyReLU": (lambda: nn.LeakyReLU(0.2), (3, 4)),
    "ELU": (lambda: nn.ELU(), (3, 4)),
    "GELU": (lambda: nn.GELU(), (3, 4)),
    "SiLU": (lambda: nn.SiLU(), (3, 4)),
    "Softplus": (lambda: nn.Softplus(), (3, 4)),
    "Softmax": (lambda: nn.Softmax(dim=1), (3, 4)),
    "LogSoftmax": (lambda: nn.LogSoftmax(dim=1), (3, 4)),
    "Identity": (lambda: nn.Identity(), (3, 4)),
    "Snake (learnable)": (lambda: nn.Snake(a=2.0, learnable=True), (3, 4)),
    "MLP": (lambda: nn.MLP([3, 5, 2], activation="leaky_relu", output_activation="sigmoid"), (4, 3)),
}


# these compute a mask from the input's data in NumPy (`where(x.data > 0, ...)`): a trace would
# keep the first call's mask, so compile sees that and runs them eagerly
EAGER_LAYERS = {"ELU", "Softplus"}


@pytest.mark.parametrize("name", list(LAYERS))
def test_every_layer_gives_eager_outputs_and_gradients(name, rng):
    make, shape = LAYERS[name]
    ag.manual_seed(0)
    layer = make()
    twin = copy.deepcopy(layer)
    compiled = compile(lambda x: _sum_all(layer(x)))
    for call in range(2):
        data = shape(rng) if callable(shape) else rng.standard_normal(shape)
        mine = data if data.dtype.kind == "i" else Value(data)
        theirs = data if data.dtype.kind == "i" else Value(data)
        ag.manual_seed(call)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            loss = compiled(mine)
        loss.backward()
        eager = [w for w in caught if "runs it eagerly" in str(w.message)]
        assert len(eager) == (name in EAGER_LAYERS and call == 0), [str(w.message) for w in eager]
        ag.manual_seed(call)
        expected = _sum_all(twin(theirs))
        expected.backward()
        assert_same([loss.data], [expected.data])
        assert_same(grads(layer.parameters()), grads(twin.parameters()))
        if isinstance(mine, Value):
            assert_same([mine.grad], [theirs.grad])
        assert_same(list(layer.state_dict().values()), list(twin.state_dict().values()))
    assert (compiled._last.program is None) == (name in EAGER_LAYERS)


LOSSES = {  # name -> (loss, targets from a (5, 3) normal array)
    "mse_loss": (nn.mse_loss, lambda y: y),
    "l1_loss": (nn.l1_loss, lambda y: y),
    "binary_cross_entropy": (lambda x, y, reduction: nn.binary_cross_entropy(
        x.sigmoid(), y, reduction=reduction), lambda y: (y > 0) * 1.0),
    "binary_cross_entropy_with_logits": (nn.binary_cross_entropy_with_logits,
                                         lambda y: (y > 0) * 1.0),
    "cross_entropy": (nn.cross_entropy, lambda y: np.argmax(y, axis=1)),
}


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", list(LOSSES))
def test_every_loss_gives_eager_gradients(name, reduction, rng):
    loss, targets = LOSSES[name]
    x, y = rng.standard_normal((5, 3)), targets(rng.standard_normal((5, 3)))
    compiled = compile(lambda x, y: (loss(x, y, reduction=reduction) * 1.5).sum())
    mine, theirs = Value(x), Value(x)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # (no eager fallback)
        compiled(mine, y).backward()
    (loss(theirs, y, reduction=reduction) * 1.5).sum().backward()
    assert_same([mine.grad], [theirs.grad])


def test_tuple_outputs_come_back_in_their_structure(rng):
    lstm = nn.LSTM(3, 4)
    twin = copy.deepcopy(lstm)
    compiled = compile(lambda x: lstm(x))
    x = rng.standard_normal((5, 2, 3))
    out, (h, c) = compiled(x)
    expected, (h2, c2) = twin(x)
    assert_same([out.data, h.data, c.data], [expected.data, h2.data, c2.data])
    (out.sum() + h.sum() * 2 + c.sum()).backward()
    (expected.sum() + h2.sum() * 2 + c2.sum()).backward()
    assert_same(grads(lstm.parameters()), grads(twin.parameters()), exact=False)


# --- what is read fresh, and what makes a call trace again ----------------------------------
def test_parameters_and_arguments_are_read_on_every_call(rng):
    model = nn.Linear(3, 1)
    compiled = compile(lambda x: model(x).sum())
    x = rng.standard_normal((4, 3))
    compiled(x)
    model.weight.data = np.zeros((1, 3))
    model.bias.data += 1.0
    assert compiled(x).item() == pytest.approx(4 * model.bias.data.item())
    assert compiled(2 * x).item() == model(2 * x).sum().item()
    assert compiled.traces == 1


def test_a_changed_setting_or_a_new_hook_retraces(rng):
    """A layer's settings are constants of a trace, and a replay runs no hook added after it:
    changing either traces again (they gave stale answers silently before)."""
    linear, act = nn.Linear(2, 1), nn.LeakyReLU(0.2)
    compiled = compile(lambda x: act(linear(x)).sum())
    x = -np.abs(rng.standard_normal((3, 2)))
    compiled(x)
    handle = linear.register_forward_hook(lambda module, args, out: out * 10.0)
    for change in (lambda: None, lambda: setattr(act, "negative_slope", 0.5), handle.remove):
        change()
        assert compiled(x).item() == act(linear(x)).sum().item()
    assert compiled.traces == 4


_targets = None


def test_a_numpy_global_rebound_retraces(rng):
    """A NumPy array fn reads by name is a constant of the trace; binding the name to another
    array traces again (as rebinding a layer does) instead of replaying the old contents."""
    global _targets
    model, x = nn.Linear(3, 1), rng.standard_normal((4, 3))
    _targets = np.zeros((4, 1))
    compiled = compile(lambda x: nn.mse_loss(model(x), _targets))
    compiled(x)
    _targets = rng.standard_normal((4, 1))
    assert compiled(x).item() == nn.mse_loss(model(x), _targets).item()
    assert compiled.traces == 2


_scale = 2.0


def test_a_number_global_rebound_retraces(rng):
    """A number fn reads by name is a constant of the trace; rebinding it traces again."""
    global _scale
    model, x = nn.Linear(3, 1), rng.standard_normal((4, 3))
    compiled = compile(lambda x: (model(x) * _scale).sum())
    compiled(x)
    _scale = 3.0
    assert compiled(x).item() == (model(x) * _scale).sum().item()
    assert compiled.traces == 2


def _penalty(out):
    return (out * out).sum()


def test_a_function_name_rebound_retraces(rng):
    """fn's trace holds what the functions it calls did; binding a name fn calls to another
    function traces again."""
    global _penalty
    model, x = nn.Linear(3, 1), rng.standard_normal((4, 3))
    compiled = compile(lambda x: _penalty(model(x)))
    compiled(x)
    original, _penalty = _penalty, lambda out: out.sum() * 100.0
    try:
        assert compiled(x).item() == _penalty(model(x)).item()
        assert compiled.traces == 2
    finally:
        _penalty = original


def test_data_held_in_a_value_is_read_fresh(rng):
    """The README's rule: targets that change between calls go in a Value (not a NumPy global)."""
    model = nn.Linear(3, 1)
    targets = Value(np.zeros((4, 1)), requires_grad=False)
    compiled = compile(lambda x: nn.mse_loss(model(x), targets))
    x = rng.standard_normal((4, 3))
    compiled(x)
    targets.data = rng.standard_normal((4, 1))
    assert compiled(x).item() == nn.mse_loss(model(x), targets).item()
    assert compiled.traces == 1


@pytest.mark.parametrize("change", ["shape", "dtype", "requires_grad", "eval", "new parameter",
                                    "new layer", "rebound global"])
def test_each_retrace_trigger(change, rng):
    global _model
    _model = nn.Sequential(nn.Linear(3, 4), nn.Dropout(0.5), nn.Tanh(), nn.Linear(4, 1))
    compiled = compile(lambda x: _model(x).sum())
    x = Value(rng.standard_normal((5, 3)))
    compiled(x)
    if change == "shape":
        x = Value(rng.standard_normal((7, 3)))
    elif change == "dtype":
        x = Value(rng.standard_normal((5, 3)), dtype=np.float32)
    elif change == "requires_grad":
        x = Value(x.data, requires_grad=False)
    elif change == "eval":
        _model.eval()
    elif change == "new parameter":
        _model[0].weight = nn.Parameter(np.ones((4, 3)))
    elif change == "new layer":
        _model[3] = nn.Linear(4, 1)
    else:
        _model = nn.Sequential(nn.Linear(3, 1))
    ag.manual_seed(3)
    out = compiled(x)
    assert compiled.traces == 2
    ag.manual_seed(3)
    assert out.item() == _model(x).sum().item()
    if change == "eval":  # back to training: the first trace again, not a third
        _model.train()
        compiled(x)
        assert compiled.traces == 2


def test_arguments_that_are_not_arrays_retrace_by_value(rng):
    compiled = compile(lambda x, scale: (x * scale).sum())
    x = rng.standard_normal(3)
    assert compiled(x, 2.0).item() == pytest.approx(2 * x.sum())
    assert compiled(x, 3.0).item() == pytest.approx(3 * x.sum())
    assert compiled(x, scale=3.0).item() == pytest.approx(3 * x.sum())
    assert compiled.traces == 3


# --- layers a trace has to follow ------------------------------------------------------------
@pytest.mark.parametrize("own_rng", [False, True])
def test_dropout_draws_a_new_mask_every_call_as_eager_would(own_rng, rng):
    make = lambda: nn.Dropout(0.5, rng=np.random.default_rng(7) if own_rng else None)  # noqa: E731
    layer, twin = make(), make()
    compiled = compile(lambda x: layer(x) * 1.0)
    x = Value(rng.standard_normal((6, 5)))
    ag.manual_seed(11)
    outputs = [compiled(x).data for _ in range(3)]
    ag.manual_seed(11)
    expected = [(twin(x) * 1.0).data for _ in range(3)]
    assert_same(outputs, expected)
    assert not np.array_equal(outputs[0], outputs[1])
    assert compiled.traces == 1


def test_batchnorm_updates_running_statistics_in_training_and_compiles_in_eval(rng):
    bn, twin = nn.BatchNorm1d(3), nn.BatchNorm1d(3)
    compiled = compile(lambda x: (bn(x) * 2.0).sum())
    batches = [rng.standard_normal((6, 3)) for _ in range(3)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # training replays too: the update is a side effect
        for x in batches:
            compiled(x)
    assert compiled.traces == 1 and compiled._last.program is not None
    for x in batches:
        twin(x)
    assert bn.num_batches_tracked == 3
    assert_same([bn.running_mean, bn.running_var], [twin.running_mean, twin.running_var])
    for mode in ("eval", "eval after more training"):
        if mode != "eval":
            bn.train(), twin.train()
            compiled(batches[1]), twin(batches[1])
        bn.eval(), twin.eval()
        mine, theirs = Value(batches[0]), Value(batches[0])
        compiled(mine).backward()
        (twin(theirs) * 2.0).sum().backward()
        assert compiled._last.program is not None
        assert_same([mine.grad, bn.weight.grad], [theirs.grad, twin.weight.grad])
        bn.zero_grad(), twin.zero_grad()


def test_a_buffer_written_in_place_is_seen_in_eval_mode(rng):
    """In eval mode the trace keeps the running statistics it read; writing them in place (not
    through `load_state_dict`, which gives new arrays) must retrace, not replay stale ones."""
    bn = nn.BatchNorm1d(3).eval()
    compiled = compile(lambda x: bn(x).sum())
    x = rng.standard_normal((4, 3))
    compiled(x)
    for change in (lambda: bn.running_mean.__setitem__(..., 5.0),
                   lambda: bn.running_var.__iadd__(1.0)):
        change()
        assert compiled(x).item() == bn(x).sum().item()
    assert compiled.traces == 3


def test_batchnorm_side_effect_is_made_once_per_call(rng):
    """Once per call: not again for a second backward (retain_graph), nor by check=True's eager
    run beside the replay; and under no_grad() too, as eager BatchNorm does."""
    bn, twin = nn.BatchNorm1d(2), nn.BatchNorm1d(2)
    compiled = compile(lambda x: (bn(x) ** 2).sum(), check=2)
    batches = [Value(rng.standard_normal((5, 2))) for _ in range(4)]
    for x in batches[:3]:
        loss = compiled(x)
        loss.backward(retain_graph=True)
        loss.backward()
        (twin(x.detach()) ** 2).sum()
    with no_grad():
        compiled(batches[3]), twin(batches[3])
    assert bn.num_batches_tracked == twin.num_batches_tracked == 4
    assert_same([bn.running_mean, bn.running_var], [twin.running_mean, twin.running_var])
    assert compiled.traces == 1


class _RunningPeak(nn.Module):
    """A layer of a user's own: it keeps the largest activation it has seen, a side effect."""

    def __init__(self):
        super().__init__()
        self.register_buffer("peak", np.array(-np.inf))

    def forward(self, x):
        y = x.tanh()
        ag.side_effect(self._remember, y)
        return y

    def _remember(self, y):
        self.peak = np.maximum(self.peak, y.max())


def test_a_users_side_effect_is_replayed_and_shown_in_the_source():
    layer = _RunningPeak()
    compiled = compile(lambda x: layer(x).sum())
    peaks = []
    data = np.array([[0.5, -1.0], [2.0, 0.3]])
    for scale in (0.1, 1.0, 0.5):
        compiled(data * scale)
        peaks.append(float(layer.peak))
    assert compiled.traces == 1 and compiled._last.program is not None
    assert peaks[0] < peaks[1] == peaks[2]  # updated by every replay, from that call's data
    assert "# then _RunningPeak._remember(tanh_0) updates the layer's state" in compiled.source
    assert "side effect" in compiled.fused_source

# --- the engine around a compiled call -------------------------------------------------------
def _small(rng):
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    return model, compile(lambda x: (model(x) ** 2).sum()), rng.standard_normal((5, 3))


def test_no_grad_gives_the_forward_only(rng):
    model, compiled, x = _small(rng)
    with no_grad():
        out = compiled(x)
    assert not out.requires_grad and out.op == ""
    assert out.item() == compiled(x).item() == (model(x) ** 2).sum().item()


def test_a_frozen_model_gives_results_that_do_not_require_grad(rng):
    model, compiled, x = _small(rng)
    for p in model.parameters():
        p.requires_grad = False
    first, second = compiled(x), compiled(x)
    assert not first.requires_grad and not second.requires_grad
    assert first.item() == second.item() == (model(x) ** 2).sum().item()


def test_dead_traces_leave_the_op_table(rng):
    import gc
    from autograd_lite.value import PRIMITIVES
    model, compiled, x = _small(rng)
    compiled(x), compiled(x)
    name = compiled._last.names[0]
    assert name in PRIMITIVES
    del compiled
    gc.collect()
    assert name not in PRIMITIVES


def test_detect_anomaly_runs_the_function_eagerly(rng):
    model, compiled, x = _small(rng)
    compiled(x)
    with ag.detect_anomaly():
        out = compiled(x)
        assert out.op == "sum"  # the eager graph, op by op
        with pytest.raises(ag.AnomalyError, match="op 'log'"), np.errstate(invalid="ignore"):
            compile(lambda v: (v - 10.0).log().sum())(x)


def test_a_parameter_changed_in_place_before_backward_raises(rng):
    model, compiled, x = _small(rng)
    loss = compiled(x)
    with no_grad():
        model[0].weight -= 0.1
    with pytest.raises(RuntimeError, match="modified in place.*'0.weight'"):
        loss.backward()


def test_backward_accumulates_keeps_the_graph_on_request_and_refuses_a_second_time(rng):
    model, compiled, x = _small(rng)
    loss = compiled(x)
    loss.backward(retain_graph=True)
    once = grads(model.parameters())
    loss.backward()  # the forward's arrays were dropped by the first backward: recomputed
    assert_same(grads(model.parameters()), [2 * g for g in once])
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        loss.backward()


def test_grad_and_create_graph_agree_with_eager(rng):
    model, compiled, x = _small(rng)
    params = list(model.parameters())
    assert_same([g.data for g in ag.grad(compiled(x), params)],
                [g.data for g in ag.grad((model(x) ** 2).sum(), params)])
    first = ag.grad(compiled(x), params, create_graph=True)  # the eager path: recorded
    expected = ag.grad((model(x) ** 2).sum(), params, create_graph=True)
    assert all(g.requires_grad for g in first)
    assert_same([g.data for g in first], [g.data for g in expected], exact=False)
    second = ag.grad(sum((g * g).sum() for g in first), params[0])
    assert_same([second[0].data], [ag.grad(sum((g * g).sum() for g in expected), params[0])[0].data],
                exact=False)


def test_a_compiled_result_joins_eager_graphs(rng):
    model, compiled, x = _small(rng)
    w = model[0].weight
    (compiled(x) + (w * w).sum()).backward()
    mine = w.grad.copy()
    model.zero_grad()
    ((model(x) ** 2).sum() + (w * w).sum()).backward()
    assert_same([mine], [w.grad])


# --- check=True ----------------------------------------------------------------------------------
def test_check_names_the_first_op_where_data_dependent_control_flow_differs():
    def branchy(x):
        total = (x * 2.0).sum()
        return total * 3.0 if total.item() > 0 else total * 4.0
    compiled = compile(branchy, check=True)
    assert compiled(np.ones(3)).item() == 18.0
    with pytest.raises(RuntimeError, match="disagree at op 2 'mul'.*depends on the values"):
        compiled(-np.ones(3))


def test_check_passes_a_traceable_function_with_dropout(rng):
    model = nn.Sequential(nn.Linear(3, 4), nn.Dropout(0.5), nn.Linear(4, 1))
    compiled = compile(lambda x: model(x).sum(), check=True)
    ag.manual_seed(0)
    outputs = [compiled(rng.standard_normal((5, 3))).item() for _ in range(4)]
    assert len(set(outputs)) == 4 and compiled.traces == 1


# --- what it cannot trace: eager, with a warning saying why -----------------------------------------
@pytest.mark.parametrize("fn, why", [
    (lambda x: float((x * x).sum().item()), "returned float"),
    (lambda x: (Value(np.asarray(x) * 2.0) * x).sum(), "fails on Value arguments"),
    (lambda x: ag.where(x.data > 0, x, -x).sum(), "changes with the data"),
    (lambda x: (x * np.random.default_rng().random(3)).sum(), "changes with the data"),
    (lambda x: (x * np.random.rand(3)).sum(), "drawn at random"),
])
def test_what_a_trace_cannot_follow_runs_eagerly(fn, why):
    compiled = compile(fn)
    x = np.array([1.0, -2.0, 3.0])
    with pytest.warns(RuntimeWarning, match=why):
        first = compiled(x)
    compiled(-x)
    assert compiled._last.program is None and "runs eagerly" in compiled.source
    if "where" in compiled.source:  # (the deterministic one: eager's numbers)
        assert first.item() == 6.0 and compiled(-x).item() == 6.0


def test_errors_are_the_functions_own_and_nothing_is_cached():
    model = nn.Linear(3, 2)
    compiled = compile(lambda x: model(x).sum())
    with pytest.raises(ValueError, match=r"Linear\(3→2\).*got shape \(4, 5\)"):
        compiled(np.ones((4, 5)))
    assert compiled.traces == 0
    with pytest.raises(TypeError, match="expected a function"):
        compile(3)
    with pytest.raises(RuntimeError, match="not traced yet"):
        compile(lambda x: x).source


# --- the source it shows ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["1 cosine post", "5 digits CNN", "3 guide"])
def test_source_is_numpy_that_reproduces_the_gradients(name, rng):
    model, loss_of, batches = workload(name, rng)
    compiled = compile(lambda x, y: loss_of(model, x, y))
    loss = compiled(*batches[0])
    loss.backward()
    namespace = {}
    exec(compiled.source, namespace)
    arrays = compiled.source_arrays(*batches[0])
    out, intermediates = namespace["forward"](**arrays)
    gradients = namespace["backward"](np.ones_like(out), **arrays, **intermediates)
    np.testing.assert_allclose(out, loss.data, rtol=1e-6 if out.dtype == np.float32 else 1e-12)
    for key, param in model.named_parameters():
        np.testing.assert_allclose(gradients[key], param.grad, rtol=1e-5 if out.dtype == np.float32
                                   else 1e-12, atol=1e-7)


def test_source_of_the_cosine_network_reads_as_the_hand_derivation():
    model = nn.Sequential(nn.Linear(1, 5), nn.Tanh(), nn.Linear(5, 1), nn.Tanh())
    compiled = compile(lambda t, y: nn.mse_loss(model(t), y, reduction="sum") * 0.5)
    compiled(np.ones((50, 1)), np.ones((50, 1)))
    source = compiled.source
    for line in ["linear_0 = t @ _0_weight.T + _0_bias", "tanh_1 = np.tanh(linear_0)",
                 "g_linear_2 = g_tanh_3 * (1.0 - tanh_3 * tanh_3)",
                 "g__2_weight = g_linear_2.T @ tanh_1",
                 "g__0_bias = g_linear_0.sum(axis=0)  # summed over broadcast axes"]:
        assert line in source
    assert "P[" not in source  # every op written as NumPy
    assert "V2_1_" in compiled.fused_source  # the code that runs calls the table's vjps


# --- memory and fit ----------------------------------------------------------------------------------
def test_ten_thousand_calls_hold_flat_memory(rng):
    model = nn.MLP([2, 8, 8, 1], rng=rng)
    optimizer = nn.SGD(model.parameters(), lr=0.01)
    compiled = compile(lambda x, y: nn.mse_loss(model(x), y))
    x, y = rng.standard_normal((16, 2)), rng.standard_normal((16, 1))
    tracemalloc.start()
    try:
        for step in range(10_000):
            optimizer.zero_grad()
            compiled(x, y).backward()
            optimizer.step()
            if step == 1_000:
                early = tracemalloc.get_traced_memory()[0]
        late = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert late - early < 4096, (early, late)
    assert compiled.traces == 1


def test_fit_with_compile_trains_as_eager_fit(rng):
    X, y = rng.standard_normal((40, 3)), rng.integers(0, 3, 40)
    histories, states = [], []
    for compiled in (False, True):
        model = nn.Sequential(nn.Linear(3, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Dropout(0.2),
                              nn.Linear(8, 3))
        model.load_state_dict(states[0]) if states else states.append(model.state_dict())
        ag.manual_seed(0)
        histories.append(nn.fit(model, nn.CrossEntropyLoss(), nn.Adam(model.parameters(), lr=0.01),
                                X, y, epochs=3, batch_size=16, progress=False,
                                validation_data=(X, y), compile=compiled))
        states.append(model.state_dict())
    assert histories[0] == histories[1]
    assert all(np.array_equal(states[1][k], states[2][k]) for k in states[1])

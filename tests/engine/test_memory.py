"""Training keeps memory flat: every step's graph is freed as soon as it is dropped.

Reference counting alone must free a step's graph (no reference cycles that
would wait for the garbage collector), so the checks run with the collector
switched off: traced memory must not grow between an early and a late step,
`gc.collect()` must then find nothing to free, and weak references to the
last step's loss and output must be dead once the loop lets go of them.

The full check is 10,000 steps of a small MLP. Under tracemalloc one step
costs several milliseconds on the shared CI machine, so the suite runs
2,000 steps and `HARDENING_MEMORY_STEPS=10000` runs the full count locally.
The other layers (convolution, pooling, batch norm, dropout, Snake, RNN)
get the release and cycle checks over a few steps.
"""
import gc
import os
import tracemalloc
import weakref

import numpy as np
import pytest

import nn

STEPS = int(os.environ.get("HARDENING_MEMORY_STEPS", "2000"))
GROWTH_LIMIT = 100_000  # bytes the last step may hold beyond the checkpoint step


def train(model, optimizer, loss_fn, X, y, steps, checkpoint=None):
    """`steps` plain training steps.

    Returns traced memory after step `checkpoint` and after the last step
    (None without tracemalloc), and weak references to the last step's loss
    and output, taken after the loop has let go of them.
    """
    early = None
    for step in range(1, steps + 1):
        optimizer.zero_grad()
        output = model(X)
        loss = loss_fn(output, y)
        loss.backward()
        optimizer.step()
        if step == checkpoint:
            early = tracemalloc.get_traced_memory()[0]
    last = output[0] if isinstance(output, tuple) else output
    refs = [weakref.ref(loss), weakref.ref(last)]
    del output, loss, last
    late = tracemalloc.get_traced_memory()[0] if tracemalloc.is_tracing() else None
    return early, late, refs


@pytest.fixture
def collector_off():
    """The garbage collector off for the test's duration: only reference counting frees."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def check_released(refs):
    assert all(ref() is None for ref in refs), "the last step's graph outlived the training loop"
    assert gc.collect() == 0, "reference cycles were left for the garbage collector"
    assert gc.garbage == []


def test_small_mlp_training_keeps_memory_flat(collector_off):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(32, 2))
    y = X[:, :1] * X[:, 1:]
    model = nn.MLP([2, 8, 8, 1], rng=np.random.default_rng(1))
    optimizer = nn.SGD(model.parameters(), lr=0.05, momentum=0.9)
    checkpoint = STEPS // 10  # after the first steps have filled numpy's and Python's caches
    tracemalloc.start()
    try:
        early, late, refs = train(model, optimizer, nn.mse_loss, X, y, STEPS, checkpoint)
    finally:
        tracemalloc.stop()
    assert late - early < GROWTH_LIMIT, (
        f"traced memory grew by {late - early} bytes between step {checkpoint} and step {STEPS}")
    check_released(refs)
    assert nn.mse_loss(model(X), y).item() < 0.5 * np.var(y)  # and it did train


@pytest.mark.parametrize("make_model, x_shape, loss_fn, targets", [
    (lambda: nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                           nn.Flatten(), nn.BatchNorm1d(8), nn.Dropout(0.2), nn.Linear(8, 3)),
     (8, 1, 4, 4), nn.cross_entropy, np.arange(8) % 3),
    (lambda: nn.MLP([3, 4, 2], activation=nn.Snake(learnable=True)),
     (8, 3), nn.binary_cross_entropy_with_logits, np.ones((8, 2))),
    (lambda: nn.RNN(2, 3, num_layers=2), (6, 4, 2), nn.mse_loss, np.zeros((6, 4, 3))),
])
def test_every_kind_of_layer_releases_its_graph(collector_off, make_model, x_shape, loss_fn,
                                                targets):
    X = np.random.default_rng(0).normal(size=x_shape)
    model = make_model()

    def loss_of_output(output, target):  # RNN returns (output, h_n)
        return loss_fn(output[0] if isinstance(output, tuple) else output, target)

    optimizer = nn.Adam(model.parameters(), lr=1e-2)
    _, _, refs = train(model, optimizer, loss_of_output, X, targets, 20)
    check_released(refs)

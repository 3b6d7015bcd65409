"""Threads: grad mode and anomaly mode are per thread, and concurrent training doesn't interfere.

Python switches threads every few microseconds here (`sys.setswitchinterval`),
so the threads' forward passes, backward passes and optimizer steps really
interleave. Each model owns everything it draws from (its own generator for
initial weights and dropout masks), so its training is the same whether it
runs alone or beside another.
"""
import sys
import threading

import numpy as np
import pytest

import nn
from autograd_lite import (AnomalyError, Value, detect_anomaly, enable_grad, is_grad_enabled,
                           no_grad)


@pytest.fixture
def fast_switching():
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(previous)


def run_threads(*targets):
    """Run each target in its own thread, started together; re-raise the first error."""
    errors = []
    start = threading.Barrier(len(targets))

    def wrap(target):
        def body():
            try:
                start.wait(120)  # a BrokenBarrierError if the other thread never arrives
                target()
            except BaseException as error:  # noqa: BLE001  reported in the main thread
                errors.append(error)
        return body

    threads = [threading.Thread(target=wrap(t)) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def test_no_grad_and_enable_grad_nest_independently_in_each_thread(fast_switching):
    x = Value([1.0, 2.0])
    seen = {"evaluator": [], "trainer": []}
    in_no_grad = threading.Barrier(2)

    def evaluator():
        for _ in range(200):
            with no_grad():
                in_no_grad.wait(120)  # the trainer is recording right now
                seen["evaluator"].append((x * 2).requires_grad)
                with enable_grad():
                    seen["evaluator"].append((x * 2).requires_grad)
                seen["evaluator"].append(is_grad_enabled())

    def trainer():
        for _ in range(200):
            in_no_grad.wait(120)  # the evaluator is inside no_grad right now
            y = (x * x).sum()
            seen["trainer"].append(y.requires_grad and is_grad_enabled())

    run_threads(evaluator, trainer)
    assert seen["evaluator"] == [False, True, False] * 200
    assert seen["trainer"] == [True] * 200
    assert is_grad_enabled()


@pytest.mark.filterwarnings("ignore:invalid value encountered in log:RuntimeWarning")
def test_detect_anomaly_is_per_thread(fast_switching):
    inside = threading.Event()
    done = threading.Event()
    results = {}

    def watched():
        with detect_anomaly():
            inside.set()
            assert done.wait(120)
            try:
                Value([-1.0]).log()
            except AnomalyError:
                results["watched"] = "raised"

    def unwatched():
        assert inside.wait(120)
        with np.errstate(invalid="ignore"):
            results["unwatched"] = np.isnan(Value([-1.0]).log().item())
        done.set()

    run_threads(watched, unwatched)
    assert results == {"watched": "raised", "unwatched": True}


def make_job(seed):
    """A model, its optimizer and its data, all drawn from generators seeded with `seed`."""
    rng = np.random.default_rng(seed)
    model = nn.Sequential(nn.Linear(3, 16, rng=rng), nn.Tanh(), nn.Dropout(0.2, rng=rng),
                          nn.Linear(16, 16, rng=rng), nn.ReLU(), nn.Linear(16, 2, rng=rng))
    optimizer = nn.Adam(model.parameters(), lr=1e-2) if seed % 2 else \
        nn.SGD(model.parameters(), lr=0.05, momentum=0.9)
    X = rng.normal(size=(32, 3))
    y = (X[:, :2] > 0).astype(int).sum(axis=1) % 2
    return model, optimizer, X, y


def train(job, steps=150):
    model, optimizer, X, y = job
    for _ in range(steps):
        optimizer.zero_grad()
        loss = nn.cross_entropy(model(X), y)
        loss.backward()
        optimizer.step()
        with no_grad():  # an evaluation inside the loop, as a training script would do
            model.eval()
            model(X)
            model.train()
    return model.state_dict()


def test_two_threads_training_two_models_match_training_them_one_after_another(fast_switching):
    alone = [train(make_job(seed)) for seed in (1, 2)]
    together = [None, None]
    jobs = [make_job(1), make_job(2)]

    def worker(k):
        return lambda: together.__setitem__(k, train(jobs[k]))

    run_threads(worker(0), worker(1))
    for k in range(2):
        assert list(together[k]) == list(alone[k])
        for key, value in alone[k].items():
            np.testing.assert_array_equal(together[k][key], value, err_msg=f"model {k}: {key}")

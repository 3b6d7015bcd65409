"""autograd_lite through its public API (Value, functions), the engine being measured.

Variants: "ours" (workload 6 built from scalar Values, like micrograd),
"ours-vec" (workload 6 vectorized), "ours-nn" (workloads 1-4 as a user writes
them with nn: nn.Linear/nn.Sequential, nn's loss functions, nn.SGD),
"ours-nocheck" (workload 8 with backward's version-counter check patched out,
to measure what it costs), "ours-compiled" (every workload through
autograd_lite.compile: the ours-nn network, and nn layers for the CNN, with the
loss function compiled; its `train.trace_ratio` is the tracing cost).
"""
import statistics
import time

import autograd_lite
from autograd_lite import Value, conv2d, log_softmax, max_pool2d

from . import formulas
from .. import workloads

F = formulas.namespace(
    tanh=Value.tanh, sigmoid=Value.sigmoid, relu=Value.relu, log=Value.log,
    log_softmax=log_softmax, mean=Value.mean, sum=Value.sum,
    conv2d=conv2d, max_pool2d=max_pool2d)


def _sgd(params, lr):
    for p in params:
        p.data -= lr * p.grad
        p.grad = None


def mlp(problem):
    weights = [Value(w) for w in problem["weights"]]
    biases = [Value(b) for b in problem["biases"]]
    params = weights + biases

    def train():
        for step, (x, y) in enumerate(workloads.batches(problem)):
            out = formulas.mlp_forward(F, x, weights, biases, problem["hidden"], problem["out_act"])
            loss = formulas.mlp_loss(F, out, y, problem["loss"])
            if problem["l2"]:
                loss = loss + formulas.l2_penalty(F, weights + biases, problem["l2"])
            loss.backward()
            _sgd(params, workloads.learning_rate(problem, step))
        return {"loss": loss.item()}
    return train


def _nn_loss(nn, kind):
    """The workload's loss as nn's loss function, where nn has one (else formulas.mlp_loss)."""
    if kind == "half_sse":       # ½ Σ (ŷ - y)²
        return lambda out, y: nn.mse_loss(out, y, reduction="sum") * 0.5
    if kind == "mse":
        return nn.mse_loss
    if kind == "bce":            # on the sigmoid output
        return nn.binary_cross_entropy
    if kind == "cross_entropy":  # logits and integer labels
        return nn.cross_entropy
    return lambda out, y: formulas.mlp_loss(F, out, y, kind)


def _nn_network(problem):
    """(model, loss of (x, y), nn.SGD): the mlp workload as nn.Sequential of nn.Linear and
    activations with nn's loss (plus the l2 penalty where the workload has one)."""
    import nn
    activations = {"tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "relu": nn.ReLU}
    loss_function = _nn_loss(nn, problem["loss"])
    layers, count = [], len(problem["weights"])
    for i, (w, b) in enumerate(zip(problem["weights"], problem["biases"])):
        linear = nn.Linear(*w.shape)
        linear.weight.data, linear.bias.data = w.T.copy(), b.copy()  # nn stores (out, in)
        layers.append(linear)
        activation = problem["hidden"] if i < count - 1 else problem["out_act"]
        if activation:
            layers.append(activations[activation]())
    model = nn.Sequential(*layers)

    def loss_of(x, y):
        loss = loss_function(model(x), y)
        if problem["l2"]:
            loss = loss + formulas.l2_penalty(F, list(model.parameters()), problem["l2"])
        return loss
    return model, loss_of, nn.SGD(model.parameters(), lr=problem["lr"])


def _nn_training(problem, model, loss_of, optimizer):
    def train():
        for step, (x, y) in enumerate(workloads.batches(problem)):
            optimizer.zero_grad()
            loss = loss_of(x, y)
            loss.backward()
            if problem.get("lr_decay"):
                optimizer.param_groups[0]["lr"] = workloads.learning_rate(problem, step)
            optimizer.step()
        return {"loss": loss.item()}
    return train


def nn_mlp(problem):
    """The same network as nn.Sequential of nn.Linear and activations, nn's loss, nn.SGD."""
    model, loss_of, optimizer = _nn_network(problem)
    return _nn_training(problem, model, loss_of, optimizer)


def _nn_cnn(problem):
    """(model, loss of (x, y), nn.SGD): workload 5 as nn.Conv2d, nn.ReLU, nn.MaxPool2d,
    nn.Flatten, nn.Linear and nn.cross_entropy."""
    import nn
    conv, fc = nn.Conv2d(1, 8, 3), nn.Linear(72, 10)
    conv.weight.data, conv.bias.data = problem["conv_w"].copy(), problem["conv_b"].copy()
    fc.weight.data, fc.bias.data = problem["fc_w"].T.copy(), problem["fc_b"].copy()
    model = nn.Sequential(conv, nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), fc)
    return model, lambda x, y: nn.cross_entropy(model(x), y), \
        nn.SGD(model.parameters(), lr=problem["lr"])


def _with_trace_cost(train, eager_step, compiled_step):
    """`train`, carrying the tracing cost measured here on copies (untimed by the harness):
    the first compiled step (the trace: fn run eagerly and recorded) and the second (the code
    written and compiled, then the first replay), each ÷ the median eager step."""
    times = []
    for _ in range(6):
        start = time.perf_counter()
        eager_step()
        times.append(time.perf_counter() - start)
    eager = statistics.median(times[1:])
    calls = []
    for _ in range(2):
        start = time.perf_counter()
        compiled_step()
        calls.append((time.perf_counter() - start) / eager)
    train.trace_ratio, train.second_call_ratio = calls
    return train


def _compiled(network, problem, batch):
    """The network's loss through autograd_lite.compile; the rest of the loop as ours-nn."""
    model, loss_of, optimizer = network(problem)
    train = _nn_training(problem, model, autograd_lite.compile(loss_of), optimizer)

    def step(loss_of, optimizer):
        def run():
            optimizer.zero_grad()
            loss_of(*batch).backward()
            optimizer.step()
        return run
    eager = network(problem)
    spare = network(problem)
    return _with_trace_cost(train, step(eager[1], eager[2]),
                            step(autograd_lite.compile(spare[1]), spare[2]))


def compiled_mlp(problem):
    return _compiled(_nn_network, problem, next(workloads.batches(problem)))


def compiled_cnn(problem):
    return _compiled(_nn_cnn, problem, next(workloads.batches(problem)))


def compiled_chain(problem):
    """Workload 7 compiled: one forward and backward, so all of it is the trace (past
    compile.MAX_OPS ops, compile runs it eagerly and warns)."""
    run = autograd_lite.compile(lambda x: formulas.chain(x, problem["n_ops"]))

    def train():
        x = Value(problem["x0"])
        y = run(x)
        y.backward()
        return {"loss": y.item(), "grad": x.grad.item()}
    return train


def compiled_overhead(problem):
    """Workload 8 compiled: the expression, a function of its two Value arguments."""
    def expression(a, b):
        return formulas.overhead_expression(F, a, b)
    a, b = Value(problem["a"]), Value(problem["b"])
    compiled = autograd_lite.compile(expression)

    def train():
        for _ in range(problem["iterations"]):
            a.grad = b.grad = None
            out = compiled(a, b)
            out.backward()
        return {"loss": out.item(), "grad": float(a.grad.sum())}

    def step(run, x, y):
        def once():
            x.grad = y.grad = None
            run(x, y).backward()
        return once
    return _with_trace_cost(train, step(expression, Value(problem["a"]), Value(problem["b"])),
                            step(autograd_lite.compile(expression), Value(problem["a"]),
                                 Value(problem["b"])))


def scalar_moons(problem):
    return formulas.scalar_moons_training(problem, Value, _sgd, workloads.learning_rate)


def cnn(problem):
    params = [Value(problem[k]) for k in ("conv_w", "conv_b", "fc_w", "fc_b")]
    return formulas.cnn_training(F, params, lambda: workloads.batches(problem), problem["lr"], _sgd)


def chain(problem):
    def train():
        return formulas.chain_backward(Value(problem["x0"]), problem["n_ops"])
    return train


def overhead(problem):
    a, b = Value(problem["a"]), Value(problem["b"])
    return formulas.overhead_training(F, a, b, problem["iterations"])


class _VersionCheckRemoved:
    """Context manager: the engine's backward without its version-counter check.

    Patches `autograd_lite.versions.check_unchanged` (which backward calls for an op
    that ran before the latest change to any `.data`) with one that accepts everything.
    """

    def __enter__(self):
        self._saved = autograd_lite.versions.check_unchanged
        autograd_lite.versions.check_unchanged = lambda node: None
        return self

    def __exit__(self, *exc):
        autograd_lite.versions.check_unchanged = self._saved
        return False


def _check_is_removed():
    """Raise NotImplementedError unless, inside the context, a stale graph no longer raises."""
    x = Value([1.0, 2.0])
    y = (x * x).sum()
    x.data = x.data + 1.0  # bumps x's version: the normal engine refuses this backward
    with _VersionCheckRemoved():
        try:
            y.backward()
        except RuntimeError as error:
            raise NotImplementedError(
                f"could not remove the version check for the comparison: {error}") from None


def overhead_without_version_check(problem):
    """Workload 8 with the version-counter check of backward removed, to measure its cost."""
    _check_is_removed()
    run = overhead(problem)

    def train():
        with _VersionCheckRemoved():
            return run()
    return train


RUNNERS = {
    "ours": {"mlp": mlp, "moons": scalar_moons, "cnn": cnn, "chain": chain, "overhead": overhead},
    "ours-vec": {"moons": mlp},
    "ours-nn": {"mlp": nn_mlp},
    "ours-nocheck": {"overhead": overhead_without_version_check},
    "ours-compiled": {"mlp": compiled_mlp, "moons": compiled_mlp, "cnn": compiled_cnn,
                      "chain": compiled_chain, "overhead": compiled_overhead},
}

"""The workloads of the speed targets, as plain numpy problems every engine can run.

Each workload builds one *problem*: a dict of numpy arrays (data and initial
parameters, all drawn from one seed) and settings (steps, learning rate, loss).
Every engine copies the same arrays into its own types and runs the same
steps, so their final losses must agree; that is how the table shows that all
engines did the same math.

Problem kinds (an engine implements each kind once):
- "mlp":      dense net `x @ W + b`, hidden activation, optional output
              activation, a loss, plain SGD (workloads 1-4 and the scaling rows);
- "moons":    the same for micrograd's demo (workload 6); engines that build it
              from scalar values implement this kind separately;
- "cnn":      Conv2d 1->8 3x3, ReLU, MaxPool 2, Linear -> 10 (workload 5);
- "chain":    a long chain of scalar ops, forward + backward (workload 7);
- "overhead": ((a*b + a).tanh().sum()).backward() on 4x4 arrays (workload 8).
"""
import numpy as np

SEED = 0


def _dense_init(sizes, rng, scale, dtype=np.float64):
    """[(W (in, out), b (out,)), ...] with W ~ N(0, 1) * scale(fan_in), b = 0."""
    return [(rng.standard_normal((n_in, n_out)) * scale(n_in)).astype(dtype)
            for n_in, n_out in zip(sizes[:-1], sizes[1:])], \
           [np.zeros(n_out, dtype=dtype) for n_out in sizes[1:]]


def _mlp(x, y, weights, biases, **settings):
    problem = dict(kind="mlp", x=x, y=y, weights=weights, biases=biases,
                   out_act=None, loss="mse", lr=0.1, l2=0.0, lr_decay=False, batch=len(x))
    problem.update(settings)
    return problem


def cosine_post(quick):
    """1: the cosine post's 1-5-1 tanh net, 50 points, loss ½Σ(ŷ-y)², SGD 0.01, 10,000 epochs."""
    t = np.linspace(0.0, 1.0, 50).reshape(-1, 1)
    draws = np.random.RandomState(42)  # the post's init: w1, w2, b1 (5x1), b2 (1x1) ~ N(0, 1)
    w1, w2, b1 = (draws.normal(0.0, 1.0, size=(5, 1)) for _ in range(3))
    b2 = draws.normal(0.0, 1.0, size=(1, 1))
    return _mlp(t, np.cos(2 * np.pi * t), [w1.T, w2], [b1.ravel(), b2.ravel()],
                hidden="tanh", out_act="tanh", loss="half_sse", lr=0.01,
                steps=20 if quick else 10_000)


def sine_readme(quick):
    """2: the sine README's 1-30-1 tanh net, 100 points, MSE, 8,000 epochs.

    Sizes and op count are the README's; the init (N(0, 1)/√fan_in) and the
    interval [-π, π] are simpler stand-ins, which change no timing.
    """
    rng = np.random.default_rng(SEED)
    x = np.linspace(-np.pi, np.pi, 100).reshape(-1, 1)
    weights, biases = _dense_init([1, 30, 1], rng, lambda n: np.sqrt(1.0 / n))
    return _mlp(x, np.sin(x), weights, biases, hidden="tanh", loss="mse", lr=0.05,
                steps=20 if quick else 8_000)


def guide_classifier(quick):
    """3: the guide's [2, 4, 4, 1] sigmoid classifier (He init), 800 samples, BCE, lr 0.1, 1,000 epochs."""
    rng = np.random.default_rng(SEED)
    x = rng.standard_normal((800, 2))
    y = (x[:, :1] * x[:, 1:] + 0.3 * rng.standard_normal((800, 1)) > 0).astype(np.float64)
    weights, biases = _dense_init([2, 4, 4, 1], rng, lambda n: np.sqrt(2.0 / n))
    return _mlp(x, y, weights, biases, hidden="sigmoid", out_act="sigmoid", loss="bce",
                lr=0.1, steps=20 if quick else 1_000)


def mnist_mlp(quick, batch=128, width=256):
    """4: a 784-W-W-10 ReLU MLP, float32, random data, softmax cross-entropy, 200 SGD steps."""
    rng = np.random.default_rng(SEED)
    if quick:
        batch, width = 16, 32
    x = rng.standard_normal((4 * batch, 784)).astype(np.float32)
    y = rng.integers(0, 10, size=4 * batch)
    weights, biases = _dense_init([784, width, width, 10], rng, lambda n: np.sqrt(2.0 / n),
                                  np.float32)
    return _mlp(x, y, weights, biases, hidden="relu", loss="cross_entropy", lr=0.01,
                batch=batch, steps=5 if quick else 200)


def digits_cnn(quick):
    """5: Conv2d 1->8 3x3, ReLU, MaxPool 2, Linear 72 -> 10 on sklearn's 8x8 digits, batch 64, 300 steps."""
    rng = np.random.default_rng(SEED)
    if quick:  # random 8x8 images: the tiny mode skips importing sklearn
        x, y = rng.uniform(0, 1, (128, 1, 8, 8)).astype(np.float32), rng.integers(0, 10, 128)
    else:
        from sklearn.datasets import load_digits
        digits = load_digits()
        x = (digits.images / 16.0).astype(np.float32)[:, None]   # N, 1, 8, 8
        y = digits.target
    scale = lambda n: np.sqrt(2.0 / n)  # noqa: E731
    return dict(kind="cnn", x=x, y=y,
                conv_w=(rng.standard_normal((8, 1, 3, 3)) * scale(9)).astype(np.float32),
                conv_b=np.zeros(8, np.float32),
                fc_w=(rng.standard_normal((72, 10)) * scale(72)).astype(np.float32),
                fc_b=np.zeros(10, np.float32),
                lr=0.1, batch=64, steps=5 if quick else 300)


def micrograd_demo(quick):
    """6: micrograd's demo: 2-16-16-1 ReLU MLP, 100 two-moons points, SVM loss + 1e-4 L2, 20 steps."""
    rng = np.random.default_rng(SEED)
    if quick:  # 20 random points: the tiny mode skips importing sklearn
        x, y = rng.standard_normal((20, 2)), rng.integers(0, 2, 20)
    else:
        from sklearn.datasets import make_moons
        x, y = make_moons(n_samples=100, noise=0.1, random_state=1)
    weights, biases = _dense_init([2, 16, 16, 1], rng, lambda n: 1.0)
    weights = [rng.uniform(-1, 1, w.shape) for w in weights]  # micrograd's init: U(-1, 1)
    problem = _mlp(x, (2.0 * y - 1.0).reshape(-1, 1), weights, biases, hidden="relu",
                   loss="svm", l2=1e-4, lr=1.0, lr_decay=True, steps=3 if quick else 20)
    problem["kind"] = "moons"
    return problem


def scalar_chain(quick):
    """7: y = y * 0.9999 + 0.0001 repeated: 100,000 scalar ops, then backward."""
    return dict(kind="chain", x0=0.5, n_ops=2_000 if quick else 100_000)


def op_overhead(quick):
    """8: ((a*b + a).tanh().sum()).backward() on 4x4 arrays, 10,000 times."""
    rng = np.random.default_rng(SEED)
    return dict(kind="overhead", a=rng.standard_normal((4, 4)), b=rng.standard_normal((4, 4)),
                iterations=200 if quick else 10_000)


# id -> (title, problem kind, problem builder); the 4b/4w rows are workload 4's scaling
WORKLOADS = {
    "1": ("cosine post 1-5-1 tanh, 10k epochs", "mlp", cosine_post),
    "2": ("sine README 1-30-1 tanh, 8k epochs", "mlp", sine_readme),
    "3": ("guide [2,4,4,1] sigmoid BCE, 1k epochs", "mlp", guide_classifier),
    "4": ("784-256-256-10 ReLU f32, batch 128, 200 steps", "mlp", mnist_mlp),
    "5": ("digits CNN, batch 64, 300 steps", "cnn", digits_cnn),
    "6": ("micrograd demo 2-16-16-1, 20 steps", "moons", micrograd_demo),
    "7": ("100,000-op scalar chain", "chain", scalar_chain),
    "8": ("per-op overhead 4x4, 10k backward", "overhead", op_overhead),
    "4b256": ("workload 4, batch 256", "mlp", lambda quick: mnist_mlp(quick, batch=256)),
    "4b512": ("workload 4, batch 512", "mlp", lambda quick: mnist_mlp(quick, batch=512)),
    "4w512": ("workload 4, width 512", "mlp", lambda quick: mnist_mlp(quick, width=512)),
}

# workloads whose peak memory is measured
MEMORY_WORKLOADS = ("4", "5")


def batches(problem):
    """The (x, y) minibatch of each step: consecutive slices of the data, wrapping around."""
    x, y, size = problem["x"], problem["y"], problem["batch"]
    starts = range(0, len(x) - size + 1, size)
    for step in range(problem["steps"]):
        start = starts[step % len(starts)]
        yield x[start:start + size], y[start:start + size]


def learning_rate(problem, step):
    """Constant, or micrograd's demo schedule 1.0 - 0.9 * step / 100."""
    return problem["lr"] * (1.0 - 0.9 * step / 100) if problem["lr_decay"] else problem["lr"]

"""Checking gradients against central finite differences, with PyTorch's meaning.

`gradcheck` compares the whole Jacobian of `fn` computed by the engine with
one computed by nudging every input element by +-eps, in float64, and says
exactly where they disagree. `gradgradcheck` does the same for the
gradient itself (second derivatives). `numerical_grad` is the numerical half
on its own, for learners comparing a derivation by hand.
"""
import numpy as np

from .backprop import grad
from .grad_mode import enable_grad, no_grad
from .seeding import default_generator
from .value import Value


class GradcheckError(RuntimeError):
    """The analytic and numerical Jacobians differ (the message says where)."""


def _as_tuple(x):
    return tuple(x) if isinstance(x, (list, tuple)) else (x,)


def _as_float64(inputs):
    return tuple(
        Value(x.data.astype(np.float64), requires_grad=x.requires_grad, name=x.name)
        if isinstance(x, Value) else x for x in inputs)


def _outputs_data(fn, inputs):
    with no_grad():
        return [np.array(o.data if isinstance(o, Value) else o, dtype=np.float64)
                for o in _as_tuple(fn(*inputs))]


def _numerical_jacobians(fn, inputs, eps):
    """{input index: [d out_k / d input as an array of shape out_k.shape + input.shape]}."""
    jacobians = {}
    for i, x in enumerate(inputs):
        if not (isinstance(x, Value) and x.requires_grad):
            continue
        original = x._data
        columns = None
        try:
            for j in range(x.size):
                nudged = np.array(original, dtype=np.float64, order="C")  # (flat must be a view)
                flat = nudged.reshape(-1)
                flat[j] += eps
                x._data = nudged
                plus = _outputs_data(fn, inputs)
                flat[j] -= 2 * eps
                minus = _outputs_data(fn, inputs)
                if columns is None:
                    columns = [np.zeros(p.shape + (x.size,)) for p in plus]
                for col, p, m in zip(columns, plus, minus):
                    col[..., j] = (p - m) / (2 * eps)
        finally:
            x._data = original
        if columns is None:  # an empty input
            columns = [np.zeros(o.shape + (0,)) for o in _outputs_data(fn, inputs)]
        jacobians[i] = [c.reshape(c.shape[:-1] + x.shape) for c in columns]
    return jacobians


def _analytic_jacobians(fn, inputs):
    """The same Jacobians, one backward pass per output element."""
    wanted = [i for i, x in enumerate(inputs) if isinstance(x, Value) and x.requires_grad]
    outputs = _as_tuple(fn(*inputs))
    jacobians = {i: [] for i in wanted}
    for out in outputs:
        rows = {i: np.zeros(out.shape + inputs[i].shape) for i in wanted}
        if isinstance(out, Value) and out.requires_grad:
            for k in range(out.size):
                seed = np.zeros(out.shape)
                seed.reshape(-1)[k] = 1.0
                grads = grad(out, [inputs[i] for i in wanted], grad_outputs=seed,
                             retain_graph=True, allow_unused=True)
                for i, g in zip(wanted, grads):
                    if g is not None:
                        rows[i][np.unravel_index(k, out.shape)] = g.data
        for i in wanted:
            jacobians[i].append(rows[i])
    return jacobians


def _describe(x, i):
    return f"input {i}" + (f" ('{x.name}')" if getattr(x, "name", None) else "") + \
        f" of shape {x.shape}"


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """True when the engine's Jacobian of `fn` at `inputs` matches central differences.

    Every `Value` input with `requires_grad` is checked, in float64. An entry
    fails when |analytic - numerical| > atol + rtol * |numerical|; the error
    (or False, with `raise_exception=False`) names the input, the element,
    and both values.
    """
    inputs = _as_float64(_as_tuple(inputs))
    numerical = _numerical_jacobians(fn, inputs, eps)
    analytic = _analytic_jacobians(fn, inputs)
    for i, per_output in numerical.items():
        for k, (num, ana) in enumerate(zip(per_output, analytic[i])):
            bad = np.abs(ana - num) > atol + rtol * np.abs(num)
            if bad.any() or not np.isfinite(ana).all():
                where = np.unravel_index(np.argmax(bad | ~np.isfinite(ana)), num.shape)
                out_index, in_index = where[:num.ndim - inputs[i].ndim], where[num.ndim - inputs[i].ndim:]
                message = (
                    f"Jacobian mismatch for output {k} with respect to {_describe(inputs[i], i)}: "
                    f"at input element {tuple(int(v) for v in in_index)}, output element "
                    f"{tuple(int(v) for v in out_index)}: numerical {num[where]:.8g}, "
                    f"analytic {ana[where]:.8g} (difference {abs(ana[where] - num[where]):.3g}, "
                    f"tolerance {atol + rtol * abs(num[where]):.3g}); "
                    f"{int(bad.sum())} of {bad.size} entries differ")
                if raise_exception:
                    raise GradcheckError(message)
                return False
    return True


def gradgradcheck(fn, inputs, grad_outputs=None, eps=1e-6, atol=1e-5, rtol=1e-3,
                  raise_exception=True):
    """`gradcheck` of the gradient of `fn`: checks second derivatives.

    `grad_outputs` (the vectors the first gradient is taken against) default
    to random normal values from the library's generator.
    """
    inputs = _as_float64(_as_tuple(inputs))
    if not any(isinstance(x, Value) and x.requires_grad for x in inputs):
        return True  # nothing to differentiate
    if grad_outputs is None:
        rng = default_generator()
        grad_outputs = [rng.standard_normal(np.shape(o.data)) for o in _as_tuple(fn(*inputs))]
    grad_outputs = [Value(np.asarray(g, dtype=np.float64), requires_grad=False)
                    for g in _as_tuple(grad_outputs)]

    @enable_grad()  # the numerical half calls this under no_grad; the gradient needs a graph
    def first_derivatives(*xs):
        outs = _as_tuple(fn(*xs))
        used = [x for x in xs if isinstance(x, Value) and x.requires_grad]
        grads = grad(outs, used, grad_outputs=grad_outputs, create_graph=True, allow_unused=True)
        return tuple(g if g is not None else Value(np.zeros(x.shape), requires_grad=False)
                     for g, x in zip(grads, used))

    return gradcheck(first_derivatives, inputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)


def numerical_grad(fn, inputs, eps=1e-6):
    """Central-difference gradient of a scalar-valued `fn` at `inputs`, in float64.

    `inputs` is a `Value` (the result is one numpy array) or a sequence of
    them (the result is a tuple, one array per input). Nothing is recorded.
    """
    single = not isinstance(inputs, (list, tuple))
    values = tuple(x if isinstance(x, Value) else Value(x) for x in _as_tuple(inputs))
    values = _as_float64(values)
    outputs = _outputs_data(fn, values)
    if len(outputs) != 1 or outputs[0].size != 1:
        raise ValueError(
            f"numerical_grad: fn must return one scalar, got shapes {[o.shape for o in outputs]}; "
            f"reduce it first (e.g. .sum())")
    jacobians = _numerical_jacobians(fn, values, eps)
    grads = tuple(jacobians[i][0].reshape(values[i].shape) for i in range(len(values)))
    return grads[0] if single else grads

"""Function transforms with `torch.func`'s names and meanings.

    from autograd_lite import func
    func.grad(f)(x)                         # df/dx, for f returning a 0-d Value
    func.grad(func.grad(u))(x)              # u''(x): transforms nest
    func.jacrev(f)(x), func.jacfwd(f)(x)    # shape f(x).shape + x.shape
    func.hessian(f)(x)                      # jacfwd(jacrev(f))

Each transform takes a function and returns one. Its arguments may be numpy
arrays, numbers or `Value`s (and tuples, lists and dicts of them: torch's
pytrees); its results are `Value`s in the same structures.

How nesting works. Each call gives `f` fresh inputs of its own: a new leaf
for an array, a number or a value outside any graph; for a value that
requires grad (an outer transform's input, a parameter) a recorded identity
op on it, so that this call's derivative is taken with respect to its own
input only (what f does with values it closes over is not mixed in) while the
outer one still sees the whole chain. The derivatives are taken with
`autograd_lite.grad(..., create_graph=True)`, so they are recorded like any
other computation and an outer transform, or `backward()`, differentiates
them again. A result that depends on nothing outside the call (only on its
own inputs) is handed back detached, so `np.asarray(func.grad(f)(x))` works
and no graph is kept alive; under `no_grad()` every result is detached, while
`f` itself still runs with gradients on (as in torch.func).

Forward mode (`jvp`, `jacfwd`) uses the double-vjp trick: J^T u is linear in
u, so J v = d/du <J^T u, v>. Jacobians take one backward pass per output
element (`jacrev`) or per input element (`jacfwd`); there is no vmap.
"""
import numbers

import numpy as np

from . import ops
from .backprop import grad as _autograd
from .functional import stack
from .grad_mode import enable_grad, is_grad_enabled
from .value import Value

__all__ = ["grad", "grad_and_value", "vjp", "jvp", "jacrev", "jacfwd", "hessian", "hvp"]


# --- pytrees: tuples, lists and dicts of leaves ---------------------------------
def _flatten(tree):
    """(leaves, spec): the leaves of nested tuples/lists/dicts in order, and their layout."""
    if type(tree) in (tuple, list):
        parts = [_flatten(x) for x in tree]
        return [leaf for leaves, _ in parts for leaf in leaves], (type(tree), None, [s for _, s in parts])
    if type(tree) is dict:
        parts = [_flatten(x) for x in tree.values()]
        return [leaf for leaves, _ in parts for leaf in leaves], (dict, list(tree), [s for _, s in parts])
    return [tree], None


def _unflatten(spec, leaves):
    """The tree of layout `spec` holding `leaves` (a sequence, or an iterator it takes from)."""
    leaves = iter(leaves)
    if spec is None:
        return next(leaves)
    kind, keys, children = spec
    items = [_unflatten(child, leaves) for child in children]
    return dict(zip(keys, items)) if kind is dict else kind(items)


def _describe(spec):
    """A layout as text, `*` for each leaf (as torch prints a TreeSpec): `(*, [*, *])`."""
    if spec is None:
        return "*"
    kind, keys, children = spec
    parts = [_describe(child) for child in children]
    if kind is dict:
        return "{" + ", ".join(f"{key!r}: {part}" for key, part in zip(keys, parts)) + "}"
    text = ", ".join(parts)
    return f"[{text}]" if kind is list else f"({text}{',' if len(parts) == 1 else ''})"


# --- one call of f on inputs of its own -----------------------------------------------
class _Call:
    """f run once on fresh differentiable copies of the arguments named by `argnums`.

    `inputs[i]` are the flat leaves this call differentiates with respect to for
    the i-th argnum, `specs[i]` their layout; `outputs` the flat output values,
    `out_spec` their layout, `aux` the auxiliary output. `own` holds the leaves
    this call made: a result reaching no other leaf is detached when handed back.
    """

    def __init__(self, name, f, args, kwargs, argnums, has_aux):
        self.name, self.recording = name, is_grad_enabled()
        self.argnums, self.single = _check_argnums(name, argnums, len(args))
        self.own = []
        args = list(args)
        self.inputs, self.specs = [], []
        with enable_grad():
            for i in self.argnums:
                leaves, spec = _flatten(args[i])
                inner = [self._enter(x) for x in leaves]
                args[i] = _unflatten(spec, inner)
                self.inputs.append(inner)
                self.specs.append(spec)
            result = f(*args, **kwargs)
        if has_aux:
            if not (isinstance(result, tuple) and len(result) == 2):
                raise RuntimeError(f"{name}: output of function f should be a tuple: (output, aux) "
                                   f"if has_aux is True")
            result, self.aux = result
        self.outputs, self.out_spec = _flatten(result)
        for out in self.outputs:
            if not isinstance(out, Value):
                raise RuntimeError(f"{name}: expected f(*args) to return Values (or tuples, lists or "
                                   f"dicts of them), got {type(out).__name__}")

    def _enter(self, x):
        """This call's own input for argument leaf `x`."""
        if isinstance(x, Value) and x.requires_grad and self.recording:
            return ops.reshape(x, shape=x.shape)  # an identity op: outer derivatives flow through it
        if isinstance(x, Value):
            x = x.data
        try:
            leaf = Value(x)
        except (TypeError, ValueError) as error:
            raise TypeError(f"{self.name}: arguments must be numpy arrays, numbers or Values (or "
                            f"tuples, lists or dicts of them); {error}") from None
        self.own.append(leaf)
        return leaf

    @property
    def flat_inputs(self):
        return [x for inputs in self.inputs for x in inputs]

    def by_argnum(self, flat):
        """Per-input results (flat, in `flat_inputs` order) laid out as the arguments were."""
        flat, trees = iter(flat), []
        for inputs, spec in zip(self.inputs, self.specs):
            trees.append(_unflatten(spec, [next(flat) for _ in inputs]))
        return trees[0] if self.single else tuple(trees)

    def release(self, tree, recording=None):
        """`tree`'s values as results: detached when not `recording` (default: whether the
        call was made while recording, not under no_grad()) or when they depend only on
        leaves this call made, else as they are (an outer transform or backward() needs them)."""
        recording = self.recording if recording is None else recording
        leaves, spec = _flatten(tree)
        recorded = [v for v in leaves if isinstance(v, Value) and v.requires_grad]
        if recorded and (not recording or not _reaches_outside(recorded, self.own)):
            leaves = [v.detach() if isinstance(v, Value) and v.requires_grad else v for v in leaves]
        return _unflatten(spec, leaves)


def _check_argnums(name, argnums, count):
    """argnums as a tuple of argument indices, and whether it was a single int."""
    if count == 0:
        raise RuntimeError(f"{name}: expected at least one positional argument to differentiate")
    single = isinstance(argnums, numbers.Integral) and not isinstance(argnums, bool)
    nums = (argnums,) if single else argnums
    if not isinstance(nums, tuple) or not nums or \
            not all(isinstance(a, numbers.Integral) and not isinstance(a, bool) for a in nums):
        raise RuntimeError(f"{name}: argnums must be int or Tuple[int, ...], got: {argnums!r}")
    for a in nums:
        if not -count <= a < count:
            raise RuntimeError(f"{name}: got argnums={a}, but only {count} positional inputs")
    nums = tuple(int(a) % count for a in nums)
    if len(set(nums)) != len(nums):
        raise RuntimeError(f"{name}: argnums elements must be unique, got {argnums!r}")
    return nums, single


def _require_tuple(name, what, given):
    if not isinstance(given, tuple):
        raise RuntimeError(f"{name}: expected {what} to be a tuple. E.g. it should be valid to "
                           f"call f(*primals).")


def _reaches_outside(values, own):
    """Whether any leaf that requires grad behind `values` is not one of `own`."""
    own, seen, todo = {id(x) for x in own}, set(), list(values)
    while todo:
        value = todo.pop()
        record = value._record
        if record is None:
            if id(value) not in own:
                return True
            continue
        if record.inputs is None:  # a freed graph: keep the value as it is
            return True
        for x in record.inputs:
            if isinstance(x, Value) and x.requires_grad and id(x) not in seen:
                seen.add(id(x))
                todo.append(x)
    return False


# --- derivatives, all recorded (create_graph=True) ------------------------------------
def _zeros(x):
    return Value(np.zeros(x.shape, x.dtype), requires_grad=False)


def _vjp(outputs, inputs, cotangents):
    """J^T c for each of `inputs`: zeros for an input the outputs do not depend on."""
    pairs = [(out, c) for out, c in zip(outputs, cotangents) if out.requires_grad]
    if not pairs:  # the outputs are constants
        return [_zeros(x) for x in inputs]
    grads = _autograd([out for out, _ in pairs], inputs, grad_outputs=[c for _, c in pairs],
                      retain_graph=True, create_graph=True, allow_unused=True)
    return [g if g is not None else _zeros(x) for g, x in zip(grads, inputs)]


def _rows(ys, xs):
    """d y / d x for every y in `ys` and x in `xs`, shaped y.shape + x.shape: one vjp per
    element of y, with a one-hot cotangent."""
    jacobians = []
    for y in ys:
        rows = []
        for k in range(y.size):
            seed = np.zeros(y.shape, y.dtype)
            seed.reshape(-1)[k] = 1.0
            rows.append(_vjp([y], xs, [seed]))
        jacobians.append([
            stack([row[j] for row in rows]).reshape(y.shape + x.shape) if rows else
            Value(np.zeros(y.shape + x.shape, x.dtype), requires_grad=False)
            for j, x in enumerate(xs)])
    return jacobians


def _linearize(outputs, inputs):
    """Dummy cotangents u (leaves of their own) and J^T u, which is linear in u."""
    us = [Value(np.zeros(out.shape, out.dtype)) for out in outputs]
    return us, _vjp(outputs, inputs, us)


# --- the transforms ---------------------------------------------------------------
def grad_and_value(f, argnums=0, has_aux=False):
    """A function returning `(gradient, value)` of f at its arguments (torch.func's meaning).

    f must return a 0-d Value (or `(value, aux)` with `has_aux=True`; then the result is
    `(gradient, (value, aux))`). The gradient is taken with respect to argument `argnums`
    (laid out like it) or, for a tuple, a tuple of them; an unused argument gets zeros.
    """
    def transformed(*args, **kwargs):
        name = "grad_and_value(f)(*args)"
        call = _Call(name, f, args, kwargs, argnums, has_aux)
        if len(call.outputs) != 1 or call.out_spec is not None:
            raise RuntimeError(f"{name}: expected f(*args) to return a Value, got "
                               f"{_describe(call.out_spec)}")
        (out,) = call.outputs
        if out.ndim != 0:
            raise RuntimeError(
                f"{name}: expected f(*args) to return a scalar Value, got one with {out.ndim} dims "
                f"(shape {out.shape}). Maybe you wanted to use the vjp or jacrev APIs instead? (or "
                f"reduce it to 0-d: .sum(), .reshape(()))")
        with enable_grad():
            grads = _vjp([out], call.flat_inputs, [None])
        gradient, value = call.release((call.by_argnum(grads), out))
        return (gradient, (value, call.release(call.aux))) if has_aux else (gradient, value)
    return transformed


def grad(f, argnums=0, has_aux=False):
    """A function returning the gradient of f (which returns a 0-d Value) at its arguments.

    `func.grad(f)(x)` is df/dx with x's layout; `argnums=(0, 1)` gives a tuple, one per
    argument; with `has_aux=True` f returns `(value, aux)` and the result is `(gradient, aux)`.
    Results are recorded, so `grad(grad(f))` is the second derivative.
    """
    value_and_grad = grad_and_value(f, argnums, has_aux)

    def transformed(*args, **kwargs):
        gradient, value = value_and_grad(*args, **kwargs)
        return (gradient, value[1]) if has_aux else gradient
    return transformed


def vjp(f, *primals, has_aux=False):
    """`(output, vjp_fn)`: f's output at `primals` and the function that maps cotangents
    (laid out like the output) to J^T·cotangents, a tuple with one entry per primal.

    With `has_aux=True` f returns `(output, aux)` and vjp returns `(output, vjp_fn, aux)`.
    vjp_fn may be called many times; its results are differentiable.
    """
    name = "vjp(f, *primals)"
    call = _Call(name, f, primals, {}, tuple(range(len(primals))), has_aux)

    def vjp_fn(cotangents):
        leaves, spec = _flatten(cotangents)
        if spec != call.out_spec:
            raise RuntimeError(f"{name}: expected cotangents laid out as the output of f, "
                               f"{_describe(call.out_spec)}; got {_describe(spec)}")
        for i, (c, out) in enumerate(zip(leaves, call.outputs)):
            if np.shape(c) != out.shape:
                raise RuntimeError(f"{name}: cotangent {i} has shape {np.shape(c)} but output {i} of "
                                   f"f has shape {out.shape}")
        recording = is_grad_enabled()  # (vjp_fn may be called under no_grad() or not)
        with enable_grad():
            grads = _vjp(call.outputs, call.flat_inputs, leaves)
        return call.release(call.by_argnum(grads), recording)

    output = call.release(_unflatten(call.out_spec, call.outputs))
    return (output, vjp_fn, call.release(call.aux)) if has_aux else (output, vjp_fn)


def jvp(f, primals, tangents, has_aux=False):
    """`(output, jvp_out)`: f's output at `primals` (a tuple: f(*primals)) and J·tangents,
    laid out like the output (forward mode, by the double-vjp trick).

    `tangents` is a tuple laid out like `primals`, each of its primal's shape. With
    `has_aux=True` f returns `(output, aux)` and jvp returns `(output, jvp_out, aux)`.
    """
    name = "jvp(f, primals, tangents)"
    _require_tuple(name, "primals", primals)
    _require_tuple(name, "tangents", tangents)
    primal_leaves, primal_spec = _flatten(primals)
    tangent_leaves, tangent_spec = _flatten(tangents)
    if primal_spec != tangent_spec:
        raise RuntimeError(f"{name}: expected primals and tangents to have the same structure; got "
                           f"primals {_describe(primal_spec)} and tangents {_describe(tangent_spec)}")
    for i, (p, t) in enumerate(zip(primal_leaves, tangent_leaves)):
        if np.shape(p) != np.shape(t):
            raise RuntimeError(f"{name}: tangent {i} has shape {np.shape(t)} but its primal has "
                               f"shape {np.shape(p)}")
    call = _Call(name, f, primals, {}, tuple(range(len(primals))), has_aux)
    with enable_grad():
        us, gs = _linearize(call.outputs, call.flat_inputs)
        call.own.extend(us)
        pairs = [(g, t) for g, t in zip(gs, tangent_leaves) if g.requires_grad]
        if pairs:
            total = sum((g * (t if isinstance(t, Value) else np.asarray(t, g.dtype))).sum()
                        for g, t in pairs)
            jv = _vjp([total], us, [None])
        else:  # J^T u does not depend on u: f does not depend on its inputs
            jv = [_zeros(u) for u in us]
    output, jv = call.release((_unflatten(call.out_spec, call.outputs), _unflatten(call.out_spec, jv)))
    return (output, jv, call.release(call.aux)) if has_aux else (output, jv)


def _jacobian(name, f, argnums, has_aux, forward):
    def transformed(*args, **kwargs):
        call = _Call(name, f, args, kwargs, argnums, has_aux)
        xs = call.flat_inputs
        with enable_grad():
            if forward:  # columns: J v for each one-hot v, as d/du <J^T u, v>
                us, gs = _linearize(call.outputs, xs)
                call.own.extend(us)
                per_x = _rows(gs, us)  # [x][y], shaped x.shape + y.shape
                jacobians = [[per_x[j][k].transpose(tuple(range(x.ndim, x.ndim + y.ndim)) +
                                                    tuple(range(x.ndim)))
                              for j, x in enumerate(xs)] for k, y in enumerate(call.outputs)]
            else:
                jacobians = _rows(call.outputs, xs)  # [y][x], shaped y.shape + x.shape
        result = call.release(_unflatten(call.out_spec, [call.by_argnum(row) for row in jacobians]))
        return (result, call.release(call.aux)) if has_aux else result
    return transformed


def jacrev(f, argnums=0, has_aux=False):
    """A function returning the Jacobian of f by reverse mode: for each output (laid out as
    f's output), d output / d argument shaped output.shape + argument.shape (a tuple of them
    for a tuple `argnums`). One backward pass per output element. `has_aux` as in `grad`."""
    return _jacobian("jacrev(f)(*args)", f, argnums, has_aux, forward=False)


def jacfwd(f, argnums=0, has_aux=False):
    """`jacrev`'s result computed column by column in forward mode (one pass per input
    element, by the double-vjp trick): the cheaper one when f has more outputs than inputs."""
    return _jacobian("jacfwd(f)(*args)", f, argnums, has_aux, forward=True)


def hessian(f, argnums=0):
    """A function returning f's Hessian, `jacfwd(jacrev(f, argnums), argnums)` (torch.func's
    definition): shaped output.shape + argument.shape + argument.shape."""
    return jacfwd(jacrev(f, argnums), argnums)


def hvp(f, primals, tangents):
    """The Hessian of f (a 0-d Value) at `primals` times `tangents`, without forming the
    Hessian: `jvp(grad(f), primals, tangents)[1]`, torch.func's recipe. With several primals
    the Hessian is taken with respect to all of them and the result is a tuple, one per primal."""
    _require_tuple("hvp(f, primals, tangents)", "primals", primals)
    argnums = 0 if len(primals) == 1 else tuple(range(len(primals)))
    return jvp(grad(f, argnums), primals, tangents)[1]

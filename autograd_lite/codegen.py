"""The Python that `compile` writes from a trace: a fused version to run, a NumPy one to read.

A `Program` is a trace as plain data: the ops in the order they ran (each a
primitive of the op table, where its inputs come from, its options, its output's
shape), the leaves (values read fresh on every call: parameters and inputs), the
constants and the random draws (Dropout masks). Two renderings of it:

- `build(program)` writes `forward(tape, *leaves)` and one `backward(tape, g,
  leaves)` per output as straight-line code calling the op table's own forwards
  and vjps (`PRIMITIVES[name].forward`, `.vjps[i]`), in the order the eager
  backward walk calls them and adding gradients in the order it adds them, so
  the gradients agree with eager bit for bit. Broadcast gradients are summed
  back with the table's `sum_to`; a gradient and an intermediate array are
  dropped (`del`) right after their last use.
- `numpy_source(program)` writes the same computation as plain NumPy, one line
  per op, for people to read (`CompiledFunction.source`): the backward pass the
  engine derived, with the broadcasting sums on lines of their own. Ops without
  a NumPy rendering here call their primitive from the table by name.
"""
import builtins
import keyword
import math
import re

import numpy as np

from . import ops
from .ops import unchanged
from .value import PRIMITIVES

_OPS = ops.__name__


class Op:
    """One traced op: its primitive, where each input comes from (a ref), its options (arrays
    that are an argument's data replaced by an `ArgData`), and its output's shape and dtype."""

    __slots__ = ("prim", "inputs", "options", "shape", "dtype", "label", "name", "needs_grad")

    def __init__(self, prim, inputs, options, shape, dtype, label, name):
        self.prim, self.inputs, self.options = prim, inputs, options
        self.shape, self.dtype, self.label, self.name = shape, dtype, label, name
        self.needs_grad = False


class ArgData:
    """In an op's options: the data of argument `ref` (e.g. class labels passed to a loss)."""

    __slots__ = ("ref",)

    def __init__(self, ref):
        self.ref = ref


class Leaf:
    """A value read fresh on every call: its display name, whether it requires grad, its shape."""

    __slots__ = ("name", "requires_grad", "shape", "dtype")

    def __init__(self, name, requires_grad, shape, dtype):
        self.name, self.requires_grad, self.shape, self.dtype = name, requires_grad, shape, dtype


class Program:
    """A trace as data. Refs (where an op's input comes from) are pairs:
    ("arg", p) the p-th argument's array, read as given; ("leaf", j) leaf j's data;
    ("node", n) op n's output; ("const", c) constant c; ("draw", d) the d-th random draw
    (`draws[d]` is its shape).
    `args[p]` is the display name of argument p when it is an array read as given (else
    None); `outputs` are op indices; `effects` the side effects, (update, refs, options) each,
    made after the last op they read."""

    def __init__(self, args, arg_shapes, leaves, constants, draws, ops, outputs, effects=()):
        self.args, self.arg_shapes, self.leaves = args, arg_shapes, leaves
        self.constants, self.draws, self.ops, self.outputs = constants, draws, ops, outputs
        self.effects = list(effects)
        for op in ops:
            op.needs_grad = any(self.needs_grad(ref) for ref in op.inputs)

    def needs_grad(self, ref):
        kind, i = ref
        if kind == "leaf":
            return self.leaves[i].requires_grad
        return kind == "node" and self.ops[i].needs_grad

    def shape(self, ref):
        kind, i = ref
        if kind == "leaf":
            return self.leaves[i].shape
        if kind == "node":
            return self.ops[i].shape
        if kind == "arg":
            return self.arg_shapes[i]
        if kind == "draw":
            return self.draws[i]
        return np.shape(self.constants[i])

    def effects_after(self, n):
        """The side effects made right after op n (n = -1: before the first op)."""
        return [effect for effect in self.effects
                if max((i for kind, i in effect[1] if kind == "node"), default=-1) == n]

    def reachable(self, output):
        """The ops a gradient from op `output` reaches (through inputs that need grad), last first."""
        seen, stack = {output}, [output]
        while stack:
            for ref in self.ops[stack.pop()].inputs:
                if ref[0] == "node" and self.needs_grad(ref) and ref[1] not in seen:
                    seen.add(ref[1])
                    stack.append(ref[1])
        return sorted(seen, reverse=True)

    def saved_by_backward(self, op):
        """The refs whose arrays op's vjps read: its output and inputs, unless every vjp it
        needs passes the gradient on unchanged."""
        if not op.needs_grad:
            return []
        if all(op.prim.vjps[i] is unchanged for i, ref in enumerate(op.inputs) if self.needs_grad(ref)):
            return []
        return [ref for ref in op.inputs if ref[0] != "const"] + [a.ref for a in _arg_data(op.options)]


# --- the fused rendering: straight-line calls of the table's forwards and vjps ----------
def _literal(x):
    """Python source that evaluates to `x`, for numbers, strings and tuples of them; else None."""
    if x is None or x is True or x is False or type(x) in (int, str):
        return repr(x)
    if type(x) is float and math.isfinite(x):
        return repr(x)
    if type(x) is tuple:
        parts = [_literal(e) for e in x]
        if all(p is not None for p in parts):
            return "(" + "".join(p + ", " for p in parts) + ")"
    return None


class _Names:
    """Closure constants of generated code: each distinct object gets one name."""

    def __init__(self):
        self.values, self.by_id = [], {}

    def __call__(self, obj, prefix="K"):
        name = self.by_id.get(id(obj))
        if name is None:
            name = self.by_id[id(obj)] = f"{prefix}{len(self.values)}"
            self.values.append((name, obj))
        return name


def _fused_var(ref):
    kind, i = ref
    return {"arg": "a", "leaf": "l", "node": "v", "draw": "d"}[kind] + str(i)


def _fused_value(x, names, program):
    """Source for an option value or constant: a literal, an argument's variable, or a closure name."""
    if isinstance(x, ArgData):
        return _fused_var(x.ref)
    text = _literal(x)
    if text is not None:
        return text
    if type(x) is tuple and any(isinstance(e, ArgData) for e in x):
        return "(" + "".join(_fused_value(e, names, program) + ", " for e in x) + ")"
    return names(x)


def _fused_input(ref, names, program):
    if ref[0] == "const":
        return _fused_value(program.constants[ref[1]], names, program)
    return _fused_var(ref)


def _call(function, args, options, names, program):
    parts = list(args) + [f"{k}={_fused_value(v, names, program)}" for k, v in options.items()]
    return f"{function}({', '.join(parts)})"


def _forward_lines(program, names, saved):
    leaves = "".join(f", l{j}" for j in range(len(program.leaves)))
    lines = [f"def forward(tape{leaves}):"]
    used_args = sorted({ref[1] for op in program.ops for ref in op.inputs if ref[0] == "arg"}
                       | {ref[1] for _, refs, _ in program.effects for ref in refs if ref[0] == "arg"}
                       | {v.ref[1] for op in program.ops for v in _arg_data(op.options)
                          if v.ref[0] == "arg"})
    if used_args:
        lines.append("    args = tape.args")
        lines += [f"    a{p} = args[{p}]" for p in used_args]
    for d in range(len(program.draws)):
        lines.append(f"    d{d} = tape.draw({d})")
    lines += _effect_lines(program, -1, names)
    for n, op in enumerate(program.ops):
        forward = names(op.prim.forward, f"F{n}_")
        inputs = [_fused_input(ref, names, program) for ref in op.inputs]
        lines.append(f"    v{n} = {_call(forward, inputs, op.options, names, program)}  # {op.prim.name}")
        lines += _effect_lines(program, n, names)
    lines.append(f"    tape.saved = ({''.join(_fused_var(r) + ', ' for r in saved)})")
    outputs = [f"v{n}" for n in program.outputs]
    if len(outputs) > 1:
        lines.append(f"    tape.outputs = ({', '.join(outputs)},)")
    lines.append(f"    return {outputs[0]}")
    return lines


def _effect_lines(program, n, names):
    """The calls of the side effects made after op n (skipped when a second backward runs the
    forward again)."""
    lines = []
    for update, refs, options in program.effects_after(n):
        inputs = [_fused_input(ref, names, program) for ref in refs]
        lines += ["    if tape.effects:  # side effect",
                  f"        {_call(names(update, 'E'), inputs, options, names, program)}"]
    return lines


def _arg_data(options):
    """Every ArgData inside an op's options (nested in tuples too)."""
    found = []
    stack = list(options.values())
    while stack:
        x = stack.pop()
        if isinstance(x, ArgData):
            found.append(x)
        elif type(x) in (tuple, list):
            stack.extend(x)
    return found


def _never_none(vjp):
    """Whether a vjp always returns an array: `unchanged`, and the op table's own vjps (a vjp
    from elsewhere may return None for "no gradient", as the eager walk allows)."""
    return vjp is unchanged or getattr(getattr(vjp, "func", vjp), "__module__", None) == _OPS


def _backward_lines(program, k, names, saved):
    """backward{k}(tape, g, leaves): the gradient of output k for every leaf, in the eager
    walk's order (ops last first; each op's inputs in order; sums in arrival order). A gradient
    that may be None (from a vjp outside the op table) is checked as the walk checks it."""
    order = program.reachable(program.outputs[k])
    last_use = {}  # saved var -> the op in whose block it is used for the last time
    for n in order:
        for ref in [("node", n)] + program.ops[n].inputs:
            if ref in saved:
                last_use[ref] = n
    lines = [f"def backward{k}(tape, g, leaves):",
             "    saved = tape.saved",
             "    if saved is None:  # a second backward (retain_graph=True): run the forward again",
             "        saved = tape.recompute(leaves)"]
    if saved:
        lines.append(f"    {''.join(_fused_var(r) + ', ' for r in saved)}= saved")
    if len(program.outputs) == 1:
        lines.append("    tape.saved = None  # what is still needed is held by the names below")
    state = {f"gv{program.outputs[k]}": "set"}  # gradient name -> "set" or "maybe" (None)
    lines.append(f"    gv{program.outputs[k]} = g")
    sum_to = names(PRIMITIVES["sum_to"].forward, "SUM_TO")
    for n in order:
        op, grad = program.ops[n], f"gv{n}"
        indent = "    "
        if state[grad] == "maybe":  # (then every gradient this op sends may stay None)
            for ref in op.inputs:
                target = "g" + _fused_var(ref) if program.needs_grad(ref) else None
                if target is not None and target not in state:
                    lines.append(f"    {target} = None")
                    state[target] = "maybe"
            lines.append(f"    if {grad} is not None:  # {op.prim.name}")
            indent = "        "
        block = len(lines)
        inputs = [_fused_input(ref, names, program) for ref in op.inputs]
        for i, ref in enumerate(op.inputs):
            if not program.needs_grad(ref):
                continue
            target, shape, vjp = "g" + _fused_var(ref), program.shape(ref), op.prim.vjps[i]
            if vjp is unchanged and shape == op.shape:
                part = grad
            else:
                part = "t"
                call = grad if vjp is unchanged else _call(
                    names(vjp, f"V{n}_{i}_"), [grad, f"v{n}"] + inputs, op.options, names, program)
                lines.append(f"{indent}t = {call}  # {op.prim.name}, input {i}")
            inner = indent
            if not _never_none(vjp):
                if target not in state:
                    lines.append(f"{indent}{target} = None")
                    state[target] = "maybe"
                lines.append(f"{indent}if t is not None:")
                inner = indent + "    "
            if part == "t":
                lines.append(f"{inner}if t.shape != {shape!r}:")
                lines.append(f"{inner}    t = {sum_to}(t, {shape!r})")
            was = state.get(target)
            if was is None:
                lines.append(f"{inner}{target} = {part}")
            elif was == "set":
                lines.append(f"{inner}{target} = {target} + {part}")
            else:
                lines.append(f"{inner}{target} = {part} if {target} is None else {target} + {part}")
            if was is None:
                state[target] = "set" if inner == "    " else "maybe"
        if len(lines) == block:  # (an output that no gradient flows from)
            lines.append(f"{indent}pass")
        dead = [_fused_var(ref) for ref, last in last_use.items() if last == n]
        lines.append(f"    del {grad}" + "".join(f", {v}" for v in dead))
    grads = ", ".join(f"gl{j}" if f"gl{j}" in state else "None"
                      for j in range(len(program.leaves)))
    lines.append(f"    return (None, {grads}{',' if len(program.leaves) == 1 else ''})")
    return lines


def fused_source(program):
    """(source, closure constants) of the code that runs a trace: `_build(K)` returns
    (forward, [backward per output])."""
    names = _Names()
    saved = _saved_refs(program)
    body = _forward_lines(program, names, saved)
    backwards = [_backward_lines(program, k, names, saved) for k in range(len(program.outputs))]
    head = ["def _build(K):"]
    unpack = [name for name, _ in names.values]
    head.append(f"    {', '.join(unpack)}, = K")
    lines = head + ["    " + line for line in body]
    for b in backwards:
        lines += ["    " + line for line in b]
    lines.append(f"    return forward, ({''.join(f'backward{k}, ' for k in range(len(backwards)))})")
    return "\n".join(lines) + "\n", [obj for _, obj in names.values]


def _saved_refs(program):
    """Every ref some backward reads: each op that needs grad keeps its output and inputs
    (unless its vjps only pass the gradient on), in first-use order."""
    saved = []
    for n, op in enumerate(program.ops):
        refs = program.saved_by_backward(op)
        for ref in ([("node", n)] if refs else []) + refs:
            if ref not in saved:
                saved.append(ref)
    return saved


_CODE = {}  # source -> code object: a trace of the same structure compiles once per process


def run_source(source, filename):
    """Execute generated source defining `_build` and return `_build`; the compiled code is
    kept by its source, since constants reach it as arguments, not as text."""
    code = _CODE.get(source)
    if code is None:
        if len(_CODE) >= 256:
            _CODE.pop(next(iter(_CODE)))
        code = _CODE[source] = builtins.compile(source, filename, "exec")
    namespace = {}
    exec(code, namespace)
    return namespace["_build"]


def build(program, filename):
    """The fused code, compiled: (forward, [backward per output], source)."""
    source, constants = fused_source(program)
    forward, backwards = run_source(source, filename)(constants)
    return forward, list(backwards), source


# --- the readable rendering: plain NumPy, one line per op -------------------------------
def identifier(name, taken):
    """`name` made into a Python identifier not in `taken` (which it is then added to):
    "0.weight" -> "_0_weight"."""
    text = re.sub(r"\W", "_", str(name)) or "_"
    if text[0].isdigit():
        text = "_" + text
    if keyword.iskeyword(text) or text in ("np", "P", "sum_to"):
        text += "_"
    base, k = text, 1
    while text in taken:
        k += 1
        text = f"{base}_{k}"
    taken.add(text)
    return text


def _kept(shape, axis):
    if axis is None:
        return (1,) * len(shape)
    axes = {a % len(shape) for a in ((axis,) if isinstance(axis, int) else axis)}
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _axis_text(axis, keepdims):
    parts = [] if axis is None else [f"axis={axis!r}"]
    return ", ".join(parts + (["keepdims=True"] if keepdims else []))


def _broadcast_back(g, shape, axis, keepdims):
    if axis is not None and not keepdims:
        g = f"{g}.reshape({_kept(shape, axis)!r})"
    return f"np.broadcast_to({g}, {shape!r})"


def _mse(c, sign):
    diff = f"({c.a[0]} - {c.a[1]})" if sign > 0 else f"({c.a[1]} - {c.a[0]})"
    scale = f" / {math.prod(c.shapes[0]) or 1}" if c.o["reduction"] == "mean" else ""
    return f"2.0 * {c.g} * {diff}{scale}"


def _linear_weight(c):
    if len(c.shapes[0]) == 2:
        return f"{c.g}.T @ {c.a[0]}"
    return f"{c.g}.reshape(-1, {c.out[-1]}).T @ {c.a[0]}.reshape(-1, {c.shapes[0][-1]})"


def _pow_exponent(c):
    p = c.o["exponent"]
    return repr(float(p))


# name -> (forward(c), vjps [(vjp(c), whether its result has the output's shape)], applies(c))
NUMPY = {
    "add": (lambda c: f"{c.a[0]} + {c.a[1]}", [(lambda c: c.g, True)] * 2),
    "sub": (lambda c: f"{c.a[0]} - {c.a[1]}", [(lambda c: c.g, True), (lambda c: f"-{c.g}", True)]),
    "mul": (lambda c: f"{c.a[0]} * {c.a[1]}", [(lambda c: f"{c.g} * {c.a[1]}", True),
                                             (lambda c: f"{c.g} * {c.a[0]}", True)]),
    "div": (lambda c: f"{c.a[0]} / {c.a[1]}", [(lambda c: f"{c.g} / {c.a[1]}", True),
                                             (lambda c: f"-{c.g} * {c.ans} / {c.a[1]}", True)]),
    "neg": (lambda c: f"-{c.a[0]}", [(lambda c: f"-{c.g}", True)]),
    "pow_const": (lambda c: f"{c.a[0]} ** {_pow_exponent(c)}",
                  [(lambda c: f"{c.g} * {_pow_exponent(c)} * {c.a[0]} ** "
                              f"{float(c.o['exponent']) - 1.0 if c.o['exponent'] else 1.0!r}", True)]),
    "matmul": (lambda c: f"{c.a[0]} @ {c.a[1]}", [(lambda c: f"{c.g} @ {c.a[1]}.T", False),
                                                (lambda c: f"{c.a[0]}.T @ {c.g}", False)]),
    "linear": (lambda c: f"{c.a[0]} @ {c.a[1]}.T" + (f" + {c.a[2]}" if c.a[2:] not in ([], ["None"]) else ""),
               [(lambda c: f"{c.g} @ {c.a[1]}", False), (_linear_weight, False),
                (lambda c: c.g, True)]),
    "exp": (lambda c: f"np.exp({c.a[0]})", [(lambda c: f"{c.g} * {c.ans}", True)]),
    "log": (lambda c: f"np.log({c.a[0]})", [(lambda c: f"{c.g} / {c.a[0]}", True)]),
    "sqrt": (lambda c: f"np.sqrt({c.a[0]})", [(lambda c: f"{c.g} / (2.0 * {c.ans})", True)]),
    "abs": (lambda c: f"np.abs({c.a[0]})", [(lambda c: f"{c.g} * np.sign({c.a[0]})", True)]),
    "tanh": (lambda c: f"np.tanh({c.a[0]})", [(lambda c: f"{c.g} * (1.0 - {c.ans} * {c.ans})", True)]),
    "sin": (lambda c: f"np.sin({c.a[0]})", [(lambda c: f"{c.g} * np.cos({c.a[0]})", True)]),
    "cos": (lambda c: f"np.cos({c.a[0]})", [(lambda c: f"-{c.g} * np.sin({c.a[0]})", True)]),
    "sigmoid": (lambda c: f"1.0 / (1.0 + np.exp(-{c.a[0]}))",
                [(lambda c: f"{c.g} * ({c.ans} * (1.0 - {c.ans}))", True)]),
    "relu": (lambda c: f"np.maximum({c.a[0]}, 0.0)", [(lambda c: f"{c.g} * ({c.a[0]} > 0)", True)]),
    "sum": (lambda c: f"{c.a[0]}.sum({_axis_text(c.o.get('axis'), c.o.get('keepdims'))})",
            [(lambda c: _broadcast_back(c.g, c.shapes[0], c.o.get("axis"), c.o.get("keepdims")),
              False)]),
    "mean": (lambda c: f"{c.a[0]}.mean({_axis_text(c.o.get('axis'), c.o.get('keepdims'))})",
             [(lambda c: _broadcast_back(
                 f"({c.g} / {math.prod(c.shapes[0]) // max(math.prod(_kept(c.shapes[0], c.o.get('axis'))), 1)})",
                 c.shapes[0], c.o.get("axis"), c.o.get("keepdims")), False)]),
    "reshape": (lambda c: f"{c.a[0]}.reshape({c.o['shape']!r})",
                [(lambda c: f"{c.g}.reshape({c.shapes[0]!r})", False)]),
    "transpose": (lambda c: f"{c.a[0]}.T" if c.o["axes"] is None else f"{c.a[0]}.transpose({c.o['axes']!r})",
                  [(lambda c: f"{c.g}.T" if c.o["axes"] is None else
                    f"{c.g}.transpose({tuple(int(i) for i in np.argsort([a % len(c.shapes[0]) for a in c.o['axes']]))!r})",
                    False)]),
    "mse_loss": (lambda c: {"mean": f"np.mean(({c.a[0]} - {c.a[1]}) ** 2)",
                            "sum": f"np.sum(({c.a[0]} - {c.a[1]}) ** 2)"}.get(
                                c.o["reduction"], f"({c.a[0]} - {c.a[1]}) ** 2"),
                 [(lambda c: _mse(c, 1), False), (lambda c: _mse(c, -1), False)]),
}


def _renderable(op, shapes):
    """Whether op has a NumPy rendering here for these input shapes and options."""
    name = op.prim.name
    if name not in NUMPY or any(isinstance(v, ArgData) for v in _arg_data(op.options)):
        return False
    if name == "pow_const":
        return isinstance(op.options["exponent"], (int, float))
    if name == "matmul":
        return all(len(s) == 2 for s in shapes)
    if name == "linear":
        return len(shapes[0]) >= 2
    if name in ("sum", "mean"):
        axis = op.options.get("axis")
        return axis is None or isinstance(axis, (int, tuple))
    return True


class _Context:
    """What a rendering sees: input expressions `a`, options `o`, input `shapes`, output shape
    `out`, and the names of the gradient `g` and the result `ans`."""

    def __init__(self, a, o, shapes, out, g=None, ans=None):
        self.a, self.o, self.shapes, self.out, self.g, self.ans = a, o, shapes, out, g, ans


def _sum_back(g, shape, out):
    """`g` (of shape out) summed over the axes broadcasting added or stretched: back to shape."""
    lead = len(out) - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape)
                                      if n == 1 and out[lead + i] != 1)
    axis = axes[0] if len(axes) == 1 else axes
    if lead == 0:
        return f"{g}.sum(axis={axis!r}, keepdims=True)"
    text = f"{g}.sum(axis={axis!r})"
    return text if len(axes) == lead else f"{text}.reshape({shape!r})"


def _inline(x, names):
    """Python source for a constant or option small enough to write out; else None."""
    if isinstance(x, ArgData):
        return names[x.ref]
    text = _literal(x)
    if text is not None:
        return text
    if x is Ellipsis:
        return "..."
    if isinstance(x, slice):
        parts = [_inline(e, names) for e in (x.start, x.stop, x.step)]
        return None if None in parts else f"slice({', '.join(parts)})"
    if type(x) is tuple:
        parts = [_inline(e, names) for e in x]
        return None if None in parts else "(" + "".join(p + ", " for p in parts) + ")"
    if isinstance(x, np.ndarray) and x.size <= 4 and x.dtype.kind in "fiub" and x.ndim:
        return f"np.array({x.tolist()!r})"
    if isinstance(x, np.ndarray) and x.ndim == 0 and x.dtype.kind == "f" and np.isfinite(x):
        return f"np.array({x.item()!r})"
    if isinstance(x, np.dtype) and x.isbuiltin:
        return f"np.dtype({x.str!r})"
    return None


def readable_names(program):
    """(names, parameters, identifiers used) of the readable source: the identifier of every
    ref, and the parameters its forward takes, as (identifier, where): ("arg", p), ("leaf", j),
    ("const", c) a constant, ("draw", d) a mask, ("option", n, key) an option of op n."""
    taken, names, params = set(), {}, []
    for p, arg in enumerate(program.args):
        if arg is not None:
            names[("arg", p)] = identifier(arg, taken)
            params.append((names[("arg", p)], ("arg", p)))
    for j, leaf in enumerate(program.leaves):
        names[("leaf", j)] = identifier(leaf.name, taken)
        params.append((names[("leaf", j)], ("leaf", j)))
    for c, value in enumerate(program.constants):
        text = _inline(value, names)
        if text is None:
            text = identifier(f"const{c}", taken)
            params.append((text, ("const", c)))
        names[("const", c)] = text
    for d in range(len(program.draws)):
        names[("draw", d)] = identifier(f"mask{d}", taken)
        params.append((names[("draw", d)], ("draw", d)))
    for n, op in enumerate(program.ops):
        for key, value in op.options.items():
            text = _inline(value, names)
            if text is None:
                text = identifier(f"{op.prim.name}{n}_{key}", taken)
                params.append((text, ("option", n, key)))
            names[("option", n, key)] = text
    for n, op in enumerate(program.ops):
        names[("node", n)] = identifier(op.name or f"{op.prim.name}_{n}", taken)
    return names, params, taken


def numpy_source(program, fn_name="fn"):
    """The trace as plain NumPy: `forward(...)` returning (output, intermediates) and
    `backward(g, ...)` returning {name: gradient} (one `backward_k` per output if several).
    Their parameters are named by `readable_names`."""
    names, parameters, taken = readable_names(program)

    def expr(ref):
        return names[ref]

    def fallback(function, args, n):
        options = program.ops[n].options
        parts = list(args) + [f"{k}={names[('option', n, k)]}" for k in options]
        return f"{function}({', '.join(parts)})"

    params = [name for name, _ in parameters]
    uses_table = False
    lines = ["import numpy as np", ""]
    table_line = len(lines)
    lines += [f"def forward({', '.join(params)}):",
              f'    """The traced forward of {fn_name}: one line per op."""']
    scope = None

    def effects_after(n):  # written as comments: they change a layer's state, not the gradients
        for update, refs, options in program.effects_after(n):
            parts = [expr(ref) for ref in refs] + [f"{k}={_inline(v, names) or '...'}"
                                                  for k, v in options.items()]
            lines.append(f"    # then {getattr(update, '__qualname__', 'a side effect')}"
                         f"({', '.join(parts)}) updates the layer's state")

    effects_after(-1)
    for n, op in enumerate(program.ops):
        shapes = [program.shape(ref) for ref in op.inputs]
        c = _Context([expr(ref) for ref in op.inputs], op.options, shapes, op.shape)
        if _renderable(op, shapes):
            text = NUMPY[op.prim.name][0](c)
        else:
            uses_table = True
            text = fallback(f"P[{op.prim.name!r}].forward", c.a, n)
        if op.label != scope and op.label:
            lines.append(f"    # {op.label}")
        scope = op.label
        lines.append(f"    {names[('node', n)]} = {text}")
        effects_after(n)
    kept = [names[("node", n)] for n in range(len(program.ops))]
    outputs = [names[("node", n)] for n in program.outputs]
    lines.append(f"    return {', '.join(outputs) if len(outputs) > 1 else outputs[0]}, "
                 f"dict({', '.join(f'{v}={v}' for v in kept)})")
    for k, output in enumerate(program.outputs):
        suffix = "" if len(program.outputs) == 1 else f"_{k}"
        g_out = identifier(f"g_{names[('node', output)]}", taken)
        grad_names = {}
        lines += ["", "", f"def backward{suffix}({g_out}, {', '.join(params + kept)}):",
                  f'    """d({names[("node", output)]})/d(each input that requires grad), '
                  f'given its gradient {g_out}."""']
        grad_names[("node", output)] = g_out
        for n in program.reachable(output):
            op = program.ops[n]
            g = grad_names.get(("node", n))
            if g is None:
                continue
            shapes = [program.shape(ref) for ref in op.inputs]
            renderable = _renderable(op, shapes)
            c = _Context([expr(ref) for ref in op.inputs], op.options, shapes, op.shape, g,
                         names[("node", n)])
            lines.append(f"    # {op.prim.name}: {names[('node', n)]}")
            for i, ref in enumerate(op.inputs):
                if not program.needs_grad(ref):
                    continue
                target = grad_names.get(ref)
                first = target is None
                if first:
                    target = grad_names[ref] = identifier(f"g_{names[ref]}", taken)
                part = target if first else identifier(f"{target}_part", taken)
                shape = program.shape(ref)
                if renderable:
                    text, out_shaped = NUMPY[op.prim.name][1][i]
                    text = text(c)
                    if out_shaped and shape != op.shape:  # the broadcasting sum, written out
                        text = text if text.isidentifier() else f"({text})"
                        text = f"{_sum_back(text, shape, op.shape)}  # summed over broadcast axes"
                    lines.append(f"    {part} = {text}")
                else:
                    uses_table = True
                    call = fallback(f"P[{op.prim.name!r}].vjps[{i}]", [g, names[("node", n)]] + c.a, n)
                    lines.append(f"    {part} = {call}")
                    lines.append(f"    if {part}.shape != {shape!r}:  # broadcast: sum back")
                    lines.append(f"        {part} = sum_to({part}, shape={shape!r})")
                if not first:
                    lines.append(f"    {target} = {target} + {part}")
        result = [f"{program.leaves[j].name!r}: {grad_names[('leaf', j)]}"
                  for j, leaf in enumerate(program.leaves) if ("leaf", j) in grad_names]
        lines.append("    return {" + ", ".join(result) + "}")
    if uses_table:
        lines[table_line:table_line] = [
            "from autograd_lite.ops import sum_to",
            "from autograd_lite.value import PRIMITIVES as P  # ops with no NumPy rendering here", ""]
    return "\n".join(lines) + "\n"

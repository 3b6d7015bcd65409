"""`compile(fn)`: trace a step once, replay it as straight-line NumPy.

    loss_fn = autograd_lite.compile(lambda X, y: nn.mse_loss(model(X), y))
    loss = loss_fn(X, y)        # first call: fn runs eagerly, and is traced
    loss.backward()             # later calls replay the trace; backward fills .grad as eager
    print(loss_fn.source)       # the forward and backward it derived, as plain NumPy

The trace is the eager engine's own: the first call runs `fn` eagerly (its
result is that call's result) and walks the `Record`s that `apply` made back
from the outputs into a `codegen.Program`. Array arguments reach `fn` as
stand-in `Value`s that require grad, so every op on them is recorded too;
values `fn` reads from elsewhere (parameters) become leaves, read fresh on
every call; everything else is a constant. A replay is one op of the engine:
a primitive registered for the trace, whose forward is the generated code and
whose vjps read the generated backward. So `backward()`, `grad()`,
retain_graph, the freed-graph error and the in-place version check are the
engine's, and `no_grad()` around a call gives the forward only.
`create_graph=True` replays the trace op by op through `apply` (the eager path)
and differentiates that.

A call replays a trace when its arguments have the trace's shapes, dtypes and
requires_grad (and equal other arguments), the `nn` modules `fn` reaches hold
the same layers, parameters, buffers (with the same contents), settings and
hooks in the same train/eval mode, the NumPy arrays it reads by name are the
same objects (their contents are constants of the trace), and every leaf has
its traced shape; otherwise it traces again.

What a trace cannot follow makes `fn` run eagerly (with a warning saying why),
found while tracing: a layer that changes its buffers other than through
`side_effect` (BatchNorm's running statistics use it: a replay makes the update
again with its own arrays), random numbers other than `Dropout`'s masks
(those are drawn anew on every replay, by the layer itself), array constants
that change with the data (ELU's `where(x.data > 0, ...)`: the function runs
again on shuffled and on scaled inputs to see), gradient hooks inside it,
outputs that are not computed values, more than `MAX_OPS` ops, a function that
fails on `Value` arguments, and `detect_anomaly()` (always eager). Python
control flow on data values is not seen: `check=True` runs eagerly beside the
first replays and raises at the first op that differs.
"""
import functools
import inspect
import itertools
import keyword
import sys
import warnings
import weakref

import numpy as np

from . import anomaly, backprop, codegen, hooks, seeding, side_effects, versions
from .backprop import grad as _grad
from .grad_mode import _state as _grad_mode, enable_grad, no_grad
from .ops import primitive
from .value import PRIMITIVES, Value, apply

__all__ = ["compile", "CompiledFunction", "CompiledValue"]

MAX_OPS = 20_000       # a bigger trace runs eagerly: writing and compiling it costs more than it saves
CHECK_CALLS = 3        # check=True compares this many replays of each trace with eager runs
TRACES_PER_SHAPE = 4   # traces kept per argument signature (train and eval, say)
_labels = itertools.count()
_SETTINGS = (int, float, str, bool, tuple)  # constants a guard compares by value (when literal)
_FAILS = "it fails on Value arguments"


def compile(fn=None, *, check=False):
    """Return `fn` traced on its first call and replayed as generated NumPy code after.

    `check=True` (or a number of calls) runs `fn` eagerly beside the first replays of each
    trace and raises, naming the first op whose output differs, if they disagree.
    Usable as a decorator: `@compile` or `@compile(check=True)`.
    """
    if fn is None:
        return lambda f: CompiledFunction(f, check=check)
    return CompiledFunction(fn, check=check)


class CompiledFunction:
    """The callable `compile(fn)` returns: `fn`'s signature, traced and replayed.

    `.source`: the latest trace's forward and backward as plain NumPy (readable,
    runnable: `source_arrays(...)` gives its arguments); `.fused_source`: the code
    that actually runs; `.traces`: how many traces are kept; `reset()` forgets them.
    """

    def __init__(self, fn, check=False):
        if not callable(fn):
            raise TypeError(f"compile: expected a function, got {type(fn).__name__}")
        functools.update_wrapper(self, fn, updated=())
        self.fn = fn
        self.check = CHECK_CALLS if check is True else int(check or 0)
        self._traces = {}   # argument signature -> [Trace], most recently used first
        self._arg_names = {}
        self._last = None

    def __call__(self, *args, **kwargs):
        if kwargs:
            names = tuple(sorted(kwargs))
            args = args + tuple(kwargs[name] for name in names)
        else:
            names = ()
        if anomaly.state.enabled:  # every op checked and located: the eager engine's job
            return self._eager(args, names)
        key = _signature(args, names)
        traces = self._traces.get(key)
        if traces:
            for i, trace in enumerate(traces):
                if trace.guard():
                    if i:
                        traces.insert(0, traces.pop(i))
                    self._last = trace
                    return trace.call(self, args, names)
        trace, result = _trace(self, args, names)  # (an error in fn caches nothing)
        if trace.program is None:
            warnings.warn(f"compile({self.__name__}) runs it eagerly: {trace.eager_reason}",
                          RuntimeWarning, stacklevel=2)
        traces = self._traces.setdefault(key, [])
        traces.insert(0, trace)
        del traces[TRACES_PER_SHAPE:]
        self._last = trace
        return result

    def argument_names(self, count, names):
        """Display names of `count` arguments (the last ones passed by `names`)."""
        found = self._arg_names.get((count, names))
        if found is None:
            found = self._arg_names[count, names] = _argument_names(self.fn, count, names)
        return found

    def _eager(self, args, names, raw=False):
        """fn run eagerly; array arguments reach it as constant values, as when tracing (`raw`:
        as given, for a function that fails on values)."""
        if not raw:
            args = [Value(a, requires_grad=False, dtype=a.dtype) if a.__class__ is np.ndarray
                    else a for a in args]
        positional = args[:len(args) - len(names)]
        return self.fn(*positional, **dict(zip(names, args[len(positional):])))

    @property
    def traces(self):
        return sum(len(t) for t in self._traces.values())

    def reset(self):
        """Forget every trace: the next call traces again (after changing what no guard sees,
        such as a NumPy array fn reads, in place)."""
        self._traces.clear()
        self._last = None

    def _latest(self):
        if self._last is None:
            raise RuntimeError(f"compile({self.__name__}): not traced yet; call it once first")
        return self._last

    @property
    def source(self):
        """The latest trace as plain NumPy: `forward(...)` and `backward(g, ...)`, one line per op."""
        trace = self._latest()
        if trace.program is None:
            return f"# {self.__name__} runs eagerly: {trace.eager_reason}\n"
        if trace.readable is None:
            trace.readable = codegen.numpy_source(trace.program, self.__name__)
        return trace.readable

    @property
    def fused_source(self):
        """The generated code that runs: the table's forwards and vjps called in a straight line."""
        trace = self._latest()
        if trace.program is None:
            return self.source
        trace.compile()
        return trace.fused

    def source_arrays(self, *args, **kwargs):
        """The arrays `.source`'s functions take, by name, for a call with these arguments:
        the arguments, the leaves' current data, the constants, and the masks drawn when tracing."""
        trace = self._latest()
        if trace.program is None:
            raise RuntimeError(f"compile({self.__name__}): runs eagerly ({trace.eager_reason})")
        args = args + tuple(kwargs[name] for name in sorted(kwargs))
        arrays = {}
        for name, where in codegen.readable_names(trace.program)[1]:
            kind, i = where[0], where[1]
            if kind == "arg":
                arrays[name] = args[i]
            elif kind == "leaf":
                arrays[name] = trace.leaf_data(args, i)
            elif kind == "const":
                arrays[name] = trace.program.constants[i]
            elif kind == "draw":
                arrays[name] = trace.traced_masks[i]
            else:  # an option too big to write out
                arrays[name] = trace.resolve_option(trace.program.ops[i].options[where[2]], args)
        return arrays

    def __repr__(self):
        return f"<compiled {self.__name__}: {self.traces} trace(s)>"


# --- arguments -------------------------------------------------------------------------------
def _signature(args, names):
    """What decides which trace a call may replay: each array's type, shape and dtype (and
    requires_grad for a Value); other arguments by value (by identity when unhashable)."""
    key = [names]
    for a in args:
        cls = a.__class__
        if cls is np.ndarray:
            key.append((cls, a.shape, a.dtype))
        elif isinstance(a, Value):
            key.append((Value, a._data.shape, a._data.dtype, a._requires_grad))
        else:
            try:
                hash(a)
                key.append((cls, a))
            except TypeError:
                key.append((cls, id(a)))
    return tuple(key)


def _stand_in(a):
    """What `fn` receives for argument `a` while tracing: a float array, or a float value that
    does not require grad, becomes a leaf that does (so every op on it is recorded); integer
    and boolean arrays become constant values of their own dtype (labels, masks); anything else
    (a value that requires grad included) passes as it is."""
    if a.__class__ is np.ndarray:
        if a.dtype.kind == "f":  # the array itself, read-only (an in-place change gets a copy)
            view = a.view()
            view.flags.writeable = False
            stand_in = Value.__new__(Value)
            stand_in._init(view, versions.next_number())
            stand_in._requires_grad = True
            return stand_in
        if a.dtype.kind in "iub":
            return Value(a, requires_grad=False, dtype=a.dtype)
    elif isinstance(a, Value) and not a._requires_grad and a._data.dtype.kind == "f":
        stand_in = a.detach()
        stand_in.requires_grad, stand_in.name = True, a.name
        return stand_in
    return a


def _argument_names(fn, count, names):
    """Display names of the arguments: fn's parameter names where it has them."""
    plain, star = _parameter_names(fn)
    return [plain[i] if i < len(plain) else f"{star}{i - len(plain)}"
            for i in range(count - len(names))] + list(names)


def _parameter_names(fn):
    """([fn's positional parameter names], the name of its *args or "arg"), read from its code
    object (`inspect.signature` costs more than a small step), else from its signature."""
    code = getattr(getattr(fn, "__func__", fn), "__code__", None)
    if code is not None and not hasattr(fn, "__wrapped__"):  # (a wrapper: its wrapped's names)
        plain = list(code.co_varnames[:code.co_argcount])[1 if hasattr(fn, "__func__") else 0:]
        star = (code.co_varnames[code.co_argcount + code.co_kwonlyargcount]
                if code.co_flags & inspect.CO_VARARGS else "arg")
        return plain, star
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        params = []
    star = next((p.name for p in params if p.kind is p.VAR_POSITIONAL), "arg")
    return [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)], star


# --- the nn modules fn reaches, and their state -----------------------------------------------
def _module_type():
    return getattr(sys.modules.get("nn.module"), "Module", None)  # (autograd_lite never imports nn)


def _roots(fn, module_type):
    """[(how fn reaches it, module, array or function)]: the modules in fn's closure, globals,
    defaults and `self`, looking one level into other objects there, and the NumPy arrays and
    functions it reads by name there, and the numbers and strings (a trace keeps these as
    constants, and what a function did: the guard sees a name bound to another one). `how` is
    ("cell", cell), ("global", dict, name), ("attr", object, name) or ("const",) (fn itself,
    a bound method's module, a default)."""
    found, seen = [], set()

    def add(how, obj):  # (once per way of reaching it: each name is guarded)
        key = ("const", id(obj)) if how[0] == "const" else (how[0], id(how[1])) + how[2:]
        if key not in seen:
            seen.add(key)
            found.append((how, obj))

    def consider(obj, how, depth):
        if isinstance(obj, module_type) or how[0] != "const" and (
                isinstance(obj, np.ndarray) or type(obj) in _SETTINGS and codegen._literal(obj)):
            add(how, obj)
        elif inspect.isfunction(obj) or inspect.ismethod(obj):
            if how[0] != "const":  # (a name bound to another function: its trace is another)
                add(how, obj)
            visit(obj, depth + 1)
        elif depth == 0 and hasattr(obj, "__dict__") and not isinstance(obj, type) \
                and not inspect.ismodule(obj):
            for name, value in list(vars(obj).items()):
                if isinstance(value, (module_type, np.ndarray)) or type(value) in _SETTINGS \
                        and codegen._literal(value):
                    add(("attr", obj, name), value)

    def visit(f, depth):
        if depth > 3 or ("f", id(f)) in seen:
            return
        seen.add(("f", id(f)))
        if inspect.ismethod(f):
            consider(f.__self__, ("const",), depth)
            f = f.__func__
        code = getattr(f, "__code__", None)
        if code is None:
            return
        for cell in f.__closure__ or ():
            try:
                consider(cell.cell_contents, ("cell", cell), depth)
            except ValueError:  # an empty cell
                pass
        for name in code.co_names:
            if name in f.__globals__:
                consider(f.__globals__[name], ("global", f.__globals__, name), depth)
        for value in (f.__defaults__ or ()) + tuple((f.__kwdefaults__ or {}).values()):
            consider(value, ("const",), depth)

    if isinstance(fn, module_type):
        consider(fn, ("const",), 0)
    else:
        visit(fn, 0)
    return found


def _tree(roots):
    """Every module under the roots, each once."""
    modules, seen = [], set()
    for _, root in roots:
        for module in root.modules() if hasattr(root, "modules") else ():
            if id(module) not in seen:
                seen.add(id(module))
                modules.append(module)
    return modules


def _module_of(scope):
    """The module whose call opened `scope` (its name is the module's bound `_call_label`)."""
    return getattr(getattr(scope, "_name", None), "__self__", None)


def _generators(modules):
    """The random generators a trace watches: the library's and every `np.random.Generator` a
    module holds. (numpy's legacy global one is not watched: reading its state costs more than
    a small step; an array it draws inside fn changes from run to run, which the check of
    array constants sees.)"""
    found = {id(seeding.default_generator()): seeding.default_generator()}
    for module in modules:
        for value in vars(module).values():
            if isinstance(value, np.random.Generator):
                found[id(value)] = value
    return list(found.values())


def _states(generators):
    return [g.bit_generator.state for g in generators]


def _restore_states(generators, states):
    for g, state in zip(generators, states):
        g.bit_generator.state = state


def _same(a, b):
    """Equal generator states (nested dicts and lists of numbers and arrays)."""
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, np.ndarray):
        return np.array_equal(a, b)
    return a == b


class _Buffers:
    """The modules' buffers now: a copy of each, to see and undo changes."""

    def __init__(self, modules):
        self.saved = [(m, name, array, np.array(array)) for m in modules
                      for name, array in m._buffers.items() if array is not None]

    def changed(self, updating=()):
        """The buffers changed since, except those of the modules (ids) in `updating`, whose
        side effects a replay makes again."""
        return [f"{type(m).__name__}.{name}" + (f" (layer '{m._qualname}')" if m._qualname else "")
                for m, name, array, copy in self.saved if id(m) not in updating and (
                    m._buffers.get(name) is not array or not np.array_equal(array, copy, equal_nan=True))]

    def restore(self):
        for m, name, array, copy in self.saved:
            array[...] = copy
            m._buffers[name] = array


# --- tracing -----------------------------------------------------------------------------------
class _Eager(Exception):
    """Raised while tracing: fn must run eagerly, for the reason given."""


def _run_recorded(fn, args, names, effects=None):
    """fn on stand-ins, recording: (result, stand-ins). The side effects it makes are added to
    the list `effects` (when given)."""
    stand_ins = [_stand_in(a) for a in args]
    positional = len(args) - len(names)
    outer, side_effects.state.effects = side_effects.state.effects, effects
    try:
        with enable_grad():
            result = fn(*stand_ins[:positional], **dict(zip(names, stand_ins[positional:])))
    finally:
        side_effects.state.effects = outer
    return result, stand_ins


def _updating(effects):
    """The ids of the modules whose side effects (bound methods) a trace replays."""
    return {id(update.__self__) for update, _, _ in effects if hasattr(update, "__self__")}


def _outputs(result):
    """The output values of fn's result (a Value, or tuples and lists of them, nested), and
    its structure: None for a Value, else (type, [structure of each item])."""
    if isinstance(result, Value):
        return [result], None
    if isinstance(result, (tuple, list)) and result:
        values, parts = [], []
        for item in result:
            found, part = _outputs(item)
            values += found
            parts.append(part)
        return values, (type(result), parts)
    raise _Eager(f"fn returned {type(result).__name__}; compile needs a Value, or tuples or "
                 f"lists of Values")


def _rebuild(structure, values):
    """fn's result from the output values, in `_outputs`'s structure."""
    if structure is None:
        return next(values)
    kind, parts = structure
    return kind([_rebuild(part, values) for part in parts])


def _recorded_ops(outputs):
    """Every op behind the outputs, in the order they ran."""
    ops, seen, stack = [], set(), list(outputs)
    while stack:
        value = stack.pop()
        if id(value) in seen or value._record is None:
            continue
        seen.add(id(value))
        ops.append(value)
        stack.extend(x for x in value._record.inputs if isinstance(x, Value))
    return sorted(ops, key=lambda v: v._number)


def _trace(compiled, args, names):
    """Trace `compiled.fn` on these arguments: (a Trace, the call's result). The result is the
    traced run's own; where fn must run eagerly, the state the run changed is put back and fn
    runs again, eagerly."""
    fn, recording = compiled.fn, _grad_mode.enabled
    roots = _roots(fn, _module_type() or ())  # (without nn imported: the arrays only)
    modules = _tree(roots)
    generators = _generators(modules)
    before, buffers = _states(generators), _Buffers(modules)
    start, effects = versions.next_number(), []
    try:
        result, stand_ins = _run_recorded(fn, args, names, effects)
    except Exception as error:  # (fn's own error, if it fails eagerly too, comes from the rerun)
        buffers.restore()
        _restore_states(generators, before)
        trace = Trace.eager(f"{_FAILS} ({type(error).__name__}: {error}); it gets its arrays "
                            f"as given", _guard(roots, modules, [], buffers=False))
        return trace, compiled._eager(args, names, raw=True)
    after = _states(generators)
    updating = _updating(effects)
    try:
        changed = buffers.changed(updating)
        if changed:
            raise _Eager(f"it changes {', '.join(changed)} outside ops, which a trace cannot "
                         f"replay (a layer that updates state from computed values does it "
                         f"through autograd_lite.side_effect)")
        outputs, structure = _outputs(result)
        trace = Trace(compiled, args, names, roots, modules, outputs, structure, stand_ins, start,
                      effects, updating)
        if trace.has_array_constants:
            updated = _Buffers(modules)  # (the reruns make the side effects again: undone after)
            try:
                _same_constants_on_other_data(fn, args, names, outputs, stand_ins,
                                              lambda: _restore_states(generators, before))
            finally:
                updated.restore()
        trace.check_draws(generators, before, after)
    except _Eager as why:
        trace = Trace.eager(str(why), _guard(roots, modules, [], buffers=False))
        if all(s is a for s, a in zip(stand_ins, args)):  # fn ran on the arguments themselves:
            _restore_states(generators, after)           # that run was the eager call
            return trace, result
        buffers.restore()  # else undo what the traced run changed, and run fn eagerly instead
        _restore_states(generators, before)
        return trace, compiled._eager(args, names)
    _restore_states(generators, after)
    return trace, trace.first_result(outputs, recording)


def _same_constants_on_other_data(fn, args, names, outputs, stand_ins, rewind):
    """Raise _Eager if fn, run again on other values of its float arguments, records other ops
    or other array constants: then NumPy code in fn computes them from the data (ELU's
    `where(x.data > 0, ...)`), which a replay would keep from the first call. The other values:
    the elements shuffled (same range: a validity check in fn passes), then scaled by -1000
    (every sign and threshold crossed; where fn refuses those values, the shuffle decides)."""
    shuffle = np.random.default_rng(20240607)  # (its own generator: the library's is untouched)

    def other(a, how):
        data = a._data if isinstance(a, Value) else a
        if not isinstance(data, np.ndarray) or data.dtype.kind != "f" or data.size < 2:
            return a
        if how == "shuffled":
            return data.reshape(-1)[shuffle.permutation(data.size)].reshape(data.shape)
        return data * data.dtype.type(-1000.0) + data.dtype.type(1.0)

    mine, data = _recorded_ops(outputs), {id(s._data) for s in stand_ins if isinstance(s, Value)}
    for how in ("shuffled", "scaled"):
        rewind()  # the same random draws as the trace
        try:
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                result, _ = _run_recorded(fn, [other(a, how) for a in args], names)
            theirs = _recorded_ops(_outputs(result)[0])
        except Exception:
            if how == "scaled":
                return
            raise _Eager("it fails when its inputs' elements are shuffled, so compile cannot "
                         "check that the array constants in its trace do not come from the "
                         "data") from None
        for n, (a, b) in enumerate(zip(mine, theirs)):
            ra, rb = a._record, b._record
            same = ra.primitive is rb.primitive and _same_arrays(ra.options, rb.options, data) \
                and all(isinstance(x, Value) or id(x) in data or _same_arrays(sa, sb, data)
                        for x, sa, sb in zip(ra.inputs, ra.saved, rb.saved))
            if not same:
                where = f" in {a.scope.name}" if a.scope is not None else ""
                raise _Eager(f"op {n} '{a.op}'{where} takes an array that changes with the "
                             f"data (computed in NumPy, like `x.data > 0`, or drawn at random), "
                             f"which a trace cannot follow")
        if len(mine) != len(theirs):
            raise _Eager("its ops depend on the values of its inputs (Python control flow on "
                         "data)")


def _same_arrays(a, b, data):
    """Equal arrays in two runs' constants or options, except an argument's data (`data`: ids)."""
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same_arrays(a[k], b[k], data) for k in a)
    if type(a) in (tuple, list):
        return len(a) == len(b) and all(_same_arrays(x, y, data) for x, y in zip(a, b))
    if isinstance(a, np.ndarray) and id(a) not in data:
        return isinstance(b, np.ndarray) and a.shape == b.shape and np.array_equal(
            a, b, equal_nan=a.dtype.kind in "fc")
    return True


class Trace:
    """One traced call of fn: its program, the code generated from it (on the first replay),
    and `guard()`, true while a call may replay it. `program` is None where fn runs eagerly."""

    def __init__(self, compiled, args, names, roots, modules, outputs, structure, stand_ins, start,
                 effects, updating):
        self.program = self.readable = self.forward = self.eager_reason = None
        self.checks_left, self.structure = compiled.check, structure
        self.label = f"compiled({compiled.__name__})#{next(_labels)}"
        ops = _recorded_ops(outputs + [v for _, values, _ in effects for v in values
                                       if isinstance(v, Value)])
        if len(ops) > MAX_OPS:
            raise _Eager(f"its trace has {len(ops)} ops (more than compile.MAX_OPS = {MAX_OPS})")
        if not all(v._record is not None for v in outputs):
            raise _Eager("an output is not computed by an op (an input or parameter returned "
                         "as it is, or a value made without recording)")
        for value in ops:
            if value.retains_grad or id(value) in hooks.registered:
                raise _Eager(f"op '{value.op}' inside it has a gradient hook or retain_grad(), "
                             f"which a replay cannot honour (it makes no such value)")
        modules = self.modules = modules + _unnamed_modules(ops, modules)
        self._build_program(compiled, args, names, ops, outputs, stand_ins, start, effects)
        leaves = [(value, leaf) for value, leaf in zip(self.leaves, self.program.leaves)
                  if value is not None]
        for stand_in in stand_ins:  # (the first call's backward needs no gradient for these)
            if isinstance(stand_in, Value) and stand_in._record is None and all(
                    stand_in is not a for a in args):
                stand_in._requires_grad = False
        self.guard = functools.partial(self._first_guard, _guard_source(
            roots, modules, leaves, updating=updating))

    def _build_program(self, compiled, args, names, ops, outputs, stand_ins, start, effects):
        """The program: each op's inputs as refs (see codegen.Program), the leaves it reads,
        its constants, the Dropout masks it draws and its side effects."""
        by_arg = {id(s): p for p, s in enumerate(stand_ins) if isinstance(s, Value)}
        data_of = {id(s._data): p for p, s in enumerate(stand_ins) if isinstance(s, Value)}
        arg_names = compiled.argument_names(len(args), names)
        leaves, leaf_objects, constants, draws, masks = [], [], [], [], []
        self.value_args = []  # (leaf index, argument position) of Value arguments
        leaf_of, index_of = {}, {id(v): n for n, v in enumerate(ops)}
        dropout = getattr(sys.modules.get("nn.layers"), "Dropout", None)

        def leaf_ref(x):
            if id(x) in leaf_of:
                return ("leaf", leaf_of[id(x)])
            p = by_arg.get(id(x))
            if p is not None and args[p].__class__ is np.ndarray:
                return ("arg", p)
            j = leaf_of[id(x)] = len(leaves)
            if p is not None:
                self.value_args.append((j, p))
                name, source = x.name or arg_names[p], args[p]
            else:
                name, source = x.name or f"leaf{j}", x
            leaves.append(codegen.Leaf(name, source._requires_grad, source._data.shape,
                                       source._data.dtype))
            leaf_objects.append(source)
            return ("leaf", j)

        def data_ref(p):
            return ("arg", p) if args[p].__class__ is np.ndarray else leaf_ref(stand_ins[p])

        def option(x):
            if isinstance(x, np.ndarray) and id(x) in data_of:
                return codegen.ArgData(data_ref(data_of[id(x)]))
            if type(x) in (tuple, list):
                return type(x)(option(e) for e in x)
            return x

        def constant(x):
            constants.append(x)
            return ("const", len(constants) - 1)

        def input_ref(x, seen, user):
            """The ref of input `x` (the array `seen` when it ran) of `user`, an op or a side effect."""
            if isinstance(x, Value):
                if id(x) in index_of:
                    return ("node", index_of[id(x)])
                if id(x) in by_arg or x._requires_grad or x._number < start:
                    return leaf_ref(x)
                if any(np.may_share_memory(x._data, s._data) for s in stand_ins
                       if isinstance(s, Value)):
                    raise _Eager(f"{user} reads a value computed from an integer or boolean "
                                 f"argument, which is not recorded")
                return constant(x._data)  # made inside fn from constants only: a constant
            if isinstance(x, np.ndarray) and id(x) in data_of:
                return data_ref(data_of[id(x)])
            return constant(seen)

        program_ops = []
        for value in ops:
            record = value._record
            refs = []
            for i, (x, seen) in enumerate(zip(record.inputs, record.saved)):
                if i == 1 and record.primitive.name == "mul" and not isinstance(x, Value) \
                        and id(x) not in data_of and _is_dropout(value, dropout):
                    draws.append(_dropout_draw(_module_of(value.scope), np.shape(seen),
                                               np.asarray(seen).dtype))
                    masks.append(np.asarray(seen))
                    refs.append(("draw", len(draws) - 1))
                else:
                    refs.append(input_ref(x, seen, f"op '{record.primitive.name}'"))
            label = value.scope.name if value.scope is not None else None
            options = {k: option(v) for k, v in record.options.items()}
            program_ops.append(codegen.Op(record.primitive, refs, options, value._data.shape,
                                          value._data.dtype, label, value.name))
        self.program = codegen.Program(
            [arg_names[p] if a.__class__ is np.ndarray else None for p, a in enumerate(args)],
            [np.shape(a) for a in args], leaves, constants, [m.shape for m in masks],
            program_ops, [index_of[id(v)] for v in outputs],
            [(update, [input_ref(v, getattr(v, "_data", v), "a side effect") for v in values],
              {k: option(v) for k, v in options.items()}) for update, values, options in effects])
        self.has_array_constants = any(isinstance(c, np.ndarray) for c in constants) or any(
            _has_array(v) for op in program_ops for v in op.options.values())
        for j, _ in self.value_args:  # (a call's own arguments: not kept past the call)
            leaf_objects[j] = None
        self.leaves, self.draws, self.traced_masks = leaf_objects, draws, masks
        wanted = [j for j, leaf in enumerate(leaves) if leaf.requires_grad]
        self.last_grad = wanted[-1] if wanted else -1

    @classmethod
    def eager(cls, reason, guard):
        """A trace that runs fn eagerly, for `reason` (the caller warns once), while `guard`
        holds (the modules in the same mode: BatchNorm1d in eval mode is traced again)."""
        trace = cls.__new__(cls)
        trace.program = trace.readable = None
        trace.eager_reason, trace.guard = reason, guard
        return trace

    def check_draws(self, generators, before, after):
        """Raise _Eager unless drawing this trace's Dropout masks again, from the generators as
        they were before the trace, gives the same masks and leaves them as the trace did: else
        fn draws random numbers some other way, which a replay would not repeat."""
        if not self.draws and _same(before, after):
            return
        _restore_states(generators, before)
        if not (all(np.array_equal(draw(), mask) for draw, mask in zip(self.draws, self.traced_masks))
                and _same(_states(generators), after)):
            raise _Eager("it draws random numbers other than Dropout's masks")

    def first_result(self, outputs, recording):
        """The traced run's outputs as this call's result: an output that no leaf requiring grad
        reaches (or any, under no_grad()) is detached, as eager would not have recorded it."""
        ops = self.program.ops
        outputs = [v if recording and ops[n].needs_grad else v.detach()
                   for v, n in zip(outputs, self.program.outputs)]
        return _rebuild(self.structure, iter(outputs))

    def _first_guard(self, source):
        """Compile the guard written when tracing (on the first call after it) and run it."""
        self.guard = _compiled_guard(*source)
        return self.guard()

    def compile(self):
        """Generate and compile the code, and register its primitives (on the first replay)."""
        if self.forward is None:
            self.forward, self.backwards, self.fused = codegen.build(self.program, f"<{self.label}>")
            count = len(self.program.outputs)
            self.names = [self.label if count == 1 else f"{self.label}.{k}" for k in range(count)]
            for k, name in enumerate(self.names):
                forward = self.forward if k == 0 else functools.partial(_output, k)
                vjps = [functools.partial(_leaf_gradient, k, j) for j in range(len(self.leaves))]
                primitive(name, forward, None, *vjps)  # (input 0, the tape, gets no gradient)
            weakref.finalize(self, _forget, self.names)  # (results made by them keep them)

    def resolve_option(self, x, args):
        """An option with the arguments' data put back in (for `source_arrays`)."""
        return _resolve(x, lambda r: args[r[1]] if r[0] == "arg" else self.leaf_data(args, r[1]))

    def leaf_data(self, args, j):
        for leaf, p in self.value_args:
            if leaf == j:
                return args[p]._data
        return self.leaves[j]._data

    def call(self, compiled, args, names):
        """Replay the trace on these arguments (run fn eagerly for an eager trace)."""
        if self.program is None:
            return compiled._eager(args, names, raw=self.eager_reason.startswith(_FAILS))
        if self.forward is None:
            self.compile()
        if self.checks_left > 0:
            self.checks_left -= 1
            return self._checked(compiled, args, names)
        if self.structure is None and not self.value_args:  # from now on, straight to the replay
            self.call = self._replay
        return self.run(args)[0]

    def _replay(self, compiled, args, names):
        """`call` of a compiled trace with one output and no Value arguments: the common case."""
        out = apply(self.names[0], _Tape(self, args), *self.leaves)
        out.__class__ = CompiledValue
        return out

    def run(self, args):
        """(fn's result from the replay, the tape)."""
        tape = _Tape(self, args)
        if self.value_args:
            inputs = list(self.leaves)
            for j, p in self.value_args:
                inputs[j] = args[p]
        else:
            inputs = self.leaves
        out = apply(self.names[0], tape, *inputs)
        if self.structure is None:
            out.__class__ = CompiledValue  # (a plain Value with a quicker backward())
            return out, tape
        outputs = [out] + [apply(name, tape, *inputs) for name in self.names[1:]]
        return _rebuild(self.structure, iter(outputs)), tape

    def _checked(self, compiled, args, names):
        """A replay, and fn run eagerly on the same arguments with the same random draws; raise
        at the first op whose output differs."""
        generators = _generators([])
        generators += [draw.module_rng for draw in self.draws if draw.module_rng is not None]
        before, buffers_before = _states(generators), _Buffers(self.modules)
        result, tape = self.run(args)
        after, buffers_after = _states(generators), _Buffers(self.modules)
        _restore_states(generators, before)
        buffers_before.restore()  # (the eager run makes the side effects again, from the start)
        eager_result, _ = _run_recorded(compiled.fn, args, names)
        _restore_states(generators, after)
        buffers_after.restore()
        eager_ops = _recorded_ops(_outputs(eager_result)[0])
        leaves = [self.leaf_data(args, j) for j in range(len(self.leaves))]
        replayed = _values(self, tape, lambda prim, *a, **o: prim.forward(*a, **o), leaves)
        for n, (op, mine) in enumerate(zip(self.program.ops, replayed)):
            theirs = eager_ops[n] if n < len(eager_ops) else None
            if theirs is None or theirs._record.primitive is not op.prim:
                found = f"op '{theirs.op}'" if theirs is not None else "no op"
                problem = f"the trace has op '{op.prim.name}' there, the eager run {found}"
            elif theirs._data.shape != np.shape(mine) or not np.array_equal(
                    theirs._data, mine, equal_nan=True):
                diff = (np.max(np.abs(theirs._data - mine)) if theirs._data.shape == np.shape(mine)
                        else f"shapes {theirs._data.shape} and {np.shape(mine)}")
                problem = f"its output differs (largest difference {diff})"
            else:
                continue
            where = f" in {op.label}" if op.label else ""
            raise RuntimeError(
                f"compile({compiled.__name__}, check=True): the replay and an eager run disagree "
                f"at op {n} '{op.prim.name}'{where}: {problem}. The trace does not follow fn: "
                f"Python control flow or NumPy code in fn depends on the values of its inputs, "
                f"which a trace cannot see (it records ops for one set of values; only shapes "
                f"are checked). Keep such code out of the compiled function, or call fn "
                f"uncompiled.")
        if len(eager_ops) != len(self.program.ops):
            raise RuntimeError(
                f"compile({compiled.__name__}, check=True): the eager run has {len(eager_ops)} "
                f"ops, the trace {len(self.program.ops)}: Python control flow in fn depends on "
                f"the values of its inputs, which a trace cannot see.")
        return result


def _is_dropout(value, dropout):
    """Whether `value` was made by a Dropout layer in training that draws a mask."""
    module = _module_of(value.scope)
    return dropout is not None and isinstance(module, dropout) and module.training \
        and 0.0 < module.p < 1.0


def _unnamed_modules(ops, modules):
    """The modules fn called that it does not reach by name (guarded as they are). One with
    buffers or a generator of its own could change them unseen: then fn runs eagerly."""
    known, extra = {id(m) for m in modules}, []
    for value in ops:
        scope = value.scope
        while scope is not None:
            module = _module_of(scope)
            if module is not None and id(module) not in known and hasattr(module, "_buffers"):
                for m in module.modules():
                    if id(m) not in known:
                        known.add(id(m))
                        extra.append(m)
            scope = scope.parent
    for m in extra:
        if m._buffers or any(isinstance(v, np.random.Generator) for v in vars(m).values()):
            raise _Eager(f"it calls layer {type(m).__name__}, which has state of its own, "
                         f"through something compile cannot follow; reach the model through "
                         f"fn's closure or globals")
    return extra


# --- replaying ------------------------------------------------------------------------------------
class CompiledValue(Value):
    """The output of a compiled call. `backward()` from it runs the generated backward and
    stores the leaves' gradients with the engine's own `_store_grad` (and frees the graph
    with its `_release`), without the walk's bookkeeping, when nothing needs the walk: the
    graph is this one op (the output not used by other ops is what `loss.backward()` sees),
    with the implicit seed of a one-element output, no create_graph, no changes since the op
    ran (else the walk's in-place check speaks), no hooks, no anomaly mode. Otherwise, and for
    everything else, it is a plain Value."""

    __slots__ = ()

    def backward(self, grad=None, retain_graph=False, create_graph=False):
        record = self._record
        if (grad is not None or create_graph or record is None or record.saved is None
                or versions.latest_change > self._number or hooks.registered
                or anomaly.state.enabled or self.retains_grad or self._data.size != 1):
            return Value.backward(self, grad, retain_graph, create_graph)
        g = _seed(self._data.shape, self._data.dtype)
        saved, handed_out = record.saved, {id(g)}
        tape = saved[0]
        grads = tape.trace.backwards[0](tape, g, saved[1:])
        for leaf, gradient in zip(record.inputs, grads):
            if gradient is not None and leaf._requires_grad:
                backprop._store_grad(leaf, gradient, handed_out)
        if not retain_graph:
            backprop._release([self])


@functools.lru_cache(maxsize=16)
def _seed(shape, dtype):
    """The implicit gradient of a one-element output: ones, kept read-only (backward's
    `_store_grad` copies what it was handed, so no .grad is ever this array)."""
    ones = np.ones(shape, dtype)
    ones.flags.writeable = False
    return ones


def _forget(names):
    """Take a dead trace's primitives out of the table (`ops.primitive` put them there)."""
    for name in names:
        PRIMITIVES.pop(name, None)


def _output(k, tape, *leaves):
    """The forward of output k > 0: computed already by output 0's."""
    return tape.outputs[k]


def _leaf_gradient(k, j, g, ans, tape, *leaves):
    """The vjp of output k for leaf j: the generated backward's result, computed once per g.
    Under create_graph (g a Value) the trace is replayed through `apply`, the eager path."""
    if isinstance(g, Value):
        return tape.recorded_gradient(k, j, g, leaves)
    cache = tape.cache
    if cache is None or cache[0] != k or cache[1] is not g:
        cache = tape.cache = (k, g, tape.trace.backwards[k](tape, g, leaves))
    if j == tape.trace.last_grad:
        tape.cache = None
    return cache[2][j + 1]


class _Tape:
    """One call's replay: its arguments, the arrays backward needs (`saved`, dropped by the
    backward), the other outputs, the random masks it drew, and gradients being handed out."""

    __slots__ = ("trace", "args", "saved", "outputs", "masks", "cache", "effects")

    def __init__(self, trace, args):
        self.trace, self.args, self.effects = trace, args, True
        self.saved = self.outputs = self.masks = self.cache = None

    def draw(self, d):
        """The d-th random mask of this call: drawn by its layer the first time, then kept."""
        if self.masks is None:
            self.masks = {}
        mask = self.masks.get(d)
        if mask is None:
            mask = self.masks[d] = self.trace.draws[d]()
        return mask

    def recompute(self, leaves):
        """The forward again, for a second backward (retain_graph=True); the same masks, and
        not the side effects (made once, by the call)."""
        self.effects = False
        self.trace.forward(self, *leaves)
        return self.saved

    def recorded_gradient(self, k, j, g, leaves):
        """create_graph=True: replay the ops through `apply` from the leaf values (recorded),
        then differentiate that with `grad(..., create_graph=True)`."""
        cache = self.cache
        if cache is None or cache[0] != ("recorded", k) or cache[1] is not g:
            trace = self.trace
            wanted = [i for i, leaf in enumerate(trace.program.leaves) if leaf.requires_grad]
            values = _values(trace, self, apply, leaves, by_name=True)
            grads = _grad([values[trace.program.outputs[k]]], [leaves[i] for i in wanted], [g],
                          create_graph=True, allow_unused=True)
            found = [None] * (len(leaves) + 1)
            for i, gi in zip(wanted, grads):
                found[i + 1] = gi
            cache = self.cache = (("recorded", k), g, found)
        if j == self.trace.last_grad:
            self.cache = None
        return cache[2][j + 1]


def _values(trace, tape, run_op, leaves, by_name=False):
    """Every op's output, the program run op by op with `run_op(prim or name, *inputs, **options)`:
    the forwards on arrays (check=True), or `apply` on values (create_graph)."""
    program, values = trace.program, []

    def ref(r):
        kind, i = r
        if kind == "node":
            return values[i]
        if kind == "leaf":
            return leaves[i]
        if kind == "arg":
            return tape.args[i]
        if kind == "draw":
            return tape.draw(i)
        return program.constants[i]

    for op in program.ops:
        values.append(run_op(op.prim.name if by_name else op.prim, *[ref(r) for r in op.inputs],
                             **{k: _resolve(v, ref) for k, v in op.options.items()}))
    return values


def _has_array(x):
    if type(x) in (tuple, list):
        return any(_has_array(e) for e in x)
    return isinstance(x, np.ndarray)


def _resolve(x, ref):
    """An option value with each ArgData replaced by `ref(its ref)`."""
    if isinstance(x, codegen.ArgData):
        return ref(x.ref)
    if type(x) in (tuple, list):
        return type(x)(_resolve(e, ref) for e in x)
    return x


def _dropout_draw(module, shape, dtype):
    """A new mask for a Dropout call, drawn by the layer itself: its forward on ones."""
    ones = Value(np.ones(shape, dtype), requires_grad=False, dtype=dtype)

    def draw():
        with no_grad():
            return module.forward(ones)._data
    draw.module_rng = module.rng
    return draw


def _guard(roots, modules, leaves, buffers=True):
    """A function: True while fn still reaches the same modules, holding the same layers,
    parameters (and buffers) in the same mode as now, and every leaf keeps its shape and
    requires_grad."""
    return _compiled_guard(*_guard_source(roots, modules, leaves, buffers))


def _guard_source(roots, modules, leaves, buffers=True, updating=()):
    """(source, constants) of the guard of the state now (the compiling can wait). A buffer is
    checked by its contents too (a trace keeps what it read of one, as a constant: BatchNorm's
    running statistics in eval mode), except those of the modules in `updating` (ids), which
    the trace's own side effects change and its ops do not read."""
    names = codegen._Names()
    conditions = []
    for how, root in roots:
        same = f"== {codegen._literal(root)}" if type(root) in _SETTINGS else f"is {names(root)}"
        if how[0] == "cell":
            conditions.append(f"{names(how[1])}.cell_contents {same}")
        elif how[0] == "global":
            conditions.append(f"{names(how[1])}.get({how[2]!r}) {same}")
        elif how[0] == "attr":
            conditions.append(f"{names(how[1])}.__dict__.get({how[2]!r}) {same}")
    for m in modules:
        M = names(m)
        conditions.append(f"{M}.training is {bool(m.training)}")
        if m._modules:
            conditions.append(f"len({M}._modules) == {len(m._modules)}")
        for registry in ("_modules", "_parameters", "_buffers")[:3 if buffers and id(m) not in updating else 2]:
            for key, member in getattr(m, registry).items():
                target = "None" if member is None else names(member)
                conditions.append(f"{M}.{registry}.get({key!r}) is {target}")
                if registry == "_buffers" and member is not None:  # (changed in place?)
                    conditions.append(f"{target}.tobytes() == {names(member.tobytes())}")
        conditions += _setting_conditions(m, M, names)
    for value, leaf in leaves:
        L = names(value)
        conditions.append(f"{L}._data.shape == {leaf.shape!r}")
        conditions.append(f"{L}._requires_grad is {leaf.requires_grad}")
    body = " and\n            ".join(conditions) or "True"
    source = (f"def _build(K):\n    {', '.join(n for n, _ in names.values)}, = K\n"
              if names.values else "def _build(K):\n")
    source += (f"    def guard():\n        try:\n            return ({body})\n"
               f"        except Exception:\n            return False\n    return guard\n")
    return source, [obj for _, obj in names.values]


def _setting_conditions(m, M, names):
    """Guard conditions that module m's settings (numbers, strings, flags, such as
    `LeakyReLU.negative_slope`: constants of a trace) and its hooks (a trace runs none added
    later) are as now."""
    conditions = []
    for key, value in vars(m).items():
        text = codegen._literal(value) if type(value) in _SETTINGS else None
        if text is not None and key.isidentifier() and not keyword.iskeyword(key) \
                and not key.startswith("_") and key != "training":
            conditions.append(f"{M}.{key} == {text}")
    hooks = getattr(m, "_hooks", None)
    if not hooks and hasattr(m, "_hooks"):
        conditions.append(f"not {M}._hooks")
    elif hooks:
        H = names(hooks)
        conditions.append(f"{M}._hooks is {H} and "
                          f"{names(_hook_keys, 'KEYS')}({H}) == {_hook_keys(hooks)!r}")
    return conditions


def _hook_keys(hooks):
    """What a module's hooks object holds: the keys of each of its registries."""
    return tuple(tuple(registry) for registry in vars(hooks).values())


def _compiled_guard(source, constants):
    return codegen.run_source(source, "<compile guard>")(constants)

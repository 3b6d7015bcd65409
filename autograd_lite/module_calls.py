"""Which values each layer call produced, so a graph picture can group them by layer.

`nn.Module.__call__` reports every call here; `draw_graph(..., group_modules=True)`
reads it back. Only the output is kept (weakly), so recording costs one dict
entry per layer call and nothing outlives the graph it describes.
"""
import weakref

_calls = weakref.WeakKeyDictionary()


def record_module_call(label, inputs, output):
    """Remember that `output` came from a module call named `label` on `inputs`.

    `inputs` are the call's positional arguments; those that are `Value`s mark
    where the module's part of the graph begins. Nested calls that return the
    same value (a `Sequential` whose last layer made its output) are all kept,
    innermost first.
    """
    try:
        entry = (label, tuple(weakref.ref(v) for v in inputs if hasattr(v, "_node")))
        _calls.setdefault(output, []).append(entry)
    except TypeError:  # output not weak-referenceable (not a Value): nothing to group
        pass


def module_calls(value):
    """The `(label, input weakrefs)` entries recorded for `value`, innermost first."""
    try:
        return _calls.get(value, ())
    except TypeError:
        return ()

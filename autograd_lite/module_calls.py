"""Which values each layer call produced, so a graph picture can group them by layer.

`nn.Module.__call__` reports every call here; `draw_graph(..., group_modules=True)`
reads it back. Only weak references are kept, so recording costs one dict entry
per layer call and nothing outlives the graph it describes.

Entries are keyed by `id(output)`, not by the value itself: a `Value`'s `==`
is elementwise, so it cannot be a dictionary key (the same reason
`autograd.retained` is keyed by id). A weak reference to the output drops
the entry when the output is freed, before its id can be reused.
"""
import weakref

from .value import Value

_calls = {}  # id(output) -> (weakref to output, [(label, input weakrefs), ...])


def record_module_call(label, inputs, output):
    """Remember that `output` came from a module call named `label` on `inputs`.

    `label` is a string, or a function of no arguments that returns it: the
    text is then only made when a picture asks for it (`module_calls`), so
    training pays nothing for formatting labels no one reads.

    `inputs` are the call's positional arguments; those that are `Value`s mark
    where the module's part of the graph begins. Nested calls that return the
    same value (a `Sequential` whose last layer made its output) are all kept,
    innermost first. Outputs that are not `Value`s are ignored.
    """
    if not isinstance(output, Value):
        return
    key = id(output)
    known = _calls.get(key)
    if known is None or known[0]() is not output:
        known = _calls[key] = (weakref.ref(output, lambda ref: _forget(key, ref)), [])
    known[1].append((label, tuple(weakref.ref(v) for v in inputs if isinstance(v, Value))))


def _forget(key, ref):
    known = _calls.get(key)
    if known is not None and known[0] is ref:
        del _calls[key]


def module_calls(value):
    """The `(label, input weakrefs)` entries recorded for `value`, innermost first."""
    known = _calls.get(id(value))
    if known is None or known[0]() is not value:
        return ()
    return tuple((label if isinstance(label, str) else label(), inputs)
                 for label, inputs in known[1])

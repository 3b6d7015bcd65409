"""Which values each layer call produced, so a graph picture can group them by layer.

`nn.Module.__call__` reports every call here; `draw_graph(..., group_modules=True)`
reads it back. The entries live on the output value itself, so they go when it
goes; they hold the call's inputs only by weak reference, so they keep nothing
else alive.
"""
import weakref

from .value import Value


def record_module_call(label, inputs, output):
    """Remember that `output` came from a module call named `label` on `inputs`.

    `label` is a string, or a function of no arguments that returns it: the
    text is then only made when a picture asks for it (`module_calls`), so
    training pays nothing for formatting labels no one reads.

    `inputs` are the call's positional arguments; those that are `Value`s mark
    where the module's part of the graph begins. Nested calls that return the
    same value (a `Sequential` whose last layer made its output) are all kept,
    innermost first. Outputs that are not `Value`s are ignored, and so are a
    layer's own inputs and parameters passed through (Identity, Dropout in
    eval mode): they are no part of the layer's graph, and a value that lives
    on would gather one more entry every call.
    """
    if not isinstance(output, Value):
        return
    if output._node is None and (output.requires_grad or any(output is v for v in inputs)):
        return
    entry = (label, tuple([weakref.ref(v) for v in inputs if isinstance(v, Value)]))
    if output._module_calls is None:
        output._module_calls = [entry]
    else:
        output._module_calls.append(entry)


def module_calls(value):
    """The `(label, input weakrefs)` entries recorded for `value`, innermost first."""
    return tuple((label if isinstance(label, str) else label(), inputs)
                 for label, inputs in value._module_calls or ())

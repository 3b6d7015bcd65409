"""Gradient hooks: `v.register_hook(fn)` calls `fn(grad)` when backward reaches `v`.

As PyTorch's `Tensor.register_hook`: the hook gets the gradient with respect
to the value (a numpy array; a `Value` under `create_graph=True`); if it
returns something other than None, that replaces the gradient from then on:
for a computed value, what flows on to its inputs; for a leaf, what goes into
`.grad`. Hooks run in the order they were registered. The table holds no
reference to the value: an entry goes when its value does.
"""
import weakref

registered = {}  # id(value) -> [hook, ...], for values that have hooks


class RemovableHandle:
    """What `register_hook` returns: `.remove()` takes the hook off again."""

    def __init__(self, hooks, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self):
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


def register(value, hook):
    """Add `hook` to `value`'s hooks (see the module docstring)."""
    if not callable(hook):
        raise TypeError(f"register_hook: expected a function of the gradient, got "
                        f"{type(hook).__name__}")
    if not value.requires_grad:
        raise RuntimeError("register_hook: cannot register a hook on a value that does not "
                           "require grad (no gradient will reach it)")
    hooks = registered.get(id(value))
    if hooks is None:
        hooks = registered[id(value)] = []
        weakref.finalize(value, registered.pop, id(value), None)
    hooks.append(hook)
    return RemovableHandle(hooks, hook)


def run(value, grad):
    """`grad` passed through `value`'s hooks in order; a hook returning None keeps it."""
    for hook in list(registered.get(id(value), ())):
        result = hook(grad)
        if result is not None:
            if getattr(result, "shape", None) != grad.shape:
                raise ValueError(f"register_hook: a hook returned a gradient of shape "
                                 f"{getattr(result, 'shape', type(result).__name__)} for a value "
                                 f"of shape {grad.shape}")
            grad = result
    return grad

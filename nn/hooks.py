"""Module hooks, PyTorch's: functions called around a module's forward, and when the gradient
reaches its input.

    handle = model[0].register_forward_hook(lambda module, args, output: print(output.shape))
    ...
    handle.remove()

- `register_forward_pre_hook(hook)`: `hook(module, args)` before `forward`; it may return
  new args (a tuple, or one value for a single argument).
- `register_forward_hook(hook)`: `hook(module, args, output)` after `forward`; it may
  return a new output.
- `register_full_backward_hook(hook)`: `hook(module, grad_input, grad_output)` during
  backward, once the gradient of the module's input is known; it may return a new
  grad_input (a tuple). The subset supported: modules called with one positional
  input that return one `Value` (Linear, Conv2d, activations, Sequential, ...);
  others raise a clear error when called. grad_input is `(None,)` when the input
  does not require grad. In a plain backward the gradients are numpy arrays.

`with_kwargs=True` passes keyword arguments too, as PyTorch's does: pre-hooks get
`(module, args, kwargs)` and may return `(args, kwargs)`; forward hooks get
`(module, args, kwargs, output)`. `prepend=True` runs a hook before the others.

The backward hook is two identity ops, one on the input and one on the output:
the output's records grad_output, the input's calls the hooks with both. Their
vjps pass the gradient on unchanged (or as the hook replaced it), written with no
numpy of their own, so higher derivatives still work.
"""
import itertools
from collections import OrderedDict

from autograd_lite import Value, is_grad_enabled
from autograd_lite.ops import primitive

__all__ = ["RemovableHandle"]

_ids = itertools.count()


class RemovableHandle:
    """What `register_*_hook` returns: `handle.remove()` (or leaving a `with handle:` block)
    unregisters the hook."""

    def __init__(self, hooks_dict):
        self.id = next(_ids)
        self._hooks_dict = hooks_dict

    def remove(self):
        self._hooks_dict.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


class ModuleHooks:
    """One module's hooks: id -> (function, with_kwargs), in calling order."""

    def __init__(self):
        self.forward_pre = OrderedDict()
        self.forward = OrderedDict()
        self.backward = OrderedDict()

    def add(self, kind, hook, prepend=False, with_kwargs=False):
        if not callable(hook):
            raise TypeError(f"register hook: expected a function, got {type(hook).__name__}")
        hooks = getattr(self, kind)
        handle = RemovableHandle(hooks)
        hooks[handle.id] = (hook, with_kwargs)
        if prepend:
            hooks.move_to_end(handle.id, last=False)
        return handle

    def __bool__(self):
        return bool(self.forward_pre or self.forward or self.backward)


def call_with_hooks(module, hooks, args, kwargs):
    """module.forward(*args, **kwargs) with its pre-hooks, forward hooks and backward hooks."""
    for hook, with_kwargs in list(hooks.forward_pre.values()):
        if with_kwargs:
            result = hook(module, args, kwargs)
            if result is not None:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise RuntimeError(f"forward pre-hook with kwargs must return None or a tuple "
                                       f"of (new_args, new_kwargs), got {type(result).__name__}")
                args, kwargs = result
        else:
            result = hook(module, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
    call = None
    if hooks.backward:
        call = _BackwardCall(module, hooks)
        args = call.watch_input(args, kwargs)
    output = module.forward(*args, **kwargs)
    for hook, with_kwargs in list(hooks.forward.values()):
        result = hook(module, args, kwargs, output) if with_kwargs else hook(module, args, output)
        if result is not None:
            output = result
    return output if call is None else call.watch_output(output)


class _BackwardCall:
    """One call of a module with backward hooks: what its two identity ops share."""

    def __init__(self, module, hooks):
        self.module, self.hooks = module, hooks
        self.grad_output = None
        self.input_requires_grad = False

    def _unsupported(self, what):
        return ValueError(f"{self.module._named(type(self.module).__name__)}: "
                          f"register_full_backward_hook supports modules called with one "
                          f"positional input that return one Value; this one {what}")

    def watch_input(self, args, kwargs):
        if len(args) != 1 or kwargs:
            raise self._unsupported(f"was called with {len(args)} positional and {len(kwargs)} "
                                    f"keyword arguments")
        (x,) = args
        self.input_requires_grad = isinstance(x, Value) and x.requires_grad and is_grad_enabled()
        return (_hook_identity(x, call=self, role="input"),) if self.input_requires_grad else args

    def watch_output(self, output):
        if not isinstance(output, Value):
            raise self._unsupported(f"returned {type(output).__name__}")
        if not output.requires_grad:
            return output
        return _hook_identity(output, call=self, role="output")

    def fire(self, grad_input):
        for hook, _ in list(self.hooks.backward.values()):
            result = hook(self.module, grad_input, (self.grad_output,))
            if result is not None:
                grad_input = tuple(result) if isinstance(result, (tuple, list)) else (result,)
        return grad_input


def _identity_vjp(g, ans, x, call, role):
    """Pass the gradient on; on the output, note it; on the input, run the hooks with both."""
    if role == "output":
        call.grad_output = g
        if not call.input_requires_grad:  # no input gradient will come: the hooks run now
            call.fire((None,))
        return g
    (grad_input,) = call.fire((g,))
    return g if grad_input is None else grad_input


# the identity the backward hooks ride on (x itself, as `contiguous` returns a C-ordered x)
_hook_identity = primitive("nn.backward_hook", lambda x, call, role: x, _identity_vjp)

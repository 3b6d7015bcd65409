"""`Module`, `Parameter` and the two containers, `Sequential` and `ModuleList`.

A `Module` is a piece of a model: it owns `Parameter`s (values to train),
buffers (numpy arrays that are state but not trained, like BatchNorm's running
statistics) and child modules. All three are registered just by assigning
them as attributes, as in PyTorch:

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.hidden = nn.Linear(2, 4)     # a child module
            self.scale = nn.Parameter(1.0)    # a parameter

Registration is what lets `parameters()`, `state_dict()`, `train()`/`eval()`
and the tree `repr` walk the whole model. Each module also learns its
qualified name ("layers.0") when it is assigned into a parent, and names its
parameters with it ("layers.0.weight"), so graph pictures and error messages
say which layer a value belongs to. A module shared by two parents carries
the name from the parent it was assigned into last.
"""
from collections import OrderedDict, namedtuple

import numpy as np

from autograd_lite import Value, scope

from .hooks import ModuleHooks, call_with_hooks

__all__ = ["Parameter", "Module", "Sequential", "ModuleList"]


class Parameter(Value):
    """A `Value` that a `Module` registers as trainable (`requires_grad=True` by default)."""

    __slots__ = ()

    def __repr__(self):
        return "Parameter(" + super().__repr__()[len("Value("):]


def _join(prefix, name):
    return f"{prefix}.{name}" if prefix else name


def _wrap_input(x):
    """numpy arrays and lists become constants, so `model(X)` works on raw data.

    Boolean and integer arrays stay as they are: a mask (`x[mask]`) or indices (an
    `Embedding`'s token ids), which as float constants would stop being either.
    """
    if isinstance(x, np.ndarray) and x.dtype.kind in "biu":
        return x
    if isinstance(x, (np.ndarray, np.generic, list)):
        return Value(x, requires_grad=False)
    return x


IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class Module:
    """Base class of every layer and model: subclass it and write `forward`."""

    def __init__(self):
        set_plain = super().__setattr__
        set_plain("training", True)
        set_plain("_parameters", OrderedDict())
        set_plain("_buffers", OrderedDict())
        set_plain("_modules", OrderedDict())
        set_plain("_qualname", "")
        set_plain("_hooks", None)

    def forward(self, *args, **kwargs):
        raise NotImplementedError(
            f'Module [{type(self).__name__}] is missing the required "forward" function')

    # numpy inputs become constant Values; a module that takes integer data (Embedding's
    # indices, a loss's class labels) sets this False to receive them as they are
    _wraps_inputs = True

    def __call__(self, *args, **kwargs):
        if self._wraps_inputs:
            args = tuple(map(_wrap_input, args))
            if kwargs:
                kwargs = {k: _wrap_input(v) for k, v in kwargs.items()}
        # values made inside are tagged with this call, so pictures can box each layer call;
        # the label is a function, so its text is built only if a picture needs it
        with scope(self._call_label, inputs=[a for a in args if isinstance(a, Value)]):
            if self._hooks:  # None (or empty) unless a hook was registered: one check per call
                return call_with_hooks(self, self._hooks, args, kwargs)
            return self.forward(*args, **kwargs)

    # --- hooks (hooks.py) ---------------------------------------------------------------
    def _hook_registry(self):
        if self._hooks is None:
            super().__setattr__("_hooks", ModuleHooks())
        return self._hooks

    def register_forward_pre_hook(self, hook, *, prepend=False, with_kwargs=False):
        """`hook(module, args)` before each forward; may return new args. Returns a handle
        whose `remove()` unregisters it (see nn/hooks.py)."""
        return self._hook_registry().add("forward_pre", hook, prepend, with_kwargs)

    def register_forward_hook(self, hook, *, prepend=False, with_kwargs=False):
        """`hook(module, args, output)` after each forward; may return a new output."""
        return self._hook_registry().add("forward", hook, prepend, with_kwargs)

    def register_full_backward_hook(self, hook, prepend=False):
        """`hook(module, grad_input, grad_output)` when the gradient reaches the module's input;
        may return a new grad_input. For modules with one input and one output Value."""
        return self._hook_registry().add("backward", hook, prepend)

    def _call_label(self):
        """How graph pictures name this module's calls, e.g. "layers.0: Linear(in_features=2, ...)"."""
        label = f"{type(self).__name__}({self.extra_repr()})"
        return f"{self._qualname}: {label}" if self._qualname else label

    # --- registration by attribute assignment ---------------------------------------
    def _registries(self):
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"cannot assign parameters, buffers or modules before Module.__init__() call "
                f"(call super().__init__() first in {type(self).__name__}.__init__)")
        return self._parameters, self._buffers, self._modules

    def __setattr__(self, name, value):
        registered = self.__dict__
        if isinstance(value, Parameter) or name in registered.get("_parameters", ()):
            self.register_parameter(name, value)
        elif isinstance(value, Module) or name in registered.get("_modules", ()):
            self.add_module(name, value)
        elif name in registered.get("_buffers", ()):
            self.register_buffer(name, value)
        else:
            super().__setattr__(name, value)

    def __getattr__(self, name):  # only called when ordinary lookup fails
        attributes = self.__dict__
        for registry in ("_parameters", "_buffers", "_modules"):
            found = attributes.get(registry)
            if found is not None and name in found:
                return found[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        for registry in (self._parameters, self._buffers, self._modules):
            if name in registry:
                del registry[name]
                return
        super().__delattr__(name)

    def _store(self, index, name, value, kind, what):
        """Put `value` (a `kind` or None) in registry `index` under `name`, and nowhere else.

        An entry that already exists keeps its place, so replacing a layer keeps the order.
        """
        if value is not None and not isinstance(value, kind):
            raise TypeError(f"cannot assign '{type(value).__name__}' as {what} '{name}' of "
                            f"{type(self).__name__} (nn.{kind.__name__} or None expected)")
        registries = self._registries()
        for other in registries:
            if other is not registries[index]:
                other.pop(name, None)
        self.__dict__.pop(name, None)
        registries[index][name] = value

    def register_parameter(self, name, param):
        """Add a parameter (or None, for an absent optional one like `bias=False`)."""
        self._store(0, name, param, Parameter, "parameter")
        if param is not None:
            param.name = _join(self._qualname, name)

    def register_buffer(self, name, array):
        """Add state that is saved in `state_dict()` but not trained (a numpy array or None)."""
        if isinstance(array, Value):
            array = array.data
        self._store(1, name, None if array is None else np.asarray(array), np.ndarray, "buffer")

    def add_module(self, name, module):
        """Add a child module under `name` (what `self.name = module` does)."""
        self._store(2, name, module, Module, "child module")
        if module is not None:
            module._set_qualname(_join(self._qualname, name))

    def _set_qualname(self, qualname):
        """Name this module, its parameters and all its descendants after their place in the model."""
        super().__setattr__("_qualname", qualname)
        for name, param in self._parameters.items():
            if param is not None:
                param.name = _join(qualname, name)
        for name, child in self._modules.items():
            if child is not None:
                child._set_qualname(_join(qualname, name))

    # --- walking the tree -----------------------------------------------------------
    def named_children(self):
        for name, module in self._modules.items():
            if module is not None:
                yield name, module

    def children(self):
        for _, module in self.named_children():
            yield module

    def named_modules(self, prefix="", remove_duplicate=True):
        """(qualified name, module) for this module and every descendant.

        A module used in several places is listed once, under its first name,
        unless `remove_duplicate=False` (then under every name, as `state_dict` needs).
        """
        seen = set()
        stack = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if remove_duplicate and id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            stack.extend(reversed([(_join(name, child_name), child)
                                   for child_name, child in module.named_children()]))

    def modules(self):
        for _, module in self.named_modules():
            yield module

    def _named_members(self, registry, prefix, recurse):
        seen = set()
        modules = self.named_modules(prefix) if recurse else [(prefix, self)]
        for module_name, module in modules:
            for name, member in getattr(module, registry).items():
                if member is None or id(member) in seen:
                    continue
                seen.add(id(member))
                yield _join(module_name, name), member

    def named_parameters(self, prefix="", recurse=True):
        """(qualified name, parameter) pairs, like ("0.weight", Parameter); shared ones once."""
        return self._named_members("_parameters", prefix, recurse)

    def parameters(self, recurse=True):
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix="", recurse=True):
        return self._named_members("_buffers", prefix, recurse)

    def buffers(self, recurse=True):
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    def apply(self, fn):
        """Call `fn(module)` on every descendant and then on this module (e.g. custom init)."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # --- dtype and gradient switches ------------------------------------------------------
    def to(self, *args, dtype=None, device=None, non_blocking=False):
        """Cast every floating-point parameter, gradient and buffer to a dtype, in place.

        As PyTorch's: `model.to(np.float32)`, `model.to("float32")`, `model.to(dtype=...)`,
        `model.to(value)` (that value's dtype); a device may be named but must be "cpu".
        Integer buffers (BatchNorm's num_batches_tracked) keep their dtype; the
        parameters stay the same objects, so an optimizer built on them still holds them.
        Returns the module.
        """
        for arg in args:
            if isinstance(arg, (Value, np.ndarray)):
                dtype = arg.dtype
            elif isinstance(arg, str) and arg.split(":")[0] in ("cpu", "cuda", "mps", "meta"):
                device = arg
            else:
                dtype = arg
        if device is not None and str(device).split(":")[0] != "cpu":
            raise ValueError(f"{type(self).__name__}.to: nn runs on the CPU (numpy) only, "
                             f"got device {device!r}")
        if dtype is None:
            return self
        try:
            dtype = np.dtype(dtype)
        except TypeError:
            raise TypeError(f"{type(self).__name__}.to: expected a dtype, a device 'cpu' or a "
                            f"Value, got {dtype!r}") from None
        if dtype.kind != "f":
            raise TypeError(f"{type(self).__name__}.to only accepts floating point dtypes, but "
                            f"got desired dtype={dtype}")
        for module in self.modules():
            for param in module._parameters.values():
                if param is not None and param.dtype.kind == "f" and param.dtype != dtype:
                    param.data = param.data.astype(dtype)
                    if param.grad is not None:
                        param.grad = np.asarray(param.grad).astype(dtype)
            for name, buffer in module._buffers.items():
                if buffer is not None and buffer.dtype.kind == "f":
                    module._buffers[name] = buffer.astype(dtype)
        return self

    def float(self):
        """Every floating-point parameter and buffer to float32 (`to(np.float32)`)."""
        return self.to(np.float32)

    def double(self):
        """Every floating-point parameter and buffer to float64 (`to(np.float64)`)."""
        return self.to(np.float64)

    def requires_grad_(self, requires_grad=True):
        """Switch gradient recording for every parameter on or off (freeze a layer); returns self."""
        for param in self.parameters():
            param.requires_grad = requires_grad
        return self

    # --- training state -----------------------------------------------------------
    def train(self, mode=True):
        """Training mode (Dropout drops, BatchNorm uses batch statistics) for the whole tree."""
        for module in self.modules():
            object.__setattr__(module, "training", bool(mode))
        return self

    def eval(self):
        """Evaluation mode: `train(False)`."""
        return self.train(False)

    def zero_grad(self, set_to_none=True):
        """Forget every parameter's gradient: `.grad = None` (or zeros with set_to_none=False)."""
        for param in self.parameters():
            param.grad = None if set_to_none else np.zeros_like(param.data)

    # --- state dict -----------------------------------------------------------------
    def state_dict(self):
        """OrderedDict of qualified name -> numpy copy of every parameter and buffer.

        The order and names are PyTorch's (each module's parameters, then its
        buffers, then its children), so the keys match the equivalent torch model's.
        """
        state = OrderedDict()
        for key, (module, registry, name) in self._state_slots().items():
            member = getattr(module, registry)[name]
            state[key] = np.array(member.data if isinstance(member, Value) else member)
        return state

    def _state_slots(self):
        """qualified name -> (owning module, registry name, attribute name), in PyTorch's order."""
        slots = OrderedDict()
        for module_name, module in self.named_modules(remove_duplicate=False):  # as PyTorch
            for registry in ("_parameters", "_buffers"):
                for name, member in getattr(module, registry).items():
                    if member is not None:
                        slots[_join(module_name, name)] = (module, registry, name)
        return slots

    def load_state_dict(self, state_dict, strict=True):
        """Copy arrays from `state_dict` into this model's parameters and buffers.

        Every problem is reported at once and nothing is changed when there is
        one: shapes must match always; with `strict=True` (the default) the keys
        must match exactly too. Values are assigned with `.data =`, so a graph
        built before the load refuses to backward through the old values.
        Returns `(missing_keys, unexpected_keys)` like PyTorch.
        """
        slots = self._state_slots()
        missing = [key for key in slots if key not in state_dict]
        unexpected = [key for key in state_dict if key not in slots]
        problems, arrays = [], {}
        for key, (module, registry, name) in slots.items():
            if key not in state_dict:
                continue
            new = state_dict[key]
            new = np.asarray(new.data if isinstance(new, Value) else new)
            old = getattr(module, registry)[name]
            old_shape = np.shape(old.data if isinstance(old, Value) else old)
            if new.shape != old_shape:
                problems.append(f"size mismatch for {key}: copying an array of shape {new.shape}, "
                                f"the shape in the current model is {old_shape}")
            arrays[key] = new
        if strict and unexpected:
            problems.insert(0, "Unexpected key(s) in state_dict: " + ", ".join(map(repr, unexpected)))
        if strict and missing:
            problems.insert(0, "Missing key(s) in state_dict: " + ", ".join(map(repr, missing)))
        if problems:
            source = getattr(state_dict, "path", None)  # set by nn.load: name the file too
            origin = f" from '{source}'" if source else ""
            raise RuntimeError(f"Error(s) in loading state_dict{origin} for {type(self).__name__}:"
                               "\n\t" + "\n\t".join(problems))
        for key, new in arrays.items():
            module, registry, name = slots[key]
            if registry == "_parameters":
                param = module._parameters[name]
                param.data = np.array(new, dtype=param.dtype)
            else:
                module._buffers[name] = np.array(new, dtype=module._buffers[name].dtype)
        return IncompatibleKeys(missing, unexpected)

    # --- printing -------------------------------------------------------------------
    def _named(self, description):
        """`description` (e.g. "Linear(4→2)") plus this module's place in its model, if any.

        Layers start their error messages with it, so a wrong shape deep inside a
        model says which layer it reached: "Linear(4→2) (layer '2'): expected ...".
        """
        return f"{description} (layer '{self._qualname}')" if self._qualname else description

    def extra_repr(self):
        """The layer's settings shown inside its repr, e.g. "in_features=2, out_features=4"."""
        return ""

    def __repr__(self):
        lines = [f"({name}): " + repr(child).replace("\n", "\n  ")
                 for name, child in self._modules.items()]
        if not lines:
            return f"{type(self).__name__}({self.extra_repr()})"
        extra = [self.extra_repr()] if self.extra_repr() else []
        body = "".join(f"\n  {line}" for line in extra + lines)
        return f"{type(self).__name__}({body}\n)"


class _ModuleSequence(Module):
    """What Sequential and ModuleList share: children kept in order, named "0", "1", ..."""

    def append(self, module):
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules):
        for module in modules:
            self.append(module)
        return self

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, index):
        items = list(self._modules.items())
        if isinstance(index, slice):  # a new container of the same kind, keeping the names
            part = self._from_items(items[index])
            for name, module in items[index]:  # the layers still live in this model: keep
                module._set_qualname(_join(self._qualname, name))  # their names from it
            return part
        return items[index][1]

    def __setitem__(self, index, module):
        self.add_module(list(self._modules)[index], module)


class Sequential(_ModuleSequence):
    """Modules applied one after another; children are named "0", "1", ...

    `Sequential(m0, m1, ...)` or `Sequential(OrderedDict(name=module, ...))`.
    """

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            for name, module in modules[0].items():
                self.add_module(name, module)
        else:
            self.extend(modules)

    @staticmethod
    def _from_items(items):
        return Sequential(OrderedDict(items))

    def forward(self, x):
        for module in self:
            x = module(x)
        return x


class ModuleList(_ModuleSequence):
    """A list of modules that registers them (a plain Python list would hide their parameters)."""

    def __init__(self, modules=None):
        super().__init__()
        self.extend(modules or ())

    @staticmethod
    def _from_items(items):
        return ModuleList(module for _, module in items)

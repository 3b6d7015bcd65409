"""The dict- and list-like containers: ModuleDict, ParameterList and ParameterDict.

A plain Python dict or list of layers or parameters hides them from `parameters()`,
`state_dict()` and `train()`; these register every entry, as PyTorch's do, under its
key ("encoder", "0", ...), so state dicts name them "layers.encoder.weight", "params.0".
(Sequential and ModuleList live in module.py.)
"""

import numpy as np

from autograd_lite import Value

from .module import Module, Parameter

__all__ = ["ModuleDict", "ParameterList", "ParameterDict"]


def _pairs(entries, kind):
    """(key, value) pairs from a mapping or an iterable of pairs."""
    if entries is None:
        return []
    if hasattr(entries, "items"):
        return list(entries.items())
    pairs = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, (tuple, list)) or len(entry) != 2:
            raise TypeError(f"{kind}.update: entry {i} should be a (key, value) pair, got "
                            f"{type(entry).__name__}")
        pairs.append(tuple(entry))
    return pairs


def _as_parameter(value, kind):
    """A Parameter as it is; a Value or array becomes a new Parameter of its data (a copy)."""
    if isinstance(value, Parameter):
        return value
    if isinstance(value, Value):
        return Parameter(value.data, requires_grad=value.requires_grad)
    if isinstance(value, (np.ndarray, list, float, int)):
        return Parameter(value)
    raise TypeError(f"{kind}: expected a Parameter, a Value or an array, got {type(value).__name__}")


class _KeyedContainer(Module):
    """Dict behaviour over one of the module's registries (`_modules` or `_parameters`)."""

    _registry = None  # "_modules" or "_parameters"

    def _entries(self):
        return getattr(self, self._registry)

    def __getitem__(self, key):
        return self._entries()[key]

    def __delitem__(self, key):
        del self._entries()[key]

    def __len__(self):
        return len(self._entries())

    def __iter__(self):
        return iter(self._entries())

    def __contains__(self, key):
        return key in self._entries()

    def keys(self):
        return self._entries().keys()

    def values(self):
        return self._entries().values()

    def items(self):
        return self._entries().items()

    def get(self, key, default=None):
        return self._entries().get(key, default)

    def pop(self, key):
        value = self[key]
        del self[key]
        return value

    def clear(self):
        self._entries().clear()

    def update(self, entries):
        """Add or replace entries from a mapping or an iterable of (key, value) pairs."""
        for key, value in _pairs(entries, type(self).__name__):
            self[key] = value


class ModuleDict(_KeyedContainer):
    """`ModuleDict(modules=None)`: modules by name, registered (a dict of layers, e.g. heads)."""

    _registry = "_modules"

    def __init__(self, modules=None):
        super().__init__()
        self.update(modules)

    def __setitem__(self, key, module):
        if not isinstance(key, str):
            raise TypeError(f"ModuleDict: keys must be strings, got {type(key).__name__}")
        self.add_module(key, module)


class ParameterDict(_KeyedContainer):
    """`ParameterDict(parameters=None)`: parameters by name, registered; a Value or array
    given is made a Parameter (a copy of its data)."""

    _registry = "_parameters"

    def __init__(self, parameters=None):
        super().__init__()
        self.update(parameters)

    def __setitem__(self, key, value):
        if not isinstance(key, str):
            raise TypeError(f"ParameterDict: keys must be strings, got {type(key).__name__}")
        self.register_parameter(key, _as_parameter(value, "ParameterDict"))

    def extra_repr(self):
        return "\n".join(f"({key}): Parameter containing shape {p.shape}, dtype {p.dtype}"
                         for key, p in self.items())


class ParameterList(Module):
    """`ParameterList(values=None)`: a list of parameters, registered as "0", "1", ...; a Value
    or array given is made a Parameter (a copy of its data)."""

    def __init__(self, values=None):
        super().__init__()
        self.extend(values or ())

    def append(self, value):
        self.register_parameter(str(len(self)), _as_parameter(value, "ParameterList"))
        return self

    def extend(self, values):
        for value in values:
            self.append(value)
        return self

    def __len__(self):
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters.values())

    def __getitem__(self, index):
        items = list(self._parameters.values())
        if isinstance(index, slice):
            return ParameterList(items[index])
        return items[index]

    def __setitem__(self, index, value):
        key = list(self._parameters)[index]
        self.register_parameter(key, _as_parameter(value, "ParameterList"))

    def extra_repr(self):
        return "\n".join(f"({i}): Parameter containing shape {p.shape}, dtype {p.dtype}"
                         for i, p in enumerate(self))

"""Named scopes: `with scope("0: Linear"):` tags every value made inside with that name.

A graph picture (`draw_graph(..., group_modules=True)`) draws each scope as a
box around the values made in it, nested as the scopes were. `nn.Module`
enters one for every layer call, so pictures read as layers; any code can
enter its own. The engine only stores the current scope on each new value:
nothing else depends on it.
"""
import threading
import weakref


class _State(threading.local):
    current = None  # the innermost open Scope of this thread


_state = _State()


class Scope:
    """One entry into a named scope: its name, the scope around it and the values passed in.

    `name` is a string, or a function of no arguments that returns one (called
    only when a picture needs the text). `inputs` are the values given to the
    code in the scope; a picture keeps them, and other values made before the
    scope was entered, outside its box.
    """

    __slots__ = ("_name", "parent", "_inputs", "__weakref__")

    def __init__(self, name, parent, inputs):
        self._name, self.parent = name, parent
        self._inputs = [weakref.ref(v) for v in inputs]

    @property
    def name(self):
        return self._name if isinstance(self._name, str) else self._name()

    @property
    def inputs(self):
        """The values passed in that are still alive."""
        return [v for v in (ref() for ref in self._inputs) if v is not None]

    def __repr__(self):
        return f"<scope {self.name!r}>"



class scope:
    """Context manager: values made inside get `.scope`, a `Scope` named `name`.

    `with scope("encoder", inputs=(x,)):` — `inputs` (optional) are the `Value`s
    the code inside receives, so a picture can tell them from what it made.
    """

    def __init__(self, name, inputs=()):
        self._name, self._inputs = name, inputs

    def __enter__(self):
        self._outer = _state.current
        _state.current = Scope(self._name, self._outer, self._inputs)
        return _state.current

    def __exit__(self, *exc):
        _state.current = self._outer
        return False

"""Switching gradient recording on and off: `no_grad` and `enable_grad`.

The switch is per thread, so one thread evaluating a model under `no_grad`
never stops another thread from recording its training graph.
"""
import functools
import inspect
import threading


class _GradState(threading.local):
    enabled = True  # every new thread starts with recording on


_state = _GradState()


def is_grad_enabled():
    """True when operations on values that require grad are being recorded."""
    return _state.enabled


class _GradMode:
    """A context manager that is also a decorator (`@no_grad()` or `@no_grad`), like PyTorch's."""

    _mode = True

    def __new__(cls, fn=None):
        self = super().__new__(cls)
        return self(fn) if callable(fn) else self

    def __enter__(self):
        self._previous = _state.enabled
        _state.enabled = self._mode
        return self

    def __exit__(self, *exc):
        _state.enabled = self._previous
        return False

    def __call__(self, fn):
        return _decorate(fn, type(self))


def _decorate(fn, context):
    """`fn` run inside `context()`; for a generator function, each resume of its body runs inside
    it (so values it yields are made in the mode even while the caller records), as PyTorch's."""
    if not inspect.isgeneratorfunction(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with context():
                return fn(*args, **kwargs)
        return wrapper

    @functools.wraps(fn)
    def generator(*args, **kwargs):
        inner = fn(*args, **kwargs)
        resume, value = inner.send, None
        while True:
            try:
                with context():
                    result = resume(value)
            except StopIteration as stop:
                return stop.value
            try:
                resume, value = inner.send, (yield result)
            except GeneratorExit:
                with context():
                    inner.close()
                raise
            except BaseException as error:  # thrown in by the caller: into the body, in the mode
                resume, value = inner.throw, error
    return generator


class no_grad(_GradMode):
    """Nothing computed inside is recorded: results are constants (`requires_grad=False`)."""

    _mode = False


class enable_grad(_GradMode):
    """Turns recording back on inside a `no_grad` block."""

    _mode = True


class set_grad_enabled(_GradMode):
    """Recording on or off according to `mode`.

    Like PyTorch's, it acts at once when called as a plain function
    (`set_grad_enabled(False)`), and restores the previous mode when used as a
    context manager or decorator.
    """

    def __new__(cls, mode):
        return object.__new__(cls)

    def __init__(self, mode):
        self._mode = bool(mode)
        self._previous = _state.enabled
        _state.enabled = self._mode

    def __enter__(self):  # the mode is already set by __init__
        return self

    def __call__(self, fn):
        _state.enabled = self._previous  # decorating must not switch the mode
        mode = self._mode
        return _decorate(fn, lambda: set_grad_enabled(mode))

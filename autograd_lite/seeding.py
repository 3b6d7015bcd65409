"""The random generator that the library owns (initializers, dropout, checks).

`manual_seed(seed)` makes every run that draws from it reproducible.
"""
import numpy as np

_generator = np.random.default_rng()


def manual_seed(seed):
    """Reseed the library's generator and return it."""
    global _generator
    _generator = np.random.default_rng(seed)
    return _generator


def default_generator():
    """The library's current `np.random.Generator`."""
    return _generator

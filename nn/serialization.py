"""Saving and loading state dicts as numpy `.npz` archives, never pickle.

A pickle file can run arbitrary code when it is loaded; an `.npz` of numeric
arrays cannot, so a model file from anywhere is safe to open. Files are
written atomically (to a temporary file beside the target, then renamed over
it), so an interrupted save never leaves a half-written model behind.

    nn.save(model, "model.npz")
    model.load_state_dict(nn.load("model.npz"))
"""
import os
import tempfile
import zipfile
import zlib
from collections import OrderedDict

import numpy as np

from autograd_lite import Value

from .module import Module

__all__ = ["save", "load"]


class LoadedStateDict(OrderedDict):
    """The OrderedDict `load` returns; `.path` remembers the file, so errors can name it."""

    path = None


def _as_state_dict(obj):
    if isinstance(obj, Module):
        return obj.state_dict()
    if not isinstance(obj, dict):
        raise TypeError(f"nn.save: expected a Module or a state dict (name -> array), "
                        f"got {type(obj).__name__}")
    state = OrderedDict()
    for key, value in obj.items():
        if not isinstance(key, str):
            raise TypeError(f"nn.save: state dict keys must be strings, got {key!r}")
        array = np.asarray(value.data if isinstance(value, Value) else value)
        if array.dtype.kind not in "biufc":
            raise TypeError(f"nn.save: entry {key!r} is not a numeric array "
                            f"(numpy dtype {array.dtype}); only numbers can be saved")
        state[key] = array
    return state


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def save(obj, path):
    """Write a module's `state_dict()` (or a state dict) to `path` as an `.npz` archive.

    The file is written exactly at `path` (no suffix is added), keeping the
    keys' order.
    """
    state = _as_state_dict(obj)
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"nn.save: cannot write '{path}': folder '{folder}' does not exist")
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".npz")
    try:
        with os.fdopen(handle, "wb") as file:
            with zipfile.ZipFile(file, "w", compression=zipfile.ZIP_STORED) as archive:
                for key, array in state.items():  # what np.savez does, minus its reserved names
                    with archive.open(key + ".npy", "w", force_zip64=True) as entry:
                        np.lib.format.write_array(entry, array, allow_pickle=False)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes it private; use what open() would
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise


# what zipfile and numpy raise for damaged bytes; a flipped bit in a zip header can also read
# as an unsupported zip version or compression method, or as an encrypted entry
_CORRUPT = (zipfile.BadZipFile, EOFError, OSError, zlib.error, KeyError,  # ValueError: caught first
            NotImplementedError, RuntimeError)


def load(path):
    """Read a state dict (OrderedDict name -> numpy array) written by `save`.

    The dict remembers `path`, so `model.load_state_dict(nn.load(path))`
    names the file when the keys or shapes do not fit the model.

    Raises FileNotFoundError for a missing file and ValueError, naming the
    file and the reason, for anything that is not an archive of numeric
    arrays: a truncated or corrupt file, pickled data, object arrays.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"nn.load: no such file: '{path}'")
    if os.path.isdir(path):
        raise IsADirectoryError(f"nn.load: '{path}' is a folder, not a saved state dict")
    try:
        archive = np.load(path, allow_pickle=False)
    except ValueError as error:
        with open(path, "rb") as file:
            head = file.read(8)
        about_pickle = "pickle" in str(error)  # (numpy's guess too for any file it can't read)
        # a pickle (protocol 2 on starts with 0x80), or an .npy of objects
        if head[:1] == b"\x80" or (head.startswith(b"\x93NUMPY") and about_pickle):
            raise ValueError(f"nn.load: '{path}' contains pickled data, which could run code "
                             f"when loaded; refusing to load it (nn files are .npz of numeric "
                             f"arrays)") from error
        if about_pickle:
            raise ValueError(f"nn.load: '{path}' is not a .npz archive of arrays, as nn.save "
                             f"writes (it starts with {head!r})") from error
        raise ValueError(f"nn.load: '{path}' is not a readable .npz file: {error}") from error
    except _CORRUPT as error:
        raise ValueError(f"nn.load: '{path}' is truncated or corrupt ({type(error).__name__}: "
                         f"{error})") from error
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ValueError(f"nn.load: '{path}' holds a single array, not a state dict archive (.npz)")
    with archive:
        state = LoadedStateDict()
        state.path = path
        for key in archive.files:
            try:
                array = archive[key]
            except ValueError as error:
                if "allow_pickle" in str(error):
                    raise ValueError(f"nn.load: '{path}' entry '{key}' is an array of Python "
                                     f"objects (pickled data); refusing to load it") from error
                raise ValueError(f"nn.load: '{path}' entry '{key}' is corrupt: {error}") from error
            except _CORRUPT as error:
                raise ValueError(f"nn.load: '{path}' is truncated or corrupt: entry '{key}' "
                                 f"cannot be read ({type(error).__name__}: {error})") from error
            if not isinstance(array, np.ndarray):  # numpy hands back other members as bytes
                raise ValueError(f"nn.load: '{path}' entry '{key}' is not a .npy array; "
                                 f"this is not a file written by nn.save")
            if array.dtype.kind not in "biufc":
                raise ValueError(f"nn.load: '{path}' entry '{key}' is not numeric "
                                 f"(numpy dtype {array.dtype})")
            state[key] = array
    return state

"""Saving and loading state dicts as numpy `.npz` archives or safetensors files, never pickle.

A pickle file can run arbitrary code when it is loaded; an `.npz` of numeric
arrays cannot, and neither can a `.safetensors` file (a JSON header and raw
bytes, PyTorch's and Hugging Face's safe format), so a model file from anywhere
is safe to open. The format follows the file name: `.safetensors` is
safetensors (the optional `safetensors` package), anything else `.npz`. Files
are written atomically (to a temporary file beside the target, then renamed
over it), so an interrupted save never leaves a half-written model behind.

    nn.save(model, "model.npz")
    model.load_state_dict(nn.load("model.npz"))
    nn.save(model, "model.safetensors")   # PyTorch: safetensors.torch.load_file, load_state_dict
"""
import importlib
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


def optional_package(name, purpose):
    """Import the optional package `name`, or raise ImportError saying how to install it.

    `purpose` completes the sentence "... needs the <name> package", e.g. "nn.export_onnx".
    """
    try:
        return importlib.import_module(name)
    except ImportError as error:
        extra = "python -m pip install torch" if name.split(".")[0] == "torch" else \
            'python -m pip install "autograd_lite[export]"'
        raise ImportError(f"{purpose} needs the {name.split('.')[0]} package: {extra}") from error


def write_atomically(path, write, caller="nn.save"):
    """Call `write(file)` on a new temporary file beside `path`, then rename it over `path`.

    The target is always either the old file or the complete new one: an
    exception or Ctrl-C removes the temporary file, and a process killed
    outright leaves only a hidden `.tmp-*` file beside an intact target.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"{caller}: cannot write '{path}': folder '{folder}' does not "
                                f"exist")
    suffix = os.path.splitext(path)[1] or ".npz"
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=suffix)
    try:
        with os.fdopen(handle, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes it private; use what open() would
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise


def _is_safetensors(path):
    return os.fspath(path).lower().endswith(".safetensors")


def _write_npz(state, file):
    with zipfile.ZipFile(file, "w", compression=zipfile.ZIP_STORED) as archive:
        for key, array in state.items():  # what np.savez does, minus its reserved names
            with archive.open(key + ".npy", "w", force_zip64=True) as entry:
                np.lib.format.write_array(entry, array, allow_pickle=False)


def _safetensors_bytes(state, path):
    """The whole file as bytes, with PyTorch's key names (ours are already PyTorch's)."""
    numpy_format = optional_package("safetensors.numpy", "nn.save to a .safetensors file")
    arrays = {key: np.asarray(array, order="C") for key, array in state.items()}  # keeps 0-d
    try:
        return numpy_format.save(arrays, metadata={"format": "pt"})  # what transformers checks
    except Exception as error:  # SafetensorError: a dtype it has no code for (complex128)
        raise TypeError(f"nn.save: cannot write '{path}' as safetensors: {error}") from error


def save(obj, path):
    """Write a module's `state_dict()` (or a state dict) to `path`.

    A path ending in `.safetensors` gets a safetensors file (readable by
    `safetensors.torch.load_file`); any other an `.npz` archive. The file is
    written exactly at `path` (no suffix is added), keeping the keys' order
    for `.npz` (safetensors orders them itself).
    """
    state = _as_state_dict(obj)
    if _is_safetensors(path):
        data = _safetensors_bytes(state, path)  # built first: a failure leaves nothing behind
        write_atomically(path, lambda file: file.write(data))
    else:
        write_atomically(path, lambda file: _write_npz(state, file))


# what zipfile and numpy raise for damaged bytes; a flipped bit in a zip header can also read
# as an unsupported zip version or compression method, or as an encrypted entry
_CORRUPT = (zipfile.BadZipFile, EOFError, OSError, zlib.error, KeyError,  # ValueError: caught first
            NotImplementedError, RuntimeError)


def load(path):
    """Read a state dict (OrderedDict name -> numpy array) written by `save`.

    The format follows the name, as in `save`: `.safetensors` or `.npz`.
    The dict remembers `path`, so `model.load_state_dict(nn.load(path))`
    names the file when the keys or shapes do not fit the model.

    Raises FileNotFoundError for a missing file and ValueError, naming the
    file and the reason, for anything that is not a file of numeric
    arrays: a truncated or corrupt file, pickled data, object arrays.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"nn.load: no such file: '{path}'")
    if os.path.isdir(path):
        raise IsADirectoryError(f"nn.load: '{path}' is a folder, not a saved state dict")
    state = _load_safetensors(path) if _is_safetensors(path) else _load_npz(path)
    state.path = path
    return state


def _load_safetensors(path):
    """The arrays of a safetensors file; its format has no code in it to run, only a JSON header."""
    numpy_format = optional_package("safetensors.numpy", "nn.load of a .safetensors file")
    try:
        arrays = numpy_format.load_file(path)
    except Exception as error:  # SafetensorError (a bad header), TypeError (bfloat16, ...)
        raise ValueError(f"nn.load: '{path}' is not a readable safetensors file "
                         f"({type(error).__name__}: {error})") from error
    state = LoadedStateDict()
    for key, array in arrays.items():
        if array.dtype.kind not in "biufc":
            raise ValueError(f"nn.load: '{path}' entry '{key}' is not numeric "
                             f"(numpy dtype {array.dtype})")
        state[key] = array
    return state


def _load_npz(path):
    """The arrays of an `.npz` written by `save`, refusing pickles and anything else."""
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

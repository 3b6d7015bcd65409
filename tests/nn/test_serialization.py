"""nn.save / nn.load: exact .npz round trips, atomic writes, and clear refusals of bad files.

`nn.save` writes a temporary file beside the target and renames it over the
target only once it is complete, so the target is always either the old file
or the new one. A crash that Python sees (an exception, Ctrl-C) also removes
the temporary file; a process killed outright leaves it behind as a hidden
`.tmp-*.npz` next to the intact target. Damaged or foreign files, and
checkpoints of another model, never load as if they were fine.
"""
import os
import pickle
import subprocess
import sys
import zipfile
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest

import nn
from autograd_lite import Value


def small_model():
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))


def test_round_trip_is_exact_and_ordered(tmp_path):
    model = small_model()
    model(np.random.default_rng(0).normal(size=(6, 3)))  # running stats differ from defaults
    path = tmp_path / "model.npz"
    nn.save(model, path)
    state = nn.load(path)
    assert isinstance(state, OrderedDict)
    assert list(state) == list(model.state_dict())
    for key, value in model.state_dict().items():
        assert state[key].dtype == value.dtype and state[key].shape == value.shape
        np.testing.assert_array_equal(state[key], value)
    copy = small_model().eval()
    copy.load_state_dict(state)
    x = np.random.default_rng(1).normal(size=(5, 3))
    np.testing.assert_array_equal(copy(x).data, model.eval()(x).data)


def test_state_dicts_with_values_dtypes_and_odd_names(tmp_path):
    state = OrderedDict([("z.last", np.arange(3, dtype=np.int64)),
                         ("a/b", Value(np.ones((2, 2), dtype=np.float32))),
                         ("allow_pickle", np.array(1.5)), ("file", np.zeros(0))])
    path = str(tmp_path / "state.bin")  # saved exactly where asked, no suffix added
    nn.save(state, path)
    assert os.listdir(tmp_path) == ["state.bin"]  # and no temporary file left behind
    loaded = nn.load(path)
    assert list(loaded) == ["z.last", "a/b", "allow_pickle", "file"]
    assert loaded["a/b"].dtype == np.float32 and loaded["allow_pickle"].shape == ()


def test_save_replaces_an_existing_file(tmp_path):
    path = tmp_path / "model.npz"
    path.write_bytes(b"old contents")
    nn.save(nn.Linear(2, 2), path)
    assert list(nn.load(path)) == ["weight", "bias"]
    assert sorted(os.listdir(tmp_path)) == ["model.npz"]


def test_failed_save_leaves_the_old_file(tmp_path):
    path = tmp_path / "model.npz"
    nn.save(nn.Linear(2, 2), path)
    before = path.read_bytes()
    with pytest.raises(TypeError, match="entry 'bad' is not a numeric array"):
        nn.save({"ok": np.ones(2), "bad": np.array(["text"])}, path)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["model.npz"]
    with pytest.raises(TypeError, match="expected a Module or a state dict"):
        nn.save([np.ones(2)], path)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="nn.load: no such file: '.*nothing.npz'"):
        nn.load(tmp_path / "nothing.npz")
    with pytest.raises(FileNotFoundError, match="nn.save: cannot write .*folder '.*absent' does not"):
        nn.save(nn.Linear(1, 1), tmp_path / "absent" / "model.npz")


@pytest.mark.parametrize("keep", [0, 10, 0.5, 0.9])
def test_truncated_file(tmp_path, keep):
    path = tmp_path / "model.npz"
    nn.save(small_model(), path)
    data = path.read_bytes()
    path.write_bytes(data[:keep if isinstance(keep, int) else int(len(data) * keep)])
    with pytest.raises(ValueError, match=f"nn.load: '{path}'.*(truncated or corrupt|not a readable)"):
        nn.load(path)


def test_corrupted_bytes_are_caught(tmp_path):
    path = tmp_path / "model.npz"
    nn.save({"w": np.zeros(1000)}, path)
    data = bytearray(path.read_bytes())
    data[500:510] = b"x" * 10  # inside the array's bytes: the zip checksum no longer matches
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="truncated or corrupt: entry 'w' cannot be read"):
        nn.load(path)


def test_pickle_file_is_refused(tmp_path):
    path = tmp_path / "model.pkl"
    with open(path, "wb") as file:
        pickle.dump({"weight": np.ones(2)}, file)
    with pytest.raises(ValueError, match="contains pickled data.*refusing"):
        nn.load(path)


def test_object_array_entry_is_refused(tmp_path):
    path = tmp_path / "model.npz"
    np.savez(path, weight=np.ones(2), payload=np.array([{"code": "x"}], dtype=object))
    with pytest.raises(ValueError, match="entry 'payload' is an array of Python objects"):
        nn.load(path)


def test_single_npy_and_text_arrays_are_refused(tmp_path):
    single = tmp_path / "one.npy"
    np.save(single, np.ones(3))
    with pytest.raises(ValueError, match="holds a single array"):
        nn.load(single)
    text = tmp_path / "text.npz"
    np.savez(text, names=np.array(["a", "b"]))
    with pytest.raises(ValueError, match="entry 'names' is not numeric"):
        nn.load(text)


def test_wrong_shape_file_fails_in_load_state_dict(tmp_path):
    path = Path(tmp_path) / "wide.npz"
    nn.save(nn.Sequential(nn.Linear(3, 5)), path)
    with pytest.raises(RuntimeError, match=r"size mismatch for 0.weight: copying an array of shape "
                                           r"\(5, 3\), the shape in the current model is \(4, 3\)"):
        nn.Sequential(nn.Linear(3, 4)).load_state_dict(nn.load(path))


# --- a crash mid-save never destroys the previous checkpoint; damaged or foreign files -------
def model(seed=0):
    return nn.Sequential(nn.Linear(3, 4, rng=np.random.default_rng(seed)), nn.BatchNorm1d(4),
                         nn.Linear(4, 2, rng=np.random.default_rng(seed + 1)))


def assert_same_state(loaded, expected):
    assert list(loaded) == list(expected)
    for key, value in expected.items():
        assert loaded[key].dtype == value.dtype
        np.testing.assert_array_equal(loaded[key], value, err_msg=key)


def crash_after_some_bytes(monkeypatch, error):
    """Make the array writer write half of one array's bytes and then fail with `error`."""
    real = np.lib.format.write_array

    def failing(file, array, *args, **kwargs):
        if array.size > 4:
            file.write(array.tobytes()[:array.nbytes // 2])
            raise error
        return real(file, array, *args, **kwargs)

    monkeypatch.setattr(np.lib.format, "write_array", failing)


@pytest.mark.parametrize("error", [OSError("disk full"), KeyboardInterrupt()])
def test_a_crash_mid_save_keeps_the_previous_checkpoint(tmp_path, monkeypatch, error):
    path = tmp_path / "model.npz"
    old = model(0)
    nn.save(old, path)
    before = path.read_bytes()
    crash_after_some_bytes(monkeypatch, error)
    with pytest.raises(type(error)):
        nn.save(model(5), path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.npz"]  # no temporary file left behind
    assert_same_state(nn.load(path), old.state_dict())


@pytest.mark.parametrize("step", ["fsync", "replace"])
def test_a_failure_while_finishing_the_file_keeps_the_previous_checkpoint(tmp_path, monkeypatch,
                                                                          step):
    path = tmp_path / "model.npz"
    nn.save(model(0), path)
    before = path.read_bytes()

    def fail(*args):
        raise OSError(f"{step} failed")

    monkeypatch.setattr(os, step, fail)
    with pytest.raises(OSError, match=f"{step} failed"):
        nn.save(model(5), path)
    monkeypatch.undo()
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["model.npz"]


KILLED_MID_SAVE = """
import os, sys
import numpy as np
import nn
def die(file, array, *args, **kwargs):
    file.write(b"partial")
    file.flush()
    os._exit(3)  # no cleanup, no finally: like a kill -9 or a power cut
np.lib.format.write_array = die
nn.save(nn.Linear(3, 4), sys.argv[1])
"""


def test_a_killed_process_leaves_the_target_intact_and_only_a_hidden_temporary(tmp_path):
    path = tmp_path / "model.npz"
    old = model(0)
    nn.save(old, path)
    result = subprocess.run([sys.executable, "-c", KILLED_MID_SAVE, str(path)],
                            capture_output=True, text=True)
    assert result.returncode == 3, result.stderr
    assert_same_state(nn.load(path), old.state_dict())
    leftovers = sorted(set(os.listdir(tmp_path)) - {"model.npz"})
    assert len(leftovers) == 1
    assert leftovers[0].startswith(".tmp-") and leftovers[0].endswith(".npz")


def test_saving_onto_a_folder_fails_and_cleans_up(tmp_path):
    (tmp_path / "checkpoints").mkdir()
    with pytest.raises(IsADirectoryError):
        nn.save(model(), tmp_path / "checkpoints")
    assert os.listdir(tmp_path) == ["checkpoints"]
    with pytest.raises(IsADirectoryError, match="is a folder"):
        nn.load(tmp_path / "checkpoints")


# --- loading refuses what it cannot trust ----------------------------------------------------
def test_every_truncation_is_refused_naming_the_file(tmp_path):
    path = tmp_path / "model.npz"
    nn.save(model(), path)
    data = path.read_bytes()
    cut = tmp_path / "cut.npz"
    for keep in range(len(data)):
        cut.write_bytes(data[:keep])
        with pytest.raises(ValueError, match=f"nn.load: '{cut}'"):
            nn.load(cut)


def test_flipped_bits_are_refused_or_change_nothing(tmp_path):
    """One flipped bit anywhere: a clear ValueError, or (in bytes zip readers ignore) the
    same arrays, or a state dict missing entries that load_state_dict then names."""
    path = tmp_path / "model.npz"
    original = model()
    nn.save(original, path)
    expected = original.state_dict()
    data = path.read_bytes()
    bad = tmp_path / "bad.npz"
    for position in range(len(data)):
        damaged = bytearray(data)
        damaged[position] ^= 0x80 if position % 2 else 0x01
        bad.write_bytes(bytes(damaged))
        try:
            loaded = nn.load(bad)
        except ValueError as error:
            assert f"'{bad}'" in str(error)
            continue
        if list(loaded) != list(expected):
            with pytest.raises(RuntimeError, match=f"(?s)from '{bad}'.*Missing key"):
                model().load_state_dict(loaded)
            continue
        assert_same_state(loaded, expected)


def test_pickles_in_any_wrapping_are_refused(tmp_path):
    plain = tmp_path / "model.pkl"
    plain.write_bytes(pickle.dumps(model().state_dict()))
    with pytest.raises(ValueError, match=f"nn.load: '{plain}' contains pickled data"):
        nn.load(plain)
    objects = tmp_path / "objects.npz"
    np.savez(objects, weight=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError, match=f"'{objects}' entry 'weight' is an array of Python"):
        nn.load(objects)


def test_foreign_zip_members_are_refused(tmp_path):
    path = tmp_path / "foreign.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("notes.txt", "not an array")
    with pytest.raises(ValueError, match=f"'{path}' entry 'notes.txt' is not a .npy array"):
        nn.load(path)


def test_a_checkpoint_of_another_shape_names_the_file_and_the_keys(tmp_path):
    path = tmp_path / "model.npz"
    nn.save(model(), path)
    wider = nn.Sequential(nn.Linear(3, 5), nn.BatchNorm1d(5), nn.Linear(5, 2))
    with pytest.raises(RuntimeError, match=rf"from '{path}' for Sequential:\n\tsize mismatch for "
                                           rf"0.weight: copying an array of shape \(4, 3\), the "
                                           rf"shape in the current model is \(5, 3\)"):
        wider.load_state_dict(nn.load(path))


# --- a checkpoint for another architecture ---------------------------------------------------
def test_loading_a_checkpoint_into_another_architecture(tmp_path):
    path = tmp_path / "small.npz"
    nn.save(nn.MLP([2, 3, 1]), path)
    for model, problems in [
        (nn.MLP([2, 4, 1]), ["size mismatch for 0.weight: copying an array of shape (3, 2), "
                             "the shape in the current model is (4, 2)"]),
        (nn.MLP([2, 3, 3, 1]), ["Missing key(s) in state_dict: '4.weight', '4.bias'",
                                "size mismatch for 2.weight"]),
        (nn.Sequential(nn.Linear(2, 3)), ["Unexpected key(s) in state_dict: '2.weight', '2.bias'"]),
    ]:
        before = model.state_dict()
        with pytest.raises(RuntimeError) as error:
            model.load_state_dict(nn.load(path))
        text = str(error.value)
        assert text.startswith(f"Error(s) in loading state_dict from '{path}' for ")
        for problem in problems:
            assert problem in text
        for key, value in model.state_dict().items():  # nothing was half loaded
            np.testing.assert_array_equal(value, before[key])
    with pytest.raises(RuntimeError, match="size mismatch"):  # shapes are checked even when lax
        nn.MLP([2, 4, 1]).load_state_dict(nn.load(path), strict=False)

"""nn.save / nn.load: exact .npz round trips, atomic writes, and clear refusals of bad files."""
import os
import pickle
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

"""nn.save / nn.load with `.safetensors` files: PyTorch's names, readable by PyTorch, safe to open.

The format follows the file name (`.npz` stays the default). Saved files hold
the state dict exactly; `safetensors.torch.load_file` reads them, and a
PyTorch module built the same way loads them with `load_state_dict` and gives
our outputs (for every layer, over hypothesis-drawn options). Loading never
runs code: a file that is not a complete safetensors file of numbers is a
ValueError naming the file, and a failed save leaves the previous file.
"""
import os
import sys
import zipfile

import numpy as np
import pytest
from hypothesis import given, settings

import nn

from test_torch_bridge import layer_cases, outputs_of


@pytest.fixture(autouse=True)
def needs_safetensors(request):
    if "without_safetensors" not in request.node.name:
        pytest.importorskip("safetensors")


def batchnorm_model():
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))
    model(np.random.default_rng(0).normal(size=(6, 3)))  # running statistics move
    return model


def test_round_trip_is_exact_in_every_dtype(tmp_path):
    model = batchnorm_model()
    path = tmp_path / "model.safetensors"
    nn.save(model, path)
    state = nn.load(path)
    expected = model.state_dict()
    assert sorted(state) == sorted(expected) and state.path == str(path)
    for key, array in expected.items():
        assert state[key].dtype == array.dtype and state[key].shape == array.shape, key
        np.testing.assert_array_equal(state[key], array)
    copy = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2)).eval()
    copy.load_state_dict(state)
    x = np.random.default_rng(1).normal(size=(5, 3))
    np.testing.assert_array_equal(copy(x).data, model.eval()(x).data)


def test_state_dicts_of_other_dtypes_and_empty_arrays(tmp_path):
    state = {"half": np.ones((2, 2), dtype=np.float16), "count": np.array(7, dtype=np.int64),
             "empty": np.zeros((0, 3)), "flags": np.array([True, False]),
             "view": np.arange(12.0).reshape(3, 4).T}  # not contiguous
    nn.save(state, tmp_path / "state.SafeTensors")  # the extension in any case
    loaded = nn.load(tmp_path / "state.SafeTensors")
    for key, array in state.items():
        assert loaded[key].dtype == array.dtype, key
        np.testing.assert_array_equal(loaded[key], array)


def test_npz_stays_the_default(tmp_path):
    nn.save(nn.Linear(2, 2), tmp_path / "model.bin")
    assert zipfile.is_zipfile(tmp_path / "model.bin")
    nn.save(nn.Linear(2, 2), tmp_path / "model.safetensors")
    assert not zipfile.is_zipfile(tmp_path / "model.safetensors")


@settings(max_examples=25)
@given(case=layer_cases())
def test_torch_loads_the_file_and_gives_our_outputs(tmp_path_factory, case):
    torch = pytest.importorskip("torch")
    import safetensors.torch

    layer, x, _ = case
    layer.eval()
    path = tmp_path_factory.mktemp("safetensors") / "layer.safetensors"
    nn.save(layer, path)
    theirs = nn.to_torch(layer)  # PyTorch's classes, then the file's weights over them
    for param in theirs.parameters():
        param.data.zero_()
    theirs.load_state_dict(safetensors.torch.load_file(str(path)))
    for key, tensor in theirs.state_dict().items():
        assert tensor.shape == layer.state_dict()[key].shape, key
        np.testing.assert_array_equal(tensor.numpy(), layer.state_dict()[key], err_msg=key)
    with torch.no_grad():
        expected = outputs_of(theirs(torch.from_numpy(x)))
    for mine, their in zip(outputs_of(layer(x)), expected):
        np.testing.assert_allclose(mine.data, their.numpy(), rtol=1e-10, atol=1e-12)


def test_a_file_written_by_torch_loads_into_our_model(tmp_path):
    torch = pytest.importorskip("torch")
    import safetensors.torch

    torch.manual_seed(0)
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1))
    safetensors.torch.save_file(theirs.state_dict(), str(tmp_path / "torch.safetensors"))
    ours = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    ours.load_state_dict(nn.load(tmp_path / "torch.safetensors"))
    x = np.random.default_rng(0).normal(size=(5, 3))
    np.testing.assert_allclose(ours(x).data, theirs(torch.from_numpy(x).float()).detach().numpy(),
                               rtol=1e-6, atol=1e-6)


# --- refusals ---------------------------------------------------------------------------------
def test_every_truncation_is_refused_naming_the_file(tmp_path):
    path = tmp_path / "model.safetensors"
    nn.save(batchnorm_model(), path)
    data = path.read_bytes()
    cut = tmp_path / "cut.safetensors"
    for size in range(len(data)):
        cut.write_bytes(data[:size])
        with pytest.raises(ValueError, match=r"nn.load: '.*cut.safetensors' is not a readable "
                                             r"safetensors file"):
            nn.load(cut)


@pytest.mark.parametrize("contents", [
    b"", b"\x10\x00\x00\x00\x00\x00\x00\x00{}",
    b"\xff" * 8 + b"{}", b"\x02\x00\x00\x00\x00\x00\x00\x00[]",
    b'\x2c\x00\x00\x00\x00\x00\x00\x00{"a":{"dtype":"F64","shape":[9],"data_offsets":[0,72]}}',
])
def test_malformed_headers_are_refused(tmp_path, contents):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(contents)
    with pytest.raises(ValueError, match="'.*bad.safetensors' is not a readable safetensors"):
        nn.load(path)


def test_an_npz_or_a_pickle_named_safetensors_is_refused(tmp_path):
    nn.save(nn.Linear(2, 2), tmp_path / "model.npz")
    os.replace(tmp_path / "model.npz", tmp_path / "model.safetensors")
    with pytest.raises(ValueError, match="not a readable safetensors file"):
        nn.load(tmp_path / "model.safetensors")
    (tmp_path / "pickled.safetensors").write_bytes(b"\x80\x04\x95" + b"\x00" * 40)
    with pytest.raises(ValueError, match="not a readable safetensors file"):
        nn.load(tmp_path / "pickled.safetensors")


def test_a_dtype_numpy_lacks_is_refused_naming_the_file(tmp_path):
    torch = pytest.importorskip("torch")
    import safetensors.torch

    safetensors.torch.save_file({"w": torch.ones(2, dtype=torch.bfloat16)},
                                str(tmp_path / "bf16.safetensors"))
    # numpy alone has no bfloat16 (not readable); with ml_dtypes (onnx brings it) it is no number
    with pytest.raises(ValueError, match="'.*bf16.safetensors' (is not a readable|entry 'w' is "
                                         "not numeric).*bfloat16"):
        nn.load(tmp_path / "bf16.safetensors")


def test_a_failed_save_leaves_the_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "model.safetensors"
    nn.save(nn.Linear(2, 2), path)
    before = path.read_bytes()
    with pytest.raises(TypeError, match=r"cannot write '.*model.safetensors' as safetensors: "
                                        r".*complex128"):
        nn.save({"z": np.ones(2, dtype=complex)}, path)

    def fail(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", fail)
    with pytest.raises(OSError, match="disk full"):
        nn.save(nn.Linear(2, 2), path)
    monkeypatch.undo()
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["model.safetensors"]


def test_without_safetensors_the_error_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "safetensors", None)  # what an absent package looks like
    monkeypatch.setitem(sys.modules, "safetensors.numpy", None)
    install = r'needs the safetensors package: python -m pip install "autograd_lite\[export\]"'
    with pytest.raises(ImportError, match="nn.save to a .safetensors file " + install):
        nn.save(nn.Linear(2, 2), tmp_path / "model.safetensors")
    (tmp_path / "model.safetensors").write_bytes(b"anything")
    with pytest.raises(ImportError, match="nn.load of a .safetensors file " + install):
        nn.load(tmp_path / "model.safetensors")
    assert os.listdir(tmp_path) == ["model.safetensors"]

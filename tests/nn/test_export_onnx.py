"""nn.export_onnx: files that onnx's checker accepts and ONNX Runtime runs with our outputs.

For every layer over hypothesis-drawn shapes and options (`layer_cases` from
test_torch_bridge): export, `onnx.checker.check_model` on the file, then ONNX
Runtime's outputs equal ours to 1e-5 (float32) at the example's batch size and
at another one. The README's models too, and `examples/export_model.py`. Bad
input (a layer with no ONNX form, a model in training mode, a wrong example
shape) is a clear error naming the layer, and nothing is written; a failure
while writing leaves the old file. Skipped without onnx/onnxruntime, except
the ImportError test.
"""
import os
import pathlib
import subprocess
import sys
import tempfile
from collections import OrderedDict

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import nn

from test_torch_bridge import layer_cases, outputs_of

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def runtime():
    pytest.importorskip("onnx")
    return pytest.importorskip("onnxruntime")


def run_file(runtime, path, x, name="input"):
    session = runtime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    x = np.asarray(x)
    return session.run(None, {name: x.astype(np.int64 if x.dtype.kind in "iu" else np.float32)})


def assert_runtime_matches(runtime, model, path, x):
    """ONNX Runtime's outputs for x (in float32) are ours for the same float32 numbers."""
    if x.dtype.kind == "f":
        x = x.astype(np.float32).astype(np.float64)  # the numbers ONNX Runtime sees
    expected = [v.data for v in outputs_of(model(x))]
    got = run_file(runtime, path, x)
    assert len(got) == len(expected)
    for mine, theirs in zip(expected, got):
        assert theirs.shape == mine.shape
        np.testing.assert_allclose(theirs, mine, rtol=1e-5, atol=1e-5)


def another_batch(x, axis, size):
    """`x` with `size` examples along its batch axis (drawn again around x's values)."""
    shape = list(x.shape)
    shape[axis] = size
    if x.dtype.kind in "iu":  # Embedding's indices
        return np.random.default_rng(size).integers(0, x.max() + 1, size=shape)
    return np.random.default_rng(size).normal(size=shape) * 2


# --- every layer, every option -----------------------------------------------------------------
@settings(max_examples=50)
@given(case=layer_cases(onnx=True), other_size=st.integers(1, 5))
def test_each_layer_runs_in_onnx_runtime_with_our_outputs(runtime, case, other_size):
    import onnx

    layer, x, axis = case
    layer.eval()
    with tempfile.TemporaryDirectory() as folder:
        path = pathlib.Path(folder) / "layer.onnx"
        nn.export_onnx(layer, x, path)
        onnx.checker.check_model(str(path), full_check=True)
        assert_runtime_matches(runtime, layer, path, x)
        if axis is not None:
            assert_runtime_matches(runtime, layer, path, another_batch(x, axis, other_size))


def readme_models():
    """The README's models: the guide's sigmoid MLP, the digits CNN, a recurrent forecaster."""
    rng = np.random.default_rng(0)
    mlp = nn.MLP([2, 4, 4, 1], activation="sigmoid", output_activation="sigmoid", init="he",
                 rng=rng)
    cnn = nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1, rng=rng), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1, rng=rng), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 2 * 2, 10, rng=rng))
    cosine = nn.MLP([1, 5, 1], activation="tanh", rng=rng)
    snake = nn.MLP([1, 16, 16, 1], activation=nn.Snake(a=2.0, learnable=True), rng=rng)
    return [(mlp, rng.normal(size=(4, 2))), (cnn, rng.uniform(size=(3, 1, 8, 8))),
            (cosine, rng.normal(size=(5, 1))), (snake, rng.normal(size=(5, 1))),
            (nn.LSTM(1, 8, num_layers=2, batch_first=True, rng=rng), rng.normal(size=(2, 6, 1)))]


@pytest.mark.parametrize("index", range(5))
def test_readme_models_run_in_onnx_runtime_at_any_batch_size(runtime, tmp_path, index):
    model, x = readme_models()[index]
    model.eval()
    proto = nn.export_onnx(model, x[:1], tmp_path / "model.onnx")
    for size in (1, len(x)):
        assert_runtime_matches(runtime, model, tmp_path / "model.onnx", x[:size])
    batch = proto.graph.input[0].type.tensor_type.shape.dim[0]
    assert batch.dim_param == "batch"


def test_the_file_names_layers_and_parameters_as_the_model_does(runtime, tmp_path):
    import onnx

    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Tanh(),
                          nn.Sequential(nn.Linear(4, 2), nn.Snake(0.5, learnable=True)))
    model.eval()
    nn.export_onnx(model, np.ones((2, 3)), tmp_path / "model.onnx", input_names=["features"],
                   output_names=["scores"])
    proto = onnx.load(str(tmp_path / "model.onnx"))
    initializers = {t.name: onnx.numpy_helper.to_array(t) for t in proto.graph.initializer}
    state = model.state_dict()
    del state["1.num_batches_tracked"]  # not used by inference
    assert set(state) <= set(initializers)
    for key, array in state.items():
        assert initializers[key].dtype == np.float32
        np.testing.assert_array_equal(initializers[key], array.astype(np.float32))
    assert [node.name for node in proto.graph.node] == ["0", "1", "2", "3.0", "3.1", "3.1/Sin",
                                                        "3.1/Mul", "3.1/Div", "3.1/Add"]
    assert [i.name for i in proto.graph.input] == ["features"]
    assert [o.name for o in proto.graph.output] == ["scores"]
    assert "Snake(a=0.5, learnable=True)" in proto.doc_string  # the model's repr, for Netron
    out = proto.graph.output[0].type.tensor_type.shape.dim
    assert (out[0].dim_param, out[1].dim_value) == ("batch", 2)
    (scores,) = run_file(runtime, tmp_path / "model.onnx", np.ones((7, 3)), "features")
    assert scores.shape == (7, 2)


def test_a_fixed_batch_and_the_opset(runtime, tmp_path):
    model = nn.Linear(3, 2).eval()
    proto = nn.export_onnx(model, np.ones((2, 3)), tmp_path / "fixed.onnx", dynamic_batch=False,
                           opset_version=13)
    assert proto.opset_import[0].version == 13
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_value == 2
    assert_runtime_matches(runtime, model, tmp_path / "fixed.onnx", np.ones((2, 3)))
    with pytest.raises(Exception, match="dimension"):  # ONNX Runtime holds it to the batch of 2
        run_file(runtime, tmp_path / "fixed.onnx", np.ones((3, 3)))


def test_circular_padding_from_opset_19(runtime, tmp_path):
    model = nn.Conv2d(2, 3, 3, padding=(1, 2), padding_mode="circular").eval()
    nn.export_onnx(model, np.ones((1, 2, 5, 6)), tmp_path / "conv.onnx", opset_version=19)
    assert_runtime_matches(runtime, model, tmp_path / "conv.onnx",
                           np.random.default_rng(0).normal(size=(3, 2, 5, 6)))


def test_an_embedding_model_takes_int64_indices(runtime, tmp_path):
    import onnx

    model = nn.Embedding(10, 4, padding_idx=0).eval()
    proto = nn.export_onnx(model, np.array([[1, 2, 3]]), tmp_path / "embedding.onnx")
    assert proto.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.INT64
    assert_runtime_matches(runtime, model, tmp_path / "embedding.onnx",
                           np.array([[0, 9, 4], [5, 5, 1]]))


def test_a_recurrent_model_returns_every_state(runtime, tmp_path):
    model = nn.LSTM(2, 3, num_layers=2, bidirectional=True).eval()
    proto = nn.export_onnx(model, np.ones((4, 1, 2)), tmp_path / "lstm.onnx")
    assert [o.name for o in proto.graph.output] == ["output", "h_n", "c_n"]
    assert proto.graph.input[0].type.tensor_type.shape.dim[1].dim_param == "batch"  # (L, N, in)
    assert_runtime_matches(runtime, model, tmp_path / "lstm.onnx",
                           np.random.default_rng(0).normal(size=(4, 5, 2)))


# --- bad input: a clear error, nothing written -------------------------------------------------
class Scaled(nn.Module):
    def forward(self, x):
        return 2 * x


def assert_refused(tmp_path, error, pattern, model, x, **options):
    path = tmp_path / "model.onnx"
    path.write_bytes(b"the previous file")
    with pytest.raises(error, match=pattern):
        nn.export_onnx(model, x, path, **options)
    assert path.read_bytes() == b"the previous file"
    assert os.listdir(tmp_path) == ["model.onnx"]  # no temporary file either


def test_a_layer_without_an_onnx_form_is_named(runtime, tmp_path):
    model = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.ReLU(), Scaled())).eval()
    assert_refused(tmp_path, TypeError, r"nn.export_onnx: layer '1\.1' \(Scaled\) has no "
                   r"equivalent", model, np.ones((1, 2)))
    projected = nn.Sequential(OrderedDict(lstm=nn.LSTM(2, 2, proj_size=1))).eval()
    assert_refused(tmp_path, ValueError, r"layer 'lstm' \(LSTM\) has proj_size=1", projected,
                   np.ones((3, 1, 2)))
    assert_refused(tmp_path, ValueError, r"layer 'MaxPool2d' \(MaxPool2d\) has "
                   r"return_indices=True", nn.MaxPool2d(2, return_indices=True).eval(),
                   np.ones((1, 1, 4, 4)))
    assert_refused(tmp_path, ValueError, r"layer '0' \(Embedding\) has max_norm=1.0",
                   nn.Sequential(nn.Embedding(4, 2, max_norm=1.0)).eval(), np.array([[0, 3]]))
    assert_refused(tmp_path, ValueError, r"layer '1' \(AdaptiveAvgPool2d\) pools \(5, 5\) to "
                   r"\(2, 2\)", nn.Sequential(nn.ReLU(), nn.AdaptiveAvgPool2d(2)).eval(),
                   np.ones((1, 1, 5, 5)))
    circular = nn.Conv2d(1, 1, 3, padding=1, padding_mode="circular").eval()
    assert_refused(tmp_path, ValueError, r"padding_mode='circular', which needs opset_version 19",
                   circular, np.ones((1, 1, 4, 4)))


def test_a_model_in_training_mode_is_refused_naming_the_layer(runtime, tmp_path):
    model = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
    assert_refused(tmp_path, ValueError, r"the model \(Sequential\) is in training mode; call "
                   r"model.eval\(\)", model, np.ones((1, 2)))
    model.eval()
    model[1].train()
    assert_refused(tmp_path, ValueError, r"layer '1' \(Dropout\) is in training mode",
                   model, np.ones((1, 2)))


def test_a_wrong_example_shape_names_the_layer_and_shapes(runtime, tmp_path):
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(5, 1)).eval()
    assert_refused(tmp_path, ValueError, r"example input does not fit the model: Linear\(3→4\) "
                   r"\(layer '0'\): expected input with last dimension 3, got shape \(2, 4\)",
                   model, np.ones((2, 4)))
    assert_refused(tmp_path, ValueError, r"Linear\(5→1\) \(layer '2'\): expected input with last "
                   r"dimension 5, got shape \(2, 4\)", model, np.ones((2, 3)))


def test_bad_options_are_refused(runtime, tmp_path):
    model = nn.Linear(2, 2).eval()
    assert_refused(tmp_path, ValueError, "opset_version must be between 13 and",
                   model, np.ones((1, 2)), opset_version=11)
    assert_refused(tmp_path, ValueError, r"the model has 1 output\(s\), got output_names",
                   model, np.ones((1, 2)), output_names=["a", "b"])
    assert_refused(tmp_path, ValueError, "takes one input", model, np.ones((1, 2)),
                   input_names=["a", "b"])
    assert_refused(tmp_path, ValueError, "output name 'input' is already the name",
                   model, np.ones((1, 2)), output_names=["input"])


def test_a_failure_while_writing_keeps_the_previous_file(runtime, tmp_path, monkeypatch):
    def fail(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    assert_refused(tmp_path, OSError, "disk full", nn.Linear(2, 2).eval(), np.ones((1, 2)))


def test_without_onnx_the_error_says_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "onnx", None)  # what an absent package looks like
    with pytest.raises(ImportError, match=r'nn.export_onnx needs the onnx package: python -m pip '
                                          r'install "autograd_lite\[export\]"'):
        nn.export_onnx(nn.Linear(2, 2).eval(), np.ones((1, 2)), tmp_path / "model.onnx")
    assert os.listdir(tmp_path) == []


# --- the example -----------------------------------------------------------------------------
def test_the_export_example_gets_one_accuracy_in_three_engines(runtime, tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("sklearn")
    pytest.importorskip("matplotlib")
    sys.path.insert(0, str(ROOT / "examples"))
    from _common import parse_report

    completed = subprocess.run([sys.executable, str(ROOT / "examples" / "export_model.py"),
                                "--quick", "--out", str(tmp_path)],
                               cwd=ROOT, capture_output=True, text=True)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    numbers = parse_report(completed.stdout)
    assert numbers["accuracy_autograd_lite"] > 0.6  # chance is 0.1
    assert numbers["accuracy_onnxruntime"] == numbers["accuracy_autograd_lite"]
    assert numbers["accuracy_torch"] == numbers["accuracy_autograd_lite"]
    assert numbers["accuracy_safetensors_in_torch"] == numbers["accuracy_autograd_lite"]
    assert numbers["max_output_difference_onnxruntime"] < 1e-4
    assert numbers["max_output_difference_torch"] < 1e-10
    assert (tmp_path / "digits_cnn.onnx").is_file()
    assert (tmp_path / "digits_cnn.safetensors").is_file()

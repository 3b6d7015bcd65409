"""BatchNorm2d, track_running_stats, LayerNorm, Embedding, the activations GELU SiLU ELU
Softplus Softmax LogSoftmax, and the containers ModuleDict, ParameterList, ParameterDict.

Known answers in numpy, then against PyTorch with copied weights (skipped without it):
outputs, running statistics, and every gradient to 1e-10 in float64 and 1e-5 in float32.
"""
import math
import re

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import nn
from autograd_lite import Value, gradgradcheck, manual_seed
from test_layers import check_batch_of_0


def test_batchnorm2d_by_hand(rng):
    bn = nn.BatchNorm2d(3, momentum=0.5)
    x = rng.normal(size=(4, 3, 2, 5)) * 3 + 1
    mean, var = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3))
    expected = (x - mean[:, None, None]) / np.sqrt(var[:, None, None] + 1e-5)
    np.testing.assert_allclose(bn(x).data, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(bn.running_mean, 0.5 * mean)
    np.testing.assert_allclose(bn.running_var, 0.5 + 0.5 * var * 40 / 39)  # unbiased
    free = nn.BatchNorm2d(3, track_running_stats=False).eval()
    assert list(free.state_dict()) == ["weight", "bias"]
    np.testing.assert_allclose(free(x).data, expected, rtol=1e-12, atol=1e-12)  # batch stats


def test_layer_norm_by_hand(rng):
    ln = nn.LayerNorm((2, 3))
    ln.weight.data, ln.bias.data = rng.normal(size=(2, 3)), rng.normal(size=(2, 3))
    x = rng.normal(size=(4, 2, 3))
    flat = x.reshape(4, 6)
    normed = (flat - flat.mean(1, keepdims=True)) / np.sqrt(flat.var(1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(ln(x).data, normed.reshape(4, 2, 3) * ln.weight.data + ln.bias.data,
                               rtol=1e-12)
    with pytest.raises(ValueError, match=re.escape(
            "LayerNorm((2, 3)): expected input of shape (*, 2, 3), got shape (4, 3, 2)")):
        ln(np.zeros((4, 3, 2)))


def test_embedding_lookup_padding_and_pretrained():
    emb = nn.Embedding(5, 2, padding_idx=1, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(emb.weight.data[1], [0, 0])
    indices = np.array([[0, 1, 4], [4, 1, 1]])
    out = emb(indices)
    np.testing.assert_array_equal(out.data, emb.weight.data[indices])
    (out * np.arange(12.0).reshape(2, 3, 2)).sum().backward()
    grad = np.zeros((5, 2))
    np.add.at(grad, indices, np.arange(12.0).reshape(2, 3, 2))
    grad[1] = 0  # the padding row gets no gradient
    np.testing.assert_array_equal(emb.weight.grad, grad)
    frozen = nn.Embedding.from_pretrained(np.eye(3))
    assert not frozen.weight.requires_grad and frozen(np.array(2)).data.tolist() == [0, 0, 1]
    capped = nn.Embedding.from_pretrained(np.array([[3.0, 4.0], [0.3, 0.4]]), max_norm=1.0)
    capped(np.array([0, 1]))
    np.testing.assert_allclose(capped.weight.data, [[0.6, 0.8], [0.3, 0.4]], rtol=1e-6)
    with pytest.raises(IndexError, match="embedding: index 5 is out of range for 5 embeddings"):
        emb(np.array([5]))
    with pytest.raises(TypeError, match="embedding: indices must be integers, got dtype float64"):
        emb(np.array([1.0]))


def test_activations_by_hand():
    x = np.array([-30.0, -1.0, 0.0, 0.5, 40.0])
    erf = np.vectorize(math.erf)
    np.testing.assert_allclose(nn.GELU()(x).data, x * 0.5 * (1 + erf(x / np.sqrt(2))), rtol=1e-14)
    np.testing.assert_allclose(nn.SiLU()(x).data, x / (1 + np.exp(-x)), rtol=1e-14)
    np.testing.assert_allclose(nn.ELU(0.5)(x).data, np.where(x > 0, x, 0.5 * np.expm1(x)),
                               rtol=1e-14)
    np.testing.assert_allclose(nn.Softplus()(x).data, np.where(x > 20, x, np.log1p(np.exp(x))),
                               rtol=1e-14, atol=1e-300)
    probabilities = nn.Softmax(dim=0)(x).data
    np.testing.assert_allclose(probabilities, np.exp(x - 40) / np.exp(x - 40).sum(), rtol=1e-12)
    np.testing.assert_allclose(nn.LogSoftmax(dim=-1)(x).data, np.log(probabilities), rtol=1e-12)
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        nn.Softmax()(np.zeros((2, 3)))
    big = Value(np.array([800.0, -800.0]))  # exp(800) overflows: neither branch may give NaN
    nn.ELU()(big).sum().backward()
    np.testing.assert_array_equal(big.grad, [1.0, 0.0])


@pytest.mark.parametrize("make", [nn.GELU, lambda: nn.GELU("tanh"), nn.SiLU, nn.ELU, nn.Softplus])
def test_activations_second_derivatives(make, rng):
    assert gradgradcheck(make(), [Value(rng.normal(size=6))])


def test_containers_register_their_entries():
    heads = nn.ModuleDict({"a": nn.Linear(2, 3), "b": nn.Linear(2, 1)})
    heads["c"] = nn.Tanh()
    assert list(heads) == ["a", "b", "c"] and "b" in heads and len(heads) == 3
    assert [name for name, _ in heads.named_parameters()] == ["a.weight", "a.bias", "b.weight",
                                                               "b.bias"]
    assert heads.pop("b").out_features == 1 and list(heads.keys()) == ["a", "c"]
    params = nn.ParameterList([np.ones(2), nn.Parameter(np.zeros(3))])
    params.append(Value([1.0]))
    assert [p.shape for p in params] == [(2,), (3,), (1,)]
    assert all(isinstance(p, nn.Parameter) for p in params) and len(params[1:]) == 2
    table = nn.ParameterDict({"scale": np.ones(1)})
    table.update([("shift", np.zeros(1))])
    assert list(table.state_dict()) == ["scale", "shift"]

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.heads, self.params, self.table = heads, params, table

    model = Model()
    assert len(list(model.parameters())) == 2 + 3 + 2
    assert "heads.a.weight" in model.state_dict() and "params.2" in model.state_dict()
    with pytest.raises(TypeError, match="ModuleDict: keys must be strings, got int"):
        heads[0] = nn.Tanh()
    with pytest.raises(TypeError, match="ParameterList: expected a Parameter, a Value or an array"):
        params.append("weights")


# --- against PyTorch ---------------------------------------------------------------------
def run_both(ours, theirs, x, float32, torch, train=True, steps=1):
    dtype = np.float32 if float32 else np.float64
    theirs.to(getattr(torch, np.dtype(dtype).name)).train(train)
    ours.to(dtype).train(train)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    tol = dict(rtol=1e-5, atol=1e-5) if float32 else dict(rtol=1e-10, atol=1e-12)
    for step in range(steps):
        data = (x * (step + 1)).astype(dtype)
        x_ours, x_theirs = Value(data), torch.tensor(data, requires_grad=True)
        out, expected = ours(x_ours), theirs(x_theirs)
        weights = np.random.default_rng(step).normal(size=out.shape).astype(dtype)
        (out * weights).sum().backward()
        (expected * torch.tensor(weights)).sum().backward()
        assert out.dtype == dtype
        np.testing.assert_allclose(out.data, expected.detach().numpy(), **tol)
        np.testing.assert_allclose(x_ours.grad, x_theirs.grad.numpy(), **tol)
    for (name, p), (_, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(p.grad, tp.grad.numpy(), err_msg=name, **tol)
    for (key, b), (_, tb) in zip(ours.state_dict().items(), theirs.state_dict().items()):
        np.testing.assert_allclose(b, tb.numpy(), err_msg=key, **tol)  # running statistics


@settings(max_examples=20)
@given(kind=st.sampled_from(["BatchNorm1d", "BatchNorm2d"]), affine=st.booleans(),
       bias=st.booleans(), track=st.booleans(), momentum=st.sampled_from([0.1, None]),
       train=st.booleans(), float32=st.booleans(), seed=st.integers(0, 2 ** 16))
def test_batchnorm_against_pytorch(kind, affine, bias, track, momentum, train, float32, seed):
    torch = pytest.importorskip("torch", exc_type=ImportError)
    shape = (4, 3, 5) if kind == "BatchNorm1d" else (4, 3, 2, 3)
    x = np.random.default_rng(seed).normal(size=shape) * 2 + 0.5
    options = dict(momentum=momentum, affine=affine, track_running_stats=track, bias=bias)
    run_both(getattr(nn, kind)(3, **options), getattr(torch.nn, kind)(3, **options), x, float32,
             torch, train=train, steps=3)


@settings(max_examples=15)
@given(shape=st.sampled_from([4, (4,), (3, 4)]), affine=st.booleans(), bias=st.booleans(),
       float32=st.booleans(), seed=st.integers(0, 2 ** 16))
def test_layer_norm_against_pytorch(shape, affine, bias, float32, seed):
    torch = pytest.importorskip("torch", exc_type=ImportError)
    x = np.random.default_rng(seed).normal(size=(2, 3, 4))
    ours, theirs = nn.LayerNorm(shape, 1e-5, affine, bias), torch.nn.LayerNorm(shape, 1e-5, affine, bias)
    if affine:  # not the default ones and zeros, so a wrong broadcast would show
        with torch.no_grad():
            for p in theirs.parameters():
                p.uniform_(0.5, 1.5)
    run_both(ours, theirs, x, float32, torch)


@pytest.mark.parametrize("name, args", [
    ("GELU", ()), ("GELU", ("tanh",)), ("SiLU", ()), ("ELU", (0.7,)), ("Softplus", ()),
    ("Softplus", (2.0, 3.0)), ("Softmax", (1,)), ("LogSoftmax", (0,))])
@pytest.mark.parametrize("float32", [False, True])
def test_activations_against_pytorch(name, args, float32, rng):
    torch = pytest.importorskip("torch", exc_type=ImportError)
    x = rng.normal(size=(3, 4)) * 5
    run_both(getattr(nn, name)(*args), getattr(torch.nn, name)(*args), x, float32, torch)


def test_embedding_against_pytorch(rng):
    torch = pytest.importorskip("torch", exc_type=ImportError)
    for options in [dict(), dict(padding_idx=3), dict(max_norm=1.5, norm_type=1.0)]:
        theirs = torch.nn.Embedding(6, 4, **options).double()
        ours = nn.Embedding(6, 4, **options)
        ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
        indices = rng.integers(0, 6, size=(3, 5))
        out, expected = ours(indices), theirs(torch.tensor(indices))
        weights = rng.normal(size=out.shape)
        (out * weights).sum().backward()
        (expected * torch.tensor(weights)).sum().backward()
        np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-12)
        np.testing.assert_allclose(ours.weight.grad, theirs.weight.grad.numpy(), rtol=1e-12)
        np.testing.assert_allclose(ours.weight.data, theirs.weight.detach().numpy(), rtol=1e-12)


def test_containers_state_dicts_map_to_pytorchs():
    torch = pytest.importorskip("torch", exc_type=ImportError)
    theirs = torch.nn.ModuleDict({"enc": torch.nn.Linear(2, 3), "dec": torch.nn.Conv2d(1, 2, 3)})
    ours = nn.ModuleDict({"enc": nn.Linear(2, 3), "dec": nn.Conv2d(1, 2, 3)})
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    plist = torch.nn.ParameterList([torch.nn.Parameter(torch.ones(2)) for _ in range(2)])
    pdict = torch.nn.ParameterDict({"a": torch.nn.Parameter(torch.ones(1))})
    assert list(nn.ParameterList([np.ones(2), np.ones(2)]).state_dict()) == list(plist.state_dict())
    assert list(nn.ParameterDict({"a": np.ones(1)}).state_dict()) == list(pdict.state_dict())


@pytest.mark.parametrize("make, shape, expected", [
    (lambda: nn.LSTM(3, 4, bidirectional=True, proj_size=2), (5, 0, 3), (5, 0, 4)),
    (lambda: nn.GRU(3, 4, num_layers=2, batch_first=True), (0, 5, 3), (0, 5, 4)),
    (lambda: nn.Conv2d(4, 4, 3, groups=2, dilation=2, padding="same", padding_mode="reflect"),
     (0, 4, 6, 6), (0, 4, 6, 6)),
    (lambda: nn.MaxPool2d(3, 2, 1, dilation=2, ceil_mode=True), (0, 2, 5, 5), (0, 2, 2, 2)),
    (lambda: nn.AvgPool2d(2, padding=1), (0, 2, 5, 5), (0, 2, 3, 3)),
    (lambda: nn.AdaptiveAvgPool2d(2), (0, 2, 5, 5), (0, 2, 2, 2)),
    (lambda: nn.BatchNorm2d(2).eval(), (0, 2, 3, 3), (0, 2, 3, 3)),
    (lambda: nn.LayerNorm(3), (0, 3), (0, 3)),
    (lambda: nn.GELU(), (0, 3), (0, 3)),
], ids=["LSTM", "GRU", "Conv2d-options", "MaxPool2d-options", "AvgPool2d", "AdaptiveAvgPool2d",
        "BatchNorm2d-eval", "LayerNorm", "GELU"])
def test_new_layers_take_a_batch_of_0(make, shape, expected):
    check_batch_of_0(make, shape, expected)
    indices, = nn.MaxPool2d(2, return_indices=True)(np.zeros((0, 1, 4, 4)))[1:]
    assert indices.shape == (0, 1, 2, 2) and indices.dtype == np.int64


def _hooked_model():
    model = nn.Sequential(nn.Linear(2, 2), nn.Tanh())
    model[1].register_full_backward_hook(lambda module, grad_input, grad_output: None)
    return model


@pytest.mark.parametrize("make, shape", [
    (lambda: nn.Conv2d(2, 2, 2, groups=2, dilation=2, padding=1, padding_mode="circular"),
     (1, 2, 4, 4)),
    (lambda: (lambda x, m=nn.LSTM(2, 2, proj_size=1): m(x)[0]), (3, 1, 2)),
    (lambda: (lambda x: nn.AvgPool2d(2, padding=1, count_include_pad=False)(x) ** 2), (1, 1, 3, 3)),
    (lambda: (lambda x: nn.MaxPool2d(2, padding=1, dilation=2)(x) ** 2), (1, 1, 4, 4)),
    (lambda: (lambda x: nn.cross_entropy(x, np.array([0, -100, 2]), weight=np.array([1., 2, 3]),
                                         label_smoothing=0.1)), (3, 3)),
    (_hooked_model, (2, 2)),
], ids=["Conv2d-options", "LSTM-proj", "AvgPool2d", "MaxPool2d-options", "cross_entropy-options",
        "backward-hook"])
def test_second_derivatives_through_the_new_layers(make, shape, rng):
    manual_seed(0)
    assert gradgradcheck(make(), [Value(rng.normal(size=shape))])


def test_an_embedding_inside_a_sequential_gets_integer_ids():
    """Module calls keep integer arrays as they are (as masks stay masks): token ids reach the
    Embedding as ids, not as float constants."""
    model = nn.Sequential(nn.Embedding(10, 3), nn.Flatten(), nn.Linear(6, 2))
    ids = np.array([[1, 2], [3, 4]])
    out = model(ids)
    assert out.shape == (2, 2)
    np.testing.assert_array_equal(model[0](ids).data, model[0].weight.data[ids])
    out.sum().backward()
    assert model[0].weight.grad[[1, 2, 3, 4]].any() and not model[0].weight.grad[[0, 5]].any()

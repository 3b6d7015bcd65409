"""RNN, LSTM and GRU: PyTorch's parameters, gate order, layouts and options, and clear errors.

Against PyTorch (skipped without it) with copied weights over hypothesis-drawn
option combinations: outputs, final states, and the gradient of every parameter,
the input and the initial states, to 1e-10 in float64 and 1e-5 in float32.
Without PyTorch, a numpy transcription of each cell's equations is the reference.
"""
import re
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import nn
from autograd_lite import Value, gradcheck

KINDS = {"RNN": nn.RNN, "LSTM": nn.LSTM, "GRU": nn.GRU}


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def numpy_layer(kind, params, x, h, c):
    """One layer, one direction, in plain numpy: the equations of PyTorch's documentation."""
    w_ih, w_hh = params["weight_ih"], params["weight_hh"]
    b_ih, b_hh = params.get("bias_ih", 0.0), params.get("bias_hh", 0.0)
    outputs = []
    for x_t in x:
        gi, gh = x_t @ w_ih.T + b_ih, h @ w_hh.T + b_hh
        if kind == "RNN":
            h = np.tanh(gi + gh)
        elif kind == "LSTM":
            i, f, g, o = np.split(gi + gh, 4, axis=-1)
            c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
            h = sigmoid(o) * np.tanh(c)
            if "weight_hr" in params:
                h = h @ params["weight_hr"].T
        else:
            (ir, iz, in_), (hr, hz, hn) = np.split(gi, 3, axis=-1), np.split(gh, 3, axis=-1)
            r, z = sigmoid(ir + hr), sigmoid(iz + hz)
            n = np.tanh(in_ + r * hn)
            h = (1 - z) * n + z * h
        outputs.append(h)
    return np.stack(outputs), h, c


def layer_params(model, k):
    return {name[:-len(f"_l{k}")]: p.data for name, p in model.named_parameters()
            if name.endswith(f"_l{k}")}


@pytest.mark.parametrize("kind, options", [
    ("RNN", {}), ("LSTM", {}), ("LSTM", {"proj_size": 2}), ("GRU", {}), ("GRU", {"bias": False})])
def test_each_cell_matches_its_equations_in_numpy(rng, kind, options):
    model = KINDS[kind](3, 4, num_layers=2, **options)
    x = rng.normal(size=(5, 2, 3))
    out = model(x)
    output, h_n = out[0].data, (out[1][0] if kind == "LSTM" else out[1]).data
    layer_input, size = x, options.get("proj_size") or 4
    for k in range(2):
        h, c = np.zeros((2, size)), np.zeros((2, 4))
        layer_input, h, c = numpy_layer(kind, layer_params(model, k), layer_input, h, c)
        np.testing.assert_allclose(h_n[k], h, rtol=1e-12, atol=1e-14)
        if kind == "LSTM":
            np.testing.assert_allclose(out[1][1].data[k], c, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(output, layer_input, rtol=1e-12, atol=1e-14)


def test_bidirectional_runs_the_reverse_weights_backwards_in_time(rng):
    model = nn.GRU(3, 4, bidirectional=True)
    x = rng.normal(size=(6, 2, 3))
    output, h_n = model(x)
    zeros = np.zeros((2, 4))
    forward, h_f, _ = numpy_layer("GRU", layer_params(model, 0), x, zeros, None)
    reverse_params = {name[:-len("_l0_reverse")]: p.data for name, p in model.named_parameters()
                      if name.endswith("_reverse")}
    backward, h_b, _ = numpy_layer("GRU", reverse_params, x[::-1], zeros, None)
    np.testing.assert_allclose(output.data, np.concatenate([forward, backward[::-1]], -1),
                               rtol=1e-12)
    np.testing.assert_allclose(h_n.data, np.stack([h_f, h_b]), rtol=1e-12)
    assert output.shape == (6, 2, 8) and h_n.shape == (2, 2, 4)


def test_parameter_names_and_shapes_are_pytorchs():
    model = nn.LSTM(3, 5, num_layers=2, bidirectional=True, proj_size=2)
    shapes = [(name, p.shape) for name, p in model.named_parameters()]
    per_direction = lambda k, suffix, inputs: [  # noqa: E731
        (f"weight_ih_l{k}{suffix}", (20, inputs)), (f"weight_hh_l{k}{suffix}", (20, 2)),
        (f"bias_ih_l{k}{suffix}", (20,)), (f"bias_hh_l{k}{suffix}", (20,)),
        (f"weight_hr_l{k}{suffix}", (2, 5))]
    assert shapes == (per_direction(0, "", 3) + per_direction(0, "_reverse", 3)
                      + per_direction(1, "", 4) + per_direction(1, "_reverse", 4))
    assert all(np.abs(p.data).max() <= 1 / np.sqrt(5) for p in model.parameters())
    gru = nn.GRU(3, 5, bias=False)
    assert [name for name, _ in gru.named_parameters()] == ["weight_ih_l0", "weight_hh_l0"]
    assert gru.weight_ih_l0.shape == (15, 3)


def test_layouts_unbatched_and_batch_first_agree(rng):
    model = nn.LSTM(3, 4, num_layers=2)
    x = rng.normal(size=(5, 2, 3))
    h0, c0 = rng.normal(size=(2, 2, 4)), rng.normal(size=(2, 2, 4))
    output, (h_n, c_n) = model(x, (h0, c0))
    batch_first = nn.LSTM(3, 4, num_layers=2, batch_first=True)
    batch_first.load_state_dict(model.state_dict())
    out_bf, (h_bf, c_bf) = batch_first(x.swapaxes(0, 1), (h0, c0))
    np.testing.assert_allclose(out_bf.data, output.data.swapaxes(0, 1))
    np.testing.assert_allclose(h_bf.data, h_n.data)
    out_one, (h_one, c_one) = model(x[:, 1], (h0[:, 1], c0[:, 1]))  # unbatched (L, input_size)
    np.testing.assert_allclose(out_one.data, output.data[:, 1], rtol=1e-12)
    np.testing.assert_allclose(c_one.data, c_n.data[:, 1], rtol=1e-12)
    assert out_one.shape == (5, 4) and h_one.shape == (2, 4)


def test_gradients_match_finite_differences(rng):
    model = nn.LSTM(2, 3, proj_size=1, bidirectional=True)
    params = list(model.parameters())
    x = Value(rng.normal(size=(3, 2, 2)))

    def run(x, *_):
        output, (h_n, c_n) = model(x)
        return (output * output).sum() + (c_n * h_n.sum()).sum()

    assert gradcheck(run, [x] + params)
    gru = nn.GRU(2, 2)
    assert gradcheck(lambda x, *_: gru(x)[0].sum(), [Value(rng.normal(size=(3, 2)))]
                     + list(gru.parameters()))


def test_dropout_between_layers(rng):
    x = rng.normal(size=(4, 3, 2))
    model = nn.GRU(2, 3, num_layers=2, dropout=0.5, rng=np.random.default_rng(1))
    plain = nn.GRU(2, 3, num_layers=2)
    plain.load_state_dict(model.state_dict())
    model.rng = np.random.default_rng(7)
    train_out = model(x)[0].data
    assert not np.allclose(train_out, plain(x)[0].data)  # masks applied in training
    model.rng = np.random.default_rng(7)
    np.testing.assert_array_equal(model(x)[0].data, train_out)  # the same rng, the same masks
    model.eval()
    np.testing.assert_array_equal(model(x)[0].data, plain(x)[0].data)  # none in eval
    # dropout=1 zeroes layer 0's outputs: layer 1 then sees only zeros
    everything = nn.GRU(2, 3, num_layers=2, dropout=1.0)
    zeros_in = nn.GRU(3, 3)
    zeros_in.load_state_dict({k[:-1] + "0": v for k, v in everything.state_dict().items()
                              if k.endswith("l1")})
    np.testing.assert_allclose(everything(x)[0].data, zeros_in(np.zeros((4, 3, 3)))[0].data)


@pytest.mark.parametrize("make, message", [
    (lambda: nn.LSTM(3, 4, proj_size=4), "LSTM: proj_size has to be smaller than hidden_size"),
    (lambda: nn.GRU(3, 4, dropout=1.5), "GRU: dropout should be a number in range [0, 1]"),
    (lambda: nn.LSTM(3, 4, num_layers=0), "LSTM: num_layers must be at least 1, got 0"),
    (lambda: nn.GRU(3, 0), "GRU: hidden_size must be at least 1, got 0"),
])
def test_bad_settings_are_errors_naming_the_layer(make, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        make()


def test_rnn_arguments_are_in_pytorchs_order():
    assert nn.RNN(3, 4, 2).num_layers == 2
    model = nn.RNN(3, 4, 2, "relu", False, True, 0.0, True)
    assert (model.nonlinearity, model.bias, model.batch_first, model.bidirectional) == \
        ("relu", False, True, True)
    with pytest.raises(TypeError, match="nonlinearity="):
        nn.RNN(3, 4, "relu")
    with pytest.raises(TypeError, match="LSTM: num_layers must be an int, got 1.5"):
        nn.LSTM(3, 4, 1.5)
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        nn.LSTM(3, 4, dropout=0.2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.LSTM(3, 4, num_layers=2, dropout=0.2)


def test_bad_inputs_and_states_are_errors_naming_the_layer():
    lstm = nn.LSTM(3, 4, num_layers=2, bidirectional=True)
    with pytest.raises(ValueError, match=re.escape(
            "LSTM(3→4): expected input of shape (L, N, 3) or (L, 3), got shape (5, 2, 2)")):
        lstm(np.ones((5, 2, 2)))
    with pytest.raises(ValueError, match=re.escape(
            "LSTM(3→4): expected c0 of shape (4, 2, 4), got shape (2, 2, 4)")):
        lstm(np.ones((5, 2, 3)), (np.zeros((4, 2, 4)), np.zeros((2, 2, 4))))
    with pytest.raises(ValueError, match=re.escape(
            "LSTM(3→4): expected h0 of shape (4, 4), got shape (4, 1, 4)")):  # unbatched input
        lstm(np.ones((5, 3)), (np.zeros((4, 1, 4)), np.zeros((4, 4))))
    with pytest.raises(TypeError, match=re.escape("LSTM(3→4): hx must be a tuple (h0, c0)")):
        lstm(np.ones((5, 2, 3)), np.zeros((4, 2, 4)))
    with pytest.raises(ValueError, match=re.escape("GRU(3→4): expected at least one time step")):
        nn.GRU(3, 4)(np.ones((0, 2, 3)))


def test_repr_names_the_options():
    assert repr(nn.LSTM(3, 4, num_layers=2, batch_first=True, dropout=0.1, bidirectional=True,
                        proj_size=2)) == ("LSTM(3, 4, proj_size=2, num_layers=2, batch_first=True, "
                                          "dropout=0.1, bidirectional=True)")
    assert repr(nn.RNN(3, 4, nonlinearity="relu", bias=False)) == \
        "RNN(3, 4, nonlinearity='relu', bias=False)"


# --- against PyTorch ---------------------------------------------------------------------
options = st.fixed_dictionaries({
    "kind": st.sampled_from(["RNN", "LSTM", "GRU"]),
    "num_layers": st.integers(1, 2),
    "bidirectional": st.booleans(),
    "batch_first": st.booleans(),
    "bias": st.booleans(),
    "proj": st.booleans(),
    "relu": st.booleans(),
    "unbatched": st.booleans(),
    "with_state": st.booleans(),
    "steps": st.integers(1, 3),
    "batch": st.integers(1, 3),
    "float32": st.booleans(),
    "seed": st.integers(0, 2 ** 16),
})


@pytest.mark.filterwarnings("ignore:LSTM with projections is not supported with oneDNN")
@settings(max_examples=25)
@given(options)
def test_against_pytorch(o):
    torch = pytest.importorskip("torch", exc_type=ImportError)
    kwargs = dict(num_layers=o["num_layers"], bias=o["bias"], batch_first=o["batch_first"],
                  bidirectional=o["bidirectional"])
    if o["kind"] == "LSTM" and o["proj"]:
        kwargs["proj_size"] = 2
    if o["kind"] == "RNN" and o["relu"]:
        kwargs["nonlinearity"] = "relu"
    torch.manual_seed(o["seed"])
    theirs = getattr(torch.nn, o["kind"])(3, 4, **kwargs)
    ours = KINDS[o["kind"]](3, 4, **kwargs)
    dtype = np.float32 if o["float32"] else np.float64
    theirs.to(getattr(torch, np.dtype(dtype).name))
    ours.to(dtype)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    assert list(ours.state_dict()) == list(theirs.state_dict())

    rng = np.random.default_rng(o["seed"])
    n, length, layers = o["batch"], o["steps"], o["num_layers"] * (2 if o["bidirectional"] else 1)
    x = rng.normal(size=(n, length, 3) if o["batch_first"] else (length, n, 3)).astype(dtype)
    if o["unbatched"]:
        x = x[0] if o["batch_first"] else x[:, 0]
    state_shape = (layers,) if o["unbatched"] else (layers, n)
    states = []
    if o["with_state"]:
        states = [rng.normal(size=state_shape + (kwargs.get("proj_size") or 4,)).astype(dtype)]
        if o["kind"] == "LSTM":
            states.append(rng.normal(size=state_shape + (4,)).astype(dtype))

    leaves_ours = [Value(a) for a in [x] + states]
    leaves_theirs = [torch.tensor(a, requires_grad=True) for a in [x] + states]

    def call(model, leaves):
        hx = None if len(leaves) == 1 else tuple(leaves[1:]) if o["kind"] == "LSTM" else leaves[1]
        output, finals = model(leaves[0], hx)
        return [output] + (list(finals) if o["kind"] == "LSTM" else [finals])

    outs_ours, outs_theirs = call(ours, leaves_ours), call(theirs, leaves_theirs)
    weights = [rng.normal(size=out.shape).astype(dtype) for out in outs_ours]
    sum((out * w).sum() for out, w in zip(outs_ours, weights)).backward()
    sum((out * torch.tensor(w)).sum() for out, w in zip(outs_theirs, weights)).backward()

    tol = dict(rtol=1e-5, atol=1e-5) if o["float32"] else dict(rtol=1e-10, atol=1e-12)
    for out, expected in zip(outs_ours, outs_theirs):
        assert out.dtype == dtype
        np.testing.assert_allclose(out.data, expected.detach().numpy(), **tol)
    for (name, p), (_, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(p.grad, tp.grad.numpy(), err_msg=name, **tol)
    for leaf, expected in zip(leaves_ours, leaves_theirs):
        np.testing.assert_allclose(leaf.grad, expected.grad.numpy(), **tol)


def test_dropout_one_matches_pytorch(rng):
    torch = pytest.importorskip("torch", exc_type=ImportError)
    theirs = torch.nn.LSTM(2, 3, num_layers=3, dropout=1.0).double()  # a mask that is certain
    ours = nn.LSTM(2, 3, num_layers=3, dropout=1.0)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x = rng.normal(size=(4, 2, 2))
    expected = theirs(torch.tensor(x))[0].detach().numpy()
    np.testing.assert_allclose(ours(x)[0].data, expected, rtol=1e-12)

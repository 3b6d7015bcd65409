"""Conv2d's and the pools' options: dilation, groups, "same"/"valid", padding modes, ceil_mode,
return_indices, count_include_pad, adaptive sizes, unbatched input, and clear errors.

Known answers from numpy first (no PyTorch needed), then option combinations hypothesis
draws against PyTorch with copied weights: outputs, the input's gradient and every
parameter's gradient to 1e-10 in float64 and 1e-5 in float32.
"""
import re

import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st

import nn
from autograd_lite import Value, gradcheck


def numpy_conv(x, w, stride=1, dilation=1):
    """Cross-correlation of (C, H, W) x with (O, C, KH, KW) w, by loops over the output."""
    o, c, kh, kw = w.shape
    oh = (x.shape[1] - dilation * (kh - 1) - 1) // stride + 1
    ow = (x.shape[2] - dilation * (kw - 1) - 1) // stride + 1
    out = np.zeros((o, oh, ow))
    for i in range(oh):
        for j in range(ow):
            patch = x[:, i * stride:i * stride + dilation * (kh - 1) + 1:dilation,
                      j * stride:j * stride + dilation * (kw - 1) + 1:dilation]
            out[:, i, j] = (w * patch).sum(axis=(1, 2, 3))
    return out


def test_dilated_grouped_reflect_padded_conv_by_hand(rng):
    conv = nn.Conv2d(4, 6, 3, stride=2, padding=2, dilation=2, groups=2, padding_mode="reflect")
    x = rng.normal(size=(4, 9, 8))  # unbatched
    padded = np.pad(x, ((0, 0), (2, 2), (2, 2)), mode="reflect")
    w, b = conv.weight.data, conv.bias.data
    expected = np.concatenate([numpy_conv(padded[:2], w[:3], 2, 2),
                               numpy_conv(padded[2:], w[3:], 2, 2)]) + b[:, None, None]
    out = conv(x)
    np.testing.assert_allclose(out.data, expected, rtol=1e-12, atol=1e-12)
    assert conv(x[None]).shape == (1,) + out.shape


@pytest.mark.parametrize("mode, numpy_mode", [("zeros", "constant"), ("reflect", "reflect"),
                                               ("replicate", "edge"), ("circular", "wrap")])
def test_same_padding_keeps_the_size_and_pads_as_numpy(rng, mode, numpy_mode):
    conv = nn.Conv2d(2, 3, (4, 3), padding="same", dilation=(1, 2), padding_mode=mode)
    x = rng.normal(size=(1, 2, 6, 7))
    out = conv(x)
    assert out.shape == (1, 3, 6, 7)
    # total padding 3 rows (1 above, 2 below, PyTorch's split) and 4 columns (2 and 2)
    padded = np.pad(x[0], ((0, 0), (1, 2), (2, 2)), mode=numpy_mode)
    columns_dilated = np.zeros((3, 2, 4, 5))
    columns_dilated[:, :, :, ::2] = conv.weight.data  # a (1, 2) dilation spreads the columns
    expected = numpy_conv(padded, columns_dilated) + conv.bias.data[:, None, None]
    np.testing.assert_allclose(out.data[0], expected, rtol=1e-12, atol=1e-12)


def test_depthwise_conv_is_one_filter_per_channel(rng):
    conv = nn.Conv2d(3, 3, 3, groups=3, bias=False)
    x = rng.normal(size=(2, 3, 5, 5))
    out = conv(x)
    for c in range(3):
        single = nn.Conv2d(1, 1, 3, bias=False)
        single.weight.data = conv.weight.data[c:c + 1]
        np.testing.assert_allclose(out.data[:, c:c + 1], single(x[:, c:c + 1]).data, rtol=1e-12)


def test_pad_matches_numpy_for_every_mode(rng):
    x = rng.normal(size=(2, 3, 4))
    for mode, numpy_mode in [("reflect", "reflect"), ("replicate", "edge"), ("circular", "wrap")]:
        np.testing.assert_array_equal(nn.pad(Value(x), (1, 2, 2, 0), mode=mode).data,
                                      np.pad(x, ((0, 0), (2, 0), (1, 2)), mode=numpy_mode))
    np.testing.assert_array_equal(nn.pad(Value(x), (2, 1), value=-1.5).data,
                                  np.pad(x, ((0, 0), (0, 0), (2, 1)), constant_values=-1.5))
    v = Value(x)
    assert gradcheck(lambda a: nn.pad(a, (2, 2, 1, 1), mode="reflect") ** 2, [v])


def test_pools_by_hand():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    out, indices = nn.MaxPool2d(3, stride=2, padding=1, return_indices=True)(x)
    np.testing.assert_array_equal(out.data[0, 0], [[5, 7], [13, 15]])
    np.testing.assert_array_equal(indices[0, 0], [[5, 7], [13, 15]])  # flat index = value here
    ceil = nn.MaxPool2d(3, stride=2, ceil_mode=True)(x)               # a partial last window
    np.testing.assert_array_equal(ceil.data[0, 0], [[10, 11], [14, 15]])
    avg = nn.AvgPool2d(2, stride=2, padding=1)(x)                     # padding counts as 0s
    np.testing.assert_allclose(avg.data[0, 0, 0], [0 / 4, (1 + 2) / 4, 3 / 4])
    avg = nn.AvgPool2d(2, stride=2, padding=1, count_include_pad=False)(x)
    np.testing.assert_allclose(avg.data[0, 0, 0], [0, 1.5, 3])
    np.testing.assert_allclose(nn.AdaptiveAvgPool2d(1)(x).data, x.mean().reshape(1, 1, 1, 1))
    uneven = nn.AdaptiveAvgPool2d((3, None))(x).data[0, 0]            # rows 0-1, 1-2, 2-3
    np.testing.assert_allclose(uneven, [x[0, 0, 0:2].mean(0), x[0, 0, 1:3].mean(0),
                                        x[0, 0, 2:4].mean(0)])


@pytest.mark.parametrize("make, message", [
    (lambda: nn.Conv2d(4, 6, 3, groups=3), "Conv2d: in_channels must be divisible by groups "
                                           "(in_channels=4, groups=3)"),
    (lambda: nn.Conv2d(4, 6, 3, groups=4), "Conv2d: out_channels must be divisible by groups"),
    (lambda: nn.Conv2d(2, 2, 3, stride=2, padding="same"),
     "Conv2d: padding='same' is not supported for strided convolutions"),
    (lambda: nn.Conv2d(2, 2, 3, padding="full"), "Conv2d: invalid padding string 'full'"),
    (lambda: nn.Conv2d(2, 2, 3, padding_mode="mirror"), "Conv2d: padding_mode must be one of"),
    (lambda: nn.Conv2d(2, 2, 3, dilation=0), "Conv2d: dilation must be positive"),
    (lambda: nn.MaxPool2d(3, padding=2)(np.zeros((1, 1, 5, 5))),
     "max_pool2d: pad should be at most half of effective kernel size, but got pad=2"),
    (lambda: nn.Conv2d(2, 2, 3, padding=3, padding_mode="reflect")(np.zeros((1, 2, 3, 3))),
     "pad: reflect padding (3, 3) must be less than the size 3"),
    (lambda: nn.Conv2d(2, 2, 3)(np.zeros((1, 3, 5, 5))),
     "Conv2d(2→2): expected input of shape (N, 2, H, W), got shape (1, 3, 5, 5)"),
    (lambda: nn.Conv2d(2, 2, 3, dilation=3)(np.zeros((1, 2, 5, 5))),
     "conv2d: kernel 3x3 with dilation (3, 3) covers 7x7, larger than the padded input 5x5"),
])
def test_what_pytorch_rejects_is_a_clear_error(make, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        make()


def test_repr_is_pytorchs():
    assert repr(nn.MaxPool2d(3, 2, 1, 2, ceil_mode=True)) == \
        "MaxPool2d(kernel_size=3, stride=2, padding=1, dilation=2, ceil_mode=True)"
    assert repr(nn.Conv2d(2, 4, 3, padding="same", groups=2, padding_mode="reflect")) == \
        "Conv2d(2, 4, kernel_size=(3, 3), stride=(1, 1), padding=same, groups=2, " \
        "padding_mode=reflect)"


# --- against PyTorch ---------------------------------------------------------------------
def run_both(ours, theirs, x, float32, torch):
    dtype = np.float32 if float32 else np.float64
    theirs.to(getattr(torch, np.dtype(dtype).name))
    ours.to(dtype)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x = x.astype(dtype)
    x_ours, x_theirs = Value(x), torch.tensor(x, requires_grad=True)
    out, expected = ours(x_ours), theirs(x_theirs)
    if isinstance(out, tuple):
        np.testing.assert_array_equal(out[1], expected[1].numpy())  # return_indices
        out, expected = out[0], expected[0]
    weights = np.random.default_rng(0).normal(size=out.shape).astype(dtype)
    (out * weights).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    tol = dict(rtol=1e-5, atol=1e-5) if float32 else dict(rtol=1e-10, atol=1e-12)
    assert out.dtype == dtype
    np.testing.assert_allclose(out.data, expected.detach().numpy(), **tol)
    np.testing.assert_allclose(x_ours.grad, x_theirs.grad.numpy(), **tol)
    for (name, p), (_, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(p.grad, tp.grad.numpy(), err_msg=name, **tol)


pairs = st.tuples(st.integers(1, 3), st.integers(1, 3))


@settings(max_examples=40)
@given(groups=st.sampled_from([1, 2, 3]), per_group=st.tuples(st.integers(1, 2), st.integers(1, 2)),
       kernel=pairs, stride=st.sampled_from([1, 2, (1, 2)]), dilation=st.sampled_from([1, 2, (2, 1)]),
       padding=st.sampled_from([0, 1, (2, 1), "same", "valid"]),
       padding_mode=st.sampled_from(["zeros", "reflect", "replicate", "circular"]),
       bias=st.booleans(), unbatched=st.booleans(), float32=st.booleans(),
       seed=st.integers(0, 2 ** 16))
def test_conv2d_against_pytorch(groups, per_group, kernel, stride, dilation, padding, padding_mode,
                                bias, unbatched, float32, seed):
    torch = pytest.importorskip("torch", exc_type=ImportError)
    assume(not (padding == "same" and stride != 1))
    cin, cout = groups * per_group[0], groups * per_group[1]
    args = (cin, cout, kernel, stride, padding, dilation, groups, bias, padding_mode)
    torch.manual_seed(seed)
    x = np.random.default_rng(seed).normal(size=(cin, 6, 7) if unbatched else (2, cin, 6, 7))
    run_both(nn.Conv2d(*args), torch.nn.Conv2d(*args), x, float32, torch)


@settings(max_examples=30)
@given(kernel=pairs, stride=st.sampled_from([None, 1, 2, (2, 1)]), padding=st.sampled_from([0, 1]),
       dilation=st.sampled_from([1, 2]), ceil_mode=st.booleans(), return_indices=st.booleans(),
       unbatched=st.booleans(), float32=st.booleans(), seed=st.integers(0, 2 ** 16))
def test_max_pool2d_against_pytorch(kernel, stride, padding, dilation, ceil_mode, return_indices,
                                    unbatched, float32, seed):
    torch = pytest.importorskip("torch", exc_type=ImportError)
    assume(padding <= (dilation * (min(kernel) - 1) + 1) // 2)
    args = (kernel, stride, padding, dilation, return_indices, ceil_mode)
    x = np.random.default_rng(seed).normal(size=(2, 5, 7) if unbatched else (2, 2, 5, 7))
    run_both(nn.MaxPool2d(*args), torch.nn.MaxPool2d(*args), x, float32, torch)


@settings(max_examples=30)
@given(kernel=pairs, stride=st.sampled_from([None, 1, 2]), padding=st.sampled_from([0, 1]),
       ceil_mode=st.booleans(), count_include_pad=st.booleans(),
       divisor_override=st.sampled_from([None, 2]), unbatched=st.booleans(),
       float32=st.booleans(), seed=st.integers(0, 2 ** 16))
def test_avg_pool2d_against_pytorch(kernel, stride, padding, ceil_mode, count_include_pad,
                                    divisor_override, unbatched, float32, seed):
    torch = pytest.importorskip("torch", exc_type=ImportError)
    assume(padding <= min(kernel) // 2)
    args = (kernel, stride, padding, ceil_mode, count_include_pad, divisor_override)
    x = np.random.default_rng(seed).normal(size=(2, 5, 7) if unbatched else (2, 2, 5, 7))
    run_both(nn.AvgPool2d(*args), torch.nn.AvgPool2d(*args), x, float32, torch)


@pytest.mark.parametrize("size", [1, 2, (3, None), (5, 7), (4, 3), (1, 6)])
@pytest.mark.parametrize("float32", [False, True])
def test_adaptive_avg_pool2d_against_pytorch(size, float32, rng):
    torch = pytest.importorskip("torch", exc_type=ImportError)
    run_both(nn.AdaptiveAvgPool2d(size), torch.nn.AdaptiveAvgPool2d(size),
             rng.normal(size=(2, 3, 5, 7)), float32, torch)

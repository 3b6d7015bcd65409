"""numpy_ops: each op's forward is numpy's own, its gradients are central differences'.

`CASES` describes every op once: how to call ours, numpy's and PyTorch's (None
where torch has no such op), how to draw inputs (hypothesis: small shapes,
broadcasting pairs for binary ops, values kept clear of kinks and poles) and
whether it is smooth enough for second derivatives. The parity and fuzz files
(test_numpy_ops_torch_parity.py, test_numpy_ops_fuzz.py) reuse it.
"""
from collections import namedtuple

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from autograd_lite import Value, grad, gradcheck, gradgradcheck, numpy_ops as N

Case = namedtuple("Case", ["ours", "numpy", "torch", "draw", "smooth"])
CASES = {}


def few(divisor):
    """A fraction of the profile's examples (20 of CI's 40 for divisor 2); scales with it."""
    return settings(max_examples=max(2, settings.default.max_examples // divisor))


def as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def case(name, ours, numpy, torch, draw, smooth=True):
    CASES[name] = Case(ours, numpy, torch, draw, smooth)


# --- drawing inputs ---------------------------------------------------------------------
def rng_of(data):
    return np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))


def shape_of(data, min_dims=0, max_dims=3, min_side=1, max_side=3):
    return data.draw(hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                                      max_side=max_side), label="shape")


def uniform(low, high):
    """Values in [low, high) of a drawn shape."""
    return lambda data: ([rng_of(data).uniform(low, high, shape_of(data))], {})


def away_from_zero(rng, shape, low=0.3, high=2.0):
    return rng.uniform(low, high, shape) * rng.choice([-1.0, 1.0], shape)


def pair(make_a, make_b):
    """Two inputs of mutually broadcastable shapes."""
    def draw(data):
        shapes = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3),
                           label="shapes").input_shapes
        rng = rng_of(data)
        return [make_a(rng, shapes[0]), make_b(rng, shapes[1])], {}
    return draw


def axis_of(data, ndim, allow_none=True, allow_tuple=True):
    choices = ([None] if allow_none else []) + list(range(-ndim, ndim))
    if allow_tuple and ndim >= 2:
        choices += [(0, ndim - 1), (-1,)]
    return data.draw(st.sampled_from(choices), label="axis")


def with_zeros(rng, x, data):
    """x with 0 to 3 of its elements set to exactly zero (one, or several in a slice)."""
    x = np.array(x)
    count = data.draw(st.integers(0, min(3, x.size)), label="zeros")
    x.reshape(-1)[rng.choice(x.size, count, replace=False)] = 0.0
    return x


# --- elementwise functions of one input -------------------------------------------------
DOMAINS = {"tan": (-1.2, 1.2), "sinh": (-2, 2), "cosh": (-2, 2), "arcsin": (-0.9, 0.9),
           "arccos": (-0.9, 0.9), "arctan": (-3, 3), "arcsinh": (-3, 3), "arccosh": (1.2, 3),
           "arctanh": (-0.9, 0.9), "log2": (0.2, 3), "log10": (0.2, 3), "log1p": (-0.8, 3),
           "exp2": (-2, 2), "expm1": (-2, 2), "square": (-2, 2)}
for _name, (_low, _high) in DOMAINS.items():
    case(_name, getattr(N, _name), getattr(np, _name),
         lambda torch, x, _name=_name: getattr(torch, _name)(x), uniform(_low, _high))


def _unary(make):
    def draw(data):
        return [make(rng_of(data), shape_of(data))], {}
    return draw


case("reciprocal", N.reciprocal, np.reciprocal, lambda torch, x: torch.reciprocal(x),
     _unary(away_from_zero))
case("sign", N.sign, np.sign, lambda torch, x: torch.sign(x), _unary(away_from_zero))
for _name in ("floor", "ceil"):  # kept 0.1 away from the integers where they jump
    case(_name, getattr(N, _name), getattr(np, _name),
         lambda torch, x, _name=_name: getattr(torch, _name)(x),
         _unary(lambda rng, shape: rng.integers(-3, 3, shape) + rng.uniform(0.1, 0.9, shape)))

# --- elementwise functions of two inputs, broadcasting -----------------------------------
case("arctan2", N.arctan2, np.arctan2, lambda torch, a, b: torch.arctan2(a, b),
     pair(away_from_zero, away_from_zero))  # clear of the origin and of the cut at a = 0, b < 0
case("hypot", N.hypot, np.hypot, lambda torch, a, b: torch.hypot(a, b),
     pair(away_from_zero, lambda rng, s: rng.uniform(-2, 2, s)))
case("logaddexp", N.logaddexp, np.logaddexp, lambda torch, a, b: torch.logaddexp(a, b),
     pair(lambda rng, s: rng.uniform(-3, 3, s), lambda rng, s: rng.uniform(-3, 3, s)))
_quarter = lambda rng, s: rng.integers(-4, 4, s) * 0.5 + 0.25  # never within 0.25 of
_half = lambda rng, s: rng.integers(-4, 4, s) * 0.5            # the other: no ties
for _name in ("fmax", "fmin"):
    case(_name, getattr(N, _name), getattr(np, _name),
         lambda torch, a, b, _name=_name: getattr(torch, _name)(a, b), pair(_quarter, _half))
# a / b stays >= 0.08 from the integers where mod jumps
case("mod", N.mod, np.mod, lambda torch, a, b: torch.remainder(a, b),
     pair(lambda rng, s: rng.integers(-4, 4, s) * 0.5 + 0.2,
          lambda rng, s: rng.choice([-1.5, 1.0, 2.5], s)))


# --- reductions -------------------------------------------------------------------------
def _torch_reduce(fn):
    """PyTorch's one-dim reduction over numpy's axis (None, an int or a tuple)."""
    def run(torch, x, axis=None, keepdims=False):
        dims = range(x.ndim) if axis is None else [axis] if isinstance(axis, int) else axis
        dims = sorted({d % max(x.ndim, 1) for d in dims}, reverse=True)
        out = x
        for d in dims:
            out = fn(out, d, keepdim=True) if x.ndim else out
        return out if keepdims else out.reshape([n for k, n in enumerate(out.shape)
                                                 if k not in dims])
    return run


def _draw_prod(data):
    rng = rng_of(data)
    x = with_zeros(rng, rng.uniform(-2, 2, shape_of(data)), data)
    return [x], {"axis": axis_of(data, x.ndim), "keepdims": data.draw(st.booleans())}


case("prod", N.prod, np.prod, _torch_reduce(lambda t, d, keepdim: t.prod(d, keepdim=keepdim)),
     _draw_prod)  # a polynomial: finite differences are exact at zeros too, to second order


def _cumulative(zeros):
    def draw(data):
        rng = rng_of(data)
        x = rng.uniform(-2, 2, shape_of(data, min_dims=1))
        x = with_zeros(rng, x, data) if zeros else x
        return [x], {"axis": axis_of(data, x.ndim, allow_tuple=False)}
    return draw


def _torch_cumulative(name):
    def run(torch, x, axis=None):
        return getattr(torch, name)(x.reshape(-1) if axis is None else x, 0 if axis is None else axis)
    return run


case("cumsum", N.cumsum, np.cumsum, _torch_cumulative("cumsum"), _cumulative(zeros=False))
case("cumprod", N.cumprod, np.cumprod, _torch_cumulative("cumprod"), _cumulative(zeros=True))


def _draw_std(data):
    x = rng_of(data).uniform(-2, 2, shape_of(data))
    axis = axis_of(data, x.ndim)
    count = x.size // max(np.sum(x, axis=axis).size, 1)
    return [x], {"axis": axis, "ddof": data.draw(st.sampled_from([0, 1] if count > 1 else [0])),
                 "keepdims": data.draw(st.booleans())}


case("std", N.std, np.std, lambda torch, x, axis, ddof, keepdims:
     torch.std(x, dim=axis, correction=ddof, keepdim=keepdims), _draw_std)


def _draw_norm(data):
    rng = rng_of(data)
    x = away_from_zero(rng, shape_of(data, min_dims=1))
    return [x], {"axis": axis_of(data, x.ndim), "ord": data.draw(
        st.sampled_from([2, 1, 3, 0.5, -1.5, np.inf, -np.inf, 0])), "keepdims": data.draw(st.booleans())}


case("vector_norm", N.vector_norm, np.linalg.vector_norm,
     lambda torch, x, axis, keepdims, ord: torch.linalg.vector_norm(x, ord, dim=axis, keepdim=keepdims),
     _draw_norm, smooth=False)  # smooth for ord 2 and 3; test_vector_norm_second_order has those


# --- products and diagonals ---------------------------------------------------------------
EINSUM = ["ij,jk->ik", "ij,jk", "ii->i", "ii", "ij->", "ij->ji", "i,i", "i,j->ij", "bij,bjk->bik",
          "ijk,ik->j", "iij->j", "ij,ij,ij->", "a,ab,b", "ij,k->k", "...ij,...jk->...ik",
          "...i,...i", "i...->...", "i...,...->i..."]


def _draw_einsum(data):
    subscripts = data.draw(st.sampled_from(EINSUM), label="subscripts")
    inputs = subscripts.split("->")[0].split(",")
    sizes = {c: data.draw(st.integers(1, 3), label=c) for c in sorted(set("".join(inputs)) - {"."})}
    batch = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=len(inputs), max_dims=2,
                                                        max_side=3)).input_shapes
    rng = rng_of(data)
    shapes = [(batch[k] if "..." in s else ()) for k, s in enumerate(inputs)]
    shapes = [tuple(sizes[c] for c in s.split("...")[0]) + shape
              + tuple(sizes[c] for c in (s.split("...")[1] if "..." in s else ""))
              for s, shape in zip(inputs, shapes)]
    return [rng.uniform(-2, 2, s) for s in shapes], {"subscripts": subscripts}


case("einsum", lambda *xs, subscripts: N.einsum(subscripts, *xs),
     lambda *xs, subscripts: np.einsum(subscripts, *xs),
     lambda torch, *xs, subscripts: torch.einsum(subscripts, *xs), _draw_einsum)


def _draw_einsum_sublists(data):
    n, m, k = (data.draw(st.integers(1, 3)) for _ in range(3))
    rng = rng_of(data)
    return [rng.normal(size=(n, m)), rng.normal(size=(m, k))], {}


case("einsum (sublists)", lambda a, b: N.einsum(a, [0, 1], b, [1, 2], [0, 2]),
     lambda a, b: np.einsum(a, [0, 1], b, [1, 2], [0, 2]),
     lambda torch, a, b: torch.einsum(a, [0, 1], b, [1, 2], [0, 2]), _draw_einsum_sublists)


def _draw_tensordot(data):
    rng = rng_of(data)
    a_shape = shape_of(data, min_dims=1)
    if data.draw(st.booleans(), label="int axes"):
        k = data.draw(st.integers(0, len(a_shape)))
        b_shape = a_shape[len(a_shape) - k:] + shape_of(data, max_dims=2)
        axes = k
    else:  # a's listed axes against b's, in any positions
        a_axes = data.draw(st.lists(st.integers(0, len(a_shape) - 1), unique=True, max_size=2))
        extra = list(shape_of(data, max_dims=2))
        b_axes = data.draw(st.permutations(range(len(a_axes) + len(extra))))[:len(a_axes)]
        b_shape = extra
        for pos, ax in sorted(zip(b_axes, a_axes)):
            b_shape.insert(pos, a_shape[ax])
        axes = (list(a_axes), list(b_axes))
    return [rng.normal(size=a_shape), rng.normal(size=tuple(b_shape))], {"axes": axes}


case("tensordot", N.tensordot, np.tensordot,
     lambda torch, a, b, axes: torch.tensordot(a, b, dims=axes), _draw_tensordot)


def _draw_two(min_dims=0):
    def draw(data):
        rng = rng_of(data)
        return [rng.normal(size=shape_of(data, min_dims)), rng.normal(size=shape_of(data, min_dims))], {}
    return draw


case("outer", N.outer, np.outer, lambda torch, a, b: torch.outer(a.reshape(-1), b.reshape(-1)),
     _draw_two())
case("kron", N.kron, np.kron, lambda torch, a, b: torch.kron(a, b), _draw_two())


def _draw_diagonal(data):
    x = rng_of(data).normal(size=shape_of(data, min_dims=2, max_side=4))
    axis1, axis2 = data.draw(st.permutations(range(-x.ndim, 0)))[:2]
    return [x], {"offset": data.draw(st.integers(-2, 2)), "axis1": axis1, "axis2": axis2}


case("trace", N.trace, np.trace, lambda torch, x, offset, axis1, axis2:
     torch.diagonal(x, offset, axis1, axis2).sum(-1), _draw_diagonal)
case("diagonal", N.diagonal, np.diagonal, lambda torch, x, offset, axis1, axis2:
     torch.diagonal(x, offset, axis1, axis2), _draw_diagonal)


def _draw_diag(data):
    x = rng_of(data).normal(size=shape_of(data, min_dims=1, max_dims=2))
    return [x], {"k": data.draw(st.integers(-2, 2))}


case("diag", N.diag, np.diag, lambda torch, x, k: torch.diag(x, k), _draw_diag)


def _draw_triangle(data):
    x = rng_of(data).normal(size=shape_of(data, min_dims=1))
    return [x], {"k": data.draw(st.integers(-2, 2))}


for _name in ("tril", "triu"):  # (numpy makes a 1-D input a square matrix; PyTorch refuses it)
    case(_name, getattr(N, _name), getattr(np, _name),
         lambda torch, x, k, _name=_name: getattr(torch, _name)(x, k) if x.ndim >= 2 else None,
         _draw_triangle)


# --- shapes -----------------------------------------------------------------------------
def _normal(data, **shape_options):
    return rng_of(data).normal(size=shape_of(data, **shape_options))


def _draw_squeeze(data):
    x = _normal(data)
    ones = [k for k, n in enumerate(x.shape) if n == 1]
    axis = data.draw(st.sampled_from([None] + [(k,) for k in ones] + [tuple(ones)]))
    return [x], {"axis": axis}


case("squeeze", N.squeeze, np.squeeze,
     lambda torch, x, axis: torch.squeeze(x) if axis is None else torch.squeeze(x, axis),
     _draw_squeeze)


def _draw_expand_dims(data):
    x = _normal(data)
    axis = data.draw(st.sampled_from([0, -1, x.ndim, (0, x.ndim + 1), (-1, 1)][:5 if x.ndim else 4]))
    return [x], {"axis": axis}


def _torch_expand_dims(torch, x, axis):
    axes = (axis,) if isinstance(axis, int) else axis
    n = x.ndim + len(axes)
    for a in sorted(a % n for a in axes):
        x = x.unsqueeze(a)
    return x


case("expand_dims", N.expand_dims, np.expand_dims, _torch_expand_dims, _draw_expand_dims)
case("ravel", N.ravel, np.ravel, lambda torch, x, order:
     (x if order == "C" else x.permute(tuple(reversed(range(x.ndim))))).reshape(-1),
     lambda data: ([_normal(data)], {"order": data.draw(st.sampled_from(["C", "F"]))}))


def _draw_moveaxis(data):
    x = _normal(data, min_dims=1)
    k = data.draw(st.integers(1, x.ndim))
    source = data.draw(st.permutations(range(x.ndim)))[:k]
    destination = data.draw(st.permutations(range(-x.ndim, 0)))[:k]
    return [x], {"source": source, "destination": destination}


case("moveaxis", N.moveaxis, np.moveaxis,
     lambda torch, x, source, destination: torch.moveaxis(x, source, destination), _draw_moveaxis)


def _draw_swapaxes(data):
    x = _normal(data, min_dims=1)
    axes = st.integers(-x.ndim, x.ndim - 1)
    return [x], {"axis1": data.draw(axes), "axis2": data.draw(axes)}


case("swapaxes", N.swapaxes, np.swapaxes,
     lambda torch, x, axis1, axis2: torch.swapaxes(x, axis1, axis2), _draw_swapaxes)


def _draw_repeat(data):
    x = _normal(data)
    axis = data.draw(st.sampled_from([None] + list(range(-x.ndim, x.ndim))))
    n = x.size if axis is None else x.shape[axis]
    repeats = data.draw(st.one_of(st.integers(0, 3), st.lists(st.integers(0, 3), min_size=n,
                                                              max_size=n)))
    return [x], {"repeats": repeats, "axis": axis}


case("repeat", N.repeat, np.repeat, lambda torch, x, repeats, axis:
     torch.repeat_interleave(x, torch.as_tensor(repeats), dim=axis), _draw_repeat)


def _draw_tile(data):
    reps = data.draw(st.one_of(st.integers(1, 3), st.lists(st.integers(1, 3), max_size=3)))
    return [_normal(data)], {"reps": reps if isinstance(reps, int) else tuple(reps)}


case("tile", N.tile, np.tile,
     lambda torch, x, reps: torch.tile(x, (reps,) if isinstance(reps, int) else reps), _draw_tile)


def _draw_pad(data):
    x = _normal(data, min_dims=1)
    mode = data.draw(st.sampled_from(["constant", "edge", "reflect", "symmetric", "wrap"]))
    width = data.draw(st.one_of(st.integers(0, 2), st.lists(
        st.tuples(st.integers(0, 2), st.integers(0, 2)), min_size=x.ndim, max_size=x.ndim)))
    options = {"mode": mode}
    if mode == "constant" and data.draw(st.booleans()):
        options["constant_values"] = data.draw(st.sampled_from([1.5, -2.0]))
    return [x], {"pad_width": width, **options}


def _torch_pad(torch, x, pad_width, mode, constant_values=0.0):
    if mode != "constant":
        return None  # (PyTorch pads only trailing dims of batches in its other modes)
    widths = np.broadcast_to(np.asarray(pad_width), (x.ndim, 2))
    flat = [int(v) for lo_hi in widths[::-1] for v in lo_hi]
    return torch.nn.functional.pad(x, flat, value=constant_values)


case("pad", N.pad, np.pad, _torch_pad, _draw_pad)


def _draw_flip(data):
    x = _normal(data, min_dims=1)
    return [x], {"axis": axis_of(data, x.ndim)}


case("flip", N.flip, np.flip, lambda torch, x, axis:
     torch.flip(x, tuple(range(x.ndim)) if axis is None else
                (axis,) if isinstance(axis, int) else axis), _draw_flip)


def _draw_roll(data):
    x = _normal(data, min_dims=1)
    axis = axis_of(data, x.ndim)
    shift = data.draw(st.integers(-4, 4)) if not isinstance(axis, tuple) else \
        tuple(data.draw(st.integers(-4, 4)) for _ in axis)
    return [x], {"shift": shift, "axis": axis}


case("roll", N.roll, np.roll,
     lambda torch, x, shift, axis: torch.roll(x, shift, axis), _draw_roll)


def _draw_split(how):
    def draw(data):
        x = _normal(data, min_dims=3 if how == "dsplit" else 2 if how == "vsplit" else 1,
                    max_side=4)
        axis = {"vsplit": 0, "hsplit": 1 if x.ndim > 1 else 0, "dsplit": 2}.get(
            how, data.draw(st.integers(-x.ndim, x.ndim - 1)))
        n = x.shape[axis]
        if how == "array_split" and data.draw(st.booleans()):
            sections = data.draw(st.lists(st.integers(0, n), max_size=3).map(sorted))
        elif how == "array_split":
            sections = data.draw(st.integers(1, 4))
        else:  # split and its variants: sections that divide the axis
            sections = data.draw(st.sampled_from([d for d in range(1, n + 1) if n % d == 0]))
        options = {"indices_or_sections": sections}
        return [x], ({**options, "axis": axis} if how in ("split", "array_split") else options)
    return draw


for _name in ("split", "array_split", "vsplit", "hsplit", "dsplit"):
    case(_name, getattr(N, _name), getattr(np, _name),
         lambda torch, x, indices_or_sections, axis=None, _name=_name: torch.tensor_split(
             x, indices_or_sections, dim={"vsplit": 0, "hsplit": 1 if x.ndim > 1 else 0,
                                          "dsplit": 2}.get(_name, axis)),
         _draw_split(_name))


def _draw_sort(data):
    x = _normal(data, min_dims=1)  # continuous values: no ties
    return [x], {"axis": data.draw(st.sampled_from([-1, 0, None])),
                 "kind": data.draw(st.sampled_from([None, "stable", "heapsort"]))}


case("sort", N.sort, np.sort, lambda torch, x, axis, kind:
     torch.sort(x.reshape(-1) if axis is None else x, dim=0 if axis is None else axis).values,
     _draw_sort)


# --- the checks -------------------------------------------------------------------------
def check_forward(name, arrays, options):
    """Ours on values: numpy's values exactly (and dtype and shape); on plain arrays: numpy's."""
    ours, theirs = CASES[name].ours, CASES[name].numpy
    expected = as_list(theirs(*arrays, **options))
    got = as_list(ours(*[Value(a) for a in arrays], **options))
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert isinstance(g, Value) and g.requires_grad
        assert g.shape == np.shape(e) and g.dtype == np.asarray(e).dtype, name
        np.testing.assert_array_equal(g.data, e, err_msg=name)
    for g, e in zip(as_list(ours(*arrays, **options)), expected):
        assert not isinstance(g, Value)
        np.testing.assert_array_equal(g, e)


@pytest.mark.parametrize("name", sorted(CASES))
@few(2)
@given(data=st.data())
def test_forward_is_numpys_and_gradients_are_finite_differences(name, data):
    arrays, options = CASES[name].draw(data)
    check_forward(name, arrays, options)
    values = [Value(a) for a in arrays]
    fn = lambda *xs: CASES[name].ours(*xs, **options)
    assert gradcheck(fn, values)
    if CASES[name].smooth:
        assert gradgradcheck(fn, values, atol=1e-5, rtol=1e-4)


@few(8)
@given(data=st.data(), ord=st.sampled_from([2, 3]))
def test_vector_norm_second_order(data, ord):
    x = away_from_zero(rng_of(data), shape_of(data, min_dims=1))
    axis = axis_of(data, x.ndim)
    assert gradgradcheck(lambda v: N.vector_norm(v, axis=axis, ord=ord), [Value(x)])


# --- known answers ------------------------------------------------------------------------
def test_prod_gradient_with_one_zero_is_the_product_of_the_others():
    x = Value([2.0, 0.0, 3.0, -1.5])
    N.prod(x).backward()
    np.testing.assert_array_equal(x.grad, [0.0, -9.0, 0.0, 0.0])


def test_prod_gradient_with_two_zeros_is_zero_and_its_second_derivative_is_not():
    x = Value([2.0, 0.0, 3.0, 0.0])
    (g,) = grad(N.prod(x), x, create_graph=True)
    np.testing.assert_array_equal(g.data, np.zeros(4))
    (h,) = grad(g[1], x)  # d/dx3 of (x0 x2 x3) = x0 x2 = 6
    np.testing.assert_array_equal(h.data, [0.0, 0.0, 0.0, 6.0])


def test_prod_over_rows_with_zeros_in_some():
    x = Value([[1.0, 2.0, 3.0], [0.0, 4.0, 5.0], [0.0, 0.0, 2.0]])
    N.prod(x, axis=1).sum().backward()
    np.testing.assert_array_equal(x.grad, [[6.0, 3.0, 2.0], [20.0, 0.0, 0.0], [0.0, 0.0, 0.0]])


def test_cumprod_gradient_at_zeros():
    # d/dx of sum(cumprod(x)) for x = (2, 0, 3, 0, 5): (1, 2 + 2*3, 0, 0, 0)
    x = Value([2.0, 0.0, 3.0, 0.0, 5.0])
    N.cumprod(x).sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0, 8.0, 0.0, 0.0, 0.0])


def test_std_gradient_at_zero_spread_is_zero_not_nan():
    x = Value([[1.5, 1.5, 1.5], [1.0, 2.0, 3.0]])
    N.std(x, axis=1).sum().backward()
    np.testing.assert_array_equal(x.grad[0], [0.0, 0.0, 0.0])
    np.testing.assert_allclose(x.grad[1], [-1, 0, 1] / (3 * np.std([1.0, 2.0, 3.0])))


def test_sort_gradient_follows_the_permutation():
    x = Value([3.0, 1.0, 2.0])
    (N.sort(x) * np.array([10.0, 20.0, 30.0])).sum().backward()
    np.testing.assert_array_equal(x.grad, [30.0, 10.0, 20.0])


def test_split_pieces_share_one_gradient():
    x = Value(np.arange(6.0))
    a, b, c = N.split(x, 3)
    (a.sum() + 2 * b.sum() + 3 * c.sum()).backward()
    np.testing.assert_array_equal(x.grad, [1, 1, 2, 2, 3, 3])


def test_floor_ceil_sign_have_zero_gradients():
    x = Value([-1.5, 0.3, 2.7])
    (N.floor(x) + N.ceil(x) + N.sign(x)).sum().backward()
    np.testing.assert_array_equal(x.grad, np.zeros(3))


def test_fmax_takes_the_number_where_the_other_is_nan():
    a, b = Value([np.nan, 1.0, 2.0]), Value([3.0, np.nan, 2.0])
    N.fmax(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad, [0.0, 1.0, 0.5])
    np.testing.assert_array_equal(b.grad, [1.0, 0.0, 0.5])


def test_vector_norm_gradient_at_zero_is_zero():
    x = Value(np.zeros((2, 3)))
    N.vector_norm(x, axis=1).sum().backward()
    np.testing.assert_array_equal(x.grad, np.zeros((2, 3)))


def test_astype_round_trip_gives_gradients_in_each_dtype():
    x = Value(np.array([1.0, 2.0]))
    y = N.astype(x, np.float32)
    assert y.dtype == np.float32
    (y * y).sum().backward()
    assert x.grad.dtype == np.float64
    np.testing.assert_array_equal(x.grad, [2.0, 4.0])


@pytest.mark.parametrize("name", ["tan", "arctan2", "cumprod", "einsum", "sort", "prod", "std",
                                  "vector_norm", "kron", "trace", "repeat", "pad"])
@few(20)
@given(data=st.data())
def test_float32_stays_float32(name, data):
    arrays, options = CASES[name].draw(data)
    values = [Value(a.astype(np.float32)) for a in arrays]
    out = CASES[name].ours(*values, **options)
    assert out.dtype == np.float32
    out.sum().backward()
    assert all(v.grad.dtype == np.float32 for v in values)


# --- value methods (PyTorch's names; numpy's axis/keepdims too) ---------------------------
M = N.VALUE_METHODS


def test_method_sum_takes_a_list_of_axes(rng):
    x = rng.normal(size=(2, 3, 4))
    v = Value(x)
    np.testing.assert_array_equal(v.sum(axis=[0, 2]).data, x.sum(axis=(0, 2)))
    np.testing.assert_array_equal(v.sum([0, 2], True).data, x.sum(axis=(0, 2), keepdims=True))
    v.sum([0, 2]).sum().backward()
    np.testing.assert_array_equal(v.grad, np.ones_like(x))


def test_method_prod_and_std(rng):
    x = rng.normal(size=(3, 4))
    v = Value(x)
    np.testing.assert_array_equal(M["prod"](v, dim=1, keepdim=True).data, x.prod(1, keepdims=True))
    np.testing.assert_array_equal(M["std"](v, 0).data, x.std(0))
    np.testing.assert_array_equal(M["std"](v, dim=1, correction=1).data, x.std(1, ddof=1))
    assert gradcheck(lambda a: M["std"](a, dim=[0, 1], correction=1), [v])


def test_method_norm(rng):
    x = rng.normal(size=(3, 4))
    v = Value(x)
    np.testing.assert_allclose(M["norm"](v).data, np.linalg.norm(x))
    np.testing.assert_array_equal(M["norm"](v, 1, dim=0).data, np.abs(x).sum(0))
    np.testing.assert_array_equal(M["norm"](v, np.inf, dim=[1], keepdim=True).data,
                                  np.abs(x).max(1, keepdims=True))
    assert gradcheck(lambda a: M["norm"](a, dim=1), [v])
    with pytest.raises(ValueError, match="nuc"):
        M["norm"](v, "nuc")


def test_method_clamp(rng):
    x = rng.uniform(-2, 2, size=(3, 4))
    v = Value(x)
    np.testing.assert_array_equal(M["clamp"](v, -0.5, 0.5).data, np.clip(x, -0.5, 0.5))
    np.testing.assert_array_equal(M["clamp"](v, max=0.25).data, np.minimum(x, 0.25))
    low = Value(np.full(4, -0.5))
    out = M["clamp"](v, min=low)
    np.testing.assert_array_equal(out.data, np.maximum(x, -0.5))
    out.sum().backward()
    np.testing.assert_array_equal(low.grad, (x < -0.5).sum(0))
    with pytest.raises(ValueError, match="at least one of min and max"):
        M["clamp"](v)


def test_method_squeeze_unsqueeze_permute_expand_view(rng):
    x = rng.normal(size=(1, 3, 1))
    v = Value(x)
    assert M["squeeze"](v).shape == (3,)
    assert M["squeeze"](v, 1).shape == (1, 3, 1)  # PyTorch: a dim that is not 1 stays
    assert M["squeeze"](v, (0, 2)).shape == (3,)
    with pytest.raises(ValueError):
        M["squeeze"](v, axis=1)  # numpy's axis=: it must be 1
    with pytest.raises(IndexError, match="squeeze"):
        M["squeeze"](v, 3)
    assert M["unsqueeze"](v, -1).shape == (1, 3, 1, 1)
    assert M["permute"](v, 2, 0, 1).shape == (1, 1, 3)
    assert M["permute"](v, (2, 0, 1)).shape == (1, 1, 3)
    with pytest.raises(ValueError, match="not an order"):
        M["permute"](v, 0, 0, 1)
    out = M["expand"](v, 2, -1, 3, 4)
    assert out.shape == (2, 1, 3, 4)
    np.testing.assert_array_equal(out.data, np.broadcast_to(x, (2, 1, 3, 4)))
    out.sum().backward()
    np.testing.assert_array_equal(v.grad, np.full((1, 3, 1), 8.0))
    with pytest.raises(ValueError, match="cannot expand"):
        M["expand"](v, 1, 4, 1)
    with pytest.raises(ValueError, match="new leading dim"):
        M["expand"](v, -1, 1, 3, 1)
    assert M["view"](v, 3, -1).shape == (3, 1)
    assert M["view"](v, (3,)).shape == (3,)
    with pytest.raises(TypeError, match="sizes must be ints"):
        M["view"](v, 1.5)


# --- bad input gets a clear error -----------------------------------------------------------
@pytest.mark.parametrize("call, error, message", [
    (lambda v: N.split(v, 4), ValueError, "do not divide axis 0 of length 6"),
    (lambda v: N.array_split(v, 0), ValueError, "must be positive"),
    (lambda v: N.vsplit(v, 2), ValueError, "at least 2 dimensions"),
    (lambda v: N.diag(v.reshape(1, 2, 3)), ValueError, "1-D or 2-D"),
    (lambda v: N.pad(v, 1, mode="mean"), ValueError, "mode 'mean'"),
    (lambda v: N.pad(v, ((1, 2), (3, 4))), ValueError, "does not fit a value of shape"),
    (lambda v: N.sort(v, order="x"), TypeError, "structured"),
    (lambda v: N.cumsum(v, out=np.zeros(6)), TypeError, "out= is not supported"),
    (lambda v: N.prod(v, dtype=np.float32), TypeError, "astype"),
    (lambda v: N.ravel(v, order="K"), ValueError, "'C' or 'F'"),
    (lambda v: N.std(v, ddof=1, correction=1), ValueError, "not both"),
    (lambda v: N.cumsum(v, axis=2), np.exceptions.AxisError, "cumsum"),
    (lambda v: N.einsum("ij->i", v), ValueError, "einsum"),
])
def test_bad_input_gets_a_clear_error(call, error, message):
    with pytest.raises(error, match=message):
        call(Value(np.arange(6.0)))

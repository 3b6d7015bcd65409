"""Changing a value in place: `v += x` and friends, and assignments to `.data`.

`v += x`, `-=`, `*=`, `/=` change the value in place while nothing is recorded,
as in PyTorch. The PyTorch update idiom, `with no_grad(): p -= lr * p.grad`,
must change the parameter itself: before, Python's fallback rebound the loop
variable to a new value and the parameter silently stayed as it was.

Changing `.data` that a live graph still needs fails loudly at backward. Every
assignment to `.data` (including `v.data -= ...`) bumps the value's version and
is numbered on the same count that numbers values as they are made; backward
raises when a value an op used was changed after the op ran. A graph that has
been released is never checked again. Copies and pickles keep this working.
"""
import copy
import gc
import operator
import pickle
import warnings
import weakref

import numpy as np
import pytest

import nn
from autograd_lite import Value, grad, no_grad


# --- in-place operators ----------------------------------------------------------------------
def test_the_pytorch_update_idiom_changes_the_parameters_themselves():
    w, b = Value(np.ones((2, 2))), Value(np.zeros(2))
    params = [w, b]
    ((Value(np.ones((3, 2)), requires_grad=False) @ w + b) ** 2).sum().backward()
    expected = [p.data - 0.1 * p.grad for p in params]
    arrays = [p.data for p in params]
    with no_grad():
        for p in params:
            p -= 0.1 * p.grad
    for p, array, want in zip(params, arrays, expected):
        assert p.data is array  # the same array, changed in place
        np.testing.assert_allclose(p.data, want)
        assert p._version == 1  # a change that backward can see, as with .data -= ...


@pytest.mark.parametrize("in_place, expected", [(operator.iadd, 5.0), (operator.isub, -1.0),
                                                (operator.imul, 6.0), (operator.itruediv, 2 / 3)])
def test_each_operator_changes_the_value_itself(in_place, expected):
    v = Value([2.0, 2.0], requires_grad=False)
    result = in_place(v, Value([3.0, 3.0], requires_grad=False))  # what `v += ...` runs
    assert result is v and v.data.tolist() == [expected, expected]


def test_while_recording_a_grad_side_gives_a_new_recorded_value_as_before():
    total = Value(0.0)  # a leaf that requires grad: changing it in place would lose the graph
    first = total
    x = Value(2.0)
    total += x * 3.0
    assert total is not first and first.item() == 0.0
    total.backward()
    assert x.grad == 3.0
    constant = Value(np.ones(2), requires_grad=False)  # no grad itself, but the other side has
    y = Value(np.ones(2))
    out = constant
    out += y
    assert out is not constant and constant.data.tolist() == [1.0, 1.0]
    out.sum().backward()
    np.testing.assert_array_equal(y.grad, [1.0, 1.0])


def test_an_in_place_change_to_a_saved_value_is_caught_by_backward():
    w = Value(np.ones(2))
    loss = (w * w).sum()
    with no_grad():
        w *= 2.0
    with pytest.raises(RuntimeError, match=r"op 'mul' was modified in place"):
        loss.backward()


def test_dtype_is_kept_and_a_growing_broadcast_names_the_operator_and_shapes():
    v = Value(np.ones(2, dtype=np.float32))
    with no_grad():
        v *= np.float64(3.0)
    assert v.dtype == np.float32 and v.data.tolist() == [3.0, 3.0]
    with pytest.raises(ValueError, match=r"\+=: cannot change a value of shape \(2,\) and dtype "
                                         r"float32 in place with shape \(3, 2\) and dtype float64"):
        with no_grad():
            v += np.ones((3, 2))
    assert v.data.tolist() == [3.0, 3.0] and v._version == 1  # the failed change changed nothing


def test_a_cast_numpy_refuses_is_a_type_error_naming_both_dtypes():
    counts = Value(np.array([1, 2]), requires_grad=False, dtype=np.int64)
    with pytest.raises(TypeError, match=r"\+=: cannot change a value of shape \(2,\) and dtype "
                                        r"int64 in place with shape \(\) and dtype float64"):
        counts += 0.5
    assert counts.data.tolist() == [1, 2]


def test_a_view_of_another_value_gets_a_new_array_so_that_value_never_changes_unseen():
    x = Value(np.ones((2, 2)), requires_grad=False)
    w = Value(np.ones((2, 2)))
    loss = (x * w).sum()  # saves x
    view = x.T  # a value whose array is a view of x's
    view += 1.0
    assert view.data.tolist() == [[2.0, 2.0], [2.0, 2.0]] and view._version == 1
    assert x.data.tolist() == [[1.0, 1.0], [1.0, 1.0]] and x._version == 0
    loss.backward()  # x is as the op saw it: no error, and the right gradient
    np.testing.assert_array_equal(w.grad, np.ones((2, 2)))


def test_other_operand_types_still_raise_pythons_type_error():
    v = Value(1.0, requires_grad=False)
    with pytest.raises(TypeError, match="unsupported operand"):
        v += "a"


# --- version counting: changing data a live graph still needs --------------------------------
def test_changing_a_saved_input_before_backward_raises_naming_op_and_value():
    w = Value(np.ones((2, 3)), name="weight")
    loss = (Value(np.ones((4, 2)), requires_grad=False) @ w).tanh().sum()
    w.data -= 0.1
    with pytest.raises(RuntimeError, match=r"op 'matmul' was modified in place: its input 1 "
                                           r"\('weight', shape \(2, 3\)\) was changed after the op "
                                           r"ran \(it is now at version 1\).*optimizer.step\(\) after"):
        loss.backward()


def test_assigning_a_new_array_counts_too_and_unnamed_values_are_described():
    x = Value([1.0, 2.0])
    y = x * x
    x.data = np.array([5.0, 6.0])
    with pytest.raises(RuntimeError, match=r"op 'mul'.*an unnamed value, shape \(2,\)"):
        y.sum().backward()


def test_changing_an_op_output_that_its_backward_reads_raises():
    x = Value([0.5, 1.0])
    y = x.exp()
    y.data = y.data * 0  # exp's backward uses its own output
    with pytest.raises(RuntimeError, match=r"op 'exp' was modified in place: its output"):
        y.sum().backward()


def test_an_in_place_change_through_a_detached_value_counts_for_its_origin():
    """As in PyTorch, detach() shares the version: w.detach().data -= 1 changes w."""
    w = Value([1.0, 2.0], name="w")
    loss = (w * w).sum()
    detached = w.detach().detach()  # through a chain of them too
    detached.data -= 1.0
    assert w._version == 1 and w.data.tolist() == [0.0, 1.0]
    with pytest.raises(RuntimeError, match=r"op 'mul' was modified in place: its input 0 \('w'"):
        loss.backward()


def test_an_in_place_change_through_one_detached_value_counts_for_its_siblings():
    w, v = Value([1.0, 2.0]), Value([3.0, 4.0])
    first = w.detach()
    y = (first * v).sum()  # v's gradient is first's data
    w.detach().data *= 2.0
    assert first._version == 1
    with pytest.raises(RuntimeError, match=r"op 'mul' was modified in place: its input 0"):
        y.backward()


def test_a_detached_value_given_a_new_array_no_longer_shares_and_changes_nothing():
    w = Value([1.0, 2.0])
    loss = (w * w).sum()
    detached = w.detach()
    detached.data = detached.data - 1.0  # a new array: w keeps its data
    detached.data -= 1.0                 # in place, but in detached's own array now
    assert w._version == 0 and w.data.tolist() == [1.0, 2.0]
    loss.backward()
    np.testing.assert_array_equal(w.grad, [2.0, 4.0])
    w.data = w.data + 1.0  # and once w has moved on, the detached value's changes stay its own
    detached.data -= 1.0
    assert w._version == 1 and w.data.tolist() == [2.0, 3.0]


def test_a_detached_value_does_not_keep_its_origin_or_its_graph_alive():
    """Keeping detached hidden states (truncated backprop through time) must not keep graphs."""
    x = Value([1.0, 2.0])
    hidden = (x * 2.0).tanh()
    gone = weakref.ref(hidden)
    detached = hidden.detach()
    del hidden
    gc.collect()
    assert gone() is None
    detached.data -= 1.0  # its origin is gone: only its own version moves
    assert detached._version == 1


def test_values_that_share_an_array_pickle_and_deep_copy_with_their_shared_version():
    w = Value([1.0, 2.0], name="w")
    snapshot = w.detach()
    for copy_of in (copy.deepcopy, lambda x: pickle.loads(pickle.dumps(x))):
        w2, snapshot2 = copy_of([w, snapshot])
        assert w2.data is snapshot2.data and w2.data is not w.data  # still sharing, between them
        loss = (w2 * w2).sum()
        w2.detach().data -= 1.0
        assert snapshot2._version == w2._version == 1 and w._version == 0
        with pytest.raises(RuntimeError, match=r"op 'mul' was modified in place"):
            loss.backward()
        alone = copy_of(w)  # copied on its own, it keeps the count but shares with nothing
        alone.data -= 1.0
        assert alone._version == 1 and w._version == 0


def test_an_unpickled_value_carries_no_numbers_from_the_process_that_saved_it():
    w = Value([1.0, 2.0], name="w")
    w.data -= 1.0
    w._array_version.changed_at = 10 ** 12  # as if numbered late in a long run in another process
    loaded = pickle.loads(pickle.dumps(w))
    assert loaded._version == 1 and loaded._array_version.changed_at == -1
    assert loaded._number > w._number
    loss = (loaded * 3.0).sum()
    Value(1.0).data += 1.0  # an unrelated change after the op: backward checks the op's inputs
    loss.backward()  # no false "modified in place" error
    np.testing.assert_array_equal(loaded.grad, [3.0, 3.0])
    loss = (loaded * loaded).sum()
    loaded.data -= 1.0  # a real change after the op is still caught
    with pytest.raises(RuntimeError, match="modified in place"):
        loss.backward()


@pytest.mark.parametrize("copy_of", [copy.copy, copy.deepcopy, lambda x: pickle.loads(pickle.dumps(x))],
                         ids=["copy", "deepcopy", "pickle"])
def test_copying_a_value_never_hides_a_change_from_the_original_graph(copy_of):
    w = Value([1.0, 2.0])
    snapshot = w.detach()  # shares w's array and version
    loss = (w * w).sum()
    snapshot.data -= 1.0  # changes what loss's graph saved
    copy_of(w), copy_of(snapshot)  # a copy starts afresh; the originals keep their history
    with pytest.raises(RuntimeError, match=r"op 'mul' was modified in place"):
        loss.backward()


@pytest.mark.parametrize("copy_of", [copy.copy, copy.deepcopy, lambda x: pickle.loads(pickle.dumps(x))],
                         ids=["copy", "deepcopy", "pickle"])
def test_a_value_an_op_recorded_refuses_to_be_copied(copy_of):
    w = Value(np.ones((2, 2)))
    hidden = (w * 2.0).tanh()
    with pytest.raises(RuntimeError, match=r"cannot copy or pickle a value computed by op 'tanh' "
                                            r"\(shape \(2, 2\)\): only leaves can be copied"):
        copy_of(hidden)
    snapshot = copy_of(hidden.detach())  # the advice works: a leaf with the same data
    np.testing.assert_array_equal(snapshot.data, hidden.data)
    loss = (hidden + snapshot).sum()  # the copy joins a graph as a leaf of its own
    loss.backward()
    np.testing.assert_allclose(w.grad, 2.0 * (1.0 - np.tanh(2.0) ** 2) * np.ones((2, 2)))


def test_a_shallow_copy_shares_the_array_and_version_but_not_the_grad():
    w = nn.Parameter([1.0, 2.0])
    w.name = "w"
    (w * w).sum().backward()
    c = copy.copy(w)
    assert type(c) is nn.Parameter and c.name == "w" and c.requires_grad
    assert c.data is w.data and c.grad is not w.grad
    np.testing.assert_array_equal(c.grad, w.grad)
    (c * 3.0).sum().backward()  # accumulates into c's own .grad only
    np.testing.assert_array_equal(c.grad, [5.0, 7.0])
    np.testing.assert_array_equal(w.grad, [2.0, 4.0])
    loss = (w * w).sum()
    c.data -= 1.0  # the shared array changed: w's graph sees it
    with pytest.raises(RuntimeError, match=r"op 'mul' was modified in place"):
        loss.backward()


def test_changes_after_the_graph_is_released_are_fine():
    w = Value([1.0, 2.0], name="w")
    loss = (w * w).sum()
    loss.backward()
    w.data -= 0.5 * w.grad
    np.testing.assert_allclose(w.data, [0.0, 0.0])
    with pytest.raises(RuntimeError, match="retain_graph=True"):  # the freed-graph error, as before
        loss.backward()


def test_optimizer_style_training_loop_runs_without_errors_or_warnings():
    rng = np.random.default_rng(0)
    x, y = Value(rng.normal(size=(32, 3)), requires_grad=False), rng.normal(size=(32, 1))
    w, b = Value(rng.normal(size=(3, 1)), name="w"), Value(np.zeros(1), name="b")
    losses = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(50):
            loss = (((x @ w + b) - y) ** 2).mean()
            w.grad = b.grad = None
            loss.backward()
            for p in (w, b):
                p.data -= 0.1 * p.grad
            losses.append(loss.item())
    assert losses[-1] < losses[0]
    assert w._version == 50


def test_stepping_between_two_backwards_of_a_retained_graph_raises():
    w = Value([1.0, 2.0], name="w")
    loss = (w * w).sum()
    loss.backward(retain_graph=True)
    w.data -= 0.1 * w.grad
    with pytest.raises(RuntimeError, match=r"'w', shape \(2,\).*now at version 1"):
        loss.backward()


def test_second_order_graph_from_create_graph_is_checked_too():
    w = Value([1.0, 2.0], name="w")
    (g,) = grad((w ** 3).sum(), [w], create_graph=True)
    w.data = w.data + 1.0
    with pytest.raises(RuntimeError, match="'w'"):
        g.sum().backward()


def test_a_failing_check_leaves_every_grad_untouched():
    a, w = Value([1.0, 2.0], name="a"), Value([3.0, 4.0], name="w")
    loss = (a * 2).sum() + (w[0:1] * a[0:1]).sum()
    w.data -= 1.0  # in place: the slice w[0:1] sees the change too
    with pytest.raises(RuntimeError, match="'w'"):
        loss.backward()
    assert a.grad is None and w.grad is None


def test_a_change_landing_while_an_op_runs_is_caught():
    """Another thread's optimizer step can land between an op reading its inputs and finishing."""
    from autograd_lite.ops import primitive
    w = Value([1.0, 2.0], name="w")

    def forward(x):
        out = x * x
        w.data -= 10.0  # the other thread's step, in the middle of this op
        return out

    square = primitive("square_while_changed", forward, lambda g, ans, x: 2.0 * g * x)
    y = square(w)
    with pytest.raises(RuntimeError, match=r"op 'square_while_changed'.*its input 0 \('w', shape \(2,\)\)"):
        y.sum().backward()

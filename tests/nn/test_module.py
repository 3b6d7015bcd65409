"""nn.Module machinery: registration, names, state dicts, modes, repr and call recording."""
from collections import OrderedDict

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import nn
from autograd_lite import Value


class TwoLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
        self.norm = nn.BatchNorm1d(3)
        self.scale = nn.Parameter(2.0)

    def forward(self, x):
        return self.layers(x) * self.scale


def test_parameters_are_registered_by_assignment_with_qualified_names():
    model = TwoLayer()
    names = [name for name, _ in model.named_parameters()]
    assert names == ["scale", "layers.0.weight", "layers.0.bias", "layers.2.weight",
                     "layers.2.bias", "norm.weight", "norm.bias"]
    assert [p.name for _, p in model.named_parameters()] == names
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in model.parameters())


def test_names_follow_a_module_into_a_new_parent():
    linear = nn.Linear(2, 2)
    assert linear.weight.name == "weight"
    outer = nn.Sequential(nn.Sequential(nn.Identity(), linear))
    assert linear.weight.name == "0.1.weight"
    holder = nn.Module()
    holder.body = outer
    assert linear.bias.name == "body.0.1.bias"
    assert [n for n, _ in holder.named_modules()] == ["", "body", "body.0", "body.0.0", "body.0.1"]


def test_children_modules_and_shared_parameters_listed_once():
    shared = nn.Linear(2, 2)
    model = nn.Sequential(shared, nn.ReLU(), shared)
    assert len(list(model.children())) == 3
    assert len(list(model.modules())) == 3  # model, shared, relu
    assert len(list(model.parameters())) == 2


def test_bias_false_and_none_parameters_are_skipped():
    layer = nn.Linear(3, 2, bias=False)
    assert layer.bias is None
    assert [n for n, _ in layer.named_parameters()] == ["weight"]
    assert list(layer.state_dict()) == ["weight"]
    assert layer(np.ones((4, 3))).shape == (4, 2)


def test_assignment_errors_are_clear():
    class Forgot(nn.Module):
        def __init__(self):
            self.weight = nn.Parameter([1.0])

    with pytest.raises(AttributeError, match="super\\(\\).__init__"):
        Forgot()
    layer = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="parameter 'weight'.*nn.Parameter or None expected"):
        layer.weight = Value(np.zeros((2, 2)))
    with pytest.raises(AttributeError, match="'Linear' object has no attribute 'nothing'"):
        layer.nothing


def test_reassigning_a_parameter_keeps_its_place_and_renames():
    layer = nn.Linear(2, 2)
    layer.weight = nn.Parameter(np.zeros((2, 2)))
    assert list(layer.state_dict()) == ["weight", "bias"]
    assert layer.weight.name == "weight"
    del layer.bias
    assert list(layer.state_dict()) == ["weight"]


def test_attribute_reads_always_agree_with_the_registries():
    """Reading a registered member as an attribute gives the registry's entry, after any change."""
    import copy
    model = TwoLayer()
    registries = lambda m: {**m._parameters, **m._buffers, **m._modules}  # noqa: E731
    def agree(m):
        for name, member in registries(m).items():
            assert getattr(m, name) is member, name
    agree(model)
    model.scale = nn.Parameter(3.0)            # replaced
    model.layers = nn.Sequential(nn.Linear(2, 1))
    agree(model)
    model.scale = None                         # an absent optional parameter
    assert model.scale is None and "scale" not in dict(model.named_parameters())
    model.register_buffer("scale", np.ones(1))  # moved to another registry
    assert "scale" not in model._parameters and model.scale is model._buffers["scale"]
    del model.scale
    with pytest.raises(AttributeError):
        model.scale
    state = model.state_dict()
    state["norm.running_mean"] = np.full(3, 5.0)
    model.load_state_dict(state)
    assert model.norm.running_mean.tolist() == [5.0, 5.0, 5.0]
    model.norm(Value(np.arange(6.0).reshape(2, 3)))  # training: running stats move
    agree(model.norm)
    twin = copy.deepcopy(model)
    agree(twin)
    agree(twin.layers[0])
    assert twin.layers[0].weight is not model.layers[0].weight


def test_plain_values_and_numbers_stay_ordinary_attributes():
    module = nn.Module()
    module.constant = Value([1.0], requires_grad=False)
    module.count = 3
    assert list(module.parameters()) == [] and module.count == 3


def test_forward_missing_is_a_clear_error():
    with pytest.raises(NotImplementedError, match="Module \\[ModuleList\\] is missing"):
        nn.ModuleList([nn.Tanh()])(np.ones(2))


def test_call_wraps_numpy_and_lists_as_constants():
    layer = nn.Linear(2, 1)
    for x in (np.ones((3, 2)), [[1.0, 1.0]] * 3, np.ones((3, 2), dtype=int)):
        out = layer(x)
        assert isinstance(out, Value) and out.shape == (3, 1)
        assert out.dtype == np.float64
    out.sum().backward()
    assert layer.weight.grad.shape == (1, 2)


def test_zero_grad_sets_none_or_zeros():
    model = nn.Sequential(nn.Linear(2, 2), nn.Tanh(), nn.Linear(2, 1))
    model(np.ones((4, 2))).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())
    model.zero_grad(set_to_none=False)
    assert all(np.array_equal(p.grad, np.zeros_like(p.data)) for p in model.parameters())


def test_train_and_eval_reach_every_module():
    model = TwoLayer()
    assert model.training and all(m.training for m in model.modules())
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())


def test_state_dict_order_copies_and_buffers():
    model = TwoLayer()
    state = model.state_dict()
    assert isinstance(state, OrderedDict)
    assert list(state) == ["scale", "layers.0.weight", "layers.0.bias", "layers.2.weight",
                           "layers.2.bias", "norm.weight", "norm.bias", "norm.running_mean",
                           "norm.running_var", "norm.num_batches_tracked"]
    state["layers.0.weight"][...] = 123.0
    assert not np.any(model.layers[0].weight.data == 123.0)


def test_load_state_dict_round_trip_and_version_bump():
    source, target = TwoLayer(), TwoLayer()
    source.norm(np.random.default_rng(0).normal(size=(8, 3)))  # move the running stats
    x = np.random.default_rng(1).normal(size=(5, 2))
    stale = target(x).sum()
    result = target.load_state_dict(source.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    for key, value in source.state_dict().items():
        np.testing.assert_array_equal(target.state_dict()[key], value)
    np.testing.assert_array_equal(target(x).data, source(x).data)
    with pytest.raises(RuntimeError, match="modified in place"):
        stale.backward()


def test_load_state_dict_reports_every_problem_and_changes_nothing():
    model = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))
    before = model.state_dict()
    bad = model.state_dict()
    del bad["0.bias"]
    bad["0.weight"] = np.zeros((4, 2))
    bad["extra.weight"] = np.zeros(1)
    with pytest.raises(RuntimeError) as info:
        model.load_state_dict(bad)
    message = str(info.value)
    assert "Missing key(s) in state_dict: '0.bias'" in message
    assert "Unexpected key(s) in state_dict: 'extra.weight'" in message
    assert "size mismatch for 0.weight: copying an array of shape (4, 2), " \
           "the shape in the current model is (3, 2)" in message
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[key])


def test_load_state_dict_not_strict_returns_the_differences():
    model = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))
    partial = {"0.weight": np.ones((3, 2)), "other": np.ones(2)}
    missing, unexpected = model.load_state_dict(partial, strict=False)
    assert missing == ["0.bias", "1.weight", "1.bias"] and unexpected == ["other"]
    np.testing.assert_array_equal(model[0].weight.data, np.ones((3, 2)))
    with pytest.raises(RuntimeError, match="size mismatch for 0.weight"):
        model.load_state_dict({"0.weight": np.ones((2, 2))}, strict=False)


def test_load_state_dict_keeps_parameter_dtype():
    layer = nn.Linear(2, 2)
    layer.load_state_dict({k: v.astype(np.float32) for k, v in layer.state_dict().items()})
    assert layer.weight.dtype == np.float64


def test_repr_is_a_readable_tree():
    model = TwoLayer()
    assert repr(model) == (
        "TwoLayer(\n"
        "  (layers): Sequential(\n"
        "    (0): Linear(in_features=2, out_features=3, bias=True)\n"
        "    (1): Tanh()\n"
        "    (2): Linear(in_features=3, out_features=1, bias=True)\n"
        "  )\n"
        "  (norm): BatchNorm1d(3, eps=1e-05, momentum=0.1, affine=True)\n"
        ")")
    assert repr(nn.LeakyReLU(0.2)) == "LeakyReLU(negative_slope=0.2)"
    assert repr(nn.Parameter([1.0])).startswith("Parameter([1.]")


def test_sequential_indexing_iteration_and_append():
    a, b, c = nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1)
    model = nn.Sequential(a, b)
    model.append(c)
    assert len(model) == 3 and list(model) == [a, b, c]
    assert model[0] is a and model[-1] is c
    head = model[1:]
    assert isinstance(head, nn.Sequential) and list(head._modules) == ["1", "2"]
    named = nn.Sequential(OrderedDict(hidden=nn.Linear(2, 2), act=nn.ReLU()))
    assert list(named.state_dict()) == ["hidden.weight", "hidden.bias"]


def test_modulelist_registers_its_modules():
    class Stack(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])

        def forward(self, x):
            for block in self.blocks:
                x = block(x).tanh()
            return x

    model = Stack()
    assert [n for n, _ in model.named_parameters()][:2] == ["blocks.0.weight", "blocks.0.bias"]
    assert len(list(model.parameters())) == 6
    replacement = nn.Linear(2, 2)
    model.blocks[1] = replacement
    assert model.blocks[1] is replacement and replacement.weight.name == "blocks.1.weight"
    assert model(np.ones((1, 2))).shape == (1, 2)


def test_apply_visits_every_module():
    model = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Linear(2, 2)))
    model.apply(lambda m: nn.init.zeros_(m.weight) if isinstance(m, nn.Linear) else None)
    assert all(not np.any(p.data) for n, p in model.named_parameters() if n.endswith("weight"))


def test_buffers_are_state_but_not_parameters():
    norm = nn.BatchNorm1d(2)
    assert [n for n, _ in norm.named_buffers()] == ["running_mean", "running_var",
                                                     "num_batches_tracked"]
    assert len(list(norm.parameters())) == 2


def _scope_names(value):
    """The names of the scopes a value was made in, innermost first."""
    names, scope = [], value.scope
    while scope is not None:
        names.append(scope.name)
        scope = scope.parent
    return names


def test_module_call_tags_what_it_makes_with_a_scope_named_after_it():
    model = nn.Sequential(nn.Linear(2, 1))
    x = Value([0.5, -1.0])
    out = model(x)  # a single output element
    assert _scope_names(out) == ["0: Linear(in_features=2, out_features=1, bias=True)",
                                 "Sequential()"]
    assert out.scope.inputs == [x] and out.scope.parent.inputs == [x]
    assert x.scope is None and model[0].weight.scope is None


def test_module_call_scopes_for_array_outputs():
    model = nn.Sequential(nn.Linear(2, 3), nn.Tanh())
    out = model(np.ones((4, 2)))
    assert _scope_names(out) == ["1: Tanh()", "Sequential()"]
    assert _scope_names(out.parents[0]) == ["0: Linear(in_features=2, out_features=3, bias=True)",
                                            "Sequential()"]


@given(st.lists(st.integers(1, 5), min_size=2, max_size=5))
def test_mlp_state_dict_round_trip_property(sizes):
    model = nn.MLP(sizes, activation="relu")
    copy = nn.MLP(sizes, activation="relu")
    copy.load_state_dict(model.state_dict())
    x = np.linspace(-1, 1, 3 * sizes[0]).reshape(3, sizes[0])
    np.testing.assert_array_equal(copy(x).data, model(x).data)


def test_slicing_a_sequential_keeps_the_models_own_parameter_names():
    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))

    model = Model()
    part = model.net[1:]
    assert model.net[2].weight.name == "net.2.weight"  # a slice is a view, not a move
    assert list(part.state_dict()) == ["2.weight", "2.bias"]

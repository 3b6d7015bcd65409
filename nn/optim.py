"""Optimizers: SGD, RMSprop, Adagrad, Adam and AdamW, with PyTorch's names, arguments and update rules.

    optimizer = nn.Adam(model.parameters(), lr=1e-3)
    for epoch in range(100):
        optimizer.zero_grad()          # forget the last step's gradients
        loss = loss_fn(model(X), y)
        loss.backward()                # fill every parameter's .grad
        optimizer.step()               # move each parameter against its gradient

Each optimizer keeps its settings in `param_groups` (a list of dicts holding
"params" and the hyperparameters; a scheduler changes `group["lr"]` there)
and its per-parameter memory (momentum, running averages) in `state`.
Updates are plain numpy: they are not recorded by the engine, and they
change `p.data` in place through its setter (`p.data -= step`), which keeps
the dtype (float32 stays float32) and bumps the parameter's version, so a
graph built before the step refuses to backward through the old values.

One difference from PyTorch, for learners: `step()` when no parameter has a
gradient at all raises a RuntimeError (PyTorch silently does nothing), since
that almost always means `backward()` was forgotten, `zero_grad()` came in
the wrong place, or the optimizer was built from another model's parameters
than the one whose loss was backpropagated. Parameters whose `.grad` is None are skipped, as in PyTorch.

Every optimizer takes `maximize=False` (keyword only): with True it climbs the
objective, by negating each gradient before anything else, as PyTorch does.
"""
import inspect
import math
import re
from collections import OrderedDict

import numpy as np

from autograd_lite import Value, enable_grad

__all__ = ["Optimizer", "SGD", "RMSprop", "Adagrad", "Adam", "AdamW"]


# what schedulers write into a parameter group besides "lr" (and the momentum they cycle)
SCHEDULER_KEYS = ("initial_lr", "max_lr", "min_lr", "max_momentum", "base_momentum")


class Optimizer:
    """Base class: parameter groups, `zero_grad()`, `step()` and the state dict.

    `params`: an iterable of `Value`s (e.g. `model.parameters()`), or of dicts
    `{"params": [...], "lr": ...}` to give groups their own hyperparameters
    (missing ones come from `defaults`). Subclasses implement
    `_update(param, grad, state, group)`, one parameter's step (`grad` already
    negated when the group maximizes).

    `state_dict()` is flat, numbers and numpy arrays only, so `nn.save` can
    store it next to the model's:
        "param_groups.{g}.{name}"  a hyperparameter of group g (0-d array;
                                   tuples such as Adam's betas as 1-d arrays)
        "param_groups.{g}.params"  the indices of group g's parameters
        "state.{i}.{name}"         the state of parameter i (numbering all
                                   groups' parameters in order), e.g.
                                   "state.0.exp_avg", "state.0.step"
    """

    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
        self.state = {}  # parameter -> dict of its numpy state ("step" included)
        self.param_groups = []
        if hasattr(params, "parameters"):
            raise TypeError(f"{type(self).__name__}: pass model.parameters(), not the model "
                            f"itself ({type(params).__name__})")
        if isinstance(params, (Value, dict)) or not hasattr(params, "__iter__"):
            raise TypeError(f"{type(self).__name__}: params must be an iterable of Values or of "
                            f"dicts (e.g. model.parameters()), got {type(params).__name__}")
        groups = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__} got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group):
        """Add a group of parameters, with hyperparameters defaulting to the optimizer's."""
        name = type(self).__name__
        if not isinstance(param_group, dict):
            raise TypeError(f"{name}: a parameter group must be a dict, got "
                            f"{type(param_group).__name__}")
        group = dict(param_group)
        params = group.get("params")
        params = [params] if isinstance(params, Value) else list(params or ())
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        for p in params:
            if not isinstance(p, Value):
                raise TypeError(f"{name} can only optimize Values (parameters), got "
                                f"{type(p).__name__}")
            if not p.is_leaf:
                raise ValueError(f"{name} can't optimize a non-leaf Value (made by op "
                                 f"{p.op!r}); optimize the leaves it was computed from")
            if p.dtype.kind != "f":
                raise TypeError(f"{name} can only optimize floating-point values, got {p.dtype}")
            if id(p) in seen:
                raise ValueError(f"{name}: some parameters appear in more than one parameter "
                                 f"group (or twice in one)")
            seen.add(id(p))
        group["params"] = params
        for key, default in self.defaults.items():
            group.setdefault(key, default)
        self._check_hyperparameters(group)
        self.param_groups.append(group)

    _NON_NEGATIVE = ("lr", "eps", "weight_decay", "momentum", "dampening", "alpha", "lr_decay",
                     "initial_accumulator_value")

    def _check_hyperparameters(self, group):
        """Reject impossible settings (negative learning rate, beta >= 1, ...) with a clear error."""
        name = type(self).__name__
        for key in self._NON_NEGATIVE:
            if key not in group:
                continue
            if isinstance(group[key], (bool, np.bool_)):  # a flag in a number's place: wrong order?
                raise TypeError(f"{name}: {key} must be a number, got {group[key]!r}; the "
                                f"arguments' order is PyTorch's ({self._order()})")
            if not group[key] >= 0:
                raise ValueError(f"{name}: invalid {key} {group[key]!r} (must be >= 0)")
        for i, beta in enumerate(group.get("betas", ())):
            if not 0 <= beta < 1:
                raise ValueError(f"{name}: invalid beta parameter at index {i}: {beta!r} "
                                 f"(must be in [0, 1))")

    def _order(self):
        """The constructor's positional arguments after params, for error messages."""
        names = [p.name for p in inspect.signature(type(self)).parameters.values()
                 if p.kind == p.POSITIONAL_OR_KEYWORD][1:]
        return ", ".join(names)

    # --- the training-loop calls ----------------------------------------------------
    def zero_grad(self, set_to_none=True):
        """Forget every parameter's gradient (`.grad = None`; zeros with set_to_none=False)."""
        for group in self.param_groups:
            for p in group["params"]:
                p.grad = None if set_to_none else np.zeros_like(p.data)

    def step(self, closure=None):
        """Update every parameter that has a gradient; returns `closure()`'s loss if given.

        `closure` (optional) re-evaluates the model and calls `backward()`, as in PyTorch.
        Raises RuntimeError if no parameter has a gradient (see the module docstring).
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        updated = False
        for group in self.param_groups:
            maximize = group.get("maximize")
            for p in group["params"]:
                grad = p.grad
                if grad is None:
                    continue
                grad = np.asarray(grad)
                if grad.shape != p.shape:
                    raise RuntimeError(f"{type(self).__name__}: gradient of shape {grad.shape} "
                                       f"for a parameter of shape {p.shape}")
                state = self.state.get(p)
                if state is None:
                    state = self.state[p] = {"step": 0}
                state["step"] += 1
                self._update(p, -grad if maximize else grad, state, group)
                updated = True
        if not updated:
            count = sum(len(group["params"]) for group in self.param_groups)
            raise RuntimeError(
                f"{type(self).__name__}.step(): none of this optimizer's {count} parameter"
                f"{'s' if count != 1 else ''} has a gradient (every .grad is None). Either this "
                f"is a step() called before backward() (call loss.backward() between "
                f"optimizer.zero_grad() and optimizer.step()), or backward() ran on a loss that "
                f"does not use these parameters: they may belong to another model; check that "
                f"the optimizer was built from the same model's parameters()")
        return loss

    def _update(self, p, grad, state, group):
        raise NotImplementedError

    # --- saving and restoring -------------------------------------------------------
    def _indexed_params(self):
        return [p for group in self.param_groups for p in group["params"]]

    def state_dict(self):
        """A flat OrderedDict of numpy arrays (format in the class docstring)."""
        out = OrderedDict()
        index = {id(p): i for i, p in enumerate(self._indexed_params())}
        for g, group in enumerate(self.param_groups):
            for key, value in group.items():
                if key == "params":
                    value = [index[id(p)] for p in value]
                out[f"param_groups.{g}.{key}"] = np.array(value)
        for i, p in enumerate(self._indexed_params()):
            for key, value in self.state.get(p, {}).items():
                out[f"state.{i}.{key}"] = np.array(value)
        return out

    def load_state_dict(self, state_dict):
        """Restore hyperparameters and state saved by `state_dict()` (or `nn.save`/`nn.load`).

        The optimizer must hold the same groups of same-shaped parameters as the
        one that was saved. Nothing changes if any entry does not fit.
        """
        name = type(self).__name__
        params = self._indexed_params()
        index = {id(p): i for i, p in enumerate(params)}
        groups = [dict(group) for group in self.param_groups]
        new_state = {}
        for key, value in state_dict.items():
            match = re.fullmatch(r"(param_groups|state)\.(\d+)\.(\w+)", key)
            if match is None:
                raise KeyError(f"{name}.load_state_dict: unexpected key {key!r}")
            kind, number, field = match.group(1), int(match.group(2)), match.group(3)
            value = np.asarray(value)
            if kind == "param_groups":
                if number < len(groups) and field in SCHEDULER_KEYS:
                    # a scheduler's record in the group (its starting lr; OneCycleLR's bounds),
                    # as PyTorch keeps them: restored even into an optimizer with no scheduler yet
                    groups[number][field] = value.item()
                    continue
                if number >= len(groups) or field not in groups[number]:
                    raise KeyError(f"{name}.load_state_dict: {key!r} does not match this "
                                   f"optimizer's parameter groups")
                current = groups[number][field]
                if field == "params":
                    expected = [index[id(p)] for p in current]
                    if value.tolist() != expected:
                        raise ValueError(f"{name}.load_state_dict: {key!r} holds parameters "
                                         f"{value.tolist()}, this optimizer's group holds "
                                         f"{expected}")
                else:  # back to the Python type it has here: number, bool or tuple
                    groups[number][field] = (tuple(value.tolist()) if isinstance(current, tuple)
                                             else value.item())
            else:
                if number >= len(params):
                    raise KeyError(f"{name}.load_state_dict: {key!r} names parameter {number}, "
                                   f"but this optimizer has {len(params)}")
                p = params[number]
                if field != "step" and value.shape != p.shape:
                    raise ValueError(f"{name}.load_state_dict: {key!r} has shape {value.shape}, "
                                     f"its parameter has shape {p.shape}")
                new_state.setdefault(p, {})[field] = (
                    int(value) if field == "step" else np.array(value, dtype=p.dtype))
        for g in range(len(groups)):
            if f"param_groups.{g}.params" not in state_dict:
                raise KeyError(f"{name}.load_state_dict: missing 'param_groups.{g}.params'; "
                               f"was the state saved from an optimizer with other groups?")
        for group, loaded in zip(self.param_groups, groups):
            group.update(loaded)
        self.state = new_state

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for g, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {g}")
            lines += [f"    {key}: {value}" for key, value in sorted(group.items())
                      if key != "params"]
        return "\n".join(lines + [")"])


def _buffer(state, name, like):
    """The state array `name`, created as zeros of the parameter's shape and dtype on first use."""
    if name not in state:
        state[name] = np.zeros_like(like)
    return state[name]


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with momentum (PyTorch's formulation).

        g = grad + weight_decay * p
        b = g                                  (first step)
        b = momentum * b + (1 - dampening) * g (later steps)
        g = g + momentum * b  if nesterov  else  b
        p = p - lr * g

    The arguments come in PyTorch's order: `SGD(params, lr=1e-3, momentum=0,
    dampening=0, weight_decay=0, nesterov=False, *, maximize=False)`; a flag
    passed where a number belongs (`SGD(p, 0.1, 0.9, True)`) is a TypeError.
    """

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0,
                 nesterov=False, *, maximize=False):
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: Nesterov momentum requires a momentum > 0 and zero dampening")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize))

    def _update(self, p, grad, state, group):
        if group["weight_decay"]:
            grad = grad + group["weight_decay"] * p.data
        momentum = group["momentum"]
        if momentum:
            if "momentum_buffer" not in state:
                state["momentum_buffer"] = np.array(grad, dtype=p.dtype)
            else:
                buf = state["momentum_buffer"]
                buf *= momentum
                buf += (1 - group["dampening"]) * grad
            buf = state["momentum_buffer"]
            grad = grad + momentum * buf if group["nesterov"] else buf
        p.data -= group["lr"] * grad


class RMSprop(Optimizer):
    """RMSprop: divide the gradient by a running root-mean-square of recent gradients.

        g = grad + weight_decay * p
        v = alpha * v + (1 - alpha) * g²
        avg = sqrt(v - m²) + eps with m = alpha * m + (1 - alpha) * g  if centered
              sqrt(v) + eps                                              otherwise
        b = momentum * b + g / avg;  p = p - lr * b     if momentum > 0
        p = p - lr * g / avg                            otherwise
    """

    def __init__(self, params, lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                 centered=False, *, maximize=False):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered, maximize=maximize))

    def _update(self, p, grad, state, group):
        if group["weight_decay"]:
            grad = grad + group["weight_decay"] * p.data
        alpha = group["alpha"]
        square_avg = _buffer(state, "square_avg", p.data)
        square_avg *= alpha
        square_avg += (1 - alpha) * grad * grad
        if group["centered"]:
            grad_avg = _buffer(state, "grad_avg", p.data)
            grad_avg *= alpha
            grad_avg += (1 - alpha) * grad
            avg = np.sqrt(square_avg - grad_avg * grad_avg) + group["eps"]
        else:
            avg = np.sqrt(square_avg) + group["eps"]
        if group["momentum"] > 0:
            buf = _buffer(state, "momentum_buffer", p.data)
            buf *= group["momentum"]
            buf += grad / avg
            p.data -= group["lr"] * buf
        else:
            p.data -= group["lr"] * grad / avg


class Adagrad(Optimizer):
    """Adagrad: each element's step shrinks with the sum of its squared gradients so far.

        g = grad + weight_decay * p
        s = s + g²                             (s starts at initial_accumulator_value)
        p = p - lr / (1 + (t - 1) * lr_decay) * g / (sqrt(s) + eps)
    """

    def __init__(self, params, lr=1e-2, lr_decay=0.0, weight_decay=0.0,
                 initial_accumulator_value=0.0, eps=1e-10, *, maximize=False):
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      eps=eps, maximize=maximize))

    def _update(self, p, grad, state, group):
        if group["weight_decay"]:
            grad = grad + group["weight_decay"] * p.data
        if "sum" not in state:
            state["sum"] = np.full_like(p.data, group["initial_accumulator_value"])
        clr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        state["sum"] += grad * grad
        p.data -= clr * grad / (np.sqrt(state["sum"]) + group["eps"])


class Adam(Optimizer):
    """Adam: momentum on the gradient and on its square, with bias correction (Kingma & Ba).

        g = grad + weight_decay * p            (L2 penalty; see AdamW for decoupled decay)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g²       (amsgrad: v_max = max(v_max, v), used below)
        p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

    At t = 1 that is p - lr * g / (|g| + eps): about lr * sign(g), whatever g's size.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 amsgrad=False, *, maximize=False):
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize))

    def _update(self, p, grad, state, group):
        if group["weight_decay"]:
            grad = grad + group["weight_decay"] * p.data
        self._adam_step(p, grad, state, group)

    @staticmethod
    def _adam_step(p, grad, state, group):
        beta1, beta2 = group["betas"]
        t = state["step"]
        exp_avg = _buffer(state, "exp_avg", p.data)
        exp_avg_sq = _buffer(state, "exp_avg_sq", p.data)
        exp_avg *= beta1
        exp_avg += (1 - beta1) * grad
        exp_avg_sq *= beta2
        exp_avg_sq += (1 - beta2) * grad * grad
        if group["amsgrad"]:
            max_exp_avg_sq = _buffer(state, "max_exp_avg_sq", p.data)
            np.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
            exp_avg_sq = max_exp_avg_sq
        step_size = group["lr"] / (1 - beta1 ** t)
        denom = np.sqrt(exp_avg_sq) / math.sqrt(1 - beta2 ** t) + group["eps"]
        p.data -= step_size * exp_avg / denom


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): the decay shrinks the
    parameter directly instead of being added to the gradient.

        p = p * (1 - lr * weight_decay), then Adam's step without the L2 term
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, maximize=maximize)

    def _update(self, p, grad, state, group):
        if group["weight_decay"]:
            p.data *= 1 - group["lr"] * group["weight_decay"]
        self._adam_step(p, grad, state, group)

"""Recurrent layers RNN, LSTM and GRU, with PyTorch's arguments, parameter names, gate order and shapes.

One time step of one layer, for each kind (x the layer's input at step t, h and
c the previous step's states; W_i* are row blocks of weight_ih, W_h* of weight_hh):

    RNN   h = tanh(W_ih x + b_ih + W_hh h + b_hh)                   (or relu)
    LSTM  i, f, g, o = σ, σ, tanh, σ of the four blocks of W_ih x + b_ih + W_hh h + b_hh
          c = f * c + i * g;  h = o * tanh(c)                      (h = W_hr h with proj_size)
    GRU   r, z = σ of the first two blocks of W_ih x + b_ih + W_hh h + b_hh
          n = tanh(W_in x + b_in + r * (W_hn h + b_hn));  h = (1 - z) * n + z * h

The input part W_ih x + b_ih does not depend on h, so it is one `linear` for all
steps; only the recurrent part runs step by step, in a plain Python loop (backward
through it is backpropagation through time). Layer k > 0 reads layer k - 1's
outputs, with `dropout` applied to them in training. A bidirectional layer runs a
second set of weights (names ending in `_reverse`) from the last step to the first
and concatenates both directions' outputs on the feature axis.
"""
import math
import numbers
import warnings

import numpy as np

from autograd_lite import concatenate, linear, stack

from . import init
from .layers import dropout as apply_dropout
from .module import Module, Parameter

__all__ = ["RNN", "LSTM", "GRU"]


def _check_count(layer, name, value, smallest):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{layer}: {name} must be an int, got {value!r}")
    if value < smallest:
        raise ValueError(f"{layer}: {name} must be at least {smallest}, got {value}")
    return int(value)


class _RecurrentBase(Module):
    """What RNN, LSTM and GRU share: parameters, layers, directions, layouts and checks.

    A subclass sets `gates` (how many row blocks weight_ih has) and writes `_cell`,
    one time step.
    """

    gates = 1

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, rng=None):
        super().__init__()
        kind = type(self).__name__
        self.input_size = _check_count(kind, "input_size", input_size, 0)
        self.hidden_size = _check_count(kind, "hidden_size", hidden_size, 1)
        self.num_layers = _check_count(kind, "num_layers", num_layers, 1)
        self.proj_size = _check_count(kind, "proj_size", proj_size, 0)
        if self.proj_size >= self.hidden_size:
            raise ValueError(f"{kind}: proj_size has to be smaller than hidden_size, got "
                             f"proj_size={proj_size} and hidden_size={hidden_size}")
        if isinstance(dropout, bool) or not isinstance(dropout, numbers.Real) \
                or not 0 <= dropout <= 1:
            raise ValueError(f"{kind}: dropout should be a number in range [0, 1] representing "
                             f"the probability of an element being zeroed, got {dropout!r}")
        if dropout > 0 and self.num_layers == 1:
            warnings.warn(f"{kind}: dropout adds dropout after all but the last recurrent layer, "
                          f"so a non-zero dropout expects num_layers greater than 1, but got "
                          f"dropout={dropout} and num_layers=1", stacklevel=3)
        self.bias, self.batch_first = bool(bias), bool(batch_first)
        self.dropout, self.bidirectional = float(dropout), bool(bidirectional)
        self.rng = rng  # dropout masks between layers (default: the library's generator)
        out = self.proj_size or self.hidden_size  # the size of h
        rows = self.gates * self.hidden_size
        for k in range(self.num_layers):
            layer_input = self.input_size if k == 0 else self.directions * out
            for suffix in self._suffixes():
                self._add(f"weight_ih_l{k}{suffix}", (rows, layer_input))
                self._add(f"weight_hh_l{k}{suffix}", (rows, out))
                if self.bias:
                    self._add(f"bias_ih_l{k}{suffix}", (rows,))
                    self._add(f"bias_hh_l{k}{suffix}", (rows,))
                if self.proj_size:
                    self._add(f"weight_hr_l{k}{suffix}", (self.proj_size, self.hidden_size))
        self.reset_parameters(rng)

    directions = property(lambda self: 2 if self.bidirectional else 1)

    def _suffixes(self):
        return ("", "_reverse") if self.bidirectional else ("",)

    def _add(self, name, shape):
        setattr(self, name, Parameter(np.empty(shape)))

    def reset_parameters(self, rng=None):
        """Every parameter from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), as PyTorch."""
        bound = 1 / math.sqrt(self.hidden_size)
        for param in self.parameters():
            init.uniform_(param, -bound, bound, generator=rng)

    def _describe(self):
        return self._named(f"{type(self).__name__}({self.input_size}→{self.hidden_size})")

    # --- one step, one direction, one layer -------------------------------------------
    def _cell(self, x_part, h, c, weights):
        """One time step: `x_part` is W_ih x + b_ih for this step; returns the new (h, c)."""
        raise NotImplementedError

    def _direction(self, k, suffix, inputs, h, c):
        """Layer k in one direction over all steps of `inputs` (L, N, features).

        Returns the outputs (L, N, size of h), in the input's time order, and the last (h, c).
        """
        get = lambda name: getattr(self, f"{name}_l{k}{suffix}", None)  # noqa: E731
        weights = dict(hh=get("weight_hh"), b_hh=get("bias_hh"), hr=get("weight_hr"))
        x_parts = linear(inputs, get("weight_ih"), get("bias_ih"))  # (L, N, gates * hidden)
        steps = range(inputs.shape[0])
        outputs = [None] * len(steps)
        for t in (reversed(steps) if suffix else steps):
            h, c = self._cell(x_parts[t], h, c, weights)
            outputs[t] = h
        return stack(outputs), h, c

    # --- the whole forward -------------------------------------------------------------
    def _run(self, x, hx):
        """Check and lay out x and the initial states, run every layer and direction.

        `hx` is None or a tuple of initial states (h0,) or (h0, c0). Returns
        (output, tuple of final states) in the caller's layout.
        """
        if x.ndim not in (2, 3) or x.shape[-1] != self.input_size:
            layout = "(N, L, {})" if self.batch_first else "(L, N, {})"
            raise ValueError(f"{self._describe()}: expected input of shape "
                             f"{layout.format(self.input_size)} or (L, {self.input_size}), "
                             f"got shape {x.shape}")
        unbatched = x.ndim == 2
        if unbatched:
            x = x.reshape(x.shape[0], 1, self.input_size)
        elif self.batch_first:
            x = x.swapaxes(0, 1)
        steps, batch = x.shape[0], x.shape[1]
        if steps == 0:
            raise ValueError(f"{self._describe()}: expected at least one time step, got input of "
                             f"shape {x.shape}")
        states = self._initial_states(hx, batch, unbatched, x.dtype)
        h0 = states[0]
        c0 = states[1] if len(states) > 1 else [None] * len(h0)
        output, last_h, last_c = x, [], []
        for k in range(self.num_layers):
            if k > 0 and self.dropout:
                output = apply_dropout(output, self.dropout, self.training, rng=self.rng)
            outputs = []
            for d, suffix in enumerate(self._suffixes()):
                i = k * self.directions + d
                out, h, c = self._direction(k, suffix, output, h0[i], c0[i])
                outputs.append(out)
                last_h.append(h)
                last_c.append(c)
            output = outputs[0] if len(outputs) == 1 else concatenate(outputs, axis=-1)
        finals = (stack(last_h),) + ((stack(last_c),) if len(states) > 1 else ())
        if unbatched:
            return output.reshape(steps, -1), tuple(s.reshape(s.shape[0], s.shape[2]) for s in finals)
        return (output.swapaxes(0, 1) if self.batch_first else output), finals

    def _state_sizes(self):
        """The last dimension of each state: (size of h,) or, for LSTM, (size of h, size of c)."""
        return (self.proj_size or self.hidden_size,)

    def _initial_states(self, hx, batch, unbatched, dtype):
        """Each initial state as (num_layers * directions, N, size); zeros for hx=None."""
        layers = self.num_layers * self.directions
        sizes = self._state_sizes()
        if hx is None:
            return tuple(np.zeros((layers, batch, size), dtype=dtype) for size in sizes)
        states = []
        for name, state, size in zip(("h0", "c0"), hx, sizes):
            expected = (layers, size) if unbatched else (layers, batch, size)
            if state.shape != expected:
                raise ValueError(f"{self._describe()}: expected {name} of shape {expected}, got "
                                 f"shape {state.shape}")
            states.append(state.reshape(layers, batch, size))
        return tuple(states)

    def extra_repr(self):
        text = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size:
            text += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            text += f", num_layers={self.num_layers}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            text += f", nonlinearity={self.nonlinearity!r}"
        if not self.bias:
            text += ", bias=False"
        if self.batch_first:
            text += ", batch_first=True"
        if self.dropout:
            text += f", dropout={self.dropout}"
        return text + (", bidirectional=True" if self.bidirectional else "")


class RNN(_RecurrentBase):
    """`RNN(input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
    batch_first=False, dropout=0.0, bidirectional=False)`: the Elman network, PyTorch's order.

    `forward(x, h0=None)`: x is (L, N, input_size) ((N, L, input_size) with
    batch_first, or (L, input_size) unbatched), h0 is (D * num_layers, N, hidden_size)
    (D = 2 if bidirectional else 1; zeros when None). Returns `(output, h_n)`:
    the last layer's h at every step, (L, N, D * hidden_size), and every layer's
    and direction's last h, (D * num_layers, N, hidden_size). `rng` (keyword only)
    seeds the initial weights and the dropout masks.
    """

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, *, rng=None):
        if isinstance(num_layers, str):
            raise TypeError(f"RNN: the third argument is num_layers, as in PyTorch, got "
                            f"{num_layers!r}; pass the nonlinearity as nonlinearity=")
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: unknown nonlinearity {nonlinearity!r} (use 'tanh' or 'relu')")
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, rng=rng)

    def _cell(self, x_part, h, c, weights):
        pre = x_part + linear(h, weights["hh"], weights["b_hh"])
        return (pre.tanh() if self.nonlinearity == "tanh" else pre.relu()), None

    def forward(self, x, h0=None):
        output, (h_n,) = self._run(x, None if h0 is None else (h0,))
        return output, h_n


class LSTM(_RecurrentBase):
    """`LSTM(input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
    bidirectional=False, proj_size=0)`: long short-term memory, PyTorch's gate order (i, f, g, o).

    `forward(x, hx=None)` with hx = (h0, c0): h0 is (D * num_layers, N, H_out) and
    c0 (D * num_layers, N, hidden_size), where H_out is proj_size if set, else
    hidden_size (zeros when hx is None). Returns `(output, (h_n, c_n))`, output
    (L, N, D * H_out). With proj_size > 0 each layer also has weight_hr_l{k}
    (proj_size, hidden_size), which maps h down after every step.
    """

    gates = 4

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, *, rng=None):
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, proj_size, rng=rng)

    def _state_sizes(self):
        return (self.proj_size or self.hidden_size, self.hidden_size)

    def _cell(self, x_part, h, c, weights):
        n = self.hidden_size
        gates = x_part + linear(h, weights["hh"], weights["b_hh"])
        i, f = gates[..., :n].sigmoid(), gates[..., n:2 * n].sigmoid()
        g, o = gates[..., 2 * n:3 * n].tanh(), gates[..., 3 * n:].sigmoid()
        c = f * c + i * g
        h = o * c.tanh()
        return (h if weights["hr"] is None else linear(h, weights["hr"])), c

    def forward(self, x, hx=None):
        if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise TypeError(f"{self._describe()}: hx must be a tuple (h0, c0), got "
                            f"{type(hx).__name__}")
        output, (h_n, c_n) = self._run(x, None if hx is None else tuple(hx))
        return output, (h_n, c_n)


class GRU(_RecurrentBase):
    """`GRU(input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
    bidirectional=False)`: gated recurrent unit, PyTorch's gate order (r, z, n).

    `forward(x, h0=None)` takes and returns what RNN's does.
    """

    gates = 3

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, *, rng=None):
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, rng=rng)

    def _cell(self, x_part, h, c, weights):
        n = self.hidden_size
        h_part = linear(h, weights["hh"], weights["b_hh"])
        r = (x_part[..., :n] + h_part[..., :n]).sigmoid()
        z = (x_part[..., n:2 * n] + h_part[..., n:2 * n]).sigmoid()
        candidate = (x_part[..., 2 * n:] + r * h_part[..., 2 * n:]).tanh()
        return candidate + z * (h - candidate), None  # (1 - z) * n + z * h

    def forward(self, x, h0=None):
        output, (h_n,) = self._run(x, None if h0 is None else (h0,))
        return output, h_n

"""RNN: the Elman recurrent network, with PyTorch's parameters and shapes.

At each time step t, for each layer:

    h_t = tanh(x_t @ W_ih.T + b_ih + h_(t-1) @ W_hh.T + b_hh)

The loop over time is ordinary Python; `stack` joins the per-step hidden
states, and backward through the loop is backpropagation through time.
Layer k > 0 reads the hidden states of layer k - 1 (`num_layers` stacks them).
Bidirectional RNNs and dropout between layers are not supported.
"""
import math
import numbers

import numpy as np

from autograd_lite import linear, stack

from . import init
from .module import Module, Parameter

__all__ = ["RNN"]


class RNN(Module):
    """`RNN(input_size, hidden_size, nonlinearity="tanh", batch_first=False, *, num_layers=1, bias=True)`.

    PyTorch puts `num_layers` third; here the third argument is `nonlinearity`,
    so `num_layers` (and `bias`) are keyword-only and `RNN(3, 4, 2)` is a clear TypeError.

    `forward(x, h0=None)` takes x of shape (L, N, input_size) ((N, L, input_size)
    with batch_first, or (L, input_size) unbatched) and h0 of shape
    (num_layers, N, hidden_size) (zeros when None). It returns
    `(output, h_n)`: every step's hidden state of the last layer,
    (L, N, hidden_size), and the last step's hidden state of every layer,
    (num_layers, N, hidden_size). Parameters are named weight_ih_l0
    (hidden_size, input_size), weight_hh_l0, bias_ih_l0, bias_hh_l0, ... as in
    PyTorch, and start from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)).
    """

    def __init__(self, input_size, hidden_size, nonlinearity="tanh", batch_first=False, *,
                 num_layers=1, bias=True, rng=None):
        super().__init__()
        if isinstance(nonlinearity, numbers.Integral):
            raise TypeError(f"RNN: the third argument is nonlinearity ('tanh' or 'relu'), got "
                            f"{nonlinearity!r}; pass the number of layers as num_layers=")
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: unknown nonlinearity {nonlinearity!r} (use 'tanh' or 'relu')")
        if int(num_layers) < 1:
            raise ValueError(f"RNN: num_layers must be at least 1, got {num_layers}")
        self.input_size, self.hidden_size = int(input_size), int(hidden_size)
        self.num_layers, self.nonlinearity = int(num_layers), nonlinearity
        self.bias, self.batch_first = bias, batch_first
        for k in range(self.num_layers):
            layer_input = self.input_size if k == 0 else self.hidden_size
            setattr(self, f"weight_ih_l{k}", Parameter(np.empty((self.hidden_size, layer_input))))
            setattr(self, f"weight_hh_l{k}", Parameter(np.empty((self.hidden_size, self.hidden_size))))
            if bias:
                setattr(self, f"bias_ih_l{k}", Parameter(np.empty(self.hidden_size)))
                setattr(self, f"bias_hh_l{k}", Parameter(np.empty(self.hidden_size)))
        self.reset_parameters(rng)

    def reset_parameters(self, rng=None):
        bound = 1 / math.sqrt(self.hidden_size)
        for param in self.parameters():
            init.uniform_(param, -bound, bound, generator=rng)

    def _describe(self):
        return self._named(f"RNN({self.input_size}→{self.hidden_size})")

    def _layer(self, k, inputs, h):
        """Layer k over all time steps: h_t = f(x_t W_ih^T + b_ih + b_hh + h_{t-1} W_hh^T).

        The input part does not depend on h, so it is one matmul for all steps;
        only the recurrent part runs step by step. Returns (outputs, last h).
        """
        biases = None
        if self.bias:
            biases = getattr(self, f"bias_ih_l{k}") + getattr(self, f"bias_hh_l{k}")
        projected = linear(inputs, getattr(self, f"weight_ih_l{k}"), biases)  # (L, N, hidden)
        recurrent = getattr(self, f"weight_hh_l{k}").T
        outputs = []
        for t in range(inputs.shape[0]):
            pre = projected[t] + h @ recurrent
            h = pre.tanh() if self.nonlinearity == "tanh" else pre.relu()
            outputs.append(h)
        return stack(outputs), h

    def forward(self, x, h0=None):
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
        h0 = self._initial_state(h0, batch, unbatched, x.dtype)
        output, last_states = x, []
        for k in range(self.num_layers):
            output, h = self._layer(k, output, h0[k])
            last_states.append(h)
        h_n = stack(last_states)
        if unbatched:
            return output.reshape(steps, self.hidden_size), h_n.reshape(self.num_layers, self.hidden_size)
        return (output.swapaxes(0, 1) if self.batch_first else output), h_n

    def _initial_state(self, h0, batch, unbatched, dtype):
        expected = (self.num_layers, batch, self.hidden_size)
        if h0 is None:
            return np.zeros(expected, dtype=dtype)
        if unbatched:
            expected = expected[:1] + expected[2:]
        if h0.shape != expected:
            raise ValueError(f"{self._describe()}: expected h0 of shape {expected}, got shape {h0.shape}")
        return h0.reshape(self.num_layers, batch, self.hidden_size)

    def extra_repr(self):
        text = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            text += f", num_layers={self.num_layers}"
        if self.nonlinearity != "tanh":
            text += f", nonlinearity={self.nonlinearity!r}"
        if not self.bias:
            text += ", bias=False"
        return text + (", batch_first=True" if self.batch_first else "")

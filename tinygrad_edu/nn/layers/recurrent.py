"""Recurrent layers `RNN` and `LSTM`, written as plain Python loops over time steps.

Each step is a few Tensor ops, so backward through time is ordinary backward through
the unrolled loop: a debugger shows one step's ops, and a drawing shows the unrolled
graph.  Parameter names and shapes are PyTorch's (`weight_ih_l0`, `weight_hh_l0`,
`bias_ih_l0`, `bias_hh_l0`, then `..._l1` for the second layer), so a trained
state_dict loads into `torch.nn.RNN` / `torch.nn.LSTM`.

Shapes (PyTorch's): input (L, N, input_size), or (N, L, input_size) with
batch_first=True, or (L, input_size) for one unbatched sequence; states
(num_layers, N, hidden_size), or (num_layers, hidden_size) unbatched.
"""

import math

from ... import autograd, creation
from ...tensor import stack
from .. import functional as F
from .. import init
from ..module import Module, Parameter


class _RNNBase(Module):
    """Parameters, shape handling and the layer loop shared by RNN and LSTM.

    Every weight and bias is drawn from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)),
    as in PyTorch.  `gates` is how many hidden-size blocks are stacked in the weight
    rows: 1 for RNN, 4 for LSTM (i, f, g, o).
    """

    gates = 1

    def __init__(
        self,
        input_size,
        hidden_size,
        num_layers=1,
        bias=True,
        batch_first=False,
        dropout=0.0,
        device=None,
        dtype=None,
    ):
        super().__init__()
        if num_layers < 1:
            raise ValueError(f"{type(self).__name__}: num_layers must be >= 1, got {num_layers}")
        if not 0.0 <= dropout <= 1.0:
            raise ValueError(f"{type(self).__name__}: dropout must be in [0, 1], got {dropout}")
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = dropout
        rows = self.gates * hidden_size
        for layer in range(num_layers):
            layer_input_size = input_size if layer == 0 else hidden_size
            for name, shape in (
                (f"weight_ih_l{layer}", (rows, layer_input_size)),
                (f"weight_hh_l{layer}", (rows, hidden_size)),
            ):
                setattr(self, name, Parameter(creation.zeros(shape, device=device, dtype=dtype)))
            if bias:
                for name in (f"bias_ih_l{layer}", f"bias_hh_l{layer}"):
                    setattr(self, name, Parameter(creation.zeros(rows, device=device, dtype=dtype)))
        self.reset_parameters()

    def reset_parameters(self):
        bound = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0.0
        for param in self.parameters():
            init.uniform_(param, -bound, bound)

    def _layer_weights(self, layer):
        """(weight_ih, weight_hh, bias_ih, bias_hh) of one layer (biases None if bias=False)."""
        return (
            getattr(self, f"weight_ih_l{layer}"),
            getattr(self, f"weight_hh_l{layer}"),
            getattr(self, f"bias_ih_l{layer}", None),
            getattr(self, f"bias_hh_l{layer}", None),
        )

    def _time_major(self, x):
        """The input as (L, N, input_size), and whether it came without a batch axis."""
        name = type(self).__name__
        if x.ndim not in (2, 3) or x.shape[-1] != self.input_size:
            raise ValueError(
                f"{name}: expected input (L, N, {self.input_size}) (or (N, L, ...) with "
                f"batch_first, or (L, {self.input_size}) unbatched), got {x.shape}"
            )
        unbatched = x.ndim == 2
        if unbatched:
            x = x.unsqueeze(1)
        elif self.batch_first:
            x = x.swapaxes(0, 1)
        if x.shape[0] == 0:
            raise ValueError(f"{name}: the input sequence has no time steps")
        return x, unbatched

    def _initial_state(self, state, x, unbatched, what):
        """A given initial state as (num_layers, N, H), or zeros."""
        shape = (self.num_layers, x.shape[1], self.hidden_size)
        if state is None:
            return creation.zeros(shape, device=x.device, dtype=x.dtype)
        if unbatched:
            state = state.unsqueeze(1)
        if state.shape != shape:
            expected = shape if not unbatched else (shape[0], shape[2])
            got = state.shape if not unbatched else state.squeeze(1).shape
            raise ValueError(f"{type(self).__name__}: {what} must have shape {expected}, got {got}")
        return state

    def _output(self, output, unbatched):
        """Undo _time_major: the output in the input's layout."""
        if unbatched:
            return output.squeeze(1)
        return output.swapaxes(0, 1) if self.batch_first else output

    def _final_state(self, states, unbatched):
        """Each layer's last state, stacked to (num_layers, N, H) or (num_layers, H)."""
        state = stack(states)
        return state.squeeze(1) if unbatched else state

    def _between_layers(self, sequence, layer):
        """Dropout on each layer's output except the last (training only), as PyTorch."""
        if self.dropout and self.training and layer < self.num_layers - 1:
            return F.dropout(sequence, self.dropout, True)
        return sequence

    def extra_repr(self):
        text = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            text += f", num_layers={self.num_layers}"
        if self.bias is not True:
            text += f", bias={self.bias}"
        if self.batch_first is not False:
            text += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            text += f", dropout={self.dropout}"
        return text


class RNN(_RNNBase):
    """Elman RNN: h_t = tanh(x_t W_ih^T + b_ih + h_(t-1) W_hh^T + b_hh) (or relu).

    RNN(input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
    batch_first=False, dropout=0.0, device=None, dtype=None)
    forward(input, hx=None) -> (output, h_n): output holds the last layer's h_t for
    every t; h_n each layer's last h.  Layer k > 0 reads layer k-1's outputs.
    """

    def __init__(
        self,
        input_size,
        hidden_size,
        num_layers=1,
        nonlinearity="tanh",
        bias=True,
        batch_first=False,
        dropout=0.0,
        device=None,
        dtype=None,
    ):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.nonlinearity = nonlinearity  # plain attributes may be set before __init__
        super().__init__(
            input_size, hidden_size, num_layers, bias, batch_first, dropout, device, dtype
        )

    def forward(self, input, hx=None):
        x, unbatched = self._time_major(input)
        h0 = self._initial_state(hx, x, unbatched, "hx")
        last_h = []
        for layer in range(self.num_layers):
            w_ih, w_hh, b_ih, b_hh = self._layer_weights(layer)
            # The input's share does not depend on h: one product for all time steps.
            from_input = F.linear(x, w_ih, b_ih)  # (L, N, H)
            h = h0[layer]
            outputs = []
            for t in range(x.shape[0]):
                start = autograd.next_seq()  # this step's ops: drawings box and fold them
                pre_activation = from_input[t] + F.linear(h, w_hh, b_hh)
                if self.nonlinearity == "tanh":
                    h = pre_activation.tanh()
                else:
                    h = pre_activation.relu()
                outputs.append(h)
                autograd.note_scope(self, start, (layer, t))
            last_h.append(h)
            x = self._between_layers(stack(outputs), layer)
        return self._output(x, unbatched), self._final_state(last_h, unbatched)


class LSTM(_RNNBase):
    """Long short-term memory, PyTorch's equations (gates stacked i, f, g, o in the
    4*hidden_size rows of each weight and bias):

        i = sigmoid(x W_ii^T + b_ii + h W_hi^T + b_hi)     input gate
        f = sigmoid(x W_if^T + b_if + h W_hf^T + b_hf)     forget gate
        g = tanh(x W_ig^T + b_ig + h W_hg^T + b_hg)        candidate cell
        o = sigmoid(x W_io^T + b_io + h W_ho^T + b_ho)     output gate
        c' = f * c + i * g,   h' = o * tanh(c')

    LSTM(input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
    dropout=0.0, device=None, dtype=None)
    forward(input, hx=None) with hx = (h_0, c_0) -> (output, (h_n, c_n)).
    """

    gates = 4

    def forward(self, input, hx=None):
        x, unbatched = self._time_major(input)
        h0, c0 = (None, None) if hx is None else hx
        h0 = self._initial_state(h0, x, unbatched, "h_0")
        c0 = self._initial_state(c0, x, unbatched, "c_0")
        size = self.hidden_size
        last_h, last_c = [], []
        for layer in range(self.num_layers):
            w_ih, w_hh, b_ih, b_hh = self._layer_weights(layer)
            from_input = F.linear(x, w_ih, b_ih)  # (L, N, 4H): one product for all steps
            h, c = h0[layer], c0[layer]
            outputs = []
            for t in range(x.shape[0]):
                start = autograd.next_seq()  # this step's ops: drawings box and fold them
                gates = from_input[t] + F.linear(h, w_hh, b_hh)
                i = gates[..., 0:size].sigmoid()
                f = gates[..., size : 2 * size].sigmoid()
                g = gates[..., 2 * size : 3 * size].tanh()
                o = gates[..., 3 * size : 4 * size].sigmoid()
                c = f * c + i * g
                h = o * c.tanh()
                outputs.append(h)
                autograd.note_scope(self, start, (layer, t))
            last_h.append(h)
            last_c.append(c)
            x = self._between_layers(stack(outputs), layer)
        h_n = self._final_state(last_h, unbatched)
        c_n = self._final_state(last_c, unbatched)
        return self._output(x, unbatched), (h_n, c_n)

"""Recurrent cells and layers written by hand, with PyTorch's parameter names and layouts.

Defined in Day 12. The cells (``rnn_cell``, ``lstm_cell``, ``gru_cell``) are one time step, written
from the equations; ``HandRNN`` runs them over a sequence (any number of layers, one or two
directions, ``batch_first`` or not, optional per-sequence ``lengths``). Parameters carry the names of
``nn.RNN``/``nn.LSTM``/``nn.GRU`` (``weight_ih_l0``, ``bias_hh_l1_reverse``...) and of the ``*Cell``
modules (``weight_ih``...), so ``hand.load_state_dict(torch_module.state_dict())`` copies the weights.

Gate order, as in PyTorch: LSTM rows are (i, f, g, o); GRU rows are (r, z, n), with the reset gate
applied *after* the hidden projection: ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import nn

MODES = ("rnn_tanh", "rnn_relu", "lstm", "gru")
_GATES = {"rnn_tanh": 1, "rnn_relu": 1, "lstm": 4, "gru": 3}


class LSTMGates(NamedTuple):
    """The four LSTM activations of one step, each (batch, hidden): input, forget, candidate, output."""

    i: torch.Tensor
    f: torch.Tensor
    g: torch.Tensor
    o: torch.Tensor


# ---------------------------------------------------------------- one time step
def rnn_cell(x: torch.Tensor, h: torch.Tensor, weight_ih: torch.Tensor, weight_hh: torch.Tensor,
             bias_ih: torch.Tensor | None = None, bias_hh: torch.Tensor | None = None,
             nonlinearity: str = "tanh") -> torch.Tensor:
    """One Elman step: ``h' = act(W_ih x + b_ih + W_hh h + b_hh)``. Defined in Day 12.

    Shapes: x (batch, input), h (batch, hidden), weight_ih (hidden, input), weight_hh (hidden, hidden).
    """
    pre = x @ weight_ih.T + h @ weight_hh.T
    if bias_ih is not None:
        pre = pre + bias_ih + bias_hh
    if nonlinearity == "tanh":
        return torch.tanh(pre)
    if nonlinearity == "relu":
        return torch.relu(pre)
    raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")


def lstm_cell(x: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor], weight_ih: torch.Tensor,
              weight_hh: torch.Tensor, bias_ih: torch.Tensor | None = None,
              bias_hh: torch.Tensor | None = None,
              return_gates: bool = False) -> tuple[torch.Tensor, torch.Tensor] | tuple[
                  tuple[torch.Tensor, torch.Tensor], LSTMGates]:
    """One LSTM step; returns ``(h', c')`` (and the gates with ``return_gates``). Defined in Day 12.

    ``i, f, o = sigmoid(.)``, ``g = tanh(.)`` of ``W_ih x + b_ih + W_hh h + b_hh`` split in four
    (rows in the order i, f, g, o); ``c' = f * c + i * g`` and ``h' = o * tanh(c')``.
    """
    h, c = state
    pre = x @ weight_ih.T + h @ weight_hh.T
    if bias_ih is not None:
        pre = pre + bias_ih + bias_hh
    pre_i, pre_f, pre_g, pre_o = pre.chunk(4, dim=-1)
    gates = LSTMGates(torch.sigmoid(pre_i), torch.sigmoid(pre_f), torch.tanh(pre_g), torch.sigmoid(pre_o))
    c_new = gates.f * c + gates.i * gates.g
    h_new = gates.o * torch.tanh(c_new)
    return ((h_new, c_new), gates) if return_gates else (h_new, c_new)


def gru_cell(x: torch.Tensor, h: torch.Tensor, weight_ih: torch.Tensor, weight_hh: torch.Tensor,
             bias_ih: torch.Tensor | None = None, bias_hh: torch.Tensor | None = None) -> torch.Tensor:
    """One GRU step, PyTorch's variant (reset gate after the hidden projection). Defined in Day 12.

    ``r, z = sigmoid(.)``; ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``; ``h' = (1 - z) * n + z * h``.
    """
    gi = x @ weight_ih.T
    gh = h @ weight_hh.T
    if bias_ih is not None:
        gi, gh = gi + bias_ih, gh + bias_hh
    i_r, i_z, i_n = gi.chunk(3, dim=-1)
    h_r, h_z, h_n = gh.chunk(3, dim=-1)
    r = torch.sigmoid(i_r + h_r)
    z = torch.sigmoid(i_z + h_z)
    n = torch.tanh(i_n + r * h_n)
    return (1 - z) * n + z * h


def _step(mode: str, x: torch.Tensor, state: torch.Tensor | tuple[torch.Tensor, torch.Tensor],
          params: list[torch.Tensor | None]) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    if mode == "lstm":
        return lstm_cell(x, state, *params)  # type: ignore[arg-type, return-value]
    if mode == "gru":
        return gru_cell(x, state, *params)  # type: ignore[arg-type]
    return rnn_cell(x, state, *params, nonlinearity=mode.removeprefix("rnn_"))  # type: ignore[arg-type]


def _check_mode(mode: str) -> str:
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    return mode


# ---------------------------------------------------------------- cell modules (nn.*Cell names)
class HandCell(nn.Module):
    """One recurrent step as a module, with ``nn.RNNCell``/``nn.LSTMCell``/``nn.GRUCell``'s parameters.

    Defined in Day 12. ``forward(x, state=None)`` takes x of shape (batch, input) or (input,) and
    returns what the torch cell returns: ``h'`` (RNN, GRU) or ``(h', c')`` (LSTM).
    """

    def __init__(self, mode: str, input_size: int, hidden_size: int, bias: bool = True) -> None:
        super().__init__()
        self.mode = _check_mode(mode)
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        rows = _GATES[mode] * hidden_size
        self.weight_ih = nn.Parameter(torch.empty(rows, input_size))
        self.weight_hh = nn.Parameter(torch.empty(rows, hidden_size))
        self.bias_ih = nn.Parameter(torch.empty(rows)) if bias else None
        self.bias_hh = nn.Parameter(torch.empty(rows)) if bias else None
        bound = 1 / math.sqrt(hidden_size)  # PyTorch's default: U(-1/sqrt(H), 1/sqrt(H)) for every tensor
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    def forward(self, x: torch.Tensor, state: torch.Tensor | tuple[torch.Tensor, torch.Tensor] | None = None
                ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        if x.shape[-1] != self.input_size:
            raise ValueError(f"expected input of size {self.input_size} in the last axis, "
                             f"got {tuple(x.shape)}")
        unbatched = x.ndim == 1
        if unbatched:
            x = x.unsqueeze(0)
            if state is not None:
                state = (tuple(s.unsqueeze(0) for s in state) if isinstance(state, tuple)
                         else state.unsqueeze(0))
        if state is None:
            zeros = x.new_zeros(x.shape[0], self.hidden_size)
            state = (zeros, zeros) if self.mode == "lstm" else zeros
        out = _step(self.mode, x, state, [self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh])
        if unbatched:
            out = tuple(o.squeeze(0) for o in out) if isinstance(out, tuple) else out.squeeze(0)
        return out


# ---------------------------------------------------------------- sequence layer (nn.RNN/LSTM/GRU names)
class HandRNN(nn.Module):
    """A Python loop over time steps that returns exactly what ``nn.RNN``/``nn.LSTM``/``nn.GRU`` return.

    Defined in Day 12. ``mode`` is ``"rnn_tanh"``, ``"rnn_relu"``, ``"lstm"`` or ``"gru"``; the other
    arguments mean what they mean in torch (no dropout, no ``proj_size``). ``forward(x, state, lengths)``
    returns ``(output, h_n)`` or, for the LSTM, ``(output, (h_n, c_n))``. With ``lengths`` (one per
    sequence, right padding), each sequence stops at its own length: outputs at pads are 0, ``h_n`` is the
    state after the last real token, and the backward direction starts at that token; this is what
    ``pack_padded_sequence`` gives the torch modules.
    """

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, bidirectional: bool = False) -> None:
        super().__init__()
        self.mode = _check_mode(mode)
        if num_layers < 1:
            raise ValueError(f"num_layers must be >= 1, got {num_layers}")
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.bidirectional = bias, batch_first, bidirectional
        self.num_directions = 2 if bidirectional else 1
        rows = _GATES[mode] * hidden_size
        bound = 1 / math.sqrt(hidden_size)
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else hidden_size * self.num_directions
            for suffix in self._suffixes(layer):
                shapes = {"weight_ih": (rows, layer_input), "weight_hh": (rows, hidden_size)}
                if bias:
                    shapes.update({"bias_ih": (rows,), "bias_hh": (rows,)})
                for name, shape in shapes.items():
                    param = nn.Parameter(torch.empty(shape))
                    nn.init.uniform_(param, -bound, bound)
                    self.register_parameter(name + suffix, param)

    def _suffixes(self, layer: int) -> list[str]:
        return [f"_l{layer}"] + ([f"_l{layer}_reverse"] if self.bidirectional else [])

    def _params(self, suffix: str) -> list[torch.Tensor | None]:
        names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
        return [getattr(self, n + suffix) if (self.bias or n.startswith("weight")) else None for n in names]

    def forward(self, x: torch.Tensor, state: torch.Tensor | tuple[torch.Tensor, torch.Tensor] | None = None,
                lengths: torch.Tensor | None = None):
        """x: (T, B, input), or (B, T, input) if ``batch_first``; state: torch's ``h_0`` or ``(h_0, c_0)``."""
        if x.ndim != 3 or x.shape[-1] != self.input_size:
            raise ValueError(f"expected a 3-D input with {self.input_size} features in the last axis "
                             f"(batch_first={self.batch_first}), got shape {tuple(x.shape)}")
        if self.batch_first:
            x = x.transpose(0, 1)
        steps, batch = x.shape[:2]
        if lengths is not None:
            lengths = torch.as_tensor(lengths, device=x.device)
            if lengths.shape != (batch,) or (lengths < 1).any() or (lengths > steps).any():
                raise ValueError(f"lengths must hold {batch} values in 1..{steps}, got {lengths.tolist()}")
        count = self.num_layers * self.num_directions
        if state is None:
            zeros = x.new_zeros(count, batch, self.hidden_size)
            state = (zeros, zeros) if self.mode == "lstm" else zeros
        h0, c0 = state if self.mode == "lstm" else (state, None)
        # mask[t, b] is True while sequence b still has real tokens at step t
        mask = None if lengths is None else (torch.arange(steps, device=x.device)[:, None] < lengths[None, :])

        h_n, c_n, layer_input = [], [], x
        for layer in range(self.num_layers):
            outputs = []
            for direction, suffix in enumerate(self._suffixes(layer)):
                k = layer * self.num_directions + direction
                h = h0[k]
                c = c0[k] if c0 is not None else None
                params = self._params(suffix)
                out = [None] * steps
                order = range(steps - 1, -1, -1) if direction == 1 else range(steps)
                for t in order:
                    new = _step(self.mode, layer_input[t], (h, c) if c is not None else h, params)
                    new_h, new_c = new if c is not None else (new, None)
                    if mask is not None:  # an ended (or, backwards, not yet started) sequence keeps its state
                        keep = mask[t][:, None]
                        new_h = torch.where(keep, new_h, h)
                        new_c = torch.where(keep, new_c, c) if c is not None else None
                        out[t] = new_h * keep
                    else:
                        out[t] = new_h
                    h, c = new_h, new_c
                outputs.append(torch.stack(out))
                h_n.append(h)
                c_n.append(c)
            layer_input = torch.cat(outputs, dim=-1)
        output = layer_input.transpose(0, 1) if self.batch_first else layer_input
        hidden = torch.stack(h_n)
        return (output, (hidden, torch.stack(c_n))) if self.mode == "lstm" else (output, hidden)


def torch_twin(hand: HandRNN | HandCell) -> nn.Module:
    """The torch module with ``hand``'s configuration and a copy of its weights. Defined in Day 12."""
    if isinstance(hand, HandCell):
        kwargs = {"bias": hand.bias}
        if hand.mode == "lstm":
            twin: nn.Module = nn.LSTMCell(hand.input_size, hand.hidden_size, **kwargs)
        elif hand.mode == "gru":
            twin = nn.GRUCell(hand.input_size, hand.hidden_size, **kwargs)
        else:
            twin = nn.RNNCell(hand.input_size, hand.hidden_size, nonlinearity=hand.mode[4:], **kwargs)
    else:
        kwargs = {"num_layers": hand.num_layers, "bias": hand.bias, "batch_first": hand.batch_first,
                  "bidirectional": hand.bidirectional}
        if hand.mode == "lstm":
            twin = nn.LSTM(hand.input_size, hand.hidden_size, **kwargs)
        elif hand.mode == "gru":
            twin = nn.GRU(hand.input_size, hand.hidden_size, **kwargs)
        else:
            twin = nn.RNN(hand.input_size, hand.hidden_size, nonlinearity=hand.mode[4:], **kwargs)
    twin.load_state_dict(hand.state_dict())
    p = next(hand.parameters())
    return twin.to(device=p.device, dtype=p.dtype)


# ---------------------------------------------------------------- a sentence classifier (Day 13)
class SentimentRNN(nn.Module):
    """Embedding -> packed RNN/LSTM/GRU -> final state -> linear: a classifier that never reads pads.

    Defined in Day 13. ``cell`` is ``"rnn"``, ``"lstm"`` or ``"gru"``. ``forward(input_ids, lengths,
    labels=None, attention_mask=None)`` takes the dict batches of ``helpers.text.pad_collate`` (right
    padding) and returns ``{"logits": (batch, num_classes)}``, plus ``"loss"`` (cross-entropy) when
    ``labels`` are given: the ``helpers.Trainer`` contract. The batch is packed, so each sequence stops
    at its own length, and the classifier reads ``h_n`` (both directions' final states when
    ``bidirectional``), not ``output[:, -1]``.
    """

    CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}

    def __init__(self, cell: str, vocab_size: int, embed_dim: int, hidden_size: int, pad_id: int,
                 num_classes: int = 2, num_layers: int = 1, bidirectional: bool = False,
                 dropout: float = 0.0) -> None:
        super().__init__()
        if cell not in self.CELLS:
            raise ValueError(f"cell must be one of {sorted(self.CELLS)}, got {cell!r}")
        self.cell, self.pad_id, self.bidirectional = cell, pad_id, bidirectional
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=pad_id)
        self.rnn = self.CELLS[cell](embed_dim, hidden_size, num_layers=num_layers, batch_first=True,
                                    bidirectional=bidirectional, dropout=dropout if num_layers > 1 else 0.0)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size * (2 if bidirectional else 1), num_classes)

    def features(self, input_ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """The final hidden state of each sequence, (batch, hidden × directions)."""
        from helpers.text import final_state, pack

        packed = pack(self.embedding(input_ids), lengths, batch_first=True)
        _, h_n = self.rnn(packed)
        if isinstance(h_n, tuple):  # the LSTM returns (h_n, c_n)
            h_n = h_n[0]
        return final_state(h_n, bidirectional=self.bidirectional)

    def forward(self, input_ids: torch.Tensor, lengths: torch.Tensor, labels: torch.Tensor | None = None,
                attention_mask: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        logits = self.head(self.dropout(self.features(input_ids, lengths)))
        out = {"logits": logits}
        if labels is not None:
            out["loss"] = nn.functional.cross_entropy(logits, labels)
        return out


@torch.no_grad()
def pad_invariance_gap(model: nn.Module, input_ids: torch.Tensor, lengths: torch.Tensor, pad_id: int,
                       extra: int = 7) -> float:
    """Largest change of any logit when ``extra`` pad columns are appended to a right-padded batch.

    Defined in Day 13. A classifier that reads only real tokens gives 0 (up to rounding); one that reads
    ``output[:, -1]`` does not.
    """
    model.eval()
    pads = input_ids.new_full((input_ids.shape[0], extra), pad_id)
    longer = torch.cat([input_ids, pads], dim=1)
    positions = torch.arange(longer.shape[1], device=longer.device)
    mask = (positions[None] < lengths.to(longer.device)[:, None]).long()
    before = model(input_ids=input_ids, lengths=lengths, attention_mask=mask[:, :input_ids.shape[1]])
    before = before["logits"]
    after = model(input_ids=longer, lengths=lengths, attention_mask=mask)["logits"]
    return (before - after).abs().max().item()


@torch.no_grad()
def per_example_gap(model: nn.Module, input_ids: torch.Tensor, lengths: torch.Tensor) -> float:
    """Largest difference between the batched (padded, packed) logits and each example run alone, unpadded.

    Defined in Day 13.
    """
    model.eval()
    batched = model(input_ids=input_ids, lengths=lengths)["logits"]
    alone = torch.cat([model(input_ids=input_ids[i:i + 1, :n], lengths=lengths[i:i + 1])["logits"]
                       for i, n in enumerate(lengths.tolist())])
    return (batched - alone).abs().max().item()

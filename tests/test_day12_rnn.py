"""Day 12: the hand-written RNN, LSTM and GRU equal torch's cells and layers with copied weights."""

from __future__ import annotations

import itertools

import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from helpers.rnn import MODES, HandCell, HandRNN, gru_cell, lstm_cell, torch_twin

TOL = {"rtol": 0, "atol": 1e-6}


def _states(mode: str, result):
    """The returned tensors as a flat list: output, h_n (and c_n for the LSTM)."""
    output, hidden = result
    return [output, *hidden] if mode == "lstm" else [output, hidden]


@pytest.mark.parametrize(("mode", "bidirectional", "batch_first", "num_layers"),
                         list(itertools.product(MODES, (False, True), (False, True), (1, 2))))
def test_hand_layer_equals_torch_layer(mode: str, bidirectional: bool, batch_first: bool,
                                       num_layers: int) -> None:
    torch.manual_seed(0)
    hand = HandRNN(mode, 5, 7, num_layers=num_layers, batch_first=batch_first, bidirectional=bidirectional)
    twin = torch_twin(hand)
    x = torch.randn(3, 9, 5) if batch_first else torch.randn(9, 3, 5)
    count = num_layers * (2 if bidirectional else 1)
    h0 = torch.randn(count, 3, 7)
    state = (h0, torch.randn(count, 3, 7)) if mode == "lstm" else h0
    for mine, ref in zip(_states(mode, hand(x, state)), _states(mode, twin(x, state)), strict=True):
        torch.testing.assert_close(mine, ref, **TOL)


@pytest.mark.parametrize(("mode", "bidirectional", "batch_first"),
                         list(itertools.product(MODES, (False, True), (False, True))))
def test_hand_layer_with_lengths_equals_packed_torch_layer(mode: str, bidirectional: bool,
                                                           batch_first: bool) -> None:
    torch.manual_seed(1)
    hand = HandRNN(mode, 4, 6, num_layers=2, batch_first=batch_first, bidirectional=bidirectional)
    twin = torch_twin(hand)
    lengths = torch.tensor([8, 3, 5, 1])
    x = torch.randn(4, 8, 4) if batch_first else torch.randn(8, 4, 4)
    packed = pack_padded_sequence(x, lengths, batch_first=batch_first, enforce_sorted=False)
    out_packed, hidden = twin(packed)
    output, _ = pad_packed_sequence(out_packed, batch_first=batch_first, total_length=8)
    mine_all = _states(mode, hand(x, lengths=lengths))
    for mine, ref in zip(mine_all, _states(mode, (output, hidden)), strict=True):
        torch.testing.assert_close(mine, ref, **TOL)


@pytest.mark.parametrize("mode", MODES)
def test_hand_layer_gradients_equal_torch(mode: str) -> None:
    torch.manual_seed(2)
    hand = HandRNN(mode, 3, 5, bidirectional=True).double()
    twin = torch_twin(hand)
    x = torch.randn(6, 2, 3, dtype=torch.float64)
    hand(x)[0].pow(2).sum().backward()
    twin(x)[0].pow(2).sum().backward()
    for (name, p), q in zip(hand.named_parameters(), twin.parameters(), strict=True):
        torch.testing.assert_close(p.grad, q.grad, rtol=1e-10, atol=1e-10, msg=name)


@pytest.mark.parametrize("mode", MODES)
def test_hand_cell_equals_torch_cell(mode: str) -> None:
    torch.manual_seed(3)
    cell = HandCell(mode, 4, 6)
    twin = torch_twin(cell)
    x = torch.randn(5, 4)
    h = torch.randn(5, 6)
    state = (h, torch.randn(5, 6)) if mode == "lstm" else h
    mine, ref = cell(x, state), twin(x, state)
    for a, b in zip(mine if mode == "lstm" else [mine], ref if mode == "lstm" else [ref], strict=True):
        torch.testing.assert_close(a, b, **TOL)
    # unbatched input, no state: torch accepts it too
    mine, ref = cell(x[0]), twin(x[0])
    for a, b in zip(mine if mode == "lstm" else [mine], ref if mode == "lstm" else [ref], strict=True):
        torch.testing.assert_close(a, b, **TOL)


def test_gru_reset_gate_placement_matters() -> None:
    """Resetting h before the hidden projection (d2l's scratch GRU) is a different function."""
    torch.manual_seed(4)
    cell = nn.GRUCell(3, 4)
    x, h = torch.randn(2, 3), torch.randn(2, 4)
    w_ir, w_iz, w_in = cell.weight_ih.chunk(3)
    w_hr, w_hz, w_hn = cell.weight_hh.chunk(3)
    b_ir, b_iz, b_in = cell.bias_ih.chunk(3)
    b_hr, b_hz, b_hn = cell.bias_hh.chunk(3)
    r = torch.sigmoid(x @ w_ir.T + b_ir + h @ w_hr.T + b_hr)
    z = torch.sigmoid(x @ w_iz.T + b_iz + h @ w_hz.T + b_hz)
    n_before = torch.tanh(x @ w_in.T + b_in + (r * h) @ w_hn.T + b_hn)
    d2l_style = (1 - z) * n_before + z * h
    ours = gru_cell(x, h, cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)
    torch.testing.assert_close(ours, cell(x, h), **TOL)
    assert (d2l_style - cell(x, h)).abs().max() > 1e-3


def test_lstm_gates_are_returned_and_in_range() -> None:
    torch.manual_seed(5)
    cell = nn.LSTMCell(3, 4)
    x, h, c = torch.randn(2, 3), torch.randn(2, 4), torch.randn(2, 4)
    (h_new, c_new), gates = lstm_cell(x, (h, c), cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh,
                                      return_gates=True)
    torch.testing.assert_close(c_new, gates.f * c + gates.i * gates.g)
    for name in ("i", "f", "o"):
        value = getattr(gates, name)
        assert ((value > 0) & (value < 1)).all(), name
    assert (gates.g.abs() < 1).all()


def test_bad_input_is_explained() -> None:
    with pytest.raises(ValueError, match="mode must be one of"):
        HandRNN("transformer", 2, 3)
    layer = HandRNN("gru", 2, 3, batch_first=True)
    with pytest.raises(ValueError, match="3-D input with 2 features"):
        layer(torch.randn(4, 5, 3))
    with pytest.raises(ValueError, match="lengths must hold"):
        layer(torch.randn(4, 5, 2), lengths=torch.tensor([5, 6, 1, 2]))


def test_a_wrong_cell_fails_the_comparison() -> None:
    """The check can fail: swapping the LSTM's forget and input rows gives a different output."""
    torch.manual_seed(6)
    hand = HandRNN("lstm", 3, 4)
    twin = torch_twin(hand)
    with torch.no_grad():
        i, f, g, o = hand.weight_ih_l0.chunk(4)
        hand.weight_ih_l0.copy_(torch.cat([f, i, g, o]))
    x = torch.randn(5, 2, 3)
    assert (hand(x)[0] - twin(x)[0]).abs().max() > 1e-4

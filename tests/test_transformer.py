"""helpers.transformer: the encoder-decoder equals nn.Transformer, label smoothing equals PyTorch's,
and the decoding step drives helpers.decoding correctly (Days 21-22)."""

from __future__ import annotations

import warnings

import pytest
import torch
from torch import nn

from helpers.decoding import beam_search, greedy_search
from helpers.transformer import (
    PositionalEncoding,
    Seq2SeqTransformer,
    Transformer,
    causal_mask,
    decoding_step,
    from_torch_state,
    label_smoothed_cross_entropy,
    padding_mask,
)


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("seed", [0, 1])
def test_transformer_equals_nn_transformer(norm_first: bool, seed: int) -> None:
    torch.manual_seed(seed)
    d, heads, n_enc, n_dec, d_ff = (16, 4, 2, 3, 24) if seed == 0 else (12, 3, 1, 2, 40)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = nn.Transformer(d, heads, n_enc, n_dec, d_ff, dropout=0.0, batch_first=True,
                                   norm_first=norm_first)
    mine = Transformer(d, heads, n_enc, n_dec, d_ff, dropout=0.0, norm_first=norm_first)
    mine.load_state_dict(from_torch_state(reference.state_dict()))
    src, tgt = torch.randn(3, 8, d), torch.randn(3, 6, d)
    src_pad = padding_mask(torch.tensor([8, 5, 2]), 8)
    masks = {"tgt_mask": causal_mask(6), "src_key_padding_mask": src_pad,
             "tgt_key_padding_mask": padding_mask(torch.tensor([6, 6, 3]), 6),
             "memory_key_padding_mask": src_pad}
    torch.testing.assert_close(mine(src, tgt, **masks), reference(src, tgt, **masks), atol=1e-5, rtol=1e-5)
    # without the causal mask the outputs must differ: the check can fail
    unmasked = mine(src, tgt, src_key_padding_mask=src_pad, memory_key_padding_mask=src_pad)
    assert not torch.allclose(unmasked, reference(src, tgt, **masks), atol=1e-4)


@pytest.mark.parametrize("epsilon", [0.0, 0.1, 0.25, 1.0])
def test_label_smoothing_equals_torch(epsilon: float) -> None:
    generator = torch.Generator().manual_seed(3)
    logits = torch.randn(5, 7, 30, generator=generator) * 3
    target = torch.randint(1, 30, (5, 7), generator=generator)
    target[0, 4:] = 0
    target[3, 1:] = 0
    reference = nn.CrossEntropyLoss(label_smoothing=epsilon, ignore_index=0)
    expected = reference(logits.flatten(0, 1), target.flatten())
    mine = label_smoothed_cross_entropy(logits, target, epsilon, ignore_index=0)
    torch.testing.assert_close(mine, expected)


def test_label_smoothing_errors() -> None:
    logits = torch.randn(4, 5)
    with pytest.raises(ValueError, match="epsilon"):
        label_smoothed_cross_entropy(logits, torch.zeros(4, dtype=torch.long), 1.5)
    with pytest.raises(ValueError, match="ignore_index"):
        label_smoothed_cross_entropy(logits, torch.zeros(4, dtype=torch.long), 0.1, ignore_index=0)
    with pytest.raises(ValueError, match="do not match"):
        label_smoothed_cross_entropy(logits, torch.zeros(3, dtype=torch.long), 0.1)


def _model(positional: type[nn.Module] = PositionalEncoding) -> Seq2SeqTransformer:
    torch.manual_seed(0)
    return Seq2SeqTransformer(20, d_model=16, num_heads=2, num_encoder_layers=1, num_decoder_layers=1,
                              d_ff=32, dropout=0.0, positional=positional).eval()


def test_decoding_step_greedy_equals_beam_one_and_teacher_forcing() -> None:
    model = _model()
    src = torch.tensor([[5, 6, 7, 8, 9], [10, 11, 12, 0, 0]])
    memory, src_pad = model.encode(src)
    state = {"memory": memory, "src_pad": src_pad}
    greedy = greedy_search(decoding_step(model), state, 2, 1, 2, max_len=6)
    beam = beam_search(decoding_step(model), state, 2, 1, 2, max_len=6, beam_size=1)
    assert [h.tokens for h in greedy] == [b[0].tokens for b in beam]
    for row, hyp in enumerate(greedy):
        tgt_in = torch.tensor([[1, *hyp.tokens]])
        log_probs = model(src[row:row + 1, : int((src[row] != 0).sum())], tgt_in).log_softmax(-1)[0]
        targets = [*hyp.tokens, 2] if hyp.finished else list(hyp.tokens)
        total = sum(log_probs[t, token].item() for t, token in enumerate(targets))
        assert total == pytest.approx(hyp.log_prob, abs=1e-4)


def test_source_padding_changes_nothing() -> None:
    model = _model()
    short = model(torch.tensor([[5, 6, 7]]), torch.tensor([[1, 4, 9]]))
    padded = model(torch.tensor([[5, 6, 7, 0, 0]]), torch.tensor([[1, 4, 9]]))
    torch.testing.assert_close(short, padded, atol=1e-5, rtol=1e-5)


def test_decoder_is_causal() -> None:
    model = _model()
    src = torch.tensor([[5, 6, 7]])
    a = model(src, torch.tensor([[1, 4, 9, 3]]))
    b = model(src, torch.tensor([[1, 4, 9, 15]]))
    torch.testing.assert_close(a[:, :3], b[:, :3])
    assert not torch.allclose(a[:, 3], b[:, 3])


def test_positions_matter() -> None:
    model = _model()
    tgt = torch.tensor([[1, 4]])
    assert not torch.allclose(model(torch.tensor([[5, 6, 7]]), tgt), model(torch.tensor([[7, 6, 5]]), tgt))


def test_embed_rejects_wrong_shape() -> None:
    with pytest.raises(ValueError, match="batch, length"):
        _model().embed(torch.tensor([1, 2, 3]))

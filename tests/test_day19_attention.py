"""Day 19: the attention decoder ignores pads, end to end, and its weights span the whole source."""

from __future__ import annotations

import pytest
import torch

from helpers.attention import AdditiveAttention, LuongAttention
from helpers.corpora.dates import CharVocab, date_pairs, encode_pairs
from helpers.seq2seq import AttentionDecoder, Encoder, Seq2Seq, greedy_decode

SOURCES = ["Wednesday the 3rd of September 2025", "3-Sep-25", "20250903", "the 21st of May, 1999"]


def _model(kind: str, vocab: CharVocab, bidirectional: bool = False) -> Seq2Seq:
    torch.manual_seed(0)
    encoder = Encoder(len(vocab), 8, 16, bidirectional=bidirectional)
    attention = {"dot": LuongAttention("dot"), "general": LuongAttention("general", 16, encoder.output_size),
                 "additive": AdditiveAttention(16, encoder.output_size, 16)}[kind]
    decoder = AttentionDecoder(len(vocab), 8, 16, attention, encoder.output_size)
    return Seq2Seq(encoder, decoder).double().eval()


@pytest.mark.parametrize("kind,bidirectional", [("dot", False), ("general", True), ("additive", True)])
def test_decoding_in_a_padded_batch_equals_decoding_alone(kind, bidirectional):
    vocab = CharVocab([s + t for s, t in date_pairs(300)])
    model = _model(kind, vocab, bidirectional)
    batch = encode_pairs([(s, "") for s in SOURCES], vocab)
    together = greedy_decode(model, batch["src"], batch["src_lengths"], max_len=12)
    assert together.weights.shape[-1] == max(len(s) for s in SOURCES)   # the source axis
    for i, source in enumerate(SOURCES):
        alone_batch = encode_pairs([(source, "")], vocab)
        alone = greedy_decode(model, alone_batch["src"], alone_batch["src_lengths"], max_len=12)
        steps = alone.tokens.shape[1]
        assert together.tokens[i, :steps].tolist() == alone.tokens[0].tolist()
        torch.testing.assert_close(together.weights[i, :steps, : len(source)], alone.weights[0])
        assert (together.weights[i, :, len(source):] == 0).all()           # exactly zero on pads
        torch.testing.assert_close(together.log_prob[i], alone.log_prob[0])


def test_attention_decoder_needs_encoder_outputs():
    vocab = CharVocab("abc")
    model = _model("dot", vocab)
    with pytest.raises(ValueError, match="needs encoder_outputs"):
        model.decoder(torch.ones(1, 2, dtype=torch.long), torch.zeros(1, 1, 16, dtype=torch.float64), None)

"""Day 18: the generated date task, the GRU encoder-decoder, teacher forcing and greedy decoding."""

from __future__ import annotations

import datetime as dt
import random

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from helpers.attention import AdditiveAttention, LuongAttention
from helpers.corpora.dates import (
    DATE_FORMATS,
    CharVocab,
    date_pairs,
    encode_pairs,
    format_date,
    ordinal,
    sequence_pairs,
)
from helpers.seq2seq import (
    AttentionDecoder,
    Decoder,
    Encoder,
    Seq2Seq,
    decode_step_by_step,
    evaluate,
    greedy_decode,
    sequence_loss,
    train_seq2seq,
)

H = 16


# ---------------------------------------------------------------- data
def test_date_pairs_are_correct_and_deterministic():
    pairs = date_pairs(500, seed=3)
    assert pairs == date_pairs(500, seed=3) and pairs != date_pairs(500, seed=4)
    for source, target in pairs:
        date = dt.date.fromisoformat(target)
        assert dt.date(1950, 1, 1) <= date <= dt.date(2049, 12, 31)
        assert source in {format_date(date, fmt) for fmt in DATE_FORMATS}
    assert len(DATE_FORMATS) >= 15
    assert len({format_date(dt.date(2025, 9, 3), fmt) for fmt in DATE_FORMATS}) == len(DATE_FORMATS)


def test_formats_agree_with_strptime():
    """The locale-free spelling equals strftime/strptime's in the C locale."""
    rng = random.Random(0)
    checks = {"{d} {Month} {Y}": "%d %B %Y", "{Mon} {d}, {Y}": "%b %d, %Y", "{mm}/{dd}/{Y}": "%m/%d/%Y",
              "{dd}.{mm}.{Y}": "%d.%m.%Y", "{Weekday}, {Month} {d}, {Y}": "%A, %B %d, %Y",
              "{m}/{d}/{yy}": "%m/%d/%y", "{Y}{mm}{dd}": "%Y%m%d"}
    for _ in range(200):
        date = dt.date(1969, 1, 1) + dt.timedelta(days=rng.randrange(365 * 60))   # %y pivots at 69
        for template, strp in checks.items():
            assert dt.datetime.strptime(format_date(date, template), strp).date() == date
    assert [ordinal(d) for d in (1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 31)] == \
        ["1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "23rd", "31st"]
    with pytest.raises(ValueError, match="unknown field"):
        format_date(dt.date(2000, 1, 1), "{day}")


def test_sequence_pairs_and_vocab():
    for src, tgt in sequence_pairs("reverse", 50, 3, 9, seed=1):
        assert tgt == src[::-1] and 3 <= len(src) <= 9
    assert all(s == t for s, t in sequence_pairs("copy", 20, 1, 4))
    with pytest.raises(ValueError, match="unknown task"):
        sequence_pairs("sort", 3, 1, 2)
    vocab = CharVocab(["abc", "cd"])
    assert vocab.itos[:4] == ["<pad>", "<bos>", "<eos>", "<unk>"] and len(vocab) == 8
    assert vocab.decode(vocab.encode("dab", bos=True, eos=True) + [vocab.stoi["c"]]) == "dab"
    assert vocab.encode("z") == [CharVocab.UNK]
    batch = encode_pairs([("ab", "ba"), ("abcd", "dcba")], vocab)
    assert batch["src"].tolist() == [[4, 5, 0, 0], [4, 5, 6, 7]] and batch["src_lengths"].tolist() == [2, 4]
    assert batch["tgt_in"][0].tolist() == [1, 5, 4, 0, 0] and batch["tgt_out"][0].tolist() == [5, 4, 2, 0, 0]


# ---------------------------------------------------------------- models
def _models(vocab_size: int = 11, bidirectional: bool = False, layers: int = 1) -> dict[str, Seq2Seq]:
    torch.manual_seed(0)
    out = {}
    for name in ("plain", "dot", "general", "additive"):
        enc = Encoder(vocab_size, 8, H, layers, bidirectional=bidirectional)
        size = enc.output_size
        if name == "dot" and size != H:
            continue
        attention = {"dot": LuongAttention("dot"), "general": LuongAttention("general", H, size),
                     "additive": AdditiveAttention(H, size, 12), "plain": None}[name]
        dec = (Decoder(vocab_size, 8, H, layers) if attention is None
               else AttentionDecoder(vocab_size, 8, H, attention, size, layers))
        out[name] = Seq2Seq(enc, dec).double().eval()
    return out


def _batch(vocab_size: int = 11):
    g = torch.Generator().manual_seed(1)
    src_lengths = torch.tensor([7, 3, 5])
    src = torch.randint(4, vocab_size, (3, 7), generator=g)
    src[torch.arange(7) >= src_lengths[:, None]] = 0
    tgt_in = torch.randint(4, vocab_size, (3, 6), generator=g)
    tgt_in[:, 0] = 1
    return src, src_lengths, tgt_in


@pytest.mark.parametrize("bidirectional,layers", [(False, 1), (True, 2)])
def test_teacher_forced_forward_equals_step_by_step(bidirectional, layers):
    src, src_lengths, tgt_in = _batch()
    for name, model in _models(bidirectional=bidirectional, layers=layers).items():
        enc_out, hidden, mask = model.encode(src, src_lengths)
        logits, final, weights = model.decoder(tgt_in, hidden, enc_out, mask)
        log_probs, step_weights = decode_step_by_step(model.decoder, tgt_in, hidden, enc_out, mask, 1.0)
        torch.testing.assert_close(logits.log_softmax(-1), log_probs, msg=name)
        if name == "plain":
            assert weights is None and step_weights is None
        else:
            torch.testing.assert_close(weights, step_weights, msg=name)
            assert weights.shape == (3, 6, 7)


def test_step_by_step_can_fail():
    """Feeding the model's own tokens (free running) gives other log-probabilities than the gold ones."""
    src, src_lengths, tgt_in = _batch()
    model = _models()["plain"]
    enc_out, hidden, mask = model.encode(src, src_lengths)
    gold, _ = decode_step_by_step(model.decoder, tgt_in, hidden, enc_out, mask, 1.0)
    free, _ = decode_step_by_step(model.decoder, tgt_in, hidden, enc_out, mask, 0.0)
    assert not torch.allclose(gold, free)


def test_encoder_ignores_pads():
    """Packed GRU: each sample's outputs and final state equal a run on the unpadded sequence."""
    src, src_lengths, _ = _batch()
    for bidirectional in (False, True):
        torch.manual_seed(0)
        encoder = Encoder(11, 8, H, bidirectional=bidirectional).double()
        outputs, hidden = encoder(src, src_lengths)
        for i, n in enumerate(src_lengths.tolist()):
            alone_out, alone_hidden = encoder(src[i:i + 1, :n], src_lengths[i:i + 1])
            torch.testing.assert_close(outputs[i, :n], alone_out[0])
            torch.testing.assert_close(hidden[:, i], alone_hidden[:, 0])
            assert (outputs[i, n:] == 0).all()
    # the unpacked GRU reads the pads: its final state differs for padded samples (the test can fail)
    raw_out, raw_hidden = encoder.rnn(encoder.embedding(src))
    assert not torch.allclose(raw_hidden[0, 1], encoder.rnn(encoder.embedding(src[1:2, :3]))[1][0, 0])


def test_greedy_is_the_argmax_chain():
    src, src_lengths, _ = _batch()
    for name, model in _models().items():
        decoded = greedy_decode(model, src, src_lengths, max_len=8)
        enc_out, hidden, mask = model.encode(src, src_lengths)
        token = torch.ones(3, dtype=torch.long)
        total = torch.zeros(3, dtype=torch.float64)
        done = torch.zeros(3, dtype=torch.bool)
        for t in range(decoded.tokens.shape[1]):
            log_probs, hidden, weights = model.decoder.step(token, hidden, enc_out, mask)
            token = log_probs.argmax(-1)
            expected = torch.where(done, torch.zeros_like(token), token)
            assert decoded.tokens[:, t].tolist() == expected.tolist(), name
            total += torch.where(done, 0.0, log_probs.max(-1).values)
            if weights is not None:
                torch.testing.assert_close(decoded.weights[:, t], weights.masked_fill(done[:, None], 0.0))
            done |= token == 2
        torch.testing.assert_close(decoded.log_prob, total)
        if decoded.weights is not None:
            assert decoded.weights.shape[-1] == src.shape[1]   # the source axis is the source's length


def test_greedy_stops_at_eos():
    model = _models()["plain"]
    with torch.no_grad():
        model.decoder.out.bias.fill_(0.0)
        model.decoder.out.bias[2] = 100.0   # <eos> always wins
    decoded = greedy_decode(model, *_batch()[:2], max_len=10)
    assert decoded.tokens.tolist() == [[2], [2], [2]]
    with pytest.raises(ValueError, match="max_len"):
        greedy_decode(model, *_batch()[:2], max_len=0)


def test_sequence_loss_ignores_pads():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(2, 4, 5, generator=g)
    target = torch.tensor([[3, 4, 2, 0], [1, 2, 0, 0]])
    real = target != 0
    manual = -(logits.log_softmax(-1).gather(-1, target[..., None])[..., 0])[real].mean()
    torch.testing.assert_close(sequence_loss(logits, target), manual)
    torch.testing.assert_close(sequence_loss(logits.log_softmax(-1), target), manual)
    assert not torch.isclose(F.cross_entropy(logits.flatten(0, 1), target.flatten()), manual)


def test_bad_inputs():
    with pytest.raises(ValueError, match="must match"):
        Seq2Seq(Encoder(5, 4, 8), Decoder(5, 4, 6))
    model = _models()["plain"]
    src, src_lengths, tgt_in = _batch()
    with pytest.raises(ValueError, match="teacher_forcing"):
        decode_step_by_step(model.decoder, tgt_in, *model.encode(src, src_lengths), teacher_forcing=1.5)
    with pytest.raises(ValueError, match="src must be"):
        model.encoder(src, src_lengths[:2])


def test_training_learns_a_tiny_copy_task():
    pairs = sequence_pairs("copy", 256, 1, 3, seed=0, alphabet="abc")
    vocab = CharVocab("abc")
    data = encode_pairs(pairs, vocab)
    torch.manual_seed(0)
    model = Seq2Seq(Encoder(len(vocab), 8, 32), Decoder(len(vocab), 8, 32))
    losses = train_seq2seq(model, data, steps=150, batch_size=32, lr=1e-2)
    assert sum(losses[-10:]) / 10 < 0.3 * sum(losses[:10]) / 10
    scores = evaluate(model, data)
    assert scores["exact"].mean() > 0.8
    # free running on a scheduled ratio goes through the step loop and also learns
    torch.manual_seed(0)
    model = Seq2Seq(Encoder(len(vocab), 8, 32), Decoder(len(vocab), 8, 32))
    losses = train_seq2seq(model, data, steps=60, batch_size=32, lr=1e-2, teacher_forcing=lambda s: 0.5)
    assert losses[-1] < losses[0]


def test_device_path_if_cuda():
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    model = _models()["additive"].float().cuda()
    src, src_lengths, tgt_in = (x.cuda() for x in _batch())
    decoded = greedy_decode(model, src, src_lengths, max_len=5)
    assert decoded.tokens.is_cuda and isinstance(model.decoder.attention, nn.Module)

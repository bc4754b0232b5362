"""Day 20 (translation): BLEU by hand vs sacrebleu, BPE vocabularies, batches, losses, decoding."""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

import pytest
import sacrebleu
import torch
import torch.nn.functional as F

from helpers import translation as tr
from helpers.corpora import freedict
from helpers.decoding import beam_search, greedy_search, seq2seq_step
from helpers.seq2seq import greedy_decode

ROOT = Path(__file__).resolve().parent.parent
WORDS = "the a cat dog sat on mat rug and ran away quickly slowly was is".split()


def random_corpus(seed: int, size: int = 60) -> tuple[list[str], list[str], list[str]]:
    rng = random.Random(seed)
    refs = [" ".join(rng.choices(WORDS, k=rng.randint(3, 12))) for _ in range(size)]
    refs2 = [" ".join(rng.choices(WORDS, k=rng.randint(3, 12))) for _ in range(size)]
    hyps = []
    for ref in refs:  # a noisy copy: dropped, swapped and replaced words
        words = [w for w in ref.split() if rng.random() > 0.2] or ["the"]
        words = [rng.choice(WORDS) if rng.random() < 0.2 else w for w in words]
        if len(words) > 2 and rng.random() < 0.5:
            i = rng.randrange(len(words) - 1)
            words[i], words[i + 1] = words[i + 1], words[i]
        hyps.append(" ".join(words))
    return hyps, refs, refs2


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_bleu_by_hand_equals_sacrebleu(seed: int) -> None:
    hyps, refs, refs2 = random_corpus(seed)
    for streams in ([refs], [refs, refs2]):
        mine = tr.bleu_statistics(hyps, streams)
        ref = sacrebleu.corpus_bleu(hyps, streams, tokenize="none", smooth_method="none", force=True)
        assert list(mine.matches) == ref.counts and list(mine.totals) == ref.totals
        assert (mine.hyp_len, mine.ref_len) == (ref.sys_len, ref.ref_len)
        assert mine.brevity_penalty == pytest.approx(ref.bp, abs=1e-12)
        assert mine.score == pytest.approx(ref.score, abs=1e-9)
        assert tr.corpus_bleu(hyps, streams) == pytest.approx(ref.score, abs=1e-9)


def test_bleu_edge_cases() -> None:
    assert tr.corpus_bleu(["a b c d"], [["a b c d"]]) == pytest.approx(100.0)
    assert tr.corpus_bleu(["x y z w"], [["a b c d"]]) == 0.0  # no match: 0, no smoothing
    short = tr.bleu_statistics(["a b c d"], [["a b c d e f g h"]])
    assert short.brevity_penalty == pytest.approx(2.718281828 ** (1 - 8 / 4))  # exp(1 - r/c)
    clipped = tr.bleu_statistics(["the the the the"], [["the cat"]])
    assert clipped.matches[0] == 1  # clipping
    with pytest.raises(ValueError, match="reference stream"):
        tr.bleu_statistics(["a", "b"], ["a", "b"])  # a stream, not a list of streams


def test_bpe_vocabulary() -> None:
    texts = ["The cat sat on the mat.", "The dog ran away!", "Don't worry, the cat is fine."] * 20
    tokenizer = tr.train_bpe(texts, vocab_size=80, min_frequency=1)
    assert [tokenizer.token_to_id(t) for t in tr.SPECIAL_TOKENS] == [0, 1, 2, 3]
    ids = tr.encode(tokenizer, texts[:3])
    assert tr.decode(tokenizer, ids) == texts[:3]  # spaces restored exactly
    assert all(i not in (tr.PAD_ID, tr.BOS_ID, tr.EOS_ID) for row in ids for i in row)
    assert tr.UNK_ID in tr.encode(tokenizer, ["Zebra"])[0]  # unseen characters
    with pytest.raises(ValueError, match="vocab_size"):
        tr.train_bpe(texts, vocab_size=3)


def test_collate_pads_each_batch_to_its_own_length() -> None:
    batch = tr.collate_pairs([([5, 6, 7], [8]), ([9], [10, 11])])
    assert batch["src"].tolist() == [[5, 6, 7], [9, 0, 0]]
    assert batch["src_lengths"].tolist() == [3, 1]
    assert batch["tgt_in"].tolist() == [[1, 8, 0], [1, 10, 11]]
    assert batch["tgt_out"].tolist() == [[8, 2, 0], [10, 11, 2]]
    data = tr.PairDataset([[1, 2], [3] * 50], [[4], [5]], max_tokens=40)
    assert len(data) == 1 and data.kept == [0]
    with pytest.raises(ValueError, match="no tokens"):
        tr.PairDataset([[]], [[1]])


def tiny_translator(seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return tr.build_translator(30, 25, embed_size=8, hidden_size=12).eval()


def tiny_batch(seed: int = 0) -> dict[str, torch.Tensor]:
    rng = random.Random(seed)
    pairs = [
        (
            [rng.randrange(4, 30) for _ in range(rng.randint(1, 7))],
            [rng.randrange(4, 25) for _ in range(rng.randint(1, 6))],
        )
        for _ in range(6)
    ]
    return tr.collate_pairs(pairs)


def test_token_nll_masks_pads_like_ignore_index() -> None:
    model, batch = tiny_translator(), tiny_batch()
    logits = model(batch["src"], batch["src_lengths"], batch["tgt_in"])
    flat_logits, flat_targets = logits.flatten(0, 1), batch["tgt_out"].flatten()
    masked = F.cross_entropy(flat_logits, flat_targets, ignore_index=tr.PAD_ID)
    with_pads = F.cross_entropy(flat_logits, flat_targets)
    assert tr.token_nll(model, [batch]) == pytest.approx(masked.item(), abs=1e-6)
    assert tr.token_nll(model, [batch], include_pads=True) == pytest.approx(with_pads.item(), abs=1e-6)
    longer = tr.token_nll(model, [batch], include_pads=True, pad_to=20)  # one global length, more pads
    assert longer != pytest.approx(with_pads.item(), abs=1e-4)
    with pytest.raises(ValueError, match="pad_to"):
        tr.token_nll(model, [batch], pad_to=2)


def test_translator_ignores_source_pads() -> None:
    model, batch = tiny_translator(), tiny_batch()
    logits = model(batch["src"], batch["src_lengths"], batch["tgt_in"])
    padded = F.pad(batch["src"], (0, 5), value=tr.PAD_ID)
    assert torch.allclose(model(padded, batch["src_lengths"], batch["tgt_in"]), logits, atol=1e-6)


@pytest.mark.parametrize("seed", [0, 1])
def test_decoding_a_translator(seed: int) -> None:
    model, batch = tiny_translator(seed), tiny_batch(seed)
    step, state = seq2seq_step(model, batch["src"], batch["src_lengths"])
    mine = greedy_search(step, state, 6, tr.BOS_ID, tr.EOS_ID, max_len=8)
    reference = greedy_decode(
        model, batch["src"], batch["src_lengths"], max_len=8
    )  # helpers.seq2seq (day 18)
    for row, hyp in enumerate(mine):
        tokens = reference.tokens[row].tolist()
        expected = tokens[: tokens.index(tr.EOS_ID)] if tr.EOS_ID in tokens else tokens
        assert list(hyp.tokens) == expected
        assert hyp.log_prob == pytest.approx(reference.log_prob[row].item(), abs=1e-5)
    beam = beam_search(step, state, 6, tr.BOS_ID, tr.EOS_ID, max_len=8, beam_size=1, length_penalty=1.0)
    assert [h[0].tokens for h in beam] == [h.tokens for h in mine]
    wide = tr.translate(
        model,
        [row[:n].tolist() for row, n in zip(batch["src"], batch["src_lengths"], strict=True)],
        beam_size=4,
        max_len=8,
    )
    assert len(wide) == 6


def test_split_pairs_keeps_repeated_sentences_apart() -> None:
    pairs = [(f"sentence {i % 90}.", f"Satz {i}.") for i in range(100)]  # 10 sources appear twice
    pairs += [(f"other {i}.", f"Satz {i % 5}.") for i in range(20)]  # targets shared with other sources
    train, valid, test = tr.split_pairs(pairs, 25, 25, seed=0)
    assert sorted(train + valid + test) == sorted(pairs)
    assert not {s for s, _ in train} & {s for s, _ in valid + test}
    assert not {t for _, t in train} & {t for _, t in valid + test}
    assert tr.split_pairs(pairs, 25, 25, seed=0) == (train, valid, test)
    with pytest.raises(ValueError, match="no training pairs"):
        tr.split_pairs(pairs, 60, 60, seed=0)


def test_checkpoint_command_runs_a_few_steps(tmp_path: Path) -> None:
    if not freedict.pairs_path().exists():
        pytest.skip("the FreeDict package is not fetched (python -m helpers.data fetch-offline)")
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import train_day20_translator
    finally:
        sys.path.pop(0)
    log = train_day20_translator.main(["--steps", "2", "--eval-every", "2", "--out", str(tmp_path / "ck")])
    assert (tmp_path / "ck.safetensors").exists()
    saved = json.loads((tmp_path / "ck_log.json").read_text())
    assert saved["steps"] == 2 and saved["history"][-1]["step"] == 2
    assert set(saved["history"][-1]) >= {
        "train_loss",
        "valid_nll",
        "valid_nll_with_pads",
        "valid_bleu",
        "train_bleu",
    }
    assert log["vocabularies"] == saved["vocabularies"]

"""Machine translation plumbing: subword vocabularies, padded batches, and BLEU written out by hand.

Defined in Day 20 (translation); reused by the later sequence-to-sequence days.

- :func:`train_bpe` trains a byte-pair-encoding vocabulary with the ``tokenizers`` library on the training
  split only, with the special tokens ``<pad>`` = 0, ``<bos>`` = 1, ``<eos>`` = 2 (the ids of
  ``helpers.seq2seq``) and ``<unk>`` = 3. Spaces become the marker ``▁`` (SentencePiece's convention), so
  ``decode(encode(text)) == text`` for any normalised text: BLEU is computed on real detokenised output.
- :class:`PairDataset` and :func:`collate_pairs`: each batch is padded to *its own* longest sequence (never to
  a global maximum), in the batch format of ``helpers.seq2seq`` (``src``, ``src_lengths``, ``tgt_in``,
  ``tgt_out``).
- :func:`bleu_statistics` and :func:`corpus_bleu`: BLEU (Papineni et al., 2002) on whitespace-tokenised
  text, written out so that each factor can be read; equal to ``sacrebleu.corpus_bleu(...,
  tokenize="none", smooth_method="none")`` (tested).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch.utils.data import Dataset

PAD, BOS, EOS, UNK = "<pad>", "<bos>", "<eos>", "<unk>"
SPECIAL_TOKENS = (PAD, BOS, EOS, UNK)
PAD_ID, BOS_ID, EOS_ID, UNK_ID = 0, 1, 2, 3


# ---------------------------------------------------------------- subword vocabulary
def train_bpe(texts: Iterable[str], vocab_size: int, min_frequency: int = 2) -> Any:
    """A BPE ``tokenizers.Tokenizer`` trained on ``texts`` (the training split only). Defined in Day 20.

    NFKC normalisation; ``Metaspace`` pre-tokenisation (a space becomes ``▁`` at the start of the next
    word, so decoding restores the spaces exactly: ``decode(encode(t)) == NFKC(t)``), then punctuation split
    off the words (so that "sizes." and "sizes" share "▁sizes"); and ``<pad>``, ``<bos>``, ``<eos>``,
    ``<unk>`` at ids 0-3. The vocabulary starts from the characters of ``texts`` and adds merges until it has
    ``vocab_size`` entries (or no pair occurs ``min_frequency`` times).
    """
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

    if vocab_size < len(SPECIAL_TOKENS) + 1:
        raise ValueError(
            f"vocab_size must leave room for the special tokens and some characters, got {vocab_size}"
        )
    tokenizer = Tokenizer(models.BPE(unk_token=UNK))
    tokenizer.normalizer = normalizers.NFKC()
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Metaspace(), pre_tokenizers.Punctuation()]
    )
    tokenizer.decoder = decoders.Metaspace()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=min_frequency,
        special_tokens=list(SPECIAL_TOKENS),
        show_progress=False,
    )
    tokenizer.train_from_iterator(list(texts), trainer)
    for token, expected in zip(SPECIAL_TOKENS, range(len(SPECIAL_TOKENS)), strict=True):
        if tokenizer.token_to_id(token) != expected:
            raise RuntimeError(f"{token} got id {tokenizer.token_to_id(token)}, expected {expected}")
    return tokenizer


def encode(tokenizer: Any, texts: Sequence[str]) -> list[list[int]]:
    """Token ids of each text (no special tokens added). Defined in Day 20."""
    return [encoding.ids for encoding in tokenizer.encode_batch(list(texts), add_special_tokens=False)]


def decode(tokenizer: Any, ids: Sequence[Sequence[int]]) -> list[str]:
    """Texts from token ids; special tokens are dropped. Defined in Day 20."""
    return tokenizer.decode_batch([list(row) for row in ids], skip_special_tokens=True)


# ---------------------------------------------------------------- batches
class PairDataset(Dataset):
    """Token ids of (source, target) pairs; items are ``(src_ids, tgt_ids)`` lists. Defined in Day 20.

    Pairs whose source or target has more than ``max_tokens`` tokens are dropped (``kept`` holds the
    indices of the pairs kept); empty sources are an error.
    """

    def __init__(
        self,
        src_ids: Sequence[Sequence[int]],
        tgt_ids: Sequence[Sequence[int]],
        max_tokens: int | None = None,
    ) -> None:
        if len(src_ids) != len(tgt_ids):
            raise ValueError(f"{len(src_ids)} sources but {len(tgt_ids)} targets")
        self.kept = [
            i
            for i, (s, t) in enumerate(zip(src_ids, tgt_ids, strict=True))
            if max_tokens is None or max(len(s), len(t)) <= max_tokens
        ]
        self.src = [list(src_ids[i]) for i in self.kept]
        self.tgt = [list(tgt_ids[i]) for i in self.kept]
        if any(len(s) == 0 for s in self.src):
            raise ValueError("a source has no tokens: every source needs at least one")

    def __len__(self) -> int:
        return len(self.src)

    def __getitem__(self, index: int) -> tuple[list[int], list[int]]:
        return self.src[index], self.tgt[index]


def _pad(rows: Sequence[Sequence[int]], value: int) -> torch.Tensor:
    out = torch.full((len(rows), max(len(row) for row in rows)), value, dtype=torch.long)
    for i, row in enumerate(rows):
        out[i, : len(row)] = torch.as_tensor(list(row), dtype=torch.long)
    return out


def collate_pairs(batch: Sequence[tuple[Sequence[int], Sequence[int]]]) -> dict[str, torch.Tensor]:
    """A ``DataLoader`` collate function: pad a batch to its own longest source and target. Defined in Day 20.

    Returns ``src`` (B, S), ``src_lengths`` (B,), ``tgt_in`` (B, T) = ``<bos>`` + target and ``tgt_out``
    (B, T) = target + ``<eos>``, right-padded with ``<pad>`` = 0.
    """
    src = [s for s, _ in batch]
    tgt = [t for _, t in batch]
    return {
        "src": _pad(src, PAD_ID),
        "src_lengths": torch.tensor([len(s) for s in src]),
        "tgt_in": _pad([[BOS_ID, *t] for t in tgt], PAD_ID),
        "tgt_out": _pad([[*t, EOS_ID] for t in tgt], PAD_ID),
    }


# ---------------------------------------------------------------- BLEU
def ngrams(tokens: Sequence[str], n: int) -> Counter:
    """Counts of the n-grams of ``tokens``. Defined in Day 20."""
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


@dataclass(frozen=True)
class BleuStats:
    """Corpus statistics of BLEU: clipped n-gram matches and n-gram totals for n = 1..4, and lengths."""

    matches: tuple[int, ...]
    totals: tuple[int, ...]
    hyp_len: int
    ref_len: int

    @property
    def precisions(self) -> tuple[float, ...]:
        """Modified n-gram precisions p_n = matches / totals (0 where there is no n-gram)."""
        return tuple(m / t if t else 0.0 for m, t in zip(self.matches, self.totals, strict=True))

    @property
    def brevity_penalty(self) -> float:
        """1 if the output is longer than the references, else exp(1 - r / c)."""
        if self.hyp_len == 0:
            return 0.0
        return 1.0 if self.hyp_len > self.ref_len else math.exp(1 - self.ref_len / self.hyp_len)

    @property
    def score(self) -> float:
        """BLEU in [0, 100]: BP x geometric mean of the precisions (0 if one of them is 0)."""
        if min(self.matches) == 0:
            return 0.0
        log_mean = sum(math.log(p) for p in self.precisions) / len(self.precisions)
        return 100 * self.brevity_penalty * math.exp(log_mean)


def bleu_statistics(
    hypotheses: Sequence[str], references: Sequence[Sequence[str]], max_n: int = 4
) -> BleuStats:
    """Clipped n-gram matches, totals and lengths of a corpus (whitespace tokens). Defined in Day 20.

    ``references`` holds one or more reference *streams* (``references[k][i]`` is the k-th reference of
    sentence ``i``), as in sacrebleu. A hypothesis n-gram matches at most as many times as it occurs in
    the reference where it occurs most ("clipping"); the reference length of a sentence is that of the
    reference closest in length to the hypothesis (the shorter one on a tie).
    """
    if not references or any(len(stream) != len(hypotheses) for stream in references):
        raise ValueError(
            f"each reference stream needs one reference per hypothesis ({len(hypotheses)}); "
            "pass references as a list of streams: [refs] for a single reference"
        )
    matches, totals = [0] * max_n, [0] * max_n
    hyp_len = ref_len = 0
    for i, hypothesis in enumerate(hypotheses):
        hyp = hypothesis.split()
        refs = [stream[i].split() for stream in references]
        hyp_len += len(hyp)
        ref_len += min((abs(len(r) - len(hyp)), len(r)) for r in refs)[1]
        for n in range(1, max_n + 1):
            counts = ngrams(hyp, n)
            best: Counter = Counter()
            for ref in refs:
                best |= ngrams(ref, n)  # max count of each n-gram over the references
            matches[n - 1] += sum(min(count, best[gram]) for gram, count in counts.items())
            totals[n - 1] += max(len(hyp) - n + 1, 0)
    return BleuStats(tuple(matches), tuple(totals), hyp_len, ref_len)


def corpus_bleu(hypotheses: Sequence[str], references: Sequence[Sequence[str]], max_n: int = 4) -> float:
    """Corpus BLEU (0-100) of whitespace-tokenised text, without smoothing. Defined in Day 20."""
    return bleu_statistics(hypotheses, references, max_n).score


# ---------------------------------------------------------------- the translator
def build_translator(
    src_vocab_size: int,
    tgt_vocab_size: int,
    embed_size: int,
    hidden_size: int,
    attention: str = "additive",
    dropout: float = 0.0,
) -> Any:
    """A ``helpers.seq2seq.Seq2Seq``: bidirectional GRU encoder, GRU decoder with attention.

    Defined in Day 20.

    ``attention`` is ``"additive"`` (Bahdanau's score) or ``"general"`` (Luong's), from ``helpers.attention``.
    """
    from helpers.attention import AdditiveAttention, LuongAttention
    from helpers.seq2seq import AttentionDecoder, Encoder, Seq2Seq

    encoder = Encoder(src_vocab_size, embed_size, hidden_size, bidirectional=True, dropout=dropout)
    if attention == "additive":
        scorer: torch.nn.Module = AdditiveAttention(hidden_size, encoder.output_size, hidden_size)
    elif attention == "general":
        scorer = LuongAttention("general", hidden_size, encoder.output_size)
    else:
        raise ValueError(f"attention must be 'additive' or 'general', got {attention!r}")
    decoder = AttentionDecoder(
        tgt_vocab_size, embed_size, hidden_size, scorer, encoder.output_size, dropout=dropout
    )
    return Seq2Seq(encoder, decoder, pad_id=PAD_ID, bos_id=BOS_ID, eos_id=EOS_ID)


def _to(batch: dict[str, torch.Tensor], device: torch.device) -> dict[str, torch.Tensor]:
    return {key: value.to(device) for key, value in batch.items()}


@torch.no_grad()
def token_nll(
    model: Any,
    loader: Iterable[dict[str, torch.Tensor]],
    include_pads: bool = False,
    pad_to: int | None = None,
) -> float:
    """Teacher-forced negative log-likelihood per target token over ``loader``. Defined in Day 20.

    By default the mean runs over the real tokens (``<eos>`` included, pads excluded): the number to
    compare between models. ``include_pads=True`` also averages over the pad positions, as a loss without
    ``ignore_index`` does; ``pad_to`` first pads every target to that many positions (one global maximum
    length, as some seed articles did), which lowers that mean further.
    """
    model.eval()
    device = next(model.parameters()).device
    total, count = 0.0, 0
    for raw in loader:
        batch = _to(raw, device)
        tgt_in, tgt_out = batch["tgt_in"], batch["tgt_out"]
        if pad_to is not None:
            if pad_to < tgt_out.shape[1]:
                raise ValueError(f"pad_to={pad_to} is shorter than a target ({tgt_out.shape[1]} tokens)")
            extra = pad_to - tgt_out.shape[1]
            tgt_in = torch.nn.functional.pad(tgt_in, (0, extra), value=PAD_ID)
            tgt_out = torch.nn.functional.pad(tgt_out, (0, extra), value=PAD_ID)
        logits = model(batch["src"], batch["src_lengths"], tgt_in)
        nll = torch.nn.functional.cross_entropy(logits.flatten(0, 1), tgt_out.flatten(), reduction="none")
        keep = torch.ones_like(nll, dtype=torch.bool) if include_pads else tgt_out.flatten() != PAD_ID
        total += float(nll[keep].sum())
        count += int(keep.sum())
    return total / count


@torch.no_grad()
def translate(
    model: Any,
    src_ids: Sequence[Sequence[int]],
    beam_size: int = 1,
    length_penalty: float = 1.0,
    max_len: int = 40,
    batch_size: int = 128,
) -> list[Any]:
    """Decode ``src_ids`` with ``model``: greedy when ``beam_size`` is 1, else beam search. Defined in Day 20.

    Returns one ``helpers.decoding.Hypothesis`` per source (the best), in order.
    """
    from helpers.decoding import beam_search, greedy_search, seq2seq_step

    model.eval()
    device = next(model.parameters()).device
    out = []
    for start in range(0, len(src_ids), batch_size):
        chunk = [list(row) for row in src_ids[start : start + batch_size]]
        batch = _to(collate_pairs([(row, []) for row in chunk]), device)
        step, state = seq2seq_step(model, batch["src"], batch["src_lengths"])
        if beam_size == 1:
            out += greedy_search(step, state, len(chunk), BOS_ID, EOS_ID, max_len, length_penalty)
        else:
            out += [
                hyps[0]
                for hyps in beam_search(
                    step, state, len(chunk), BOS_ID, EOS_ID, max_len, beam_size, length_penalty
                )
            ]
    return out


def train_translator(
    model: Any,
    loader: Any,
    steps: int,
    lr: float,
    grad_clip: float = 1.0,
    evaluate: Any = None,
    eval_every: int = 0,
    log: bool = True,
    seed: int = 0,
) -> list[dict[str, float]]:
    """Adam with the masked token loss for ``steps`` steps over ``loader`` (cycled). Defined in Day 20.

    Every ``eval_every`` steps (and after the last), ``evaluate(model) -> dict`` adds its numbers to a
    record ``{"step", "train_loss", ...}``; the records are returned (and printed when ``log``, with the
    duration as ``[12.3s]``). ``train_loss`` is the mean loss of the steps since the previous record.
    """
    import time

    from helpers.seq2seq import sequence_loss

    torch.manual_seed(seed)  # dropout masks
    device = next(model.parameters()).device
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    history: list[dict[str, float]] = []
    losses: list[float] = []
    start = time.perf_counter()
    iterator = iter(loader)
    for step in range(1, steps + 1):
        batch = next(iterator, None)
        if batch is None:
            iterator = iter(loader)
            batch = next(iterator)
        batch = _to(batch, device)
        model.train()
        loss = sequence_loss(
            model(batch["src"], batch["src_lengths"], batch["tgt_in"]), batch["tgt_out"], PAD_ID
        )
        if not math.isfinite(loss.item()):
            raise FloatingPointError(f"loss is {loss.item()} at step {step}: lower the learning rate")
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
        optimizer.step()
        losses.append(loss.item())
        if step == steps or (eval_every and step % eval_every == 0):
            record = {"step": step, "train_loss": sum(losses) / len(losses)}
            losses = []
            if evaluate is not None:
                record.update(evaluate(model))
            history.append(record)
            if log:
                numbers = " | ".join(f"{key} {value:.4f}" for key, value in record.items() if key != "step")
                print(f"step {step:>5} | {numbers} [{time.perf_counter() - start:.1f}s]")
    model.eval()
    return history


# ---------------------------------------------------------------- one profile's data, end to end
def load_parallel_pairs(settings: dict[str, Any]) -> list[tuple[str, str]]:
    """The (source, target) sentence pairs a day-20 profile names (``data``, ``pair``...). Defined in Day 20.

    ``"freedict"``: the offline FreeDict English-German sentences; ``"tatoeba"``: the Tatoeba training split
    of ``pair`` from the Hub (``reverse`` swaps the direction), cut to ``max_pairs`` after shuffling.
    """
    import random

    from helpers.corpora import freedict, tatoeba

    if settings["data"] == "freedict":
        return freedict.load_pairs()
    if settings["data"] == "tatoeba":
        pairs = tatoeba.load_pairs(settings["pair"], "train", reverse=settings.get("reverse", False))
        limit = settings.get("max_pairs")
        if limit is not None and limit < len(pairs):
            random.Random(settings["split_seed"]).shuffle(pairs)
            pairs = pairs[:limit]
        return pairs
    raise ValueError(f"unknown data source {settings['data']!r}: use 'freedict' or 'tatoeba'")


def split_pairs(
    pairs: Sequence[tuple[str, str]], valid_size: int, test_size: int, seed: int
) -> tuple[list[tuple[str, str]], list[tuple[str, str]], list[tuple[str, str]]]:
    """Shuffle (with ``seed``), then cut into train, valid and test. Defined in Day 20.

    Repeated sentences stay on one side of the cut: a held-out pair whose source *or* target also occurs
    in the training split moves there (a dictionary lists one translation under several English
    variants), so that valid and test measure the translation of unseen sentences.
    """
    import random

    if valid_size + test_size >= len(pairs):
        raise ValueError(
            f"valid_size + test_size = {valid_size + test_size} leaves no training pairs out of {len(pairs)}"
        )
    shuffled = list(pairs)
    random.Random(seed).shuffle(shuffled)
    held_out, train = shuffled[: valid_size + test_size], shuffled[valid_size + test_size :]
    while True:  # until no held-out pair shares a sentence with the training split (moves can chain)
        seen_sources, seen_targets = {src for src, _ in train}, {tgt for _, tgt in train}
        leaks = [pair for pair in held_out if pair[0] in seen_sources or pair[1] in seen_targets]
        if not leaks:
            break
        train += leaks
        held_out = [pair for pair in held_out if pair[0] not in seen_sources and pair[1] not in seen_targets]
    return train, held_out[:valid_size], held_out[valid_size:]


@dataclass
class TranslationData:
    """Splits, vocabularies and loaders of one profile (what :func:`prepare_data` returns). Day 20."""

    train: list[tuple[str, str]]
    valid: list[tuple[str, str]]
    test: list[tuple[str, str]]
    src_tokenizer: Any
    tgt_tokenizer: Any
    train_set: PairDataset
    valid_set: PairDataset
    test_set: PairDataset
    train_loader: Any
    valid_loader: Any
    bleu_tokenize: str = "13a"
    bleu_lowercase: bool = False
    decode_max_len: int = 40

    def src_ids(self, pairs: Sequence[tuple[str, str]]) -> list[list[int]]:
        """Source token ids of ``pairs``."""
        return encode(self.src_tokenizer, [src for src, _ in pairs])

    def bleu(self, hypotheses: Sequence[str], pairs: Sequence[tuple[str, str]]) -> float:
        """sacreBLEU of detokenised ``hypotheses`` against the targets of ``pairs`` (profile settings)."""
        import sacrebleu

        return sacrebleu.corpus_bleu(
            list(hypotheses),
            [[tgt for _, tgt in pairs]],
            tokenize=self.bleu_tokenize,
            lowercase=self.bleu_lowercase,
        ).score

    def translate(
        self, model: Any, pairs: Sequence[tuple[str, str]], beam_size: int = 1, length_penalty: float = 1.0
    ) -> list[str]:
        """Detokenised translations of the sources of ``pairs``."""
        hyps = translate(model, self.src_ids(pairs), beam_size, length_penalty, self.decode_max_len)
        return decode(self.tgt_tokenizer, [h.tokens for h in hyps])

    def evaluator(self, sentences: int, with_train: bool = False) -> Any:
        """``evaluate(model) -> dict`` for :func:`train_translator`: valid NLL (masked, with pads) and greedy
        BLEU on ``sentences`` validation pairs (and on as many training pairs when ``with_train``)."""
        valid, train = self.valid[:sentences], self.train[:sentences]

        def evaluate(model: Any) -> dict[str, float]:
            record = {
                "valid_nll": token_nll(model, self.valid_loader),
                "valid_nll_with_pads": token_nll(model, self.valid_loader, include_pads=True),
                "valid_bleu": self.bleu(self.translate(model, valid), valid),
            }
            if with_train:
                record["train_bleu"] = self.bleu(self.translate(model, train), train)
            return record

        return evaluate


def prepare_data(settings: dict[str, Any]) -> TranslationData:
    """Load, shuffle and split the pairs, train the two BPE vocabularies on the training split, and build
    the datasets and loaders, as a day-20 profile's ``settings`` say. Defined in Day 20."""
    from torch.utils.data import DataLoader

    train, valid, test = split_pairs(
        load_parallel_pairs(settings), settings["valid_size"], settings["test_size"], settings["split_seed"]
    )
    src_tokenizer = train_bpe([src for src, _ in train], settings["src_vocab_size"])
    tgt_tokenizer = train_bpe([tgt for _, tgt in train], settings["tgt_vocab_size"])

    def dataset(pairs: list[tuple[str, str]], max_tokens: int | None) -> PairDataset:
        return PairDataset(
            encode(src_tokenizer, [s for s, _ in pairs]),
            encode(tgt_tokenizer, [t for _, t in pairs]),
            max_tokens,
        )

    train_set = dataset(train, settings["max_tokens"])
    valid_set, test_set = dataset(valid, None), dataset(test, None)
    generator = torch.Generator().manual_seed(settings["split_seed"])
    train_loader = DataLoader(
        train_set,
        batch_size=settings["batch_size"],
        shuffle=True,
        generator=generator,
        collate_fn=collate_pairs,
    )
    valid_loader = DataLoader(valid_set, batch_size=256, collate_fn=collate_pairs)
    return TranslationData(
        train,
        valid,
        test,
        src_tokenizer,
        tgt_tokenizer,
        train_set,
        valid_set,
        test_set,
        train_loader,
        valid_loader,
        settings["bleu_tokenize"],
        settings["bleu_lowercase"],
        settings["decode_max_len"],
    )


# ---------------------------------------------------------------- the shipped checkpoint
def vocabulary_fingerprint(tokenizer: Any) -> str:
    """sha256 of a tokenizer's vocabulary and merges (its JSON), to check that two runs built the same one.

    Defined in Day 20.
    """
    import hashlib

    return hashlib.sha256(tokenizer.to_str().encode("utf-8")).hexdigest()[:16]


def load_checkpoint(model: Any, name: str, data: TranslationData) -> dict[str, Any] | None:
    """Load ``data/<name>.safetensors`` into ``model`` and return its log, or None if it is not there.

    Defined in Day 20 ("load if it exists, else train"). The log (``data/<name>_log.json``, written by
    ``scripts/train_day20_translator.py``) holds the command, the settings and the training history. The
    vocabularies of ``data`` must be the ones the checkpoint was trained with: a clear error otherwise.
    """
    import json

    from helpers.profile import repo_root
    from helpers.trainer import load_weights

    root = repo_root()
    if root is None or not (root / "data" / f"{name}.safetensors").exists():
        return None
    weights_path, log_path = root / "data" / f"{name}.safetensors", root / "data" / f"{name}_log.json"
    log = json.loads(log_path.read_text(encoding="utf-8"))
    mine = {
        "source": vocabulary_fingerprint(data.src_tokenizer),
        "target": vocabulary_fingerprint(data.tgt_tokenizer),
    }
    if log["vocabularies"] != mine:
        raise RuntimeError(
            f"data/{name}.safetensors was trained with other vocabularies ({log['vocabularies']} vs "
            f"{mine}): the data or the tokenizer changed. Retrain it with `{log['command']}`."
        )
    model.load_state_dict(load_weights(weights_path))
    return log

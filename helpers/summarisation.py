"""Summarisation with a small encoder-decoder Transformer: data, training, decoding and ROUGE.

Defined in Day 22 (Transformer summarisation). Two ``ci`` tasks, both offline:

- ``names_task``: a generated "summary" a 2+2-layer model learns in seconds: the capitalised names of a
  paragraph of lowercase filler words, in order. It shows that the machinery works and ROUGE rises;
- the 70 Reuters article -> headline pairs of ``helpers.corpora.reuters``: real text, far too little of it,
  so a model memorises its training headlines; it shows what ROUGE measures on real summaries, and how a
  trivial baseline (the article's first words) compares.

``laptop`` and ``gpu`` train on CNN/DailyMail (``load_cnn_dailymail``). Tokens come from Day 20's BPE
(``helpers.translation.train_bpe``: ``<pad>`` 0, ``<bos>`` 1, ``<eos>`` 2, ``<unk>`` 3).
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

import torch

from helpers.data import MissingDataError
from helpers.decoding import beam_search, greedy_search
from helpers.transformer import Seq2SeqTransformer, decoding_step, label_smoothed_cross_entropy
from helpers.translation import BOS_ID, EOS_ID, PAD_ID, collate_pairs

NAMES = ("Alice", "Bruno", "Chen", "Dara", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jonas", "Kemal",
         "Lena", "Marco", "Nadia", "Omar", "Priya", "Quentin", "Rosa", "Sven", "Tariq", "Ursula", "Viktor",
         "Wei", "Ximena", "Yusuf", "Zoe")
FILLER = ("the", "a", "of", "and", "to", "in", "was", "said", "that", "with", "on", "for", "at", "by",
          "from", "after", "market", "report", "city", "team", "river", "meeting", "letter", "morning",
          "council", "plan", "price", "week", "school", "station", "new", "old", "small", "long", "quiet",
          "called", "met", "saw", "asked", "told", "visited", "wrote", "near", "about", "then", "later")


def names_task(num_pairs: int, seed: int, min_names: int = 2, max_names: int = 5,
               min_words: int = 12, max_words: int = 24) -> list[tuple[str, str]]:
    """(paragraph, names) pairs: lowercase filler words with capitalised names; the target lists the names
    in order of appearance, separated by spaces. Defined in Day 22.

    A name may appear twice (then twice in the target); ``seed`` makes the pairs reproducible.
    """
    if not 1 <= min_names <= max_names or not 1 <= min_words <= max_words:
        raise ValueError("need 1 <= min_names <= max_names and 1 <= min_words <= max_words")
    rng = random.Random(seed)
    pairs = []
    for _ in range(num_pairs):
        words = [rng.choice(FILLER) for _ in range(rng.randint(min_words, max_words))]
        names = [rng.choice(NAMES) for _ in range(rng.randint(min_names, max_names))]
        slots = sorted(rng.sample(range(len(words) + len(names)), len(names)))
        for slot, name in zip(slots, names, strict=True):
            words.insert(slot, name)
        pairs.append((" ".join(words), " ".join(names)))
    return pairs


def load_cnn_dailymail(split: str, size: int | None = None) -> list[tuple[str, str]]:
    """(article, highlights) pairs of CNN/DailyMail 3.0.0 from the Hugging Face Hub. Defined in Day 22.

    The first ``size`` rows of ``split`` ("train", "validation" or "test"); a download failure raises
    ``MissingDataError`` with the offline alternative.
    """
    if split not in ("train", "validation", "test"):
        raise ValueError(f"split must be 'train', 'validation' or 'test', got {split!r}")
    try:
        from datasets import load_dataset

        wanted = split if size is None else f"{split}[:{size}]"
        rows = load_dataset("abisee/cnn_dailymail", "3.0.0", split=wanted)
    except Exception as err:  # no network, Hub down: say what to do
        raise MissingDataError(
            f"Could not load CNN/DailyMail ('abisee/cnn_dailymail', '3.0.0', split {split!r}) from the "
            f"Hugging Face Hub: {type(err).__name__}: {str(err)[:200]}. The 'laptop' and 'gpu' profiles "
            "download it (about 1 GB) on first use, which needs a network. Without it, run with "
            "COURSE_PROFILE=ci: offline, it uses the 70 Reuters headlines of the r-cran-tm package."
        ) from err
    return [(row["article"], row["highlights"].replace("\n", " ")) for row in rows]


def load_real_pairs(source: str, test_size: int, train_size: int | None = None,
                    seed: int = 0) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(train, test) lists of (article, summary) pairs of a real source. Defined in Day 22.

    ``"reuters"``: the 70 r-cran-tm pairs, lower-cased, shuffled with ``seed``, the last ``test_size`` for
    testing, with the two articles that share a headline both kept for training (offline);
    ``"cnn_dailymail"``: the first rows of the training and test splits (downloads).
    """
    if source == "reuters":
        from helpers.corpora import reuters

        pairs = reuters.load_pairs()
        if not 0 < test_size < len(pairs):
            raise ValueError(f"test_size must lie in 1..{len(pairs) - 1} for the Reuters pairs, "
                             f"got {test_size}")
        random.Random(seed).shuffle(pairs)
        # one headline heads two articles: keep both on the training side, so that no test headline is
        # a training headline (a stable sort after the shuffle)
        counts = Counter(headline for _, headline in pairs)
        pairs.sort(key=lambda pair: counts[pair[1]] > 1, reverse=True)
        train, test = pairs[:-test_size], pairs[-test_size:]
        return (train if train_size is None else train[:train_size]), test
    if source == "cnn_dailymail":
        return load_cnn_dailymail("train", train_size), load_cnn_dailymail("test", test_size)
    raise ValueError(f"unknown source {source!r}: use 'reuters' (offline) or 'cnn_dailymail'")


def truncate(ids: Sequence[Sequence[int]], max_tokens: int) -> list[list[int]]:
    """The first ``max_tokens`` ids of each sequence (a summariser reads the lead). Defined in Day 22."""
    if max_tokens < 1:
        raise ValueError(f"max_tokens must be >= 1, got {max_tokens}")
    return [list(row[:max_tokens]) for row in ids]


def _batch(src: Sequence[Sequence[int]], tgt: Sequence[Sequence[int]], rows: Sequence[int],
           device: torch.device) -> dict[str, torch.Tensor]:
    batch = collate_pairs([(src[i], tgt[i]) for i in rows])
    return {key: value.to(device) for key, value in batch.items()}


@torch.no_grad()
def token_cross_entropy(model: Seq2SeqTransformer, src: Sequence[Sequence[int]],
                        tgt: Sequence[Sequence[int]], batch_size: int = 64) -> float:
    """Mean cross-entropy per target token (``<eos>`` included, no smoothing), teacher forced.

    Defined in Day 22.
    """
    model.eval()
    device = next(model.parameters()).device
    total, count = 0.0, 0
    for start in range(0, len(src), batch_size):
        batch = _batch(src, tgt, range(start, min(start + batch_size, len(src))), device)
        logits = model(batch["src"], batch["tgt_in"])
        keep = batch["tgt_out"] != PAD_ID
        total += torch.nn.functional.cross_entropy(logits[keep], batch["tgt_out"][keep],
                                                   reduction="sum").item()
        count += int(keep.sum())
    return total / count


def train_summariser(model: Seq2SeqTransformer, src: Sequence[Sequence[int]], tgt: Sequence[Sequence[int]],
                     steps: int, batch_size: int, lr: float, label_smoothing: float, seed: int,
                     valid: tuple[Sequence[Sequence[int]], Sequence[Sequence[int]]] | None = None,
                     eval_every: int = 50, weight_decay: float = 0.01) -> dict[str, list[float]]:
    """AdamW with a one-cycle schedule on random batches, label-smoothed loss. Defined in Day 22.

    Returns the history: ``step``, ``train_loss`` (mean smoothed loss since the last evaluation) and,
    when ``valid`` is given, ``valid_ce`` (unsmoothed token cross-entropy), every ``eval_every`` steps;
    ``seconds`` is the training time.
    """
    if steps < 1 or batch_size < 1:
        raise ValueError(f"steps and batch_size must be >= 1, got {steps} and {batch_size}")
    device = next(model.parameters()).device
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=steps, pct_start=0.1)
    history: dict[str, list[float]] = {"step": [], "train_loss": [], "valid_ce": []}
    running, seen, start = 0.0, 0, time.perf_counter()
    for step in range(1, steps + 1):
        model.train()
        rows = torch.randint(len(src), (batch_size,), generator=generator).tolist()
        batch = _batch(src, tgt, rows, device)
        logits = model(batch["src"], batch["tgt_in"])
        loss = label_smoothed_cross_entropy(logits, batch["tgt_out"], label_smoothing, ignore_index=PAD_ID)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        running, seen = running + loss.item(), seen + 1
        if step % eval_every == 0 or step == steps:
            history["step"].append(step)
            history["train_loss"].append(running / seen)
            if valid is not None:
                history["valid_ce"].append(token_cross_entropy(model, *valid))
            running, seen = 0.0, 0
    history["seconds"] = [time.perf_counter() - start]
    return history


@torch.no_grad()
def summarise(model: Seq2SeqTransformer, src: Sequence[Sequence[int]], max_len: int, beam_size: int = 1,
              length_penalty: float = 1.0, batch_size: int = 64) -> list[list[int]]:
    """Decoded token ids (no ``<bos>``/``<eos>``) for each source, by greedy (``beam_size=1``) or beam
    search from ``helpers.decoding``. Defined in Day 22."""
    model.eval()
    device = next(model.parameters()).device
    step = decoding_step(model)
    outputs: list[list[int]] = []
    for start in range(0, len(src), batch_size):
        rows = src[start:start + batch_size]
        batch = collate_pairs([(row, [EOS_ID]) for row in rows])
        memory, src_pad = model.encode(batch["src"].to(device))
        state = {"memory": memory, "src_pad": src_pad}
        if beam_size == 1:
            found = greedy_search(step, state, len(rows), BOS_ID, EOS_ID, max_len, device=device)
        else:
            found = [hyps[0] for hyps in beam_search(step, state, len(rows), BOS_ID, EOS_ID, max_len,
                                                     beam_size=beam_size, length_penalty=length_penalty,
                                                     device=device)]
        outputs += [list(h.tokens) for h in found]
    return outputs


def rouge(references: Sequence[str], predictions: Sequence[str],
          kinds: Sequence[str] = ("rouge1", "rouge2", "rougeL")) -> dict[str, float]:
    """Mean ROUGE F1 of ``rouge-score`` (Porter stemming on) over the pairs. Defined in Day 22.

    Mind the order: ``RougeScorer.score(target, prediction)`` takes the reference first.
    """
    from rouge_score import rouge_scorer

    if len(references) != len(predictions) or not references:
        raise ValueError(f"need as many predictions as references (>0), got {len(predictions)} and "
                         f"{len(references)}")
    scorer = rouge_scorer.RougeScorer(list(kinds), use_stemmer=True)
    scores = [scorer.score(ref, pred) for ref, pred in zip(references, predictions, strict=True)]
    return {kind: sum(s[kind].fmeasure for s in scores) / len(scores) for kind in kinds}


def lead_words(text: str, count: int) -> str:
    """The first ``count`` words of ``text``: the "lead" baseline of news summarisation. Defined in Day 22."""
    return " ".join(text.split()[:count])


def describe(history: dict[str, Any]) -> str:
    """One line: the last training loss and validation cross-entropy."""
    valid = f", valid CE {history['valid_ce'][-1]:.4f}" if history.get("valid_ce") else ""
    return f"step {history['step'][-1]}: train loss {history['train_loss'][-1]:.4f}{valid}"

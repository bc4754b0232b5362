"""Decoding for any autoregressive model: greedy search, beam search with length normalisation, and
exhaustive search (the reference that beam search approximates).

Defined in Day 20 (translation); reused by Days 22-23 and 31-33.

The model is seen through one function, ``step(tokens, state) -> (log_probs, state)``:

- ``tokens``: (N, t) int64, every prefix decoded so far, starting with ``<bos>``. A recurrent decoder reads
  only ``tokens[:, -1]`` and carries what it needs in ``state``; a Transformer without a cache can re-read
  the whole prefix and keep ``state`` for the encoder output only;
- ``state``: whatever the model needs (a tensor, or a tuple/list/dict of tensors, or ``None``), with the
  **batch on dim 0** of every tensor. Beam search copies and reorders rows with ``reorder_state(state,
  index)`` (``index_select`` on dim 0 of every tensor); a state laid out otherwise (a GRU's (L, N, H)
  hidden) is transposed by its adapter, or comes with its own ``reorder`` function;
- ``log_probs``: (N, V), log-probabilities of the next token (a log-softmax, so that the scores are
  log-probabilities of whole sequences).

Scores. A hypothesis y = (y_1, ..., y_L) (without ``<bos>``; ``<eos>`` included when it ends with one) has
log-probability ``log p(y | x) = sum_t log p(y_t | y_<t, x)`` and the **length-normalised score**
``log p(y | x) / L ** alpha`` (``length_penalty`` alpha = 0: the plain sum, which favours short outputs; 1:
the mean log-probability per token). A hypothesis that reaches ``max_len`` tokens without ``<eos>`` is
kept, unfinished, with L = ``max_len``.

Beam search (as in fairseq and Hugging Face with ``early_stopping=True``): keep the ``beam_size`` best
unfinished prefixes of each input (ranked by log-probability: they all have the same length, so the
normalisation does not change their order). At each step extend each by every token and take the
2 x ``beam_size`` best candidates; a candidate that ends with ``<eos>`` and ranks among the first
``beam_size`` becomes a finished hypothesis, and the best ``beam_size`` others are the new beams. An input
is done when it has ``beam_size`` finished hypotheses (or nothing left to extend); at ``max_len`` its live
beams are added unfinished. The finished hypotheses are ranked by their normalised score. With
``beam_size = 1`` this is exactly greedy search; with a beam at least as large as the number of
possible prefixes it is exactly exhaustive search (both tested in ``tests/test_decoding.py``).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import torch

State = Any
StepFn = Callable[[torch.Tensor, State], tuple[torch.Tensor, State]]
ReorderFn = Callable[[State, torch.Tensor], State]


@dataclass(frozen=True)
class Hypothesis:
    """One decoded output. Defined in Day 20.

    ``tokens`` are the generated ids without ``<bos>`` and without ``<eos>``; ``length`` counts the
    generated tokens *with* ``<eos>`` (the L of the score); ``log_prob`` is log p(tokens, <eos> | x);
    ``score`` is ``log_prob / length ** alpha``; ``finished`` says whether it ended with ``<eos>``.
    """

    tokens: tuple[int, ...]
    log_prob: float
    score: float
    length: int
    finished: bool


def normalised_score(log_prob: float, length: int, length_penalty: float) -> float:
    """``log_prob / length ** length_penalty``, the score that ranks hypotheses. Defined in Day 20."""
    if length < 1:
        raise ValueError(f"a hypothesis has at least one token (its <eos>), got length {length}")
    return log_prob / length**length_penalty


def reorder_state(state: State, index: torch.Tensor) -> State:
    """Rows ``index`` (dim 0) of every tensor in ``state`` (a tensor, None, or nested tuple/list/dict).

    Defined in Day 20. Beam search uses it to repeat each input's state ``beam_size`` times and to let
    each new beam inherit the state of the beam it extends.
    """
    if state is None:
        return None
    if isinstance(state, torch.Tensor):
        return state.index_select(0, index.to(state.device))
    if isinstance(state, Mapping):
        return {key: reorder_state(value, index) for key, value in state.items()}
    if isinstance(state, (tuple, list)):
        return type(state)(reorder_state(value, index) for value in state)
    raise TypeError(
        f"reorder_state handles tensors, None and tuples/lists/dicts of them, not "
        f"{type(state).__name__}: pass reorder=... to beam_search for a state of another kind"
    )


def _first_tensor(state: State) -> torch.Tensor | None:
    if isinstance(state, torch.Tensor):
        return state
    values = (
        state.values() if isinstance(state, Mapping) else state if isinstance(state, (tuple, list)) else ()
    )
    for value in values:
        found = _first_tensor(value)
        if found is not None:
            return found
    return None


def _check(batch_size: int, max_len: int, length_penalty: float, beam_size: int = 1) -> None:
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    if max_len < 1:
        raise ValueError(f"max_len must be >= 1 (the number of tokens to generate at most), got {max_len}")
    if beam_size < 1:
        raise ValueError(f"beam_size must be >= 1, got {beam_size}")
    if length_penalty < 0:
        raise ValueError(f"length_penalty (alpha) must be >= 0, got {length_penalty}")


def _log_probs(step: StepFn, tokens: torch.Tensor, state: State) -> tuple[torch.Tensor, State]:
    log_probs, state = step(tokens, state)
    if log_probs.ndim != 2 or log_probs.shape[0] != tokens.shape[0]:
        raise ValueError(
            f"step must return log-probabilities of shape (N, V) = ({tokens.shape[0]}, V), got "
            f"{tuple(log_probs.shape)}"
        )
    if log_probs.dtype in (torch.float16, torch.bfloat16):  # sums of many half-precision terms drift
        log_probs = log_probs.float()
    return log_probs, state


@torch.no_grad()
def greedy_search(
    step: StepFn,
    state: State,
    batch_size: int,
    bos_id: int,
    eos_id: int,
    max_len: int,
    length_penalty: float = 0.0,
    device: torch.device | str | None = None,
) -> list[Hypothesis]:
    """The most probable next token at each step, until ``<eos>`` or ``max_len`` tokens. Defined in Day 20.

    Batched: ``state`` holds ``batch_size`` rows; returns one :class:`Hypothesis` per input, in order.
    ``length_penalty`` only changes the reported ``score`` (greedy makes no choice between lengths).
    """
    _check(batch_size, max_len, length_penalty)
    if device is None:
        first = _first_tensor(state)
        device = first.device if first is not None else torch.device("cpu")
    tokens = torch.full((batch_size, 1), bos_id, dtype=torch.long, device=device)
    total = torch.zeros(batch_size, dtype=torch.float64)
    length = torch.zeros(batch_size, dtype=torch.long)
    finished = torch.zeros(batch_size, dtype=torch.bool)
    for _ in range(max_len):
        log_probs, state = _log_probs(step, tokens, state)
        best, token = log_probs.max(dim=-1)
        alive = ~finished
        total[alive] += best.cpu().double()[alive]
        length[alive] += 1
        finished |= token.cpu() == eos_id
        tokens = torch.cat([tokens, token[:, None]], dim=1)
        if finished.all():
            break
    out = []
    for row in range(batch_size):
        generated = tokens[row, 1 : 1 + int(length[row])].tolist()
        done = bool(finished[row])
        log_prob = float(total[row])
        out.append(
            Hypothesis(
                tuple(generated[:-1] if done else generated),
                log_prob,
                normalised_score(log_prob, int(length[row]), length_penalty),
                int(length[row]),
                done,
            )
        )
    return out


@torch.no_grad()
def beam_search(
    step: StepFn,
    state: State,
    batch_size: int,
    bos_id: int,
    eos_id: int,
    max_len: int,
    beam_size: int = 4,
    length_penalty: float = 1.0,
    reorder: ReorderFn = reorder_state,
    device: torch.device | str | None = None,
) -> list[list[Hypothesis]]:
    """Beam search with length normalisation (see the module docstring). Defined in Day 20.

    Batched: ``state`` holds ``batch_size`` rows; each is expanded to ``beam_size`` beams. Returns, for
    each input, its hypotheses sorted best first by ``score`` (at most ``beam_size`` finished ones, plus
    the live beams cut at ``max_len`` when fewer finished): ``beam_search(...)[i][0]`` is the output for
    input ``i``.
    """
    _check(batch_size, max_len, length_penalty, beam_size)
    if device is None:
        first = _first_tensor(state)
        device = first.device if first is not None else torch.device("cpu")
    k = beam_size
    state = reorder(state, torch.arange(batch_size, device=device).repeat_interleave(k))
    tokens = torch.full((batch_size * k, 1), bos_id, dtype=torch.long, device=device)
    scores = torch.full((batch_size, k), float("-inf"), dtype=torch.float64)
    scores[:, 0] = 0.0  # all beams start equal: keep one, or the same prefix fills the beam
    finished: list[list[Hypothesis]] = [[] for _ in range(batch_size)]
    done = [False] * batch_size
    for t in range(1, max_len + 1):
        log_probs, state = _log_probs(step, tokens, state)
        vocab = log_probs.shape[1]
        candidates = (scores.view(-1, 1) + log_probs.cpu().double()).view(batch_size, k * vocab)
        top_scores, top_index = candidates.topk(min(2 * k, k * vocab), dim=1)  # sorted, best first
        new_scores = torch.full((batch_size, k), float("-inf"), dtype=torch.float64)
        parents = torch.zeros(batch_size, k, dtype=torch.long)
        new_tokens = torch.full((batch_size, k), eos_id, dtype=torch.long)
        prefixes = tokens[:, 1:].cpu()
        for b in range(batch_size):
            if done[b]:
                continue
            alive = 0
            for rank, (score, index) in enumerate(
                zip(top_scores[b].tolist(), top_index[b].tolist(), strict=True)
            ):
                if score == float("-inf") or alive == k:
                    break
                beam, token = divmod(index, vocab)
                if token == eos_id:
                    if rank < k:
                        prefix = tuple(prefixes[b * k + beam].tolist())
                        finished[b].append(
                            Hypothesis(prefix, score, normalised_score(score, t, length_penalty), t, True)
                        )
                    continue
                new_scores[b, alive], parents[b, alive], new_tokens[b, alive] = score, beam, token
                alive += 1
            if len(finished[b]) >= k or alive == 0:
                done[b] = True
        scores = new_scores
        flat = (torch.arange(batch_size)[:, None] * k + parents).view(-1).to(device)
        tokens = torch.cat([tokens.index_select(0, flat), new_tokens.view(-1, 1).to(device)], dim=1)
        if all(done):
            break
        if t < max_len:
            state = reorder(state, flat)
    else:  # max_len reached: the live beams of unfinished inputs become (unfinished) hypotheses
        prefixes = tokens[:, 1:].cpu()
        for b in range(batch_size):
            if done[b]:
                continue
            for beam in range(k):
                score = float(scores[b, beam])
                if score > float("-inf"):
                    finished[b].append(
                        Hypothesis(
                            tuple(prefixes[b * k + beam].tolist()),
                            score,
                            normalised_score(score, max_len, length_penalty),
                            max_len,
                            False,
                        )
                    )
    return [sorted(hyps, key=lambda h: h.score, reverse=True) for hyps in finished]


@torch.no_grad()
def exhaustive_search(
    step: StepFn,
    state: State,
    bos_id: int,
    eos_id: int,
    max_len: int,
    length_penalty: float = 1.0,
    reorder: ReorderFn = reorder_state,
) -> list[Hypothesis]:
    """Score *every* output of at most ``max_len`` tokens for one input; best first. Defined in Day 20.

    The outputs are every sequence of non-``<eos>`` tokens followed by ``<eos>`` (1 to ``max_len`` tokens
    in all), and every sequence of ``max_len`` non-``<eos>`` tokens (unfinished). There are about
    ``V ** max_len`` of them: a reference for tiny vocabularies only, to check beam search against.
    ``state`` holds one row.
    """
    _check(1, max_len, length_penalty)
    first = _first_tensor(state)
    device = first.device if first is not None else torch.device("cpu")
    prefixes: list[tuple[int, ...]] = [()]
    prefix_log_probs = [0.0]
    states = state
    results: list[Hypothesis] = []
    for t in range(1, max_len + 1):
        tokens = torch.tensor([(bos_id, *p) for p in prefixes], dtype=torch.long, device=device)
        log_probs, states = _log_probs(step, tokens, states)
        table = log_probs.cpu().double().tolist()
        next_prefixes, next_log_probs, parents = [], [], []
        for row, (prefix, base) in enumerate(zip(prefixes, prefix_log_probs, strict=True)):
            for token, value in enumerate(table[row]):
                total = base + value
                if token == eos_id:
                    results.append(
                        Hypothesis(prefix, total, normalised_score(total, t, length_penalty), t, True)
                    )
                elif t == max_len:
                    results.append(
                        Hypothesis(
                            (*prefix, token), total, normalised_score(total, t, length_penalty), t, False
                        )
                    )
                else:
                    next_prefixes.append((*prefix, token))
                    next_log_probs.append(total)
                    parents.append(row)
        if not next_prefixes:
            break
        prefixes, prefix_log_probs = next_prefixes, next_log_probs
        states = reorder(states, torch.tensor(parents, device=device))
    results = [h for h in results if h.log_prob > float("-inf")]
    return sorted(results, key=lambda h: h.score, reverse=True)


@torch.no_grad()
def sequence_log_prob(step: StepFn, state: State, bos_id: int, tokens: list[int] | tuple[int, ...]) -> float:
    """log p(tokens | x) for one input, by feeding ``tokens`` to ``step`` one at a time. Defined in Day 20.

    Include ``eos_id`` at the end of ``tokens`` to score a finished hypothesis.
    """
    first = _first_tensor(state)
    device = first.device if first is not None else torch.device("cpu")
    total = 0.0
    for t, token in enumerate(tokens):
        prefix = torch.tensor([[bos_id, *tokens[:t]]], dtype=torch.long, device=device)
        log_probs, state = _log_probs(step, prefix, state)
        total += float(log_probs[0, token])
    return total


def all_outputs(vocab_size: int, eos_id: int, max_len: int) -> list[tuple[int, ...]]:
    """Every output that ``exhaustive_search`` scores, as token tuples (with ``<eos>`` where finished).

    Defined in Day 20; small vocabularies only (for tests and exercises).
    """
    others = [token for token in range(vocab_size) if token != eos_id]
    outputs = [
        (*body, eos_id) for length in range(max_len) for body in itertools.product(others, repeat=length)
    ]
    return outputs + list(itertools.product(others, repeat=max_len))


def seq2seq_step(
    model: torch.nn.Module, src: torch.Tensor, src_lengths: torch.Tensor
) -> tuple[StepFn, State]:
    """``(step, state)`` for a ``helpers.seq2seq.Seq2Seq`` model on a batch of sources. Defined in Day 20.

    Encodes the sources once; the state is ``{"hidden": (B, L, H), "memory": (B, S, D), "mask": (B, S)}``
    (the GRU state transposed to put the batch first, so that ``reorder_state`` can select beams).
    """
    encoder_outputs, hidden, src_mask = model.encode(src, src_lengths)
    state = {"hidden": hidden.transpose(0, 1), "memory": encoder_outputs, "mask": src_mask}

    def step(tokens: torch.Tensor, state: State) -> tuple[torch.Tensor, State]:
        log_probs, hidden, _ = model.decoder.step(
            tokens[:, -1], state["hidden"].transpose(0, 1).contiguous(), state["memory"], state["mask"]
        )
        return log_probs, {**state, "hidden": hidden.transpose(0, 1)}

    return step, state

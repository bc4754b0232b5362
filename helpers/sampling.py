"""Decoding a causal language model by hand: logit filters, sampling, greedy and beam search.

Defined in Day 23 (decoding); Days 31-33 reuse it.

Every filter has the signature of a Hugging Face logits processor, ``(input_ids, scores) -> scores``, where
``input_ids`` is the (N, t) prefix decoded so far (prompt included) and ``scores`` the (N, V) next-token
logits, and gives the same scores as the transformers class of the same name (``TemperatureLogitsWarper``,
``TopKLogitsWarper``, ``TopPLogitsWarper``, ``RepetitionPenaltyLogitsProcessor``;
checked in ``tests/test_day23_decoding.py``).
A removed token gets the score ``-inf``, so its probability after the softmax is exactly 0.

Beam search is not rewritten here: :func:`beam_search_lm` adapts a causal LM to the model-agnostic
``helpers.decoding.beam_search`` of Day 20, whose rules (2 x beam candidates, an ``<eos>`` counts only among
the first ``beam_size``, length-normalised scores, ``early_stopping=True``) are those of
``model.generate(num_beams=..., early_stopping=True)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from helpers.decoding import Hypothesis, beam_search

Filter = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def _check_scores(scores: torch.Tensor) -> None:
    if scores.ndim != 2:
        raise ValueError(f"scores must be (batch, vocab) logits, got shape {tuple(scores.shape)}: "
                         "take logits[:, -1, :] of the model output")


def temperature(scores: torch.Tensor, value: float) -> torch.Tensor:
    """Divide the logits by ``value`` (> 0): below 1 sharpens the distribution, above 1 flattens it.

    Defined in Day 23. Equals ``TemperatureLogitsWarper(value)``.
    """
    _check_scores(scores)
    if not value > 0:
        raise ValueError(f"temperature must be > 0, got {value}; for the most probable token use greedy "
                         "decoding (do_sample=False), which is the limit temperature -> 0")
    return scores / value


def top_k(scores: torch.Tensor, k: int, min_tokens_to_keep: int = 1) -> torch.Tensor:
    """Keep the ``k`` highest logits of each row (ties with the k-th are kept too), set the rest to -inf.

    Defined in Day 23. Equals ``TopKLogitsWarper(k, min_tokens_to_keep=...)``.
    """
    _check_scores(scores)
    if k < 1:
        raise ValueError(f"top_k must be >= 1, got {k}")
    k = min(max(k, min_tokens_to_keep), scores.shape[-1])
    kth = scores.topk(k, dim=-1).values[:, -1:]  # the k-th largest logit of each row
    return scores.masked_fill(scores < kth, float("-inf"))


def top_p(scores: torch.Tensor, p: float, min_tokens_to_keep: int = 1) -> torch.Tensor:
    """Nucleus filter: keep the smallest set of most probable tokens whose total probability reaches ``p``.

    Defined in Day 23. In decreasing order of probability, a token is kept while the mass of the tokens
    *before* it is still below ``p`` (so the token that crosses ``p`` is kept, and the most probable token
    always is). Equivalently, and this is how it is computed, a token is removed when the tokens *at most as
    probable as it* (itself included) hold a mass of at most ``1 - p``: the cumulative sum then runs over the
    tail in increasing order, so that ``p = 1`` removes nothing even when the float sum of the head rounds
    to 1. Equals ``TopPLogitsWarper(p, min_tokens_to_keep=...)``.
    """
    _check_scores(scores)
    if not 0 < p <= 1:
        raise ValueError(f"top_p must be in (0, 1], got {p}")
    sorted_scores, order = scores.sort(dim=-1)  # increasing: the tail first
    tail_mass = sorted_scores.softmax(dim=-1).cumsum(dim=-1)
    remove_sorted = tail_mass <= 1 - p
    remove_sorted[:, -min_tokens_to_keep:] = False  # the most probable tokens stay
    remove = torch.zeros_like(remove_sorted).scatter(1, order, remove_sorted)  # back to vocabulary order
    return scores.masked_fill(remove, float("-inf"))


def repetition_penalty(input_ids: torch.Tensor, scores: torch.Tensor, penalty: float) -> torch.Tensor:
    """Make every token already in ``input_ids`` (prompt included) less likely, once per token.

    Defined in Day 23 (CTRL, Keskar et al. 2019). A positive logit is divided by ``penalty``, a negative one
    multiplied by it, so both move down when ``penalty > 1``. Equals ``RepetitionPenaltyLogitsProcessor``.
    """
    _check_scores(scores)
    if not penalty > 0:
        raise ValueError(f"repetition penalty must be > 0 (1.0 = no penalty), got {penalty}")
    seen = scores.gather(1, input_ids)
    penalised = torch.where(seen < 0, seen * penalty, seen / penalty)
    return scores.scatter(1, input_ids, penalised)


def sample(probs: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """One token per row of ``probs`` (N, V), drawn by an *exponential race*. Defined in Day 23.

    Draw E_i ~ Exp(1) independently and return argmax_i p_i / E_i: token i wins with probability exactly
    p_i (the minimum of independent exponentials with rates p_i is attained at i with probability
    p_i / sum p). This is the Gumbel-max trick in another guise (-log E is a Gumbel variable), and it is
    how ``torch.multinomial(probs, 1)`` draws one sample, so with the same generator state both return the
    same token. Returns (N, 1) int64.
    """
    _check_scores(probs)
    if (probs < 0).any():
        raise ValueError("probs must be non-negative: pass softmax(scores), not the logits")
    race = torch.empty_like(probs).exponential_(1.0, generator=generator)
    return (probs / race).argmax(dim=-1, keepdim=True)


@dataclass
class Generation:
    """What :func:`generate` returns. Defined in Day 23.

    ``tokens``: the generated ids (the ``<eos>`` included when it was produced); ``probs``: the probability
    each chosen token had under the (filtered) distribution it was drawn from; ``model_probs``: its
    unfiltered model probability.
    """

    tokens: list[int]
    probs: list[float]
    model_probs: list[float]


def make_filters(*, temperature_value: float | None = None, top_k_value: int | None = None,
                 top_p_value: float | None = None, penalty: float | None = None) -> list[Filter]:
    """The filters in the order ``generate`` applies them: repetition penalty, temperature, top-k, top-p.

    Defined in Day 23. ``None`` (or 1.0 for temperature and penalty) leaves a filter out.
    """
    filters: list[Filter] = []
    if penalty is not None and penalty != 1.0:
        filters.append(lambda ids, s: repetition_penalty(ids, s, penalty))
    if temperature_value is not None and temperature_value != 1.0:
        filters.append(lambda ids, s: temperature(s, temperature_value))
    if top_k_value is not None:
        filters.append(lambda ids, s: top_k(s, top_k_value))
    if top_p_value is not None and top_p_value < 1.0:
        filters.append(lambda ids, s: top_p(s, top_p_value))
    return filters


@torch.no_grad()
def generate(model: torch.nn.Module, input_ids: torch.Tensor, max_new_tokens: int, *,
             filters: list[Filter] | None = None, do_sample: bool = False,
             generator: torch.Generator | None = None, eos_token_id: int | None = None,
             use_cache: bool = True) -> Generation:
    """Greedy decoding or sampling from a causal LM, one token at a time. Defined in Day 23.

    ``input_ids`` is one prompt, shape (1, t). At each step: next-token logits -> ``filters`` (see
    :func:`make_filters`) -> argmax (greedy) or :func:`sample` of the softmax. Stops after ``eos_token_id`` or
    ``max_new_tokens`` tokens. With ``use_cache`` the model gets only the newest token and its
    ``past_key_values`` (the keys and values of all earlier positions); without it, the whole sequence
    is re-read at every step. Both give the same tokens.
    """
    if input_ids.ndim != 2 or input_ids.shape[0] != 1:
        raise ValueError("generate decodes one prompt: input_ids must be (1, t), got "
                         f"{tuple(input_ids.shape)}; loop over the prompts")
    if max_new_tokens < 1:
        raise ValueError(f"max_new_tokens must be >= 1, got {max_new_tokens} (it does not count the prompt)")
    filters = filters or []
    ids = input_ids
    past = None
    out = Generation([], [], [])
    for _ in range(max_new_tokens):
        if use_cache:
            step_ids = ids if past is None else ids[:, -1:]
            result = model(input_ids=step_ids, past_key_values=past, use_cache=True)
            past = result.past_key_values
        else:
            result = model(input_ids=ids, use_cache=False)
        logits = result.logits[:, -1, :].float()
        scores = logits
        for keep in filters:
            scores = keep(ids, scores)
        probs = scores.softmax(dim=-1)
        token = sample(probs, generator) if do_sample else scores.argmax(dim=-1, keepdim=True)
        out.tokens.append(int(token))
        out.probs.append(float(probs[0, token]))
        out.model_probs.append(float(logits.softmax(dim=-1)[0, token]))
        ids = torch.cat([ids, token], dim=1)
        if eos_token_id is not None and int(token) == eos_token_id:
            break
    return out


def beam_search_lm(model: torch.nn.Module, input_ids: torch.Tensor, max_new_tokens: int, *, num_beams: int,
                   eos_token_id: int, length_penalty: float = 1.0) -> list[Hypothesis]:
    """Beam search on a causal LM through Day 20's ``helpers.decoding.beam_search``. Defined in Day 23.

    Day 20's search feeds its step function the prefixes decoded so far, each starting with a ``<bos>``.
    A causal LM has no ``<bos>`` of its own here: its "start" is the prompt. So the last prompt token plays
    ``<bos>`` and the step function prepends the rest of the prompt. No cache: every step re-reads the
    whole sequence (cheap for the short outputs of this day). Returns the hypotheses best first; their
    ``tokens`` exclude the ``<eos>`` (``finished`` says whether it was produced).
    """
    if input_ids.ndim != 2 or input_ids.shape[0] != 1:
        raise ValueError("beam_search_lm decodes one prompt: input_ids must be (1, t), got "
                         f"{tuple(input_ids.shape)}; loop over the prompts")
    prefix = input_ids[:, :-1]

    def step(tokens: torch.Tensor, state: None) -> tuple[torch.Tensor, None]:
        full = torch.cat([prefix.expand(tokens.shape[0], -1), tokens], dim=1)
        logits = model(input_ids=full, use_cache=False).logits[:, -1, :].float()
        return logits.log_softmax(dim=-1), state

    with torch.no_grad():
        return beam_search(step, None, batch_size=1, bos_id=int(input_ids[0, -1]), eos_id=eos_token_id,
                           max_len=max_new_tokens, beam_size=num_beams, length_penalty=length_penalty,
                           device=input_ids.device)[0]


def hypothesis_ids(hypothesis: Hypothesis, eos_token_id: int) -> list[int]:
    """The generated ids as ``generate`` returns them, with the ``<eos>`` when it was produced.

    Defined in Day 23.
    """
    return list(hypothesis.tokens) + ([eos_token_id] if hypothesis.finished else [])

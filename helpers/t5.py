"""T5 pieces written by hand: span corruption and relative position buckets.

Defined in Day 24 (T5 and the text-to-text framing).

- ``random_spans_noise_mask`` follows the T5 paper (Raffel et al., 2020, section 3.1.4) and its code base: a
  fixed number of noise tokens (``round(noise_density * length)``) is cut into ``round(noise / mean_span)``
  spans whose lengths are a uniformly random composition, interleaved with non-noise spans (the first span
  is non-noise).
- ``span_corrupt`` turns tokens and a mask into the (inputs, targets) pair of the paper's figure 2: each noise
  span becomes one sentinel in the inputs; the targets list each sentinel followed by the tokens it hides,
  and end with one more sentinel.
- ``relative_position_bucket`` maps a relative position (key minus query) to one of ``num_buckets`` buckets:
  exact for small distances, logarithmic up to ``max_distance``; the reference is
  ``transformers.models.t5.modeling_t5.T5Attention._relative_position_bucket``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import torch


def sentinel(i: int) -> str:
    """The name of T5's ``i``-th sentinel token, ``<extra_id_i>``."""
    return f"<extra_id_{i}>"


def noise_span_counts(length: int, noise_density: float = 0.15,
                      mean_noise_span_length: float = 3.0) -> tuple[int, int]:
    """``(noise tokens, noise spans)`` that T5 corrupts in a sequence of ``length`` tokens (deterministic)."""
    if length < 2:
        raise ValueError(f"span corruption needs at least 2 tokens, got length={length}")
    if not 0.0 < noise_density < 1.0:
        raise ValueError(f"noise_density must be in (0, 1), got {noise_density}")
    if mean_noise_span_length < 1.0:
        raise ValueError(f"mean_noise_span_length must be >= 1, got {mean_noise_span_length}")
    num_noise = min(max(round(length * noise_density), 1), length - 1)
    num_spans = max(round(num_noise / mean_noise_span_length), 1)
    return num_noise, num_spans


def random_segmentation(num_items: int, num_segments: int,
                        generator: torch.Generator | None = None) -> torch.Tensor:
    """Cut ``num_items`` into ``num_segments`` positive lengths, uniformly over all such compositions.

    The ``num_segments - 1`` cuts are distinct positions among the ``num_items - 1`` gaps between items.
    """
    if not 1 <= num_segments <= num_items:
        raise ValueError(f"cannot cut {num_items} items into {num_segments} non-empty segments")
    cuts = torch.randperm(num_items - 1, generator=generator)[: num_segments - 1] + 1
    bounds = torch.cat([torch.tensor([0]), cuts.sort().values, torch.tensor([num_items])])
    return bounds.diff()


def random_spans_noise_mask(length: int, noise_density: float = 0.15, mean_noise_span_length: float = 3.0,
                            generator: torch.Generator | None = None) -> torch.Tensor:
    """Boolean mask of ``length`` tokens, True on the noise spans (T5's span corruption).

    The sequence alternates non-noise and noise spans, starting with non-noise; both kinds are random
    compositions, so the number of noise tokens and of spans is fixed (``noise_span_counts``) and only the
    lengths vary.
    """
    num_noise, num_spans = noise_span_counts(length, noise_density, mean_noise_span_length)
    num_spans = min(num_spans, length - num_noise)  # every noise span needs a non-noise span before it
    noise_lengths = random_segmentation(num_noise, num_spans, generator)
    keep_lengths = random_segmentation(length - num_noise, num_spans, generator)
    mask = torch.zeros(length, dtype=torch.bool)
    position = 0
    for keep, noise in zip(keep_lengths.tolist(), noise_lengths.tolist(), strict=True):
        position += keep
        mask[position: position + noise] = True
        position += noise
    return mask


def span_lengths(mask: Sequence[bool] | torch.Tensor) -> list[int]:
    """Lengths of the runs of True in a mask, left to right."""
    lengths, run = [], 0
    for value in list(map(bool, mask)) + [False]:
        if value:
            run += 1
        elif run:
            lengths.append(run)
            run = 0
    return lengths


def span_corrupt(tokens: Sequence[Any], mask: Sequence[bool] | torch.Tensor,
                 sentinel_token: Callable[[int], Any] = sentinel,
                 final_sentinel: bool = True) -> tuple[list[Any], list[Any]]:
    """``(inputs, targets)`` of T5's span corruption: each noise span becomes one sentinel.

    ``inputs`` keep the non-noise tokens and put ``sentinel_token(i)`` where the i-th noise span was;
    ``targets`` are ``sentinel_token(i)`` followed by the span's tokens, for every span, then (if
    ``final_sentinel``, as in the paper's figure 2) one more sentinel that closes the last span.
    """
    flags = [bool(m) for m in mask]
    if len(flags) != len(tokens):
        raise ValueError(f"{len(tokens)} tokens but a mask of length {len(flags)}: they must match")
    inputs: list[Any] = []
    targets: list[Any] = []
    spans = 0
    for i, (token, noisy) in enumerate(zip(tokens, flags, strict=True)):
        if not noisy:
            inputs.append(token)
            continue
        if i == 0 or not flags[i - 1]:  # a span starts here
            inputs.append(sentinel_token(spans))
            targets.append(sentinel_token(spans))
            spans += 1
        targets.append(token)
    if final_sentinel:
        targets.append(sentinel_token(spans))
    return inputs, targets


def composition_length_pmf(num_items: int, num_segments: int) -> torch.Tensor:
    """P(one segment has length j), j = 0..num_items, for a uniformly random composition (stars and bars).

    ``P(j) = C(n - j - 1, k - 2) / C(n - 1, k - 1)`` for ``k >= 2`` segments of ``n`` items; ``k = 1`` puts
    all mass on ``j = n``. This is the exact span-length distribution of ``random_spans_noise_mask``.
    """
    if not 1 <= num_segments <= num_items:
        raise ValueError(f"cannot cut {num_items} items into {num_segments} non-empty segments")
    pmf = torch.zeros(num_items + 1, dtype=torch.float64)
    if num_segments == 1:
        pmf[num_items] = 1.0
        return pmf
    total = math.comb(num_items - 1, num_segments - 1)
    for j in range(1, num_items - num_segments + 2):
        pmf[j] = math.comb(num_items - j - 1, num_segments - 2) / total
    return pmf


def relative_position_bucket(relative_position: torch.Tensor, bidirectional: bool = True,
                             num_buckets: int = 32, max_distance: int = 128) -> torch.Tensor:
    """T5's bucket (0..num_buckets-1) of each relative position ``key - query``.

    Bidirectional (encoder): half of the buckets for keys before the query, half for keys after it. Causal
    (decoder): keys after the query cannot be seen, so they share bucket 0 with distance 0. Within a half of
    ``n`` buckets, distances below ``n // 2`` get a bucket each; larger distances share buckets whose width
    grows geometrically, up to ``max_distance``, beyond which everything falls into the last bucket.
    """
    if num_buckets < 2 or (bidirectional and num_buckets < 4):
        raise ValueError(f"num_buckets={num_buckets} is too small (>= 2 causal, >= 4 bidirectional)")
    relative_position = torch.as_tensor(relative_position, dtype=torch.long)
    if bidirectional:
        half = num_buckets // 2
        offset = torch.where(relative_position > 0, half, 0)  # keys to the right use the upper half
        distance = relative_position.abs()
    else:
        half = num_buckets
        offset = torch.zeros_like(relative_position)
        distance = (-relative_position).clamp(min=0)  # keys to the right: distance 0
    exact = half // 2
    if max_distance <= exact:
        raise ValueError(f"max_distance={max_distance} must exceed the {exact} exact buckets")
    # log-spaced buckets: exact + (n_log buckets) * log(d / exact) / log(max_distance / exact), truncated
    far = distance.clamp(min=exact)  # avoids log(0); the near distances are taken from `distance` below
    log_ratio = torch.log(far.float() / exact) / math.log(max_distance / exact)
    far_bucket = (exact + (log_ratio * (half - exact)).long()).clamp(max=half - 1)
    return offset + torch.where(distance < exact, distance, far_bucket)


def rouge_f(scorer: Any, reference: str, prediction: str) -> dict[str, float]:
    """F-measures of a ``rouge_score.rouge_scorer.RougeScorer`` with the arguments in the right order.

    ``RougeScorer.score(target, prediction)``: the reference comes first. Swapping them swaps precision and
    recall (F, their harmonic mean, is symmetric).
    """
    return {name: score.fmeasure for name, score in scorer.score(reference, prediction).items()}

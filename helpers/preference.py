"""Preference pairs and the losses of RLHF: a Bradley-Terry reward model, DPO, and PPO with a KL penalty.

Defined in Day 37. Everything works on tensors that any causal LM or sequence-classification model gives:

- ``review_pairs`` / ``dialogue_pairs`` build preference pairs in TRL's ``{"prompt", "chosen", "rejected"}``
  format from rating-labelled reviews and from real-vs-mismatched dialogue replies (a stand-in for human
  comparisons where none are offline);
- ``reward_loss``: the Bradley-Terry loss ``-log sigmoid(r_chosen - r_rejected)`` of TRL's ``RewardTrainer``;
- ``completion_logprobs`` and ``dpo_loss``: the summed log-probabilities of the completion tokens, and the
  DPO loss with its implicit rewards ``beta * log(pi / pi_ref)``, as TRL's ``DPOTrainer`` computes them;
- ``token_logprobs``, ``kl_penalized_rewards``, ``whiten``, ``ppo_clip_loss`` and ``exact_kl``: the pieces of
  a small PPO loop (TRL 1.16 has no PPO trainer).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

#: The instruction that every review pair answers.
REVIEW_PROMPT = "Write a short review of a food you bought.\n"


def _clean(text: str) -> str:
    """One line of text: HTML line breaks and runs of spaces made single spaces."""
    return " ".join(text.replace("<br />", " ").split())


def review_pairs(records: Sequence[dict[str, Any]], n_pairs: int, max_chars: int = 160,
                 seed: int = 0) -> list[dict[str, str]]:
    """Pairs (great review preferred to another review) from rating-labelled reviews.

    Defined in Day 37. ``records`` are dicts with ``"text"`` and ``"label"`` (1 = a 5-star review, 0 = any
    other score), as ``helpers.corpora.fine_foods.load_records`` gives them. Only reviews of at most
    ``max_chars`` characters are used, and each review at most once. The preference is derived from the
    ratings of different reviewers about different products, as in SHP's vote-derived pairs: it says
    "a 5-star review is preferred", not "this text is better written".

    Returns:
        ``n_pairs`` dicts ``{"prompt", "chosen", "rejected", "source"}``; ``chosen`` and ``rejected`` start
        with a space so that they can follow the prompt.
    """
    if n_pairs < 1:
        raise ValueError(f"n_pairs must be at least 1, got {n_pairs}")
    great = [_clean(r["text"]) for r in records if r["label"] == 1 and len(_clean(r["text"])) <= max_chars]
    other = [_clean(r["text"]) for r in records if r["label"] == 0 and len(_clean(r["text"])) <= max_chars]
    if min(len(great), len(other)) < n_pairs:
        raise ValueError(f"only {len(great)} great and {len(other)} other reviews of at most {max_chars} "
                         f"characters, for {n_pairs} pairs: raise max_chars or lower n_pairs")
    rng = random.Random(seed)
    rng.shuffle(great)
    rng.shuffle(other)
    return [{"prompt": REVIEW_PROMPT, "chosen": " " + g, "rejected": " " + o, "source": "reviews"}
            for g, o in zip(great[:n_pairs], other[:n_pairs], strict=True)]


def dialogue_prompt(user_text: str) -> str:
    """The plain-text dialogue format of the pairs: ``"User: ...\\nAssistant:"``."""
    return f"User: {user_text}\nAssistant:"


def dialogue_pairs(exchanges: Sequence[Any], n_pairs: int, seed: int = 0) -> list[dict[str, str]]:
    """Pairs (the real reply preferred to a reply taken from another dialogue) from prompt/answer exchanges.

    Defined in Day 37. ``exchanges`` have ``.prompt``, ``.answer`` and ``.topic``
    (``helpers.dialogues.Exchange``). The rejected reply comes from an exchange of another topic, so it is
    fluent but off the point: the pair teaches relevance, not style.
    """
    if n_pairs < 1:
        raise ValueError(f"n_pairs must be at least 1, got {n_pairs}")
    topics = {ex.topic for ex in exchanges}
    if len(exchanges) < n_pairs + 1 or len(topics) < 2:
        raise ValueError(f"need more than {n_pairs} exchanges from at least two topics, got {len(exchanges)} "
                         f"from {len(topics)}")
    rng = random.Random(seed)
    order = list(range(len(exchanges)))
    rng.shuffle(order)
    pairs = []
    for index in order[:n_pairs]:
        exchange = exchanges[index]
        while True:  # another topic, so the rejected reply does not answer this prompt by chance
            other = exchanges[rng.randrange(len(exchanges))]
            if other.topic != exchange.topic:
                break
        pairs.append({"prompt": dialogue_prompt(exchange.prompt), "chosen": " " + _clean(exchange.answer),
                      "rejected": " " + _clean(other.answer), "source": "dialogues"})
    return pairs


def split_hh_dialogue(chosen: str, rejected: str) -> tuple[str, str, str]:
    """HH-RLHF rows hold two whole dialogues; the prompt is everything up to the last ``Assistant:``.

    Returns ``(prompt, chosen answer, rejected answer)``; raises ``ValueError`` when the two dialogues do
    not share that prompt.
    """
    marker = "\n\nAssistant:"
    cut = chosen.rfind(marker)
    if cut < 0:
        raise ValueError("not an HH-RLHF dialogue: no '\\n\\nAssistant:' turn in the chosen text")
    prompt = chosen[: cut + len(marker)]
    if not rejected.startswith(prompt):
        raise ValueError("the chosen and rejected dialogues of this HH-RLHF row differ before the last reply")
    return prompt, chosen[len(prompt):], rejected[len(prompt):]


def _last_assistant(messages: Sequence[dict[str, str]]) -> str:
    return next(m["content"] for m in reversed(messages) if m["role"] == "assistant")


def hub_pairs(dataset_id: str, split: str, n_pairs: int, seed: int = 0) -> list[dict[str, str]]:
    """Human preference pairs from the Hub, in the same plain-text format as ``review_pairs``.

    Defined in Day 37. Knows ``Anthropic/hh-rlhf`` (whole dialogues, split with ``split_hh_dialogue``) and
    ``HuggingFaceH4/ultrafeedback_binarized`` (a prompt and two message lists; the prompt is put in the
    ``dialogue_prompt`` format). A failed download raises ``helpers.data.MissingDataError``.
    """
    from helpers.data import load_hub_dataset

    if dataset_id not in ("Anthropic/hh-rlhf", "HuggingFaceH4/ultrafeedback_binarized"):
        raise ValueError(f"hub_pairs knows Anthropic/hh-rlhf and HuggingFaceH4/ultrafeedback_binarized, "
                         f"not {dataset_id!r}")
    rows = load_hub_dataset("a human preference set", dataset_id,
                            "builds preference pairs from reviews and dialogues", split=split)
    rows = rows.shuffle(seed=seed).select(range(min(n_pairs, len(rows))))
    pairs = []
    for row in rows:
        if dataset_id == "Anthropic/hh-rlhf":
            prompt, chosen, rejected = split_hh_dialogue(row["chosen"], row["rejected"])
        else:
            prompt = dialogue_prompt(row["prompt"])
            chosen = " " + _last_assistant(row["chosen"]).strip()
            rejected = " " + _last_assistant(row["rejected"]).strip()
        pairs.append({"prompt": prompt, "chosen": chosen, "rejected": rejected, "source": "human"})
    return pairs


# ------------------------------------------------------------------------------ reward model
def reward_loss(chosen_rewards: torch.Tensor, rejected_rewards: torch.Tensor,
                margin: torch.Tensor | None = None) -> torch.Tensor:
    """Bradley-Terry loss of a reward model: mean of ``-log sigmoid(r_chosen - r_rejected - margin)``.

    Defined in Day 37. ``-log sigmoid(d)`` is written ``softplus(-d)``, which is exact and stable for
    large ``|d|``; TRL's ``RewardTrainer`` computes the same loss.
    """
    if chosen_rewards.shape != rejected_rewards.shape:
        raise ValueError(f"chosen and rejected rewards must have the same shape, got "
                         f"{tuple(chosen_rewards.shape)} and {tuple(rejected_rewards.shape)}")
    difference = chosen_rewards - rejected_rewards
    if margin is not None:
        difference = difference - margin
    return F.softplus(-difference).mean()


def preference_accuracy(chosen_rewards: torch.Tensor, rejected_rewards: torch.Tensor) -> float:
    """Share of pairs whose chosen answer gets the higher reward (ties count as wrong, as in TRL)."""
    if chosen_rewards.numel() == 0:
        raise ValueError("no pairs to score")
    return (chosen_rewards > rejected_rewards).float().mean().item()


# ------------------------------------------------------------------------------ log-probabilities and DPO
def token_logprobs(logits: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
    """``log p(tokens[b, t])`` under ``logits[b, t]``: a log-softmax, then a gather (shapes ``(B, T)``)."""
    if logits.shape[:-1] != tokens.shape:
        raise ValueError(f"logits {tuple(logits.shape)} must be the tokens' shape {tuple(tokens.shape)} "
                         "plus a vocabulary axis")
    return torch.gather(logits.float().log_softmax(-1), -1, tokens.unsqueeze(-1)).squeeze(-1)


def completion_logprobs(logits: torch.Tensor, input_ids: torch.Tensor,
                        completion_mask: torch.Tensor) -> torch.Tensor:
    """Sum of the log-probabilities of the completion tokens of each sequence.

    Defined in Day 37. ``logits[:, t]`` predicts ``input_ids[:, t + 1]``, so the targets are the ids shifted
    by one, and a token counts when ``completion_mask`` is 1 at its own position (prompt and pads are 0).
    """
    if logits.shape[:2] != input_ids.shape or input_ids.shape != completion_mask.shape:
        raise ValueError("logits (B, T, V), input_ids (B, T) and completion_mask (B, T) must agree "
                         "on B and T")
    per_token = token_logprobs(logits[:, :-1], input_ids[:, 1:])
    return (per_token * completion_mask[:, 1:]).sum(-1)


@dataclass
class DPOOutput:
    """The DPO loss of a batch, and the implicit rewards ``beta * log(pi / pi_ref)`` of each answer."""

    loss: torch.Tensor
    chosen_rewards: torch.Tensor
    rejected_rewards: torch.Tensor

    @property
    def margins(self) -> torch.Tensor:
        return self.chosen_rewards - self.rejected_rewards


def dpo_loss(policy_chosen: torch.Tensor, policy_rejected: torch.Tensor, ref_chosen: torch.Tensor,
             ref_rejected: torch.Tensor, beta: float) -> DPOOutput:
    """DPO (Rafailov et al., 2023): ``-log sigmoid(beta * [(log pi_c - ref_c) - (log pi_r - ref_r)])``.

    Defined in Day 37. The arguments are summed completion log-probabilities (``completion_logprobs``) of
    the policy and of the frozen reference. The implicit rewards are detached, as in TRL's logs.
    """
    if beta <= 0:
        raise ValueError(f"beta must be positive, got {beta}")
    chosen_ratio = policy_chosen - ref_chosen
    rejected_ratio = policy_rejected - ref_rejected
    loss = F.softplus(-beta * (chosen_ratio - rejected_ratio)).mean()
    return DPOOutput(loss, beta * chosen_ratio.detach(), beta * rejected_ratio.detach())


# ------------------------------------------------------------------------------ PPO pieces
def kl_penalized_rewards(scores: torch.Tensor, logprobs: torch.Tensor, ref_logprobs: torch.Tensor,
                         mask: torch.Tensor, beta: float) -> torch.Tensor:
    """Per-token rewards of RLHF's PPO: ``-beta * (log pi - log pi_ref)`` on every generated token, plus the
    reward model's score on the last one.

    Defined in Day 37. ``scores`` is ``(B,)``; the other tensors are ``(B, T)`` over the generated tokens,
    ``mask`` 1 on real tokens. Summed over a sequence, the reward is ``score - beta * KL_sample``, where
    ``KL_sample = sum_t (log pi - log pi_ref)`` is the sampled estimate of ``KL(pi || pi_ref)``.
    """
    if not (logprobs.shape == ref_logprobs.shape == mask.shape) or scores.shape != logprobs.shape[:1]:
        raise ValueError("scores (B,), logprobs, ref_logprobs and mask (B, T) must agree")
    lengths = mask.sum(-1).long()
    if (lengths < 1).any():
        raise ValueError("every sequence needs at least one generated token")
    rewards = -beta * (logprobs - ref_logprobs) * mask
    last = lengths - 1
    rewards[torch.arange(len(scores)), last] += scores
    return rewards


def returns_to_go(rewards: torch.Tensor, mask: torch.Tensor, gamma: float = 1.0) -> torch.Tensor:
    """``G_t = r_t + gamma * G_{t+1}`` over the real tokens of each row (the pads get 0)."""
    returns = torch.zeros_like(rewards)
    running = torch.zeros(rewards.shape[0], dtype=rewards.dtype, device=rewards.device)
    for t in reversed(range(rewards.shape[1])):
        running = (rewards[:, t] + gamma * running) * mask[:, t]
        returns[:, t] = running
    return returns


def whiten(values: torch.Tensor, mask: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """``(values - mean) / std`` over the masked entries (population std); masked-out entries become 0."""
    count = mask.sum()
    if count < 2:
        raise ValueError("whitening needs at least two masked values")
    mean = (values * mask).sum() / count
    variance = ((values - mean) ** 2 * mask).sum() / count
    return (values - mean) * torch.rsqrt(variance + eps) * mask


def ppo_clip_loss(logprobs: torch.Tensor, old_logprobs: torch.Tensor, advantages: torch.Tensor,
                  mask: torch.Tensor, clip_range: float = 0.2) -> tuple[torch.Tensor, torch.Tensor]:
    """PPO's clipped surrogate (Schulman et al., 2017), as a loss to minimise, averaged over the real tokens.

    Defined in Day 37. With ``ratio = exp(logprobs - old_logprobs)``, the per-token loss is
    ``-min(ratio * A, clip(ratio, 1 - eps, 1 + eps) * A)``. Returns ``(loss, clip_fraction)``, the share of
    tokens where the clipped term was the active one.
    """
    if not (logprobs.shape == old_logprobs.shape == advantages.shape == mask.shape):
        raise ValueError("logprobs, old_logprobs, advantages and mask must have the same shape")
    if not 0 < clip_range < 1:
        raise ValueError(f"clip_range must be in (0, 1), got {clip_range}")
    ratio = torch.exp(logprobs - old_logprobs)
    unclipped = ratio * advantages
    clipped = ratio.clamp(1 - clip_range, 1 + clip_range) * advantages
    per_token = -torch.minimum(unclipped, clipped)
    count = mask.sum().clamp(min=1)
    clip_fraction = ((clipped < unclipped).float() * mask).sum() / count
    return (per_token * mask).sum() / count, clip_fraction.detach()


def exact_kl(logits: torch.Tensor, ref_logits: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``KL(pi || pi_ref)`` summed over the vocabulary at each position, then over the masked positions.

    Defined in Day 37. The sampled estimate ``log pi(a) - log pi_ref(a)`` of ``kl_penalized_rewards`` has
    this expectation; this is the exact value, for checking and plotting.
    """
    logp, ref_logp = logits.float().log_softmax(-1), ref_logits.float().log_softmax(-1)
    per_position = (logp.exp() * (logp - ref_logp)).sum(-1)
    return (per_position * mask).sum(-1)

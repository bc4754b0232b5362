"""Day 37: the hand-written RLHF pieces (helpers.preference) against TRL and PyTorch references."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from helpers.dialogues import Exchange
from helpers.preference import (
    REVIEW_PROMPT,
    completion_logprobs,
    dialogue_pairs,
    dpo_loss,
    exact_kl,
    kl_penalized_rewards,
    ppo_clip_loss,
    returns_to_go,
    review_pairs,
    reward_loss,
    split_hh_dialogue,
    token_logprobs,
    whiten,
)

MODEL_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"


def _pairs() -> list[dict[str, str]]:
    return [
        {"prompt": "Write a review.\n", "chosen": " Lovely tea, will buy again.", "rejected": " Stale."},
        {"prompt": "User: What is AI?\nAssistant:", "chosen": " The science of thinking machines.",
         "rejected": " I like pizza."},
        {"prompt": "Write a review.\n", "chosen": " Great crunchy snack!",
         "rejected": " Too salty for me, sadly."},
        {"prompt": "User: Hello\nAssistant:", "chosen": " Hi there!", "rejected": " Mercury is a planet."},
    ]


def _trl_args(config_class: type, tmp_path, **extra):  # noqa: ANN001, ANN202
    return config_class(output_dir=str(tmp_path), max_steps=1, per_device_train_batch_size=4,
                        report_to="none",
                        disable_tqdm=True, gradient_checkpointing=False, bf16=False, use_cpu=True,
                        save_strategy="no", max_length=64, **extra)


# ------------------------------------------------------------------------------ reward model
def test_reward_loss_equals_reward_trainer_loss(tmp_path) -> None:  # noqa: ANN001
    datasets = pytest.importorskip("datasets")
    trl = pytest.importorskip("trl")
    from helpers.hub import load_pretrained

    torch.manual_seed(0)
    model, tokenizer = load_pretrained(MODEL_ID, task="sequence-classification", profile="ci", tiny=True)
    model.config.num_labels = 1
    model.score = torch.nn.Linear(model.config.hidden_size, 1, bias=False)
    model.config.pad_token_id = tokenizer.pad_token_id
    trainer = trl.RewardTrainer(model=model, processing_class=tokenizer,
                                train_dataset=datasets.Dataset.from_list(_pairs()),
                                args=_trl_args(trl.RewardConfig, tmp_path))
    batch = trainer.data_collator([trainer.train_dataset[i] for i in range(4)])
    model.eval()
    with torch.no_grad():
        expected = trainer.compute_loss(model, dict(batch))
        chosen, rejected = model(**batch).logits.squeeze(-1).chunk(2)
    assert abs(chosen - rejected).max() > 1e-4  # a random head: the loss is not trivially log 2
    torch.testing.assert_close(reward_loss(chosen, rejected), expected, rtol=0, atol=1e-6)


def test_reward_loss_is_bradley_terry_with_margin() -> None:
    chosen, rejected = torch.randn(7, dtype=torch.float64), torch.randn(7, dtype=torch.float64)
    margin = torch.rand(7, dtype=torch.float64)
    expected = -F.logsigmoid(chosen - rejected - margin).mean()  # TRL's formula with a margin column
    torch.testing.assert_close(reward_loss(chosen, rejected, margin), expected)
    # large differences: softplus stays exact where log(sigmoid) would underflow in float32
    big = reward_loss(torch.tensor([0.0]), torch.tensor([200.0]))
    assert torch.isfinite(big) and abs(big.item() - 200.0) < 1e-4
    with pytest.raises(ValueError, match="same shape"):
        reward_loss(torch.zeros(3), torch.zeros(4))


# ------------------------------------------------------------------------------ DPO
def test_dpo_by_hand_equals_dpo_trainer(tmp_path) -> None:  # noqa: ANN001
    datasets = pytest.importorskip("datasets")
    trl = pytest.importorskip("trl")
    from peft import LoraConfig

    from helpers.hub import load_pretrained

    torch.manual_seed(0)
    model, tokenizer = load_pretrained(MODEL_ID, profile="ci", tiny=True)
    beta = 0.3
    lora = LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0, task_type="CAUSAL_LM",
                      target_modules=["q_proj", "v_proj"])
    trainer = trl.DPOTrainer(model=model, processing_class=tokenizer, peft_config=lora,
                             train_dataset=datasets.Dataset.from_list(_pairs()),
                             args=_trl_args(trl.DPOConfig, tmp_path, beta=beta))
    policy = trainer.model
    with torch.no_grad():  # move the adapter away from B = 0, so that policy != reference
        for name, param in policy.named_parameters():
            if "lora_B" in name:
                param.normal_(std=0.5)
    batch = trainer.data_collator([trainer.train_dataset[i] for i in range(4)])
    policy.eval()
    with torch.no_grad():
        expected = trainer.compute_loss(policy, dict(batch))
        inputs = {"input_ids": batch["input_ids"], "attention_mask": batch["attention_mask"]}
        logps = completion_logprobs(policy(**inputs).logits, batch["input_ids"], batch["completion_mask"])
        with policy.disable_adapter():
            ref = completion_logprobs(policy(**inputs).logits, batch["input_ids"], batch["completion_mask"])
    ours = dpo_loss(*logps.chunk(2), *ref.chunk(2), beta=beta)
    logged = {key: values[-1] for key, values in trainer._metrics["eval"].items()}
    assert abs(ours.margins).max() > 1e-3
    torch.testing.assert_close(ours.loss, expected, rtol=0, atol=1e-5)
    assert ours.chosen_rewards.mean().item() == pytest.approx(logged["rewards/chosen"], abs=1e-5)
    assert ours.rejected_rewards.mean().item() == pytest.approx(logged["rewards/rejected"], abs=1e-5)
    assert ours.margins.mean().item() == pytest.approx(logged["rewards/margins"], abs=1e-5)
    assert logps.chunk(2)[0].mean().item() == pytest.approx(logged["logps/chosen"], abs=1e-4)


def test_completion_logprobs_equals_cross_entropy_of_the_completion() -> None:
    torch.manual_seed(1)
    logits, ids = torch.randn(3, 6, 11), torch.randint(0, 11, (3, 6))
    mask = torch.tensor([[0, 0, 1, 1, 1, 0], [0, 1, 1, 1, 1, 1], [0, 0, 0, 0, 1, 1]])
    labels = ids.masked_fill(mask == 0, -100)[:, 1:]
    per_token = F.cross_entropy(logits[:, :-1].transpose(1, 2), labels, reduction="none", ignore_index=-100)
    torch.testing.assert_close(completion_logprobs(logits, ids, mask), -per_token.sum(-1))


def test_dpo_loss_formula_and_errors() -> None:
    pc, pr, rc, rr = (torch.randn(5, dtype=torch.float64) for _ in range(4))
    out = dpo_loss(pc, pr, rc, rr, beta=0.1)
    torch.testing.assert_close(out.loss, -F.logsigmoid(0.1 * ((pc - rc) - (pr - rr))).mean())
    torch.testing.assert_close(out.margins, 0.1 * ((pc - rc) - (pr - rr)))
    same = dpo_loss(pc, pr, pc, pr, beta=0.1)  # policy = reference: log 2 and zero rewards
    assert same.loss.item() == pytest.approx(np.log(2))
    with pytest.raises(ValueError, match="beta"):
        dpo_loss(pc, pr, rc, rr, beta=0.0)


# ------------------------------------------------------------------------------ PPO pieces
def test_token_logprobs_and_exact_kl_against_references() -> None:
    from trl.trainer.utils import selective_log_softmax

    torch.manual_seed(2)
    logits = torch.randn(2, 5, 13, dtype=torch.float64)
    ref_logits = torch.randn(2, 5, 13, dtype=torch.float64)
    tokens = torch.randint(0, 13, (2, 5))
    torch.testing.assert_close(token_logprobs(logits, tokens), selective_log_softmax(logits, tokens).float(),
                               rtol=0, atol=1e-6)
    mask = torch.tensor([[1.0, 1, 1, 0, 0], [1, 1, 1, 1, 1]])
    per_position = F.kl_div(ref_logits.log_softmax(-1), logits.log_softmax(-1), log_target=True,
                            reduction="none").sum(-1)
    torch.testing.assert_close(exact_kl(logits, ref_logits, mask), (per_position * mask).sum(-1).float(),
                               rtol=1e-6, atol=1e-6)


def test_kl_penalized_rewards_and_returns() -> None:
    torch.manual_seed(3)
    logp, ref = torch.randn(3, 4), torch.randn(3, 4)
    mask = torch.tensor([[1.0, 1, 1, 1], [1, 1, 0, 0], [1, 0, 0, 0]])
    scores = torch.tensor([0.5, -1.0, 2.0])
    rewards = kl_penalized_rewards(scores, logp, ref, mask, beta=0.2)
    expected = -0.2 * (logp - ref) * mask
    expected[0, 3] += 0.5
    expected[1, 1] -= 1.0
    expected[2, 0] += 2.0
    torch.testing.assert_close(rewards, expected)
    returns = returns_to_go(rewards, mask)
    torch.testing.assert_close(returns, torch.flip(torch.cumsum(torch.flip(rewards, [1]), 1), [1]) * mask)
    torch.testing.assert_close(returns[:, 0], scores - 0.2 * ((logp - ref) * mask).sum(-1))
    with pytest.raises(ValueError, match="at least one"):
        kl_penalized_rewards(scores, logp, ref, mask * torch.tensor([[1.0], [1], [0]]), beta=0.2)


def test_whiten_matches_numpy() -> None:
    values = torch.tensor([[1.0, 2, 3, 9], [4, 5, 0, 0]])
    mask = torch.tensor([[1.0, 1, 1, 1], [1, 1, 0, 0]])
    kept = np.array([1.0, 2, 3, 9, 4, 5])
    expected = np.zeros((2, 4))
    expected[mask.numpy() == 1] = (kept - kept.mean()) / kept.std()
    np.testing.assert_allclose(whiten(values, mask).numpy(), expected, atol=1e-6)


def test_ppo_clip_loss_against_the_formula_and_policy_gradient() -> None:
    torch.manual_seed(4)
    old = torch.randn(4, 6, dtype=torch.float64)
    new = old + 0.4 * torch.randn(4, 6, dtype=torch.float64)
    adv = torch.randn(4, 6, dtype=torch.float64)
    mask = (torch.rand(4, 6) > 0.3).double()
    loss, clip_fraction = ppo_clip_loss(new, old, adv, mask, clip_range=0.2)
    ratio = np.exp(new.numpy() - old.numpy())
    # the PPO paper's L^CLIP, with the sign of a loss
    per_token = -np.minimum(ratio * adv.numpy(), np.clip(ratio, 0.8, 1.2) * adv.numpy())
    assert loss.item() == pytest.approx((per_token * mask.numpy()).sum() / mask.sum().item(), abs=1e-12)
    assert 0 < clip_fraction.item() < 1
    # at ratio 1 (the first step on fresh samples), PPO's gradient is the policy gradient -E[A grad log pi]
    logp = copy.deepcopy(old).requires_grad_(True)
    ppo_clip_loss(logp, old, adv, mask)[0].backward()
    torch.testing.assert_close(logp.grad, -adv * mask / mask.sum())


# ------------------------------------------------------------------------------ data
def test_review_pairs() -> None:
    records = ([{"text": f"great {i}<br />yes", "label": 1} for i in range(5)]
               + [{"text": f"meh {i}", "label": 0} for i in range(5)] + [{"text": "x" * 500, "label": 1}])
    pairs = review_pairs(records, 4, max_chars=50, seed=1)
    assert len(pairs) == 4 and all(p["prompt"] == REVIEW_PROMPT for p in pairs)
    assert all(p["chosen"].startswith(" great") and "<br />" not in p["chosen"] for p in pairs)
    assert all(p["rejected"].startswith(" meh") for p in pairs)
    assert len({p["chosen"] for p in pairs}) == 4 and len({p["rejected"] for p in pairs}) == 4
    assert pairs == review_pairs(records, 4, max_chars=50, seed=1)
    with pytest.raises(ValueError, match="max_chars"):
        review_pairs(records, 6, max_chars=50)


def test_dialogue_pairs_reject_replies_from_another_topic() -> None:
    exchanges = [Exchange(f"q{t}{i}", f"a{t}{i}", topic=t) for t in "abc" for i in range(4)]
    answers = {f" {ex.answer}": ex.topic for ex in exchanges}
    pairs = dialogue_pairs(exchanges, 8, seed=0)
    for pair in pairs:
        assert pair["prompt"].startswith("User: q") and pair["prompt"].endswith("\nAssistant:")
        assert answers[pair["chosen"]] == pair["prompt"][7]
        assert answers[pair["rejected"]] != pair["prompt"][7]
    with pytest.raises(ValueError, match="two topics"):
        dialogue_pairs([ex for ex in exchanges if ex.topic == "a"], 2)


def test_split_hh_dialogue() -> None:
    chosen = "\n\nHuman: Hi\n\nAssistant: Hello!\n\nHuman: Help me?\n\nAssistant: Sure, how?"
    rejected = "\n\nHuman: Hi\n\nAssistant: Hello!\n\nHuman: Help me?\n\nAssistant: No."
    prompt, c, r = split_hh_dialogue(chosen, rejected)
    assert prompt.endswith("Help me?\n\nAssistant:") and c == " Sure, how?" and r == " No."
    with pytest.raises(ValueError, match="differ"):
        split_hh_dialogue(chosen, rejected.replace("Hi", "Yo"))

"""Day 37 (RLHF): a reward model, DPO and a small PPO on SmolLM2.

``ci`` builds its preference pairs offline (rating-derived review pairs + real-vs-mismatched dialogue
replies) and trains for a handful of steps; ``laptop`` and ``gpu`` read a public human preference set.
"""

from typing import Any

SETTINGS: dict[str, dict[str, Any]] = {
    "common": {
        "model_id": "HuggingFaceTB/SmolLM2-135M-Instruct",  # the policy, and the reward model's backbone
        "dataset": "offline",  # "offline" (built pairs) or a Hub id read by load_hub_pairs
        "dataset_split": "train",
        "n_review_pairs": 48,  # great-vs-other review pairs (offline dataset)
        "n_dialogue_pairs": 48,  # real-vs-mismatched reply pairs (offline dataset)
        "max_chars": 160,  # shortest reviews only: the pairs stay short
        "eval_pairs": 16,  # held-out pairs per source for the reward accuracy
        "dpo_eval_pairs": 16,  # of those, per source, the ones DPO's margins are measured on
        "max_length": 64,  # tokens of prompt + answer; longer pairs are dropped by the trainers
        # reward model
        "rm_layers": None,  # None: the whole backbone; an int keeps the first blocks only
        "rm_lora_r": 8,
        "rm_lr": 1e-3,
        "rm_steps": 24,
        "rm_batch_size": 4,
        # DPO
        "dpo_beta": 0.1,  # DPO's beta (rasbt's and TRL's default)
        "dpo_lora_r": 8,
        "dpo_lr": 1e-3,
        "dpo_steps": 16,
        "dpo_batch_size": 4,
        "lora_layers": None,  # None: LoRA in every block; a list limits it (and the backward pass) to those
        # PPO
        "ppo_beta": 0.05,  # KL penalty coefficient
        "ppo_iterations": 8,
        "ppo_batch_size": 8,  # prompts sampled per iteration
        "ppo_epochs": 2,  # optimisation passes over each batch of samples
        "ppo_clip": 0.2,
        "ppo_lr": 1e-3,
        "ppo_new_tokens": 24,
        "ppo_lora_r": 8,
    },
    "ci": {
        # Offline pairs of short texts; a reward model on the first 6 of SmolLM2's 30 blocks (5x cheaper per
        # step; middle layers already separate sentiment and topic); LoRA in the last 4 blocks of the policy
        # only, so the backward pass stops there; a few steps of each stage. Under the pinned ci numerics
        # (helpers.repro) one forward pass of the policy on 8 short sequences costs ~1-2 s of CPU.
        "n_review_pairs": 24,
        "n_dialogue_pairs": 24,
        "max_chars": 100,
        "eval_pairs": 12,
        "dpo_eval_pairs": 3,
        "max_length": 48,
        "rm_layers": 6,
        "rm_steps": 16,
        "dpo_steps": 5,
        "dpo_batch_size": 2,
        "dpo_lr": 2e-2,  # five steps: large ones, so that the implicit rewards visibly move
        "lora_layers": [26, 27, 28, 29],
        "ppo_iterations": 3,
        "ppo_batch_size": 6,
        "ppo_new_tokens": 10,
        "ppo_lr": 5e-3,  # three iterations: large steps, so that the KL visibly moves
    },
    "laptop": {
        # Real human preferences (Anthropic HH-RLHF, a slice), the full SmolLM2 backbone, ~20 min on 2 cores.
        "dataset": "Anthropic/hh-rlhf",
        "n_review_pairs": 400,
        "max_length": 192,
        "eval_pairs": 100,
        "dpo_eval_pairs": 50,
        "rm_steps": 100,
        "dpo_steps": 60,
        "ppo_iterations": 20,
    },
    "gpu": {
        # UltraFeedback (binarised), longer sequences, a few hundred steps each: ~20 min on a T4.
        "dataset": "HuggingFaceH4/ultrafeedback_binarized",
        "dataset_split": "train_prefs",
        "n_review_pairs": 4000,
        "max_length": 512,
        "eval_pairs": 500,
        "dpo_eval_pairs": 200,
        "rm_steps": 500,
        "rm_batch_size": 16,
        "rm_lr": 1e-4,
        "dpo_steps": 300,
        "dpo_batch_size": 8,
        "dpo_lr": 5e-5,
        "dpo_lora_r": 16,
        "ppo_iterations": 100,
        "ppo_batch_size": 32,
        "ppo_epochs": 4,
        "ppo_lr": 1e-4,
        "ppo_new_tokens": 48,
    },
}

#: An LLM day: its ci run may take up to 120 s (tests/conftest.py checks the kernel CPU time).
CI_BUDGET_S = 120

"""Day 33 (prompting): zero-/few-shot label scoring, chain of thought, chat templates.

No training: every profile prompts a fixed instruct model. ``ci`` uses the packaged SmolLM2-135M-Instruct
(a dequantized Q4 copy) on a few dozen short reviews and word problems; ``gpu`` a 1.5B instruct model
whose template is ChatML too, on the whole test split.
"""

from typing import Any

SETTINGS: dict[str, dict[str, Any]] = {
    "common": {
        "model_id": "HuggingFaceTB/SmolLM2-135M-Instruct",
        # the system message that the model's chat template inserts when a conversation has none
        # (SmolLM2's; checked against apply_chat_template in the notebook)
        "default_system": "You are a helpful AI assistant named SmolLM, trained by Hugging Face",
        "labels": ["negative", "positive"],  # label words, by label id (fine_foods: 0 other, 1 great)
        "n_reviews": 32,  # test reviews, half of each class
        "max_review_chars": 110,  # short reviews keep every prompt short (cost grows with tokens)
        "shots": [2],  # few-shot examples per class (one prompt per entry), taken from the train split
        "n_check": 3,  # reviews whose scores are recomputed one by one with the library's loss
        "batch_size": 8,
        "n_problems": 10,  # generated word problems, half of one operation, half of two
        "max_new_tokens_direct": 6,  # after "The answer is": a number and a full stop
        "max_new_tokens_cot": 72,  # room for two short steps and the answer line
        "problem_seed": 33,
    },
    "ci": {
        # Packaged SmolLM2 (GGUF Q4_1 dequantized, read from the safetensors copy made at set-up): 32
        # reviews x 3 prompts and 10 problems x 2 prompts take about 50 s of one CPU thread
        # (generation is half of it: 72 greedy steps for the chains of thought).
    },
    "laptop": {
        # The published SmolLM2 weights from the Hub; more reviews and problems (about 10 minutes on 2 cores).
        "n_reviews": 200,
        "max_review_chars": 200,
        "shots": [1, 2, 4],
        "n_problems": 60,
        "max_new_tokens_cot": 128,
    },
    "gpu": {
        # A 1.5B instruct model with a ChatML template (the same hand-built string applies) on 400
        # reviews of any length and 200 problems; bfloat16 fits any 16 GB GPU.
        "model_id": "Qwen/Qwen2.5-1.5B-Instruct",
        "default_system": "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.",
        "n_reviews": 400,
        "max_review_chars": 2000,
        "shots": [1, 2, 4],
        "batch_size": 16,
        "n_problems": 200,
        "max_new_tokens_cot": 192,
    },
}

#: An LLM day: its ci run may take up to 120 s (tests/conftest.py checks the kernel CPU time).
CI_BUDGET_S = 120

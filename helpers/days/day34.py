"""Day 34 (LoRA): PEFT LoRA on a packaged SmolLM2 in ci; the 2023 GPT-J-6B 8-bit recipe under gpu.

The LoRA recipe (r, alpha, targets, dropout, batch size) is the article's in every profile; the
profiles change the model, the data, the sequence length, the learning rate and the epochs.
"""

from typing import Any

SETTINGS: dict[str, dict[str, Any]] = {
    "common": {
        "model_id": "HuggingFaceTB/SmolLM2-135M-Instruct",
        "quantization": None,  # helpers.hub.quantization_kwargs: None, "8bit" or "4bit"
        "gradient_checkpointing": False,
        "lora_r": 16,
        "lora_alpha": 32,
        "lora_dropout": 0.05,
        "target_modules": ["q_proj", "v_proj"],
        "dataset": "chatterbot",  # "chatterbot" (packaged, offline) or "squad_v2" (downloads)
        "dataset_kwargs": {},
        "chat_template": True,  # wrap prompts in the tokenizer's chat template (instruct models)
        "valid_fraction": 0.2,
        "shuffle_seed": 0,  # None keeps the file order (the article's shuffle=False)
        "max_train": None,
        "max_valid": None,
        "max_length": 512,  # tokens of prompt + answer; longer examples are dropped, not cut
        "batch_size": 8,
        "lr": 1e-4,  # Adam, as in the article
        "epochs": 3,
        "early_stopping": None,
        "max_new_tokens": 32,
        "n_samples": 3,  # validation prompts answered before/after training
    },
    "ci": {
        # Packaged SmolLM2 (GGUF Q4_1, dequantized; read from the safetensors copy made at set-up) +
        # chatterbot-corpus dialogues: 2 epochs of 5 optimizer steps (~3 s of CPU each) fit the budget.
        "dataset_kwargs": {"topics": ["ai", "botprofile", "computers", "emotion", "psychology", "science",
                                      "trivia"]},
        "max_train": 40,
        "max_valid": 16,
        "max_length": 64,
        "lr": 1e-3,  # few steps: a larger step size than the article's 1e-4
        "epochs": 2,
        "max_new_tokens": 24,
    },
    "laptop": {
        # Real SmolLM2 weights from the Hub on SQuAD v2 (first paragraphs), a CPU-sized subset.
        "dataset": "squad_v2",
        "dataset_kwargs": {"split": "train"},
        "max_train": 256,
        "max_valid": 64,
        "max_length": 384,
        "lr": 3e-4,
        "epochs": 2,
    },
    "gpu": {
        # The 2023 recipe: GPT-J-6B in 8 bits, LoRA r=16 on q/v, SQuAD v2 first paragraphs, Adam 1e-4,
        # batch 8, an 80/20 split without shuffling; the article's best valid loss came after epoch 1.
        "model_id": "EleutherAI/gpt-j-6B",
        "quantization": "8bit",
        "gradient_checkpointing": True,
        "chat_template": False,  # GPT-J is a base model: the prompt is the article's plain text
        "dataset": "squad_v2",
        "dataset_kwargs": {"split": "train"},
        "shuffle_seed": None,
        "max_length": 1024,
        "epochs": 3,
        "early_stopping": 2,
    },
}

#: An LLM day: its ci run may take up to 120 s (tests/conftest.py checks the kernel CPU time).
CI_BUDGET_S = 120

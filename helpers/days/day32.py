"""Day 32 (generative QA and translation): one decoder, two tasks, answer-only labels.

``ci`` adapts the packaged SmolLM2-135M-Instruct with LoRA for a few steps on the Lee-corpus SQuAD v2
stand-in of day 29 and FreeDict English-German sentences. ``gpu`` runs the 2024 series' recipe (day 26):
``gpt2`` fully fine-tuned on SQuAD v2 with the ``### Context/Question/Answer`` template (its best validation
loss: 0.47061), with the FreeDict pairs mixed in.
"""

from typing import Any

SETTINGS: dict[str, dict[str, Any]] = {
    "common": {
        "model_id": "HuggingFaceTB/SmolLM2-135M-Instruct",
        # LoRA (r, alpha, dropout, target modules) or None for a full fine-tune (the seed's gpt2 recipe)
        "lora": {"r": 16, "alpha": 32, "dropout": 0.05, "targets": ["q_proj", "v_proj"]},
        "lora_layers": None,  # None: every layer; a list of layer indices: those only (layers_to_transform)
        "qa_source": "squad_v2",  # "lee" (day 29's generated SQuAD v2, offline) or "squad_v2" (the Hub)
        "qa_context_sentences": 3,  # only for "lee": sentences of each news paragraph kept as the context
        "n_train_qa": None,  # None: every question of the split
        "n_train_mt": None,  # None: every training pair
        "n_valid_qa": 200,  # questions for the validation loss and for EM/F1
        "n_valid_mt": 200,  # pairs for the validation loss and for BLEU
        "mt_valid_fraction": 0.1,  # FreeDict pairs held out (shuffled with data_seed first)
        "mt_max_words": 20,  # English sentences longer than this are left out
        "max_length": 512,  # tokens of prompt + completion + EOS; longer rows are dropped, not cut
        "batch_size": 8,
        "lr": 2e-4,
        "weight_decay": 0.0,
        "warmup_fraction": 0.0,  # linear warm-up over this share of the steps, then constant
        "steps": 200,  # optimizer steps (batches of the shuffled QA + translation mix)
        "eval_batch_size": 16,
        "max_new_tokens_qa": 16,
        "max_new_tokens_mt": 32,
        "n_show": 3,  # generated examples printed per task
        "data_seed": 32,
    },
    "ci": {
        # Packaged SmolLM2 (dequantized Q4_1 GGUF, cached as safetensors at set-up). LoRA only in the top 6 of
        # its 30 layers: the backward pass then stops at layer 24, which makes a CPU step about 40% cheaper.
        "lora_layers": list(range(24, 30)),
        "qa_source": "lee",
        "qa_context_sentences": 1,  # one-sentence contexts: ~60-token prompts keep a CPU step near 2 s
        "n_train_qa": 32,
        "n_train_mt": 32,
        "n_valid_qa": 8,
        "n_valid_mt": 8,
        "mt_max_words": 8,
        "max_length": 96,
        "batch_size": 4,
        "lr": 3e-3,  # eight steps: a much larger step size than a long run would use
        "steps": 8,
        "eval_batch_size": 8,
        "max_new_tokens_qa": 8,
        "max_new_tokens_mt": 12,
    },
    "laptop": {
        # The published SmolLM2 from the Hub, real SQuAD v2, on a 2-core CPU (about 25 minutes).
        "lora_layers": list(range(18, 30)),
        "n_train_qa": 800,
        "n_train_mt": 400,
        "n_valid_qa": 100,
        "n_valid_mt": 100,
        "mt_max_words": 12,
        "max_length": 320,
        "lr": 5e-4,
        "steps": 100,
    },
    "gpu": {
        # The 2024 recipe (day 26): openai-community/gpt2, every weight trained, AdamW 5e-5, batch 4 in the
        # article (8 here), warm-up then constant; SQuAD v2 with the same template. A 40k-question slice for
        # 10k steps (about 20 minutes on a T4) instead of the article's 10 epochs of 104k questions.
        "model_id": "openai-community/gpt2",
        "lora": None,
        "n_train_qa": 40000,
        "n_valid_qa": 500,
        "n_valid_mt": 300,
        "lr": 5e-5,
        "warmup_fraction": 0.1,
        "steps": 10000,
        "eval_batch_size": 32,
        "max_length": 768,
    },
}

#: An LLM day: its ci run may take up to 120 s (tests/course_plugin.py checks the kernel CPU time).
CI_BUDGET_S = 120

"""Day 39 (NER with a decoder LLM): SmolLM2 + LoRA as a tagger and as a generator, against MiniLM.

``ci`` trains all three for a few dozen steps on synthetic PII sentences mixed with real WNUT-16 tweets
(offline); ``laptop`` and ``gpu`` read the ai4privacy PII set of the 2025 source articles from the Hub.
"""

from typing import Any

SETTINGS: dict[str, dict[str, Any]] = {
    "common": {
        "decoder_id": "HuggingFaceTB/SmolLM2-135M-Instruct",
        "encoder_id": "sentence-transformers/all-MiniLM-L6-v2",
        "dataset": "pii_synthetic",  # "pii_synthetic" (offline: templates + WNUT-16) or "ai4privacy" (Hub)
        "wnut_share": 0.25,  # real WNUT-16 tweets (person, geo-loc kept) added per synthetic sentence
        "test_share": 0.2,  # WNUT-16 names, places and tweets split before any sentence is made
        "max_tweet_words": None,  # drop longer tweets (a long row pads its whole batch)
        "quantization": None,  # helpers.hub.quantization_kwargs: None or "4bit" (QLoRA, as the seed)
        "lora_r": 16,
        "lora_alpha": 32,
        "lora_dropout": 0.05,
        "target_modules": ["q_proj", "k_proj", "v_proj", "o_proj"],  # the seed's q/k/v/o
        "lora_top_layers": None,  # None: LoRA in every block; k: only the top k (backward stops there)
        "freeze_word_embeddings": False,  # MiniLM: 11.7M of its 22.7M parameters are the word embeddings
        "gen_batch_size": 16,  # prompts per generate() call (left-padded)
        "generator_batch_size": 8,  # SFT batch of the generator
        "max_length": 96,  # tokens: tweets and templates are short
        "max_new_tokens": 48,  # room for about four "TYPE | mention" lines
    },
    "ci": {
        # Few steps, short sentences: all three models train and are scored inside the LLM-day budget.
        "n_train": 96,  # synthetic sentences for training (+ wnut_share of real tweets)
        "n_test": 16,  # synthetic test sentences (+ wnut_share of real tweets): 20 in all
        "max_tweet_words": 25,  # CPU time: no 40-word tweet in a batch of 15-word sentences
        "freeze_word_embeddings": True,  # half of MiniLM's optimizer work, for a few steps
        "tagger_steps": 8,  # SmolLM2 token classification + LoRA, batch 8
        "tagger_lr": 2e-3,  # few steps: a large learning rate for the adapter and the new head
        "generator_steps": 4,  # SmolLM2 SFT on "TYPE | mention" lines: a demonstration, not enough
        "generator_batch_size": 4,  # prompt + answer is ~3x a sentence's tokens: half the batch
        "generator_lr": 3e-3,
        "encoder_steps": 30,  # MiniLM is 6x smaller: more steps for the same CPU time
        "encoder_lr": 1e-3,  # few steps: a large learning rate for MiniLM and its new head
        "batch_size": 8,
        "max_new_tokens": 32,  # most ci answers (two or three lines) fit; longer ones are cut
    },
    "laptop": {
        # The real PII set (English rows) on a CPU: about 25 minutes in all.
        "dataset": "ai4privacy",
        "n_train": 800,
        "n_test": 200,
        "tagger_steps": 200,
        "tagger_lr": 5e-4,
        "generator_steps": 200,
        "generator_lr": 5e-4,
        "encoder_steps": 400,
        "encoder_lr": 1e-4,
        "batch_size": 8,
    },
    "gpu": {
        # The seed's scale: 1,600 training rows of the PII set (batch 4 in the seed; 8 here), a larger
        # open decoder instead of the gated Llama-3-8B, loaded in 4 bits (QLoRA) with LoRA r=32 on q/k/v/o.
        "decoder_id": "Qwen/Qwen2.5-1.5B-Instruct",
        "quantization": "4bit",
        "lora_r": 32,
        "lora_alpha": 64,
        "dataset": "ai4privacy",
        "n_train": 1600,
        "n_test": 400,
        "tagger_steps": 1000,
        "tagger_lr": 2e-4,
        "generator_steps": 1000,
        "generator_lr": 2e-4,
        "encoder_steps": 2000,
        "encoder_lr": 5e-5,
        "batch_size": 8,
        "max_length": 256,
        "max_new_tokens": 128,  # the seed's budget
    },
}

#: An LLM day: its ci run may take up to 120 s (tests/conftest.py checks the kernel CPU time).
CI_BUDGET_S = 120

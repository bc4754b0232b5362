"""Day 23 (decoding): SmolLM2 for every decoding demo, and a tiny character-level Llama for hallucination.

The decoding demos are the same in every profile (short generations: they are about the rules, not about
scale); the profiles change the language model (ci: the packaged SmolLM2-135M-Instruct, gpu: its 1.7B
sibling) and how long the weak model of the last section trains.
"""

from typing import Any

SETTINGS: dict[str, dict[str, Any]] = {
    "common": {
        "model_id": "HuggingFaceTB/SmolLM2-135M-Instruct",
        "question": "What is the capital of France?",  # a fact the model knows
        "unknowable": "Who was the first person to walk on Mars?",  # nobody has: an invitation to invent
        "loop_prompt": "The best thing about the city is",  # plain text (no chat template): greedy loops
        "answer_tokens": 16,  # max_new_tokens of the chat answers
        "loop_tokens": 40,  # max_new_tokens of the repetition demo
        "temperatures": [0.5, 1.5],  # the two temperatures of the filter figure
        "top_k": 5,
        "top_p": 0.9,
        "penalties": [1.0, 1.3, 2.5],  # none, a common choice, and the 2023 series' 2.5 used everywhere
        "num_beams": 3,
        "length_penalty": 1.0,  # generate's default, set explicitly
        "beam_tokens": 10,  # beam search re-reads the whole sequence each step: keep it short
        "samples": 3,  # sampled answers per setting
        "sample_seed": 23,
        "kv_tokens": 32,  # tokens generated with and without the KV cache (the timing cell)
        # the weak model: a character-level 2-layer Llama on Pride and Prejudice
        "tiny_book": "prideprejudice",
        "tiny_chars": 200_000,  # characters of the book used for training
        "tiny_hidden": 64,
        "tiny_layers": 2,
        "tiny_heads": 4,
        "tiny_context": 64,
        "tiny_batch": 16,
        "tiny_lr": 3e-3,
        "tiny_early_step": 40,  # sample once early, to compare with the end of training
        "tiny_sample_chars": 200,
        "tiny_temperature": 0.8,
    },
    "ci": {
        # 200 steps of a 2-layer, 64-wide model, batches of 16 x 64 characters: seconds of one CPU thread
        "tiny_steps": 200,
    },
    "laptop": {
        # the same SmolLM2 (from the Hub) and a weak model trained 15x longer on larger batches
        "tiny_batch": 32,
        "tiny_steps": 3000,
    },
    "gpu": {
        # a 1.7B instruct model of the same family; the weak model trains long enough to spell most words
        "model_id": "HuggingFaceTB/SmolLM2-1.7B-Instruct",
        "tiny_hidden": 256,
        "tiny_layers": 4,
        "tiny_context": 128,
        "tiny_batch": 64,
        "tiny_steps": 5000,
    },
}

#: An LLM day: its ci run may take up to 120 s (tests/conftest.py checks the kernel CPU time).
CI_BUDGET_S = 120

"""Day 31 (GPT from scratch): a GPT-2 written by hand, trained on Jane Austen, then given GPT-2's weights.

Every profile trains on the six Austen novels of the Debian package r-cran-janeaustenr (public domain, the
same files everywhere: there is no larger download to make). The profiles change the model's size, the
tokenizer's vocabulary and the training length. ``laptop`` and ``gpu`` also load the real
``openai-community/gpt2`` weights into the hand model; ``ci`` has no GPT-2 weights offline, so it sends the
model it has just trained through the same loader instead.
"""

from typing import Any

SETTINGS: dict[str, dict[str, Any]] = {
    "common": {
        # data: train on five novels, validate on the sixth (a held-out book, not held-out lines)
        "train_books": ("sensesensibility", "prideprejudice", "mansfieldpark", "emma", "northangerabbey"),
        "valid_book": "persuasion",
        "max_train_chars": None,   # None: the whole training books
        "max_valid_chars": None,
        # the equality check against GPT2LMHeadModel: a small random config, the same everywhere
        "check_sizes": {"vocab_size": 500, "n_positions": 32, "n_embd": 48, "n_layer": 2, "n_head": 4},
        "check_batch": 3,
        "check_length": 24,
        # training (AdamW, linear warm-up then cosine decay, GPT-2's weight decay on matrices only)
        "weight_decay": 0.1,
        "warmup_fraction": 0.1,
        "grad_clip": 1.0,
        "dropout": 0.0,
        "eval_batches": 8,         # validation batches per evaluation (the same rows each time)
        "sample_tokens": 40,       # tokens generated from the prompt, before and after training
        "prompt": "It is a truth universally acknowledged, that",
        "timing_steps": 1,         # optimizer steps timed for the 50k-row head demonstration
        "timing_batch": 4,         # rows per timed step (the ratio, not the size, is the point)
        # the real GPT-2 (laptop/gpu): pinned to a Hub revision
        "pretrained": "openai-community/gpt2",
        "pretrained_revision": "607a30d783dfa663caf39e06633721c8d4cfcd7e",
        "num_threads": None,       # None: keep the threads that setup() chose
    },
    "ci": {
        # 2k-token BPE, 2 layers of width 128, 64-token context: ~0.13 s of CPU per step on one thread
        # under ci's pinned numerics (no oneDNN, MKL in compatible mode), so 200 steps take ~26 s. Enough
        # for the loss to fall well below the unigram baseline and for some heads to focus; not enough for
        # fluent text or positional (previous-token) heads.
        "vocab_size": 2048,
        "n_embd": 128, "n_layer": 2, "n_head": 4, "block_size": 64,
        "max_train_chars": 1_500_000,   # tokenizing every book costs seconds we spend on training
        "max_valid_chars": 200_000,
        "batch_size": 16, "steps": 200, "lr": 3e-3, "eval_every": 25,
        "eval_batches": 4,
        # no GPT-2 weights offline: the trained model goes through save_pretrained + the same loader
        "pretrained": None,
        "num_threads": 1,          # small matrices: a second thread costs more than it saves (2 shared cores)
    },
    "laptop": {
        # ~30 min on 2 CPU cores: 4 layers of width 192, 128-token context, 8k BPE
        "vocab_size": 8192,
        "n_embd": 192, "n_layer": 4, "n_head": 6, "block_size": 128,
        "batch_size": 32, "steps": 2000, "lr": 1e-3, "eval_every": 200,
    },
    "gpu": {
        # a 6-layer, 384-wide GPT (~14M parameters) with a 256-token context, a few minutes on a T4
        "vocab_size": 8192,
        "n_embd": 384, "n_layer": 6, "n_head": 6, "block_size": 256, "dropout": 0.1,
        "batch_size": 64, "steps": 5000, "lr": 6e-4, "eval_every": 250, "eval_batches": 20,
    },
}

#: An LLM day: its ci run may take up to 120 s (tests/course_plugin.py checks the kernel CPU time).
CI_BUDGET_S = 120

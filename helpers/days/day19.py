"""Day 19 (attention): the copy task of the length sweep (with and without attention) and the date task.

All data is generated (``helpers.corpora.dates``), so every profile is offline; the larger profiles
train longer, on more pairs, with wider GRUs and longer strings.
"""

SETTINGS: dict[str, dict] = {
    "common": {
        # shapes of the equality checks against torch
        "check_batch": 3, "check_queries": 4, "check_keys": 6, "check_dim": 8,
        "embed_size": 32,           # character embeddings
        "batch_size": 64,
        "lr": 3e-3,                 # Adam; gradients clipped at norm 1 in train_seq2seq
        "test_size": 1000,          # held-out pairs (another seed)
        "copy_min_len": 2,
        "sweep_attention": "general",    # Luong's bilinear score: cheap, and learns the copy alignment fast
        "date_attention": "additive",    # Bahdanau's score for the date model and its heatmaps
        "num_threads": None,        # None: keep the threads that setup() chose
    },
    "ci": {
        "copy_train_size": 8000, "copy_hidden": 64, "copy_max_len": 20, "copy_steps": 400,
        "date_train_size": 8000, "date_hidden": 64, "date_steps": 400,
        "num_threads": 1,           # tiny matrices: one thread is faster than two on a shared 2-core runner
    },
    "laptop": {
        "copy_train_size": 20000, "copy_hidden": 128, "copy_max_len": 30, "copy_steps": 3000,
        "date_train_size": 20000, "date_hidden": 128, "date_steps": 2000,
    },
    "gpu": {
        "batch_size": 128,
        "copy_train_size": 50000, "copy_hidden": 256, "copy_max_len": 40, "copy_steps": 8000,
        "date_train_size": 50000, "date_hidden": 256, "date_steps": 4000,
    },
}

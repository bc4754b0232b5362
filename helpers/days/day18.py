"""Day 18 (seq2seq): the generated date task, the copy task of the length sweep, and the GRU sizes.

All data is generated (``helpers.corpora.dates``), so every profile is offline; the larger profiles
train longer, on more pairs, with wider GRUs and longer copy strings.
"""

SETTINGS: dict[str, dict] = {
    "common": {
        "embed_size": 32,        # character embeddings: ~60 symbols need few dimensions
        "batch_size": 64,
        "lr": 3e-3,              # Adam; gradients clipped at norm 1 in train_seq2seq
        "test_size": 1000,       # held-out pairs (another seed) for every accuracy
        "sampling_ratio": 0.5,   # probability of the gold token in the scheduled-sampling fine-tune
        "copy_min_len": 2,
        "num_threads": None,     # None: keep the threads that setup() chose
    },
    "ci": {
        "date_train_size": 8000,
        "date_hidden": 128,      # 64 learns the dates too slowly for the ci budget
        "date_steps": 400,       # teacher-forced steps before the fork
        "fork_steps": 150,       # then each branch (teacher forcing / scheduled sampling) trains this many
        "eval_every": 100,
        "copy_train_size": 8000,
        "copy_hidden": 64,
        "copy_max_len": 20,
        "copy_steps": 400,
        "num_threads": 1,        # tiny matrices: one thread is faster than two on a shared 2-core runner
    },
    "laptop": {
        "date_train_size": 20000, "date_hidden": 256, "date_steps": 2000, "fork_steps": 1000,
        "eval_every": 250,
        "copy_train_size": 20000, "copy_hidden": 128, "copy_max_len": 30, "copy_steps": 3000,
    },
    "gpu": {
        "batch_size": 128,
        "date_train_size": 50000, "date_hidden": 256, "date_steps": 4000, "fork_steps": 2000,
        "eval_every": 500,
        "copy_train_size": 50000, "copy_hidden": 256, "copy_max_len": 40, "copy_steps": 8000,
    },
}

"""Day 21 (the Transformer from scratch): sizes of the toy reversal task and of the tiny model.

The equality checks (attention, encoder and decoder layers) use the same small shapes everywhere;
only the trained model and its data grow with the profile. All data is generated, so every profile
is offline; ``gpu`` trains on longer sequences with a wider model for longer.
"""

SETTINGS: dict[str, dict] = {
    "common": {
        # shapes of the equality checks against torch.nn
        "check_d_model": 16,
        "check_heads": 4,
        "check_d_ff": 32,
        # the toy task: reverse a sequence of digits
        "vocab_size": 10,
        "num_layers": 2,
        "norm_first": True,
        "valid_size": 500,
        "test_size": 500,
        "weight_decay": 0.01,
        "max_len": 64,
        "num_threads": None,   # None: keep the threads that setup() chose
    },
    "ci": {
        "seq_len": 10, "d_model": 32, "num_heads": 2, "d_ff": 64,
        "train_size": 4000, "batch_size": 64, "epochs": 4, "lr": 3e-3,
        "num_threads": 1,      # tiny matrices: one thread is faster than two on a shared 2-core runner
    },
    "laptop": {
        "seq_len": 12, "d_model": 48, "num_heads": 4, "d_ff": 128,
        "train_size": 10000, "batch_size": 64, "epochs": 5, "lr": 2e-3,
    },
    "gpu": {
        "seq_len": 16, "d_model": 64, "num_heads": 4, "d_ff": 256,
        "valid_size": 2000, "test_size": 2000,
        "train_size": 50000, "batch_size": 128, "epochs": 8, "lr": 1e-3,
    },
}

"""Day 12 (RNN, LSTM and GRU by hand): sizes of the equality checks, the gradient probe and the memory task.

All data is generated with a seed, so every profile is offline. The equality checks and the gradient
probe are cheap and the same everywhere; only the memory task (remember the first token of a sequence)
grows with the profile: longer sequences, more steps, wider cells.
"""

SETTINGS: dict[str, dict] = {
    "common": {
        # shapes of the equality checks against torch.nn (small: the hand loop is Python)
        "check_input": 5,
        "check_hidden": 7,
        "check_batch": 3,
        "check_steps": 9,
        # the vanishing-gradient probe: cells at PyTorch's initialisation, float64 so that
        # gradients of 1e-30 do not underflow to 0 on the log plot
        "probe_steps": 100,
        "probe_batch": 32,
        "probe_input": 8,
        "probe_hidden": 32,
        "probe_radii": [0.5, 1.0, 1.5, 3.0],   # spectral radii of the Elman RNN's W_hh
        # the memory task: token 0 is one of 4 "signal" tokens, the rest are 4 "noise" tokens
        "signal_tokens": 4,
        "noise_tokens": 4,
        "memory_train_size": 4096,
        "memory_test_size": 512,
        "memory_batch": 64,
        "forget_bias": 3.0,    # added to the LSTM's forget-gate bias: the gate starts at sigmoid(3) = 0.95
        "num_threads": None,   # None: keep the threads that setup() chose
    },
    "ci": {
        "memory_lengths": [10, 30],   # two lengths: one every cell learns, one that separates them
        "memory_hidden": 16,
        "memory_steps": 400,          # ~5 s for the four cells on one CPU thread
        "memory_lr": 3e-3,
        "num_threads": 1,             # batch 64, width 16: one thread beats two on a shared runner
    },
    "laptop": {
        "memory_lengths": [10, 30, 60, 100],
        "memory_hidden": 32,
        "memory_steps": 1500,         # ~3 min on 2 CPU cores, the GRU being the slowest cell
        "memory_lr": 3e-3,
    },
    "gpu": {
        "memory_lengths": [10, 30, 60, 100, 200],
        "memory_hidden": 64,
        "memory_train_size": 16384,
        "memory_steps": 3000,         # cuDNN kernels: ~2 min in all
        "memory_lr": 2e-3,
    },
}

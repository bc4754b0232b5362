"""Day 05 (PyTorch basics): truth tables and tiny synthetic data, the same in every profile.

The XOR recipe is day 04's (helpers/days/day04.py): 2-2-1 sigmoid MLP, mean 1/2 squared error, full-batch
SGD with lr 1 for 10,000 epochs, weights from NumpyMLP(seed=0).
"""

SETTINGS: dict[str, dict] = {
    "common": {
        "xor_seed": 0,          # NumpyMLP(seed=...) whose weights the PyTorch twin copies (day 04's seed)
        "n_hidden": 2,
        "lr": 1.0,
        "epochs": 10_000,
        "log_every": 2_000,
        # optimiser demo: least squares on random data, a few steps by hand and with torch.optim
        "opt_samples": 16,
        "opt_features": 3,
        "opt_steps": 5,
        "sgd_lr": 0.1,
        "adam_lr": 0.1,
    },
}

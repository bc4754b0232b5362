"""Day 04 (MLP and backpropagation): the XOR recipe is the same everywhere; only the sweeps' seeds vary.

The 2024 article's recipe: 2-2-1 sigmoid MLP, mean 1/2 (y - yhat)^2, full batch, lr 1, 10,000 epochs.
"""

SETTINGS: dict[str, dict] = {
    "common": {
        "n_hidden": 2,            # the article's 2-2-1 network
        "lr": 1.0,
        "epochs": 10_000,
        "log_every": 1_000,
        "stuck_extra_epochs": 90_000,  # seeds stuck after 10,000 epochs get this many more
        "grad_eps": 1e-4,         # finite-difference step: truncation-dominated, same on every machine
        "sweep_hidden": [2, 3, 4, 8],
    },
    "ci": {"n_seeds": 10},        # seeds per hidden size in the local-minima and hidden-unit sweeps
    "laptop": {"n_seeds": 50},
    "gpu": {"n_seeds": 100},      # NumPy runs on the CPU anyway: more seeds, smoother success rates
}

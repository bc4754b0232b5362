"""Day 03 (gradient descent): synthetic data and truth tables, the same in every profile."""

SETTINGS: dict[str, dict] = {
    "common": {
        # 1-D regression data y = true_w * x + true_b + noise, x ~ N(x_mean, x_std)
        "n_points": 40,
        "true_w": 2.0,
        "true_b": -1.0,
        "noise": 0.3,
        "x_mean": 1.0,
        "x_std": 1.0,
        # gradient descent on the (w, b) surface
        "start": (-1.0, 2.5),
        "gd_steps": 40,
        "learning_rates": {"too small": 0.02, "good": 0.3, "oscillating": 0.42, "divergent": 0.47},
        # a one-neuron classifier on the OR truth table
        "gate_lr": 2.0,
        "gate_epochs": 2000,
    },
}

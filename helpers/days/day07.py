"""Day 07 (convolution): the same packaged photo everywhere; ``ci`` works on it at half resolution.

photo: a name in ``helpers.data.PACKAGED_PHOTOS`` ("temple": a JPEG scikit-learn ships): nothing downloads.
downscale: integer factor applied to the photo (area averaging).
naive_crop: side of the square crop the pixel-by-pixel loop runs on (Python loops are slow).
random_channels / random_kernel: the randomly initialised conv layer compared with hand-made kernels.
pool: the pooling window (and stride) used on the feature maps.
"""

SETTINGS: dict[str, dict] = {
    "common": {
        "photo": "temple",
        "downscale": 1,
        "naive_crop": 96,
        "random_channels": 8,
        "random_kernel": 5,
        "pool": 4,
    },
    "ci": {"downscale": 2, "naive_crop": 48},
    "laptop": {},
    "gpu": {},
}

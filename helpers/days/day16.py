"""Day 16 (GAN theory): a 1-D Gaussian mixture, the optimal discriminator, and a small 1-D GAN.

Every profile is offline and generated; the networks are tiny MLPs. ``laptop`` and ``gpu`` only train
longer (the lesson is the same; the D vs D* error shrinks with more steps, and the GAN has more time to
balance its modes).
"""

SETTINGS: dict[str, dict] = {
    "common": {
        # the data: three Gaussians of std 0.5 at -4, 0 and 4, the middle one heavier
        "mixture_means": [-4.0, 0.0, 4.0],
        "mixture_std": 0.5,
        "mixture_weights": [0.3, 0.4, 0.3],
        # section 2: a frozen generator G(z) = 1 + 2z, so p_g = N(1, 2²) in closed form
        "frozen_mean": 1.0,
        "frozen_std": 2.0,
        "dstar_hidden": 64,        # D: 1 -> 64 -> 64 -> 1 MLP with LeakyReLU(0.2)
        "dstar_batch": 512,        # fresh real and fake samples at every step
        "dstar_lr": 3e-3,          # Adam, cosine-decayed to 0 so that D settles
        "grid_points": 241,        # grid on [-6, 6], step 0.05
        # section 3: a generator far from the data, G(z) = 8 + 0.5z, and a D trained against it
        "far_steps": 300,
        # section 6: the 1-D GAN
        "gan_hidden": 32,          # G: 1 -> 32 -> 32 -> 1 and D: 1 -> 32 -> 32 -> 1 MLPs
        "gan_z_dim": 1,            # 1-D noise: G is a continuous map of the line onto the line
        "gan_batch": 256,
        "gan_lr": 1e-3,
        "gan_betas": (0.5, 0.999), # the DCGAN optimiser settings, also used on day 17
        "slow_d_lr": 1e-5,         # the third run: D's learning rate of a 2022 seed article (mode collapse)
        "n_density": 5000,         # generated points per density snapshot (fixed noise)
        "num_threads": None,       # None: keep the threads that setup() chose
    },
    # ~2.5 s of CPU per 2,000 GAN steps (three runs), D* check 2,000 steps: about 12 s of training in all
    "ci": {"dstar_steps": 2000, "gan_steps": 2000, "snapshots": [50, 100, 300, 1000, 2000],
           "num_threads": 1},
    # longer runs: a closer D, and a GAN with time to balance its modes (under a minute on a CPU)
    "laptop": {"dstar_steps": 6000, "gan_steps": 6000, "snapshots": [50, 100, 300, 1000, 3000, 6000]},
    "gpu": {"dstar_steps": 6000, "gan_steps": 6000, "snapshots": [50, 100, 300, 1000, 3000, 6000]},
}

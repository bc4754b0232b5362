"""GAN pieces shared by days 16 and 17: sizes, BatchNorm by hand, DCGAN, and measuring samples.

Day 16 (GAN theory) defines the transposed-convolution output size, BatchNorm written by hand and the
optimal discriminator; day 17 (DCGAN on MNIST) defines the DCGAN networks with the paper's
initialisation, one training step, the fixed-noise grid, the digit "judge" and the Fréchet distance in
the judge's feature space. They are checked against PyTorch and SciPy in ``tests/test_day16_gan_theory.py``
and ``tests/test_day17_dcgan.py``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


# ---------------------------------------------------------------- day 16: theory
def conv_transpose_output_size(n: int, kernel: int, stride: int = 1, padding: int = 0,
                               output_padding: int = 0, dilation: int = 1) -> int:
    """Length of a transposed convolution's output along one axis. Defined in Day 16.

    $$ n_{out} = (n - 1)\\,s - 2p + d\\,(k - 1) + p_{out} + 1 $$

    Each of the ``n`` inputs paints a (dilated) kernel of span ``d(k-1)+1`` onto the output, the
    paintings ``s`` apart; ``p`` rows are cropped on each side and ``output_padding`` adds rows at the
    end (it picks one of the ``s`` input sizes that a stride-``s`` convolution maps to the same ``n``).

    Raises:
        ValueError: a non-positive size, kernel, stride or dilation, a negative padding,
            ``output_padding >= max(stride, dilation)`` (PyTorch refuses it), or an empty output.
    """
    for name, value, minimum in (("n", n, 1), ("kernel", kernel, 1), ("stride", stride, 1),
                                 ("padding", padding, 0), ("output_padding", output_padding, 0),
                                 ("dilation", dilation, 1)):
        if not isinstance(value, int) or value < minimum:
            raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    if output_padding >= max(stride, dilation):
        raise ValueError(f"output_padding ({output_padding}) must be smaller than stride ({stride}) or "
                         f"dilation ({dilation}); use a larger stride or a smaller output_padding")
    size = (n - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1
    if size < 1:
        raise ValueError(f"padding {padding} crops the whole output (size {size}); use less padding")
    return size


def batch_norm(x: torch.Tensor, weight: torch.Tensor | None, bias: torch.Tensor | None,
               running_mean: torch.Tensor | None, running_var: torch.Tensor | None, training: bool,
               momentum: float = 0.1, eps: float = 1e-5) -> torch.Tensor:
    """Batch normalisation by hand, for N×C or N×C×… inputs (statistics per channel C). Defined in Day 16.

    Training: normalise with the batch's mean and *biased* variance (divide by m), and update the
    running statistics in place with the *unbiased* variance (divide by m-1):
    ``running = (1 - momentum) * running + momentum * batch``. Evaluation: normalise with the running
    statistics. Then scale by ``weight`` (γ) and shift by ``bias`` (β).

    Raises:
        ValueError: an input with fewer than two axes, running statistics missing in evaluation, or
            a training batch with a single value per channel (its variance is undefined).
    """
    if x.ndim < 2:
        raise ValueError(f"batch_norm needs N×C or N×C×… inputs, got shape {tuple(x.shape)}")
    axes = [0, *range(2, x.ndim)]                         # every axis but the channels
    shape = [1, x.shape[1]] + [1] * (x.ndim - 2)          # broadcast per-channel vectors
    if training:
        count = x.numel() // x.shape[1]                   # values per channel: m = N·H·W
        if count < 2:
            raise ValueError("batch_norm in training mode needs more than one value per channel; "
                             "use a larger batch or evaluation mode")
        mean = x.mean(dim=axes)
        var = x.var(dim=axes, unbiased=False)
        if running_mean is not None and running_var is not None:
            with torch.no_grad():
                running_mean.mul_(1 - momentum).add_(momentum * mean)
                running_var.mul_(1 - momentum).add_(momentum * var * count / (count - 1))
    else:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm in evaluation mode needs running_mean and running_var")
        mean, var = running_mean, running_var
    out = (x - mean.reshape(shape)) / torch.sqrt(var.reshape(shape) + eps)
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out


def optimal_discriminator(p_data: np.ndarray | torch.Tensor,
                          p_g: np.ndarray | torch.Tensor) -> np.ndarray | torch.Tensor:
    """D*(x) = p_data(x) / (p_data(x) + p_g(x)), and 1/2 where both densities vanish. Defined in Day 16."""
    total = p_data + p_g
    if isinstance(total, torch.Tensor):
        return torch.where(total > 0, p_data / total.clamp_min(1e-300), torch.full_like(total, 0.5))
    total = np.asarray(total, dtype=np.float64)
    return np.where(total > 0, np.asarray(p_data) / np.where(total > 0, total, 1.0), 0.5)


def saturating_generator_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """The minimax generator loss, mean log(1 - D(G(z))), from D's logits (G minimises it). Defined in Day 16.

    Its gradient with respect to a logit a is -σ(a)/N: it vanishes when D rejects the fakes (σ(a) -> 0).
    """
    return -F.softplus(fake_logits).mean()          # log(1 - σ(a)) = -softplus(a)


def non_saturating_generator_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """The non-saturating generator loss, mean -log D(G(z)), from D's logits. Defined in Day 16.

    Its gradient with respect to a logit a is -(1 - σ(a))/N: close to -1/N when D rejects the fakes.
    """
    return F.softplus(-fake_logits).mean()          # -log σ(a) = softplus(-a)


# ---------------------------------------------------------------- day 17: DCGAN
def weights_init(module: nn.Module) -> None:
    """The DCGAN paper's initialisation, for ``model.apply(weights_init)``. Defined in Day 17.

    Convolutions and transposed convolutions: weights from N(0, 0.02); batch norms: γ from N(1, 0.02)
    and β = 0 (as in the PyTorch DCGAN tutorial).
    """
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


class Generator(nn.Module):
    """DCGAN generator for 28×28 images: z (N×nz) -> 1×1 -> 4×4 -> 7×7 -> 14×14 -> 28×28. Defined in Day 17.

    Transposed convolutions with BatchNorm and ReLU, and a Tanh output in [-1, 1] (the paper's rules:
    no pooling, no fully connected hidden layer, no BatchNorm on the output layer).
    """

    def __init__(self, nz: int = 64, ngf: int = 32, channels: int = 1) -> None:
        super().__init__()
        self.nz = nz
        self.net = nn.Sequential(
            nn.ConvTranspose2d(nz, ngf * 4, 4, 1, 0, bias=False),        # 1 -> 4
            nn.BatchNorm2d(ngf * 4), nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 3, 2, 1, bias=False),   # 4 -> 7
            nn.BatchNorm2d(ngf * 2), nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False),       # 7 -> 14
            nn.BatchNorm2d(ngf), nn.ReLU(True),
            nn.ConvTranspose2d(ngf, channels, 4, 2, 1, bias=False),      # 14 -> 28
            nn.Tanh(),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if z.ndim != 2 or z.shape[1] != self.nz:
            raise ValueError(f"the generator expects noise of shape (N, {self.nz}), got {tuple(z.shape)}")
        return self.net(z[:, :, None, None])


class Discriminator(nn.Module):
    """DCGAN discriminator for 28×28 images: 28 -> 14 -> 7 -> 4 -> 1, one logit per image. Defined in Day 17.

    Strided convolutions with LeakyReLU(0.2), BatchNorm on every layer but the first. It returns the
    *logit*; the losses use ``binary_cross_entropy_with_logits`` (the paper's sigmoid, applied inside the
    loss, where it is numerically stable).
    """

    def __init__(self, ndf: int = 32, channels: int = 1) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(channels, ndf, 4, 2, 1, bias=False),               # 28 -> 14
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False),                # 14 -> 7
            nn.BatchNorm2d(ndf * 2), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 2, ndf * 4, 3, 2, 1, bias=False),            # 7 -> 4
            nn.BatchNorm2d(ndf * 4), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 4, 1, 4, 1, 0, bias=False),                  # 4 -> 1
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4 or x.shape[-2:] != (28, 28):
            raise ValueError(f"the discriminator expects N×C×28×28 images, got {tuple(x.shape)}")
        return self.net(x).flatten()


def make_dcgan(nz: int, ngf: int, ndf: int, lr: float = 2e-4, betas: tuple[float, float] = (0.5, 0.999),
               device: torch.device | str = "cpu") -> tuple[Generator, Discriminator,
                                                            torch.optim.Adam, torch.optim.Adam]:
    """G and D with the paper's initialisation, and one Adam per network (the paper's 2e-4, β1 = 0.5).

    Defined in Day 17. Seed torch before calling it for reproducible weights.
    """
    generator = Generator(nz, ngf).to(device)
    discriminator = Discriminator(ndf).to(device)
    generator.apply(weights_init)
    discriminator.apply(weights_init)
    opt_g = torch.optim.Adam(generator.parameters(), lr=lr, betas=betas)
    opt_d = torch.optim.Adam(discriminator.parameters(), lr=lr, betas=betas)
    return generator, discriminator, opt_g, opt_d


def train_step(generator: Generator, discriminator: Discriminator, opt_g: torch.optim.Optimizer,
               opt_d: torch.optim.Optimizer, real: torch.Tensor,
               noise: torch.Generator | None = None) -> dict[str, float]:
    """One DCGAN step: update D on a real and a fake batch, then G with the non-saturating loss.

    Defined in Day 17. A *fresh* z is drawn at every step (from ``noise``, a ``torch.Generator`` on the
    device of ``real``, or from the global RNG). D maximises log D(x) + log(1 - D(G(z))), written as two
    binary cross-entropies (real = 1, fake = 0); G minimises -log D(G(z)). Returns the two losses and
    the mean of D's probabilities on real and fake images (before D's update), as floats.
    """
    batch = real.shape[0]
    z = torch.randn(batch, generator.nz, device=real.device, generator=noise)
    ones = torch.ones(batch, device=real.device)
    zeros = torch.zeros(batch, device=real.device)

    # 1. the discriminator: real -> 1, fake -> 0; the fake batch is detached, G gets no gradient here
    fake = generator(z)
    logits_real = discriminator(real)
    logits_fake = discriminator(fake.detach())
    loss_d = (F.binary_cross_entropy_with_logits(logits_real, ones)
              + F.binary_cross_entropy_with_logits(logits_fake, zeros))
    opt_d.zero_grad(set_to_none=True)
    loss_d.backward()
    opt_d.step()

    # 2. the generator, non-saturating: make D call the same fakes real, -log D(G(z))
    loss_g = F.binary_cross_entropy_with_logits(discriminator(fake), ones)
    opt_g.zero_grad(set_to_none=True)
    loss_g.backward()
    opt_g.step()
    return {"loss_d": loss_d.item(), "loss_g": loss_g.item(),
            "d_real": torch.sigmoid(logits_real).mean().item(),
            "d_fake": torch.sigmoid(logits_fake).mean().item()}


def denormalize(images: torch.Tensor) -> torch.Tensor:
    """Map images from the networks' [-1, 1] back to [0, 1] for display. Defined in Day 17."""
    return (images * 0.5 + 0.5).clamp(0, 1)


@torch.no_grad()
def sample(generator: Generator, z: torch.Tensor, batch_size: int = 500) -> torch.Tensor:
    """G(z) in evaluation mode (BatchNorm uses its running statistics), in [-1, 1], on the CPU.

    Defined in Day 17. The generator's mode is restored afterwards.
    """
    was_training = generator.training
    generator.eval()
    try:
        return torch.cat([generator(chunk).cpu() for chunk in z.split(batch_size)])
    finally:
        generator.train(was_training)


# ---------------------------------------------------------------- day 17: measuring samples
class DigitJudge(nn.Module):
    """A small CNN digit classifier that judges generated digits. Defined in Day 17.

    conv(16)-pool-conv(32)-pool-linear(``feature_dim``)-linear(10) on [-1, 1] images. ``features``
    returns the ``feature_dim`` activations of the last hidden layer: the space of the Fréchet distance.
    """

    def __init__(self, feature_dim: int = 64) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),      # 28 -> 14
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),     # 14 -> 7
            nn.Flatten(), nn.Linear(32 * 7 * 7, feature_dim), nn.ReLU(),
        )
        self.head = nn.Linear(feature_dim, 10)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


def train_judge(judge: DigitJudge, batches: Iterable[tuple[torch.Tensor, torch.Tensor]], epochs: int,
                lr: float = 1e-3, device: torch.device | str = "cpu") -> list[float]:
    """Train the judge with Adam and cross-entropy; returns the mean loss of each epoch. Defined in Day 17.

    ``batches`` is re-iterated every epoch (a ``DataLoader``).
    """
    optimizer = torch.optim.Adam(judge.parameters(), lr=lr)
    judge.train()
    losses = []
    for _ in range(epochs):
        total, count = 0.0, 0
        for images, labels in batches:
            images, labels = images.to(device), labels.to(device)
            loss = F.cross_entropy(judge(images), labels)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(labels)
            count += len(labels)
        losses.append(total / count)
    judge.eval()
    return losses


@torch.no_grad()
def judge_features(judge: DigitJudge, images: torch.Tensor, batch_size: int = 500,
                   ) -> tuple[torch.Tensor, torch.Tensor]:
    """The judge's features and softmax probabilities for ``images`` (in [-1, 1]), on the CPU.

    Defined in Day 17.
    """
    judge.eval()
    device = next(judge.parameters()).device
    features, probabilities = [], []
    for chunk in images.split(batch_size):
        hidden = judge.features(chunk.to(device))
        features.append(hidden.cpu())
        probabilities.append(judge.head(hidden).softmax(dim=1).cpu())
    return torch.cat(features), torch.cat(probabilities)


def gaussian_statistics(features: np.ndarray | torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance (unbiased, float64) of N×d features, as FID uses them. Defined in Day 17."""
    array = features.detach().cpu().double().numpy() if isinstance(features, torch.Tensor) else features
    array = np.asarray(array, dtype=np.float64)
    if array.ndim != 2 or array.shape[0] < 2:
        raise ValueError(f"gaussian_statistics needs an N×d array with N >= 2, got shape {array.shape}")
    return array.mean(axis=0), np.cov(array, rowvar=False)


def sqrtm_psd(matrix: np.ndarray) -> np.ndarray:
    """The symmetric square root of a symmetric positive semi-definite matrix, from ``eigh``.

    Defined in Day 17.

    $A = Q \\Lambda Q^\\top \\Rightarrow A^{1/2} = Q \\Lambda^{1/2} Q^\\top$; eigenvalues that rounding made
    slightly negative are set to 0.
    """
    matrix = np.asarray(matrix, dtype=np.float64)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise ValueError(f"sqrtm_psd needs a square matrix, got shape {matrix.shape}")
    if not np.allclose(matrix, matrix.T, atol=1e-10 * max(1.0, np.abs(matrix).max())):
        raise ValueError("sqrtm_psd needs a symmetric matrix (a covariance); symmetrise it first")
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T


def trace_sqrt_product(sigma1: np.ndarray, sigma2: np.ndarray) -> float:
    """tr((Σ1 Σ2)^{1/2}), computed as tr((Σ1^{1/2} Σ2 Σ1^{1/2})^{1/2}). Defined in Day 17.

    Σ1 Σ2 is not symmetric, but it is similar to the symmetric PSD matrix Σ1^{1/2} Σ2 Σ1^{1/2}
    (conjugate by Σ1^{1/2}), so both have the same non-negative eigenvalues and the same square-root trace.
    """
    root = sqrtm_psd(sigma1)
    inner = root @ np.asarray(sigma2, dtype=np.float64) @ root
    values = np.linalg.eigvalsh((inner + inner.T) / 2)
    return float(np.sqrt(np.clip(values, 0, None)).sum())


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray) -> float:
    """Fréchet distance between N(μ1, Σ1) and N(μ2, Σ2). Defined in Day 17.

    $$ d^2 = \\lVert \\mu_1 - \\mu_2 \\rVert^2 + \\mathrm{tr}\\big(\\Sigma_1 + \\Sigma_2
       - 2 (\\Sigma_1 \\Sigma_2)^{1/2}\\big) $$

    With Inception features this is FID; here the features are the digit judge's.
    """
    mu1, mu2 = np.asarray(mu1, dtype=np.float64), np.asarray(mu2, dtype=np.float64)
    if mu1.shape != mu2.shape or np.shape(sigma1) != np.shape(sigma2) or np.shape(sigma1) != mu1.shape * 2:
        raise ValueError(f"shapes do not match: mu {mu1.shape} / {mu2.shape}, "
                         f"sigma {np.shape(sigma1)} / {np.shape(sigma2)}")
    return float(((mu1 - mu2) ** 2).sum() + np.trace(sigma1) + np.trace(sigma2)
                 - 2 * trace_sqrt_product(sigma1, sigma2))


@dataclass
class JudgeReport:
    """What the judge says about a set of images. Defined in Day 17."""

    histogram: np.ndarray     # share of the images predicted as each digit
    confidence: float         # mean of the largest softmax probability
    fd: float                 # Fréchet distance to the reference features
    coverage: float           # exp(entropy of the histogram) / 10: 1 when all digits are equally frequent


def judge_report(judge: DigitJudge, images: torch.Tensor,
                 reference: tuple[np.ndarray, np.ndarray]) -> JudgeReport:
    """Class histogram, mean confidence and Fréchet distance to ``reference`` (μ, Σ). Defined in Day 17."""
    features, probabilities = judge_features(judge, images)
    histogram = np.bincount(probabilities.argmax(dim=1).numpy(), minlength=10) / len(images)
    nonzero = histogram[histogram > 0]
    coverage = float(np.exp(-(nonzero * np.log(nonzero)).sum()) / 10)
    mu, sigma = gaussian_statistics(features)
    return JudgeReport(histogram=histogram, confidence=probabilities.max(dim=1).values.mean().item(),
                       fd=frechet_distance(mu, sigma, *reference), coverage=coverage)


# ---------------------------------------------------------------- day 17: data and loops shared by the
# notebook and scripts/train_day17_generator.py (the script that made the shipped checkpoint)
def load_digits(train: bool, profile: str | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """MNIST (``laptop``/``gpu``) or the offline digits (``ci``) as N×1×28×28 floats in [-1, 1] and labels.

    Defined in Day 17. The same transform as ``Normalize((0.5,), (0.5,))`` after ``ToTensor``, applied to
    the whole set at once (it fits in memory: 60,000 digits are 188 MB as floats).
    """
    from helpers.data import load_mnist

    dataset = load_mnist(train=train, profile=profile)
    images = (dataset.data.float() / 255 - 0.5) / 0.5
    return images[:, None], dataset.targets.clone()


def fit_judge(images: torch.Tensor, labels: torch.Tensor, epochs: int, batch_size: int, lr: float,
              seed: int, device: torch.device | str = "cpu") -> DigitJudge:
    """A freshly seeded ``DigitJudge`` trained on real digits; the same seed gives the same judge.

    Defined in Day 17.
    """
    from torch.utils.data import DataLoader, TensorDataset

    torch.manual_seed(seed)
    judge = DigitJudge().to(device)
    loader = DataLoader(TensorDataset(images, labels), batch_size=batch_size, shuffle=True,
                        generator=torch.Generator().manual_seed(seed))
    train_judge(judge, loader, epochs, lr=lr, device=device)
    return judge


def train_epoch(generator: Generator, discriminator: Discriminator, opt_g: torch.optim.Optimizer,
                opt_d: torch.optim.Optimizer, batches: Iterable[torch.Tensor | list[torch.Tensor]],
                noise: torch.Generator | None = None, max_steps: int | None = None) -> dict[str, float]:
    """``train_step`` over every batch of real images; returns the epoch's mean of each number.

    Defined in Day 17.

    ``batches`` yields image tensors or (images, labels) pairs, already on the device. ``max_steps``
    stops early (for tests).
    """
    generator.train()
    discriminator.train()
    totals: dict[str, float] = {}
    steps = 0
    for batch in batches:
        real = batch[0] if isinstance(batch, (list, tuple)) else batch
        for key, value in train_step(generator, discriminator, opt_g, opt_d, real, noise).items():
            totals[key] = totals.get(key, 0.0) + value
        steps += 1
        if max_steps is not None and steps >= max_steps:
            break
    if not steps:
        raise ValueError("train_epoch got no batches: is the data set empty?")
    return {key: value / steps for key, value in totals.items()}


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """[-1, 1] images -> de-normalised uint8 0-255, for storing sample grids compactly. Defined in Day 17."""
    return (denormalize(images) * 255).round().to(torch.uint8)

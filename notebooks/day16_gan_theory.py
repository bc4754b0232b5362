# %% [markdown]
# # Day 16: GAN theory
#
# Until now every network learned a function from inputs to labels. A generative adversarial network
# (GAN) learns to *produce* data: a generator $G$ turns random noise into samples, and a discriminator
# $D$, an ordinary classifier like day 06's, learns to tell them from real data. Each network trains
# against the other. Today we take the game apart on one-dimensional data, where every density can be
# drawn, and we build the two layers that day 17's image GAN needs: the transposed convolution and
# batch normalisation.
#
# **Objectives**
# - write the minimax objective, derive the optimal discriminator $D^* = p_{data}/(p_{data}+p_g)$, and
#   check it by training a discriminator against a frozen generator;
# - see, with autograd, why the generator's original loss stops teaching it when $D$ wins, and why the
#   non-saturating loss does not;
# - derive the output size of a transposed convolution and check it against `nn.ConvTranspose2d` on a
#   sweep of kernels, strides, paddings, output paddings and dilations;
# - write batch normalisation by hand, training and evaluation modes, equal to `nn.BatchNorm1d/2d`;
# - train a 1-D GAN on a Gaussian mixture and watch its density, mode by mode.
#
# **Profiles.** All data is generated and all networks are small MLPs, so every profile is offline and
# runs on a CPU. `ci` trains the discriminator of section 2 and three GANs in section 6 for 2,000 steps
# each (about 15 s of CPU in all); `laptop` and `gpu` train them for 6,000 steps (about a minute), which
# brings the trained discriminator closer to $D^*$ and gives the GANs more time to balance their modes. The seed
# articles draw no figure for this day; they contain bugs (a learning rate of $10^{-3}$ with Adam's
# default betas, one noise batch reused at every step, early stopping on the generator's loss) that the
# exercises turn into lessons.

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

cfg = setup("day16", PROFILE)

# %%
import itertools
import math

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from scipy.spatial.distance import jensenshannon
from torch import nn

from helpers import compare, glue
from helpers.gan import (
    Generator,
    batch_norm,
    conv_transpose_output_size,
    non_saturating_generator_loss,
    optimal_discriminator,
    saturating_generator_loss,
)

if cfg.num_threads:  # tiny MLPs: a second thread costs more in synchronisation than it saves
    torch.set_num_threads(cfg.num_threads)
device = cfg.device

# %% [markdown]
# ## 1. The game
#
# Noise $z \sim p_z$ (here a standard normal) goes through the generator; the samples $G(z)$ have some
# density $p_g$ that training should bring to $p_{data}$. The discriminator outputs $D(x) \in (0, 1)$, its
# probability that $x$ is real. Goodfellow et al. (2014) set the two networks a *minimax* game on one
# value function:
#
# $$
# \min_G \max_D \; V(D, G) = \mathbb{E}_{x \sim p_{data}}[\log D(x)]
#   + \mathbb{E}_{z \sim p_z}[\log(1 - D(G(z)))] .
# $$
#
# $D$ wants $D(x) \to 1$ on real data and $D(G(z)) \to 0$ on fakes: $-V$ is exactly the binary
# cross-entropy of a classifier with labels real = 1, fake = 0, so training $D$ is day 06's training. $G$
# only appears in the second term and wants to push $D(G(z))$ up.
#
# Our data is a mixture of three Gaussians; `sample_data` draws from it and `data_density` evaluates it,
# so that every density below can be compared with the truth.

# %%
means = torch.tensor(cfg.mixture_means)
weights = torch.tensor(cfg.mixture_weights)
std = cfg.mixture_std


def sample_data(n: int, generator: torch.Generator) -> torch.Tensor:
    """n points (n×1) from the Gaussian mixture: pick a component by its weight, then add noise."""
    component = torch.multinomial(weights, n, replacement=True, generator=generator)
    return (means[component] + std * torch.randn(n, generator=generator))[:, None]


def normal_density(x: torch.Tensor, mean: float | torch.Tensor, sd: float) -> torch.Tensor:
    return torch.exp(-0.5 * ((x - mean) / sd) ** 2) / (sd * math.sqrt(2 * math.pi))


def data_density(x: torch.Tensor) -> torch.Tensor:
    return (weights * normal_density(x[:, None], means, std)).sum(dim=1)


def mlp(width: int, inputs: int = 1) -> nn.Sequential:
    """inputs -> width -> width -> 1 with LeakyReLU(0.2): the small G and D of this day."""
    return nn.Sequential(nn.Linear(inputs, width), nn.LeakyReLU(0.2), nn.Linear(width, width),
                         nn.LeakyReLU(0.2), nn.Linear(width, 1))


grid = torch.linspace(-6, 6, cfg.grid_points, dtype=torch.float64)
step = (grid[1] - grid[0]).item()
p_data = data_density(grid)
print(f"mixture: means {cfg.mixture_means}, std {std}, weights {cfg.mixture_weights}; "
      f"density integrates to {(p_data.sum() * step).item():.4f} on [-6, 6]")

# %% [markdown]
# ## 2. The optimal discriminator
#
# Fix $G$. Written as integrals over $x$ (the fakes have density $p_g$),
#
# $$
# V(D, G) = \int \big( p_{data}(x) \log D(x) + p_g(x) \log(1 - D(x)) \big)\, dx ,
# $$
#
# and $D$ can choose $D(x)$ separately at every $x$. The function $y \mapsto a \log y + b \log(1-y)$ has
# its maximum where its derivative $a/y - b/(1-y)$ vanishes, at $y = a/(a+b)$. Hence
#
# $$
# D^*(x) = \frac{p_{data}(x)}{p_{data}(x) + p_g(x)} ,
# $$
#
# and putting it back into $V$ gives $V(D^*, G) = -\log 4 + 2\,\mathrm{JSD}(p_{data} \,\|\, p_g)$, where
# the Jensen-Shannon divergence is 0 only when $p_g = p_{data}$. With a perfect discriminator, the
# generator minimises a divergence between its distribution and the data's.
#
# To check $D^*$, freeze the generator at $G(z) = 1 + 2z$, so $p_g = \mathcal{N}(1, 2^2)$ is known, and
# train an MLP discriminator with the binary cross-entropy on fresh real and fake samples at every step.

# %%
def train_discriminator(fake_sampler, steps: int, batch: int, lr: float, width: int,
                        generator: torch.Generator) -> nn.Module:
    """Train an MLP D (logit output) against a frozen sampler of fakes; Adam, cosine-decayed lr."""
    disc = mlp(width).to(device)
    optimizer = torch.optim.Adam(disc.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps)
    ones, zeros = torch.ones(batch, 1, device=device), torch.zeros(batch, 1, device=device)
    for _ in range(steps):
        real = sample_data(batch, generator).to(device)
        fake = fake_sampler(batch, generator).to(device)
        loss = (F.binary_cross_entropy_with_logits(disc(real), ones)
                + F.binary_cross_entropy_with_logits(disc(fake), zeros))   # = -V(D, G) on the batch
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
    return disc.eval()


def frozen_fakes(n: int, generator: torch.Generator) -> torch.Tensor:
    return cfg.frozen_mean + cfg.frozen_std * torch.randn(n, 1, generator=generator)


rng = torch.Generator().manual_seed(cfg.seed)
disc = train_discriminator(frozen_fakes, cfg.dstar_steps, cfg.dstar_batch, cfg.dstar_lr,
                           cfg.dstar_hidden, rng)
p_g = normal_density(grid, cfg.frozen_mean, cfg.frozen_std)
d_star = optimal_discriminator(p_data, p_g)
with torch.no_grad():
    d_trained = torch.sigmoid(disc(grid[:, None].float().to(device))).squeeze(1).double().cpu()

# Where neither density puts mass, no sample ever reaches D, so nothing constrains it there:
# compare where the mixture of the two, (p_data + p_g)/2, has density above 0.05.
where = (p_data + p_g) / 2 > 0.05
weighted_error = (((d_trained - d_star).abs() * (p_data + p_g)).sum() / (p_data + p_g).sum()).item()
d_check = compare("trained D vs D*", d_trained[where], d_star[where], atol=0.1, rtol=0)
print(f"mean |D - D*| weighted by (p_data + p_g)/2: {weighted_error:.4f} "
      f"(on {int(where.sum())} of {len(grid)} grid points for the max)")
glue("day16_dstar_max_diff", d_check.max_diff)
glue("day16_dstar_weighted_error", weighted_error)

# %% [markdown]
# The value of the game at $D^*$ checks the divergence as well. Estimate $V(D, G)$ with the trained $D$ on
# fresh samples, and compute $-\log 4 + 2\,\mathrm{JSD}$ on the grid, once by hand from the definition
# $\mathrm{JSD}(p\,\|\,q) = \tfrac12 \mathrm{KL}(p\,\|\,m) + \tfrac12 \mathrm{KL}(q\,\|\,m)$ with
# $m = (p+q)/2$, once with SciPy (`jensenshannon` returns the square root of the divergence).

# %%
def jsd_by_hand(p: torch.Tensor, q: torch.Tensor) -> float:
    """Jensen-Shannon divergence (nats) of two densities on the same grid, normalised to sum 1."""
    p, q = p / p.sum(), q / q.sum()
    m = (p + q) / 2
    kl = lambda a, b: torch.where(a > 0, a * torch.log(a / b), torch.zeros_like(a)).sum()  # noqa: E731
    return (0.5 * kl(p, m) + 0.5 * kl(q, m)).item()


jsd = jsd_by_hand(p_data, p_g)
compare("JSD by hand vs SciPy", jsd, jensenshannon(p_data.numpy(), p_g.numpy()) ** 2)
check_rng = torch.Generator().manual_seed(cfg.seed + 1)
with torch.no_grad():
    real, fake = sample_data(200_000, check_rng).to(device), frozen_fakes(200_000, check_rng).to(device)
    value = (F.logsigmoid(disc(real)).mean() + F.logsigmoid(-disc(fake)).mean()).item()
print(f"V(D, G) with the trained D: {value:.4f}   -log 4 + 2 JSD: {-math.log(4) + 2 * jsd:.4f}   "
      f"(JSD = {jsd:.4f} nats; V cannot exceed its value at D*)")
glue("day16_jsd", jsd)
glue("day16_value", value)

# %%
fig, ax = plt.subplots(figsize=(8, 3.4))
ax.plot(grid, p_data, color="k", label="$p_{data}$ (mixture)")
ax.plot(grid, p_g, color="tab:orange", label="$p_g$ = N(1, 2²), frozen")
ax.set(xlabel="x", ylabel="density", title="The optimal discriminator against a frozen generator")
right = ax.twinx()
right.plot(grid, d_star, color="tab:blue", label="$D^*$ = p_data / (p_data + p_g)")
right.plot(grid, d_trained, color="tab:red", linestyle="--", label="trained D")
right.set(ylabel="D(x)", ylim=(0, 1.05))
handles = ax.get_legend_handles_labels()[0] + right.get_legend_handles_labels()[0]
ax.legend(handles, [h.get_label() for h in handles], fontsize=8, loc="upper left")
fig.tight_layout()

# %% [markdown]
# The trained $D$ follows $D^*$ where the samples are: within {glue:text}`day16_dstar_max_diff:.3f`
# everywhere the two densities carry mass, and {glue:text}`day16_dstar_weighted_error:.4f` on average
# over the samples. Far in the tails, no sample ever reaches $D$ and it extrapolates. Its peaks sit on
# the three modes, where real data is much denser than $p_g$; between the modes $D^*$ drops to almost
# 0, since only the generator puts mass there. The value of the game, {glue:text}`day16_value:.4f`, is just
# under $-\log 4 + 2\,\mathrm{JSD}$: a trained $D$ can only approach the maximum from below.
#
# ## 3. Saturating and non-saturating generator losses
#
# Early in training, $G$ is bad and $D$ rejects its samples easily: $D(G(z)) \to 0$. Write $D = \sigma(a)$
# with $a$ the discriminator's logit. The minimax generator minimises $\log(1 - \sigma(a))$, whose
# derivative is
#
# $$
# \frac{\partial}{\partial a} \log(1 - \sigma(a)) = -\sigma(a) \;\to\; 0 \quad\text{when } D(G(z)) \to 0 ,
# $$
#
# so the generator gets no signal exactly when it most needs one: the loss *saturates*. Goodfellow et al.
# suggested instead to maximise $\log D(G(z))$, i.e. minimise $-\log \sigma(a)$, whose derivative is
# $-(1 - \sigma(a)) \to -1$. Both losses have the same fixed point ($p_g = p_{data}$), but very different
# gradients far from it. Autograd confirms the two formulas on a range of logits.

# %%
logits = torch.linspace(-12, 4, 161, dtype=torch.float64, requires_grad=True)
grad_saturating, = torch.autograd.grad(saturating_generator_loss(logits) * len(logits), logits)
grad_non_saturating, = torch.autograd.grad(non_saturating_generator_loss(logits) * len(logits), logits)
d_fake = torch.sigmoid(logits.detach())
compare("saturating vs -σ(a)", grad_saturating, -d_fake)
compare("non-saturating vs σ(a)-1", grad_non_saturating, d_fake - 1)
print(f"{'D(G(z))':>9} | {'d/da log(1-D)':>14} | {'d/da -log D':>12}")
for target in (0.5, 1e-1, 1e-2, 1e-3, 1e-4, 1e-5):
    index = int((d_fake - target).abs().argmin())
    print(f"{d_fake[index].item():>9.1e} | {grad_saturating[index].item():>14.2e} | "
          f"{grad_non_saturating[index].item():>12.4f}")

# %% [markdown]
# The same happens through a real generator. Put a generator far from the data, $G(z) = 8 + 0.5z$ (an
# `nn.Linear(1, 1)`), train a discriminator against it for a few hundred steps, and measure the gradient
# that each loss sends to $G$'s two parameters.

# %%
far_generator = nn.Linear(1, 1).to(device)
with torch.no_grad():
    far_generator.weight.fill_(0.5)
    far_generator.bias.fill_(8.0)


def far_fakes(n: int, generator: torch.Generator) -> torch.Tensor:
    with torch.no_grad():
        return far_generator(torch.randn(n, 1, generator=generator).to(device))


far_rng = torch.Generator().manual_seed(cfg.seed + 2)
far_disc = train_discriminator(far_fakes, cfg.far_steps, cfg.dstar_batch, cfg.dstar_lr, cfg.dstar_hidden,
                               far_rng)
z = torch.randn(4096, 1, generator=far_rng).to(device)
far_logits = far_disc(far_generator(z)).squeeze(1)
gradient_norms = {}
for name, loss_fn in (("saturating", saturating_generator_loss),
                      ("non-saturating", non_saturating_generator_loss)):
    grads = torch.autograd.grad(loss_fn(far_logits), list(far_generator.parameters()), retain_graph=True)
    gradient_norms[name] = torch.cat([g.flatten() for g in grads]).norm().item()
mean_d = torch.sigmoid(far_logits).mean().item()
print(f"mean D(G(z)) = {mean_d:.2e}")
for name, norm in gradient_norms.items():
    print(f"{name:>15} loss: |grad of G's parameters| = {norm:.3e}")
ratio = gradient_norms["non-saturating"] / gradient_norms["saturating"]
print(f"ratio non-saturating / saturating: {ratio:.3g}")
glue("day16_far_d", mean_d)
glue("day16_far_ratio", f"{ratio:,.0f}")

# %%
fig, ax = plt.subplots(figsize=(6, 3.2))
ax.loglog(d_fake, grad_saturating.abs(), label="saturating: |∂/∂a log(1 − D)| = D")
ax.loglog(d_fake, grad_non_saturating.abs(), label="non-saturating: |∂/∂a (−log D)| = 1 − D")
ax.axvline(mean_d, color="grey", linestyle=":", label="D(G(z)) of the far generator")
ax.set(xlabel="D(G(z))", ylabel="|gradient w.r.t. the logit|",
       title="When D rejects the fakes, only the non-saturating loss still pushes G")
ax.legend(fontsize=8)
ax.grid(alpha=0.3, which="both")
fig.tight_layout()

# %% [markdown]
# With $D(G(z)) \approx$ {glue:text}`day16_far_d:.1e`, the non-saturating loss sends a gradient about
# {glue:text}`day16_far_ratio` times larger to the generator. Every GAN from here on, including day 17's,
# trains $G$ with the non-saturating loss, written as a binary cross-entropy with the *real* label on the
# fakes: `BCE(D(G(z)), 1)` $= -\log D(G(z))$.
#
# ## 4. The transposed convolution and its output size
#
# A generator must go from a small noise vector to an image: it needs layers that *enlarge* their input.
# A transposed convolution does it: every input value multiplies the kernel and "paints" it onto the
# output, the paintings $s$ pixels apart and summed where they overlap. Along one axis, $n$ inputs with a
# kernel of span $d(k-1)+1$ (dilation $d$) painted $s$ apart cover $(n-1)s + d(k-1) + 1$ pixels. The
# padding $p$ *crops* $p$ pixels on each side (it undoes the padding of the matching convolution), and
# `output_padding` adds pixels at one end:
#
# $$
# n_{out} = (n - 1)\,s - 2p + d\,(k - 1) + p_{out} + 1 .
# $$
#
# Why is $p_{out}$ needed? A convolution with stride $s$ maps $s$ different input sizes to the same output
# size (day 07's formula has a floor), so its transpose must be told which one to produce; PyTorch
# accepts $0 \le p_{out} < \max(s, d)$. The sweep below compares the formula with the shape that
# `nn.ConvTranspose2d` actually produces, over every combination of the settings, with a different value
# on each axis.

# %%
sizes_formula, sizes_torch, refused, disagreements, configurations = [], [], 0, [], 0
for n, kernel, stride, padding, output_padding, dilation in itertools.product(
        range(1, 6), range(1, 6), range(1, 4), range(0, 3), range(0, 3), range(1, 3)):
    configurations += 1
    try:
        expected = conv_transpose_output_size(n, kernel, stride, padding, output_padding, dilation)
    except ValueError:
        expected = None
    try:
        layer = nn.ConvTranspose2d(1, 1, kernel_size=(kernel, 2), stride=(stride, 1), padding=(padding, 0),
                                   output_padding=(output_padding, 0), dilation=(dilation, 1), bias=False)
        height, width = layer(torch.zeros(1, 1, n, n + 1)).shape[-2:]
    except (RuntimeError, ValueError):
        height = width = None
    if expected is None or height is None:  # refused: both must refuse
        refused += 1
        if (expected is None) != (height is None):
            disagreements.append((n, kernel, stride, padding, output_padding, dilation))
        continue
    sizes_formula += [expected, conv_transpose_output_size(n + 1, 2)]   # second axis: k=2, s=1, p=0
    sizes_torch += [height, width]

print(f"{configurations} configurations: {len(sizes_formula) // 2} built, {refused} refused "
      f"(output_padding too large, or everything cropped); refused by only one side: {len(disagreements)}")

# %% [markdown]
# The formula (and `conv_transpose_output_size`, which raises a clear error) and PyTorch refuse exactly
# the same configurations. For the others, the sizes agree. Then day 17's generator: its four transposed
# convolutions take $1\times1$ noise to $4\times4$, $7\times7$, $14\times14$ and $28\times28$; a forward
# hook records each layer's output. Note how $4 \to 7$ uses $k=3$, $s=2$, $p=1$ while $7 \to 14 \to 28$
# use $k=4$, $s=2$, $p=1$: with a stride of 2, an even kernel doubles the size exactly, an odd one gives
# $2n - 1$.

# %%
compare(f"ConvTranspose2d sizes ({len(sizes_formula) // 2} configs)", sizes_formula, sizes_torch)
glue("day16_conv_configs", len(sizes_formula) // 2)

dcgan_generator = Generator(nz=64, ngf=32).eval()
recorded = []
hooks = [layer.register_forward_hook(lambda module, inputs, output: recorded.append(tuple(output.shape)))
         for layer in dcgan_generator.net if isinstance(layer, nn.ConvTranspose2d)]
with torch.no_grad():
    dcgan_generator(torch.randn(2, 64))
for hook in hooks:
    hook.remove()
side = 1
for layer, shape in zip([m for m in dcgan_generator.net if isinstance(m, nn.ConvTranspose2d)], recorded,
                        strict=True):
    side_out = conv_transpose_output_size(side, layer.kernel_size[0], layer.stride[0], layer.padding[0])
    print(f"ConvTranspose2d(k={layer.kernel_size[0]}, s={layer.stride[0]}, p={layer.padding[0]}): "
          f"{side}×{side} -> formula {side_out}×{side_out}, PyTorch {shape[-2]}×{shape[-1]} "
          f"({shape[1]} channel{'s' * (shape[1] > 1)})")
    side = side_out

# %% [markdown]
# A transposed convolution is called so because it multiplies by the transpose of the convolution's
# matrix: it is exactly the gradient of a convolution with respect to its input. Autograd checks it: the
# gradient of `conv2d` with respect to $x$, for an upstream gradient $y$, equals `conv_transpose2d(y)` with
# the same weights, stride and padding (and the `output_padding` that restores $x$'s size).

# %%
gen = torch.Generator().manual_seed(cfg.seed)
x = torch.randn(2, 3, 9, 9, dtype=torch.float64, generator=gen, requires_grad=True)
weight = torch.randn(4, 3, 3, 3, dtype=torch.float64, generator=gen)
y = torch.randn(2, 4, 5, 5, dtype=torch.float64, generator=gen)            # conv2d(x) is 2×4×5×5
grad_x, = torch.autograd.grad(F.conv2d(x, weight, stride=2, padding=1), x, y)
compare("conv2d's input gradient vs conv_transpose2d",
        grad_x, F.conv_transpose2d(y, weight, stride=2, padding=1, output_padding=0))

# %% [markdown]
# ## 5. Batch normalisation by hand
#
# DCGAN puts a BatchNorm after almost every layer: it keeps the activations of both networks at a scale
# where the next layer learns, which the original GANs struggled with. For a channel whose $m$ values in
# the batch (all samples, and all pixels for images) are $x_1, \dots, x_m$:
#
# $$
# \mu_B = \frac1m \sum_i x_i, \qquad \sigma_B^2 = \frac1m \sum_i (x_i - \mu_B)^2, \qquad
# y_i = \gamma \, \frac{x_i - \mu_B}{\sqrt{\sigma_B^2 + \epsilon}} + \beta .
# $$
#
# The normalisation uses the *biased* variance (divide by $m$). In training mode, the layer also keeps
# running averages for later, with PyTorch's `momentum` $= 0.1$:
# $\hat\mu \leftarrow 0.9\,\hat\mu + 0.1\,\mu_B$ and $\hat\sigma^2 \leftarrow 0.9\,\hat\sigma^2 + 0.1\,
# \frac{m}{m-1}\sigma_B^2$, the *unbiased* variance this time. In evaluation mode it normalises with
# $\hat\mu$ and $\hat\sigma^2$, so that an output no longer depends on the rest of the batch.
#
# `helpers.gan.batch_norm` follows these lines; the check runs three training steps and one evaluation
# step through it and through `nn.BatchNorm1d` (N×C) and `nn.BatchNorm2d` (N×C×H×W) with the same
# $\gamma$ and $\beta$, and compares the outputs, the running statistics and the gradients.

# %%
def check_batch_norm(module: nn.Module, shape: tuple[int, ...], label: str) -> list[float]:
    """Three training steps and one evaluation step, by hand and with ``module``; returns max diffs."""
    channels = shape[1]
    gen = torch.Generator().manual_seed(cfg.seed)
    with torch.no_grad():
        module.weight.copy_(1 + 0.5 * torch.randn(channels, generator=gen, dtype=torch.float64))
        module.bias.copy_(torch.randn(channels, generator=gen, dtype=torch.float64))
    gamma = module.weight.detach().clone().requires_grad_(True)
    beta = module.bias.detach().clone().requires_grad_(True)
    running_mean, running_var = torch.zeros(channels, dtype=torch.float64), torch.ones(channels,
                                                                                       dtype=torch.float64)
    diffs = []
    for step_index in range(4):
        training = step_index < 3
        module.train(training)
        x = (3 * torch.randn(shape, generator=gen, dtype=torch.float64) + 2).requires_grad_(True)
        mine = batch_norm(x, gamma, beta, running_mean, running_var, training)
        reference = module(x)
        upstream = torch.randn(shape, generator=gen, dtype=torch.float64)
        grads_mine = torch.autograd.grad(mine, [x, gamma, beta], upstream)
        grads_reference = torch.autograd.grad(reference, [x, module.weight, module.bias], upstream)
        checks = [compare(f"{label} {'train' if training else 'eval'} out", mine, reference, verbose=False),
                  compare("running mean", running_mean, module.running_mean, verbose=False),
                  compare("running var", running_var, module.running_var, verbose=False)]
        checks += [compare("grad", a, b, verbose=False)
                   for a, b in zip(grads_mine, grads_reference, strict=True)]
        status = "all close" if all(checks) else "WRONG: " + ", ".join(str(c) for c in checks if not c)
        worst = max(c.max_diff for c in checks)
        diffs.append(worst)
        print(f"{label} step {step_index + 1} ({'train' if training else 'eval '}): outputs, running "
              f"stats, grads of x/γ/β {status} | max diff {worst:.1e}")
    return diffs


bn_diffs = check_batch_norm(nn.BatchNorm1d(5, dtype=torch.float64), (32, 5), "BatchNorm1d")
bn_diffs += check_batch_norm(nn.BatchNorm2d(3, dtype=torch.float64), (8, 3, 6, 6), "BatchNorm2d")
glue("day16_bn_max_diff", f"{max(bn_diffs):.0e}")

# %% [markdown]
# In training mode a sample's output depends on the other samples of its batch. This is why a generator
# is usually *sampled* in evaluation mode, with the running statistics, and why a batch of one is
# degenerate in training mode: each channel would be normalised by its own single value.

# %%
gen = torch.Generator().manual_seed(cfg.seed)
layer = nn.BatchNorm1d(4).train()
first = torch.randn(1, 4, generator=gen)
with_batch_a = layer(torch.cat([first, torch.randn(7, 4, generator=gen)]))[0]
with_batch_b = layer(torch.cat([first, torch.randn(7, 4, generator=gen) + 3]))[0]
print("same sample, two batches, training mode: max change of its output "
      f"{(with_batch_a - with_batch_b).abs().max().item():.4f}")
layer.eval()
print("evaluation mode: max change "
      f"{(layer(torch.cat([first, first]))[0] - layer(first)[0]).abs().max().item():.4f}")

# %% [markdown]
# ## 6. A 1-D GAN on the mixture
#
# Now both networks learn. $G$ maps one-dimensional noise $z \sim \mathcal{N}(0, 1)$ to a point, $D$ is the
# same kind of MLP, and each step
#
# 1. draws a fresh batch of real points and a fresh batch of noise (never the same noise twice);
# 2. updates $D$ on real (label 1) and fake (label 0, the fakes detached from $G$'s graph);
# 3. updates $G$ with the non-saturating loss, $-\log D(G(z))$.
#
# Adam gets the DCGAN settings (learning rate $10^{-3}$ here, since these networks are tiny, and
# $\beta_1 = 0.5$). At a few steps we push 5,000 fixed noise values through $G$ and draw the histogram of
# its outputs against $p_{data}$; the share of points within three standard deviations of each mode tells
# whether a mode is missing.

# %%
def mode_shares(points: torch.Tensor) -> list[float]:
    """Share of the points within 3 std of each mode (the rest is between the modes)."""
    return [((points - mean).abs() < 3 * std).float().mean().item() for mean in cfg.mixture_means]


def train_gan(generator_loss, label: str, d_lr: float | None = None) -> dict:
    """Train G and D on the mixture; snapshots of G's samples at ``cfg.snapshots`` steps.

    ``d_lr`` sets D's learning rate apart from G's (default: both ``cfg.gan_lr``).
    """
    torch.manual_seed(cfg.seed)
    rng = torch.Generator().manual_seed(cfg.seed)
    gen_net, disc_net = mlp(cfg.gan_hidden, cfg.gan_z_dim).to(device), mlp(cfg.gan_hidden).to(device)
    opt_g = torch.optim.Adam(gen_net.parameters(), lr=cfg.gan_lr, betas=tuple(cfg.gan_betas))
    opt_d = torch.optim.Adam(disc_net.parameters(), lr=d_lr or cfg.gan_lr, betas=tuple(cfg.gan_betas))
    fixed_z = torch.randn(cfg.n_density, cfg.gan_z_dim, generator=torch.Generator().manual_seed(99)).to(device)
    batch = cfg.gan_batch
    ones, zeros = torch.ones(batch, 1, device=device), torch.zeros(batch, 1, device=device)
    run = {"label": label, "snapshots": {}, "loss_d": [], "loss_g": []}
    for step_index in range(1, cfg.gan_steps + 1):
        real = sample_data(batch, rng).to(device)
        fake = gen_net(torch.randn(batch, cfg.gan_z_dim, generator=rng).to(device))   # fresh z every step
        loss_d = (F.binary_cross_entropy_with_logits(disc_net(real), ones)
                  + F.binary_cross_entropy_with_logits(disc_net(fake.detach()), zeros))
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        loss_g = generator_loss(disc_net(fake))
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
        run["loss_d"].append(loss_d.item())
        run["loss_g"].append(loss_g.item())
        if step_index in cfg.snapshots:
            with torch.no_grad():
                run["snapshots"][step_index] = gen_net(fixed_z).squeeze(1).cpu()
    return run


runs = [train_gan(non_saturating_generator_loss, "non-saturating"),
        train_gan(saturating_generator_loss, "saturating"),
        train_gan(non_saturating_generator_loss, "slow D", d_lr=cfg.slow_d_lr)]
print("share of G's samples near each mode (means " + ", ".join(f"{m:g}" for m in cfg.mixture_means)
      + f"; data: {', '.join(f'{w:.2f}' for w in mode_shares(sample_data(20000, rng).squeeze(1)))})")
for run in runs:
    for step_index, points in run["snapshots"].items():
        shares = mode_shares(points)
        print(f"{run['label']:>15} step {step_index:>5}: " + "  ".join(f"{s:.2f}" for s in shares)
              + f" | between modes {1 - sum(shares):.2f} | std of the samples {points.std().item():.2f}")
final = mode_shares(runs[0]["snapshots"][cfg.gan_steps])
first = mode_shares(runs[0]["snapshots"][cfg.snapshots[0]])
slow_final = runs[2]["snapshots"][cfg.gan_steps]
glue("day16_first_step", cfg.snapshots[0])
glue("day16_first_empty", sum(share < 0.02 for share in first))
glue("day16_final_between", 1 - sum(final))
slow_stds = {step_index: points.std().item() for step_index, points in runs[2]["snapshots"].items()}
slow_step = min(slow_stds, key=slow_stds.get)
glue("day16_slow_min_std", slow_stds[slow_step])
glue("day16_slow_min_step", slow_step)
glue("day16_slow_final_off", 1 - sum(mode_shares(slow_final)))
glue("day16_slow_d_lr", f"{cfg.slow_d_lr:.0e}")

# %%
steps_shown = cfg.snapshots
fig, axes = plt.subplots(len(runs), len(steps_shown), figsize=(2.3 * len(steps_shown), 2.2 * len(runs)),
                         sharex=True, sharey=True, squeeze=False)
bins = np.linspace(-7, 7, 113)
for row, run in zip(axes, runs, strict=True):
    for ax, step_index in zip(row, steps_shown, strict=True):
        ax.hist(run["snapshots"][step_index].numpy().clip(-7, 7), bins=bins, density=True,
                color="tab:orange", alpha=0.7, label="G")
        ax.plot(grid, p_data, color="k", linewidth=1, label="data")
        ax.set_title(f"{run['label']}, step {step_index}", fontsize=8)
        ax.set_ylim(0, 1.2)
    row[0].set_ylabel("density")
for ax in axes[-1]:
    ax.set_xlabel("x")
axes[0, 0].legend(fontsize=7)
fig.suptitle("Density of G's samples (orange) against the data (black) during training")
fig.tight_layout()

# %%
fig, ax = plt.subplots(figsize=(7, 3))
window = 50
for run, color in zip(runs, ("tab:blue", "tab:red", "tab:green"), strict=True):
    smooth = lambda v: np.convolve(v, np.ones(window) / window, mode="valid")  # noqa: E731
    ax.plot(smooth(run["loss_d"]), color=color, label=f"D loss ({run['label']} run)")
    ax.plot(smooth(run["loss_g"]), color=color, linestyle="--", label=f"G loss ({run['label']})")
ax.axhline(math.log(4), color="grey", linestyle=":", label="log 4: D loss at equilibrium")
ax.set(xlabel="step", ylabel=f"loss (mean over {window} steps)", title="The losses of a GAN do not fall")
ax.legend(fontsize=7, ncol=2)
ax.grid(alpha=0.3)
fig.tight_layout()

# %% [markdown]
# What the snapshots show:
#
# - **Modes found one after the other.** After {glue:text}`day16_first_step` steps,
#   {glue:text}`day16_first_empty` of the three modes is still empty, and about a third of the samples sit
#   between the modes: $G$ first moves towards the places where $D$ is fooled, then spreads out as $D$
#   learns to reject them. The shares swing for a few hundred steps before they settle near the data's.
# - **Bridges between the modes.** A continuous $G$ maps the connected line of $z$ onto a connected set:
#   it cannot jump from one mode to the next without passing points in between. At the end,
#   {glue:text}`day16_final_between:.0%` of the samples still sit between the modes, where the data has
#   almost none. Wider generators make the bridges thinner, never absent.
# - **Mode collapse.** The third run gives $D$ a learning rate of {glue:text}`day16_slow_d_lr` (the setting
#   of one seed article) and $G$ the usual $10^{-3}$. $D$ barely changes, so $G$ does not learn the data: it
#   learns the *current* $D$, and the best answer to a fixed $D$ is to put every sample where $D$ is
#   highest. The samples shrink to a spike (standard deviation {glue:text}`day16_slow_min_std:.2f` at step
#   {glue:text}`day16_slow_min_step`) and then wander wherever $D$ happens to be high, off the data too:
#   at the end {glue:text}`day16_slow_final_off:.0%` of them lie outside the three modes (the histograms
#   clip them at the edge). This is complete mode collapse: balance between the two players matters more
#   than either learning rate.
# - **Saturating vs non-saturating.** The first two runs end up close: our $D$ never wins by far on this
#   easy task, and Adam divides every gradient by its running magnitude, which partly undoes the
#   saturation of section 3. The saturating loss still fails where $D$ wins outright, as in section 3.
# - **The losses do not say when to stop.** Neither loss falls steadily: the D loss hovers near
#   $\log 4 \approx 1.39$, the value at the equilibrium $D = 1/2$, while the samples change a lot. Early
#   stopping on the generator's loss, as one seed article does, measures nothing useful; day 17 measures
#   the *samples* instead.

# %% [markdown]
# ## Exercises
#
# ```{exercise}
# :label: day16-value
# Write `value_at_optimum(p, q, dx)`: the value $V(D^*, G)$ of the game when the data density is `p` and
# the generator's density is `q`, both given on a grid of spacing `dx` (tensors), computed from the
# integral $\int p \log D^* + q \log(1 - D^*)\,dx$ with $D^* = p/(p+q)$. Points where a density is 0
# contribute 0. The cell checks it against $-\log 4 + 2\,\mathrm{JSD}$ computed by SciPy, on three pairs
# of densities, including identical ones.
# ```

# %% tags=["hide-input"]
from helpers.checks import check_function


def value_at_optimum(p: torch.Tensor, q: torch.Tensor, dx: float) -> float:
    """V(D*, G) = ∫ p log D* + q log(1 - D*) dx on a grid, with D* = p / (p + q)."""
    ### BEGIN SOLUTION
    d = p / (p + q)
    term_real = torch.where(p > 0, p * torch.log(d), torch.zeros_like(p))
    term_fake = torch.where(q > 0, q * torch.log(1 - d), torch.zeros_like(q))
    return ((term_real + term_fake).sum() * dx).item()
    ### END SOLUTION


def scipy_value(p: torch.Tensor, q: torch.Tensor, dx: float) -> float:
    """-log 4 + 2 JSD, with SciPy's JSD (it normalises p and q to sum 1, as a grid integral does)."""
    return -math.log(4) + 2 * jensenshannon(p.numpy(), q.numpy()) ** 2


pairs = [(p_data, p_g), (p_data, p_data.clone()),
         (normal_density(grid, -1.0, 0.7), normal_density(grid, 1.5, 1.2))]
check_function("value_at_optimum",
               lambda p, q: value_at_optimum(p / (p.sum() * step), q / (q.sum() * step), step),
               [((p, q), scipy_value(p, q, step)) for p, q in pairs], atol=1e-6)

# %% [markdown]
# ```{solution} day16-value
# :class: dropdown
# Evaluate $D^*$ on the grid and sum the two terms times the spacing (a Riemann sum of the integral). The
# cell normalises each density so that it sums to 1 on the grid, which is what SciPy's `jensenshannon`
# does, so the two agree to rounding. For identical densities $D^* = 1/2$ everywhere and the value is
# $\log\frac12 + \log\frac12 = -\log 4$, the minimum over generators: at the optimum of the game the
# generator matches the data and the best discriminator can only guess.
# ```
#
# ````{exercise}
# :label: day16-seed-bugs
# A seed article trains its GAN with this loop (`D` ends with a sigmoid):
#
# ```python
# z = torch.randn(batch_size, nz)               # drawn once, before the loop
# for step in range(steps):
#     real, fake = next(batches), G(z)
#     loss_d = bce(D(real), zeros) + bce(D(fake.detach()), ones)   # real = 0, fake = 1
#     loss_g = bce(D(fake), zeros)
#     ...
# ```
#
# Is the label convention (real = 0, fake = 1) a bug? What does drawing `z` once do to the generator?
# Predict the histogram of $G$'s samples, then check with `train_gan` modified accordingly.
# ````
#
# ```{solution} day16-seed-bugs
# :class: dropdown
# The swapped labels are not a bug by themselves: $D$ now outputs the probability of "fake", and the
# generator loss `bce(D(fake), zeros)` is again the non-saturating loss (it asks $D$ to call the fakes
# real). It only breaks code that assumes the usual meaning, such as a `D(x) > 0.5 means real` check.
# Drawing `z` once is a real bug: $G$ only ever sees `batch_size` noise vectors, so it learns to map those
# few points onto the data, and nothing constrains it elsewhere. On fresh noise its samples are
# unpredictable, and even on the training noise it only produces `batch_size` points, a distribution with
# `batch_size` atoms. In the 1-D GAN, the histogram on fresh noise does not follow the mixture, and the
# training points pile up on the modes. A GAN must draw fresh noise at every step.
# ```
#
# ```{exercise}
# :label: day16-output-padding
# Day 17's discriminator takes $28 \to 14 \to 7 \to 4$ with `Conv2d(k=4, s=2, p=1)`,
# `Conv2d(k=4, s=2, p=1)` and `Conv2d(k=3, s=2, p=1)`. Using day 07's `conv_output_size` and
# `conv_transpose_output_size`, find the `output_padding` that makes each transposed convolution (same
# kernel, stride and padding) give back the input size exactly. Which sizes can a stride-2, $k=3$, $p=1$
# convolution map to 4, and what `output_padding` picks each?
# ```
#
# ````{solution} day16-output-padding
# :class: dropdown
# `conv_output_size` gives $\lfloor (28 + 2 - 4)/2 \rfloor + 1 = 14$, then 7, then
# $\lfloor (7 + 2 - 3)/2 \rfloor + 1 = 4$. Going back, `conv_transpose_output_size(14, 4, 2, 1)` $= 28$
# and `conv_transpose_output_size(7, 4, 2, 1)` $= 14$ need no output padding, and
# `conv_transpose_output_size(4, 3, 2, 1)` $= 7$ neither. The convolution with $k=3$, $s=2$, $p=1$ maps
# both 7 and 8 to 4 (the floor drops the remainder); the transpose gives 7 with `output_padding=0` and 8
# with `output_padding=1`:
#
# ```python
# from helpers.conv import conv_output_size
# [conv_output_size(n, 3, 2, 1) for n in (7, 8)]                              # [4, 4]
# [conv_transpose_output_size(4, 3, 2, 1, op) for op in (0, 1)]               # [7, 8]
# ```
# ````
#
# ```{exercise}
# :label: day16-bridges
# Train the 1-D GAN with `gan_z_dim = 4` and with a wider generator (`gan_hidden = 128`), and compare the
# share of samples between the modes with the run above. Then change the mixture to five modes at
# $-6, -3, 0, 3, 6$ with standard deviation 0.3. Which modes appear first, and is any mode missing at
# the end?
# ```
#
# ```{solution} day16-bridges
# :class: dropdown
# Pass the new sizes through `cfg.params` (e.g. `cfg.params["gan_z_dim"] = 4`) and rerun
# `train_gan`. A wider generator can make steeper transitions between the modes, so the bridges get
# thinner; more noise dimensions do not remove them (the image of a connected set under a continuous map
# is still connected) but give $G$ more room to bend. With five narrow modes, the first snapshots again put
# almost everything on one or two modes; the others appear over the following thousand steps, and the
# shares keep oscillating as $D$ chases whichever mode $G$ overfills. Run several seeds: some runs leave
# an outer mode underfilled for a long time, the one-dimensional picture of mode collapse.
# ```
#
# ## Summary
#
# - A GAN is a two-player game: $D$ is a classifier trained with binary cross-entropy, and for a fixed
#   $G$ the best one is $D^* = p_{data}/(p_{data}+p_g)$, which a trained MLP approaches where there is data.
# - Against $D^*$, the generator minimises $-\log 4 + 2\,\mathrm{JSD}(p_{data}\,\|\,p_g)$; in practice $G$
#   is trained with the non-saturating loss $-\log D(G(z))$, whose gradient does not vanish when $D$ wins.
# - A transposed convolution enlarges: $n_{out} = (n-1)s - 2p + d(k-1) + p_{out} + 1$, checked on
#   {glue:text}`day16_conv_configs` configurations; it is the input-gradient of a convolution.
# - BatchNorm normalises with the batch's biased variance in training, keeps running statistics with the
#   unbiased one, and uses them in evaluation: equal to PyTorch's within {glue:text}`day16_bn_max_diff`.
# - A 1-D GAN shows the dynamics: modes found one at a time, bridges between them, losses that do not
#   fall. Day 17 scales the same game to images with DCGAN, and measures its samples.

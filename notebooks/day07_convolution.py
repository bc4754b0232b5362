# %% [markdown]
# # Day 07: Convolution
#
# A fully connected layer treats a photo as a long list of numbers: it does not know that neighbouring
# pixels belong together, and it needs one weight per pixel per output. A *convolution* slides one small
# kernel over the whole image and computes the same weighted sum $Wx+b$ at every position. It is the
# filtering of classical image processing (blur, edge detection), except that a network learns the
# kernels. Today we write convolution and pooling by hand, check them against PyTorch, and look at what
# kernels do to a real photo.
#
# **Objectives**
# - compute a 2-D convolution by hand, first pixel by pixel, then for batches, channels, stride,
#   padding and dilation, and check it equals `nn.Conv2d`;
# - derive and use the output-size formula, and fill in the shape table of a LeNet-style network;
# - apply hand-designed kernels (Sobel, Laplacian, blur) to a photo and read the feature maps;
# - compare max and average pooling, and random kernels with hand-designed ones.
#
# **Profiles.** Nothing is trained today, so all three profiles run the same code on the same photo, one
# that scikit-learn ships (nothing is downloaded). `ci` works on it at half resolution to keep the
# outputs light; `laptop` and `gpu` use the full image. There is no figure from the source articles to
# chase.

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

cfg = setup("day07", PROFILE)

# %% [markdown]
# ## The photo
#
# `helpers.data.packaged_photo` reads one of the photos that installed packages ship (here scikit-learn's
# picture of a Chinese temple) as a height × width × 3 array of bytes. PyTorch wants
# channels first and a batch axis, N×C×H×W, with floats in $[0, 1]$. For the single-channel examples we
# also make a grey version, the usual luminance mix $0.299R + 0.587G + 0.114B$.

# %%
import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F

from helpers import compare, glue, viz
from helpers.data import packaged_photo


def photo_tensor(name: str, downscale: int = 1) -> torch.Tensor:
    """A packaged photo as a 1×3×H×W float tensor in [0, 1], shrunk by an integer factor."""
    array = packaged_photo(name)
    photo = torch.tensor(array).permute(2, 0, 1).float().div(255).unsqueeze(0)
    if downscale > 1:
        photo = F.interpolate(photo, scale_factor=1 / downscale, mode="area")
    return photo


def to_gray(rgb: torch.Tensor) -> torch.Tensor:
    """N×3×H×W -> N×1×H×W luminance."""
    weights = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
    return (rgb * weights).sum(dim=1, keepdim=True)


photo = photo_tensor(cfg.photo, cfg.downscale)
gray = to_gray(photo)
height, width = photo.shape[-2:]
print(f"{cfg.photo}: photo {tuple(photo.shape)}, grey {tuple(gray.shape)}")
glue("day07_height", height)
glue("day07_width", width)

fig, axes = plt.subplots(1, 2, figsize=(8, 2.8))
axes[0].imshow(photo[0].permute(1, 2, 0))
axes[1].imshow(gray[0, 0], cmap="gray")
for ax, title in zip(axes, ["RGB", "grey"], strict=True):
    ax.set_title(f"{title}, {height}×{width}", fontsize=9)
    ax.axis("off")
fig.tight_layout()

# %% [markdown]
# ## Convolution, pixel by pixel
#
# Put a $k_h \times k_w$ kernel $w$ on top of the image with its corner at row $r$, column $c$, multiply
# the pixels it covers by the weights and add them up; that sum is output pixel $(r, c)$:
#
# $$ y[r, c] = b + \sum_{i=0}^{k_h-1} \sum_{j=0}^{k_w-1} w[i, j]\, x[r + i,\ c + j] $$
#
# Strictly this is a *cross-correlation*: the convolution of signal processing flips the kernel first
# ($x[r-i, c-j]$). Deep-learning libraries skip the flip, since a learned kernel can just as well be
# learned flipped; so do we. The kernel fits at $H - k_h + 1$ rows and $W - k_w + 1$ columns, so the
# output is a little smaller than the input. The most direct code loops over the output pixels:

# %%
def conv2d_naive(image: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """Single-channel cross-correlation, one output pixel at a time (H×W, kH×kW -> H'×W')."""
    kh, kw = kernel.shape
    out = torch.zeros(image.shape[0] - kh + 1, image.shape[1] - kw + 1)
    for r in range(out.shape[0]):
        for c in range(out.shape[1]):
            out[r, c] = (image[r:r + kh, c:c + kw] * kernel).sum()
    return out


square = torch.zeros(6, 6)
square[2:4, 2:4] = 1.0
plus = torch.tensor([[0.0, 1, 0], [1, -4, 1], [0, 1, 0]])
print(square)
print(conv2d_naive(square, plus))

# %% [markdown]
# The kernel adds the four neighbours and subtracts four times the centre. On the flat background the
# output is zero; on the bright square it is negative (the centre is brighter than its neighbours), and
# just outside the square positive: the kernel outlines the square.
#
# Is it right? `helpers.compare` checks it against `F.conv2d` (which wants N×C×H×W inputs and
# C_out×C_in×kH×kW weights) on a crop of the photo. We take the pixels as whole numbers 0-255: with an
# integer kernel every sum is then an exact integer in float32, so any order of additions gives the same
# bits and the two results must be *exactly* equal. (With fractional values the last bits depend on the
# order of the additions, which differs between libraries and CPUs: "close" is then the best verdict.)

# %%
import time

gray_bytes = (gray * 255).round()
crop = gray_bytes[0, 0, :cfg.naive_crop, :cfg.naive_crop]
started = time.perf_counter()
naive = conv2d_naive(crop, plus)
naive_seconds = time.perf_counter() - started
compare("naive vs F.conv2d", naive, F.conv2d(crop[None, None], plus[None, None])[0, 0])
print(f"{crop.shape[0]}×{crop.shape[1]} crop, one Python iteration per output pixel [{naive_seconds:.1f}s]")

# %% [markdown]
# ## Stride, padding and dilation
#
# Three options change where the kernel lands:
#
# - **stride** $s$: move the kernel $s$ pixels at a time, keeping one position in $s$ (downsampling);
# - **padding** $p$: surround the input with $p$ rows and columns of zeros, so the kernel can sit on the
#   border (with $s=1$ and an odd kernel, $p = (k-1)/2$ keeps the size: "same" padding);
# - **dilation** $d$: spread the kernel's taps $d$ pixels apart, so a $k \times k$ kernel covers
#   $d(k-1)+1$ pixels with only $k^2$ weights.
#
# Along one axis, a dilated kernel spans $d(k-1)+1$ pixels of the $n+2p$ padded ones. It fits at the
# first position and at $n + 2p - d(k-1) - 1$ more, of which the stride keeps one in $s$:
#
# $$ n_{\text{out}} = \left\lfloor \frac{n + 2p - d(k - 1) - 1}{s} \right\rfloor + 1 $$
#
# Pooling uses the same formula (with $d = 1$). The figure marks the pixels that the first two kernel
# positions read, on a 7×7 input with a 3×3 kernel; grey cells are padding.

# %%
import numpy as np
from matplotlib.patches import Rectangle

from helpers.conv import conv_output_size


def draw_kernel_positions(ax, n: int, kernel: int, stride: int = 1, padding: int = 0,
                          dilation: int = 1) -> None:
    """Draw an n×n input (plus padding) and the pixels read by the first two kernel positions."""
    size = n + 2 * padding
    for row in range(size):
        for col in range(size):
            inside = padding <= row < padding + n and padding <= col < padding + n
            ax.add_patch(Rectangle((col, row), 1, 1, facecolor="white" if inside else "#cccccc",
                                   edgecolor="#999999", linewidth=0.5))
    for step, colour in ((0, "#1f77b4"), (1, "#ff7f0e")):
        for i in range(kernel):
            for j in range(kernel):
                ax.add_patch(Rectangle((step * stride + j * dilation + 0.15 + 0.35 * step,
                                        i * dilation + 0.15 + 0.35 * step), 0.35, 0.35, color=colour))
    out = conv_output_size(n, kernel, stride, padding, dilation)
    ax.set(xlim=(0, size), ylim=(size, 0), aspect="equal", xticks=[], yticks=[])
    ax.set_title(f"s={stride} p={padding} d={dilation}\noutput {out}×{out}", fontsize=9)


fig, axes = plt.subplots(1, 4, figsize=(10, 3.2), layout="constrained")  # leaves room for the suptitle
for ax, options in zip(axes, [{}, {"stride": 2}, {"padding": 1}, {"dilation": 2}], strict=True):
    draw_kernel_positions(ax, 7, 3, **options)
fig.suptitle("first (blue) and second (orange) position of a 3×3 kernel on a 7×7 input", fontsize=10)

# %% [markdown]
# `conv_output_size` in `helpers/conv.py` implements the formula, and raises an error when the kernel
# does not fit at all. Let us check it against the shape that `nn.Conv2d` actually produces, on every
# combination of input size, kernel, stride, padding and dilation in a grid (where `nn.Conv2d` refuses
# the combination, the formula must refuse it too):

# %%
import itertools

from torch import nn

agree = refused = tried = 0
for kernel, stride, padding, dilation in itertools.product(range(1, 6), range(1, 4), range(0, 3), range(1, 4)):
    layer = nn.Conv2d(1, 1, kernel, stride=stride, padding=padding, dilation=dilation, bias=False)
    for n in range(1, 17):
        tried += 1
        try:
            actual = layer(torch.zeros(1, 1, n, n)).shape[-1]
        except RuntimeError:  # torch: the kernel is larger than the padded input
            try:
                conv_output_size(n, kernel, stride, padding, dilation)
            except ValueError:
                refused += 1
            continue
        agree += conv_output_size(n, kernel, stride, padding, dilation) == actual
glue("day07_grid_size", tried)
print(f"{tried:,} configurations: formula = nn.Conv2d on {agree:,}, both refuse {refused:,}, "
      f"disagree on {tried - agree - refused}")

# %% [markdown]
# ### The general version
#
# Looping over output pixels costs one Python iteration per pixel. Loop over the $k_h k_w$ kernel
# *offsets* instead: for offset $(i, j)$, the pixels that tap reads for every output position form a
# strided slice of the padded input, starting at $(i\,d, j\,d)$ with step $s$. Multiply the slice by
# $w[i, j]$ and accumulate. Nine iterations for a 3×3 kernel, whatever the image size.

# %%
def conv2d_offsets(image: torch.Tensor, kernel: torch.Tensor, stride: int = 1, padding: int = 0,
                   dilation: int = 1) -> torch.Tensor:
    """Single-channel cross-correlation with stride, padding and dilation, one kernel tap at a time."""
    kh, kw = kernel.shape
    out_h = conv_output_size(image.shape[0], kh, stride, padding, dilation)
    out_w = conv_output_size(image.shape[1], kw, stride, padding, dilation)
    padded = torch.zeros(image.shape[0] + 2 * padding, image.shape[1] + 2 * padding)
    padded[padding:padding + image.shape[0], padding:padding + image.shape[1]] = image
    out = torch.zeros(out_h, out_w)
    for i in range(kh):
        for j in range(kw):
            rows = slice(i * dilation, i * dilation + stride * (out_h - 1) + 1, stride)
            cols = slice(j * dilation, j * dilation + stride * (out_w - 1) + 1, stride)
            out += kernel[i, j] * padded[rows, cols]
    return out


compare("offsets vs naive", conv2d_offsets(crop, plus), naive)
for stride, padding, dilation in [(2, 0, 1), (1, 1, 1), (3, 2, 2)]:
    mine = conv2d_offsets(gray_bytes[0, 0], plus, stride, padding, dilation)
    reference = F.conv2d(gray_bytes, plus[None, None], stride=stride, padding=padding, dilation=dilation)[0, 0]
    compare(f"s={stride} p={padding} d={dilation} {tuple(mine.shape)}", mine, reference)

# %% [markdown]
# With several input channels (the R, G, B of a photo) a kernel has one $k_h \times k_w$ slice per
# channel and sums over channels too; with $C_{out}$ kernels the layer makes $C_{out}$ output maps:
#
# $$ y[n, o, r, c] = b_o + \sum_{ch=0}^{C_{in}-1} \sum_{i, j} w[o, ch, i, j]\;
#    x_{\text{pad}}[n, ch,\ r s + i d,\ c s + j d] $$
#
# For one offset $(i, j)$ the sum over channels is a matrix product between the N×C_in×H'×W' slice and
# the C_out×C_in matrix $w[:, :, i, j]$, which `torch.einsum("nchw,oc->nohw", ...)` writes in one line.
# That is all the general version in `helpers/conv.py` adds; its loop is below. It also accepts
# (height, width) pairs and raises a clear error on mismatched channels.

# %%
import inspect

from helpers.conv import conv2d_by_hand, max_pool2d_by_hand

source = inspect.getsource(conv2d_by_hand)
print(source[source.index("    padded ="):])

# %% [markdown]
# Checked against `nn.Conv2d` on the colour photo, with the layer's own random weights and bias, for a
# few settings (`tests/test_day07_convolution.py` checks many more random shapes, and the gradients).
# The weights are fractional, so the results agree up to float32 rounding; `compare(..., show_diff=False)`
# prints only the verdict, since the largest difference (around $10^{-7}$) changes from CPU to CPU (a WRONG
# verdict would print it).

# %%
torch.manual_seed(0)
for options in [{}, {"stride": 2, "padding": 1}, {"stride": (1, 3), "padding": (2, 0), "dilation": 2}]:
    layer = nn.Conv2d(3, 4, kernel_size=3, **options)
    with torch.no_grad():
        mine = conv2d_by_hand(photo, layer.weight, layer.bias, **options)
        compare(f"{tuple(mine.shape)} {options}", mine, layer(photo), atol=1e-5, show_diff=False)

try:
    conv2d_by_hand(gray, layer.weight)
except ValueError as err:
    print(f"ValueError: {err}")

# %% [markdown]
# ## Hand-designed kernels on the photo
#
# Before networks learned kernels, image processing designed them:
#
# - **Sobel x** weighs the right column against the left one (with the middle row counted twice): it
#   responds to *vertical* edges, where brightness changes along $x$. **Sobel y** is its transpose and
#   responds to horizontal edges. Together they estimate the image gradient, whose length
#   $\sqrt{g_x^2 + g_y^2}$ is an edge map.
# - The **Laplacian** (the kernel of the tiny example) approximates the second derivative
#   $\partial^2_x + \partial^2_y$: zero on flat areas and ramps, strong on thin lines and corners.
# - A **box blur** averages a $5 \times 5$ neighbourhood: all weights $1/25$, sum one.
#
# Every kernel but the blur sums to zero, so flat regions give zero: these are *signed* feature maps,
# drawn red for positive and blue for negative responses. We use no padding: zeros around a photo that is
# bright at its border would create a false edge all along the frame.

# %%
sobel_x = torch.tensor([[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]])
kernels = {"Sobel x": sobel_x, "Sobel y": sobel_x.T, "Laplacian": plus,
           "box blur 5×5": torch.full((5, 5), 1 / 25)}
fig = viz.kernel_grid(list(kernels.values()), titles=list(kernels), ncols=4, size=1.8)

# %%
responses = {name: conv2d_by_hand(gray, kernel[None, None])[0, 0] for name, kernel in kernels.items()}
responses["edges √(gx²+gy²)"] = (responses["Sobel x"] ** 2 + responses["Sobel y"] ** 2).sqrt()
responses["grey photo"] = gray[0, 0]
for name, response in responses.items():
    print(f"{name:<16} {str(tuple(response.shape)):>11}  min {response.min():+6.2f}  max {response.max():+6.2f}")
signed_names, unsigned_names = list(responses)[:3], list(responses)[3:]
fig = viz.feature_maps([responses[n] for n in signed_names], titles=signed_names, ncols=3, size=3.2)

# %%
fig = viz.feature_maps([responses[n] for n in unsigned_names], titles=unsigned_names, ncols=3, size=3.2,
                       signed=False)

# %% [markdown]
# The roofs of the pavilion are horizontal lines: bright in Sobel y, nearly absent in Sobel x, which in
# turn picks the pillars and the tree trunks. The Laplacian lights up fine texture (foliage, roof tiles)
# and ignores the smooth sky; the blur keeps the shapes and loses the detail.
#
# ## Pooling: max and average
#
# A pooling layer slides a window too, but has no weights: it keeps the **maximum** (max pooling) or the
# **mean** (average pooling) of each window, channel by channel. With window and stride $k$ it divides
# height and width by $k$. Max pooling reports "this feature is present somewhere in the window";
# average pooling reports "how much of it there is on average". Our max pooling pads with $-\infty$, which
# never wins a maximum:

# %%
torch.manual_seed(0)
small = torch.randint(0, 10, (1, 1, 4, 4)).float()
print(small[0, 0])
print("max 2×2:", max_pool2d_by_hand(small, 2)[0, 0].tolist())
print("avg 2×2:", F.avg_pool2d(small, 2)[0, 0].tolist())
pool_check = compare("max pool vs nn.MaxPool2d", max_pool2d_by_hand(photo, 3, 2, 1), nn.MaxPool2d(3, 2, 1)(photo))

# %% [markdown]
# On the edge map, a $k \times k$ max pool keeps the strongest edge of each window, so a thin line
# survives at full strength; the average dilutes it among the flat pixels around it. Both make the
# output less sensitive to small shifts: moving the photo by one pixel changes the pooled maps much less
# than the raw edge map. We measure the change as the mean absolute difference relative to the mean
# response. The figure draws both pooled maps on the same grey scale.

# %%
edges = responses["edges √(gx²+gy²)"][None, None]
poolers = {"no pooling": lambda t: t, f"max {cfg.pool}×{cfg.pool}": lambda t: max_pool2d_by_hand(t, cfg.pool),
           f"avg {cfg.pool}×{cfg.pool}": lambda t: F.avg_pool2d(t, cfg.pool)}


def shift_sensitivity(feature: torch.Tensor, pool) -> float:
    """Relative change of the pooled map when the input moves one pixel to the left."""
    before, after = pool(feature[..., :-1]), pool(feature[..., 1:])
    return ((before - after).abs().mean() / before.abs().mean()).item()


pooled = {}
print(f"{'':<12} {'shape':>12} {'peak':>6} {'1-px shift changes':>20}")
for name, pool in poolers.items():
    pooled[name] = pool(edges)[0, 0]
    change = shift_sensitivity(edges, pool)
    print(f"{name:<12} {str(tuple(pooled[name].shape)):>12} {pooled[name].max().item():6.2f} {change:20.1%}")
    glue(f"day07_shift_{name.split()[0]}", change)
glue("day07_peak_raw", edges.max().item())
glue("day07_peak_max", pooled[f"max {cfg.pool}×{cfg.pool}"].max().item())
glue("day07_peak_avg", pooled[f"avg {cfg.pool}×{cfg.pool}"].max().item())
fig = viz.feature_maps(list(pooled.values())[1:], titles=list(pooled)[1:], ncols=2, size=3.6, signed=False,
                       shared_scale=True)

# %% [markdown]
# A one-pixel shift changes the raw edge map by {glue:text}`day07_shift_no:.0%` but the max-pooled map by
# only {glue:text}`day07_shift_max:.0%` (average pooling: {glue:text}`day07_shift_avg:.0%`). The
# strongest edge keeps its value {glue:text}`day07_peak_max:.2f` under max pooling and drops to
# {glue:text}`day07_peak_avg:.2f` under average pooling. CNNs for classification mostly use max pooling
# between convolutions, and a global average at the end.
#
# ## Shapes through a LeNet-style network
#
# Stacking convolutions and pooling shrinks the maps while the number of channels grows; the first fully
# connected layer must know how many numbers come out of the last pooling. The output-size formula tells
# us before we run anything. Here is the network day 09 trains on CIFAR-10 (3×32×32 images), with each
# shape computed by the formula and checked against a real forward pass:

# %%
lenet = nn.Sequential(
    nn.Conv2d(3, 6, kernel_size=5), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(6, 16, kernel_size=5), nn.ReLU(), nn.MaxPool2d(2),
    nn.Flatten(), nn.Linear(16 * 5 * 5, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10),
)


def pair(value: int | tuple[int, int]) -> tuple[int, int]:
    return value if isinstance(value, tuple) else (value, value)


def predicted_shape(layer: nn.Module, shape: tuple[int, ...]) -> tuple[int, ...]:
    """The output shape (without batch axis) that the formula predicts for one layer."""
    if isinstance(layer, (nn.Conv2d, nn.MaxPool2d)):
        kernel, stride, padding = pair(layer.kernel_size), pair(layer.stride), pair(layer.padding)
        dilation = pair(layer.dilation)
        channels = layer.out_channels if isinstance(layer, nn.Conv2d) else shape[0]
        return (channels, *(conv_output_size(n, k, s, p, d) for n, k, s, p, d
                            in zip(shape[1:], kernel, stride, padding, dilation, strict=True)))
    if isinstance(layer, nn.Flatten):
        return (int(np.prod(shape)),)
    if isinstance(layer, nn.Linear):
        return (layer.out_features,)
    return shape


def describe(layer: nn.Module) -> str:
    """A short name: Conv2d 3→6 k5, MaxPool2d k2 s2, Linear 400→120..."""
    if isinstance(layer, nn.Conv2d):
        return f"Conv2d {layer.in_channels}→{layer.out_channels} k{layer.kernel_size[0]} s{layer.stride[0]}"
    if isinstance(layer, nn.MaxPool2d):
        return f"MaxPool2d k{layer.kernel_size} s{layer.stride}"
    if isinstance(layer, nn.Linear):
        return f"Linear {layer.in_features}→{layer.out_features}"
    return type(layer).__name__


shape, x = (3, 32, 32), torch.zeros(1, 3, 32, 32)
print(f"{'layer':<20} {'formula':>12} {'actual':>12} {'params':>7}")
print(f"{'input':<20} {str(shape):>12} {str(tuple(x.shape[1:])):>12}")
for layer in lenet:
    shape, x = predicted_shape(layer, shape), layer(x)
    params = sum(p.numel() for p in layer.parameters())
    assert shape == tuple(x.shape[1:]), (layer, shape, x.shape)
    print(f"{describe(layer):<20} {str(shape):>12} {str(tuple(x.shape[1:])):>12} {params:>7,}")
total = sum(p.numel() for p in lenet.parameters())
conv_params = sum(p.numel() for layer in lenet if isinstance(layer, nn.Conv2d) for p in layer.parameters())
glue("day07_lenet_flat", 16 * 5 * 5)
glue("day07_lenet_params", total)
glue("day07_lenet_conv_share", conv_params / total)
print(f"total parameters {total:,}; in the two convolutions {conv_params:,} ({conv_params / total:.1%})")

# %% [markdown]
# Each 5×5 convolution removes 4 pixels (32 → 28, 14 → 10), each 2×2 pooling halves the size, and the
# last pooling hands {glue:text}`day07_lenet_flat` numbers to the first linear layer. The two
# convolutions hold only {glue:text}`day07_lenet_conv_share:.1%` of the
# {glue:text}`day07_lenet_params` parameters: sharing one kernel across all positions is what makes
# convolutions cheap.
#
# ## Random kernels vs designed ones
#
# A freshly initialised `nn.Conv2d` has random kernels (uniform in $\pm 1/\sqrt{C_{in} k^2}$ by default).
# Here are the kernels of a random layer with 3 input channels, drawn as small colour images (each
# rescaled to $[0, 1]$), and its feature maps on the colour photo:

# %%
torch.manual_seed(cfg.seed)
random_layer = nn.Conv2d(3, cfg.random_channels, cfg.random_kernel, padding=cfg.random_kernel // 2)
with torch.no_grad():
    random_maps = random_layer(photo)
    compare("by hand vs nn.Conv2d", conv2d_by_hand(photo, random_layer.weight, random_layer.bias,
                                                   padding=cfg.random_kernel // 2), random_maps,
            atol=1e-5, show_diff=False)
fig = viz.kernel_grid(random_layer.weight, titles=[f"kernel {i}" for i in range(cfg.random_channels)],
                      size=1.2)

# %%
fig = viz.feature_maps(random_maps, titles=[f"map {i}" for i in range(cfg.random_channels)], size=2.4)

# %% [markdown]
# Most random maps look like the photo itself, in positive or negative: the weights of a random kernel
# do not sum to zero, so it computes mostly a weighted local average of the brightness (a blur), plus a
# little random edge response. The correlation between each map and the grey
# photo says it in numbers; for contrast, the Sobel x response is uncorrelated with the photo, because it
# sees only changes.

# %%
def correlation(a: torch.Tensor, b: torch.Tensor) -> float:
    """Pearson correlation between two maps of the same shape."""
    a, b = a.flatten() - a.mean(), b.flatten() - b.mean()
    return (a @ b / (a.norm() * b.norm())).item()


random_corr = [correlation(random_maps[0, i], gray[0, 0]) for i in range(cfg.random_channels)]
sobel_corr = correlation(responses["Sobel x"], gray[0, 0, 1:-1, 1:-1])  # valid output: 1 pixel smaller
glue("day07_random_corr", float(np.mean(np.abs(random_corr))))
glue("day07_sobel_corr", abs(sobel_corr))
print("random maps vs grey photo:", " ".join(f"{c:+.2f}" for c in random_corr))
print(f"Sobel x vs grey photo: {sobel_corr:+.2f}")

# %% [markdown]
# The random maps have a mean absolute correlation of {glue:text}`day07_random_corr:.2f` with the grey
# photo, the Sobel response {glue:text}`day07_sobel_corr:.2f`. Training (day 09) turns random kernels into
# detectors of their own: in a trained first layer you typically find oriented edge detectors like Sobel,
# and colour-contrast blobs. Deeper layers combine these maps into textures, parts and objects.
#
# ## Exercises
#
# ````{exercise}
# :label: day07-receptive-field
# The *receptive field* of an output pixel is the patch of input pixels it depends on. What is it for
# $L$ stacked 3×3 convolutions with stride 1? Check your answer for $L = 1, 2, 3$ with autograd: take the
# gradient of the centre output pixel with respect to the input and measure the non-zero region. Why do
# VGG-style networks stack two 3×3 convolutions instead of one 5×5?
# ````
#
# ````{solution} day07-receptive-field
# :class: dropdown
# Each layer adds one pixel on each side, so the field is $(2L + 1) \times (2L + 1)$: 3, 5, 7.
# ```python
# for depth in (1, 2, 3):
#     stack = nn.Sequential(*[nn.Conv2d(1, 1, 3, padding=1) for _ in range(depth)])
#     probe = torch.zeros(1, 1, 15, 15, requires_grad=True)
#     stack(probe)[0, 0, 7, 7].backward()
#     touched = probe.grad[0, 0].abs().sum(1).nonzero()
#     print(depth, (touched.max() - touched.min() + 1).item())
# ```
# Two 3×3 layers see 5×5 pixels with $2 \cdot 9 = 18$ weights per pair of channels instead of 25, and
# put a non-linearity in between.
# ````
#
# ```{exercise}
# :label: day07-parameters
# Write `conv_parameters(c_in, c_out, kernel, bias)`, the number of parameters of
# `nn.Conv2d(c_in, c_out, kernel, bias=bias)`, as a formula; the cell checks it against real layers. How
# many parameters would a fully connected layer need to map a 3×32×32 image to 64×32×32 outputs, the
# output shape of `nn.Conv2d(3, 64, 3, padding=1)`?
# ```

# %% tags=["hide-input"]
from helpers.checks import check_function


def conv_parameters(c_in: int, c_out: int, kernel: int, bias: bool = True) -> int:
    """Weights and biases of nn.Conv2d(c_in, c_out, kernel, bias=bias)."""
    ### BEGIN SOLUTION
    return c_out * (c_in * kernel * kernel + int(bias))
    ### END SOLUTION


layer_shapes = [(3, 64, 3, True), (1, 6, 5, True), (6, 16, 5, False), (64, 128, 1, True)]
check_function("conv_parameters", conv_parameters,
               [(shape, sum(p.numel() for p in nn.Conv2d(*shape[:3], bias=shape[3]).parameters()))
                for shape in layer_shapes])

# %% [markdown]
# ```{solution} day07-parameters
# :class: dropdown
# One $C_{in} \times k \times k$ kernel per output channel, plus one bias each: $C_{out}(C_{in} k^2 + 1)$,
# which is 1792 for `nn.Conv2d(3, 64, 3)` whatever the image size. The fully connected layer needs
# $(3 \cdot 32 \cdot 32) \cdot (64 \cdot 32 \cdot 32) + 64 \cdot 32 \cdot 32$, about 201 million
# parameters, because it shares nothing between positions.
# ```
#
# ```{exercise}
# :label: day07-dilation
# A 3×3 kernel with dilation 2: how many input pixels does it span, how many weights does it have, and
# what padding keeps a 32×32 input at 32×32 (stride 1)? Check with `conv_output_size` and `nn.Conv2d`.
# What is the receptive field of three stacked 3×3 convolutions with dilations 1, 2 and 4?
# ```
#
# ```{solution} day07-dilation
# :class: dropdown
# It spans $d(k-1)+1 = 5$ pixels per axis with 9 weights; "same" output needs $p = d(k-1)/2 = 2$:
# `conv_output_size(32, 3, padding=2, dilation=2)` is 32, as is the last dimension of
# `nn.Conv2d(1, 1, 3, padding=2, dilation=2)(torch.zeros(1, 1, 32, 32))`. Each layer adds $d(k-1)$ to the
# field: $1 + 2 + 4 + 8 = 15$, so 15×15 from 27 weights. The field grows exponentially with depth when
# the dilations double (the idea behind WaveNet and DeepLab's atrous convolutions).
# ```
#
# ```{exercise}
# :label: day07-avg-pool
# Write `avg_pool2d_by_hand(x, kernel, stride=None, padding=0)` in the style of `max_pool2d_by_hand`
# (square windows are enough); the cell checks it against `F.avg_pool2d`, with and without padding. With
# padding, torch's default `count_include_pad=True` divides by $k^2$ even at the border: what would change
# with `count_include_pad=False`?
# ```

# %% tags=["hide-input"]
from helpers.checks import check_value
from helpers.conv import pad2d


def avg_pool2d_by_hand(x: torch.Tensor, kernel: int, stride: int | None = None,
                       padding: int = 0) -> torch.Tensor:
    """Average pooling over square windows, equal to F.avg_pool2d(x, kernel, stride, padding)."""
    ### BEGIN SOLUTION
    step = stride or kernel
    rows, cols = (conv_output_size(n, kernel, step, padding) for n in x.shape[2:])
    zero_padded = pad2d(x, padding)
    window_sum = torch.zeros(*x.shape[:2], rows, cols)
    for top in range(kernel):
        for left in range(kernel):
            window_sum += zero_padded[..., top:top + step * (rows - 1) + 1:step,
                                      left:left + step * (cols - 1) + 1:step]
    return window_sum / kernel**2
    ### END SOLUTION


torch.manual_seed(0)
pool_input = torch.randn(2, 3, 11, 9)
for kernel, stride, padding in [(2, None, 0), (3, 2, 1), (4, 1, 2)]:
    check_value(f"avg pool k={kernel} s={stride} p={padding}",
                avg_pool2d_by_hand(pool_input, kernel, stride, padding),
                F.avg_pool2d(pool_input, kernel, stride, padding))

# %% [markdown]
# ```{solution} day07-avg-pool
# :class: dropdown
# The solution is in the cell above: pad with zeros, add up the $k^2$ strided slices of the padded input,
# divide by $k^2$. With `count_include_pad=False`, a window at the border divides by the number of real
# pixels it covers, so the zeros of the padding no longer darken the border: divide the sum by the same
# sum computed on `pad2d(torch.ones_like(x), padding)` instead of by $k^2$.
# ```

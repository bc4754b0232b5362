# %% [markdown]
# # Day 21: The Transformer from scratch
#
# Days 18-20 bolted attention onto a recurrent network. The Transformer keeps the attention and drops the
# recurrence: every token looks at every other token in one matrix product, and a stack of such layers,
# each with a small feed-forward network, residual connections and LayerNorm, is the whole model. Today
# we write every piece by hand, prove each one equal to its PyTorch counterpart, and train a tiny
# Transformer on a toy task whose attention we can read.
#
# **Objectives**
# - write scaled dot-product attention with padding and causal masks, and see numerically why the
#   scores are divided by $\sqrt{d_k}$;
# - write multi-head attention and check it against `nn.MultiheadAttention` to $10^{-6}$, outputs and
#   attention weights;
# - build sinusoidal positional encodings, add them along the right axis, and check that a shift of
#   position is a rotation;
# - assemble encoder and decoder layers (residuals, LayerNorm before or after) and check them against
#   `nn.TransformerEncoderLayer` and `nn.TransformerDecoderLayer`;
# - train a two-layer Transformer to reverse digits and explain its attention heads.
#
# **Profiles.** All data is generated, so every profile is offline. Every profile checks the layers on
# the same small random tensors; `ci` trains a two-layer model with two heads on short sequences in
# seconds, `laptop` and `gpu` train wider models with more heads on longer sequences (sizes in
# `helpers/days/day21.py`). The source articles describe these pieces without training them, so there is
# no seed figure to chase today.

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

cfg = setup("day21", PROFILE)

# %%
import math
import warnings

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader

from helpers import Trainer, accuracy, compare, count_parameters, glue, tensor_dataset, viz

warnings.filterwarnings("ignore", message="IProgress not found")  # tqdm's notice names a file path

if cfg.num_threads:  # tiny matrices: a second thread costs more in synchronisation than it saves
    torch.set_num_threads(cfg.num_threads)

# %% [markdown]
# ## 1. Scaled dot-product attention
#
# A query $q_i$ is compared with every key $k_j$ by a dot product; a softmax turns the scores of one
# query into weights that sum to 1, and the output is the weighted mean of the values. For all queries at
# once, with $Q \in \mathbb{R}^{T\times d_k}$, $K \in \mathbb{R}^{S\times d_k}$,
# $V \in \mathbb{R}^{S\times d_v}$:
#
# $$
# \mathrm{Attention}(Q, K, V) = \mathrm{softmax}\!\left(\frac{QK^\top}{\sqrt{d_k}} + M\right) V ,
# $$
#
# where the softmax runs along each row (over the $S$ keys) and $M \in \mathbb{R}^{T\times S}$ is an
# *additive mask*: $0$ where query $i$ may look at key $j$, $-\infty$ where it may not. Since
# $e^{-\infty} = 0$, a forbidden key gets exactly zero weight and the other weights still sum to 1.
# The same code works with any number of leading batch axes.

# %%
def scaled_dot_product_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                                 mask: torch.Tensor | None = None, dropout_p: float = 0.0,
                                 training: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """softmax(q kᵀ/√d_k + mask) v over the last two axes; returns (output, weights)."""
    if q.size(-1) != k.size(-1):
        raise ValueError(f"queries have d_k={q.size(-1)} but keys have d_k={k.size(-1)}")
    if k.size(-2) != v.size(-2):
        raise ValueError(f"{k.size(-2)} keys but {v.size(-2)} values")
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))
    if mask is not None:
        scores = scores + mask
    weights = scores.softmax(dim=-1)
    return F.dropout(weights, dropout_p, training) @ v, weights


q, k, v = torch.randn(2, 5, 8), torch.randn(2, 7, 8), torch.randn(2, 7, 8)
output, weights = scaled_dot_product_attention(q, k, v)
print("output", tuple(output.shape), "weights", tuple(weights.shape),
      "| rows sum to 1:", torch.allclose(weights.sum(-1), torch.ones(2, 5)))
sdpa_check = compare("mine vs F.sdpa", output, F.scaled_dot_product_attention(q, k, v))

# %% [markdown]
# ### Why divide by $\sqrt{d_k}$
#
# Take $q$ and $k$ with independent components of mean 0 and variance 1 (roughly what a freshly
# initialised layer produces). Then
#
# $$
# \mathrm{Var}(q\cdot k) = \sum_{l=1}^{d_k} \mathrm{Var}(q_l k_l)
# = \sum_{l=1}^{d_k} \mathbb{E}[q_l^2]\,\mathbb{E}[k_l^2] = d_k ,
# $$
#
# so the raw scores spread like $\sqrt{d_k}$. Large logits *saturate* the softmax: one weight goes to 1,
# the rest to 0, and the softmax's Jacobian $J = \mathrm{diag}(p) - pp^\top$ goes to zero with them, so
# almost no gradient reaches the queries and keys. Dividing the scores by $\sqrt{d_k}$ brings their
# variance back to 1 whatever the head size. The table measures it on 2,000 random queries, each
# against 16 random keys: the standard deviation of the scores, the mean of the largest weight, and the
# mean Frobenius norm of $J$ (the size of the gradient that flows through the softmax).

# %%
def softmax_statistics(scores: torch.Tensor) -> dict[str, float]:
    """Spread of the scores, mean largest weight and mean ‖diag(p) − ppᵀ‖_F of row-wise softmaxes."""
    p = scores.softmax(dim=-1)
    jacobian = torch.diag_embed(p) - p.unsqueeze(-1) * p.unsqueeze(-2)
    return {"std": scores.std().item(), "max_weight": p.max(dim=-1).values.mean().item(),
            "jacobian": jacobian.flatten(-2).norm(dim=-1).mean().item()}


generator = torch.Generator().manual_seed(0)
saturation = {}
print(f"{'d_k':>5} | {'raw: std':>8} {'max p':>6} {'|J|':>6} | {'scaled: std':>11} {'max p':>6} {'|J|':>6}")
for d_k in (4, 16, 64, 256, 1024):
    queries = torch.randn(2000, 1, d_k, generator=generator)
    keys = torch.randn(2000, 16, d_k, generator=generator)
    raw_scores = (queries @ keys.transpose(-2, -1)).squeeze(1)
    raw, scaled = softmax_statistics(raw_scores), softmax_statistics(raw_scores / math.sqrt(d_k))
    saturation[d_k] = (raw, scaled)
    print(f"{d_k:>5} | {raw['std']:>8.2f} {raw['max_weight']:>6.3f} {raw['jacobian']:>6.3f} | "
          f"{scaled['std']:>11.2f} {scaled['max_weight']:>6.3f} {scaled['jacobian']:>6.3f}")

for prefix, stats in zip(("raw", "scaled"), saturation[1024], strict=True):
    glue(f"day21_{prefix}_max_weight_1024", stats["max_weight"])
    glue(f"day21_{prefix}_jacobian_1024", stats["jacobian"])

# %%
dims = list(saturation)
fig, axes = plt.subplots(1, 2, figsize=(8, 2.8))
for ax, key, label in ((axes[0], "max_weight", "mean largest weight"),
                       (axes[1], "jacobian", "mean ‖J‖ of the softmax")):
    ax.plot(dims, [saturation[d][0][key] for d in dims], marker="o", label="qkᵀ (raw)")
    ax.plot(dims, [saturation[d][1][key] for d in dims], marker="o", label="qkᵀ/√d_k")
    ax.set(xscale="log", xlabel="d_k", ylabel=label)
    ax.set_xticks(dims, [str(d) for d in dims])
    ax.grid(alpha=0.3)
axes[0].legend()
fig.tight_layout()

# %% [markdown]
# Without scaling, at $d_k = 1024$ the largest weight averages {glue:text}`day21_raw_max_weight_1024:.3f`
# (almost one-hot) and the softmax's Jacobian shrinks to {glue:text}`day21_raw_jacobian_1024:.3f`; with
# scaling the numbers stay at {glue:text}`day21_scaled_max_weight_1024:.3f` and
# {glue:text}`day21_scaled_jacobian_1024:.3f`, the same as for a small head.
#
# ### Masks
#
# Two masks cover almost every use:
#
# - a **padding mask** hides the keys that are padding. Sequences in a batch have different lengths and
#   are padded to the longest; a real token must not read a pad. It is a boolean $(B, S)$ tensor, `True`
#   at pads (PyTorch's `key_padding_mask` convention), the same for every query;
# - a **causal mask** stops position $i$ from reading positions $j > i$, the future a decoder must
#   predict. It is the boolean upper triangle of a $T\times T$ matrix, the same for every sample.
#
# Both become additive masks ($-\infty$ where `True`) and broadcast together to $(B, 1, T, S)$: one
# mask per sample, shared by the heads.

# %%
def padding_mask(lengths: torch.Tensor, max_len: int) -> torch.Tensor:
    """(B, max_len) boolean mask, True at the pad positions of sequences of the given lengths."""
    if (lengths > max_len).any() or (lengths < 1).any():
        raise ValueError(f"lengths must lie in 1..{max_len}, got {lengths.tolist()}")
    return torch.arange(max_len) >= lengths[:, None]


def causal_mask(size: int) -> torch.Tensor:
    """(size, size) boolean mask, True above the diagonal: position i may not see j > i."""
    return torch.ones(size, size, dtype=torch.bool).triu(diagonal=1)


def additive_mask(key_padding_mask: torch.Tensor | None = None,
                  attn_mask: torch.Tensor | None = None) -> torch.Tensor | None:
    """Boolean masks (True = forbidden) or float ones, as one additive mask broadcastable to (B,1,T,S)."""
    def to_float(mask: torch.Tensor) -> torch.Tensor:
        if mask.dtype == torch.bool:
            return torch.zeros(mask.shape, device=mask.device).masked_fill(mask, float("-inf"))
        return mask

    total = None
    if key_padding_mask is not None:
        if key_padding_mask.ndim != 2:
            raise ValueError(f"key_padding_mask must be (batch, keys), got {tuple(key_padding_mask.shape)}")
        total = to_float(key_padding_mask)[:, None, None, :]   # (B, 1, 1, S)
    if attn_mask is not None:
        if attn_mask.ndim != 2:
            raise ValueError(f"attn_mask must be (queries, keys), got {tuple(attn_mask.shape)}")
        total = to_float(attn_mask) if total is None else total + to_float(attn_mask)
    return total


lengths = torch.tensor([6, 4])
pads = padding_mask(lengths, 6)
print("padding mask (True = pad):\n", pads.int())
print("causal mask (True = future):\n", causal_mask(6).int())
print("additive, sample 1, causal + padding:\n", additive_mask(pads, causal_mask(6))[1, 0])

# %%
def show_masks(masks: dict[str, torch.Tensor]) -> plt.Figure:
    """Additive masks side by side: allowed (0) light, forbidden (−inf) dark."""
    fig, axes = plt.subplots(1, len(masks), figsize=(2.6 * len(masks), 2.8))
    for ax, (title, mask) in zip(axes, masks.items(), strict=True):
        ax.imshow(torch.isinf(mask).float(), cmap="Greys", vmin=0, vmax=1.4)
        size = mask.shape[-1]
        ax.set_xticks(range(size))
        ax.set_yticks(range(mask.shape[-2]))
        ax.set(title=title, xlabel="key j", ylabel="query i")
        ax.title.set_fontsize(9)
    fig.tight_layout()
    return fig


fig = show_masks({
    "padding (sample 1)": additive_mask(pads)[1, 0].expand(6, 6),
    "causal": additive_mask(attn_mask=causal_mask(6)),
    "causal + padding (sample 1)": additive_mask(pads, causal_mask(6))[1, 0],
})

# %% [markdown]
# The padding mask blanks whole *columns* (keys 4 and 5 of the second sample are pads); the causal mask
# blanks the upper triangle; their sum does both. The weights that come out of the softmax are exactly zero
# where the mask is dark, and each row still sums to 1:

# %%
tokens_demo = ["the", "cat", "sat", "down", "<pad>", "<pad>"]
x_demo = torch.randn(2, 6, 8, generator=generator)
_, weights_demo = scaled_dot_product_attention(x_demo, x_demo, x_demo,
                                               additive_mask(pads, causal_mask(6)).squeeze(1))
print("row sums:", weights_demo[1].sum(-1).round(decimals=4).tolist())
fig = viz.attention_heatmap(weights_demo[1], tokens_demo, title="causal + padding, sample 1")

# %% [markdown]
# One trap: a query whose every key is masked (a row of $-\infty$) gets a softmax of $0/0$ = NaN. It
# happens with left padding under a causal mask, for the pad queries; the usual cures are to pad on the
# right or to overwrite those rows, which nobody reads, with zeros.
#
# ## 2. Multi-head attention
#
# One attention compares tokens in one way. *Multi-head* attention runs $h$ attentions in parallel, each
# in its own $d_k = d_{model}/h$ dimensional subspace, and mixes their outputs with one more matrix:
#
# $$
# \mathrm{head}_j = \mathrm{Attention}\big(X_q W_j^Q,\; X_{kv} W_j^K,\; X_{kv} W_j^V\big),\qquad
# \mathrm{MHA} = \big[\mathrm{head}_1;\dots;\mathrm{head}_h\big]\, W^O ,
# $$
#
# with $W_j^Q, W_j^K, W_j^V \in \mathbb{R}^{d_{model}\times d_k}$ and $W^O \in \mathbb{R}^{d_{model}\times
# d_{model}}$. *Self-attention* has $X_q = X_{kv}$; *cross-attention* takes the queries from the decoder
# and the keys and values from the encoder. In code, the $h$ projections of size $d_k$ are one
# `nn.Linear(d_model, d_model)` whose output is cut into $h$ pieces: reshape $(B, T, d_{model})$ to
# $(B, T, h, d_k)$ and swap the axes to $(B, h, T, d_k)$, so that the batch *and* the heads are leading
# axes of one batched matrix product.

# %%
class MultiHeadAttention(nn.Module):
    """Multi-head attention with separate Q/K/V projections; returns (output, per-head weights)."""

    def __init__(self, d_model: int, num_heads: int, dropout: float = 0.0) -> None:
        super().__init__()
        if d_model % num_heads:
            raise ValueError(f"d_model={d_model} is not divisible by num_heads={num_heads}")
        self.num_heads, self.d_k, self.dropout = num_heads, d_model // num_heads, dropout
        self.q_proj = nn.Linear(d_model, d_model)
        self.k_proj = nn.Linear(d_model, d_model)
        self.v_proj = nn.Linear(d_model, d_model)
        self.out_proj = nn.Linear(d_model, d_model)

    def split_heads(self, x: torch.Tensor) -> torch.Tensor:
        """(B, T, d_model) -> (B, h, T, d_k)."""
        batch, length, _ = x.shape
        return x.view(batch, length, self.num_heads, self.d_k).transpose(1, 2)

    def forward(self, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
                key_padding_mask: torch.Tensor | None = None,
                attn_mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """query (B, T, d), key and value (B, S, d); masks as in ``additive_mask``.

        Returns the output (B, T, d) and the attention weights (B, h, T, S).
        """
        q, k, v = (self.split_heads(proj(x)) for proj, x in
                   ((self.q_proj, query), (self.k_proj, key), (self.v_proj, value)))
        heads, weights = scaled_dot_product_attention(q, k, v, additive_mask(key_padding_mask, attn_mask),
                                                      self.dropout, self.training)
        batch, _, length, _ = heads.shape
        concatenated = heads.transpose(1, 2).reshape(batch, length, self.num_heads * self.d_k)
        return self.out_proj(concatenated), weights

# %% [markdown]
# ### Equal to `nn.MultiheadAttention`
#
# PyTorch stores the three input projections as one $(3d_{model}, d_{model})$ matrix `in_proj_weight`
# (and one `in_proj_bias`): rows $[0, d)$ are $W^Q$, $[d, 2d)$ are $W^K$, $[2d, 3d)$ are $W^V$, in
# `nn.Linear`'s (out, in) layout. Copy them into ours with `chunk(3)`, copy `out_proj` as it is, and the
# two modules must agree on the same inputs. The converter below also renames the decoder's
# `multihead_attn` to our `cross_attn`, so it serves the layers of section 4 as well.

# %%
def from_torch_state(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """PyTorch Transformer weights under our names: ``in_proj_*`` split into ``q/k/v_proj``."""
    converted = {}
    for name, tensor in state.items():
        name = name.replace("multihead_attn.", "cross_attn.")
        prefix, found, leaf = name.rpartition("in_proj_")
        if found:
            for part, chunk in zip("qkv", tensor.chunk(3), strict=True):
                converted[f"{prefix}{part}_proj.{leaf}"] = chunk.clone()
        else:
            converted[name] = tensor.clone()
    return converted


d_model, num_heads = cfg.check_d_model, cfg.check_heads
reference_mha = nn.MultiheadAttention(d_model, num_heads, batch_first=True)
my_mha = MultiHeadAttention(d_model, num_heads)
my_mha.load_state_dict(from_torch_state(reference_mha.state_dict()))  # strict: every weight is copied
print(sorted(from_torch_state(reference_mha.state_dict())))

# %% [markdown]
# Four cases: no mask, a padding mask (three sequences of lengths 7, 5 and 3 padded to 7), a causal mask,
# and both. `average_attn_weights=False` makes PyTorch return the weights of every head, $(B, h, T, S)$,
# instead of their mean.

# %%
x_check = torch.randn(3, 7, d_model, generator=generator)
check_pads = padding_mask(torch.tensor([7, 5, 3]), 7)
cases = {"no mask": {}, "padding mask": {"key_padding_mask": check_pads},
         "causal mask": {"attn_mask": causal_mask(7)},
         "causal+padding": {"key_padding_mask": check_pads, "attn_mask": causal_mask(7)}}
mha_diffs = []
for case, masks in cases.items():
    mine_out, mine_weights = my_mha(x_check, x_check, x_check, **masks)
    ref_out, ref_weights = reference_mha(x_check, x_check, x_check, need_weights=True,
                                         average_attn_weights=False, **masks)
    for what, mine, ref in (("output", mine_out, ref_out), ("weights", mine_weights, ref_weights)):
        mha_diffs.append(compare(f"{what}, {case}", mine, ref, atol=1e-6).max_diff)
mha_max_diff = max(mha_diffs)
glue("day21_mha_max_diff_1e6", mha_max_diff / 1e-6)  # in units of 1e-6: glue rounds to 4 decimals
glue("day21_mha_checks", len(mha_diffs))
print(f"largest difference over the {len(mha_diffs)} checks: {mha_max_diff:.1e}")

# %% [markdown]
# All {glue:text}`day21_mha_checks` comparisons agree within $10^{-6}$ (largest difference
# {glue:text}`day21_mha_max_diff_1e6:.2f` $\times 10^{-6}$): our module *is* `nn.MultiheadAttention`,
# written out. Two more facts worth checking in code: the number of parameters,
# $4d_{model}^2 + 4d_{model}$ (three input projections and one output projection, each with its bias,
# whatever $h$), and the absence of any notion of order: permuting the input tokens permutes the outputs
# the same way and changes nothing else.

# %%
trainable, _ = count_parameters(my_mha)
print(f"parameters: mine {trainable}, torch {count_parameters(reference_mha)[0]}, "
      f"4d²+4d = {4 * d_model**2 + 4 * d_model}")
permutation = torch.randperm(7, generator=generator)
permuted_out, _ = my_mha(x_check[:, permutation], x_check[:, permutation], x_check[:, permutation])
permutation_check = compare("MHA(x[perm]) vs MHA(x)[perm]", permuted_out,
                            my_mha(x_check, x_check, x_check)[0][:, permutation])

# %% [markdown]
# ## 3. Sinusoidal positional encoding
#
# Attention is *permutation-equivariant*, as the last check showed: "dog bites man" and "man bites dog"
# give the same set of outputs. The order must come in with the input. The original Transformer adds to
# the embedding of the token at position $pos$ a fixed vector
#
# $$
# PE_{pos,\,2i} = \sin(pos\,\omega_i),\qquad PE_{pos,\,2i+1} = \cos(pos\,\omega_i),\qquad
# \omega_i = 10000^{-2i/d_{model}},
# $$
#
# one sine-cosine pair per frequency, the frequencies falling geometrically from 1 to $1/10000$ radian
# per position: fast pairs tell neighbours apart, slow ones give the coarse place in a long text.

# %%
def sinusoidal_encoding(num_positions: int, d_model: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """(num_positions, d_model) matrix: sin in even columns, cos in odd ones (computed in float64)."""
    if d_model % 2:
        raise ValueError(f"d_model must be even for sine-cosine pairs, got {d_model}")
    positions = torch.arange(num_positions, dtype=torch.float64)[:, None]
    frequencies = 10000.0 ** (-torch.arange(0, d_model, 2, dtype=torch.float64) / d_model)
    encoding = torch.zeros(num_positions, d_model, dtype=torch.float64)
    encoding[:, 0::2] = torch.sin(positions * frequencies)
    encoding[:, 1::2] = torch.cos(positions * frequencies)
    return encoding.to(dtype)


class PositionalEncoding(nn.Module):
    """Add sinusoidal encodings along the *sequence* axis of (batch, seq, d_model) inputs."""

    def __init__(self, d_model: int, max_len: int = 512) -> None:
        super().__init__()
        self.register_buffer("pe", sinusoidal_encoding(max_len, d_model))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 3 or x.size(-1) != self.pe.size(1):
            raise ValueError(f"expected (batch, seq, {self.pe.size(1)}), got {tuple(x.shape)}")
        if x.size(1) > self.pe.size(0):
            raise ValueError(f"sequence of {x.size(1)} tokens but max_len={self.pe.size(0)}")
        return x + self.pe[: x.size(1)]          # (T, d) broadcasts over the batch axis

# %%
pe_matrix = sinusoidal_encoding(100, 64)
fig, axes = plt.subplots(1, 2, figsize=(10, 3.4))
image = axes[0].imshow(pe_matrix.T, cmap="RdBu", aspect="auto", vmin=-1, vmax=1)
axes[0].set(xlabel="position", ylabel="dimension", title="PE matrix (d_model = 64), transposed")
fig.colorbar(image, ax=axes[0], fraction=0.046)
image = axes[1].imshow(pe_matrix @ pe_matrix.T, cmap="viridis")
axes[1].set(xlabel="position", ylabel="position", title="PE(p) · PE(p') depends on p' − p only")
fig.colorbar(image, ax=axes[1], fraction=0.046)
fig.tight_layout()

# %% [markdown]
# Left: the low dimensions oscillate fast along the positions; the high ones turn so slowly that over
# 100 positions their sines stay near 0 and their cosines near 1, hence the stripes. Right: the dot
# product of two encodings is $\sum_i \cos\big(\omega_i (p'-p)\big)$, a function of the offset only, so
# the matrix is constant along its diagonals.
#
# ### A shift is a rotation
#
# For each pair $(\sin \omega_i p, \cos \omega_i p)$, the angle-sum formulas give
#
# $$
# \begin{pmatrix} \sin \omega_i (p+k) \\ \cos \omega_i (p+k) \end{pmatrix}
# = \begin{pmatrix} \cos \omega_i k & \sin \omega_i k \\ -\sin \omega_i k & \cos \omega_i k \end{pmatrix}
# \begin{pmatrix} \sin \omega_i p \\ \cos \omega_i p \end{pmatrix},
# $$
#
# so $PE(p+k) = R_k\, PE(p)$ with $R_k$ block-diagonal, made of $2\times 2$ rotations, and independent of
# $p$. "The token $k$ places further on" is therefore a *linear* map of the encoding, one that a query or
# key projection can learn. Checked for every position at once:

# %%
def shift_rotation(offset: int, d_model: int) -> torch.Tensor:
    """Block-diagonal R_k with PE(p + k) = R_k PE(p) for every position p (float64)."""
    angles = offset * 10000.0 ** (-torch.arange(0, d_model, 2, dtype=torch.float64) / d_model)
    blocks = [torch.tensor([[math.cos(a), math.sin(a)], [-math.sin(a), math.cos(a)]], dtype=torch.float64)
              for a in angles.tolist()]
    return torch.block_diag(*blocks)


pe64 = sinusoidal_encoding(200, 64, dtype=torch.float64)
for offset in (1, 5, 50):
    compare(f"PE(p+{offset}) = R_k PE(p)", pe64[offset:], pe64[:-offset] @ shift_rotation(offset, 64).T)

# %% [markdown]
# ### Adding the encoding along the right axis
#
# With `batch_first=True` the input is $(B, T, d_{model})$ and the encoding must vary along axis 1, the
# positions, and be the same for every sample. It is an easy place for a silent bug: broadcasting accepts
# several wrong shapes without complaint. The check below adds the encoding to zeros, so the output *is*
# what was added, and asks the two questions that matter.

# %%
def positional_signal(module: nn.Module, batch: int = 4, seq_len: int = 6, d_model: int = 8) -> dict[str, bool]:
    """What ``module`` adds to zeros of shape (batch, seq_len, d_model), summarised in two answers."""
    added = module(torch.zeros(batch, seq_len, d_model))
    return {"varies along positions": not torch.allclose(added[:, :1], added),
            "same for every sample": torch.allclose(added[:1], added)}


print(positional_signal(PositionalEncoding(8)))

# %% [markdown]
# The summariser of the 2024 article series (digest, Day 21) stored its encoding with shape
# `(max_len, 1, d)`, the layout of a sequence-first model, but fed it batch-first inputs.
# {ref}`day21-pe-bug` asks you to find out what its model saw.
#
# ## 4. LayerNorm, residuals, encoder and decoder layers
#
# **LayerNorm** normalises each token's vector on its own, over its $d$ features, then rescales it with
# learned $\gamma, \beta$:
#
# $$
# \mathrm{LN}(x) = \gamma \odot \frac{x - \mu}{\sqrt{\sigma^2 + \varepsilon}} + \beta,\qquad
# \mu = \frac1d \sum_l x_l,\quad \sigma^2 = \frac1d \sum_l (x_l - \mu)^2 .
# $$
#
# Unlike BatchNorm it uses no batch statistics, so it behaves the same in training and inference and for
# any batch size or sequence length.

# %%
def layer_norm(x: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """LayerNorm over the last axis, with the biased variance (as nn.LayerNorm)."""
    mean = x.mean(dim=-1, keepdim=True)
    variance = x.var(dim=-1, unbiased=False, keepdim=True)
    return gamma * (x - mean) / torch.sqrt(variance + eps) + beta


reference_ln = nn.LayerNorm(d_model)
nn.init.normal_(reference_ln.weight)
nn.init.normal_(reference_ln.bias)
ln_check = compare("layer_norm vs nn.LayerNorm", layer_norm(x_check, reference_ln.weight, reference_ln.bias),
                   reference_ln(x_check))

# %% [markdown]
# An **encoder layer** is two sub-layers, self-attention then a position-wise feed-forward network
# $\mathrm{FFN}(x) = W_2\,\mathrm{ReLU}(W_1 x + b_1) + b_2$ (usually $d_{ff} = 4 d_{model}$), each wrapped
# in a residual connection and a LayerNorm. Where the norm goes is the one design choice:
#
# $$
# \text{post-LN:}\quad x \leftarrow \mathrm{LN}\big(x + \mathrm{Sublayer}(x)\big)
# \qquad\qquad
# \text{pre-LN:}\quad x \leftarrow x + \mathrm{Sublayer}\big(\mathrm{LN}(x)\big)
# $$
#
# Post-LN is the original paper's (and BERT's) layout: every gradient must pass through the norms of
# all the layers above, so deep stacks need a learning-rate warm-up to train. Pre-LN (GPT-2 and most
# LLMs since) leaves an untouched identity path from the input to the output, trains stably, and needs
# one extra LayerNorm after the last layer. A **decoder layer** has three sub-layers: *masked* (causal)
# self-attention, cross-attention whose queries come from the decoder and whose keys and values come from
# the encoder's output (the *memory*), then the FFN.
#
# The attribute names below follow PyTorch's (`linear1`, `norm1`...), so `from_torch_state` can copy
# PyTorch's layers into ours.

# %%
class FeedForwardBlock(nn.Module):
    """The residual FFN sub-layer shared by encoder and decoder layers (ReLU, as PyTorch's default)."""

    def __init__(self, d_model: int, d_ff: int, dropout: float) -> None:
        super().__init__()
        self.linear1, self.linear2 = nn.Linear(d_model, d_ff), nn.Linear(d_ff, d_model)
        self.dropout = nn.Dropout(dropout)

    def feed_forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear2(self.dropout(F.relu(self.linear1(x))))


class EncoderLayer(FeedForwardBlock):
    """Self-attention + FFN, each with a residual and a LayerNorm (post-LN, or pre-LN if norm_first)."""

    def __init__(self, d_model: int, num_heads: int, d_ff: int, dropout: float = 0.0,
                 norm_first: bool = False) -> None:
        super().__init__(d_model, d_ff, dropout)
        self.self_attn = MultiHeadAttention(d_model, num_heads, dropout)
        self.norm1, self.norm2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.dropout1, self.dropout2 = nn.Dropout(dropout), nn.Dropout(dropout)
        self.norm_first = norm_first

    def attend(self, x: torch.Tensor, **masks: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        output, weights = self.self_attn(x, x, x, **masks)
        return self.dropout1(output), weights

    def forward(self, x: torch.Tensor, key_padding_mask: torch.Tensor | None = None,
                attn_mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        masks = {"key_padding_mask": key_padding_mask, "attn_mask": attn_mask}
        if self.norm_first:
            update, weights = self.attend(self.norm1(x), **masks)
            x = x + update
            x = x + self.dropout2(self.feed_forward(self.norm2(x)))
        else:
            update, weights = self.attend(x, **masks)
            x = self.norm1(x + update)
            x = self.norm2(x + self.dropout2(self.feed_forward(x)))
        return x, weights


class DecoderLayer(FeedForwardBlock):
    """Masked self-attention, cross-attention to the memory, FFN; returns (x, self weights, cross weights)."""

    def __init__(self, d_model: int, num_heads: int, d_ff: int, dropout: float = 0.0,
                 norm_first: bool = False) -> None:
        super().__init__(d_model, d_ff, dropout)
        self.self_attn = MultiHeadAttention(d_model, num_heads, dropout)
        self.cross_attn = MultiHeadAttention(d_model, num_heads, dropout)
        self.norm1, self.norm2, self.norm3 = (nn.LayerNorm(d_model) for _ in range(3))
        self.dropout1, self.dropout2, self.dropout3 = (nn.Dropout(dropout) for _ in range(3))
        self.norm_first = norm_first

    def forward(self, x: torch.Tensor, memory: torch.Tensor, tgt_mask: torch.Tensor | None = None,
                tgt_key_padding_mask: torch.Tensor | None = None,
                memory_key_padding_mask: torch.Tensor | None = None,
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        def self_block(h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            out, w = self.self_attn(h, h, h, key_padding_mask=tgt_key_padding_mask, attn_mask=tgt_mask)
            return self.dropout1(out), w

        def cross_block(h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            out, w = self.cross_attn(h, memory, memory, key_padding_mask=memory_key_padding_mask)
            return self.dropout2(out), w

        if self.norm_first:
            update, self_weights = self_block(self.norm1(x))
            x = x + update
            update, cross_weights = cross_block(self.norm2(x))
            x = x + update
            x = x + self.dropout3(self.feed_forward(self.norm3(x)))
        else:
            update, self_weights = self_block(x)
            x = self.norm1(x + update)
            update, cross_weights = cross_block(x)
            x = self.norm2(x + update)
            x = self.norm3(x + self.dropout3(self.feed_forward(x)))
        return x, self_weights, cross_weights

# %% [markdown]
# Both layers against PyTorch's, post-LN and pre-LN, with copied weights and dropout 0. The encoder
# input has a padding mask; the decoder gets 5 target tokens under a causal mask and reads the 7-token
# padded memory. (PyTorch's encoder layer has a fused "fast path" for inference under `torch.no_grad()`;
# outside `no_grad`, as here, it runs the plain computation.)

# %%
memory = x_check
target = torch.randn(3, 5, d_model, generator=generator)
layer_diffs = []
for norm_first in (False, True):
    layout = "pre-LN" if norm_first else "post-LN"
    torch_encoder = nn.TransformerEncoderLayer(d_model, num_heads, cfg.check_d_ff, dropout=0.0,
                                               batch_first=True, norm_first=norm_first)
    my_encoder = EncoderLayer(d_model, num_heads, cfg.check_d_ff, norm_first=norm_first)
    my_encoder.load_state_dict(from_torch_state(torch_encoder.state_dict()))
    layer_diffs.append(compare(f"encoder, {layout}", my_encoder(x_check, key_padding_mask=check_pads)[0],
                               torch_encoder(x_check, src_key_padding_mask=check_pads), atol=1e-6).max_diff)

    torch_decoder = nn.TransformerDecoderLayer(d_model, num_heads, cfg.check_d_ff, dropout=0.0,
                                               batch_first=True, norm_first=norm_first)
    my_decoder = DecoderLayer(d_model, num_heads, cfg.check_d_ff, norm_first=norm_first)
    my_decoder.load_state_dict(from_torch_state(torch_decoder.state_dict()))
    mine = my_decoder(target, memory, tgt_mask=causal_mask(5), memory_key_padding_mask=check_pads)[0]
    ref = torch_decoder(target, memory, tgt_mask=causal_mask(5), memory_key_padding_mask=check_pads)
    layer_diffs.append(compare(f"decoder, {layout}", mine, ref, atol=1e-6).max_diff)
layer_max_diff = max(layer_diffs)
glue("day21_layer_max_diff_1e6", layer_max_diff / 1e-6)  # in units of 1e-6
print(f"encoder layer: {count_parameters(my_encoder)[0]} parameters, "
      f"decoder layer: {count_parameters(my_decoder)[0]}")

# %% [markdown]
# The four layers agree with PyTorch's to {glue:text}`day21_layer_max_diff_1e6:.2f` $\times 10^{-6}$ at
# most. The decoder layer has one more attention block and one more LayerNorm than the encoder layer,
# hence its extra parameters.
#
# ## 5. A tiny Transformer that reverses digits
#
# Now train. The toy task: read $T$ random digits and output them in reverse order,
# $y_i = x_{T-1-i}$. Every output is a copy of one input token, chosen by *position* only, so a model
# that solves it must route the token at position $T-1-i$ to position $i$: the attention we expect is an
# anti-diagonal. The model is encoder-only: token embedding (scaled by $\sqrt{d_{model}}$) plus
# positional encoding, a stack of our pre-LN encoder layers, a final LayerNorm and a linear layer that
# predicts one digit per position. It follows the Trainer's contract (dict batches, returns
# `{"loss", "logits"}`) and hands back its attention weights on request.
#
# One detail matters more than it looks. The token and the position are *added*, so their scales decide
# how loud each one speaks. The multiplication by $\sqrt{d_{model}}$ comes from the original paper, whose
# embeddings start with standard deviation $d_{model}^{-1/2}$: the product has unit-variance components,
# like the encoding's sines and cosines. `nn.Embedding` starts at $\mathcal{N}(0, 1)$ instead, which
# would make every token vector $\sqrt{d_{model}}$ times louder than its position, in a task that is
# *all* about positions; we initialise the embedding as the paper does (see {ref}`day21-scales`).

# %%
def make_reversal_data(num_samples: int, seq_len: int, vocab_size: int,
                       seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Random digit sequences (num_samples, seq_len) and the same sequences reversed."""
    rng = np.random.default_rng(seed)
    inputs = rng.integers(0, vocab_size, size=(num_samples, seq_len))
    return inputs, inputs[:, ::-1].copy()


class TinyTransformer(nn.Module):
    """Encoder-only Transformer that predicts one token per position; causal=True hides the future."""

    def __init__(self, vocab_size: int, d_model: int, num_heads: int, num_layers: int, d_ff: int,
                 max_len: int = 64, norm_first: bool = True, causal: bool = False) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, d_model)
        nn.init.normal_(self.embedding.weight, std=d_model ** -0.5)   # unit variance after the √d scaling
        self.positions = PositionalEncoding(d_model, max_len)
        self.layers = nn.ModuleList(EncoderLayer(d_model, num_heads, d_ff, norm_first=norm_first)
                                    for _ in range(num_layers))
        self.final_norm = nn.LayerNorm(d_model) if norm_first else nn.Identity()
        self.head = nn.Linear(d_model, vocab_size)
        self.causal = causal

    def forward(self, input_ids: torch.Tensor, labels: torch.Tensor | None = None,
                return_attention: bool = False) -> dict[str, torch.Tensor]:
        x = self.positions(self.embedding(input_ids) * math.sqrt(self.embedding.embedding_dim))
        mask = causal_mask(input_ids.size(1)).to(input_ids.device) if self.causal else None
        attentions = []
        for layer in self.layers:
            x, weights = layer(x, attn_mask=mask)
            attentions.append(weights)
        logits = self.head(self.final_norm(x))
        out = {"logits": logits}
        if labels is not None:
            out["loss"] = F.cross_entropy(logits.flatten(0, 1), labels.flatten())
        if return_attention:
            out["attentions"] = torch.stack(attentions, dim=1)   # (B, layers, heads, T, T)
        return out


def sequence_accuracy(logits: torch.Tensor, labels: torch.Tensor) -> float:
    """Share of sequences whose every token is right."""
    return (logits.argmax(dim=-1) == labels).all(dim=-1).float().mean().item()


splits = {name: make_reversal_data(size, cfg.seq_len, cfg.vocab_size, seed=cfg.seed + index)
          for index, (name, size) in enumerate([("train", cfg.train_size), ("valid", cfg.valid_size),
                                                ("test", cfg.test_size)])}
datasets = {name: tensor_dataset(input_ids=inputs, labels=targets)
            for name, (inputs, targets) in splits.items()}
print({name: tuple(inputs.shape) for name, (inputs, _) in splits.items()})
print("example:", splits["train"][0][0].tolist(), "->", splits["train"][1][0].tolist())

# %% [markdown]
# AdamW with a one-cycle schedule (a short warm-up, then a cosine decay), cross-entropy averaged over
# all positions. The Trainer reports the token accuracy (`accuracy`: the share of right digits) and the
# sequence accuracy (all $T$ digits right) on the validation set after each epoch.

# %%
torch.manual_seed(cfg.seed)
model = TinyTransformer(cfg.vocab_size, cfg.d_model, cfg.num_heads, cfg.num_layers, cfg.d_ff,
                        max_len=cfg.max_len, norm_first=cfg.norm_first)
print(f"{count_parameters(model)[0]:,} trainable parameters")
token_norm = (model.embedding.weight * math.sqrt(cfg.d_model)).norm(dim=-1).mean().item()
position_norm = model.positions.pe[: cfg.seq_len].norm(dim=-1).mean().item()
print(f"mean norm of a scaled token vector {token_norm:.2f}, of a position vector {position_norm:.2f}")
loaders = {name: DataLoader(dataset, batch_size=cfg.batch_size, shuffle=name == "train",
                            generator=torch.Generator().manual_seed(cfg.seed))
           for name, dataset in datasets.items()}
optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=cfg.lr,
                                                total_steps=cfg.epochs * len(loaders["train"]))
trainer = Trainer(model, optimizer, loaders["train"], loaders["valid"], epochs=cfg.epochs,
                  scheduler=scheduler, metrics={"accuracy": accuracy, "seq_accuracy": sequence_accuracy},
                  device=cfg.device)
history = trainer.fit()

# %%
fig = viz.plot_history(history, title="Reversing digits")
test_scores = trainer.evaluate(loaders["test"], prefix="test_")
glue("day21_test_accuracy", test_scores["accuracy"])
glue("day21_test_seq_accuracy", test_scores["seq_accuracy"])
print({name: round(value, 4) for name, value in test_scores.items()})

# %% [markdown]
# On the test set the model gets {glue:text}`day21_test_accuracy:.2%` of the digits right and
# {glue:text}`day21_test_seq_accuracy:.2%` of the sequences entirely right. The loss starts at the level
# of a uniform guess, $\ln V$, and collapses once the attention has found the routing.
#
# ### Reading the attention
#
# Run one test sequence through the model and keep the weights of every head of every layer. For each
# head we also measure, over the whole test set, the mean weight on the anti-diagonal $(i, T-1-i)$,
# the share of its attention that goes where the answer lies.

# %%
@torch.no_grad()
def attention_maps(model: TinyTransformer, input_ids: torch.Tensor) -> torch.Tensor:
    """(B, layers, heads, T, T) attention weights of ``model`` on ``input_ids``, on the CPU."""
    model.eval()
    device = next(model.parameters()).device
    return model(input_ids.to(device), return_attention=True)["attentions"].cpu()


test_inputs = torch.as_tensor(splits["test"][0])
all_maps = attention_maps(model, test_inputs)
anti_diagonal = all_maps.flip(-1).diagonal(dim1=-2, dim2=-1).mean(dim=(0, -1))   # (layers, heads)
print("mean weight on the anti-diagonal (rows: layers, columns: heads):")
print(np.array2string(anti_diagonal.numpy(), precision=2, floatmode="fixed"))
best_layer, best_head = divmod(int(anti_diagonal.argmax()), anti_diagonal.size(1))
glue("day21_best_anti_diagonal", anti_diagonal.max().item())
glue("day21_best_layer", best_layer)
glue("day21_best_head", best_head)
glue("day21_uniform_weight", 1 / cfg.seq_len)

example = test_inputs[0]
tokens = [str(digit) for digit in example.tolist()]
with torch.no_grad():
    prediction = model(example[None].to(next(model.parameters()).device))["logits"].argmax(-1)[0].cpu()
print("input:     ", example.tolist())
print("prediction:", prediction.tolist())
fig = viz.attention_heatmap(all_maps[0, best_layer, best_head],
                            [f"out {digit}" for digit in prediction.tolist()],
                            key_tokens=tokens, title=f"layer {best_layer}, head {best_head}")

# %%
fig = viz.attention_grid(all_maps[0], tokens, title="Every head of every layer, one test sequence")

# %% [markdown]
# Rows are queries (labelled with the digit the model outputs there), columns are keys (the input
# digits). The bright cells run from the top-right corner to the bottom-left: query $i$ puts almost all
# its weight on key $T-1-i$, and the digit it reads there is the digit it outputs. The best head puts
# on average {glue:text}`day21_best_anti_diagonal:.2f` of its weight on the anti-diagonal (layer
# {glue:text}`day21_best_layer`, head {glue:text}`day21_best_head`), against
# {glue:text}`day21_uniform_weight:.2f` for a head that spreads its attention evenly. The grid tells the
# rest of the story: the task needs a single routing step, which in this run the last layer performs,
# while the heads of the first layer keep a diffuse pattern, as the table of anti-diagonal weights says.
# Nothing in the architecture asks for an anti-diagonal: it was found by gradient descent, from the
# positional encoding alone, because it is what the loss rewards.
#
# ## Summary
#
# - Scaled dot-product attention is $\mathrm{softmax}(QK^\top/\sqrt{d_k} + M)V$; the $\sqrt{d_k}$ keeps the
#   softmax out of saturation, and the additive mask $M$ ($0$ or $-\infty$) implements padding and
#   causality.
# - Our multi-head attention equals `nn.MultiheadAttention` (outputs and per-head weights, with and
#   without masks) to {glue:text}`day21_mha_max_diff_1e6:.2f` $\times 10^{-6}$; our encoder and decoder
#   layers equal PyTorch's, post-LN and pre-LN, to {glue:text}`day21_layer_max_diff_1e6:.2f`
#   $\times 10^{-6}$.
# - Sinusoidal encodings are added along the sequence axis; a shift of $k$ positions is a fixed rotation.
# - A 2-layer Transformer learns to reverse digits ({glue:text}`day21_test_accuracy:.2%` token accuracy on
#   the test set), and its attention shows the anti-diagonal routing the task needs.
#
# ## Exercises
#
# ```{exercise}
# :label: day21-pe-bug
# The 2024 series' news summariser used the positional encoding of the next cell,
# `BuggyPositionalEncoding`, with a batch-first model. The cell runs `positional_signal` on it. What does
# the model receive as "position"? Why does nothing crash? Name a second symptom you could observe at
# inference time. Then write `FixedPositionalEncoding`, the same class with the bug fixed: the cell after
# it checks that it adds $PE(t)$ to the token at position $t$ of every sample, exactly as
# `PositionalEncoding` does, for several batch sizes, lengths and widths.
# ```

# %%
class BuggyPositionalEncoding(nn.Module):
    """The summariser's encoding as published: a sequence-first buffer fed batch-first inputs."""

    def __init__(self, d_model: int, max_len: int = 5000) -> None:
        super().__init__()
        self.register_buffer("pe", sinusoidal_encoding(max_len, d_model).unsqueeze(1))  # (max_len, 1, d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (batch, seq, d_model)
        return x + self.pe[: x.size(0)]


print(positional_signal(BuggyPositionalEncoding(8)))

# %% tags=["hide-input"]
from helpers.checks import check_function


class FixedPositionalEncoding(nn.Module):
    """BuggyPositionalEncoding, fixed: adds PE(t) to position t of (batch, seq, d_model) inputs."""

    def __init__(self, d_model: int, max_len: int = 5000) -> None:
        super().__init__()
        ### BEGIN SOLUTION
        self.register_buffer("pe", sinusoidal_encoding(max_len, d_model).unsqueeze(0))  # (1, max_len, d)
        ### END SOLUTION

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (batch, seq, d_model)
        ### BEGIN SOLUTION
        return x + self.pe[:, : x.size(1)]
        ### END SOLUTION


def encode_random_batch(encoding: type[nn.Module], batch: int, seq_len: int, d_model: int) -> torch.Tensor:
    """``encoding(d_model)`` applied to a seeded random input of shape (batch, seq_len, d_model)."""
    x = torch.randn(batch, seq_len, d_model, generator=torch.Generator().manual_seed(cfg.seed))
    return encoding(d_model)(x)


pe_shapes = [(4, 6, 8), (1, 10, 16), (5, 5, 4), (2, 40, 32)]   # (batch, seq_len, d_model)
check_function("FixedPositionalEncoding",
               lambda batch, seq_len, d: encode_random_batch(FixedPositionalEncoding, batch, seq_len, d),
               [(shape, encode_random_batch(PositionalEncoding, *shape)) for shape in pe_shapes])

# %% [markdown]
# ```{solution} day21-pe-bug
# :class: dropdown
# `x.size(0)` is the *batch* size under `batch_first=True`, so `self.pe[:B]` has shape $(B, 1, d)$ and
# broadcasts along the sequence axis: sample $b$ gets $PE(b)$ added to *every* token, and
# `positional_signal` answers `varies along positions: False, same for every sample: False`. Broadcasting
# makes the shapes fit, so there is no error; the model just sees no order at all (a bag of words, by the
# permutation equivariance of attention), plus a vector that depends on where the sample sits in the
# batch. Second symptom: the same input gives different outputs at row 0 and at row 5 of a batch. Fix:
# keep the buffer as `(1, max_len, d)` and slice the sequence axis, `self.pe[:, : x.size(1)]` (the
# solution above), or store it as `(max_len, d)` and add `self.pe[: x.size(1)]`, which broadcasts over
# the batch (as `PositionalEncoding` does). Slicing `self.pe[: x.size(1)]` while keeping the
# `(max_len, 1, d)` buffer is not a fix: it raises a shape error, or, when the batch size happens to
# equal the length, silently repeats the bug.
# ```
#
# ````{exercise}
# :label: day21-causal
# Train `TinyTransformer(..., causal=True)` on the same data with the same settings. Before running it,
# predict the token accuracy and the sequence accuracy as a function of $T$ and the vocabulary size $V$.
# Then check your prediction and look at the attention grid.
# ````
#
# ````{solution} day21-causal
# :class: dropdown
# Under the causal mask position $i$ sees positions $0..i$, and its answer $x_{T-1-i}$ is visible only when
# $T-1-i \le i$, i.e. for the last $\lceil T/2 \rceil$ positions. The first $\lfloor T/2 \rfloor$ positions
# can only guess, right with probability $1/V$. Expected token accuracy:
# $\big(\lceil T/2\rceil + \lfloor T/2\rfloor / V\big)/T$, which is $(5 + 0.5)/10 = 55\%$ for $T = V = 10$;
# sequence accuracy $V^{-\lfloor T/2 \rfloor}$, essentially zero. The attention maps keep only their
# lower-left half of the anti-diagonal. A bidirectional encoder is the right tool whenever the output
# at a position may depend on later inputs; a causal mask is for generating left to right.
#
# ```python
# causal_model = TinyTransformer(cfg.vocab_size, cfg.d_model, cfg.num_heads, cfg.num_layers, cfg.d_ff,
#                                max_len=cfg.max_len, causal=True)
# optimizer = torch.optim.AdamW(causal_model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
# Trainer(causal_model, optimizer, loaders["train"], loaders["valid"], epochs=cfg.epochs,
#         metrics={"accuracy": accuracy, "seq_accuracy": sequence_accuracy}).fit()
# ```
# ````
#
# ````{exercise}
# :label: day21-scales
# Two scales of the Transformer. (a) Show that if the components of $q$ and $k$ are independent with
# mean 0 and variance $\sigma^2$, then $\mathrm{Var}(q \cdot k) = d_k \sigma^4$. What factor keeps the
# scores at unit variance? (b) Why is a saturated softmax bad for *training*, even when it picks the right
# key? Use the table of section 1. (c) Delete the `nn.init.normal_` line of `TinyTransformer`, so that the
# embedding starts at `nn.Embedding`'s $\mathcal{N}(0, 1)$, and retrain with the same settings. Compare
# the norms printed before training and the curves, and explain.
# ````
#
# ````{solution} day21-scales
# :class: dropdown
# (a) $\mathrm{Var}(q\cdot k) = \sum_l \mathrm{Var}(q_l k_l) = \sum_l \mathbb{E}[q_l^2]\,\mathbb{E}[k_l^2]
# = d_k\sigma^4$, because the $d_k$ products are independent with mean 0. Divide by $\sigma^2\sqrt{d_k}$;
# with $\sigma = 1$ it is the usual $\sqrt{d_k}$. (b) The gradient of the loss with respect to the scores
# is $J^\top \partial L/\partial p$ with $J = \mathrm{diag}(p) - pp^\top$. When $p$ is one-hot, $J = 0$:
# the query and key projections receive almost no gradient and stop learning, whether the chosen key is
# right or wrong. The table's $\lVert J\rVert$ column falls towards 0 as $d_k$ grows without scaling.
# (c) The scaled token vectors now have a norm near $d_{model}$ instead of $\sqrt{d_{model}}$, while the
# position vectors keep theirs ($\sqrt{d_{model}/2}$): the position is a small perturbation of a large
# token vector, the attention can hardly find it, and the loss sits on a long plateau, far above the run
# of section 5, before (if ever) the routing is found. Scaling matters wherever two signals are summed.
# ````
#
# ```{exercise}
# :label: day21-params
# Count the parameters of a multi-head attention block as a function of $d_{model}$, $h$ and whether its
# projections have biases: write `mha_parameters(d_model, n_heads, bias=True)`. Then count those of a
# whole encoder layer (attention, FFN and the two LayerNorms) in `encoder_layer_parameters(d_model,
# n_heads, d_ff)`. The cell compares your formulas with the parameters of `nn.MultiheadAttention` and
# `nn.TransformerEncoderLayer` for several sizes. Why does $h$ not appear in them? Bonus: check with
# `count_parameters` that our `MultiHeadAttention` and `EncoderLayer` have the same counts.
# ```

# %% tags=["hide-input"]
from helpers.checks import check_function


def mha_parameters(d_model: int, n_heads: int, bias: bool = True) -> int:
    """Number of parameters of ``nn.MultiheadAttention(d_model, n_heads, bias=bias)``."""
    ### BEGIN SOLUTION
    projections = 4 * d_model * d_model            # W^Q, W^K, W^V and W^O, each d_model x d_model
    return projections + (4 * d_model if bias else 0)
    ### END SOLUTION


def encoder_layer_parameters(d_model: int, n_heads: int, d_ff: int) -> int:
    """Number of parameters of ``nn.TransformerEncoderLayer(d_model, n_heads, d_ff)``."""
    ### BEGIN SOLUTION
    feed_forward = (d_model * d_ff + d_ff) + (d_ff * d_model + d_model)   # linear1, linear2 with biases
    layer_norms = 2 * (2 * d_model)                                        # gamma and beta of norm1, norm2
    return mha_parameters(d_model, n_heads) + feed_forward + layer_norms
    ### END SOLUTION


def torch_parameter_count(module: nn.Module) -> int:
    """Number of parameters of a PyTorch module, counted from its tensors."""
    return sum(parameter.numel() for parameter in module.parameters())


layer_sizes = [(16, 4, 32), (64, 2, 256), (64, 8, 256), (12, 3, 48), (512, 8, 2048)]   # (d_model, h, d_ff)
check_function("mha_parameters", mha_parameters,
               [((d, h, bias), torch_parameter_count(nn.MultiheadAttention(d, h, bias=bias)))
                for d, h, _ in layer_sizes for bias in (True, False)])
check_function("encoder_layer_parameters", encoder_layer_parameters,
               [((d, h, d_ff), torch_parameter_count(nn.TransformerEncoderLayer(d, h, d_ff)))
                for d, h, d_ff in layer_sizes])

# %% [markdown]
# ```{solution} day21-params
# :class: dropdown
# Attention: four $d\times d$ matrices ($W^Q, W^K, W^V$, which PyTorch stores stacked in `in_proj_weight`,
# and $W^O$), plus four bias vectors of size $d$ when `bias=True`: $4d^2 + 4d$, or $4d^2$ without
# biases. The number of heads does not appear: the $h$ heads cut the same $d\times d$ projections into
# $h$ slices of $d_k = d/h$ columns, so more heads means smaller heads, not more weights. Encoder layer:
# the attention, plus the FFN $2 d\, d_{ff} + d_{ff} + d$, plus two LayerNorms with $2d$ parameters each:
# $4d^2 + 9d + 2d\,d_{ff} + d_{ff}$ in total. Our modules give the same counts, since they hold the same
# tensors under other names: `count_parameters(MultiHeadAttention(d, h))[0] == mha_parameters(d, h)` and
# `count_parameters(EncoderLayer(d, h, d_ff))[0] == encoder_layer_parameters(d, h, d_ff)`.
# ```

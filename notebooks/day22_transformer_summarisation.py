# %% [markdown]
# # Day 22: A Transformer that summarises
#
# Day 21 built every layer of the Transformer and trained an encoder on its own. Today the encoder gets
# its decoder back: the encoder reads a text, the decoder writes a shorter one token by token, looking at
# the text through *cross-attention*. That is the original Transformer of "Attention Is All You Need", and
# the architecture of every summariser and translator until decoder-only LLMs took over.
#
# **Objectives**
# - assemble an encoder-decoder from day 21's layers and prove it equal to `nn.Transformer(batch_first=True)`
#   with copied weights;
# - write label smoothing by hand and prove it equal to `nn.CrossEntropyLoss(label_smoothing=ε)`;
# - decode with greedy and beam search and score the summaries with ROUGE;
# - read the cross-attention: which source tokens does the decoder look at as it writes?
# - find and fix the seed article's positional-encoding bug, and measure what it cost.
#
# **Profiles.** No real summarisation corpus of useful size is available offline, so `ci` trains on two
# tasks that each show something different. A *generated* task (list the capitalised names of a paragraph,
# in order) is one a 2+2-layer model learns in seconds: it shows that the machinery works, that ROUGE
# rises, and what cross-attention does. The 70 real Reuters article → headline pairs of the Debian package
# `r-cran-tm` are real news, but 60 training pairs cannot teach summarisation: they show what ROUGE
# measures on real text, memorisation, and a baseline that beats our model. `laptop` and `gpu` train on
# CNN/DailyMail instead (sizes in `helpers/days/day22.py`).
#
# **The seed's figure.** The 2024 article series reported a best validation cross-entropy of **2.185** for
# its news summariser, on a Kaggle dataset that needs a login. That model added its positional encoding
# along the *batch* axis (section 5), so it was measured on a model that saw no word order at all. It is
# not comparable with anything below, and we do not chase it.

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

cfg = setup("day22", PROFILE)

# %%
import math
import warnings

import matplotlib.pyplot as plt
import torch
from torch import nn

from helpers import compare, count_parameters, glue, viz
from helpers.decoding import beam_search, greedy_search
from helpers.summarisation import (
    lead_words,
    load_real_pairs,
    names_task,
    rouge,
    summarise,
    train_summariser,
    truncate,
)
from helpers.transformer import (
    PositionalEncoding,
    Seq2SeqTransformer,
    Transformer,
    causal_mask,
    decoding_step,
    from_torch_state,
    label_smoothed_cross_entropy,
    padding_mask,
    sinusoidal_encoding,
)
from helpers.translation import BOS_ID, EOS_ID, PAD_ID, collate_pairs, decode, encode, train_bpe

warnings.filterwarnings("ignore", message="enable_nested_tensor is True")  # nn.Transformer's notice, pre-LN

if cfg.num_threads:  # small matrices: a second thread costs more in synchronisation than it saves
    torch.set_num_threads(cfg.num_threads)

# %% [markdown]
# ## 1. From layers to an encoder-decoder
#
# Day 21's layers now live in `helpers/transformer.py` (day 21 derives them one by one; here we import
# them). The encoder-decoder stacks them:
#
# $$
# \text{memory} = \mathrm{LN}\big(\mathrm{Enc}_N \circ \dots \circ \mathrm{Enc}_1(x)\big),\qquad
# h = \mathrm{LN}\big(\mathrm{Dec}_M \circ \dots \circ \mathrm{Dec}_1(y_{<t};\ \text{memory})\big),
# $$
#
# where each decoder layer runs causal self-attention over the summary written so far, cross-attention
# whose keys and values are the encoder's memory, and its FFN. A linear layer then turns $h$ into
# next-token logits. PyTorch's `nn.Transformer` is exactly the two stacks (with a final LayerNorm on each,
# in the pre-LN layout as in the post-LN one) and no embeddings. Ours has the same attribute names, so
# day 21's `from_torch_state` copies its weights, and the two must agree with every mask in use: source
# padding, target padding and the causal mask.

# %%
generator = torch.Generator().manual_seed(cfg.seed)
d, heads, d_ff, layers = cfg.check_d_model, cfg.check_heads, cfg.check_d_ff, cfg.check_layers
src_check = torch.randn(3, 7, d, generator=generator)
tgt_check = torch.randn(3, 5, d, generator=generator)
src_pads = padding_mask(torch.tensor([7, 5, 3]), 7)
masks = {"tgt_mask": causal_mask(5), "src_key_padding_mask": src_pads,
         "tgt_key_padding_mask": padding_mask(torch.tensor([5, 4, 2]), 5), "memory_key_padding_mask": src_pads}
transformer_diffs = []
for norm_first in (False, True):
    reference = nn.Transformer(d, heads, layers, layers, d_ff, dropout=0.0, batch_first=True,
                               norm_first=norm_first)
    mine = Transformer(d, heads, layers, layers, d_ff, dropout=0.0, norm_first=norm_first)
    mine.load_state_dict(from_torch_state(reference.state_dict()))  # strict: every weight is copied
    layout = "pre-LN" if norm_first else "post-LN"
    transformer_diffs.append(compare(f"Transformer vs nn.Transformer, {layout}", mine(src_check, tgt_check, **masks),
                                     reference(src_check, tgt_check, **masks), atol=1e-6).max_diff)
print(f"parameters: mine {count_parameters(mine)[0]}, torch {count_parameters(reference)[0]}")
glue("day22_transformer_max_diff_1e6", max(transformer_diffs) / 1e-6)  # in units of 1e-6

# %% [markdown]
# Both layouts agree to {glue:text}`day22_transformer_max_diff_1e6:.2f` $\times 10^{-6}$, with the same
# number of parameters. `Seq2SeqTransformer` adds what `nn.Transformer` leaves out: one embedding matrix
# shared by source and target (they share a vocabulary), scaled by $\sqrt{d_{model}}$, the sinusoidal
# positions, and the output layer. Its `encode` runs the encoder once per text, and its `decode` runs the
# decoder on a prefix and also returns the cross-attention weights, which section 4 reads.
#
# ## 2. Label smoothing
#
# Cross-entropy asks the model to put probability 1 on the reference token. A summary can be worded in
# many ways, and a model pushed to certainty grows over-confident. *Label smoothing* trains against a
# softened target instead: $1-\varepsilon$ on the reference token $y$ plus $\varepsilon$ spread evenly over
# all $V$ tokens,
#
# $$
# q_k = (1-\varepsilon)\,[k = y] + \frac{\varepsilon}{V},\qquad
# \mathcal{L} = -\sum_k q_k \log p_k = (1-\varepsilon)\,(-\log p_y) + \varepsilon\,\frac1V\sum_k (-\log p_k),
# $$
#
# averaged over the target tokens that are not padding. The paper used $\varepsilon = 0.1$. PyTorch builds
# the same thing into `nn.CrossEntropyLoss(label_smoothing=ε, ignore_index=pad)`; we check on random
# logits with padded targets, for several $\varepsilon$ ($\varepsilon = 0$ is the plain cross-entropy).

# %%
logits_check = torch.randn(4, 9, 50, generator=generator)
targets_check = torch.randint(4, 50, (4, 9), generator=generator)
targets_check[padding_mask(torch.tensor([9, 6, 3, 1]), 9)] = PAD_ID
smoothing_diffs = []
for epsilon in (0.0, 0.1, 0.3, 1.0):
    reference_loss = nn.CrossEntropyLoss(label_smoothing=epsilon, ignore_index=PAD_ID)(
        logits_check.flatten(0, 1), targets_check.flatten())
    smoothing_diffs.append(compare(f"label smoothing, ε={epsilon}",
                                   label_smoothed_cross_entropy(logits_check, targets_check, epsilon, PAD_ID),
                                   reference_loss, atol=1e-6).max_diff)
glue("day22_smoothing_max_diff_1e6", max(smoothing_diffs) / 1e-6)

# %% [markdown]
# One consequence to keep in mind when reading training curves: the smoothed loss cannot reach 0. Its
# minimum, over all predicted distributions $p$, is reached at $p = q$ and equals the entropy $H(q)$
# ({ref}`day22-smoothing-floor` asks why). The curves below therefore plot the training loss (smoothed)
# and the validation cross-entropy (not smoothed), which do not share a floor.

# %%
def smoothing_floor(vocab_size: int, epsilon: float) -> float:
    """H(q), the smallest value of the label-smoothed loss over a vocabulary of ``vocab_size``."""
    right, other = 1 - epsilon + epsilon / vocab_size, epsilon / vocab_size
    return -(right * math.log(right) + (vocab_size - 1) * other * math.log(other))


# %% [markdown]
# ## 3. A task a small model learns in seconds
#
# The generated task: a "paragraph" of lowercase filler words with two to five capitalised names, and its
# "summary", the names in order. It is a caricature of summarisation, yet it has the ingredients: the
# output is shorter than the input, its words are copied from the input, and their *order* matters. It
# needs no pretraining and no large corpus, so it trains live in every profile.

# %%
names_train = names_task(cfg.names_train_size, seed=cfg.seed)
names_test = names_task(cfg.names_test_size, seed=cfg.seed + 1)
for source, summary in names_train[:3]:
    print(f"{source}\n  -> {summary}")
names_tokenizer = train_bpe([text for pair in names_train for text in pair], cfg.names_vocab_size)


def tokenise(tokenizer, pairs: list[tuple[str, str]], max_src: int = 512,
             max_tgt: int = 512) -> tuple[list[list[int]], list[list[int]]]:
    """BPE ids of the sources (their first ``max_src`` tokens) and of the summaries."""
    return (truncate(encode(tokenizer, [s for s, _ in pairs]), max_src),
            truncate(encode(tokenizer, [t for _, t in pairs]), max_tgt))


names_ids = {"train": tokenise(names_tokenizer, names_train), "test": tokenise(names_tokenizer, names_test)}
names_vocab = names_tokenizer.get_vocab_size()
print(f"vocabulary: {names_vocab} tokens; longest source {max(map(len, names_ids['train'][0]))} tokens")
glue("day22_names_vocab", names_vocab)
glue("day22_smoothing_floor", smoothing_floor(names_vocab, cfg.label_smoothing))

# %% [markdown]
# Training: AdamW with a one-cycle schedule, random batches, the label-smoothed loss with
# $\varepsilon = 0.1$, gradient clipping at 1. The validation cross-entropy is measured on the test paragraphs with
# teacher forcing every few steps.

# %%
def new_model(vocab_size: int, sizes: dict, positional: type[nn.Module] = PositionalEncoding) -> Seq2SeqTransformer:
    """A freshly seeded Seq2SeqTransformer on the profile's device."""
    torch.manual_seed(cfg.seed)
    return Seq2SeqTransformer(vocab_size, **sizes, pad_id=PAD_ID, positional=positional).to(cfg.device)


names_model = new_model(names_vocab, cfg.names_model)
print(f"{count_parameters(names_model)[0]:,} trainable parameters")
names_history = train_summariser(names_model, *names_ids["train"], steps=cfg.names_steps,
                                 batch_size=cfg.names_batch_size, lr=cfg.names_lr,
                                 label_smoothing=cfg.label_smoothing, seed=cfg.seed,
                                 valid=names_ids["test"], eval_every=cfg.names_eval_every)
print(f"valid CE: {names_history['valid_ce'][0]:.4f} after {names_history['step'][0]} steps, "
      f"{names_history['valid_ce'][-1]:.4f} after {names_history['step'][-1]}")
glue("day22_names_valid_ce", names_history["valid_ce"][-1])
glue("day22_uniform_ce", math.log(names_vocab))

# %% tags=["nbval-ignore-output"]
print(f"[{names_history['seconds'][0]:.1f}s]")  # wall-clock training time: differs from run to run

# %% [markdown]
# ### Greedy and beam search
#
# `helpers/decoding.py` (day 20) decodes any model that it can call as
# `step(prefix, state) -> log-probabilities of the next token`. For our model the state is the encoder's
# memory and the source padding mask, computed once per text; the step re-runs the decoder on the whole
# prefix (no cache: day 23 adds one). Two checks that the glue between them is right: beam search with
# one beam must give greedy's tokens, and the log-probability greedy reports for its output must equal
# the one the model gives that output under teacher forcing, in a single forward pass.

# %%
sample_src = names_ids["test"][0][:16]
batch = collate_pairs([(row, [EOS_ID]) for row in sample_src])
names_model.eval()
with torch.no_grad():
    memory, src_pad = names_model.encode(batch["src"].to(cfg.device))
state = {"memory": memory, "src_pad": src_pad}
step = decoding_step(names_model)
greedy = greedy_search(step, state, len(sample_src), BOS_ID, EOS_ID, cfg.names_max_len)
beam_one = beam_search(step, state, len(sample_src), BOS_ID, EOS_ID, cfg.names_max_len, beam_size=1)
same = all(g.tokens == b[0].tokens for g, b in zip(greedy, beam_one, strict=True))
print(f"beam search with 1 beam gives greedy's tokens on {len(greedy)} paragraphs: {same}")

outputs = [[*h.tokens, EOS_ID] for h in greedy]   # the finished ones end with <eos>
forced = collate_pairs([(s, list(h.tokens)) for s, h in zip(sample_src, greedy, strict=True)])
with torch.no_grad():
    log_probs = names_model(forced["src"].to(cfg.device), forced["tgt_in"].to(cfg.device)).log_softmax(-1)
    picked = log_probs.gather(-1, forced["tgt_out"].to(cfg.device)[..., None]).squeeze(-1)
    teacher_forced = (picked * (forced["tgt_out"] != PAD_ID).to(cfg.device)).sum(-1)
decoding_check = compare("greedy log p vs teacher-forced log p", [h.log_prob for h in greedy],
                         teacher_forced.double(), atol=1e-4)

# %% [markdown]
# (The tolerance is $10^{-4}$: greedy sums float32 log-probabilities of one step at a time, the forward
# pass computes them all at once, and the two orders of summation round differently.) Now the whole test
# set, scored with ROUGE. ROUGE-$n$ counts the $n$-grams a candidate shares with the reference:
# recall is the share of the reference's $n$-grams found in the candidate, precision the share of the
# candidate's found in the reference, and we report their harmonic mean $F_1$. ROUGE-L replaces $n$-grams
# by the longest common subsequence, so it rewards words in the right order. We use Google's
# `rouge-score` package; mind its argument order, `score(reference, candidate)`: day 24's seed swapped them.

# %%
names_refs = [summary for _, summary in names_test]
names_scores = {}
for beam_size in (1, cfg.beam_size):
    predictions = decode(names_tokenizer, summarise(names_model, names_ids["test"][0], cfg.names_max_len,
                                                    beam_size=beam_size, length_penalty=cfg.length_penalty))
    names_scores[beam_size] = rouge(names_refs, predictions)
    print(f"beam {beam_size}:", {kind: round(value, 4) for kind, value in names_scores[beam_size].items()})
greedy_predictions = decode(names_tokenizer, summarise(names_model, names_ids["test"][0], cfg.names_max_len))
exact = sum(p == r for p, r in zip(greedy_predictions, names_refs, strict=True)) / len(names_refs)
for (_, summary), prediction in list(zip(names_test, greedy_predictions, strict=True))[:4]:
    print(f"{summary:<34} | model: {prediction}")
glue("day22_names_rouge1", names_scores[1]["rouge1"])
glue("day22_names_rouge2", names_scores[1]["rouge2"])
glue("day22_names_rougeL", names_scores[1]["rougeL"])
glue("day22_names_beam_rougeL", names_scores[cfg.beam_size]["rougeL"])
glue("day22_names_exact", exact)

# %% [markdown]
# After a few seconds of training the model reaches ROUGE-1 {glue:text}`day22_names_rouge1:.3f`,
# ROUGE-2 {glue:text}`day22_names_rouge2:.3f` and ROUGE-L {glue:text}`day22_names_rougeL:.3f` with greedy
# decoding ({glue:text}`day22_names_beam_rougeL:.3f` ROUGE-L with beam search), and writes
# {glue:text}`day22_names_exact:.1%` of the summaries exactly. ROUGE-2 is the strictest of the three: a
# name dropped, doubled or misplaced breaks two bigrams. On a task with one right answer, beam search has
# little to add to greedy; it matters when several continuations are nearly as likely.
#
# ## 4. Reading the cross-attention
#
# Each row of a cross-attention map is one decoder position (labelled with the token it writes), each
# column a source token. If the model copies names, the row that writes "Chen" should look at "Chen".

# %%
def cross_attention(model: Seq2SeqTransformer, src: list[int], summary: list[int]) -> torch.Tensor:
    """(layers, heads, T, S) cross-attention weights while writing ``summary`` (+ <eos>) for ``src``."""
    model.eval()
    with torch.no_grad():
        memory, src_pad = model.encode(torch.tensor([src], device=cfg.device))
        _, weights = model.decode(torch.tensor([[BOS_ID, *summary]], device=cfg.device), memory, src_pad)
    return weights[0].cpu()


def token_labels(tokenizer, ids: list[int]) -> list[str]:
    return [tokenizer.id_to_token(i).replace("▁", "") for i in ids]


right = [i for i, h in enumerate(greedy) if h.tokens == tuple(names_ids["test"][1][i]) and len(h.tokens) >= 3]
example = right[0] if right else 0   # a summary the model gets right, with at least three names
example_src = names_ids["test"][0][example]
example_out = list(greedy[example].tokens)
example_weights = cross_attention(names_model, example_src, example_out)
fig, axes = plt.subplots(1, example_weights.size(0), figsize=(12, 3.2))
for layer, ax in enumerate(axes):
    viz.attention_heatmap(example_weights[layer].mean(0), token_labels(names_tokenizer, example_out) + ["<eos>"],
                          key_tokens=token_labels(names_tokenizer, example_src), ax=ax,
                          title=f"decoder layer {layer}, mean of the heads")
fig.tight_layout()

# %% [markdown]
# Over the whole test set: for each reference name the decoder must write, does the source token it
# attends to most (heads averaged) hold that very name? Measured with teacher forcing, per layer.

# %%
def copy_attention_rate(model: Seq2SeqTransformer, src_ids: list[list[int]], tgt_ids: list[list[int]]) -> list[float]:
    """Per decoder layer, the share of target tokens (not <eos>) whose most-attended source token is them."""
    batch = collate_pairs(list(zip(src_ids, tgt_ids, strict=True)))
    model.eval()
    with torch.no_grad():
        memory, src_pad = model.encode(batch["src"].to(cfg.device))
        _, weights = model.decode(batch["tgt_in"].to(cfg.device), memory, src_pad)
    looked_at = weights.mean(2).argmax(-1).cpu()                       # (B, layers, T): source position
    attended = batch["src"].gather(1, looked_at.flatten(1)).view_as(looked_at)
    wanted = batch["tgt_out"][:, None].expand_as(attended)
    scored = (wanted != PAD_ID) & (wanted != EOS_ID)
    return [((attended == wanted) & scored)[:, layer].sum().item() / scored[:, layer].sum().item()
            for layer in range(attended.size(1))]


copy_rates = copy_attention_rate(names_model, *names_ids["test"])
print("share of names whose most-attended source token is that name, per decoder layer:",
      [round(rate, 4) for rate in copy_rates])
glue("day22_copy_rate", max(copy_rates))
glue("day22_copy_layer", copy_rates.index(max(copy_rates)))

# %% [markdown]
# In decoder layer {glue:text}`day22_copy_layer`, the most-attended source token is the very name being
# written for {glue:text}`day22_copy_rate:.1%` of the names: the cross-attention has learnt to *point*.
# In the heatmap, the last layer's pointer moves from name to name as the summary advances, and the
# `<eos>` row looks at the last name: the model stops once it has passed it. Attention is not an explanation in general (the other layer may route the information
# differently), but on a copying task this pointer is what we expected to find.
#
# ## 5. The seed's bug: positions along the wrong axis
#
# The seed's summariser used a positional encoding written for sequence-first tensors, in a
# `batch_first=True` model:

# %%
class BuggyPositionalEncoding(nn.Module):
    """The seed's encoding: a (max_len, 1, d) buffer sliced by x.size(0), fed (batch, seq, d) inputs."""

    def __init__(self, d_model: int, max_len: int = 5000) -> None:
        super().__init__()
        self.register_buffer("pe", sinusoidal_encoding(max_len, d_model).unsqueeze(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.pe[: x.size(0)]


added = BuggyPositionalEncoding(8)(torch.zeros(3, 5, 8))
print("what it adds varies along positions:", not torch.allclose(added[:, :1], added),
      "| is the same for every sample:", torch.allclose(added[:1], added))

# %% [markdown]
# `x.size(0)` is the batch size: sample $b$ gets $PE(b)$ added to every one of its tokens. Broadcasting
# makes the shapes fit, so nothing fails, but attention is permutation-equivariant (day 21): without
# positions the encoder sees a bag of words. How much does that cost? Retrain the same model, same seed,
# same batches, with the seed's encoding.

# %%
buggy_model = new_model(names_vocab, cfg.names_model, positional=BuggyPositionalEncoding)
buggy_history = train_summariser(buggy_model, *names_ids["train"], steps=cfg.names_steps,
                                 batch_size=cfg.names_batch_size, lr=cfg.names_lr,
                                 label_smoothing=cfg.label_smoothing, seed=cfg.seed,
                                 valid=names_ids["test"], eval_every=cfg.names_eval_every)
buggy_scores = rouge(names_refs, decode(names_tokenizer, summarise(buggy_model, names_ids["test"][0],
                                                                   cfg.names_max_len)))
print(f"valid CE: fixed {names_history['valid_ce'][-1]:.4f}, buggy {buggy_history['valid_ce'][-1]:.4f}")
for name, scores in (("fixed", names_scores[1]), ("buggy", buggy_scores)):
    print(f"{name}:", {kind: round(value, 4) for kind, value in scores.items()})
glue("day22_buggy_valid_ce", buggy_history["valid_ce"][-1])
glue("day22_buggy_rouge1", buggy_scores["rouge1"])
glue("day22_buggy_rouge2", buggy_scores["rouge2"])

fig, ax = plt.subplots(figsize=(6, 3.2))
for label, history, color in (("positions along the sequence", names_history, "C0"),
                              ("seed's bug", buggy_history, "C3")):
    ax.plot(history["step"], history["valid_ce"], marker=".", color=color, label=f"valid CE, {label}")
    ax.plot(history["step"], history["train_loss"], ls="--", color=color, alpha=0.6,
            label=f"train loss (smoothed), {label}")
ax.set(xlabel="step", ylabel="loss (nats per token)", title="Names task")
ax.legend(fontsize=7)
ax.grid(alpha=0.3)
fig.tight_layout()

# %% [markdown]
# With the bug the validation cross-entropy ends at {glue:text}`day22_buggy_valid_ce:.3f` instead of
# {glue:text}`day22_names_valid_ce:.3f`. The two ROUGEs do not suffer alike: ROUGE-1, which ignores order,
# falls from {glue:text}`day22_names_rouge1:.3f` to {glue:text}`day22_buggy_rouge1:.3f`, since the model
# still finds *which* names occur (a bag of words is enough for that), while ROUGE-2 falls from
# {glue:text}`day22_names_rouge2:.3f` to {glue:text}`day22_buggy_rouge2:.3f`, since it cannot know their
# order. The decoder's own causal self-attention can still count how many tokens it has written, which
# is why the bug slows the model rather than stopping it. That is the lesson for the seed's 2.185: a
# number measured on a model that could not see word order says little about the architecture, and a
# ROUGE-1 alone would have hidden much of the damage.
# {ref}`day22-pe-fix` asks you to fix the encoding so that it serves both layouts.
#
# ## 6. Real headlines
#
# Now real text: under `ci`, the Reuters-21578 articles that R's `tm` package ships (50 on acquisitions,
# 20 on crude oil), each with its headline; `laptop` and `gpu` load CNN/DailyMail's articles and their
# bullet-point highlights. Sources are cut to their first tokens (a news article puts its essentials
# first), and the tokenizer is a BPE trained on the training split only.

# %%
real_train, real_test = load_real_pairs(cfg.real_source, cfg.real_test_size, cfg.real_train_size, seed=cfg.seed)
print(f"{len(real_train)} training and {len(real_test)} test pairs; a test pair:")
print(f"  headline: {real_test[0][1]}\n  article:  {real_test[0][0][:300]}...")
real_tokenizer = train_bpe([text for pair in real_train for text in pair], cfg.real_vocab_size)
real_ids = {split: tokenise(real_tokenizer, pairs, cfg.real_max_src_tokens, cfg.real_max_tgt_tokens)
            for split, pairs in (("train", real_train), ("test", real_test))}
real_model = new_model(real_tokenizer.get_vocab_size(), cfg.real_model)
real_history = train_summariser(real_model, *real_ids["train"], steps=cfg.real_steps,
                                batch_size=cfg.real_batch_size, lr=cfg.real_lr,
                                label_smoothing=cfg.label_smoothing, seed=cfg.seed,
                                valid=real_ids["test"], eval_every=cfg.real_eval_every)
print(f"vocabulary {real_tokenizer.get_vocab_size()}; {count_parameters(real_model)[0]:,} parameters")
print(f"train loss {real_history['train_loss'][0]:.4f} -> {real_history['train_loss'][-1]:.4f}; "
      f"valid CE {real_history['valid_ce'][0]:.4f} -> {real_history['valid_ce'][-1]:.4f} "
      f"(lowest {min(real_history['valid_ce']):.4f})")

# %% tags=["nbval-ignore-output"]
print(f"[{real_history['seconds'][0]:.1f}s]")  # wall-clock training time: differs from run to run

# %% [markdown]
# The scores, on the training pairs (which the model has seen about fifty times each under `ci`) and on
# the test pairs, next to the *lead* baseline: the article's first words, as many as a headline has.

# %%
real_scores = {}
for split, pairs in (("train", real_train), ("test", real_test)):
    refs = [summary for _, summary in pairs]
    predictions = decode(real_tokenizer, summarise(real_model, real_ids[split][0], cfg.real_max_tgt_tokens,
                                                   beam_size=cfg.beam_size, length_penalty=cfg.length_penalty))
    real_scores[f"model, {split}"] = rouge(refs, predictions)
    real_scores[f"lead, {split}"] = rouge(refs, [lead_words(article, cfg.real_lead_words) for article, _ in pairs])
    if split == "test":
        real_predictions = predictions
train_headlines = {headline for _, headline in real_train}
copied = sum(prediction in train_headlines for prediction in real_predictions) / len(real_predictions)
print(f"test outputs that are a training headline, word for word: {copied:.1%}")
glue("day22_real_copied", copied)
for name, scores in real_scores.items():
    print(f"{name:<12}", {kind: round(value, 4) for kind, value in scores.items()})
for (_, headline), prediction in list(zip(real_test, real_predictions, strict=True))[:4]:
    print(f"reference: {headline}\n    model: {prediction}")
for key, name in (("model, train", "train"), ("model, test", "test"), ("lead, test", "lead")):
    glue(f"day22_real_{name}_rouge1", real_scores[key]["rouge1"])
    glue(f"day22_real_{name}_rougeL", real_scores[key]["rougeL"])

# %% [markdown]
# Under `ci` the picture is the one 60 training pairs allow. On its training articles the model reaches
# ROUGE-1 {glue:text}`day22_real_train_rouge1:.3f`: it has learnt their headlines by heart. On unseen
# articles it reaches ROUGE-1 {glue:text}`day22_real_test_rouge1:.3f` and ROUGE-L
# {glue:text}`day22_real_test_rougeL:.3f`, against {glue:text}`day22_real_lead_rouge1:.3f` and
# {glue:text}`day22_real_lead_rougeL:.3f` for the lead baseline, and {glue:text}`day22_real_copied:.0%` of
# its test outputs are training headlines reproduced word for word: it recognises the *topic* (oil or
# acquisitions) and recites a headline it knows, which shares a few words with the reference ("crude",
# "opec") but says nothing about this article. (Its ROUGE-2 rests on a handful of shared bigrams among
# 10 headlines: too few to read anything into.) The validation cross-entropy stops falling after a few
# dozen steps while the training loss keeps dropping, the signature of over-fitting. The lead baseline is strong in news because
# journalists put the essentials first; a summariser must beat it to be worth its cost, and on
# CNN/DailyMail it takes hundreds of thousands of pairs (the `gpu` profile) to do so. Even so, a
# cross-attention map on a test article shows where the decoder looks as it writes:

# %%
real_example = list(summarise(real_model, real_ids["test"][0][:1], cfg.real_max_tgt_tokens)[0])
real_weights = cross_attention(real_model, real_ids["test"][0][0], real_example)
shown = min(len(real_ids["test"][0][0]), 48)   # the article's first tokens, so that labels stay legible
fig, ax = plt.subplots(figsize=(13, 3.8))
viz.attention_heatmap(real_weights[-1].mean(0)[:, :shown], token_labels(real_tokenizer, real_example) + ["<eos>"],
                      key_tokens=token_labels(real_tokenizer, real_ids["test"][0][0][:shown]), ax=ax,
                      title="last decoder layer, mean of the heads (first source tokens)")
fig.tight_layout()

# %% [markdown]
# Compare it with the names task: no pointer, a few bright cells on frequent words and punctuation,
# weight spread thinly over the rest. A model that recites a memorised headline has no use for the
# article's details, and its cross-attention says so.

# %% [markdown]
# ## Summary
#
# - An encoder-decoder Transformer is day 21's layers in two stacks joined by cross-attention; ours equals
#   `nn.Transformer(batch_first=True)` with copied weights to {glue:text}`day22_transformer_max_diff_1e6:.2f`
#   $\times 10^{-6}$, post-LN and pre-LN.
# - Label smoothing mixes the one-hot target with a uniform distribution; ours equals PyTorch's to
#   {glue:text}`day22_smoothing_max_diff_1e6:.2f` $\times 10^{-6}$. The smoothed loss has a floor above zero.
# - Day 20's greedy and beam search drive the model through one `step` function; beam 1 equals greedy.
# - On the generated names task the model reaches ROUGE-L {glue:text}`day22_names_rougeL:.3f` in seconds,
#   and its cross-attention points at the name it writes ({glue:text}`day22_copy_rate:.1%` of the time).
# - The seed's encoding added positions along the batch axis: its validation CE is worse
#   ({glue:text}`day22_buggy_valid_ce:.3f` against {glue:text}`day22_names_valid_ce:.3f`), and ROUGE-2
#   suffers more than ROUGE-1. The seed's 2.185 was measured with that bug.
# - 60 real headline pairs teach memorisation, not summarisation: ROUGE-1
#   {glue:text}`day22_real_train_rouge1:.3f` on the training articles, {glue:text}`day22_real_test_rouge1:.3f`
#   on unseen ones, against the lead baseline's {glue:text}`day22_real_lead_rouge1:.3f`.
#
# ## Exercises
#
# ```{exercise}
# :label: day22-pe-fix
# Find and fix. Section 5's `BuggyPositionalEncoding` assumed sequence-first inputs. Write
# `FixedPositionalEncoding(d_model, max_len=5000, batch_first=True)`, which adds $PE(t)$ to the token at
# position $t$ of every sample, for `(batch, seq, d)` inputs when `batch_first` is true and for
# `(seq, batch, d)` inputs otherwise. The cell checks both layouts against `PositionalEncoding` for
# several shapes, including a batch as large as the sequence is long, where a wrong axis fits by chance.
# ```

# %% tags=["hide-input"]
from helpers.checks import check_function


class FixedPositionalEncoding(nn.Module):
    """Sinusoidal positions added along the sequence axis, for batch-first or sequence-first inputs."""

    def __init__(self, d_model: int, max_len: int = 5000, batch_first: bool = True) -> None:
        super().__init__()
        ### BEGIN SOLUTION
        self.batch_first = batch_first
        self.register_buffer("pe", sinusoidal_encoding(max_len, d_model))   # (max_len, d)
        ### END SOLUTION

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        ### BEGIN SOLUTION
        if self.batch_first:
            return x + self.pe[: x.size(1)]              # (T, d) broadcasts over the batch axis 0
        return x + self.pe[: x.size(0)].unsqueeze(1)     # (T, 1, d) broadcasts over the batch axis 1
        ### END SOLUTION


def positions_added(batch_first: bool, batch: int, seq_len: int, d_model: int) -> torch.Tensor:
    """Your encoding applied to a seeded random input, returned batch-first."""
    x = torch.randn(batch, seq_len, d_model, generator=torch.Generator().manual_seed(cfg.seed))
    module = FixedPositionalEncoding(d_model, batch_first=batch_first)
    return module(x) if batch_first else module(x.transpose(0, 1)).transpose(0, 1)


def expected_positions(batch: int, seq_len: int, d_model: int) -> torch.Tensor:
    x = torch.randn(batch, seq_len, d_model, generator=torch.Generator().manual_seed(cfg.seed))
    return PositionalEncoding(d_model, max_len=5000)(x)


pe_shapes = [(4, 6, 8), (1, 10, 16), (5, 5, 4), (3, 40, 32)]   # (batch, seq_len, d_model)
check_function("FixedPositionalEncoding", positions_added,
               [((batch_first, *shape), expected_positions(*shape))
                for batch_first in (True, False) for shape in pe_shapes])

# %% [markdown]
# ```{solution} day22-pe-fix
# :class: dropdown
# Store the encoding once as `(max_len, d)` and slice the *sequence* axis, whichever it is: `x.size(1)`
# batch-first, where the `(T, d)` slice broadcasts over the leading batch axis; `x.size(0)`
# sequence-first, where it needs a middle axis, `(T, 1, d)`, to broadcast over the batch. The seed's code
# is the sequence-first branch applied to batch-first tensors. The `(5, 5, 4)` case is the trap: with a
# batch as large as the sequence, a slice along the wrong axis has the right shape and passes any shape
# check, but adds $PE(b)$ instead of $PE(t)$; only a value check catches it.
# ```
#
# ```{exercise}
# :label: day22-rouge
# Write ROUGE-$n$ by hand: `rouge_n_f1(reference, candidate, n)`, the $F_1$ of the clipped $n$-gram
# overlap, with `rouge-score`'s tokenisation (lower-case, every character outside `a-z0-9` becomes a
# space, split on whitespace) and no stemming. Return 0 when either side has no $n$-gram. The cell
# compares it with `rouge_scorer.RougeScorer([f"rouge{n}"], use_stemmer=False)`. Then swap the arguments:
# which of precision, recall and $F_1$ change?
# ```

# %% tags=["hide-input"]
import re
from collections import Counter

from rouge_score import rouge_scorer


def rouge_n_f1(reference: str, candidate: str, n: int) -> float:
    """F1 of the n-grams shared by reference and candidate (counts clipped), rouge-score's tokens."""
    ### BEGIN SOLUTION
    def ngram_counts(text: str) -> Counter:
        tokens = re.sub(r"[^a-z0-9]+", " ", text.lower()).split()
        return Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))

    ref, cand = ngram_counts(reference), ngram_counts(candidate)
    overlap = sum((ref & cand).values())                 # min of the two counts, n-gram by n-gram
    if not ref or not cand or overlap == 0:
        return 0.0
    precision, recall = overlap / sum(cand.values()), overlap / sum(ref.values())
    return 2 * precision * recall / (precision + recall)
    ### END SOLUTION


rouge_cases = [(reference, candidate, n) for n in (1, 2)
               for reference, candidate in [*zip(names_refs[:6], greedy_predictions[:6], strict=True),
                                            ("Oil prices rose 5 pct.", "oil prices rose, oil prices fell"),
                                            ("the the the cat", "the cat the"), ("a", "")]]
check_function("rouge_n_f1", rouge_n_f1,
               [((ref, cand, n), rouge_scorer.RougeScorer([f"rouge{n}"], use_stemmer=False)
                 .score(ref, cand)[f"rouge{n}"].fmeasure) for ref, cand, n in rouge_cases])

# %% [markdown]
# ```{solution} day22-rouge
# :class: dropdown
# Count the $n$-grams of each side in a `Counter`; `ref & cand` keeps each shared $n$-gram with the
# smaller of its two counts (the *clipping*: a candidate that repeats "the" three times gets credit for
# as many as the reference has). Precision divides the overlap by the candidate's $n$-gram count, recall
# by the reference's. Swapping the arguments swaps precision and recall, and leaves $F_1$, their
# harmonic mean, unchanged; that is why a swapped call (day 24's seed) reports a plausible $F_1$ and
# wrong precision and recall.
# ```
#
# ````{exercise}
# :label: day22-smoothing-floor
# (a) Show that, for a fixed target $y$, the label-smoothed loss $-\sum_k q_k \log p_k$ is smallest at
# $p = q$, and that its minimum is the entropy $H(q)$. (b) Evaluate it for the names task
# ({glue:text}`day22_names_vocab` tokens, $\varepsilon = 0.1$) and compare it with the training curve of
# section 5. (c) Why might a model trained with label smoothing give *better* beam-search outputs, even
# though its probabilities are less sharp?
# ````
#
# ````{solution} day22-smoothing-floor
# :class: dropdown
# (a) $-\sum_k q_k \log p_k = H(q) + \mathrm{KL}(q\,\|\,p)$, and the KL divergence is $\ge 0$ with equality
# only at $p = q$. (b) With $V$ = {glue:text}`day22_names_vocab` and $\varepsilon = 0.1$,
# $q_y = 0.9 + 0.1/V$ and the other $q_k = 0.1/V$, so $H(q)$ = {glue:text}`day22_smoothing_floor:.3f` nats
# (`smoothing_floor(V, 0.1)`): the smoothed training loss levels off above it, while the unsmoothed
# validation cross-entropy can go lower. (c) An over-confident model gives its first choice a probability
# near 1 and its alternatives almost none, so the beam's other hypotheses carry no information; a
# smoothed model keeps calibrated scores for the alternatives, and the length-normalised comparison of
# whole hypotheses becomes meaningful. The paper reports that smoothing hurt perplexity but improved BLEU.
# ````

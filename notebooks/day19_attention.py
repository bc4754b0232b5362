# %% [markdown]
# # Day 19: Attention
#
# Day 18's encoder-decoder squeezed the whole source into one vector, and its accuracy fell with the
# length of the input. Bahdanau, Cho and Bengio (2015) let the decoder look back: at every output step it
# scores every encoder state against its own state, turns the scores into weights with a softmax, and
# reads the weighted mean of the encoder states. The memory now grows with the input, and the weights
# show, for free, which input the model read to write each output: an *alignment*.
#
# **Objectives**
# - write additive (Bahdanau) and multiplicative (Luong: dot, general) attention with a padding mask that
#   gives pads exactly zero weight, and check them against `F.scaled_dot_product_attention` and the
#   hand formulas;
# - plug attention into the GRU decoder of day 18 and check its step-by-step decoding;
# - measure accuracy against input length with and without attention;
# - draw alignment heatmaps with the source axis right.
#
# **Profiles.** All data is generated, as on day 18 (`helpers.corpora.dates`), so every profile is
# offline. `ci` trains, for the same few hundred steps, a plain and an attentional GRU of width 64 on the
# copy task (strings of up to 20 letters) and an attentional model on the dates (about 30 s of CPU); its
# models are undertrained, so read its numbers as trends. `laptop` (about 15 min on 2 cores, estimated)
# and `gpu` train wider models longer on longer strings (`helpers/days/day19.py`). The seed articles have
# no numeric figure for this day.

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

cfg = setup("day19", PROFILE)

# %%
import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F

from helpers import compare, glue, viz
from helpers.attention import AdditiveAttention, LuongAttention, lengths_to_mask, masked_softmax
from helpers.corpora.dates import CharVocab, date_pairs, encode_pairs, sequence_pairs
from helpers.seq2seq import (
    AttentionDecoder,
    Decoder,
    Encoder,
    Seq2Seq,
    decode_step_by_step,
    evaluate,
    greedy_decode,
    train_seq2seq,
)

if cfg.num_threads:  # tiny matrices: a second thread costs more in synchronisation than it saves
    torch.set_num_threads(cfg.num_threads)

# %% [markdown]
# ## 1. Scores, weights, context
#
# Call the decoder's state at step $t$ the *query* $q_t$, and the encoder's outputs $k_1,\dots,k_S$ the
# *keys* (here they are also the *values* $v_s$ that get averaged). Attention computes a score per key, a
# softmax over the source positions, and the weighted mean:
#
# $$
# e_{ts} = \mathrm{score}(q_t, k_s), \qquad
# \alpha_{ts} = \frac{\exp e_{ts}}{\sum_{s'} \exp e_{ts'}}, \qquad
# c_t = \sum_{s} \alpha_{ts}\, v_s .
# $$
#
# Three scores are classic:
#
# $$
# \underbrace{v^\top \tanh(W_q q + W_k k)}_{\text{additive (Bahdanau)}}, \qquad
# \underbrace{q^\top k}_{\text{dot (Luong)}}, \qquad
# \underbrace{q^\top W_a k}_{\text{general (Luong)}} .
# $$
#
# Additive attention is a one-hidden-layer network on the pair, and works with queries and keys of any
# widths; dot needs equal widths and has no parameters; general learns a bilinear form, which is the dot
# score after mapping the keys by $W_a$. The dot score is the one the Transformer will keep (day 21),
# divided by $\sqrt{d}$.
#
# **Masking.** A batch pads its sources to the longest. The encoder's outputs at the pads are not words,
# and a query must not read them. The fix is in the softmax: set the scores of the pads to $-\infty$, so
# that $\exp(-\infty) = 0$ *exactly* and the other weights still sum to 1. `helpers/attention.py` takes a
# boolean `key_padding_mask` of shape (B, S), True at pads (PyTorch's convention), and every module
# returns `(context, weights)`.

# %%
B, T, S, D = cfg.check_batch, cfg.check_queries, cfg.check_keys, cfg.check_dim
g = torch.Generator().manual_seed(cfg.seed)
q, k, v = (torch.randn(B, n, D, generator=g) for n in (T, S, S))
src_lengths = torch.tensor([S, 3, 1])[:B]
pad_mask = lengths_to_mask(src_lengths, S)
print("key_padding_mask (True = pad):\n", pad_mask.int())

dot = LuongAttention("dot")
context, weights = dot(q, k, v, key_padding_mask=pad_mask)
print("weights of sample 1, query 0:", weights[1, 0].numpy().round(4))
print("largest weight on a pad:", weights.masked_select(pad_mask[:, None].expand_as(weights)).max().item())

# %% [markdown]
# The weights of the pads are exactly `0.0`, not merely small. Now the references. Luong's dot attention
# is single-head scaled dot-product attention with scale 1 (PyTorch's default scale is $1/\sqrt{d}$), and
# PyTorch's boolean `attn_mask` says where attention is *allowed*: the opposite of a padding mask. General
# attention is the dot score on $W_a k$, and the additive score is checked against its formula written
# with explicit loops over queries and keys.

# %%
sdpa_check = compare("dot vs F.sdpa(scale=1)", context,
                     F.scaled_dot_product_attention(q, k, v, attn_mask=~pad_mask[:, None, :], scale=1.0))
compare("dot, no mask", dot(q, k, v)[0], F.scaled_dot_product_attention(q, k, v, scale=1.0))

general = LuongAttention("general", D, D)
with torch.no_grad():
    general_check = compare("general vs dot(q, W_a k)", general(q, k, v, key_padding_mask=pad_mask)[1],
                            dot(q, general.W_a(k), v, key_padding_mask=pad_mask)[1])

additive = AdditiveAttention(D, D, hidden_size=10)
with torch.no_grad():
    _, additive_weights = additive(q, k, v, key_padding_mask=pad_mask)
    W_q, W_k, w_v = additive.query_proj.weight, additive.key_proj.weight, additive.v.weight[0]
    hand_scores = torch.tensor([[[(w_v @ torch.tanh(W_q @ q[b, t] + W_k @ k[b, s])).item() for s in range(S)]
                                 for t in range(T)] for b in range(B)])
    hand_weights = hand_scores.masked_fill(pad_mask[:, None], float("-inf")).softmax(-1)
    additive_check = compare("additive vs vᵀtanh(Wq+Uk)", additive_weights, hand_weights)
glue("day19_sdpa_max_diff", sdpa_check.max_diff)

# %% [markdown]
# Why $-\infty$ and not a large negative number such as $-10^9$, or a multiplication of the weights by
# the mask after the softmax? The first gives a tiny but nonzero weight (in float16, $-10^9$ overflows to
# $-\infty$ anyway, while $-10^4$ does not give zero); the second leaves rows that no longer sum to 1. And
# without any mask, the pads take a real share of the weight, and the context of a sample changes with
# the length of the longest sample in its batch:

# %%
alone, _ = dot(q[1:2, :, :], k[1:2, :3], v[1:2, :3])           # sample 1 on its own, 3 real keys
with_mask, _ = dot(q, k, v, key_padding_mask=pad_mask)
without_mask, leaky = dot(q, k, v)
compare("masked, in a batch vs alone", with_mask[1:2], alone)
compare("unmasked, in a batch vs alone", without_mask[1:2], alone)
print(f"weight on pads without the mask: {leaky.masked_select(pad_mask[:, None].expand_as(leaky)).sum().item() / (B * T):.4f} per query")
print("masked_softmax refuses a sample with no real key:", end=" ")
try:
    masked_softmax(torch.zeros(1, 3), torch.ones(1, 3, dtype=torch.bool))
except ValueError as err:
    print(err)

# %% [markdown]
# ## 2. An attention decoder
#
# Where does the context enter the decoder? `AttentionDecoder` follows Luong et al.: the GRU runs first,
# its new state $s_t$ is the query, and the context is combined with it before the output layer:
#
# $$
# s_t = \mathrm{GRU}(e(y_{t-1}), s_{t-1}), \quad c_t, \alpha_t = \mathrm{attention}(s_t, h_{1..S}), \quad
# \tilde s_t = \tanh(W_c [c_t; s_t]), \quad p(y_t \mid y_{<t}, x) = \mathrm{softmax}(W_o \tilde s_t) .
# $$
#
# (Bahdanau's decoder queries with the *previous* state $s_{t-1}$ and feeds $c_t$ into the GRU; exercise
# {ref}`day19-bahdanau` writes it.) With Luong's layout, the teacher-forced pass runs the GRU over the whole
# target in one call and attends for all $T$ steps in one batched product, and the one-step `step` that
# greedy decoding and beam search drive must give the same numbers:

# %%
torch.manual_seed(cfg.seed)
probe_vocab = 12
probe_model = Seq2Seq(Encoder(probe_vocab, 8, 16),
                      AttentionDecoder(probe_vocab, 8, 16, AdditiveAttention(16, 16, 16), encoder_size=16)).eval()
probe_src = torch.randint(4, probe_vocab, (B, S), generator=g).masked_fill(pad_mask, 0)
probe_tgt = torch.randint(4, probe_vocab, (B, 5), generator=g).index_fill(1, torch.tensor([0]), CharVocab.BOS)
with torch.no_grad():
    encoder_outputs, hidden, src_mask = probe_model.encode(probe_src, src_lengths)
    logits, _, forced_weights = probe_model.decoder(probe_tgt, hidden, encoder_outputs, src_mask)
    step_log_probs, step_weights = decode_step_by_step(probe_model.decoder, probe_tgt, hidden, encoder_outputs,
                                                       src_mask)
compare("forward vs step (log-probs)", logits.log_softmax(-1), step_log_probs)
compare("forward vs step (weights)", forced_weights, step_weights)
print("weights:", tuple(forced_weights.shape), "= (batch, target steps, source positions)")

# %% [markdown]
# ## 3. Accuracy against length, with and without attention
#
# Day 18's copy task again: random strings of 20 letters, lengths uniform between the settings' bounds.
# Two models with the same encoder, the same width and the same number of training steps; one decoder
# reads only the final encoder state, the other attends.

# %%
alphabet = "abcdefghijklmnopqrst"
copy_vocab = CharVocab(alphabet)
copy_train = encode_pairs(sequence_pairs("copy", cfg.copy_train_size, cfg.copy_min_len, cfg.copy_max_len,
                                         seed=cfg.seed, alphabet=alphabet), copy_vocab)
copy_test = encode_pairs(sequence_pairs("copy", cfg.test_size, cfg.copy_min_len, cfg.copy_max_len,
                                        seed=cfg.seed + 1, alphabet=alphabet), copy_vocab)


def make_attention(kind: str, hidden: int, encoder_size: int) -> torch.nn.Module:
    """One of the three attentions, sized for a decoder of width ``hidden``."""
    if kind == "additive":
        return AdditiveAttention(hidden, encoder_size, hidden)
    return LuongAttention(kind, hidden, encoder_size)


def make_model(vocab_size: int, hidden: int, attention: str | None) -> Seq2Seq:
    """A GRU encoder-decoder; ``attention`` None, "dot", "general" or "additive"."""
    encoder = Encoder(vocab_size, cfg.embed_size, hidden)
    decoder = (Decoder(vocab_size, cfg.embed_size, hidden) if attention is None else
               AttentionDecoder(vocab_size, cfg.embed_size, hidden, make_attention(attention, hidden, hidden),
                                encoder_size=encoder.output_size))
    return Seq2Seq(encoder, decoder).to(cfg.device)


length_axis = list(range(cfg.copy_min_len, cfg.copy_max_len + 1))
sweep = {}
for name, attention in (("no attention", None), (f"attention ({cfg.sweep_attention})", cfg.sweep_attention)):
    torch.manual_seed(cfg.seed)
    copier = make_model(len(copy_vocab), cfg.copy_hidden, attention)
    losses = train_seq2seq(copier, copy_train, cfg.copy_steps, cfg.batch_size, cfg.lr, seed=cfg.seed)
    result = evaluate(copier, copy_test)
    sweep[name] = [result["exact"][copy_test["src_lengths"] == n].mean().item() for n in length_axis]
    print(f"{name:<22} final loss {sum(losses[-50:]) / 50:.4f}  exact match {result['exact'].mean().item():.4f}")

# %%
fig, ax = plt.subplots(figsize=(6, 3.2))
for (name, accuracies), marker in zip(sweep.items(), "os", strict=True):
    ax.plot(length_axis, accuracies, marker=marker, label=name)
ax.set(xlabel="input length (characters)", ylabel="exact match", ylim=(0, 1.02),
       title=f"Copy task, GRU width {cfg.copy_hidden}, {cfg.copy_steps} steps each")
ax.xaxis.get_major_locator().set_params(integer=True)
ax.legend(fontsize=8)
ax.grid(alpha=0.3)
fig.tight_layout()
no_att, att = sweep.values()
glue("day19_plain_at_10", no_att[length_axis.index(10)])
glue("day19_attention_at_10", att[length_axis.index(10)])
glue("day19_attention_at_max", att[-1])

# %% [markdown]
# At length 10 the plain model copies {glue:text}`day19_plain_at_10:.2f` of the strings exactly, the
# attentional one {glue:text}`day19_attention_at_10:.2f`; at the longest length the attentional model still
# gets {glue:text}`day19_attention_at_max:.2f`. With the same steps and the same width, attention turns a
# memory problem into a lookup problem: to write letter $t$, the decoder finds the encoder state that holds
# it (the one just after the letter it wrote last), and the path from input to output is one step long
# whatever the length. Its curve still bends down at the longest strings, where there are more positions
# to tell apart and more ways to slip; longer training (`laptop`, `gpu`) flattens it.
#
# ## 4. Alignments on the dates
#
# Now the dates of day 18, with Bahdanau's additive attention. The heatmap shows the weights
# $\alpha_{ts}$: one row per *output* character, one column per *source* character.

# %%
train_pairs = date_pairs(cfg.date_train_size, seed=cfg.seed)
test_pairs = date_pairs(cfg.test_size, seed=cfg.seed + 1)
vocab = CharVocab([s + t for s, t in train_pairs])
date_train, date_test = encode_pairs(train_pairs, vocab), encode_pairs(test_pairs, vocab)
torch.manual_seed(cfg.seed)
dater = make_model(len(vocab), cfg.date_hidden, cfg.date_attention)
date_losses = train_seq2seq(dater, date_train, cfg.date_steps, cfg.batch_size, cfg.lr, seed=cfg.seed)
date_scores = evaluate(dater, date_test)
print(f"final loss {sum(date_losses[-50:]) / 50:.4f}; test: teacher-forced tokens "
      f"{date_scores['tf_token_acc'].mean().item():.4f}, exact match {date_scores['exact'].mean().item():.4f}")
glue("day19_date_exact", date_scores["exact"].mean().item())


# %%
def decode_with_attention(model: Seq2Seq, sources: list[str]) -> list[tuple[str, torch.Tensor]]:
    """For each source: the greedy output and its weights (output steps incl. <eos>, source characters)."""
    batch = encode_pairs([(s, "") for s in sources], vocab)
    decoded = greedy_decode(model, batch["src"].to(cfg.device), batch["src_lengths"].to(cfg.device), 15)
    results = []
    for i, source in enumerate(sources):
        output = vocab.decode(decoded.tokens[i].cpu())
        steps = len(output) + 1                                  # the output characters and <eos>
        results.append((output, decoded.weights[i, :steps, : len(source)].cpu()))   # the source's own length
    return results


def show(source: str, output: str, weights: torch.Tensor, ax) -> None:
    """Heatmap of one alignment: output characters down, source characters across."""
    viz.attention_heatmap(weights, list(output) + ["<eos>"], key_tokens=[c if c != " " else "␣" for c in source],
                          ax=ax, title=f"{source!r} -> {output!r}")
    ax.set(xlabel="source character", ylabel="output character")


examples = ["Wednesday the 3rd of September 2025", "09/03/2025", "3-Sep-25"]
fig, axes = plt.subplots(1, 3, figsize=(15, 4.2), gridspec_kw={"width_ratios": [len(e) + 4 for e in examples]})
for source, (output, weights), ax in zip(examples, decode_with_attention(dater, examples), axes, strict=True):
    show(source, output, weights, ax)
    print(f"{source!r:<40} -> {output!r}  (rows sum to {weights.sum(-1).min().item():.4f}..."
          f"{weights.sum(-1).max().item():.4f})")
fig.tight_layout()

# %% [markdown]
# Read the rows. The year digits look at the year at the end of the source; the month digits look at the
# month name (first example) or at the *first* number of the US order (second example); the day digits
# look at the day. The alignment is not monotonic: the output order (year, month, day) differs from the
# source order, and attention jumps back and forth, which a fixed context vector cannot express. Rows of
# `-` spread out: no input is needed to write a fixed dash. The heatmaps also show the mistakes: where the
# output is wrong, look at the row of the wrong digit (in `ci`, a one-digit day such as "3rd" or "3-" is
# often written `30` instead of `03`: the model has not yet learned to pad a single digit, and its second
# day digit reads nothing in particular). With `ci`'s short training (exact match
# {glue:text}`day19_date_exact:.2f` on the test dates) the maps are blurrier than `laptop`'s.
#
# The heatmap's axes are where a seed article went wrong, and they are the first exercise.
#
# ## Summary
#
# - Attention: scores, a softmax over the source positions, a weighted mean. Additive
#   ($v^\top\tanh(W_q q + W_k k)$), dot ($q^\top k$), general ($q^\top W_a k$); all in
#   `helpers/attention.py` with the call `context, weights = attention(query, keys, values,
#   key_padding_mask)`.
# - Pads get exactly zero weight when their scores are set to $-\infty$ before the softmax; without the
#   mask, a sample's output depends on its batch.
# - Luong's dot attention is single-head `F.scaled_dot_product_attention` with scale 1 (max difference
#   {glue:text}`day19_sdpa_max_diff:.1e`).
# - With attention, accuracy no longer collapses with the input length, and the weights are an alignment
#   we can read.
#
# Day 20 trains an attentional translator on real sentences and decodes it with beam search; day 21
# drops the recurrence and keeps only attention.
#
# ## Exercises
#
# ```{exercise}
# :label: day19-heatmap-bug
# **Find and fix.** A seed article drew its heatmaps with `buggy_alignment` below: it cut the weights to
# the length of the *decoded* output on both axes. Run it on the date `"Wednesday the 3rd of September
# 2025"`. What does the plot show, and what does it hide? Write `fixed_alignment(weights, source, output)`
# that returns the matrix of the output steps (the output characters and `<eos>`) against the *source*
# characters, with the source tokens; the cell checks it on several dates, short and long.
# ```

# %%
def buggy_alignment(weights: torch.Tensor, source: str, output: str) -> tuple[torch.Tensor, list[str]]:
    """As published: the source axis sliced by the decoded length."""
    n = len(output)
    return weights[:n, :n], list(source)[:n]


full_batch = encode_pairs([(s, "") for s in examples], vocab)
full = greedy_decode(dater, full_batch["src"].to(cfg.device), full_batch["src_lengths"].to(cfg.device), 15)
bug_output = vocab.decode(full.tokens[0].cpu())
bug_weights, bug_tokens = buggy_alignment(full.weights[0].cpu(), examples[0], bug_output)
print(f"buggy matrix {tuple(bug_weights.shape)} for a source of {len(examples[0])} characters; "
      f"row sums {bug_weights.sum(-1).min().item():.2f}..{bug_weights.sum(-1).max().item():.2f}")
print("source characters shown:", "".join(bug_tokens))

# %% tags=["hide-input"]
from helpers.checks import check_function


def fixed_alignment(weights: torch.Tensor, source: str, output: str) -> tuple[torch.Tensor, list[str]]:
    """(len(output) + 1, len(source)) weights (output steps incl. <eos> x source characters), source tokens."""
    ### BEGIN SOLUTION
    return weights[: len(output) + 1, : len(source)], list(source)
    ### END SOLUTION


def checked_matrix(index: int, sources: list[str]) -> torch.Tensor:
    """The fixed matrix for ``sources[index]``, decoded in a batch with the others (so with pads)."""
    batch = encode_pairs([(s, "") for s in sources], vocab)
    decoded = greedy_decode(dater, batch["src"].to(cfg.device), batch["src_lengths"].to(cfg.device), 15)
    weights = decoded.weights[index].cpu()
    matrix, tokens = fixed_alignment(weights, sources[index], vocab.decode(decoded.tokens[index].cpu()))
    if tokens != list(sources[index]):
        raise ValueError("the source tokens must be the source's characters, all of them")
    return matrix


check_sources = [examples[0], "20250903", "3-Sep-25", "the 21st of May, 1999", "1/2/03"]
expected = []
for source in check_sources:   # reference: the same source decoded alone, without pads
    alone = encode_pairs([(source, "")], vocab)
    decoded = greedy_decode(dater, alone["src"].to(cfg.device), alone["src_lengths"].to(cfg.device), 15)
    steps = int((decoded.tokens[0] != CharVocab.PAD).sum())
    expected.append(decoded.weights[0, :steps].cpu())
check_function("fixed_alignment", checked_matrix,
               [((i, check_sources), expected[i]) for i in range(len(check_sources))], atol=1e-5)

# %% [markdown]
# ````{solution} day19-heatmap-bug
# :class: dropdown
# The weights have one row per output step and one column per *source* position; the decoded length says
# nothing about the source. Cut to $n = $ `len(output)` on both axes, the plot shows a square: for a long
# source (35 characters, 10 output characters) it keeps the first 10 source characters, `Wednesday `, and
# drops the month and the year that the digits actually read, so the rows no longer sum to 1 and the
# picture suggests the model reads the weekday. For a source shorter than the output (`3-Sep-25`, 8
# characters, 10 output characters) it shows the first pad columns of the batch as if they were source
# characters, or crashes on the labels. The `<eos>` row is dropped as well. Fix: rows up to the output
# length plus one (`<eos>`), columns up to the *source* length:
#
# ```python
# def fixed_alignment(weights, source, output):
#     return weights[: len(output) + 1, : len(source)], list(source)
# ```
#
# The check compares it, for sources decoded in a padded batch, with the same sources decoded alone:
# equal weights also confirm that the pads took no weight.
# ````
#
# ````{exercise}
# :label: day19-bahdanau
# Write Bahdanau's decoder step: the query is the *previous* state $s_{t-1}$, and the context is fed to the
# GRU together with the embedding, $s_t = \mathrm{GRU}([e(y_{t-1}); c_t], s_{t-1})$, with logits
# $W_o [s_t; c_t; e(y_{t-1})]$. Give it the same `step(prev_token, hidden, encoder_outputs, src_mask)`
# signature, so that `greedy_decode` can drive it. Why can its teacher-forced forward pass not be a single
# GRU call?
# ````
#
# ````{solution} day19-bahdanau
# :class: dropdown
# The input of the GRU at step $t$ contains $c_t$, which depends on $s_{t-1}$: the recurrence goes through
# the attention, so the steps must run one after the other, even under teacher forcing (Luong's layout
# attends *after* the GRU, which keeps the GRU call whole).
#
# ```python
# class BahdanauDecoder(torch.nn.Module):
#     def __init__(self, vocab_size, embed_size, hidden_size, encoder_size):
#         super().__init__()
#         self.embedding = torch.nn.Embedding(vocab_size, embed_size, padding_idx=0)
#         self.attention = AdditiveAttention(hidden_size, encoder_size, hidden_size)
#         self.rnn = torch.nn.GRU(embed_size + encoder_size, hidden_size, batch_first=True)
#         self.out = torch.nn.Linear(hidden_size + encoder_size + embed_size, vocab_size)
#         self.hidden_size, self.num_layers = hidden_size, 1
#
#     def step(self, prev_token, hidden, encoder_outputs, src_mask=None):
#         embedded = self.embedding(prev_token)                             # (B, E)
#         context, weights = self.attention(hidden[-1], encoder_outputs, key_padding_mask=src_mask)
#         output, hidden = self.rnn(torch.cat([embedded, context], -1)[:, None], hidden)
#         logits = self.out(torch.cat([output[:, 0], context, embedded], -1))
#         return logits.log_softmax(-1), hidden, weights
#
#     def forward(self, tgt_in, hidden, encoder_outputs, src_mask=None):
#         log_probs, weights = decode_step_by_step(self, tgt_in, hidden, encoder_outputs, src_mask)
#         return log_probs, hidden, weights   # log-probs work as logits for the loss
# ```
# ````
#
# ```{exercise}
# :label: day19-scores
# Train the date model with each of the three scores (`"dot"`, `"general"`, `"additive"`), with the same
# steps. Compare the exact match and the time per step, and look at one heatmap of each. Which is
# cheapest, and why does the additive score cost more memory for long sources?
# ```
#
# ```{solution} day19-scores
# :class: dropdown
# Dot and general cost one batched matrix product, $(B, T, H) \times (B, H, S)$; additive builds a
# $(B, T, S, H)$ tensor before the $\tanh$ and the product with $v$: memory and time grow with
# $T \cdot S \cdot H$ instead of $T \cdot S$. On this task all three reach similar accuracy with enough
# steps; general is a good default, dot is the cheapest and the Transformer's choice (with the
# $1/\sqrt{d}$ scale), and additive was the original, useful when queries and keys have different widths
# (general handles that too, with a rectangular $W_a$).
# ```

# %% [markdown]
# # Day 18: Sequence to sequence
#
# Days 12-15 read a sequence and produced one label, or one label per token. Many tasks map a sequence to
# *another* sequence of a different length: translation, summarisation, speech to text, or, today, a date
# written by a human ("Wednesday the 3rd of September 2025") to its ISO form (`2025-09-03`). The
# encoder-decoder of Sutskever et al. and Cho et al. (2014) does it with two recurrent networks: one reads
# the source into a vector, the other writes the target from that vector, one token at a time.
#
# **Objectives**
# - build a GRU encoder-decoder, and check that its fast teacher-forced forward pass equals the decoder
#   run step by step on the gold tokens;
# - train it with teacher forcing and decode greedily;
# - measure *exposure bias*: the gap between teacher-forced and free-running accuracy, and what a model
#   does with a prefix that contains a mistake; try scheduled sampling;
# - measure the *bottleneck*: how the accuracy of a plain encoder-decoder falls with the input length.
#
# **Profiles.** Every profile generates its data (dates with Python's `datetime` in 18 formats, and random
# strings to copy), so all are offline. `ci` trains a GRU of width 128 on 8,000 dates for a few hundred
# steps and a GRU of width 64 on strings of up to 20 characters (about 30 s of CPU in all); its models are
# undertrained, so read its numbers as trends. `laptop` (about 15 min on 2 cores, estimated) and `gpu` train wider
# models much longer on longer strings (sizes in `helpers/days/day18.py`). The seed articles describe the
# model without training it, so there is no seed figure to chase.

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

cfg = setup("day18", PROFILE)

# %%
import copy
import datetime as dt

import matplotlib.pyplot as plt
import numpy as np
import torch

from helpers import compare, glue
from helpers.corpora.dates import (
    DATE_FORMATS,
    CharVocab,
    date_pairs,
    encode_pairs,
    format_date,
    sequence_pairs,
)
from helpers.seq2seq import (
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
# ## 1. The task: dates to ISO 8601
#
# `helpers.corpora.dates` draws a random date between 1950 and 2049 and writes it in one of 18 formats:
# spelled-out or abbreviated months, weekdays, ordinals, the US order `m/d/y`, the German `d.m.y`, two-digit
# years (with years in 1950-2049, `38` can only mean 2038). The month and weekday names are spelled by the
# module, not by `strftime`, so the data does not depend on the machine's locale. Here is one date in
# every format:

# %%
example_date = dt.date(2025, 9, 3)
for template in DATE_FORMATS:
    print(f"{template:<38} {format_date(example_date, template)}")

# %% [markdown]
# The model works on characters. One vocabulary serves both sides; ids 0-3 are `<pad>`, `<bos>` (begin of
# sequence), `<eos>` (end of sequence) and `<unk>`. `encode_pairs` pads a batch on the right and returns
# the *source* ids with their lengths, the decoder's *input* `tgt_in` = `<bos>` + target, and the
# *output* it must predict, `tgt_out` = target + `<eos>`: the same sequence shifted by one.

# %%
train_pairs = date_pairs(cfg.date_train_size, seed=cfg.seed)
test_pairs = date_pairs(cfg.test_size, seed=cfg.seed + 1)
vocab = CharVocab([s + t for s, t in train_pairs])
date_train, date_test = encode_pairs(train_pairs, vocab), encode_pairs(test_pairs, vocab)
print(f"{len(train_pairs)} training pairs, {len(test_pairs)} test pairs, {len(vocab)} symbols")
for source, target in train_pairs[:4]:
    print(f"  {source!r:<40} -> {target!r}")
print("tgt_in :", vocab.tokens(date_train["tgt_in"][0]))
print("tgt_out:", vocab.tokens(date_train["tgt_out"][0]))
print("longest source:", int(date_train["src_lengths"].max()), "characters")

# %% [markdown]
# ## 2. The encoder-decoder
#
# The **encoder** is a GRU over the embedded source $x_1, \dots, x_S$. Its last state is the only thing it
# passes on, the *context vector* $c$:
#
# $$
# h_s = \mathrm{GRU}_{enc}(e(x_s), h_{s-1}), \qquad c = h_S .
# $$
#
# The **decoder** is a second GRU that starts from $c$ and, at step $t$, reads the previous target token
# and outputs a distribution over the next one:
#
# $$
# s_0 = c, \qquad s_t = \mathrm{GRU}_{dec}(e(y_{t-1}), s_{t-1}), \qquad
# p(y_t \mid y_{<t}, x) = \mathrm{softmax}(W s_t + b) ,
# $$
#
# with $y_0$ = `<bos>`. The model of a whole target is the chain rule,
# $p(y \mid x) = \prod_t p(y_t \mid y_{<t}, x)$, and training minimises its negative log, averaged over the
# real tokens (the pads are ignored):
#
# $$
# \mathcal{L} = -\frac{1}{N} \sum_{t} \log p(y_t \mid y_{<t}, x) .
# $$
#
# The sum conditions on the *gold* prefix $y_{<t}$. Feeding the gold tokens to the decoder during training
# is called **teacher forcing**; it lets the decoder GRU run over the whole target in one call, as fast as
# the encoder. At test time there is no gold prefix: the decoder must feed itself its own previous output.
#
# The modules live in `helpers/seq2seq.py` (day 19 adds attention, day 20 beam search). Two details:
# the encoder reads *packed* sequences, so that a short source's final state is taken after its last real
# character, not after a run of pads; and every decoder has a `step(prev_token, hidden, encoder_outputs,
# src_mask)` method that makes one step, which greedy decoding (and tomorrow's beam search) drives.

# %%
torch.manual_seed(cfg.seed)
model = Seq2Seq(Encoder(len(vocab), cfg.embed_size, cfg.date_hidden),
                Decoder(len(vocab), cfg.embed_size, cfg.date_hidden)).to(cfg.device)
print(model)
print(f"{sum(p.numel() for p in model.parameters()):,} parameters")

# %% [markdown]
# Three checks before training. First, packing: the encoder's final state for a padded sample equals the
# state of the same GRU run on that sample alone, without pads. Then the claim of teacher forcing: the
# one-call forward pass gives the same log-probabilities as calling `step` $T$ times with the gold tokens.
# Last, greedy decoding is the chain of argmaxes of `step`, written out by hand.

# %%
probe = {key: value[:8].to(cfg.device) for key, value in date_test.items()}
model.eval()
with torch.no_grad():
    _, hidden_batch = model.encoder(probe["src"], probe["src_lengths"])
    shortest = int(probe["src_lengths"].argmin())
    n = int(probe["src_lengths"][shortest])
    _, hidden_alone = model.encoder(probe["src"][shortest:shortest + 1, :n], probe["src_lengths"][shortest:shortest + 1])
    packed_check = compare("packed vs unpadded", hidden_batch[:, shortest], hidden_alone[:, 0])

    encoder_outputs, hidden, src_mask = model.encode(probe["src"], probe["src_lengths"])
    logits, _, _ = model.decoder(probe["tgt_in"], hidden, encoder_outputs, src_mask)
    step_log_probs, _ = decode_step_by_step(model.decoder, probe["tgt_in"], hidden, encoder_outputs, src_mask)
    teacher_check = compare("forward vs step-by-step", logits.log_softmax(-1), step_log_probs)

    decoded = greedy_decode(model, probe["src"], probe["src_lengths"], max_len=12)
    token, state, chain = torch.full((8,), CharVocab.BOS, device=cfg.device), hidden, []
    for _ in range(decoded.tokens.shape[1]):
        log_probs, state, _ = model.decoder.step(token, state)
        token = log_probs.argmax(-1)
        chain.append(token)
    chain = torch.stack(chain, 1)
    is_eos = (decoded.tokens == CharVocab.EOS).long()
    up_to_eos = (is_eos.cumsum(1) - is_eos) == 0   # greedy pads after <eos>; compare up to it, included
    greedy_check = compare("greedy vs argmax chain", decoded.tokens[up_to_eos], chain[up_to_eos])
glue("day18_teacher_max_diff", teacher_check.max_diff)

# %% [markdown]
# The two decoders agree to {glue:text}`day18_teacher_max_diff:.1e`: float32 rounding, because the GRU
# kernel run over a whole sequence sums in another order than one step at a time. (The untrained model's
# greedy output is gibberish; only the equality matters here.) The same checks, for every decoder of the
# course, live in `tests/test_day18_seq2seq.py`.
#
# ## 3. Training with teacher forcing
#
# `train_seq2seq` runs Adam on shuffled batches, cuts each batch to its longest sequence, and clips the
# gradient norm at 1 (recurrent networks have occasional gradient spikes). Every few hundred steps we
# measure two accuracies on the test dates: the *teacher-forced* token accuracy (the decoder sees the gold
# prefix) and the *exact-match* accuracy of greedy decoding (the decoder sees its own outputs; every
# character must be right).

# %%
def scores(model: Seq2Seq, data: dict[str, torch.Tensor]) -> dict[str, float]:
    """Mean teacher-forced and greedy token accuracies and greedy exact match on ``data``."""
    result = evaluate(model, data)
    return {key: result[key].mean().item() for key in ("tf_token_acc", "greedy_token_acc", "exact")}


history, losses = [], []
for start in range(0, cfg.date_steps, cfg.eval_every):
    steps = min(cfg.eval_every, cfg.date_steps - start)
    losses += train_seq2seq(model, date_train, steps, cfg.batch_size, cfg.lr, seed=cfg.seed + start)
    history.append({"step": start + steps, **scores(model, date_test)})
    row = history[-1]
    print(f"step {row['step']:>5}  loss {np.mean(losses[-steps:]):.4f}  teacher-forced tokens "
          f"{row['tf_token_acc']:.4f}  greedy tokens {row['greedy_token_acc']:.4f}  exact {row['exact']:.4f}")

# %%
fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
axes[0].plot(losses, lw=0.8)
axes[0].set(xlabel="step", ylabel="cross-entropy (real tokens)", yscale="log", title="Training loss")
steps_axis = [row["step"] for row in history]
for key, label in (("tf_token_acc", "teacher-forced token acc."), ("greedy_token_acc", "greedy token acc."),
                   ("exact", "greedy exact match")):
    axes[1].plot(steps_axis, [row[key] for row in history], marker="o", label=label)
axes[1].set(xlabel="step", ylabel="accuracy on test dates", ylim=(0, 1.02), title="Test accuracy")
axes[1].legend(fontsize=8)
axes[1].grid(alpha=0.3)
fig.tight_layout()

# %% [markdown]
# A few test dates, decoded greedily:

# %%
def translate(model: Seq2Seq, sources: list[str], max_len: int = 15) -> list[str]:
    """Greedy outputs of ``model`` for raw source strings."""
    batch = encode_pairs([(s, "") for s in sources], vocab)
    decoded = greedy_decode(model, batch["src"].to(cfg.device), batch["src_lengths"].to(cfg.device), max_len)
    return [vocab.decode(row) for row in decoded.tokens.cpu()]


for (source, target), output in zip(test_pairs[:8], translate(model, [s for s, _ in test_pairs[:8]]), strict=True):
    print(f"{source!r:<40} -> {output!r:<14} {'ok' if output == target else 'WRONG, expected ' + target}")

# %% [markdown]
# ## 4. Exposure bias
#
# During training the decoder only ever sees gold prefixes. At test time it sees its own, and the first
# wrong character puts it in a state it was never trained in; the errors that follow are *exposure bias*
# (Ranzato et al., 2016). Two measurements. First, accuracy per output position, teacher-forced against
# free running: under teacher forcing each position is judged on its own, under greedy decoding an early
# error can drag the later ones down.

# %%
@torch.no_grad()
def per_position_accuracy(model: Seq2Seq, data: dict[str, torch.Tensor],
                          tgt_in: torch.Tensor | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Accuracy at each target position: teacher-forced (on ``tgt_in``, default the gold one) and greedy."""
    model.eval()
    src, lengths = data["src"].to(cfg.device), data["src_lengths"].to(cfg.device)
    gold = data["tgt_out"].to(cfg.device)
    tgt_in = (data["tgt_in"] if tgt_in is None else tgt_in).to(cfg.device)
    forced = (model(src, lengths, tgt_in).argmax(-1) == gold).float().mean(0)
    greedy = greedy_decode(model, src, lengths, gold.shape[1]).tokens
    free = (greedy[:, : gold.shape[1]] == gold).float().mean(0)
    return forced.cpu().numpy(), free.cpu().numpy()


forced_acc, free_acc = per_position_accuracy(model, date_test)
labels = list("YYYY-MM-DD") + ["<eos>"]
fig, ax = plt.subplots(figsize=(6, 3))
ax.plot(forced_acc, marker="o", label="teacher-forced (gold prefix)")
ax.plot(free_acc, marker="s", label="greedy (own prefix)")
ax.set_xticks(range(len(labels)), labels)
ax.set(xlabel="output position", ylabel="accuracy", title="Accuracy per position on the test dates")
ax.legend(fontsize=8)
ax.grid(alpha=0.3)
fig.tight_layout()
glue("day18_gap_last_digit", float(forced_acc[9] - free_acc[9]))

# %% [markdown]
# The year is nearly always right: in most formats it is written out in digits and only has to be copied.
# The errors start at the month (a name to turn into two digits, or one of two numeric orders to tell
# apart) and the day. The two curves agree up to the first hard position; after it the greedy curve falls
# further, because a greedy decoder that got the month wrong now reads a prefix it never saw in training:
# on the last digit it trails the teacher-forced accuracy by {glue:text}`day18_gap_last_digit:.3f`.
# The second measurement isolates the effect: keep the gold prefix but corrupt one digit of it, at random,
# and measure the teacher-forced accuracy of the positions *after* the corruption. The source still says
# everything the model needs; a model robust to its own errors would ignore the bad prefix.

# %%
DIGIT_POSITIONS = [1, 2, 3, 4, 6, 7, 9, 10]   # indices of the digits in tgt_in = <bos> Y Y Y Y - M M - D D


def corrupt_one_digit(data: dict[str, torch.Tensor], seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """tgt_in with one digit per sample replaced by another digit, and the corrupted positions."""
    g = torch.Generator().manual_seed(seed)
    tgt_in = data["tgt_in"].clone()
    rows = torch.arange(tgt_in.shape[0])
    where = torch.tensor(DIGIT_POSITIONS)[torch.randint(len(DIGIT_POSITIONS), (len(rows),), generator=g)]
    digits = torch.tensor([vocab.stoi[str(d)] for d in range(10)])
    old = tgt_in[rows, where]
    new = digits[torch.randint(10, (len(rows),), generator=g)]
    new = torch.where(new == old, digits[(new - digits[0] + 1) % 10], new)   # always a different digit
    tgt_in[rows, where] = new
    return tgt_in, where


@torch.no_grad()
def accuracy_after(model: Seq2Seq, data: dict[str, torch.Tensor], tgt_in: torch.Tensor,
                   where: torch.Tensor) -> float:
    """Teacher-forced token accuracy on the positions at or after ``where`` (the predictions that read it)."""
    model.eval()
    gold = data["tgt_out"].to(cfg.device)
    predicted = model(data["src"].to(cfg.device), data["src_lengths"].to(cfg.device), tgt_in.to(cfg.device)).argmax(-1)
    after = torch.arange(gold.shape[1], device=cfg.device) >= where.to(cfg.device)[:, None]
    return ((predicted == gold) & after).sum().item() / after.sum().item()


corrupted_in, corrupted_at = corrupt_one_digit(date_test, cfg.seed)
clean = accuracy_after(model, date_test, date_test["tgt_in"], corrupted_at)
dirty = accuracy_after(model, date_test, corrupted_in, corrupted_at)
print(f"accuracy after the corrupted position: gold prefix {clean:.4f}, one wrong digit {dirty:.4f}")

# %% [markdown]
# ### Scheduled sampling
#
# Bengio et al. (2015) proposed to close the gap during training: at each step, feed the gold token with
# probability $p$ and the model's own previous prediction otherwise, with $p$ decreasing from 1 over
# training (*scheduled sampling*). The coin is tossed per sample and per step, which forces the slower
# step-by-step loop. We fork the model trained so far and continue it in two ways for the same number of
# steps: one keeps teacher forcing, the other feeds the gold token with the probability of the
# settings table. Then we compare every measure of this section.

# %%
branches = {"teacher forcing": 1.0, "scheduled sampling": cfg.sampling_ratio}
forks, fork_results = {}, {}
for name, ratio in branches.items():
    forks[name] = copy.deepcopy(model)
    train_seq2seq(forks[name], date_train, cfg.fork_steps, cfg.batch_size, cfg.lr, teacher_forcing=ratio,
                  seed=cfg.seed + 1000)
    fork_results[name] = {**scores(forks[name], date_test),
                          "after_clean": accuracy_after(forks[name], date_test, date_test["tgt_in"], corrupted_at),
                          "after_corrupt": accuracy_after(forks[name], date_test, corrupted_in, corrupted_at)}

print(f"{'':<20} {'tf tokens':>9} {'greedy tokens':>13} {'exact':>7} {'after gold':>10} {'after 1 wrong':>13}")
for name, r in fork_results.items():
    print(f"{name:<20} {r['tf_token_acc']:>9.4f} {r['greedy_token_acc']:>13.4f} {r['exact']:>7.4f} "
          f"{r['after_clean']:>10.4f} {r['after_corrupt']:>13.4f}")
for name, key in (("tf", "teacher forcing"), ("ss", "scheduled sampling")):
    glue(f"day18_{name}_exact", fork_results[key]["exact"])
    glue(f"day18_{name}_after_corrupt", fork_results[key]["after_corrupt"])
    glue(f"day18_{name}_after_clean", fork_results[key]["after_clean"])

# %% [markdown]
# After one wrong digit in the prefix, the teacher-forced branch predicts the following characters with
# accuracy {glue:text}`day18_tf_after_corrupt:.3f` (against {glue:text}`day18_tf_after_clean:.3f` after a
# gold prefix); the branch trained on its own predictions reaches {glue:text}`day18_ss_after_corrupt:.3f`
# ({glue:text}`day18_ss_after_clean:.3f`). Exact match: {glue:text}`day18_tf_exact:.3f` with teacher
# forcing, {glue:text}`day18_ss_exact:.3f` with scheduled sampling. Read the table with care: `ci`'s fork
# is short and its model undertrained, and scheduled sampling trades part of the teacher-forced accuracy
# (the decoder's inputs are noisier) for robustness to its own mistakes. Whether it wins on exact match
# depends on the task and the schedule; the measured gap under a corrupted prefix is what it targets. On
# this task, where every output character is pinned by the source, a well-trained model recovers from a bad
# prefix; on open-ended generation (translation, day 20; language models, days 24 on) it cannot, and the
# gap matters more.
#
# ## 5. The bottleneck
#
# Whatever the source length, the decoder receives one vector of `hidden` numbers. A date fits. What about
# a string of 20 random letters that must be copied? We train a plain encoder-decoder to copy strings of
# lengths drawn uniformly between the settings' bounds, so every length is seen equally often in training,
# and measure the exact-match accuracy for each length on held-out strings.

# %%
alphabet = "abcdefghijklmnopqrst"
copy_vocab = CharVocab(alphabet)
copy_train = encode_pairs(sequence_pairs("copy", cfg.copy_train_size, cfg.copy_min_len, cfg.copy_max_len,
                                         seed=cfg.seed, alphabet=alphabet), copy_vocab)
copy_test = encode_pairs(sequence_pairs("copy", cfg.test_size, cfg.copy_min_len, cfg.copy_max_len,
                                        seed=cfg.seed + 1, alphabet=alphabet), copy_vocab)
torch.manual_seed(cfg.seed)
copier = Seq2Seq(Encoder(len(copy_vocab), cfg.embed_size, cfg.copy_hidden),
                 Decoder(len(copy_vocab), cfg.embed_size, cfg.copy_hidden)).to(cfg.device)
copy_losses = train_seq2seq(copier, copy_train, cfg.copy_steps, cfg.batch_size, cfg.lr, seed=cfg.seed)
copy_scores = evaluate(copier, copy_test)
lengths = copy_test["src_lengths"]
length_axis = list(range(cfg.copy_min_len, cfg.copy_max_len + 1))
exact_by_length = [copy_scores["exact"][lengths == n].mean().item() for n in length_axis]
token_by_length = [copy_scores["greedy_token_acc"][lengths == n].mean().item() for n in length_axis]
print(f"final loss {np.mean(copy_losses[-50:]):.4f}; exact match by length:")
print("  ".join(f"{n}:{acc:.2f}" for n, acc in zip(length_axis, exact_by_length, strict=True)))

# %%
fig, ax = plt.subplots(figsize=(6, 3.2))
ax.plot(length_axis, exact_by_length, marker="o", label="exact match")
ax.plot(length_axis, token_by_length, marker="s", label="greedy token accuracy")
ax.axhline(1 / len(alphabet), color="grey", ls=":", label=f"chance per token (1/{len(alphabet)})")
ax.set(xlabel="input length (characters)", ylabel="accuracy", ylim=(0, 1.02),
       title=f"Copying through one vector of {cfg.copy_hidden} numbers")
ax.xaxis.get_major_locator().set_params(integer=True)
ax.legend(fontsize=8)
ax.grid(alpha=0.3)
fig.tight_layout()
half = next((n for n, acc in zip(length_axis, exact_by_length, strict=True) if acc < 0.5), None)
glue("day18_copy_half_length", half if half is not None else cfg.copy_max_len)
glue("day18_copy_exact_short", exact_by_length[0])
glue("day18_copy_exact_long", exact_by_length[-1])

# %% [markdown]
# The shortest strings are copied with exact match {glue:text}`day18_copy_exact_short:.2f`; the exact
# match falls under one half from length {glue:text}`day18_copy_half_length` on and reaches
# {glue:text}`day18_copy_exact_long:.2f` at the longest. The token accuracy falls more slowly: the model
# gets the gist (the first letters, the last ones) and loses the middle. Two things limit it: the *capacity*
# of one vector (a random string of $n$ letters from 20 carries $n \log_2 20 \approx 4.3n$ bits), and the
# *path length*: the first letter must survive $n$ encoder steps and then $n$ decoder steps before it is
# written. More training and a wider GRU push the curve right (`laptop` and `gpu`), but do not remove the
# slope. Day 19 removes the bottleneck itself: the decoder will look back at every encoder state.
#
# ## Summary
#
# - An encoder-decoder reads the source into a context vector and writes the target one token at a time,
#   modelling $p(y\mid x) = \prod_t p(y_t \mid y_{<t}, x)$.
# - Teacher forcing trains on gold prefixes, in one fast call that equals the step-by-step decoder
#   (max difference {glue:text}`day18_teacher_max_diff:.1e`); greedy decoding feeds the model its own
#   argmax.
# - Exposure bias: a model trained only on gold prefixes never learned to continue a wrong one; scheduled
#   sampling feeds it its own predictions during training.
# - A single vector is a bottleneck: copy accuracy falls with the length of the input.
#
# Day 19 adds attention; day 20 replaces greedy decoding with beam search and translates real sentences.
#
# ## Exercises
#
# ```{exercise}
# :label: day18-shift
# Teacher forcing needs the decoder's inputs, which are the outputs shifted right by one. Write
# `shift_right(tgt_out, bos_id, eos_id, pad_id)` that builds `tgt_in` from `tgt_out` (both (B, T), padded
# with `pad_id` on the right): `<bos>` first, then the target, and no `<eos>` among the inputs. The cell
# checks it against `encode_pairs` on batches of dates. What goes wrong if `<eos>` stays in the inputs?
# ```

# %% tags=["hide-input"]
from helpers.checks import check_function


def shift_right(tgt_out: torch.Tensor, bos_id: int, eos_id: int, pad_id: int) -> torch.Tensor:
    """Decoder inputs for teacher forcing: <bos> + tgt_out without its last column, <eos> -> <pad>."""
    ### BEGIN SOLUTION
    shifted = torch.cat([torch.full_like(tgt_out[:, :1], bos_id), tgt_out[:, :-1]], dim=1)
    return shifted.masked_fill(shifted == eos_id, pad_id)
    ### END SOLUTION


check_function("shift_right", lambda out: shift_right(out, CharVocab.BOS, CharVocab.EOS, CharVocab.PAD),
               [((batch["tgt_out"],), batch["tgt_in"]) for batch in
                (encode_pairs(date_pairs(n, seed=s), vocab) for n, s in ((1, 0), (5, 1), (32, 2)))])

# %% [markdown]
# ```{solution} day18-shift
# :class: dropdown
# Put `<bos>` in front and drop the last column: position $t$ of the input is then the token of position
# $t-1$ of the output. The last real input of each row is now `<eos>` (the shortest rows have it somewhere
# in the middle), and it must become `<pad>`: the decoder never needs to read `<eos>`, since nothing is
# predicted after it. Left in, the padded rows would feed `<eos>` at a position where the loss is ignored
# anyway (the target there is `<pad>`), so nothing changes numerically; it does change the shapes'
# meaning, and it breaks the identity "`tgt_in` is exactly what the decoder will read at test time", which
# the step-by-step check of section 2 relies on.
# ```
#
# ````{exercise}
# :label: day18-reverse
# Sutskever et al. (2014) found that their encoder-decoder translated better when the *source* sentence
# was reversed. Train the copier of section 5 again, with the same settings, on reversed sources (the
# target stays in order: use the `"reverse"` task and swap the pair). Before running it, predict the
# shape of the accuracy-vs-length curve. Then explain the result with the path-length argument of
# section 5.
# ````
#
# ````{solution} day18-reverse
# :class: dropdown
# With the source reversed, the first letter to write is the last one the encoder read: the distance from
# $x_1$ to $y_1$ falls from about $2n$ steps to one, and the first letters (which condition all the others)
# are right far more often. The curve moves up and to the right, most of all at medium lengths, but still
# falls: the *last* letters now have the long path, and the capacity of one vector is unchanged.
#
# ```python
# reversed_train = encode_pairs([(t, s) for s, t in sequence_pairs(
#     "reverse", cfg.copy_train_size, cfg.copy_min_len, cfg.copy_max_len, seed=cfg.seed, alphabet=alphabet)],
#     copy_vocab)
# reversed_test = encode_pairs([(t, s) for s, t in sequence_pairs(
#     "reverse", cfg.test_size, cfg.copy_min_len, cfg.copy_max_len, seed=cfg.seed + 1, alphabet=alphabet)],
#     copy_vocab)
# torch.manual_seed(cfg.seed)
# reverser = Seq2Seq(Encoder(len(copy_vocab), cfg.embed_size, cfg.copy_hidden),
#                    Decoder(len(copy_vocab), cfg.embed_size, cfg.copy_hidden)).to(cfg.device)
# train_seq2seq(reverser, reversed_train, cfg.copy_steps, cfg.batch_size, cfg.lr, seed=cfg.seed)
# result = evaluate(reverser, reversed_test)
# print([round(result["exact"][reversed_test["src_lengths"] == n].mean().item(), 2) for n in length_axis])
# ```
# ````
#
# ```{exercise}
# :label: day18-capacity
# Is the bottleneck a matter of width? Train copiers with `hidden` = 32, 64 and 128 (same steps) and plot
# their exact match against length on one figure. Does doubling the width double the length copied at
# 50 %? Why might a wider model also need more steps?
# ```
#
# ```{solution} day18-capacity
# :class: dropdown
# Wider states move the curve to the right, but far less than proportionally: the length at 50 % grows by
# a few characters per doubling in a fixed budget of steps. A vector of 64 floats could in principle store
# far more than 20 letters; the limit is what a GRU can *learn* to write into it and read back with
# gradient descent, over a path of $2n$ steps, and a wider GRU has more parameters to fit in the same
# number of steps. Attention (day 19) changes the scaling: the memory grows with the input.
# ```

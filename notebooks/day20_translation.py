# %% [markdown]
# # Day 20: Translation with subwords, beam search and BLEU
#
# Days 18 and 19 built a GRU encoder-decoder and gave it attention, on dates that a program wrote. Today the
# same model translates real sentences written by people. Three things change when the data is real: the
# vocabulary is open (so we cut words into *subwords*), the most probable translation is no longer found by
# picking the best word at each step (so we search with a *beam*), and there is no single right answer
# (so we score with *BLEU*, against a reference translation).
#
# **Objectives**
# - shuffle, split and tokenise a parallel corpus with a byte-pair-encoding vocabulary learnt on the
#   training split only;
# - train an attention translator with a loss that ignores padding, and see why a loss that averages over
#   pads (as a seed article did) gives numbers that cannot be compared;
# - write beam search with length normalisation for any `step(tokens, state)` decoder, and check it: beam 1
#   equals greedy, and a wide beam equals exhaustive search;
# - compute BLEU by hand, equal to `sacrebleu`, and find what limits it;
# - read attention heatmaps on real sentences.
#
# **Profiles.** `ci` translates English into German with the 5.7k sentence pairs of the FreeDict
# English-German dictionary (Debian `dict-freedict-eng-deu`, offline), 1,000-token BPE vocabularies and a
# 0.6M-parameter model. It trains live for 100 steps (seconds), to show the start of training, then loads the
# checkpoint that `scripts/train_day20_translator.py` trained with the same code, data and settings for
# 1,000 steps (`data/day20_translator.safetensors`, about 4 minutes of CPU; the command is in its log).
# Expect a low BLEU from it: 5k training sentences are far too few to learn German, as section 6 shows.
# `laptop` downloads Tatoeba English-French (60k pairs; an estimated 30 minutes on 2 cores) and chases the
# seed's validation NLL of 0.54; `gpu` trains Chinese to English on all of Tatoeba's pairs and chases the
# seed's BLEU of 23.2 (lower-cased). Sizes are in `helpers/days/day20.py`.

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

cfg = setup("day20", PROFILE)

# %%
import math
import statistics
import warnings
from collections import Counter

import matplotlib.pyplot as plt
import numpy as np
import sacrebleu
import torch
import torch.nn.functional as F
from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a

from helpers import compare, count_parameters, glue, viz
from helpers import translation as tr
from helpers.decoding import beam_search, exhaustive_search, greedy_search, seq2seq_step

warnings.filterwarnings("ignore", message="IProgress not found")  # tqdm's notice names a file path

if cfg.num_threads:  # small matrices: a second thread costs more in synchronisation than it saves
    torch.set_num_threads(cfg.num_threads)

# %% [markdown]
# ## 1. Sentence pairs
#
# A translation corpus is a list of (source, target) sentence pairs. Before anything else it is shuffled,
# then split: files are rarely in random order (FreeDict lists its example sentences entry by entry, so
# neighbours share their words; other corpora are sorted by length), and a split by position would test on
# sentences unlike the training ones. One of the seed articles sorted by length and then split, so its
# validation set held only the longest sentences. A dictionary also repeats itself: "It is my word against
# yours." and "It's his word against hers." are both "Hier steht Aussage gegen Aussage.". `split_pairs`
# moves a held-out pair whose source or target also occurs in the training split into it, so that the
# test measures the translation of *unseen* sentences.

# %%
raw_pairs = tr.load_parallel_pairs(cfg.params)
print(f"{len(raw_pairs)} pairs; in file order, the first and last sources:")
for source, _ in raw_pairs[:3] + raw_pairs[-3:]:
    print("  ", source)

data = tr.prepare_data(cfg.params)   # shuffle + split, BPE vocabularies, datasets and loaders
print(f"train {len(data.train)} | valid {len(data.valid)} | test {len(data.test)} pairs")
for source, target in data.train[:4]:
    print(f"  {source}  =>  {target}")

# %% [markdown]
# ## 2. A subword vocabulary
#
# A word-level vocabulary cannot cover an open language: German glues words together
# ("Geschäftsabschluss"), every verb has a dozen forms, and names keep coming. *Byte-pair encoding*
# (Sennrich et al., 2016) starts from characters and repeatedly merges the most frequent adjacent pair into
# a new symbol, until the vocabulary has the size we ask for. Frequent words end up as one token, rare
# ones as a few pieces, and any word made of known characters can be written. We train one vocabulary per
# language with the `tokenizers` library, **on the training split only** (a vocabulary that saw the test
# sentences would leak them). A space is kept as the marker `▁` at the start of the next word, so decoding
# gives back the exact text, and BLEU can be computed on real output.

# %%
for tokenizer, text in ((data.src_tokenizer, data.valid[0][0]), (data.tgt_tokenizer, data.valid[0][1])):
    ids = tr.encode(tokenizer, [text])[0]
    print(f"{text!r}\n   -> {[tokenizer.id_to_token(i) for i in ids]}")
    print(f"   decoded back: {tr.decode(tokenizer, [ids])[0] == text}")

train_words = Counter(word for source, _ in data.train for word in source.split())
word_vocab = {word for word, count in train_words.items() if count >= 2}
valid_words = [word for source, _ in data.valid for word in source.split()]
word_oov = np.mean([word not in word_vocab for word in valid_words])
valid_src_ids = data.src_ids(data.valid)
bpe_unk = np.mean([i == tr.UNK_ID for row in valid_src_ids for i in row])
print(f"word vocabulary (words seen twice in train): {len(word_vocab)} entries, "
      f"{word_oov:.2%} of the valid words unknown")
print(f"BPE vocabulary: {data.src_tokenizer.get_vocab_size()} entries, {bpe_unk:.2%} of the valid tokens unknown")
print(f"tokens per sentence (train, median): source "
      f"{statistics.median(len(s) for s in data.train_set.src)}, target "
      f"{statistics.median(len(t) for t in data.train_set.tgt)}")
_ = glue("day20_word_oov", float(word_oov)), glue("day20_word_vocab", len(word_vocab))

# %% [markdown]
# A word vocabulary learnt on the training split misses {glue:text}`day20_word_oov:.1%` of the validation
# words even with {glue:text}`day20_word_vocab` entries; the BPE vocabulary writes every one of them with
# fewer entries, at the price of longer sequences.
#
# ## 3. The translator and its loss
#
# The model is day 19's: a bidirectional GRU encoder whose outputs are the keys and values of an additive
# (Bahdanau) attention, and a GRU decoder that attends at every step (`helpers.translation.build_translator`
# assembles `helpers.seq2seq` and `helpers.attention`). Targets are shifted: the decoder reads
# `<bos> y_1 ... y_T` and predicts `y_1 ... y_T <eos>`. Batches are padded to their own longest sentence
# (`collate_pairs`), never to one global maximum length.
#
# The loss is the mean negative log-likelihood over the **real** target tokens, pads excluded:
#
# $$
# \mathcal{L} = -\frac{1}{\sum_{i,t} m_{it}} \sum_{i,t} m_{it} \log p_\theta(y_{it} \mid y_{i,<t}, x_i),
# \qquad m_{it} = [\,y_{it} \neq \texttt{<pad>}\,],
# $$
#
# which is `F.cross_entropy(..., ignore_index=pad)`. We check the formula on one batch of the untrained
# model, whose loss should sit near $\ln V$, the loss of a uniform guess.

# %%
model = tr.build_translator(data.src_tokenizer.get_vocab_size(), data.tgt_tokenizer.get_vocab_size(),
                            cfg.embed_size, cfg.hidden_size, cfg.attention, cfg.dropout).to(cfg.device)
print(f"{count_parameters(model)[0]:,} parameters")

batch = {key: value.to(cfg.device) for key, value in next(iter(data.valid_loader)).items()}
with torch.no_grad():
    logits = model(batch["src"], batch["src_lengths"], batch["tgt_in"])
log_probs = logits.log_softmax(-1).gather(-1, batch["tgt_out"][..., None]).squeeze(-1)
real = batch["tgt_out"] != tr.PAD_ID
masked_by_hand = -(log_probs * real).sum() / real.sum()
masked_check = compare("masked NLL vs ignore_index", masked_by_hand,
                       F.cross_entropy(logits.flatten(0, 1), batch["tgt_out"].flatten(), ignore_index=tr.PAD_ID))
print(f"untrained loss {masked_by_hand.item():.4f} vs ln V = {math.log(data.tgt_tokenizer.get_vocab_size()):.4f}")

# %% [markdown]
# ## 4. Training
#
# Adam, gradient clipping at norm 1, the masked loss. Every few steps we record the validation NLL and the
# BLEU of greedy translations of validation *and* training sentences (section 6 explains BLEU); the gap
# between the two tells us whether the model generalises or memorises.

# %%
evaluate = data.evaluator(cfg.eval_sentences, with_train=True)
history = tr.train_translator(model, data.train_loader, cfg.steps, cfg.lr, cfg.grad_clip,
                              evaluate=evaluate, eval_every=cfg.eval_every)
_ = glue("day20_live_steps", cfg.steps)

# %% [markdown]
# After {glue:text}`day20_live_steps` steps the loss has fallen from $\ln V$, but the translations are
# still mostly frequent words. Training to a useful point takes longer than the `ci` budget, so `ci` loads the
# checkpoint that the course's script trained with the same data, vocabularies, model and loop
# ("load if it exists, else train": without the file, the next cell trains for as long as the script
# does). Same code and seed, same run: the live run's record matches the checkpoint run's at the same step
# (to rounding: the script ran without the notebook's pinned CPU kernels).
# `laptop` and `gpu` have no checkpoint: their live run above is the full run.

# %%
log = tr.load_checkpoint(model, cfg.checkpoint, data) if cfg.checkpoint else None
if cfg.checkpoint and log is None:   # no checkpoint on disk: train as long as the script does
    model = tr.build_translator(data.src_tokenizer.get_vocab_size(), data.tgt_tokenizer.get_vocab_size(),
                                cfg.embed_size, cfg.hidden_size, cfg.attention, cfg.dropout).to(cfg.device)
    log = {"command": "trained in this notebook", "steps": cfg.checkpoint_steps,
           "history": tr.train_translator(model, data.train_loader, cfg.checkpoint_steps, cfg.lr, cfg.grad_clip,
                                          evaluate=evaluate, eval_every=cfg.checkpoint_eval_every)}
full_history = log["history"] if log else history
if log:
    print(f"checkpoint: {log['steps']} steps, made by `{log['command']}`")
    same_step = next((r for r in log["history"] if r["step"] == history[-1]["step"]), None)
    agree = same_step is not None and all(abs(same_step[k] - v) < 1e-3 for k, v in history[-1].items())
    print(f"the live run at step {history[-1]['step']} agrees with the checkpoint's run there (to 1e-3): {agree}")
model.eval()
last = full_history[-1]
print({key: round(value, 4) for key, value in last.items()})

# %%
glue("day20_valid_nll", last["valid_nll"])
glue("day20_train_bleu", last["train_bleu"])
glue("day20_valid_bleu_last", last["valid_bleu"])
steps = [record["step"] for record in full_history]
fig, axes = plt.subplots(1, 2, figsize=(10, 3.4))
axes[0].plot(steps, [r["train_loss"] for r in full_history], marker="o", label="train (masked)")
axes[0].plot(steps, [r["valid_nll"] for r in full_history], marker="o", label="valid (masked)")
axes[0].set(xlabel="optimizer step", ylabel="NLL per token (nats)", title="Loss")
axes[1].plot(steps, [r["train_bleu"] for r in full_history], marker="o", label="training sentences")
axes[1].plot(steps, [r["valid_bleu"] for r in full_history], marker="o", label="validation sentences")
axes[1].set(xlabel="optimizer step", ylabel="BLEU (greedy)", title="BLEU against training steps")
for ax in axes:
    ax.grid(alpha=0.3)
    ax.legend()
fig.tight_layout()

# %% [markdown]
# The training loss keeps falling while the validation NLL flattens and then rises: with a few thousand
# sentences the model starts to memorise. BLEU says the same more bluntly: at the last step the model
# scores {glue:text}`day20_train_bleu:.1f` on sentences it trained on and
# {glue:text}`day20_valid_bleu_last:.1f` on new ones.
#
# ## 5. Decoding: greedy search and beam search
#
# The model gives $p(y_t \mid y_{<t}, x)$; we want the translation with the highest
# $\log p(y \mid x) = \sum_t \log p(y_t \mid y_{<t}, x)$. *Greedy search* takes the most probable token at
# each step. It can miss: a token that looks good now may lead only to poor continuations. Exhaustive
# search would score all $V^L$ sequences, which is hopeless. *Beam search* keeps the $k$ best prefixes at
# each step, extends each by every token, and keeps the $k$ best of the $kV$ candidates; a candidate that
# ends with `<eos>` is set aside as finished, and a sentence is done when $k$ hypotheses have finished.
#
# Summing log-probabilities favours short outputs (each extra token adds a negative term), so finished
# hypotheses of different lengths are compared by a **length-normalised** score,
#
# $$
# s(y) = \frac{1}{L^{\alpha}} \sum_{t=1}^{L} \log p(y_t \mid y_{<t}, x),
# $$
#
# with $\alpha = 0$ for the plain sum and $\alpha = 1$ for the mean log-probability per token. The
# implementation in `helpers/decoding.py` sees the model only through `step(tokens, state) -> (log_probs,
# state)`, so Transformer decoders (days 22-23, 31-33) use it too. A toy model shows greedy's mistake:
# the first token is A (0.6) or B (0.4); after A, four tokens are equally likely; after B, `<eos>` is
# certain.

# %%
EOS, A, B, BOS = 0, 1, 2, 4


def toy_step(tokens: torch.Tensor, state: None) -> tuple[torch.Tensor, None]:
    """log p(next token | prefix) of the toy model above (vocabulary: <eos>, A, B, C)."""
    rows = []
    for prefix in tokens.tolist():
        probs = torch.full((4,), 1e-9, dtype=torch.float64)
        if len(prefix) == 1:
            probs[A], probs[B] = 0.6, 0.4
        elif prefix[1] == A:
            probs[:] = 0.25
        else:
            probs[EOS] = 1.0
        rows.append((probs / probs.sum()).log())
    return torch.stack(rows), None


names = {EOS: "<eos>", A: "A", B: "B", 3: "C"}
(toy_greedy,) = greedy_search(toy_step, None, 1, BOS, EOS, max_len=3)
(toy_beam,) = beam_search(toy_step, None, 1, BOS, EOS, max_len=3, beam_size=2, length_penalty=0.0)
toy_best = exhaustive_search(toy_step, None, BOS, EOS, max_len=3, length_penalty=0.0)[0]
for label, hyp in (("greedy", toy_greedy), ("beam k=2", toy_beam[0]), ("exhaustive", toy_best)):
    print(f"{label:<11} {[names[t] for t in hyp.tokens]}  p = {math.exp(hyp.log_prob):.3f}")

# %% [markdown]
# Two checks pin the implementation down (the same ones, on random models, are in `tests/test_decoding.py`):
# with $k = 1$ beam search *is* greedy search, token for token and score for score; and with a beam wider
# than the number of possible prefixes it *is* exhaustive search. Here on a batch of validation sentences
# and on the toy model with a random prefix-dependent distribution:

# %%
valid_batch = {key: value.to(cfg.device)
               for key, value in tr.collate_pairs([(ids, []) for ids in valid_src_ids[:64]]).items()}
step, state = seq2seq_step(model, valid_batch["src"], valid_batch["src_lengths"])
greedy_hyps = greedy_search(step, state, 64, tr.BOS_ID, tr.EOS_ID, cfg.decode_max_len)
beam1_hyps = [h[0] for h in beam_search(step, state, 64, tr.BOS_ID, tr.EOS_ID, cfg.decode_max_len, beam_size=1)]
print("beam 1 == greedy, same tokens:", all(g.tokens == b.tokens for g, b in zip(greedy_hyps, beam1_hyps,
                                                                                    strict=True)))
beam1_check = compare("beam 1 vs greedy: log p", [b.log_prob for b in beam1_hyps], [g.log_prob for g in greedy_hyps])


def random_step(tokens: torch.Tensor, state: None) -> tuple[torch.Tensor, None]:
    """A random distribution over 4 tokens for every prefix, seeded by the prefix itself."""
    rows = []
    for prefix in tokens.tolist():
        seed = 1000 + sum(t * 7 ** i for i, t in enumerate(prefix))
        rows.append(torch.randn(4, generator=torch.Generator().manual_seed(seed), dtype=torch.float64) * 2)
    return torch.stack(rows).log_softmax(-1), None


wide_scores, exhaustive_scores = [], []
for alpha in cfg.sweep_alphas:
    (wide,) = beam_search(random_step, None, 1, BOS, EOS, max_len=4, beam_size=3 ** 4, length_penalty=alpha)
    best = exhaustive_search(random_step, None, BOS, EOS, max_len=4, length_penalty=alpha)[0]
    wide_scores.append(wide[0].score)
    exhaustive_scores.append(best.score)
    print(f"alpha {alpha}: wide beam {wide[0].tokens}, exhaustive {best.tokens}")
exhaustive_check = compare("wide beam vs exhaustive", wide_scores, exhaustive_scores)

# %% [markdown]
# ### Beam size and length penalty on real sentences
#
# Which $k$ and $\alpha$ should a translator use? We translate validation sentences with each combination
# and record BLEU and the length of the output relative to the reference.

# %%
sweep_pairs = data.valid[: cfg.sweep_sentences]
sweep_ids = data.src_ids(sweep_pairs)
ref_words = sum(len(target.split()) for _, target in sweep_pairs)
sweep = {}
greedy_sweep = tr.translate(model, sweep_ids, 1, 0.0, cfg.decode_max_len)   # alpha does not change greedy
print(f"{'alpha':>5} {'beam':>4} | {'BLEU':>6} {'length ratio':>12} {'mean log p':>10}")
for alpha in cfg.sweep_alphas:
    for beam_size in cfg.sweep_beams:
        hyps = greedy_sweep if beam_size == 1 else tr.translate(model, sweep_ids, beam_size, alpha,
                                                                cfg.decode_max_len)
        texts = tr.decode(data.tgt_tokenizer, [h.tokens for h in hyps])
        sweep[alpha, beam_size] = {"bleu": data.bleu(texts, sweep_pairs),
                                   "ratio": sum(len(t.split()) for t in texts) / ref_words,
                                   "log_prob": float(np.mean([h.log_prob for h in hyps]))}
        row = sweep[alpha, beam_size]
        print(f"{alpha:>5} {beam_size:>4} | {row['bleu']:>6.2f} {row['ratio']:>12.3f} {row['log_prob']:>10.3f}")

fig, axes = plt.subplots(1, 2, figsize=(10, 3.2))
for alpha in cfg.sweep_alphas:
    axes[0].plot(cfg.sweep_beams, [sweep[alpha, k]["bleu"] for k in cfg.sweep_beams], marker="o",
                 label=f"α = {alpha}")
    axes[1].plot(cfg.sweep_beams, [sweep[alpha, k]["ratio"] for k in cfg.sweep_beams], marker="o",
                 label=f"α = {alpha}")
axes[0].set(xlabel="beam size k", ylabel="BLEU", title="BLEU (validation)")
axes[1].set(xlabel="beam size k", ylabel="output words / reference words", title="Output length")
axes[1].axhline(1.0, color="grey", linestyle=":")
for ax in axes:
    ax.set_xscale("log", base=2)
    ax.set_xticks(cfg.sweep_beams, [str(k) for k in cfg.sweep_beams])
    ax.grid(alpha=0.3)
    ax.legend()
k_max, a_max = max(cfg.sweep_beams), max(cfg.sweep_alphas)
glue("day20_ratio_alpha0", sweep[0.0, k_max]["ratio"])
glue("day20_ratio_alpha1", sweep[a_max, k_max]["ratio"])
glue("day20_k_max", k_max)
fig.tight_layout()

# %% [markdown]
# A wider beam always finds hypotheses with a higher mean log-probability (last column), but that is the
# model's opinion, not the reference's. Without normalisation ($\alpha = 0$) a wide beam prefers short
# outputs: at $k$ = {glue:text}`day20_k_max` they are {glue:text}`day20_ratio_alpha0:.2f` times the
# reference length, against {glue:text}`day20_ratio_alpha1:.2f` with $\alpha = 1$. BLEU punishes short
# outputs through its brevity penalty, which is why translators normalise.
#
# ### Test set
#
# Finally the test sentences, with greedy search and with beam search ($k$ and $\alpha$ from the settings),
# scored by `sacrebleu` (its default `13a` tokenisation, cased unless the profile says otherwise):

# %%
test_ids = data.src_ids(data.test)
test_greedy = tr.decode(data.tgt_tokenizer, [h.tokens for h in tr.translate(model, test_ids, 1, 0.0,
                                                                              cfg.decode_max_len)])
test_beam = tr.decode(data.tgt_tokenizer, [h.tokens for h in tr.translate(model, test_ids, cfg.beam_size,
                                                                            cfg.length_penalty,
                                                                            cfg.decode_max_len)])
bleu_greedy, bleu_beam = data.bleu(test_greedy, data.test), data.bleu(test_beam, data.test)
print(f"test BLEU: greedy {bleu_greedy:.2f} | beam k={cfg.beam_size}, α={cfg.length_penalty}: {bleu_beam:.2f} "
      f"| difference {bleu_beam - bleu_greedy:+.2f}")
glue("day20_bleu_greedy", bleu_greedy)
glue("day20_bleu_beam", bleu_beam)
for (source, target), greedy_text, beam_text in list(zip(data.test, test_greedy, test_beam, strict=True))[:6]:
    print(f"\nsource: {source}\nref:    {target}\ngreedy: {greedy_text}\nbeam:   {beam_text}")

# %% [markdown]
# ## 6. BLEU, by hand
#
# BLEU (Papineni et al., 2002) compares the n-grams of the output with those of the reference, over the
# whole corpus. For $n = 1..4$ the *modified precision* $p_n$ counts the output's n-grams that appear in
# the reference, each at most as often as it appears there ("clipping": "the the the" does not get three
# matches against "the cat"), divided by the number of output n-grams. Precision alone rewards short
# outputs, so a *brevity penalty* applies when the output (total length $c$) is shorter than the
# references ($r$):
#
# $$
# \mathrm{BLEU} = \mathrm{BP}\cdot\exp\Big(\frac14\sum_{n=1}^{4}\log p_n\Big), \qquad
# \mathrm{BP} = \begin{cases} 1 & c > r \\ e^{\,1 - r/c} & c \le r \end{cases}
# $$
#
# `helpers.translation.bleu_statistics` implements it on whitespace tokens. `sacrebleu` first tokenises
# with its `13a` rules (punctuation split off), so we apply the same tokeniser, then compare every
# statistic. `sacrebleu` smooths by default when some $p_n$ is zero; we switch that off to compare the
# definitions.

# %%
tokenize_13a = Tokenizer13a()
prepare = (lambda text: tokenize_13a(text.lower())) if data.bleu_lowercase else tokenize_13a
mine = tr.bleu_statistics([prepare(h) for h in test_beam], [[prepare(t) for _, t in data.test]])
reference = sacrebleu.corpus_bleu(test_beam, [[t for _, t in data.test]], lowercase=data.bleu_lowercase,
                                  smooth_method="none")
print("matches", mine.matches, "totals", mine.totals, f"| BP {mine.brevity_penalty:.4f}")
counts_check = compare("n-gram matches", list(mine.matches), reference.counts)
compare("n-gram totals", list(mine.totals), reference.totals)
bleu_check = compare("BLEU by hand", mine.score, reference.score)

# %% [markdown]
# ### What limits BLEU here
#
# The test BLEU of {glue:text}`day20_bleu_beam:.1f` is low, and it is not one thing:
#
# - **data size**: the curves of section 4 show the model scoring {glue:text}`day20_train_bleu:.1f` on its
#   training sentences and far less on new ones. It memorises 5k sentences instead of learning German;
#   the validation NLL turns up while the training loss still falls. More data is the cure: `laptop`
#   trains on 12 times more pairs, `gpu` on all of Tatoeba's;
# - **steps and model size**: BLEU on validation grows with steps only until the memorising starts; a
#   larger model would memorise faster, not generalise better, without more data;
# - **the sentences**: dictionary examples are idioms and free translations ("Join the club!" is
#   "Willkommen im Klub!"), scored against one reference; and the longest sentences score lowest:

# %%
buckets = [(1, 5), (6, 8), (9, 12), (13, 100)]
bucket_bleu, bucket_sizes = [], []
for low, high in buckets:
    index = [i for i, (source, _) in enumerate(data.test) if low <= len(source.split()) <= high]
    bucket_sizes.append(len(index))
    bucket_bleu.append(data.bleu([test_beam[i] for i in index], [data.test[i] for i in index]))
labels = [f"{low}-{high}" if high < 100 else f"{low}+" for low, high in buckets]
print({label: (size, round(score, 2)) for label, size, score in zip(labels, bucket_sizes, bucket_bleu,
                                                                   strict=True)})
fig, ax = plt.subplots(figsize=(5, 3))
ax.bar(labels, bucket_bleu)
for x, (size, score) in enumerate(zip(bucket_sizes, bucket_bleu, strict=True)):
    ax.text(x, score, f"n={size}", ha="center", va="bottom", fontsize=8)
ax.set(xlabel="source length (words)", ylabel="BLEU (beam)", title="Test BLEU by sentence length")
fig.tight_layout()

# %% [markdown]
# ## 7. Attention on real sentences
#
# For a decoded sentence we run the decoder once more with teacher forcing on its own output, which gives
# the attention weights of every output token (rows) over every source token (columns). The columns are
# the whole source as the encoder saw it (a seed article sliced the source axis by the length of the
# *decoded* output, which shows the wrong keys). Each row sums to 1. We show the short training sentence
# (of 100) that the model reproduces best and the short test sentence that it translates best, by
# sentence-level BLEU: most test outputs are too wrong for their attention to mean much. A summary of each map is the mean over its
# rows of the largest weight: $1/S$ for attention spread evenly over $S$ source tokens, 1 for a hard
# alignment.

# %%
@torch.no_grad()
def attention_map(source: str) -> tuple[torch.Tensor, list[str], list[str], str]:
    """Weights (output x source tokens) of the beam translation of ``source``, token labels, translation."""
    src = tr.encode(data.src_tokenizer, [source])[0]
    hyp = tr.translate(model, [src], cfg.beam_size, cfg.length_penalty, cfg.decode_max_len)[0]
    batch = {key: value.to(cfg.device) for key, value in tr.collate_pairs([(src, list(hyp.tokens))]).items()}
    encoder_outputs, hidden, src_mask = model.encode(batch["src"], batch["src_lengths"])
    _, _, weights = model.decoder(batch["tgt_in"], hidden, encoder_outputs, src_mask)
    outputs = [data.tgt_tokenizer.id_to_token(i) for i in hyp.tokens] + ["<eos>"] * hyp.finished
    translation = tr.decode(data.tgt_tokenizer, [hyp.tokens])[0]
    return weights[0, : len(outputs)].cpu(), outputs, [data.src_tokenizer.id_to_token(i) for i in src], translation


short_test = [i for i, (source, _) in enumerate(data.test) if 4 <= len(source.split()) <= 8]
best_test = max(short_test, key=lambda i: sacrebleu.sentence_bleu(test_beam[i], [data.test[i][1]]).score)
short_train = [pair for pair in data.train if 4 <= len(pair[0].split()) <= 8][:100]
train_outputs = data.translate(model, short_train, cfg.beam_size, cfg.length_penalty)
train_example = max(zip(short_train, train_outputs, strict=True),
                    key=lambda item: sacrebleu.sentence_bleu(item[1], [item[0][1]]).score)[0]
fig, axes = plt.subplots(1, 2, figsize=(12, 5.5))
for ax, (label, (source, target)) in zip(axes, (("training", train_example), ("test", data.test[best_test])),
                                          strict=True):
    weights, outputs, inputs, translation = attention_map(source)
    viz.attention_heatmap(weights, outputs, key_tokens=inputs, ax=ax, title=f"{label}: {source}")
    ax.set(xlabel="source token (key)", ylabel="output token (query)")
    sharpness = weights.max(dim=-1).values.mean().item()
    glue(f"day20_sharpness_{label}", sharpness)
    glue(f"day20_uniform_{label}", 1 / len(inputs))
    print(f"{label}: {source}\n  output:    {translation}\n  reference: {target}\n"
          f"  mean largest weight {sharpness:.2f} (uniform: {1 / len(inputs):.2f}), rows sum to 1: "
          f"{torch.allclose(weights.sum(-1), torch.ones(len(outputs)))}")
fig.tight_layout()

# %% [markdown]
# On the training sentence the weights run down the diagonal: "Es ist keine Milch" reads "There is no
# milk" about one word at a time, and the full stop reads the full stop. On the test sentence the
# alignment is partly right: `▁ich` looks at the second "I", `▁es` at the last "it", the full stop at the
# full stop and `▁wenn` around "it till", while the wrong ending ("geschafft") reads "till". The mean
# largest weight is {glue:text}`day20_sharpness_training:.2f` and {glue:text}`day20_sharpness_test:.2f`,
# against {glue:text}`day20_uniform_training:.2f` and {glue:text}`day20_uniform_test:.2f` for even
# attention: the attention is only as good as the model, and this model has seen 5k sentences. With more
# data (`laptop`, `gpu`) expect the test maps to sharpen as the translations improve, with the word-order
# changes of the target language (a German verb moved to the end of its clause) as jumps away from the
# diagonal.
#
# ## 8. The seed figures, and a loss that counts pads
#
# A 2023 seed article reports a best validation NLL of **0.54** on Tatoeba English-French, and a 2025 one a
# BLEU of **23.2** on Chinese-English (lower-cased). The first number cannot be compared with ours, nor with
# any masked loss: it padded every target to one global maximum length and averaged the loss over *all*
# positions, pads included. A model trained that way learns that a pad follows `<eos>` or a pad, a
# prediction it gets right with loss near 0, so each pad adds a near-zero term to the mean. With $N$ real
# tokens, $P$ pads and a masked NLL $\ell$, the reported number is about
#
# $$
# \ell_{\text{with pads}} \approx \frac{N\,\ell + P\cdot 0}{N + P} = \ell \,\frac{N}{N + P},
# $$
#
# which falls as the padding length grows, without any change in translation. Our model never saw a pad
# in its loss, so it has no idea what follows `<eos>`: scored with pads included, its NLL goes *up* (the
# training log of section 4 shows `valid_nll_with_pads` rising while the masked NLL falls):

# %%
nll_masked = tr.token_nll(model, data.valid_loader)
nll_with_pads = tr.token_nll(model, data.valid_loader, include_pads=True)
pad_to = max(len(t) for t in data.train_set.tgt) + 1          # one global maximum length, as the seed did
real_tokens = sum(len(t) + 1 for t in data.valid_set.tgt)     # + <eos>
positions = len(data.valid_set) * pad_to
diluted = nll_masked * real_tokens / positions
print(f"valid NLL, pads masked:                       {nll_masked:.4f}")
print(f"valid NLL, pads scored (model never saw pads): {nll_with_pads:.4f}")
print(f"padded to {pad_to}: {real_tokens} real tokens out of {positions} positions "
      f"({real_tokens / positions:.1%})")
print(f"the same model, pads predicted perfectly:      {diluted:.4f}")
_ = glue("day20_nll_masked", nll_masked), glue("day20_nll_diluted", diluted)
_ = glue("day20_real_share", real_tokens / positions)

# %% [markdown]
# Only {glue:text}`day20_real_share:.0%` of the positions hold a real token once every target is padded to
# the longest one, so the same translations that give a masked NLL of
# {glue:text}`day20_nll_masked:.2f` would be reported as {glue:text}`day20_nll_diluted:.2f` by a loss that
# counts free pads. Compare masked losses only, per real token, on the same vocabulary: a different
# tokenisation changes the number of tokens and the meaning of "per token" too. The `laptop` profile
# reports the masked NLL on Tatoeba English-French; the `gpu` profile chases the BLEU of 23.2 on
# Chinese-English with lower-cased `sacrebleu`, which *is* comparable across models when the test set and
# the tokenisation are the same.
#
# ## Summary
#
# - Shuffle before splitting; learn the subword vocabulary on the training split. BPE writes every word
#   with a small vocabulary, where a word vocabulary misses {glue:text}`day20_word_oov:.1%` of new words.
# - Train with a loss masked on pads (equal to `ignore_index`); a loss averaged over pads is a different,
#   smaller number that says nothing about translation.
# - Beam search keeps the $k$ best prefixes and ranks finished ones by $\log p / L^\alpha$. Beam 1 is
#   greedy exactly, a wide beam is exhaustive search exactly; on the test set beam search scores
#   {glue:text}`day20_bleu_beam:.2f` BLEU against {glue:text}`day20_bleu_greedy:.2f` for greedy.
# - BLEU is a clipped n-gram precision with a brevity penalty; ours equals `sacrebleu`'s. In `ci` it is
#   low because 5k sentence pairs are too few, which the train/valid gap shows.
#
# Day 21 keeps the attention and drops the recurrence: the Transformer. Its decoders will reuse
# `helpers.decoding` unchanged.
#
# ## Exercises
#
# ```{exercise}
# :label: day20-clipped
# Write `clipped_matches(hypothesis, references, n)`: for one tokenised hypothesis (a string) and a list of
# references, return `(matches, total)`, the number of the hypothesis's n-grams that the references
# contain, each counted at most as often as it occurs in the reference where it occurs most, and the
# number of its n-grams. The cell checks it against `bleu_statistics` on several sentences.
# ```

# %% tags=["hide-input"]
from helpers.checks import check_function


def clipped_matches(hypothesis: str, references: list[str], n: int) -> tuple[int, int]:
    """Clipped n-gram matches of one hypothesis against its references, and its number of n-grams."""
    ### BEGIN SOLUTION
    words = hypothesis.split()
    counts = Counter(tuple(words[i:i + n]) for i in range(len(words) - n + 1))
    best: Counter = Counter()
    for ref in references:
        ref_words = ref.split()
        best |= Counter(tuple(ref_words[i:i + n]) for i in range(len(ref_words) - n + 1))
    return sum(min(count, best[gram]) for gram, count in counts.items()), max(len(words) - n + 1, 0)
    ### END SOLUTION


def reference_clipped(hypothesis: str, references: list[str], n: int) -> tuple[int, int]:
    stats = tr.bleu_statistics([hypothesis], [[ref] for ref in references], max_n=n)
    return stats.matches[n - 1], stats.totals[n - 1]


clip_cases = [("the the the the", ["the cat"], 1), ("the cat sat on the mat", ["the cat is on the mat"], 2),
              ("a b a b a b", ["a b", "b a b a"], 2), ("kurz", ["ein viel längerer Satz"], 2),
              (prepare(test_beam[0]), [prepare(data.test[0][1])], 1)]
check_function("clipped_matches", clipped_matches,
               [((hyp, refs, n), reference_clipped(hyp, refs, n)) for hyp, refs, n in clip_cases])

# %% [markdown]
# ```{solution} day20-clipped
# :class: dropdown
# Count the hypothesis's n-grams, take for each n-gram its largest count over the references (a `Counter`
# union `|` does exactly that), and sum `min(count, reference count)`. The total is `len(words) - n + 1`,
# never negative: a one-word hypothesis has no bigrams. Summing matches and totals over the corpus, then
# dividing, gives BLEU's $p_n$; dividing per sentence and averaging would give a different number.
# ```
#
# ````{exercise}
# :label: day20-pads
# Find and fix. The 2023 seed computed its validation loss as below: every target padded to one `MAX_LEN`,
# and `nn.NLLLoss()` without `ignore_index`, and it fed the gold tokens (teacher forcing) in validation too.
# (a) For a model that predicts pads perfectly, how does the reported loss change when `MAX_LEN` doubles?
# Use the formula of section 8 and the numbers printed there. (b) What single argument fixes the loss?
# (c) Why does 100 % teacher forcing in validation also flatter the model, and what should the
# validation report instead?
#
# ```python
# criterion = nn.NLLLoss()                       # averages over every position, pads included
# loss = criterion(log_probs.view(-1, V), targets_padded_to_MAX_LEN.view(-1))
# ```
# ````
#
# ````{solution} day20-pads
# :class: dropdown
# (a) The reported loss is about $\ell N / (N + P)$. Doubling `MAX_LEN` roughly doubles the number of
# positions $N + P$ while $N$ stays put, so the loss roughly halves, with the same translations.
# (b) `nn.NLLLoss(ignore_index=PAD)` (or `F.cross_entropy(..., ignore_index=PAD)`): the mean then runs over
# the real tokens only, whatever the padding. Padding each batch to its own longest sentence also saves
# the compute spent on pads. (c) With gold inputs the model never pays for its own mistakes, which
# compound at test time (exposure bias, day 18). Report the NLL with teacher forcing *and* a metric of
# free-running output: BLEU of greedy or beam translations, as section 4 does.
# ````
#
# ```{exercise}
# :label: day20-beam
# In the sweep of section 5, mean log-probability rises with the beam size for every $\alpha$, yet BLEU
# does not always follow. Explain why a better search can give a worse translation. Then look at the
# length ratios: why does $\alpha = 0$ with a wide beam produce short outputs, and what does BLEU do about
# it?
# ```
#
# ```{solution} day20-beam
# :class: dropdown
# Beam search maximises the *model's* score; BLEU measures agreement with a human reference. When the
# model is imperfect its highest-scoring sequences are often not the best translations (the "beam search
# curse" of Koehn & Knowles, 2017): short, generic outputs get high probability because every token costs
# a negative log-probability. With $\alpha = 0$ a wide beam explores enough to find those short
# hypotheses that end early, so the output shrinks; BLEU's brevity penalty $e^{1 - r/c}$ then lowers the
# score. Normalising by $L^\alpha$ removes most of the bias towards short outputs.
# ```

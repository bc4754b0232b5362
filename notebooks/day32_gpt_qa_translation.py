# %% [markdown]
# # Day 32: Generative QA and translation with a decoder
#
# On day 29 an encoder answered questions by pointing at a span of the context, and on day 20 an
# encoder-decoder translated. A decoder-only model such as the GPT of day 31 can do both with nothing but
# next-token prediction: write the task as a prompt, and train the model to continue it with the answer.
# Today one model learns two tasks that way, and we get the three details right that decide whether it
# works: which tokens the loss counts, where the padding goes, and what exactly is scored.
#
# **Objectives**
# - write QA and translation as prompt/completion pairs, and compute the loss on the completion only,
#   with no padding in the middle of a sequence; check the labels against TRL's `SFTTrainer`;
# - compute that loss with the output layer applied to the answer positions only, and check it against
#   the model's own loss;
# - decode a batch of prompts of different lengths with left padding, by hand and with `generate`, and
#   check that it equals decoding each prompt alone;
# - fine-tune with LoRA and score the answers with SQuAD's EM/F1 (day 29) and the translations with BLEU
#   (sacrebleu, and day 20's hand BLEU);
# - find why a published "BLEU 28.46" measured nothing.
#
# **Profiles.** `ci` adapts the packaged SmolLM2-135M-Instruct (a dequantized 4-bit copy, so its outputs
# are close to the published model's, not equal) with LoRA in its top layers, for a few optimizer steps on
# the CPU (under a minute of CPU time in all). Its data: the SQuAD-v2-format questions that day 29 generated from the Lee news corpus (with
# one-sentence contexts, to keep the prompts short) and English-German sentence pairs from the FreeDict
# dictionary (Debian `dict-freedict-eng-deu`). A few steps teach the format (short answers, "no answer",
# German after `=>`), not the tasks: the scores are small, and what `ci` can show is the mechanics and
# their checks. `laptop` (about 25 minutes on two cores) downloads the published SmolLM2 and real SQuAD
# v2. `gpu` runs the 2024 series' recipe (day 26): `gpt2` fully fine-tuned on SQuAD v2 with its
# `### Context/Question/Answer` template, whose best validation loss was **0.47061**, on a 40k-question
# slice for 10k steps (about 20 minutes on a T4), with the FreeDict pairs mixed in.

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

cfg = setup("day32", PROFILE)

# %%
import warnings

import matplotlib.pyplot as plt
import numpy as np
import torch

from helpers import compare, count_parameters, gen_qa, glue
from helpers.corpora import freedict
from helpers.hub import load_pretrained

warnings.filterwarnings("ignore", message=".*gradient_checkpointing.*", category=FutureWarning)

# %% [markdown]
# ## Two tasks in one format
#
# Each example is a pair of strings, a **prompt** and a **completion**, the format that TRL's trainers
# read. For questions we use the 2024 series' template, three headers on their own lines; for translation
# the 2025 series' one-line prompt:
#
# ```text
# ### Context:                                 Translate English to German: I'll think it over. =>
# <context>
# ### Question:
# <question>
# ### Answer:
# ```
#
# The completion is the answer (or the German sentence) with a leading space, followed by the end-of-sequence
# token, so the model also learns to stop. SQuAD v2 has unanswerable questions: their completion is
# "no answer", which the scorer maps back to the empty answer. Translation pairs are split at random, with
# a fixed seed; the dictionary lists its sentences entry by entry, so the split is shuffled first.

# %%
qa_source = {"train": gen_qa.load_qa_rows("train", cfg.qa_source, cfg.qa_context_sentences),
             "validation": gen_qa.load_qa_rows("validation", cfg.qa_source, cfg.qa_context_sentences)}
qa_train_raw = gen_qa.sample_rows(qa_source["train"], cfg.n_train_qa, cfg.data_seed)
qa_valid_raw = gen_qa.sample_rows(qa_source["validation"], cfg.n_valid_qa, cfg.data_seed)

pairs = [pair for pair in freedict.load_pairs() if len(pair[0].split()) <= cfg.mt_max_words]
pairs = gen_qa.sample_rows(pairs, None, cfg.data_seed)
n_held_out = max(1, round(len(pairs) * cfg.mt_valid_fraction))
mt_valid_pairs, mt_train_pairs = pairs[:n_held_out][: cfg.n_valid_mt], pairs[n_held_out:][: cfg.n_train_mt]

qa_train = [gen_qa.qa_row(row) for row in qa_train_raw]
qa_valid = [gen_qa.qa_row(row) for row in qa_valid_raw]
mt_train = [gen_qa.translation_row(en, de) for en, de in mt_train_pairs]
mt_valid = [gen_qa.translation_row(en, de) for en, de in mt_valid_pairs]
n_unanswerable = sum(row["completion"] == " " + gen_qa.NO_ANSWER for row in qa_train)
print(f"QA ({cfg.qa_source}): {len(qa_train)} train ({n_unanswerable} unanswerable), {len(qa_valid)} valid")
print(f"translation (FreeDict en-de, <= {cfg.mt_max_words} words): {len(mt_train)} train, {len(mt_valid)} valid")
for row in (qa_train[0], mt_train[0]):
    print(f"\n--- prompt ---\n{row['prompt']}\n--- completion ---\n{row['completion']!r}")

# %% [markdown]
# ## The model
#
# In `ci`, `load_pretrained` reads the safetensors copy of SmolLM2-135M-Instruct that set-up made from the
# packaged GGUF file. SmolLM2 is a Llama-architecture decoder with a vocabulary of 49,152 tokens; its
# tokenizer has no separate pad token, so padding uses the EOS token, as GPT-2 does.

# %%
model, tokenizer = load_pretrained(cfg.model_id)
if tokenizer.pad_token is None:  # GPT-2 has none: pad with EOS (masked by position, never by id)
    tokenizer.pad_token = tokenizer.eos_token
tokenizer.padding_side = "right"  # for the seed's collate function below; generation pads by hand
model = model.to(cfg.device)
eos_id, pad_id = tokenizer.eos_token_id, tokenizer.pad_token_id
_, n_params = count_parameters(model)
glue("day32_n_params", n_params)
print(f"{cfg.model_id}: {n_params:,} parameters, vocabulary {len(tokenizer):,}, "
      f"EOS {tokenizer.eos_token!r} = pad {tokenizer.pad_token!r}")

# %% [markdown]
# ## The loss counts the answer only
#
# A causal language model is trained to predict every token from the ones before it. For a prompt
# $x_{1..m}$ and a completion $y_{1..n}$ (EOS included), we want the model to *answer*, not to learn to
# write contexts and questions, which it will always be given. So the loss is the mean negative
# log-likelihood of the completion tokens only:
#
# $$
# \mathcal{L} = -\frac{1}{\sum_b n_b} \sum_{b} \sum_{t=1}^{n_b} \log p_\theta\big(y^{(b)}_t \,\big|\,
# x^{(b)}_{1..m_b},\, y^{(b)}_{<t}\big).
# $$
#
# In Hugging Face models this is done with labels: a copy of the input ids where every position that
# should not count holds $-100$, the index that `cross_entropy` ignores. The model shifts the labels by one
# itself (the logits at position $t$ predict the token at $t+1$).
#
# **Where the pads go.** A batch holds sequences of different lengths, so the short ones are padded. The
# 2024 article's `collate_fn` tokenised the context, the question and the answer *separately*, each padded
# to the longest of its kind in the batch, and concatenated the three blocks. Every example but the longest
# then has pads between its context and its question and between its question and its answer. The attention
# mask hides them, but the positions still count them: the answer sits further from the question than it
# ever will at inference, where the prompt has no holes. `PromptCompletionCollator` tokenises prompt and
# completion, concatenates them, and pads the whole sequence at the end, with $-100$ labels on the prompt
# and on the pads.

# %%
collate = gen_qa.PromptCompletionCollator(tokenizer, max_length=cfg.max_length)


def seed_collate(rows: list[dict]) -> dict[str, torch.Tensor]:
    """The 2024 article's layout: context, question and answer each padded on its own, then concatenated."""
    blocks = [[f"### Context:\n{row['context'].strip()}\n" for row in rows],
              [f"### Question:\n{row['question'].strip()}\n### Answer:" for row in rows],
              [gen_qa.qa_row(row)["completion"] + tokenizer.eos_token for row in rows]]
    encoded = [tokenizer(texts, padding="longest", add_special_tokens=False, return_tensors="pt")
               for texts in blocks]
    answer_labels = encoded[2]["input_ids"].masked_fill(encoded[2]["attention_mask"] == 0, gen_qa.IGNORE_INDEX)
    return {"input_ids": torch.cat([e["input_ids"] for e in encoded], dim=1),
            "attention_mask": torch.cat([e["attention_mask"] for e in encoded], dim=1),
            "labels": torch.cat([torch.full_like(encoded[0]["input_ids"], gen_qa.IGNORE_INDEX),
                                 torch.full_like(encoded[1]["input_ids"], gen_qa.IGNORE_INDEX), answer_labels], dim=1)}


def pads_inside(mask: torch.Tensor) -> int:
    """Pads followed by a real token somewhere later in their row."""
    real_later = mask.flip(1).cummax(dim=1).values.flip(1).bool()
    return int(((mask == 0) & real_later).sum())


layout_rows = qa_valid_raw[:3]
seed_batch, our_batch = seed_collate(layout_rows), collate([gen_qa.qa_row(row) for row in layout_rows])
for name, batch in (("seed (per-segment padding)", seed_batch), ("ours (pads at the end)", our_batch)):
    learned = int((batch["labels"] != gen_qa.IGNORE_INDEX).sum())
    print(f"{name:<27} width {batch['input_ids'].shape[1]:3d}, pads inside sequences "
          f"{pads_inside(batch['attention_mask']):3d}, answer tokens learned {learned}")

# %% [markdown]
# The figure shows the two layouts of the same three questions: what the model reads but does not learn
# (prompt), what it learns (answer and EOS), and the pads.

# %%
from matplotlib.colors import ListedColormap
from matplotlib.patches import Patch


def token_roles(batch: dict[str, torch.Tensor]) -> np.ndarray:
    """0 = pad, 1 = prompt (read, not learned), 2 = completion (learned)."""
    roles = batch["attention_mask"].numpy().copy()
    roles[batch["labels"].numpy() != gen_qa.IGNORE_INDEX] = 2
    return roles


colours = ListedColormap(["#e6e6e6", "#7aa6c2", "#e07b39"])
fig, axes = plt.subplots(2, 1, figsize=(10, 3.6), sharex=True)
for ax, (title, batch) in zip(axes, (("2024 article: context, question and answer padded separately",
                                      seed_batch), ("PromptCompletionCollator: one sequence, padded at the end",
                                                    our_batch)), strict=True):
    ax.imshow(token_roles(batch), cmap=colours, vmin=0, vmax=2, aspect="auto", interpolation="nearest")
    ax.set(title=title, ylabel="example", yticks=range(len(layout_rows)))
axes[-1].set_xlabel("token position")
fig.legend(handles=[Patch(color=colours(i), label=label) for i, label in
                    enumerate(["pad (attention mask 0)", "prompt (label -100)", "answer + EOS (learned)"])],
           loc="lower center", ncol=3, fontsize=8, bbox_to_anchor=(0.5, -0.04))
fig.tight_layout(rect=(0, 0.06, 1, 1))
plt.show()

# %% [markdown]
# Do the holes matter? The attention mask keeps the pads out of every softmax, but the positions of the
# tokens after a hole move. Here is the answer-only loss of the same three examples, untrained model, in
# both layouts (the model builds position ids $0, 1, 2, \dots$ over the padded row when none are given):

# %%
with torch.inference_mode():
    layout_loss = {name: float(model(**{k: v.to(cfg.device) for k, v in batch.items()}).loss)
                   for name, batch in (("seed layout", seed_batch), ("pads at the end", our_batch))}
glue("day32_seed_layout_loss", layout_loss["seed layout"])
glue("day32_our_layout_loss", layout_loss["pads at the end"])
print("  ".join(f"{name}: {value:.4f}" for name, value in layout_loss.items()))

# %% [markdown]
# Same tokens, same answers, different losses ({glue:text}`day32_seed_layout_loss:.4f` against
# {glue:text}`day32_our_layout_loss:.4f`): with the holes the model is trained on sequences unlike those
# it will see at inference. The fix costs nothing.
#
# ### Checking the labels against TRL
#
# TRL's `SFTTrainer` does the same job for a dataset with `prompt` and `completion` columns: it appends
# EOS to the completion, tokenises prompt and prompt + completion, marks the completion's tokens, and its
# collator pads on the right with $-100$ labels; the loss counts the completion only by default
# (`completion_only_loss`). The labels depend on the tokenizer only, so a tiny random model with the same
# tokenizer is enough to build TRL's batches.

# %%
import tempfile

import datasets
from trl import SFTConfig, SFTTrainer

datasets.disable_progress_bars()
check_rows = qa_valid[:2] + mt_valid[:2]
tiny_model, _ = load_pretrained(cfg.model_id, tiny=True)
with tempfile.TemporaryDirectory() as folder:
    sft_args = SFTConfig(output_dir=folder, report_to="none", disable_tqdm=True, logging_strategy="no",
                         save_strategy="no", bf16=False, use_cpu=True)
    sft = SFTTrainer(model=tiny_model, args=sft_args, processing_class=tokenizer,
                     train_dataset=datasets.Dataset.from_list([{"prompt": r["prompt"], "completion": r["completion"]}
                                                               for r in check_rows]))
    trl_batch = sft.data_collator([sft.train_dataset[i] for i in range(len(check_rows))])
del sft, tiny_model
hand_batch = collate(check_rows)
for key in ("input_ids", "attention_mask", "labels"):
    compare(f"{key}: hand collator vs TRL SFTTrainer", hand_batch[key], trl_batch[key])

# %% [markdown]
# Equal, token for token. That holds because each prompt ends on a token boundary: `### Answer:` and
# `=>` end with punctuation and each completion starts with a space, so tokenising the prompt alone gives a
# prefix of the tokens of prompt + completion. (TRL tokenises the two together and warns when that prefix
# property fails; the third exercise shows a prompt where it does.)
#
# ### The loss, with the head where it matters
#
# The output layer of SmolLM2 maps 576 features to 49,152 logits at every position. With the prompt
# masked, most of those logits are computed only to be ignored. `completion_loss` runs the model's body
# over the whole sequence, then applies the output layer only at the positions whose next-token label is
# kept. It must give the model's own loss:

# %%
check_batch = {key: value.to(cfg.device) for key, value in hand_batch.items()}
with torch.inference_mode():
    library_loss = model(**check_batch).loss
    our_loss = gen_qa.completion_loss(model, check_batch)
# show_diff=False: the difference is float rounding (summation order), which can change from CPU to CPU
compare("answer-only loss: head on kept positions vs model(**batch).loss", our_loss, library_loss, atol=1e-5,
        show_diff=False)
kept = check_batch["labels"][:, 1:] != gen_qa.IGNORE_INDEX
glue("day32_kept_share", float(kept.float().mean()))
print(f"positions that need logits: {int(kept.sum())} of {kept.numel()} ({float(kept.float().mean()):.1%})")

# %% [markdown]
# On this batch only {glue:text}`day32_kept_share:.1%` of the positions need logits; training uses
# `completion_loss` and saves the rest of the head's work.
#
# ## Batched generation needs left padding
#
# To answer, the model continues the prompt one token at a time, each time appending its most likely token
# (greedy decoding). A batch of prompts of different lengths must be padded, and the new tokens are
# appended on the right, so the pads go on the **left**: every prompt then ends in the last column, and
# every row's first new token lands in the same column. Three details make a left-padded row decode exactly
# like the same prompt alone:
#
# 1. the attention mask hides the pads (and grows by one column per step);
# 2. the position ids count real tokens only: $\text{pos} = \operatorname{cumsum}(\text{mask}) - 1$, so
#    each prompt starts at position 0 whatever its padding;
# 3. a KV cache keeps the keys and values of all earlier columns, so each step feeds one token per row.
#
# `gen_qa.greedy_generate` writes this loop out. We check it against `model.generate`, and the batched
# result against decoding each prompt on its own.

# %%
demo_prompts = [row["prompt"] for row in mt_valid[:3]]
demo = gen_qa.left_pad(tokenizer, demo_prompts, cfg.device)
print("prompt lengths:", demo["attention_mask"].sum(1).tolist(), "-> padded width", demo["input_ids"].shape[1])

hand_tokens = gen_qa.greedy_generate(model, **demo, max_new_tokens=8, eos_token_id=eos_id, pad_token_id=pad_id)
with torch.inference_mode():
    generated = model.generate(**demo, max_new_tokens=8, do_sample=False, eos_token_id=eos_id,
                               pad_token_id=pad_id)
library_tokens = generated[:, demo["input_ids"].shape[1]:]
compare("hand greedy loop vs model.generate (new token ids)", hand_tokens, library_tokens[:, : hand_tokens.shape[1]])

one_by_one = torch.full_like(hand_tokens, pad_id)
for i, prompt in enumerate(demo_prompts):
    alone = gen_qa.greedy_generate(model, **gen_qa.left_pad(tokenizer, [prompt], cfg.device), max_new_tokens=8,
                                   eos_token_id=eos_id, pad_token_id=pad_id)[0]
    one_by_one[i, : len(alone)] = alone
_ = compare("batched (left-padded) vs one prompt at a time", hand_tokens, one_by_one)

# %% [markdown]
# **Do the position ids matter?** For GPT-2, whose positions are a learned table of absolute positions,
# they do: without them a padded prompt would start at position 5 or 20 instead of 0 (the day's tests check
# that this changes GPT-2's output). SmolLM2 uses rotary position embeddings (RoPE, day 35), which make the
# attention score of two tokens depend only on the *difference* of their positions. Shifting a whole prompt
# by a constant changes nothing:

# %%
with torch.inference_mode():
    right_positions = (demo["attention_mask"].cumsum(-1) - 1).clamp(min=0)
    naive_positions = torch.arange(demo["input_ids"].shape[1], device=cfg.device)[None]
    shift = (model(**demo, position_ids=right_positions).logits[:, -1]
             - model(**demo, position_ids=naive_positions).logits[:, -1]).abs().max()
print(f"{cfg.model_id.split('/')[-1]}: largest change of the last logits without position ids that skip the "
      f"pads: {float(shift):.4f}")

# %% [markdown]
# **The 2025 article's slicing bug.** After `generate`, the new tokens of row $i$ start at the padded
# width, `output[:, input_ids.shape[1]:]`, for every row. The article cut each row at its own prompt length
# instead. With left padding, that keeps the end of the prompt in the "answer":

# %%
shortest = int(demo["attention_mask"].sum(1).argmin())
own_length = int(demo["attention_mask"][shortest].sum())
wrong = tokenizer.decode(generated[shortest, own_length:], skip_special_tokens=True)
right = tokenizer.decode(gen_qa.cut_at_eos(library_tokens[shortest].tolist(), eos_id), skip_special_tokens=True)
print(f"output[i, len(prompt_i):]       -> {wrong!r}")
print(f"output[i, input_ids.shape[1]:]  -> {right!r}")

# %% [markdown]
# Before any training, the instruct model does not know our plain-text format: it may answer, or go on
# with a sentence of its own. Fine-tuning teaches it the format.
#
# ## Fine-tuning with LoRA
#
# We adapt the model with LoRA (day 34 builds it by hand): the pretrained weights stay frozen, and each
# targeted projection learns a low-rank update $\frac{\alpha}{r}BA$. In `ci` only the top layers are
# adapted (`layers_to_transform`), so the backward pass stops there and a CPU step is cheaper. Under `gpu`,
# as in the 2024 article, every weight of `gpt2` is trained (the 2025 article said of its own GPT-2 run
# that "only the head is tuned"; its code trained every weight, as the parameter count shows).
#
# One adapter learns both tasks from a shuffled mix of the two training sets: the prompt says which task
# it is, as in T5 (day 24).

# %%
from peft import LoraConfig, get_peft_model

if cfg.lora:
    model = get_peft_model(model, LoraConfig(r=cfg.lora["r"], lora_alpha=cfg.lora["alpha"],
                                             lora_dropout=cfg.lora["dropout"], target_modules=cfg.lora["targets"],
                                             layers_to_transform=cfg.lora_layers, task_type="CAUSAL_LM"))
trainable, total = count_parameters(model)
glue("day32_trainable", trainable)
glue("day32_trainable_share", trainable / total)
print(f"trainable {trainable:,} of {total:,} parameters ({trainable / total:.3%})")

train_rows = [row for row in qa_train + mt_train if collate.fits(row)]
qa_valid_fit = [row for row in qa_valid if collate.fits(row)]
mt_valid_fit = [row for row in mt_valid if collate.fits(row)]
print(f"{len(train_rows)} training rows fit in {cfg.max_length} tokens "
      f"({len(qa_train) + len(mt_train) - len(train_rows)} dropped)")

# %% [markdown]
# The validation loss is the answer-only loss, averaged over answer tokens, per task. We measure it before
# training (the base model) and after.

# %%
from torch.utils.data import DataLoader


@torch.inference_mode()
def valid_loss(rows: list[dict]) -> float:
    """Answer-only cross-entropy over ``rows``, averaged over their answer tokens."""
    model.eval()
    total_loss, count = 0.0, 0
    for start in range(0, len(rows), cfg.eval_batch_size):
        batch = {k: v.to(cfg.device) for k, v in collate(rows[start : start + cfg.eval_batch_size]).items()}
        n = int((batch["labels"][:, 1:] != gen_qa.IGNORE_INDEX).sum())
        total_loss += float(gen_qa.completion_loss(model, batch)) * n
        count += n
    return total_loss / count


before = {"QA": valid_loss(qa_valid_fit), "translation": valid_loss(mt_valid_fit)}

loader = DataLoader(train_rows, batch_size=cfg.batch_size, shuffle=True, collate_fn=collate, drop_last=True,
                    generator=torch.Generator().manual_seed(cfg.seed))
optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=cfg.lr,
                              weight_decay=cfg.weight_decay)
warmup = int(cfg.warmup_fraction * cfg.steps)
scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: min(1.0, (step + 1) / max(1, warmup)))

train_losses: list[float] = []
model.train()
while len(train_losses) < cfg.steps:
    for batch in loader:
        batch = {key: value.to(cfg.device) for key, value in batch.items()}
        loss = gen_qa.completion_loss(model, batch)
        loss.backward()
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad()
        train_losses.append(loss.item())
        if len(train_losses) % max(1, cfg.steps // 5) == 0:
            print(f"step {len(train_losses):5d}: training loss {np.mean(train_losses[-max(1, cfg.steps // 5):]):.4f}")
        if len(train_losses) == cfg.steps:
            break

after = {"QA": valid_loss(qa_valid_fit), "translation": valid_loss(mt_valid_fit)}
for task in before:
    glue(f"day32_valid_{'qa' if task == 'QA' else 'mt'}_before", before[task])
    glue(f"day32_valid_{'qa' if task == 'QA' else 'mt'}_after", after[task])
glue("day32_steps", len(train_losses))
print(f"\n{'validation loss (answer tokens)':<33}{'before':>8}{'after':>8}")
for task in before:
    print(f"{task:<33}{before[task]:8.4f}{after[task]:8.4f}")
print("2024 article, gpt2 on SQuAD v2, best validation loss: 0.47061")

# %% [markdown]
# After {glue:text}`day32_steps` steps the answer-only validation loss went from
# {glue:text}`day32_valid_qa_before:.4f` to {glue:text}`day32_valid_qa_after:.4f` on questions and from
# {glue:text}`day32_valid_mt_before:.4f` to {glue:text}`day32_valid_mt_after:.4f` on translations. In `ci`
# most of that is the format: short answers that stop, "no answer" for half of the questions, German after
# `=>`. The 2024 article's 0.47061 is the same kind of quantity (answer tokens only, its unanswerable
# questions answered "nan"), for `gpt2` trained on 104k real SQuAD questions for several epochs; `gpu`
# runs that recipe on a slice, so expect a number of that order there, not here.

# %%
fig, ax = plt.subplots(figsize=(7, 3.2))
steps = np.arange(1, len(train_losses) + 1)
ax.plot(steps, train_losses, marker=".", alpha=0.5, label="training loss (one batch, both tasks)")
for (task, value), colour in zip(before.items(), ("tab:orange", "tab:green"), strict=True):
    ax.plot([0, len(train_losses)], [value, after[task]], marker="o", color=colour,
            label=f"validation, {task} (before / after)")
ax.set(xlabel="optimizer step", ylabel="cross-entropy per answer token",
       title=f"Fine-tuning {cfg.model_id.split('/')[-1]} on QA + translation")
ax.grid(alpha=0.3)
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# ## Scoring what the model writes
#
# A loss says how likely the references are; the metrics score what the model actually generates, greedily,
# from the prompt alone.
#
# - **Questions: EM and F1** (day 29's `helpers.qa`, the official SQuAD v2 script's rules). Both normalise
#   the strings (lower case, no punctuation, no articles); EM asks for equality, F1 gives credit for shared
#   words. "no answer" is scored as the empty answer, which matches an unanswerable question exactly.
# - **Translations: BLEU** (day 20), the geometric mean of the modified $n$-gram precisions
#   ($n = 1..4$) times a brevity penalty, computed over the whole corpus. We report sacrebleu's standard
#   score (its `13a` tokenizer, exponential smoothing) and check day 20's hand BLEU against sacrebleu on
#   the same tokens.

# %%
import sacrebleu
from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a

from helpers.qa import squad_scores
from helpers.translation import corpus_bleu

model.eval()
qa_answers = gen_qa.generate_completions(model, tokenizer, [row["prompt"] for row in qa_valid],
                                         cfg.max_new_tokens_qa, cfg.eval_batch_size)
translations = gen_qa.generate_completions(model, tokenizer, [row["prompt"] for row in mt_valid],
                                           cfg.max_new_tokens_mt, cfg.eval_batch_size)

predictions = {row["id"]: gen_qa.answer_for_scoring(answer) for row, answer in zip(qa_valid, qa_answers, strict=True)}
golds = {row["id"]: row["answers"]["text"] for row in qa_valid_raw}
scores = squad_scores(predictions, golds)
abstain = squad_scores({qid: "" for qid in golds}, golds)  # the baseline that always says "no answer"
references = [de for _, de in mt_valid_pairs]
bleu = sacrebleu.corpus_bleu(translations, [references])

tokenize = Tokenizer13a()
hand_bleu = corpus_bleu([tokenize(t) for t in translations], [[tokenize(r) for r in references]])
compare("hand BLEU (day 20) vs sacrebleu (13a tokens, no smoothing)", hand_bleu,
        sacrebleu.corpus_bleu(translations, [references], smooth_method="none").score, atol=1e-9)

glue("day32_em", scores["exact"])
glue("day32_f1", scores["f1"])
glue("day32_abstain_em", abstain["exact"])
glue("day32_bleu", bleu.score)
print(f"QA, {scores['total']} questions: EM {scores['exact']:.2f}  F1 {scores['f1']:.2f}  "
      f"(answerable: F1 {scores.get('HasAns_f1', float('nan')):.2f}; unanswerable: EM "
      f"{scores.get('NoAns_exact', float('nan')):.2f})")
print(f"baseline that always answers 'no answer': EM {abstain['exact']:.2f}  F1 {abstain['f1']:.2f}")
print(f"translation, {len(references)} sentences: {bleu}")

# %%
for row, answer in list(zip(qa_valid_raw, qa_answers, strict=True))[: cfg.n_show]:
    gold = row["answers"]["text"][0] if row["answers"]["text"] else "(unanswerable)"
    print(f"Q: {row['question']}\n   gold: {gold!r}   model: {answer!r}")
for (en, de), output in list(zip(mt_valid_pairs, translations, strict=True))[: cfg.n_show]:
    print(f"EN: {en}\n   reference: {de}\n   model:     {output}")

# %% [markdown]
# In `ci` the scores are low: a few steps of a 135M model teach the format, not German or reading
# comprehension. Read the QA score against the baseline that never answers: an empty answer is SQuAD v2's
# "no answer", exactly right on every unanswerable question, so that baseline alone scores
# {glue:text}`day32_abstain_em:.1f` EM here. A model that has learned to stop before it has learned to
# answer (EOS straight after `### Answer:`) lands on that baseline, and EM/F1 cannot tell it from a model
# that abstains wisely. That is why SQuAD v2 reports HasAns and NoAns separately, and why a generative QA
# model should be read on both.
#
# ## A suspicious BLEU
#
# The 2025 article fine-tuned `gpt2` to translate and reported **BLEU 28.46**. Its evaluation built the
# "hypotheses" like this: the model was given the prompt *and the reference translation*, and the whole
# output was decoded; the references were the prompts with their reference translations. Here is the same
# procedure on our model and validation pairs, next to two variants:

# %%
leaky_prompts = [row["prompt"] + row["completion"] for row in mt_valid]  # the reference is in the input
leaky_batch = gen_qa.left_pad(tokenizer, leaky_prompts, cfg.device)
with torch.inference_mode():
    leaky_output = model.generate(**leaky_batch, max_new_tokens=8, do_sample=False, eos_token_id=eos_id,
                                  pad_token_id=pad_id)
seed_hypotheses = [tokenizer.decode(row, skip_special_tokens=True) for row in leaky_output]
seed_references = leaky_prompts
prompt_included = [row["prompt"] + " " + output for row, output in zip(mt_valid, translations, strict=True)]
variants = {
    "2025 article: reference fed to generate, prompts kept": sacrebleu.corpus_bleu(seed_hypotheses,
                                                                                   [seed_references]).score,
    "prompts kept in hypotheses and references": sacrebleu.corpus_bleu(prompt_included, [seed_references]).score,
    "honest: prompt only in, new tokens scored": bleu.score,
}
glue("day32_seed_bleu", variants["2025 article: reference fed to generate, prompts kept"])
glue("day32_prompt_bleu", variants["prompts kept in hypotheses and references"])
for name, value in variants.items():
    print(f"{name:<56} BLEU {value:6.2f}")

# %% [markdown]
# The article's procedure gives our barely trained model a BLEU of {glue:text}`day32_seed_bleu:.2f`, and
# merely leaving the prompts in both sides gives {glue:text}`day32_prompt_bleu:.2f`; the honest score is
# {glue:text}`day32_bleu:.2f`. The second exercise asks you to say exactly why.
#
# ## Exercises
#
# ```{exercise}
# :label: day32-slice
# `model.generate` returns, for a left-padded batch, each row's pads, prompt and new tokens (then pads
# again after EOS). Write `new_tokens(row, prompt_width, eos_token_id)`, which returns the list of new
# token ids of one output row, without the EOS and what follows it. `prompt_width` is the padded width of
# the input batch. The cell checks it on a few rows.
# ```

# %% tags=["hide-input"]
from helpers.checks import check_function


def new_tokens(row: list[int], prompt_width: int, eos_token_id: int) -> list[int]:
    """The tokens generated after a left-padded prompt of width ``prompt_width``, up to the first EOS."""
    ### BEGIN SOLUTION
    generated = list(row)[prompt_width:]
    if eos_token_id in generated:
        generated = generated[: generated.index(eos_token_id)]
    return generated
    ### END SOLUTION


check_function("new_tokens", new_tokens, [
    (([0, 0, 5, 6, 7, 8, 2, 0], 4, 2), [7, 8]),  # a short prompt: two pads on the left
    (([3, 4, 5, 6, 7, 9, 9, 2], 4, 2), [7, 9, 9]),  # the longest prompt: no pads
    (([0, 5, 6, 4, 7, 8, 9], 4, 2), [7, 8, 9]),  # no EOS within max_new_tokens
    (([0, 0, 5, 6, 2, 0, 0], 4, 2), []),  # EOS first: an empty answer
])

# %% [markdown]
# ````{solution} day32-slice
# :class: dropdown
# Every row of a left-padded batch ends its prompt in the column `prompt_width - 1`, so the new tokens
# start at `prompt_width` in every row; then cut at the first EOS. Cutting at each prompt's own length,
# as the 2025 article did, keeps `prompt_width - len(prompt_i)` tokens of the prompt in the answer of
# every padded row (the demonstration above). With right padding there is no single column, which is why
# generation pads on the left.
# ````
#
# ````{exercise}
# :label: day32-bleu
# Find and fix: the 2025 article's translation evaluation was, in outline,
#
# ```python
# inputs = tokenizer([prompt + reference for prompt, reference in pairs], padding=True, return_tensors="pt")
# outputs = model.generate(**inputs, max_length=128)
# hypotheses = tokenizer.batch_decode(outputs, skip_special_tokens=True)
# references = [prompt + reference for prompt, reference in pairs]
# print(sacrebleu.corpus_bleu(hypotheses, [references]).score)   # 28.46
# ```
#
# Name the two mistakes, say what each does to the score, and write the corrected evaluation. Why is the
# article's number nevertheless far from 100?
# ````
#
# ````{solution} day32-bleu
# :class: dropdown
# 1. **The reference is in the input.** The model is asked to continue "prompt + reference", so every
#    hypothesis contains the reference verbatim, followed by whatever the model adds. Nothing is
#    translated.
# 2. **The prompts are scored.** Hypotheses and references both start with "Translate Chinese to English:
#    <source> =>", words that match by construction. Even a model that outputs nothing scores well: the
#    second row of our table keeps only this mistake.
#
# Corrected, with the model seeing the prompt only and BLEU on the new tokens only:
#
# ```python
# hypotheses = gen_qa.generate_completions(model, tokenizer, [translation_prompt(en) for en, _ in pairs],
#                                          max_new_tokens=64)
# print(sacrebleu.corpus_bleu(hypotheses, [[de for _, de in pairs]]).score)
# ```
#
# The article's score was not near 100 because its hypotheses went on after the reference (its model had
# not learned to stop, `max_length` left room for more, and a right-padded batch put pads between prompt and
# continuation), and every extra token lowers the $n$-gram precisions; its source side was also Chinese, which
# `13a` splits into few, long tokens. The number measured how much text the model appended, not how well it
# translated.
# ````
#
# ````{exercise}
# :label: day32-boundary
# Change the translation prompt to end with a space, `"... =>" + " "`, and the completions to start
# without one. Tokenise a few rows both ways: prompt and completion separately (our collator) and
# together (TRL). Are the prompt's tokens still a prefix of the joint tokens? What does TRL do then, and
# what does the model see at inference?
# ````
#
# ````{solution} day32-boundary
# :class: dropdown
# ```python
# row = mt_valid[0]
# prompt, completion = row["prompt"] + " ", row["completion"].lstrip()
# alone = tokenizer(prompt, add_special_tokens=False)["input_ids"]
# joint = tokenizer(prompt + completion, add_special_tokens=False)["input_ids"]
# print(alone[-3:], joint[len(alone) - 3 : len(alone) + 2], joint[: len(alone)] == alone)
# ```
# Byte-level BPE attaches a space to the word after it (`" Ich"` is one token). Alone, the prompt ends with
# a lone space token; together, the space merges into the first German word, so the prompt's tokens are no
# longer a prefix. TRL marks the completion from the first token where the two differ and warns; the
# training sequence has no lone space, but at inference the prompt ends with one, a context the model never
# saw during training, and the first generated word often comes out wrong (a second space, or a word split
# differently). End prompts on a token boundary (punctuation or a newline) and start completions with the
# space.
# ````
#
# ## Summary
#
# - A decoder answers and translates by continuing a prompt. Train it on prompt + completion + EOS with
#   labels $-100$ on the prompt and on the pads, and pad each sequence as a whole at its end: our labels
#   equal TRL's `SFTTrainer` token for token, and the 2024 article's per-segment padding changed the loss
#   of the same examples.
# - The output layer is needed only where a label is kept: {glue:text}`day32_kept_share:.1%` of the
#   positions of a batch here, with the same loss as the model's.
# - Batched generation pads on the left, gives position ids that skip the pads (essential for GPT-2's
#   absolute positions, harmless for RoPE) and reads the new tokens from the padded width: the batch then
#   decodes exactly as each prompt alone.
# - A score is only as honest as its inputs: feeding the reference to `generate` and scoring the prompts
#   produced the 2025 article's BLEU. Here that procedure gave {glue:text}`day32_seed_bleu:.2f` for a model
#   whose honest BLEU is {glue:text}`day32_bleu:.2f`.
#
# Next, day 33 keeps the model frozen and changes only the prompt: zero-shot and few-shot prompting, chain
# of thought, and chat templates.

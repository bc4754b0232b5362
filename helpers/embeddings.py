"""Word embeddings by hand: skip-gram with negative sampling, CBOW, GloVe, fastText n-grams, evaluation.

Defined in Day 14 (word embeddings); Day 15 reuses ``copy_pretrained`` and the vocabulary helpers.

Everything here is checked against a reference in ``tests/test_day14_embeddings.py``: the hand gradients
of SGNS against autograd, the vectorised GloVe loss against a brute-force double sum, the n-grams and their
hash buckets against gensim's ``compute_ngrams``/``ft_ngram_hashes``, and the evaluation functions against
gensim's ``evaluate_word_pairs``/``most_similar``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn


# ---------------------------------------------------------------- vocabulary and corpus as ids
@dataclass
class WordVocab:
    """Words sorted by decreasing count (ties alphabetical), with their counts. Defined in Day 14."""

    words: list[str]
    counts: np.ndarray

    def __post_init__(self) -> None:
        self.index = {word: i for i, word in enumerate(self.words)}

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: str) -> bool:
        return word in self.index

    def ids(self, words: Iterable[str]) -> list[int]:
        """Ids of the known words; unknown words are skipped (word2vec drops them too)."""
        return [self.index[w] for w in words if w in self.index]


def build_vocab(sentences: Iterable[Sequence[str]], min_count: int = 5,
                max_size: int | None = None) -> WordVocab:
    """Words seen at least ``min_count`` times, most frequent first, at most ``max_size`` of them."""
    counts = Counter(word for sentence in sentences for word in sentence)
    kept = sorted((item for item in counts.items() if item[1] >= min_count), key=lambda kv: (-kv[1], kv[0]))
    if max_size is not None:
        kept = kept[:max_size]
    if not kept:
        raise ValueError(f"no word occurs {min_count} times or more: lower min_count or give more text")
    return WordVocab([w for w, _ in kept], np.array([c for _, c in kept], dtype=np.int64))


def encode_corpus(sentences: Iterable[Sequence[str]], vocab: WordVocab) -> tuple[np.ndarray, np.ndarray]:
    """The corpus as one array of word ids and one array of sentence numbers (unknown words dropped)."""
    ids, sentence_ids = [], []
    for number, sentence in enumerate(sentences):
        known = vocab.ids(sentence)
        ids.extend(known)
        sentence_ids.extend([number] * len(known))
    return np.array(ids, dtype=np.int64), np.array(sentence_ids, dtype=np.int64)


def keep_probability(counts: np.ndarray, sample: float = 1e-3) -> np.ndarray:
    """word2vec's sub-sampling: keep a word of frequency f with probability (sqrt(f/t) + 1) t/f, at most 1."""
    frequency = counts / counts.sum()
    return np.minimum(1.0, (np.sqrt(frequency / sample) + 1) * sample / frequency)


def skipgram_pairs(ids: np.ndarray, sentence_ids: np.ndarray, window: int,
                   rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(center, context) pairs within a random window of 1..``window`` words, inside each sentence.

    As in word2vec, each center draws its own window size, so near words are paired more often than far ones.
    """
    if window < 1:
        raise ValueError(f"window must be at least 1, got {window}")
    reach = rng.integers(1, window + 1, size=len(ids))
    centers, contexts = [], []
    for offset in range(-window, window + 1):
        if offset == 0:
            continue
        position = np.arange(max(0, -offset), len(ids) - max(0, offset))
        other = position + offset
        ok = (sentence_ids[position] == sentence_ids[other]) & (reach[position] >= abs(offset))
        centers.append(ids[position[ok]])
        contexts.append(ids[other[ok]])
    return np.concatenate(centers), np.concatenate(contexts)


def noise_distribution(counts: np.ndarray, power: float = 0.75) -> np.ndarray:
    """Negative-sampling distribution: counts to the power 3/4, normalised."""
    weights = counts.astype(np.float64) ** power
    return weights / weights.sum()


# ---------------------------------------------------------------- skip-gram with negative sampling
def sgns_loss(w_in: torch.Tensor, w_out: torch.Tensor, centers: torch.Tensor, contexts: torch.Tensor,
              negatives: torch.Tensor) -> torch.Tensor:
    """Σ over pairs of -log σ(u_o·v_c) - Σ_k log σ(-u_k·v_c). Defined in Day 14.

    ``w_in`` (V, d) holds the center vectors v, ``w_out`` (V, d) the context vectors u; ``centers`` and
    ``contexts`` are (B,) ids, ``negatives`` (B, K) ids.
    """
    v = w_in[centers]                                              # (B, d)
    positive = (w_out[contexts] * v).sum(-1)                       # (B,)
    negative = torch.einsum("bkd,bd->bk", w_out[negatives], v)     # (B, K)
    return -(nn.functional.logsigmoid(positive).sum() + nn.functional.logsigmoid(-negative).sum())


def sgns_gradients(w_in: torch.Tensor, w_out: torch.Tensor, centers: torch.Tensor, contexts: torch.Tensor,
                   negatives: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The loss of ``sgns_loss`` and its gradients with respect to ``w_in`` and ``w_out``, by hand.

    With s = σ(u_o·v_c) and s_k = σ(u_k·v_c):
    ∂L/∂v_c = (s - 1) u_o + Σ_k s_k u_k,  ∂L/∂u_o = (s - 1) v_c,  ∂L/∂u_k = s_k v_c.
    Rows that occur several times in the batch accumulate (``index_add_``). Defined in Day 14.
    """
    v, u_pos, u_neg = w_in[centers], w_out[contexts], w_out[negatives]
    positive = (u_pos * v).sum(-1)
    negative = torch.einsum("bkd,bd->bk", u_neg, v)
    loss = -(nn.functional.logsigmoid(positive).sum() + nn.functional.logsigmoid(-negative).sum())
    g_pos = torch.sigmoid(positive) - 1                            # (B,)   ∂L/∂(u_o·v_c)
    g_neg = torch.sigmoid(negative)                                # (B, K) ∂L/∂(u_k·v_c)
    grad_v = g_pos[:, None] * u_pos + torch.einsum("bk,bkd->bd", g_neg, u_neg)
    grad_in = torch.zeros_like(w_in).index_add_(0, centers, grad_v)
    grad_out = torch.zeros_like(w_out).index_add_(0, contexts, g_pos[:, None] * v)
    grad_out.index_add_(0, negatives.reshape(-1), (g_neg[..., None] * v[:, None, :]).reshape(-1, v.size(1)))
    return loss, grad_in, grad_out


# ---------------------------------------------------------------- CBOW
class CBOW(nn.Module):
    """Continuous bag of words with negative sampling: the mean of the context vectors predicts the center.

    Defined in Day 14. ``forward(contexts, mask, centers, negatives)`` returns the summed loss, where
    ``contexts`` is (B, 2w) ids padded anywhere and ``mask`` (B, 2w) is True at the real context words.
    """

    def __init__(self, vocab_size: int, dim: int) -> None:
        super().__init__()
        self.context = nn.Embedding(vocab_size, dim)   # the input vectors: the word vectors we keep
        self.center = nn.Embedding(vocab_size, dim)    # the output vectors
        nn.init.uniform_(self.context.weight, -0.5 / dim, 0.5 / dim)
        nn.init.zeros_(self.center.weight)

    def forward(self, contexts: torch.Tensor, mask: torch.Tensor, centers: torch.Tensor,
                negatives: torch.Tensor) -> torch.Tensor:
        weights = mask.float()
        h = (self.context(contexts) * weights[..., None]).sum(1) / weights.sum(1, keepdim=True).clamp(min=1)
        positive = (self.center(centers) * h).sum(-1)
        negative = torch.einsum("bkd,bd->bk", self.center(negatives), h)
        return -(nn.functional.logsigmoid(positive).sum() + nn.functional.logsigmoid(-negative).sum())


def cbow_windows(ids: np.ndarray, sentence_ids: np.ndarray, window: int,
                 rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For every position: (center id, (2w) context ids, (2w) mask), with word2vec's random window."""
    reach = rng.integers(1, window + 1, size=len(ids))
    offsets = np.array([o for o in range(-window, window + 1) if o != 0])
    positions = np.arange(len(ids))[:, None] + offsets[None, :]
    inside = (positions >= 0) & (positions < len(ids))
    clipped = positions.clip(0, len(ids) - 1)
    same_sentence = sentence_ids[clipped] == sentence_ids[:, None]
    mask = inside & same_sentence & (np.abs(offsets)[None, :] <= reach[:, None])
    keep = mask.any(1)
    return ids[keep], ids[clipped][keep], mask[keep]


# ---------------------------------------------------------------- GloVe
def cooccurrence(ids: np.ndarray, sentence_ids: np.ndarray, vocab_size: int,
                 window: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Symmetric co-occurrence counts X_ij within ``window`` words, each pair weighted 1/distance (GloVe).

    Returns the non-zero entries as (rows, cols, values). Defined in Day 14.
    """
    keys, values = [], []
    for offset in range(1, window + 1):
        left = np.arange(len(ids) - offset)
        right = left + offset
        same = sentence_ids[left] == sentence_ids[right]
        a, b = ids[left[same]], ids[right[same]]
        keys += [a * vocab_size + b, b * vocab_size + a]          # both directions: X is symmetric
        values += [np.full(2 * len(a), 1.0 / offset)]
    key = np.concatenate(keys)
    unique, inverse = np.unique(key, return_inverse=True)
    total = np.bincount(inverse, weights=np.concatenate(values))
    return unique // vocab_size, unique % vocab_size, total


def glove_weight(x: torch.Tensor, x_max: float = 100.0, alpha: float = 0.75) -> torch.Tensor:
    """GloVe's f(x) = (x / x_max)^α below x_max, 1 above: rare pairs count less, frequent ones are capped."""
    return torch.where(x < x_max, (x / x_max) ** alpha, torch.ones_like(x))


def glove_loss(w: torch.Tensor, c: torch.Tensor, bw: torch.Tensor, bc: torch.Tensor, rows: torch.Tensor,
               cols: torch.Tensor, x: torch.Tensor, x_max: float = 100.0,
               alpha: float = 0.75) -> torch.Tensor:
    """J = Σ_{X_ij > 0} f(X_ij) (w_i·c_j + b_i + b̃_j - log X_ij)², with separate word and context vectors.

    Defined in Day 14.
    """
    prediction = (w[rows] * c[cols]).sum(-1) + bw[rows] + bc[cols]
    return (glove_weight(x, x_max, alpha) * (prediction - torch.log(x)) ** 2).sum()


# ---------------------------------------------------------------- fastText sub-words
def char_ngrams(word: str, min_n: int = 3, max_n: int = 6) -> list[str]:
    """The character n-grams of ``<word>`` (with the boundary markers), shortest first. Defined in Day 14."""
    if min_n < 1 or max_n < min_n:
        raise ValueError(f"need 1 <= min_n <= max_n, got {min_n}, {max_n}")
    extended = f"<{word}>"
    return [extended[i:i + n] for n in range(min_n, min(len(extended), max_n) + 1)
            for i in range(len(extended) - n + 1)]


def char_ngrams_bytes(word: str, min_n: int = 3, max_n: int = 6) -> list[bytes]:
    """fastText's own order: for each start character, the n-grams of n = 1.. characters, as UTF-8 bytes.

    fastText (and gensim) walk the UTF-8 bytes and count a character at each byte that does not continue a
    multi-byte sequence; the single characters ``<`` and ``>`` are left out.
    """
    data = f"<{word}>".encode()
    out = []
    for i in range(len(data)):
        if data[i] & 0xC0 == 0x80:        # a continuation byte: not the start of a character
            continue
        j, n = i, 1
        while j < len(data) and n <= max_n:
            j += 1
            while j < len(data) and data[j] & 0xC0 == 0x80:
                j += 1
            if n >= min_n and not (n == 1 and (i == 0 or j == len(data))):
                out.append(data[i:j])
            n += 1
    return out


def fasttext_hash(data: bytes) -> int:
    """32-bit FNV-1a as fastText computes it: each byte is read as a *signed* char before the xor."""
    h = 2166136261
    for byte in data:
        signed = byte - 256 if byte > 127 else byte
        h = ((h ^ (signed & 0xFFFFFFFF)) * 16777619) & 0xFFFFFFFF
    return h


def ngram_buckets(word: str, min_n: int, max_n: int, buckets: int) -> list[int]:
    """The rows of fastText's n-gram table that ``word`` adds up (hash modulo the number of buckets)."""
    return [fasttext_hash(ngram) % buckets for ngram in char_ngrams_bytes(word, min_n, max_n)]


# ---------------------------------------------------------------- evaluation
def cosine_matrix(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero)."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms == 0, 1, norms)


def wordsim_spearman(words: Sequence[str], vectors: np.ndarray,
                     pairs: Sequence[tuple[str, str, float]]) -> tuple[float, int]:
    """Spearman correlation of cosine similarities with human scores, on the pairs whose words are known.

    Returns (rho, number of pairs used). Defined in Day 14.
    """
    from scipy.stats import spearmanr

    index = {w: i for i, w in enumerate(words)}
    unit = cosine_matrix(vectors)
    known = [(a, b, s) for a, b, s in pairs if a in index and b in index]
    if len(known) < 3:
        raise ValueError(f"only {len(known)} word pairs are in the vocabulary: cannot compute a correlation")
    model = [float(unit[index[a]] @ unit[index[b]]) for a, b, _ in known]
    return float(spearmanr(model, [s for _, _, s in known]).statistic), len(known)


def analogy(words: Sequence[str], vectors: np.ndarray, a: str, b: str, c: str, topn: int = 1,
            exclude_same_vector: bool = False) -> list[str]:
    """3CosAdd: the words closest to b - a + c (unit vectors), excluding a, b and c. "a is to b as c is to ?".

    ``exclude_same_vector`` also excludes every word whose vector equals that of a, b or c (pruned tables
    such as spaCy's give many words one shared vector). Defined in Day 14.
    """
    index = {w: i for i, w in enumerate(words)}
    missing = [w for w in (a, b, c) if w not in index]
    if missing:
        raise KeyError(f"not in the vocabulary: {missing}")
    unit = cosine_matrix(vectors)
    target = unit[index[b]] - unit[index[a]] + unit[index[c]]
    scores = unit @ (target / np.linalg.norm(target))
    scores[[index[a], index[b], index[c]]] = -np.inf
    if exclude_same_vector:
        for word in (a, b, c):
            scores[np.all(vectors == vectors[index[word]], axis=1)] = -np.inf
    return [words[i] for i in np.argsort(-scores, kind="stable")[:topn]]


def read_wordsim(path: str) -> list[tuple[str, str, float]]:
    """Word pairs and human scores from a tab-separated file such as gensim's ``wordsim353.tsv``."""
    out = []
    for line in open(path, encoding="utf-8"):
        if line.startswith("#") or not line.strip():
            continue
        a, b, score = line.rstrip("\n").split("\t")[:3]
        out.append((a.lower(), b.lower(), float(score)))
    return out


def to_keyed_vectors(words: Sequence[str], vectors: np.ndarray):  # -> gensim KeyedVectors
    """Wrap hand-trained vectors in gensim's ``KeyedVectors`` to evaluate them like gensim's own."""
    from gensim.models import KeyedVectors

    kv = KeyedVectors(vector_size=vectors.shape[1])
    kv.add_vectors(list(words), np.asarray(vectors, dtype=np.float32))
    return kv


# ---------------------------------------------------------------- pretrained vectors into a model
def copy_pretrained(embedding: nn.Embedding, vectors: np.ndarray | torch.Tensor,
                    rows: Sequence[int] | None = None) -> int:
    """Copy pretrained ``vectors`` into ``embedding.weight`` (all rows, or the given ``rows``).

    Raises ``ValueError`` when the widths or the row counts differ: a silent skip (the seed's ``try/except``)
    would train "pretrained" runs from random vectors. Returns the number of rows copied. Defined in Day 14.
    """
    source = torch.as_tensor(np.asarray(vectors), dtype=embedding.weight.dtype)
    if source.ndim != 2:
        raise ValueError(f"pretrained vectors must be a 2-D matrix, got shape {tuple(source.shape)}")
    if source.size(1) != embedding.embedding_dim:
        raise ValueError(f"pretrained vectors have width {source.size(1)} but the embedding has width "
                         f"{embedding.embedding_dim}: build nn.Embedding(..., {source.size(1)}) "
                         "or project the vectors")
    target_rows = torch.arange(embedding.num_embeddings) if rows is None else torch.as_tensor(list(rows))
    if len(target_rows) != source.size(0):
        raise ValueError(f"{source.size(0)} pretrained vectors for {len(target_rows)} embedding rows")
    if len(target_rows) and (target_rows.min() < 0 or target_rows.max() >= embedding.num_embeddings):
        raise ValueError(f"rows must lie in 0..{embedding.num_embeddings - 1}")
    with torch.no_grad():
        embedding.weight[target_rows] = source.to(embedding.weight.device)
    return len(target_rows)

"""Day 14: hand SGNS gradients equal autograd, GloVe's loss equals a brute-force sum, fastText n-grams and
hash buckets equal gensim's, and the evaluation functions equal gensim's."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from helpers import embeddings as emb

gensim = pytest.importorskip("gensim")
TEST_DATA = Path(gensim.__file__).parent / "test" / "test_data"


@pytest.mark.parametrize("seed", range(5))
def test_sgns_gradients_equal_autograd(seed: int) -> None:
    gen = torch.Generator().manual_seed(seed)
    w_in = torch.randn(15, 6, dtype=torch.float64, generator=gen, requires_grad=True)
    w_out = torch.randn(15, 6, dtype=torch.float64, generator=gen, requires_grad=True)
    centers, contexts = torch.randint(0, 15, (40,), generator=gen), torch.randint(0, 15, (40,), generator=gen)
    negatives = torch.randint(0, 15, (40, 4), generator=gen)
    loss, grad_in, grad_out = emb.sgns_gradients(w_in.detach(), w_out.detach(), centers, contexts, negatives)
    reference = emb.sgns_loss(w_in, w_out, centers, contexts, negatives)
    reference.backward()
    torch.testing.assert_close(loss, reference.detach())
    torch.testing.assert_close(grad_in, w_in.grad, atol=1e-12, rtol=1e-10)
    torch.testing.assert_close(grad_out, w_out.grad, atol=1e-12, rtol=1e-10)


def test_sgns_gradient_catches_a_sign_error() -> None:
    """The check above can fail: flipping the negative term gives a different gradient."""
    gen = torch.Generator().manual_seed(0)
    w_in, w_out = torch.randn(5, 3, generator=gen), torch.randn(5, 3, generator=gen)
    c, o, n = torch.tensor([0, 1]), torch.tensor([2, 3]), torch.tensor([[4], [0]])
    _, grad_in, _ = emb.sgns_gradients(w_in, w_out, c, o, n)
    assert not torch.allclose(grad_in, emb.sgns_gradients(w_in, w_out, c, o, torch.tensor([[2], [3]]))[1])


TOY = [["the", "cat", "sat", "on", "the", "mat"], ["the", "dog", "sat"], ["a", "cat", "and", "a", "dog"]]


def _brute_cooccurrence(vocab: emb.WordVocab, window: int) -> np.ndarray:
    x = np.zeros((len(vocab), len(vocab)))
    for sentence in TOY:
        for i, word in enumerate(sentence):
            for j, other in enumerate(sentence):
                if 0 < abs(i - j) <= window:
                    x[vocab.index[word], vocab.index[other]] += 1 / abs(i - j)
    return x


@pytest.mark.parametrize("window", [1, 2, 4])
def test_cooccurrence_and_glove_loss_equal_brute_force(window: int) -> None:
    vocab = emb.build_vocab(TOY, min_count=1)
    ids, sentence_ids = emb.encode_corpus(TOY, vocab)
    rows, cols, counts = emb.cooccurrence(ids, sentence_ids, len(vocab), window)
    brute = _brute_cooccurrence(vocab, window)
    dense = np.zeros_like(brute)
    dense[rows, cols] = counts
    np.testing.assert_allclose(dense, brute, atol=1e-12)
    gen = torch.Generator().manual_seed(window)
    w, c = (torch.randn(len(vocab), 3, dtype=torch.float64, generator=gen) for _ in range(2))
    bw, bc = (torch.randn(len(vocab), dtype=torch.float64, generator=gen) for _ in range(2))
    x_max, alpha = 1.5, 0.75
    expected = sum(min(1.0, (brute[i, j] / x_max) ** alpha)
                   * (float(w[i] @ c[j] + bw[i] + bc[j]) - np.log(brute[i, j])) ** 2
                   for i in range(len(vocab)) for j in range(len(vocab)) if brute[i, j] > 0)
    rows_t, cols_t, counts_t = (torch.from_numpy(a) for a in (rows, cols, counts))
    got = emb.glove_loss(w, c, bw, bc, rows_t, cols_t, counts_t, x_max, alpha)
    assert got.item() == pytest.approx(expected, rel=1e-12)


def test_glove_weight() -> None:
    x = torch.tensor([0.5, 50.0, 100.0, 1000.0])
    torch.testing.assert_close(emb.glove_weight(x), torch.tensor([0.005 ** 0.75, 0.5 ** 0.75, 1.0, 1.0]))


WORDS = ["persuasion", "a", "naïve", "café", "größer", "北京", "élan", "Zoë's", "x"]


@pytest.mark.parametrize("word", WORDS)
@pytest.mark.parametrize(("min_n", "max_n"), [(3, 6), (1, 3), (2, 5)])
def test_fasttext_ngrams_and_buckets_equal_gensim(word: str, min_n: int, max_n: int) -> None:
    from gensim.models.fasttext import compute_ngrams, compute_ngrams_bytes, ft_ngram_hashes

    assert emb.char_ngrams(word, min_n, max_n) == compute_ngrams(word, min_n, max_n)
    assert emb.char_ngrams_bytes(word, min_n, max_n) == compute_ngrams_bytes(word, min_n, max_n)
    for buckets in (2_000_000, 1000):
        assert emb.ngram_buckets(word, min_n, max_n, buckets) == ft_ngram_hashes(word, min_n, max_n, buckets)


def test_fasttext_vector_is_mean_of_ngram_rows() -> None:
    from gensim.models import FastText

    model = FastText([s * 3 for s in TOY], vector_size=8, min_count=1, bucket=500, epochs=2, workers=1,
                     seed=0)
    for word in ("cat", "catnip"):
        rows = emb.ngram_buckets(word, 3, 6, 500)
        parts = model.wv.vectors_ngrams[rows]
        if word in model.wv.key_to_index:
            parts = np.vstack([model.wv.vectors_vocab[model.wv.key_to_index[word]], parts])
        np.testing.assert_allclose(parts.mean(0), model.wv[word], atol=1e-6)


def _random_kv(seed: int, size: int = 300):
    rng = np.random.default_rng(seed)
    words = list(dict.fromkeys(w for a, b, _ in emb.read_wordsim(str(TEST_DATA / "wordsim353.tsv"))
                               for w in (a, b)))[:size]
    return words, rng.normal(size=(len(words), 10)).astype(np.float32)


def test_spearman_equals_gensim() -> None:
    words, vectors = _random_kv(0)
    kv = emb.to_keyed_vectors(words, vectors)
    rho, used = emb.wordsim_spearman(words, vectors, emb.read_wordsim(str(TEST_DATA / "wordsim353.tsv")))
    pearson, spearman, oov = kv.evaluate_word_pairs(str(TEST_DATA / "wordsim353.tsv"))
    assert used > 50
    assert rho == pytest.approx(spearman.statistic, abs=1e-9)


def test_analogy_equals_gensim_most_similar() -> None:
    words, vectors = _random_kv(1)
    kv = emb.to_keyed_vectors(words, vectors)
    for a, b, c in [(words[0], words[1], words[2]), (words[10], words[3], words[7]),
                    (words[5], words[6], words[9])]:
        assert emb.analogy(words, vectors, a, b, c, topn=5) == [
            w for w, _ in kv.most_similar(positive=[b, c], negative=[a], topn=5)]


def test_analogy_can_exclude_shared_vectors() -> None:
    words = ["a", "b", "c", "c_twin", "d"]
    vectors = np.array([[1, 0], [0, 1], [1, 1], [1, 1], [1, -0.2]], dtype=np.float64)
    assert emb.analogy(words, vectors, "a", "b", "c")[0] == "c_twin"
    assert emb.analogy(words, vectors, "a", "b", "c", exclude_same_vector=True)[0] == "d"
    with pytest.raises(KeyError, match="not in the vocabulary"):
        emb.analogy(words, vectors, "a", "b", "zebra")


def test_skipgram_pairs_stay_in_sentences_and_window() -> None:
    ids = np.arange(10)
    sentence_ids = np.array([0] * 4 + [1] * 6)
    centers, contexts = emb.skipgram_pairs(ids, sentence_ids, 2, np.random.default_rng(0))
    assert len(centers) > 0
    assert np.all(sentence_ids[centers] == sentence_ids[contexts])
    assert np.all(np.abs(centers - contexts) <= 2) and np.all(centers != contexts)
    with pytest.raises(ValueError, match="window"):
        emb.skipgram_pairs(ids, sentence_ids, 0, np.random.default_rng(0))


def test_cbow_masks_padding() -> None:
    torch.manual_seed(0)
    model = emb.CBOW(10, 4)
    nn.init.normal_(model.center.weight)
    contexts, centers, negatives = torch.tensor([[1, 2, 3, 0]]), torch.tensor([5]), torch.tensor([[6, 7]])
    mask = torch.tensor([[True, True, False, False]])
    changed = contexts.clone()
    changed[0, 2:] = torch.tensor([8, 9])     # masked slots: whatever they hold, the loss is the same
    torch.testing.assert_close(model(contexts, mask, centers, negatives),
                               model(changed, mask, centers, negatives))


def test_copy_pretrained_raises_on_shape_mismatch() -> None:
    embedding = nn.Embedding(4, 3)
    assert emb.copy_pretrained(embedding, np.ones((4, 3))) == 4
    torch.testing.assert_close(embedding.weight, torch.ones(4, 3))
    with pytest.raises(ValueError, match="width 5"):
        emb.copy_pretrained(embedding, np.ones((4, 5)))
    with pytest.raises(ValueError, match="2 pretrained vectors for 4"):
        emb.copy_pretrained(embedding, np.ones((2, 3)))
    emb.copy_pretrained(embedding, np.zeros((2, 3)), rows=[1, 3])
    torch.testing.assert_close(embedding.weight.sum(1), torch.tensor([3.0, 0.0, 3.0, 0.0]))

"""Day 30: numpy cosine top-k equals ``util.semantic_search``; the mini-newsgroup loader; cluster counts."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from helpers.corpora.newsgroups import MINI_CATEGORIES, load_mini_newsgroup, load_posts
from helpers.sentence_embeddings import cluster_counts, hits_to_arrays, top_k_cosine


def test_top_k_cosine_equals_semantic_search() -> None:
    util = pytest.importorskip("sentence_transformers.util")
    rng = np.random.default_rng(0)
    corpus, queries = rng.normal(size=(300, 16)), rng.normal(size=(7, 16))
    ids, scores = top_k_cosine(queries, corpus, k=5)
    hits = util.semantic_search(torch.from_numpy(queries).float(), torch.from_numpy(corpus).float(), top_k=5)
    lib_ids, lib_scores = hits_to_arrays(hits)
    np.testing.assert_array_equal(ids, lib_ids)
    assert np.max(np.abs(scores - lib_scores)) < 1e-5
    assert (np.diff(scores, axis=1) <= 0).all()  # best first
    # the check can fail: a dot product without normalisation ranks differently
    raw = np.argsort(-(queries @ corpus.T), axis=1)[:, :5]
    assert not np.array_equal(raw, lib_ids)


def test_top_k_cosine_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="k must be"):
        top_k_cosine(np.ones((1, 3)), np.ones((4, 3)), k=5)
    with pytest.raises(ValueError, match="zero vector"):
        top_k_cosine(np.zeros((1, 3)), np.ones((4, 3)), k=1)
    with pytest.raises(ValueError, match="expected queries"):
        top_k_cosine(np.ones((1, 2)), np.ones((4, 3)), k=1)


def test_cluster_counts_ignores_noise() -> None:
    assert cluster_counts([-1, 0, 0, 2, -1, 2, 5]) == (3, 2)
    assert cluster_counts([-1, -1]) == (0, 2)


def test_mini_newsgroup_is_labelled_and_cleaned() -> None:
    pytest.importorskip("gensim")
    raw = load_mini_newsgroup(clean=False)
    assert len(raw) == 200 and raw.names == list(MINI_CATEGORIES)
    assert np.bincount(raw.labels).tolist() == [100, 100]
    assert all("Newsgroups:" in text for text in raw.texts)  # the header gives the answer away...
    clean = load_mini_newsgroup(min_chars=40)
    assert not any(text.startswith("From:") for text in clean.texts)  # ...so the loader strips it
    assert 150 < len(clean) <= 200 and all(len(text) >= 40 for text in clean.texts)
    with pytest.raises(ValueError, match="COURSE_PROFILE=laptop"):
        load_posts("ci", ("comp.graphics",))

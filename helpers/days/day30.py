"""Day 30 (sentence embeddings): which encoder, which posts, which clustering parameters.

``ci`` encodes gensim's 200 labelled 20-Newsgroups posts (alt.atheism / sci.space) and the chatterbot
prompts with the packaged all-MiniLM-L6-v2; ``laptop``/``gpu`` download 20 Newsgroups with scikit-learn
(more groups, more posts) and the same model from the Hub.
"""

SETTINGS: dict[str, dict] = {
    "common": {
        "model_id": "sentence-transformers/all-MiniLM-L6-v2",  # 6 layers, d = 384, mean pooling + L2 norm
        "batch_size": 32,          # posts per forward pass
        "min_chars": 40,           # drop posts that are (almost) nothing once quotes and headers are gone
        "top_k": 3,                # hits shown per query in the semantic search
        "kmeans_n_init": 10,       # k-means restarts; the best inertia is kept
        "dbscan_min_samples": 5,   # a core point needs 5 neighbours (itself included) within eps
        "dbscan_quantile": 0.3,    # eps = this quantile of the distance to the 5th neighbour (k-distance)
        "hdbscan_min_cluster_size": 10,  # smaller dense groups count as noise
        "tfidf_max_features": 5000,      # vocabulary of the TF-IDF baseline
        "tsne_perplexity": 30,     # neighbours t-SNE tries to keep; must stay below the number of posts
    },
    "ci": {
        "categories": ("alt.atheism", "sci.space"),  # the only two groups of the offline sample
        "max_posts": None,         # all 200 (191 once empty replies are dropped)
        "max_seq_length": 128,     # truncate long posts: half of the model's 256, halves the encoding time
        "search_topics": ("ai", "computers", "food", "history", "literature", "money", "movies", "politics",
                          "science", "sports"),  # 10 of 21 chatterbot topics: 200 prompts, 2 s to encode
    },
    "laptop": {
        "categories": ("alt.atheism", "comp.graphics", "rec.sport.hockey", "sci.space"),  # 4 groups
        "max_posts": 1500,         # about 2 min of encoding on 2 cores
        "max_seq_length": 256,     # the model's own limit
        "search_topics": None,     # every English topic: 748 prompts
    },
    "gpu": {
        "categories": ("alt.atheism", "comp.graphics", "rec.autos", "rec.sport.hockey", "sci.med",
                       "sci.space"),  # 6 groups
        "max_posts": None,         # every training post of the 6 groups (about 3,500)
        "max_seq_length": 256,
        "search_topics": None,
    },
}

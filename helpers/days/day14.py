"""Day 14 (word embeddings): corpus size, vector width and training lengths of the five models.

Every profile trains on Jane Austen's six novels (Debian ``r-cran-janeaustenr``, about 720k words, offline):
there is nothing larger to download for the same comparison. ``ci`` trains every model for one pass, with
50-wide vectors, so that the whole notebook fits its budget; ``laptop`` and ``gpu`` train longer and wider,
which is what the quality comparison needs (``ci`` can only show the mechanics and the ranking noise).
"""

SETTINGS: dict[str, dict] = {
    "common": {
        "num_threads": None,     # None: keep the threads that setup() chose
        "min_count": 5,          # word2vec's default: rarer words get no vector
        "window": 5,             # word2vec's default context window (each center draws 1..5)
        "negatives": 5,          # negative samples per positive pair (word2vec's default)
        "sample": 1e-3,          # sub-sampling threshold of frequent words (word2vec's default)
        "sgns_lr": 0.05,         # hand SGD on summed batch gradients, decayed linearly to 0
        "cbow_lr": 0.01,         # Adam on the mean loss of a batch
        "glove_window": 5,       # co-occurrence window of GloVe (each pair weighted 1/distance)
        "glove_x_max": 100.0,    # f(X) = (X/x_max)^alpha below x_max (the GloVe paper's values)
        "glove_alpha": 0.75,
        "glove_lr": 0.1,         # Adagrad, as in the GloVe paper's code
        "glove_batch": 65536,    # non-zero co-occurrences per Adagrad step
        "fasttext_buckets": 200000,  # n-gram hash table rows (fastText's default is 2M; 200k is plenty here)
        "min_n": 3,              # fastText's character n-gram lengths
        "max_n": 6,
        "projection_words": 60,  # words in the 2-D projection
    },
    "ci": {
        "num_threads": 1,        # small matrices: a second thread costs more in synchronisation than it saves
        "dim": 50,               # narrow vectors: half the time of 100
        "epochs": 1,             # one pass of each model: mechanics, not quality
        "glove_epochs": 5,
        "batch_size": 2048,      # pairs per hand-SGNS step; CBOW windows per step
    },
    "laptop": {
        "dim": 100,
        "epochs": 5,             # gensim's default number of passes
        "glove_epochs": 25,
        "batch_size": 1024,
    },
    "gpu": {
        "dim": 100,
        "epochs": 10,
        "glove_epochs": 50,
        "batch_size": 4096,      # larger steps keep a GPU busy; the corpus is the same
    },
}

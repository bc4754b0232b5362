"""Day 40 (Whisper): log-mel features, a CTranslate2 -> Hugging Face conversion, WER, and a LoRA fine-tune.

Every profile transcribes the ten packaged pocketsphinx clips (five LibriVox sentences, five "cards"
utterances) and fine-tunes LoRA adapters on the cards; the profiles change the model and the training length.
"""

from typing import Any

SETTINGS: dict[str, dict[str, Any]] = {
    "common": {
        "model_id": "openai/whisper-tiny.en",  # 37.8M parameters, English only
        "max_new_tokens": 48,  # the longest clip (7 s) has 25 words
        "lora_r": 8,
        "lora_alpha": 16,
        "lora_dropout": 0.0,  # five clips, a few steps: dropout would only add noise
        # LoRA on the decoder's self- and cross-attention queries and values: the encoder (the audio side)
        # stays frozen, so its output is computed once and reused at every step.
        "target_modules": r".*decoder\.layers\.\d+\.(self_attn|encoder_attn)\.(q_proj|v_proj)",
        "lr": 1e-3,  # AdamW
        "steps": 12,  # full-batch steps on the five cards clips
        "attention_clip": 0,  # index of the clip whose cross-attention is plotted
    },
    "ci": {
        # The converted packaged tiny.en (helpers.corpora.whisper_tiny): 12 steps on encoder outputs
        # computed once take about a second each on one CPU thread.
    },
    "laptop": {
        # The published tiny.en from the Hub: the same weights in float32 (the packaged copy is float16).
        "steps": 20,
    },
    "gpu": {
        # A larger English model from the Hub; the same data and recipe, more steps.
        "model_id": "openai/whisper-small.en",
        "lora_r": 32,
        "lora_alpha": 64,
        "steps": 40,
    },
}

#: An LLM-sized day: its ci run may take up to 120 s (tests/conftest.py checks the kernel CPU time).
CI_BUDGET_S = 120

"""Day 35 (the Llama architecture): a hand-written Llama matched to transformers' LlamaForCausalLM.

The component checks run on a tiny random Llama in every profile (same shapes everywhere). The real model
changes with the profile: the packaged SmolLM2-135M-Instruct in ``ci``, the published SmolLM2 weights
under ``laptop``, TinyLlama-1.1B-Chat (22 layers, 32 query / 4 key-value heads, untied head) under ``gpu``.
"""

from typing import Any

SETTINGS: dict[str, dict[str, Any]] = {
    "common": {
        "model_id": "HuggingFaceTB/SmolLM2-135M-Instruct",
        # the tiny random Llama of the component checks: GQA with 2 query heads per key/value head
        "tiny": {"vocab_size": 256, "hidden_size": 64, "intermediate_size": 176, "num_hidden_layers": 2,
                 "num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 128,
                 "rope_theta": 10_000.0, "rms_norm_eps": 1e-5, "tie_word_embeddings": True},
        "tiny_batch": 2,  # sequences per check batch
        "tiny_length": 16,  # tokens per check sequence
        "relative_positions": 48,  # the RoPE relative-position check tests every pair (m, n) below this
        "plot_positions": 256,  # positions in the RoPE angle heatmap
        "logits_atol": 1e-3,  # hand vs library logits, fp32 through every layer (typical max diff ~1e-4)
        # the prompt for the logit match and greedy decoding (wrapped in the model's chat template)
        "prompt": "Explain in one sentence what a key-value cache is.",
        # a short plain sentence for the attention heatmaps (few tokens, readable labels)
        "heatmap_text": "The cat sat on the mat because the cat was tired.",
        "heatmap_layer": 11,  # SmolLM2: a layer whose heads differ most and rarely park on the first token
        "max_new_tokens": 20,  # greedy tokens, cached and uncached
        "memory_context": 8192,  # the context length of the KV-cache memory table
        "dtype": "float32",  # the reference checks need full precision
    },
    "ci": {
        # The packaged SmolLM2 (Q4_1 GGUF de-quantized, read from the safetensors copy made at set-up): one
        # uncached generation of 20 tokens after a 42-token prompt costs ~8 s of CPU, the rest ~10 s.
    },
    "laptop": {
        # The published SmolLM2-135M-Instruct weights (downloaded once, ~270 MB); longer generation.
        "max_new_tokens": 48,
    },
    "gpu": {
        # TinyLlama-1.1B-Chat: 22 layers, 32 query heads sharing 4 key/value heads (GQA 8:1), RoPE theta 1e4,
        # an untied head; ~4.4 GB in fp32. Not gated (Llama 3.2 1B is, and uses "llama3" RoPE scaling,
        # which the hand model refuses with a clear error).
        "model_id": "TinyLlama/TinyLlama-1.1B-Chat-v1.0",
        "max_new_tokens": 128,
        # wider layers and GPU attention kernels round differently from our written-out softmax (fp32, no
        # TF32): a looser bound than on the CPU, where the max diff is ~1e-4. Not yet measured on a GPU.
        "logits_atol": 5e-3,
    },
}

#: An LLM day: its ci run may take up to 120 s (tests/conftest.py checks the kernel CPU time).
CI_BUDGET_S = 120

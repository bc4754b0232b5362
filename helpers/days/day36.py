"""Day 36 (QLoRA SFT): NF4 by hand, NEFTune, SFT with TRL on a 4-bit SmolLM2 (ci) or Llama-2-7B-chat (gpu).

The quantisation (NF4, blocks of 64, double quantisation in blocks of 256) and NEFTune's alpha are the
2023/2025 articles' in every profile; the profiles change the model, the amount of data and of training,
and the compute dtype (float32 on a CPU, bfloat16 on a GPU, as the articles did).
"""

from typing import Any

SETTINGS: dict[str, dict[str, Any]] = {
    "common": {
        "model_id": "HuggingFaceTB/SmolLM2-135M-Instruct",
        "blocksize": 64,         # NF4 block: one float32 absmax per 64 weights (QLoRA, bitsandbytes default)
        "blocksize2": 256,       # double quantisation: one float32 scale per 256 block scales
        "compute_dtype": "float32",  # what Linear4bit dequantises to; bf16 kernels are for GPUs
        "device_map": "cpu",     # bitsandbytes places 4-bit models itself: never model.to() them
        "lora_r": 16,
        "lora_alpha": 32,        # set explicitly: the 2025 article left it unset (PEFT's default is 8)
        "lora_dropout": 0.05,
        "target_modules": ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
        "neftune_alpha": 5.0,    # NEFTune's alpha in the 2024/2025 articles and the NEFTune paper's default
        "topics": None,          # chatterbot-corpus topics; None = every English topic
        "valid_fraction": 0.2,   # held-out prompts: the articles validated on their training data
        "max_train": None,
        "max_valid": None,
        "max_length": 128,       # tokens of template + prompt + answer (TRL cuts longer ones)
        "batch_size": 8,
        "lr": 2e-4,              # AdamW, constant after warm-up
        "epochs": 2,
        "gradient_checkpointing": False,
        "max_new_tokens": 24,
        "n_samples": 3,          # held-out prompts answered before and after training
    },
    "ci": {
        # The packaged SmolLM2 (Q4_1 GGUF dequantised to fp32, read from the safetensors copy made at set-up),
        # re-quantised to NF4 on the CPU. Every 4-bit forward pass dequantises all 210 layers (~1 s of CPU),
        # so ci takes one epoch of 6 steps on 24 chatterbot exchanges, LoRA on q/v only (day 34's choice),
        # evaluates on 8 held-out prompts, and generates no replies (~1 s per generated token).
        "topics": ["ai", "botprofile", "computers", "emotion", "psychology", "science", "trivia"],
        "target_modules": ["q_proj", "v_proj"],
        "max_train": 24,
        "max_valid": 8,
        "max_length": 64,
        "batch_size": 4,
        "lr": 1e-3,              # few steps: a larger step size
        "epochs": 1,
        "n_samples": 0,
    },
    "laptop": {
        # The published SmolLM2 from the Hub, NF4 on the CPU, every English chatterbot topic (~30 min).
        "max_train": 400,
        "max_valid": 100,
        "lr": 5e-4,
    },
    "gpu": {
        # The 2023 recipe (day 29 of that series): Llama-2-7B-chat in NF4 with double quantisation and bf16
        # compute, LoRA r=32 / alpha=64 on every linear layer of the blocks and lm_head, plus NEFTune.
        # The model is gated: accept Meta's licence on the Hub and log in first.
        # Memory: the notebook also loads a float32 reference copy on the CPU (block 0's bytes, the KL
        # between the two models): about 27 GB of RAM for 7B parameters. Use a high-RAM runtime (Colab
        # Pro's 51 GB); untested here, since no GPU was available to this project.
        "model_id": "meta-llama/Llama-2-7b-chat-hf",
        "compute_dtype": "bfloat16",
        "device_map": "auto",
        "lora_r": 32,
        "lora_alpha": 64,
        "target_modules": ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj",
                           "lm_head"],
        "max_length": 512,
        "batch_size": 16,
        "lr": 1e-4,
        "epochs": 3,
        "gradient_checkpointing": True,
        "max_new_tokens": 64,
    },
}

#: An LLM day: its ci run may take up to 120 s (tests/conftest.py checks the kernel CPU time).
CI_BUDGET_S = 120

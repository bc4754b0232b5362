"""The packaged GGUF SmolLM2 behaves like a full-precision checkpoint once loaded (day 34)."""

from __future__ import annotations

import pytest
import torch

from helpers import hub


@pytest.fixture(scope="module")
def smollm2():
    return hub.load_pretrained("HuggingFaceTB/SmolLM2-135M-Instruct", profile="ci")


def test_dequantized_gguf_is_not_marked_quantized(smollm2) -> None:
    model, _ = smollm2
    assert all(p.dtype == torch.float32 for p in model.parameters())
    assert not getattr(model, "is_quantized", False)
    assert getattr(model, "hf_quantizer", None) is None
    assert not hasattr(model.config, "quantization_config")


def test_transformers_trainer_accepts_it_with_an_adapter(smollm2, tmp_path) -> None:
    from peft import LoraConfig, get_peft_model
    from transformers import Trainer, TrainingArguments
    from transformers.trainer_utils import validate_quantization_for_training

    model, _ = smollm2
    validate_quantization_for_training(model)  # raised "quantized with GGUF" before the fix
    peft_model = get_peft_model(model, LoraConfig(r=2, target_modules=["q_proj"]))
    Trainer(model=peft_model, args=TrainingArguments(output_dir=str(tmp_path), report_to="none"))

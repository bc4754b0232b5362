"""The safetensors cache of the packaged SmolLM2 equals the GGUF load it was made from (day 34, LLM days).

Slow: loading the GGUF takes 20-120 s on a CPU, so it happens once, in a module-scoped fixture, and every
check reuses it.
"""

from __future__ import annotations

import pytest
import torch

from helpers import hub
from helpers.data import MissingDataError

MODEL_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"
TEXTS = ["The capital of France is", "LoRA adds a low-rank update to a frozen weight."]


@pytest.fixture(scope="module")
def gguf():
    return hub.load_gguf_copy(MODEL_ID)


@pytest.fixture(scope="module")
def cached():
    return hub.load_pretrained(MODEL_ID, profile="ci")


def test_ci_loads_the_cache_not_the_gguf():
    path, extra = hub._source(MODEL_ID, "ci")
    assert extra == {} and path == str(hub.cache_path(MODEL_ID))


def test_cache_gives_the_gguf_logits_and_tokens(gguf, cached):
    (reference, reference_tokenizer), (model, tokenizer) = gguf, cached
    assert reference_tokenizer.chat_template == tokenizer.chat_template
    assert (reference_tokenizer.eos_token, reference_tokenizer.pad_token) == (tokenizer.eos_token,
                                                                            tokenizer.pad_token)
    messages = [{"role": "user", "content": "What is LoRA?"}]
    assert reference_tokenizer.apply_chat_template(messages) == tokenizer.apply_chat_template(messages)
    for text in TEXTS:
        ids = tokenizer(text, return_tensors="pt")["input_ids"]
        assert torch.equal(ids, reference_tokenizer(text, return_tensors="pt")["input_ids"])
        with torch.no_grad():
            expected, found = reference(input_ids=ids).logits, model(input_ids=ids).logits
        assert torch.equal(found, expected), (found - expected).abs().max()
    state, reference_state = model.state_dict(), reference.state_dict()
    assert state.keys() == reference_state.keys()
    assert all(torch.equal(state[key], reference_state[key]) for key in state)  # the de-quantized Q4 weights


def test_missing_cache_says_how_to_make_it(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_OFFLINE_DIR", str(tmp_path))
    with pytest.raises(MissingDataError, match="python -m helpers.data fetch-offline"):
        hub.load_pretrained(MODEL_ID, profile="ci")

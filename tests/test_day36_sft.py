"""Day 36: the hand-written SFT pieces equal TRL's (chat masking, answer-only loss) and NEFTune's hook."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from helpers import sft

MODEL_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"
PAIRS = [("Botany is the scientific study of what?", "Plants"),
         ("What is your name?", "My name is a secret, but you can call me Bot."),
         ("Are you happy?", "Yes.")]


@pytest.fixture(scope="module")
def tiny():
    from helpers.hub import load_pretrained

    torch.manual_seed(0)  # the tiny model's random weights
    model, tokenizer = load_pretrained(MODEL_ID, profile="ci", tiny=True)  # SmolLM2's tokenizer, tiny weights
    return model.eval(), tokenizer


def _trainer(model, tokenizer, tmp_path, **overrides):  # noqa: ANN001, ANN202
    from datasets import Dataset
    from datasets.utils.logging import disable_progress_bar
    from trl import SFTConfig, SFTTrainer

    disable_progress_bar()
    data = Dataset.from_list([{"prompt": sft.chat_messages(p),
                               "completion": [{"role": "assistant", "content": a}]} for p, a in PAIRS])
    args = SFTConfig(output_dir=str(tmp_path), report_to="none", use_cpu=True, max_length=64,
                     per_device_eval_batch_size=len(PAIRS), disable_tqdm=True,
                     bf16=False, **overrides)  # TRL turns bf16 autocast on by default, CPU included
    return SFTTrainer(model=model, args=args, train_dataset=data, eval_dataset=data,
                      processing_class=tokenizer)


def test_hand_encoding_equals_sft_trainer(tiny, tmp_path) -> None:
    model, tokenizer = tiny
    trainer = _trainer(model, tokenizer, tmp_path)
    for (prompt, answer), row in zip(PAIRS, trainer.train_dataset, strict=True):
        ours = sft.encode_chat_completion(tokenizer, prompt, answer, 64)
        assert ours["input_ids"] == row["input_ids"]
        assert ours["labels"] == row["labels"]
        learned = tokenizer.decode([y for y in ours["labels"] if y != sft.IGNORE_INDEX])
        assert learned == answer + "<|im_end|>\n"  # the answer and the template's end of turn


def test_completion_loss_equals_trl_eval_and_model_loss(tiny, tmp_path) -> None:
    model, tokenizer = tiny
    batch = sft.pad_batch([sft.encode_chat_completion(tokenizer, p, a) for p, a in PAIRS],
                          tokenizer.pad_token_id)
    with torch.no_grad():
        out = model(**batch)
    ours = sft.completion_loss(out.logits, batch["labels"])
    assert torch.allclose(ours, out.loss, atol=1e-5)
    trl_loss = _trainer(model, tokenizer, tmp_path).evaluate()["eval_loss"]
    assert ours.item() == pytest.approx(trl_loss, abs=1e-5)
    everything = batch["input_ids"].masked_fill(batch["attention_mask"] == 0, sft.IGNORE_INDEX)
    assert abs(sft.completion_loss(out.logits, everything).item() - ours.item()) > 1e-3  # the mask matters


def test_completion_loss_rejects_bad_labels() -> None:
    with pytest.raises(ValueError, match="no answer token"):
        sft.completion_loss(torch.zeros(1, 3, 5), torch.full((1, 3), sft.IGNORE_INDEX))
    with pytest.raises(ValueError, match="disagree"):
        sft.completion_loss(torch.zeros(1, 3, 5), torch.zeros(1, 4, dtype=torch.long))


def test_neftune_hook_equals_transformers_and_is_off_in_eval() -> None:
    from transformers.integrations.neftune import neftune_post_forward_hook

    embedding = nn.Embedding(100, 24)
    ids = torch.randint(0, 100, (3, 11), generator=torch.Generator().manual_seed(0))
    reference = copy.deepcopy(embedding)
    reference.neftune_noise_alpha = 5.0
    reference.register_forward_hook(neftune_post_forward_hook)
    handle = sft.add_neftune(embedding, 5.0)
    embedding.train()
    reference.train()
    torch.manual_seed(1)
    ours = embedding(ids)
    torch.manual_seed(1)
    theirs = reference(ids)
    assert torch.allclose(ours, theirs, atol=1e-6)
    noise = (ours - embedding.weight[ids]).detach()
    bound = sft.neftune_bound(5.0, 11, 24)
    assert bound == pytest.approx(5.0 / (11 * 24) ** 0.5)
    assert float(noise.abs().max()) <= bound * (1 + 1e-6)
    assert float(noise.abs().max()) > 0.9 * bound  # uniform: it reaches near the bound
    embedding.eval()
    assert torch.equal(embedding(ids), embedding.weight[ids])
    handle.remove()
    embedding.train()
    assert torch.equal(embedding(ids), embedding.weight[ids])


def test_sft_trainer_turns_neftune_on_only_while_training(tiny, tmp_path) -> None:
    from transformers import TrainerCallback

    model, tokenizer = tiny
    model = copy.deepcopy(model)
    seen = []

    class Probe(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs) -> None:  # noqa: ANN001
            seen.append(getattr(model.get_input_embeddings(), "neftune_noise_alpha", None))

    trainer = _trainer(model, tokenizer, tmp_path, neftune_noise_alpha=5.0, max_steps=2, save_strategy="no")
    trainer.add_callback(Probe())
    trainer.train()
    assert seen == [5.0, 5.0]
    hooks = model.get_input_embeddings()._forward_hooks.values()
    assert all("neftune" not in getattr(hook, "__name__", "") for hook in hooks)  # removed after train()

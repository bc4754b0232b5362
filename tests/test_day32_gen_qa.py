"""Day 32: answer-only labels = TRL's prompt/completion masking; batched left-padded greedy = one-by-one =
``generate``; the head-on-answers loss = the model's loss. Tiny random SmolLM2-architecture models (fast)."""

from __future__ import annotations

import copy
import logging
import tempfile

import pytest
import torch

from helpers import gen_qa
from helpers.dialogues import CausalLMCollator, Exchange, encode_exchange

logging.getLogger("bitsandbytes").setLevel(logging.ERROR)  # CPU-kernel notice printed on import by peft/trl

MODEL_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"
QA = {"id": "q1", "context": "Bonn lies on the Rhine, south of Cologne.", "question": "Bonn lies on what?",
      "answers": {"text": ["the Rhine"], "answer_start": [13]}}
NO_QA = {"id": "q2", "context": "Bonn lies on the Rhine.", "question": "Who founded Bonn?",
         "answers": {"text": [], "answer_start": []}}
PAIRS = [("I'll think it over.", "Ich werde es mir überlegen."), ("Could you clarify that for me?",
                                                                   "Könntest du mir das erklären?")]


@pytest.fixture(scope="module")
def tiny():
    from helpers.hub import load_pretrained

    torch.manual_seed(0)
    model, tokenizer = load_pretrained(MODEL_ID, profile="ci", tiny=True)
    return model.eval(), tokenizer


def _rows() -> list[dict[str, str]]:
    return [gen_qa.qa_row(QA), gen_qa.qa_row(NO_QA)] + [gen_qa.translation_row(en, de) for en, de in PAIRS]


def test_prompts_and_rows() -> None:
    row = gen_qa.qa_row(QA)
    assert row["prompt"].endswith("### Question:\nBonn lies on what?\n### Answer:")
    assert row["completion"] == " the Rhine"
    assert gen_qa.qa_row(NO_QA)["completion"] == " " + gen_qa.NO_ANSWER
    prompt = gen_qa.translation_row(*PAIRS[0])["prompt"]
    assert prompt == "Translate English to German: I'll think it over. =>"
    assert gen_qa.answer_for_scoring("No answer.") == "" and gen_qa.answer_for_scoring(" Rhine ") == "Rhine"


def test_collator_equals_trl_prompt_completion(tiny) -> None:
    """TRL's SFTTrainer (prompt/completion dataset: loss on the completion) gives the same ids and labels."""
    import datasets
    from trl import SFTConfig, SFTTrainer

    model, tokenizer = tiny
    datasets.disable_progress_bars()
    rows = _rows()
    with tempfile.TemporaryDirectory() as folder:
        args = SFTConfig(output_dir=folder, report_to="none", disable_tqdm=True, logging_strategy="no",
                         save_strategy="no", bf16=False, use_cpu=True)
        # a copy: TRL may modify the model it gets
        trainer = SFTTrainer(model=copy.deepcopy(model), args=args, processing_class=tokenizer,
                             train_dataset=datasets.Dataset.from_list(
                                 [{"prompt": r["prompt"], "completion": r["completion"]} for r in rows]))
        reference = trainer.data_collator([trainer.train_dataset[i] for i in range(len(rows))])
    mine = gen_qa.PromptCompletionCollator(tokenizer)(rows)
    for key in ("input_ids", "attention_mask", "labels"):
        assert torch.equal(mine[key], reference[key]), key
    # the answer is learned, the prompt and the pads are not; no pad sits before a real token
    assert (mine["labels"] != gen_qa.IGNORE_INDEX).sum() < mine["attention_mask"].sum()
    for mask in mine["attention_mask"]:
        assert torch.all(mask[:-1] >= mask[1:]), "a pad in the middle of a sequence"


def test_collator_equals_day34_collator(tiny) -> None:
    _, tokenizer = tiny
    rows = _rows()
    encoded = [encode_exchange(tokenizer, Exchange(r["prompt"], r["completion"]), 512, chat_template=False)
               for r in rows]
    reference = CausalLMCollator(tokenizer.pad_token_id)(encoded)
    mine = gen_qa.PromptCompletionCollator(tokenizer)(rows)
    for key in reference:
        assert torch.equal(mine[key], reference[key]), key


def test_collator_errors(tiny) -> None:
    _, tokenizer = tiny
    collate = gen_qa.PromptCompletionCollator(tokenizer, max_length=8)
    assert not collate.fits(_rows()[0])
    with pytest.raises(ValueError, match="max_length"):
        collate(_rows())
    with pytest.raises(ValueError, match="empty"):
        collate([])


def test_completion_loss_equals_model_loss(tiny) -> None:
    model, tokenizer = tiny
    batch = gen_qa.PromptCompletionCollator(tokenizer)(_rows())
    with torch.no_grad():
        reference = model(**batch).loss
        mine = gen_qa.completion_loss(model, batch)
    torch.testing.assert_close(mine, reference, atol=1e-5, rtol=1e-5)
    # not the all-token loss: the check can fail
    with torch.no_grad():
        all_tokens = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                           labels=batch["input_ids"]).loss
    assert abs(float(all_tokens) - float(mine)) > 1e-3


def test_completion_loss_through_peft(tiny) -> None:
    from peft import LoraConfig, get_peft_model

    model, tokenizer = tiny
    peft_model = get_peft_model(copy.deepcopy(model), LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj",
                                                                                                   "v_proj"]))
    for name, parameter in peft_model.named_parameters():
        if "lora_B" in name:
            torch.nn.init.normal_(parameter, std=0.5)  # a trained-looking adapter, so it changes the loss
    peft_model.eval()
    batch = gen_qa.PromptCompletionCollator(tokenizer)(_rows())
    with torch.no_grad():
        torch.testing.assert_close(gen_qa.completion_loss(peft_model, batch), peft_model(**batch).loss,
                                   atol=1e-5, rtol=1e-5)


def test_left_padded_greedy_equals_one_by_one_and_generate(tiny) -> None:
    model, tokenizer = tiny
    prompts = [r["prompt"] for r in _rows()]
    eos, pad = tokenizer.eos_token_id, tokenizer.pad_token_id
    batch = gen_qa.left_pad(tokenizer, prompts)
    assert (batch["attention_mask"][:, -1] == 1).all() and (batch["attention_mask"][:, 0] == 0).any()
    mine = gen_qa.greedy_generate(model, **batch, max_new_tokens=6, eos_token_id=eos, pad_token_id=pad)
    with torch.no_grad():
        library = model.generate(**batch, max_new_tokens=6, do_sample=False, eos_token_id=eos,
                                 pad_token_id=pad)[:, batch["input_ids"].shape[1]:]
    assert torch.equal(mine, library[:, : mine.shape[1]])
    for i, prompt in enumerate(prompts):
        alone = gen_qa.left_pad(tokenizer, [prompt])
        single = gen_qa.greedy_generate(model, **alone, max_new_tokens=6, eos_token_id=eos, pad_token_id=pad)
        assert gen_qa.cut_at_eos(single[0].tolist(), eos) == gen_qa.cut_at_eos(mine[i].tolist(), eos)


def _tiny_gpt2(vocab_size: int):
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)
    config = GPT2Config(vocab_size=vocab_size, n_positions=256, n_embd=32, n_layer=2, n_head=2)
    return GPT2LMHeadModel(config).eval()


def test_positions_matter_with_absolute_embeddings(tiny) -> None:
    """GPT-2 (learned absolute positions): a left-padded row needs position ids that skip the pads.

    With RoPE (SmolLM2) a constant shift of every position leaves q.k unchanged, so there the naive positions
    happen to work; with GPT-2's position table they do not, and the check below can fail.
    """
    _, tokenizer = tiny
    model = _tiny_gpt2(len(tokenizer))
    eos, pad = tokenizer.eos_token_id, tokenizer.pad_token_id
    prompts = [r["prompt"] for r in _rows()]
    batch = gen_qa.left_pad(tokenizer, prompts)
    with torch.no_grad():
        positions = (batch["attention_mask"].cumsum(-1) - 1).clamp(min=0)
        right = model(**batch, position_ids=positions).logits[:, -1]
        naive = model(**batch, position_ids=torch.arange(batch["input_ids"].shape[1])[None]).logits[:, -1]
        alone = torch.cat([model(**gen_qa.left_pad(tokenizer, [p])).logits[:, -1] for p in prompts])
    padded = batch["attention_mask"][:, 0] == 0
    assert (right[padded] - naive[padded]).abs().max() > 1e-3
    torch.testing.assert_close(right, alone, atol=1e-5, rtol=1e-5)
    mine = gen_qa.greedy_generate(model, **batch, max_new_tokens=5, eos_token_id=eos, pad_token_id=pad)
    with torch.no_grad():
        library = model.generate(**batch, max_new_tokens=5, do_sample=False, eos_token_id=eos,
                                 pad_token_id=pad)[:, batch["input_ids"].shape[1]:]
    assert torch.equal(mine, library[:, : mine.shape[1]])


def test_generate_completions_and_cut(tiny) -> None:
    model, tokenizer = tiny
    texts = gen_qa.generate_completions(model, tokenizer, [r["prompt"] for r in _rows()], max_new_tokens=4,
                                        batch_size=3)
    assert len(texts) == 4 and all(isinstance(t, str) for t in texts)
    assert gen_qa.cut_at_eos([5, 6, 2, 7], 2) == [5, 6] and gen_qa.cut_at_eos([5], 2) == [5]
    with pytest.raises(ValueError):
        ones = torch.ones(1, 3, dtype=torch.long)
        gen_qa.greedy_generate(model, ones, ones, 0, tokenizer.eos_token_id, tokenizer.pad_token_id)

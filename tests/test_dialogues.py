"""Prompt/answer pairs (helpers.dialogues), the quantization kwargs and the Trainer's buffers (day 34)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from helpers import Trainer, dialogues, hub
from helpers.corpora import squad
from helpers.dialogues import IGNORE_INDEX, CausalLMCollator, Exchange
from helpers.profile import ProfileError


class CharTokenizer:
    """One token per character; ``<e>`` is EOS; a toy chat template."""

    eos_token = "<e>"
    chat_template = "toy"

    def __call__(self, text: str, add_special_tokens: bool = False) -> dict[str, list[int]]:
        ids, rest = [], text
        while rest:
            if rest.startswith(self.eos_token):
                ids, rest = ids + [0], rest[len(self.eos_token):]
            else:
                ids, rest = ids + [ord(rest[0])], rest[1:]
        return {"input_ids": ids}

    def apply_chat_template(self, messages, tokenize=False, add_generation_prompt=True) -> str:
        return f"U:{messages[0]['content']}|A:"


def test_chatterbot_dialogues_are_real_string_pairs() -> None:
    exchanges = dialogues.load_chatterbot_dialogues(["ai", "trivia"])
    assert len(exchanges) > 200
    assert {ex.topic for ex in exchanges} == {"ai", "trivia"}
    assert all(isinstance(ex.prompt, str) and ex.prompt and ex.answer for ex in exchanges)
    assert len({ex.prompt for ex in exchanges}) == len(exchanges)  # unique prompts
    assert exchanges[0] == dialogues.load_chatterbot_dialogues(["trivia", "ai"])[0]  # fixed order


def test_chatterbot_unknown_topic_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match="Unknown chatterbot topics.*available: ai"):
        dialogues.load_chatterbot_dialogues(["cooking-robots"])
    with pytest.raises(ValueError, match="no language"):
        dialogues.chatterbot_data_dir("klingon")


def test_split_is_deterministic_and_disjoint() -> None:
    items = [Exchange(f"q{i}", f"a{i}") for i in range(50)]
    train, valid = dialogues.split_exchanges(items, 0.2, max_train=30, shuffle_seed=1)
    again = dialogues.split_exchanges(items, 0.2, max_train=30, shuffle_seed=1)
    assert (train, valid) == again
    assert len(train) == 30 and len(valid) == 10 and not set(train) & set(valid)
    ordered = dialogues.split_exchanges(items, 0.2, shuffle_seed=None)
    assert ordered[1] == items[40:]
    with pytest.raises(ValueError, match="valid_fraction"):
        dialogues.split_exchanges(items, 1.5)


def test_encode_masks_the_prompt_and_keeps_the_eos() -> None:
    tokenizer = CharTokenizer()
    encoded = dialogues.encode_exchange(tokenizer, Exchange("hi", "yo"), max_length=20)
    prompt = len("U:hi|A:")
    assert encoded["input_ids"] == [ord(c) for c in "U:hi|A:yo"] + [0]
    assert encoded["labels"] == [IGNORE_INDEX] * prompt + [ord("y"), ord("o"), 0]
    assert dialogues.encode_exchange(tokenizer, Exchange("hi", "yo"), max_length=5) is None
    plain = dialogues.encode_exchange(tokenizer, Exchange("hi", "yo"), max_length=20, chat_template=False)
    assert plain["labels"][:2] == [IGNORE_INDEX] * 2 and len(plain["input_ids"]) == 5


def test_encode_exchanges_reports_the_dropped_ones(capsys) -> None:
    tokenizer = CharTokenizer()
    kept = dialogues.encode_exchanges(tokenizer, [Exchange("a", "b"), Exchange("a" * 50, "b")], 12)
    assert len(kept) == 1 and "dropped 1 of 2" in capsys.readouterr().out
    with pytest.raises(ValueError, match="raise it"):
        dialogues.encode_exchanges(tokenizer, [Exchange("a" * 50, "b")], 12)


def test_collator_pads_with_ignored_labels_by_position() -> None:
    collate = CausalLMCollator(pad_token_id=0)  # pad = eos, as in GPT-J and SmolLM2
    batch = collate([{"input_ids": [5, 6, 0], "attention_mask": [1, 1, 1], "labels": [-100, 6, 0]},
                     {"input_ids": [7], "attention_mask": [1], "labels": [7]}])
    assert batch["input_ids"].tolist() == [[5, 6, 0], [7, 0, 0]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [1, 0, 0]]
    assert batch["labels"].tolist() == [[-100, 6, 0], [7, -100, -100]]  # the real EOS stays a label
    with pytest.raises(ValueError, match="empty"):
        collate([])


def test_squad_rows_follow_the_recipe_format() -> None:
    row = {"title": "T", "context": "C.", "question": "Q?", "answers": {"text": [], "answer_start": []}}
    exchange = squad.squad_exchange(row)
    assert exchange.prompt == f"{squad.SQUAD_INSTRUCTION}\ncontext: C.\nquestion: Q?\nanswer:"
    assert exchange.answer == " " + squad.SQUAD_UNANSWERABLE
    row["answers"]["text"] = ["yes"]
    assert squad.squad_exchange(row).answer == " yes"


def test_quantization_kwargs() -> None:
    assert hub.quantization_kwargs(None) == {}
    with pytest.raises(ValueError, match="Unknown quantization"):
        hub.quantization_kwargs("3bit")
    if not torch.cuda.is_available():
        with pytest.raises(ProfileError, match="needs a CUDA GPU"):
            hub.quantization_kwargs("8bit")


class WithRotaryBuffer(nn.Module):
    """A model with a non-persistent buffer, like the rotary ``inv_freq`` of HF LLMs."""

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Linear(2, 1)
        self.register_buffer("inv_freq", torch.ones(2), persistent=False)

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return nn.functional.mse_loss(self.net(x * self.inv_freq).squeeze(-1), labels)


def test_trainer_restores_best_weights_of_a_model_with_non_persistent_buffers() -> None:
    torch.manual_seed(0)
    model = WithRotaryBuffer()
    batches = [{"x": torch.randn(4, 2), "labels": torch.randn(4)} for _ in range(2)]
    trainer = Trainer(model, torch.optim.SGD(model.parameters(), lr=0.1), batches, batches,
                      epochs=2, device="cpu", progress="lines")
    history = trainer.fit()
    assert history.best_epoch is not None and "inv_freq" not in trainer._weights()


def test_squad_loader_keeps_the_first_paragraph_of_each_article(monkeypatch) -> None:
    import datasets

    def row(title: str, context: str, answer: list[str]) -> dict:
        return {"title": title, "context": context, "question": f"{context}?",
                "answers": {"text": answer, "answer_start": [0] * len(answer)}}

    rows = [row("A", "a1", ["x"]), row("A", "a1", []), row("A", "a2", ["y"]), row("B", "b1", ["z"])]
    calls = []
    monkeypatch.setattr(datasets, "load_dataset", lambda name, split: calls.append((name, split)) or rows)
    exchanges = squad.load_squad_v2_exchanges("train")
    assert calls == [("rajpurkar/squad_v2", "train")]
    assert [ex.answer for ex in exchanges] == [" x", " " + squad.SQUAD_UNANSWERABLE, " z"]
    assert len(squad.load_squad_v2_exchanges("train", first_paragraph_only=False)) == 4


def test_squad_moved_to_its_own_module_and_still_imports_from_dialogues(monkeypatch) -> None:
    import datasets

    from helpers.data import MissingDataError
    from helpers.dialogues import load_squad_v2_exchanges, squad_exchange

    assert load_squad_v2_exchanges is squad.load_squad_v2_exchanges and squad_exchange is squad.squad_exchange
    with pytest.raises(AttributeError):
        dialogues.no_such_name  # noqa: B018

    def offline(name, split):
        raise ConnectionError("no network")

    monkeypatch.setattr(datasets, "load_dataset", offline)
    with pytest.raises(MissingDataError, match="SQuAD v2.*COURSE_PROFILE=ci"):
        squad.load_squad_v2_exchanges()

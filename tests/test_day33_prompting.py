"""Day 33 (prompting): ChatML vs apply_chat_template, label scores vs the library's loss, word problems."""

from __future__ import annotations

import pytest
import torch
from transformers import LlamaConfig, LlamaForCausalLM

from helpers import hub
from helpers.data import MissingDataError
from helpers.prompting import (
    chatml,
    check_turns,
    continuation_log_probs,
    label_log_probs,
    last_number,
    make_word_problems,
    next_token_log_probs,
    reference_log_prob,
)

SMOLLM2 = "HuggingFaceTB/SmolLM2-135M-Instruct"
SMOLLM2_SYSTEM = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"
VOCAB = 64


@pytest.fixture(scope="module")
def tiny_model() -> LlamaForCausalLM:
    """A random two-layer Llama with grouped-query attention: the architecture of SmolLM2, tiny."""
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=VOCAB, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128)
    return LlamaForCausalLM(config).eval()


class CharTokenizer:
    """A character-level tokenizer (ids 1..VOCAB-1), enough to drive ``label_log_probs``."""

    def __call__(self, text: str, add_special_tokens: bool = False) -> dict[str, list[int]]:
        return {"input_ids": [1 + ord(ch) % (VOCAB - 1) for ch in text]}


def full_logits_log_prob(model: LlamaForCausalLM, context: list[int], continuation: list[int]) -> float:
    """An independent reference: log-softmax over the full logits of one unpadded sequence, then gather."""
    ids = torch.tensor([context + continuation])
    with torch.no_grad():
        log_probs = torch.log_softmax(model(ids).logits[0].double(), dim=-1)
    positions = torch.arange(len(context) - 1, len(context) + len(continuation) - 1)
    return float(log_probs[positions, torch.tensor(continuation)].sum())


ROWS = [([5, 9, 3], [7]), ([11, 2], [4, 8, 15]), ([6, 6, 6, 6, 1], [2, 3]), ([9], [30])]
PREFIX = [12, 13, 14, 15]


def test_cached_batched_scores_equal_the_library_loss(tiny_model):
    scores = continuation_log_probs(tiny_model, PREFIX, ROWS, batch_size=3)
    reference = torch.tensor([reference_log_prob(tiny_model, PREFIX + c, k) for c, k in ROWS],
                             dtype=torch.float64)
    independent = torch.tensor([full_logits_log_prob(tiny_model, PREFIX + c, k) for c, k in ROWS],
                               dtype=torch.float64)
    assert torch.allclose(scores, reference, atol=1e-5, rtol=0), (scores - reference).abs().max()
    assert torch.allclose(reference, independent, atol=1e-5, rtol=0)


def test_scores_do_not_depend_on_batching_or_prefix_split(tiny_model):
    one = continuation_log_probs(tiny_model, PREFIX, ROWS, batch_size=1)
    all_at_once = continuation_log_probs(tiny_model, PREFIX, ROWS, batch_size=len(ROWS))
    assert torch.allclose(one, all_at_once, atol=1e-5, rtol=0)
    # no prefix at all: the prefix moved into every context gives the same numbers
    no_prefix = continuation_log_probs(tiny_model, [], [(PREFIX + c, k) for c, k in ROWS], batch_size=2)
    assert torch.allclose(no_prefix, one, atol=1e-5, rtol=0)


def test_a_wrong_continuation_scores_differently(tiny_model):
    """The check can fail: scoring a continuation as if it were another one changes the number."""
    right = continuation_log_probs(tiny_model, PREFIX, [([5, 9, 3], [7])])
    wrong = continuation_log_probs(tiny_model, PREFIX, [([5, 9, 3], [8])])
    assert abs(float(right - wrong)) > 1e-3


def test_next_token_scores_equal_one_token_continuations(tiny_model):
    contexts = [c for c, _ in ROWS]
    tokens = [7, 20, 33]
    table = next_token_log_probs(tiny_model, PREFIX, contexts, tokens, batch_size=3)
    expected = torch.tensor([[reference_log_prob(tiny_model, PREFIX + c, [t]) for t in tokens]
                             for c in contexts], dtype=torch.float64)
    assert table.shape == (len(contexts), len(tokens))
    assert torch.allclose(table, expected, atol=1e-5, rtol=0)


def test_label_log_probs_single_and_multi_token_paths_agree(tiny_model):
    tokenizer = CharTokenizer()
    queries = ["good tea", "bad", "it was fine, I think"]
    single = label_log_probs(tiny_model, tokenizer, "Sentiment?", queries, ["+", "-"], batch_size=2)
    multi = label_log_probs(tiny_model, tokenizer, "Sentiment?", queries, ["+", "-", "ok"], batch_size=2)
    assert single.shape == (3, 2) and multi.shape == (3, 3)
    assert torch.allclose(single, multi[:, :2], atol=1e-5, rtol=0)
    ids = tokenizer("Sentiment?")["input_ids"]
    context = ids + tokenizer(queries[2])["input_ids"]
    expected = reference_log_prob(tiny_model, context, tokenizer("ok")["input_ids"])
    assert abs(float(multi[2, 2]) - expected) < 1e-5


def test_scoring_rejects_bad_input(tiny_model):
    with pytest.raises(ValueError, match="continuation"):
        continuation_log_probs(tiny_model, PREFIX, [([1, 2], [])])
    with pytest.raises(ValueError, match="batch_size"):
        continuation_log_probs(tiny_model, PREFIX, ROWS, batch_size=0)
    with pytest.raises(ValueError, match="at least one"):
        label_log_probs(tiny_model, CharTokenizer(), "", [], ["+"])


# ------------------------------------------------------------------------------------------------ ChatML
CONVERSATIONS = [
    [{"role": "user", "content": "Hi"}],
    [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"},
     {"role": "assistant", "content": "Hello!"}, {"role": "user", "content": "2 + 2?"}],
]


def test_chatml_by_hand_is_the_expected_text():
    text = chatml(CONVERSATIONS[1], add_generation_prompt=True, default_system="ignored: there is one")
    assert text == ("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
                    "<|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>user\n2 + 2?<|im_end|>\n"
                    "<|im_start|>assistant\n")
    assert chatml(CONVERSATIONS[0], default_system="S").startswith("<|im_start|>system\nS<|im_end|>\n")


@pytest.fixture(scope="module")
def smollm2_tokenizer():
    from transformers import AutoTokenizer

    try:
        path = hub.cached_copy(SMOLLM2)
    except MissingDataError as err:
        pytest.skip(str(err))
    return AutoTokenizer.from_pretrained(path)


@pytest.mark.parametrize("messages", CONVERSATIONS)
@pytest.mark.parametrize("generation_prompt", [True, False])
def test_chatml_equals_apply_chat_template_id_for_id(smollm2_tokenizer, messages, generation_prompt):
    if not generation_prompt and messages[-1]["role"] == "user":
        messages = [*messages, {"role": "assistant", "content": "Four."}]
    library = smollm2_tokenizer.apply_chat_template(messages, add_generation_prompt=generation_prompt)
    hand = chatml(messages, add_generation_prompt=generation_prompt, default_system=SMOLLM2_SYSTEM)
    assert hand == smollm2_tokenizer.apply_chat_template(messages, tokenize=False,
                                                         add_generation_prompt=generation_prompt)
    assert smollm2_tokenizer(hand, add_special_tokens=False)["input_ids"] == library["input_ids"]


@pytest.mark.parametrize("messages, match", [
    ([{"role": "system", "content": "FAQ"}, {"role": "assistant", "content": "question"}], "alternate"),
    ([{"role": "user", "content": "a"}, {"role": "user", "content": "b"}], "alternate"),
    ([{"role": "user", "content": "a"}, {"role": "system", "content": "b"}], "system message first"),
    ([{"role": "users", "content": "a"}], "role"),
    ([{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}], "last message"),
    ([], "empty"),
])
def test_check_turns_rejects_malformed_conversations(messages, match):
    with pytest.raises(ValueError, match=match):
        check_turns(messages)


def test_check_turns_accepts_a_finished_conversation_when_no_reply_is_asked():
    check_turns(CONVERSATIONS[1] + [{"role": "assistant", "content": "4"}], expect_reply=False)


# ----------------------------------------------------------------------------------------- word problems
def test_word_problems_answers_follow_from_their_steps():
    problems = make_word_problems(40, seed=3)
    assert problems == make_word_problems(40, seed=3)
    assert problems != make_word_problems(40, seed=4)
    assert [p.n_steps for p in problems[:4]] == [1, 2, 1, 2]
    for p in problems:
        last = p.steps.rstrip(".").split("=")[-1]
        assert int(last) == p.answer > 0
        assert p.steps.count("=") == p.n_steps
        # every intermediate equation is right
        for equation in p.steps.split(". "):
            left, right = equation.rstrip(".").split(" is ")[-1].split("=")
            assert eval(left.replace("x", "*")) == int(right)  # noqa: S307 (our own generated digits)


def test_last_number():
    assert last_number("3 + 4 = 7. The answer is 7.") == 7.0
    assert last_number("It costs 1,200 dollars, or 2.5 each") == 2.5
    assert last_number("He owes -3") == -3.0
    assert last_number("no digits") is None
    with pytest.raises(ValueError):
        make_word_problems(0)

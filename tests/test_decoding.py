"""helpers.decoding (Day 20): greedy search, beam search with length normalisation, exhaustive search."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from helpers.decoding import (
    Hypothesis,
    all_outputs,
    beam_search,
    exhaustive_search,
    greedy_search,
    normalised_score,
    reorder_state,
    sequence_log_prob,
)

EOS, BOS = 0, 4  # toy vocabulary: <eos> = 0, content tokens 1-3, <bos> = 4 (input only)
VOCAB = 4  # the step predicts ids 0..3


class ToyDecoder(nn.Module):
    """A random GRU language model in float64 (so that batching cannot change a single bit of a score)."""

    def __init__(self, seed: int, hidden: int = 8, eos_bias: float = -1.0, sharpness: float = 2.0) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.embedding = nn.Embedding(VOCAB + 1, hidden)
        self.cell = nn.GRUCell(hidden, hidden)
        self.out = nn.Linear(hidden, VOCAB)
        self.double()
        self.eos_bias, self.sharpness = eos_bias, sharpness

    def step(self, tokens: torch.Tensor, state: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        hidden = self.cell(self.embedding(tokens[:, -1]), state)
        logits = self.sharpness * self.out(hidden)
        logits[:, EOS] += self.eos_bias
        return logits.log_softmax(-1), hidden

    def initial(self, batch: int, seed: int) -> torch.Tensor:
        return torch.randn(
            batch, self.cell.hidden_size, generator=torch.Generator().manual_seed(seed), dtype=torch.float64
        )


def prefix_table_step(tokens: torch.Tensor, state: None) -> tuple[torch.Tensor, None]:
    """A stateless step whose distribution depends on the whole prefix (seeded by the prefix itself)."""
    rows = []
    for prefix in tokens.tolist():
        generator = torch.Generator().manual_seed(1000 + sum(t * 7**i for i, t in enumerate(prefix)))
        rows.append(torch.randn(VOCAB, generator=generator, dtype=torch.float64) * 2)
    return torch.stack(rows).log_softmax(-1), None


@pytest.mark.parametrize("alpha", [0.0, 0.6, 1.0])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_beam_size_one_is_greedy(seed: int, alpha: float) -> None:
    model = ToyDecoder(seed)
    state = model.initial(7, seed)
    greedy = greedy_search(model.step, state, 7, BOS, EOS, max_len=6, length_penalty=alpha)
    beam = beam_search(model.step, state, 7, BOS, EOS, max_len=6, beam_size=1, length_penalty=alpha)
    assert [hyps[0] for hyps in beam] == greedy  # same tokens, log-probability, score, length
    assert all(len(hyps) == 1 for hyps in beam)


def test_greedy_is_the_argmax_chain() -> None:
    model = ToyDecoder(3)
    state = model.initial(1, 3)
    tokens, hidden = [BOS], state
    for _ in range(6):
        log_probs, hidden = model.step(torch.tensor([tokens]), hidden)
        tokens.append(int(log_probs.argmax()))
        if tokens[-1] == EOS:
            break
    (greedy,) = greedy_search(model.step, state, 1, BOS, EOS, max_len=6)
    expected = tokens[1:-1] if tokens[-1] == EOS else tokens[1:]
    assert greedy.tokens == tuple(expected)
    assert greedy.finished == (tokens[-1] == EOS)


@pytest.mark.parametrize("alpha", [0.0, 0.75, 1.0])
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_wide_beam_equals_exhaustive_search(seed: int, alpha: float) -> None:
    max_len = 4
    model = ToyDecoder(seed, eos_bias=-1.5)
    state = model.initial(1, seed)
    exhaustive = exhaustive_search(model.step, state, BOS, EOS, max_len, length_penalty=alpha)
    assert sorted(h.tokens + ((EOS,) if h.finished else ()) for h in exhaustive) == sorted(
        all_outputs(VOCAB, EOS, max_len)
    )
    wide = (VOCAB - 1) ** max_len  # at least as many beams as there are prefixes
    (beam,) = beam_search(model.step, state, 1, BOS, EOS, max_len, beam_size=wide, length_penalty=alpha)
    assert beam[0].tokens == exhaustive[0].tokens
    assert beam[0].score == pytest.approx(exhaustive[0].score, abs=1e-12)
    for k in (1, 2, 3):  # a narrow beam never beats the exhaustive optimum
        (narrow,) = beam_search(model.step, state, 1, BOS, EOS, max_len, beam_size=k, length_penalty=alpha)
        assert narrow[0].score <= exhaustive[0].score + 1e-12


def test_beam_search_on_a_prefix_dependent_model() -> None:
    for alpha in (0.0, 1.0):
        best = exhaustive_search(prefix_table_step, None, BOS, EOS, 4, length_penalty=alpha)[0]
        (beam,) = beam_search(prefix_table_step, None, 1, BOS, EOS, 4, beam_size=27, length_penalty=alpha)
        assert beam[0].tokens == best.tokens
        assert beam[0].score == pytest.approx(best.score, abs=1e-12)


def test_beam_finds_what_greedy_misses() -> None:
    """First token: A (0.6) or B (0.4); after A everything is uncertain, after B <eos> is certain."""
    a, b = 1, 2

    def step(tokens: torch.Tensor, state: None) -> tuple[torch.Tensor, None]:
        rows = []
        for prefix in tokens.tolist():
            probs = torch.full((VOCAB,), 1e-9, dtype=torch.float64)
            if len(prefix) == 1:
                probs[a], probs[b] = 0.6, 0.4
            elif prefix[1] == a:
                probs[:] = 0.25
            else:
                probs[EOS] = 1.0
            rows.append((probs / probs.sum()).log())
        return torch.stack(rows), None

    (greedy,) = greedy_search(step, None, 1, BOS, EOS, max_len=2)
    (beam,) = beam_search(step, None, 1, BOS, EOS, max_len=2, beam_size=2, length_penalty=0.0)
    assert greedy.tokens[0] == a and math.isclose(greedy.log_prob, math.log(0.6 * 0.25), rel_tol=1e-6)
    assert beam[0].tokens == (b,) and math.isclose(beam[0].log_prob, math.log(0.4), rel_tol=1e-6)


def test_scores_are_log_probabilities_and_length_normalised() -> None:
    model = ToyDecoder(5)
    state = model.initial(3, 5)
    for row, hyps in enumerate(
        beam_search(model.step, state, 3, BOS, EOS, 6, beam_size=3, length_penalty=0.7)
    ):
        assert [h.score for h in hyps] == sorted((h.score for h in hyps), reverse=True)
        for h in hyps:
            tokens = (*h.tokens, EOS) if h.finished else h.tokens
            assert h.length == len(tokens)
            log_prob = sequence_log_prob(model.step, state[row : row + 1], BOS, tokens)
            assert h.log_prob == pytest.approx(log_prob, abs=1e-10)
            assert h.score == pytest.approx(log_prob / len(tokens) ** 0.7, abs=1e-10)  # by hand


def test_length_penalty_prefers_longer_outputs() -> None:
    lengths = {}
    model = ToyDecoder(7, eos_bias=0.5)
    state = model.initial(20, 7)
    for alpha in (0.0, 1.0):
        hyps = beam_search(model.step, state, 20, BOS, EOS, 8, beam_size=4, length_penalty=alpha)
        lengths[alpha] = sum(h[0].length for h in hyps)
    assert lengths[1.0] >= lengths[0.0]


def test_batched_beam_search_equals_one_input_at_a_time() -> None:
    model = ToyDecoder(11)
    state = model.initial(5, 11)
    batched = beam_search(model.step, state, 5, BOS, EOS, 6, beam_size=3)
    for row in range(5):
        single = beam_search(model.step, state[row : row + 1], 1, BOS, EOS, 6, beam_size=3)[0]
        assert [h.tokens for h in single] == [h.tokens for h in batched[row]]
        assert [h.score for h in single] == pytest.approx([h.score for h in batched[row]], abs=1e-12)


def test_max_len_keeps_unfinished_hypotheses() -> None:
    model = ToyDecoder(2, eos_bias=-50.0)  # <eos> practically never
    state = model.initial(2, 2)
    for hyps in beam_search(model.step, state, 2, BOS, EOS, 3, beam_size=2):
        assert all(not h.finished and h.length == 3 and len(h.tokens) == 3 for h in hyps)
    assert all(not h.finished for h in greedy_search(model.step, state, 2, BOS, EOS, 3))


def test_reorder_state_nested() -> None:
    state = {"h": torch.arange(6).view(3, 2), "pair": (torch.arange(3), None), "list": [torch.arange(3) * 10]}
    out = reorder_state(state, torch.tensor([2, 2, 0]))
    assert out["h"].tolist() == [[4, 5], [4, 5], [0, 1]]
    assert out["pair"][0].tolist() == [2, 2, 0] and out["pair"][1] is None
    assert out["list"][0].tolist() == [20, 20, 0]
    with pytest.raises(TypeError, match="reorder="):
        reorder_state({"bad": object()}, torch.tensor([0]))


def test_bad_arguments_are_explained() -> None:
    model = ToyDecoder(0)
    state = model.initial(1, 0)
    with pytest.raises(ValueError, match="max_len"):
        beam_search(model.step, state, 1, BOS, EOS, 0)
    with pytest.raises(ValueError, match="beam_size"):
        beam_search(model.step, state, 1, BOS, EOS, 3, beam_size=0)
    with pytest.raises(ValueError, match="length_penalty"):
        greedy_search(model.step, state, 1, BOS, EOS, 3, length_penalty=-1)
    with pytest.raises(ValueError, match=r"\(N, V\)"):
        greedy_search(lambda tokens, s: (torch.zeros(VOCAB), s), state, 1, BOS, EOS, 3)
    with pytest.raises(ValueError, match="length"):
        normalised_score(-1.0, 0, 1.0)
    assert isinstance(greedy_search(model.step, state, 1, BOS, EOS, 2)[0], Hypothesis)

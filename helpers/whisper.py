"""Whisper's front end and evaluation by hand: log-mel features, the English normaliser, word error rate.

Defined in Day 40. Each function is checked against a library reference in the notebook and in
``tests/test_day40_whisper.py``: :func:`log_mel_spectrogram` against ``WhisperFeatureExtractor``,
:func:`word_error_rate` against ``jiwer.wer``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

SAMPLE_RATE = 16_000  # Hz: every Whisper model
N_FFT = 400  # 25 ms windows
HOP_LENGTH = 160  # 10 ms between frames: 100 frames per second
CHUNK_SECONDS = 30  # Whisper always sees 30 s: shorter audio is padded with zeros
N_SAMPLES = SAMPLE_RATE * CHUNK_SECONDS  # 480,000 samples -> 3,000 frames


def pad_or_trim(audio: np.ndarray | torch.Tensor, length: int = N_SAMPLES) -> torch.Tensor:
    """Pad with zeros (or cut) a mono waveform to ``length`` samples, as Whisper's feature extractor does.

    Defined in Day 40.
    """
    audio = torch.as_tensor(audio)
    if audio.ndim != 1:
        raise ValueError(f"expected a mono waveform (one dimension), got shape {tuple(audio.shape)}; "
                         "average the channels first")
    if audio.numel() >= length:
        return audio[:length]
    return torch.nn.functional.pad(audio, (0, length - audio.numel()))


def log_mel_spectrogram(audio: np.ndarray | torch.Tensor, filters: np.ndarray | torch.Tensor) -> torch.Tensor:
    """Whisper's input features by hand: ``(n_mels, 3000)`` log-mel values for 16 kHz audio.

    Defined in Day 40. Steps: pad/trim to 30 s; STFT with a periodic Hann window of 400 samples, hop 160,
    the signal reflected by 200 samples at both ends (``center=True``); power ``|X|^2``, the last frame
    dropped (3,001 -> 3,000); the mel filter bank ``filters`` (``n_mels x 201``); ``log10`` of at least
    ``1e-10``; values clamped to at most 8 below the maximum (80 dB of dynamic range); ``(x + 4) / 4``.
    Computed in float64, returned as float32.
    """
    filters = torch.as_tensor(filters, dtype=torch.float64)
    if filters.ndim != 2 or filters.shape[1] != N_FFT // 2 + 1:
        raise ValueError(f"filters must have shape (n_mels, {N_FFT // 2 + 1}), got {tuple(filters.shape)}")
    x = pad_or_trim(audio).to(torch.float64)
    window = torch.hann_window(N_FFT, periodic=True, dtype=torch.float64)
    stft = torch.stft(x, N_FFT, HOP_LENGTH, window=window, center=True, pad_mode="reflect",
                      return_complex=True)
    power = stft.abs()[:, :-1] ** 2  # (201, 3000)
    log_spec = torch.clamp(filters @ power, min=1e-10).log10()
    log_spec = torch.maximum(log_spec, log_spec.max() - 8.0)
    return ((log_spec + 4.0) / 4.0).float()


def english_normalizer(spelling_json: str | Path) -> Any:
    """Whisper's ``EnglishTextNormalizer`` with openai-whisper's British -> American spelling table.

    Defined in Day 40. It lower-cases, removes punctuation and filler words, expands contractions, writes
    numbers as digits ("ten" -> "10") and unifies spellings, so that a WER counts words, not conventions.
    """
    from transformers.models.whisper.english_normalizer import EnglishTextNormalizer

    return EnglishTextNormalizer(json.loads(Path(spelling_json).read_text()))


def edit_distance(reference: Sequence[str], hypothesis: Sequence[str]) -> int:
    """Levenshtein distance between two word lists: the fewest substitutions, deletions and insertions.

    Defined in Day 40. Dynamic programming over one row: ``row[j]`` is the distance between the first
    ``i`` reference words and the first ``j`` hypothesis words.
    """
    row = list(range(len(hypothesis) + 1))
    for i, ref_word in enumerate(reference, start=1):
        diagonal, row[0] = row[0], i
        for j, hyp_word in enumerate(hypothesis, start=1):
            diagonal, row[j] = row[j], min(row[j] + 1,  # delete the reference word
                                            row[j - 1] + 1,  # insert the hypothesis word
                                            diagonal + (ref_word != hyp_word))  # substitute (or match)
    return row[-1]


def word_error_rate(references: Sequence[str], hypotheses: Sequence[str],
                    normalise: Any = None) -> float:
    """Corpus WER: total word edits over total reference words (``jiwer.wer``'s definition).

    Defined in Day 40. ``normalise`` (e.g. :func:`english_normalizer`) is applied to both sides first;
    words are then split on white space.
    """
    if len(references) != len(hypotheses) or not references:
        raise ValueError(f"need as many hypotheses as references (got {len(hypotheses)} and "
                         f"{len(references)}), and at least one")
    normalise = normalise or (lambda text: text)
    edits = words = 0
    for reference, hypothesis in zip(references, hypotheses, strict=True):
        ref_words, hyp_words = normalise(reference).split(), normalise(hypothesis).split()
        if not ref_words:
            raise ValueError(f"reference {reference!r} has no words after normalisation")
        edits += edit_distance(ref_words, hyp_words)
        words += len(ref_words)
    return edits / words

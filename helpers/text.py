"""Text to tensors: the small part of torchtext that the course needs, rewritten.

Defined in Day 11. torchtext is frozen at 0.18 (April 2024) and cannot be imported with a current torch, so
the course carries its own port of the pieces the seed articles use (``book/torchtext.md`` maps every call):

- tokenisers: :func:`get_tokenizer` (``"basic_english"``, ``"whitespace"``, ``"characters"``), with
  ``basic_english`` following torchtext's rules exactly (:data:`BASIC_ENGLISH_RULES`);
- :class:`Vocab` and its factories :func:`vocab` (``torchtext.vocab.vocab``) and :func:`build_vocab`
  (``torchtext.vocab.build_vocab_from_iterator``): specials first, ``min_freq``, frequency or insertion order,
  a default index, an :class:`UnknownTokenError` for an unknown token without a default, JSON save and load;
- :func:`pad_collate`: a ``DataLoader`` collate function returning dict batches (``input_ids``,
  ``attention_mask``, ``lengths``, ``labels``) with right padding;
- :func:`pack`, :func:`last_hidden` and :func:`final_state` so that recurrent networks never read padding
  (Days 12, 13 and 15).

Example::

    from helpers.text import build_vocab, get_tokenizer, make_pad_collate

    tokenize = get_tokenizer("basic_english")
    vocab = build_vocab((tokenize(t) for t in texts), specials=["<pad>", "<unk>"], min_freq=2,
                        unk_token="<unk>")
    ids = vocab(tokenize("A new review."))
    loader = DataLoader(dataset, batch_size=32, collate_fn=make_pad_collate(pad_id=vocab["<pad>"]))
"""

from __future__ import annotations

import json
import numbers
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any, Literal

import torch
from torch import nn

__all__ = [
    "BASIC_ENGLISH_RULES", "UnknownTokenError", "Vocab", "basic_english", "build_vocab",
    "build_vocab_from_iterator", "characters", "final_state", "get_tokenizer", "last_hidden",
    "make_pad_collate", "pack", "pad_collate", "unpack", "vocab", "whitespace",
]

Tokenizer = Callable[[str], list[str]]

# ---------------------------------------------------------------- tokenisers
#: torchtext's ``basic_english`` rules, applied in this order after lowercasing (``torchtext/data/utils.py``,
#: ``_patterns`` and ``_replacements``). Note what they do *not* do: ``;`` and ``:`` are deleted (not kept as
#: tokens), ``"`` is deleted, the apostrophe becomes its own token (``don't`` -> ``don ' t``), and other
#: punctuation such as ``-`` or ``/`` stays glued to its word.
BASIC_ENGLISH_RULES: tuple[tuple[str, str], ...] = (
    (r"\'", " '  "),
    (r"\"", ""),
    (r"\.", " . "),
    (r"<br \/>", " "),
    (r",", " , "),
    (r"\(", " ( "),
    (r"\)", " ) "),
    (r"\!", " ! "),
    (r"\?", " ? "),
    (r"\;", " "),
    (r"\:", " "),
    (r"\s+", " "),
)
_BASIC_ENGLISH = tuple((re.compile(pattern), replacement) for pattern, replacement in BASIC_ENGLISH_RULES)


def basic_english(line: str) -> list[str]:
    """torchtext's ``basic_english`` tokeniser: lowercase, apply :data:`BASIC_ENGLISH_RULES`, split on spaces.

    Defined in Day 11.

    >>> basic_english("You can now install TorchText using pip!")
    ['you', 'can', 'now', 'install', 'torchtext', 'using', 'pip', '!']
    """
    if not isinstance(line, str):
        raise TypeError(f"basic_english tokenises one string; got {type(line).__name__}. "
                        "Map it over a list of texts instead: [tokenize(t) for t in texts].")
    line = line.lower()
    for pattern, replacement in _BASIC_ENGLISH:
        line = pattern.sub(replacement, line)
    return line.split()


def whitespace(line: str) -> list[str]:
    """Split on runs of whitespace, keeping case and punctuation (torchtext's ``get_tokenizer(None)``).

    Defined in Day 11.
    """
    return line.split()


def characters(line: str) -> list[str]:
    """One token per Unicode character, spaces included (a character-level model's tokeniser).

    Defined in Day 11.
    """
    return list(line)


_TOKENIZERS: dict[str, Tokenizer] = {"basic_english": basic_english, "whitespace": whitespace,
                                     "characters": characters}


def get_tokenizer(name: str | Callable[[str], list[str]] | None = "basic_english") -> Tokenizer:
    """A tokeniser by name, like ``torchtext.data.utils.get_tokenizer``.

    Defined in Day 11. ``name`` is ``"basic_english"``, ``"whitespace"`` (also ``None``, as in torchtext) or
    ``"characters"``; a callable is returned unchanged. For spaCy use ``[t.text for t in nlp.tokenizer(s)]``.
    """
    if name is None:
        return whitespace
    if callable(name):
        return name
    if name not in _TOKENIZERS:
        hint = (" For spaCy, load a pipeline and use `lambda s: [t.text for t in nlp.tokenizer(s)]`."
                if name == "spacy" else "")
        raise ValueError(f"Unknown tokenizer {name!r}; choose one of {sorted(_TOKENIZERS)} "
                         "or pass a callable." + hint)
    return _TOKENIZERS[name]


# ---------------------------------------------------------------- vocabulary
class UnknownTokenError(KeyError):
    """A token is not in the vocabulary and no default index is set.

    A ``KeyError`` (so ``except KeyError`` catches it); torchtext raised a ``RuntimeError`` here.
    """

    def __str__(self) -> str:  # KeyError would print the message with quotes around it
        return str(self.args[0]) if self.args else ""


class Vocab:
    """A bidirectional token <-> index map with an optional default index, like ``torchtext.vocab.Vocab``.

    Defined in Day 11. Build one with :func:`build_vocab` (from tokenised texts) or :func:`vocab` (from a
    ``Counter``/dict, keeping its order); ``Vocab(tokens)`` gives token ``i`` the index ``i``.
    """

    def __init__(self, tokens: Iterable[str], default_index: int | None = None) -> None:
        self._itos: list[str] = []
        self._stoi: dict[str, int] = {}
        for token in tokens:
            self.append_token(token)
        self._default: int | None = None
        self.set_default_index(default_index)

    # -- editing
    def append_token(self, token: str) -> None:
        """Add ``token`` at the end (index ``len(self)``); an existing token is an error."""
        if not isinstance(token, str):
            raise TypeError(f"Vocabulary tokens are strings; got {token!r} ({type(token).__name__}).")
        if token in self._stoi:
            raise ValueError(f"Token {token!r} is already in the vocabulary (index {self._stoi[token]}).")
        self._stoi[token] = len(self._itos)
        self._itos.append(token)

    def set_default_index(self, index: int | None) -> None:
        """Index returned for unknown tokens (usually ``vocab["<unk>"]``); ``None`` makes them an error.

        Any integer is accepted, as in torchtext (whose documentation uses ``-1`` as a marker), but only an
        index inside the vocabulary can go through an ``nn.Embedding``.
        """
        if index is not None and (isinstance(index, bool) or not isinstance(index, numbers.Integral)):
            raise TypeError(f"default index must be an int or None; got {index!r}. "
                            "Pass vocab['<unk>'] after adding an '<unk>' special.")
        self._default = None if index is None else int(index)

    def get_default_index(self) -> int | None:
        """The default index, or ``None`` when unknown tokens raise :class:`UnknownTokenError`."""
        return self._default

    # -- lookups
    def __len__(self) -> int:
        return len(self._itos)

    def __contains__(self, token: object) -> bool:
        return token in self._stoi

    def __iter__(self):
        return iter(self._itos)

    def __getitem__(self, token: str) -> int:
        """The index of ``token``; the default index for an unknown token, or :class:`UnknownTokenError`."""
        index = self._stoi.get(token)
        if index is not None:
            return index
        if self._default is not None:
            return self._default
        raise UnknownTokenError(
            f"Token {token!r} is not in the vocabulary and no default index is set. Add an '<unk>' special "
            "and call vocab.set_default_index(vocab['<unk>']) (or build_vocab(..., unk_token='<unk>')).")

    def __call__(self, tokens: Iterable[str]) -> list[int]:
        """Indices of a list of tokens (torchtext's ``vocab(tokens)``)."""
        return self.lookup_indices(tokens)

    def lookup_indices(self, tokens: Iterable[str]) -> list[int]:
        """Indices of ``tokens``, unknown ones mapped as in ``__getitem__``."""
        if isinstance(tokens, str):
            raise TypeError("lookup_indices takes a list of tokens, not one string; tokenise it first "
                            "(vocab.lookup_indices(tokenize(text))) or use vocab[token] for one token.")
        return [self[token] for token in tokens]

    def lookup_token(self, index: int) -> str:
        """The token at ``index``."""
        index = int(index)
        if not 0 <= index < len(self._itos):
            raise IndexError(f"Index {index} is outside the vocabulary (size {len(self._itos)}).")
        return self._itos[index]

    def lookup_tokens(self, indices: Iterable[int]) -> list[str]:
        """The tokens at ``indices`` (a list or a 1-D tensor)."""
        if isinstance(indices, torch.Tensor):
            indices = indices.tolist()
        return [self.lookup_token(index) for index in indices]

    def get_itos(self) -> list[str]:
        """A copy of the index -> token list."""
        return list(self._itos)

    def get_stoi(self) -> dict[str, int]:
        """A copy of the token -> index dict."""
        return dict(self._stoi)

    # -- saving
    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description (tokens in index order and the default index)."""
        return {"format": "helpers.text.Vocab", "version": 1, "itos": list(self._itos),
                "default_index": self._default}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Vocab:
        """The inverse of :meth:`to_dict`."""
        if data.get("format") != "helpers.text.Vocab" or "itos" not in data:
            raise ValueError("Not a saved helpers.text.Vocab (expected keys 'format' and 'itos').")
        return cls(data["itos"], default_index=data.get("default_index"))

    def save(self, path: str | Path) -> Path:
        """Write the vocabulary to ``path`` as UTF-8 JSON; returns the path."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), ensure_ascii=False), encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: str | Path) -> Vocab:
        """Read a vocabulary written by :meth:`save`."""
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"No saved vocabulary at {path}; write one with vocab.save(path) first.")
        return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Vocab):
            return NotImplemented
        return self._itos == other._itos and self._default == other._default

    def __repr__(self) -> str:
        head = ", ".join(repr(t) for t in self._itos[:5]) + (", ..." if len(self._itos) > 5 else "")
        return f"Vocab(size={len(self._itos)}, default_index={self._default}, tokens=[{head}])"


def _check_specials(specials: Sequence[str] | None) -> list[str]:
    specials = list(specials or [])
    if len(set(specials)) != len(specials):
        raise ValueError(f"specials contain duplicates: {specials}")
    return specials


def _check_min_freq(min_freq: int) -> None:
    if not isinstance(min_freq, int) or min_freq < 1:
        raise ValueError(f"min_freq must be an integer >= 1; got {min_freq!r}.")


def _finish(tokens: list[str], specials: list[str], special_first: bool, unk_token: str | None) -> Vocab:
    ordered = specials + tokens if special_first else tokens + specials
    result = Vocab(ordered)
    if unk_token is not None:
        if unk_token not in result:
            raise ValueError(f"unk_token {unk_token!r} is not in the vocabulary; add it to specials.")
        result.set_default_index(result[unk_token])
    return result


def vocab(ordered_dict: Mapping[str, int], min_freq: int = 1, specials: Sequence[str] | None = None,
          special_first: bool = True, unk_token: str | None = None) -> Vocab:
    """A :class:`Vocab` from token counts, keeping the mapping's order (``torchtext.vocab.vocab``).

    Defined in Day 11. Specials are removed from the counts and put first (or last); tokens counted fewer than
    ``min_freq`` times are dropped; the others keep the order of ``ordered_dict``. A ``Counter`` keeps the
    order of first appearance, so ``vocab(Counter(tokens))`` is in *insertion* order, not frequency order.
    ``unk_token`` (one of the specials) becomes the default index.
    """
    _check_min_freq(min_freq)
    specials = _check_specials(specials)
    special_set = set(specials)
    tokens = [token for token, count in ordered_dict.items()
              if token not in special_set and count >= min_freq]
    return _finish(tokens, specials, special_first, unk_token)


def build_vocab(iterator: Iterable[Iterable[str]], specials: Sequence[str] | None = None, min_freq: int = 1,
                special_first: bool = True, max_tokens: int | None = None,
                order: Literal["frequency", "insertion"] = "frequency",
                unk_token: str | None = None) -> Vocab:
    """A :class:`Vocab` from an iterator of token lists, like ``torchtext.vocab.build_vocab_from_iterator``.

    Defined in Day 11.

    - ``order="frequency"`` (torchtext's behaviour): most frequent first, ties broken **alphabetically**
      (torchtext sorts by ``(-count, token)``). ``order="insertion"``: order of first appearance, as
      ``torchtext.vocab.vocab(Counter(...))`` gives.
    - ``specials`` come first (``special_first=True``) or last, in the given order, even if never seen.
    - ``min_freq``: tokens seen fewer times are left out (they will map to the default index).
    - ``max_tokens``: the vocabulary has at most this many entries, specials included. As in torchtext, the
      cut is made before specials are removed from the counts, so a special that also occurs in the text
      makes the vocabulary one shorter.
    - ``unk_token``: a special whose index becomes the default index (otherwise unknown tokens raise).
    """
    if isinstance(iterator, str):
        raise TypeError("build_vocab takes an iterable of token lists, not a string: "
                        "build_vocab(tokenize(t) for t in texts).")
    _check_min_freq(min_freq)
    specials = _check_specials(specials)
    if order not in ("frequency", "insertion"):
        raise ValueError(f"order must be 'frequency' or 'insertion'; got {order!r}.")
    counter: Counter[str] = Counter()
    for tokens in iterator:
        if isinstance(tokens, str):
            raise TypeError(f"build_vocab expects token lists, got the string {tokens[:30]!r}; "
                            "tokenise each text first.")
        counter.update(tokens)
    items = list(counter.items())
    if order == "frequency":
        items.sort(key=lambda item: (-item[1], item[0]))
    if max_tokens is not None:
        if max_tokens <= len(specials):
            raise ValueError(f"max_tokens={max_tokens} leaves no room beside the {len(specials)} specials.")
        items = items[: max_tokens - len(specials)]
    return vocab(dict(items), min_freq=min_freq, specials=specials, special_first=special_first,
                 unk_token=unk_token)


#: torchtext's name for :func:`build_vocab`.
build_vocab_from_iterator = build_vocab


# ---------------------------------------------------------------- batching
def _as_ids(sequence: Any) -> torch.Tensor:
    if isinstance(sequence, torch.Tensor):
        ids = sequence
    else:
        ids = torch.as_tensor(list(sequence), dtype=torch.long)
    if ids.dim() != 1:
        raise ValueError("Each example's input_ids must be one sequence (1-D); "
                         f"got shape {tuple(ids.shape)}.")
    return ids.long()


def _pad_stack(sequences: list[torch.Tensor], value: int) -> torch.Tensor:
    longest = max((len(s) for s in sequences), default=0)
    out = torch.full((len(sequences), longest), value, dtype=torch.long)
    for row, seq in enumerate(sequences):
        out[row, : len(seq)] = seq
    return out


def pad_collate(batch: Sequence[Any], pad_id: int, max_length: int | None = None, label_pad_id: int = -100,
                input_key: str = "input_ids", label_key: str = "labels") -> dict[str, Any]:
    """Pad a list of examples into one dict batch (right padding), for ``DataLoader(collate_fn=...)``.

    Defined in Day 11. Each example is a dict with ``input_key`` (a list or 1-D tensor of ids) and optionally
    ``label_key``, or a pair ``(ids, label)``. Returns

    - ``input_ids``: ``(batch, longest)`` long tensor, padded with ``pad_id`` on the right;
    - ``attention_mask``: ``(batch, longest)`` long tensor, 1 on real tokens and 0 on pads;
    - ``lengths``: ``(batch,)`` long tensor of real lengths (on the CPU, as ``pack`` needs);
    - ``labels``: a tensor: stacked when each label is a number, padded with ``label_pad_id`` (``-100``, which
      ``nn.CrossEntropyLoss`` ignores) when each label is a sequence (one tag per token);
    - any other key of dict examples: stacked if every value is a tensor or number, else a list.

    ``max_length`` truncates longer examples (the seeds let them overflow silently), labels sequences too.
    """
    if len(batch) == 0:
        raise ValueError("pad_collate got an empty batch.")
    if max_length is not None and max_length < 1:
        raise ValueError(f"max_length must be >= 1 or None; got {max_length}.")
    examples: list[Mapping[str, Any]] = []
    for example in batch:
        if isinstance(example, Mapping):
            if input_key not in example:
                raise KeyError(f"Example has no {input_key!r} key (keys: {sorted(example)}); "
                               "pass input_key=... to pad_collate.")
            examples.append(example)
        elif isinstance(example, (tuple, list)) and len(example) == 2:
            examples.append({input_key: example[0], label_key: example[1]})
        else:
            raise TypeError("pad_collate expects dict examples or (ids, label) pairs; got "
                            f"{type(example).__name__}.")
    ids = [_as_ids(e[input_key]) for e in examples]
    if max_length is not None:
        ids = [s[:max_length] for s in ids]
    lengths = torch.tensor([len(s) for s in ids], dtype=torch.long)
    input_ids = _pad_stack(ids, pad_id)
    positions = torch.arange(input_ids.shape[1])
    out: dict[str, Any] = {"input_ids": input_ids,
                           "attention_mask": (positions[None, :] < lengths[:, None]).long(),
                           "lengths": lengths}
    for key in examples[0]:
        if key == input_key:
            continue
        values = [e.get(key) for e in examples]
        if key == label_key and all(isinstance(v, (Sequence, torch.Tensor)) and not isinstance(v, str)
                                    and torch.as_tensor(v).dim() == 1 for v in values):
            labels = [_as_ids(v) for v in values]
            if max_length is not None:
                labels = [s[:max_length] for s in labels]
            if [len(s) for s in labels] != lengths.tolist():
                raise ValueError("Token labels must have one label per input id; lengths differ.")
            out[key] = _pad_stack(labels, label_pad_id)[:, : input_ids.shape[1]]
        elif all(isinstance(v, (int, float, bool, torch.Tensor)) for v in values):
            out[key] = torch.stack([torch.as_tensor(v) for v in values])
        else:
            out[key] = values
    return out


def make_pad_collate(pad_id: int, **kwargs: Any) -> Callable[[Sequence[Any]], dict[str, Any]]:
    """:func:`pad_collate` with its options fixed, ready for ``DataLoader(collate_fn=...)``.

    Defined in Day 11.
    """
    return partial(pad_collate, pad_id=pad_id, **kwargs)


# ---------------------------------------------------------------- packing for recurrent networks
def pack(embedded: torch.Tensor, lengths: torch.Tensor | Sequence[int],
         batch_first: bool = True) -> nn.utils.rnn.PackedSequence:
    """Pack a right-padded batch so that an RNN/LSTM/GRU runs each sequence only over its real steps.

    Defined in Day 11 (used in Days 12, 13 and 15). Wraps ``nn.utils.rnn.pack_padded_sequence`` with
    ``enforce_sorted=False`` (no need to sort the batch) and moves ``lengths`` to the CPU, where torch wants
    it.
    The network's ``h_n`` is then the state after each sequence's *last real* token.
    """
    lengths = torch.as_tensor(lengths).to("cpu", torch.long)
    steps = embedded.shape[1] if batch_first else embedded.shape[0]
    if lengths.dim() != 1 or lengths.numel() != (embedded.shape[0] if batch_first else embedded.shape[1]):
        raise ValueError(f"lengths must hold one length per sequence; got shape {tuple(lengths.shape)} for a "
                         f"batch of shape {tuple(embedded.shape)} (batch_first={batch_first}).")
    if lengths.numel() and (lengths.min() < 1 or lengths.max() > steps):
        raise ValueError(f"Every length must be between 1 and {steps}; got {lengths.tolist()}. "
                         "Drop empty sequences before batching.")
    return nn.utils.rnn.pack_padded_sequence(embedded, lengths, batch_first=batch_first, enforce_sorted=False)


def unpack(packed: nn.utils.rnn.PackedSequence, batch_first: bool = True,
           total_length: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """The padded outputs (zeros at pads) and lengths of a packed RNN output, in the original batch order.

    Defined in Day 11.
    """
    return nn.utils.rnn.pad_packed_sequence(packed, batch_first=batch_first, total_length=total_length)


def last_hidden(output: torch.Tensor, lengths: torch.Tensor | Sequence[int], batch_first: bool = True,
                bidirectional: bool = False) -> torch.Tensor:
    """The output at each sequence's last *real* step, not at the padded end (``out[:, -1]`` is the seed bug).

    Defined in Day 11. ``output``: ``(batch, time, features)`` (or time first). With ``bidirectional=True``
    the features are ``[forward; backward]``: the forward half is read at step ``length - 1`` and the backward
    half at step 0, where the backward direction has seen the whole sequence. Returns ``(batch, features)``.
    """
    if not batch_first:
        output = output.transpose(0, 1)
    lengths = torch.as_tensor(lengths, device=output.device).long()
    if lengths.numel() != output.shape[0]:
        raise ValueError(f"{lengths.numel()} lengths for a batch of {output.shape[0]} sequences.")
    if lengths.numel() and (lengths.min() < 1 or lengths.max() > output.shape[1]):
        raise ValueError(f"Every length must be between 1 and {output.shape[1]}; got {lengths.tolist()}.")
    rows = torch.arange(output.shape[0], device=output.device)
    last = output[rows, lengths - 1]
    if not bidirectional:
        return last
    if output.shape[-1] % 2:
        raise ValueError(f"A bidirectional output has an even feature size; got {output.shape[-1]}.")
    half = output.shape[-1] // 2
    return torch.cat([last[:, :half], output[:, 0, half:]], dim=-1)


def final_state(h_n: torch.Tensor, bidirectional: bool = False) -> torch.Tensor:
    """The last layer's final hidden state from an RNN's ``h_n``: ``(batch, hidden)``, or
    ``(batch, 2 * hidden)`` as ``[forward; backward]`` when bidirectional.

    Defined in Day 11. ``h_n`` has shape ``(layers * directions, batch, hidden)``; for an LSTM pass ``h_n``,
    not the ``(h_n, c_n)`` tuple.
    """
    if isinstance(h_n, tuple):
        raise TypeError("final_state takes h_n, not the LSTM's (h_n, c_n) tuple: use final_state(state[0]).")
    if not bidirectional:
        return h_n[-1]
    if h_n.shape[0] % 2:
        raise ValueError(f"A bidirectional h_n has an even first dimension; got shape {tuple(h_n.shape)}.")
    return torch.cat([h_n[-2], h_n[-1]], dim=-1)

"""Subword tokenisers written by hand: BPE (training and encoding, on characters and on bytes) and WordPiece.

Defined in Day 11, where each is checked against a library on real text: the byte-level encoder with GPT-2's
merge ranks gives tiktoken's ids, the byte-level trainer learns the merges of Hugging Face ``tokenizers``, and
WordPiece with BERT's vocabulary gives ``BertTokenizerFast``'s tokens. Day 31 can train its GPT tokeniser with
:func:`train_byte_bpe` (or with ``tokenizers``, which learns the same merges faster).

- :func:`train_char_bpe`: Sennrich et al. (2016)'s algorithm on a word-count dictionary, symbols are
  characters and ``</w>`` ends a word;
- :func:`train_byte_bpe`: the same idea on the UTF-8 bytes of regex pre-tokenised text (GPT-2's recipe);
- :class:`ByteBPE`: encode and decode with merge ranks (token bytes -> rank, the rank is the token id);
- :class:`WordPiece`: BERT's normaliser, pre-tokeniser and greedy longest-match-first WordPiece.
"""

from __future__ import annotations

import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path

import regex

__all__ = [
    "GPT2_PATTERN", "ByteBPE", "WordPiece", "apply_char_merges", "bytes_to_unicode", "gpt2_byte_order",
    "pretokenize", "train_byte_bpe", "train_char_bpe",
]

#: GPT-2's pre-tokenisation regex: contractions, optional space + letters, optional space + digits, optional
#: space + other symbols, spaces before a space (so that " word" keeps its space), remaining spaces.
GPT2_PATTERN = r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""


# ---------------------------------------------------------------- classic BPE on characters
def _pairs_in_order(words: dict[tuple[str, ...], int]) -> dict[tuple[str, str], int]:
    pairs: dict[tuple[str, str], int] = {}
    for symbols, count in words.items():
        for pair in zip(symbols, symbols[1:], strict=False):
            pairs[pair] = pairs.get(pair, 0) + count
    return pairs


def _merge_symbols(symbols: Sequence[str], pair: tuple[str, str]) -> tuple[str, ...]:
    out: list[str] = []
    i = 0
    while i < len(symbols):
        if i + 1 < len(symbols) and (symbols[i], symbols[i + 1]) == pair:
            out.append(symbols[i] + symbols[i + 1])
            i += 2
        else:
            out.append(symbols[i])
            i += 1
    return tuple(out)


def train_char_bpe(word_counts: Mapping[str, int], num_merges: int,
                   end_of_word: str = "</w>") -> list[tuple[tuple[str, str], int]]:
    """Learn BPE merges from word counts (Sennrich, Haddow and Birch, 2016, Algorithm 1).

    Defined in Day 11. Each word starts as its characters plus ``end_of_word``; each step merges the most
    frequent adjacent pair everywhere. Ties go to the pair met first (words in the order given, left to
    right), as in the paper's ``max(pairs, key=pairs.get)``. Stops early when no pair is left.
    Returns ``[((left, right), count), ...]`` in merge order.
    """
    if num_merges < 0:
        raise ValueError(f"num_merges must be >= 0; got {num_merges}.")
    tail = (end_of_word,) if end_of_word else ()
    words = {tuple(word) + tail: count for word, count in word_counts.items()}
    merges: list[tuple[tuple[str, str], int]] = []
    for _ in range(num_merges):
        pairs = _pairs_in_order(words)
        if not pairs:
            break
        best = max(pairs, key=pairs.__getitem__)   # the first of the most frequent
        merges.append((best, pairs[best]))
        words = {_merge_symbols(symbols, best): count for symbols, count in words.items()}
    return merges


def apply_char_merges(word: str, merges: Sequence[tuple[str, str]] | Sequence[tuple[tuple[str, str], int]],
                      end_of_word: str = "</w>") -> list[str]:
    """Split a (possibly unseen) word with learned merges, applied in the order they were learned.

    Defined in Day 11. ``merges`` may be :func:`train_char_bpe`'s output or plain pairs.
    """
    symbols: tuple[str, ...] = tuple(word) + ((end_of_word,) if end_of_word else ())
    for merge in merges:
        pair = merge[0] if isinstance(merge[0], tuple) else merge
        symbols = _merge_symbols(symbols, pair)  # type: ignore[arg-type]
    return list(symbols)


# ---------------------------------------------------------------- byte level
@lru_cache(maxsize=1)
def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's printable stand-in for each byte (``Ġ`` for a space, ``Ċ`` for a newline).

    Defined in Day 11. Bytes that print well (``!``..``~``, ``¡``..``¬``, ``®``..``ÿ``) stand for themselves;
    the 68 others are shifted to code points 256 and up, in byte order.
    """
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    mapping = {b: chr(b) for b in printable}
    shift = 0
    for b in range(256):
        if b not in mapping:
            mapping[b] = chr(256 + shift)
            shift += 1
    return mapping


def gpt2_byte_order() -> list[int]:
    """The 256 bytes in GPT-2's id order (token ids 0..255): sorted by their printable stand-in."""
    table = bytes_to_unicode()
    return sorted(range(256), key=lambda b: table[b])


def pretokenize(text: str, pattern: str = GPT2_PATTERN) -> list[str]:
    """Split text into the chunks that BPE never merges across (words with their leading space, numbers...).

    Defined in Day 11.
    """
    return regex.findall(pattern, text)


def train_byte_bpe(texts: str | Iterable[str], num_merges: int,
                   pattern: str = GPT2_PATTERN) -> list[tuple[bytes, bytes]]:
    """Learn byte-level BPE merges on regex pre-tokenised text (GPT-2's tokeniser recipe).

    Defined in Day 11. Works on chunk counts, not on the raw text, and updates the pair counts only for the
    chunks that contain the merged pair, so a few hundred merges over a 60,000-word corpus take about a
    second. Token ids follow GPT-2: the 256 bytes in :func:`gpt2_byte_order`, then one id per merge. Each step
    merges the most frequent pair; ties go to the pair with the smallest ``(left id, right id)``, which is the
    rule of Hugging Face ``tokenizers``' ``BpeTrainer``, so the merges equal its merges (Day 11 checks it).
    Returns the merged pairs as byte strings, in order.
    """
    if num_merges < 0:
        raise ValueError(f"num_merges must be >= 0; got {num_merges}.")
    if isinstance(texts, str):
        texts = [texts]
    chunk_counts: Counter[str] = Counter()
    for text in texts:
        chunk_counts.update(pretokenize(text, pattern))
    vocab: list[bytes] = [bytes([b]) for b in gpt2_byte_order()]
    byte_id = {vocab[i][0]: i for i in range(256)}
    words = [[byte_id[b] for b in chunk.encode("utf-8")] for chunk in chunk_counts]
    counts = list(chunk_counts.values())
    pair_counts: Counter[tuple[int, int]] = Counter()
    where: defaultdict[tuple[int, int], set[int]] = defaultdict(set)
    for w, (ids, count) in enumerate(zip(words, counts, strict=True)):
        for pair in zip(ids, ids[1:], strict=False):
            pair_counts[pair] += count
            where[pair].add(w)
    merges: list[tuple[bytes, bytes]] = []
    for _ in range(num_merges):
        if not pair_counts:
            break
        best = min(pair_counts, key=lambda p: (-pair_counts[p], p))
        new_id = len(vocab)
        vocab.append(vocab[best[0]] + vocab[best[1]])
        merges.append((vocab[best[0]], vocab[best[1]]))
        for w in sorted(where.pop(best)):
            ids, count = words[w], counts[w]
            for pair in zip(ids, ids[1:], strict=False):
                pair_counts[pair] -= count
                if pair_counts[pair] == 0:
                    del pair_counts[pair]
            merged: list[int] = []
            i = 0
            while i < len(ids):
                if i + 1 < len(ids) and (ids[i], ids[i + 1]) == best:
                    merged.append(new_id)
                    i += 2
                else:
                    merged.append(ids[i])
                    i += 1
            words[w] = merged
            for pair in zip(merged, merged[1:], strict=False):
                pair_counts[pair] += count
                where[pair].add(w)
    return merges


class ByteBPE:
    """A byte-level BPE tokeniser given merge ranks, as tiktoken and GPT-2 encode.

    Defined in Day 11. ``ranks`` maps token bytes to their rank, which is also the token id (GPT-2's
    ``gpt2.tiktoken``; :meth:`from_merges` builds ranks from :func:`train_byte_bpe`). Encoding a chunk starts
    from its single bytes and repeatedly merges the adjacent pair whose concatenation has the lowest rank,
    until no adjacent pair is a token.
    """

    def __init__(self, ranks: Mapping[bytes, int], pattern: str = GPT2_PATTERN,
                 special_tokens: Mapping[str, int] | None = None) -> None:
        missing = [b for b in range(256) if bytes([b]) not in ranks]
        if missing:
            raise ValueError(f"A byte-level vocabulary needs all 256 single bytes; {len(missing)} are "
                             f"missing (e.g. byte {missing[0]}).")
        self.ranks = dict(ranks)
        self.pattern = pattern
        self.special_tokens = dict(special_tokens or {})
        self.decoder = {rank: token for token, rank in self.ranks.items()}
        self.decoder.update({rank: token.encode("utf-8") for token, rank in self.special_tokens.items()})
        self._regex = regex.compile(pattern)
        self._cache: dict[bytes, list[int]] = {}

    @classmethod
    def from_merges(cls, merges: Sequence[tuple[bytes, bytes]], pattern: str = GPT2_PATTERN) -> ByteBPE:
        """Ranks from learned merges: the 256 bytes in GPT-2's order, then each merge's result."""
        ranks = {bytes([b]): i for i, b in enumerate(gpt2_byte_order())}
        for left, right in merges:
            ranks.setdefault(left + right, len(ranks))
        return cls(ranks, pattern)

    def __len__(self) -> int:
        return len(self.decoder)

    def encode_chunk(self, chunk: bytes) -> list[int]:
        """Token ids of one pre-tokenised chunk (cached: a corpus repeats its words)."""
        cached = self._cache.get(chunk)
        if cached is not None:
            return cached
        parts = [chunk[i:i + 1] for i in range(len(chunk))]
        ranks = self.ranks
        while len(parts) > 1:
            best_rank, best_at = None, -1
            for i in range(len(parts) - 1):
                rank = ranks.get(parts[i] + parts[i + 1])
                if rank is not None and (best_rank is None or rank < best_rank):
                    best_rank, best_at = rank, i
            if best_rank is None:
                break
            parts[best_at:best_at + 2] = [parts[best_at] + parts[best_at + 1]]
        ids = [ranks[part] for part in parts]
        self._cache[chunk] = ids
        return ids

    def encode(self, text: str, allowed_special: Iterable[str] | str = ()) -> list[int]:
        """Token ids of ``text``. Special tokens are recognised only if listed in ``allowed_special``
        (or ``"all"``); otherwise ``<|endoftext|>`` is encoded as ordinary text, as tiktoken's
        ``encode_ordinary`` does.
        """
        allowed = set(self.special_tokens) if allowed_special == "all" else set(allowed_special)
        unknown = allowed - set(self.special_tokens)
        if unknown:
            raise ValueError(f"Unknown special tokens {sorted(unknown)}; "
                             f"known: {sorted(self.special_tokens)}.")
        if not allowed:
            return self._encode_ordinary(text)
        splitter = regex.compile("(" + "|".join(regex.escape(t) for t in sorted(allowed, key=len,
                                                                               reverse=True)) + ")")
        ids: list[int] = []
        for piece in splitter.split(text):
            if piece in allowed:
                ids.append(self.special_tokens[piece])
            elif piece:
                ids.extend(self._encode_ordinary(piece))
        return ids

    def _encode_ordinary(self, text: str) -> list[int]:
        ids: list[int] = []
        for chunk in self._regex.findall(text):
            ids.extend(self.encode_chunk(chunk.encode("utf-8")))
        return ids

    def decode_bytes(self, ids: Iterable[int]) -> bytes:
        """The bytes of a list of ids (a token may hold part of a UTF-8 character)."""
        try:
            return b"".join(self.decoder[int(i)] for i in ids)
        except KeyError as err:
            raise ValueError(f"Token id {err.args[0]} is not in the vocabulary (size {len(self)}).") from None

    def decode(self, ids: Iterable[int], errors: str = "replace") -> str:
        """The text of a list of ids; broken UTF-8 becomes U+FFFD, as tiktoken does."""
        return self.decode_bytes(ids).decode("utf-8", errors=errors)

    def tokens(self, ids: Iterable[int]) -> list[str]:
        """Each id as GPT-2 prints it (bytes through :func:`bytes_to_unicode`: ``Ġworld``)."""
        table = bytes_to_unicode()
        return ["".join(table[b] for b in self.decoder[int(i)]) for i in ids]


# ---------------------------------------------------------------- WordPiece (BERT)
def _is_whitespace(char: str) -> bool:
    return char in " \t\n\r" or unicodedata.category(char) == "Zs"


def _is_control(char: str) -> bool:
    return char not in "\t\n\r" and unicodedata.category(char).startswith("C")


def _is_punctuation(char: str) -> bool:
    cp = ord(char)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:  # all ASCII non-alphanumerics
        return True
    return unicodedata.category(char).startswith("P")


def _is_cjk(cp: int) -> bool:
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF
            or 0x2A700 <= cp <= 0x2B73F or 0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF
            or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)


def load_vocab_txt(path: str | Path) -> dict[str, int]:
    """A BERT ``vocab.txt``: one token per line, the line number is the id."""
    lines = Path(path).read_text(encoding="utf-8").split("\n")
    if lines and lines[-1] == "":
        lines = lines[:-1]
    return {token: i for i, token in enumerate(lines)}


class WordPiece:
    """BERT's uncased tokeniser written out: normalise, split on spaces and punctuation, then WordPiece.

    Defined in Day 11. ``vocab``: token -> id (``load_vocab_txt``) or a ``vocab.txt`` path. Normalising
    (``lowercase=True``, as ``bert-base-uncased`` and MiniLM): drop control characters, turn whitespace
    into spaces, put spaces around CJK ideographs, lowercase and strip accents (NFD, drop combining marks).
    WordPiece splits each word greedily, longest match first; pieces after the first carry ``##``; a word with
    no full split, or longer than ``max_chars``, becomes ``[UNK]``.
    """

    def __init__(self, vocab: Mapping[str, int] | str | Path, unk_token: str = "[UNK]", prefix: str = "##",
                 max_chars: int = 100, lowercase: bool = True) -> None:
        self.vocab = dict(vocab) if isinstance(vocab, Mapping) else load_vocab_txt(vocab)
        if unk_token not in self.vocab:
            raise ValueError(f"unk_token {unk_token!r} is not in the vocabulary.")
        self.unk_token, self.prefix, self.max_chars, self.lowercase = unk_token, prefix, max_chars, lowercase
        self._cache: dict[str, list[str]] = {}

    def normalize(self, text: str) -> str:
        """Clean, space out CJK characters, lowercase and strip accents."""
        out = []
        for char in text:
            cp = ord(char)
            if cp == 0 or cp == 0xFFFD or _is_control(char):
                continue
            if _is_whitespace(char):
                out.append(" ")
            elif _is_cjk(cp):
                out.append(f" {char} ")
            else:
                out.append(char)
        text = "".join(out)
        if self.lowercase:
            text = "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")
            text = text.lower()
        return text

    def pre_tokenize(self, text: str) -> list[str]:
        """Split normalised text on whitespace, and every punctuation character into its own word."""
        words: list[str] = []
        for word in text.split():
            current = ""
            for char in word:
                if _is_punctuation(char):
                    if current:
                        words.append(current)
                    words.append(char)
                    current = ""
                else:
                    current += char
            if current:
                words.append(current)
        return words

    def split_word(self, word: str) -> list[str]:
        """Greedy longest-match-first WordPiece of one word (``"unaffable"`` -> ``un ##aff ##able``)."""
        cached = self._cache.get(word)
        if cached is not None:
            return cached
        if len(word) > self.max_chars:
            return [self.unk_token]
        pieces: list[str] = []
        start = 0
        while start < len(word):
            end = len(word)
            while end > start:
                piece = word[start:end] if start == 0 else self.prefix + word[start:end]
                if piece in self.vocab:
                    break
                end -= 1
            if end == start:            # not even one character matches: the whole word is unknown
                pieces = [self.unk_token]
                break
            pieces.append(piece)
            start = end
        self._cache[word] = pieces
        return pieces

    def tokenize(self, text: str) -> list[str]:
        """WordPiece tokens of ``text`` (no ``[CLS]``/``[SEP]``)."""
        return [piece for word in self.pre_tokenize(self.normalize(text)) for piece in self.split_word(word)]

    def encode(self, text: str, add_special_tokens: bool = True) -> list[int]:
        """Ids of ``text``, framed by ``[CLS]`` ... ``[SEP]`` by default, as ``BertTokenizerFast`` does."""
        ids = [self.vocab[t] for t in self.tokenize(text)]
        if add_special_tokens:
            ids = [self.vocab["[CLS]"], *ids, self.vocab["[SEP]"]]
        return ids

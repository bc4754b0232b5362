"""Generated sequence-to-sequence tasks: human-written dates -> ISO 8601, and copy/reverse strings.

Defined in Day 18 (reused by Days 19 and 20). Everything is generated from a seed with Python's
``datetime`` and ``random``, so every profile is offline and two runs give the same pairs.

- :func:`date_pairs`: ``("Wednesday, September 3, 2025", "2025-09-03")`` in one of :data:`DATE_FORMATS`
  (18 formats: spelled-out and abbreviated months, weekdays, ordinals, US ``m/d/y``, German ``d.m.y``,
  two-digit years). Month and weekday names are spelled by this module, not by ``strftime``, so the
  output does not depend on the machine's locale. Years lie in 1950-2049, so a two-digit year has one
  reading (50-99 -> 19xx, 00-49 -> 20xx).
- :func:`sequence_pairs`: random strings and their copy or reversal, for sweeps over the input length.
- :class:`CharVocab` and :func:`encode_pairs`: characters to padded id tensors in the layout that
  ``helpers.seq2seq`` expects (``src``, ``src_lengths``, ``tgt_in`` = ``<bos>`` + target,
  ``tgt_out`` = target + ``<eos>``).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Iterable, Sequence

import torch

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
FIRST_DATE, LAST_DATE = dt.date(1950, 1, 1), dt.date(2049, 12, 31)


def ordinal(day: int) -> str:
    """1 -> '1st', 2 -> '2nd', 11 -> '11th', 23 -> '23rd'."""
    suffix = "th" if 11 <= day % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def _fields(date: dt.date) -> dict[str, str]:
    month, weekday = MONTHS[date.month - 1], WEEKDAYS[date.weekday()]
    return {"d": str(date.day), "dd": f"{date.day:02d}", "m": str(date.month), "mm": f"{date.month:02d}",
            "Y": str(date.year), "yy": f"{date.year % 100:02d}", "Month": month, "month": month.lower(),
            "MONTH": month.upper(), "Mon": month[:3], "MON": month[:3].upper(), "Weekday": weekday,
            "Wkd": weekday[:3], "dth": ordinal(date.day)}


#: Human date formats (``str.format`` templates over the fields of ``_fields``).
DATE_FORMATS: tuple[str, ...] = (
    "{d} {Month} {Y}",                      # 3 September 2025
    "{dd} {Mon} {Y}",                       # 03 Sep 2025
    "{Month} {d}, {Y}",                     # September 3, 2025
    "{Mon} {d}, {Y}",                       # Sep 3, 2025
    "{Weekday}, {Month} {d}, {Y}",          # Wednesday, September 3, 2025
    "{Wkd} {d} {Mon} {Y}",                  # Wed 3 Sep 2025
    "{dth} of {Month} {Y}",                 # 3rd of September 2025
    "the {dth} of {Month}, {Y}",            # the 3rd of September, 2025
    "{Weekday} the {dth} of {Month} {Y}",   # Wednesday the 3rd of September 2025
    "{mm}/{dd}/{Y}",                        # 09/03/2025 (US order)
    "{dd}.{mm}.{Y}",                        # 03.09.2025 (German order)
    "{Y}/{mm}/{dd}",                        # 2025/09/03
    "{dd}-{MON}-{Y}",                       # 03-SEP-2025
    "{Y}{mm}{dd}",                          # 20250903
    "{d} {month} {Y}",                      # 3 september 2025
    "{MONTH} {d} {Y}",                      # SEPTEMBER 3 2025
    "{m}/{d}/{yy}",                         # 9/3/25 (US order, two-digit year)
    "{d}-{Mon}-{yy}",                       # 3-Sep-25
)


def format_date(date: dt.date, template: str) -> str:
    """``date`` written with one of :data:`DATE_FORMATS` (or any template over the same fields)."""
    try:
        return template.format(**_fields(date))
    except KeyError as err:
        raise ValueError(f"unknown field {err} in date template {template!r}; "
                         f"known fields: {', '.join(_fields(FIRST_DATE))}") from None


def random_date(rng: random.Random, first: dt.date = FIRST_DATE, last: dt.date = LAST_DATE) -> dt.date:
    """A uniformly random date between ``first`` and ``last`` (inclusive)."""
    return first + dt.timedelta(days=rng.randrange((last - first).days + 1))


def date_pairs(n: int, seed: int = 0, formats: Sequence[str] = DATE_FORMATS) -> list[tuple[str, str]]:
    """``n`` pairs (human date, ISO ``YYYY-MM-DD``), each with a random date and a random format.

    Defined in Day 18.
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if not formats:
        raise ValueError("formats is empty: pass at least one template, e.g. DATE_FORMATS[:3]")
    rng = random.Random(seed)
    pairs = []
    for _ in range(n):
        date = random_date(rng)
        pairs.append((format_date(date, rng.choice(formats)), date.isoformat()))
    return pairs


TASKS: dict[str, Callable[[str], str]] = {"copy": lambda s: s, "reverse": lambda s: s[::-1]}


def sequence_pairs(task: str, n: int, min_len: int, max_len: int, seed: int = 0,
                   alphabet: str = "abcdefghijklmnopqrst") -> list[tuple[str, str]]:
    """``n`` random strings with lengths uniform in ``[min_len, max_len]`` and their copy or reversal.

    Defined in Day 18.
    """
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; use one of {sorted(TASKS)}")
    if not 1 <= min_len <= max_len:
        raise ValueError(f"need 1 <= min_len <= max_len, got {min_len}, {max_len}")
    rng = random.Random(seed)
    sources = ("".join(rng.choices(alphabet, k=rng.randint(min_len, max_len))) for _ in range(n))
    return [(s, TASKS[task](s)) for s in sources]


class CharVocab:
    """Characters <-> ids, with ``<pad>`` = 0, ``<bos>`` = 1, ``<eos>`` = 2 and ``<unk>`` = 3.

    Defined in Day 18.
    """

    PAD, BOS, EOS, UNK = 0, 1, 2, 3
    SPECIALS = ("<pad>", "<bos>", "<eos>", "<unk>")

    def __init__(self, texts: Iterable[str]) -> None:
        chars = sorted(set("".join(texts)))
        self.itos: list[str] = list(self.SPECIALS) + chars
        self.stoi: dict[str, int] = {ch: i for i, ch in enumerate(self.itos)}

    def __len__(self) -> int:
        return len(self.itos)

    def encode(self, text: str, bos: bool = False, eos: bool = False) -> list[int]:
        """Ids of the characters of ``text`` (unknown ones -> ``<unk>``), optionally framed."""
        ids = [self.stoi.get(ch, self.UNK) for ch in text]
        return [self.BOS] * bos + ids + [self.EOS] * eos

    def decode(self, ids: Iterable[int]) -> str:
        """Text of ``ids``: stops at the first ``<eos>``, skips ``<pad>`` and ``<bos>``."""
        out = []
        for i in ids:
            i = int(i)
            if i == self.EOS:
                break
            if i not in (self.PAD, self.BOS):
                out.append(self.itos[i] if 0 <= i < len(self.itos) else self.SPECIALS[self.UNK])
        return "".join(out)

    def tokens(self, ids: Iterable[int]) -> list[str]:
        """One label per id (specials included), for plots."""
        return [self.itos[int(i)] for i in ids]


def pad_batch(sequences: Sequence[Sequence[int]], pad_id: int = CharVocab.PAD) -> torch.Tensor:
    """(B, longest) int64 tensor, right-padded with ``pad_id``."""
    if not sequences:
        raise ValueError("pad_batch needs at least one sequence")
    longest = max(len(s) for s in sequences)
    out = torch.full((len(sequences), longest), pad_id, dtype=torch.long)
    for row, seq in enumerate(sequences):
        out[row, : len(seq)] = torch.as_tensor(list(seq), dtype=torch.long)
    return out


def encode_pairs(pairs: Sequence[tuple[str, str]], src_vocab: CharVocab,
                 tgt_vocab: CharVocab | None = None) -> dict[str, torch.Tensor]:
    """Padded tensors for a list of (source, target) pairs.

    Returns ``src`` (B, S), ``src_lengths`` (B,), ``tgt_in`` (B, T) = ``<bos>`` + target and
    ``tgt_out`` (B, T) = target + ``<eos>``, all right-padded with ``<pad>`` = 0. Defined in Day 18.
    """
    tgt_vocab = tgt_vocab or src_vocab
    if any(len(src) == 0 for src, _ in pairs):
        raise ValueError("a source string is empty: every source needs at least one character")
    src = [src_vocab.encode(s) for s, _ in pairs]
    tgt = [tgt_vocab.encode(t) for _, t in pairs]
    return {"src": pad_batch(src), "src_lengths": torch.tensor([len(s) for s in src]),
            "tgt_in": pad_batch([[CharVocab.BOS, *t] for t in tgt]),
            "tgt_out": pad_batch([[*t, CharVocab.EOS] for t in tgt])}

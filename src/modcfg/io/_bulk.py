"""Integers read in bulk from the text of a model: one NumPy pass over the bytes, not a regex
and an ``int()`` per number.

Relations of XCSP files and the clauses of DIMACS files are long runs of small integers; a
Renault-style relation holds hundreds of thousands. :func:`integer_runs` reads such a text in a
few vectorised passes and validates it at the same time: every byte is a digit, a sign,
whitespace or one of the caller's separators; every token is an optional ``-`` and 1 to 18
digits. The first offending token is reported by its offset, so the reader can name its line.

>>> found = integer_runs(" 0 1|1 -20 | ", separator="|")
>>> found.values.tolist(), found.groups.tolist(), found.starts.tolist()
([0, 1, 1, -20], [0, 0, 1, 1], [1, 3, 5, 7])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

__all__ = ["BadToken", "Integers", "integer_runs"]

_MAX_DIGITS = 18  # below 2**63: every value fits an int64
_POWERS = 10 ** np.arange(_MAX_DIGITS, dtype=np.int64)
_WHITESPACE = np.zeros(256, dtype=bool)
_WHITESPACE[[9, 10, 11, 12, 13, 32]] = True


@dataclass(frozen=True)
class BadToken(Exception):
    """A token that is not an integer, at ``offset`` characters into the text."""

    token: str
    offset: int


class Integers(NamedTuple):
    """The integers of a text, and for each: its group, and where its token starts and ends."""

    values: np.ndarray
    groups: np.ndarray
    starts: np.ndarray
    ends: np.ndarray


def integer_runs(text: str, *, separator: str = "") -> Integers:
    """The integers of ``text`` (int64) and, for each, how many ``separator`` characters come
    before it (its group: a tuple of a relation) and the offsets of its token.

    Raises :class:`BadToken` for anything that is not an integer of at most 18 digits.
    """
    # one byte per character: any other character becomes "?", which is not an integer
    data = np.frombuffer(text.encode("ascii", errors="replace"), dtype=np.uint8)
    digit = (data >= 48) & (data <= 57)
    minus = data == 45
    split = np.zeros(len(data), dtype=bool)
    if separator:
        split = data == ord(separator)
    blank = split | _WHITESPACE[data]
    token = ~blank
    before = np.concatenate(([False], token[:-1]))
    after = np.concatenate((token[1:], [False]))
    starts = np.flatnonzero(token & ~before)
    ends = np.flatnonzero(token & ~after) + 1
    negative = minus[starts]
    first_digit = starts + negative
    lengths = ends - first_digit
    # the first token in the text that is not an integer: a character that is neither a digit
    # nor a sign, a sign inside a token (1-2), a sign alone, more digits than an int64 holds
    wrong = np.flatnonzero(token & ~(digit | minus) | (minus & before))
    too_long = np.flatnonzero((lengths <= 0) | (lengths > _MAX_DIGITS))
    offsets = [int(starts[too_long[0]])] if len(too_long) else []
    if len(wrong):
        offsets.append(int(starts[np.searchsorted(starts, wrong[0], side="right") - 1]))
    if offsets:
        raise _bad(text, min(offsets), separator)
    # each digit times its power of ten, summed per token
    digits = np.flatnonzero(digit)
    owner = np.searchsorted(starts, digits, side="right") - 1
    places = ends[owner] - 1 - digits
    contributions = (data[digits].astype(np.int64) - 48) * _POWERS[places]
    values = np.add.reduceat(contributions, np.searchsorted(digits, first_digit))
    values[negative] *= -1
    groups = np.cumsum(split)[starts] if separator else np.zeros(len(starts), dtype=np.int64)
    if not len(starts):
        values = np.zeros(0, dtype=np.int64)
    return Integers(values, groups, starts, ends)


def _bad(text: str, start: int, separator: str) -> BadToken:
    """The token starting at ``start``."""
    end = start
    while end < len(text) and not text[end].isspace() and text[end] != separator:
        end += 1
    return BadToken(text[start:end], start)

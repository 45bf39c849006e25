"""Integers read in bulk from the text of a model: one NumPy pass over the bytes, not a regex
and an ``int()`` per number.

Relations of XCSP files and the clauses of DIMACS files are long runs of small integers; a
Renault-style relation holds hundreds of thousands. :func:`integer_runs` reads such a text in a
few vectorised passes and validates it at the same time: every byte is a digit, a sign,
whitespace or one of the caller's separators; every token is an optional ``-`` and 1 to 18
digits. The first offending token is reported by its offset, so the reader can name its line.

>>> values, groups = integer_runs(" 0 1|1 -20 | ", separator="|")
>>> values.tolist(), groups.tolist()
([0, 1, 1, -20], [0, 0, 1, 1])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["BadToken", "integer_runs"]

_MAX_DIGITS = 18  # below 2**63: every value fits an int64
_POWERS = 10 ** np.arange(_MAX_DIGITS, dtype=np.int64)
_WHITESPACE = np.zeros(256, dtype=bool)
_WHITESPACE[[9, 10, 11, 12, 13, 32]] = True


@dataclass(frozen=True)
class BadToken(Exception):
    """A token that is not an integer, at ``offset`` characters into the text."""

    token: str
    offset: int


def integer_runs(text: str, *, separator: str = "") -> tuple[np.ndarray, np.ndarray]:
    """The integers of ``text`` (int64) and, for each, how many ``separator`` characters come
    before it (its group: a tuple of a relation, a clause).

    Raises :class:`BadToken` for anything that is not an integer of at most 18 digits.
    """
    try:
        data = np.frombuffer(text.encode("ascii"), dtype=np.uint8)
    except UnicodeEncodeError as exc:
        raise _bad(text, exc.start) from None
    digit = (data >= 48) & (data <= 57)
    minus = data == 45
    split = np.zeros(len(data), dtype=bool)
    if separator:
        split = data == ord(separator)
    token = digit | minus
    wrong = ~(token | split | _WHITESPACE[data])
    if wrong.any():
        raise _bad(text, int(np.argmax(wrong)))
    before = np.concatenate(([False], token[:-1]))
    after = np.concatenate((token[1:], [False]))
    starts = np.flatnonzero(token & ~before)
    ends = np.flatnonzero(token & ~after) + 1
    negative = minus[starts]
    first_digit = starts + negative
    lengths = ends - first_digit
    # a sign alone, a sign inside a token (1-2), or more digits than an int64 holds
    inner_minus = np.flatnonzero(minus & before)
    too_long = np.flatnonzero((lengths <= 0) | (lengths > _MAX_DIGITS))
    if len(inner_minus) or len(too_long):
        offsets = [int(starts[too_long[0]])] if len(too_long) else []
        if len(inner_minus):
            offsets.append(int(starts[np.searchsorted(starts, inner_minus[0], side="right") - 1]))
        raise _bad(text, min(offsets))
    # each digit times its power of ten, summed per token
    digits = np.flatnonzero(digit)
    owner = np.searchsorted(starts, digits, side="right") - 1
    places = ends[owner] - 1 - digits
    contributions = (data[digits].astype(np.int64) - 48) * _POWERS[places]
    values = np.add.reduceat(contributions, np.searchsorted(digits, first_digit))
    values[negative] *= -1
    groups = np.cumsum(split)[starts] if separator else np.zeros(len(starts), dtype=np.int64)
    return values if len(starts) else np.zeros(0, dtype=np.int64), groups


def _bad(text: str, offset: int) -> BadToken:
    start = offset
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    end = offset
    while end < len(text) and not text[end].isspace():
        end += 1
    return BadToken(text[start:end], start)

"""Relations as integer arrays: key codes, membership tests and a column-by-column join.

A bag's consistent tuples are built one column at a time: every partial row is extended by
each value of the next variable, then filtered by every relation whose scope the new column
completes (a rule's allowed tuples, or the separator keys a child bag supports). Membership is
a lookup in a dense Boolean table when the scope's domains are small, a binary search in sorted
row codes otherwise. :func:`join` gives up (returns None) when a partial result would grow past
a limit, so the caller can fall back to a join that tries values one by one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from math import prod

import numpy as np

__all__ = ["Lookup", "encode", "join"]

#: Scopes with at most this many value combinations get a dense lookup table.
_DENSE = 1 << 20
#: Mixed-radix codes are used while the product of the domain sizes stays below this.
_SAFE_CODE = 1 << 62


def encode(parts: Sequence[np.ndarray], sizes: Sequence[int]) -> list[np.ndarray]:
    """Integer codes of the rows of several arrays over the same columns, comparable across
    the arrays and ordered like the rows (lexicographically, first column first)."""
    if not sizes:
        return [np.zeros(len(part), dtype=np.int64) for part in parts]
    if prod(sizes) < _SAFE_CODE:
        codes = []
        for part in parts:
            code = part[:, 0].astype(np.int64)
            for column in range(1, len(sizes)):
                code *= sizes[column]
                code += part[:, column]
            codes.append(code)
        return codes
    stacked = np.concatenate(parts, axis=0)
    _, inverse = np.unique(stacked, axis=0, return_inverse=True)
    ids = np.asarray(inverse, dtype=np.int64).reshape(len(stacked))
    return np.split(ids, np.cumsum([len(part) for part in parts])[:-1])


class Lookup:
    """Membership of rows in a fixed set of rows over columns of the given domain sizes."""

    def __init__(self, allowed: np.ndarray, sizes: Sequence[int]) -> None:
        self.sizes = list(sizes)
        self.any = len(allowed) > 0
        self.table: np.ndarray | None = None
        self.codes: np.ndarray | None = None
        self.rows: np.ndarray | None = None
        if not self.sizes:
            return
        total = prod(self.sizes)
        if total <= _DENSE:
            self.table = np.zeros(total, dtype=bool)
            self.table[encode([allowed], self.sizes)[0]] = True
        elif total < _SAFE_CODE:
            self.codes = np.unique(encode([allowed], self.sizes)[0])
        else:
            self.rows = allowed

    def __call__(self, rows: np.ndarray) -> np.ndarray:
        """A Boolean per row of ``rows`` (columns in the order of ``sizes``)."""
        if not self.sizes:
            return np.full(len(rows), self.any, dtype=bool)
        if self.table is not None:
            hits: np.ndarray = self.table[encode([rows], self.sizes)[0]]
            return hits
        if self.codes is not None:
            codes = self.codes
            wanted = encode([rows], self.sizes)[0]
        else:
            assert self.rows is not None  # the third case
            known, wanted = encode([self.rows, rows], self.sizes)
            codes = np.unique(known)
        if not len(codes):
            return np.zeros(len(rows), dtype=bool)
        at = np.minimum(np.searchsorted(codes, wanted), len(codes) - 1)
        found: np.ndarray = codes[at] == wanted
        return found


Relation = tuple[list[int], Callable[[np.ndarray], np.ndarray]]


def join(
    domains: Sequence[np.ndarray], relations: Sequence[Relation], limit: int
) -> np.ndarray | None:
    """Every row over ``len(domains)`` columns (column ``i`` takes the values ``domains[i]``)
    that every relation allows, or None when a partial result would exceed ``limit`` rows.

    A relation is (columns, test): ``test`` gets the rows restricted to those columns and says
    which rows it allows.
    """
    width = len(domains)
    due: list[list[Relation]] = [[] for _ in range(width)]
    rows = np.zeros((1, 0), dtype=np.int64)
    for columns, test in relations:
        if columns:
            due[max(columns)].append((columns, test))
        elif not test(rows).all():
            return np.zeros((0, width), dtype=np.int64)
    for depth, values in enumerate(domains):
        count = len(rows)
        if count * len(values) > limit:
            return None
        rows = np.concatenate(
            (np.repeat(rows, len(values), axis=0), np.tile(values, count)[:, None]), axis=1
        )
        for columns, test in due[depth]:
            rows = rows[test(rows[:, columns])]
        if not len(rows):
            return np.zeros((0, width), dtype=np.int64)
    return rows

"""Whole-array NumPy forms of two loops of the bag builder, for the builder run uncompiled.

A new process runs its first bag rows as plain Python (see :mod:`._jit`), where the builder's
row-by-row loops cost most; :mod:`._build_kernel` makes these the plain forms of its loops
(``plain_form``), so compiled kernels keep the loops and uncompiled ones call these. Both
forms give the same results (a property test compares them).
"""

from __future__ import annotations

import numpy as np

__all__ = ["first_changes", "sorted_rows"]


def sorted_rows(rows: np.ndarray, columns: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """The order of ``rows`` by their values on ``columns`` (lexicographic, stable), in one
    NumPy sort (``sizes``: the columns' domain sizes, which the radix sort reads)."""
    if not columns.shape[0]:
        return np.arange(rows.shape[0])
    return np.lexsort(rows[:, columns[::-1]].T).astype(np.int64, copy=False)


def first_changes(rows: np.ndarray, columns: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Per row in ``order``, the first of ``columns`` where it differs from the row before
    (0 for the first row; the number of columns where they are equal)."""
    change = np.zeros(order.shape[0], dtype=np.int64)
    if order.shape[0] > 1 and columns.shape[0]:  # (over no column every row equals the last)
        ordered = rows[order][:, columns]
        differ = ordered[1:] != ordered[:-1]
        change[1:] = np.where(differ.any(axis=1), differ.argmax(axis=1), columns.shape[0])
    return change

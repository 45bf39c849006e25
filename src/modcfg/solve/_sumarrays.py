"""Distributions over bounded partial sums: the arithmetic of :mod:`._sumdp`.

A :class:`Dist` holds, for every cell of a dense grid of partial sums (one axis per global sum,
each capped at its bound), the exact number of partial solutions reaching it; optionally also
the cheapest and dearest unit cost among them (when the cost itself is not an axis). Cells are
anchored at 0 (every contribution is nonnegative) and the grid only grows as far as the sums
reach, never past the caps: a partial sum past a cap can no longer meet its bound, so it is
dropped at once.
"""

from __future__ import annotations

import time
from math import prod
from typing import NamedTuple

import numpy as np

from .._errors import LimitExceeded

__all__ = ["Arithmetic", "Dist"]

#: Multiply-adds (on 64-bit counts) one computation may spend before it gives up.
WORK_LIMIT = 3_000_000_000
#: Cells one distribution may hold.
CELL_LIMIT = 1 << 24
#: A multiply-add on Python integers costs about this many on 64-bit integers.
_OBJECT_WEIGHT = 40


class Dist(NamedTuple):
    """Counts per cell of partial sums; ``low``/``high``: the cheapest and dearest unit cost
    per cell (None when not tracked)."""

    ways: np.ndarray
    low: np.ndarray | None
    high: np.ndarray | None


class Arithmetic:
    """Operations on :class:`Dist` capped at ``sizes`` (cells per axis), with the count type
    (int64 when every count provably fits, else Python integers) and a budget of work and
    time: past either, :class:`LimitExceeded`."""

    def __init__(
        self,
        sizes: tuple[int, ...],
        *,
        exact64: bool,
        costs: bool,
        cost_magnitude: int,
        deadline: float | None,
        time_limit: float | None,
    ) -> None:
        self.sizes = sizes
        self.dtype = np.dtype(np.int64 if exact64 else object)
        self.costs = costs
        small = cost_magnitude < 1 << 60
        self.cost_dtype = np.dtype(np.int64 if small else object)
        self.infinity = 1 << 61 if small else 1 << (cost_magnitude.bit_length() + 2)
        self.deadline = deadline
        self.time_limit = time_limit
        self.work = 0
        self._weight = 1 if exact64 else _OBJECT_WEIGHT

    # -- budget of work and time ------------------------------------------------------------

    def charge(self, steps: int) -> None:
        """Count ``steps`` multiply-adds; LimitExceeded when the work or the time runs out."""
        self.work += steps * self._weight
        if self.work > WORK_LIMIT:
            raise LimitExceeded(
                "counting under global sums (a budget or a total(...) bound) needs more than "
                f"{WORK_LIMIT} steps: the bounds leave too many distinct partial sums "
                f"(cells per sum: {', '.join(map(str, self.sizes))}); lower the budget or the "
                "bound, give prices fewer distinct amounts, or use engine='cpsat' with "
                "limit= or time_limit="
            )
        self.check_time()

    def check_time(self) -> None:
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise LimitExceeded(
                f"counting under global sums passed time_limit={self.time_limit} s; raise "
                "time_limit= or narrow the needs"
            )

    def check_cells(self, shape: tuple[int, ...]) -> None:
        """LimitExceeded when a grid of ``shape`` is too large to hold."""
        if prod(shape) > CELL_LIMIT:
            raise LimitExceeded(
                f"counting under global sums needs grids of {prod(shape)} partial sums "
                f"(limit {CELL_LIMIT}); lower the budget or the bounds, give prices fewer "
                "distinct amounts, or use engine='cpsat' with limit= or time_limit="
            )

    # -- constructors -----------------------------------------------------------------------

    def unit(self) -> Dist:
        """The distribution of nothing: one way, every sum 0, cost 0."""
        shape = (1,) * len(self.sizes)
        count: np.ndarray = np.ones(shape, dtype=self.dtype)
        if not self.costs:
            return Dist(count, None, None)
        zero: np.ndarray = np.zeros(shape, dtype=self.cost_dtype)
        return Dist(count, zero, zero.copy())

    # -- operations -------------------------------------------------------------------------

    def shift(self, dist: Dist, offset: tuple[int, ...], cost: int) -> Dist | None:
        """``dist`` with ``offset`` added to every cell and ``cost`` to every cost (None when
        nothing stays within the caps)."""
        sizes = self.sizes
        if any(o >= s for o, s in zip(offset, sizes, strict=True)):
            return None
        if not any(offset):
            if not cost or dist.low is None or dist.high is None:
                return dist
            return Dist(dist.ways, dist.low + cost, dist.high + cost)
        shape = tuple(
            min(n + o, s) for n, o, s in zip(dist.ways.shape, offset, sizes, strict=True)
        )
        self.check_cells(shape)
        source = tuple(slice(0, n - o) for n, o in zip(shape, offset, strict=True))
        target = tuple(slice(o, n) for n, o in zip(shape, offset, strict=True))
        count = np.zeros(shape, dtype=self.dtype)
        count[target] = dist.ways[source]
        if dist.low is None or dist.high is None:
            return Dist(count, None, None)
        low = np.full(shape, self.infinity, dtype=self.cost_dtype)
        high = np.full(shape, -self.infinity, dtype=self.cost_dtype)
        low[target] = dist.low[source] + cost
        high[target] = dist.high[source] + cost
        return Dist(count, low, high)

    def add(self, total: Dist | None, dist: Dist) -> Dist:
        """The cell-wise union of two sets of partial solutions (``total``, made by this
        method, is updated in place)."""
        if total is None:  # (a copy: ``dist`` may be shared, the total is written in place)
            return self._grown(dist, dist.ways.shape)
        shape = tuple(max(a, b) for a, b in zip(total.ways.shape, dist.ways.shape, strict=True))
        if shape != total.ways.shape:
            total = self._grown(total, shape)
        region = tuple(slice(0, n) for n in dist.ways.shape)
        total.ways[region] += dist.ways
        if total.low is not None and dist.low is not None:
            np.minimum(total.low[region], dist.low, out=total.low[region])
        if total.high is not None and dist.high is not None:
            np.maximum(total.high[region], dist.high, out=total.high[region])
        return total

    def _grown(self, dist: Dist, shape: tuple[int, ...]) -> Dist:
        """A fresh, writable copy of ``dist`` on a grid of ``shape``."""
        region = tuple(slice(0, n) for n in dist.ways.shape)
        count = np.zeros(shape, dtype=self.dtype)
        count[region] = dist.ways
        if dist.low is None or dist.high is None:
            return Dist(count, None, None)
        low = np.full(shape, self.infinity, dtype=self.cost_dtype)
        high = np.full(shape, -self.infinity, dtype=self.cost_dtype)
        low[region] = dist.low
        high[region] = dist.high
        return Dist(count, low, high)

    def convolve(self, a: Dist, b: Dist) -> Dist | None:
        """Every pairing of a partial solution of ``a`` with one of ``b`` (independent parts of
        the tree): sums add, counts multiply, costs add; None when nothing fits the caps."""
        shape = tuple(
            min(x + y - 1, s)
            for x, y, s in zip(a.ways.shape, b.ways.shape, self.sizes, strict=True)
        )
        for one, other in ((a, b), (b, a)):
            if one.ways.size == 1:
                return self._scaled(one, other)
        self.check_cells(shape)
        self.charge(a.ways.size * b.ways.size)
        if len(shape) == 1 and not self.costs:
            line = np.convolve(a.ways, b.ways)[: shape[0]]
            return Dist(line, None, None) if line.any() else None
        # the sparser side cell by cell, the other as whole slices
        if np.count_nonzero(a.ways) > np.count_nonzero(b.ways):
            a, b = b, a
        count: np.ndarray = np.zeros(shape, dtype=self.dtype)
        low: np.ndarray | None = None
        high: np.ndarray | None = None
        if self.costs:
            low = np.full(shape, self.infinity, dtype=self.cost_dtype)
            high = np.full(shape, -self.infinity, dtype=self.cost_dtype)
        for cell in zip(*np.nonzero(a.ways), strict=True):
            target = tuple(
                slice(c, min(c + n, s)) for c, n, s in zip(cell, b.ways.shape, shape, strict=True)
            )
            if any(t.start >= t.stop for t in target):
                continue
            source = tuple(slice(0, t.stop - t.start) for t in target)
            part = b.ways[source]
            count[target] += a.ways[cell] * part
            if (
                low is not None
                and high is not None
                and a.low is not None
                and b.low is not None
                and a.high is not None
                and b.high is not None
            ):
                alive = part != 0
                np.minimum(
                    low[target],
                    np.where(alive, b.low[source] + a.low[cell], self.infinity),
                    out=low[target],
                )
                np.maximum(
                    high[target],
                    np.where(alive, b.high[source] + a.high[cell], -self.infinity),
                    out=high[target],
                )
        if not count.any():
            return None
        return Dist(count, low, high)

    def _scaled(self, a: Dist, b: Dist) -> Dist | None:
        """``b`` paired with the single cell 0 of ``a``."""
        factor = a.ways.flat[0]
        if not factor:
            return None
        count = b.ways * factor if factor != 1 else b.ways
        if a.low is None or a.high is None or b.low is None or b.high is None:
            return Dist(count, None, None)
        return Dist(count, b.low + a.low.flat[0], b.high + a.high.flat[0])

    def nonzero(self, dist: Dist, cell: tuple[int, ...]) -> bool:
        """Whether ``dist`` has a partial solution at ``cell``."""
        if any(c < 0 or c >= n for c, n in zip(cell, dist.ways.shape, strict=True)):
            return False
        return bool(dist.ways[cell] != 0)

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

from ..._arguments import deadline_after
from ..._errors import LimitExceeded, TimeLimitExceeded

__all__ = ["Arithmetic", "Clock", "Dist"]

#: Multiply-adds (on 64-bit counts) one computation may spend before it gives up.
WORK_LIMIT = 3_000_000_000
#: What adding one shifted copy costs beyond its cells, in cells (Python's overhead).
_MOVE_COST = 3000
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


class Clock:
    """A time limit for counting under global sums (None: none), read as the work goes."""

    def __init__(self, time_limit: float | None) -> None:
        self.time_limit = time_limit
        self.deadline = deadline_after(time_limit)

    def check(self) -> None:
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise TimeLimitExceeded(
                f"counting under global sums passed time_limit={self.time_limit} s; raise "
                "time_limit= or narrow the needs"
            )


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
        time_limit: float | None,
    ) -> None:
        self.sizes = sizes
        self.dtype = np.dtype(np.int64 if exact64 else object)
        self.costs = costs
        small = cost_magnitude < 1 << 60
        self.cost_dtype = np.dtype(np.int64 if small else object)
        self.infinity = 1 << 61 if small else 1 << (cost_magnitude.bit_length() + 2)
        self.clock = Clock(time_limit)
        self.work = 0
        self._weight = 1 if exact64 else _OBJECT_WEIGHT
        self.line = len(sizes) == 1 and not costs

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
        self.clock.check()

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

    def caps(self, limit: tuple[int, ...] | None) -> tuple[int, ...]:
        """The cells per axis, or fewer when ``limit`` says the rest cannot be used."""
        if limit is None:
            return self.sizes
        return tuple(min(s, m) for s, m in zip(self.sizes, limit, strict=True))

    def add_shifted(
        self,
        total: Dist | None,
        dist: Dist,
        offset: tuple[int, ...],
        cost: int,
        limit: tuple[int, ...] | None = None,
    ) -> Dist | None:
        """``total`` plus ``dist`` with ``offset`` added to every cell and ``cost`` to every
        cost, cells past the caps (or ``limit``) dropped. ``total`` (None: nothing yet) must
        have been made by this method: it is updated in place."""
        if self.line:  # (the common case, once per tuple: kept lean)
            return self._add_shifted_line(total, dist, offset[0], limit)
        caps = self.caps(limit)
        reach = tuple(min(n + o, c) for n, o, c in zip(dist.ways.shape, offset, caps, strict=True))
        if any(r <= o for r, o in zip(reach, offset, strict=True)):
            return total
        if total is None:
            total = self._grown(None, reach)
        elif any(r > n for r, n in zip(reach, total.ways.shape, strict=True)):
            grown = tuple(max(r, n) for r, n in zip(reach, total.ways.shape, strict=True))
            total = self._grown(total, grown)
        source = tuple(slice(0, r - o) for r, o in zip(reach, offset, strict=True))
        target = tuple(slice(o, r) for r, o in zip(reach, offset, strict=True))
        total.ways[target] += dist.ways[source]
        if total.low is not None and dist.low is not None:
            np.minimum(total.low[target], dist.low[source] + cost, out=total.low[target])
        if total.high is not None and dist.high is not None:
            np.maximum(total.high[target], dist.high[source] + cost, out=total.high[target])
        return total

    def add_all(
        self,
        total: Dist | None,
        dist: Dist,
        moves: list[tuple[tuple[int, ...], int]],
        limit: tuple[int, ...] | None = None,
    ) -> Dist | None:
        """:meth:`add_shifted` for every (offset, cost) of ``moves``. On one axis, many
        nearby offsets are added as one convolution with their histogram."""
        if self.line and len(moves) > 1:
            offsets = [offset[0] for offset, _ in moves]
            low = min(offsets)
            cap = self.sizes[0] if limit is None else min(self.sizes[0], limit[0])
            spread = max(offsets) - low + 1
            length = min(len(dist.ways), cap - low)
            # a copy per move costs about its length plus a few thousand cells' worth
            if length > 0 and length * spread < len(moves) * (length + _MOVE_COST):
                histogram = np.bincount(np.asarray(offsets) - low, minlength=spread)
                self.charge(length * spread)
                spread_out = np.convolve(dist.ways[:length], histogram.astype(self.dtype))
                return self._add_shifted_line(total, Dist(spread_out, None, None), low, limit)
        for offset, cost in moves:
            total = self.add_shifted(total, dist, offset, cost, limit)
        return total

    def _add_shifted_line(
        self, total: Dist | None, dist: Dist, offset: int, limit: tuple[int, ...] | None
    ) -> Dist | None:
        """:meth:`add_shifted` on one axis without costs."""
        cap = self.sizes[0] if limit is None else min(self.sizes[0], limit[0])
        reach = min(len(dist.ways) + offset, cap)
        if reach <= offset:
            return total
        if total is None:
            total = Dist(np.zeros(reach, dtype=self.dtype), None, None)
        elif reach > len(total.ways):
            total = self._grown(total, (reach,))
        total.ways[offset:reach] += dist.ways[: reach - offset]
        return total

    def _grown(self, dist: Dist | None, shape: tuple[int, ...]) -> Dist:
        """A fresh, writable copy of ``dist`` (None: of nothing) on a grid of ``shape``."""
        self.check_cells(shape)
        count = np.zeros(shape, dtype=self.dtype)
        low = high = None
        if self.costs:
            low = np.full(shape, self.infinity, dtype=self.cost_dtype)
            high = np.full(shape, -self.infinity, dtype=self.cost_dtype)
        if dist is not None:
            region = tuple(slice(0, n) for n in dist.ways.shape)
            count[region] = dist.ways
            if low is not None and high is not None:
                assert dist.low is not None  # (tracked for every distribution or none)
                assert dist.high is not None
                low[region] = dist.low
                high[region] = dist.high
        return Dist(count, low, high)

    def convolve(self, a: Dist, b: Dist, limit: tuple[int, ...] | None = None) -> Dist | None:
        """Every pairing of a partial solution of ``a`` with one of ``b`` (independent parts of
        the tree): sums add, counts multiply, costs add; cells past the caps (or ``limit``)
        dropped; None when nothing is left."""
        shape = tuple(
            min(x + y - 1, s)
            for x, y, s in zip(a.ways.shape, b.ways.shape, self.caps(limit), strict=True)
        )
        if 0 in shape:
            return None
        for one, other in ((a, b), (b, a)):
            if one.ways.size == 1 and other.ways.shape == shape:
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

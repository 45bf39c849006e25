"""The parts of :mod:`._sumdp`: each global sum as an axis of capped cells, and how the
count and cheapest cost of the solutions through a bag's tuples are read off the
distributions inside and outside the bag."""

from __future__ import annotations

from math import gcd
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from ._sumarrays import Dist
from ._tree import Key

if TYPE_CHECKING:
    from ._sumdp import SumDP

__all__ = ["Axis", "LinePair", "Unmet", "WholePair", "axis_of", "nonzero"]


class Axis(NamedTuple):
    """One sum: cells ``0..size-1``, which final cells meet the bound, and the real sum of a
    cell (``scale x cell + base``)."""

    size: int
    accept: np.ndarray
    scale: int
    base: int


class Unmet(Exception):
    """A bound no solution can meet (raised while setting up the axes)."""


def axis_of(
    raw: list[list[int]], op: str, bound: int, *, keep: bool = False
) -> tuple[Axis, list[list[int]]] | None:
    """The axis of a sum given per bag, per tuple contributions ``raw``, and the contributions
    in cells; None when every solution meets the bound (the axis is not needed), unless
    ``keep`` (a ``<=`` sum whose distribution is wanted: the axis spans every sum reached)."""
    sign = -1 if op in (">=", ">") else 1
    limit = {"<": bound - 1, ">=": -bound, ">": -bound - 1}.get(op, bound)
    rows = [[sign * v for v in row] for row in raw]
    lows = [min(row, default=0) for row in rows]
    base = sum(lows)
    shifted = [[v - low for v in row] for row, low in zip(rows, lows, strict=True)]
    span = sum(max(row, default=0) for row in shifted)
    scale = gcd(*(v for row in shifted for v in row))
    target = limit - base
    if op in ("==", "!="):
        hit = 0 <= target <= span and (target % scale == 0 if scale else target == 0)
        if not hit:  # never equal: "==" never holds, "!=" always
            if op == "==":
                raise Unmet
            return None
        if not scale:  # every solution sums to the target
            if op == "==":
                return None
            raise Unmet
        if op == "==":
            size = target // scale + 1
            accept = np.zeros(size, dtype=bool)
            accept[-1] = True
        else:
            size = span // scale + 1
            accept = np.ones(size, dtype=bool)
            accept[target // scale] = False
    else:
        if target < 0:
            raise Unmet
        if target >= span:
            if not keep:
                return None
            scale = scale or 1  # (every solution has the same sum: one cell)
            target = span
        size = target // scale + 1
        accept = np.ones(size, dtype=bool)
    cells = [[v // scale for v in row] for row in shifted]
    return Axis(size, accept, scale, base), cells


def nonzero(messages: dict[Key, Dist]) -> dict[Key, Dist]:
    """``messages`` without the distributions whose every sum fell past the caps."""
    return {key: dist for key, dist in messages.items() if dist.ways.any()}


class WholePair:
    """The distribution of every solution through some tuples, but for the tuples' own
    contributions."""

    def __init__(self, owner: SumDP, whole: Dist) -> None:
        self.owner = owner
        self.whole = whole

    def accepted(self, moves: list[tuple[tuple[int, ...], int]]) -> list[tuple[int, int | None]]:
        """Per (offset, cost) of a tuple: the count and cheapest unit cost of the solutions
        through it that meet every bound."""
        found = []
        for offset, cost in moves:
            count, low, _ = self.owner.meeting_bounds(self.whole, offset, cost)
            found.append((count, low))
        return found


class LinePair:
    """Like :class:`WholePair` on one ``<=`` axis, without pairing the two sides cell by
    cell: the count of pairs within the cap is a dot product with the running sums of one
    side, and the cheapest sum is the sum of the sides' cheapest."""

    def __init__(self, owner: SumDP, around: Dist, below: Dist) -> None:
        self.axis = owner.axes[0]
        self.costed = owner.cost_axis is not None
        self.around = around.ways
        self.running = np.cumsum(below.ways)
        self.lowest = int(np.flatnonzero(around.ways)[0]) + int(np.flatnonzero(below.ways)[0])

    def accepted(self, moves: list[tuple[tuple[int, ...], int]]) -> list[tuple[int, int | None]]:
        """As :meth:`WholePair.accepted`, every tuple at once."""
        offsets = np.asarray([offset[0] for offset, _ in moves], dtype=np.int64)
        rooms = self.axis.size - 1 - offsets  # the largest sum of both sides that fits
        length = max(0, min(len(self.around), int(rooms.max()) + 1))
        # reach[i, x]: where the running sums are read for tuple i and a cell x of one side
        reach = rooms[:, None] - np.arange(length)[None, :]
        inside = reach >= 0
        taken = self.running[np.clip(reach, 0, len(self.running) - 1)]
        counts = (np.where(inside, taken, 0) @ self.around[:length]).tolist()
        found: list[tuple[int, int | None]] = []
        for count, room, offset in zip(counts, rooms.tolist(), offsets.tolist(), strict=True):
            if not count or room < self.lowest:
                found.append((0, None))
            elif self.costed:
                found.append(
                    (int(count), self.axis.scale * (self.lowest + offset) + self.axis.base)
                )
            else:
                found.append((int(count), None))
        return found

"""Counts, per-option counts and from-prices, and enumeration under global sums.

Dynamic programming over a :class:`TreeQuery`'s tree with the sums as extra state. Every sum
(a resource such as ``total(w) <= 100``, and the unit cost when a budget bounds it) becomes an
axis of partial sums: each bag tuple contributes the weights of the variables its bag
introduces; contributions are shifted so that every bag's smallest one is 0 (then every
partial sum only grows), divided by their greatest common divisor (prices in whole euros
count in euros), and the bound caps the axis. So a distribution has at most ``bound + 1``
cells per sum, whatever the number of slots: the cost grows with the bound, not with the
number of distinct sums. ``>=`` bounds are ``<=`` bounds on the negated weights, ``==`` keeps
one final cell and ``!=`` all but one.

The upward pass gives, per separator key, the distribution of its subtree; the downward pass
the distribution of everything outside a bag; together they give every option's count and
cheapest cost within the bounds in two passes. Enumeration descends only into cells whose
distribution is nonzero, so it never meets a dead end.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from math import gcd, prod
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from ._problem import Resource
from ._sumarrays import Arithmetic, Dist
from ._tree import Key

if TYPE_CHECKING:
    from ._passes import TreeQuery

__all__ = ["SumDP"]

#: (exact counts fit 64-bit integers below this)
_EXACT = 1 << 62


class _Axis(NamedTuple):
    """One sum: cells ``0..size-1``, which final cells meet the bound, and the real sum of a
    cell (``scale x cell + base``)."""

    size: int
    accept: np.ndarray
    scale: int
    base: int


class _Unmet(Exception):
    """A bound no solution can meet (raised while setting up the axes)."""


def _axis(raw: list[list[int]], op: str, bound: int) -> tuple[_Axis, list[list[int]]] | None:
    """The axis of a sum given per bag, per tuple contributions ``raw``, and the contributions
    in cells; None when every solution meets the bound (the axis is not needed)."""
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
        if (op == "==") != hit:  # never equal, or always different
            if op == "==":
                raise _Unmet
            return None
        if not scale:  # every solution sums to the target
            if op == "==":
                return None
            raise _Unmet
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
            raise _Unmet
        if target >= span:
            return None
        size = target // scale + 1
        accept = np.ones(size, dtype=bool)
    cells = [[v // scale for v in row] for row in shifted]
    return _Axis(size, accept, scale, base), cells


class SumDP:
    """The distributions of one query under global sums (computed on first use).

    ``resources`` must hold; the unit cost may not exceed ``cost_bound`` (when given).
    ``time_limit`` (seconds from now) bounds the work: past it, :class:`LimitExceeded`.
    ``costs``: also track the cheapest and dearest unit cost of every cell (what sessions
    show), which a bounded cost gives for free.
    """

    def __init__(
        self,
        query: TreeQuery,
        resources: Sequence[Resource],
        cost_bound: int | None,
        *,
        costs: bool = False,
        time_limit: float | None = None,
    ) -> None:
        self.query = query
        tree = query.tree
        self.bags = tree.bags
        self.empty = not query.count()
        # per bag: the live positions with completions below, and their tuples
        self.rows: list[list[tuple[int, tuple[int, ...]]]] = []
        for index, bag in enumerate(self.bags):
            alive = query.up_alive[index]
            live = query.live[index]
            self.rows.append([(i, bag.tuples[live[i]]) for i in range(len(live)) if alive[i]])
        unit_cost = [
            [(query.key[index][i] + query.score[index][i]) // query.scale for i, _ in rows]
            for index, rows in enumerate(self.rows)
        ]
        raws: list[tuple[list[list[int]], str, int]] = []
        for resource in resources:
            raw = [
                [sum(resource.weights[bag.vars[p]][t[p]] for p in bag.owned) for _, t in rows]
                for bag, rows in zip(self.bags, self.rows, strict=True)
            ]
            raws.append((raw, resource.op, resource.bound))
        if cost_bound is not None:
            raws.append((unit_cost, "<=", cost_bound))
        axes: list[_Axis] = []
        columns: list[list[list[int]]] = []
        self.cost_axis: int | None = None
        try:
            for number, (raw, op, bound) in enumerate(raws):
                found = _axis(raw, op, bound)
                if found is not None:
                    if cost_bound is not None and number == len(raws) - 1:
                        self.cost_axis = len(axes)
                    axes.append(found[0])
                    columns.append(found[1])
        except _Unmet:
            self.empty = True
        if not axes:  # one axis of one cell: the same code counts without sums
            axes.append(_Axis(1, np.ones(1, dtype=bool), 1, 0))
            columns.append([[0] * len(rows) for rows in self.rows])
        self.axes = axes
        # per bag, per alive row: its cells on every axis, and its unit cost
        self.offset = [
            list(zip(*(column[index] for column in columns), strict=True))
            if self.rows[index]
            else []
            for index in range(len(self.bags))
        ]
        self.unit_cost = unit_cost
        self.track_costs = costs and self.cost_axis is None
        sizes = tuple(axis.size for axis in axes)
        space = prod(max(1, sum(row)) for row in query.problem.allowed)
        self.math = Arithmetic(
            sizes,
            exact64=space < _EXACT,
            costs=self.track_costs,
            cost_magnitude=tree.cost_magnitude,
            deadline=None if time_limit is None else time.monotonic() + time_limit,
            time_limit=time_limit,
        )
        self._up: list[dict[Key, Dist]] | None = None
        self._products: list[dict[tuple[Key, ...], list[Dist | None]]] = []
        self._outside: list[dict[Key, Dist]] | None = None
        self._options: dict[int, list[tuple[int, int | None, int | None]]] = {}

    # -- upward pass ------------------------------------------------------------------------

    def _suffixes(self, index: int, combo: tuple[Key, ...]) -> list[Dist | None]:
        """For a tuple of bag ``index`` whose children's keys are ``combo``: the products of
        the children's messages from child j on (entry 0: all of them; last: the unit)."""
        known = self._products[index].get(combo)
        if known is not None:
            return known
        assert self._up is not None  # children first (postorder)
        bag = self.bags[index]
        suffixes: list[Dist | None] = [self.math.unit()]
        for child, key in zip(reversed(bag.children), reversed(combo), strict=True):
            message = self._up[child].get(key)
            last = suffixes[-1]
            if message is None or last is None:
                suffixes.append(None)
            else:
                suffixes.append(self.math.convolve(message, last))
        suffixes.reverse()
        self._products[index][combo] = suffixes
        return suffixes

    def up(self) -> list[dict[Key, Dist]]:
        """Per bag: separator key -> the distribution of the subtree below it."""
        if self._up is not None:
            return self._up
        self._up = [{} for _ in self.bags]
        self._products = [{} for _ in self.bags]
        if self.empty:
            return self._up
        math = self.math
        for index in reversed(self.query.tree.preorder):
            bag = self.bags[index]
            out: dict[Key, Dist] = {}
            keys = bag.child_keys
            for (_, t), offset, cost in zip(
                self.rows[index], self.offset[index], self.unit_cost[index], strict=True
            ):
                product = self._suffixes(index, tuple(key(t) for key in keys))[0]
                if product is None:
                    continue
                moved = math.shift(product, offset, cost)
                if moved is not None:
                    sep = bag.sep(t)
                    out[sep] = math.add(out.get(sep), moved)
            math.check_time()
            self._up[index] = out
        return self._up

    def _root(self) -> Dist | None:
        return self.up()[0].get(())

    def _mask(self, shape: tuple[int, ...]) -> np.ndarray:
        """Which cells of a grid of ``shape`` (anchored at 0) meet every bound."""
        mask = np.ones(shape, dtype=bool)
        for d, axis in enumerate(self.axes):
            along = [1] * len(shape)
            along[d] = shape[d]
            mask &= axis.accept[: shape[d]].reshape(along)
        return mask

    def _accepted(self, dist: Dist) -> tuple[int, int | None, int | None]:
        """The count, cheapest and dearest unit cost of the cells of ``dist`` that meet every
        bound."""
        hits = self._mask(dist.ways.shape) & (dist.ways != 0)
        if not hits.any():
            return 0, None, None
        count = int(dist.ways[hits].sum())
        if self.cost_axis is not None:
            axis = self.axes[self.cost_axis]
            others = tuple(d for d in range(hits.ndim) if d != self.cost_axis)
            cells = np.flatnonzero(hits.any(axis=others) if others else hits)
            low, high = int(cells[0]), int(cells[-1])
            return count, axis.scale * low + axis.base, axis.scale * high + axis.base
        if dist.low is not None and dist.high is not None:
            return count, int(dist.low[hits].min()), int(dist.high[hits].max())
        return count, None, None

    def count(self) -> int:
        """The number of solutions that meet every bound."""
        root = self._root()
        return 0 if root is None else self._accepted(root)[0]

    def cost_range(self) -> tuple[int, int] | None:
        """The cheapest and dearest unit cost of those solutions (None when there is none)."""
        root = self._root()
        if root is None:
            return None
        count, low, high = self._accepted(root)
        if not count or low is None or high is None:
            return None
        return low, high

    # -- downward pass and options ----------------------------------------------------------

    def _outside_all(self) -> list[dict[Key, Dist]]:
        """Per bag: separator key -> the distribution of everything outside its subtree."""
        if self._outside is not None:
            return self._outside
        up = self.up()
        math = self.math
        outside: list[dict[Key, Dist]] = [{} for _ in self.bags]
        if not self.empty:
            outside[0][()] = math.unit()
        for index in self.query.tree.preorder:
            bag = self.bags[index]
            if not bag.children:
                continue
            # per (separator key, children's keys): the outside times the children's
            # messages before child j (prefix), paired with those after it (suffix)
            groups: dict[tuple[Key, tuple[Key, ...]], list[Dist | None]] = {}
            keys = bag.child_keys
            for (_, t), offset, cost in zip(
                self.rows[index], self.offset[index], self.unit_cost[index], strict=True
            ):
                combo = tuple(key(t) for key in keys)
                sep = bag.sep(t)
                rests = groups.get((sep, combo))
                if rests is None:
                    rests = groups[sep, combo] = self._rests(index, sep, combo, up, outside)
                for child, key, rest in zip(bag.children, combo, rests, strict=True):
                    if rest is None:
                        continue
                    moved = math.shift(rest, offset, cost)
                    if moved is not None:
                        outside[child][key] = math.add(outside[child].get(key), moved)
            math.check_time()
        self._outside = outside
        return outside

    def _rests(
        self,
        index: int,
        sep: Key,
        combo: tuple[Key, ...],
        up: list[dict[Key, Dist]],
        outside: list[dict[Key, Dist]],
    ) -> list[Dist | None]:
        """Per child j: the outside of the bag times every other child's message."""
        math = self.math
        bag = self.bags[index]
        suffixes = self._suffixes(index, combo)
        left: Dist | None = outside[index].get(sep)
        rests: list[Dist | None] = []
        for j, (child, key) in enumerate(zip(bag.children, combo, strict=True)):
            after = suffixes[j + 1]
            rests.append(None if left is None or after is None else math.convolve(left, after))
            message = up[child].get(key)
            left = None if left is None or message is None else math.convolve(left, message)
        return rests

    def _option_rows(self, index: int) -> list[tuple[int, int | None, int | None]]:
        """Per alive row of bag ``index``: the count, cheapest and dearest unit cost of the
        solutions through it that meet every bound."""
        found = self._options.get(index)
        if found is not None:
            return found
        outside = self._outside_all()[index]
        math = self.math
        bag = self.bags[index]
        keys = bag.child_keys
        joined: dict[tuple[Key, tuple[Key, ...]], Dist | None] = {}
        found = []
        for (_, t), offset, cost in zip(
            self.rows[index], self.offset[index], self.unit_cost[index], strict=True
        ):
            combo = tuple(key(t) for key in keys)
            sep = bag.sep(t)
            if (sep, combo) not in joined:
                around, below = outside.get(sep), self._suffixes(index, combo)[0]
                joined[sep, combo] = (
                    None if around is None or below is None else math.convolve(around, below)
                )
            whole = joined[sep, combo]
            moved = None if whole is None else math.shift(whole, offset, cost)
            found.append((0, None, None) if moved is None else self._accepted(moved))
        math.check_time()
        self._options[index] = found
        return found

    def option(self, var: int, values: Sequence[int]) -> tuple[int, int | None]:
        """The number of solutions meeting every bound with ``var`` in ``values``, and the
        cheapest unit cost among them (None when there is none, or costs are not tracked)."""
        if self.empty:
            return 0, None
        index, position = self.query.tree.owner[var]
        wanted = set(values)
        total, cheapest = 0, None
        for (_, t), (count, low, _) in zip(self.rows[index], self._option_rows(index), strict=True):
            if count and t[position] in wanted:
                total += count
                if low is not None and (cheapest is None or low < cheapest):
                    cheapest = low
        return total, cheapest

    # -- enumeration ------------------------------------------------------------------------

    def solutions(self) -> Iterator[list[int]]:
        """Every solution meeting every bound once, as a value index per variable."""
        root = self._root()
        if root is None:
            return
        values = [0] * self.query.problem.size
        for cell in np.argwhere(self._mask(root.ways.shape) & (root.ways != 0)).tolist():
            yield from self._fill([(0, (), tuple(cell))], values)

    def _fill(
        self, tasks: list[tuple[int, Key, tuple[int, ...]]], values: list[int]
    ) -> Iterator[list[int]]:
        """Complete ``values`` for every subtree in ``tasks`` (bag, separator key, the cell
        its sums must reach exactly)."""
        if not tasks:
            yield list(values)
            return
        index, key, target = tasks[-1]
        rest = tasks[:-1]
        bag = self.bags[index]
        up = self.up()
        for (_, t), offset in zip(self.rows[index], self.offset[index], strict=True):
            if bag.sep(t) != key:
                continue
            remaining = tuple(a - b for a, b in zip(target, offset, strict=True))
            combo = tuple(k(t) for k in bag.child_keys)
            suffixes = self._suffixes(index, combo)
            first = suffixes[0]
            if first is None or not self.math.nonzero(first, remaining):
                continue
            for p in bag.owned:
                values[bag.vars[p]] = t[p]
            messages = [up[child][k] for child, k in zip(bag.children, combo, strict=True)]
            for cells in self._splits(messages, suffixes, 0, remaining):
                more = [
                    (child, k, cell)
                    for child, k, cell in zip(bag.children, combo, cells, strict=True)
                ]
                yield from self._fill(rest + more, values)

    def _splits(
        self,
        messages: list[Dist],
        suffixes: list[Dist | None],
        j: int,
        remaining: tuple[int, ...],
    ) -> Iterator[list[tuple[int, ...]]]:
        """The ways to split ``remaining`` among children j.. (each cell nonzero in its
        child's message, the rest still reachable by the later children)."""
        if j == len(messages):
            yield []
            return
        message, after = messages[j], suffixes[j + 1]
        assert after is not None  # the product from j on is nonzero at ``remaining``
        window = tuple(
            slice(0, min(n, r + 1)) for n, r in zip(message.ways.shape, remaining, strict=True)
        )
        for cell in np.argwhere(message.ways[window] != 0).tolist():
            left = tuple(r - c for r, c in zip(remaining, cell, strict=True))
            if self.math.nonzero(after, left):
                for tail in self._splits(messages, suffixes, j + 1, left):
                    yield [tuple(cell), *tail]

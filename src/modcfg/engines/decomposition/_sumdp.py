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

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

import numpy as np

from ...lower._problem import Resource
from ._sumarrays import Arithmetic, Dist
from ._sumparts import Axis, LinePair, Unmet, WholePair, axis_of, nonzero
from ._tree import Key

if TYPE_CHECKING:
    from ._passes import TreeQuery

__all__ = ["SumDP"]

#: (exact counts fit 64-bit integers below this)
_EXACT = 1 << 62


_Pair = WholePair | LinePair
#: A product of messages around one child (see ``_outside_all``).
_RestLabel = tuple[int, Key, tuple[Key, ...], tuple[Key, ...], tuple[int, ...] | None]


class SumDP:
    """The distributions of one query under global sums (computed on first use).

    ``resources`` must hold; the unit cost may not exceed ``cost_bound`` (when given).
    ``time_limit`` (seconds from now) bounds the work: past it, :class:`LimitExceeded`.
    ``costs``: also track the cheapest and dearest unit cost of every cell (what sessions
    show), which a bounded cost gives for free. ``cost_axis``: make the unit cost an axis even
    when no bound cuts it, for :meth:`cost_distribution`.
    """

    def __init__(
        self,
        query: TreeQuery,
        resources: Sequence[Resource],
        cost_bound: int | None,
        *,
        costs: bool = False,
        cost_axis: bool = False,
        time_limit: float | None = None,
    ) -> None:
        self.query = query
        self.resources = list(resources)
        tree = query.tree
        self.bags = tree.bags
        self.empty = not query.count()
        # per bag: the live positions with completions below, and their tuples
        self.rows: list[list[tuple[int, tuple[int, ...]]]] = []
        kept = query.kept
        for index, bag in enumerate(self.bags):
            alive = query.below.alive[index]
            live = kept.live[index]
            self.rows.append([(i, bag.tuples[live[i]]) for i in range(len(live)) if alive[i]])
        unit_cost = [
            [(kept.key[index][i] + kept.score[index][i]) // query.scale for i, _ in rows]
            for index, rows in enumerate(self.rows)
        ]
        raws: list[tuple[list[list[int]], str, int]] = []
        for resource in resources:
            raw = [
                [sum(resource.weights[bag.vars[p]][t[p]] for p in bag.owned) for _, t in rows]
                for bag, rows in zip(self.bags, self.rows, strict=True)
            ]
            raws.append((raw, resource.op, resource.bound))
        if cost_bound is None and cost_axis:  # a bound no solution passes: the whole span
            cost_bound = sum(max(row, default=0) for row in unit_cost)
        if cost_bound is not None:
            raws.append((unit_cost, "<=", cost_bound))
        axes: list[Axis] = []
        columns: list[list[list[int]]] = []
        self.cost_axis: int | None = None
        try:
            for number, (raw, op, bound) in enumerate(raws):
                costed = cost_bound is not None and number == len(raws) - 1
                found = axis_of(raw, op, bound, keep=costed and cost_axis)
                if found is not None:
                    if costed:
                        self.cost_axis = len(axes)
                    axes.append(found[0])
                    columns.append(found[1])
        except Unmet:
            self.empty = True
        if not axes:  # one axis of one cell: the same code counts without sums
            axes.append(Axis(1, np.ones(1, dtype=bool), 1, 0))
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
        # every cell counts partial solutions: the tree's bound on counts bounds it too
        self.math = Arithmetic(
            sizes,
            exact64=tree.bound_for(query.problem) < _EXACT,
            costs=self.track_costs,
            cost_magnitude=tree.cost_magnitude,
            time_limit=time_limit,
        )
        self._up: list[dict[Key, Dist]] | None = None
        # per bag: children's keys -> the product of those children's messages
        self._tails: list[dict[tuple[Key, ...], Dist | None]] = []
        self._outside: list[dict[Key, Dist]] | None = None
        self._options: dict[int, list[tuple[int, int | None]]] = {}
        self._by_value: dict[int, dict[int, tuple[int, int | None]]] = {}
        # every final cell meets the bounds once it fits the caps (``<=`` bounds only)
        self.plain = all(bool(axis.accept.all()) for axis in axes)

    # -- upward pass ------------------------------------------------------------------------

    def _tail(self, index: int, keys: tuple[Key, ...], up: list[dict[Key, Dist]]) -> Dist | None:
        """The product of the messages of bag ``index``'s last ``len(keys)`` children at those
        keys (the unit for none; None when one has no partial sum within the caps)."""
        memo = self._tails[index]
        if keys in memo:
            return memo[keys]
        found: Dist | None
        if not keys:
            found = self.math.unit()
        else:
            children = self.bags[index].children
            message = up[children[len(children) - len(keys)]].get(keys[0])
            rest = self._tail(index, keys[1:], up)
            found = None if message is None or rest is None else self.math.convolve(message, rest)
        memo[keys] = found
        return found

    def up(self) -> list[dict[Key, Dist]]:
        """Per bag: separator key -> the distribution of the subtree below it."""
        if self._up is not None:
            return self._up
        up: list[dict[Key, Dist]] = [{} for _ in self.bags]
        self._tails = [{} for _ in self.bags]
        math = self.math
        for index in [] if self.empty else reversed(self.query.tree.preorder):
            bag = self.bags[index]
            out: dict[Key, Dist] = {}
            keys, sep_of = bag.child_keys, bag.sep
            moves: dict[tuple[Key, tuple[Key, ...]], list[tuple[tuple[int, ...], int]]] = {}
            for (_, t), offset, cost in zip(
                self.rows[index], self.offset[index], self.unit_cost[index], strict=True
            ):
                moves.setdefault((sep_of(t), tuple(key(t) for key in keys)), []).append(
                    (offset, cost)
                )
            for (sep, combo), moved in moves.items():
                product = self._tail(index, combo, up)
                if product is not None:
                    found = math.add_all(out.get(sep), product, moved)
                    if found is not None:
                        out[sep] = found
            math.check_time()
            up[index] = nonzero(out)
        self._up = up  # (published when complete: queries are shared by threads)
        return up

    def _root(self) -> Dist | None:
        return self.up()[0].get(())

    def _mask(self, shape: tuple[int, ...], offset: tuple[int, ...] | None = None) -> np.ndarray:
        """Which cells of a grid of ``shape`` (anchored at ``offset``, else 0) meet every
        bound."""
        mask = np.ones(shape, dtype=bool)
        for d, axis in enumerate(self.axes):
            along = [1] * len(shape)
            along[d] = shape[d]
            start = 0 if offset is None else offset[d]
            mask &= axis.accept[start : start + shape[d]].reshape(along)
        return mask

    def meeting_bounds(
        self, dist: Dist, offset: tuple[int, ...] | None = None, cost: int = 0
    ) -> tuple[int, int | None, int | None]:
        """The count, cheapest and dearest unit cost of the cells of ``dist`` (moved by
        ``offset`` and ``cost``) that meet every bound."""
        if offset is not None:
            window = tuple(
                slice(0, max(0, min(n, axis.size - o)))
                for n, axis, o in zip(dist.ways.shape, self.axes, offset, strict=True)
            )
            dist = Dist(*(None if a is None else a[window] for a in dist))  # type: ignore[arg-type]
        ways = dist.ways
        if not ways.size:
            return 0, None, None
        hits = ways != 0
        if not self.plain:
            hits &= self._mask(ways.shape, offset)
        if not hits.any():
            return 0, None, None
        count = int(ways[hits].sum())
        if self.cost_axis is not None:
            axis = self.axes[self.cost_axis]
            others = tuple(d for d in range(hits.ndim) if d != self.cost_axis)
            cells = np.flatnonzero(hits.any(axis=others) if others else hits)
            moved = 0 if offset is None else offset[self.cost_axis]
            low, high = int(cells[0]) + moved, int(cells[-1]) + moved
            return count, axis.scale * low + axis.base, axis.scale * high + axis.base
        if dist.low is not None and dist.high is not None:
            return count, int(dist.low[hits].min()) + cost, int(dist.high[hits].max()) + cost
        return count, None, None

    def count(self) -> int:
        """The number of solutions that meet every bound."""
        root = self._root()
        return 0 if root is None else self.meeting_bounds(root)[0]

    def cost_range(self) -> tuple[int, int] | None:
        """The cheapest and dearest unit cost of those solutions (None when there is none)."""
        root = self._root()
        if root is None:
            return None
        count, low, high = self.meeting_bounds(root)
        if not count or low is None or high is None:
            return None
        return low, high

    def cost_distribution(self) -> dict[int, int]:
        """Unit cost -> number of solutions that meet every bound (needs ``cost_axis`` or a
        cost bound; empty when there is none)."""
        root = self._root()
        if root is None:
            return {}
        if self.cost_axis is None:
            raise ValueError("cost_distribution() needs the unit cost as an axis (cost_axis=)")
        ways = root.ways
        if not self.plain:
            ways = np.where(self._mask(ways.shape), ways, 0)
        others = tuple(d for d in range(ways.ndim) if d != self.cost_axis)
        line = ways.sum(axis=others) if others else ways
        axis = self.axes[self.cost_axis]
        return {
            axis.scale * cell + axis.base: int(line[cell]) for cell in np.flatnonzero(line).tolist()
        }

    # -- downward pass and options ----------------------------------------------------------

    def _room(self, dist: Dist | None) -> tuple[int, ...] | None:
        """The cells a partial sum paired with ``dist`` can still use (each cap less the
        smallest sum of ``dist``); None for no limit."""
        if dist is None:
            return None
        lowest = [
            int(
                np.flatnonzero(
                    dist.ways.any(axis=tuple(e for e in range(dist.ways.ndim) if e != d))
                    if dist.ways.ndim > 1
                    else dist.ways
                )[0]
            )
            for d in range(dist.ways.ndim)
        ]
        return tuple(axis.size - low for axis, low in zip(self.axes, lowest, strict=True))

    def _outside_all(self) -> list[dict[Key, Dist]]:
        """Per bag: separator key -> the distribution of everything outside its subtree."""
        if self._outside is not None:
            return self._outside
        up = self.up()
        math = self.math
        outside: list[dict[Key, Dist]] = [{} for _ in self.bags]
        if not self.empty:
            outside[0][()] = math.unit()
        rooms = [{key: self._room(dist) for key, dist in messages.items()} for messages in up]
        for index in self.query.tree.preorder:
            bag = self.bags[index]
            if not bag.children:
                continue
            heads: dict[tuple[Key, tuple[Key, ...]], Dist | None] = {}
            keys, sep_of = bag.child_keys, bag.sep
            # per child j, its key and the rest (the bag's separator key and the other
            # children's keys): the moves of the bag's rows
            moves: dict[tuple[int, Key, Key, tuple[Key, ...]], list[tuple[tuple[int, ...], int]]]
            moves = {}
            for (_, t), offset, cost in zip(
                self.rows[index], self.offset[index], self.unit_cost[index], strict=True
            ):
                combo = tuple(key(t) for key in keys)
                sep = sep_of(t)
                for j in range(len(combo)):
                    moves.setdefault((j, combo[j], sep, combo), []).append((offset, cost))
            rests: dict[_RestLabel, Dist | None] = {}
            for (j, key, sep, combo), moved in moves.items():
                child = bag.children[j]
                room = rooms[child].get(key)
                # the outside of the bag times every other child's message, cut to the room
                # of the child's key (so the room is part of the label: another key of the
                # same child may leave more room)
                label = (j, sep, combo[:j], combo[j + 1 :], room)
                if label in rests:
                    rest = rests[label]
                else:
                    head = self._head(index, sep, combo[:j], up, outside, heads)
                    tail = self._tail(index, combo[j + 1 :], up)
                    rest = rests[label] = (
                        None if head is None or tail is None else math.convolve(head, tail, room)
                    )
                if rest is not None:
                    found = math.add_all(outside[child].get(key), rest, moved, room)
                    if found is not None:
                        outside[child][key] = found
            for child in bag.children:
                outside[child] = nonzero(outside[child])
            math.check_time()
        self._outside = outside
        return outside

    def _head(
        self,
        index: int,
        sep: Key,
        keys: tuple[Key, ...],
        up: list[dict[Key, Dist]],
        outside: list[dict[Key, Dist]],
        memo: dict[tuple[Key, tuple[Key, ...]], Dist | None],
    ) -> Dist | None:
        """The outside of bag ``index`` at ``sep`` times the messages of its first
        ``len(keys)`` children at those keys."""
        if (sep, keys) in memo:
            return memo[sep, keys]
        found: Dist | None
        if not keys:
            found = outside[index].get(sep)
        else:
            before = self._head(index, sep, keys[:-1], up, outside, memo)
            message = up[self.bags[index].children[len(keys) - 1]].get(keys[-1])
            found = (
                None if before is None or message is None else self.math.convolve(before, message)
            )
        memo[sep, keys] = found
        return found

    def _option_rows(self, index: int) -> list[tuple[int, int | None]]:
        """Per alive row of bag ``index``: the count and cheapest unit cost of the solutions
        through it that meet every bound."""
        known = self._options.get(index)
        if known is not None:
            return known
        outside = self._outside_all()[index]
        up = self.up()
        bag = self.bags[index]
        keys, sep_of = bag.child_keys, bag.sep
        groups: dict[tuple[Key, tuple[Key, ...]], list[int]] = {}
        for row, (_, t) in enumerate(self.rows[index]):
            groups.setdefault((sep_of(t), tuple(key(t) for key in keys)), []).append(row)
        found: list[tuple[int, int | None]] = [(0, None)] * len(self.rows[index])
        offsets, costs = self.offset[index], self.unit_cost[index]
        for (sep, combo), rows in groups.items():
            around, below = outside.get(sep), self._tail(index, combo, up)
            pair = None if around is None or below is None else self._pair(around, below)
            if pair is not None:
                moves = [(offsets[row], costs[row]) for row in rows]
                for row, result in zip(rows, pair.accepted(moves), strict=True):
                    found[row] = result
        self.math.check_time()
        self._options[index] = found
        return found

    def _pair(self, around: Dist, below: Dist) -> _Pair | None:
        if len(self.axes) == 1 and self.plain and not self.track_costs:
            return LinePair(self, around, below)
        whole = self.math.convolve(around, below)
        return None if whole is None else WholePair(self, whole)

    def _value_rows(self, var: int) -> dict[int, tuple[int, int | None]]:
        """Per value of ``var``: the count and cheapest unit cost of the solutions with it."""
        index, position = self.query.tree.owner[var]
        found: dict[int, tuple[int, int | None]] = {}
        for (_, t), (count, low) in zip(self.rows[index], self._option_rows(index), strict=True):
            if count:
                total, cheapest = found.get(t[position], (0, None))
                if low is not None and (cheapest is None or low < cheapest):
                    cheapest = low
                found[t[position]] = (total + count, cheapest)
        return found

    def option(self, var: int, values: Sequence[int]) -> tuple[int, int | None]:
        """The number of solutions meeting every bound with ``var`` in ``values``, and the
        cheapest unit cost among them (None when there is none, or costs are not tracked)."""
        if self.empty:
            return 0, None
        by_value = self._by_value.get(var)
        if by_value is None:
            by_value = self._by_value[var] = self._value_rows(var)
        total, cheapest = 0, None
        for value in values:
            count, low = by_value.get(value, (0, None))
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
            suffixes = [self._tail(index, combo[j:], up) for j in range(len(combo) + 1)]
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

"""Counting under global sums: a budget, ``total(weight) <= 80``, and the like.

:class:`._sumdp.SumDP` counts on dense grids of partial sums capped by the bounds (its cost
grows with the bounds, not with the number of slots). When the grids would be too large (a
bound of millions of minor units over widely spread prices), the sparse dynamic programming
here takes over: per tuple, a distribution of (sums -> number of completions) holding only the
sums that occur, merged up the tree; exact, and partial sums that can no longer meet a ``<=``
bound are dropped as soon as they appear. Both give up with :class:`LimitExceeded` past their
work or time limit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, cast

from ..._errors import LimitExceeded
from ...lower._problem import Resource
from .._protocol import Bounds
from ._sumarrays import Clock
from ._sumdp import SumDP
from ._tree import Key

if TYPE_CHECKING:
    from ._passes import TreeQuery

__all__ = ["Sums", "cost_distribution", "count_within", "solutions_within"]

#: Partial sums the sparse dynamic programming may pair before it gives up.
_SPARSE_WORK = 2_000_000


Dist = dict[Any, int]  # sums (an int, or a tuple of them) -> number of completions
#: Pairs a tuple's distribution with one child's message: (dist, message, least the parts not
#: merged yet can add) -> the sums that may still meet the bounds.
Merge = Callable[[Dist, Dist, list[int]], Dist]


def _upward(
    query: TreeQuery,
    own: list[list[Any]],
    low: list[list[int]],
    merge: Merge,
    settle: Callable[[Dist, Dist, list[int]], None],
    clock: Clock,
) -> Dist:
    """The distribution of every solution's sums: per kept tuple with completions, its own
    sums (``own``, aligned with the kept tuples) merged with each child's message at the
    tuple's key, then added by ``settle`` (message, distribution, the least the rest of the
    tree adds) into the bag's message at the tuple's separator key; bottom-up, so the root's
    message is the answer. ``low``: per bag, the least its tuples add to each sum, for the
    pruning."""
    bags = query.tree.bags
    sub_low = [list(row) for row in low]  # the least a subtree adds
    for index in reversed(query.tree.preorder):
        for child in bags[index].children:
            sub_low[index] = _add(sub_low[index], sub_low[child])
    live, alive = query.kept.live, query.below.alive
    messages: list[dict[Key, Dist]] = [{} for _ in bags]
    work = 0
    for index in reversed(query.tree.preorder):
        bag = bags[index]
        outside = [t - m for t, m in zip(sub_low[0], sub_low[index], strict=True)]
        # pending[j]: outside plus the least children j+1.. not merged yet add
        pending = [outside]
        for child in reversed(bag.children[1:]):
            pending.append(_add(pending[-1], sub_low[child]))
        pending.reverse()
        out: dict[Key, Dist] = {}
        for i, ti in enumerate(live[index]):
            if not alive[index][i]:
                continue
            t = bag.tuples[ti]
            dist = {own[index][i]: 1}
            for j, (child, key) in enumerate(zip(bag.children, bag.child_keys, strict=True)):
                child_dist = messages[child].get(key(t))
                if not child_dist:
                    dist = {}
                    break
                work += len(dist) * len(child_dist)
                if work > _SPARSE_WORK:  # (checked before pairing: one pairing can be huge)
                    raise _too_many()
                dist = merge(dist, child_dist, pending[j])
            if dist:
                settle(out.setdefault(bag.sep(t), {}), dist, outside)
        messages[index] = out
        clock.check()
    return messages[0].get((), {})


def _one_dimension(query: TreeQuery, bound: int, clock: Clock) -> dict[int, int]:
    """Unit cost -> number of solutions, for costs at most ``bound`` (the budget case).

    Per tuple, a distribution cost -> count over its subtree; partial costs that cannot fit
    even with the cheapest choices elsewhere are dropped as soon as they appear.
    """
    kept, scale = query.kept, query.scale
    own = [
        [(k + s) // scale for k, s in zip(*row, strict=True)]
        for row in zip(kept.key, kept.score, strict=True)
    ]

    def merge(dist: Dist, child: Dist, rest: list[int]) -> Dist:
        cap = bound - rest[0]
        merged: dict[int, int] = {}
        for a, ca in dist.items():
            for b, cb in child.items():
                v = a + b
                if v <= cap:
                    merged[v] = merged.get(v, 0) + ca * cb
        return merged

    def settle(target: Dist, dist: Dist, outside: list[int]) -> None:
        limit = bound - outside[0]
        for v, c in dist.items():
            if v <= limit:
                target[v] = target.get(v, 0) + c

    low = [[min(row, default=0)] for row in own]
    found = _upward(query, own, low, merge, settle, clock)
    return {v: c for v, c in found.items() if v <= bound}


def _too_many() -> LimitExceeded:
    return LimitExceeded(
        "counting with global sums (budget or total attributes) needs too many distinct "
        "partial sums; lower the budget or the bound, narrow the needs, or use "
        "engine='cpsat' with limit= or time_limit="
    )


def count_within(query: TreeQuery, bounds: Bounds, *, time_limit: float | None = None) -> int:
    """Solutions whose resource sums hold and whose unit cost is within the bound: on grids
    of partial sums, or (when those would be too large) by sparse sums."""
    if bounds.unbounded:
        return query.count()
    clock = Clock(time_limit)
    try:
        return query.within(bounds, time_limit=time_limit).count()
    except LimitExceeded:
        clock.check()  # out of time: say so; else the grids were too large
    return sum(_sparse(query, bounds, clock, costs=False).values())


def solutions_within(
    query: TreeQuery, bounds: Bounds, *, time_limit: float | None = None
) -> Iterator[list[int]] | None:
    """Every solution whose resource sums hold and whose unit cost is within the bound,
    guided by the sums' distributions (no dead ends); None when the bounds leave too many
    partial sums for that (then search and check each solution instead)."""
    clock = Clock(time_limit)
    sums = query.within(bounds, time_limit=time_limit)
    try:
        sums.count()  # the upward pass, which the walk follows
    except LimitExceeded:
        clock.check()
        return None
    return sums.solutions()


def cost_distribution(
    query: TreeQuery, bounds: Bounds, *, time_limit: float | None = None
) -> dict[int, int]:
    """Unit cost -> number of solutions whose resource sums hold, for costs up to the cost
    bound (all costs when None).

    On dense grids of partial sums with the unit cost as one more axis (:class:`SumDP`: its
    size grows with the span of costs over their common divisor, not with the number of
    solutions); when those grids would be too large, sparse dynamic programming with the sums
    as extra state (exact; partial sums that can no longer meet a ``<=`` bound are pruned),
    whose size is the number of distinct costs.
    """
    clock = Clock(time_limit)
    if not query.count():
        return {}
    try:
        dense = SumDP(
            query, bounds.resources, bounds.cost_bound, cost_axis=True, time_limit=time_limit
        )
        return dense.cost_distribution()
    except LimitExceeded:
        clock.check()  # out of time: say so; else the grids were too large
    return _sparse(query, bounds, clock, costs=True)


def _sparse(query: TreeQuery, bounds: Bounds, clock: Clock, *, costs: bool) -> dict[int, int]:
    """:func:`cost_distribution`; ``costs=False``: without a budget, every solution is counted
    at cost 0 (the cost is not tracked)."""
    resources, cost_bound = bounds.resources, bounds.cost_bound
    if not query.count():
        return {}
    if not resources:
        bound = cost_bound if cost_bound is not None else _cost_ceiling(query)
        return _one_dimension(query, bound, clock)
    bags, kept = query.tree.bags, query.kept
    scale = query.scale
    track = costs or cost_bound is not None
    dims = len(resources) + 1
    # per bag tuple: its own contribution vector (resource sums, then the cost)
    contrib: list[list[tuple[int, ...]]] = []
    for index, bag in enumerate(bags):
        rows = []
        for i, ti in enumerate(kept.live[index]):
            t = bag.tuples[ti]
            vector = [sum(r.weights[bag.vars[p]][t[p]] for p in bag.owned) for r in resources]
            vector.append((kept.key[index][i] + kept.score[index][i]) // scale if track else 0)
            rows.append(tuple(vector))
        contrib.append(rows)
    limits = [(r.op, r.bound) for r in resources]
    ceiling = _cost_ceiling(query) if track else 0
    limits.append(("<=", cost_bound if cost_bound is not None else ceiling))

    def merge(dist: Dist, child: Dist, rest: list[int]) -> Dist:
        merged: dict[tuple[int, ...], int] = {}
        for a, ca in dist.items():
            for b, cb in child.items():
                v = tuple(x + y for x, y in zip(a, b, strict=True))
                if not _hopeless(v, rest, limits):
                    merged[v] = merged.get(v, 0) + ca * cb
        return merged

    def settle(target: Dist, dist: Dist, _outside: list[int]) -> None:
        for v, c in dist.items():
            target[v] = target.get(v, 0) + c

    low = [_min_vector(rows, dims) for rows in contrib]
    found = _upward(query, contrib, low, merge, settle, clock)
    result: dict[int, int] = {}
    for v, c in found.items():
        if all(_holds(op, x, bound) for x, (op, bound) in zip(v, limits, strict=True)):
            result[v[-1]] = result.get(v[-1], 0) + c
    return result


def _cost_ceiling(query: TreeQuery) -> int:
    """A unit cost no solution exceeds."""
    worst = query.worst_key()
    return 0 if worst is None else query.cost_of(worst) + 1


def _min_vector(rows: list[tuple[int, ...]], dims: int) -> list[int]:
    if not rows:
        return [0] * dims
    return [min(row[d] for row in rows) for d in range(dims)]


def _add(a: Sequence[int], b: Sequence[int]) -> list[int]:
    return [x + y for x, y in zip(a, b, strict=True)]


def _holds(op: str, value: int, bound: int) -> bool:
    return Resource((), op, bound, "").holds(value)


def _hopeless(vector: tuple[int, ...], rest: list[int], limits: list[tuple[str, int]]) -> bool:
    for value, low, (op, bound) in zip(vector, rest, limits, strict=True):
        if op == "<=" and value + low > bound:
            return True
        if op == "<" and value + low >= bound:
            return True
    return False


class Sums:
    """Counting under global sums as :class:`~._passes.TreeQuery`'s methods. ``_sums`` keeps
    the :class:`SumDP` of each bounds asked (a query's filters never change, so neither does
    what it computed)."""

    _sums: dict[tuple[tuple[int, ...], int | None], SumDP]

    #: Solutions whose resource sums hold and whose unit cost is at most ``cost_bound``.
    count_within = count_within
    #: Unit cost -> number of solutions whose resource sums hold (costs up to the bound).
    cost_distribution = cost_distribution
    #: Every solution within the sums and the bound, guided by the sums' distributions (no
    #: dead ends); None when the bounds leave too many partial sums for that.
    solutions_within = solutions_within

    def within(self, bounds: Bounds, *, time_limit: float | None = None) -> SumDP:
        """Counts, per-option counts and cheapest costs, and solutions whose resource sums
        hold and whose unit cost is within the bound (computed as asked, kept with the query:
        a session's first state reuses what checking its needs computed)."""
        resources, cost_bound = bounds.resources, bounds.cost_bound
        key = (tuple(map(id, resources)), cost_bound)
        found = self._sums.get(key)
        if found is None or found.resources != list(resources):
            query = cast("TreeQuery", self)
            found = SumDP(query, resources, cost_bound, costs=True, time_limit=time_limit)
            self._sums[key] = found
        else:
            found.math.clock = Clock(time_limit)  # a new limit for the work still to do
        return found

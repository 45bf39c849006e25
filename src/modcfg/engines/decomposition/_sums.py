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
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar, cast

from ..._errors import LimitExceeded
from ...lower._problem import Resource
from .._protocol import Bounds, EnumeratedSums, SumsView, one_cost
from ._sumarrays import Clock
from ._sumdp import SumDP
from ._tree import Key

if TYPE_CHECKING:
    from ._passes import TreeQuery

__all__ = ["Listed", "Sums", "Within", "cost_distribution", "count_within", "solutions_within"]

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
    found = one_cost(query, bounds)  # (an unpriced catalog: no grids at all)
    if found is not None:
        return found
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


#: Solutions within a budget that :class:`Within` lists when counting them on grids of
#: partial sums would take too much work.
_LISTED = 20_000
#: When the grids would hold more partial sums per key than this, the list is tried first.
_WIDE = 2048

_T = TypeVar("_T")
#: A :class:`Within` that lists its solutions, and a choice that narrows them: ``var`` in
#: ``values``.
Narrowed = tuple["Within", int, frozenset[int]]
#: Per bounds (as :class:`Sums` keys them), what a narrowed query's sums start from.
Listed = dict[tuple[tuple[int, ...], int | None], Narrowed]


class Within:
    """A query's solutions within global sums and a unit-cost bound (a
    :class:`~.._protocol.SumsView`), counted on :class:`SumDP`'s grids of partial sums. When
    those would take more work than allowed and only a budget bounds the solutions (prices
    in cents over many slots leave thousands of partial sums per key), the solutions within
    the budget are listed instead (by a search that enters only branches with a completion
    within it), if at most :data:`_LISTED` fit: a budget
    near the cheapest configuration, the case where the grids are wide and the answer is
    small."""

    def __init__(
        self,
        query: TreeQuery,
        bounds: Bounds,
        time_limit: float | None,
        source: Narrowed | None = None,
    ) -> None:
        self.query = query
        self.bounds = bounds
        self.clock = Clock(time_limit)
        self._source = source  # the Within this one narrows by a choice, not filtered yet
        self._listed: EnumeratedSums | None = None
        self._listing_tried = False

    @cached_property
    def dense(self) -> SumDP:
        """The grids of partial sums (built when first asked)."""
        found = SumDP(self.query, self.bounds.resources, self.bounds.cost_bound, costs=True)
        found.math.clock = self.clock
        return found

    @property
    def listed(self) -> EnumeratedSums | None:
        """The solutions listed within the budget (None when the grids count them). One that
        narrows another by a choice filters that one's list when first asked."""
        if self._source is not None:
            source, var, values = self._source
            parent = source.listed
            self._listed = None if parent is None else parent.narrowed(var, values)
            self._listing_tried = parent is not None
            self._source = None
        return self._listed

    def lists(self) -> bool:
        """Whether this lists its solutions, or narrows one that does (without filtering)."""
        return self._source is not None or self._listed is not None

    def restart(self, time_limit: float | None) -> None:
        """A new time limit for the work still to do."""
        self.clock = Clock(time_limit)
        if "dense" in self.__dict__:
            self.dense.math.clock = self.clock

    def count(self) -> int:
        """The number of solutions within the sums and the bound."""
        return self._ask(lambda view: view.count())

    def cost_range(self) -> tuple[int, int] | None:
        """The lowest and highest unit cost of those solutions (None when there is none)."""
        return self._ask(lambda view: view.cost_range())

    def option(self, var: int, values: Sequence[int]) -> tuple[int, int | None]:
        """The solutions with ``var`` in ``values``: their number and the lowest unit cost."""
        return self._ask(lambda view: view.option(var, values))

    def solutions(self) -> Iterator[list[int]]:
        """Every solution within the sums and the bound once (after :meth:`count`)."""
        listed = self.listed
        return iter(listed.solutions) if listed is not None else self.dense.solutions()

    def _ask(self, question: Callable[[SumsView], _T]) -> _T:
        listed = self.listed
        if listed is None and not self._listing_tried and self._wide_budget():
            listed = self._list()
        if listed is None:
            try:
                return question(self.dense)
            except LimitExceeded as refused:
                self.clock.check()  # out of time: that is the answer
                if not self._only_budget():
                    raise
                listed = self._listed if self._listing_tried else self._list()
                if listed is None:
                    raise LimitExceeded(
                        f"{refused}; more than {_LISTED:,} configurations are within the "
                        "budget, too many to list one by one",
                        limit=_LISTED,
                    ) from refused
        return question(listed)

    def _only_budget(self) -> bool:
        return not self.bounds.resources and self.bounds.cost_bound is not None

    def _wide_budget(self) -> bool:
        """A budget alone over thousands of partial sums per key: then the list is tried
        first (when too many fit, it stops after a fraction of a second; the grids' refusal
        takes seconds)."""
        return self._only_budget() and max(axis.size for axis in self.dense.axes) > _WIDE

    def _list(self) -> EnumeratedSums | None:
        """The solutions within the budget, listed once (None when more than
        :data:`_LISTED`)."""
        self._listing_tried = True
        self._listed = self._listing()
        return self._listed

    def _listing(self) -> EnumeratedSums | None:
        """The solutions within the budget (None when more than :data:`_LISTED`)."""
        bound = self.bounds.cost_bound
        assert bound is not None  # (only a budget bounds them)
        query = self.query
        solutions: list[list[int]] = []
        costs: list[int] = []
        found = query.up_to_key(query.last_key_of(bound), deadline=self.clock.deadline)
        try:
            for key, values in found:
                if len(solutions) == _LISTED:
                    return None
                solutions.append(values)
                costs.append(query.cost_of(key))
        except LimitExceeded:
            self.clock.check()  # past the time limit: said as the grids say it
            raise
        return EnumeratedSums(solutions, costs)


class Sums:
    """Counting under global sums as :class:`~._passes.TreeQuery`'s methods. ``_sums`` keeps
    the :class:`Within` of each bounds asked (a query's filters never change, so neither does
    what it computed)."""

    _sums: dict[tuple[tuple[int, ...], int | None], Within]

    #: Solutions whose resource sums hold and whose unit cost is at most ``cost_bound``.
    count_within = count_within
    #: Unit cost -> number of solutions whose resource sums hold (costs up to the bound).
    cost_distribution = cost_distribution
    #: Every solution within the sums and the bound, guided by the sums' distributions (no
    #: dead ends); None when the bounds leave too many partial sums for that.
    solutions_within = solutions_within

    def within(self, bounds: Bounds, *, time_limit: float | None = None) -> Within:
        """Counts, per-option counts and cheapest costs, and solutions whose resource sums
        hold and whose unit cost is within the bound (computed as asked, kept with the query:
        a session's first state reuses what checking its needs computed)."""
        key = (tuple(map(id, bounds.resources)), bounds.cost_bound)
        found = self._sums.get(key)
        if found is None or found.bounds.resources != bounds.resources:
            found = self._sums[key] = Within(cast("TreeQuery", self), bounds, time_limit)
        else:
            found.restart(time_limit)
        return found

    def _narrowed_sums(self, var: int, values: frozenset[int]) -> Listed:
        """Those of this query's sums that list their solutions, with the choice that narrows
        them to ``var`` in ``values``: what this query with that choice starts from (see
        :meth:`_adopt_sums`; nothing is filtered until asked)."""
        return {key: (within, var, values) for key, within in self._sums.items() if within.lists()}

    def _adopt_sums(self, listed: Listed) -> None:
        """Start from solutions within bounds listed by the query this one narrows: a
        session's steps under a budget that had to list them filter the list rather than try
        the grids again."""
        query = cast("TreeQuery", self)
        for key, narrowed in listed.items():
            self._sums[key] = Within(query, narrowed[0].bounds, None, narrowed)

"""The one interface every engine implements: a problem's solutions, counted, ranked, narrowed.

An :class:`EngineQuery` answers for one lowered :class:`~modcfg.lower.Problem` (a catalog with
one customer's needs applied). The decomposition engine's ``TreeQuery``, the closed forms'
``IndependentQuery`` and the CP-SAT engine's ``CpSatQuery`` implement it; the layers above
(plans, streams, sessions, explanations) call these methods only, and the plan is the one
place that picks an implementation.

Invariants every implementation keeps (the property tests compare each with brute force):

- A solution is a value index per variable that every value filter and tabulated rule of the
  problem allows. The plain methods (:meth:`~EngineQuery.count`,
  :meth:`~EngineQuery.marginals`, :meth:`~EngineQuery.solutions`, ...) ignore the problem's
  global sums and any budget; the ``*_within`` methods honour the sums and the unit-cost bound
  they are given.
- A solution's *key* is ``unit cost x scale - preference score``: ordering keys orders by unit
  price, then by the highest score (``scale`` exceeds twice the largest possible score).
  :meth:`~EngineQuery.cost_of` and :meth:`~EngineQuery.score_of` take a key apart exactly.
- Counts are exact Python integers, whatever their size. Answers do not change once given:
  :meth:`~EngineQuery.restricted` returns a new query and leaves this one as it was, so a query
  may be shared by threads.
- Enumerations yield every solution once; the ones taking a ``deadline`` (a
  :func:`time.monotonic` value) raise :class:`~modcfg.LimitExceeded` once it passes, and the
  ones taking a ``time_limit`` (seconds) do so for the work they do.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

from .._errors import TimeLimitExceeded
from ..lower._problem import Problem, Resource

if TYPE_CHECKING:
    from typing_extensions import Buffer

    from ._walks import Block, Draws, Weights

    #: Where a walk in blocks takes a block's memory (``nbytes`` -> a writable buffer).
    Allocate = Callable[[int], Buffer]

__all__ = [
    "Bounds",
    "EngineQuery",
    "EnumeratedSums",
    "Marginal",
    "SumsView",
    "holds_sums",
    "one_cost",
    "preference",
    "ranked_within",
    "restricted_supports",
    "score_bound",
    "unit_cost",
]

#: For one value of one variable: the number of completions and the cheapest key (None when
#: the value has no completion). A plain pair: a query makes one per value on every step.
Marginal = tuple[int, int | None]


def score_bound(problem: Problem) -> int:
    """The largest preference score any solution can reach in absolute value (keys are
    ``cost x (2 x bound + 1) - score``)."""
    return sum(
        max((abs(weight) for weight in factor.table.values()), default=0)
        for factor in problem.score_factors
    )


@dataclass(frozen=True, slots=True)
class Bounds:
    """What the ``*_within`` methods of :class:`EngineQuery` keep to: the global sums whose
    bounds must hold (a budget's totals, ``total(weight_kg) <= 80``) and the largest unit cost
    in minor units (None: no budget)."""

    resources: tuple[Resource, ...] = ()
    cost_bound: int | None = None

    @property
    def unbounded(self) -> bool:
        """Whether nothing is kept to (then every solution is within)."""
        return not self.resources and self.cost_bound is None


class SumsView(Protocol):
    """A query's solutions within global sums and a unit-cost bound (see
    :meth:`EngineQuery.within`)."""

    def count(self) -> int:
        """The number of solutions within the sums and the bound."""
        ...

    def cost_range(self) -> tuple[int, int] | None:
        """The lowest and highest unit cost of those solutions (None when there is none)."""
        ...

    def option(self, var: int, values: Sequence[int]) -> tuple[int, int | None]:
        """The solutions with ``var`` in ``values``: their number and the lowest unit cost."""
        ...


class EnumeratedSums:
    """A :class:`SumsView` of solutions found one by one: their value indexes and unit
    costs. A variable's values are tallied once, when first asked, over a table of every
    solution (tens of thousands of solutions: milliseconds a variable)."""

    def __init__(self, solutions: list[list[int]], costs: list[int]) -> None:
        self.solutions = solutions
        self.costs = costs
        self._tallies: dict[int, dict[int, tuple[int, int]]] = {}
        self._table: np.ndarray | None = None  # the solutions, cheapest first
        self._sorted_costs: list[int] = []  # their costs in that order

    def narrowed(self, var: int, values: frozenset[int]) -> EnumeratedSums:
        """The solutions that have ``var`` in ``values``, in the same order."""
        kept = [i for i, solution in enumerate(self.solutions) if solution[var] in values]
        return EnumeratedSums([self.solutions[i] for i in kept], [self.costs[i] for i in kept])

    def count(self) -> int:
        return len(self.solutions)

    def cost_range(self) -> tuple[int, int] | None:
        return (min(self.costs), max(self.costs)) if self.costs else None

    def option(self, var: int, values: Sequence[int]) -> tuple[int, int | None]:
        tally = self._tallies.get(var)
        if tally is None:
            tally = self._tallies[var] = self._tally(var)
        found = [tally[value] for value in values if value in tally]
        return sum(count for count, _ in found), min((c for _, c in found), default=None)

    def _tally(self, var: int) -> dict[int, tuple[int, int]]:
        """Per value of ``var``: the solutions with it and the cheapest unit cost."""
        if not self.solutions:
            return {}
        if self._table is None:
            order = sorted(range(len(self.costs)), key=self.costs.__getitem__)
            self._table = np.asarray(self.solutions, dtype=np.int64)[order]
            self._sorted_costs = [self.costs[i] for i in order]
        found, first, counts = np.unique(self._table[:, var], return_index=True, return_counts=True)
        cheapest = [self._sorted_costs[i] for i in first.tolist()]
        return dict(zip(found.tolist(), zip(counts.tolist(), cheapest, strict=True), strict=True))


class EngineQuery(Protocol):
    """What the layers above an engine ask of one problem (see the module docstring)."""

    @property
    def problem(self) -> Problem:
        """The problem answered, with the value filters of :meth:`restricted` applied."""
        ...

    @property
    def scale(self) -> int:
        """The factor of the unit cost in a key (``2 x score bound + 1``)."""
        ...

    def cost_of(self, key: int) -> int:
        """The unit cost (minor units) part of a key."""
        ...

    def score_of(self, key: int) -> int:
        """The preference score part of a key."""
        ...

    def restricted(self, var: int, values: frozenset[int]) -> EngineQuery:
        """A new query with ``var`` limited to ``values`` (a customer's choice)."""
        ...

    def feasible(self) -> bool:
        """Whether any solution exists."""
        ...

    def count(self) -> int:
        """The exact number of solutions."""
        ...

    def best_key(self) -> int | None:
        """The smallest key of any solution (None when there is none)."""
        ...

    def worst_key(self) -> int | None:
        """The largest key of any solution (None when there is none)."""
        ...

    def marginals(self, *, deadline: float | None = None) -> list[list[Marginal]]:
        """For every variable and value: its completions and their cheapest key. Work made
        of parts (the terms of clauses set aside) stops between them past ``deadline``
        (:func:`time.monotonic`) with :class:`~modcfg.LimitExceeded`; one pass over a tree
        is not interrupted."""
        ...

    def option_counts(self) -> list[list[int]]:
        """For every variable and value: its completions (:meth:`marginals` without the
        cheapest keys, which an engine may not price)."""
        ...

    def supports(
        self, options: Sequence[tuple[int, int]], *, deadline: float | None = None
    ) -> list[list[int]]:
        """Per variable and value, a bitmask over ``options`` (each a variable and one of its
        values): bit ``k`` is set when some solution holds both ``options[k]`` and that
        value. Which pairs of values are possible, for covering samples. Work made of a
        pass per option stops between them past ``deadline`` (:func:`time.monotonic`) with
        :class:`~modcfg.TimeLimitExceeded`; one pass for all is not interrupted."""
        ...

    def solutions(self, *, deadline: float | None = None) -> Iterator[list[int]]:
        """Every solution once, as a value index per variable."""
        ...

    def solution_array(self) -> tuple[np.ndarray, np.ndarray]:
        """Every solution at once: value indexes (solutions x variables) and unit costs."""
        ...

    def blocks(self, size: int, *, allocate: Allocate | None = None) -> Iterator[Block]:
        """Every solution once, in blocks of at most ``size`` (see :mod:`._walks`);
        ``allocate(nbytes)``: where a walk in blocks takes each block's memory."""
        ...

    def draws(self, weights: Weights) -> Draws:
        """Random solutions in proportion to their weight (see :mod:`._walks`)."""
        ...

    def by_key(
        self, *, deadline: float | None = None, preference_first: bool = False
    ) -> Iterator[tuple[int, list[int]]]:
        """Every solution once by non-decreasing key, ties in a fixed order
        (``preference_first``: highest score first, then the lowest cost; the keys yielded
        are then of that order)."""
        ...

    def count_within(self, bounds: Bounds, *, time_limit: float | None = None) -> int:
        """The solutions whose sums hold and whose unit cost is within the bound."""
        ...

    def cost_distribution(
        self, bounds: Bounds, *, time_limit: float | None = None
    ) -> dict[int, int]:
        """Unit cost -> number of solutions whose sums hold (costs up to the bound)."""
        ...

    def within(self, bounds: Bounds, *, time_limit: float | None = None) -> SumsView:
        """Counts, per-option counts and cheapest costs within the sums and the bound."""
        ...

    def solutions_within(
        self, bounds: Bounds, *, time_limit: float | None = None
    ) -> Iterator[list[int]] | None:
        """Every solution within the sums and the bound, guided by them; None when the bounds
        are too wide to guide a walk (then search :meth:`solutions` and check each)."""
        ...

    def by_key_within(
        self, bounds: Bounds, *, deadline: float | None = None
    ) -> Iterator[tuple[int, list[int]]]:
        """:meth:`by_key`, keeping the solutions within the sums and the bound."""
        ...


# -- what every implementation computes alike ------------------------------------------------


class _Keyed(Protocol):
    def count(self) -> int: ...

    def best_key(self) -> int | None: ...

    def worst_key(self) -> int | None: ...

    def cost_of(self, key: int) -> int: ...


def one_cost(query: _Keyed, bounds: Bounds) -> dict[int, int] | None:
    """:meth:`EngineQuery.cost_distribution` when every solution has one unit cost and no
    bound filters them (an unpriced feature model's): all of them at that cost, read off the
    cheapest and dearest keys; else None."""
    if not bounds.unbounded:
        return None
    best = query.best_key()
    if best is None:
        return {}
    worst = query.worst_key()
    if worst is None or query.cost_of(best) != query.cost_of(worst):
        return None
    return {query.cost_of(best): query.count()}


class _Restricting(Protocol):
    @property
    def problem(self) -> Problem: ...

    def restricted(self, var: int, values: frozenset[int]) -> _Counting: ...


class _Counting(Protocol):
    def option_counts(self) -> list[list[int]]: ...


def restricted_supports(
    query: _Restricting, options: Sequence[tuple[int, int]], deadline: float | None = None
) -> list[list[int]]:
    """:meth:`EngineQuery.supports` by one query per option: the option counts of ``query``
    restricted to it (an engine whose restricted passes are cheap, or that has no pass for
    all options at once); :class:`~modcfg.TimeLimitExceeded` past ``deadline`` before an
    option."""
    masks = [[0] * len(row) for row in query.problem.allowed]
    for bit, (var, value) in enumerate(options):
        if deadline is not None and time.monotonic() > deadline:
            raise TimeLimitExceeded(
                "finding which values are possible together passed its time limit after "
                f"{bit:,} of {len(options):,} values; raise time_limit="
            )
        counts = query.restricted(var, frozenset((value,))).option_counts()
        flag = 1 << bit
        for row, mask in zip(counts, masks, strict=True):
            for other, count in enumerate(row):
                if count:
                    mask[other] |= flag
    return masks


def unit_cost(problem: Problem, assignment: Sequence[int]) -> int:
    """The unit cost (minor units) of a solution: its modules' prices and price rules."""
    cost = sum(problem.domains[var].cost[value] for var, value in enumerate(assignment))
    for factor in problem.cost_factors:
        cost += factor.table.get(tuple(assignment[var] for var in factor.scope), 0)
    return cost


def preference(problem: Problem, assignment: Sequence[int]) -> int:
    """The preference score of a solution."""
    return sum(
        factor.table.get(tuple(assignment[var] for var in factor.scope), 0)
        for factor in problem.score_factors
    )


def only_assignment(problem: Problem) -> list[int] | None:
    """The one assignment ``problem``'s value filters leave when they leave every variable
    one value (a complete configuration, as a storefront restores one for its quote), else
    None."""
    assignment = []
    for row in problem.allowed:
        if sum(row) != 1:
            return None
        assignment.append(row.index(True))
    return assignment


def holds_rules(problem: Problem, assignment: Sequence[int]) -> bool:
    """Whether ``assignment`` satisfies every constraint of ``problem`` (its value filters
    and global sums aside)."""
    return all(
        constraint.holds(tuple(assignment[var] for var in constraint.scope))
        for constraint in problem.constraints
    )


def holds_sums(resources: Sequence[Resource], assignment: Sequence[int]) -> bool:
    """Whether a solution's totals meet every one of ``resources``' bounds."""
    for resource in resources:
        total = sum(resource.weights[var][value] for var, value in enumerate(assignment))
        if not resource.holds(total):
            return False
    return True


def ranked_within(
    query: EngineQuery, bounds: Bounds, *, deadline: float | None = None
) -> Iterator[tuple[int, list[int]]]:
    """:meth:`EngineQuery.by_key_within` by filtering :meth:`EngineQuery.by_key`: keys rise
    with the unit cost, so the first solution above the bound ends the stream."""
    for key, assignment in query.by_key(deadline=deadline):
        if bounds.cost_bound is not None and query.cost_of(key) > bounds.cost_bound:
            return
        if holds_sums(bounds.resources, assignment):
            yield key, assignment

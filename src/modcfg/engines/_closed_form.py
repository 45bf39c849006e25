"""Queries on problems whose slots nothing ties: closed forms instead of a decomposition.

When no rule, price rule, preference or total spans two slots, every combination of the
slots' allowed values is a solution and its key (unit cost x scale - score) is a sum of one
term per slot. Counts are products, marginals are the product of the other slots' counts,
the cheapest completion of a value is its own key plus every other slot's cheapest, and
solutions stream best-first over the slots' sorted values. The answers equal
:class:`~.decomposition.TreeQuery`'s (the property tests compare them with brute force).
"""

from __future__ import annotations

import heapq
import itertools
import random
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from math import prod
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from .._arguments import deadline_after
from .._errors import TimeLimitExceeded
from ..lower._problem import Problem
from ._closed_sums import ClosedSums, distribution
from ._protocol import Bounds, Marginal, ranked_within, restricted_supports
from ._walks import Kept, listed_blocks, whole_weights

if TYPE_CHECKING:
    from ._protocol import Allocate
    from ._walks import Block, Draws, Weights

__all__ = ["IndependentQuery", "separable"]


def separable(problem: Problem) -> bool:
    """True when no rule, price rule, preference or total spans two slots (and every
    preference reads exactly one)."""
    return not (
        problem.constraints
        or problem.cost_factors
        or problem.resources
        or any(len(factor.scope) != 1 for factor in problem.score_factors)
    )


#: Solutions a stream yields between two looks at its deadline.
_DEADLINE_STEP = 1024


class _Parts(NamedTuple):
    """What an :class:`IndependentQuery` is made of: the problem before the choices, the
    allowed values after them, the score bound and scale of the keys, each value's key
    (shared by restricted copies), each slot's allowed values and their cheapest key."""

    base: Problem
    allowed: list[list[bool]]
    bound: int
    scale: int
    keys: list[list[int]]
    values: list[list[int]]
    cheapest: list[int | None]


class IndependentQuery:
    """The :class:`~._protocol.EngineQuery` of a :func:`separable` problem, in closed forms.
    Immutable once built."""

    def __init__(self, problem: Problem) -> None:
        bound = 0
        for factor in problem.score_factors:
            bound += max((abs(w) for w in factor.table.values()), default=0)
        scale = 2 * bound + 1  # as TreeQuery: unit cost first, then the highest score
        keys = [[cost * scale for cost in domain.cost] for domain in problem.domains]
        for factor in problem.score_factors:
            (var,) = factor.scope
            for (value,), weight in factor.table.items():
                keys[var][value] -= weight
        values = [problem.values(var) for var in range(problem.size)]
        cheapest = [
            min([keys[v][x] for x in allowed], default=None) for v, allowed in enumerate(values)
        ]
        self._fill(_Parts(problem, problem.allowed, bound, scale, keys, values, cheapest))

    @classmethod
    def _built(cls, parts: _Parts) -> IndependentQuery:
        """A query from its parts, without recomputing the keys."""
        query = cls.__new__(cls)
        cls._fill(query, parts)
        return query

    def _fill(self, parts: _Parts) -> None:
        base, allowed, bound, scale, keys, values, cheapest = parts
        self._base = base  # the problem before the choices
        self._allowed = allowed
        self._problem: Problem | None = None
        self.score_bound = bound
        self.scale = scale
        self._keys = keys  # per variable and value (shared by restricted copies)
        self._values = values
        self._cheapest = cheapest
        self._marginals: list[list[Marginal]] | None = None

    @property
    def problem(self) -> Problem:
        """The problem with the choices' restrictions (built when first asked)."""
        if self._problem is None:
            base = self._base
            self._problem = (
                base if self._allowed is base.allowed else replace(base, allowed=self._allowed)
            )
        return self._problem

    def restricted(self, var: int, values: frozenset[int]) -> IndependentQuery:
        """This query with ``var`` limited to ``values`` (a customer's choice)."""
        kept = [value for value in self._values[var] if value in values]
        row = [False] * len(self._allowed[var])
        for value in kept:
            row[value] = True
        allowed, slot_values, cheapest = (
            list(self._allowed),
            list(self._values),
            list(self._cheapest),
        )
        allowed[var], slot_values[var] = row, kept
        cheapest[var] = min([self._keys[var][value] for value in kept], default=None)
        keys = self._keys
        parts = _Parts(
            self._base, allowed, self.score_bound, self.scale, keys, slot_values, cheapest
        )
        return self._built(parts)

    def feasible(self) -> bool:
        return all(self._values)

    def count(self) -> int:
        return prod(len(values) for values in self._values)

    def best_key(self) -> int | None:
        if not self.feasible():
            return None
        return sum(key for key in self._cheapest if key is not None)

    def worst_key(self) -> int | None:
        if not self.feasible():
            return None
        keys = self._keys
        return sum(max(keys[var][x] for x in values) for var, values in enumerate(self._values))

    def cost_of(self, key: int) -> int:
        """The unit cost part of a key (keys are ``cost x scale - score``)."""
        return (key + self.score_bound) // self.scale

    def score_of(self, key: int) -> int:
        return self.cost_of(key) * self.scale - key

    def marginals(self, *, deadline: float | None = None) -> list[list[Marginal]]:
        """For every variable and value: completions and cheapest key (computed once, in
        closed form: ``deadline`` is not read)."""
        if self._marginals is None:
            self._marginals = self._compute_marginals()
        return self._marginals

    def _compute_marginals(self) -> list[list[Marginal]]:
        if not self.feasible():
            return [[(0, None)] * len(allowed) for allowed in self._allowed]
        cheapest: list[int] = self._cheapest  # type: ignore[assignment]  # feasible: all known
        total, best = prod(map(len, self._values)), sum(cheapest)
        result: list[list[Marginal]] = []
        # (plain zips: the rows have equal lengths by construction, and strict ones cost more)
        for keys, values, low in zip(self._keys, self._values, cheapest, strict=False):
            others, rest = total // len(values), best - low
            if len(values) == len(keys):  # every value allowed: pairs made in C
                spread = map(rest.__add__, keys)
                result.append(list(zip([others] * len(keys), spread, strict=False)))
            else:  # (a choice leaves few values)
                row: list[Marginal] = [(0, None)] * len(keys)
                for value in values:
                    row[value] = (others, rest + keys[value])
                result.append(row)
        return result

    def solutions(self, *, deadline: float | None = None) -> Iterator[list[int]]:
        for number, combination in enumerate(itertools.product(*self._values)):
            if deadline is not None and not number % _DEADLINE_STEP:
                _check(deadline)
            yield list(combination)

    def option_counts(self) -> list[list[int]]:
        """For every variable and value: its completions (its marginals' counts)."""
        return [[count for count, _ in row] for row in self.marginals()]

    def supports(
        self, options: Sequence[tuple[int, int]], *, deadline: float | None = None
    ) -> list[list[int]]:
        return restricted_supports(self, options, deadline)

    def blocks(self, size: int, *, allocate: Allocate | None = None) -> Iterator[Block]:
        return listed_blocks(self, size)

    def draws(self, weights: Weights) -> Draws:
        """Each slot's value drawn on its own, in proportion to its weight."""
        return Kept(_Independent(self._values, whole_weights(weights)))

    def solution_array(self) -> tuple[np.ndarray, np.ndarray]:
        """Every solution at once: value indexes (solutions x variables) and unit costs."""
        size = len(self._values)
        columns = np.meshgrid(*(np.asarray(v, dtype=np.int64) for v in self._values), indexing="ij")
        if not size:
            rows = np.zeros((1, 0), dtype=np.int64)
        else:
            rows = np.stack([column.ravel() for column in columns], axis=1)
        costs = np.zeros(len(rows), dtype=object if self._wide_costs() else np.int64)
        for var, domain in enumerate(self.problem.domains):
            costs += np.asarray(domain.cost, dtype=costs.dtype)[rows[:, var]]
        return rows, costs

    def _wide_costs(self) -> bool:
        """Whether unit costs may pass 64 bits (then they are Python integers)."""
        largest = sum(max(map(abs, domain.cost), default=0) for domain in self.problem.domains)
        return largest >= 1 << 62

    def by_key(
        self, *, deadline: float | None = None, preference_first: bool = False
    ) -> Iterator[tuple[int, list[int]]]:
        """Every solution once by non-decreasing key (``preference_first``: highest score
        first, then the lowest cost; the keys yielded are then of that order).

        A rank vector's parent lowers its first non-zero rank by one, so every vector has
        one parent and is pushed once (its children raise a rank at or before its first
        non-zero one); keys never fall from parent to child, so the heap yields them in
        order.
        """
        if not self.feasible():
            return
        keys = self._keys
        if preference_first:
            span = 1 + sum(
                max(domain.cost[x] for x in values) - min(domain.cost[x] for x in values)
                for domain, values in zip(self.problem.domains, self._values, strict=True)
            )
            keys = [[self.cost_of(k) - self.score_of(k) * span for k in row] for row in keys]
        ranked = [
            sorted((keys[var][x], x) for x in values) for var, values in enumerate(self._values)
        ]
        size = len(ranked)
        counter = itertools.count()
        heap = [(sum(r[0][0] for r in ranked), next(counter), (0,) * size, size)]
        popped = 0
        while heap:
            if deadline is not None and not popped % _DEADLINE_STEP:
                _check(deadline)
            popped += 1
            key, _, ranks, first = heapq.heappop(heap)
            yield key, [r[rank][1] for r, rank in zip(ranked, ranks, strict=False)]
            # first: the index of the first non-zero rank (size when every rank is zero)
            for p in range(min(first + 1, size)):
                rank = ranks[p] + 1
                if rank < len(ranked[p]):
                    step = ranked[p][rank][0] - ranked[p][rank - 1][0]
                    child = (*ranks[:p], rank, *ranks[p + 1 :])
                    heapq.heappush(heap, (key + step, next(counter), child, p))

    # -- within global sums and a budget ----------------------------------------------------

    def count_within(self, bounds: Bounds, *, time_limit: float | None = None) -> int:
        """The solutions whose sums hold and whose unit cost is within the bound."""
        if bounds.unbounded:
            return self.count()
        return sum(self.cost_distribution(bounds, time_limit=time_limit).values())

    def cost_distribution(
        self, bounds: Bounds, *, time_limit: float | None = None
    ) -> dict[int, int]:
        """Unit cost -> number of solutions whose sums hold (costs up to the bound)."""
        return distribution(self.problem, self._values, bounds, time_limit)

    def within(self, bounds: Bounds, *, time_limit: float | None = None) -> ClosedSums:
        """Counts, per-option counts and cheapest costs within the sums and the bound."""
        return ClosedSums(self, bounds, time_limit)

    def solutions_within(
        self, bounds: Bounds, *, time_limit: float | None = None
    ) -> Iterator[list[int]]:
        """The solutions within the sums and the bound, cheapest first."""
        deadline = deadline_after(time_limit)
        return (assignment for _, assignment in ranked_within(self, bounds, deadline=deadline))

    def by_key_within(
        self, bounds: Bounds, *, deadline: float | None = None
    ) -> Iterator[tuple[int, list[int]]]:
        """:meth:`by_key`, keeping the solutions within the sums and the bound."""
        return ranked_within(self, bounds, deadline=deadline)


def _check(deadline: float) -> None:
    if time.monotonic() > deadline:
        raise TimeLimitExceeded("the deadline passed")


class _Independent:
    """Draws of independent slots: per slot, one of its ``values`` in proportion to its
    weight (``weights[var][value]``, integers; None: all 1)."""

    def __init__(self, values: list[list[int]], weights: list[list[int]] | None) -> None:
        self._values = values
        self._weights = [
            [1] * len(row) if weights is None else [weights[var][v] for v in row]
            for var, row in enumerate(values)
        ]
        self.total = prod(sum(row) for row in self._weights)

    def draw(self, rng: random.Random) -> list[int] | None:
        if not self.total:
            return None
        chosen = []
        for row, weights in zip(self._values, self._weights, strict=True):
            point = rng.randrange(sum(weights))
            for value, weight in zip(row, weights, strict=True):
                if point < weight:
                    chosen.append(value)
                    break
                point -= weight
        return chosen

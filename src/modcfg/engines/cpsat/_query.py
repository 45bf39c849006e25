"""The CP-SAT engine behind the engine protocol: each question one or more CP-SAT searches.

:class:`CpSatQuery` implements :class:`~.._protocol.EngineQuery` for problems the
decomposition does not suit (global sums that need search). Feasibility and the cheapest or
dearest key are one optimisation each; ranked streams repeat the optimisation with a cut
after each solution. Everything else (counts, marginals, distributions, enumeration) is
answered by enumerating every solution, so those are bounded: past ``limit`` solutions or the
``deadline`` they raise :class:`~modcfg.LimitExceeded`. A model is built per question (ranked
searches add cuts to theirs).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING

import numpy as np

from ..._errors import ModcfgError
from ...lower._problem import Problem
from .._protocol import (
    Bounds,
    EnumeratedSums,
    Marginal,
    preference,
    restricted_supports,
    score_bound,
    unit_cost,
)
from .._walks import listed_blocks
from ._engine import CpSatEngine

if TYPE_CHECKING:
    from .._protocol import Allocate
    from .._walks import Block, Draws, Weights

__all__ = ["CpSatQuery"]

_UNBOUNDED = Bounds()


class CpSatQuery:
    """The :class:`~.._protocol.EngineQuery` of the CP-SAT engine for ``problem``.

    ``limit``: the most solutions an enumerating question may meet (None: no limit);
    ``deadline``: a :func:`time.monotonic` value every search stops at; ``progress(found)``
    is told every 1,000 solutions an enumeration finds.
    """

    def __init__(
        self,
        problem: Problem,
        *,
        limit: int | None = None,
        deadline: float | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> None:
        self.problem = problem
        self.score_bound = score_bound(problem)
        self.scale = 2 * self.score_bound + 1
        self.limit = limit
        self.deadline = deadline
        self.progress = progress

    def _engine(
        self, bounds: Bounds = _UNBOUNDED, *, preference_first: bool = False
    ) -> CpSatEngine:
        return CpSatEngine(
            self.problem,
            cost_bound=bounds.cost_bound,
            scale=self.scale,
            resources=bounds.resources,
            preference_first=preference_first,
        )

    def _time_left(
        self, time_limit: float | None = None, deadline: float | None = None
    ) -> float | None:
        """The seconds a search may take: ``time_limit``, cut to what is left before the
        query's deadline and ``deadline``."""
        ends = [end for end in (self.deadline, deadline) if end is not None]
        if not ends:
            return time_limit
        left = max(min(ends) - time.monotonic(), 0.0)
        return left if time_limit is None else min(left, time_limit)

    def _all(
        self,
        bounds: Bounds = _UNBOUNDED,
        *,
        time_limit: float | None = None,
        deadline: float | None = None,
    ) -> list[list[int]]:
        return self._engine(bounds).solutions(
            limit=self.limit,
            time_limit=self._time_left(time_limit, deadline),
            progress=self.progress,
        )

    def _key(self, assignment: Sequence[int]) -> int:
        problem = self.problem
        return unit_cost(problem, assignment) * self.scale - preference(problem, assignment)

    # -- the protocol -----------------------------------------------------------------------

    def cost_of(self, key: int) -> int:
        """The unit cost part of a key (keys are ``cost x scale - score``)."""
        return (key + self.score_bound) // self.scale

    def score_of(self, key: int) -> int:
        return self.cost_of(key) * self.scale - key

    def restricted(self, var: int, values: frozenset[int]) -> CpSatQuery:
        """This query with ``var`` limited to ``values`` (a customer's choice)."""
        return CpSatQuery(
            self.problem.narrowed(var, values),
            limit=self.limit,
            deadline=self.deadline,
            progress=self.progress,
        )

    def feasible(self) -> bool:
        return self._engine().feasible(time_limit=self._time_left())

    def count(self) -> int:
        return len(self._all())

    def best_key(self) -> int | None:
        return self._engine().optimum(time_limit=self._time_left())

    def worst_key(self) -> int | None:
        return self._engine().optimum(time_limit=self._time_left(), largest=True)

    def marginals(self, *, deadline: float | None = None) -> list[list[Marginal]]:
        # (the search's own deadline bounds the enumeration)
        counts = [[0] * len(domain.choices) for domain in self.problem.domains]
        best: list[list[int | None]] = [[None] * len(row) for row in counts]
        for assignment in self._all():
            key = self._key(assignment)
            for var, value in enumerate(assignment):
                counts[var][value] += 1
                known = best[var][value]
                if known is None or key < known:
                    best[var][value] = key
        return [list(zip(c, b, strict=True)) for c, b in zip(counts, best, strict=True)]

    def solutions(self, *, deadline: float | None = None) -> Iterator[list[int]]:
        return iter(self._all(deadline=deadline))

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
        raise ModcfgError(
            "the CP-SAT engine searches and does not draw random configurations; sample with "
            "the decomposition engine (the default)"
        )

    def solution_array(self) -> tuple[np.ndarray, np.ndarray]:
        found = self._all()
        rows = np.asarray(found, dtype=np.int64).reshape(len(found), self.problem.size)
        costs = np.asarray([unit_cost(self.problem, a) for a in found], dtype=object)
        return rows, costs

    def by_key(
        self, *, deadline: float | None = None, preference_first: bool = False
    ) -> Iterator[tuple[int, list[int]]]:
        engine = self._engine(preference_first=preference_first)
        return engine.by_key(time_limit=self._time_left(deadline=deadline))

    def count_within(self, bounds: Bounds, *, time_limit: float | None = None) -> int:
        return len(self._all(bounds, time_limit=time_limit))

    def cost_distribution(
        self, bounds: Bounds, *, time_limit: float | None = None
    ) -> dict[int, int]:
        found: dict[int, int] = {}
        for assignment in self._all(bounds, time_limit=time_limit):
            cost = unit_cost(self.problem, assignment)
            found[cost] = found.get(cost, 0) + 1
        return found

    def within(self, bounds: Bounds, *, time_limit: float | None = None) -> EnumeratedSums:
        found = self._all(bounds, time_limit=time_limit)
        return EnumeratedSums(found, [unit_cost(self.problem, a) for a in found])

    def solutions_within(
        self, bounds: Bounds, *, time_limit: float | None = None
    ) -> Iterator[list[int]]:
        return iter(self._all(bounds, time_limit=time_limit))

    def by_key_within(
        self, bounds: Bounds, *, deadline: float | None = None
    ) -> Iterator[tuple[int, list[int]]]:
        engine = self._engine(bounds)
        return engine.by_key(time_limit=self._time_left(deadline=deadline))

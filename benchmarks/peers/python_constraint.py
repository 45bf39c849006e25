"""Peer 3: python-constraint, one variable per slot over its choices.

Each tabulated rule becomes a function constraint over its scope (a set lookup); the budget is
a function constraint over every slot. Solutions stream from ``getSolutionIter``: counting and
the top k walk them all, the interactive step tallies them under the picks.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal

import constraint

from modcfg import Catalog, Needs

from ._base import Peer, StepAnswer
from ._problem import Query

__all__ = ["PythonConstraint"]


def _member(allowed: frozenset[tuple[int, ...]]) -> constraint.FunctionConstraint:
    return constraint.FunctionConstraint(lambda *values: values in allowed)


class PythonConstraint(Peer):
    name = "python-constraint"

    def __init__(self, catalog: Catalog, *, time_limit: float = 10.0) -> None:
        super().__init__(catalog, time_limit=time_limit)
        problem = self.problem
        self.names = [f"v{number}" for number in range(len(problem.variables))]
        self.constraints = [
            (_member(table.allowed), [self.names[v] for v in table.scope])
            for table in problem.tables
        ]

    def _solutions(self, query: Query) -> Iterator[tuple[int, ...]]:
        solver = constraint.Problem()
        for name, domain in zip(self.names, query.domains, strict=True):
            solver.addVariable(name, list(domain))
        for check, scope in self.constraints:
            solver.addConstraint(check, scope)
        if query.max_price is not None:
            price, limit = self.problem.price, query.max_price
            solver.addConstraint(
                constraint.FunctionConstraint(lambda *values: price(values) <= limit), self.names
            )
        deadline = self.deadline()
        names = self.names
        for number, solution in enumerate(solver.getSolutionIter()):
            if number % 4096 == 0:
                self.check(deadline)
            yield tuple(solution[name] for name in names)

    def count(self, needs: Needs | None = None) -> int:
        return sum(1 for _ in self._solutions(self.query(needs)))

    def configurations(self, needs: Needs | None = None) -> Sequence[object]:
        return list(self._solutions(self.query(needs)))

    def cheapest(self, needs: Needs | None, k: int) -> list[Decimal]:
        price = self.problem.price
        units = heapq.nsmallest(k, (price(s) for s in self._solutions(self.query(needs))))
        return self.totals(needs, units)

    def step(self, needs: Needs | None, picks: Mapping[str, str]) -> StepAnswer:
        tally: dict[tuple[int, int], int] = {}
        for solution in self._solutions(self.query(needs, picks)):
            for variable, value in enumerate(solution):
                tally[variable, value] = tally.get((variable, value), 0) + 1
        counts = self.problem.options((v, j, n) for (v, j), n in tally.items())
        return StepAnswer.from_counts(counts)

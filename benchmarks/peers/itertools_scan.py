"""Peer 1: ``itertools.product`` over the slots' choices, filtered by the tabulated rules.

Every job is a full scan, as a script written in an afternoon would do it.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal

from modcfg import Catalog, Needs

from ._base import Peer, StepAnswer
from ._errors import TooLarge
from ._problem import Query

__all__ = ["ItertoolsScan"]

#: The largest product of domain sizes a scan is attempted on.
MAX_SCAN = 100_000_000


class ItertoolsScan(Peer):
    name = "itertools"

    def __init__(self, catalog: Catalog, *, time_limit: float = 10.0) -> None:
        super().__init__(catalog, time_limit=time_limit)
        problem = self.problem
        self.checks = [(table.scope, table.allowed) for table in problem.tables]

    def _scan(self, query: Query) -> Iterator[tuple[int, ...]]:
        if query.space() > MAX_SCAN:
            raise TooLarge(f"a full scan walks {query.space():.1e} tuples")
        checks, price, limit = self.checks, self.problem.price, query.max_price
        deadline = self.deadline()
        for number, candidate in enumerate(itertools.product(*query.domains)):
            if number % 65536 == 0:
                self.check(deadline)
            if all(tuple(candidate[v] for v in scope) in allowed for scope, allowed in checks) and (
                limit is None or price(candidate) <= limit
            ):
                yield candidate

    def count(self, needs: Needs | None = None) -> int:
        return sum(1 for _ in self._scan(self.query(needs)))

    def configurations(self, needs: Needs | None = None) -> Sequence[object]:
        return list(self._scan(self.query(needs)))

    def cheapest(self, needs: Needs | None, k: int) -> list[Decimal]:
        price = self.problem.price
        units = heapq.nsmallest(k, (price(c) for c in self._scan(self.query(needs))))
        return self.totals(needs, units)

    def step(self, needs: Needs | None, picks: Mapping[str, str]) -> StepAnswer:
        tally: dict[tuple[int, int], int] = {}
        for candidate in self._scan(self.query(needs, picks)):
            for variable, value in enumerate(candidate):
                tally[variable, value] = tally.get((variable, value), 0) + 1
        counts = self.problem.options((v, value, n) for (v, value), n in tally.items())
        return StepAnswer.from_counts(counts)

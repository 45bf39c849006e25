"""Peer 7: Ganak (``pyganak``), an exact model counter, on the catalog as CNF.

One Boolean per value of each slot with a pairwise exactly-one per slot (no auxiliary
variables, so the formula's models are the configurations one to one); requires/excludes are
clauses, other rules one clause per forbidden row, as for the pysat peer. A count with needs
adds their restrictions as unit clauses. Ganak answers counts only (a counter instance counts
once: each call builds a new one).
"""

from __future__ import annotations

from itertools import combinations

from pyganak import Counter

from modcfg import Catalog, Needs

from ._base import Peer

__all__ = ["Ganak"]


class Ganak(Peer):
    name = "ganak"

    def __init__(self, catalog: Catalog, *, time_limit: float = 10.0) -> None:
        super().__init__(catalog, time_limit=time_limit)
        problem = self.problem
        self.literals: list[list[int]] = []
        clauses: list[list[int]] = []
        for variable in problem.variables:
            first = sum(len(lits) for lits in self.literals) + 1
            lits = list(range(first, first + len(variable.values)))
            self.literals.append(lits)
            clauses.append(lits)
            clauses.extend([-a, -b] for a, b in combinations(lits, 2))
        for table in problem.tables:
            if table.clause is not None:
                clauses.append(
                    [self.literals[v][j] * (1 if pos else -1) for v, j, pos in table.clause]
                )
            else:
                clauses.extend(
                    [-self.literals[v][j] for v, j in zip(table.scope, row, strict=True)]
                    for row in sorted(table.forbidden)
                )
        self.clauses = clauses

    def count(self, needs: Needs | None = None) -> int:
        query = self.query(needs)
        counter = Counter()
        counter.new_vars(sum(len(lits) for lits in self.literals))
        counter.add_clauses(self.clauses)
        for lits, domain in zip(self.literals, query.domains, strict=True):
            for j, literal in enumerate(lits):
                if j not in domain:
                    counter.add_clause([-literal])
        return int(counter.count())

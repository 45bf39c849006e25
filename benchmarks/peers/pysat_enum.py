"""Peer 5: python-sat, one Boolean per module, enumeration with blocking clauses.

Each slot gets an exactly-one constraint (``CardEnc.equals``, pairwise) over its choices;
requires/excludes are clauses, other rules one clause per forbidden row. Counting is
enumeration: after each model a clause blocks its choices. The interactive step is one solve per
option not yet seen in a model, under assumptions (possible or not only). No budget: pure SAT
has no prices (the ``pysat.pb`` encodings need an extra package).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

from pysat.card import CardEnc, EncType
from pysat.formula import CNF, IDPool
from pysat.solvers import Solver

from modcfg import Catalog, Needs

from ._base import Peer, StepAnswer
from ._errors import Unsupported
from ._problem import Query

__all__ = ["PySat"]

SOLVER = "glucose4"


class PySat(Peer):
    name = "pysat"

    def __init__(self, catalog: Catalog, *, time_limit: float = 10.0) -> None:
        super().__init__(catalog, time_limit=time_limit)
        problem = self.problem
        pool = IDPool()
        self.literals = [
            [pool.id((number, j)) for j in range(len(variable.values))]
            for number, variable in enumerate(problem.variables)
        ]
        cnf = CNF()
        for lits in self.literals:
            cnf.extend(CardEnc.equals(lits, bound=1, vpool=pool, encoding=EncType.pairwise).clauses)
        for table in problem.tables:
            if table.clause is not None:
                cnf.append([self.literals[v][j] * (1 if pos else -1) for v, j, pos in table.clause])
            else:
                for row in sorted(table.forbidden):
                    cnf.append(
                        [-self.literals[v][j] for v, j in zip(table.scope, row, strict=True)]
                    )
        self.cnf = cnf
        self.owner = {
            lit: (v, j) for v, lits in enumerate(self.literals) for j, lit in enumerate(lits)
        }

    def _solver(self, query: Query) -> Solver:
        if query.max_price is not None:
            raise Unsupported("a budget (pure SAT has no prices)")
        solver = Solver(name=SOLVER, bootstrap_with=self.cnf.clauses)
        for lits, domain in zip(self.literals, query.domains, strict=True):
            for j, literal in enumerate(lits):
                if j not in domain:
                    solver.add_clause([-literal])
        return solver

    def _decode(self, model: list[int]) -> tuple[int, ...]:
        chosen = dict(self.owner[lit] for lit in model if lit > 0 and lit in self.owner)
        return tuple(chosen[v] for v in range(len(self.literals)))

    def _models(self, query: Query) -> Iterator[tuple[int, ...]]:
        deadline = self.deadline()
        with self._solver(query) as solver:
            while solver.solve():
                self.check(deadline)
                found = self._decode(solver.get_model())
                yield found
                solver.add_clause([-self.literals[v][j] for v, j in enumerate(found)])

    def count(self, needs: Needs | None = None) -> int:
        return sum(1 for _ in self._models(self.query(needs)))

    def configurations(self, needs: Needs | None = None) -> Sequence[object]:
        return list(self._models(self.query(needs)))

    def step(self, needs: Needs | None, picks: Mapping[str, str]) -> StepAnswer:
        query = self.query(needs, picks)
        deadline = self.deadline()
        seen: set[tuple[int, int]] = set()
        with self._solver(query) as solver:
            for variable, domain in enumerate(query.domains):
                for value in domain:
                    if (variable, value) in seen:
                        continue
                    self.check(deadline)
                    if solver.solve(assumptions=[self.literals[variable][value]]):
                        seen.update(enumerate(self._decode(solver.get_model())))
        return StepAnswer(frozenset(self.problem.options((v, j, 1) for v, j in seen)))

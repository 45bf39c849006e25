"""Peer 4: a BDD with CUDD (``dd.cudd``), one Boolean per module.

Variables are declared slot by slot (the catalog order keeps related slots close). Each slot
contributes an exactly-one constraint over its choices, each tabulated rule the disjunction of
its allowed rows (or the negation of its forbidden rows, whichever is shorter). ``count`` is
CUDD's minterm count, a double: exact only up to 2**53. Enumeration is ``pick_iter``; the
interactive step counts every option's completions under the picks in one pass over the BDD's
nodes (Python ints), rather than one ``count(root & x)`` per option, which builds and walks a
new BDD each time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import reduce

from dd import cudd

from modcfg import Catalog, Needs

from ._base import Peer, StepAnswer
from ._errors import Unsupported
from ._problem import Query, Table

__all__ = ["Bdd"]


class Bdd(Peer):
    name = "dd-cudd"
    exact = False

    def __init__(self, catalog: Catalog, *, time_limit: float = 10.0) -> None:
        super().__init__(catalog, time_limit=time_limit)
        problem = self.problem
        bdd = cudd.BDD()
        self.names = [
            [f"x{number}_{j}" for j in range(len(variable.values))]
            for number, variable in enumerate(problem.variables)
        ]
        bdd.declare(*(name for names in self.names for name in names))
        self.bdd = bdd
        self.literals = [[bdd.var(name) for name in names] for names in self.names]
        deadline = self.deadline()
        root = bdd.true
        for number in range(len(problem.variables)):
            root &= self._one_of(self.literals[number])
            for table in problem.tables:
                if table.scope and table.scope[-1] == number:
                    root &= self._table(table)
            self.check(deadline)
        self.root = root
        bdd.configure(reordering=False)  # the order found while building serves the queries
        self.count_vars = sum(len(names) for names in self.names)

    def _one_of(self, literals: list[cudd.Function]) -> cudd.Function:
        bdd = self.bdd
        result = bdd.false
        for chosen, literal in enumerate(literals):
            others = [~other for j, other in enumerate(literals) if j != chosen]
            result |= reduce(lambda a, b: a & b, others, literal)
        return result

    def _row(self, scope: tuple[int, ...], row: tuple[int, ...]) -> cudd.Function:
        return reduce(
            lambda a, b: a & b,
            (self.literals[v][j] for v, j in zip(scope, row, strict=True)),
            self.bdd.true,
        )

    def _table(self, table: Table) -> cudd.Function:
        bdd, scope = self.bdd, table.scope
        if len(table.allowed) <= table.forbidden_size:
            rows = table.allowed
            return reduce(lambda a, b: a | b, (self._row(scope, r) for r in rows), bdd.false)
        rows = table.forbidden
        return ~reduce(lambda a, b: a | b, (self._row(scope, r) for r in rows), bdd.false)

    def _restrict(self, query: Query) -> cudd.Function:
        if query.max_price is not None:
            raise Unsupported("a budget (a BDD has no arithmetic)")
        root = self.root
        for literals, domain in zip(self.literals, query.domains, strict=True):
            if len(domain) < len(literals):
                root &= reduce(lambda a, b: a | b, (literals[j] for j in domain), self.bdd.false)
        return root

    def count(self, needs: Needs | None = None) -> int:
        return int(self.bdd.count(self._restrict(self.query(needs)), nvars=self.count_vars))

    def configurations(self, needs: Needs | None = None) -> Sequence[object]:
        care = [name for names in self.names for name in names]
        return list(self.bdd.pick_iter(self._restrict(self.query(needs)), care_vars=care))

    def assignments(self, found: Sequence[object]) -> list[tuple[int, ...]]:
        result = []
        for model in found:
            if not isinstance(model, Mapping):
                raise TypeError(f"pick_iter yields dicts, not {type(model).__name__}")
            result.append(
                tuple(
                    next(j for j, name in enumerate(names) if model[name]) for names in self.names
                )
            )
        return result

    def step(self, needs: Needs | None, picks: Mapping[str, str]) -> StepAnswer:
        root = self._restrict(self.query(needs, picks))
        by_level = self._marginals(root)
        level_of = self.bdd.level_of_var
        counts = self.problem.options(
            (number, j, by_level[level_of(name)])
            for number, names in enumerate(self.names)
            for j, name in enumerate(names)
        )
        return StepAnswer.from_counts(counts)

    def _marginals(self, root: cudd.Function) -> list[int]:
        """For every level, the number of models with that variable true, in one pass down
        and one up over the BDD's nodes (exact Python ints; CUDD's complement edges resolved).
        """
        bdd, size = self.bdd, self.count_vars
        levels: dict[cudd.Function, int] = {bdd.true: size, bdd.false: size}
        children: dict[cudd.Function, tuple[cudd.Function, cudd.Function]] = {}
        stack = [root]
        while stack:
            node = stack.pop()
            if node in levels:
                continue
            levels[node] = int(node.level)
            low, high = node.low, node.high
            children[node] = (~low, ~high) if node.negated else (low, high)
            stack.extend(children[node])
        nodes = sorted(children, key=levels.__getitem__)
        models: dict[cudd.Function, int] = {bdd.true: 1, bdd.false: 0}
        for node in reversed(nodes):
            here = levels[node] + 1
            low, high = children[node]
            models[node] = (models[low] << (levels[low] - here)) + (
                models[high] << (levels[high] - here)
            )
        true_at = [0] * (size + 1)
        skipped = [0] * (size + 1)  # difference array: half the models of a skipping edge

        def skip(first: int, last: int, weight: int) -> None:
            if first <= last and weight:
                skipped[first] += weight >> 1
                skipped[last + 1] -= weight >> 1

        skip(0, levels[root] - 1, models[root] << levels[root])
        paths: dict[cudd.Function, int] = {root: 1 << levels[root]}
        for node in nodes:
            above, here = paths.get(node, 0), levels[node]
            for bit, child in enumerate(children[node]):
                gap = levels[child] - here - 1
                through = (above * models[child]) << gap
                if bit:
                    true_at[here] += through
                skip(here + 1, levels[child] - 1, through)
                if child in children:
                    paths[child] = paths.get(child, 0) + (above << gap)
        running = 0
        for position in range(size):
            running += skipped[position]
            true_at[position] += running
        return true_at[:size]

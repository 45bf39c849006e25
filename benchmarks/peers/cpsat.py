"""Peer 2: raw OR-Tools CP-SAT, one Boolean per module.

Each slot gets one Boolean per choice and an exactly-one constraint (the empty choice of an
optional slot is its own Boolean, so the modules are at most one). requires/excludes become
clauses; other rules go in as ``AddAllowedAssignments`` or ``AddForbiddenAssignments`` (the
shorter list) over an integer index per slot; conditional price rules become reified
conjunctions in a linear price. Enumeration and counting use ``enumerate_all_solutions``; the
top k are k optimisations with a no-good cut after each; an interactive step enumerates when the
completions are few and otherwise solves once per option still unseen (possible or not only).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from decimal import Decimal

from ortools.sat.python import cp_model

from modcfg import Catalog, Needs

from ._base import Peer, StepAnswer
from ._errors import PeerTimeout
from ._problem import Query

__all__ = ["CpSat"]

#: Completions enumerated for an interactive step before falling back to one solve per option.
STEP_ENUMERATION = 1_000


class _Collector(cp_model.CpSolverSolutionCallback):
    """Counts solutions and, when asked, records each as value indices."""

    def __init__(
        self, literals: list[list[cp_model.IntVar]], *, keep: bool, limit: int | None
    ) -> None:
        super().__init__()
        self.literals = literals
        self.keep = keep
        self.limit = limit
        self.found = 0
        self.solutions: list[tuple[int, ...]] = []

    def on_solution_callback(self) -> None:
        self.found += 1
        if self.keep:
            self.solutions.append(
                tuple(
                    next(j for j, literal in enumerate(lits) if self.boolean_value(literal))
                    for lits in self.literals
                )
            )
        if self.limit is not None and self.found >= self.limit:
            self.stop_search()


class CpSat(Peer):
    name = "cp-sat"

    def __init__(self, catalog: Catalog, *, time_limit: float = 10.0) -> None:
        super().__init__(catalog, time_limit=time_limit)
        problem = self.problem
        model = cp_model.CpModel()
        literals = [
            [model.new_bool_var(f"{variable.slot}#{j}") for j in range(len(variable.values))]
            for variable in problem.variables
        ]
        for lits in literals:
            model.add_exactly_one(lits)
        indices: dict[int, cp_model.IntVar] = {}

        def index(number: int) -> cp_model.IntVar:
            if number not in indices:
                lits = literals[number]
                indices[number] = model.new_int_var(0, len(lits) - 1, f"i{number}")
                model.add(indices[number] == sum(j * literal for j, literal in enumerate(lits)))
            return indices[number]

        for table in problem.tables:
            if table.clause is not None:
                model.add_bool_or(
                    [
                        literals[v][j] if positive else ~literals[v][j]
                        for v, j, positive in table.clause
                    ]
                )
            elif not table.forbidden_size:
                continue
            elif table.forbidden_size <= len(table.allowed):
                model.add_forbidden_assignments(
                    [index(v) for v in table.scope], sorted(table.forbidden)
                )
            else:
                model.add_allowed_assignments(
                    [index(v) for v in table.scope], sorted(table.allowed)
                )
        terms: list[tuple[cp_model.IntVar, int]] = [
            (literal, price)
            for lits, variable in zip(literals, problem.variables, strict=True)
            for literal, price in zip(lits, variable.prices, strict=True)
            if price
        ]
        for cost in problem.costs:
            for row, amount in cost.amounts.items():
                row_literals = [literals[v][j] for v, j in zip(cost.scope, row, strict=True)]
                holds = model.new_bool_var(f"{cost.rule}{row}")
                for literal in row_literals:
                    model.add_implication(holds, literal)
                model.add_bool_or([~literal for literal in row_literals] + [holds])
                terms.append((holds, amount))
        self.model = model
        self.literals = literals
        self.terms = terms

    # -- helpers -------------------------------------------------------------------------------

    def _restricted(self, query: Query) -> tuple[cp_model.CpModel, list[list[cp_model.IntVar]]]:
        model = self.model.clone()
        literals = [
            [model.get_bool_var_from_proto_index(literal.index) for literal in lits]
            for lits in self.literals
        ]
        for lits, domain in zip(literals, query.domains, strict=True):
            if len(domain) < len(lits):
                for j, literal in enumerate(lits):
                    if j not in domain:
                        model.add(literal == 0)
        if query.max_price is not None:
            model.add(self._price(model) <= query.max_price - self.problem.constant)
        return model, literals

    def _price(self, model: cp_model.CpModel) -> cp_model.LinearExprT:
        variables = [model.get_bool_var_from_proto_index(v.index) for v, _ in self.terms]
        return cp_model.LinearExpr.weighted_sum(variables, [price for _, price in self.terms])

    def _solver(self, deadline: float) -> cp_model.CpSolver:
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            raise PeerTimeout
        solver = cp_model.CpSolver()
        solver.parameters.max_time_in_seconds = remaining
        return solver

    def _enumerate(
        self, query: Query, *, keep: bool, limit: int | None = None
    ) -> tuple[_Collector, bool]:
        """Enumerate the solutions; the flag says whether the enumeration is complete."""
        deadline = self.deadline()
        model, literals = self._restricted(query)
        solver = self._solver(deadline)
        solver.parameters.enumerate_all_solutions = True
        collector = _Collector(literals, keep=keep, limit=limit)
        status = solver.solve(model, collector)
        if status in (cp_model.OPTIMAL, cp_model.INFEASIBLE):
            return collector, True
        if limit is not None and collector.found >= limit:
            return collector, False
        raise PeerTimeout

    # -- jobs ----------------------------------------------------------------------------------

    def count(self, needs: Needs | None = None) -> int:
        return self._enumerate(self.query(needs), keep=False)[0].found

    def configurations(self, needs: Needs | None = None) -> Sequence[object]:
        return self._enumerate(self.query(needs), keep=True)[0].solutions

    def cheapest(self, needs: Needs | None, k: int) -> list[Decimal]:
        deadline = self.deadline()
        model, literals = self._restricted(self.query(needs))
        model.minimize(self._price(model))
        units: list[int] = []
        while len(units) < k:
            solver = self._solver(deadline)
            status = solver.solve(model)
            if status == cp_model.INFEASIBLE:
                break
            if status != cp_model.OPTIMAL:
                raise PeerTimeout
            units.append(round(solver.objective_value) + self.problem.constant)
            chosen = [next(lit for lit in lits if solver.boolean_value(lit)) for lits in literals]
            model.add_bool_or([~literal for literal in chosen])
        return self.totals(needs, units)

    def step(self, needs: Needs | None, picks: Mapping[str, str]) -> StepAnswer:
        query = self.query(needs, picks)
        collector, complete = self._enumerate(query, keep=True, limit=STEP_ENUMERATION)
        problem = self.problem
        if complete:
            tally: dict[tuple[int, int], int] = {}
            for solution in collector.solutions:
                for variable, value in enumerate(solution):
                    tally[variable, value] = tally.get((variable, value), 0) + 1
            return StepAnswer.from_counts(problem.options((v, j, n) for (v, j), n in tally.items()))
        seen = {(v, j) for solution in collector.solutions for v, j in enumerate(solution)}
        deadline = self.deadline()
        model, literals = self._restricted(query)
        for variable, domain in enumerate(query.domains):
            for value in domain:
                if (variable, value) in seen:
                    continue
                solver = self._solver(deadline)
                solver.parameters.num_workers = 1  # many small solves: no portfolio, no presolve
                solver.parameters.cp_model_presolve = False
                model.clear_assumptions()
                model.add_assumptions([literals[variable][value]])
                status = solver.solve(model)
                if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
                    seen.update(
                        (v, next(j for j, lit in enumerate(lits) if solver.boolean_value(lit)))
                        for v, lits in enumerate(literals)
                    )
                elif status != cp_model.INFEASIBLE:
                    raise PeerTimeout
        possible = problem.options((v, j, 1) for v, j in seen)
        return StepAnswer(frozenset(possible))

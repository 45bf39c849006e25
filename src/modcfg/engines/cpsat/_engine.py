"""The CP-SAT engine (OR-Tools): for global numeric constraints and dense rule sets.

One integer variable per slot (its value index) channelled to one Boolean per value; rules as
allowed-assignment tables; prices, preferences and resources as linear sums over the
Booleans. Counting and enumeration use CP-SAT's solution enumeration, ordered queries repeated
optimisation with a no-good cut after each solution.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator, Sequence

from ortools.sat.python import cp_model

from ..._arguments import deadline_after
from ..._errors import LimitExceeded, TimeLimitExceeded
from ...lower._problem import Factor, Problem, Resource

__all__ = ["CpSatEngine", "add_comparison"]


class CpSatEngine:
    """A CP-SAT model of one :class:`Problem` with the global sums ``resources`` (None: the
    problem's own); ``cost_bound`` caps the unit cost. The key it ranks by is ``unit cost x
    scale - score``, or with ``preference_first`` ``unit cost - score x span`` (``span``
    above any difference of two solutions' unit costs)."""

    def __init__(
        self,
        problem: Problem,
        *,
        cost_bound: int | None,
        scale: int,
        resources: Sequence[Resource] | None = None,
        preference_first: bool = False,
    ) -> None:
        self.problem = problem
        self.scale = scale
        model = cp_model.CpModel()
        self.model = model
        self.x: list[cp_model.IntVar] = []
        self.b: list[dict[int, cp_model.IntVar]] = []
        feasible = True
        for var, domain in enumerate(problem.domains):
            values = problem.values(var)
            if not values:
                feasible = False
                values = [0]
            x = model.new_int_var_from_domain(cp_model.Domain.from_values(values), domain.slot)
            bools = {value: model.new_bool_var(f"{domain.slot}={value}") for value in values}
            model.add_exactly_one(bools.values())
            model.add(x == sum(value * flag for value, flag in bools.items()))
            self.x.append(x)
            self.b.append(bools)
        if not feasible:
            model.add_bool_or([])
        for constraint in problem.constraints:
            if not constraint.scope:
                if () not in constraint.allowed:
                    model.add_bool_or([])
                continue
            if constraint.linear is not None:
                resource = constraint.linear
                total = cp_model.LinearExpr.weighted_sum(
                    [self.b[v][value] for v in constraint.scope for value in self.b[v]],
                    [resource.weights[v][value] for v in constraint.scope for value in self.b[v]],
                )
                add_comparison(model, total, resource.op, resource.bound)
                continue
            if constraint.clause is not None:
                literals = zip(constraint.scope, constraint.clause, strict=True)
                model.add_bool_or(
                    [
                        flag
                        for v, mask in literals
                        for value, flag in self.b[v].items()
                        if mask[value]
                    ]
                )
                continue
            model.add_allowed_assignments(
                [self.x[v] for v in constraint.scope], sorted(constraint.allowed)
            )
        flags = [
            (var, value, flag) for var in range(problem.size) for value, flag in self.b[var].items()
        ]
        cost_terms: list[cp_model.LinearExprT] = [
            problem.domains[var].cost[value] * flag for var, value, flag in flags
        ]
        cost_terms += [self._factor_sum(f) for f in problem.cost_factors]
        cost = cp_model.LinearExpr.sum(cost_terms)
        score = cp_model.LinearExpr.sum([self._factor_sum(f) for f in problem.score_factors])
        for resource in problem.resources if resources is None else resources:
            total = cp_model.LinearExpr.weighted_sum(
                [flag for _, _, flag in flags],
                [resource.weights[var][value] for var, value, _ in flags],
            )
            add_comparison(model, total, resource.op, resource.bound)
        if cost_bound is not None:
            model.add(cost <= cost_bound)
        self.cost, self.score = cost, score  # (a caller may optimise another blend of both)
        if preference_first:
            self.key = cost - score * _cost_span(problem)
        else:
            self.key = cost * scale - score

    def _factor_sum(self, factor: Factor) -> cp_model.LinearExpr:
        terms: list[cp_model.LinearExprT] = []
        for combo, amount in factor.table.items():
            flags = [self.b[var].get(value) for var, value in zip(factor.scope, combo, strict=True)]
            if any(flag is None for flag in flags) or not amount:
                continue
            match = self.model.new_bool_var(f"{factor.source}:{combo}")
            literals = [flag for flag in flags if flag is not None]
            self.model.add_bool_and(literals).only_enforce_if(match)
            self.model.add_bool_or([flag.Not() for flag in literals]).only_enforce_if(match.Not())
            terms.append(amount * match)
        return cp_model.LinearExpr.sum(terms)

    def new_solver(self, time_limit: float | None) -> cp_model.CpSolver:
        """A single-worker solver for this model, stopping after ``time_limit`` seconds."""
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = 1
        # OR-Tools 9.15's presolve drops solutions under enumeration and has reported
        # feasible models infeasible; these models are small, so search them as written.
        solver.parameters.cp_model_presolve = False
        if time_limit is not None:
            solver.parameters.max_time_in_seconds = max(time_limit, 0.001)
        return solver

    def solutions(
        self,
        *,
        limit: int | None,
        time_limit: float | None,
        progress: Callable[[int], None] | None = None,
    ) -> list[list[int]]:
        """Every solution (as value indexes), by CP-SAT enumeration; raises past ``limit``."""
        solver = self.new_solver(time_limit)
        solver.parameters.enumerate_all_solutions = True
        found: list[list[int]] = []
        x = self.x

        class _Collect(cp_model.CpSolverSolutionCallback):
            def on_solution_callback(self) -> None:
                found.append([self.value(var) for var in x])
                if progress is not None and len(found) % 1000 == 0:
                    progress(len(found))
                if limit is not None and len(found) > limit:
                    self.stop_search()

        status = solver.solve(self.model, _Collect())
        if limit is not None and len(found) > limit:
            raise LimitExceeded(
                f"the CP-SAT engine found more than {limit} configurations; raise limit= or "
                "use the decomposition engine to count"
            )
        if status in (cp_model.FEASIBLE, cp_model.UNKNOWN):
            raise TimeLimitExceeded(
                f"the CP-SAT engine did not finish within time_limit={time_limit} s (it had "
                f"found {len(found)} configurations); raise time_limit=, or count with the "
                "decomposition engine"
            )
        return found

    def feasible(self, *, time_limit: float | None) -> bool:
        """Whether the model has a solution (one search)."""
        status = self.new_solver(time_limit).solve(self.model)
        if status == cp_model.UNKNOWN:
            raise TimeLimitExceeded(
                f"the CP-SAT engine did not decide within time_limit={time_limit} s whether a "
                "configuration exists; raise time_limit="
            )
        return status in (cp_model.OPTIMAL, cp_model.FEASIBLE)

    def optimum(self, *, time_limit: float | None, largest: bool = False) -> int | None:
        """The smallest (``largest``: the largest) key of a solution; None when none exists.
        The model keeps that objective."""
        if largest:
            self.model.maximize(self.key)
        else:
            self.model.minimize(self.key)
        solver = self.new_solver(time_limit)
        status = solver.solve(self.model)
        if status == cp_model.INFEASIBLE:
            return None
        if status != cp_model.OPTIMAL:
            raise TimeLimitExceeded(
                f"the CP-SAT engine did not prove the optimum within time_limit={time_limit} s; "
                "raise time_limit="
            )
        return int(solver.value(self.key))  # (exact: the objective value is a float)

    def by_key(self, *, time_limit: float | None) -> Iterator[tuple[int, list[int]]]:
        """Solutions in non-decreasing key order: optimise, cut the solution off, repeat."""
        deadline = deadline_after(time_limit)
        model = self.model
        model.minimize(self.key)
        for found in itertools.count():
            remaining = None if deadline is None else deadline - time.monotonic()
            status = cp_model.UNKNOWN
            if remaining is None or remaining > 0:
                solver = self.new_solver(remaining)  # each solve stops at the deadline
                status = solver.solve(model)
            if status == cp_model.INFEASIBLE:
                return
            if status != cp_model.OPTIMAL:
                raise TimeLimitExceeded(
                    f"the ordered search passed time_limit={time_limit} s after {found} "
                    "configurations; raise time_limit="
                )
            assignment = [solver.value(var) for var in self.x]
            yield int(solver.value(self.key)), assignment
            model.add_bool_or([self.b[var][value].Not() for var, value in enumerate(assignment)])


def _cost_span(problem: Problem) -> int:
    """Above any difference of two solutions' unit costs."""
    span = 1 + sum(max(domain.cost) - min(domain.cost) for domain in problem.domains if domain.cost)
    for factor in problem.cost_factors:
        amounts = [*factor.table.values(), 0]
        span += max(amounts) - min(amounts)
    return span


def add_comparison(
    model: cp_model.CpModel, total: cp_model.LinearExprT, op: str, bound: int
) -> cp_model.Constraint:
    """``total (op) bound`` as a CP-SAT constraint (returned, to allow enforcement)."""
    match op:
        case "<=":
            return model.add(total <= bound)
        case "<":
            return model.add(total < bound)
        case ">=":
            return model.add(total >= bound)
        case ">":
            return model.add(total > bound)
        case "==":
            return model.add(total == bound)
        case _:
            return model.add(total != bound)

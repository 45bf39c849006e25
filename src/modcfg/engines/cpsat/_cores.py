"""Minimal conflicts with CP-SAT assumptions: which choices, needs and rules exclude something.

Every *group* (one rule, one customer choice, one need) gets an enforcement literal. A query
asks whether the groups assumed on are jointly satisfiable; a conflict is shrunk by deletion
until every member is necessary (removing any one makes the rest satisfiable), which is the
minimality QuickXPlain guarantees.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..._arguments import deadline_after
from ..._errors import TimeLimitExceeded
from ...lower._problem import Constraint, Problem, Resource

if TYPE_CHECKING:
    from ortools.sat.python import cp_model

__all__ = ["ConflictModel", "Group", "load_solver"]


def load_solver() -> None:
    """Import CP-SAT now (a few tenths of a second, once per process): for a server, so that
    its first explanation does not wait for it (modcfg imports it on first use)."""
    from ortools.sat.python import cp_model  # noqa: F401


@dataclass
class Group:
    """Restrictions switched on and off together.

    ``unary``: (variable, allowed values); ``tables``: (scope, allowed tuples); ``clauses``:
    (scope, per variable the values of its literal: one of them must hold); ``cost_bound``: the
    unit cost may not exceed it.
    """

    key: Hashable
    unary: list[tuple[int, frozenset[int]]] = field(default_factory=list)
    tables: list[tuple[tuple[int, ...], frozenset[tuple[int, ...]]]] = field(default_factory=list)
    clauses: list[tuple[tuple[int, ...], tuple[tuple[bool, ...], ...]]] = field(
        default_factory=list
    )
    sums: list[Resource] = field(default_factory=list)
    cost_bound: int | None = None
    #: its tables were tabulated over the values the problem allows (a catalog rule's): they
    #: bind only while their variables take such values
    within_allowed: bool = False

    def add(self, constraint: Constraint) -> None:
        """Add a lowered relation in the form CP-SAT reads best (a sum, a clause, a table)."""
        if constraint.linear is not None:
            self.sums.append(constraint.linear)
        elif constraint.clause is not None:
            self.clauses.append((constraint.scope, constraint.clause))
        else:
            self.tables.append((constraint.scope, constraint.allowed))


class ConflictModel:
    """A CP-SAT model of a problem's variables, costs and switchable groups."""

    def __init__(
        self,
        problem: Problem,
        groups: Sequence[Group],
        *,
        variables: Collection[int] | None = None,
        time_limit: float | None = None,
    ) -> None:
        """The model of ``groups``; with ``variables``, only those of the problem's variables
        (the groups must mention no other, and no sum or cost bound: a sum reads them all).
        Past ``time_limit`` seconds from now, a solve raises :class:`~modcfg.LimitExceeded`."""
        # ortools is imported by the first explanation, not by importing modcfg
        from ortools.sat.python import cp_model

        model = cp_model.CpModel()
        self.model = model
        self.b: list[list[cp_model.IntVar]] = []
        self.x: list[cp_model.IntVar] = []
        absent = model.new_constant(0)  # (what a variable left out holds: never read)
        for var, domain in enumerate(problem.domains):
            if variables is not None and var not in variables:
                self.b.append([])
                self.x.append(absent)
                continue
            bools = [model.new_bool_var(f"{domain.slot}={v}") for v in range(len(domain.choices))]
            model.add_exactly_one(bools)
            x = model.new_int_var(0, len(bools) - 1, domain.slot)
            model.add(x == cp_model.LinearExpr.weighted_sum(bools, list(range(len(bools)))))
            self.b.append(bools)
            self.x.append(x)
        self._problem = problem
        self._time_limit = time_limit
        self._deadline = deadline_after(time_limit)
        self._cost: cp_model.LinearExpr | None = None
        self._insides: dict[int, cp_model.IntVar] = {}
        self.literals: dict[Hashable, cp_model.IntVar] = {}
        for group in groups:
            self.add(group)

    def cost(self) -> cp_model.LinearExpr:
        """The unit cost as a linear expression (built on first use: it adds variables)."""
        if self._cost is None:
            from ortools.sat.python import cp_model

            model, problem = self.model, self._problem
            terms: list[cp_model.LinearExprT] = [
                problem.domains[var].cost[value] * flag
                for var, bools in enumerate(self.b)
                for value, flag in enumerate(bools)
            ]
            for factor in problem.cost_factors:
                for combo, amount in factor.table.items():
                    match = model.new_bool_var(factor.source)
                    literals = [
                        self.b[v][value] for v, value in zip(factor.scope, combo, strict=True)
                    ]
                    model.add_bool_and(literals).only_enforce_if(match)
                    model.add_bool_or([lit.Not() for lit in literals]).only_enforce_if(match.Not())
                    terms.append(amount * match)
            self._cost = cp_model.LinearExpr.sum(terms)
        return self._cost

    def add(self, group: Group) -> None:
        """Add a switchable group (its literal is off unless assumed)."""
        from ortools.sat.python import cp_model

        from ._engine import add_comparison

        model = self.model
        literal = model.new_bool_var(str(group.key))
        for var, values in group.unary:
            model.add_bool_or([self.b[var][v] for v in sorted(values)]).only_enforce_if(literal)
        for scope, allowed in group.tables:
            if not scope:
                if () not in allowed:
                    model.add_bool_or([literal.Not()])
                continue
            insides = [
                self._inside(v)
                for v in scope
                if group.within_allowed and not all(self._problem.allowed[v])
            ]
            model.add_allowed_assignments(
                [self.x[v] for v in scope], sorted(allowed)
            ).only_enforce_if([literal, *insides])
        for scope, clause in group.clauses:
            literals = zip(scope, clause, strict=True)
            model.add_bool_or(
                [
                    flag
                    for v, mask in literals
                    for value, flag in enumerate(self.b[v])
                    if mask[value]
                ]
            ).only_enforce_if(literal)
        for resource in group.sums:
            total = cp_model.LinearExpr.weighted_sum(
                [flag for bools in self.b for flag in bools],
                [w for row in resource.weights for w in row],
            )
            add_comparison(model, total, resource.op, resource.bound).only_enforce_if(literal)
        if group.cost_bound is not None:
            model.add(self.cost() <= group.cost_bound).only_enforce_if(literal)
        self.literals[group.key] = literal

    def _inside(self, var: int) -> cp_model.IntVar:
        """A literal that holds when ``var`` takes a value the problem allows (made once).

        A table is tabulated over the values the rules on one slot left (see
        :mod:`modcfg.lower._lowering`): it says nothing of the others, so it binds only while
        its variables take allowed values, and the rule that removed a value is the one blamed.
        """
        found = self._insides.get(var)
        if found is None:
            bools = self.b[var]
            allowed = [
                flag for flag, ok in zip(bools, self._problem.allowed[var], strict=True) if ok
            ]
            found = self._insides[var] = self.model.new_bool_var(f"{var} allowed")
            self.model.add(sum(allowed) == found)
        return found

    def _solve(self, on: Iterable[Hashable]) -> tuple[bool, set[Hashable]]:
        """Satisfiable?, and when not, the assumed keys CP-SAT found sufficient for that."""
        from ortools.sat.python import cp_model

        model = self.model
        model.clear_assumptions()
        literals = {self.literals[key].index: key for key in on}
        model.add_assumptions([self.literals[key] for key in literals.values()])
        solver = cp_model.CpSolver()
        solver.parameters.num_workers = 1
        solver.parameters.cp_model_presolve = False  # small models: presolve costs more
        # and so does probing at the root: on the bicycle it took a second of each solve
        solver.parameters.cp_model_probing_level = 0
        if self._deadline is not None:
            solver.parameters.max_time_in_seconds = max(self._deadline - time.monotonic(), 0.0)
        status = solver.solve(model)
        if status == cp_model.UNKNOWN and self._deadline is not None:
            raise TimeLimitExceeded(
                f"the explanation was not found within the time limit of {self._time_limit:g} s; "
                "give the session a larger time_limit= (or none) to explain this option"
            )
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return True, set()
        core = {
            literals[i] for i in solver.sufficient_assumptions_for_infeasibility() if i in literals
        }
        return False, core

    def satisfiable(self, on: Iterable[Hashable]) -> bool:
        """Whether the groups in ``on`` (all others off) admit a configuration."""
        return self._solve(on)[0]

    def conflict_core(
        self, candidates: Sequence[Hashable], fixed: Sequence[Hashable] = ()
    ) -> list[Hashable] | None:
        """A subset of ``candidates`` that with ``fixed`` is unsatisfiable: CP-SAT's core,
        checked, not made minimal (two solves); None when they are satisfiable together."""
        ok, core = self._solve([*fixed, *candidates])
        if ok:
            return None
        conflict = [key for key in candidates if key in core] if core else list(candidates)
        if len(conflict) < len(candidates) and self.satisfiable([*fixed, *conflict]):
            conflict = list(candidates)
        return conflict

    def minimal_conflict(
        self, candidates: Sequence[Hashable], fixed: Sequence[Hashable] = ()
    ) -> list[Hashable] | None:
        """A minimal subset of ``candidates`` that with ``fixed`` is unsatisfiable.

        None when ``candidates`` and ``fixed`` together are satisfiable. CP-SAT's core narrows
        the candidates first (:meth:`conflict_core`); deletion then drops every member that
        is not necessary.
        """
        conflict = self.conflict_core(candidates, fixed)
        if conflict is None:
            return None
        for key in list(conflict):
            trial = [other for other in conflict if other != key]
            if not self.satisfiable([*fixed, *trial]):
                conflict = trial
        return conflict

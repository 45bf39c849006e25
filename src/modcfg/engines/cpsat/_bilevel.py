"""Revenue-optimal surcharges by CP-SAT: a leader-follower (bilevel) pricing model.

The firm (leader) picks one surcharge per band within bounds; each customer segment
(follower) then buys the option of highest utility, or nothing when every option it can afford
has negative utility. The follower's choice is written as constraints (its optimality
conditions over its finite list of options), so one CP-SAT model solves both levels exactly.
Ties go the firm's way (the optimistic bilevel reading), as the objective prefers them.

:func:`best_utility` is the follower's problem on a whole catalog: the configuration of
highest preference score minus unit cost (a segment's value minus the price, when the score
weights are the segment's values) under a unit-cost cap, one CP-SAT optimisation; the pricing
optimiser asks it for each segment's best choice in a band instead of listing fronts.

All numbers are integers (minor units); the caller turns its money into them and back.
Invariant: a solution reported optimal is optimal for the options given (for
:func:`best_utility`: among every configuration of the problem within the cap).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from dataclasses import dataclass

from ortools.sat.python import cp_model

from ...lower._problem import Problem
from ._engine import CpSatEngine

__all__ = ["BestUtility", "BilevelOption", "BilevelSegment", "best_utility", "solve_bilevel"]


@dataclass(frozen=True)
class BilevelOption:
    """One option of a segment: its band (index into the surcharges), its worth to the
    segment before the surcharge (value minus base price), its base price and the firm's
    margin on it before the surcharge."""

    band: int
    worth: int
    base: int
    margin: int


@dataclass(frozen=True)
class BilevelSegment:
    """A segment: its size (a weight of its margin), budget (None: none) and options."""

    size: int
    budget: int | None
    options: Sequence[BilevelOption]


def solve_bilevel(
    bounds: Sequence[tuple[int, int]],
    segments: Sequence[BilevelSegment],
    *,
    time_limit: float,
    hint: Sequence[int] | None = None,
) -> tuple[list[int], bool] | None:
    """The surcharges (one per band) of highest total margin and whether CP-SAT proved them
    optimal; None when it found no solution within ``time_limit`` seconds."""
    model = cp_model.CpModel()
    surcharge = [model.new_int_var(low, high, f"band{b}") for b, (low, high) in enumerate(bounds)]
    if hint is not None:
        for var, value in zip(surcharge, hint, strict=True):
            model.add_hint(var, value)
    objective: list[cp_model.LinearExprT] = []
    for s, segment in enumerate(segments):
        options = segment.options
        picks = [model.new_bool_var(f"s{s}o{j}") for j in range(len(options))]
        walk_away = model.new_bool_var(f"s{s}none")
        model.add_exactly_one([*picks, walk_away])
        affordable = []
        for j, option in enumerate(options):
            fits = model.new_bool_var(f"s{s}fits{j}")
            price = option.base + surcharge[option.band]
            if segment.budget is None:
                model.add(fits == 1)
            else:
                model.add(price <= segment.budget).only_enforce_if(fits)
                model.add(price > segment.budget).only_enforce_if(fits.Not())
            affordable.append(fits)
        for j, option in enumerate(options):
            utility = option.worth - surcharge[option.band]
            model.add_implication(picks[j], affordable[j])
            model.add(utility >= 0).only_enforce_if(picks[j])
            model.add(utility <= -1).only_enforce_if([walk_away, affordable[j]])
            for k, other in enumerate(options):
                if k != j:
                    better = other.worth - surcharge[other.band]
                    model.add(utility >= better).only_enforce_if([picks[j], affordable[k]])
            low, high = bounds[option.band]
            gain = model.new_int_var(
                min(0, option.margin + low), max(0, option.margin + high), f"s{s}g{j}"
            )
            model.add(gain == option.margin + surcharge[option.band]).only_enforce_if(picks[j])
            model.add(gain == 0).only_enforce_if(picks[j].Not())
            objective.append(segment.size * gain)
    model.maximize(cp_model.LinearExpr.sum(objective))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(time_limit, 0.01)
    solver.parameters.num_workers = 1  # deterministic, and the machine is shared
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    return [int(solver.value(var)) for var in surcharge], status == cp_model.OPTIMAL


@dataclass(frozen=True)
class BestUtility:
    """The answer of :func:`best_utility`: the assignment found (None: none found) and whether
    it is proved best (with no assignment: proved that none exists)."""

    assignment: list[int] | None
    proved: bool


def best_utility(
    problem: Problem,
    *,
    cost_bound: int | None,
    time_limit: float,
    without: str | None = None,
    costs: Sequence[Sequence[int]] | None = None,
    presolve: bool = True,
) -> BestUtility:
    """The assignment of ``problem`` of highest score minus unit cost with unit cost at most
    ``cost_bound`` (None: no cap), searched for at most ``time_limit`` seconds. ``without``:
    a price rule whose cost terms are left out of the unit cost (a ladder, whose surcharge the
    caller sets per degree band: its table over the weighted slots would dwarf the model).
    ``costs`` (per variable and value, the firm's cost): among the assignments of highest
    utility, one of highest unit cost minus these (the firm's margin: ties go its way), found
    by a second optimisation with the utility fixed.

    CP-SAT's presolve makes these optimisations several times faster on large catalogs; as
    it has reported feasible models infeasible (see ``_engine.py``), an infeasible answer is
    confirmed without it (``presolve=False`` searches without it throughout)."""
    if without is not None:
        kept = [factor for factor in problem.cost_factors if factor.source != without]
        problem = dataclasses.replace(problem, cost_factors=kept)
    deadline = time.monotonic() + time_limit
    engine = CpSatEngine(problem, cost_bound=cost_bound, scale=1)
    utility = engine.score - engine.cost
    engine.model.maximize(utility)
    solver = engine.new_solver(time_limit)
    solver.parameters.cp_model_presolve = presolve
    status = solver.solve(engine.model)
    if status == cp_model.INFEASIBLE and presolve:
        left = deadline - time.monotonic()
        return best_utility(
            problem, cost_bound=cost_bound, time_limit=left, costs=costs, presolve=False
        )
    if status == cp_model.INFEASIBLE:
        return BestUtility(None, proved=True)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return BestUtility(None, proved=False)
    assignment = [int(solver.value(x)) for x in engine.x]
    proved = status == cp_model.OPTIMAL
    if costs is not None and proved:
        model = engine.model
        model.add(utility == int(solver.value(utility)))  # (the objective value is a float)
        for x, value in zip(engine.x, assignment, strict=True):
            model.add_hint(x, value)
        firm = cp_model.LinearExpr.weighted_sum(
            [flag for var in range(problem.size) for flag in engine.b[var].values()],
            [costs[var][value] for var in range(problem.size) for value in engine.b[var]],
        )
        model.maximize(engine.cost - firm)
        solver = engine.new_solver(max(deadline - time.monotonic(), 0.001))
        solver.parameters.cp_model_presolve = presolve
        status = solver.solve(model)
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            assignment = [int(solver.value(x)) for x in engine.x]
        proved = status == cp_model.OPTIMAL
    return BestUtility(assignment, proved=proved)

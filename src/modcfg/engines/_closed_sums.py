"""Global sums and budgets over slots that nothing ties: distributions by convolution.

When every slot chooses on its own, the number of solutions reaching each combination of
(unit cost, total of every resource) is the convolution of the slots' own distributions: one
slot at a time, each partial combination is extended by every allowed value. A partial cost
that cannot fit the bound even with the cheapest choices of the remaining slots is dropped at
once. Exact (Python integers); the work grows with the number of distinct partial sums, and
past :data:`STATE_LIMIT` of them or the time limit the call raises
:class:`~modcfg.LimitExceeded`.

Sessions narrow closed forms only without a budget or sums (the plan takes the decomposition
then), so these run for direct calls on a closed form, which the property tests make.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from .._arguments import deadline_after
from .._errors import LimitExceeded, TimeLimitExceeded
from ..lower._problem import Problem
from ._protocol import Bounds

if TYPE_CHECKING:
    from ._closed_form import IndependentQuery

__all__ = ["STATE_LIMIT", "ClosedSums", "distribution"]

#: Partial sums (cost and totals) one convolution may hold.
STATE_LIMIT = 2_000_000


def distribution(
    problem: Problem,
    values: Sequence[Sequence[int]],
    bounds: Bounds,
    time_limit: float | None,
) -> dict[int, int]:
    """Unit cost -> number of solutions (each slot one of its ``values``) whose totals meet
    every resource's bound, for unit costs up to the cost bound (all when None)."""
    resources, cost_bound = bounds.resources, bounds.cost_bound
    deadline = deadline_after(time_limit)
    costs = [domain.cost for domain in problem.domains]
    if not all(values):
        return {}
    # the cheapest cost the slots after each one can still add
    rest = [0] * (len(values) + 1)
    for var in reversed(range(len(values))):
        rest[var] = rest[var + 1] + min(costs[var][value] for value in values[var])
    states: dict[tuple[int, ...], int] = {(0,) * (1 + len(resources)): 1}
    for var, allowed in enumerate(values):
        if deadline is not None and time.monotonic() > deadline:
            raise TimeLimitExceeded(
                f"counting under global sums passed time_limit={time_limit} s; raise "
                "time_limit= or narrow the needs"
            )
        ceiling = None if cost_bound is None else cost_bound - rest[var + 1]
        steps = [
            (costs[var][value], tuple(resource.weights[var][value] for resource in resources))
            for value in allowed
        ]
        grown: dict[tuple[int, ...], int] = {}
        for state, ways in states.items():
            for cost, weights in steps:
                total = state[0] + cost
                if ceiling is not None and total > ceiling:
                    continue
                key = (total, *(s + w for s, w in zip(state[1:], weights, strict=True)))
                grown[key] = grown.get(key, 0) + ways
        if len(grown) > STATE_LIMIT:
            raise LimitExceeded(
                f"the sums over these slots reach more than {STATE_LIMIT:,} distinct partial "
                "sums; lower the budget or the bound, or narrow the needs"
            )
        states = grown
    found: dict[int, int] = {}
    for state, ways in states.items():
        if all(r.holds(total) for r, total in zip(resources, state[1:], strict=True)):
            found[state[0]] = found.get(state[0], 0) + ways
    return found


class ClosedSums:
    """A closed form's solutions within sums and a unit-cost bound (the
    :class:`~._protocol.SumsView` of :class:`~._closed_form.IndependentQuery`)."""

    def __init__(self, query: IndependentQuery, bounds: Bounds, time_limit: float | None) -> None:
        self.query = query
        self.bounds = bounds
        self.time_limit = time_limit
        self.costs = query.cost_distribution(bounds, time_limit=time_limit)

    def count(self) -> int:
        return sum(self.costs.values())

    def cost_range(self) -> tuple[int, int] | None:
        if not self.costs:
            return None
        return min(self.costs), max(self.costs)

    def option(self, var: int, values: Sequence[int]) -> tuple[int, int | None]:
        narrowed = self.query.restricted(var, frozenset(values))
        costs = narrowed.cost_distribution(self.bounds, time_limit=self.time_limit)
        return sum(costs.values()), min(costs, default=None)

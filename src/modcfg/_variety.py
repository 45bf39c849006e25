"""Variety: how many distinct physical products, presented products and customer-visible
configurations a catalog (under needs) offers, exactly.

A slot's ``kind`` says what it varies: ``functional`` slots make the physical product,
``cosmetic`` ones its presentation, ``adaptive`` ones settings changed after purchase. Two
valid configurations are the same physical product when they agree on every functional slot,
the same presented product when they also agree on every cosmetic one; every valid
configuration is customer-visible. Distinct products are counted as projections of the valid
configurations onto those slots:

- when no rule, sum or budget ties a kept slot to a dropped one, every kept combination has
  the same number of completions, so the count is the total divided by one's completions;
- otherwise a depth-first walk over the kept slots counts the combinations that have a
  completion (one feasibility check per step), bounded by ``limit`` and ``time_limit``.

Invariant: the counts equal brute force (a property test checks them against the oracle).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from ._arguments import deadline_after
from ._errors import LimitExceeded, TimeLimitExceeded
from ._plan import Plan
from .engines import EngineQuery

__all__ = ["Variety", "projected_count"]

#: Distinct products a walk may visit by default before it gives up.
WALK_LIMIT = 1_000_000


@dataclass(frozen=True)
class Variety:
    """Exact counts of what a catalog offers, from the firm's side to the customer's.

    ``physical``: distinct physical products (the functional slots' combinations);
    ``presented``: distinct products as presented (functional and cosmetic slots);
    ``configurations``: customer-visible configurations (every slot, adaptive ones too).
    """

    physical: int
    presented: int
    configurations: int


def _has_solution(plan: Plan, query: EngineQuery) -> bool:
    if plan.problem.resources or plan.cost_bound is not None:
        return query.count_within(plan.bounds) > 0
    return query.feasible()


def _tied(plan: Plan, kept: set[int]) -> bool:
    """Whether some rule, sum or budget ties a kept variable to a dropped one."""
    problem = plan.problem
    if problem.resources or plan.cost_bound is not None:
        return True
    return any(
        0 < len(kept.intersection(constraint.scope)) < len(constraint.scope)
        for constraint in problem.constraints
    )


def projected_count(
    plan: Plan,
    kept: Sequence[int],
    total: int,
    *,
    limit: int | None = WALK_LIMIT,
    time_limit: float | None = None,
) -> int:
    """The number of distinct combinations of the ``kept`` variables among the valid
    configurations of ``plan`` (``total`` of them)."""
    problem = plan.problem
    if total == 0:
        return 0
    if len(kept) == problem.size:
        return total
    if not kept:
        return 1
    query = plan.query
    if not _tied(plan, set(kept)):
        one = next(iter(query.solutions()))
        for var in kept:
            query = query.restricted(var, frozenset((one[var],)))
        return total // query.count()
    deadline = deadline_after(time_limit)
    found = 0
    stack: list[tuple[int, EngineQuery]] = [(0, query)]
    while stack:
        depth, current = stack.pop()
        if depth == len(kept):
            found += 1
            if limit is not None and found > limit:
                raise LimitExceeded(
                    f"variety: more than limit={limit:,} distinct products to walk; raise "
                    "limit= (or give fewer slots a kind that distinguishes products)",
                    estimate=found,
                    limit=limit,
                )
            continue
        if deadline is not None and time.monotonic() > deadline:
            raise TimeLimitExceeded(
                f"variety passed time_limit={time_limit} s after {found:,} distinct products; "
                "raise time_limit="
            )
        var = kept[depth]
        for value in problem.values(var):
            narrowed = current.restricted(var, frozenset((value,)))
            if _has_solution(plan, narrowed):
                stack.append((depth + 1, narrowed))
    return found

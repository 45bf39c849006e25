"""Best by what the customer values: ranking by preference score, by a blend, and the Pareto
front of (price, preference score).

A configuration's *preference score* is the sum of the weights of the needs' ``prefer`` entries
it satisfies. Every search here walks an exact stream of the engines and stops on a bound:

- ``rank="preference"`` reads the engine's preference-first order (highest score, then lowest
  unit price; totals rise with the unit price, see ``docs/semantics.md``);
- a :class:`Blend` ranks by ``preference x score - price x total``: it walks the price order,
  and stops once even the highest score reachable cannot lift a dearer configuration above the
  k-th found;
- the Pareto front walks the price order, grouping equal totals, and keeps a total's
  best-scoring configuration when it scores above everything cheaper; it stops when the
  highest reachable score is on the front.

Invariant: the answers equal brute force (the property tests check them against the oracle).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Literal

from ._errors import NeedsError, TimeLimitExceeded
from ._plan import Engine, Plan
from .model import to_decimal
from .price import Quote, quote

if TYPE_CHECKING:
    from ._compiled import CompiledCatalog

__all__ = ["Blend", "Rank", "blended_best", "pareto_front", "preferred_best"]


@dataclass(frozen=True)
class Blend:
    """Rank by ``preference x score - price x total``: what one preference point is worth
    against one unit of money. ``Blend(preference=10)``: a point is worth 10 of the currency.

    >>> Blend(price=1, preference=10).value(Decimal("120.00"), 3)
    Decimal('-90.00')
    """

    price: Decimal | int | str = 1
    preference: Decimal | int | str = 1

    def weights(self) -> tuple[Decimal, Decimal]:
        """The two weights, checked: non-negative and not both zero."""
        try:
            price = to_decimal(self.price, what="price weight")
            preference = to_decimal(self.preference, what="preference weight")
        except ValueError as error:
            raise NeedsError(f"rank=Blend(...): {error}") from None
        if price < 0 or preference < 0 or not (price or preference):
            raise NeedsError(
                f"rank=Blend(price={price}, preference={preference}): the weights must be >= 0 "
                "and not both 0 (rank='price' or rank='preference' rank by one alone)"
            )
        return price, preference

    def value(self, total: Decimal, score: int) -> Decimal:
        price, preference = self.weights()
        return preference * score - price * total


#: How ``best`` orders: by price (then score), by preference score (then price), or a blend.
Rank = Literal["price", "preference"] | Blend


def _quotes(
    compiled: CompiledCatalog, plan: Plan, stream: Iterator[list[int]], deadline: float | None
) -> Iterator[Quote]:
    for assignment in stream:
        if deadline is not None and time.monotonic() > deadline:
            raise TimeLimitExceeded("the deadline passed")
        yield quote(
            compiled.catalog,
            compiled.configuration(assignment),
            plan.resolved,
            lines_of=compiled.quote_lines,
        )


def _preference_stream(plan: Plan, engine: Engine, deadline: float | None) -> Iterator[list[int]]:
    """Valid assignments, highest preference score first, then the lowest unit price."""
    query = plan.engine_query(engine, "rank", deadline=deadline)
    for _, assignment in query.by_key(deadline=deadline, preference_first=True):
        if plan.within_budget(assignment) and plan.holds_sums(assignment):
            yield assignment


def _top_score(
    compiled: CompiledCatalog, plan: Plan, engine: Engine, deadline: float | None
) -> int | None:
    """The highest preference score of any valid configuration (None: there is none)."""
    stream = _quotes(compiled, plan, _preference_stream(plan, engine, deadline), deadline)
    first = next(stream, None)
    return None if first is None else first.score


def preferred_best(
    compiled: CompiledCatalog, plan: Plan, k: int, engine: Engine, deadline: float | None
) -> list[Quote]:
    """The ``k`` valid configurations of highest preference score, then lowest total."""
    # the stream is by score, then unit price: totals rise with the unit price
    stream = _quotes(compiled, plan, _preference_stream(plan, engine, deadline), deadline)
    return list(itertools.islice(stream, k))


def _priced(
    plan: Plan, engine: Engine, deadline: float | None
) -> Iterator[tuple[Decimal, int, list[int]]]:
    """(total, score, assignment) of the valid assignments by unit price (totals rise with
    it), read off the engine's keys: nothing is quoted on the way."""
    query = plan.engine_query(engine, "rank", deadline=deadline)
    for key, assignment in query.by_key_within(plan.bounds, deadline=deadline):
        yield plan.total_of(query.cost_of(key)), query.score_of(key), assignment


def _quoted(compiled: CompiledCatalog, plan: Plan, assignment: list[int]) -> Quote:
    return quote(
        compiled.catalog,
        compiled.configuration(assignment),
        plan.resolved,
        lines_of=compiled.quote_lines,
    )


def blended_best(
    compiled: CompiledCatalog,
    plan: Plan,
    k: int,
    blend: Blend,
    engine: Engine,
    deadline: float | None,
) -> list[Quote]:
    """The ``k`` valid configurations of highest blended value, then lowest total."""
    price_weight, preference_weight = blend.weights()
    top = _top_score(compiled, plan, engine, deadline)
    if top is None:
        return []
    found: list[tuple[Decimal, Decimal, int, list[int]]] = []  # value, total, order, assignment
    for order, (total, score, assignment) in enumerate(_priced(plan, engine, deadline)):
        if len(found) >= k:
            # later ones cost as much or more (and at the same cost score no higher): none
            # can rank above the k-th, and a tie loses to it (it costs no more, came first).
            # Equal totals do not go on: all of a catalog's prices 0, the walk never ended.
            reachable = preference_weight * top - price_weight * total
            if reachable <= found[k - 1][0]:
                break
        found.append((preference_weight * score - price_weight * total, total, order, assignment))
        found.sort(key=lambda item: (-item[0], item[1], item[2]))
        del found[k:]
    return [_quoted(compiled, plan, assignment) for _, _, _, assignment in found]


def pareto_front(
    compiled: CompiledCatalog, plan: Plan, engine: Engine, deadline: float | None
) -> list[Quote]:
    """One configuration per point of the front, cheapest first (see the module docstring)."""
    top = _top_score(compiled, plan, engine, deadline)
    if top is None:
        return []
    front: list[list[int]] = []
    best_cheaper: int | None = None  # the highest score of every total below the current one
    group: tuple[Decimal, int, list[int]] | None = None  # the current total's best scoring one
    for total, score, assignment in _priced(plan, engine, deadline):
        if group is not None and total != group[0]:
            if best_cheaper is None or group[1] > best_cheaper:
                front.append(group[2])
                best_cheaper = group[1]
            group = None
            if best_cheaper is not None and best_cheaper >= top:
                break
        if group is None or score > group[1]:
            group = (total, score, assignment)
        if group[1] >= top:  # (none after it scores higher: the front ends with it)
            break
    if group is not None and (best_cheaper is None or group[1] > best_cheaper):
        front.append(group[2])
    return [_quoted(compiled, plan, assignment) for assignment in front]

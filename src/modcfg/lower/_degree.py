"""The degree of customization as per-value weights, and what ladders and degree bands add.

A degree is ``sum over slots of degree_weight x (choice differs from the standard)``: one
integer weight per value of every weighted slot, a :class:`Resource` like any linear sum. A
degree band of the needs is required as two comparisons of that sum (tabulated over few
slots, a global sum over many, as :meth:`Lowering.require` does for linear rules); a ladder
price rule is one cost factor over the weighted slots whose amount is the surcharge of the
band each combination falls in (exact in every engine, since a factor is a sum term).

Invariant: the weights equal :func:`modcfg.model._customization.degree_of` with one slot
chosen at a time; a factor is checked against the tabulation and memory limits first.
"""

from __future__ import annotations

from math import prod

import numpy as np

from .._errors import LimitExceeded
from .._memory import ENTRY_BYTES, check_memory, show_count
from ..model import Catalog, Configuration, PriceRule
from ..model._customization import ladder_amount, ladder_bands, slot_differs
from ._lowering import LINEAR_TABLE_SLOTS, TABULATION_LIMIT, Lowering
from ._problem import Constraint, Factor, Resource, SlotDomain, _scaled
from ._tabulate import _linear_rows

__all__ = ["degree_weights", "lower_ladder", "require_degree"]


def degree_weights(
    catalog: Catalog, domains: tuple[SlotDomain, ...], standard: Configuration
) -> dict[int, list[int]]:
    """Per weighted slot's variable: its weight for every value (0 where it is standard)."""
    found: dict[int, list[int]] = {}
    for var, domain in enumerate(domains):
        slot = catalog.slots[domain.slot]
        if slot.degree_weight:
            reference = standard[domain.slot]
            found[var] = [
                slot.degree_weight if slot_differs(slot, choice, reference) else 0
                for choice in domain.choices
            ]
    return found


def require_degree(
    lowering: Lowering, standard: Configuration, low: int, high: int | None, source: str
) -> None:
    """Require ``low <= degree <= high`` (``high`` None: no top)."""
    problem = lowering.problem
    weights = degree_weights(lowering.catalog, problem.domains, standard)
    for op, bound in ((">=", low), ("<=", high)):
        if bound is None or (op == ">=" and bound <= 0):
            continue
        resource = Resource(
            tuple(
                tuple(weights.get(var, (0,) * len(domain.choices)))
                for var, domain in enumerate(problem.domains)
            ),
            op,
            bound,
            source,
        )
        scope = tuple(sorted(var for var, row in weights.items() if any(row)))
        if not scope:
            if not resource.holds(0):
                problem.constraints.append(Constraint((), frozenset(), source))
            continue
        width = lowering.scope.width(scope, problem.allowed)
        if width > TABULATION_LIMIT or len(scope) > LINEAR_TABLE_SLOTS:
            problem.resources.append(resource)
        elif len(scope) > 2:
            rows = _linear_rows(resource, scope, problem.allowed)
            problem.constraints.append(Constraint(scope, None, source, resource, rows=rows))
        else:
            lowering.allow(scope, _linear_rows(resource, scope, problem.allowed), source)


def lower_ladder(lowering: Lowering, rule: PriceRule) -> None:
    """A ladder rule as one cost factor: the surcharge of each combination's band."""
    catalog, problem = lowering.catalog, lowering.problem
    standard = catalog.standard_configuration
    if standard is None:  # pragma: no cover - validation requires a standard
        return
    weights = degree_weights(catalog, problem.domains, standard)
    scope = tuple(sorted(var for var, row in weights.items() if any(row)))
    if not scope:  # every configuration has degree 0: a constant, on the first slot
        scope, weights = (0,), {0: [0] * len(problem.domains[0].choices)}
    sizes = [len(problem.domains[var].choices) for var in scope]
    width = prod(sizes)
    what = f"price rule '{rule.id}'"
    if width > TABULATION_LIMIT:
        raise LimitExceeded(
            f"{what} (a price ladder) depends on {len(scope)} weighted slots with "
            f"{show_count(width)} combinations, more than the {TABULATION_LIMIT:,} it is "
            "tabulated over; give fewer slots a degree_weight (degree_weight: 0)",
            estimate=width,
            limit=TABULATION_LIMIT,
        )
    check_memory(
        width * (len(scope) + 12) * ENTRY_BYTES,
        problem.memory_limit,
        f"{what} (a table of {show_count(width)} rows over {len(scope)} slots)",
        "give fewer slots a degree_weight",
    )
    degrees = np.zeros([1] * len(scope), dtype=np.int64)
    for axis, var in enumerate(scope):
        shape = [1] * len(scope)
        shape[axis] = sizes[axis]
        degrees = degrees + np.asarray(weights[var], dtype=np.int64).reshape(shape)
    degrees = np.broadcast_to(degrees, sizes)
    surcharge = np.zeros(sizes, dtype=object)
    for band in ladder_bands(rule):
        if band.step is None:
            continue
        amount = _scaled(ladder_amount(catalog, band.step), catalog.decimals)
        inside = degrees >= band.low
        if band.high is not None:
            inside &= degrees <= band.high
        surcharge[inside] = amount
    at = np.argwhere(surcharge != 0)
    table = {tuple(row): int(surcharge[tuple(row)]) for row in at.tolist()}
    if table:
        problem.cost_factors.append(Factor(scope, table, rule.id))

"""Lower a customer's resolved needs onto a compiled catalog's :class:`Problem`.

Each dimension of :class:`~modcfg.model.ResolvedNeeds` that restricts or scores
configurations has one lowering step in ``NEED_LOWERINGS``, run in order on a copy of the base
problem: modules out of reach (forbidden, not sold in the region, not ready by the date) and
required modules exclude values, conditions are required like constraint rules, and
preferences become score factors. The budget is not applied here: it bounds the quote total,
which engines handle through the unit price (see ``docs/semantics.md``).

Invariant: the base problem is never changed (the steps work on a copy); every value a need
excludes records the need as its reason (``"need: ..."``).
"""

from __future__ import annotations

from collections.abc import Callable

from .._errors import LimitExceeded, NeedsError
from .._reasons import Reason
from ..model import ResolvedNeeds, parse
from ._degree import require_degree
from ._lowering import Lowering
from ._problem import Problem

__all__ = ["NEED_LOWERINGS", "needs_problem"]


def needs_problem(base: Problem, resolved: ResolvedNeeds) -> Problem:
    """``base`` restricted by a customer's hard needs, with their preferences as score factors."""
    lowering = Lowering(base.copy())
    for step in NEED_LOWERINGS:
        step(lowering, resolved)
    return lowering.problem


def _lower_unavailable(lowering: Lowering, resolved: ResolvedNeeds) -> None:
    """Forbidden modules, and modules the region or the delivery date rule out."""
    excluded = resolved.excluded
    if not excluded:
        return
    problem = lowering.problem
    for var, domain in enumerate(problem.domains):
        for value, units in enumerate(domain.units):
            for module, _ in units:
                reason = excluded.get(f"{domain.slot}.{module}")
                if reason is not None and problem.allowed[var][value]:
                    _exclude(lowering, var, value, reason)


def _lower_require(lowering: Lowering, resolved: ResolvedNeeds) -> None:
    problem = lowering.problem
    for ref in resolved.require:
        slot, module = ref.split(".")
        var = lowering.var(slot)
        reason = Reason("need", f"require {ref}", need="require", slot=slot, module=module)
        for value, units in enumerate(problem.domains[var].units):
            if problem.allowed[var][value] and all(m != module for m, _ in units):
                _exclude(lowering, var, value, reason)


def _lower_conditions(lowering: Lowering, resolved: ResolvedNeeds) -> None:
    for text in resolved.conditions:
        source = f"need: {text}"
        lowering.problem.need_reasons[source] = Reason("need", text, need="conditions")
        try:
            lowering.require(parse(text), source, f"condition '{text}'")
        except LimitExceeded as exc:
            raise NeedsError(str(exc)) from None


def _exclude(lowering: Lowering, var: int, value: int, reason: Reason) -> None:
    """Exclude ``var``'s ``value`` for a need, under the source id ``"need: <text>"``, and
    keep the need's :class:`Reason` for that source."""
    source = f"need: {reason.text}"
    lowering.exclude(var, value, source)
    lowering.problem.need_reasons[source] = reason


def _lower_preferences(lowering: Lowering, resolved: ResolvedNeeds) -> None:
    for text, weight in resolved.prefer.items():
        if weight == 0:
            continue
        try:
            lowering.score(
                parse(text), weight, f"prefer: {text}", f"preference '{text}'", "name fewer slots"
            )
        except LimitExceeded as exc:
            raise NeedsError(str(exc)) from None


def _lower_degree(lowering: Lowering, resolved: ResolvedNeeds) -> None:
    """A degree band: the degree of customization from the standard lies within it."""
    band = resolved.needs.degree
    if band is None or resolved.standard is None:
        return
    text = band.text
    source = f"need: {text}"
    lowering.problem.need_reasons[source] = Reason("need", text, need="degree")
    require_degree(lowering, resolved.standard, band.min, band.max, source)


#: The steps that lower a customer's needs, in order.
NEED_LOWERINGS: tuple[Callable[[Lowering, ResolvedNeeds], None], ...] = (
    _lower_unavailable,
    _lower_require,
    _lower_conditions,
    _lower_degree,
    _lower_preferences,
)

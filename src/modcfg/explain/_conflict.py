"""Why needs are infeasible: a minimal conflict and the smallest relaxations.

The conflict is found by deletion (each need is dropped in turn and kept out when the rest is
still infeasible), which leaves a set in which every need is necessary: remove any one and a
configuration exists (minimal in the QuickXPlain sense).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .._errors import InfeasibleError, Relaxation
from ..model import Needs, ResolvedNeeds

if TYPE_CHECKING:
    from .._configurator import Configurator

__all__ = ["NeedItem", "infeasible_error", "keep_items", "need_items"]


@dataclass(frozen=True)
class NeedItem:
    """One hard need, in the customer's terms, and how to take it out of the needs."""

    label: str
    field: str
    value: Any

    def without(self, data: dict[str, Any]) -> dict[str, Any]:
        data = dict(data)
        current = data.get(self.field)
        if isinstance(current, tuple | list):
            data[self.field] = tuple(item for item in current if item != self.value)
        else:
            data[self.field] = None
        return data


def need_items(needs: Needs, currency: str) -> list[NeedItem]:
    """The hard needs that can make a request infeasible, one item each."""
    items = [NeedItem(f"require {ref}", "require", ref) for ref in needs.require]
    items += [NeedItem(f"forbid {ref}", "forbid", ref) for ref in needs.forbid]
    items += [NeedItem(f"'{text}'", "conditions", text) for text in needs.conditions]
    if needs.purpose is not None:
        items.append(NeedItem(f"purpose '{needs.purpose}'", "purpose", needs.purpose))
    if needs.region is not None:
        items.append(NeedItem(f"region {needs.region}", "region", needs.region))
    if needs.deliver_by is not None:
        items.append(NeedItem(f"deliver by {needs.deliver_by}", "deliver_by", needs.deliver_by))
    if needs.budget is not None:
        items.append(NeedItem(f"budget {currency} {needs.budget}", "budget", needs.budget))
    return items


def keep_items(needs: Needs, items: list[NeedItem], kept: list[NeedItem]) -> Needs:
    """``needs`` with only the ``kept`` items of ``items`` (other fields unchanged)."""
    data = needs.model_dump()
    for item in items:
        if item not in kept:
            data = item.without(data)
    return Needs.model_validate(data)


def infeasible_error(cfg: Configurator, resolved: ResolvedNeeds | None) -> InfeasibleError:
    """An :class:`InfeasibleError` with the minimal conflict and ranked relaxations."""
    catalog = cfg.catalog
    if resolved is None or cfg.count() == 0:
        return InfeasibleError(
            f"catalog '{catalog.name}' has no valid configuration at all; run "
            "'modcfg check' on it to find the contradicting rules"
        )
    needs = resolved.needs
    items = need_items(needs, catalog.currency)

    def feasible(kept: list[NeedItem]) -> bool:
        return cfg.count(keep_items(needs, items, kept)) > 0

    conflict = list(items)
    for item in list(conflict):
        trial = [other for other in conflict if other != item]
        if not feasible(trial):
            conflict = trial
    relaxations = _relaxations(cfg, needs, items, conflict, feasible)
    return InfeasibleError(
        f"no configuration of '{catalog.name}' meets these needs",
        conflict=[item.label for item in conflict],
        relaxations=relaxations,
    )


def _relaxations(
    cfg: Configurator,
    needs: Needs,
    items: list[NeedItem],
    conflict: list[NeedItem],
    feasible: Callable[[list[NeedItem]], bool],
) -> list[Relaxation]:
    currency = cfg.catalog.currency
    found: list[Relaxation] = []
    for item in conflict:
        kept = [other for other in items if other != item]
        if not feasible(kept):
            continue
        relaxed = keep_items(needs, items, kept)
        cheapest = cfg.best(relaxed, k=1)[0].total
        if item.field == "budget":
            budget = Decimal(item.value)
            raised = relaxed.model_copy(update={"budget": cheapest})
            found.append(
                Relaxation(
                    f"raise the budget by {currency} {cheapest - budget} to {currency} {cheapest}",
                    (item.label,),
                    cfg.count(raised),
                    cheapest,
                )
            )
            continue
        verb = "allow" if item.field == "forbid" else "drop"
        label = item.label.removeprefix("forbid ")
        found.append(Relaxation(f"{verb} {label}", (item.label,), cfg.count(relaxed), cheapest))
    found.sort(key=lambda r: (-r.unlocked, r.from_price))
    return found

"""Why needs are infeasible: a minimal conflict, the rules behind it, the smallest relaxations.

When the catalog itself has no configuration, the error names a minimal set of contradicting
rules instead (see ``_rules.py``). The conflict of needs is found by deletion (each need is
dropped in turn and kept out when the rest is still infeasible), which leaves a set in which
every need is necessary: remove any one and a configuration exists (minimal in the QuickXPlain
sense). The rules behind it are a minimal set of rules that, with those needs, leave nothing.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .._errors import InfeasibleError, Relaxation
from .._reasons import NeedField, Reason
from ..model import Needs, ResolvedNeeds
from ._rules import rule_conflict, rules_behind_needs

if TYPE_CHECKING:
    from .._configurator import Configurator

__all__ = ["NeedItem", "infeasible_error", "keep_items", "need_items"]


@dataclass(frozen=True)
class NeedItem:
    """One hard need: the field of the needs that holds it and its ``value`` there (to take it
    out of the needs), and the need as a reason in the customer's terms."""

    field: NeedField
    value: Any
    reason: Reason

    @property
    def label(self) -> str:
        """The need in the customer's terms (``"require glass.triple"``)."""
        return self.reason.text

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
    items = [_item("require", ref, f"require {ref}") for ref in needs.require]
    items += [_item("forbid", ref, f"forbid {ref}") for ref in needs.forbid]
    items += [_item("conditions", text, f"'{text}'") for text in needs.conditions]
    if needs.purpose is not None:
        items.append(_item("purpose", needs.purpose, f"purpose '{needs.purpose}'"))
    if needs.region is not None:
        items.append(_item("region", needs.region, f"region {needs.region}"))
    if needs.deliver_by is not None:
        items.append(_item("deliver_by", needs.deliver_by, f"deliver by {needs.deliver_by}"))
    if needs.degree is not None:
        items.append(_item("degree", needs.degree, needs.degree.text))
    if needs.budget is not None:
        items.append(_item("budget", needs.budget, f"budget {currency} {needs.budget}"))
    return items


def _item(field: NeedField, value: Any, text: str) -> NeedItem:
    slot = module = None
    if field in ("require", "forbid"):  # a module reference
        slot, _, module = str(value).partition(".")
    return NeedItem(field, value, Reason("need", text, need=field, slot=slot, module=module))


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
        contradiction = rule_conflict(cfg)
        if contradiction is None:  # pragma: no cover - count() said there is no configuration
            return InfeasibleError(f"catalog '{catalog.name}' has no valid configuration")
        return InfeasibleError(
            f"catalog '{catalog.name}': {contradiction}",
            conflict=contradiction.texts,
            rules=contradiction.rules,
            reasons=contradiction.reasons(),
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
    relaxations = _relaxations(cfg, needs, items, feasible)
    labels = [item.label for item in conflict]
    message = f"no configuration of '{catalog.name}' meets these needs"
    behind = rules_behind_needs(cfg, needs, labels)
    if behind is not None and behind.rules:
        message += " under " + ", ".join(
            f"rule '{rule}' ({text})" for rule, text in zip(behind.rules, behind.texts, strict=True)
        )
    return InfeasibleError(
        message,
        conflict=labels,
        rules=() if behind is None else behind.rules,
        relaxations=relaxations,
        reasons=[item.reason for item in conflict] + list(behind.reasons() if behind else ()),
    )


def _diagnoses(
    items: list[NeedItem], feasible: Callable[[list[NeedItem]], bool]
) -> list[tuple[NeedItem, ...]]:
    """Minimal sets of needs whose removal restores feasibility (FastDiag's diagnoses), of
    one or two needs (one only when there are many needs)."""
    found: list[tuple[NeedItem, ...]] = []
    largest = 2 if len(items) <= 12 else 1
    for size in range(1, largest + 1):
        for combo in itertools.combinations(items, size):
            if any(set(known) <= set(combo) for known in found):
                continue
            if feasible([item for item in items if item not in combo]):
                found.append(combo)
    return found


def _describe(combo: tuple[NeedItem, ...], currency: str, budget: Decimal | None) -> str:
    words = []
    for item in combo:
        if item.field == "budget":
            continue
        words.append(f"allow {item.value}" if item.field == "forbid" else f"drop {item.label}")
    if budget is not None:
        original = next(Decimal(item.value) for item in combo if item.field == "budget")
        words.append(f"raise the budget by {currency} {budget - original} to {currency} {budget}")
    return " and ".join(words)


def _relaxations(
    cfg: Configurator,
    needs: Needs,
    items: list[NeedItem],
    feasible: Callable[[list[NeedItem]], bool],
) -> list[Relaxation]:
    currency = cfg.catalog.currency
    found: list[Relaxation] = []
    for combo in _diagnoses(items, feasible):
        relaxed = keep_items(needs, items, [item for item in items if item not in combo])
        labels = tuple(item.label for item in combo)
        reasons = tuple(item.reason for item in combo)
        if not any(item.field == "budget" for item in combo):
            cheapest = cfg.best(relaxed, k=1)[0].total
            found.append(
                Relaxation(
                    _describe(combo, currency, None),
                    labels,
                    cfg.count(relaxed),
                    cheapest,
                    currency,
                    reasons,
                )
            )
            continue
        levels = _budget_levels(cfg, relaxed)
        for budget in levels:
            raised = relaxed.model_copy(update={"budget": budget})
            found.append(
                Relaxation(
                    _describe(combo, currency, budget),
                    labels,
                    cfg.count(raised),
                    levels[0],
                    currency,
                    reasons,
                )
            )
    found.sort(key=lambda r: (-r.unlocked, r.from_price))
    return found


def _budget_levels(cfg: Configurator, relaxed: Needs) -> list[Decimal]:
    """Budgets that unlock the first, about ten and about a hundred configurations."""
    ranked = [q.total for q in cfg.best(relaxed, k=100)]
    levels = [ranked[0]]
    for wanted in (10, 100):
        if len(ranked) >= wanted and ranked[wanted - 1] not in levels:
            levels.append(ranked[wanted - 1])
    return levels

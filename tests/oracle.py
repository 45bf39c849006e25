"""A brute-force oracle of docs/semantics.md: enumerate every configuration and check it.

Written from the contract alone, independently of the engines (``modcfg.engines``) and of the
quote computation (``modcfg.price``): it uses only the catalog and needs models, the expression
evaluator and ``Needs.resolve`` (which merges the purpose preset and finds the needed services
and the payment term). Slow on purpose and simple enough to trust; use it on small catalogs.

Choices the contract leaves open, and how this oracle reads them:

- no needs (``None``) quote like ``Needs()``: quantity 1, frequency ``one-off``, no services;
- ``"*"`` in a table row matches an empty optional slot too ("matches anything");
- a module without ``lead_time_days`` is ready at once; one without ``regions`` is sold
  everywhere;
- a payment term with both a cash discount and instalments takes the discount first, then
  finances what is left (step 5 in the order written); a discount of 0 adds no line;
- a conditional price rule with amount 0 is a ``surcharge`` line of 0;
- a ladder line comes after the conditional lines, one per ladder rule whose band has a step
  (its amount, or its percent of the standard's module prices rounded to the minor unit).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from typing import Any

import modcfg
from modcfg.model import (
    AtMostOneOfRule,
    ConfigurationView,
    ConstraintRule,
    ExcludesRule,
    RequiresRule,
    ResolvedNeeds,
    TableRule,
    evaluate,
    parse,
    truthy,
)

__all__ = [
    "RULE_CHECKS",
    "Line",
    "all_configurations",
    "cheapest",
    "chosen_modules",
    "count",
    "degree",
    "is_valid",
    "preference_score",
    "quote_lines",
    "quote_total",
    "ranked",
    "resolve",
    "rule_holds",
    "slot_choices",
    "top_k_keys",
    "valid_configurations",
]

#: Digits of the decimal context of quote arithmetic (the annuity formula divides and powers).
PRECISION = 50


@dataclass(frozen=True)
class Line:
    """One quote line: ``kind`` (module, surcharge, discount, bundle, tier, frequency, service,
    payment, financing), ``source`` (the module reference or the rule, service or term id)."""

    kind: str
    source: str
    amount: Decimal


# -- configurations -------------------------------------------------------------------------


def slot_choices(slot: modcfg.model.Slot) -> list[str | modcfg.Quantities | None]:
    """Every local choice of one slot, per the cardinality rules of the contract."""
    modules = list(slot.modules.values())
    if slot.cardinality.max == 1:
        empty: list[str | modcfg.Quantities | None] = [None] if slot.cardinality.min == 0 else []
        return [*empty, *(module.id for module in modules)]
    choices: list[str | modcfg.Quantities | None] = []
    for vector in itertools.product(*(range(m.max_quantity + 1) for m in modules)):
        if slot.cardinality.min <= sum(vector) <= slot.cardinality.max:
            choices.append(
                modcfg.Quantities({m.id: q for m, q in zip(modules, vector, strict=True) if q})
            )
    return choices


def all_configurations(catalog: modcfg.Catalog) -> Iterator[modcfg.Configuration]:
    """Every configuration of ``catalog`` ignoring rules: the product of the slots' choices."""
    slot_ids = list(catalog.slots)
    per_slot = [slot_choices(catalog.slots[slot_id]) for slot_id in slot_ids]
    for combination in itertools.product(*per_slot):
        yield modcfg.Configuration(dict(zip(slot_ids, combination, strict=True)))


def units(choice: object) -> dict[str, int]:
    """Module id -> quantity of one slot's choice."""
    if choice is None:
        return {}
    if isinstance(choice, str):
        return {choice: 1}
    if isinstance(choice, Mapping):
        return {module: quantity for module, quantity in choice.items() if quantity}
    raise TypeError(f"not a slot choice: {choice!r}")


def agrees(configuration: Mapping[str, object], choices: Mapping[str, object]) -> bool:
    """Whether ``configuration`` keeps a session's ``choices`` (as ``session.choices`` gives
    them: slot -> module, None for an empty slot, or {module: quantity}, a quantity None
    standing for any of one or more)."""
    for slot, chosen in choices.items():
        found = units(configuration[slot])
        if isinstance(chosen, Mapping):
            for module, quantity in chosen.items():
                held = found.get(module, 0)
                if (held == 0) if quantity is None else (held != quantity):
                    return False
        elif chosen is None:
            if found:
                return False
        elif chosen not in found:
            return False
    return True


def chosen_modules(configuration: Mapping[str, object]) -> dict[str, int]:
    """``slot.module`` -> quantity of every chosen module."""
    return {
        f"{slot}.{module}": quantity
        for slot, choice in configuration.items()
        for module, quantity in units(choice).items()
    }


def _standard(catalog: modcfg.Catalog, purpose: str | None) -> dict[str, object] | None:
    """The standard the degree is measured from: the purpose's own, else the catalog's."""
    if purpose is not None and catalog.purposes[purpose].standard is not None:
        return dict(catalog.purposes[purpose].standard or {})
    return None if catalog.standard is None else dict(catalog.standard)


def degree(
    catalog: modcfg.Catalog, configuration: Mapping[str, object], purpose: str | None = None
) -> int:
    """The summed degree weights of the slots whose modules differ from the standard's (a
    slot the standard leaves out is empty there)."""
    standard = _standard(catalog, purpose)
    if standard is None:
        raise ValueError("no standard")
    return sum(
        slot.degree_weight
        for slot_id, slot in catalog.slots.items()
        if units(configuration.get(slot_id)) != units(standard.get(slot_id))
    )


def _ladder_amount(catalog: modcfg.Catalog, rule: Any, degree_found: int) -> Decimal | None:
    """The surcharge of a ladder rule at a degree: the step with the highest min_degree not
    above it (None when no step is reached)."""
    reached = [step for step in rule.ladder if step.min_degree <= degree_found]
    if not reached:
        return None
    step = max(reached, key=lambda step: step.min_degree)
    if step.amount is not None:
        return Decimal(step.amount)
    standard = _standard(catalog, None) or {}
    base = sum(
        (
            catalog.slots[slot_id].modules[module].price * quantity
            for slot_id, choice in standard.items()
            for module, quantity in units(choice).items()
        ),
        Decimal(0),
    )
    minor = Decimal(1).scaleb(-catalog.decimals)
    return (base * step.percent / 100).quantize(minor, rounding=ROUND_HALF_EVEN)


def _well_formed(catalog: modcfg.Catalog, configuration: Mapping[str, object]) -> bool:
    """Every slot has one choice of the right shape and cardinality, and nothing else."""
    if set(configuration) != set(catalog.slots):
        return False
    for slot_id, slot in catalog.slots.items():
        choice = configuration[slot_id]
        if slot.single and not (choice is None or isinstance(choice, str)):
            return False
        if not slot.single and not isinstance(choice, modcfg.Quantities):
            return False
        found = units(choice)
        for module, quantity in found.items():
            if module not in slot.modules or not 0 < quantity <= slot.modules[module].max_quantity:
                return False
        if not slot.cardinality.min <= sum(found.values()) <= slot.cardinality.max:
            return False
    return True


# -- rules and needs ------------------------------------------------------------------------


def _holds(text: str, view: ConfigurationView) -> bool:
    return truthy(evaluate(parse(text), view))


# Each rule kind: whether a configuration keeps a rule of that kind, given the configuration,
# its chosen modules (``slot.module`` -> quantity) and a view for expressions.


def _requires_holds(rule: RequiresRule, _: object, chosen: dict[str, int], __: object) -> bool:
    premises = all(ref in chosen for ref in rule.requires.if_)
    return not premises or any(ref in chosen for ref in rule.requires.then)


def _excludes_holds(rule: ExcludesRule, _: object, chosen: dict[str, int], __: object) -> bool:
    return not all(ref in chosen for ref in rule.excludes)


def _table_holds(
    rule: TableRule, configuration: Mapping[str, object], _: object, __: object
) -> bool:
    matched = any(
        all(
            value == "*" or value == configuration[slot]
            for slot, value in zip(rule.table.slots, row, strict=True)
        )
        for row in rule.rows
    )
    return matched if rule.allow else not matched


def _constraint_holds(rule: ConstraintRule, _: object, __: object, view: ConfigurationView) -> bool:
    return (rule.when is not None and not _holds(rule.when, view)) or _holds(rule.constraint, view)


def _at_most_one_of_holds(
    rule: AtMostOneOfRule, _: object, chosen: dict[str, int], __: object
) -> bool:
    return sum(ref in chosen for ref in rule.at_most_one_of) <= 1


_Check = Callable[[Any, Mapping[str, object], dict[str, int], ConfigurationView], bool]
#: Rule kind -> (cost, its check); cheap kinds are checked first (the order does not change
#: the verdict).
RULE_CHECKS: dict[str, tuple[int, _Check]] = {
    "requires": (0, _requires_holds),
    "excludes": (0, _excludes_holds),
    "table": (1, _table_holds),
    "constraint": (2, _constraint_holds),
    "at_most_one_of": (0, _at_most_one_of_holds),
}


def rule_holds(
    rule: modcfg.model.Rule,
    configuration: Mapping[str, object],
    chosen: dict[str, int],
    view: ConfigurationView,
) -> bool:
    """Whether ``configuration`` (with its ``chosen`` modules) keeps ``rule``."""
    return RULE_CHECKS[rule.kind][1](rule, configuration, chosen, view)


def resolve(catalog: modcfg.Catalog, needs: modcfg.Needs | None) -> ResolvedNeeds:
    """Needs resolved against ``catalog``; no needs quote like ``Needs()``."""
    return (needs if needs is not None else modcfg.Needs()).resolve(catalog)


def _unavailable(catalog: modcfg.Catalog, resolved: ResolvedNeeds) -> frozenset[str]:
    """Modules that the region or the delivery date rule out, whatever else is chosen."""
    needs = resolved.needs
    out = set()
    today = needs.today or dt.date.today()
    service_days = max((service.lead_time_days for service in resolved.services), default=0)
    for slot in catalog.slots.values():
        for module in slot.modules.values():
            ref = f"{slot.id}.{module.id}"
            regions = module.attributes.get("regions")
            region = needs.region
            if region is not None and isinstance(regions, tuple) and region not in regions:
                out.add(ref)
            if needs.deliver_by is not None:
                units = needs.quantity * (1 if slot.cardinality.max == 1 else module.max_quantity)
                lead = ready_days(catalog, module, units, needs.stock)
                if lead + service_days > (needs.deliver_by - today).days:
                    out.add(ref)
    return frozenset(out)


def ready_days(
    catalog: modcfg.Catalog, module: Any, units: int, stock: Mapping[str, int]
) -> Decimal:
    """Days until ``units`` units of ``module`` are made (docs/semantics.md, "Production"):
    by its parts and the stages from theirs to the last, or by its lead_time_days."""
    if not module.parts:
        lead = module.attributes.get("lead_time_days")
        return lead if isinstance(lead, Decimal) else Decimal(0)
    stages = list(catalog.stages.values())
    longest = 0
    for part_id, per_unit in module.parts.items():
        part = catalog.parts[part_id]
        on_hand = stock.get(part_id, part.stock)
        wait = 0 if on_hand >= per_unit * units else part.lead_time_days
        start = 0 if part.stage is None else [s.id for s in stages].index(part.stage)
        longest = max(longest, wait + sum(stage.days for stage in stages[start:]))
    return Decimal(longest)


class _Judge:
    """Validity, quote and score of configurations for one catalog and one customer's needs.

    Holds what does not depend on the configuration; ``resolved`` ``None`` judges the
    catalog's rules alone (and quotes like ``Needs()``).
    """

    def __init__(self, catalog: modcfg.Catalog, resolved: ResolvedNeeds | None) -> None:
        self.catalog = catalog
        self.resolved = resolved
        self.rules = sorted(catalog.rules, key=lambda rule: RULE_CHECKS[rule.kind][0])
        self.unavailable = frozenset() if resolved is None else _unavailable(catalog, resolved)
        self.quoted = resolved if resolved is not None else resolve(catalog, None)
        self.minor = Decimal(1).scaleb(-catalog.decimals)
        self.prices = [
            (f"{slot.id}.{module.id}", module.price)
            for slot in catalog.slots.values()
            for module in slot.modules.values()
        ]

    # -- validity

    def keeps_all_but_budget(
        self, configuration: Mapping[str, object], chosen: dict[str, int]
    ) -> bool:
        view = ConfigurationView(self.catalog, configuration)
        if not all(rule_holds(rule, configuration, chosen, view) for rule in self.rules):
            return False
        resolved = self.resolved
        if resolved is None:
            return True
        return (
            all(ref in chosen for ref in resolved.require)
            and not any(ref in chosen for ref in resolved.forbid)
            and not any(ref in self.unavailable for ref in chosen)
            and all(_holds(text, view) for text in resolved.conditions)
            and self._in_degree_band(configuration)
        )

    def _in_degree_band(self, configuration: Mapping[str, object]) -> bool:
        band = None if self.resolved is None else self.resolved.needs.degree
        if band is None or self.resolved is None:
            return True
        found = degree(self.catalog, configuration, self.resolved.needs.purpose)
        return band.min <= found and (band.max is None or found <= band.max)

    def within_budget(self, total: Decimal) -> bool:
        budget = None if self.resolved is None else self.resolved.budget
        return budget is None or total <= budget

    def keeps(self, configuration: Mapping[str, object], chosen: dict[str, int]) -> bool:
        return self.keeps_all_but_budget(configuration, chosen) and self.within_budget(
            self.total(configuration, chosen)
        )

    # -- quote

    def rounded(self, amount: Decimal) -> Decimal:
        return amount.quantize(self.minor, rounding=ROUND_HALF_EVEN)

    def lines(self, configuration: Mapping[str, object], chosen: dict[str, int]) -> list[Line]:
        """The six steps of docs/semantics.md."""
        catalog, resolved, rounded = self.catalog, self.quoted, self.rounded
        quantity = resolved.quantity
        view = ConfigurationView(catalog, configuration)
        lines: list[Line] = []
        with localcontext() as context:
            context.prec = PRECISION
            # 1. one line per chosen module, in slot order
            for ref, price in self.prices:
                if ref in chosen:
                    lines.append(Line("module", ref, rounded(price * chosen[ref] * quantity)))
            # 2. conditional surcharges, discounts and bundles, in catalog order
            for rule in catalog.prices:
                if rule.amount is None or rule.tiers is not None or rule.frequency is not None:
                    continue
                if rule.bundle is not None:
                    applies, kind = all(ref in chosen for ref in rule.bundle), "bundle"
                else:
                    applies = _holds(rule.when or "true", view)
                    kind = "discount" if rule.amount < 0 else "surcharge"
                if applies:
                    lines.append(Line(kind, rule.id, rounded(rule.amount * quantity)))
            # 2b. ladder surcharges by degree of customization, in catalog order
            for rule in catalog.prices:
                if rule.ladder is not None:
                    found = degree(catalog, configuration)
                    amount = _ladder_amount(catalog, rule, found)
                    if amount is not None:
                        lines.append(Line("ladder", rule.id, rounded(amount * quantity)))
            goods = sum((line.amount for line in lines), Decimal(0))
            # 3-4. tiers and frequency rules in catalog order, each a percentage of the
            # running subtotal (goods plus the percentage lines before it)
            running = goods
            for rule in catalog.prices:
                percent = None
                if rule.tiers is not None:
                    tiers = [tier for tier in rule.tiers if tier.min_quantity <= quantity]
                    if tiers:
                        tier = max(tiers, key=lambda tier: tier.min_quantity)
                        percent, kind = tier.percent, "tier"
                elif rule.frequency is not None and resolved.needs.frequency in rule.frequency:
                    percent, kind = rule.percent or Decimal(0), "frequency"
                if percent:
                    amount = rounded(running * percent / 100)
                    lines.append(Line(kind, rule.id, amount))
                    running += amount
            # 5. the needed services: requested ones in the order asked, then mandatory ones
            for service in resolved.services:
                units = quantity if service.per == "unit" else 1
                lines.append(Line("service", service.id, rounded(service.price * units)))
            # 6. the payment term: cash discount, then instalments by the annuity formula
            term = resolved.payment
            if term is not None:
                if term.discount_percent:
                    subtotal = sum((line.amount for line in lines), Decimal(0))
                    discount = rounded(subtotal * term.discount_percent / 100)
                    lines.append(Line("payment", term.id, -discount))
                if term.instalments > 1:
                    principal = sum((line.amount for line in lines), Decimal(0))
                    count = term.instalments
                    rate = term.apr / 1200
                    if rate:
                        instalment = rounded(principal * rate / (1 - (1 + rate) ** -count))
                    else:
                        instalment = rounded(principal / count)
                    lines.append(Line("financing", term.id, count * instalment - principal))
        return lines

    def total(self, configuration: Mapping[str, object], chosen: dict[str, int]) -> Decimal:
        return sum((line.amount for line in self.lines(configuration, chosen)), Decimal(0))

    def score(self, configuration: Mapping[str, object]) -> int:
        if self.resolved is None:
            return 0
        view = ConfigurationView(self.catalog, configuration)
        return sum(weight for text, weight in self.resolved.prefer.items() if _holds(text, view))


def is_valid(
    catalog: modcfg.Catalog,
    configuration: Mapping[str, object],
    resolved_needs: ResolvedNeeds | None = None,
) -> bool:
    """True when ``configuration`` is well formed, keeps every rule and meets the needs."""
    if not _well_formed(catalog, configuration):
        return False
    return _Judge(catalog, resolved_needs).keeps(configuration, chosen_modules(configuration))


# -- quotes ---------------------------------------------------------------------------------


def quote_lines(
    catalog: modcfg.Catalog,
    configuration: Mapping[str, object],
    resolved: ResolvedNeeds | None = None,
) -> list[Line]:
    """The quote's lines, by the six steps of docs/semantics.md (``None``: no needs)."""
    return _Judge(catalog, resolved).lines(configuration, chosen_modules(configuration))


def quote_total(
    catalog: modcfg.Catalog,
    configuration: Mapping[str, object],
    resolved: ResolvedNeeds | None = None,
) -> Decimal:
    """The exact sum of the quote's lines."""
    return _Judge(catalog, resolved).total(configuration, chosen_modules(configuration))


def preference_score(
    catalog: modcfg.Catalog,
    configuration: Mapping[str, object],
    resolved: ResolvedNeeds | None = None,
) -> int:
    """The sum of the ``prefer`` weights whose reference or condition holds."""
    return _Judge(catalog, resolved).score(configuration)


# -- queries --------------------------------------------------------------------------------


def _candidates(catalog: modcfg.Catalog) -> Iterator[tuple[dict[str, object], dict[str, int]]]:
    """Like :func:`all_configurations`, as plain dicts with their chosen modules."""
    slot_ids = list(catalog.slots)
    per_slot = [
        [
            (choice, {f"{slot_id}.{module}": q for module, q in units(choice).items()})
            for choice in slot_choices(catalog.slots[slot_id])
        ]
        for slot_id in slot_ids
    ]
    for combination in itertools.product(*per_slot):
        chosen: dict[str, int] = {}
        for _, modules in combination:
            chosen.update(modules)
        yield dict(zip(slot_ids, (choice for choice, _ in combination), strict=True)), chosen


def ranked(
    catalog: modcfg.Catalog, needs: modcfg.Needs | None = None
) -> list[tuple[Decimal, int, modcfg.Configuration]]:
    """``(total, -score, configuration)`` of every valid configuration, best first."""
    judge = _Judge(catalog, None if needs is None else needs.resolve(catalog))
    rows = []
    for configuration, chosen in _candidates(catalog):
        if judge.keeps_all_but_budget(configuration, chosen):
            total = judge.total(configuration, chosen)
            if judge.within_budget(total):
                rows.append(
                    (total, -judge.score(configuration), modcfg.Configuration(configuration))
                )
    rows.sort(key=lambda row: (row[0], row[1]))
    return rows


def valid_configurations(
    catalog: modcfg.Catalog, needs: modcfg.Needs | None = None
) -> list[modcfg.Configuration]:
    """Every configuration that keeps the rules and meets ``needs``."""
    judge = _Judge(catalog, None if needs is None else needs.resolve(catalog))
    return [
        modcfg.Configuration(configuration)
        for configuration, chosen in _candidates(catalog)
        if judge.keeps(configuration, chosen)
    ]


def count(catalog: modcfg.Catalog, needs: modcfg.Needs | None = None) -> int:
    """The number of valid configurations."""
    return len(valid_configurations(catalog, needs))


def cheapest(catalog: modcfg.Catalog, needs: modcfg.Needs | None = None) -> Decimal | None:
    """The lowest total of a valid configuration (``None``: there is none)."""
    rows = ranked(catalog, needs)
    return rows[0][0] if rows else None


def top_k_keys(
    catalog: modcfg.Catalog, needs: modcfg.Needs | None, k: int
) -> list[tuple[Decimal, int]]:
    """``(total, -score)`` of the best ``k`` configurations, the order ``best`` promises."""
    return [(total, negative_score) for total, negative_score, _ in ranked(catalog, needs)[:k]]

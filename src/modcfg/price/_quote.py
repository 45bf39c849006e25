"""Quotes: a configuration priced for one customer's needs, line by line, in Decimal.

The rules are those of ``docs/semantics.md``: every line is rounded half-even to the
currency's minor unit and the total is the exact sum of the lines. Lines come in a fixed order
(modules, conditional price rules, ladder surcharges by degree of customization, the
order-level price rules in catalog order, services,
payment discount, financing), and every line names its source and reason. With instalments,
the financing line makes the total exactly the number of instalments times one instalment.
:func:`order_total` is non-decreasing in the unit price, which is what lets the engines turn a
budget into a bound on it. All arithmetic runs in a local decimal context of
``Catalog.decimal_precision`` digits, so amounts are exact at any size a catalog allows and the
caller's context is left as it was.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from functools import cached_property, partial
from typing import TYPE_CHECKING, Any, Literal

from .._frames import data_frame
from .._html import MAX_ROWS, html_table
from ..model import (
    Catalog,
    Configuration,
    ConfigurationView,
    ResolvedNeeds,
    evaluate,
    parse,
    truthy,
)
from ..model._customization import degree_of, ladder_amount, ladder_band
from ._production import ready_days

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "LineCache",
    "LineKind",
    "Quote",
    "QuoteLine",
    "from_minor_units",
    "instalment_amount",
    "order_lines",
    "order_total",
    "preference_score",
    "quote",
    "to_minor_units",
]

LineKind = Literal[
    "module",
    "surcharge",
    "discount",
    "bundle",
    "tier",
    "frequency",
    "service",
    "payment",
    "financing",
    "ladder",
]
#: Digits of the annuity's rate and discount factor (they are rounded to the minor unit after).
_ANNUITY_DIGITS = 50


def _context(catalog: Catalog) -> decimal.Context:
    """A decimal context precise enough for every amount of the catalog's quotes.

    Used with ``decimal.localcontext`` so the global context stays as the caller set it.
    """
    return decimal.Context(prec=catalog.decimal_precision, rounding=ROUND_HALF_EVEN)


def from_minor_units(catalog: Catalog, units: int) -> Decimal:
    """An amount in minor units (cents) as a Decimal of the catalog's currency, exact at any
    size (``Decimal.scaleb`` alone would round to the context's precision).

    >>> import modcfg
    >>> from_minor_units(modcfg.load_catalog("windows"), 10**40 + 1)
    Decimal('100000000000000000000000000000000000000.01')
    """
    return Decimal(units).scaleb(-catalog.decimals, context=_context(catalog))


def to_minor_units(catalog: Catalog, amount: Decimal) -> int:
    """An amount of the catalog's currency in minor units (cents), exact at any size: the
    inverse of :func:`from_minor_units` (for amounts with at most the catalog's decimals).

    >>> import modcfg
    >>> windows = modcfg.load_catalog("windows")
    >>> to_minor_units(windows, from_minor_units(windows, 10**40 + 1)) == 10**40 + 1
    True
    >>> to_minor_units(windows, Decimal("260.00"))
    26000
    """
    return int(amount.scaleb(catalog.decimals, context=_context(catalog)))


@dataclass(frozen=True)
class QuoteLine:
    """One line of a quote: what it is, where it comes from, and why it applies."""

    kind: LineKind
    source: str
    label: str
    amount: Decimal
    reason: str
    quantity: int = 1

    def __str__(self) -> str:
        return f"{self.label}: {self.amount} ({self.reason})"


@dataclass(frozen=True)
class Quote:
    """A priced configuration: ``total`` (Decimal) is the exact sum of ``lines``.

    ``unit_price`` is the price of one unit before order-level adjustments, ``score`` the
    preference score, ``instalments``/``instalment_amount`` the payment plan when there is one.
    ``delivery_date`` is the earliest date the order can be delivered.
    """

    configuration: Configuration
    currency: str
    lines: tuple[QuoteLine, ...]
    total: Decimal
    unit_price: Decimal
    quantity: int = 1
    score: int = 0
    instalments: int = 1
    instalment_amount: Decimal | None = None
    #: Works out :attr:`delivery_date` when it is first read (most quotes are never asked).
    delivery: Callable[[], dt.date] | None = field(default=None, repr=False, compare=False)

    @cached_property
    def delivery_date(self) -> dt.date | None:
        """The earliest delivery date: today (``Needs.today``) plus the critical path of the
        bill of materials and the services' lead time."""
        return None if self.delivery is None else self.delivery()

    def __repr__(self) -> str:
        choices = ", ".join(f"{slot}={choice}" for slot, choice in self.configuration.items())
        return f"<Quote {self.currency} {self.total}: {choices}>"

    def _repr_html_(self, max_rows: int = MAX_ROWS) -> str:
        """The quote as an HTML table for notebooks: its lines (at most ``max_rows``), the
        total in the caption."""
        return html_table(
            ["line", "reason", "amount"],
            ([line.label, line.reason, line.amount] for line in self.lines),
            caption=f"{self.currency} {self.total}",
            max_rows=max_rows,
            total_rows=len(self.lines),
        )

    def to_pandas(self) -> pd.DataFrame:
        """The quote's lines as a DataFrame (needs pandas): ``kind``, ``source``, ``label``,
        ``quantity``, ``amount`` (Decimal) and ``reason``; the amounts add up to the total."""
        return data_frame(
            ["kind", "source", "label", "quantity", "amount", "reason"],
            (
                (line.kind, line.source, line.label, line.quantity, line.amount, line.reason)
                for line in self.lines
            ),
            exact=["quantity", "amount"],
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly view (amounts as strings, so no cent is lost)."""
        return {
            "configuration": {
                slot: dict(choice) if isinstance(choice, Mapping) else choice
                for slot, choice in self.configuration.items()
            },
            "currency": self.currency,
            "total": str(self.total),
            "unit_price": str(self.unit_price),
            "quantity": self.quantity,
            "score": self.score,
            "instalments": self.instalments,
            "instalment_amount": None
            if self.instalment_amount is None
            else str(self.instalment_amount),
            "delivery_date": None if self.delivery_date is None else str(self.delivery_date),
            "lines": [
                {
                    "kind": line.kind,
                    "source": line.source,
                    "label": line.label,
                    "quantity": line.quantity,
                    "amount": str(line.amount),
                    "reason": line.reason,
                }
                for line in self.lines
            ],
        }


def _round(amount: Decimal, decimals: int) -> Decimal:
    return amount.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_EVEN)


def _unit_line(
    catalog: Catalog, slot: str, module_id: str, units: int
) -> tuple[QuoteLine, Decimal]:
    module = catalog.slots[slot].modules[module_id]
    per_unit = module.price * units
    label = module.title if units == 1 else f"{module.title} x {units}"
    reason = f"{catalog.slots[slot].title}: {module.title}"
    return QuoteLine("module", f"{slot}.{module_id}", label, per_unit, reason, units), per_unit


def _rule_lines(
    catalog: Catalog, configuration: Configuration
) -> Iterator[tuple[QuoteLine, Decimal]]:
    """The conditional price rules that apply to one unit."""
    view = ConfigurationView(catalog, configuration)
    for rule in catalog.conditional_price_rules:
        if rule.amount is None:
            continue
        if not truthy(evaluate(parse(rule.condition), view)):
            continue
        kind: LineKind = "bundle" if rule.bundle else "surcharge" if rule.amount > 0 else "discount"
        yield (
            QuoteLine(kind, rule.id, rule.describe(), rule.amount, f"price rule '{rule.id}'"),
            rule.amount,
        )


def _ladder_lines(
    catalog: Catalog, configuration: Configuration
) -> Iterator[tuple[QuoteLine, Decimal]]:
    """The ladder surcharges of one unit: its band of each ladder rule, when it adds one."""
    standard = catalog.standard_configuration
    if standard is None:  # pragma: no cover - validation requires a standard
        return
    degree = degree_of(catalog, configuration, standard)
    for rule in catalog.ladder_price_rules:
        band = ladder_band(rule, degree)
        if band.step is None:
            continue
        amount = ladder_amount(catalog, band.step)
        step = f"+{band.step.percent}%" if band.step.percent is not None else f"{amount:+}"
        reason = f"customised: band {band.number} of {band.of}, {step} (degree {degree})"
        yield QuoteLine("ladder", rule.id, rule.describe(), amount, reason), amount


def order_lines(
    catalog: Catalog, goods: Decimal, resolved: ResolvedNeeds | None
) -> list[QuoteLine]:
    """Lines 3-5: tiers, frequency pricing, services and payment (all depend on goods only)."""
    decimals = catalog.decimals
    quantity = resolved.quantity if resolved else 1
    frequency = resolved.needs.frequency if resolved else "one-off"
    lines: list[QuoteLine] = []
    # each percentage applies to the running subtotal, so the total never falls as the
    # goods rise (x + round(x * p) is non-decreasing for p > -100 %)
    running = goods
    for rule in catalog.order_price_rules:
        if rule.kind == "tiers":
            tier = rule.tier_percent(quantity)
            if tier is not None and tier.percent:
                amount = _round(running * tier.percent / 100, decimals)
                running += amount
                lines.append(
                    QuoteLine(
                        "tier",
                        rule.id,
                        rule.describe(),
                        amount,
                        f"{tier.percent} % from {tier.min_quantity} units",
                    )
                )
        elif rule.kind == "frequency" and frequency in (rule.frequency or ()) and rule.percent:
            amount = _round(running * rule.percent / 100, decimals)
            running += amount
            lines.append(
                QuoteLine(
                    "frequency",
                    rule.id,
                    rule.describe(),
                    amount,
                    f"{rule.percent} % for {frequency} purchases",
                )
            )
    for service in resolved.services if resolved else ():
        units = quantity if service.per == "unit" else 1
        amount = _round(service.price * units, decimals)
        label = service.label or service.id
        lines.append(
            QuoteLine(
                "service",
                service.id,
                label,
                amount,
                f"{service.kind} service" + (f", {units} units" if units > 1 else ""),
                units,
            )
        )
    payment = resolved.payment if resolved else None
    if payment is not None:
        subtotal = goods + sum((line.amount for line in lines), Decimal(0))
        if payment.discount_percent:
            amount = -_round(subtotal * payment.discount_percent / 100, decimals)
            lines.append(
                QuoteLine(
                    "payment",
                    payment.id,
                    payment.label or payment.id,
                    amount,
                    f"{payment.discount_percent} % discount for {payment.id}",
                )
            )
            subtotal += amount
        if payment.instalments > 1:
            instalment = instalment_amount(subtotal, payment.instalments, payment.apr, decimals)
            cost = instalment * payment.instalments - subtotal
            lines.append(
                QuoteLine(
                    "financing",
                    payment.id,
                    payment.label or payment.id,
                    cost,
                    f"{payment.instalments} instalments of {instalment} at {payment.apr} % APR",
                    payment.instalments,
                )
            )
    return lines


def instalment_amount(principal: Decimal, count: int, apr: Decimal, decimals: int) -> Decimal:
    """One instalment of an annuity (``apr`` in percent per year, monthly payments).

    >>> instalment_amount(Decimal("1200.00"), 12, Decimal("0"), 2)
    Decimal('100.00')
    >>> instalment_amount(Decimal("1000.00"), 12, Decimal("12"), 2)
    Decimal('88.85')
    """
    digits = max(decimal.getcontext().prec, _ANNUITY_DIGITS, principal.adjusted() + 30)
    with decimal.localcontext(decimal.Context(prec=digits, rounding=ROUND_HALF_EVEN)):
        if apr == 0:
            return _round(principal / count, decimals)
        rate = apr / Decimal(1200)
        factor = (1 + rate) ** -count
        return _round(principal * rate / (1 - factor), decimals)


def total_factor(catalog: Catalog, resolved: ResolvedNeeds | None) -> int | None:
    """The quantity :func:`order_total` multiplies the unit price by when nothing is added at
    the order level (then the total is exactly ``unit x factor``), else None."""
    if catalog.order_price_rules or (
        resolved is not None and (resolved.services or resolved.payment is not None)
    ):
        return None
    return resolved.quantity if resolved else 1


def order_total(catalog: Catalog, unit: Decimal, resolved: ResolvedNeeds | None) -> Decimal:
    """The quote total for any configuration whose unit price is ``unit``.

    Non-decreasing in ``unit``; engines use it to turn a budget into a unit-price bound.
    """
    quantity = resolved.quantity if resolved else 1
    with decimal.localcontext(_context(catalog)):
        goods = unit * quantity
        if not catalog.order_price_rules and (
            resolved is None or (not resolved.services and resolved.payment is None)
        ):
            return goods  # nothing is added at the order level
        lines = order_lines(catalog, goods, resolved)
        return goods + sum((line.amount for line in lines), Decimal(0))


#: Module lines of quotes, by (slot, module, units, quantity): the same few lines recur in
#: every quote of a catalog (kept per caller, see :func:`quote`).
LineCache = dict[tuple[str, str, int, int], tuple[QuoteLine, Decimal]]


def quote(
    catalog: Catalog,
    configuration: Configuration,
    resolved: ResolvedNeeds | None,
    *,
    lines_of: LineCache | None = None,
) -> Quote:
    """Price one (valid) configuration for the needs.

    ``lines_of`` (optional, owned by the caller and used with one catalog only) keeps module
    lines between calls. Amounts are exact at any magnitude the catalog allows (see
    ``Catalog.decimal_precision``).
    """
    with decimal.localcontext(_context(catalog)):
        return _quote(catalog, configuration, resolved, lines_of)


def _quote(
    catalog: Catalog,
    configuration: Configuration,
    resolved: ResolvedNeeds | None,
    lines_of: LineCache | None,
) -> Quote:
    quantity = resolved.quantity if resolved else 1
    decimals = catalog.decimals
    lines: list[QuoteLine] = []
    unit = Decimal(0)
    cache: LineCache = {} if lines_of is None else lines_of
    for slot, module_id, units in configuration.units():
        found = cache.get((slot, module_id, units, quantity))
        if found is None:
            found = cache[slot, module_id, units, quantity] = _module_line(
                catalog, slot, module_id, units, quantity
            )
        line, per_unit = found
        unit += per_unit
        lines.append(line)
    if catalog.conditional_price_rules:
        for line, per_unit in _rule_lines(catalog, configuration):
            unit += per_unit
            amount = _round(per_unit * quantity, decimals)
            lines.append(
                QuoteLine(line.kind, line.source, line.label, amount, line.reason, quantity)
            )
    if catalog.ladder_price_rules:
        for line, per_unit in _ladder_lines(catalog, configuration):
            unit += per_unit
            amount = _round(per_unit * quantity, decimals)
            lines.append(
                QuoteLine(line.kind, line.source, line.label, amount, line.reason, quantity)
            )
    goods = sum((line.amount for line in lines), Decimal(0))
    payment = resolved.payment if resolved else None
    if catalog.order_price_rules or (
        resolved is not None and (resolved.services or payment is not None)
    ):
        lines.extend(order_lines(catalog, goods, resolved))
        total = sum((line.amount for line in lines), Decimal(0))
    else:
        total = goods
    instalments = payment.instalments if payment is not None else 1
    # with instalments the financing line makes the total exactly n x instalment
    instalment = total / instalments if instalments > 1 else None
    return Quote(
        configuration=configuration,
        currency=catalog.currency,
        lines=tuple(lines),
        total=total,
        unit_price=unit,
        quantity=quantity,
        score=preference_score(catalog, configuration, resolved),
        instalments=instalments,
        instalment_amount=instalment,
        delivery=partial(_delivery_date, catalog, configuration, quantity, resolved),
    )


def _delivery_date(
    catalog: Catalog, configuration: Configuration, quantity: int, resolved: ResolvedNeeds | None
) -> dt.date:
    needs = resolved.needs if resolved is not None else None
    today = (needs.today if needs is not None else None) or dt.date.today()
    services = resolved.services if resolved is not None else ()
    days = ready_days(catalog, configuration, quantity, needs.stock if needs else None)
    days += max((service.lead_time_days for service in services), default=0)
    return today + dt.timedelta(days=days)


def _module_line(
    catalog: Catalog, slot: str, module_id: str, units: int, quantity: int
) -> tuple[QuoteLine, Decimal]:
    """A module's quote line for ``quantity`` orders of ``units`` units, and one unit's price."""
    line, per_unit = _unit_line(catalog, slot, module_id, units)
    amount = _round(per_unit * quantity, catalog.decimals)
    return (
        QuoteLine(line.kind, line.source, line.label, amount, line.reason, units * quantity),
        per_unit,
    )


def preference_score(
    catalog: Catalog, configuration: Configuration, resolved: ResolvedNeeds | None
) -> int:
    """The sum of the ``prefer`` weights whose reference or condition holds."""
    if resolved is None or not resolved.prefer:
        return 0
    view = ConfigurationView(catalog, configuration)
    return sum(
        weight for text, weight in resolved.prefer.items() if truthy(evaluate(parse(text), view))
    )

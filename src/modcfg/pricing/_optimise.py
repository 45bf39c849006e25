"""The pricing optimiser: surcharges per degree band that maximise the expected margin.

Each :class:`Segment` values modules (``values``, per unit), degree bands (``band_values``)
and any product (``base_value``), has a ``budget`` and may walk away. Its utility for a
configuration is its value minus the price; it buys the configuration of highest utility
when that utility is >= 0 and the price fits the budget. The firm earns the price minus the
modules' ``cost`` per unit bought, times the segment's ``size``.

Within one band a surcharge shifts every price alike, so a segment's best choice in a band is
on the band's Pareto front of (price, value) (``Configurator.pareto``, exact): those fronts
are every segment's options. On them:

- ``exact``: one CP-SAT model of both levels (``engines/cpsat/_bilevel.py``), the follower's
  choice written as constraints; optimal when CP-SAT proves it within ``time_limit``;
- ``best-response`` (the heuristic for many options, or when CP-SAT did not prove its answer):
  coordinate ascent over the bands. With the other bands fixed, the margin is piecewise
  linear in one band's surcharge and rises between the points where some segment changes its
  choice (a utility tie with its best option elsewhere or with walking away, or its budget),
  so each step tries exactly those points and keeps the best; it stops when no band improves.

Invariant: every margin reported is the margin of the segments' best responses to the
surcharges reported (ties go the firm's way), computed in Decimal.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Literal

from .._errors import NeedsError
from ..model import Catalog, Configuration, Needs, to_decimal
from ..model._customization import Band, ladder_amount, ladder_bands
from ..price import Quote, order_total

if TYPE_CHECKING:
    from .._configurator import Configurator

__all__ = [
    "Option",
    "Purchase",
    "Segment",
    "band_needs",
    "candidate_options",
    "margin_of",
    "option_of",
    "segment_prefer",
]

Method = Literal["auto", "exact", "best-response"]


@dataclass(frozen=True)
class Segment:
    """A customer segment: ``size`` (customers), what it values (per module reference
    ``"slot.module"``, per ladder band number, and any product), its ``budget`` (None: none)."""

    name: str
    size: int = 1
    values: Mapping[str, Decimal | int | str] = field(default_factory=dict)
    band_values: Mapping[int, Decimal | int | str] = field(default_factory=dict)
    base_value: Decimal | int | str = 0
    budget: Decimal | int | str | None = None


@dataclass(frozen=True)
class Option:
    """One configuration a segment may buy: its band number, value to the segment, price
    before the ladder surcharge and the firm's cost of it (per unit)."""

    configuration: Configuration
    band: int
    value: Decimal
    base: Decimal
    cost: Decimal


@dataclass(frozen=True)
class Purchase:
    """What a segment buys under given surcharges (``option`` None: it walks away)."""

    segment: str
    option: Option | None
    price: Decimal | None
    margin: Decimal


def _money(value: Decimal | int | str, what: str) -> Decimal:
    try:
        return to_decimal(value, what=what)
    except ValueError as error:
        raise NeedsError(f"pricing: {what}: {error}") from None


def segment_prefer(catalog: Catalog, segment: Segment) -> dict[str, int]:
    """The segment's values per module in minor units: the preference weights of its needs."""
    scale = 10**catalog.decimals
    prefer: dict[str, int] = {}
    for ref, value in segment.values.items():
        minor = _money(value, f"segment '{segment.name}', value of {ref}") * scale
        if minor != minor.to_integral_value():
            raise NeedsError(
                f"pricing: segment '{segment.name}' values {ref} at {value}, finer than the "
                f"currency's minor unit; round it to {catalog.decimals} decimals"
            )
        prefer[ref] = int(minor)
    return prefer


def band_needs(band: Band) -> dict[str, int]:
    """The degree band of ``band`` as a ``Needs.degree`` range."""
    return {"min": band.low} if band.high is None else {"min": band.low, "max": band.high}


def option_of(
    cfg: Configurator, segment: Segment, band: Band, found: Quote, rule_id: str
) -> Option:
    """The option of a quote priced with the segment's values as preference weights."""
    catalog = cfg.catalog
    surcharge = sum((line.amount for line in found.lines if line.source == rule_id), Decimal(0))
    cost = sum(
        (
            (catalog.slots[slot].modules[module].cost * units)
            for slot, module, units in found.configuration.units()
        ),
        Decimal(0),
    )
    value = (
        _money(segment.base_value, f"segment '{segment.name}', base_value")
        + _money(segment.band_values.get(band.number, 0), f"segment '{segment.name}', band value")
        + Decimal(found.score).scaleb(-catalog.decimals)
    )
    return Option(found.configuration, band.number, value, found.unit_price - surcharge, cost)


def candidate_options(
    cfg: Configurator,
    segment: Segment,
    bands: Sequence[Band],
    rule_id: str,
    lowest: Mapping[int, Decimal],
    deadline: float,
) -> list[Option]:
    """The options of one segment: per band, its Pareto front of (price, value) among the
    configurations it could afford at the band's lowest surcharge (``lowest``);
    :class:`~modcfg.LimitExceeded` when the fronts take past ``deadline``."""
    catalog = cfg.catalog
    prefer = segment_prefer(catalog, segment)
    options: list[Option] = []
    for band in bands:
        budget = None
        if segment.budget is not None:
            # affordable at the lowest surcharge: base <= budget - lowest, where the quote's
            # unit price is base plus the band's current surcharge
            current = Decimal(0) if band.step is None else ladder_amount(catalog, band.step)
            unit = _money(segment.budget, "budget") - lowest.get(band.number, Decimal(0))
            if unit + current < 0:
                continue
            budget = order_total(catalog, unit + current, Needs().resolve(catalog))
        needs = Needs(prefer=prefer, degree=band_needs(band), budget=budget)
        time_limit = max(deadline - time.monotonic(), 0.001)
        options += [
            option_of(cfg, segment, band, found, rule_id)
            for found in cfg.pareto(needs, time_limit=time_limit)
        ]
    return options


def best_response(
    segment: Segment, options: Sequence[Option], surcharges: Mapping[int, Decimal]
) -> Purchase:
    """The segment's choice under the surcharges (ties: the firm's best margin)."""
    budget = None if segment.budget is None else _money(segment.budget, "budget")
    best: tuple[Decimal, Decimal, Option] | None = None
    for option in options:
        price = option.base + surcharges.get(option.band, Decimal(0))
        if budget is not None and price > budget:
            continue
        utility = option.value - price
        if utility < 0:
            continue
        key = (utility, price - option.cost, option)
        if best is None or key[:2] > best[:2]:
            best = key
    if best is None:
        return Purchase(segment.name, None, None, Decimal(0))
    _, unit_margin, option = best
    price = option.base + surcharges.get(option.band, Decimal(0))
    return Purchase(segment.name, option, price, unit_margin * segment.size)


def margin_of(
    segments: Sequence[Segment],
    options: Sequence[Sequence[Option]],
    surcharges: Mapping[int, Decimal],
) -> tuple[Decimal, list[Purchase]]:
    """The firm's total margin under the surcharges, and each segment's purchase."""
    purchases = [
        best_response(segment, found, surcharges)
        for segment, found in zip(segments, options, strict=True)
    ]
    return sum((p.margin for p in purchases), Decimal(0)), purchases


def _breakpoints(
    segments: Sequence[Segment],
    options: Sequence[Sequence[Option]],
    surcharges: Mapping[int, Decimal],
    bands: Sequence[int],
) -> set[Decimal]:
    """The surcharges of ``bands`` (moved together) at which some segment changes its
    choice: a tie with its best option outside them or with walking away, or its budget."""
    points: set[Decimal] = set()
    for segment, found in zip(segments, options, strict=True):
        outside = Decimal(0)
        for option in found:
            if option.band not in bands:
                price = option.base + surcharges.get(option.band, Decimal(0))
                fits = segment.budget is None or price <= _money(segment.budget, "budget")
                if fits:
                    outside = max(outside, option.value - price)
        for option in found:
            if option.band in bands:
                points.add(option.value - option.base - outside)
                if segment.budget is not None:
                    points.add(_money(segment.budget, "budget") - option.base)
    return points


def line_search(
    segments: Sequence[Segment],
    options: Sequence[Sequence[Option]],
    surcharges: dict[int, Decimal],
    bands: Sequence[int],
    bounds: tuple[Decimal, Decimal],
) -> tuple[Decimal, dict[int, Decimal]]:
    """The best common surcharge of ``bands`` within ``bounds``, the others fixed (exact:
    the margin only changes slope at the breakpoints)."""
    low, high = bounds
    candidates = {low, high}
    candidates |= {
        p for p in _breakpoints(segments, options, surcharges, bands) if low <= p <= high
    }
    best: tuple[Decimal, dict[int, Decimal]] | None = None
    for point in sorted(candidates):
        trial = {**surcharges, **dict.fromkeys(bands, point)}
        margin, _ = margin_of(segments, options, trial)
        if best is None or margin > best[0]:
            best = (margin, trial)
    assert best is not None  # (candidates holds the bounds)
    return best


def coordinate_ascent(
    segments: Sequence[Segment],
    options: Sequence[Sequence[Option]],
    start: dict[int, Decimal],
    bounds: Mapping[int, tuple[Decimal, Decimal]],
    deadline: float,
) -> tuple[Decimal, dict[int, Decimal]]:
    """Best response band by band until no band improves (or the deadline passes)."""
    current = dict(start)
    margin, _ = margin_of(segments, options, current)
    improved = True
    while improved and time.monotonic() < deadline:
        improved = False
        for band, limits in bounds.items():
            found, trial = line_search(segments, options, current, [band], limits)
            if found > margin:
                margin, current, improved = found, trial, True
    return margin, current


def current_surcharges(cfg: Configurator, bands: Sequence[Band]) -> dict[int, Decimal]:
    """The catalog's own surcharge of every band with a step."""
    return {
        band.number: ladder_amount(cfg.catalog, band.step)
        for band in bands
        if band.step is not None
    }


def ladder_of(cfg: Configurator, rule: str | None) -> tuple[str, list[Band]]:
    """The ladder rule optimised (by id, or the catalog's only one) and its bands."""
    ladders = cfg.catalog.ladder_price_rules
    chosen = [r for r in ladders if rule is None or r.id == rule]
    if not chosen or (rule is None and len(ladders) > 1):
        names = ", ".join(r.id for r in ladders) or "none"
        raise NeedsError(
            f"pricing: the catalog has {'no' if not ladders else 'several'} ladder price rules "
            f"(ladders: {names}); add a 'ladder' price rule and a standard configuration, or "
            "name the rule with rule="
        )
    return chosen[0].id, ladder_bands(chosen[0])

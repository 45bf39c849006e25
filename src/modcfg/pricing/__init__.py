"""Pricing strategy: revenue-optimal surcharges of a price ladder for customer segments.

:func:`optimise` chooses the surcharge of every band of a catalog's ladder price rule within
bounds so that the expected margin is highest when each :class:`Segment` buys its best
configuration (or nothing); see :mod:`modcfg.pricing._optimise` for the model, the exact
CP-SAT method and the best-response heuristic. The CP-SAT model lives with the CP-SAT engine
(``ortools`` is imported there only, and only when the exact method runs).

This package reads a :class:`~modcfg.Configurator` through its public methods only.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from .._errors import NeedsError
from ..model import to_decimal
from ._optimise import (
    Method,
    Option,
    Purchase,
    Segment,
    candidate_options,
    coordinate_ascent,
    current_surcharges,
    ladder_of,
    line_search,
    margin_of,
)

if TYPE_CHECKING:
    from .._configurator import Configurator

__all__ = ["Option", "PricingResult", "Purchase", "Segment", "optimise"]

#: Options (over all segments) up to which ``method="auto"`` solves the bilevel model exactly.
EXACT_OPTIONS = 400
Bounds = tuple[Decimal | int | str, Decimal | int | str]


@dataclass(frozen=True)
class PricingResult:
    """Surcharges per band number, the margin they earn and what each segment buys, with
    the margins of flat pricing (one surcharge for every customised band, optimised) and of
    the catalog's current surcharges. ``optimal``: proved optimal over the options."""

    surcharges: dict[int, Decimal]
    margin: Decimal
    purchases: list[Purchase]
    flat_surcharge: Decimal
    flat_margin: Decimal
    current_margin: Decimal
    method: str
    optimal: bool
    seconds: float

    def __repr__(self) -> str:
        bands = ", ".join(f"band {b}: {amount}" for b, amount in self.surcharges.items())
        return (
            f"<PricingResult margin {self.margin} ({bands}); flat {self.flat_margin}, "
            f"current {self.current_margin}; {self.method}>"
        )


def _bounds(
    given: Bounds | Mapping[int, Bounds], bands: Sequence[int]
) -> dict[int, tuple[Decimal, Decimal]]:
    if isinstance(given, Mapping):
        unknown = sorted(set(given) - set(bands))
        if unknown:
            raise NeedsError(
                f"pricing: bounds name band {unknown[0]}, which has no surcharge step "
                f"(bands with steps: {', '.join(map(str, bands))})"
            )
        pairs = {band: given[band] for band in bands if band in given}
        missing = [band for band in bands if band not in given]
        if missing:
            raise NeedsError(
                f"pricing: bounds give no range for band {missing[0]}; give (low, high) for "
                "every band with a step, or one (low, high) for all"
            )
    else:
        pairs = dict.fromkeys(bands, given)
    found: dict[int, tuple[Decimal, Decimal]] = {}
    for band, (low, high) in pairs.items():
        try:
            low_amount, high_amount = to_decimal(low), to_decimal(high)
        except ValueError as error:
            raise NeedsError(f"pricing: bounds of band {band}: {error}") from None
        if low_amount > high_amount:
            raise NeedsError(f"pricing: bounds of band {band} run from {low} down to {high}")
        found[band] = (low_amount, high_amount)
    return found


def optimise(
    cfg: Configurator,
    segments: Sequence[Segment],
    bounds: Bounds | Mapping[int, Bounds],
    *,
    rule: str | None = None,
    method: Method = "auto",
    time_limit: float = 30.0,
) -> PricingResult:
    """Surcharges per band of the catalog's ladder rule (``rule``: its id when there are
    several) within ``bounds`` (one ``(low, high)`` for every band with a step, or a mapping
    band number -> ``(low, high)``) that maximise the segments' total margin.

    ``method="exact"`` solves the bilevel model with CP-SAT, ``"best-response"`` runs the
    heuristic, ``"auto"`` solves exactly up to ``EXACT_OPTIONS`` options and keeps the
    better of both answers. ``time_limit`` (seconds) bounds the search (not the exact fronts
    of the options, which the configurator computes first).
    """
    started = time.monotonic()
    if not segments:
        raise NeedsError("pricing: no segments given; give at least one Segment(...)")
    rule_id, bands = ladder_of(cfg, rule)
    stepped = [band.number for band in bands if band.step is not None]
    limits = _bounds(bounds, stepped)
    lowest = {band: low for band, (low, _) in limits.items()}
    options = [candidate_options(cfg, segment, bands, rule_id, lowest) for segment in segments]
    current = current_surcharges(cfg, bands)
    current_margin, _ = margin_of(segments, options, current)
    deadline = time.monotonic() + time_limit
    flat_low = min((low for low, _ in limits.values()), default=Decimal(0))
    flat_high = max((high for _, high in limits.values()), default=Decimal(0))
    flat_margin, flat = line_search(
        segments, options, dict(current), stepped, (flat_low, flat_high)
    )
    # from the current surcharges and from the best flat one (clipped to each band's bounds)
    margin, surcharges = Decimal(-1), dict(current)
    for origin in (current, flat):
        start = {band: min(max(origin[band], low), high) for band, (low, high) in limits.items()}
        found = coordinate_ascent(segments, options, start, limits, deadline)
        if found[0] > margin:
            margin, surcharges = found
    name, optimal = "best-response", False
    size = sum(len(found) for found in options)
    if method == "exact" or (method == "auto" and size <= EXACT_OPTIONS):
        from ._exact import solve_exactly

        solved = solve_exactly(
            cfg, segments, options, limits, surcharges, max(deadline - time.monotonic(), 0.1)
        )
        if solved is not None:
            exact_margin, exact_surcharges, optimal = solved
            if exact_margin >= margin:
                margin, surcharges, name = exact_margin, exact_surcharges, "exact"
    quantum = Decimal(1).scaleb(-cfg.catalog.decimals)
    surcharges = {band: amount.quantize(quantum) for band, amount in surcharges.items()}
    _, purchases = margin_of(segments, options, surcharges)
    return PricingResult(
        surcharges=dict(sorted(surcharges.items())),
        margin=margin,
        purchases=purchases,
        flat_surcharge=flat[stepped[0]].quantize(quantum) if stepped else Decimal(0),
        flat_margin=flat_margin,
        current_margin=current_margin,
        method=name,
        optimal=optimal,
        seconds=time.monotonic() - started,
    )

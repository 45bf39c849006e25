"""Pricing strategy: revenue-optimal surcharges of a price ladder for customer segments.

:func:`optimise` chooses the surcharge of every band of a catalog's ladder price rule within
bounds so that the expected margin is highest when each :class:`Segment` buys its best
configuration (or nothing); see :mod:`modcfg.pricing._optimise` for the model, the exact
CP-SAT method and the best-response heuristic, and :mod:`modcfg.pricing._generated` for the
options of large catalogs (each segment's best choice per band, one CP-SAT query each, in
rounds bounded by count and time). The CP-SAT models live with the CP-SAT engine (``ortools``
is imported there only, and only when they run).

This package reads a :class:`~modcfg.Configurator` through its public methods, and for
generated options the needs' lowered problem (``cfg.compiled.plan(needs).problem``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Literal

from .._errors import LimitExceeded, NeedsError
from ..model import to_decimal
from ._generated import Responder, generate
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
#: Configurations up to which ``candidates="auto"`` lists every band's front as the options.
FRONT_CONFIGURATIONS = 100_000
Candidates = Literal["auto", "fronts", "generated"]
Bounds = tuple[Decimal | int | str, Decimal | int | str]


@dataclass(frozen=True)
class PricingResult:
    """Surcharges per band number, the margin they earn and what each segment buys, with
    the margins of flat pricing (one surcharge for every customised band, optimised) and of
    the catalog's current surcharges. ``optimal``: proved optimal over the options;
    ``candidates``: where the options came from (``"fronts"``: exact fronts, so optimal means
    optimal over the catalog; ``"generated"``: best-choice queries, ``rounds`` of them);
    ``verified``: every purchase is proved its segment's best choice over the whole catalog
    under ``surcharges`` (false only when the time limit cut a generated search short)."""

    surcharges: dict[int, Decimal]
    margin: Decimal
    purchases: list[Purchase]
    flat_surcharge: Decimal
    flat_margin: Decimal
    current_margin: Decimal
    method: str
    optimal: bool
    seconds: float
    candidates: str = "fronts"
    verified: bool = True
    rounds: int = 0

    def __repr__(self) -> str:
        bands = ", ".join(f"band {b}: {amount}" for b, amount in self.surcharges.items())
        return (
            f"<PricingResult margin {self.margin} ({bands}); flat {self.flat_margin}, "
            f"current {self.current_margin}; {self.method}"
            f"{'' if self.verified else ', not verified'}>"
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


@dataclass(frozen=True)
class _Found:
    """The best surcharges over fixed options, and the best flat ones."""

    margin: Decimal
    surcharges: dict[int, Decimal]
    flat_margin: Decimal
    flat: dict[int, Decimal]
    method: str
    optimal: bool


def _search(
    cfg: Configurator,
    segments: Sequence[Segment],
    options: Sequence[Sequence[Option]],
    limits: Mapping[int, tuple[Decimal, Decimal]],
    current: Mapping[int, Decimal],
    method: Method,
    deadline: float,
) -> _Found:
    """The heuristic from the current and the best flat surcharges, then (by ``method``) the
    exact bilevel model over the options; the better answer."""
    stepped = list(limits)
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
    return _Found(margin, surcharges, flat_margin, flat, name, optimal)


def optimise(
    cfg: Configurator,
    segments: Sequence[Segment],
    bounds: Bounds | Mapping[int, Bounds],
    *,
    rule: str | None = None,
    method: Method = "auto",
    candidates: Candidates = "auto",
    time_limit: float = 30.0,
    max_rounds: int = 12,
    progress: Callable[[int, Decimal], None] | None = None,
) -> PricingResult:
    """Surcharges per band of the catalog's ladder rule (``rule``: its id when there are
    several) within ``bounds`` (one ``(low, high)`` for every band with a step, or a mapping
    band number -> ``(low, high)``) that maximise the segments' total margin.

    ``method="exact"`` solves the bilevel model with CP-SAT, ``"best-response"`` runs the
    heuristic, ``"auto"`` solves exactly up to ``EXACT_OPTIONS`` options and keeps the
    better of both answers. ``candidates`` says which configurations are the segments'
    options: ``"fronts"`` every band's exact Pareto front (the answer is exact over the whole
    catalog), ``"generated"`` each segment's best choice per band under the surcharges tried,
    one CP-SAT query each, for at most ``max_rounds`` rounds (for large catalogs), ``"auto"``
    the fronts up to ``FRONT_CONFIGURATIONS`` configurations (or when they take past the
    time limit, generated). ``time_limit`` (seconds) bounds the whole search; the best
    answer found by then is returned, ``verified`` telling whether every purchase in it is
    proved its segment's best choice. ``progress(round, margin)`` is told after each round
    of generated options.
    """
    started = time.monotonic()
    if not segments:
        raise NeedsError("pricing: no segments given; give at least one Segment(...)")
    if max_rounds < 1:
        raise NeedsError(f"pricing: max_rounds={max_rounds} runs no round; give 1 or more")
    rule_id, bands = ladder_of(cfg, rule)
    stepped = [band.number for band in bands if band.step is not None]
    limits = _bounds(bounds, stepped)
    current = current_surcharges(cfg, bands)
    deadline = started + time_limit
    options: list[list[Option]] | None = None
    if candidates == "fronts" or (candidates == "auto" and cfg.count() <= FRONT_CONFIGURATIONS):
        lowest = {band: low for band, (low, _) in limits.items()}
        try:
            options = [
                candidate_options(cfg, segment, bands, rule_id, lowest, deadline)
                for segment in segments
            ]
        except LimitExceeded:
            if candidates == "fronts":
                raise
    if options is not None:
        found = _search(cfg, segments, options, limits, current, method, deadline)
        current_margin, _ = margin_of(segments, options, current)
        chosen, flat, flat_margin = found.surcharges, found.flat, found.flat_margin
        margin, name, optimal = found.margin, found.method, found.optimal
        verified, rounds, used = True, 0, "fronts"
    else:
        responder = Responder(cfg, segments, bands, rule_id, deadline)
        highest = {band: high for band, (_, high) in limits.items()}
        lowest = {band: low for band, (low, _) in limits.items()}

        def search(
            known: Sequence[Sequence[Option]],
        ) -> tuple[dict[int, Decimal], dict[int, Decimal]]:
            # a third of the time left, so the answers to it can still be proved
            share = time.monotonic() + (deadline - time.monotonic()) / 3
            found = _search(cfg, segments, known, limits, current, method, share)
            return found.surcharges, found.flat

        generated = generate(
            responder,
            search,
            (current, lowest, highest),
            max_rounds=max_rounds,
            progress=progress,
        )
        options = generated.options
        chosen, flat, flat_margin = generated.surcharges, generated.flat, generated.flat_margin
        margin, current_margin = generated.margin, generated.current_margin
        name, optimal, verified = "generated", False, generated.verified
        rounds, used = generated.rounds, "generated"
    quantum = Decimal(1).scaleb(-cfg.catalog.decimals)
    chosen = {band: amount.quantize(quantum) for band, amount in chosen.items()}
    margin, purchases = margin_of(segments, options, chosen)
    return PricingResult(
        surcharges=dict(sorted(chosen.items())),
        margin=margin,
        purchases=purchases,
        flat_surcharge=flat[stepped[0]].quantize(quantum) if stepped else Decimal(0),
        flat_margin=flat_margin,
        current_margin=current_margin,
        method=name,
        optimal=optimal,
        seconds=time.monotonic() - started,
        candidates=used,
        verified=verified,
        rounds=rounds,
    )

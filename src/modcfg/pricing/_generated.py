"""Options generated on demand, for catalogs too large to list every segment's fronts.

A segment's best choice in a band under given surcharges is one optimisation: the
configuration of highest value minus price (the segment's values as preference weights) in
the band's degree range whose price fits the budget after the band's surcharge. CP-SAT
answers it on the whole catalog (``engines/cpsat/_bilevel.best_utility``), so no front is
walked. The search alternates two steps, at most ``max_rounds`` times and within a deadline:

1. optimise the surcharges over the options known so far (:func:`search`, given by the caller);
2. ask every segment's best choice in every band under those surcharges (and under the best
   flat surcharge) and add the configurations not yet known.

It stops when a round adds no option (the options then hold every segment's best choice under
the surcharges found), at the round cap or at the deadline. Cost per round: segments x bands
CP-SAT optimisations for each surcharge vector answered, each capped by the time left; past
the deadline no query runs, and answers not proved leave the result marked unverified.

Invariant: after :meth:`Responder.respond` has answered surcharges with every query proved,
:func:`~modcfg.pricing._optimise.margin_of` over the options is their exact margin (each
segment's best choice over every configuration is among its options, and the other options
are real configurations), whatever the options later hold.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from typing import TYPE_CHECKING

from ..model import Configuration, Needs
from ._optimise import (
    Option,
    Segment,
    band_needs,
    current_surcharges,
    margin_of,
    option_of,
    segment_prefer,
)

if TYPE_CHECKING:
    from .._configurator import Configurator
    from .._plan import Plan
    from ..model._customization import Band

__all__ = ["Generated", "Responder", "generate"]

Surcharges = dict[int, Decimal]
#: Optimises surcharges over options: returns the best surcharges and the best flat ones.
Search = Callable[[Sequence[Sequence[Option]]], tuple[Surcharges, Surcharges]]


class Responder:
    """Each segment's best configuration per band under given surcharges, found by CP-SAT
    and kept, with every configuration found before, as the segments' ``options``."""

    def __init__(
        self,
        cfg: Configurator,
        segments: Sequence[Segment],
        bands: Sequence[Band],
        rule_id: str,
        deadline: float,
    ) -> None:
        self.cfg, self.segments, self.bands, self.rule_id = cfg, segments, bands, rule_id
        self.deadline = deadline
        self.current = current_surcharges(cfg, bands)
        self.options: list[list[Option]] = [[] for _ in segments]
        self._known: list[set[tuple[int, Configuration]]] = [set() for _ in segments]
        self._needs: list[Needs] = []
        self._plans: dict[tuple[int, int], Plan] = {}
        for index, segment in enumerate(segments):
            self._needs.append(Needs(prefer=segment_prefer(cfg.catalog, segment)))
            for band in bands:
                needs = Needs(prefer=self._needs[-1].prefer, degree=band_needs(band))
                self._plans[index, band.number] = cfg.compiled.plan(needs)
        self.queries = 0
        self._answered: dict[tuple[tuple[int, Decimal], ...], bool] = {}

    def _cap(self, segment: Segment, band: Band, surcharges: Mapping[int, Decimal]) -> int | None:
        """The highest unit cost before the ladder (minor units) that fits the segment's
        budget under ``surcharges``."""
        if segment.budget is None:
            return None
        unit = Decimal(str(segment.budget)) - surcharges.get(band.number, Decimal(0))
        return int(unit.scaleb(self.cfg.catalog.decimals).to_integral_value(ROUND_FLOOR))

    def _costs(self, plan: Plan) -> list[list[int]]:
        """The firm's cost (minor units, rounded) of every value of every variable."""
        catalog = self.cfg.catalog
        return [
            [
                int(
                    sum(
                        (catalog.slots[domain.slot].modules[m].cost * n for m, n in units),
                        Decimal(0),
                    )
                    .scaleb(catalog.decimals)
                    .to_integral_value()
                )
                for units in domain.units
            ]
            for domain in plan.problem.domains
        ]

    def respond(self, surcharges: Mapping[int, Decimal]) -> tuple[int, bool]:
        """Add every segment's best choice per band under ``surcharges``; returns how many
        options were new and whether every answer was proved best."""
        from ..engines.cpsat._bilevel import best_utility

        key = tuple(sorted(surcharges.items()))
        if key in self._answered:  # answered before: its best choices are options already
            return 0, self._answered[key]
        added, proved = 0, True
        for index, segment in enumerate(self.segments):
            for band in self.bands:
                left = self.deadline - time.monotonic()
                if left <= 0:  # past the deadline nothing more is asked or proved
                    proved = False
                    continue
                plan = self._plans[index, band.number]
                cap = self._cap(segment, band, surcharges)
                answer = best_utility(
                    plan.problem,
                    cost_bound=cap,
                    time_limit=left,
                    without=self.rule_id,
                    costs=self._costs(plan),
                )
                self.queries += 1
                proved = proved and answer.proved
                if answer.assignment is None:
                    continue
                configuration = self.cfg.compiled.configuration(answer.assignment)
                if (band.number, configuration) in self._known[index]:
                    continue
                self._known[index].add((band.number, configuration))
                found = self.cfg.price(configuration, self._needs[index])
                self.options[index].append(option_of(self.cfg, segment, band, found, self.rule_id))
                added += 1
        if proved:
            self._answered[key] = proved
        return added, proved


@dataclass(frozen=True)
class Generated:
    """The outcome of :func:`generate`: the best surcharges answered (and their margin), the
    best flat ones, the current ones' margin, whether every answer behind those margins was
    proved, whether the options stopped growing, and the rounds run."""

    margin: Decimal
    surcharges: Surcharges
    flat_margin: Decimal
    flat: Surcharges
    current_margin: Decimal
    verified: bool
    converged: bool
    rounds: int
    options: list[list[Option]]


def generate(
    responder: Responder,
    search: Search,
    starts: Sequence[Mapping[int, Decimal]],
    *,
    max_rounds: int,
    progress: Callable[[int, Decimal], None] | None,
) -> Generated:
    """Alternate :func:`search` over the options and answering its surcharges (see the
    module docstring), seeded with the segments' answers to ``starts`` (the first: the
    catalog's current surcharges)."""
    segments = responder.segments
    seeds_proved = True
    for start in starts:
        seeds_proved = responder.respond(start)[1] and seeds_proved
    current = dict(starts[0])
    # the current surcharges are answered: a search never reports less than they earn
    current_margin, _ = margin_of(segments, responder.options, current)
    best: tuple[Decimal, bool, Surcharges] = (current_margin, seeds_proved, current)
    best_flat: tuple[Decimal, bool, Surcharges] | None = None
    converged, rounds = False, 0
    while rounds < max_rounds:
        rounds += 1
        surcharges, flat = search(responder.options)
        added, proved = responder.respond(surcharges)
        more, flat_proved = responder.respond(flat)
        margin, _ = margin_of(segments, responder.options, surcharges)
        flat_margin, _ = margin_of(segments, responder.options, flat)
        # a proved answer beats any unproved one: its margin is exact
        if (proved, margin) > (best[1], best[0]):
            best = (margin, proved, surcharges)
        if best_flat is None or (flat_proved, flat_margin) > best_flat[:2]:
            best_flat = (flat_margin, flat_proved, flat)
        if progress is not None:
            progress(rounds, best[0])
        if not (added or more):
            converged = True
            break
        if time.monotonic() >= responder.deadline:
            break
    if best_flat is None:  # (max_rounds >= 1 is checked by the caller)
        raise ValueError("generate() needs max_rounds >= 1")
    return Generated(
        margin=best[0],
        surcharges=best[2],
        flat_margin=best_flat[0],
        flat=best_flat[2],
        current_margin=current_margin,
        verified=best[1],
        converged=converged,
        rounds=rounds,
        options=responder.options,
    )

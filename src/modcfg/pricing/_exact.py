"""The exact method: the segments' options in minor units, solved by the CP-SAT bilevel model.

Invariant: the margin returned is recomputed in Decimal from the surcharges CP-SAT found
(``margin_of``), so it is the margin of the segments' best responses whatever the solver says.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from ._optimise import Option, Segment, margin_of

if TYPE_CHECKING:
    from .._configurator import Configurator

__all__ = ["solve_exactly"]


def solve_exactly(
    cfg: Configurator,
    segments: Sequence[Segment],
    options: Sequence[Sequence[Option]],
    limits: Mapping[int, tuple[Decimal, Decimal]],
    hint: Mapping[int, Decimal],
    time_limit: float,
) -> tuple[Decimal, dict[int, Decimal], bool] | None:
    """The best surcharges found by CP-SAT, their margin and whether they are proved optimal
    (None when CP-SAT found none in time, or values are not whole minor units)."""
    from ..engines.cpsat._bilevel import BilevelOption, BilevelSegment, solve_bilevel

    scale = 10**cfg.catalog.decimals
    bands = list(limits)
    position = {band: index for index, band in enumerate(bands)}

    def minor(amount: Decimal) -> int | None:
        scaled = amount * scale
        return int(scaled) if scaled == scaled.to_integral_value() else None

    bounds: list[tuple[int, int]] = []
    for low, high in limits.values():
        # surcharges are whole minor units: round the bounds inwards
        bounds.append((int((low * scale).to_integral_value("ROUND_CEILING")), int(high * scale)))
    extra = len(bands)  # bands without a step: a fixed surcharge of 0
    bounds.append((0, 0))
    lowered: list[BilevelSegment] = []
    for segment, found in zip(segments, options, strict=True):
        items = []
        for option in found:
            worth, base = minor(option.value - option.base), minor(option.base)
            gain = minor(option.base - option.cost)
            if worth is None or base is None or gain is None:
                return None
            items.append(BilevelOption(position.get(option.band, extra), worth, base, gain))
        budget = None if segment.budget is None else minor(Decimal(str(segment.budget)))
        if segment.budget is not None and budget is None:
            return None
        if not isinstance(segment.size, int):
            return None
        lowered.append(BilevelSegment(segment.size, budget, items))
    start = [minor(hint[band]) for band in bands]
    solved = solve_bilevel(
        bounds,
        lowered,
        time_limit=time_limit,
        hint=None if None in start else [*(s for s in start if s is not None), 0],
    )
    if solved is None:
        return None
    values, optimal = solved
    surcharges = {band: Decimal(values[i]) / scale for i, band in enumerate(bands)}
    margin, _ = margin_of(segments, options, surcharges)
    return margin, surcharges, optimal

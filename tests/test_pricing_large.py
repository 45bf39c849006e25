"""The pricing optimiser on a catalog of 2e8 configurations: bounded by its time limit.

The bundled bicycle catalog with a standard (its cheapest configuration), degree weights on
five slots and a two-step ladder is far too large for fronts, so the optimiser generates each
segment's options with one CP-SAT query per band and round; it must return within its
``time_limit`` (plus the last step's slack) with surcharges whose purchases it prices as the
catalog does.
"""

from __future__ import annotations

import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest

import modcfg
from modcfg.pricing import PricingResult, Segment, optimise

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.pricing import ladder_catalog  # noqa: E402

#: Seconds a search may overrun its limit: its last search step and the final quotes.
SLACK = 15.0


@pytest.mark.slow
def test_a_bicycle_sized_optimisation_finishes_within_its_limit() -> None:
    # the benchmark's ladder with fixed surcharges: 50.00 from degree 1, 150.00 from degree 3
    cfg = modcfg.compile(ladder_catalog("bicycle", {2: Decimal("50"), 3: Decimal("150")}))
    assert cfg.count() > 10**8
    standard = cfg.price(cfg.catalog.standard_configuration or {}).unit_price
    segments = [
        Segment(
            "road",
            size=30,
            values={"frame.road-alu": 600, "groupset.shimano-105": 700},
            base_value=standard,
            budget=standard * 2,
        ),
        Segment(
            "gravel",
            size=20,
            values={"frame.gravel-carbon": 2000, "wheels.gravel-dynamo": 650},
            base_value=standard,
            budget=standard * 3,
        ),
    ]
    run_within(cfg, segments, 3.0)
    result = run_within(cfg, segments, 40.0)
    assert result.verified  # 40 s is ample for a few rounds of 2 x 3 queries


def run_within(cfg: modcfg.Configurator, segments: list[Segment], limit: float) -> PricingResult:
    """Optimise within ``limit`` seconds, checking the time, the rounds and the prices."""
    rounds: list[int] = []
    started = time.monotonic()
    result = optimise(
        cfg,
        segments,
        ("0", "300"),
        time_limit=limit,
        progress=lambda done, _: rounds.append(done),
    )
    assert time.monotonic() - started < limit + SLACK
    assert result.candidates == "generated"
    assert 1 <= result.rounds <= 12
    assert rounds == list(range(1, result.rounds + 1))
    assert result.margin >= result.current_margin or not result.verified
    rule = cfg.catalog.ladder_price_rules[0].id
    for purchase in result.purchases:
        if purchase.option is None:
            continue
        quoted = cfg.price(purchase.option.configuration)
        ladder = sum((line.amount for line in quoted.lines if line.source == rule), Decimal(0))
        surcharge = result.surcharges.get(purchase.option.band, Decimal(0))
        assert purchase.price == quoted.unit_price - ladder + surcharge
    return result

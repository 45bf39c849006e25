"""The pricing optimiser on a catalog of 2e8 configurations: bounded by its time limit.

The bundled bicycle catalog with a standard (its cheapest configuration), degree weights on
five slots and a two-step ladder is far too large for fronts, so the optimiser generates each
segment's options with one CP-SAT query per band and round; it must return within its
``time_limit`` (plus the last step's slack) with surcharges whose purchases it prices as the
catalog does.
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import pytest

import modcfg
from modcfg.model import catalog_to_data
from modcfg.pricing import PricingResult, Segment, optimise

WEIGHTED = ("frame", "fork", "wheels", "groupset", "colour")
#: Seconds a search may overrun its limit: its last search step and the final quotes.
SLACK = 15.0


def bicycle_ladder() -> modcfg.Catalog:
    base = modcfg.compile("bicycle")
    data: dict[str, Any] = catalog_to_data(base.catalog)
    cheapest = base.best(k=1)[0].configuration
    data["standard"] = {
        slot: (dict(choice) if isinstance(choice, dict) else choice)
        for slot, choice in cheapest.items()
    }
    for slot_id, slot in data["slots"].items():
        if slot_id not in WEIGHTED:
            slot["degree_weight"] = 0
        for module in slot["modules"].values():
            module["cost"] = str(Decimal(module.get("price", "0")) * 6 / 10)
    ladder = [{"min_degree": 1, "amount": "50"}, {"min_degree": 3, "amount": "150"}]
    data.setdefault("prices", []).append({"id": "customised", "ladder": ladder})
    return modcfg.Catalog.model_validate(data)


@pytest.mark.slow
def test_a_bicycle_sized_optimisation_finishes_within_its_limit() -> None:
    cfg = modcfg.compile(bicycle_ladder())
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

"""Degrees, price ladders, variety and ranking by preference against brute force.

The catalogs of ``tests/strategies.py`` carry standards, degree weights, slot kinds and
ladders with amount steps (so every engine property test draws them too); here percent steps
are added, and each answer of the configurator is compared with ``tests/oracle.py`` and
``tests/pricing_oracle.py`` on random small catalogs.
"""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import modcfg
from modcfg.model import catalog_from_data

from . import oracle, pricing_oracle, strategies

#: 200 examples in CI (CI=true); fewer by default, where brute force runs several times per
#: example and the quick suite must stay quick.
PROPERTIES = settings(max_examples=200 if os.environ.get("CI") == "true" else 40, deadline=None)
#: Configurations (before rules) of the catalogs drawn here.
SIZE = 120
K = 4


@st.composite
def ladder_cases(draw: st.DrawFn) -> strategies.Case:
    """A case whose catalog has a standard and a ladder with percent and amount steps."""
    data: dict[str, Any] = draw(strategies.catalog_data(SIZE))
    catalog = catalog_from_data(data)
    if "standard" not in data:
        data["standard"] = {
            slot_id: (dict(c) if isinstance(c, dict) else c)
            for slot_id, slot in catalog.slots.items()
            for c in [draw(st.sampled_from(oracle.slot_choices(slot)))]
        }
    prices = [rule for rule in data.get("prices", []) if "ladder" not in rule]
    starts = draw(st.lists(st.integers(0, 4), min_size=1, max_size=3, unique=True))
    steps = []
    for start in starts:
        if draw(st.booleans()):
            steps.append({"min_degree": start, "percent": str(draw(st.integers(-20, 60)))})
        else:
            steps.append({"min_degree": start, "amount": str(draw(st.integers(0, 40)))})
    data["prices"] = [*prices, {"id": "ladder", "message": "Customised", "ladder": steps}]
    catalog = catalog_from_data(data)
    needs = draw(strategies.needs(catalog)) if draw(st.booleans()) else None
    if needs is not None:  # no budget: percent steps leave the 5-minor-unit grid
        needs = needs.model_copy(update={"budget": None})
    return strategies.Case(data, catalog, needs)


@PROPERTIES
@given(strategies.cases(SIZE))
def test_degree_and_degree_bands_match_the_oracle(case: strategies.Case) -> None:
    assume(case.catalog.standard is not None)
    cfg = modcfg.compile(case.catalog)
    for configuration in oracle.valid_configurations(case.catalog)[:20]:
        assert cfg.degree(configuration) == oracle.degree(case.catalog, configuration)
    assert cfg.count(case.needs) == oracle.count(case.catalog, case.needs)


@PROPERTIES
@given(ladder_cases())
def test_ladder_quotes_counts_and_best_match_the_oracle(case: strategies.Case) -> None:
    cfg = modcfg.compile(case.catalog)
    rows = oracle.ranked(case.catalog, case.needs)
    assert cfg.count(case.needs) == len(rows)
    resolved = None if case.needs is None else case.needs.resolve(case.catalog)
    for total, _, configuration in rows[:10]:
        found = cfg.price(configuration, case.needs)
        assert found.total == total
        expected = oracle.quote_lines(case.catalog, configuration, resolved)
        assert [(line.kind, line.source, line.amount) for line in found.lines] == [
            (line.kind, line.source, line.amount) for line in expected
        ]
    if rows:
        best = cfg.best(case.needs, k=K)
        assert [(q.total, -q.score) for q in best] == [(t, s) for t, s, _ in rows[:K]]
        state = cfg.session(case.needs).state()
        assert state.count == len(rows)
        assert state.price_range == (rows[0][0], max(total for total, _, _ in rows))


@PROPERTIES
@given(strategies.cases(SIZE))
def test_variety_matches_the_oracle(case: strategies.Case) -> None:
    cfg = modcfg.compile(case.catalog)
    found = cfg.variety(case.needs)
    expected = pricing_oracle.variety(case.catalog, case.needs)
    assert (found.physical, found.presented, found.configurations) == expected


@PROPERTIES
@given(strategies.cases(SIZE))
def test_preference_ranking_blends_and_pareto_front_match_the_oracle(
    case: strategies.Case,
) -> None:
    cfg = modcfg.compile(case.catalog)
    rows = oracle.ranked(case.catalog, case.needs)
    front = cfg.pareto(case.needs)
    assert [(q.total, q.score) for q in front] == pricing_oracle.pareto_points(
        case.catalog, case.needs
    )
    if not rows:
        return
    preferred = cfg.best(case.needs, k=K, rank="preference")
    assert [(q.score, q.total) for q in preferred] == pricing_oracle.preference_keys(
        case.catalog, case.needs, K
    )
    blend = modcfg.Blend(price=1, preference=7)
    blended = cfg.best(case.needs, k=K, rank=blend)
    assert [(7 * q.score - q.total, q.total) for q in blended] == pricing_oracle.blended_keys(
        case.catalog, case.needs, K, 1, 7
    )


def test_a_blend_with_negative_weights_is_refused() -> None:
    cfg = modcfg.compile("windows")
    with pytest.raises(modcfg.NeedsError, match="must be >= 0"):
        cfg.best(k=1, rank=modcfg.Blend(price=-1))


def test_a_percent_ladder_line_reads_band_and_percent() -> None:
    data = modcfg.model.catalog_to_data(modcfg.load_catalog("windows"))
    data["standard"] = {"frame": "pvc", "glass": "double", "grade": "g1", "picture": "plain"}
    data["prices"] = [{"id": "ladder", "ladder": [{"min_degree": 1, "percent": "12"}]}]
    cfg = modcfg.compile(modcfg.Catalog.model_validate(data))
    found = cfg.price({"frame": "oak", "glass": "double", "grade": "g1", "picture": "plain"})
    assert found.lines[-1].reason == "customised: band 2 of 2, +12% (degree 1)"
    assert found.lines[-1].amount == Decimal("16.80")  # 12 % of the standard's 140.00


def test_the_pareto_front_of_an_unpriced_catalog_is_one_configuration(tmp_path: Path) -> None:
    """Every configuration has one price and score: the front is the first one, found without
    walking the other 2**40 (the walk stops once a configuration reaches the top score)."""
    path = tmp_path / "free.dimacs"
    path.write_text("p cnf 40 1\n1 2 0\n")
    cfg = modcfg.compile(modcfg.load_catalog(path))
    front = cfg.pareto(time_limit=20)
    assert [(q.total, q.score) for q in front] == [(Decimal("0.00"), 0)]
    assert not cfg.violations(front[0].configuration)


def test_a_blend_over_unpriced_modules_stops_at_the_best() -> None:
    """Every configuration at the same price: the walk by price stops once the k best are
    found (ties lose to those found first), not after the 2^40 configurations."""
    slots = {f"s{i}": {"cardinality": "optional", "modules": {"on": {}}} for i in range(40)}
    cfg = modcfg.compile(modcfg.Catalog.model_validate({"catalog": "free", "slots": slots}))
    needs = modcfg.Needs(prefer={"s0.on": 3, "s1.on": 2, "s2.on": -1})
    blended = cfg.best(needs, k=3, rank=modcfg.Blend(price=1, preference=7), time_limit=60)
    preferred = cfg.best(needs, k=3, rank="preference")
    assert [q.score for q in blended] == [5, 5, 5]
    assert [q.configuration for q in blended] == [q.configuration for q in preferred]

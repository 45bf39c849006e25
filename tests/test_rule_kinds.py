"""Every rule kind is complete: lowered, judged by the oracle, drawn by the strategies,
documented, and its expression means what the oracle says (docs/contributing.md lists the
places a new kind touches; these tests fail until each of them has it)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import modcfg
from modcfg.lower import PRICE_RULE_LOWERINGS, RULE_LOWERINGS
from modcfg.model import PRICE_RULE_KINDS, RULE_KINDS, ConfigurationView, evaluate, truthy

from . import oracle, strategies

DOCS = Path(__file__).resolve().parents[1] / "docs"
PROPERTIES = settings(max_examples=200, deadline=None)


def test_every_rule_kind_is_lowered_judged_and_drawn() -> None:
    assert set(RULE_LOWERINGS) == set(RULE_KINDS)
    assert set(oracle.RULE_CHECKS) == set(RULE_KINDS)
    assert set(strategies.RULE_MAKERS) == set(RULE_KINDS)


def test_every_price_rule_kind_is_lowered() -> None:
    assert set(PRICE_RULE_LOWERINGS) == set(PRICE_RULE_KINDS)


@pytest.mark.parametrize("kind", RULE_KINDS)
def test_every_rule_kind_is_documented(kind: str) -> None:
    catalog_format = (DOCS / "catalog-format.md").read_text(encoding="utf-8")
    semantics = (DOCS / "semantics.md").read_text(encoding="utf-8")
    assert re.search(rf"^### {kind}\b", catalog_format, re.MULTILINE), kind
    assert re.search(rf"^- `{kind}", semantics, re.MULTILINE), kind


@PROPERTIES
@given(strategies.catalogs(max_configurations=200))
def test_a_rules_expression_means_what_the_oracle_says(catalog: modcfg.Catalog) -> None:
    """``Rule.expression`` is what writers and other tools fall back on for any kind."""
    expressions = [(rule, rule.expression) for rule in catalog.rules]
    for configuration in oracle.all_configurations(catalog):
        chosen = oracle.chosen_modules(configuration)
        view = ConfigurationView(catalog, configuration)
        for rule, expression in expressions:
            holds = oracle.rule_holds(rule, configuration, chosen, view)
            assert truthy(evaluate(expression, view)) == holds, (rule, dict(configuration))


@pytest.mark.parametrize("kind", RULE_KINDS)
@PROPERTIES
@given(data=st.data())
def test_each_rule_kind_alone_matches_the_oracle(kind: str, data: st.DataObject) -> None:
    """Catalogs whose rules are all of one kind: counts, configurations and the best as the
    oracle's (the engine property tests check every query on catalogs of mixed kinds)."""
    case = data.draw(strategies.cases(max_configurations=200, rule_kinds=(kind,)))
    cfg = modcfg.compile(case.catalog)
    rows = oracle.ranked(case.catalog, case.needs)
    everything = len(rows) if case.needs is None else oracle.count(case.catalog)
    assert cfg.count() == everything
    assert cfg.count(case.needs) == len(rows)
    assert set(cfg.configurations(case.needs)) == {row[2] for row in rows}
    if rows:
        best = cfg.best(case.needs, k=3)
        assert [(q.total, -q.score) for q in best] == [row[:2] for row in rows[:3]]

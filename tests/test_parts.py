"""A customer's conditions answered in parts of the catalog's own tree (no tree of their own),
against the brute-force oracle: counts, listings in any order and by price, best, a budget,
and a session's state (every option's count and from-price), as every engine is checked.

The parts are used on large trees only (``PARTS_ROWS`` bag rows), for conditions that no bag
of the tree holds; here every tree is small and often holds them, so the property test lowers
the threshold to none and answers every condition in parts.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import modcfg
import modcfg._tree_parts
from modcfg._compiled import CompiledCatalog
from modcfg.engines._parts import PartsQuery

from . import strategies
from .test_engine_properties import check_engine, expected
from .test_session import Reference

SMALL = 2_000


@pytest.fixture
def parts_on_every_tree() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(modcfg._tree_parts, "PARTS_ROWS", 0)
        yield


@pytest.fixture
def parts_for_every_condition(parts_on_every_tree: None) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(CompiledCatalog, "holds_rules_of", lambda self, problem: False)
        yield


@settings(
    max_examples=strategies.examples(120),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=strategies.cases(SMALL), data=st.data())
def test_conditions_in_parts_of_the_tree_match_the_oracle(
    parts_for_every_condition: None, case: strategies.Case, data: st.DataObject
) -> None:
    drawn = data.draw(st.lists(strategies.implications(case.catalog), min_size=1, max_size=2))
    needs = case.needs or modcfg.Needs()
    needs = needs.model_copy(update={"conditions": (*needs.conditions, *drawn)})
    case = dataclasses.replace(case, needs=needs)
    cfg = modcfg.compile(case.catalog)
    event(type(cfg.compiled.plan(needs).query).__name__)
    check_engine(case, cfg, "auto", expected(case))
    reference = Reference(case)
    if not reference.valid:
        return
    session = cfg.session(needs)
    reference.check(session.state(), session.choices)
    for _ in range(data.draw(st.integers(0, 2))):  # choices narrow every part
        state = session.state()
        options = [
            (slot, module)
            for slot in state
            for module, option in state[slot].items()
            if option.status == "available"
        ]
        if not options:
            break
        session.choose(*data.draw(st.sampled_from(options)))
        reference.check(session.state(), session.choices)


def test_a_condition_no_bag_holds_is_answered_in_parts(parts_on_every_tree: None) -> None:
    cfg = modcfg.compile("bicycle")
    needs = modcfg.Needs(conditions=["frame.road-alu -> not saddle.race"])
    assert isinstance(cfg.compiled.plan(needs).query, PartsQuery)
    assert not cfg.compiled.trees  # (no tree of their own)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(modcfg._tree_parts, "PARTS_ROWS", 10**9)
        own = modcfg.compile("bicycle")
        assert not isinstance(own.compiled.plan(needs).query, PartsQuery)
    assert cfg.count(needs) == own.count(needs)
    state, reference = cfg.session(needs).state(), own.session(needs).state()
    assert {slot: dict(state[slot]) for slot in state} == {
        slot: dict(reference[slot]) for slot in reference
    }

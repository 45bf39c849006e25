"""A catalog whose rules leave no configuration names a minimal set of contradicting rules.

Every entry point that meets such a catalog (``best``, ``session``, ``check``, the CLI) says
which rules contradict; the set is checked against brute force on random catalogs: those rules
alone leave nothing, and dropping any one of them leaves something.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from typer.testing import CliRunner

import modcfg
from modcfg.cli import app
from modcfg.explain import keep_items, need_items
from modcfg.model import catalog_from_data
from tests import oracle
from tests.strategies import Case, cases, contradictory_catalog_data

#: Three rules contradict (oak only; a double glass needs pvc; no triple glass); the others
#: are innocent. The rule read second is tabulated after the first has removed pvc, so an
#: explanation built from the compiled tables could wrongly blame it without the first.
CONTRADICTORY: dict[str, Any] = {
    "catalog": "clash",
    "slots": {
        "frame": {"modules": {"oak": {"price": "10"}, "pvc": {"price": "5"}}},
        "glass": {"modules": {"double": {}, "triple": {}}},
        "finish": {"modules": {"white": {}, "black": {}}},
    },
    "rules": [
        {"id": "oak-only", "constraint": "frame.oak", "message": "Only oak frames this season"},
        {
            "id": "double-needs-pvc",
            "requires": {"if": "glass.double", "then": "frame.pvc"},
            "message": "Double glazing comes in PVC frames only",
        },
        {"id": "black-oak", "excludes": ["finish.black", "frame.pvc"]},
        {
            "id": "no-triple",
            "table": {"slots": ["glass"], "deny": [["triple"]]},
            "message": "Triple glazing is sold out",
        },
        {"id": "white-double", "requires": {"if": "finish.white", "then": ["glass.double"]}},
    ],
}
CORE = {"oak-only", "double-needs-pvc", "no-triple"}


def _without_rules(data: dict[str, Any], keep: set[str]) -> dict[str, Any]:
    return {**data, "rules": [rule for rule in data.get("rules", ()) if rule["id"] in keep]}


@pytest.fixture
def clash() -> modcfg.Configurator:
    return modcfg.compile(catalog_from_data(CONTRADICTORY))


def _check_names_the_core(error: modcfg.InfeasibleError) -> None:
    assert set(error.rules) == CORE
    assert set(error.conflict) == {
        "Only oak frames this season",
        "Double glazing comes in PVC frames only",
        "Triple glazing is sold out",
    }
    text = str(error)
    assert "together leave no configuration" in text
    assert "remove or relax one of them" in text
    for rule in CORE:
        assert f"'{rule}'" in text
    assert "Triple glazing is sold out" in text
    assert "modcfg check" not in text  # the answer is here, not in another command


def test_best_names_the_contradicting_rules(clash: modcfg.Configurator) -> None:
    assert clash.count() == 0
    with pytest.raises(modcfg.InfeasibleError) as caught:
        clash.best()
    _check_names_the_core(caught.value)


def test_best_with_needs_on_an_empty_catalog_names_the_rules(clash: modcfg.Configurator) -> None:
    with pytest.raises(modcfg.InfeasibleError) as caught:
        clash.best(modcfg.Needs(require=["finish.white"]))
    _check_names_the_core(caught.value)


def test_session_names_the_contradicting_rules(clash: modcfg.Configurator) -> None:
    with pytest.raises(modcfg.InfeasibleError) as caught:
        clash.session()
    _check_names_the_core(caught.value)


def test_the_named_rules_alone_leave_nothing() -> None:
    alone = catalog_from_data(_without_rules(CONTRADICTORY, CORE))
    assert oracle.count(alone) == 0
    for rule in CORE:
        fewer = catalog_from_data(_without_rules(CONTRADICTORY, CORE - {rule}))
        assert oracle.count(fewer) > 0


def test_one_rule_that_leaves_nothing_is_named_alone() -> None:
    data = {
        "catalog": "lonely",
        "slots": {
            "size": {"modules": {"s": {"attributes": {"w": 3}}, "m": {"attributes": {"w": 5}}}},
            "color": {"modules": {"red": {}, "blue": {}}},
        },
        "rules": [
            {"id": "light", "constraint": "size.w < 2", "message": "Everything must be light"},
            {"id": "not-m-red", "excludes": ["size.m", "color.red"]},
        ],
    }
    with pytest.raises(modcfg.InfeasibleError) as caught:
        modcfg.compile(catalog_from_data(data)).best()
    error = caught.value
    assert error.rules == ("light",)
    assert error.conflict == ("Everything must be light",)
    assert "rule 'light' leaves no configuration" in str(error)
    assert "remove or relax it" in str(error)


def test_rules_without_messages_are_described() -> None:
    data = {
        "catalog": "plain",
        "slots": {
            "frame": {"modules": {"oak": {}, "pvc": {}}},
            "glass": {"modules": {"double": {}, "triple": {}}},
        },
        "rules": [
            {"id": "r1", "requires": {"if": "frame.oak", "then": "glass.triple"}},
            {"id": "r2", "requires": {"if": "frame.pvc", "then": "glass.triple"}},
            {"id": "r3", "excludes": ["glass.triple", "frame.oak"]},
            {"id": "r4", "excludes": ["glass.triple", "frame.pvc"]},
        ],
    }
    with pytest.raises(modcfg.InfeasibleError) as caught:
        modcfg.compile(catalog_from_data(data)).best()
    error = caught.value
    assert set(error.rules) == {"r1", "r2", "r3", "r4"}
    assert "frame.oak requires glass.triple" in error.conflict
    assert all(text not in {"r1", "r2", "r3", "r4"} for text in error.conflict)


def test_check_lists_the_contradicting_rules(clash: modcfg.Configurator) -> None:
    findings = clash.check()
    empty = [finding for finding in findings if finding.code == "empty"]
    assert len(empty) == 1
    assert empty[0].severity == "error"
    for rule in CORE:
        assert f"'{rule}'" in empty[0].message
    assert "'black-oak'" not in empty[0].message


def test_cli_check_prints_the_contradicting_rules(tmp_path: Path) -> None:
    path = tmp_path / "clash.json"
    path.write_text(json.dumps(CONTRADICTORY), encoding="utf-8")
    result = CliRunner().invoke(app, ["check", str(path), "--format", "json"])
    assert result.exit_code == 1
    report = json.loads(result.output)
    (empty,) = [f for f in report["findings"] if f["code"] == "empty"]
    for rule in CORE:
        assert f"'{rule}'" in empty["message"]
    assert "Triple glazing is sold out" in empty["message"]


def test_infeasible_needs_list_the_rules_involved() -> None:
    cfg = modcfg.compile(modcfg.load_catalog("windows_pro"))
    with pytest.raises(modcfg.InfeasibleError) as caught:
        cfg.best(modcfg.Needs(require=["frame.pvc", "glass.triple"]))
    error = caught.value
    assert set(error.conflict) == {"require frame.pvc", "require glass.triple"}
    assert error.rules == ("pvc-double-only",)
    assert "pvc-double-only" in str(error)


def test_needs_that_clash_without_any_rule_list_no_rule() -> None:
    cfg = modcfg.compile(modcfg.load_catalog("windows"))
    with pytest.raises(modcfg.InfeasibleError) as caught:
        cfg.best(modcfg.Needs(require=["frame.oak"], conditions=["frame.pvc"]))
    error = caught.value
    assert set(error.conflict) == {"require frame.oak", "'frame.pvc'"}
    assert error.rules == ()


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.large_base_example,
    ],
)
@given(data=contradictory_catalog_data())
def test_the_rule_conflict_is_minimal_against_brute_force(data: dict[str, Any]) -> None:
    catalog = catalog_from_data(data)
    assume(oracle.count(catalog) == 0)
    with pytest.raises(modcfg.InfeasibleError) as caught:
        modcfg.compile(catalog).best()
    named = set(caught.value.rules)
    assert named, str(caught.value)
    assert len(caught.value.conflict) == len(named)
    assert oracle.count(catalog_from_data(_without_rules(data, named))) == 0
    for rule in named:
        assert oracle.count(catalog_from_data(_without_rules(data, named - {rule}))) > 0, rule


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(case=cases(200))
def test_the_rules_behind_clashing_needs_are_minimal_against_brute_force(case: Case) -> None:
    catalog, needs = case.catalog, case.needs
    assume(needs is not None and oracle.count(catalog) > 0)
    assert needs is not None
    assume(oracle.count(catalog, needs) == 0)
    with pytest.raises(modcfg.InfeasibleError) as caught:
        modcfg.compile(catalog).best(needs)
    error = caught.value
    items = need_items(needs, catalog.currency)
    clashing = keep_items(needs, items, [item for item in items if item.label in error.conflict])
    named = set(error.rules)
    assert oracle.count(catalog_from_data(_without_rules(case.data, named)), clashing) == 0
    for rule in named:
        fewer = catalog_from_data(_without_rules(case.data, named - {rule}))
        assert oracle.count(fewer, clashing) > 0, rule


def _said(constraints: list[Any]) -> list[Any]:
    return [(c.scope, c.clause, None if c.clause else c.allowed, c.linear) for c in constraints]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases(200))
def test_each_rule_is_lowered_on_its_own_as_a_catalog_of_it_alone(case: Case) -> None:
    """What the explanations read of each rule: lowered one after another over one problem
    made whole again after each, as a catalog of that rule alone is compiled."""
    from modcfg.lower import build_domains, compile_rules, lower_each_rule

    catalog = case.catalog
    domains = build_domains(catalog)
    lowered = list(lower_each_rule(catalog, domains))
    assert [rule for rule, _ in lowered] == list(catalog.rules)
    for rule, found in lowered:
        alone = catalog.model_copy(update={"rules": (rule,), "prices": ()})
        try:
            problem = compile_rules(alone, domains)
        except modcfg.LimitExceeded:
            assert isinstance(found, modcfg.LimitExceeded)
            continue
        assert not isinstance(found, modcfg.LimitExceeded)
        narrowed = {
            var: frozenset(v for v, ok in enumerate(mask) if ok)
            for var, mask in enumerate(problem.allowed)
            if not all(mask)
        }
        assert found.kept == narrowed, rule.id
        assert _said(found.constraints) == _said(problem.constraints), rule.id
        assert [r.source for r in found.resources] == [r.source for r in problem.resources]
        # one rule asked alone (an explanation's rule group) is lowered the same
        ((_, single),) = lower_each_rule(catalog, domains, rules=(rule,))
        assert not isinstance(single, modcfg.LimitExceeded)
        assert single.kept == narrowed, rule.id
        assert _said(single.constraints) == _said(problem.constraints), rule.id


def test_a_degree_band_clashing_with_rules_is_measured_from_the_purpose_standard() -> None:
    # the degree band is measured from the purpose's standard (grade.m1), not the catalog's
    # (grade.m0): exactly 2 means the frame and grade.m1, which two rules forbid together
    catalog = modcfg.Catalog.model_validate(
        {
            "catalog": "degrees",
            "slots": {
                "frame": {"cardinality": "optional", "degree_weight": 2, "modules": {"m0": {}}},
                "glass": {
                    "cardinality": {"min": 0, "max": 2},
                    "degree_weight": 0,
                    "modules": {"m0": {}, "m1": {}},
                },
                "grade": {"modules": {"m0": {}, "m1": {}, "m2": {}}},
            },
            "rules": [
                {"id": "frame-glass", "excludes": ["frame.m0", "glass.m0"]},
                {"id": "grade-glass", "requires": {"if": "grade.m1", "then": ["glass.m0"]}},
            ],
            "standard": {"frame": None, "glass": {}, "grade": "m0"},
            "purposes": {"everyday": {"standard": {"frame": None, "glass": {}, "grade": "m1"}}},
        }
    )
    needs = modcfg.Needs(purpose="everyday", degree={"min": 2, "max": 2})
    with pytest.raises(modcfg.InfeasibleError) as caught:
        modcfg.compile(catalog).best(needs)
    assert set(caught.value.conflict) == {"purpose 'everyday'", "degree 2"}
    assert set(caught.value.rules) == {"frame-glass", "grade-glass"}

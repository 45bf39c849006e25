"""Reasons are data: every violation, exclusion reason and conflict item says who is at fault
(kind, rule id, need field, slot and module), and prints the text people read."""

from __future__ import annotations

import pickle
from collections.abc import Mapping
from typing import Any, get_args

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import modcfg
from modcfg._reasons import NeedField, ReasonKind
from modcfg.model import catalog_from_data
from tests import oracle
from tests.strategies import Case, cases, choose_drawn

PVC_TRIPLE = {
    "frame": "pvc",
    "glass": "triple",
    "grade": "g1",
    "picture": "plain",
    "size": "small",
    "hardware": {},
}
PVC_DOUBLE_ONLY = "pvc-double-only: The 70 mm PVC profile is too shallow for triple glazing"


@pytest.fixture(scope="module")
def pro() -> modcfg.Configurator:
    return modcfg.compile("windows_pro")


def test_a_reason_is_a_frozen_hashable_value_that_prints_its_text() -> None:
    reason = modcfg.Reason("need", "require glass.triple", need="require", slot="glass")
    assert str(reason) == reason.text == "require glass.triple"
    assert (reason.kind, reason.rule, reason.need, reason.slot, reason.module) == (
        "need",
        None,
        "require",
        "glass",
        None,
    )
    assert reason == pickle.loads(pickle.dumps(reason))
    assert (
        len({reason, modcfg.Reason("need", "require glass.triple", need="require", slot="glass")})
        == 1
    )
    with pytest.raises(AttributeError):
        reason.text = "other"  # type: ignore[misc]
    assert not hasattr(reason, "__dict__")  # slots


def test_violations_name_the_rule_or_the_need_field(pro: modcfg.Configurator) -> None:
    needs = modcfg.Needs(
        require=["glass.laminated"],
        forbid=["frame.pvc"],
        conditions=["glass.u_value < 0.5"],
        budget="100",
    )
    broken = pro.violations(PVC_TRIPLE, needs)
    assert [str(reason) for reason in broken] == [
        PVC_DOUBLE_ONLY,
        "need: require glass.laminated",
        "need: pvc forbidden by the customer",
        "need: glass.u_value < 0.5",
        "need: budget 100 (total 419.00)",
    ]
    assert [(r.kind, r.rule, r.need) for r in broken] == [
        ("rule", "pvc-double-only", None),
        ("need", None, "require"),
        ("need", None, "forbid"),
        ("need", None, "conditions"),
        ("need", None, "budget"),
    ]
    assert (broken[1].slot, broken[1].module) == ("glass", "laminated")
    assert (broken[2].slot, broken[2].module) == ("frame", "pvc")
    assert pro.violations(PVC_TRIPLE | {"glass": "double"}) == []


def test_violations_of_region_and_delivery_name_their_need() -> None:
    cfg = modcfg.compile("bicycle")
    configuration = dict(next(iter(cfg.configurations())))
    late = modcfg.Needs(deliver_by="2026-01-02", today="2026-01-01")
    assert {r.need for r in cfg.violations(configuration, late)} == {"deliver_by"}
    for reason in cfg.violations(configuration, late):
        assert reason.slot is not None
        assert configuration[reason.slot] is not None
        assert str(reason).startswith(f"need: {reason.module} available from ")


def test_price_refuses_an_invalid_configuration_with_rule_ids_and_reasons(
    pro: modcfg.Configurator,
) -> None:
    with pytest.raises(modcfg.InfeasibleError) as caught:
        pro.price(PVC_TRIPLE, modcfg.Needs(require=["grade.g2"]))
    error = caught.value
    assert str(error) == (
        f"this configuration is not valid: {PVC_DOUBLE_ONLY}; need: require grade.g2"
    )
    assert error.rules == ("pvc-double-only",)
    assert [(r.kind, r.rule or r.need) for r in error.reasons] == [
        ("rule", "pvc-double-only"),
        ("need", "require"),
    ]


def test_option_causes_say_who_excludes_them(pro: modcfg.Configurator) -> None:
    needs = modcfg.Needs(forbid=["glass.double"], require=["grade.g2"])
    session = pro.session(needs)
    state = session.choose("frame", "pvc")
    causes = {
        (slot, module): option.cause for slot in state for module, option in state[slot].items()
    }
    for (slot, module), cause in causes.items():
        option = state[slot][module]
        assert (cause is None) == (option.reason is None)
        assert cause is None or str(cause) == option.reason
    chose = causes[("frame", "oak")]
    assert chose is not None
    assert (chose.kind, chose.slot, chose.module) == ("choice", "frame", "pvc")
    forbidden = causes[("glass", "double")]
    assert forbidden == modcfg.Reason(
        "need", "double forbidden by the customer", need="forbid", slot="glass", module="double"
    )
    required = causes[("grade", "g1")]
    assert required is not None
    assert (required.kind, required.need, required.module) == ("need", "require", "g2")
    forced = causes[("grade", "g2")]
    assert forced is not None
    assert forced.kind == "forced"
    clash = causes[("glass", "triple")]
    assert clash is not None
    assert (clash.kind, clash.rule, clash.slot, clash.module) == (
        "choice",
        "pvc-double-only",
        "frame",
        "pvc",
    )
    assert str(clash) == f"conflicts with your choice frame.pvc ({PVC_DOUBLE_ONLY})"


def test_a_conflict_with_a_stated_condition_names_the_need() -> None:
    cfg = modcfg.compile("windows")
    session = cfg.session(modcfg.Needs(conditions=["not (frame.pvc and glass.triple)"]))
    option = session.choose("frame", "pvc")["glass"]["triple"]
    assert option.reason == (
        "conflicts with your choice frame.pvc (need: not (frame.pvc and glass.triple))"
    )
    assert option.cause is not None
    assert (option.cause.kind, option.cause.need, option.cause.rule) == (
        "choice",
        "conditions",
        None,
    )


def test_a_refused_module_and_a_rule_alone_are_reasons_too() -> None:
    data = {
        "catalog": "t",
        "slots": {
            "frame": {"modules": {"pvc": {}, "oak": {}}},
            "extras": {"cardinality": {"min": 0, "max": 2}, "modules": {"a": {}, "b": {}}},
        },
        "rules": [{"id": "no-pvc", "constraint": "not frame.pvc", "message": "No PVC"}],
    }
    session = modcfg.compile(catalog_from_data(data)).session()
    state = session.choose("extras", "a", quantity=0)
    never = state["frame"]["pvc"].cause
    assert never == modcfg.Reason("rule", "no-pvc: No PVC", rule="no-pvc")
    refused = state["extras"]["a"].cause
    assert refused is not None
    assert (refused.kind, refused.slot, refused.module) == ("choice", "extras", "a")


def test_an_infeasible_request_carries_its_conflict_as_reasons(pro: modcfg.Configurator) -> None:
    with pytest.raises(modcfg.InfeasibleError) as caught:
        pro.best(modcfg.Needs(require=["glass.triple"], budget="400"))
    error = caught.value
    assert tuple(str(r) for r in error.reasons[: len(error.conflict)]) == error.conflict
    assert [(r.kind, r.need, r.module) for r in error.reasons] == [
        ("need", "require", "triple"),
        ("need", "budget", None),
    ]
    for relaxation in error.relaxations:
        assert tuple(str(r) for r in relaxation.reasons) == relaxation.dropped
        assert all(r.kind == "need" for r in relaxation.reasons)


def test_a_rule_conflict_carries_the_rules_as_reasons() -> None:
    data = {
        "catalog": "clash",
        "slots": {"frame": {"modules": {"pvc": {}, "oak": {}}}},
        "rules": [
            {"id": "no-pvc", "constraint": "not frame.pvc"},
            {"id": "no-oak", "constraint": "not frame.oak", "message": "Oak is sold out"},
        ],
    }
    with pytest.raises(modcfg.InfeasibleError) as caught:
        modcfg.compile(catalog_from_data(data)).best()
    error = caught.value
    assert {(r.kind, r.rule) for r in error.reasons} == {("rule", "no-pvc"), ("rule", "no-oak")}
    assert tuple(str(r) for r in error.reasons) == error.conflict


def test_why_not_and_a_refused_choice_carry_choices_and_rules(pro: modcfg.Configurator) -> None:
    session = pro.session()
    session.choose("frame", "pvc")
    explanation = session.why_not("glass", "triple")
    assert [(r.kind, r.rule, r.slot, r.module) for r in explanation.reasons] == [
        ("choice", None, "frame", "pvc"),
        ("rule", "pvc-double-only", None, None),
    ]
    assert tuple(str(r) for r in explanation.reasons[:1]) == explanation.because
    with pytest.raises(modcfg.InfeasibleError) as caught:
        session.choose("glass", "triple")
    assert caught.value.reasons == explanation.reasons


def _degree_catalog(slots: int) -> modcfg.Catalog:
    """``slots`` two-module slots whose standard (all ``a``) a rule forbids on the first two."""
    names = [f"s{i}" for i in range(slots)]
    return catalog_from_data(
        {
            "catalog": "degrees",
            "slots": {name: {"modules": {"a": {}, "b": {}}} for name in names},
            "standard": dict.fromkeys(names, "a"),
            "rules": [
                {"id": "no-aa", "excludes": ["s0.a", "s1.a"], "message": "s0.a and s1.a clash"},
            ],
        }
    )


@pytest.mark.parametrize("slots", [3, 12])  # a band as a table, and as a sum over many slots
def test_a_degree_band_that_clashes_with_a_rule_is_named_with_the_rule(slots: int) -> None:
    cfg = modcfg.compile(_degree_catalog(slots))
    needs = modcfg.Needs(degree={"max": 0}, require=["s2.a"])
    with pytest.raises(modcfg.InfeasibleError) as caught:
        cfg.best(needs)
    error = caught.value
    assert error.conflict == ("degree 0",)
    assert error.rules == ("no-aa",)
    assert [(r.kind, r.need, r.rule) for r in error.reasons] == [
        ("need", "degree", None),
        ("rule", None, "no-aa"),
    ]
    assert "degree 0" in str(error)
    assert "no-aa" in str(error)
    relaxations = {r.dropped: r.unlocked for r in error.relaxations}
    assert relaxations == {("degree 0",): 3 * 2 ** (slots - 3)}  # s0, s1 not both a
    assert cfg.count(modcfg.Needs(degree={"max": 1}, require=["s2.a"])) == 2  # s0.b or s1.b


def test_a_session_names_the_degree_band_behind_an_exclusion() -> None:
    session = modcfg.compile(_degree_catalog(4)).session(modcfg.Needs(degree={"min": 1, "max": 1}))
    # degree exactly 1 and the rule: s0 or s1 differs from the standard, so s2 and s3 cannot
    assert session.state()["s2"]["b"].status == "excluded"
    explanation = session.why_not("s2", "b")
    assert explanation.because == ("degree 1",)
    assert list(explanation.rules) == ["no-aa"]
    option = session.choose("s0", "b")["s1"]["b"]  # a second difference is one too many
    assert option.status == "excluded"
    assert option.cause is not None
    assert (option.cause.kind, option.cause.need) == ("choice", "degree")
    assert set(session.why_not("s1", "b").because) == {"degree 1", "your choice s0.b"}


def _check_cause(case: Case, session: modcfg.Session, cause: modcfg.Reason) -> None:
    catalog, needs = case.catalog, case.needs
    assert cause.kind in get_args(ReasonKind)
    if cause.rule is not None:
        assert cause.rule in catalog.rules_by_id
    if cause.need is not None:
        assert needs is not None
        assert cause.need in get_args(NeedField)
    if cause.kind == "rule":
        assert cause.rule is not None
    if cause.kind == "need":
        assert cause.need is not None
    if cause.kind == "choice" and cause.module is not None:
        chosen = session.choices[str(cause.slot)]
        assert cause.module == chosen or (isinstance(chosen, Mapping) and cause.module in chosen), (
            cause,
            session.choices,
        )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases(500), data=st.data())
def test_causes_and_violations_agree_with_brute_force(case: Case, data: st.DataObject) -> None:
    """Every excluded option's cause names real rules, needs and choices; a configuration has
    violations exactly when brute force finds it invalid, and its needs name the right fields."""
    cfg = modcfg.compile(case.catalog)
    resolved = oracle.resolve(case.catalog, case.needs) if case.needs else None
    if oracle.count(case.catalog, case.needs):
        session = cfg.session(case.needs)
        choose_drawn(session, case.catalog, data, 1)
        state = session.state()
        for slot in state:
            for option in state[slot].values():
                if option.cause is not None:
                    assert str(option.cause) == option.reason
                    _check_cause(case, session, option.cause)
    configurations = list(oracle.all_configurations(case.catalog))
    for configuration in data.draw(st.lists(st.sampled_from(configurations), max_size=4)):
        broken = cfg.violations(configuration, case.needs)
        valid = oracle.is_valid(case.catalog, configuration, resolved)
        assert (not broken) == valid, broken
        assert len({str(r) for r in broken}) == len(broken)
        for reason in broken:
            assert reason.kind in ("rule", "need")
            if reason.kind == "need":
                assert case.needs is not None
                assert reason.need in (
                    "require",
                    "forbid",
                    "region",
                    "deliver_by",
                    "conditions",
                    "budget",
                    "degree",
                )
                assert str(reason).startswith("need: ")
            _check_need_module(configuration, reason)


def _has(configuration: Mapping[str, Any], slot: str | None, module: str | None) -> bool:
    chosen = configuration[str(slot)]
    return module == chosen or (isinstance(chosen, Mapping) and module in chosen)


def _check_need_module(configuration: Mapping[str, Any], reason: modcfg.Reason) -> None:
    if reason.need in ("forbid", "region", "deliver_by"):
        assert _has(configuration, reason.slot, reason.module), (reason, configuration)
    if reason.need == "require":
        assert not _has(configuration, reason.slot, reason.module), (reason, configuration)

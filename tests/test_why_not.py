"""Why an option is excluded: the rules named are a minimal set, against a brute-force oracle."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import modcfg
from modcfg.explain import _whynot
from modcfg.lower._propagation import Propagator
from tests import oracle
from tests.strategies import Case, cases, choose_drawn, options_of

SMALL = 2000


def _allows(
    catalog: modcfg.Catalog, rules: list[str], choices: Mapping[str, Any], option: tuple[str, str]
) -> bool:
    """Whether the catalog with only the rules ``rules`` has a configuration keeping
    ``choices`` (slot -> module) with ``option``."""
    kept = [rule for rule in catalog.rules if rule.id in rules]
    data = catalog.model_dump(mode="json", exclude_defaults=True)
    data["rules"] = [rule.model_dump(mode="json", exclude_defaults=True) for rule in kept]
    reduced = modcfg.Catalog.model_validate(data)
    slot, module = option
    return any(
        oracle.agrees(configuration, choices) and module in oracle.units(configuration[slot])
        for configuration in oracle.valid_configurations(reduced)
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases(SMALL), data=st.data())
def test_why_not_names_a_minimal_set_of_rules(case: Case, data: st.DataObject) -> None:
    _names_a_minimal_set(case, data)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases(SMALL), data=st.data())
def test_without_a_chain_of_inferences_the_rules_are_still_a_minimal_set(
    case: Case, data: st.DataObject
) -> None:
    """When propagation finds no chain, the model of every rule narrows the rules to its
    core, and the model of those alone makes them minimal."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Propagator, "conflict", lambda *args, **kwargs: None)
        _names_a_minimal_set(case, data)


def test_without_a_chain_of_inferences_a_long_chain_is_named_whole(tmp_path: Path) -> None:
    # A requires B requires C requires D, D excludes E, and 300 clauses on other features:
    # with propagation out of the way, the model of every rule gives its core, and the
    # model of those rules alone names the chain, all four links and the exclusion
    model = tmp_path / "fm.dimacs"
    clauses = ["-1 2 0", "-2 3 0", "-3 4 0", "-4 -5 0", *(f"-{v} {v + 1} 0" for v in range(6, 306))]
    model.write_text(f"p cnf 306 {len(clauses)}\n" + "\n".join(clauses) + "\n", encoding="utf-8")
    session = modcfg.compile(modcfg.load_catalog(model)).session()
    session.choose("x1", "selected")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Propagator, "conflict", lambda *args, **kwargs: None)
        why = session.why_not("x5", "selected")
    assert why.because == ("your choice x1.selected",)
    assert sorted(why.rules) == ["clause-1", "clause-2", "clause-3", "clause-4"]


def _names_a_minimal_set(case: Case, data: st.DataObject) -> None:
    if not oracle.valid_configurations(case.catalog):
        return
    session = modcfg.compile(case.catalog).session()
    choose_drawn(session, case.catalog, data, data.draw(st.integers(0, 2)))
    excluded = [
        (s, m)
        for s, m, o in options_of(session.state())
        if o.status == "excluded" and m is not None and case.catalog.slots[s].single
    ]
    if not excluded:
        return
    option = data.draw(st.sampled_from(excluded))
    explanation = session.why_not(*option)
    chosen = {
        f"your choice {slot}.{module}": (slot, module) for slot, module in session.choices.items()
    }
    choices = dict(chosen[label] for label in explanation.because)
    named = [rule for rule in explanation.rules if rule in case.catalog.rules_by_id]
    # the rules named exclude the option with the choices named, whatever the other rules
    assert not _allows(case.catalog, named, choices, option)
    for rule in named:
        assert _allows(case.catalog, [r for r in named if r != rule], choices, option), rule


def test_a_chain_of_rules_is_explained_from_a_model_of_its_rules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A requires B, B excludes C, plus 200 clauses on other features: the explanation of C
    # after choosing A names both rules, and the model asked holds only their variables
    model = tmp_path / "fm.dimacs"
    clauses = ["-1 2 0", "-2 -3 0", *(f"-{v} {v + 1} 0" for v in range(4, 204))]
    model.write_text(f"p cnf 204 {len(clauses)}\n" + "\n".join(clauses) + "\n", encoding="utf-8")
    sizes: list[int] = []
    model_class = _whynot.ConflictModel

    def counted(problem: Any, groups: Any, **kwargs: Any) -> Any:
        made = model_class(problem, groups, **kwargs)
        sizes.append(sum(1 for bools in made.b if bools))
        return made

    monkeypatch.setattr(_whynot, "ConflictModel", counted)
    session = modcfg.compile(modcfg.load_catalog(model)).session()
    session.choose("x1", "selected")
    why = session.why_not("x3", "selected")
    assert why.because == ("your choice x1.selected",)
    assert sorted(why.rules) == ["clause-1", "clause-2"]
    assert sizes == [3]


def test_why_not_stops_at_the_sessions_time_limit(tmp_path: Path) -> None:
    # A requires B, B excludes C: a chain of two rules, explained with a solver
    model = tmp_path / "fm.dimacs"
    model.write_text("p cnf 3 2\n-1 2 0\n-2 -3 0\n", encoding="utf-8")
    cfg = modcfg.compile(modcfg.load_catalog(model))
    hurried = cfg.session(time_limit=1e-9)
    hurried.choose("x1", "selected")
    with pytest.raises(modcfg.LimitExceeded, match="time_limit"):
        hurried.why_not("x3", "selected")
    patient = cfg.session()
    patient.choose("x1", "selected")
    assert sorted(patient.why_not("x3", "selected").rules) == ["clause-1", "clause-2"]


def test_why_not_starts_no_feasibility_pass_past_its_time_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # each choice kept or dropped is a feasibility pass of the engine (about 0.8 s on the
    # largest feature models): none starts once the session's time_limit has passed
    model = tmp_path / "fm.dimacs"
    model.write_text("p cnf 4 2\n-1 2 0\n-2 -3 0\n", encoding="utf-8")
    session = modcfg.compile(modcfg.load_catalog(model)).session(time_limit=5)
    session.choose("x4", "selected")
    session.choose("x1", "selected")
    clock = iter(range(0, 1000, 4))  # every reading of the clock 4 s after the one before
    monkeypatch.setattr(_whynot.time, "monotonic", lambda: float(next(clock)))
    with pytest.raises(modcfg.LimitExceeded, match="narrowing your 2 needs and choices"):
        session.why_not("x3", "selected")


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases(SMALL), data=st.data())
def test_a_states_reason_names_a_rule_that_excludes_the_option_by_itself(
    case: Case, data: st.DataObject
) -> None:
    # "conflicts with your choice X (rule R)": the choice and that one rule leave no
    # configuration with the option, whatever the other rules say
    if not oracle.valid_configurations(case.catalog):
        return
    session = modcfg.compile(case.catalog).session()
    choose_drawn(session, case.catalog, data, 1)
    state = session.state()
    for slot in state:
        if not case.catalog.slots[slot].single:
            continue
        for module, option in state[slot].items():
            cause = option.cause
            if option.status != "excluded" or module is None or cause is None:
                continue
            if cause.kind != "choice" or cause.rule is None or cause.slot == slot:
                continue
            choices = {str(cause.slot): cause.module}
            assert not _allows(case.catalog, [cause.rule], choices, (slot, module)), cause


def test_a_total_over_slots_another_rule_narrowed_is_not_named_alone() -> None:
    """A total needs 14 of at most 14: glass m1 (6), trim (7) and grade m_4 (1), since another
    rule keeps glass m0 (1) from going with m1. Grade m0 is excluded whatever the frame, but
    not by the total alone (m0 and m1 together would reach 14 without grade): its reason
    names no single rule with the customer's choice of frame."""
    weights = {"frame": [0, 0], "glass": [1, 6, 0], "grade": [0, 1], "trim": [7]}
    slots: dict[str, Any] = {
        slot: {"modules": {f"m{i}": {"attributes": {"w": w}} for i, w in enumerate(values)}}
        for slot, values in weights.items()
    }
    slots["glass"]["cardinality"] = {"min": 0, "max": 2}
    slots["grade"]["cardinality"] = "optional"
    catalog = modcfg.Catalog.model_validate(
        {
            "catalog": "narrowed",
            "slots": slots,
            "rules": [
                {"id": "one-glass", "excludes": ["glass.m0", "glass.m1"]},
                {"id": "heavy", "constraint": "not (total(w) <= 13)"},
            ],
        }
    )
    state = modcfg.compile(catalog).session().choose("frame", "m1")
    option = state["grade"]["m0"]
    assert option.status == "excluded"
    assert option.cause is not None
    assert option.cause.kind != "choice", option.cause
    assert _allows(catalog, ["heavy"], {"frame": "m1"}, ("grade", "m0"))


def test_a_need_that_is_no_plain_restriction_is_shrunk_away_in_a_second_pass() -> None:
    """A random catalog (kept as found by the property test) where the region US allows what
    the budget alone does not: deleting the region first keeps the required frame, which a
    second pass drops, so the explanation is the budget alone, and it is minimal."""
    data = json.loads((Path(__file__).parent / "data" / "why_not_region.json").read_text())
    cfg = modcfg.compile(modcfg.Catalog.model_validate(data["catalog"]))
    needs = modcfg.Needs.model_validate(data["needs"])
    explanation = cfg.session(needs).why_not("glass", "m3")
    assert list(explanation.because) == ["budget EUR 15.89"]
    budget_only = modcfg.Needs(budget=needs.budget, payment=needs.payment, today=needs.today)
    budget_only = budget_only.model_copy(update={"frequency": needs.frequency})
    assert cfg.count(budget_only.model_copy(update={"require": ("glass.m3",)})) == 0

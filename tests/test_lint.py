"""Catalog lint: each finding on a catalog made to show it, and dead modules against brute force."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from typer.testing import CliRunner

import modcfg
from modcfg.cli import app
from modcfg.explain import lint
from modcfg.lower._propagation import Propagator
from modcfg.model import catalog_from_data
from tests import oracle, strategies
from tests.strategies import catalogs
from tests.test_clauses import write_dimacs

LINTED = {
    "catalog": "linted",
    "expected_count": 2,
    "slots": {
        "a": {"modules": {"p": {}, "q": {}}},
        "b": {"modules": {"r": {}, "s": {}, "t": {}}},
    },
    "rules": [
        {"id": "no-p-r", "excludes": ["a.p", "b.r"]},
        {"id": "no-p-s", "excludes": ["a.p", "b.s"]},
        {"id": "no-p-t", "excludes": ["a.p", "b.t"]},
        {"id": "q-needs-r-or-s", "requires": {"if": "a.q", "then": ["b.r", "b.s"]}},
        {"id": "implied", "excludes": ["a.q", "b.t"]},
    ],
    "prices": [{"id": "never", "bundle": ["a.p", "b.s"], "amount": "5.00"}],
}


def codes(findings: list[modcfg.explain.Finding]) -> set[tuple[str, str]]:
    return {(f.code, f.where) for f in findings}


def test_every_kind_of_finding() -> None:
    findings = lint(modcfg.compile(catalog_from_data(LINTED)))
    found = codes(findings)
    assert ("dead-module", "a.p") in found
    assert ("dead-module", "b.t") in found
    assert ("core-module", "a.q") in found
    assert ("forced-slot", "a") in found
    assert ("redundant-rule", "implied") in found
    assert ("price-rule-never-applies", "never") in found
    # the two rules that keep 't' out imply each other: each alone is redundant
    assert ("redundant-rule", "q-needs-r-or-s") in found
    assert ("redundant-rule", "no-p-r") not in found
    assert [f.severity for f in findings] == sorted(
        (f.severity for f in findings), key=["error", "warning", "info"].index
    )


def test_wrong_expected_count_is_an_error() -> None:
    data = {**LINTED, "expected_count": 3}
    findings = lint(modcfg.compile(catalog_from_data(data)))
    assert ("expected-count", "catalog") in codes(findings)


def test_check_exits_non_zero_on_errors_and_speaks_json(tmp_path: Path) -> None:
    path = tmp_path / "linted.json"
    path.write_text(json.dumps(LINTED), encoding="utf-8")
    result = CliRunner().invoke(app, ["check", str(path), "--format", "json"])
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["ok"] is False
    assert {"severity": "error", "code": "dead-module", "where": "a.p"}.items() <= report[
        "findings"
    ][0].items()


def test_bundled_catalogs_have_no_errors() -> None:
    for name in ("windows", "credit_cards", "windows_pro"):
        findings = lint(modcfg.compile(modcfg.load_catalog(name)))
        assert not [f for f in findings if f.severity == "error"], name


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(catalog=catalogs(2_000))
def test_dead_and_core_modules_match_brute_force(catalog: modcfg.Catalog) -> None:
    valid = list(oracle.valid_configurations(catalog))
    findings = codes(lint(modcfg.compile(catalog)))
    if not valid:
        assert ("empty", "catalog") in findings
        return
    for slot_id, slot in catalog.slots.items():
        for module in slot.modules:
            with_it = sum(1 for c in valid if module in oracle.units(c[slot_id]))
            assert (("dead-module", f"{slot_id}.{module}") in findings) == (with_it == 0)
            core = with_it == len(valid) and len(slot.modules) > 1
            assert (("core-module", f"{slot_id}.{module}") in findings) == core


@settings(max_examples=strategies.examples(100), deadline=None)
@given(catalog=catalogs(2_000))
def test_propagation_settles_redundant_rules_as_the_trees_do(catalog: modcfg.Catalog) -> None:
    """Rules settled by propagation are the ones counting without each rule finds: the same
    findings with and without it (propagation is sound, and what it leaves open is counted)."""

    cfg = modcfg.compile(catalog)
    with_propagation = codes(lint(cfg))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Propagator, "implied", lambda *args: False)
        by_trees = codes(lint(cfg))
    assert with_propagation == by_trees


def test_propagation_finds_a_rule_implied_by_a_chain_of_others() -> None:
    cfg = modcfg.compile(catalog_from_data(LINTED))
    assert cfg.compiled.propagator.implied("implied")
    assert not cfg.compiled.propagator.implied("no-p-r")


def test_check_returns_structured_findings() -> None:
    cfg = modcfg.compile(catalog_from_data(LINTED))
    findings = cfg.check()
    assert all(isinstance(f, modcfg.Finding) for f in findings)
    assert findings == lint(cfg)
    dead = next(f for f in findings if f.code == "dead-module")
    assert (dead.severity, dead.slot, dead.module, dead.rule) == ("error", "a", "p", None)
    assert str(dead) == (
        "error [dead-module] a.p: is in no valid configuration; remove it or relax the rules "
        "that exclude it"
    )
    redundant = next(f for f in findings if f.rule == "implied")
    assert (redundant.code, redundant.slot, redundant.module) == ("redundant-rule", None, None)
    forced = next(f for f in findings if f.code == "forced-slot")
    assert (forced.slot, forced.module) == ("a", None)
    never = next(f for f in findings if f.code == "price-rule-never-applies")
    assert never.rule == "never"
    assert {f.severity for f in findings} <= {"error", "warning", "info"}
    with pytest.raises(dataclasses.FrozenInstanceError):
        dead.severity = "warning"  # type: ignore[misc]


def test_dead_modules_can_be_warnings() -> None:
    cfg = modcfg.compile(catalog_from_data({**LINTED, "expected_count": None}))
    findings = cfg.check(dead_modules="warning")
    assert not [f for f in findings if f.severity == "error"]
    assert {f.where for f in findings if f.code == "dead-module"} == {"a.p", "b.t"}


#: A DIMACS model with a dead variable (x2 is never selected) and a core one (x1).
DEAD_DIMACS = "c 1 x1\nc 2 x2\nc 3 x3\np cnf 3 3\n1 0\n-2 3 0\n-2 -3 0\n"


def test_check_of_an_imported_model_warns_of_dead_modules(tmp_path: Path) -> None:
    path = tmp_path / "dead.dimacs"
    path.write_text(DEAD_DIMACS, encoding="utf-8")
    result = CliRunner().invoke(app, ["check", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["ok"] is True
    dead = [f for f in report["findings"] if f["code"] == "dead-module"]
    assert [(f["severity"], f["slot"], f["module"]) for f in dead] == [
        ("warning", "x2", "selected")
    ]
    # the same model saved as a modcfg catalog is the owner's own: its dead module is an error
    saved = modcfg.save_catalog(modcfg.load_catalog(path), tmp_path / "dead.yaml")
    result = CliRunner().invoke(app, ["check", str(saved)])
    assert result.exit_code == 1


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("uvl/axTLS.uvl", id="axTLS"),
        pytest.param("renault/medium.xml", id="renault-medium", marks=pytest.mark.slow),
    ],
)
def test_check_passes_imported_real_models(shared_data: Path, name: str) -> None:
    result = CliRunner().invoke(app, ["check", str(shared_data / name), "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["ok"] is True
    assert any(f["code"] == "dead-module" for f in report["findings"])
    assert all(f["severity"] != "error" for f in report["findings"])


def test_the_search_for_redundant_rules_stops_at_its_time_limit() -> None:
    cfg = modcfg.compile(catalog_from_data(LINTED))
    findings = cfg.check(time_limit=0)
    assert "redundant-rule" not in {f.code for f in findings}
    (stopped,) = [f for f in findings if f.code == "redundancy-not-checked"]
    assert stopped.severity == "info"
    assert "among 0 of the 5 rules over two slots or more within 0 s" in stopped.message
    assert "time_limit=" in stopped.message
    # the other findings do not depend on it
    rest = {(f.code, f.where) for f in findings} - {("redundancy-not-checked", "catalog")}
    assert rest == {(f.code, f.where) for f in cfg.check() if f.code != "redundant-rule"}


def test_a_tree_counted_without_a_rule_stops_at_the_time_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The tree built without a rule that propagation leaves open fills within the limit: a
    fill stopped there leaves that rule, and those after it, unchecked (on an eCos model a
    tree takes 3.5 s, and check(time_limit=2) took 4.7 s)."""
    from contextlib import contextmanager

    import numpy as np

    from modcfg.engines.decomposition import _build

    cfg = modcfg.compile(catalog_from_data(LINTED))
    with_trees = {f.rule for f in cfg.check() if f.code == "redundant-rule"}

    @contextmanager
    def stopped(deadline: float | None) -> Iterator[object]:
        yield np.full(1, deadline is not None, dtype=np.int64)

    monkeypatch.setattr(_build, "_stop_at", stopped)
    findings = cfg.check(time_limit=1000)
    (unchecked,) = [f for f in findings if f.code == "redundancy-not-checked"]
    found = {f.rule for f in findings if f.code == "redundant-rule"}
    assert found <= with_trees  # (those propagation settles, before any tree)
    assert "among" in unchecked.message


def test_a_catalog_too_entangled_to_decompose_is_checked_by_its_own_engine(
    tmp_path: Path,
) -> None:
    """Dead and core modules come from the engine that answers for the catalog (here the
    tree with its or-group set aside), not from a tree of the whole catalog; redundant rules
    are not looked for, and a finding says so."""
    children = list(range(2, 22))
    clauses = [[1], [-1, *children], *([-child, 1] for child in children)]
    clauses += [[-child, child + 1, child + 2] for child in range(2, 20)]
    clauses += [[-21], [-5, -6]]  # a dead feature, and a pair that excludes each other
    path = write_dimacs(tmp_path / "group.dimacs", 21, clauses)
    reference = modcfg.compile(modcfg.load_catalog(path))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(modcfg._compiled, "TRIAL_COMBINATIONS", 1)
        wide = modcfg.compile(modcfg.load_catalog(path))
    assert wide.compiled.wide_base is not None

    def modules(findings: list[modcfg.explain.Finding]) -> set[tuple[str, str]]:
        return {(f.code, f.where) for f in findings if f.module is not None}

    found = wide.check(dead_modules="warning")
    assert modules(found) == modules(reference.check(dead_modules="warning"))
    assert ("dead-module", "x21.selected") in modules(found)
    assert ("redundancy-not-checked", "catalog") in codes(found)


def test_check_on_the_command_line_takes_a_time_limit() -> None:
    result = CliRunner().invoke(
        app, ["check", "windows_pro", "--time-limit", "0.000001", "-f", "json"]
    )
    assert result.exit_code == 0, result.output
    codes_found = {finding["code"] for finding in json.loads(result.output)["findings"]}
    assert "redundancy-not-checked" in codes_found

"""Catalog lint: each finding on a catalog made to show it, and dead modules against brute force."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from typer.testing import CliRunner

import modcfg
from modcfg.cli import app
from modcfg.explain import lint
from modcfg.model import catalog_from_data
from tests import oracle
from tests.strategies import catalogs

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
        (f.severity for f in findings), key=["error", "warning", "note"].index
    )


def test_wrong_expected_count_is_an_error() -> None:
    data = {**LINTED, "expected_count": 3}
    findings = lint(modcfg.compile(catalog_from_data(data)))
    assert ("expected-count", "linted") in codes(findings)


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
        assert ("empty", catalog.name) in findings
        return
    for slot_id, slot in catalog.slots.items():
        for module in slot.modules:
            with_it = sum(1 for c in valid if module in oracle._units(c[slot_id]))
            assert (("dead-module", f"{slot_id}.{module}") in findings) == (with_it == 0)
            core = with_it == len(valid) and len(slot.modules) > 1
            assert (("core-module", f"{slot_id}.{module}") in findings) == core

"""Catalog versions: two versions of the bundled windows_pro catalog, the diff between them,
and saved sessions and orders migrated from the old one to the new one (including a saved
configuration the new rules make invalid)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

import modcfg
from modcfg.cli import app
from modcfg.model import catalog_from_data, catalog_to_data

OLD = modcfg.load_catalog("windows_pro")


def next_version() -> modcfg.Catalog:
    """windows_pro 2027.1: solar glazing retired, oak repriced, a new oak profile, and oak
    frames no longer sold with grade 1 (a saved oak + grade 1 window becomes invalid)."""
    data = catalog_to_data(OLD)
    data.update(version="2027.1", valid_from="2027-03-01", valid_until="2028-02-29")
    data.pop("expected_count")
    del data["slots"]["glass"]["modules"]["solar"]
    frames = data["slots"]["frame"]["modules"]
    frames["oak"]["price"] = "380.00"
    frames["oak-plus"] = {**frames["oak"], "label": "Oak 92 mm", "price": "420.00"}
    data["rules"][0]["table"]["allow"].append(["oak-plus", "*"])
    data["rules"].append(
        {
            "id": "oak-reinforced",
            "excludes": ["frame.oak", "grade.g1"],
            "message": "Oak sashes are sold reinforced (grade 2 or 3)",
        }
    )
    return catalog_from_data(data)


NEW = next_version()
WINDOW = {
    "frame": "oak",
    "glass": "solar",
    "grade": "g1",
    "picture": "plain",
    "size": "medium",
    "hardware": {},
}


def test_diff_lists_modules_prices_rules_and_counts(tmp_path: Path) -> None:
    diff = modcfg.diff_catalogs(OLD, NEW)
    assert diff.added == ("frame.oak-plus",)
    assert diff.retired == ("glass.solar",)
    assert diff.repriced == (("frame.oak", Decimal("360.00"), Decimal("380.00")),)
    assert diff.rules_added == ("oak-reinforced",)
    assert diff.rules_changed == ("profile-sizes",)
    assert diff.count_before == 25433
    assert diff.count_after == modcfg.compile(NEW).count()
    old_path, new_path = tmp_path / "old.yaml", tmp_path / "new.yaml"
    modcfg.save_catalog(OLD, old_path)
    modcfg.save_catalog(NEW, new_path)
    result = CliRunner().invoke(app, ["diff", str(old_path), str(new_path)])
    assert result.exit_code == 0, result.output
    assert "retired  glass.solar" in result.output
    assert "repriced frame.oak: 360.00 -> 380.00" in result.output
    assert f"configurations: 25,433 -> {diff.count_after:,}" in result.output


def test_saved_session_migrates_with_every_change_listed() -> None:
    old, new = modcfg.compile(OLD), modcfg.compile(NEW)
    session = old.session(modcfg.Needs(today="2026-11-02"))
    for slot in ("frame", "glass", "grade", "size"):
        session.choose(slot, WINDOW[slot])
    text = session.to_json()
    same = modcfg.Session.from_json(old, text)
    assert same.migration == ()
    with pytest.raises(modcfg.NeedsError, match="solar"):
        new.price(WINDOW)  # solar glazing is retired
    with pytest.raises(modcfg.InfeasibleError, match="oak-reinforced"):
        new.price({**WINDOW, "glass": "double"})  # and oak with grade 1 is no longer valid
    moved = modcfg.Session.from_json(new, text)
    changes = {change.slot: change for change in moved.migration if change.slot}
    assert changes["glass"].old == "solar"
    assert changes["glass"].kind == "replaced"
    assert "retired" in changes["glass"].reason
    assert changes["grade"].old == "g1"
    assert changes["grade"].new in ("g2", "g3")
    assert "no longer valid" in changes["grade"].reason
    assert moved.choices["frame"] == "oak"
    assert any(change.kind == "history" for change in moved.migration)
    assert moved.state().count > 0
    quote = moved.complete()
    assert not new.violations(quote.configuration)


def test_saved_order_migrates_line_by_line() -> None:
    old, new = modcfg.compile(OLD), modcfg.compile(NEW)
    rules = [modcfg.OrderRule(id="one-frame", same="frame")]
    lines = [modcfg.OrderLine("kitchen", 2, WINDOW), modcfg.OrderLine("hall", 1, WINDOW)]
    order = modcfg.Order(old, lines, rules)
    today = modcfg.Needs(today="2026-11-02")
    assert order.quote(today).total > 0
    text = order.to_json()
    assert modcfg.Order.from_json(old, text).migration == ()
    moved = modcfg.Order.from_json(new, text)
    assert {(c.line, c.slot) for c in moved.migration} >= {
        ("kitchen", "glass"),
        ("hall", "glass"),
        ("kitchen", "grade"),
        ("hall", "grade"),
    }
    quote = moved.quote(modcfg.Needs(today="2027-06-01"))
    assert quote.configurations["kitchen"]["frame"] == quote.configurations["hall"]["frame"]
    with pytest.raises(modcfg.CatalogError, match="valid from 2027-03-01 until 2028-02-29"):
        moved.quote(modcfg.Needs(today=dt.date(2026, 11, 2)))


def test_rules_kept_under_new_ids_are_renamed_not_changed(tmp_path: Path) -> None:
    # a DIMACS model numbers its clauses: a clause inserted first moves every later one
    names = "c 1 a\nc 2 b\nc 3 c\n"
    old, new = tmp_path / "old.dimacs", tmp_path / "new.dimacs"
    old.write_text(names + "p cnf 3 3\n1 2 0\n-1 3 0\n-2 -3 0\n", encoding="utf-8")
    new.write_text(names + "p cnf 3 3\n2 3 0\n1 2 0\n-1 3 0\n", encoding="utf-8")
    diff = modcfg.diff_catalogs(modcfg.load_catalog(old), modcfg.load_catalog(new))
    assert diff.rules_renamed == (("clause-1", "clause-2"), ("clause-2", "clause-3"))
    assert diff.rules_added == ("clause-1",)  # b or c
    assert diff.rules_removed == ("clause-3",)  # not b or not c (its id went to a moved one)
    assert diff.rules_changed == ()
    assert "rule renamed clause-2 -> clause-3" in str(diff)
    same = modcfg.diff_catalogs(modcfg.load_catalog(old), modcfg.load_catalog(old))
    assert same.unchanged
    assert same.rules_renamed == ()


def test_many_renamed_rules_are_one_line_and_a_new_message_is_a_change(tmp_path: Path) -> None:
    names = "".join(f"c {n} f{n}\n" for n in range(1, 31))
    clauses = [f"-{n} {n + 1} 0\n" for n in range(1, 30)]
    old, new = tmp_path / "old.dimacs", tmp_path / "new.dimacs"
    old.write_text(names + "p cnf 30 29\n" + "".join(clauses), encoding="utf-8")
    new.write_text(names + "p cnf 30 30\n1 0\n" + "".join(clauses), encoding="utf-8")
    text = str(modcfg.diff_catalogs(modcfg.load_catalog(old), modcfg.load_catalog(new)))
    assert "rule added   clause-1" in text
    assert "rules renamed: 29, unchanged under new ids (clause-1 -> clause-2, " in text
    assert "rule renamed" not in text
    catalog = modcfg.load_catalog("windows_pro")
    first = catalog.rules[0].model_copy(update={"message": "new words"})
    reworded = catalog.model_copy(update={"rules": (first, *catalog.rules[1:])})
    diff = modcfg.diff_catalogs(catalog, reworded)
    assert diff.rules_changed == (catalog.rules[0].id,)
    assert diff.rules_renamed == diff.rules_added == diff.rules_removed == ()

"""The customer memory: recording with consent, profiles, suggestions after a catalog change,
and the privacy duties (export, forget, retention, encryption), on SQLite."""

from __future__ import annotations

import datetime as dt
import gc
import json
import sqlite3
import weakref
from pathlib import Path

import pytest
import sqlalchemy as sa

import modcfg
from modcfg.memory import ConsentError, CustomerMemory, MemoryStoreError

from .memory_helpers import windows_v2

UTC = dt.UTC


@pytest.fixture(scope="module")
def cfg() -> modcfg.Configurator:
    return modcfg.compile("windows")


@pytest.fixture
def memory(tmp_path: Path) -> CustomerMemory:
    store = CustomerMemory(f"sqlite:///{tmp_path / 'memory.db'}")
    yield store
    store.close()


def _order(
    cfg: modcfg.Configurator, needs: modcfg.Needs | None = None, **choices: str
) -> modcfg.Quote:
    usual = {"frame": "oak", "glass": "triple", "grade": "g2", "picture": "plain"} | choices
    return cfg.price(usual, needs)


def _rows_naming(path: Path, customer_id: str) -> list[tuple[str, tuple[object, ...]]]:
    """Every row of every table of the SQLite file that holds ``customer_id`` anywhere."""
    found = []
    with sqlite3.connect(path) as connection:
        tables = [
            r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
        ]
        for table in tables:
            for row in connection.execute(f'SELECT * FROM "{table}"'):
                if any(customer_id in str(value) for value in row):
                    found.append((table, row))
    return found


def test_recording_needs_consent(memory: CustomerMemory, cfg: modcfg.Configurator) -> None:
    with pytest.raises(ConsentError, match="nothing was stored"):
        memory.record("c1", _order(cfg), consent=False, catalog=cfg)
    assert memory.customers() == []
    assert issubclass(ConsentError, modcfg.ModcfgError)


def test_an_order_keeps_configuration_needs_lines_and_catalog(
    memory: CustomerMemory, cfg: modcfg.Configurator
) -> None:
    needs = modcfg.Needs(quantity=2, require=["glass.triple"])
    quote = cfg.price(dict(_order(cfg).configuration), needs)
    memory.record("c1", quote, needs, consent=True, catalog=cfg)
    [order] = memory.orders("c1")
    assert order.configuration == dict(quote.configuration.items())
    assert order.needs == {"quantity": 2, "require": ["glass.triple"]}
    assert (order.catalog, order.catalog_version) == ("windows", "2026.1")
    assert order.total == quote.total
    assert order.quantity == 2
    assert order.line_count == len(quote.lines)
    exported = json.loads(memory.export("c1"))
    assert [line["amount"] for line in exported["orders"][0]["lines"]] == [
        str(line.amount) for line in quote.lines
    ]


def test_profile_finds_the_usual_and_weights(
    memory: CustomerMemory, cfg: modcfg.Configurator
) -> None:
    start = dt.datetime(2026, 1, 1, tzinfo=UTC)
    pictures = ["plain", "plain", "bars", "plain", "plain"]
    for day, picture in enumerate(pictures):
        needs = modcfg.Needs(quantity=3)
        memory.record(
            "c1",
            _order(cfg, needs, picture=picture),
            needs,
            consent=True,
            catalog=cfg,
            when=start + dt.timedelta(days=30 * day),
        )
    profile = memory.profile("c1")
    assert profile.usual == {"frame": "oak", "glass": "triple", "grade": "g2", "picture": "plain"}
    assert profile.weights["frame"] == {"oak": 1.0}
    assert profile.weight("picture", "plain") > 0.7 > profile.weight("picture", "bars") > 0
    assert profile.quantity == 3
    assert profile.orders == 5
    assert profile.days_between == pytest.approx(30)
    assert profile.orders_per_year == pytest.approx(365.25 / 30)
    with pytest.raises(MemoryStoreError, match="no orders"):
        memory.profile("nobody")


def test_suggest_gives_the_usual_while_it_is_valid(
    memory: CustomerMemory, cfg: modcfg.Configurator
) -> None:
    memory.record("c1", _order(cfg), consent=True, catalog=cfg)
    first, *others = memory.suggest("c1", cfg, k=3)
    assert first.is_usual
    assert first.configuration == _order(cfg).configuration
    assert first.quote.total == _order(cfg).total
    assert [s.module_changes for s in others] == [1, 1]
    assert all(c.kind == "alternative" for s in others for c in s.changes)
    # one change each, cheapest first
    assert others[0].quote.total <= others[1].quote.total


def test_suggest_repairs_an_order_after_a_catalog_change(
    memory: CustomerMemory, cfg: modcfg.Configurator
) -> None:
    memory.record(
        "c1",
        _order(cfg, frame="pvc", glass="frosted", picture="sunburst"),
        consent=True,
        catalog=cfg,
    )
    memory.record("c2", _order(cfg, frame="pvc", glass="triple"), consent=True, catalog=cfg)
    new = modcfg.compile(windows_v2())
    [repaired] = memory.suggest("c1", new, k=1)
    kinds = {change.slot: change.kind for change in repaired.changes}
    assert kinds == {"glass": "retired-module", "picture": "retired-module"}
    assert "retired in catalog windows version 2027.1" in str(repaired.changes[0])
    assert not new.violations(dict(repaired.configuration.items()))
    suggestions = memory.suggest("c2", new, k=3)
    ruled = suggestions[0].changes
    assert len(ruled) == 1
    assert ruled[0].kind == "rule"
    assert ruled[0].rules == ("pvc-no-triple",)
    assert "PVC frames cannot carry triple glazing" in ruled[0].reason
    # fewest changes first, then price
    keys = [(s.module_changes, s.quote.total) for s in suggestions]
    assert keys == sorted(keys)


def test_export_and_forget_leave_no_row_naming_the_customer(
    tmp_path: Path, cfg: modcfg.Configurator
) -> None:
    path = tmp_path / "memory.db"
    memory = CustomerMemory(f"sqlite:///{path}")
    for customer in ("alice-42", "bob-7"):
        memory.record(customer, _order(cfg), consent=True, catalog=cfg, profile={"name": customer})
    exported = json.loads(memory.export("alice-42"))
    assert exported["profile"] == {"name": "alice-42"}
    assert len(exported["orders"]) == 1
    assert _rows_naming(path, "alice-42")
    assert memory.forget("alice-42") == 1
    assert _rows_naming(path, "alice-42") == []
    assert json.loads(memory.export("alice-42")) == {
        "customer_id": "alice-42",
        "stored": False,
        "orders": [],
    }
    # the other customer's order and lines stay whole
    with sqlite3.connect(path) as connection:
        lines = connection.execute("SELECT count(*) FROM modcfg_order_lines").fetchone()[0]
    assert lines == len(_order(cfg).lines)
    assert memory.customers() == ["bob-7"]
    assert memory.withdraw_consent("bob-7") == 1
    assert memory.customers() == []
    memory.close()


def test_retention_purges_old_orders(tmp_path: Path, cfg: modcfg.Configurator) -> None:
    url = f"sqlite:///{tmp_path / 'memory.db'}"
    memory = CustomerMemory(url)
    old = dt.datetime.now(UTC) - dt.timedelta(days=400)
    memory.record("old", _order(cfg), consent=True, catalog=cfg, when=old)
    memory.record("both", _order(cfg), consent=True, catalog=cfg, when=old)
    memory.record("both", _order(cfg), consent=True, catalog=cfg)
    memory.close()
    kept = CustomerMemory(url, retention_days=365)  # purges on opening
    assert kept.customers() == ["both"]
    assert len(kept.orders("both")) == 1
    assert kept.purge(now=dt.datetime.now(UTC) + dt.timedelta(days=366)) == 1
    assert kept.customers() == []
    with pytest.raises(MemoryStoreError, match="retention_days"):
        CustomerMemory(url, retention_days=0)


def test_profiles_are_encrypted_with_a_key(tmp_path: Path, cfg: modcfg.Configurator) -> None:
    from cryptography.fernet import Fernet

    path, key = tmp_path / "memory.db", Fernet.generate_key()
    memory = CustomerMemory(f"sqlite:///{path}", encryption_key=key)
    memory.record("c1", _order(cfg), consent=True, catalog=cfg, profile={"email": "a@b.example"})
    assert json.loads(memory.export("c1"))["profile"] == {"email": "a@b.example"}
    assert b"a@b.example" not in path.read_bytes()
    with sqlite3.connect(path) as connection:
        stored = connection.execute("SELECT profile FROM modcfg_customers").fetchone()[0]
    assert "a@b.example" not in stored
    memory.close()
    with pytest.raises(MemoryStoreError, match="encryption_key"):
        CustomerMemory(f"sqlite:///{path}").export("c1")
    with pytest.raises(MemoryStoreError, match="does not decrypt"):
        CustomerMemory(f"sqlite:///{path}", encryption_key=Fernet.generate_key()).export("c1")
    with pytest.raises(MemoryStoreError, match="not a Fernet key"):
        CustomerMemory(f"sqlite:///{path}", encryption_key=b"secret")


@pytest.mark.parametrize("bad", ["", "x" * 129, "tab\there", 17, None])
def test_bad_customer_ids_are_refused(memory: CustomerMemory, bad: object) -> None:
    with pytest.raises(MemoryStoreError, match="customer id"):
        memory.forget(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "empty"),
        ("not a url", "malformed"),
        ("mysql://localhost/db", "SQLite .* or PostgreSQL"),
        ("sqlite:////no/such/folder/memory.db", "does not exist"),
    ],
)
def test_bad_urls_say_what_to_give(url: str, message: str) -> None:
    with pytest.raises(MemoryStoreError, match=message):
        CustomerMemory(url)


def test_a_newer_schema_is_refused_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "memory.db"
    CustomerMemory(f"sqlite:///{path}").close()
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999'")
    with pytest.raises(MemoryStoreError, match=r"'9999'.*newer modcfg"):
        CustomerMemory(f"sqlite:///{path}")
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT version_num FROM alembic_version").fetchone() == ("9999",)


def test_a_foreign_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE modcfg_orders (x INTEGER)")
    with pytest.raises(MemoryStoreError, match="not made by modcfg"):
        CustomerMemory(f"sqlite:///{path}")


def test_the_schema_is_the_migrations_head(tmp_path: Path) -> None:
    """The tables the queries use are exactly what the migrations create."""
    from modcfg.memory._schema import METADATA

    path = tmp_path / "memory.db"
    CustomerMemory(f"sqlite:///{path}").close()
    engine = sa.create_engine(f"sqlite:///{path}")
    inspector = sa.inspect(engine)
    for table in METADATA.sorted_tables:
        columns = {c["name"] for c in inspector.get_columns(table.name)}
        assert columns == {c.name for c in table.columns}, table.name
    engine.dispose()


def test_a_configurator_keeps_no_needs_after_clear_caches(cfg: modcfg.Configurator) -> None:
    needs = modcfg.Needs(require=["glass.triple"], budget="900")
    alive = weakref.ref(needs)
    assert cfg.count(needs) > 0
    cfg.best(needs, k=2)
    cfg.session(needs).state().count  # noqa: B018
    del needs
    cfg.clear_caches()
    gc.collect()
    assert alive() is None


def test_segments_place_customers_in_quadrants(
    memory: CustomerMemory, cfg: modcfg.Configurator
) -> None:
    start = dt.datetime(2026, 1, 1, tzinfo=UTC)
    for n in range(6):  # a frequent, big spender whose needs the catalog serves
        when = start + dt.timedelta(days=20 * n)
        memory.record("loyal", _order(cfg), modcfg.Needs(), consent=True, catalog=cfg, when=when)
    impossible = modcfg.Needs(require=["glass.triple"], forbid=["glass.triple"])
    for n in range(6):  # as much value, but needs no window meets
        when = start + dt.timedelta(days=20 * n)
        memory.record("special", _order(cfg), impossible, consent=True, catalog=cfg, when=when)
    memory.record("once", cfg.best(k=1)[0], consent=True, catalog=cfg, when=start)
    rows = {row.customer_id: row for row in memory.segments(cfg)}
    assert rows["loyal"].quadrant == "frequency"
    assert rows["loyal"].fit == 1.0
    assert rows["special"].quadrant == "customised"
    assert rows["special"].fit == 0.0
    assert rows["once"].quadrant == "mass"
    assert rows["loyal"].yearly_value == 6 * _order(cfg).total
    frame = memory.segments(cfg).to_pandas()
    assert list(frame["customer_id"]) == ["loyal", "once", "special"]

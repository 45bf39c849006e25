"""Crash and concurrency safety of the customer memory, on SQLite and on a real PostgreSQL
server (started here in a throwaway folder when the postgres binaries are installed).

- 4 processes x 200 ``record`` calls against one database: all 800 orders are there, whole;
- a process killed (SIGKILL) while it writes leaves no partial order: every stored order has
  exactly the lines it was recorded with;
- ``forget`` leaves no row naming the customer in any table of the database.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

import modcfg
from modcfg.memory import CustomerMemory

from .memory_helpers import postgres_missing, postgres_server

PROCESSES, RECORDS = 4, 200
# the workers are forked from the test process (a fresh interpreter per worker would spend
# its time importing); their databases are opened after the fork
pytestmark = pytest.mark.filterwarnings("ignore:.*fork.*:DeprecationWarning")


@pytest.fixture(scope="module")
def postgres_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    missing = postgres_missing()
    if missing is not None:
        pytest.skip(f"no PostgreSQL server to test against: {missing}")
    yield from postgres_server(tmp_path_factory.mktemp("postgres"))


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'memory.db'}"
        return
    base: str = request.getfixturevalue("postgres_url")
    database = f"memory_{os.getpid()}_{time.monotonic_ns()}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{database}"'))
    yield base.rsplit("/", 1)[0] + "/" + database
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE "{database}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="module")
def quote() -> modcfg.Quote:
    return modcfg.compile("windows").best(k=1)[0]


def _record_many(url: str, worker: int, quote: modcfg.Quote, count: int) -> None:
    memory = CustomerMemory(url)
    catalog = modcfg.load_catalog("windows")
    for n in range(count):
        memory.record(f"worker-{worker}-{n % 7}", quote, consent=True, catalog=catalog)
    memory.close()


def _fork() -> multiprocessing.context.ForkContext:
    return multiprocessing.get_context("fork")


def _whole_orders(url: str) -> tuple[int, int, int]:
    """(orders, lines, orders whose lines are not exactly the ones recorded)."""
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        orders = connection.execute(sa.text("SELECT count(*) FROM modcfg_orders")).scalar_one()
        lines = connection.execute(sa.text("SELECT count(*) FROM modcfg_order_lines")).scalar_one()
        torn = connection.execute(
            sa.text(
                "SELECT count(*) FROM modcfg_orders o WHERE o.line_count != "
                "(SELECT count(*) FROM modcfg_order_lines l WHERE l.order_id = o.order_id)"
            )
        ).scalar_one()
    engine.dispose()
    return int(orders), int(lines), int(torn)


def test_concurrent_processes_record_every_order(url: str, quote: modcfg.Quote) -> None:
    CustomerMemory(url).close()  # the schema exists before the workers start
    workers = [
        _fork().Process(target=_record_many, args=(url, worker, quote, RECORDS))
        for worker in range(PROCESSES)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
        assert worker.exitcode == 0
    orders, lines, torn = _whole_orders(url)
    assert orders == PROCESSES * RECORDS
    assert lines == orders * len(quote.lines)
    assert torn == 0
    memory = CustomerMemory(url)
    assert len(memory.customers()) == PROCESSES * 7
    memory.close()


def test_a_new_database_opened_by_many_processes_at_once_is_created_once(url: str) -> None:
    workers = [_fork().Process(target=_open_and_close, args=(url,)) for _ in range(PROCESSES)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    assert _whole_orders(url) == (0, 0, 0)


def _open_and_close(url: str) -> None:
    CustomerMemory(url).close()


def test_a_process_killed_while_writing_leaves_no_partial_order(
    url: str, quote: modcfg.Quote
) -> None:
    CustomerMemory(url).close()
    worker = _fork().Process(target=_record_many, args=(url, 0, quote, 1_000_000))
    worker.start()
    deadline = time.monotonic() + 60
    while _whole_orders(url)[0] < 20 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert worker.pid is not None
    os.kill(worker.pid, signal.SIGKILL)
    worker.join(timeout=30)
    assert worker.exitcode == -signal.SIGKILL
    orders, lines, torn = _whole_orders(url)
    assert orders >= 20
    assert lines == orders * len(quote.lines)
    assert torn == 0
    memory = CustomerMemory(url)  # and the database still opens and takes orders
    memory.record("after", quote, consent=True, catalog=modcfg.load_catalog("windows"))
    assert _whole_orders(url) == (orders + 1, lines + len(quote.lines), 0)
    memory.close()


def test_forget_leaves_no_row_naming_the_customer_in_any_table(
    url: str, quote: modcfg.Quote
) -> None:
    memory = CustomerMemory(url)
    catalog = modcfg.load_catalog("windows")
    for customer in ("alice-42", "bob-7", "alice-42"):
        memory.record(customer, quote, consent=True, catalog=catalog, profile={"n": customer})
    assert _rows_naming(url, "alice-42")
    assert memory.forget("alice-42") == 2
    assert _rows_naming(url, "alice-42") == []
    assert memory.customers() == ["bob-7"]
    memory.close()


def _rows_naming(url: str, text: str) -> list[tuple[str, tuple[object, ...]]]:
    """Every row of every table of the database holding ``text`` in any column, or in an
    order line of an order of the customer ``text``."""
    engine = sa.create_engine(url)
    found = []
    metadata = sa.MetaData()
    metadata.reflect(engine)
    with engine.connect() as connection:
        orders = {
            row[0]
            for row in connection.execute(
                sa.text("SELECT order_id FROM modcfg_orders WHERE customer_id = :id"), {"id": text}
            )
        }
        for table in metadata.sorted_tables:
            for row in connection.execute(sa.select(table)):
                mapping = row._mapping
                if any(text in str(value) for value in row) or (
                    "order_id" in mapping and mapping["order_id"] in orders
                ):
                    found.append((table.name, tuple(row)))
    engine.dispose()
    return found

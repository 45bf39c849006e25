"""Opening a customer memory database: the engine, its schema version, and transactions that
retry when the database is busy.

SQLite (the embedded default) runs in WAL mode (synchronous=NORMAL: a power cut may lose the
last commits, never tear one) with foreign keys on, and every transaction
starts with ``BEGIN IMMEDIATE``: writers queue on the database lock instead of failing when
a reader upgrades to a writer, and a transaction is either wholly in the file or not at all
(a process killed mid-write leaves no partial order). PostgreSQL (``postgresql+psycopg://``)
runs the same statements; a busy database there shows as a serialization failure or a
deadlock, which are retried the same way.

The schema is created and upgraded by the Alembic migrations of ``_migrations``, inside one
transaction holding the database's write lock (an advisory lock on PostgreSQL), so processes
opening a new database at once create it once. A database whose revision this modcfg does not
know (a newer modcfg wrote it) is refused, never changed.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from .._errors import MemoryStoreError
from ._schema import HEAD, TABLES

__all__ = ["open_engine", "prepare_schema", "transaction"]

T = TypeVar("T")
log = logging.getLogger("modcfg.memory")

MIGRATIONS = Path(__file__).parent / "_migrations"
#: The PostgreSQL advisory lock key that serialises schema creation (any fixed number).
SCHEMA_LOCK = 0x6D6F6463
#: Driver error texts and SQLSTATE codes that mean "busy: try again".
BUSY_TEXTS = ("database is locked", "database is busy")
BUSY_STATES = ("40001", "40P01", "55P03")


def open_engine(url: str, *, busy_timeout: float) -> Engine:
    """An engine for ``url`` (SQLite or PostgreSQL), with the settings described above."""
    if not isinstance(url, str) or not url.strip():
        raise MemoryStoreError(
            f"the database URL {url!r} is empty; give 'sqlite:///path/to/memory.db', "
            "'sqlite://' (in memory) or 'postgresql+psycopg://user@host/database'"
        )
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError as error:
        raise MemoryStoreError(
            f"the database URL {_masked(url)!r} is malformed ({error}); give "
            "'sqlite:///path/to/memory.db' or 'postgresql+psycopg://user@host/database'"
        ) from None
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise MemoryStoreError(
            f"the database URL {_masked(url)!r} names '{backend}'; a customer memory runs on "
            "SQLite ('sqlite:///memory.db') or PostgreSQL ('postgresql+psycopg://...')"
        )
    if backend == "sqlite":
        return _sqlite_engine(parsed, busy_timeout)
    try:
        engine = sa.create_engine(parsed, pool_pre_ping=True)
    except (ImportError, sa.exc.NoSuchModuleError) as error:
        raise MemoryStoreError(
            f"no driver for {parsed.drivername} ({error}); install psycopg "
            "(pip install 'psycopg[binary]') and use 'postgresql+psycopg://...'"
        ) from None
    return engine


def _masked(url: str) -> str:
    """The URL with any password hidden (for error messages)."""
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return url.split("@")[-1] if "@" in url else url


def _sqlite_engine(url: sa.URL, busy_timeout: float) -> Engine:
    database = url.database or ""
    if database and database != ":memory:":
        folder = Path(database).expanduser().resolve().parent
        if not folder.is_dir():
            raise MemoryStoreError(
                f"the folder of the SQLite database '{database}' does not exist; "
                f"create {folder} first or give another path"
            )
    pool: dict[str, Any] = {}
    if not database or database == ":memory:":
        # one connection for the whole memory, or each connection would see its own database
        pool = {"poolclass": sa.pool.StaticPool}
    engine = sa.create_engine(
        url, connect_args={"timeout": busy_timeout, "check_same_thread": False}, **pool
    )

    @sa.event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        # the driver's own implicit transactions are off: _begin says when one starts
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # WAL with NORMAL sync: a commit is atomic and survives the process being killed; a
        # power cut may lose the last commits (never tear one), and commits need no fsync
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _busy(error: sa.exc.DBAPIError) -> bool:
    """Whether ``error`` says the database was busy (so the transaction may be retried)."""
    state = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
    return state in BUSY_STATES or any(text in str(error.orig) for text in BUSY_TEXTS)


@contextmanager
def _connection(engine: Engine) -> Iterator[Connection]:
    with engine.begin() as connection:
        yield connection


def transaction(engine: Engine, work: Callable[[Connection], T], *, busy_timeout: float) -> T:
    """``work(connection)`` in one transaction, retried (with jittered back-off) while the
    database reports itself busy, for up to ``busy_timeout`` seconds in all."""
    deadline = time.monotonic() + busy_timeout
    pause = 0.01
    while True:
        try:
            with _connection(engine) as connection:
                return work(connection)
        except sa.exc.OperationalError as error:
            if not _busy(error) or time.monotonic() + pause > deadline:
                raise MemoryStoreError(
                    f"the customer memory database failed: {error.orig}; "
                    + (
                        f"it stayed busy for {busy_timeout} s (raise busy_timeout)"
                        if _busy(error)
                        else "check that the database is reachable and writable"
                    )
                ) from error
            log.debug("database busy; retrying in %.3f s", pause)
            time.sleep(pause * (0.5 + random.random()))
            pause = min(pause * 2, 0.5)


def prepare_schema(engine: Engine, *, busy_timeout: float, migrate: bool) -> None:
    """Create the schema in an empty database, upgrade an older one (when ``migrate``), and
    refuse one of an unknown or newer revision."""
    transaction(engine, lambda c: _prepare(c, migrate=migrate), busy_timeout=busy_timeout)


def _prepare(connection: Connection, *, migrate: bool) -> None:
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    if connection.dialect.name == "postgresql":
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK})
    current = MigrationContext.configure(connection).get_current_revision()
    if current == HEAD:
        return
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    scripts = ScriptDirectory.from_config(config)
    known = {script.revision for script in scripts.walk_revisions()}
    if current is not None and current not in known:
        raise MemoryStoreError(
            f"this customer memory database has schema revision '{current}', which this "
            f"version of modcfg does not know (its newest is '{HEAD}'): it was written by a "
            "newer modcfg; upgrade modcfg (pip install -U modcfg) to open it"
        )
    if current is None:
        ours = {table.name for table in TABLES}
        present = set(sa.inspect(connection).get_table_names()) & ours
        if present:
            raise MemoryStoreError(
                f"this database has the tables {', '.join(sorted(present))} but no schema "
                "revision (no alembic_version row): it was not made by modcfg; give an "
                "empty database or one that a CustomerMemory created"
            )
    elif not migrate:
        raise MemoryStoreError(
            f"this customer memory database has schema revision '{current}', older than "
            f"'{HEAD}'; open it with migrate=True (the default) to upgrade it"
        )
    from alembic import command

    config.attributes["connection"] = connection
    command.upgrade(config, "head")

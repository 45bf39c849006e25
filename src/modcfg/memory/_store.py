"""The customer memory: what each consenting customer bought, and the duties that come with it.

:class:`CustomerMemory` stores orders (configuration, needs, quote lines, catalog name and
version, time) only with the customer's consent, exports everything it holds about a customer
as JSON, forgets a customer completely, and purges orders older than its retention period.
Customer ids are opaque strings; personal data enters only through the documented ``profile``
mapping, encrypted with Fernet when a key is configured.

Invariants: an order and its lines are written in one transaction (a reader never sees a torn
order); every row about a customer is found by the customer id, so :meth:`forget` leaves
nothing behind; money is stored as decimal strings.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .._errors import ConsentError, MemoryStoreError
from ..model import Catalog, Needs, Quantities
from ..price import Quote
from ._database import open_engine, prepare_schema, transaction
from ._popularity import POPULARITY_SECONDS, Popularity
from ._profile import CustomerProfile, StoredOrder, build_profile
from ._schema import CUSTOMERS, ID_LENGTH, LINES, ORDERS

if TYPE_CHECKING:
    from .._configurator import Configurator
    from ._segments import Segments
    from ._suggest import Suggestion

__all__ = ["POPULARITY_SECONDS", "CustomerMemory"]


_ID = re.compile(r"[^\x00-\x1f\x7f]+")
# statements built once (their parameters come with each execution): SQLAlchemy then reuses
# the compiled form instead of building and keying a new statement per order
_FIND_CUSTOMER = sa.select(CUSTOMERS.c.customer_id).where(
    CUSTOMERS.c.customer_id == sa.bindparam("wanted")
)
_INSERT_CUSTOMER = CUSTOMERS.insert()
_INSERT_ORDER = ORDERS.insert()
_INSERT_LINES = LINES.insert()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _utc(moment: dt.datetime) -> dt.datetime:
    """An aware UTC time (SQLite gives back naive times; they were written in UTC)."""
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def checked_id(customer_id: object) -> str:
    """The customer id, checked: an opaque non-empty string without control characters."""
    if not isinstance(customer_id, str):
        raise MemoryStoreError(
            f"a customer id is an opaque string, not {type(customer_id).__name__}; "
            "pass str(your_id)"
        )
    if not 0 < len(customer_id) <= ID_LENGTH or not _ID.fullmatch(customer_id):
        raise MemoryStoreError(
            f"customer id {customer_id[:40]!r} is not valid: give 1 to {ID_LENGTH} "
            "characters without control characters (an opaque id, never a name or e-mail)"
        )
    return customer_id


def _plain(choice: Any) -> Any:
    return dict(choice) if isinstance(choice, Quantities) else choice


@dataclass(frozen=True)
class _Cipher:
    """The Fernet key profiles are encrypted with (None: profiles stored as JSON)."""

    key: bytes | None

    def seal(self, profile: Mapping[str, Any]) -> tuple[str, bool]:
        text = json.dumps(dict(profile), sort_keys=True, default=str)
        if self.key is None:
            return text, False
        from cryptography.fernet import Fernet

        return Fernet(self.key).encrypt(text.encode()).decode("ascii"), True

    def open(self, stored: str, *, encrypted: bool) -> dict[str, Any]:
        if not encrypted:
            return dict(json.loads(stored))
        if self.key is None:
            raise MemoryStoreError(
                "this customer's profile is stored encrypted; open the memory with the "
                "encryption_key it was written with"
            )
        from cryptography.fernet import Fernet, InvalidToken

        try:
            return dict(json.loads(Fernet(self.key).decrypt(stored.encode("ascii"))))
        except InvalidToken:
            raise MemoryStoreError(
                "this customer's profile does not decrypt with the given encryption_key; "
                "give the key it was written with"
            ) from None


def _cipher(key: bytes | str | None) -> _Cipher:
    if key is None:
        return _Cipher(None)
    raw = key.encode("ascii") if isinstance(key, str) else key
    try:
        from cryptography.fernet import Fernet
    except ImportError:
        raise MemoryStoreError(
            "an encryption_key needs the cryptography package: pip install 'modcfg[memory]'"
        ) from None
    try:
        Fernet(raw)
    except ValueError:
        raise MemoryStoreError(
            "the encryption_key is not a Fernet key (32 url-safe base64-encoded bytes); "
            "make one with cryptography.fernet.Fernet.generate_key()"
        ) from None
    return _Cipher(raw)


class CustomerMemory:
    """What consenting customers bought, on SQLite (``sqlite:///memory.db``, ``sqlite://`` in
    memory) or PostgreSQL (``postgresql+psycopg://user@host/db``).

    ``retention_days`` purges orders older than that many days (on opening and on
    :meth:`purge`); ``encryption_key`` (a Fernet key) encrypts each customer's ``profile``
    mapping; ``busy_timeout`` (seconds) bounds how long a write waits for a busy database;
    ``migrate`` upgrades a database of an older schema (a newer one is always refused).

    >>> import modcfg
    >>> from modcfg.memory import CustomerMemory
    >>> cfg = modcfg.compile("windows")
    >>> memory = CustomerMemory("sqlite://")
    >>> order = memory.record("c-17", cfg.best(k=1)[0], consent=True, catalog=cfg)
    >>> memory.profile("c-17").usual
    {'frame': 'pvc', 'glass': 'float', 'grade': 'g1', 'picture': 'plain'}
    >>> memory.forget("c-17")
    1
    """

    def __init__(
        self,
        url: str = "sqlite:///modcfg-memory.db",
        *,
        retention_days: int | None = None,
        encryption_key: bytes | str | None = None,
        busy_timeout: float = 30.0,
        migrate: bool = True,
    ) -> None:
        if retention_days is not None and retention_days < 1:
            raise MemoryStoreError(
                f"retention_days={retention_days} would purge every order at once; "
                "give at least 1 (or None to keep orders until forgotten)"
            )
        self.retention_days = retention_days
        self.busy_timeout = busy_timeout
        self._cipher = _cipher(encryption_key)
        self._popularity = Popularity()  # (see popularity())
        self._engine = open_engine(url, busy_timeout=busy_timeout)
        try:
            prepare_schema(self._engine, busy_timeout=busy_timeout, migrate=migrate)
        except sa.exc.SQLAlchemyError as error:
            self._engine.dispose()
            raise MemoryStoreError(
                f"cannot open the customer memory at {self._engine.url!r}: {error}; check "
                "the URL, that the server runs and that the user may create tables"
            ) from error
        except BaseException:
            self._engine.dispose()
            raise
        if retention_days is not None:
            self.purge()

    def __repr__(self) -> str:
        return f"<CustomerMemory {self._engine.url!r}>"

    def close(self) -> None:
        """Close the database connections (the memory cannot be used afterwards)."""
        self._engine.dispose()

    def __enter__(self) -> CustomerMemory:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _run(self, work: Any, *, writes: bool = False) -> Any:
        if writes:
            self._popularity.stale()
        return transaction(self._engine, work, busy_timeout=self.busy_timeout)

    # -- recording --------------------------------------------------------------------------

    def record(
        self,
        customer_id: str,
        quote: Quote,
        needs: Needs | None = None,
        *,
        consent: bool,
        catalog: Catalog | Configurator,
        profile: Mapping[str, Any] | None = None,
        when: dt.datetime | None = None,
    ) -> int:
        """Store one order and return its id: the quote's configuration and lines, the needs,
        the catalog's name and version, and the time (``when``, default now).

        Only with ``consent=True``: without it nothing is stored and :class:`ConsentError`
        says so. ``profile`` (names, e-mail... whatever the caller must keep) replaces the
        customer's stored profile, encrypted when the memory has an ``encryption_key``.
        """
        customer_id = checked_id(customer_id)
        if consent is not True:
            raise ConsentError(
                f"customer '{customer_id}' has not consented to being remembered, so nothing "
                "was stored; ask for consent and record with consent=True"
            )
        if not isinstance(quote, Quote):
            raise MemoryStoreError(
                f"record() takes a modcfg.Quote (from cfg.price or cfg.best), not "
                f"{type(quote).__name__}"
            )
        source = catalog if isinstance(catalog, Catalog) else catalog.catalog
        moment = _utc(when) if when is not None else _now()
        sealed = None if profile is None else self._cipher.seal(profile)
        order = {
            "customer_id": customer_id,
            "recorded_at": moment,
            "catalog": source.name,
            "catalog_version": source.version,
            "configuration": json.dumps(
                {slot: _plain(choice) for slot, choice in quote.configuration.items()}
            ),
            "needs": None if needs is None else needs.model_dump_json(exclude_defaults=True),
            "currency": quote.currency,
            "total": str(quote.total),
            "quantity": quote.quantity,
            "payment": None if needs is None else needs.payment,
            "line_count": len(quote.lines),
        }
        lines = [
            {
                "position": position,
                "kind": line.kind,
                "source": line.source,
                "label": line.label,
                "quantity": line.quantity,
                "amount": str(line.amount),
                "reason": line.reason,
            }
            for position, line in enumerate(quote.lines)
        ]

        def work(connection: Connection) -> int:
            self._ensure_customer(connection, customer_id, moment, sealed)
            inserted = connection.execute(_INSERT_ORDER, order).inserted_primary_key
            order_id = int(inserted[0]) if inserted is not None else 0
            if lines:
                connection.execute(_INSERT_LINES, [{"order_id": order_id, **row} for row in lines])
            return order_id

        result: int = self._run(work, writes=True)
        return result

    def _ensure_customer(
        self,
        connection: Connection,
        customer_id: str,
        moment: dt.datetime,
        sealed: tuple[str, bool] | None,
    ) -> None:
        found = connection.execute(_FIND_CUSTOMER, {"wanted": customer_id}).first()
        values: dict[str, Any] = {}
        if sealed is not None:
            values = {"profile": sealed[0], "profile_encrypted": sealed[1]}
        if found is None:
            row = {"customer_id": customer_id, "consented_at": min(moment, _now())}
            row |= values or {"profile": None, "profile_encrypted": False}
            connection.execute(_INSERT_CUSTOMER, row)
        elif values:
            connection.execute(
                CUSTOMERS.update().where(CUSTOMERS.c.customer_id == customer_id).values(values)
            )

    # -- reading ----------------------------------------------------------------------------

    def customers(self) -> list[str]:
        """The ids of every customer the memory holds, sorted."""
        rows = self._run(
            lambda c: c.execute(sa.select(CUSTOMERS.c.customer_id).order_by("customer_id"))
        )
        return [row[0] for row in rows]

    def orders(self, customer_id: str | None = None) -> list[StoredOrder]:
        """The stored orders (of one customer, or of all), oldest first."""
        query = sa.select(ORDERS).order_by(ORDERS.c.recorded_at, ORDERS.c.order_id)
        if customer_id is not None:
            query = query.where(ORDERS.c.customer_id == checked_id(customer_id))
        rows = self._run(lambda c: c.execute(query).mappings().all())
        return [_stored_order(row) for row in rows]

    def profile(self, customer_id: str, catalog: str | None = None) -> CustomerProfile:
        """What the customer's orders (of ``catalog``, by name, when given) say about them:
        the usual configuration, preferred modules per slot with weights, typical quantity,
        payment method and purchase frequency. MemoryStoreError when nothing is stored."""
        orders = self.orders(customer_id)
        if catalog is not None:
            orders = [order for order in orders if order.catalog == catalog]
        if not orders:
            which = "" if catalog is None else f" of catalog '{catalog}'"
            raise MemoryStoreError(
                f"no orders{which} are stored for customer '{customer_id}'; record some first "
                "(or the customer was forgotten)"
            )
        return build_profile(customer_id, orders)

    def suggest(self, customer_id: str, cfg: Configurator, k: int = 3) -> list[Suggestion]:
        """Up to ``k`` valid configurations of ``cfg``'s catalog for the customer, best first:
        the usual when it is still valid, else the nearest valid configurations (fewest module
        changes; then the modules the customer ordered before, by learned weight; then price),
        each change explained. Repairs a saved order after a catalog change (retired modules,
        new rules)."""
        from ._suggest import suggest

        profile = self.profile(customer_id, cfg.catalog.name)
        return suggest(profile, cfg, k, self.popularity(cfg.catalog.name))

    def popularity(self, catalog: str) -> dict[str, dict[str, float]]:
        """``[slot][module]``: the share of all stored orders of ``catalog`` holding the
        module (suggestions break ties in a customer's own history with it). Worked out
        again after this memory writes, or after :data:`POPULARITY_SECONDS`."""
        return self._popularity.shares(catalog, self._run)

    def segments(self, cfg: Configurator | None = None) -> Segments:
        """Every customer placed in the mass / frequency / customised quadrants (see
        :class:`~modcfg.memory.Segment`); with ``cfg``, fit is measured on its catalog."""
        from ._segments import segments

        return segments(self.orders(), cfg)

    # -- privacy ----------------------------------------------------------------------------

    def export(self, customer_id: str) -> str:
        """Everything stored about the customer, as JSON text (the right of access)."""
        customer_id = checked_id(customer_id)

        def work(connection: Connection) -> tuple[Any, Sequence[Any], Sequence[Any]]:
            customer = (
                connection.execute(
                    sa.select(CUSTOMERS).where(CUSTOMERS.c.customer_id == customer_id)
                )
                .mappings()
                .first()
            )
            orders = (
                connection.execute(
                    sa.select(ORDERS)
                    .where(ORDERS.c.customer_id == customer_id)
                    .order_by(ORDERS.c.recorded_at, ORDERS.c.order_id)
                )
                .mappings()
                .all()
            )
            ids = [order["order_id"] for order in orders]
            lines = (
                connection.execute(
                    sa.select(LINES)
                    .where(LINES.c.order_id.in_(ids))
                    .order_by("order_id", "position")
                )
                .mappings()
                .all()
                if ids
                else []
            )
            return customer, orders, lines

        customer, orders, lines = self._run(work)
        document: dict[str, Any] = {"customer_id": customer_id, "stored": customer is not None}
        if customer is not None:
            stored = customer["profile"]
            document["consented_at"] = _utc(customer["consented_at"]).isoformat()
            document["profile"] = (
                None
                if stored is None
                else self._cipher.open(stored, encrypted=bool(customer["profile_encrypted"]))
            )
        by_order: dict[int, list[dict[str, Any]]] = {}
        for line in lines:
            row = {key: value for key, value in line.items() if key != "order_id"}
            by_order.setdefault(line["order_id"], []).append(row)
        document["orders"] = [
            {
                **_stored_order(order).to_dict(),
                "lines": by_order.get(order["order_id"], []),
            }
            for order in orders
        ]
        return json.dumps(document, indent=2, sort_keys=True)

    def forget(self, customer_id: str) -> int:
        """Delete every row about the customer (the right to erasure); returns how many
        orders went. Forgetting an unknown customer deletes nothing and returns 0."""
        customer_id = checked_id(customer_id)

        def work(connection: Connection) -> int:
            orders = sa.select(ORDERS.c.order_id).where(ORDERS.c.customer_id == customer_id)
            connection.execute(LINES.delete().where(LINES.c.order_id.in_(orders)))
            gone = connection.execute(ORDERS.delete().where(ORDERS.c.customer_id == customer_id))
            connection.execute(CUSTOMERS.delete().where(CUSTOMERS.c.customer_id == customer_id))
            return int(gone.rowcount)

        result: int = self._run(work, writes=True)
        return result

    def withdraw_consent(self, customer_id: str) -> int:
        """The customer withdraws consent: everything about them is forgotten (as
        :meth:`forget`, whose count it returns)."""
        return self.forget(customer_id)

    def purge(self, *, now: dt.datetime | None = None) -> int:
        """Delete the orders older than ``retention_days`` (and customers left without
        orders); returns how many orders went. Does nothing without a retention period."""
        if self.retention_days is None:
            return 0
        cutoff = (now or _now()) - dt.timedelta(days=self.retention_days)

        def work(connection: Connection) -> int:
            old = sa.select(ORDERS.c.order_id).where(ORDERS.c.recorded_at < cutoff)
            connection.execute(LINES.delete().where(LINES.c.order_id.in_(old)))
            gone = connection.execute(ORDERS.delete().where(ORDERS.c.recorded_at < cutoff))
            kept = sa.select(ORDERS.c.customer_id)
            connection.execute(CUSTOMERS.delete().where(CUSTOMERS.c.customer_id.not_in(kept)))
            return int(gone.rowcount)

        result: int = self._run(work, writes=True)
        return result


def _stored_order(row: Mapping[str, Any]) -> StoredOrder:
    needs = row["needs"]
    return StoredOrder(
        order_id=int(row["order_id"]),
        customer_id=row["customer_id"],
        recorded_at=_utc(row["recorded_at"]),
        catalog=row["catalog"],
        catalog_version=row["catalog_version"],
        configuration=json.loads(row["configuration"]),
        needs=None if needs is None else json.loads(needs),
        currency=row["currency"],
        total=Decimal(row["total"]),
        quantity=int(row["quantity"]),
        payment=row["payment"],
        line_count=int(row["line_count"]),
    )

"""The tables of a customer memory, as SQLAlchemy Core objects the queries are written with.

The schema itself is created and upgraded by the Alembic migrations shipped in
``_migrations/versions`` (the tables here must always equal their head); :data:`HEAD` names
that revision. Invariants: every row about a customer carries its ``customer_id`` (orders) or
hangs off one of its orders (order lines), so deleting by id removes everything; amounts are
decimal strings, never floats; configurations, needs and profiles are JSON text.
"""

from __future__ import annotations

import sqlalchemy as sa

__all__ = ["CUSTOMERS", "HEAD", "LINES", "METADATA", "ORDERS", "TABLES"]

#: The Alembic revision of the schema these tables describe.
HEAD = "0001"
#: The longest customer id a memory accepts.
ID_LENGTH = 128

METADATA = sa.MetaData()

CUSTOMERS = sa.Table(
    "modcfg_customers",
    METADATA,
    sa.Column("customer_id", sa.String(ID_LENGTH), primary_key=True),
    sa.Column("consented_at", sa.DateTime(timezone=True), nullable=False),
    # the caller's optional personal data: JSON text, or a Fernet token when encrypted
    sa.Column("profile", sa.Text, nullable=True),
    sa.Column("profile_encrypted", sa.Boolean, nullable=False, default=False),
)

ORDERS = sa.Table(
    "modcfg_orders",
    METADATA,
    sa.Column("order_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column(
        "customer_id",
        sa.String(ID_LENGTH),
        sa.ForeignKey("modcfg_customers.customer_id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("catalog", sa.String(200), nullable=False),
    sa.Column("catalog_version", sa.String(100), nullable=False),
    sa.Column("configuration", sa.Text, nullable=False),
    sa.Column("needs", sa.Text, nullable=True),
    sa.Column("currency", sa.String(8), nullable=False),
    sa.Column("total", sa.String(40), nullable=False),
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.Column("payment", sa.String(100), nullable=True),
    # how many order lines belong to the order: a reader can tell a whole order from a torn one
    sa.Column("line_count", sa.Integer, nullable=False),
)

LINES = sa.Table(
    "modcfg_order_lines",
    METADATA,
    sa.Column(
        "order_id",
        sa.Integer,
        sa.ForeignKey("modcfg_orders.order_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("source", sa.String(200), nullable=False),
    sa.Column("label", sa.Text, nullable=False),
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.Column("amount", sa.String(40), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
)

#: Every table of the schema, parents first.
TABLES = (CUSTOMERS, ORDERS, LINES)

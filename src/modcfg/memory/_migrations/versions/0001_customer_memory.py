"""The first customer memory schema: customers (consent, optional profile), orders and their
quote lines.

Revision ID: 0001
Revises: (none)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "modcfg_customers",
        sa.Column("customer_id", sa.String(128), primary_key=True),
        sa.Column("consented_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("profile", sa.Text, nullable=True),
        sa.Column("profile_encrypted", sa.Boolean, nullable=False),
    )
    op.create_table(
        "modcfg_orders",
        sa.Column("order_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "customer_id",
            sa.String(128),
            sa.ForeignKey("modcfg_customers.customer_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("catalog", sa.String(200), nullable=False),
        sa.Column("catalog_version", sa.String(100), nullable=False),
        sa.Column("configuration", sa.Text, nullable=False),
        sa.Column("needs", sa.Text, nullable=True),
        sa.Column("currency", sa.String(8), nullable=False),
        sa.Column("total", sa.String(40), nullable=False),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.Column("payment", sa.String(100), nullable=True),
        sa.Column("line_count", sa.Integer, nullable=False),
    )
    op.create_index("ix_modcfg_orders_customer_id", "modcfg_orders", ["customer_id"])
    op.create_index("ix_modcfg_orders_recorded_at", "modcfg_orders", ["recorded_at"])
    op.create_table(
        "modcfg_order_lines",
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


def downgrade() -> None:
    op.drop_table("modcfg_order_lines")
    op.drop_index("ix_modcfg_orders_recorded_at", "modcfg_orders")
    op.drop_index("ix_modcfg_orders_customer_id", "modcfg_orders")
    op.drop_table("modcfg_orders")
    op.drop_table("modcfg_customers")

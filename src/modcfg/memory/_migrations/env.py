"""Alembic's environment for the customer memory: migrations run on the connection the
memory opened (``config.attributes["connection"]``), inside its transaction, so creating or
upgrading a schema is all or nothing and concurrent openers wait for one another."""

from __future__ import annotations

from alembic import context

context.configure(connection=context.config.attributes["connection"], render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()

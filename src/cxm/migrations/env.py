"""Alembic environment: migrations run against the connection cxm hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

import cxm.tables  # noqa: F401  (fills the metadata)
from cxm.core.db import Base, make_engine

config = context.config
connection = config.attributes.get("connection")


def run(connection_: Connection) -> None:
    """Run migrations on one connection."""
    context.configure(connection=connection_, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


if connection is not None:
    run(connection)
else:
    with make_engine(config.get_main_option("sqlalchemy.url") or "sqlite:///cxm.db").connect() as conn:
        run(conn)

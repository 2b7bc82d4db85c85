"""Alembic environment of the hub: runs on the connection handed over by ``_migrate``.

The hub applies migrations itself (``scrutiny serve`` at start-up, or
``scrutiny serve --migrate-only``); there is no ``alembic.ini``. To write a new
revision, copy the newest file in ``versions/`` and follow its pattern.
"""

from __future__ import annotations

from alembic import context

from scrutiny.hub._db import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    """Run the migrations on ``config.attributes["connection"]``."""
    connection = config.attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite alters tables by copying them
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():  # pragma: no cover - offline SQL generation is not supported
    msg = "the hub's migrations run online only (scrutiny serve --migrate-only)"
    raise RuntimeError(msg)
run_migrations_online()

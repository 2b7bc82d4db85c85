"""Apply the hub's Alembic migrations programmatically (no ``alembic.ini`` needed)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, inspect

from scrutiny.exceptions import ConfigError

MIGRATIONS = Path(__file__).parent / "migrations"


def _config() -> object:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("path_separator", "os")
    return cfg


def head_revision() -> str:
    """The newest revision shipped with this version of scrutiny."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_config()).get_current_head()  # type: ignore[arg-type]
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None for an empty database)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> str:
    """Upgrade the database to ``revision`` (default: the newest) and return where it is.

    Parameters
    ----------
    engine : Engine
        The database.
    revision : str, default="head"
        The target revision id.

    Returns
    -------
    str
        The revision the database is at afterwards.

    Raises
    ------
    ConfigError
        The database holds tables but no migration record, or a revision
        this version of scrutiny does not know (a newer scrutiny wrote it).
    """
    from alembic import command
    from alembic.util.exc import CommandError

    current = current_revision(engine)
    if current is None and inspect(engine).has_table("users"):
        msg = (
            f"The database {engine.url.render_as_string(hide_password=True)!r} has hub tables "
            "but no migration record (alembic_version). Point SCRUTINY_DATABASE_URL at an "
            "empty database or one created by `scrutiny serve`."
        )
        raise ConfigError(msg)
    cfg = _config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn  # type: ignore[attr-defined]
        try:
            command.upgrade(cfg, revision)  # type: ignore[arg-type]
        except CommandError as exc:
            msg = (
                f"Cannot migrate the hub database from revision {current!r} to {revision!r}: "
                f"{exc}. Was it created by a newer scrutiny? Upgrade scrutiny."
            )
            raise ConfigError(msg) from None
    return current_revision(engine) or ""

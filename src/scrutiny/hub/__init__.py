"""The scrutiny hub: models, datasets, audits and their deliberation record, on the web.

``scrutiny serve`` runs it; :func:`create_app` builds the ASGI application for
any ASGI server. Pages are server-rendered and work without JavaScript; every
page ``GET /x`` has a JSON twin ``GET /api/x``; the OpenAPI document is at
``/openapi.json``. Importing this package stays light: FastAPI and SQLAlchemy
are imported when an app is built (``pip install 'scrutiny[hub]'``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrutiny.hub._settings import ENV_VARS, HubSettings

if TYPE_CHECKING:
    from fastapi import FastAPI

__all__ = ["ENV_VARS", "HubSettings", "create_app", "migrate", "sweep_blobs"]

_HUB_MODULES = ("fastapi", "sqlalchemy", "alembic", "argon2", "nh3", "markdown_it",
                "multipart", "uvicorn")


def _require_extra() -> None:
    import importlib.util

    from scrutiny.exceptions import MissingDependencyError

    missing = [m for m in _HUB_MODULES if importlib.util.find_spec(m) is None]
    if missing:
        msg = (f"The hub needs {', '.join(missing)}, which are not installed. Install the "
               "extra: pip install 'scrutiny[hub]' (and 'scrutiny[postgres]' for PostgreSQL).")
        raise MissingDependencyError(msg)


def create_app(settings: HubSettings | None = None) -> FastAPI:
    """Build the hub's ASGI application.

    Parameters
    ----------
    settings : HubSettings, default=None
        The settings; None reads the ``SCRUTINY_*`` environment variables
        (:meth:`HubSettings.from_env`).

    Returns
    -------
    fastapi.FastAPI
        The application. Its database schema is upgraded first unless
        ``settings.auto_migrate`` is False.

    Raises
    ------
    MissingDependencyError
        The ``hub`` extra is not installed.
    ConfigError
        The settings are invalid, the data folder cannot be created, or the
        database cannot be migrated.

    Examples
    --------
    >>> from scrutiny.hub import HubSettings, create_app
    >>> app = create_app(HubSettings(data_dir=tmp_path))  # doctest: +SKIP
    >>> import uvicorn; uvicorn.run(app)  # doctest: +SKIP
    """
    _require_extra()
    from scrutiny.hub._app import create_app as _create_app

    return _create_app(settings)


def migrate(settings: HubSettings | None = None, revision: str = "head") -> str:
    """Upgrade the hub's database schema (what ``scrutiny serve --migrate-only`` does).

    Parameters
    ----------
    settings : HubSettings, default=None
        The settings (None: from the environment).
    revision : str, default="head"
        The revision to upgrade to.

    Returns
    -------
    str
        The revision the database is at afterwards.
    """
    _require_extra()
    from scrutiny.hub._db import make_engine
    from scrutiny.hub._migrate import upgrade

    resolved = (settings or HubSettings.from_env()).resolved()
    assert resolved.database_url is not None
    engine = make_engine(resolved.database_url)
    try:
        return upgrade(engine, revision)
    finally:
        engine.dispose()


def sweep_blobs(settings: HubSettings | None = None, *, older_than: float = 3600.0,
                dry_run: bool = False) -> dict[str, Any]:
    """Delete attachment files that nothing refers to (``scrutiny serve --sweep-blobs``).

    An upload stores each file's bytes before the revision naming them is
    committed; a request that fails in between (a later file over the size
    limit, a malformed audit) leaves bytes no revision refers to. This removes
    such blobs, and stale partial uploads, once they are ``older_than``
    seconds old. Referenced blobs are never touched, and a blob uploaded
    again counts as new, so it is safe to run while the hub serves.

    Parameters
    ----------
    settings : HubSettings, default=None
        The settings (None: from the environment).
    older_than : float, default=3600.0
        Minimum age in seconds of an unreferenced file before it is removed;
        must exceed the longest upload.
    dry_run : bool, default=False
        Report what would be removed without removing it.

    Returns
    -------
    dict
        ``removed`` (blob hashes or temporary file names), ``removed_bytes``,
        ``kept_recent``, ``kept_referenced``, ``dry_run``.

    Raises
    ------
    InvalidParameterError
        ``older_than`` is negative or not a number.
    ConfigError
        The database cannot be read (wrong URL, schema never created);
        nothing is deleted then.
    """
    from scrutiny.exceptions import InvalidParameterError

    if isinstance(older_than, bool) or not isinstance(older_than, int | float) or not (
            older_than >= 0):
        raise InvalidParameterError.from_value(
            "older_than", "sweep_blobs", "a number of seconds >= 0 (e.g. 3600)", older_than)
    _require_extra()
    from scrutiny.hub._content import referenced_blobs
    from scrutiny.hub._db import make_engine, make_sessionmaker
    from scrutiny.hub._storage import BlobStore

    resolved = (settings or HubSettings.from_env()).resolved()
    assert resolved.database_url is not None
    from sqlalchemy.exc import SQLAlchemyError

    from scrutiny.exceptions import ConfigError

    engine = make_engine(resolved.database_url)
    try:
        with make_sessionmaker(engine)() as db:
            refs = referenced_blobs(db)
    except SQLAlchemyError as exc:
        msg = (f"Cannot read the hub's revisions from the database ({type(exc).__name__}); "
               "nothing was deleted. Check SCRUTINY_DATABASE_URL / --database-url and run "
               "'scrutiny serve --migrate-only' if the schema was never created.")
        raise ConfigError(msg) from exc
    finally:
        engine.dispose()
    return BlobStore(resolved.data_dir).sweep(refs, older_than=float(older_than),
                                              dry_run=dry_run)

"""The scrutiny hub: models, datasets, audits and their deliberation record, on the web.

``scrutiny serve`` runs it; :func:`create_app` builds the ASGI application for
any ASGI server. Pages are server-rendered and work without JavaScript; every
page ``GET /x`` has a JSON twin ``GET /api/x``; the OpenAPI document is at
``/openapi.json``. Importing this package stays light: FastAPI and SQLAlchemy
are imported when an app is built (``pip install 'scrutiny[hub]'``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrutiny.hub._settings import ENV_VARS, HubSettings

if TYPE_CHECKING:
    from fastapi import FastAPI

__all__ = ["ENV_VARS", "HubSettings", "create_app", "migrate"]

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

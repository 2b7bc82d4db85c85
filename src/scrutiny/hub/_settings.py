"""``HubSettings``: every setting of the hub, from arguments or ``SCRUTINY_*`` variables.

Zero configuration works: a SQLite file and the attachment blobs live in the
data folder (``./scrutiny-hub`` by default), and a secret key is generated
there on first start. PostgreSQL is one variable away
(``SCRUTINY_DATABASE_URL=postgresql://user@host/db``).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from scrutiny.exceptions import ConfigError

__all__ = ["ENV_VARS", "HubSettings"]

MIB = 1024 * 1024
SECRET_FILE = "secret_key"

#: The environment variable read for each setting.
ENV_VARS: Mapping[str, str] = {
    "database_url": "SCRUTINY_DATABASE_URL",
    "data_dir": "SCRUTINY_HUB_DATA",
    "secret_key": "SCRUTINY_SECRET_KEY",
    "max_upload_bytes": "SCRUTINY_HUB_MAX_UPLOAD_BYTES",
    "max_request_bytes": "SCRUTINY_HUB_MAX_REQUEST_BYTES",
    "secure_cookies": "SCRUTINY_HUB_SECURE_COOKIES",
    "session_days": "SCRUTINY_HUB_SESSION_DAYS",
    "allow_signup": "SCRUTINY_HUB_ALLOW_SIGNUP",
    "site_name": "SCRUTINY_HUB_SITE_NAME",
    "reports_per_hour": "SCRUTINY_HUB_REPORTS_PER_HOUR",
    "comments_per_minute": "SCRUTINY_HUB_COMMENTS_PER_MINUTE",
    "signins_per_minute": "SCRUTINY_HUB_SIGNINS_PER_MINUTE",
}


class HubSettings(BaseModel):
    """The hub's settings.

    Build them with keyword arguments, or with :meth:`from_env` to read the
    ``SCRUTINY_*`` environment variables (:data:`ENV_VARS`). Unknown keys are
    rejected.

    Attributes
    ----------
    database_url : str, default=None
        SQLAlchemy URL of the database (``SCRUTINY_DATABASE_URL``). None means
        a SQLite file ``hub.db`` in ``data_dir``. ``postgresql://`` URLs use
        the psycopg 3 driver (``pip install 'scrutiny[postgres]'``).
    data_dir : Path, default=Path("scrutiny-hub")
        Folder for attachment blobs, the default SQLite file and the
        generated secret key (``SCRUTINY_HUB_DATA``).
    secret_key : str, default=None
        Key that signs CSRF tokens (``SCRUTINY_SECRET_KEY``). None: read from
        ``data_dir/secret_key``, generated there on first start.
    max_upload_bytes : int, default=20 MiB
        Largest accepted file; larger uploads are answered with 413.
    max_request_bytes : int, default=100 MiB
        Largest accepted request body (a push sends several files at once).
    secure_cookies : bool, default=False
        Mark cookies ``Secure`` (set it when the hub is served over HTTPS).
    session_days : int, default=14
        Lifetime of a sign-in session.
    allow_signup : bool, default=True
        Whether anyone may create an account on the sign-up page.
    site_name : str, default="scrutiny hub"
        Shown in page titles and the header.
    auto_migrate : bool, default=True
        Upgrade the database schema when the app is created.
    reports_per_hour : int, default=10
        Reports one user may send per hour (sliding window); more are answered with 429.
    comments_per_minute : int, default=10
        Comments and new discussions one user may post per minute.
    signins_per_minute : int, default=10
        Sign-in attempts per minute from one client address.
    argon2_time_cost, argon2_memory_cost, argon2_parallelism : int
        Password-hashing cost (argon2id; the defaults are argon2-cffi's).
        Lower them only in tests.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    database_url: str | None = None
    data_dir: Path = Path("scrutiny-hub")
    secret_key: str | None = Field(None, min_length=16, repr=False)
    max_upload_bytes: int = Field(20 * MIB, ge=1)
    max_request_bytes: int = Field(100 * MIB, ge=1)
    secure_cookies: bool = False
    session_days: int = Field(14, ge=1, le=366)
    allow_signup: bool = True
    site_name: str = Field("scrutiny hub", min_length=1, max_length=80)
    auto_migrate: bool = True
    reports_per_hour: int = Field(10, ge=1)
    comments_per_minute: int = Field(10, ge=1)
    signins_per_minute: int = Field(10, ge=1)
    argon2_time_cost: int = Field(3, ge=1)
    argon2_memory_cost: int = Field(65536, ge=8)
    argon2_parallelism: int = Field(4, ge=1)

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, **overrides: Any
    ) -> HubSettings:
        """Settings from the ``SCRUTINY_*`` variables; keyword arguments take precedence.

        Parameters
        ----------
        environ : mapping, default=None
            The environment to read (default: ``os.environ``).
        **overrides
            Settings given explicitly; None values are ignored.

        Returns
        -------
        HubSettings
            The validated settings.

        Raises
        ------
        ConfigError
            A value does not validate; the message names the variable.
        """
        env = os.environ if environ is None else environ
        raw: dict[str, Any] = {k: env[v] for k, v in ENV_VARS.items() if env.get(v)}
        raw.update({k: v for k, v in overrides.items() if v is not None})
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            problems = []
            for err in exc.errors():
                key = str(err["loc"][0]) if err["loc"] else "settings"
                source = ENV_VARS.get(key, key) if key not in overrides else key
                problems.append(f"{source}: {err['msg']} (got {err.get('input')!r})")
            msg = "Invalid hub settings: " + "; ".join(problems) + "."
            raise ConfigError(msg) from None

    def resolved(self) -> HubSettings:
        """A copy with the data folder created, the database URL and secret key filled in.

        Returns
        -------
        HubSettings
            Settings whose ``data_dir`` is absolute and exists, whose
            ``database_url`` is set (SQLite in the data folder by default;
            ``postgresql://`` is routed to psycopg 3) and whose
            ``secret_key`` is set (read from or written to the data folder).
        """
        data_dir = self.data_dir.expanduser().resolve()
        try:
            data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            msg = (
                f"data_dir: cannot create the hub's data folder {str(data_dir)!r} "
                f"({exc.strerror or exc}). Set SCRUTINY_HUB_DATA or --data-dir to a writable "
                "folder."
            )
            raise ConfigError(msg) from None
        url = self.database_url or f"sqlite:///{data_dir / 'hub.db'}"
        for prefix in ("postgres://", "postgresql://"):
            if url.startswith(prefix):
                url = "postgresql+psycopg://" + url[len(prefix):]
        key = self.secret_key or _stored_secret(data_dir)
        return self.model_copy(update={"data_dir": data_dir, "database_url": url,
                                       "secret_key": key})


def _stored_secret(data_dir: Path) -> str:
    path = data_dir / SECRET_FILE
    if path.is_file():
        key = path.read_text(encoding="utf-8").strip()
        if len(key) >= 16:
            return key
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(key + "\n")
    return key

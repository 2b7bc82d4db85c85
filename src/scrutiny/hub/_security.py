"""Passwords, sessions, CSRF tokens and API tokens.

* Passwords are hashed with argon2id (argon2-cffi); the cost comes from the
  settings.
* Session and API tokens are 256-bit random strings; the database keeps only
  their SHA-256, so a leaked database does not leak working credentials.
* A new session token is issued on every sign-in, and whatever session the
  browser brought is deleted (no session fixation).
* CSRF tokens are an HMAC of the session (or, before sign-in, of a random
  pre-session cookie) under the site's secret key; every state-changing
  request that a cookie authenticates must carry one. Requests authenticated
  by an ``Authorization: Bearer`` token carry no ambient credentials and need
  none.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from scrutiny.hub._db import ApiToken, User, UserSession, utcnow
from scrutiny.hub._settings import HubSettings

SESSION_COOKIE = "scrutiny_session"
PRESESSION_COOKIE = "scrutiny_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
TOKEN_PREFIX = "scr_"


def sha256(token: str) -> str:
    """Hex SHA-256 of a token (what the database stores)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token(prefix: str = "") -> str:
    """A fresh random token (256 bits, URL-safe)."""
    return prefix + secrets.token_urlsafe(32)


class PasswordHasher:
    """argon2id hashing with the settings' cost parameters."""

    def __init__(self, settings: HubSettings) -> None:
        from argon2 import PasswordHasher as _Argon2

        self._ph = _Argon2(
            time_cost=settings.argon2_time_cost,
            memory_cost=settings.argon2_memory_cost,
            parallelism=settings.argon2_parallelism,
        )
        # verifying against a dummy hash keeps sign-in time the same for unknown users
        self._dummy = self._ph.hash(secrets.token_hex(8))

    def hash(self, password: str) -> str:
        """The argon2id hash of ``password``."""
        return self._ph.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        """Whether ``password`` matches (always spends the hashing time)."""
        from argon2.exceptions import InvalidHashError, VerificationError

        try:
            return self._ph.verify(password_hash or self._dummy, password) and bool(
                password_hash
            )
        except (VerificationError, InvalidHashError):
            return False


@dataclass
class Actor:
    """Who is asking: a user (or nobody), how they authenticated, and the allowed scope.

    Attributes
    ----------
    user : User or None
        The signed-in user; None for anonymous visitors.
    via : {"anonymous", "session", "token"}
        How the request was authenticated.
    scope : {"read", "write"}
        ``read`` for read-scoped API tokens, else ``write``.
    session_id : int or None
        The session row, for sign-out and CSRF binding.
    csrf_binding : str
        What the CSRF token is bound to (the session hash, or the pre-session cookie).
    """

    user: User | None = None
    via: str = "anonymous"
    scope: str = "write"
    session_id: int | None = None
    csrf_binding: str = ""
    memberships: dict[int, str] = field(default_factory=dict)
    gate_states: dict[int, str] = field(default_factory=dict)  # repo id -> access request state

    @property
    def signed_in(self) -> bool:
        """Whether a user is signed in (by session or token)."""
        return self.user is not None

    @property
    def is_moderator(self) -> bool:
        """Whether the user is a site moderator."""
        return self.user is not None and self.user.is_moderator


def csrf_token(secret_key: str, binding: str) -> str:
    """The CSRF token for a session or pre-session binding."""
    mac = hmac.new(secret_key.encode("utf-8"), b"csrf:" + binding.encode("utf-8"),
                   hashlib.sha256)
    return mac.hexdigest()


def csrf_valid(secret_key: str, binding: str, token: str | None) -> bool:
    """Whether ``token`` is the CSRF token of ``binding`` (constant-time comparison)."""
    if not binding or not token:
        return False
    return hmac.compare_digest(csrf_token(secret_key, binding), token)


def start_session(db: Session, user: User, settings: HubSettings,
                  previous_token: str | None) -> str:
    """Sign ``user`` in with a brand-new session token; the browser's old session is deleted.

    Returns
    -------
    str
        The new token, to be set as the session cookie.
    """
    if previous_token:
        db.execute(delete(UserSession).where(UserSession.token_hash == sha256(previous_token)))
    token = new_token()
    now = utcnow()
    db.add(UserSession(token_hash=sha256(token), user_id=user.id, created_at=now,
                       expires_at=now + dt.timedelta(days=settings.session_days)))
    return token


def session_user(db: Session, token: str) -> UserSession | None:
    """The live session of a cookie token, or None (unknown or expired)."""
    row = db.scalar(select(UserSession).where(UserSession.token_hash == sha256(token)))
    if row is None or row.expires_at <= utcnow():
        return None
    return row


def token_user(db: Session, token: str) -> ApiToken | None:
    """The API token row of a bearer token, or None."""
    row = db.scalar(select(ApiToken).where(ApiToken.token_hash == sha256(token)))
    if row is not None:
        now = utcnow()
        if row.last_used_at is None or now - row.last_used_at > dt.timedelta(minutes=5):
            row.last_used_at = now
            db.commit()
    return row

"""The hub's tables (SQLAlchemy 2 typed declarative models) and the engine factory.

The schema is owned by the Alembic migrations in ``migrations/``; these models
must match the newest revision (``tests/hub/test_migrations.py`` compares them).
SQLite connections run with foreign keys on, WAL journaling and a busy
timeout; PostgreSQL connections are checked before use.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Engine,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    create_engine,
    event,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, sessionmaker

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ROLES = ("owner", "maintainer", "reviewer", "member", "viewer")
KINDS = ("model", "dataset")
SCOPES = ("read", "write")


def utcnow() -> dt.datetime:
    """The current time, timezone-aware UTC, to the second."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Stored as naive UTC (portable across SQLite and PostgreSQL), read back as aware UTC."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        return None if value is None else value.replace(tzinfo=dt.UTC)


class Base(DeclarativeBase):
    """Declarative base with a naming convention (Alembic batch mode needs named constraints)."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dt.datetime: UTCDateTime(), dict[str, Any]: JSON, list[Any]: JSON,
    }


class User(Base):
    """An account: a username, an argon2 password hash, and the site-moderator flag."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(40), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(255))
    is_moderator: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class UserSession(Base):
    """A sign-in session; only the SHA-256 of its random token is stored."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]

    user: Mapped[User] = relationship(lazy="joined")


class ApiToken(Base):
    """A personal API token (``read`` or ``write`` scope); stored as its SHA-256."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    scope: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[dt.datetime | None]

    user: Mapped[User] = relationship(lazy="joined")


class Organisation(Base):
    """An organisation: it owns repositories, and its members hold roles."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Membership(Base):
    """A user's role in an organisation: owner, maintainer, reviewer, member or viewer."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("org_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(lazy="joined")
    org: Mapped[Organisation] = relationship(lazy="joined")


class Repository(Base):
    """A model or dataset repository; licence, task, title and tags are read from its card."""

    __tablename__ = "repositories"
    __table_args__ = (UniqueConstraint("org_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(96))
    kind: Mapped[str] = mapped_column(String(10))
    private: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    title: Mapped[str | None] = mapped_column(String(200))
    license: Mapped[str | None] = mapped_column(String(100), index=True)
    task: Mapped[str | None] = mapped_column(String(100), index=True)

    org: Mapped[Organisation] = relationship(lazy="joined")
    tags: Mapped[list[RepoTag]] = relationship(
        cascade="all, delete-orphan", order_by="RepoTag.tag", lazy="selectin"
    )

    @property
    def full_name(self) -> str:
        """``ORG/NAME``."""
        return f"{self.org.name}/{self.name}"


class RepoTag(Base):
    """A tag of a repository's card (ethics categories included), for search filters."""

    __tablename__ = "repo_tags"

    repo_id: Mapped[int] = mapped_column(
        ForeignKey("repositories.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(100), primary_key=True, index=True)


class Revision(Base):
    """A snapshot of a repository: its card text and its file manifest (name -> blob)."""

    __tablename__ = "revisions"
    __table_args__ = (UniqueConstraint("repo_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    repo_id: Mapped[int] = mapped_column(ForeignKey("repositories.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    message: Mapped[str] = mapped_column(String(500))
    card: Mapped[str] = mapped_column(Text)
    files: Mapped[dict[str, Any]] = mapped_column(JSON)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    author: Mapped[User | None] = relationship(lazy="joined")


class Audit(Base):
    """An audit record (``audit.json``) attached to a repository by a push."""

    __tablename__ = "audits"
    __table_args__ = (UniqueConstraint("repo_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    repo_id: Mapped[int] = mapped_column(ForeignKey("repositories.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    revision_number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    generated_at: Mapped[str | None] = mapped_column(String(40))
    scrutiny_version: Mapped[str | None] = mapped_column(String(40))
    record: Mapped[dict[str, Any]] = mapped_column(JSON)
    report_sha256: Mapped[str | None] = mapped_column(String(64))
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    uploader: Mapped[User | None] = relationship(lazy="joined")


class Attribution(Base):
    """Training-data attribution results: a pushed results file, or an audit's section."""

    __tablename__ = "attributions"

    id: Mapped[int] = mapped_column(primary_key=True)
    repo_id: Mapped[int] = mapped_column(
        ForeignKey("repositories.id", ondelete="CASCADE"), index=True
    )
    audit_id: Mapped[int | None] = mapped_column(ForeignKey("audits.id", ondelete="SET NULL"))
    revision_number: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    method: Mapped[str] = mapped_column(String(200))
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class DeliberationItem(Base):
    """One row of the deliberation record.

    A value, conflict, evidence, checklist item or sign-off; ``data`` holds the
    fields of the matching :mod:`scrutiny.audit` model.
    """

    __tablename__ = "deliberation_items"
    __table_args__ = (Index("ix_deliberation_items_repo_kind", "repo_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    repo_id: Mapped[int] = mapped_column(ForeignKey("repositories.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    audit_id: Mapped[int | None] = mapped_column(ForeignKey("audits.id", ondelete="SET NULL"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    creator: Mapped[User | None] = relationship(foreign_keys=[created_by], lazy="joined")
    updater: Mapped[User | None] = relationship(foreign_keys=[updated_by], lazy="joined")


class Activity(Base):
    """Who did what, when: one row per change, shown on the activity pages."""

    __tablename__ = "activity"
    __table_args__ = (Index("ix_activity_repo_created", "repo_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    repo_id: Mapped[int | None] = mapped_column(ForeignKey("repositories.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    action: Mapped[str] = mapped_column(String(60))
    subject: Mapped[str | None] = mapped_column(String(100))
    summary: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    user: Mapped[User | None] = relationship(lazy="joined")


def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


#: Connections per engine (SQLAlchemy's QueuePool defaults, stated so that the request
#: limit in :data:`scrutiny.hub._context.DbDep` can match them): 5 kept, 10 more on demand.
POOL_SIZE, POOL_OVERFLOW = 5, 10


def make_engine(url: str) -> Engine:
    """An engine for ``url``: SQLite gets foreign keys, WAL and a busy timeout.

    Parameters
    ----------
    url : str
        SQLAlchemy database URL.

    Returns
    -------
    Engine
        The engine.
    """
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=POOL_SIZE,
                         max_overflow=POOL_OVERFLOW)


def make_sessionmaker(engine: Engine) -> sessionmaker[Any]:
    """A session factory whose objects stay readable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


# the community tables (discussions, reports, moderation) complete the metadata
import scrutiny.hub._community  # noqa: E402
import scrutiny.hub._gating  # noqa: E402, F401  (content preferences, gated access)

"""The community tables: discussions, comments, reports, moderation, appeals and blocks.

* A :class:`Discussion` is a thread on a repository: a plain discussion, a card
  change proposal (``proposed_card`` set) or the public thread a repository
  report opened. Its first comment is its text.
* A :class:`Report` flags a repository (public: it opens a discussion), a
  discussion or a comment (private: only moderators and the reporter see it).
* :class:`RepoModeration` is a repository's moderation state (``normal``,
  ``reduced``, ``disabled``) plus the requests recorded for its owners (make it
  private, gate it); :class:`ModerationAction` is the log the owners read, and
  an :class:`Appeal` by an owner goes back to the moderation queue.
* A :class:`Block` hides a user's comments from the blocker and stops them
  commenting on the blocker's discussions.

The models import :class:`~scrutiny.hub._db.Base`; ``_db`` imports this module
at its end so the metadata (and the migration check) always includes them.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scrutiny.hub._db import Base, Repository, User, utcnow

#: Report reasons (the Hugging Face hub's four) and their labels.
REASONS = {"ethical": "Ethical issue", "legal": "Legal issue",
           "not_working": "Not working", "other": "Other"}
#: The graduated responses, mildest first, and what each does to the repository.
LADDER = {
    "reduce": "Reduce visibility: left out of listings and search (still reachable by URL)",
    "ask_private": "Ask the owners to make the repository private (a request, recorded)",
    "gate": "Gate access: manual approval switched on (the owners manage it in Gated access)",
    "disable": "Disable: content hidden from everyone but the owners and moderators",
    "restore": "Restore: back to normal, requests withdrawn",
}
STATES = ("normal", "reduced", "disabled")


class Discussion(Base):
    """A thread on a repository (discussion, card change proposal, or report thread)."""

    __tablename__ = "discussions"
    __table_args__ = (UniqueConstraint("repo_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    repo_id: Mapped[int] = mapped_column(ForeignKey("repositories.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))  # discussion, proposal, report
    title: Mapped[str] = mapped_column(String(200))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(20), default="open")  # open, closed, merged
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    hidden_by: Mapped[str | None] = mapped_column(String(20))  # None, owner, moderator
    proposed_card: Mapped[str | None] = mapped_column(Text)
    merged_revision: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    author: Mapped[User | None] = relationship(lazy="joined")


class Comment(Base):
    """A comment in a discussion (Markdown, rendered sanitised)."""

    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    discussion_id: Mapped[int] = mapped_column(
        ForeignKey("discussions.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    hidden_by: Mapped[str | None] = mapped_column(String(20))  # None, owner, moderator
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    author: Mapped[User | None] = relationship(lazy="joined")


class Report(Base):
    """A report of a repository, a discussion or a comment."""

    __tablename__ = "reports"
    __table_args__ = (Index("ix_reports_status", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reporter_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True)
    target: Mapped[str] = mapped_column(String(20))  # repo, discussion, comment
    repo_id: Mapped[int] = mapped_column(ForeignKey("repositories.id", ondelete="CASCADE"),
                                         index=True)
    discussion_id: Mapped[int | None] = mapped_column(
        ForeignKey("discussions.id", ondelete="SET NULL"))
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="open")  # open, resolved, dismissed
    resolution: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[dt.datetime | None]

    reporter: Mapped[User | None] = relationship(lazy="joined")
    repo: Mapped[Repository] = relationship(lazy="joined")


class RepoModeration(Base):
    """A repository's moderation state, and the requests recorded for its owners."""

    __tablename__ = "repo_moderation"

    repo_id: Mapped[int] = mapped_column(
        ForeignKey("repositories.id", ondelete="CASCADE"), primary_key=True)
    state: Mapped[str] = mapped_column(String(20), default="normal")
    ask_private: Mapped[bool] = mapped_column(Boolean, default=False)
    gate_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ModerationAction(Base):
    """One step of the moderation log: the action, its reason, who took it and when."""

    __tablename__ = "moderation_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    repo_id: Mapped[int] = mapped_column(ForeignKey("repositories.id", ondelete="CASCADE"),
                                         index=True)
    moderator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    report_id: Mapped[int | None] = mapped_column(ForeignKey("reports.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    moderator: Mapped[User | None] = relationship(lazy="joined")


class Appeal(Base):
    """An owner's appeal against the moderation of their repository."""

    __tablename__ = "appeals"

    id: Mapped[int] = mapped_column(primary_key=True)
    repo_id: Mapped[int] = mapped_column(ForeignKey("repositories.id", ondelete="CASCADE"),
                                         index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="open")  # open, granted, denied
    decision: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[dt.datetime | None]

    author: Mapped[User | None] = relationship(foreign_keys=[author_id], lazy="joined")
    repo: Mapped[Repository] = relationship(lazy="joined")


class Block(Base):
    """``blocker`` blocked ``blocked``: their comments are hidden for the blocker."""

    __tablename__ = "blocks"

    blocker_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    blocked_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    blocked: Mapped[User] = relationship(foreign_keys=[blocked_id], lazy="joined")


# The repository's moderation row, loaded with it (None: never moderated, i.e. normal).
Repository.moderation = relationship(  # type: ignore[attr-defined]
    RepoModeration, uselist=False, lazy="joined", viewonly=True)


def moderation_state(repo: Repository) -> str:
    """``normal``, ``reduced`` or ``disabled``."""
    row = getattr(repo, "moderation", None)
    return row.state if row is not None else "normal"

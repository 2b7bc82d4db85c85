"""Discussions, card change proposals, reports, moderation actions and blocks.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], ondelete=ondelete,
                                   name=f"fk_{table}_{column}_{target}")


def upgrade() -> None:
    """Create the community tables."""
    op.create_table(
        "discussions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("repo_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("locked", sa.Boolean(), nullable=False),
        sa.Column("hidden_by", sa.String(20), nullable=True),
        sa.Column("proposed_card", sa.Text(), nullable=True),
        sa.Column("merged_revision", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_discussions"),
        sa.UniqueConstraint("repo_id", "number", name="uq_discussions_repo_id"),
        _fk("discussions", "repo_id", "repositories", "CASCADE"),
        _fk("discussions", "author_id", "users", "SET NULL"),
    )
    op.create_table(
        "comments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("discussion_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("hidden_by", sa.String(20), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_comments"),
        _fk("comments", "discussion_id", "discussions", "CASCADE"),
        _fk("comments", "author_id", "users", "SET NULL"),
    )
    op.create_index("ix_comments_discussion_id", "comments", ["discussion_id"])
    op.create_table(
        "reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reporter_id", sa.Integer(), nullable=True),
        sa.Column("target", sa.String(20), nullable=False),
        sa.Column("repo_id", sa.Integer(), nullable=False),
        sa.Column("discussion_id", sa.Integer(), nullable=True),
        sa.Column("comment_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(20), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("resolution", sa.String(500), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_reports"),
        _fk("reports", "reporter_id", "users", "SET NULL"),
        _fk("reports", "repo_id", "repositories", "CASCADE"),
        _fk("reports", "discussion_id", "discussions", "SET NULL"),
        _fk("reports", "comment_id", "comments", "SET NULL"),
    )
    op.create_index("ix_reports_status", "reports", ["status"])
    op.create_index("ix_reports_reporter_id", "reports", ["reporter_id"])
    op.create_index("ix_reports_repo_id", "reports", ["repo_id"])
    op.create_table(
        "repo_moderation",
        sa.Column("repo_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("ask_private", sa.Boolean(), nullable=False),
        sa.Column("gate_requested", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("repo_id", name="pk_repo_moderation"),
        _fk("repo_moderation", "repo_id", "repositories", "CASCADE"),
    )
    op.create_table(
        "moderation_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("repo_id", sa.Integer(), nullable=False),
        sa.Column("moderator_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_moderation_actions"),
        _fk("moderation_actions", "repo_id", "repositories", "CASCADE"),
        _fk("moderation_actions", "moderator_id", "users", "SET NULL"),
        _fk("moderation_actions", "report_id", "reports", "SET NULL"),
    )
    op.create_index("ix_moderation_actions_repo_id", "moderation_actions", ["repo_id"])
    op.create_table(
        "appeals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("repo_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("decision", sa.Text(), nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_appeals"),
        _fk("appeals", "repo_id", "repositories", "CASCADE"),
        _fk("appeals", "author_id", "users", "SET NULL"),
        _fk("appeals", "decided_by", "users", "SET NULL"),
    )
    op.create_index("ix_appeals_repo_id", "appeals", ["repo_id"])
    op.create_table(
        "blocks",
        sa.Column("blocker_id", sa.Integer(), nullable=False),
        sa.Column("blocked_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("blocker_id", "blocked_id", name="pk_blocks"),
        _fk("blocks", "blocker_id", "users", "CASCADE"),
        _fk("blocks", "blocked_id", "users", "CASCADE"),
    )


def downgrade() -> None:
    """Drop the community tables."""
    for table in ("blocks", "appeals", "moderation_actions", "repo_moderation", "reports",
                  "comments", "discussions"):
        op.drop_table(table)

"""Not-for-all-audiences preferences and gated access (requests, fields, decisions).

Adds ``content_preferences`` (whether a user sees not-for-all-audiences
content without the warning), ``repo_gates`` (a gated repository's approval
mode) and ``access_requests`` (who asked, their answers, and the decision).
The gating form itself is read from each card's ``extra_gated_*`` metadata.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the gating tables."""
    op.create_table(
        "content_preferences",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("show_nfaa", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name="pk_content_preferences"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name="fk_content_preferences_user_id_users"),
    )
    op.create_table(
        "repo_gates",
        sa.Column("repo_id", sa.Integer(), nullable=False),
        sa.Column("mode", sa.String(10), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("repo_id", name="pk_repo_gates"),
        sa.ForeignKeyConstraint(["repo_id"], ["repositories.id"], ondelete="CASCADE",
                                name="fk_repo_gates_repo_id_repositories"),
        sa.ForeignKeyConstraint(["updated_by"], ["users.id"], ondelete="SET NULL",
                                name="fk_repo_gates_updated_by_users"),
    )
    op.create_table(
        "access_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("repo_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("reason", sa.String(200), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_access_requests"),
        sa.UniqueConstraint("repo_id", "user_id", name="uq_access_requests_repo_id"),
        sa.ForeignKeyConstraint(["repo_id"], ["repositories.id"], ondelete="CASCADE",
                                name="fk_access_requests_repo_id_repositories"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name="fk_access_requests_user_id_users"),
        sa.ForeignKeyConstraint(["decided_by"], ["users.id"], ondelete="SET NULL",
                                name="fk_access_requests_decided_by_users"),
    )
    op.create_index("ix_access_requests_user_id", "access_requests", ["user_id"])


def downgrade() -> None:
    """Drop the gating tables."""
    op.drop_index("ix_access_requests_user_id", table_name="access_requests")
    op.drop_table("access_requests")
    op.drop_table("repo_gates")
    op.drop_table("content_preferences")

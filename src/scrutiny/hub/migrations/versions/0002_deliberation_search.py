"""Audits, attribution results, the deliberation record, the activity log, search fields.

Adds ``title``, ``license`` and ``task`` to repositories and a ``repo_tags``
table, and fills them from the card of each repository's newest revision.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
import yaml
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_FRONT = re.compile(r"^\s*---\r?\n([\S\s]*?)\r?\n---[ \t]*(\r?\n|$)")
_TITLE = re.compile(r"^#\s+(.+?)\s*#*\s*$", re.MULTILINE)


def _card_fields(card: str) -> tuple[str | None, str | None, str | None, list[str]]:
    """Title, licence, task and tags of a card (best effort: a bad card gives nothing)."""
    meta: Any = {}
    m = _FRONT.match(card or "")
    if m:
        try:
            meta = yaml.safe_load(m.group(1)) or {}
        except yaml.YAMLError:
            meta = {}
    if not isinstance(meta, dict):
        meta = {}
    body = card[m.end():] if m else card or ""
    t = _TITLE.search(body)
    lic = meta.get("license")
    lic = lic[0] if isinstance(lic, list) and lic else lic
    task = meta.get("pipeline_tag") or meta.get("task_categories")
    task = task[0] if isinstance(task, list) and task else task
    tags = meta.get("tags") or []
    tags = [tags] if isinstance(tags, str) else tags
    clean = sorted({str(x).strip().lower()[:100] for x in tags if isinstance(x, str | int)}
                   - {""})
    return (t.group(1)[:200] if t else None,
            str(lic)[:100] if isinstance(lic, str) else None,
            str(task)[:100] if isinstance(task, str) else None, clean)


def upgrade() -> None:
    """Create the new tables, add the search columns and fill them in."""
    with op.batch_alter_table("repositories") as batch:
        batch.add_column(sa.Column("title", sa.String(200), nullable=True))
        batch.add_column(sa.Column("license", sa.String(100), nullable=True))
        batch.add_column(sa.Column("task", sa.String(100), nullable=True))
        batch.create_index("ix_repositories_license", ["license"])
        batch.create_index("ix_repositories_task", ["task"])
    op.create_table(
        "repo_tags",
        sa.Column("repo_id", sa.Integer(), nullable=False),
        sa.Column("tag", sa.String(100), nullable=False),
        sa.PrimaryKeyConstraint("repo_id", "tag", name="pk_repo_tags"),
        sa.ForeignKeyConstraint(["repo_id"], ["repositories.id"], ondelete="CASCADE",
                                name="fk_repo_tags_repo_id_repositories"),
    )
    op.create_index("ix_repo_tags_tag", "repo_tags", ["tag"])
    op.create_table(
        "audits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("repo_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("revision_number", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("generated_at", sa.String(40), nullable=True),
        sa.Column("scrutiny_version", sa.String(40), nullable=True),
        sa.Column("record", sa.JSON(), nullable=False),
        sa.Column("report_sha256", sa.String(64), nullable=True),
        sa.Column("uploaded_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audits"),
        sa.UniqueConstraint("repo_id", "number", name="uq_audits_repo_id"),
        sa.ForeignKeyConstraint(["repo_id"], ["repositories.id"], ondelete="CASCADE",
                                name="fk_audits_repo_id_repositories"),
        sa.ForeignKeyConstraint(["uploaded_by"], ["users.id"], ondelete="SET NULL",
                                name="fk_audits_uploaded_by_users"),
    )
    op.create_table(
        "attributions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("repo_id", sa.Integer(), nullable=False),
        sa.Column("audit_id", sa.Integer(), nullable=True),
        sa.Column("revision_number", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("method", sa.String(200), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_attributions"),
        sa.ForeignKeyConstraint(["repo_id"], ["repositories.id"], ondelete="CASCADE",
                                name="fk_attributions_repo_id_repositories"),
        sa.ForeignKeyConstraint(["audit_id"], ["audits.id"], ondelete="SET NULL",
                                name="fk_attributions_audit_id_audits"),
    )
    op.create_index("ix_attributions_repo_id", "attributions", ["repo_id"])
    op.create_table(
        "deliberation_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("repo_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("audit_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_deliberation_items"),
        sa.ForeignKeyConstraint(["repo_id"], ["repositories.id"], ondelete="CASCADE",
                                name="fk_deliberation_items_repo_id_repositories"),
        sa.ForeignKeyConstraint(["audit_id"], ["audits.id"], ondelete="SET NULL",
                                name="fk_deliberation_items_audit_id_audits"),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], ondelete="SET NULL",
                                name="fk_deliberation_items_created_by_users"),
        sa.ForeignKeyConstraint(["updated_by"], ["users.id"], ondelete="SET NULL",
                                name="fk_deliberation_items_updated_by_users"),
    )
    op.create_index("ix_deliberation_items_repo_kind", "deliberation_items", ["repo_id", "kind"])
    op.create_table(
        "activity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("repo_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(60), nullable=False),
        sa.Column("subject", sa.String(100), nullable=True),
        sa.Column("summary", sa.String(500), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_activity"),
        sa.ForeignKeyConstraint(["org_id"], ["organisations.id"], ondelete="CASCADE",
                                name="fk_activity_org_id_organisations"),
        sa.ForeignKeyConstraint(["repo_id"], ["repositories.id"], ondelete="CASCADE",
                                name="fk_activity_repo_id_repositories"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="SET NULL",
                                name="fk_activity_user_id_users"),
    )
    op.create_index("ix_activity_org_id", "activity", ["org_id"])
    op.create_index("ix_activity_user_id", "activity", ["user_id"])
    op.create_index("ix_activity_repo_created", "activity", ["repo_id", "created_at"])
    _backfill()


def _backfill() -> None:
    bind = op.get_bind()
    repos = sa.table("repositories", sa.column("id", sa.Integer()),
                     sa.column("title", sa.String()), sa.column("license", sa.String()),
                     sa.column("task", sa.String()))
    revs = sa.table("revisions", sa.column("repo_id", sa.Integer()),
                    sa.column("number", sa.Integer()), sa.column("card", sa.Text()))
    tags = sa.table("repo_tags", sa.column("repo_id", sa.Integer()),
                    sa.column("tag", sa.String()))
    newest = (sa.select(revs.c.repo_id, sa.func.max(revs.c.number).label("n"))
              .group_by(revs.c.repo_id).subquery())
    rows = bind.execute(
        sa.select(revs.c.repo_id, revs.c.card).join(
            newest, sa.and_(newest.c.repo_id == revs.c.repo_id, newest.c.n == revs.c.number))
    ).all()
    for repo_id, card in rows:
        title, lic, task, tag_list = _card_fields(card)
        bind.execute(sa.update(repos).where(repos.c.id == repo_id)
                     .values(title=title, license=lic, task=task))
        if tag_list:
            bind.execute(sa.insert(tags), [{"repo_id": repo_id, "tag": t} for t in tag_list])


def downgrade() -> None:
    """Drop what this revision added."""
    for table in ("activity", "deliberation_items", "attributions", "audits", "repo_tags"):
        op.drop_table(table)
    with op.batch_alter_table("repositories") as batch:
        batch.drop_index("ix_repositories_task")
        batch.drop_index("ix_repositories_license")
        batch.drop_column("task")
        batch.drop_column("license")
        batch.drop_column("title")

"""Rows to page data: the one place that turns database objects into the JSON shapes."""

from __future__ import annotations

from typing import Any

from scrutiny.hub._community import moderation_state
from scrutiny.hub._context import q
from scrutiny.hub._db import (
    Activity,
    Audit,
    DeliberationItem,
    Organisation,
    Repository,
    Revision,
    User,
)
from scrutiny.hub._schemas import (
    ActivityOut,
    AuditSummary,
    FileOut,
    ItemOut,
    Me,
    OrgRef,
    RepoSummary,
    RevisionSummary,
    UserRef,
)


def me(user: User | None) -> Me | None:
    """The signed-in user as shown in headers."""
    if user is None:
        return None
    return Me(username=user.username, display_name=user.display_name,
              is_moderator=user.is_moderator)


def user_ref(user: User | None) -> UserRef | None:
    """A user next to their work."""
    return None if user is None else UserRef(username=user.username,
                                             display_name=user.display_name)


def org_ref(org: Organisation) -> OrgRef:
    """An organisation."""
    return OrgRef(name=org.name, display_name=org.display_name, description=org.description)


def repo_url(repo: Repository) -> str:
    """The repository's page."""
    return f"/repos/{q(repo.org.name)}/{q(repo.name)}"


def repo_summary(repo: Repository) -> RepoSummary:
    """A repository in lists and headers."""
    return RepoSummary(
        full_name=repo.full_name, org=repo.org.name, name=repo.name, kind=repo.kind,  # type: ignore[arg-type]
        private=repo.private, title=repo.title, license=repo.license, task=repo.task,
        tags=[t.tag for t in repo.tags], updated_at=repo.updated_at, url=repo_url(repo),
        gated=getattr(repo.gate, "mode", None),  # type: ignore[attr-defined]
        moderation=moderation_state(repo),  # type: ignore[arg-type]
    )


def files_out(repo: Repository, revision: Revision | None, *, pinned: bool = False
              ) -> list[FileOut]:
    """The files of a revision, with download links (pinned to the revision if asked)."""
    if revision is None:
        return []
    suffix = f"?rev={revision.number}" if pinned else ""
    return [
        FileOut(name=name, size=int(meta.get("size", 0)), sha256=str(meta.get("sha256", "")),
                content_type=str(meta.get("content_type", "application/octet-stream")),
                url=f"{repo_url(repo)}/files/{q(name)}{suffix}",
                uploaded_by=meta.get("uploaded_by"))
        for name, meta in sorted(revision.files.items())
    ]


def revision_summary(rev: Revision | None) -> RevisionSummary | None:
    """A revision in the history."""
    if rev is None:
        return None
    return RevisionSummary(number=rev.number, message=rev.message, author=user_ref(rev.author),
                           created_at=rev.created_at, n_files=len(rev.files))


def _gate_counts(record: dict[str, Any]) -> dict[str, int]:
    out: dict[str, int] = {}
    gates = record.get("gates")
    for g in gates if isinstance(gates, list) else []:
        status = g.get("status") if isinstance(g, dict) else None
        if isinstance(status, str):
            out[status] = out.get(status, 0) + 1
    return out


def audit_summary(repo: Repository, audit: Audit) -> AuditSummary:
    """An audit in lists."""
    return AuditSummary(
        number=audit.number, title=audit.title, generated_at=audit.generated_at,
        scrutiny_version=audit.scrutiny_version, revision=audit.revision_number,
        uploaded_by=user_ref(audit.uploader), created_at=audit.created_at,
        has_report=audit.report_sha256 is not None, gates=_gate_counts(audit.record),
        url=f"{repo_url(repo)}/audits/{audit.number}",
    )


def item_out(repo: Repository, item: DeliberationItem, audit_number: int | None) -> ItemOut:
    """A row of the deliberation record."""
    from scrutiny.hub._deliberation import KINDS

    return ItemOut(
        id=item.id, kind=item.kind, data=item.data, audit=audit_number,
        created_by=user_ref(item.creator), created_at=item.created_at,
        updated_by=user_ref(item.updater), updated_at=item.updated_at,
        url=f"{repo_url(repo)}/deliberation/{KINDS[item.kind].segment}/{item.id}",
    )


def activity_out(row: Activity, repo_name: str | None = None) -> ActivityOut:
    """One line of the activity log."""
    return ActivityOut(action=row.action, summary=row.summary, subject=row.subject,
                       user=user_ref(row.user), repo=repo_name, created_at=row.created_at)

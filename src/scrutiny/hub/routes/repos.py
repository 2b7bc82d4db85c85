"""Repositories: create, the card page, card editing, settings, history and diffs."""

from __future__ import annotations

import difflib
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query
from fastapi.responses import Response
from sqlalchemy import func, select

from scrutiny.hub._content import (
    commit,
    commit_revision,
    create_repo,
    get_org,
    get_repo,
    latest_revision,
    revision_at,
)
from scrutiny.hub._context import Ctx, CtxDep, form_post, json_route, page, q
from scrutiny.hub._db import (
    KINDS,
    Attribution,
    Audit,
    DeliberationItem,
    Membership,
    Organisation,
    Repository,
    Revision,
)
from scrutiny.hub._errors import ValidationFailedError
from scrutiny.hub._markdown import render_card
from scrutiny.hub._permissions import allowed_actions, can, require
from scrutiny.hub._present import (
    audit_summary,
    files_out,
    me,
    repo_summary,
    repo_url,
    revision_summary,
)
from scrutiny.hub._schemas import (
    CardOut,
    CardUpdate,
    Deleted,
    DiffData,
    FileChange,
    FormData,
    RepoCreate,
    RepoData,
    RepoFormData,
    RepoSummary,
    RepoUpdate,
    RevisionData,
    RevisionsData,
)
from scrutiny.hub._validation import check_name, check_text

router = APIRouter()
TEXT_SUFFIXES = (".md", ".yaml", ".yml", ".json", ".txt", ".csv", ".tsv")
MAX_DIFF_BYTES = 512 * 1024
MAX_DIFF_LINES = 3000
Rev = Annotated[int | None, Query(ge=1, le=2**31 - 1)]


def card_out(text: str, kind: str) -> CardOut:
    """The card rendered safely, with the offline card check's completeness and issues."""
    rendered = render_card(text)
    completeness, issues = None, []
    if text.strip():
        from scrutiny.cards import validate_card

        try:
            report = validate_card(text, kind=kind)
            completeness = report.completeness
            issues = [str(i) for i in report.issues][:30]
        except Exception as exc:
            issues = [f"The card could not be checked: {exc}"]
    return CardOut(text=text, metadata=_jsonable(rendered.metadata), html=rendered.html,
                   title=rendered.title, problems=rendered.problems,
                   completeness=completeness, issues=issues)


def _jsonable(value: Any) -> Any:
    """YAML metadata as JSON (dates and other scalars become strings)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        import math

        return value if math.isfinite(value) else str(value)
    return str(value)


# ---------------------------------------------------------------------------
# create


def _orgs_for_new(ctx: Ctx) -> list[str]:
    if ctx.user is None:
        return []
    rows = ctx.db.scalars(select(Organisation.name).join(Membership).where(
        Membership.user_id == ctx.user.id,
        Membership.role.in_(("owner", "maintainer")))).all()
    return sorted(rows)


@page(router, "/repos/new", template="repo_new.html", model=FormData, name="repo_new",
      tags=["repos"], title=lambda d: "New repository")
def repo_new_page(ctx: CtxDep) -> FormData:
    """The form to create a repository in one of your organisations."""
    ctx.require_user()
    return FormData(action="/repos/new", fields=["org", "name", "kind", "private", "card"],
                    user=me(ctx.user),
                    choices={"org": _orgs_for_new(ctx), "kind": list(KINDS)})


def _create(ctx: Ctx, org: str, name: object, kind: object, private: bool, card: object
            ) -> Repository:
    ctx.require_user()
    o = get_org(ctx, org)
    require(ctx.actor, "repo.create", o)
    clean = check_name(name, "name", repo=True)
    if kind not in KINDS:
        msg = f"kind: expected 'model' or 'dataset'; got {str(kind)[:20]!r}."
        raise ValidationFailedError(msg, field="kind")
    text = check_text(card, "card", max_length=1_000_000)
    repo = create_repo(ctx, o, clean, kind=str(kind), private=private, card=text)
    commit(ctx)
    return repo


@router.post("/repos/new", include_in_schema=False)
@form_post("repo_new.html", repo_new_page, title="New repository")
def repo_new(ctx: CtxDep) -> Response:
    """Create a repository from the form."""
    org = ctx.field("org")
    repo = _create(ctx, org if isinstance(org, str) else "", ctx.field("name"),
                   ctx.field("kind"), ctx.field("visibility") != "public", ctx.field("card"))
    return ctx.redirect(repo_url(repo))


@json_route(router, "/api/repos", method="POST", model=RepoSummary, name="api.repo_create",
            status_code=201, tags=["repos"])
def repo_create(body: Annotated[RepoCreate, Body()], ctx: CtxDep) -> RepoSummary:
    """Create a repository (maintainers and owners of the organisation)."""
    return repo_summary(_create(ctx, body.org, body.name, body.kind, body.private, body.card))


# ---------------------------------------------------------------------------
# the repository page


def _counts(ctx: Ctx, repo: Repository) -> dict[str, int]:
    def count(model: Any) -> int:
        return ctx.db.scalar(select(func.count()).select_from(model)
                             .where(model.repo_id == repo.id)) or 0

    return {"revisions": count(Revision), "audits": count(Audit),
            "attributions": count(Attribution), "deliberation": count(DeliberationItem)}


@page(router, "/repos/{org}/{name}", template="repo.html", model=RepoData, name="repo",
      tags=["repos"], title=lambda d: d.repo.full_name)
def repo_page(org: str, name: str, ctx: CtxDep) -> RepoData:
    """A repository: its card (sanitised), metadata, files and newest audit."""
    repo = get_repo(ctx, org, name)
    rev = latest_revision(ctx, repo)
    if not can(ctx.actor, "repo.read_gated", repo):  # gated: the card only, as on the Hub
        return RepoData(repo=repo_summary(repo), card=card_out(rev.card if rev else "",
                                                               repo.kind),
                        revision=None, files=[], latest_audit=None, counts={},
                        allowed=allowed_actions(ctx.actor, repo))
    audit = ctx.db.scalar(select(Audit).where(Audit.repo_id == repo.id)
                          .order_by(Audit.number.desc()).limit(1))
    return RepoData(
        repo=repo_summary(repo), card=card_out(rev.card if rev else "", repo.kind),
        revision=revision_summary(rev), files=files_out(repo, rev),
        latest_audit=audit_summary(repo, audit) if audit else None,
        counts=_counts(ctx, repo), allowed=allowed_actions(ctx.actor, repo))


@page(router, "/repos/{org}/{name}/edit", template="repo_edit.html", model=RepoFormData,
      name="repo_edit", tags=["repos"], title=lambda d: f"Edit the card of {d.repo.full_name}")
def repo_edit_page(org: str, name: str, ctx: CtxDep) -> RepoFormData:
    """The card editor (maintainers and owners)."""
    repo = get_repo(ctx, org, name, "repo.write")
    rev = latest_revision(ctx, repo)
    return RepoFormData(repo=repo_summary(repo), card=rev.card if rev else "",
                        allowed=allowed_actions(ctx.actor, repo))


def _edit_card(ctx: Ctx, repo: Repository, card: object, message: object) -> Revision:
    text = check_text(card, "card", max_length=1_000_000)
    msg = check_text(message, "message", max_length=500) or "Edit the card"
    rev = commit_revision(ctx, repo, message=msg, card=text)
    ctx.log("card.edit", f"Edited the card (revision {rev.number}): {msg}", repo=repo,
            subject=f"revision:{rev.number}")
    commit(ctx)
    return rev


@router.post("/repos/{org}/{name}/edit", include_in_schema=False)
@form_post("repo_edit.html", repo_edit_page, title="Edit the card")
def repo_edit(org: str, name: str, ctx: CtxDep) -> Response:
    """Save the card as a new revision."""
    repo = get_repo(ctx, org, name, "repo.write")
    _edit_card(ctx, repo, ctx.field("card"), ctx.field("message"))
    return ctx.redirect(repo_url(repo))


@json_route(router, "/api/repos/{org}/{name}/card", method="PUT", model=RepoData,
            name="api.card_update", tags=["repos"])
def card_update(org: str, name: str, body: Annotated[CardUpdate, Body()],
                ctx: CtxDep) -> RepoData:
    """Replace the card (``README.md``); makes a new revision."""
    repo = get_repo(ctx, org, name, "repo.write")
    _edit_card(ctx, repo, body.card, body.message)
    return repo_page(org, name, ctx)


@page(router, "/repos/{org}/{name}/settings", template="repo_settings.html",
      model=RepoFormData, name="repo_settings", tags=["repos"],
      title=lambda d: f"Settings of {d.repo.full_name}")
def repo_settings_page(org: str, name: str, ctx: CtxDep) -> RepoFormData:
    """Visibility and deletion (owners)."""
    repo = get_repo(ctx, org, name, "repo.admin")
    return RepoFormData(repo=repo_summary(repo), card="",
                        allowed=allowed_actions(ctx.actor, repo))


def _set_private(ctx: Ctx, repo: Repository, private: bool) -> None:
    if repo.private != private:
        repo.private = private
        ctx.log("repo.visibility", f"Made the repository {'private' if private else 'public'}",
                repo=repo)
        commit(ctx)


def _delete(ctx: Ctx, repo: Repository) -> None:
    ctx.log("repo.delete", f"Deleted repository {repo.full_name}",
            org=repo.org)
    ctx.db.delete(repo)
    commit(ctx)


@router.post("/repos/{org}/{name}/settings", include_in_schema=False)
def repo_settings(org: str, name: str, ctx: CtxDep) -> Response:
    """Change visibility, or delete (the form says which)."""
    repo = get_repo(ctx, org, name, "repo.admin")
    if ctx.field("delete") == repo.name:
        _delete(ctx, repo)
        return ctx.redirect(f"/orgs/{q(org)}")
    if ctx.field("delete"):
        msg = f"delete: type the repository's name ({repo.name!r}) to confirm deletion."
        raise ValidationFailedError(msg, field="delete")
    visibility = ctx.field("visibility")
    if visibility not in ("public", "private"):
        msg = f"visibility: expected 'public' or 'private'; got {str(visibility)[:20]!r}."
        raise ValidationFailedError(msg, field="visibility")
    _set_private(ctx, repo, visibility == "private")
    return ctx.redirect(repo_url(repo))


@json_route(router, "/api/repos/{org}/{name}", method="PATCH", model=RepoSummary,
            name="api.repo_update", tags=["repos"])
def repo_update(org: str, name: str, body: Annotated[RepoUpdate, Body()],
                ctx: CtxDep) -> RepoSummary:
    """Change a repository's visibility (owners)."""
    repo = get_repo(ctx, org, name, "repo.admin")
    _set_private(ctx, repo, body.private)
    return repo_summary(repo)


@json_route(router, "/api/repos/{org}/{name}", method="DELETE", model=Deleted,
            name="api.repo_delete", tags=["repos"])
def repo_delete(org: str, name: str, ctx: CtxDep) -> Deleted:
    """Delete a repository and everything attached to it (owners)."""
    repo = get_repo(ctx, org, name, "repo.admin")
    full = repo.full_name
    _delete(ctx, repo)
    return Deleted(deleted=full)


# ---------------------------------------------------------------------------
# history


@page(router, "/repos/{org}/{name}/revisions", template="revisions.html", model=RevisionsData,
      name="revisions", tags=["repos"], title=lambda d: f"History of {d.repo.full_name}")
def revisions_page(org: str, name: str, ctx: CtxDep) -> RevisionsData:
    """Every revision, newest first."""
    repo = get_repo(ctx, org, name, "repo.read_gated")
    revs = ctx.db.scalars(select(Revision).where(Revision.repo_id == repo.id)
                          .order_by(Revision.number.desc()).limit(1000)).all()
    return RevisionsData(repo=repo_summary(repo),
                         revisions=[revision_summary(r) for r in revs])  # type: ignore[misc]


@page(router, "/repos/{org}/{name}/revisions/{number}", template="revision.html",
      model=RevisionData, name="revision", tags=["repos"],
      title=lambda d: f"{d.repo.full_name} at revision {d.revision.number}")
def revision_page(org: str, name: str, number: int, ctx: CtxDep) -> RevisionData:
    """The card and files as they were at one revision."""
    repo = get_repo(ctx, org, name, "repo.read_gated")
    rev = revision_at(ctx, repo, number if 0 < number < 2**31 else -1)
    return RevisionData(repo=repo_summary(repo), revision=revision_summary(rev),  # type: ignore[arg-type]
                        card=card_out(rev.card, repo.kind),
                        files=files_out(repo, rev, pinned=True))


def _lines(diff: Any) -> list[str]:
    out = list(diff)
    if len(out) > MAX_DIFF_LINES:
        out = [*out[:MAX_DIFF_LINES], f"... {len(out) - MAX_DIFF_LINES} more lines"]
    return out


def _text_of(ctx: Ctx, meta: dict[str, Any] | None) -> list[str] | None:
    if meta is None or int(meta.get("size", 0)) > MAX_DIFF_BYTES:
        return None
    try:
        return ctx.hub.blobs.read(meta["sha256"]).decode("utf-8").splitlines()
    except (UnicodeDecodeError, OSError, KeyError, ValueError):
        return None


@page(router, "/repos/{org}/{name}/diff", template="diff.html", model=DiffData, name="diff",
      tags=["repos"], title=lambda d: f"{d.repo.full_name}: revision {d.base} → {d.head}")
def diff_page(org: str, name: str, ctx: CtxDep, base: Rev = None, head: Rev = None) -> DiffData:
    """What changed between two revisions (default: the newest and the one before)."""
    repo = get_repo(ctx, org, name, "repo.read_gated")
    new = revision_at(ctx, repo, head)
    old = revision_at(ctx, repo, base if base is not None else max(new.number - 1, 1))
    card = _lines(difflib.unified_diff(
        old.card.splitlines(), new.card.splitlines(), f"README.md@{old.number}",
        f"README.md@{new.number}", lineterm=""))
    changes = []
    for fname in sorted(set(old.files) | set(new.files)):
        a, b = old.files.get(fname), new.files.get(fname)
        if a is None:
            change = "added"
        elif b is None:
            change = "removed"
        else:
            change = "unchanged" if a.get("sha256") == b.get("sha256") else "changed"
        diff = None
        if change != "unchanged" and fname.endswith(TEXT_SUFFIXES):
            before, after = _text_of(ctx, a) or [], _text_of(ctx, b) or []
            if (a is None or before) and (b is None or after):
                diff = _lines(difflib.unified_diff(before, after, f"{fname}@{old.number}",
                                                   f"{fname}@{new.number}", lineterm=""))
        changes.append(FileChange(name=fname, change=change, diff=diff))  # type: ignore[arg-type]
    return DiffData(repo=repo_summary(repo), base=old.number, head=new.number, card_diff=card,
                    files=changes)

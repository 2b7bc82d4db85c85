"""Discussions on a repository: threads, comments and card change proposals.

Anyone signed in who can read a repository may open a discussion, propose a
card change or comment (rate-limited: ``comments_per_minute``). Maintainers,
owners and site moderators (``discussion.moderate``) lock, hide and close
threads and hide comments; hidden content is replaced by a placeholder for
everyone else, in pages and JSON alike. Maintainers and owners
(``proposal.review``) merge a proposal: a new revision authored by the
proposer, credited in the activity log. A user who blocked someone no longer
sees their comments, and the blocked user may not comment on the blocker's
discussions.
"""

from __future__ import annotations

import difflib
import random
import time
from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Body
from fastapi.responses import Response
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, OperationalError

from scrutiny.hub._community import REASONS, Block, Comment, Discussion
from scrutiny.hub._content import commit, commit_revision, get_repo, latest_revision
from scrutiny.hub._context import Ctx, CtxDep, form_post, json_route, page
from scrutiny.hub._db import Activity, Repository, utcnow
from scrutiny.hub._errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationFailedError,
)
from scrutiny.hub._markdown import render_markdown
from scrutiny.hub._permissions import can, require
from scrutiny.hub._present import repo_summary, repo_url, user_ref
from scrutiny.hub._ratelimit import check_rate
from scrutiny.hub._schemas import RepoSummary, UserRef, _In, _Out, text
from scrutiny.hub._validation import check_text

router = APIRouter()
T = TypeVar("T")
MAX_COMMENT = 20_000
MAX_CARD = 1_000_000
CODE_OF_CONDUCT = "/code-of-conduct"
PLACEHOLDER = {"moderator": "Hidden by a moderator.",
               "maintainers": "Hidden by the repository's maintainers.",
               "blocked": "Hidden: you blocked this user."}


# ---------------------------------------------------------------------------
# bodies and page data


class DiscussionCreate(_In):
    """A new discussion; with ``card`` it is a card change proposal."""

    title: text(200, min_length=1)
    body: text(MAX_COMMENT, min_length=1)
    card: text(MAX_CARD) | None = None


class CommentCreate(_In):
    """A comment (Markdown)."""

    body: text(MAX_COMMENT, min_length=1)


class DiscussionUpdate(_In):
    """Lock, hide or close a discussion (fields left out stay as they are)."""

    locked: bool | None = None
    hidden: bool | None = None
    status: Literal["open", "closed"] | None = None


class CommentUpdate(_In):
    """Hide or show a comment again."""

    hidden: bool


class CommentOut(_Out):
    """A comment; ``html`` and ``body`` are None when it is hidden from the viewer."""

    id: int
    author: UserRef | None
    body: str | None
    html: str | None
    hidden: str | None
    created_at: Any


class DiscussionSummary(_Out):
    """A discussion in lists; the title is a placeholder when it is hidden from the viewer."""

    number: int
    kind: Literal["discussion", "proposal", "report"]
    title: str
    author: UserRef | None
    status: Literal["open", "closed", "merged"]
    locked: bool
    hidden: str | None
    comments: int
    created_at: Any
    url: str


class DiscussionsData(_Out):
    """A repository's discussions and the form to open one."""

    repo: RepoSummary
    discussions: list[DiscussionSummary]
    can_create: bool
    card: str
    code_of_conduct: str


class DiscussionData(_Out):
    """One discussion, its comments, and for a proposal the card diff."""

    repo: RepoSummary
    discussion: DiscussionSummary
    comments: list[CommentOut]
    card_diff: list[str] | None
    merged_revision: int | None
    can_comment: bool
    why_not: str | None
    can_moderate: bool
    can_merge: bool
    reasons: dict[str, str]
    code_of_conduct: str


# ---------------------------------------------------------------------------
# helpers


def retrying(ctx: Ctx, change: Callable[[], T], attempts: int = 8) -> T:
    """Run ``change`` and commit; a concurrent clash (a number taken, a busy SQLite) retries."""
    for attempt in range(attempts):
        try:
            result = change()
            ctx.db.commit()
        except (IntegrityError, OperationalError):
            ctx.db.rollback()
            if attempt == attempts - 1:
                msg = "Another change landed at the same moment. Reload and try again."
                raise ConflictError(msg) from None
            time.sleep(random.uniform(0.005, 0.03) * (attempt + 1))
        else:
            return result
    raise AssertionError  # pragma: no cover


def blocked_by(ctx: Ctx) -> set[int]:
    """Ids of the users the viewer blocked."""
    if ctx.user is None:
        return set()
    return set(ctx.db.scalars(select(Block.blocked_id).where(Block.blocker_id == ctx.user.id)))


def get_discussion(ctx: Ctx, repo: Repository, number: int) -> Discussion:
    """Discussion ``number`` of ``repo`` (404 when there is none)."""
    found = ctx.db.scalar(select(Discussion).where(
        Discussion.repo_id == repo.id, Discussion.number == number)) if (
        0 < number < 2**31) else None
    if found is None:
        msg = f"{repo.full_name} has no discussion #{number}; its discussions page lists them."
        raise NotFoundError(msg, field="number")
    return found


def discussion_url(repo: Repository, d: Discussion) -> str:
    """The discussion's page."""
    return f"{repo_url(repo)}/discussions/{d.number}"


def _hider(ctx: Ctx, repo: Repository) -> str:
    """Who is hiding: a site moderator acting outside their own organisation, or maintainers."""
    if ctx.actor.is_moderator and ctx.actor.memberships.get(repo.org_id) is None:
        return "moderator"
    return "maintainers"


def summary_out(ctx: Ctx, repo: Repository, d: Discussion, count: int) -> DiscussionSummary:
    """A discussion as the viewer may see it."""
    shown = d.hidden_by is None or can(ctx.actor, "discussion.moderate", repo)
    return DiscussionSummary(
        number=d.number, kind=d.kind, title=d.title if shown else PLACEHOLDER[d.hidden_by],  # type: ignore[arg-type,index]
        author=user_ref(d.author) if shown else None, status=d.status,  # type: ignore[arg-type]
        locked=d.locked, hidden=PLACEHOLDER[d.hidden_by] if d.hidden_by else None,
        comments=count if shown else 0, created_at=d.created_at, url=discussion_url(repo, d))


def comment_out(ctx: Ctx, repo: Repository, c: Comment, blocked: set[int]) -> CommentOut:
    """A comment as the viewer may see it (placeholders for hidden and blocked authors)."""
    reason = c.hidden_by
    if reason is None and c.author_id in blocked:
        reason = "blocked"
    shown = reason is None or (reason != "blocked"
                               and can(ctx.actor, "discussion.moderate", repo))
    return CommentOut(id=c.id, author=user_ref(c.author) if shown else None,
                      body=c.body if shown else None,
                      html=render_markdown(c.body) if shown else None,
                      hidden=PLACEHOLDER[reason] if reason else None, created_at=c.created_at)


def _why_not_comment(ctx: Ctx, repo: Repository, d: Discussion) -> str | None:
    """Why the viewer may not comment here (None: they may)."""
    if not can(ctx.actor, "comment.create", repo):
        if ctx.user is None:
            return "Sign in to comment."
        return "You may not comment on this repository."
    moderator = can(ctx.actor, "discussion.moderate", repo)
    if d.hidden_by and not moderator:
        return "This discussion is hidden."
    if d.locked and not moderator:
        return "This discussion is locked: only maintainers and moderators may comment."
    if d.author_id is not None and ctx.user.id != d.author_id and ctx.db.scalar(
            select(Block.blocker_id).where(Block.blocker_id == d.author_id,
                                           Block.blocked_id == ctx.user.id)) is not None:
        return "The author of this discussion blocked you; you cannot comment on it."
    return None


def _counts(ctx: Ctx, ids: list[int]) -> dict[int, int]:
    if not ids:
        return {}
    return dict(ctx.db.execute(select(Comment.discussion_id, func.count()).where(
        Comment.discussion_id.in_(ids)).group_by(Comment.discussion_id)).all())


# ---------------------------------------------------------------------------
# changes (forms and JSON)


def new_discussion(ctx: Ctx, repo: Repository, *, title: str, body: str, kind: str,
                   card: str | None = None) -> Discussion:
    """Add a discussion with its first comment (the caller checked permission and rate)."""
    user_id = ctx.user.id

    def change() -> Discussion:
        number = (ctx.db.scalar(select(func.max(Discussion.number))
                                .where(Discussion.repo_id == repo.id)) or 0) + 1
        now = utcnow()
        d = Discussion(repo_id=repo.id, number=number, kind=kind, title=title[:200],
                       author_id=user_id, status="open", locked=False, proposed_card=card,
                       created_at=now, updated_at=now)
        ctx.db.add(d)
        ctx.db.flush()
        ctx.db.add(Comment(discussion_id=d.id, author_id=user_id, body=body, created_at=now))
        return d

    return retrying(ctx, change)


def _create(ctx: Ctx, repo: Repository, title: object, body: object, card: object) -> Discussion:
    require(ctx.actor, "discussion.create", repo)
    clean_title = check_text(title, "title", max_length=200, required=True)
    clean_body = check_text(body, "body", max_length=MAX_COMMENT, required=True)
    proposed = None
    if card is not None and (not isinstance(card, str) or card.strip()):
        proposed = check_text(card, "card", max_length=MAX_CARD, required=True)
        latest = latest_revision(ctx, repo)
        if latest is not None and latest.card.strip() == proposed:
            msg = "card: the proposed card is the same as the current one; change something."
            raise ConflictError(msg, field="card")
    check_rate(ctx.hub, "comment", str(ctx.user.id))
    return new_discussion(ctx, repo, title=clean_title, body=clean_body,
                          kind="proposal" if proposed is not None else "discussion",
                          card=proposed)


def _comment(ctx: Ctx, repo: Repository, d: Discussion, body: object) -> Comment:
    require(ctx.actor, "comment.create", repo)
    why = _why_not_comment(ctx, repo, d)
    if why is not None:
        raise PermissionDeniedError(why, field="discussion")
    clean = check_text(body, "body", max_length=MAX_COMMENT, required=True)
    check_rate(ctx.hub, "comment", str(ctx.user.id))
    comment = Comment(discussion_id=d.id, author_id=ctx.user.id, body=clean,
                      created_at=utcnow())

    def change() -> Comment:
        ctx.db.add(comment)
        return comment

    return retrying(ctx, change)


def _update(ctx: Ctx, repo: Repository, d: Discussion, *, locked: bool | None,
            hidden: bool | None, status: str | None) -> None:
    own = ctx.user is not None and d.author_id == ctx.user.id
    if not (status == "closed" and locked is None and hidden is None and own
            and can(ctx.actor, "comment.create", repo)):
        require(ctx.actor, "discussion.moderate", repo)
    if status is not None and d.status == "merged":
        msg = "status: a merged proposal cannot be closed or reopened."
        raise ConflictError(msg, field="status")
    if locked is not None:
        d.locked = locked
    if hidden is not None:
        d.hidden_by = _hider(ctx, repo) if hidden else None
    if status is not None:
        d.status = status
    d.updated_at = utcnow()
    commit(ctx)


def _hide_comment(ctx: Ctx, repo: Repository, d: Discussion, comment_id: int,
                  hidden: bool) -> Comment:
    require(ctx.actor, "discussion.moderate", repo)
    c = ctx.db.scalar(select(Comment).where(Comment.id == comment_id,
                                            Comment.discussion_id == d.id)) if (
        0 < comment_id < 2**31) else None
    if c is None:
        msg = f"Discussion #{d.number} has no comment {comment_id}."
        raise NotFoundError(msg, field="comment_id")
    c.hidden_by = _hider(ctx, repo) if hidden else None
    commit(ctx)
    return c


def _merge(ctx: Ctx, repo: Repository, d: Discussion) -> int:
    require(ctx.actor, "proposal.review", repo)
    if d.kind != "proposal" or d.proposed_card is None:
        msg = f"Discussion #{d.number} is not a card change proposal; nothing to merge."
        raise ConflictError(msg, field="number")
    if d.status != "open":
        msg = f"Proposal #{d.number} is {d.status}; only open proposals can be merged."
        raise ConflictError(msg, field="number")
    proposer = d.author
    rev = commit_revision(ctx, repo, message=f"Merge proposal #{d.number}: {d.title}",
                          card=d.proposed_card)
    rev.author_id = d.author_id
    ctx.db.flush()
    d.status, d.merged_revision, d.updated_at = "merged", rev.number, utcnow()
    who = proposer.display_name if proposer else "a deleted account"
    ctx.log("proposal.merge", f"Merged card change proposal #{d.number} by {who} as "
            f"revision {rev.number}", repo=repo, subject=f"revision:{rev.number}")
    if d.author_id is not None:
        ctx.db.add(Activity(org_id=repo.org_id, repo_id=repo.id, user_id=d.author_id,
                            action="card.proposal", subject=f"revision:{rev.number}",
                            summary=f"Proposed the card change merged as revision "
                                    f"{rev.number} (proposal #{d.number}: {d.title})"[:500],
                            created_at=utcnow()))
    commit(ctx)
    return rev.number


# ---------------------------------------------------------------------------
# pages


@page(router, "/repos/{org}/{name}/discussions", template="discussions.html",
      model=DiscussionsData, name="discussions", tags=["community"],
      title=lambda d: f"Discussions of {d.repo.full_name}")
def discussions_page(org: str, name: str, ctx: CtxDep) -> DiscussionsData:
    """Discussions, card change proposals and report threads of a repository."""
    repo = get_repo(ctx, org, name)
    rows = ctx.db.scalars(select(Discussion).where(Discussion.repo_id == repo.id)
                          .order_by(Discussion.number.desc()).limit(500)).all()
    counts = _counts(ctx, [r.id for r in rows])
    may = can(ctx.actor, "discussion.create", repo)
    latest = latest_revision(ctx, repo) if may else None
    return DiscussionsData(repo=repo_summary(repo),
                           discussions=[summary_out(ctx, repo, r, counts.get(r.id, 0))
                                        for r in rows],
                           can_create=may, card=latest.card if latest else "",
                           code_of_conduct=CODE_OF_CONDUCT)


@page(router, "/repos/{org}/{name}/discussions/{number}", template="discussion.html",
      model=DiscussionData, name="discussion", tags=["community"],
      title=lambda d: f"#{d.discussion.number} {d.discussion.title}")
def discussion_page(org: str, name: str, number: int, ctx: CtxDep) -> DiscussionData:
    """One discussion with its comments; a proposal shows its diff against the card."""
    repo = get_repo(ctx, org, name)
    d = get_discussion(ctx, repo, number)
    moderator = can(ctx.actor, "discussion.moderate", repo)
    visible = d.hidden_by is None or moderator
    comments = ctx.db.scalars(select(Comment).where(Comment.discussion_id == d.id)
                              .order_by(Comment.id)).all() if visible else []
    blocked = blocked_by(ctx)
    diff = None
    if visible and d.proposed_card is not None:
        from scrutiny.hub.routes.repos import _lines

        latest = latest_revision(ctx, repo)
        base = latest.card if latest else ""
        diff = _lines(difflib.unified_diff(base.splitlines(), d.proposed_card.splitlines(),
                                           "README.md (current)", "README.md (proposed)",
                                           lineterm=""))
    return DiscussionData(
        repo=repo_summary(repo), discussion=summary_out(ctx, repo, d, len(comments)),
        comments=[comment_out(ctx, repo, c, blocked) for c in comments], card_diff=diff,
        merged_revision=d.merged_revision, can_comment=_why_not_comment(ctx, repo, d) is None,
        why_not=_why_not_comment(ctx, repo, d), can_moderate=moderator,
        can_merge=(visible and d.kind == "proposal" and d.status == "open"
                   and can(ctx.actor, "proposal.review", repo)),
        reasons=REASONS, code_of_conduct=CODE_OF_CONDUCT)


# ---------------------------------------------------------------------------
# HTML forms


@router.post("/repos/{org}/{name}/discussions", include_in_schema=False)
@form_post("discussions.html", discussions_page, title="Discussions")
def create_form(org: str, name: str, ctx: CtxDep) -> Response:
    """Open a discussion (or a card change proposal, when the form sends a card)."""
    repo = get_repo(ctx, org, name)
    d = _create(ctx, repo, ctx.field("title"), ctx.field("body"), ctx.field("card"))
    return ctx.redirect(discussion_url(repo, d))


@router.post("/repos/{org}/{name}/discussions/{number}/comments", include_in_schema=False)
def comment_form(org: str, name: str, number: int, ctx: CtxDep) -> Response:
    """Add a comment."""
    repo = get_repo(ctx, org, name)
    d = get_discussion(ctx, repo, number)
    c = _comment(ctx, repo, d, ctx.field("body"))
    return ctx.redirect(f"{discussion_url(repo, d)}#comment-{c.id}")


def _flag(value: object) -> bool | None:
    return None if value in (None, "") else value in ("true", "on", "1", "yes")


@router.post("/repos/{org}/{name}/discussions/{number}/state", include_in_schema=False)
def state_form(org: str, name: str, number: int, ctx: CtxDep) -> Response:
    """Lock, hide or close a discussion (fields: locked, hidden, status)."""
    repo = get_repo(ctx, org, name)
    d = get_discussion(ctx, repo, number)
    status = ctx.field("status") or None
    if status not in (None, "open", "closed"):
        msg = f"status: expected 'open' or 'closed'; got {str(status)[:20]!r}."
        raise ValidationFailedError(msg, field="status")
    _update(ctx, repo, d, locked=_flag(ctx.field("locked")), hidden=_flag(ctx.field("hidden")),
            status=status)
    return ctx.redirect(discussion_url(repo, d))


@router.post("/repos/{org}/{name}/discussions/{number}/comments/{comment_id}/hide",
             include_in_schema=False)
def hide_form(org: str, name: str, number: int, comment_id: int, ctx: CtxDep) -> Response:
    """Hide a comment (``hidden=false`` shows it again)."""
    repo = get_repo(ctx, org, name)
    d = get_discussion(ctx, repo, number)
    _hide_comment(ctx, repo, d, comment_id, _flag(ctx.field("hidden")) is not False)
    return ctx.redirect(f"{discussion_url(repo, d)}#comment-{comment_id}")


@router.post("/repos/{org}/{name}/discussions/{number}/merge", include_in_schema=False)
def merge_form(org: str, name: str, number: int, ctx: CtxDep) -> Response:
    """Merge a card change proposal."""
    repo = get_repo(ctx, org, name)
    _merge(ctx, repo, get_discussion(ctx, repo, number))
    return ctx.redirect(repo_url(repo))


# ---------------------------------------------------------------------------
# JSON API


@json_route(router, "/api/repos/{org}/{name}/discussions", method="POST",
            model=DiscussionSummary, name="api.discussion_create", status_code=201,
            tags=["community"])
def discussion_create(org: str, name: str, body: Annotated[DiscussionCreate, Body()],
                      ctx: CtxDep) -> DiscussionSummary:
    """Open a discussion; with ``card``, a card change proposal."""
    repo = get_repo(ctx, org, name)
    d = _create(ctx, repo, body.title, body.body, body.card)
    return summary_out(ctx, repo, d, 1)


@json_route(router, "/api/repos/{org}/{name}/discussions/{number}/comments", method="POST",
            model=CommentOut, name="api.comment_create", status_code=201, tags=["community"])
def comment_create(org: str, name: str, number: int, body: Annotated[CommentCreate, Body()],
                   ctx: CtxDep) -> CommentOut:
    """Comment on a discussion (Markdown, sanitised when shown)."""
    repo = get_repo(ctx, org, name)
    d = get_discussion(ctx, repo, number)
    return comment_out(ctx, repo, _comment(ctx, repo, d, body.body), set())


@json_route(router, "/api/repos/{org}/{name}/discussions/{number}", method="PATCH",
            model=DiscussionSummary, name="api.discussion_update", tags=["community"])
def discussion_update(org: str, name: str, number: int,
                      body: Annotated[DiscussionUpdate, Body()], ctx: CtxDep
                      ) -> DiscussionSummary:
    """Lock, hide, close or reopen a discussion (maintainers, owners, moderators)."""
    repo = get_repo(ctx, org, name)
    d = get_discussion(ctx, repo, number)
    _update(ctx, repo, d, locked=body.locked, hidden=body.hidden, status=body.status)
    return summary_out(ctx, repo, d, 0)


@json_route(router, "/api/repos/{org}/{name}/discussions/{number}/comments/{comment_id}",
            method="PATCH", model=CommentOut, name="api.comment_update", tags=["community"])
def comment_update(org: str, name: str, number: int, comment_id: int,
                   body: Annotated[CommentUpdate, Body()], ctx: CtxDep) -> CommentOut:
    """Hide a comment or show it again (maintainers, owners, moderators)."""
    repo = get_repo(ctx, org, name)
    d = get_discussion(ctx, repo, number)
    return comment_out(ctx, repo, _hide_comment(ctx, repo, d, comment_id, body.hidden), set())


class Merged(_Out):
    """A merged proposal: the revision it made."""

    number: int
    revision: int


@json_route(router, "/api/repos/{org}/{name}/discussions/{number}/merge", method="POST",
            model=Merged, name="api.proposal_merge", tags=["community"])
def proposal_merge(org: str, name: str, number: int, ctx: CtxDep) -> Merged:
    """Merge a card change proposal: a new revision authored by the proposer."""
    repo = get_repo(ctx, org, name)
    d = get_discussion(ctx, repo, number)
    return Merged(number=d.number, revision=_merge(ctx, repo, d))

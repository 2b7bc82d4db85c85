"""Reports, the moderation queue, graduated responses, the moderation log, appeals, blocks.

* Any signed-in user who can read a repository reports it, one of its
  discussions or one of its comments, with a reason (:data:`REASONS`) and a
  description (rate-limited: ``reports_per_hour``). A repository report opens
  a public discussion its owners can answer; a discussion or comment report
  is private to site moderators (the reporter sees its state), and the
  reporter may block the comment's author.
* Site moderators work the queue (``/moderation``): open reports and appeals.
  They answer a repository with a step of :data:`LADDER` (reduce visibility,
  ask to make it private, gate it, disable it, restore), each with its
  reason, in the log the owners read (``/repos/ORG/NAME/moderation``).
* Owners appeal; the appeal goes back to the queue, and a moderator grants
  (the repository is restored) or denies it.
* The code of conduct (``/code-of-conduct``) is linked next to every form
  where people write.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body
from fastapi.responses import Response
from sqlalchemy import delete, select

from scrutiny.hub._community import (
    LADDER,
    REASONS,
    Appeal,
    Block,
    Comment,
    Discussion,
    ModerationAction,
    RepoModeration,
    Report,
    moderation_state,
)
from scrutiny.hub._content import commit, get_repo
from scrutiny.hub._context import Ctx, CtxDep, form_post, json_route, page
from scrutiny.hub._db import Repository, User, utcnow
from scrutiny.hub._errors import ConflictError, NotFoundError, ValidationFailedError
from scrutiny.hub._permissions import can, require
from scrutiny.hub._present import repo_summary, repo_url, user_ref
from scrutiny.hub._ratelimit import check_rate
from scrutiny.hub._schemas import Deleted, RepoSummary, UserRef, _In, _Out, text
from scrutiny.hub._validation import NAME_RE, check_text
from scrutiny.hub.routes.discussions import (
    CODE_OF_CONDUCT,
    discussion_url,
    get_discussion,
    new_discussion,
    retrying,
)

router = APIRouter()
MAX_DESCRIPTION = 5000
Reason = Literal["ethical", "legal", "not_working", "other"]
Step = Literal["reduce", "ask_private", "gate", "disable", "restore"]

#: The code of conduct: (heading, text) pairs.
CODE = [
    ("Be respectful", "Discuss the work, not the person. No harassment, insults, slurs or "
     "personal attacks; no sexualised language or imagery aimed at people."),
    ("Be constructive", "Say what is wrong and, where you can, how to fix it. Card change "
     "proposals and evidence beat assertions."),
    ("Respect privacy", "Do not post personal data about anyone, including people in a "
     "dataset, without their consent."),
    ("Report, do not retaliate", "Use Report on a repository, discussion or comment that "
     "breaks these rules. Repository reports open a public discussion the owners can answer; "
     "comment reports go privately to the moderators, and you may block the author."),
    ("Moderation", "Moderators may hide comments, lock discussions and answer repositories "
     "with graduated steps: reduce visibility, ask the owners to make it private, gate it, "
     "disable it. Every step is logged with its reason for the owners, who may appeal."),
]


# ---------------------------------------------------------------------------
# bodies and page data


class ReportCreate(_In):
    """A report: a reason and a description; for a discussion, optionally one comment."""

    reason: Reason
    description: text(MAX_DESCRIPTION, min_length=1)
    comment_id: int | None = None
    block: bool = False


class ModerationCreate(_In):
    """A graduated response, with its reason (and the report it answers)."""

    action: Step
    reason: text(2000, min_length=1)
    report_id: int | None = None


class AppealCreate(_In):
    """An owner's appeal."""

    text: text(MAX_DESCRIPTION, min_length=1)


class ReportDecision(_In):
    """Close a report."""

    status: Literal["resolved", "dismissed"]
    note: text(500) = ""


class AppealDecision(_In):
    """Decide an appeal; granting restores the repository."""

    decision: Literal["granted", "denied"]
    note: text(2000, min_length=1)


class ReportOut(_Out):
    """A report; ``description`` is shown to moderators and the reporter only."""

    id: int
    target: Literal["repo", "discussion", "comment"]
    repo: str
    reason: Reason
    reason_label: str
    description: str
    status: Literal["open", "resolved", "dismissed"]
    resolution: str | None
    reporter: UserRef | None
    created_at: Any
    resolved_at: Any
    thread_url: str | None
    url: str


class ActionOut(_Out):
    """A step of the moderation log."""

    id: int
    action: Step
    label: str
    reason: str
    moderator: UserRef | None
    report_id: int | None
    created_at: Any


class AppealOut(_Out):
    """An appeal and its decision."""

    id: int
    repo: str
    author: UserRef | None
    text: str
    status: Literal["open", "granted", "denied"]
    decision: str | None
    created_at: Any
    decided_at: Any
    url: str


class ReportFormData(_Out):
    """The form to report a repository."""

    repo: RepoSummary
    reasons: dict[str, str]
    can_report: bool
    code_of_conduct: str


class ReportData(_Out):
    """One report, for its reporter and moderators."""

    report: ReportOut


class QueueData(_Out):
    """The moderation queue: open reports and open appeals."""

    reports: list[ReportOut]
    appeals: list[AppealOut]
    ladder: dict[str, str]


class ModerationLogData(_Out):
    """A repository's moderation state, requests, log and appeals."""

    repo: RepoSummary
    state: Literal["normal", "reduced", "disabled"]
    ask_private: bool
    gate_requested: bool
    actions: list[ActionOut]
    appeals: list[AppealOut]
    open_reports: list[ReportOut]
    ladder: dict[str, str]
    can_act: bool
    can_appeal: bool


class BlockOut(_Out):
    """A user you blocked."""

    user: UserRef
    created_at: Any


class BlocksData(_Out):
    """The users you blocked."""

    blocks: list[BlockOut]


class CodeData(_Out):
    """The code of conduct."""

    sections: list[dict[str, str]]
    reasons: dict[str, str]


# ---------------------------------------------------------------------------
# presenters


def report_out(report: Report) -> ReportOut:
    """A report row as JSON."""
    repo = report.repo
    thread = None
    if report.discussion_id is not None:
        d = getattr(report, "discussion_number", None)
        thread = f"{repo_url(repo)}/discussions/{d}" if d else None
    return ReportOut(
        id=report.id, target=report.target, repo=repo.full_name, reason=report.reason,  # type: ignore[arg-type]
        reason_label=REASONS.get(report.reason, report.reason), description=report.description,
        status=report.status, resolution=report.resolution, reporter=user_ref(report.reporter),  # type: ignore[arg-type]
        created_at=report.created_at, resolved_at=report.resolved_at, thread_url=thread,
        url=f"/reports/{report.id}")


def _with_threads(ctx: Ctx, reports: list[Report]) -> list[ReportOut]:
    ids = {r.discussion_id for r in reports if r.discussion_id is not None}
    numbers = dict(ctx.db.execute(select(Discussion.id, Discussion.number)
                                  .where(Discussion.id.in_(ids))).all()) if ids else {}
    for r in reports:
        r.discussion_number = numbers.get(r.discussion_id or 0)  # type: ignore[attr-defined]
    return [report_out(r) for r in reports]


def appeal_out(a: Appeal) -> AppealOut:
    """An appeal as JSON."""
    return AppealOut(id=a.id, repo=a.repo.full_name, author=user_ref(a.author), text=a.text,
                     status=a.status, decision=a.decision, created_at=a.created_at,  # type: ignore[arg-type]
                     decided_at=a.decided_at, url=f"{repo_url(a.repo)}/moderation")


def action_out(a: ModerationAction) -> ActionOut:
    """A step of the log as JSON."""
    return ActionOut(id=a.id, action=a.action, label=LADDER.get(a.action, a.action),  # type: ignore[arg-type]
                     reason=a.reason, moderator=user_ref(a.moderator), report_id=a.report_id,
                     created_at=a.created_at)


# ---------------------------------------------------------------------------
# changes


def _reason(value: object) -> str:
    if value not in REASONS:
        msg = (f"reason: expected one of {', '.join(REASONS)}; got {str(value)[:30]!r}. "
               "Pick the closest; describe the rest.")
        raise ValidationFailedError(msg, field="reason")
    return str(value)


def report_repo(ctx: Ctx, repo: Repository, reason: object, description: object) -> Report:
    """Report a repository: a report row and a public discussion the owners can answer."""
    require(ctx.actor, "report.create", repo)
    why = _reason(reason)
    text_ = check_text(description, "description", max_length=MAX_DESCRIPTION, required=True)
    check_rate(ctx.hub, "report", str(ctx.user.id))
    d = new_discussion(ctx, repo, title=f"Report: {REASONS[why]}", body=text_, kind="report")
    report = Report(reporter_id=ctx.user.id, target="repo", repo_id=repo.id,
                    discussion_id=d.id, reason=why, description=text_, status="open",
                    created_at=utcnow())

    def change() -> Report:
        ctx.db.add(report)
        return report

    return retrying(ctx, change)


def report_in_discussion(ctx: Ctx, repo: Repository, d: Discussion, reason: object,
                         description: object, comment_id: object, block: bool) -> Report:
    """Report a discussion or one of its comments: private, to the moderators."""
    require(ctx.actor, "report.create", repo)
    why = _reason(reason)
    text_ = check_text(description, "description", max_length=MAX_DESCRIPTION, required=True)
    comment = None
    if comment_id not in (None, ""):
        try:
            cid = int(str(comment_id))
        except ValueError:
            cid = -1
        comment = ctx.db.scalar(select(Comment).where(
            Comment.id == cid, Comment.discussion_id == d.id)) if 0 < cid < 2**31 else None
        if comment is None:
            msg = f"comment_id: discussion #{d.number} has no comment {str(comment_id)[:20]!r}."
            raise NotFoundError(msg, field="comment_id")
    check_rate(ctx.hub, "report", str(ctx.user.id))
    report = Report(reporter_id=ctx.user.id, target="comment" if comment else "discussion",
                    repo_id=repo.id, discussion_id=d.id,
                    comment_id=comment.id if comment else None, reason=why,
                    description=text_, status="open", created_at=utcnow())
    author = comment.author_id if comment else d.author_id
    user_id = ctx.user.id

    def change() -> Report:
        ctx.db.add(report)
        if block and author is not None and author != user_id and ctx.db.get(
                Block, (user_id, author)) is None:
            ctx.db.add(Block(blocker_id=user_id, blocked_id=author, created_at=utcnow()))
        return report

    return retrying(ctx, change)


def _state_row(ctx: Ctx, repo: Repository) -> RepoModeration:
    row = ctx.db.get(RepoModeration, repo.id)
    if row is None:
        row = RepoModeration(repo_id=repo.id, state="normal", ask_private=False,
                             gate_requested=False, updated_at=utcnow())
        ctx.db.add(row)
    return row


def _open_report(ctx: Ctx, repo: Repository, report_id: int | None) -> Report | None:
    if report_id is None:
        return None
    report = ctx.db.get(Report, report_id) if 0 < report_id < 2**31 else None
    if report is None or report.repo_id != repo.id:
        msg = f"report_id: {repo.full_name} has no report {report_id}."
        raise NotFoundError(msg, field="report_id")
    return report


def act(ctx: Ctx, repo: Repository, action: object, reason: object,
        report_id: int | None = None) -> ModerationAction:
    """Apply a graduated response to a repository and log it with its reason."""
    require(ctx.actor, "moderation.act", repo)
    if action not in LADDER:
        msg = (f"action: expected one of {', '.join(LADDER)}; got {str(action)[:30]!r}.")
        raise ValidationFailedError(msg, field="action")
    why = check_text(reason, "reason", max_length=2000, required=True)
    report = _open_report(ctx, repo, report_id)
    row = _state_row(ctx, repo)
    if action == "reduce":
        row.state = "reduced"
    elif action == "disable":
        row.state = "disabled"
    elif action == "ask_private":
        row.ask_private = True
    elif action == "gate":
        from scrutiny.hub._gating import RepoGate

        row.gate_requested = True
        if ctx.db.get(RepoGate, repo.id) is None:  # an existing gate keeps its mode
            ctx.db.add(RepoGate(repo_id=repo.id, mode="manual", updated_by=ctx.user.id,
                                updated_at=utcnow()))
    else:
        row.state, row.ask_private, row.gate_requested = "normal", False, False
    row.updated_at = utcnow()
    step = ModerationAction(repo_id=repo.id, moderator_id=ctx.user.id, action=str(action),
                            reason=why, report_id=report.id if report else None,
                            created_at=utcnow())
    ctx.db.add(step)
    if report is not None and report.status == "open":
        report.status, report.resolved_at = "resolved", utcnow()
        report.resolution = f"{LADDER[str(action)].split(':')[0]}: {why}"[:500]
    commit(ctx)
    ctx.db.refresh(repo)
    return step


def appeal(ctx: Ctx, repo: Repository, text_: object) -> Appeal:
    """An owner's appeal: back to the moderation queue."""
    require(ctx.actor, "moderation.appeal", repo)
    clean = check_text(text_, "text", max_length=MAX_DESCRIPTION, required=True)
    if ctx.db.scalar(select(ModerationAction.id).where(ModerationAction.repo_id == repo.id)
                     .limit(1)) is None:
        msg = f"{repo.full_name} has no moderation action to appeal."
        raise ConflictError(msg, field="text")
    if ctx.db.scalar(select(Appeal.id).where(Appeal.repo_id == repo.id,
                                             Appeal.status == "open")) is not None:
        msg = "text: an appeal of this repository is already waiting for a moderator."
        raise ConflictError(msg, field="text")
    row = Appeal(repo_id=repo.id, author_id=ctx.user.id, text=clean, status="open",
                 created_at=utcnow())
    ctx.db.add(row)
    commit(ctx)
    return row


def _report(ctx: Ctx, report_id: int) -> Report:
    """A report its reporter or a moderator may see (404 for everyone else)."""
    report = ctx.db.get(Report, report_id) if 0 < report_id < 2**31 else None
    mine = report is not None and ctx.user is not None and report.reporter_id == ctx.user.id
    if report is None or not (mine or ctx.actor.is_moderator):
        msg = (f"No report {report_id} that you may see: reports are visible to their reporter "
               "and to moderators only.")
        raise NotFoundError(msg, field="report_id")
    return report


def decide_report(ctx: Ctx, report_id: int, status: object, note: object) -> Report:
    """A moderator closes a report."""
    require(ctx.actor, "moderation.act")
    report = _report(ctx, report_id)
    if status not in ("resolved", "dismissed"):
        msg = f"status: expected 'resolved' or 'dismissed'; got {str(status)[:20]!r}."
        raise ValidationFailedError(msg, field="status")
    report.status, report.resolved_at = str(status), utcnow()
    report.resolution = check_text(note, "note", max_length=500) or None
    commit(ctx)
    return report


def decide_appeal(ctx: Ctx, appeal_id: int, decision: object, note: object) -> Appeal:
    """A moderator grants (restores the repository) or denies an appeal."""
    require(ctx.actor, "moderation.act")
    row = ctx.db.get(Appeal, appeal_id) if 0 < appeal_id < 2**31 else None
    if row is None:
        msg = f"No appeal {appeal_id}; the moderation queue lists the open ones."
        raise NotFoundError(msg, field="appeal_id")
    if decision not in ("granted", "denied"):
        msg = f"decision: expected 'granted' or 'denied'; got {str(decision)[:20]!r}."
        raise ValidationFailedError(msg, field="decision")
    why = check_text(note, "note", max_length=2000, required=True)
    if row.status != "open":
        msg = f"Appeal {appeal_id} was already {row.status}."
        raise ConflictError(msg, field="appeal_id")
    row.status, row.decision = str(decision), why
    row.decided_by, row.decided_at = ctx.user.id, utcnow()
    if decision == "granted":
        act(ctx, row.repo, "restore", f"Appeal {row.id} granted: {why}")
    else:
        commit(ctx)
    return row


def block_user(ctx: Ctx, username: str, on: bool) -> User:
    """Block (or unblock) a user."""
    me_ = ctx.require_user()
    require(ctx.actor, "comment.create")
    other = ctx.db.scalar(select(User).where(User.username == username)) if NAME_RE.match(
        username) else None
    if other is None:
        msg = f"No user {username[:40]!r}."
        raise NotFoundError(msg, field="username")
    if other.id == me_.id:
        raise ValidationFailedError("username: you cannot block yourself.", field="username")
    if on:
        def change() -> None:
            if ctx.db.get(Block, (me_.id, other.id)) is None:
                ctx.db.add(Block(blocker_id=me_.id, blocked_id=other.id, created_at=utcnow()))

        retrying(ctx, change)
    else:
        ctx.db.execute(delete(Block).where(Block.blocker_id == me_.id,
                                           Block.blocked_id == other.id))
        commit(ctx)
    return other


# ---------------------------------------------------------------------------
# pages


@page(router, "/code-of-conduct", template="code_of_conduct.html", model=CodeData,
      name="code_of_conduct", tags=["community"], title=lambda d: "Code of conduct")
def code_of_conduct(ctx: CtxDep) -> CodeData:
    """The code of conduct of discussions and reports."""
    return CodeData(sections=[{"heading": h, "text": t} for h, t in CODE], reasons=REASONS)


@page(router, "/moderation", template="moderation_queue.html", model=QueueData,
      name="moderation_queue", tags=["community"], title=lambda d: "Moderation queue")
def moderation_queue(ctx: CtxDep) -> QueueData:
    """Open reports and appeals (site moderators)."""
    require(ctx.actor, "moderation.act")
    reports = list(ctx.db.scalars(select(Report).where(Report.status == "open")
                                  .order_by(Report.id).limit(500)).all())
    appeals = ctx.db.scalars(select(Appeal).where(Appeal.status == "open")
                             .order_by(Appeal.id).limit(500)).all()
    return QueueData(reports=_with_threads(ctx, reports), appeals=[appeal_out(a) for a in appeals],
                     ladder=LADDER)


@page(router, "/reports/{report_id}", template="report.html", model=ReportData,
      name="report_status", tags=["community"], title=lambda d: f"Report {d.report.id}")
def report_page(report_id: int, ctx: CtxDep) -> ReportData:
    """A report and its state (its reporter and moderators)."""
    return ReportData(report=_with_threads(ctx, [_report(ctx, report_id)])[0])


@page(router, "/repos/{org}/{name}/report", template="report_new.html", model=ReportFormData,
      name="report_new", tags=["community"], title=lambda d: f"Report {d.repo.full_name}")
def report_new(org: str, name: str, ctx: CtxDep) -> ReportFormData:
    """The form to report a repository (it opens a public discussion)."""
    repo = get_repo(ctx, org, name)
    return ReportFormData(repo=repo_summary(repo), reasons=REASONS,
                          can_report=can(ctx.actor, "report.create", repo),
                          code_of_conduct=CODE_OF_CONDUCT)


@page(router, "/repos/{org}/{name}/moderation", template="moderation_log.html",
      model=ModerationLogData, name="moderation_log", tags=["community"],
      title=lambda d: f"Moderation of {d.repo.full_name}")
def moderation_log(org: str, name: str, ctx: CtxDep) -> ModerationLogData:
    """A repository's moderation state and log (its owners and moderators)."""
    repo = get_repo(ctx, org, name, "moderation.log")
    row = ctx.db.get(RepoModeration, repo.id)
    actions = ctx.db.scalars(select(ModerationAction).where(ModerationAction.repo_id == repo.id)
                             .order_by(ModerationAction.id.desc())).all()
    appeals = ctx.db.scalars(select(Appeal).where(Appeal.repo_id == repo.id)
                             .order_by(Appeal.id.desc())).all()
    moderator = can(ctx.actor, "moderation.act", repo)
    reports = list(ctx.db.scalars(select(Report).where(
        Report.repo_id == repo.id, Report.status == "open", Report.target == "repo")
        .order_by(Report.id)).all()) if moderator else []
    return ModerationLogData(
        repo=repo_summary(repo), state=moderation_state(repo),  # type: ignore[arg-type]
        ask_private=bool(row and row.ask_private), gate_requested=bool(row and row.gate_requested),
        actions=[action_out(a) for a in actions], appeals=[appeal_out(a) for a in appeals],
        open_reports=_with_threads(ctx, reports), ladder=LADDER, can_act=moderator,
        can_appeal=bool(actions) and can(ctx.actor, "moderation.appeal", repo))


@page(router, "/account/blocks", template="blocks.html", model=BlocksData, name="blocks",
      tags=["community"], title=lambda d: "Blocked users")
def blocks_page(ctx: CtxDep) -> BlocksData:
    """The users you blocked: their comments are hidden for you."""
    user = ctx.require_user()
    rows = ctx.db.scalars(select(Block).where(Block.blocker_id == user.id)
                          .order_by(Block.created_at)).all()
    return BlocksData(blocks=[BlockOut(user=user_ref(b.blocked), created_at=b.created_at)  # type: ignore[arg-type]
                              for b in rows])


# ---------------------------------------------------------------------------
# HTML forms


@router.post("/repos/{org}/{name}/report", include_in_schema=False)
@form_post("report_new.html", report_new, title="Report")
def report_form(org: str, name: str, ctx: CtxDep) -> Response:
    """Report a repository; go to the public discussion it opened."""
    repo = get_repo(ctx, org, name)
    report = report_repo(ctx, repo, ctx.field("reason"), ctx.field("description"))
    d = ctx.db.get(Discussion, report.discussion_id)
    return ctx.redirect(discussion_url(repo, d))  # type: ignore[arg-type]


@router.post("/repos/{org}/{name}/discussions/{number}/report", include_in_schema=False)
def report_discussion_form(org: str, name: str, number: int, ctx: CtxDep) -> Response:
    """Report a discussion or a comment (privately, to the moderators)."""
    repo = get_repo(ctx, org, name)
    d = get_discussion(ctx, repo, number)
    report = report_in_discussion(ctx, repo, d, ctx.field("reason"), ctx.field("description"),
                                  ctx.field("comment_id"), ctx.field("block") in ("on", "true"))
    return ctx.redirect(f"/reports/{report.id}")


@router.post("/repos/{org}/{name}/moderation", include_in_schema=False)
def act_form(org: str, name: str, ctx: CtxDep) -> Response:
    """Apply a graduated response (moderators)."""
    repo = get_repo(ctx, org, name)
    raw = ctx.field("report_id")
    try:
        report_id = int(raw) if raw not in (None, "") else None
    except ValueError:
        msg = f"report_id: expected a report number; got {str(raw)[:20]!r}."
        raise ValidationFailedError(msg, field="report_id") from None
    act(ctx, repo, ctx.field("action"), ctx.field("reason"), report_id)
    return ctx.redirect(f"{repo_url(repo)}/moderation")


@router.post("/repos/{org}/{name}/moderation/appeal", include_in_schema=False)
def appeal_form(org: str, name: str, ctx: CtxDep) -> Response:
    """Appeal (owners)."""
    repo = get_repo(ctx, org, name)
    appeal(ctx, repo, ctx.field("text"))
    return ctx.redirect(f"{repo_url(repo)}/moderation")


@router.post("/moderation/reports/{report_id}", include_in_schema=False)
def decide_report_form(report_id: int, ctx: CtxDep) -> Response:
    """Resolve or dismiss a report (moderators)."""
    decide_report(ctx, report_id, ctx.field("status"), ctx.field("note"))
    return ctx.redirect("/moderation")


@router.post("/moderation/appeals/{appeal_id}", include_in_schema=False)
def decide_appeal_form(appeal_id: int, ctx: CtxDep) -> Response:
    """Grant or deny an appeal (moderators)."""
    decide_appeal(ctx, appeal_id, ctx.field("decision"), ctx.field("note"))
    return ctx.redirect("/moderation")


@router.post("/users/{username}/block", include_in_schema=False)
def block_form(username: str, ctx: CtxDep) -> Response:
    """Block a user."""
    block_user(ctx, username, on=True)
    return ctx.redirect("/account/blocks")


@router.post("/users/{username}/unblock", include_in_schema=False)
def unblock_form(username: str, ctx: CtxDep) -> Response:
    """Unblock a user."""
    block_user(ctx, username, on=False)
    return ctx.redirect("/account/blocks")


# ---------------------------------------------------------------------------
# JSON API


@json_route(router, "/api/repos/{org}/{name}/reports", method="POST", model=ReportOut,
            name="api.repo_report", status_code=201, tags=["community"])
def repo_report(org: str, name: str, body: Annotated[ReportCreate, Body()],
                ctx: CtxDep) -> ReportOut:
    """Report a repository: opens a public discussion its owners can answer."""
    repo = get_repo(ctx, org, name)
    if body.comment_id is not None or body.block:
        msg = ("comment_id: a repository report names no comment; report a comment at "
               "/api/repos/ORG/NAME/discussions/NUMBER/reports.")
        raise ValidationFailedError(msg, field="comment_id")
    return _with_threads(ctx, [report_repo(ctx, repo, body.reason, body.description)])[0]


@json_route(router, "/api/repos/{org}/{name}/discussions/{number}/reports", method="POST",
            model=ReportOut, name="api.discussion_report", status_code=201, tags=["community"])
def discussion_report(org: str, name: str, number: int, body: Annotated[ReportCreate, Body()],
                      ctx: CtxDep) -> ReportOut:
    """Report a discussion, or with ``comment_id`` a comment (private, to moderators)."""
    repo = get_repo(ctx, org, name)
    d = get_discussion(ctx, repo, number)
    report = report_in_discussion(ctx, repo, d, body.reason, body.description, body.comment_id,
                                  body.block)
    return _with_threads(ctx, [report])[0]


@json_route(router, "/api/repos/{org}/{name}/moderation", method="POST", model=ActionOut,
            name="api.moderation_act", status_code=201, tags=["community"])
def moderation_act(org: str, name: str, body: Annotated[ModerationCreate, Body()],
                   ctx: CtxDep) -> ActionOut:
    """Apply a graduated response to a repository (site moderators)."""
    repo = get_repo(ctx, org, name)
    return action_out(act(ctx, repo, body.action, body.reason, body.report_id))


@json_route(router, "/api/repos/{org}/{name}/appeals", method="POST", model=AppealOut,
            name="api.appeal", status_code=201, tags=["community"])
def appeal_create(org: str, name: str, body: Annotated[AppealCreate, Body()],
                  ctx: CtxDep) -> AppealOut:
    """Appeal the moderation of your repository (owners); it goes to the queue."""
    repo = get_repo(ctx, org, name)
    return appeal_out(appeal(ctx, repo, body.text))


@json_route(router, "/api/moderation/reports/{report_id}", method="POST", model=ReportOut,
            name="api.report_decide", tags=["community"])
def report_decide(report_id: int, body: Annotated[ReportDecision, Body()],
                  ctx: CtxDep) -> ReportOut:
    """Resolve or dismiss a report (site moderators)."""
    return _with_threads(ctx, [decide_report(ctx, report_id, body.status, body.note)])[0]


@json_route(router, "/api/moderation/appeals/{appeal_id}", method="POST", model=AppealOut,
            name="api.appeal_decide", tags=["community"])
def appeal_decide(appeal_id: int, body: Annotated[AppealDecision, Body()],
                  ctx: CtxDep) -> AppealOut:
    """Grant (restores the repository) or deny an appeal (site moderators)."""
    return appeal_out(decide_appeal(ctx, appeal_id, body.decision, body.note))


@json_route(router, "/api/users/{username}/block", method="POST", model=BlockOut,
            name="api.block", status_code=201, tags=["community"])
def block(username: str, ctx: CtxDep) -> BlockOut:
    """Block a user: their comments are hidden for you.

    A blocked user also cannot comment on the discussions you opened.
    """
    other = block_user(ctx, username, on=True)
    return BlockOut(user=user_ref(other), created_at=utcnow())  # type: ignore[arg-type]


@json_route(router, "/api/users/{username}/block", method="DELETE", model=Deleted,
            name="api.unblock", tags=["community"])
def unblock(username: str, ctx: CtxDep) -> Deleted:
    """Unblock a user."""
    other = block_user(ctx, username, on=False)
    return Deleted(deleted=f"block:{other.username}")

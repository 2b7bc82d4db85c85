"""Content preferences, the not-for-all-audiences acknowledgement, and gated access.

Pages (each with its ``/api`` twin): ``/account/preferences``,
``/repos/{org}/{name}/access`` (the request form and the viewer's state),
``/repos/{org}/{name}/access/requests`` (review, owners and maintainers) and
``/repos/{org}/{name}/gating`` (settings, owners). Forms post to the page's
own address with a CSRF token; JSON clients use the ``/api`` write endpoints.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body
from fastapi.responses import Response
from sqlalchemy import delete, func, select

from scrutiny.hub._content import commit, get_repo, latest_revision
from scrutiny.hub._context import Ctx, CtxDep, json_route, page, q
from scrutiny.hub._db import Repository, User, utcnow
from scrutiny.hub._errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationFailedError,
)
from scrutiny.hub._gating import (
    ACK_COOKIE,
    COUNTRIES,
    MAX_REASON,
    MODES,
    AccessData,
    AccessDecision,
    AccessRequest,
    AccessRequestIn,
    AccessRequestOut,
    AccessRequestsData,
    ContentPreference,
    GateForm,
    GatingData,
    GatingUpdate,
    PreferencesData,
    PreferencesUpdate,
    RepoGate,
    ack_cookie,
    gate_mode,
    local_path,
    parse_gate_form,
    shows_nfaa,
    validate_answers,
)
from scrutiny.hub._markdown import split_card
from scrutiny.hub._permissions import allowed_actions, can, require, role_in
from scrutiny.hub._present import me, repo_summary, repo_url, user_ref
from scrutiny.hub._validation import NAME_RE, check_text

router = APIRouter()


# ---------------------------------------------------------------------------
# content preferences


def _preferences(ctx: Ctx) -> PreferencesData:
    user = ctx.require_user()
    return PreferencesData(user=me(user),  # type: ignore[arg-type]
                           show_nfaa_without_warning=shows_nfaa(ctx.db, user))


@page(router, "/account/preferences", template="preferences.html", model=PreferencesData,
      name="preferences", tags=["accounts"], title=lambda d: "Content preferences")
def preferences_page(ctx: CtxDep) -> PreferencesData:
    """Your content preferences: whether not-for-all-audiences content shows a warning."""
    return _preferences(ctx)


def _set_preferences(ctx: Ctx, show: bool) -> PreferencesData:
    user = ctx.require_user()
    if ctx.actor.scope != "write":
        msg = ("This API token has 'read' scope; changing preferences needs a token with "
               "'write' scope. Create one at /account.")
        raise PermissionDeniedError(msg, field="token")
    row = ctx.db.get(ContentPreference, user.id)
    if row is None:
        row = ContentPreference(user_id=user.id, show_nfaa=show, updated_at=utcnow())
        ctx.db.add(row)
    row.show_nfaa, row.updated_at = show, utcnow()
    commit(ctx)
    return _preferences(ctx)


@router.post("/account/preferences", include_in_schema=False)
def preferences_form(ctx: CtxDep) -> Response:
    """Save the content preferences (a ticked box shows content without the warning)."""
    value = ctx.field("show_nfaa_without_warning")
    if value not in (None, "on", "true"):
        msg = (f"show_nfaa_without_warning: expected a ticked box ('on') or nothing; got "
               f"{str(value)[:20]!r}.")
        raise ValidationFailedError(msg, field="show_nfaa_without_warning")
    _set_preferences(ctx, value is not None)
    return ctx.redirect("/account/preferences")


@json_route(router, "/api/account/preferences", method="PUT", model=PreferencesData,
            name="api.preferences_update", tags=["accounts"])
def preferences_update(body: Annotated[PreferencesUpdate, Body()], ctx: CtxDep
                       ) -> PreferencesData:
    """Change your content preferences."""
    return _set_preferences(ctx, body.show_nfaa_without_warning)


# ---------------------------------------------------------------------------
# the interstitial's acknowledgement


@router.post("/repos/{org}/{name}/acknowledge", include_in_schema=False)
def acknowledge(org: str, name: str, ctx: CtxDep) -> Response:
    """Acknowledge a not-for-all-audiences warning for this session, then go on."""
    repo = get_repo(ctx, org, name)
    response = ctx.redirect(local_path(ctx.field("next"), repo_url(repo)))
    response.set_cookie(ACK_COOKIE, ack_cookie(ctx, repo), httponly=True, samesite="lax",
                        secure=ctx.hub.settings.secure_cookies, path="/")
    return response


# ---------------------------------------------------------------------------
# gated access: the request form


def gate_form(ctx: Ctx, repo: Repository) -> GateForm:
    """The access request form of the repository's newest card."""
    rev = latest_revision(ctx, repo)
    meta, _, problems = split_card(rev.card if rev else "")
    if problems:
        form = parse_gate_form({}, repo.full_name)
        form.error = f"card metadata: {problems[0]} Fix the card's YAML."
        return form
    return parse_gate_form(meta, repo.full_name)


def _request_out(row: AccessRequest) -> AccessRequestOut:
    return AccessRequestOut(user=user_ref(row.user), status=row.status,  # type: ignore[arg-type]
                            answers=row.answers, reason=row.reason, created_at=row.created_at,
                            decided_at=row.decided_at, decided_by=user_ref(row.decider))


def _own_request(ctx: Ctx, repo: Repository) -> AccessRequest | None:
    if ctx.user is None:
        return None
    return ctx.db.scalar(select(AccessRequest).where(AccessRequest.repo_id == repo.id,
                                                     AccessRequest.user_id == ctx.user.id))


def _access_data(ctx: Ctx, repo: Repository) -> AccessData:
    mode = gate_mode(repo)
    own = _own_request(ctx, repo)
    if mode is None:
        access = "open"
    elif ctx.actor.is_moderator or role_in(ctx.actor, repo.org_id) is not None:
        access = "member"
    else:
        access = own.status if own is not None else "none"
    form = gate_form(ctx, repo) if mode is not None else None
    return AccessData(
        repo=repo_summary(repo), mode=mode, access=access,  # type: ignore[arg-type]
        request=_request_out(own) if own is not None else None,
        can_request=access == "none" and can(ctx.actor, "repo.request_access", repo),
        form=form.out() if form is not None else None,
        countries=COUNTRIES if form is not None and any(
            f.type == "country" for f in form.fields) else {},
        allowed=allowed_actions(ctx.actor, repo))


@page(router, "/repos/{org}/{name}/access", template="access.html", model=AccessData,
      name="access", tags=["gating"], title=lambda d: f"Access to {d.repo.full_name}")
def access_page(org: str, name: str, ctx: CtxDep) -> AccessData:
    """A gated repository's access request form, and where your request stands."""
    return _access_data(ctx, get_repo(ctx, org, name))


def _request(ctx: Ctx, repo: Repository, answers: dict[str, Any]) -> AccessData:
    require(ctx.actor, "repo.request_access", repo)
    mode = gate_mode(repo)
    if mode is None:
        msg = (f"{repo.full_name} is not gated: its content is open to everyone who can read "
               "it, so there is nothing to request.")
        raise ConflictError(msg, field="repo")
    if ctx.actor.is_moderator or role_in(ctx.actor, repo.org_id) is not None:
        msg = (f"You already have access to {repo.full_name} as a member of its organisation "
               "(or a site moderator); no request is needed.")
        raise ConflictError(msg, field="repo")
    own = _own_request(ctx, repo)
    if own is not None:
        if own.status == "rejected":
            why = f" The reason given: {own.reason}" if own.reason else " No reason was given."
            msg = (f"Your access request for {repo.full_name} was rejected and cannot be made "
                   f"again.{why}")
        elif own.status == "pending":
            msg = (f"Your access request for {repo.full_name} is already pending; the "
                   "repository's maintainers review it.")
        else:
            msg = f"Your access request for {repo.full_name} was already accepted."
        raise ConflictError(msg, field="repo")
    form = gate_form(ctx, repo)
    if form.error:
        field = form.error.split(":", 1)[0]
        msg = (f"The access form of {repo.full_name} is misconfigured, so requests cannot be "
               f"checked ({form.error}) Ask the repository's owners to fix the card.")
        raise ValidationFailedError(msg, field=field)
    clean = validate_answers(form, answers)
    status = "accepted" if mode == "automatic" else "pending"
    now = utcnow()
    ctx.db.add(AccessRequest(repo_id=repo.id, user_id=ctx.user.id, status=status, answers=clean,
                             created_at=now, decided_at=now if status == "accepted" else None))
    ctx.log("access.request", f"{ctx.user.username} requested access ({status})", repo=repo,
            subject=f"user:{ctx.user.username}")
    commit(ctx)
    ctx.actor.gate_states[repo.id] = status
    return _access_data(ctx, repo)


@router.post("/repos/{org}/{name}/access", include_in_schema=False)
def access_form(org: str, name: str, ctx: CtxDep) -> Response:
    """Send an access request from the form (fields are named ``field-N``)."""
    repo = get_repo(ctx, org, name)
    answers: dict[str, Any] = {}
    form = gate_form(ctx, repo) if gate_mode(repo) is not None else None
    for f in form.fields if form is not None and not form.error else []:
        value = ctx.field(f.name)
        if value is not None:
            answers[f.label] = check_text(value, f"answers.{f.label}", max_length=1000)
    _request(ctx, repo, answers)
    return ctx.redirect(f"{repo_url(repo)}/access")


@json_route(router, "/api/repos/{org}/{name}/access", method="POST", model=AccessData,
            name="api.access_request", status_code=201, tags=["gating"])
def access_request(org: str, name: str, body: Annotated[AccessRequestIn, Body()],
                   ctx: CtxDep) -> AccessData:
    """Request access to a gated repository (answers keyed by the form's labels)."""
    return _request(ctx, get_repo(ctx, org, name), dict(body.answers))


# ---------------------------------------------------------------------------
# gated access: review


def _requests_data(ctx: Ctx, repo: Repository) -> AccessRequestsData:
    rows = ctx.db.scalars(select(AccessRequest).where(AccessRequest.repo_id == repo.id)
                          .order_by(AccessRequest.status, AccessRequest.created_at.desc(),
                                    AccessRequest.id.desc()).limit(1000)).all()
    counts = dict(ctx.db.execute(select(AccessRequest.status, func.count())
                                 .where(AccessRequest.repo_id == repo.id)
                                 .group_by(AccessRequest.status)).all())
    return AccessRequestsData(repo=repo_summary(repo), mode=gate_mode(repo),  # type: ignore[arg-type]
                              counts={s: int(counts.get(s, 0)) for s in
                                      ("pending", "accepted", "rejected")},
                              requests=[_request_out(r) for r in rows],
                              allowed=allowed_actions(ctx.actor, repo))


@page(router, "/repos/{org}/{name}/access/requests", template="access_requests.html",
      model=AccessRequestsData, name="access_requests", tags=["gating"],
      title=lambda d: f"Access requests of {d.repo.full_name}")
def access_requests_page(org: str, name: str, ctx: CtxDep) -> AccessRequestsData:
    """The access requests of a gated repository (owners and maintainers review them)."""
    return _requests_data(ctx, get_repo(ctx, org, name, "repo.manage_access"))


def _decide(ctx: Ctx, repo: Repository, username: str, status: str, reason: str | None
            ) -> AccessRequestOut:
    row = None
    if NAME_RE.match(username):
        row = ctx.db.scalar(select(AccessRequest).join(User, AccessRequest.user_id == User.id)
                            .where(AccessRequest.repo_id == repo.id, User.username == username))
    if row is None:
        msg = (f"{repo.full_name} has no access request from {username[:40]!r}. The requests "
               "page lists them.")
        raise NotFoundError(msg, field="username")
    row.status = status
    row.reason = (reason or None) if status == "rejected" else None
    row.decided_at = utcnow() if status != "pending" else None
    row.decided_by = ctx.user.id if status != "pending" and ctx.user else None
    verb = {"accepted": "Accepted", "rejected": "Rejected", "pending": "Reopened"}[status]
    ctx.log("access.decide", f"{verb} the access request of {username}", repo=repo,
            subject=f"user:{username}")
    commit(ctx)
    ctx.db.refresh(row)
    return _request_out(row)


@router.post("/repos/{org}/{name}/access/requests/{username}", include_in_schema=False)
def decide_form(org: str, name: str, username: str, ctx: CtxDep) -> Response:
    """Accept or reject an access request (the form's ``decision`` says which)."""
    repo = get_repo(ctx, org, name, "repo.manage_access")
    decision = ctx.field("decision")
    status = {"accept": "accepted", "reject": "rejected", "reopen": "pending"}.get(
        decision if isinstance(decision, str) else "")
    if status is None:
        msg = (f"decision: expected 'accept', 'reject' or 'reopen'; got "
               f"{str(decision)[:20]!r}.")
        raise ValidationFailedError(msg, field="decision")
    reason = check_text(ctx.field("reason"), "reason", max_length=MAX_REASON)
    _decide(ctx, repo, username, status, reason)
    return ctx.redirect(f"{repo_url(repo)}/access/requests")


@json_route(router, "/api/repos/{org}/{name}/access/requests/{username}", method="PUT",
            model=AccessRequestOut, name="api.access_decide", tags=["gating"])
def access_decide(org: str, name: str, username: str,
                  body: Annotated[AccessDecision, Body()], ctx: CtxDep) -> AccessRequestOut:
    """Accept or reject an access request (a rejection may give a reason, 200 characters)."""
    repo = get_repo(ctx, org, name, "repo.manage_access")
    return _decide(ctx, repo, username, body.status, body.reason)


# ---------------------------------------------------------------------------
# gating settings


def _gating_data(ctx: Ctx, repo: Repository) -> GatingData:
    return GatingData(repo=repo_summary(repo), mode=gate_mode(repo),  # type: ignore[arg-type]
                      modes=["off", *MODES], form=gate_form(ctx, repo).out(),
                      allowed=allowed_actions(ctx.actor, repo))


@page(router, "/repos/{org}/{name}/gating", template="gating.html", model=GatingData,
      name="gating", tags=["gating"], title=lambda d: f"Gated access to {d.repo.full_name}")
def gating_page(org: str, name: str, ctx: CtxDep) -> GatingData:
    """Gated access settings (owners): off, automatic or manual approval; the card's form."""
    return _gating_data(ctx, get_repo(ctx, org, name, "repo.admin"))


def _set_gating(ctx: Ctx, repo: Repository, mode: str) -> GatingData:
    before = gate_mode(repo)
    if mode == "off":
        ctx.db.execute(delete(RepoGate).where(RepoGate.repo_id == repo.id))
    else:
        form = gate_form(ctx, repo)
        if form.error:
            field = form.error.split(":", 1)[0]
            msg = (f"{form.error} Gating stays {before or 'off'} until the card's gating "
                   "metadata is valid.")
            raise ValidationFailedError(msg, field=field)
        row = ctx.db.get(RepoGate, repo.id)
        if row is None:
            row = RepoGate(repo_id=repo.id, mode=mode)
            ctx.db.add(row)
        row.mode, row.updated_at = mode, utcnow()
        row.updated_by = ctx.user.id if ctx.user else None
        if mode == "automatic":  # switching to automatic approval accepts who is waiting
            for pending in ctx.db.scalars(select(AccessRequest).where(
                    AccessRequest.repo_id == repo.id, AccessRequest.status == "pending")):
                pending.status, pending.decided_at = "accepted", utcnow()
    if before != (None if mode == "off" else mode):
        ctx.log("repo.gating", f"Set gated access to {mode}", repo=repo)
    commit(ctx)
    ctx.db.expire(repo, ["gate"])
    return _gating_data(ctx, repo)


@router.post("/repos/{org}/{name}/gating", include_in_schema=False)
def gating_form(org: str, name: str, ctx: CtxDep) -> Response:
    """Change gated access from the settings form."""
    repo = get_repo(ctx, org, name, "repo.admin")
    mode = ctx.field("mode")
    if mode not in ("off", *MODES):
        msg = f"mode: expected 'off', 'automatic' or 'manual'; got {str(mode)[:20]!r}."
        raise ValidationFailedError(msg, field="mode")
    _set_gating(ctx, repo, str(mode))
    return ctx.redirect(f"/repos/{q(repo.org.name)}/{q(repo.name)}/gating")


@json_route(router, "/api/repos/{org}/{name}/gating", method="PUT", model=GatingData,
            name="api.gating_update", tags=["gating"])
def gating_update(org: str, name: str, body: Annotated[GatingUpdate, Body()],
                  ctx: CtxDep) -> GatingData:
    """Switch gated access off, or on with automatic or manual approval (owners)."""
    return _set_gating(ctx, get_repo(ctx, org, name, "repo.admin"), body.mode)

"""The deliberation record on the web, and the activity log that shows who did the work.

Per repository: the values register, value conflicts with decisions and
rationale, qualitative evidence, the checklist and sign-offs. Who may edit
each section is decided by :func:`~scrutiny.hub._permissions.can` with the
section's action; every change writes an activity-log line.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body
from fastapi.responses import Response
from sqlalchemy import select

from scrutiny.hub._content import commit, get_repo
from scrutiny.hub._context import Ctx, CtxDep, json_route, page
from scrutiny.hub._db import Activity, Audit, DeliberationItem, Repository, utcnow
from scrutiny.hub._deliberation import (
    BY_SEGMENT,
    KINDS,
    ItemKind,
    from_form,
    signoff_data,
    summarise,
    validate,
)
from scrutiny.hub._errors import ConflictError, NotFoundError, PermissionDeniedError
from scrutiny.hub._permissions import ACTIONS, allowed_actions, can, require
from scrutiny.hub._present import activity_out, item_out, repo_summary, repo_url, user_ref
from scrutiny.hub._schemas import (
    ActivityData,
    Contributor,
    Deleted,
    DeliberationData,
    ItemData,
    ItemOut,
    SectionOut,
    SignOffCreate,
)
from scrutiny.hub._validation import check_text

router = APIRouter()


def _kind(segment: str) -> ItemKind:
    kind = BY_SEGMENT.get(segment)
    if kind is None:
        msg = (f"No deliberation section {segment[:40]!r}; the sections are "
               f"{', '.join(BY_SEGMENT)}.")
        raise NotFoundError(msg, field="section")
    return kind


def _section(ctx: Ctx, repo: Repository, kind: ItemKind, items: list[ItemOut]) -> SectionOut:
    return SectionOut(kind=kind.key, segment=kind.segment, title=kind.title,
                      description=kind.description, action=kind.action,
                      role_needed=str(ACTIONS[kind.action]),
                      can_edit=can(ctx.actor, kind.action, repo),
                      fields=[f.as_dict() for f in kind.fields], items=items)


def _audit_numbers(ctx: Ctx, repo: Repository) -> dict[int, int]:
    return dict(ctx.db.execute(select(Audit.id, Audit.number)
                               .where(Audit.repo_id == repo.id)).all())


def _item(ctx: Ctx, repo: Repository, kind: ItemKind, item_id: int) -> DeliberationItem:
    item = ctx.db.scalar(select(DeliberationItem).where(
        DeliberationItem.id == item_id, DeliberationItem.repo_id == repo.id,
        DeliberationItem.kind == kind.key)) if 0 < item_id < 2**31 else None
    if item is None:
        msg = f"{repo.full_name} has no {kind.key} row {item_id} (see its deliberation page)."
        raise NotFoundError(msg, field="item_id")
    return item


@page(router, "/repos/{org}/{name}/deliberation", template="deliberation.html",
      model=DeliberationData, name="deliberation", tags=["deliberation"],
      title=lambda d: f"Deliberation record of {d.repo.full_name}")
def deliberation_page(org: str, name: str, ctx: CtxDep) -> DeliberationData:
    """Values, conflicts and decisions, evidence, checklist and sign-offs."""
    repo = get_repo(ctx, org, name, "repo.read_gated")
    numbers = _audit_numbers(ctx, repo)
    rows = ctx.db.scalars(select(DeliberationItem).where(DeliberationItem.repo_id == repo.id)
                          .order_by(DeliberationItem.id)).all()
    sections = [
        _section(ctx, repo, kind, [item_out(repo, r, numbers.get(r.audit_id or 0))
                                   for r in rows if r.kind == kind.key])
        for kind in KINDS.values()
    ]
    return DeliberationData(repo=repo_summary(repo), sections=sections,
                            allowed=allowed_actions(ctx.actor, repo))


def _item_page(org: str, name: str, kind: ItemKind, item_id: int, ctx: Ctx) -> ItemData:
    repo = get_repo(ctx, org, name, "repo.read_gated")
    item = _item(ctx, repo, kind, item_id)
    numbers = _audit_numbers(ctx, repo)
    history = ctx.db.scalars(select(Activity).where(
        Activity.repo_id == repo.id, Activity.subject == f"{kind.key}:{item.id}")
        .order_by(Activity.id.desc()).limit(100)).all()
    out = item_out(repo, item, numbers.get(item.audit_id or 0))
    return ItemData(repo=repo_summary(repo), item=out, section=_section(ctx, repo, kind, [out]),
                    history=[activity_out(h) for h in history],
                    can_edit=kind.editable and can(ctx.actor, kind.action, repo),
                    can_delete=_may_delete(ctx, repo, kind, item))


# ---------------------------------------------------------------------------
# changes (shared by forms and the JSON API)


def _add(ctx: Ctx, repo: Repository, kind: ItemKind, raw: dict[str, Any]) -> DeliberationItem:
    require(ctx.actor, kind.action, repo)
    if kind.key == "signoff":
        role = check_text(raw.get("role"), "role", max_length=100, required=True)
        statement = check_text(raw.get("statement"), "statement", max_length=2000) or None
        data = signoff_data(role, statement, ctx.user.display_name)
    else:
        data = validate(kind, raw)
    now = utcnow()
    item = DeliberationItem(repo_id=repo.id, kind=kind.key, data=data, created_by=ctx.user.id,
                            created_at=now, updated_by=ctx.user.id, updated_at=now)
    ctx.db.add(item)
    ctx.db.flush()
    verb = "Signed off" if kind.key == "signoff" else f"Added {kind.noun}"
    ctx.log(f"deliberation.{kind.key}.add", f"{verb}: {summarise(kind, data)}", repo=repo,
            subject=f"{kind.key}:{item.id}")
    commit(ctx)
    return item


def _edit(ctx: Ctx, repo: Repository, kind: ItemKind, item: DeliberationItem,
          raw: dict[str, Any]) -> DeliberationItem:
    require(ctx.actor, kind.action, repo)
    if not kind.editable:
        msg = ("A sign-off cannot be edited: it records what a named person signed. Withdraw "
               "it and sign again.")
        raise ConflictError(msg, field="item_id")
    data = validate(kind, raw)
    if data != item.data:
        changed = sorted(k for k in set(data) | set(item.data) if data.get(k) != item.data.get(k))
        item.data = data
        item.updated_by, item.updated_at = ctx.user.id, utcnow()
        ctx.log(f"deliberation.{kind.key}.edit",
                f"Edited {kind.noun} ({', '.join(changed)}): {summarise(kind, data)}",
                repo=repo, subject=f"{kind.key}:{item.id}")
        commit(ctx)
    return item


def _may_delete(ctx: Ctx, repo: Repository, kind: ItemKind, item: DeliberationItem) -> bool:
    if kind.key == "signoff":
        own = ctx.user is not None and item.created_by == ctx.user.id
        return (own and can(ctx.actor, kind.action, repo)) or can(ctx.actor, "repo.admin", repo)
    return can(ctx.actor, kind.action, repo)


def _delete(ctx: Ctx, repo: Repository, kind: ItemKind, item: DeliberationItem) -> None:
    if not _may_delete(ctx, repo, kind, item):
        require(ctx.actor, kind.action, repo)
        msg = "Only the person who signed (or an owner) may withdraw a sign-off."
        raise PermissionDeniedError(msg, field="item_id")
    verb = "Withdrew a sign-off" if kind.key == "signoff" else f"Deleted {kind.noun}"
    ctx.log(f"deliberation.{kind.key}.delete", f"{verb}: {summarise(kind, item.data)}",
            repo=repo, subject=f"{kind.key}:{item.id}")
    ctx.db.delete(item)
    commit(ctx)


# ---------------------------------------------------------------------------
# HTML forms


def _section_url(repo: Repository, kind: ItemKind) -> str:
    return f"{repo_url(repo)}/deliberation#{kind.segment}"


@router.post("/repos/{org}/{name}/deliberation/{segment}", include_in_schema=False)
def add_form(org: str, name: str, segment: str, ctx: CtxDep) -> Response:
    """Add a row from the section's form."""
    repo = get_repo(ctx, org, name)
    kind = _kind(segment)
    _add(ctx, repo, kind, from_form(kind, ctx.form))
    return ctx.redirect(_section_url(repo, kind))


@router.post("/repos/{org}/{name}/deliberation/{segment}/{item_id}", include_in_schema=False)
def edit_form(org: str, name: str, segment: str, item_id: int, ctx: CtxDep) -> Response:
    """Save a row from its edit form."""
    repo = get_repo(ctx, org, name)
    kind = _kind(segment)
    _edit(ctx, repo, kind, _item(ctx, repo, kind, item_id), from_form(kind, ctx.form))
    return ctx.redirect(_section_url(repo, kind))


@router.post("/repos/{org}/{name}/deliberation/{segment}/{item_id}/delete",
             include_in_schema=False)
def delete_form(org: str, name: str, segment: str, item_id: int, ctx: CtxDep) -> Response:
    """Delete a row (or withdraw a sign-off)."""
    repo = get_repo(ctx, org, name)
    kind = _kind(segment)
    _delete(ctx, repo, kind, _item(ctx, repo, kind, item_id))
    return ctx.redirect(_section_url(repo, kind))


# ---------------------------------------------------------------------------
# JSON API: one typed endpoint per section


def _register(kind: ItemKind) -> None:
    base = f"/api/repos/{{org}}/{{name}}/deliberation/{kind.segment}"
    body_model = kind.body or SignOffCreate

    def item_page(org: str, name: str, item_id: int, ctx: CtxDep) -> ItemData:
        return _item_page(org, name, kind, item_id, ctx)

    item_page.__doc__ = f"One row of the {kind.title.lower()}, its edit form and its history."
    page(router, base.removeprefix("/api") + "/{item_id}", template="item.html",
         model=ItemData, name=f"deliberation_{kind.key}", tags=["deliberation"],
         title=lambda d: f"{d.section.title}: row {d.item.id}")(item_page)

    def create(org: str, name: str, body: Any, ctx: CtxDep) -> ItemOut:
        repo = get_repo(ctx, org, name)
        raw = body.model_dump(mode="json", exclude_none=True)
        item = _add(ctx, repo, kind, raw)
        return item_out(repo, item, None)

    create.__annotations__["body"] = Annotated[body_model, Body()]
    create.rule_field = kind.rule_field  # type: ignore[attr-defined]  # see _app._validation_error
    create.__doc__ = f"Add a row to the {kind.title.lower()} (role needed: see ACTIONS)."
    json_route(router, base, method="POST", model=ItemOut, status_code=201,
               name=f"api.{kind.key}_create", tags=["deliberation"])(create)

    if kind.editable:
        def update(org: str, name: str, item_id: int, body: Any, ctx: CtxDep) -> ItemOut:
            repo = get_repo(ctx, org, name)
            item = _edit(ctx, repo, kind, _item(ctx, repo, kind, item_id),
                         body.model_dump(mode="json", exclude_none=True))
            return item_out(repo, item, _audit_numbers(ctx, repo).get(item.audit_id or 0))

        update.__annotations__["body"] = Annotated[body_model, Body()]
        update.rule_field = kind.rule_field  # type: ignore[attr-defined]
        update.__doc__ = f"Replace a row of the {kind.title.lower()}."
        json_route(router, base + "/{item_id}", method="PUT", model=ItemOut,
                   name=f"api.{kind.key}_update", tags=["deliberation"])(update)

    def delete(org: str, name: str, item_id: int, ctx: CtxDep) -> Deleted:
        repo = get_repo(ctx, org, name)
        _delete(ctx, repo, kind, _item(ctx, repo, kind, item_id))
        return Deleted(deleted=f"{kind.key}:{item_id}")

    delete.__doc__ = ("Withdraw a sign-off (its signer or an owner)." if kind.key == "signoff"
                      else f"Delete a row of the {kind.title.lower()}.")
    json_route(router, base + "/{item_id}", method="DELETE", model=Deleted,
               name=f"api.{kind.key}_delete", tags=["deliberation"])(delete)


for _k in KINDS.values():
    _register(_k)


# ---------------------------------------------------------------------------
# activity


def _category(action: str) -> str:
    parts = action.split(".")
    if parts[0] == "deliberation" and len(parts) == 3:
        return parts[1]
    return "import" if action == "deliberation.import" else parts[0]


@page(router, "/repos/{org}/{name}/activity", template="activity.html", model=ActivityData,
      name="activity", tags=["deliberation"],
      title=lambda d: f"Activity on {d.repo.full_name}")
def activity_page(org: str, name: str, ctx: CtxDep) -> ActivityData:
    """Who did what, when, and who did the responsible-AI work."""
    repo = get_repo(ctx, org, name, "repo.read_gated")
    rows = ctx.db.scalars(select(Activity).where(Activity.repo_id == repo.id)
                          .order_by(Activity.created_at.desc(), Activity.id.desc())
                          .limit(5000)).all()
    people: dict[int | None, Contributor] = {}
    for row in rows:
        c = people.setdefault(row.user_id, Contributor(user=user_ref(row.user), counts={},
                                                       total=0))
        cat = _category(row.action)
        c.counts[cat] = c.counts.get(cat, 0) + 1
        c.total += 1
    contributors = sorted(people.values(), key=lambda c: (-c.total, c.user.username
                                                          if c.user else "~"))
    return ActivityData(repo=repo_summary(repo), contributors=contributors,
                        entries=[activity_out(r) for r in rows[:300]])

"""Organisations: create one, list them, see one, and manage its members' roles."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body
from fastapi.responses import Response
from sqlalchemy import func, select

from scrutiny.hub._content import commit, get_org
from scrutiny.hub._context import CtxDep, form_post, json_route, page, q
from scrutiny.hub._db import ROLES, Membership, Organisation, Repository, User, utcnow
from scrutiny.hub._errors import ConflictError, NotFoundError, ValidationFailedError
from scrutiny.hub._permissions import allowed_actions, can, require, role_in, visible_repos
from scrutiny.hub._present import me, org_ref, repo_summary, user_ref
from scrutiny.hub._schemas import (
    Deleted,
    FormData,
    MemberOut,
    MembersData,
    MemberSet,
    OrgCreate,
    OrgData,
    OrgListData,
    OrgRef,
)
from scrutiny.hub._validation import NAME_RE, check_name, check_text

router = APIRouter()


def _create(ctx: CtxDep, name: object, display: object, description: object) -> Organisation:
    require(ctx.actor, "org.create")
    clean = check_name(name, "name")
    if ctx.db.scalar(select(Organisation.id).where(Organisation.name == clean)) is not None:
        msg = f"name: the organisation {clean!r} exists; choose another name."
        raise ConflictError(msg,
                            field="name")
    org = Organisation(
        name=clean,
        display_name=check_text(display, "display_name", max_length=100) or clean,
        description=check_text(description, "description", max_length=2000),
        created_at=utcnow())
    ctx.db.add(org)
    ctx.db.flush()
    ctx.db.add(Membership(org_id=org.id, user_id=ctx.user.id, role="owner",
                          created_at=utcnow()))
    ctx.log("org.create", f"Created organisation {clean}", org=org)
    commit(ctx)
    return org


@page(router, "/orgs", template="orgs.html", model=OrgListData, name="orgs", tags=["orgs"],
      title=lambda d: "Organisations")
def orgs_page(ctx: CtxDep) -> OrgListData:
    """All organisations (organisations are public; their private repositories are not)."""
    rows = ctx.db.scalars(select(Organisation).order_by(Organisation.name).limit(1000)).all()
    return OrgListData(orgs=[org_ref(o) for o in rows])


@page(router, "/orgs/new", template="org_new.html", model=FormData, name="org_new",
      tags=["orgs"], title=lambda d: "New organisation")
def org_new_page(ctx: CtxDep) -> FormData:
    """The form to create an organisation (you become its owner)."""
    ctx.require_user()
    return FormData(action="/orgs/new", fields=["name", "display_name", "description"],
                    user=me(ctx.user))


@router.post("/orgs/new", include_in_schema=False)
@form_post("org_new.html", org_new_page, title="New organisation")
def org_new(ctx: CtxDep) -> Response:
    """Create an organisation from the form."""
    org = _create(ctx, ctx.field("name"), ctx.field("display_name"), ctx.field("description"))
    return ctx.redirect(f"/orgs/{q(org.name)}")


@json_route(router, "/api/orgs", method="POST", model=OrgRef, name="api.org_create",
            status_code=201, tags=["orgs"])
def org_create(body: Annotated[OrgCreate, Body()], ctx: CtxDep) -> OrgRef:
    """Create an organisation; the caller becomes its owner."""
    return org_ref(_create(ctx, body.name, body.display_name, body.description))


def _members(ctx: CtxDep, org: Organisation) -> list[MemberOut]:
    rows = ctx.db.scalars(select(Membership).join(User).where(Membership.org_id == org.id)
                          .order_by(User.username)).all()
    return [MemberOut(user=user_ref(m.user), role=m.role, since=m.created_at) for m in rows]


@page(router, "/orgs/{org}", template="org.html", model=OrgData, name="org", tags=["orgs"],
      title=lambda d: d.org.display_name)
def org_page(org: str, ctx: CtxDep) -> OrgData:
    """An organisation and the repositories you may see."""
    o = get_org(ctx, org)
    repos = ctx.db.scalars(select(Repository).where(Repository.org_id == o.id,
                                                    visible_repos(ctx.actor))
                           .order_by(Repository.updated_at.desc()).limit(500)).all()
    members = _members(ctx, o) if can(ctx.actor, "org.read_members", o) else None
    return OrgData(org=org_ref(o), repos=[repo_summary(r) for r in repos],
                   role=role_in(ctx.actor, o.id), allowed=allowed_actions(ctx.actor, o),
                   members=members)


@page(router, "/orgs/{org}/members", template="members.html", model=MembersData,
      name="members", tags=["orgs"], title=lambda d: f"Members of {d.org.name}")
def members_page(org: str, ctx: CtxDep) -> MembersData:
    """The members of an organisation and their roles (members and moderators only)."""
    o = get_org(ctx, org)
    require(ctx.actor, "org.read_members", o)
    return MembersData(org=org_ref(o), members=_members(ctx, o),
                       allowed=allowed_actions(ctx.actor, o), roles=list(ROLES))


def _set_member(ctx: CtxDep, o: Organisation, username: object, role: object) -> None:
    require(ctx.actor, "org.manage", o)
    if role not in ROLES:
        msg = f"role: expected one of {', '.join(ROLES)}; got {str(role)[:30]!r}."
        raise ValidationFailedError(msg, field="role")
    user = None
    if isinstance(username, str) and NAME_RE.match(username.strip().lower()):
        user = ctx.db.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None:
        msg = (
            f"username: no user {str(username)[:40]!r}. They must sign up "
                            "first."
        )
        raise NotFoundError(msg, field="username")
    row = ctx.db.scalar(select(Membership).where(Membership.org_id == o.id,
                                                 Membership.user_id == user.id))
    if row is not None and row.role == "owner" and role != "owner":
        _keep_an_owner(ctx, o)
    if row is None:
        ctx.db.add(Membership(org_id=o.id, user_id=user.id, role=role, created_at=utcnow()))
        ctx.log("org.member_add", f"Added {user.username} as {role}", org=o)
    elif row.role != role:
        ctx.log("org.member_role", f"Changed {user.username}'s role from {row.role} to {role}",
                org=o)
        row.role = str(role)
    commit(ctx)


def _keep_an_owner(ctx: CtxDep, o: Organisation) -> None:
    owners = ctx.db.scalar(select(func.count()).select_from(Membership).where(
        Membership.org_id == o.id, Membership.role == "owner")) or 0
    if owners <= 1:
        raise ConflictError("role: this is the organisation's last owner; make someone else "
                            "owner first.", field="role")


def _remove_member(ctx: CtxDep, o: Organisation, username: str) -> None:
    require(ctx.actor, "org.manage", o)
    row = ctx.db.scalar(select(Membership).join(User).where(
        Membership.org_id == o.id, User.username == username)) if NAME_RE.match(username) else None
    if row is None:
        msg = f"username: {username[:40]!r} is not a member of {o.name}."
        raise NotFoundError(msg,
                            field="username")
    if row.role == "owner":
        _keep_an_owner(ctx, o)
    ctx.log("org.member_remove", f"Removed {username} ({row.role})", org=o)
    ctx.db.delete(row)
    commit(ctx)


@router.post("/orgs/{org}/members", include_in_schema=False)
def member_form(org: str, ctx: CtxDep) -> Response:
    """Add a member or change a role (owners only)."""
    o = get_org(ctx, org)
    _set_member(ctx, o, ctx.field("username"), ctx.field("role"))
    return ctx.redirect(f"/orgs/{q(o.name)}/members")


@router.post("/orgs/{org}/members/{username}/remove", include_in_schema=False)
def member_remove_form(org: str, username: str, ctx: CtxDep) -> Response:
    """Remove a member (owners only)."""
    o = get_org(ctx, org)
    _remove_member(ctx, o, username)
    return ctx.redirect(f"/orgs/{q(o.name)}/members")


@json_route(router, "/api/orgs/{org}/members/{username}", method="PUT", model=MemberOut,
            name="api.member_set", tags=["orgs"])
def member_set(org: str, username: str, body: Annotated[MemberSet, Body()],
               ctx: CtxDep) -> MemberOut:
    """Add a member or set their role (owners only)."""
    o = get_org(ctx, org)
    _set_member(ctx, o, username, body.role)
    row = ctx.db.scalar(select(Membership).join(User).where(
        Membership.org_id == o.id, User.username == username.strip().lower()))
    assert row is not None
    return MemberOut(user=user_ref(row.user), role=row.role, since=row.created_at)


@json_route(router, "/api/orgs/{org}/members/{username}", method="DELETE", model=Deleted,
            name="api.member_remove", tags=["orgs"])
def member_remove(org: str, username: str, ctx: CtxDep) -> Deleted:
    """Remove a member (owners only)."""
    o = get_org(ctx, org)
    _remove_member(ctx, o, username)
    return Deleted(deleted=f"{o.name}/{username}")

"""Who may do what: the one permission function and the one visibility filter.

Every route asks :func:`can` (or :func:`require`, which raises the right
error) and lists repositories through :func:`visible_repos`; nothing else
decides access. Later features (gated access, moderation) extend these two.

Roles rank ``viewer < member < reviewer < maintainer < owner``; an action
needs a minimum role in the organisation that owns the target
(:data:`ACTIONS`). Site moderators may read everything and write nothing
they are not a member for. Read-scoped API tokens may only read. Private
content is answered with 404 to anyone who may not read it, so its existence
is never revealed.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import ColumnElement, false, or_, select, true

from scrutiny.hub._db import ROLES, Membership, Organisation, Repository
from scrutiny.hub._errors import AuthenticationError, NotFoundError, PermissionDeniedError
from scrutiny.hub._security import Actor

#: Rank of each role (higher includes lower).
RANK: Mapping[str, int] = {role: len(ROLES) - i for i, role in enumerate(ROLES)}

#: Minimum role per action; None means any signed-in user.
ACTIONS: Mapping[str, str | None] = {
    "repo.read": "viewer",  # public repositories: anyone, see can()
    "org.read_members": "viewer",
    "org.create": None,
    "org.manage": "owner",  # members and roles
    "repo.create": "maintainer",
    "repo.write": "maintainer",  # push, card edits, attachments
    "repo.admin": "owner",  # visibility, deletion
    "deliberation.manage": "maintainer",  # values register, value conflicts and decisions
    "deliberation.review": "reviewer",  # checklist
    "deliberation.signoff": "reviewer",  # sign-offs in a named role
    "deliberation.evidence": "member",  # qualitative evidence
}

#: Actions a read-scoped token, an anonymous visitor or a moderator may perform.
READ_ACTIONS = frozenset({"repo.read", "org.read_members"})


def role_in(actor: Actor, org_id: int) -> str | None:
    """The actor's role in an organisation (None: not a member)."""
    return actor.memberships.get(org_id)


def _org_id(target: Repository | Organisation | None) -> int | None:
    if isinstance(target, Repository):
        return target.org_id
    if isinstance(target, Organisation):
        return target.id
    return None


def can(actor: Actor, action: str, target: Repository | Organisation | None = None) -> bool:
    """Whether ``actor`` may perform ``action`` on ``target``.

    Parameters
    ----------
    actor : Actor
        Who is asking.
    action : str
        One of :data:`ACTIONS`.
    target : Repository, Organisation or None
        What the action is on (None for site-wide actions such as ``org.create``).

    Returns
    -------
    bool
        The decision.
    """
    if action not in ACTIONS:
        msg = f"unknown action {action!r}; known: {sorted(ACTIONS)}"
        raise KeyError(msg)
    reading = action in READ_ACTIONS
    if action == "repo.read" and isinstance(target, Repository) and not target.private:
        return True
    if actor.user is None:
        return False
    if not reading and actor.scope != "write":
        return False
    if reading and actor.is_moderator:
        return True
    needed = ACTIONS[action]
    if needed is None:
        return True
    org_id = _org_id(target)
    role = role_in(actor, org_id) if org_id is not None else None
    return role is not None and RANK[role] >= RANK[needed]


def require(actor: Actor, action: str, target: Repository | Organisation | None = None) -> None:
    """Raise unless ``actor`` may perform ``action`` on ``target``.

    Raises
    ------
    NotFoundError
        The target is a repository the actor may not even read.
    AuthenticationError
        Nobody is signed in.
    PermissionDeniedError
        Signed in, but the role or the token's scope falls short; the message
        names the role needed.
    """
    if can(actor, action, target):
        return
    if isinstance(target, Repository) and not can(actor, "repo.read", target):
        raise NotFoundError(_not_found_repo(target.org.name, target.name), field="repo")
    if actor.user is None:
        msg = (f"Sign in to do this ({action}). Browsers: use /signin. API clients: send "
               "'Authorization: Bearer <token>' with a token from /account.")
        raise AuthenticationError(msg)
    if action not in READ_ACTIONS and actor.scope != "write":
        msg = (f"This API token has 'read' scope; {action} needs a token with 'write' scope. "
               "Create one at /account.")
        raise PermissionDeniedError(msg, field="token")
    needed = ACTIONS[action]
    org_id = _org_id(target)
    role = role_in(actor, org_id) if org_id is not None else None
    where = f" in organisation {_org_name(target)!r}" if target is not None else ""
    msg = (f"{action} needs the role {needed!r} or higher{where}; your role is "
           f"{role or 'none (not a member)'}. Ask an owner of the organisation.")
    raise PermissionDeniedError(msg, field="role")


def _org_name(target: Repository | Organisation | None) -> str:
    if isinstance(target, Repository):
        return target.org.name
    return target.name if target is not None else ""


def _not_found_repo(org: str, name: str) -> str:
    return (f"No repository {org}/{name!s} here, or it is private and you may not see it. "
            "Check the name, or sign in with an account that is a member of the organisation.")


def visible_repos(actor: Actor) -> ColumnElement[bool]:
    """A WHERE clause keeping only the repositories ``actor`` may read.

    Public repositories for everyone; private ones for members of their
    organisation (any role) and for site moderators.
    """
    if actor.is_moderator:
        return true()
    public = Repository.private.is_(false())
    if actor.user is None:
        return public
    mine = select(Membership.org_id).where(Membership.user_id == actor.user.id)
    return or_(public, Repository.org_id.in_(mine))


def allowed_actions(actor: Actor, target: Repository | Organisation) -> list[str]:
    """The actions ``actor`` may perform on ``target`` (shown to clients, drives the forms)."""
    return [a for a in ACTIONS if a != "org.create" and can(actor, a, target)]

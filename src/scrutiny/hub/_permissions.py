"""Who may do what: the one permission function and the one visibility filter.

Every route asks :func:`can` (or :func:`require`, which raises the right
error) and lists repositories through :func:`visible_repos`; nothing else
decides access. Later features (gated access, moderation) extend these two.

Roles rank ``viewer < member < reviewer < maintainer < owner``; an action
needs a minimum role in the organisation that owns the target
(:data:`ACTIONS`). Site moderators may read everything and write nothing
they are not a member for. A gated repository's content (``repo.read_gated``)
needs membership of its organisation, moderation, or an accepted access
request (:mod:`scrutiny.hub._gating`). Read-scoped API tokens may only read. Private
content is answered with 404 to anyone who may not read it, so its existence
is never revealed.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import ColumnElement, and_, false, or_, select, true

from scrutiny.hub._community import RepoModeration, moderation_state
from scrutiny.hub._db import ROLES, Membership, Organisation, Repository
from scrutiny.hub._errors import AuthenticationError, NotFoundError, PermissionDeniedError
from scrutiny.hub._security import Actor

#: Rank of each role (higher includes lower).
RANK: Mapping[str, int] = {role: len(ROLES) - i for i, role in enumerate(ROLES)}

#: Minimum role per action; None means any signed-in user.
ACTIONS: Mapping[str, str | None] = {
    "repo.read": "viewer",  # public repositories: anyone, see can()
    "repo.read_gated": "viewer",  # files, audits...: readers, once a gated request is accepted
    "repo.manage_access": "maintainer",  # review access requests of a gated repository
    "repo.request_access": None,  # ask for access to a gated repository (readable repo)
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
    "discussion.create": None,  # open a discussion or a card change proposal (readable repo)
    "comment.create": None,  # comment on a discussion (readable repo)
    "report.create": None,  # report a repository, a discussion or a comment (readable repo)
    "discussion.moderate": "maintainer",  # lock, hide, close (site moderators too)
    "proposal.review": "maintainer",  # merge or close card change proposals
    "moderation.log": "owner",  # read the moderation log (site moderators too)
    "moderation.appeal": "owner",  # appeal a moderation action
    "moderation.act": "moderator",  # graduated responses, the queue: site moderators only
}

#: Actions only site moderators may perform (whatever their roles).
MODERATOR_ACTIONS = frozenset({"moderation.act"})
#: Actions site moderators may perform on any repository besides the role in ACTIONS.
MODERATORS_TOO = frozenset({"discussion.moderate", "moderation.log"})
#: What remains possible on a repository a moderator disabled (all else is refused).
WHILE_DISABLED = frozenset({"repo.read", "moderation.log", "moderation.appeal",
                            "moderation.act"})

#: Actions a read-scoped token, an anonymous visitor or a moderator may perform.
READ_ACTIONS = frozenset({"repo.read", "repo.read_gated", "org.read_members"})


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
    if action == "repo.read_gated":
        return _read_gated(actor, target)
    reading = action in READ_ACTIONS
    if isinstance(target, Repository) and moderation_state(target) == "disabled":
        if action not in WHILE_DISABLED:
            return False
        if action == "repo.read":
            return actor.is_moderator or role_in(actor, target.org_id) == "owner"
    if action == "repo.read" and isinstance(target, Repository) and not target.private:
        return True
    if actor.user is None:
        return False
    if not reading and actor.scope != "write":
        return False
    if reading and actor.is_moderator:
        return True
    if action in MODERATOR_ACTIONS:
        return actor.is_moderator and (not isinstance(target, Repository)
                                       or can(actor, "repo.read", target))
    if action in MODERATORS_TOO and actor.is_moderator:
        return True
    needed = ACTIONS[action]
    if needed is None:
        return not isinstance(target, Repository) or can(actor, "repo.read", target)
    org_id = _org_id(target)
    role = role_in(actor, org_id) if org_id is not None else None
    return role is not None and RANK[role] >= RANK[needed]


def _read_gated(actor: Actor, target: Repository | Organisation | None) -> bool:
    """Readers of a repository that is not gated; members, moderators and accepted users else."""
    from scrutiny.hub._gating import gate_mode

    if not isinstance(target, Repository) or not can(actor, "repo.read", target):
        return False
    if gate_mode(target) is None or actor.is_moderator or role_in(actor, target.org_id):
        return True
    return actor.user is not None and actor.gate_states.get(target.id) == "accepted"


def _gated_message(actor: Actor, target: Repository) -> str:
    url = f"/repos/{target.org.name}/{target.name}/access"
    state = actor.gate_states.get(target.id) if actor.user is not None else None
    if actor.user is None:
        return (f"{target.full_name} is gated: its files, audits and results are shown to "
                f"people whose access request was accepted. Sign in and request access at "
                f"{url}.")
    if state == "pending":
        return (f"{target.full_name} is gated and your access request is pending; the "
                f"repository's maintainers review it. See {url}.")
    if state == "rejected":
        return (f"{target.full_name} is gated and your access request was rejected; it "
                f"cannot be made again. See {url} for the reason, if one was given.")
    return f"{target.full_name} is gated: request access at {url} to see its content."


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
    if action == "repo.read_gated" and isinstance(target, Repository):
        error = AuthenticationError if actor.user is None else PermissionDeniedError
        raise error(_gated_message(actor, target), field="access")
    if actor.user is None:
        msg = (f"Sign in to do this ({action}). Browsers: use /signin. API clients: send "
               "'Authorization: Bearer <token>' with a token from /account.")
        raise AuthenticationError(msg)
    if action not in READ_ACTIONS and actor.scope != "write":
        msg = (f"This API token has 'read' scope; {action} needs a token with 'write' scope. "
               "Create one at /account.")
        raise PermissionDeniedError(msg, field="token")
    if isinstance(target, Repository) and moderation_state(target) == "disabled":
        msg = (f"{target.full_name} was disabled by a moderator and is read-only; {action} is "
               "not possible. Its owners can read the moderation log and appeal at "
               f"/repos/{target.full_name}/moderation.")
        raise PermissionDeniedError(msg, field="repo")
    if action in MODERATOR_ACTIONS:
        msg = (f"{action} is for site moderators only; your account is not a moderator. "
               "Report the content instead (it goes to the moderation queue).")
        raise PermissionDeniedError(msg, field="role")
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
    organisation (any role) and for site moderators. Moderation narrows it:
    a repository with reduced visibility is listed only for members and
    moderators (its URL still works), a disabled one only for the owners of
    its organisation and moderators.
    """
    if actor.is_moderator:
        return true()
    public = Repository.private.is_(false())
    flagged = Repository.id.not_in(select(RepoModeration.repo_id)
                                   .where(RepoModeration.state != "normal"))
    if actor.user is None:
        return and_(public, flagged)
    disabled = Repository.id.not_in(select(RepoModeration.repo_id)
                                    .where(RepoModeration.state == "disabled"))
    mine = select(Membership.org_id).where(Membership.user_id == actor.user.id)
    owned = mine.where(Membership.role == "owner")
    return or_(and_(public, flagged), and_(Repository.org_id.in_(mine), disabled),
               Repository.org_id.in_(owned))


def allowed_actions(actor: Actor, target: Repository | Organisation) -> list[str]:
    """The actions ``actor`` may perform on ``target`` (shown to clients, drives the forms)."""
    return [a for a in ACTIONS if a != "org.create" and can(actor, a, target)]

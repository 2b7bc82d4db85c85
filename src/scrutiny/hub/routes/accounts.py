"""Accounts: sign-up, sign-in, sign-out, the account page with API tokens, user profiles.

Every sign-in starts a brand-new session and deletes the one the browser
brought (no session fixation).
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response
from sqlalchemy import delete, select

from scrutiny.hub._context import CtxDep, form_post, page
from scrutiny.hub._db import Activity, ApiToken, Membership, Repository, User, utcnow
from scrutiny.hub._errors import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationFailedError,
)
from scrutiny.hub._permissions import can, visible_repos
from scrutiny.hub._present import activity_out, me, org_ref, user_ref
from scrutiny.hub._schemas import AccountData, FormData, MemberOrg, TokenOut, UserData
from scrutiny.hub._security import (
    PRESESSION_COOKIE,
    SESSION_COOKIE,
    start_session,
)
from scrutiny.hub._validation import MAX_PASSWORD, MIN_PASSWORD, NAME_RE, check_name, check_text

router = APIRouter()


def _next(value: object) -> str:
    """A safe place to go after sign-in: a local path only (no open redirect)."""
    if isinstance(value, str) and value.startswith("/") and not value.startswith("//") and (
            "\\" not in value) and len(value) < 500:
        return value
    return "/account"


def _signed_in(ctx: CtxDep, user: User) -> Response:
    """Start a fresh session (the old one is deleted) and go on."""
    token = start_session(ctx.db, user, ctx.hub.settings,
                          ctx.request.cookies.get(SESSION_COOKIE))
    ctx.db.commit()
    response = ctx.redirect(_next(ctx.field("next")))
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="lax",
                        secure=ctx.hub.settings.secure_cookies, path="/",
                        max_age=ctx.hub.settings.session_days * 86400)
    response.delete_cookie(PRESESSION_COOKIE, path="/")
    return response


def _password(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise ValidationFailedError("password: required; fill it in.", field="password")
    if "\x00" in value:
        raise ValidationFailedError("password: NUL characters are not allowed.",
                                    field="password")
    if len(value) > MAX_PASSWORD:
        msg = f"password: {len(value)} characters; at most {MAX_PASSWORD} are accepted."
        raise ValidationFailedError(msg, field="password")
    return value


@page(router, "/signup", template="signup.html", model=FormData, name="signup",
      tags=["accounts"], title=lambda d: "Sign up")
def signup_page(ctx: CtxDep) -> FormData:
    """The sign-up form."""
    return FormData(action="/signup", fields=["username", "display_name", "password"],
                    user=me(ctx.user))


@router.post("/signup", include_in_schema=False)
@form_post("signup.html", signup_page, title="Sign up")
def signup(ctx: CtxDep) -> Response:
    """Create an account and sign in."""
    if not ctx.hub.settings.allow_signup:
        msg = "Sign-up is closed on this hub; ask its operator for an account."
        raise PermissionDeniedError(msg)
    username = check_name(ctx.field("username"), "username")
    display = check_text(ctx.field("display_name"), "display_name", max_length=100) or username
    password = _password(ctx.field("password"))
    if len(password) < MIN_PASSWORD:
        msg = (f"password: {len(password)} characters; use at least {MIN_PASSWORD} (a "
               "passphrase of a few words is easiest to remember).")
        raise ValidationFailedError(msg, field="password")
    if ctx.db.scalar(select(User.id).where(User.username == username)) is not None:
        msg = f"username: {username!r} is taken; choose another one."
        raise ConflictError(msg, field="username")
    user = User(username=username, display_name=display,
                password_hash=ctx.hub.hasher.hash(password), is_moderator=False,
                created_at=utcnow())
    ctx.db.add(user)
    ctx.db.flush()
    return _signed_in(ctx, user)


@page(router, "/signin", template="signin.html", model=FormData, name="signin",
      tags=["accounts"], title=lambda d: "Sign in")
def signin_page(ctx: CtxDep) -> FormData:
    """The sign-in form."""
    return FormData(action="/signin", fields=["username", "password", "next"],
                    user=me(ctx.user))


@router.post("/signin", include_in_schema=False)
@form_post("signin.html", signin_page, title="Sign in")
def signin(ctx: CtxDep) -> Response:
    """Check the password and start a new session (any session the browser had is dropped)."""
    from scrutiny.hub._ratelimit import check_rate

    client = ctx.request.client
    check_rate(ctx.hub, "signin", client.host if client else "unknown")
    username = ctx.field("username")
    password = _password(ctx.field("password"))
    user = None
    if isinstance(username, str) and NAME_RE.match(username.strip().lower()):
        user = ctx.db.scalar(select(User).where(User.username == username.strip().lower()))
    if not ctx.hub.hasher.verify(user.password_hash if user else None, password) or user is None:
        msg = "password: wrong username or password. Check both and try again."
        raise AuthenticationError(msg, field="password")
    return _signed_in(ctx, user)


@router.post("/signout", include_in_schema=False)
def signout(ctx: CtxDep) -> Response:
    """End the session."""
    if ctx.actor.session_id is not None:
        from scrutiny.hub._db import UserSession

        ctx.db.execute(delete(UserSession).where(UserSession.id == ctx.actor.session_id))
        ctx.db.commit()
    response = ctx.redirect("/")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def account_data(ctx: CtxDep, new: str | None = None) -> AccountData:
    """The account page's data (``new``: a token just created, shown once)."""
    user = ctx.require_user()
    rows = ctx.db.scalars(select(Membership).where(Membership.user_id == user.id)).all()
    tokens = ctx.db.scalars(select(ApiToken).where(ApiToken.user_id == user.id)
                            .order_by(ApiToken.id)).all()
    return AccountData(
        user=me(user), memberships=[MemberOrg(org=org_ref(m.org), role=m.role) for m in rows],
        tokens=[TokenOut.model_validate(t) for t in tokens], new_token=new)


@page(router, "/account", template="account.html", model=AccountData, name="account",
      tags=["accounts"], title=lambda d: "Your account")
def account(ctx: CtxDep) -> AccountData:
    """The signed-in user's organisations, roles and API tokens."""
    return account_data(ctx)


@page(router, "/users/{username}", template="user.html", model=UserData, name="user",
      tags=["accounts"], title=lambda d: d.user.display_name)
def user_page(username: str, ctx: CtxDep) -> UserData:
    """A user's profile: who did what on the repositories you may see."""
    user = None
    if NAME_RE.match(username):
        user = ctx.db.scalar(select(User).where(User.username == username))
    if user is None:
        msg = f"No user {username[:40]!r}."
        raise NotFoundError(msg, field="username")
    shared = set(ctx.actor.memberships)
    see_all = ctx.actor.is_moderator or (ctx.user is not None and ctx.user.id == user.id)
    orgs = [org_ref(m.org) for m in ctx.db.scalars(
        select(Membership).where(Membership.user_id == user.id)).all()
        if see_all or m.org_id in shared]
    rows = ctx.db.execute(
        select(Activity, Repository).join(Repository, Activity.repo_id == Repository.id)
        .where(Activity.user_id == user.id, visible_repos(ctx.actor))
        .order_by(Activity.created_at.desc(), Activity.id.desc()).limit(200)).all()
    rows = [(a, r) for a, r in rows if can(ctx.actor, "repo.read_gated", r)]  # gated: hidden
    counts: dict[str, int] = {}
    for act, _ in rows:
        counts[act.action] = counts.get(act.action, 0) + 1
    return UserData(user=user_ref(user), orgs=orgs, contributions=counts,
                    activity=[activity_out(a, r.full_name) for a, r in rows[:50]])

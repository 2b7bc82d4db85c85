"""Per-request context, the dependencies that build it, and the page/JSON-twin helper.

:func:`get_ctx` resolves who is asking (bearer token, session cookie, or
nobody), checks the CSRF token of every state-changing request a cookie
authenticates, and hands routes a :class:`Ctx`. :func:`page` registers one
view function twice: ``GET /x`` renders its template, ``GET /api/x`` answers
``{"ok": true, "data": ...}`` with the same data.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData as StarletteForm

from scrutiny.hub._db import (
    POOL_OVERFLOW,
    POOL_SIZE,
    Activity,
    Membership,
    Organisation,
    Repository,
    utcnow,
)
from scrutiny.hub._errors import AuthenticationError, HubError, PermissionDeniedError
from scrutiny.hub._schemas import ErrorEnvelope, Ok
from scrutiny.hub._security import (
    CSRF_FIELD,
    CSRF_HEADER,
    PRESESSION_COOKIE,
    Actor,
    csrf_token,
    csrf_valid,
    new_token,
    session_user,
    token_user,
)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MIB = 1024 * 1024

#: Error statuses documented on every JSON route (all answer the error envelope).
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorEnvelope, "description": desc}
    for status, desc in {
        400: "Bad request (malformed input, e.g. a file name that is a path)",
        401: "Not signed in, or the API token is invalid",
        403: "The role or the token's scope does not allow it, or the CSRF check failed",
        404: "No such thing, or it is private",
        409: "Conflicts with the current state",
        413: "Upload or request body too large",
        422: "A value breaks a rule; the error names the field",
        429: "Too many reports, comments or sign-in attempts; see the Retry-After header",
    }.items()
}


def get_hub(request: Request) -> Any:
    """The app's :class:`~scrutiny.hub._app.Hub` (settings, engine, blobs, templates)."""
    return request.app.state.hub


def get_db(request: Request) -> Iterator[Session]:
    """A database session for the request."""
    with get_hub(request).sessions() as db:
        yield db


#: The request's database session; at most as many requests hold one at once as the
#: pool has connections. Waiting requests hold neither a worker thread nor a connection.
#: Without the limit, a burst of more concurrent requests than worker threads (40) filled
#: every thread with requests waiting for a connection, while the requests holding the
#: connections waited for a thread to go on: nothing moved until SQLAlchemy's 30 s pool
#: timeout, then those requests failed with 500 (found by ``benchmarks/bench_hub_load.py``
#: with 100 users on PostgreSQL).
DbDep = Annotated[Session, Depends(get_db, max_concurrency=POOL_SIZE + POOL_OVERFLOW)]


async def form_body(request: Request) -> StarletteForm | None:
    """The parsed form of a state-changing form request (for its CSRF field), else None."""
    if request.method in SAFE_METHODS:
        return None
    ctype = request.headers.get("content-type", "")
    if ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        return await request.form(max_files=100, max_fields=200, max_part_size=2 * MIB)
    return None


@dataclass
class Ctx:
    """Everything a route needs: request, database, hub, and who is asking."""

    request: Request
    db: Session
    hub: Any
    actor: Actor
    form: StarletteForm | None = None
    new_presession: str | None = None

    @property
    def user(self) -> Any:
        """The signed-in user, or None."""
        return self.actor.user

    def require_user(self) -> Any:
        """The signed-in user; raise 401 for anonymous visitors."""
        if self.actor.user is None:
            msg = "Sign in first (/signin), or send an API token as 'Authorization: Bearer'."
            raise AuthenticationError(msg)
        return self.actor.user

    def csrf(self) -> str:
        """The CSRF token for forms on this page (sets a pre-session cookie if needed)."""
        if not self.actor.csrf_binding:
            self.new_presession = new_token()
            self.actor.csrf_binding = self.new_presession
        return csrf_token(self.hub.settings.secret_key, self.actor.csrf_binding)

    def field(self, name: str) -> Any:
        """A form field's value (None when absent)."""
        return None if self.form is None else self.form.get(name)

    def render(self, template: str, data: Any, *, status: int = 200,
               title: str | None = None, page_path: str | None = None,
               form_error: HubError | None = None,
               form_values: dict[str, str] | None = None) -> HTMLResponse:
        """Render a page; ``data`` is the same object the JSON twin answers.

        ``page_path`` is the page's own address when a form post renders it;
        ``form_error`` and ``form_values`` re-show a form with what went wrong
        and what was typed (see :func:`form_post`).
        """
        from scrutiny.hub._present import me

        path = page_path or self.request.url.path
        query = "" if page_path else self.request.url.query
        api = "/api" + path + (f"?{query}" if query else "")
        html = self.hub.templates.get_template(template).render(
            data=data, me=me(self.user), csrf_token=self.csrf, title=title,
            site_name=self.hub.settings.site_name, path=path, api_url=api,
            request=self.request,
            form_error=None if form_error is None else {
                "message": form_error.message, "field": form_error.field,
                "code": form_error.code},
            form_values=form_values or {},
        )
        response = HTMLResponse(html, status_code=status)
        self.set_cookies(response)
        return response

    def set_cookies(self, response: Any) -> None:
        """Set the pre-session cookie if this request created one."""
        if self.new_presession:
            response.set_cookie(PRESESSION_COOKIE, self.new_presession, httponly=True,
                                samesite="lax", secure=self.hub.settings.secure_cookies,
                                path="/")

    def redirect(self, url: str) -> RedirectResponse:
        """303 See Other (after a successful form post)."""
        response = RedirectResponse(url, status_code=303)
        self.set_cookies(response)
        return response

    def log(self, action: str, summary: str, *, org: Organisation | None = None,
            repo: Repository | None = None, subject: str | None = None) -> None:
        """Add a line to the activity log (committed with the change)."""
        org_id = repo.org_id if repo is not None else org.id if org is not None else None
        assert org_id is not None
        self.db.add(Activity(org_id=org_id, repo_id=repo.id if repo else None,
                             user_id=self.user.id if self.user else None, action=action,
                             subject=subject, summary=summary[:500], created_at=utcnow()))


def _resolve_actor(request: Request, db: Session) -> Actor:
    auth = request.headers.get("authorization")
    if auth is not None:
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            msg = ("Authorization header: expected 'Bearer <token>'. Create a token at "
                   "/account.")
            raise AuthenticationError(msg, field="Authorization")
        row = token_user(db, token.strip())
        if row is None:
            msg = ("Authorization header: the API token is not valid (unknown or revoked). "
                   "Create a new one at /account.")
            raise AuthenticationError(msg, field="Authorization")
        actor = Actor(user=row.user, via="token", scope=row.scope)
    else:
        from scrutiny.hub._security import SESSION_COOKIE

        cookie = request.cookies.get(SESSION_COOKIE)
        session = session_user(db, cookie) if cookie else None
        if session is not None:
            actor = Actor(user=session.user, via="session", session_id=session.id,
                          csrf_binding=session.token_hash)
        else:
            actor = Actor(csrf_binding=request.cookies.get(PRESESSION_COOKIE) or "")
    if actor.user is not None:
        rows = db.execute(select(Membership.org_id, Membership.role)
                          .where(Membership.user_id == actor.user.id)).all()
        actor.memberships = {org_id: role for org_id, role in rows}
        from scrutiny.hub._gating import gate_states

        actor.gate_states = gate_states(db, actor.user.id)
    return actor


def get_ctx(
    request: Request,
    db: DbDep,
    form: Annotated[StarletteForm | None, Depends(form_body)],
) -> Ctx:
    """Build the request's :class:`Ctx`; enforce CSRF on cookie-authenticated writes."""
    hub = get_hub(request)
    actor = _resolve_actor(request, db)
    request.state.actor = actor
    if request.method not in SAFE_METHODS and actor.via != "token":
        anonymous_api = actor.user is None and request.url.path.startswith("/api/")
        sent = request.headers.get(CSRF_HEADER)
        if sent is None and form is not None:
            value = form.get(CSRF_FIELD)
            sent = value if isinstance(value, str) else None
        if not anonymous_api and not csrf_valid(hub.settings.secret_key, actor.csrf_binding,
                                                sent):
            msg = ("csrf_token: the form's security token is missing or expired (this stops "
                   "other sites from posting in your name). Reload the page and submit again; "
                   "API clients should use a bearer token.")
            raise PermissionDeniedError(msg, field="csrf_token")
    return Ctx(request, db, hub, actor, form)


CtxDep = Annotated[Ctx, Depends(get_ctx)]


def page(router: APIRouter, path: str, *, template: str, model: type, name: str,
         tags: list[str] | None = None, title: Callable[[Any], str] | None = None,
         ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a view as an HTML page at ``path`` and its JSON twin at ``/api`` + ``path``.

    The view takes FastAPI parameters (including ``ctx: CtxDep``) and returns
    an instance of ``model``; the page renders ``template`` with it as
    ``data``, the twin answers ``{"ok": true, "data": ...}``.
    """

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def as_json(*args: Any, **kwargs: Any) -> dict[str, Any]:
            return {"ok": True, "data": view(*args, **kwargs)}

        @functools.wraps(view)
        def as_html(*args: Any, **kwargs: Any) -> HTMLResponse:
            data = view(*args, **kwargs)
            return kwargs["ctx"].render(template, data,
                                        title=title(data) if title else None)

        api_path = "/api" + path if path != "/" else "/api/"
        router.add_api_route(api_path, as_json, methods=["GET"], response_model=Ok[model],
                             responses=ERROR_RESPONSES, name=f"api.{name}",
                             tags=tags or ["pages"], summary=(view.__doc__ or name)
                             .strip().splitlines()[0])
        router.add_api_route(path, as_html, methods=["GET"], include_in_schema=False,
                             response_class=HTMLResponse, name=name)
        return view

    return decorate


#: statuses of errors a person can fix in the form itself (re-shown with the message)
FORM_ERRORS = frozenset({400, 401, 409, 413, 422})
#: form fields never sent back into a re-shown form
NOT_ECHOED = frozenset({"password", "csrf_token"})
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def form_post(template: str, view: Callable[..., Any], *, title: str
              ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate a browser form's POST handler: on an error the person can correct, the form.

    The error keeps its status (409, 422...) and JSON clients still get the
    error envelope; a browser gets ``template`` rendered with the GET page's
    data (``view`` called with the handler's own arguments), the error's message
    and field, and the values it sent (never passwords or the CSRF token;
    control characters dropped), so nothing typed is lost.
    """

    def decorate(handler: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(handler)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            ctx: Ctx = kwargs["ctx"]
            try:
                return handler(*args, **kwargs)
            except HubError as exc:
                from scrutiny.hub._app import wants_json

                if exc.status not in FORM_ERRORS or wants_json(ctx.request):
                    raise
                ctx.db.rollback()
                values = {k: _CONTROL.sub("", v) for k, v in (ctx.form or {}).items()
                          if k not in NOT_ECHOED and isinstance(v, str)}
                return ctx.render(template, view(*args, **kwargs), status=exc.status,
                                  title=title,
                                  page_path=ctx.request.url.path, form_error=exc,
                                  form_values=values)

        return wrapper

    return decorate


def json_route(router: APIRouter, path: str, *, method: str, model: type, name: str,
               status_code: int = 200, tags: list[str] | None = None,
               ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a JSON write endpoint whose view returns the data of ``Ok[model]``."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def endpoint(*args: Any, **kwargs: Any) -> dict[str, Any]:
            return {"ok": True, "data": view(*args, **kwargs)}

        router.add_api_route(path, endpoint, methods=[method], response_model=Ok[model],
                             responses=ERROR_RESPONSES, name=name, status_code=status_code,
                             tags=tags or ["write"], summary=(view.__doc__ or name)
                             .strip().splitlines()[0])
        return view

    return decorate


def back_url(request: Request, default: str = "/") -> str:
    """Where an error page links back to: the same-site referer, else ``default``."""
    from urllib.parse import urlsplit

    ref = request.headers.get("referer")
    if ref:
        parts = urlsplit(ref)
        if parts.netloc in ("", request.url.netloc) and parts.path.startswith("/"):
            return parts.path + (f"?{parts.query}" if parts.query else "")
    return default


def q(value: str) -> str:
    """URL-quote a path segment."""
    return quote(value, safe="")

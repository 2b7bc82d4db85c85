"""``create_app``: the hub's FastAPI application, its middleware and its error handlers."""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from scrutiny import __version__
from scrutiny.exceptions import ScrutinyError
from scrutiny.hub._errors import STATUS_CODES, HubError, PayloadTooLargeError, error_envelope
from scrutiny.hub._settings import HubSettings
from scrutiny.hub._validation import loc_path

logger = logging.getLogger(__name__)
HERE = Path(__file__).parent

#: The pages' Content-Security-Policy: only the hub's own scripts, styles and images.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
       "frame-ancestors 'none'; form-action 'self'")
#: Uploaded HTML reports are shown in a sandbox: no scripts, no same-origin access, no forms.
REPORT_CSP = ("sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
              "font-src data:; frame-ancestors 'none'")


@dataclass
class Hub:
    """What the routes share: settings, database, blob store, password hasher, templates."""

    settings: HubSettings
    engine: Engine
    sessions: sessionmaker[Any]
    blobs: Any
    hasher: Any
    templates: Any


@functools.lru_cache(maxsize=1)
def _templates() -> Any:
    """The Jinja environment (shared by every app: the templates are package files)."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True, trim_blocks=True, lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
        auto_reload=False,  # package files: they change only with an upgrade (and a restart)
    )
    env.filters["filesize"] = _filesize
    env.filters["when"] = lambda d: d.strftime("%Y-%m-%d %H:%M UTC") if d else ""
    env.filters["pct"] = lambda x: f"{x:.0%}" if isinstance(x, int | float) else "–"
    env.filters["num"] = lambda x: f"{x:.3f}" if isinstance(x, int | float) else "–"
    env.filters["sig"] = lambda x: f"{x:.3g}" if isinstance(x, int | float) else "–"
    return env


def _filesize(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"  # pragma: no cover


# ---------------------------------------------------------------------------
# middleware (pure ASGI)


class SecurityHeaders:
    """Add the CSP and other protective headers to every response (unless one set its own)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                extra = {
                    b"content-security-policy": CSP.encode(),
                    b"x-content-type-options": b"nosniff",
                    b"x-frame-options": b"DENY",
                    b"referrer-policy": b"same-origin",
                    b"cross-origin-opener-policy": b"same-origin",
                    b"cache-control": b"public, max-age=3600" if static else b"no-store",
                }
                headers += [(k, v) for k, v in extra.items() if k not in names]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyLimit:
    """Refuse request bodies over the settings' ``max_request_bytes`` with 413."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    def _error(self, limit: int) -> PayloadTooLargeError:
        msg = (f"The request body is larger than the hub's limit of {limit} bytes. Send "
               "fewer or smaller files, or ask the operator to raise "
               "SCRUTINY_HUB_MAX_REQUEST_BYTES.")
        return PayloadTooLargeError(msg, field="body")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = scope["app"].state.hub.settings.max_request_bytes
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None:
            try:
                too_big = int(declared) > limit
            except ValueError:
                too_big = False
            if too_big:
                response = error_response(Request(scope), self._error(limit))
                await response(scope, receive, send)
                return
        seen = 0
        overflow = False
        answered = False

        async def counting_receive() -> Message:
            nonlocal seen, overflow
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    overflow = True  # the app sees a disconnect; the client gets the 413
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal answered
            if not overflow:
                await send(message)
            elif not answered:
                answered = True
                await error_response(Request(scope), self._error(limit))(scope, receive, send)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not overflow:
                raise
            if not answered:
                await error_response(Request(scope), self._error(limit))(scope, receive, send)


# ---------------------------------------------------------------------------
# errors


def wants_json(request: Request) -> bool:
    """JSON for ``/api/`` paths and clients that ask for JSON only, HTML otherwise."""
    if request.url.path.startswith("/api/") or request.url.path in ("/api", "/openapi.json"):
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def error_response(request: Request, exc: HubError | None = None, *, status: int = 500,
                   code: str | None = None, message: str = "", field: str | None = None,
                   headers: dict[str, str] | None = None) -> Response:
    """The error envelope as JSON, or the error page with the same content."""
    if exc is not None:
        status, code, message, field = exc.status, exc.code, exc.message, exc.field
    body = error_envelope(code or STATUS_CODES.get(status, "error"), message, field)
    if wants_json(request):
        return JSONResponse(body, status_code=status, headers=headers)
    hub = getattr(request.app.state, "hub", None)
    if hub is None:  # pragma: no cover - only before the app is built
        return JSONResponse(body, status_code=status, headers=headers)
    from scrutiny.hub._context import back_url
    from scrutiny.hub._present import me

    actor = getattr(request.state, "actor", None)
    if actor is None:  # the error came before the route: find out who is asking, if we can
        from scrutiny.hub._context import _resolve_actor

        try:
            with hub.sessions() as db:
                actor = _resolve_actor(request, db)
        except HubError:
            actor = None
    html = hub.templates.get_template("error.html").render(
        data=body, status=status, me=me(actor.user if actor else None),
        csrf_token=lambda: "", title=f"Error {status}", site_name=hub.settings.site_name,
        path=request.url.path, api_url=None, request=request,
        back=back_url(request, "/"),
    )
    return HTMLResponse(html, status_code=status, headers=headers)


async def _hub_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HubError)
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    headers = getattr(exc, "headers", None) or headers  # e.g. Retry-After on 429
    return error_response(request, exc, headers=headers)


async def _scrutiny_error(request: Request, exc: Exception) -> Response:
    return error_response(request, status=422, code="invalid", message=str(exc))


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    # a rule across fields of a body is reported against the field the endpoint names
    rule_field = getattr(request.scope.get("endpoint"), "rule_field", None)
    parts, first = [], None
    for err in exc.errors():
        loc = tuple(err.get("loc", ()))
        if loc == ("body",) and rule_field and err.get("type") == "value_error":
            first = first or rule_field
            parts.append(f"{rule_field}: {str(err.get('msg', '')).removeprefix('Value error, ')}")
            continue
        where = loc[0] if loc else "body"
        kind = err.get("type", "")
        path = "body" if kind == "json_invalid" else (
            loc_path(loc[1:]) if len(loc) > 1 else str(where))
        first = first or path
        label = path if where == "body" else f"{path} ({where} parameter)"
        if kind == "missing":
            parts.append(f"{label}: required but missing")
        elif kind == "extra_forbidden":
            parts.append(f"{label}: unknown field; remove it or check its spelling")
        elif kind == "json_invalid":
            parts.append("body: not valid JSON; send a JSON object with Content-Type: "
                         "application/json")
        else:
            got = err.get("input")
            shown = type(got).__name__ if isinstance(got, dict | list) else repr(got)[:80]
            parts.append(f"{label}: {str(err.get('msg', '')).removeprefix('Value error, ')} "
                         f"(got {shown})")
    return error_response(request, status=422, code="invalid",
                          message="; ".join(parts) + ".", field=first)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    if status == 404:
        message = (f"No page at {request.url.path[:200]!r}. Check the address; the home page "
                   "and /search lead everywhere.")
    elif status == 405:
        from scrutiny.hub.routes import api_routes

        allowed = sorted({m for r in api_routes() if r.path_regex.match(request.url.path)
                          for m in r.methods})
        exc.headers = {**(exc.headers or {}), "Allow": ", ".join(allowed)}
        message = (f"{request.method} is not allowed on {request.url.path[:200]!r}; use "
                   f"{' or '.join(allowed) or 'another path'}.")
    else:
        message = str(exc.detail) if exc.detail else "The request could not be handled."
    return error_response(request, status=status, message=message,
                          headers=dict(exc.headers) if exc.headers else None)


async def _unexpected(request: Request, exc: Exception) -> Response:
    logger.exception("unexpected error on %s %s", request.method, request.url.path)
    return error_response(request, status=500, code="internal_error",
                          message="The hub hit an unexpected error; it has been logged. "
                          "Retry, and report it if it happens again.")


# ---------------------------------------------------------------------------
# the factory


NO_NUL = r"^[^\x00]*$"
#: No NUL, and something besides whitespace (inputs are stripped before length checks).
NO_NUL_FILLED = (r"^[^\x00]*[^\x00\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a"
                 r"\u2028\u2029\u202f\u205f\u3000][^\x00]*$")


def _document_text_rule(app: FastAPI) -> None:
    """State in the OpenAPI document that no text field accepts NUL characters.

    The rule is enforced on every input (PostgreSQL cannot store NUL); writing it
    into each free-text schema as a ``pattern`` lets clients and fuzzers know it.
    """
    generate = app.openapi

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "string" and not ({
                    "pattern", "format", "enum", "const", "contentMediaType",
                    "contentEncoding"} & node.keys()):
                node["pattern"] = NO_NUL_FILLED if node.get("minLength", 0) >= 1 else NO_NUL
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            walk(generate())
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]


def build_hub(settings: HubSettings | None = None) -> Hub:
    """Resolve the settings, open (and migrate) the database, and gather what routes share."""
    from scrutiny.hub._db import make_engine, make_sessionmaker
    from scrutiny.hub._migrate import upgrade
    from scrutiny.hub._security import PasswordHasher
    from scrutiny.hub._storage import BlobStore

    settings = (settings or HubSettings.from_env()).resolved()
    assert settings.database_url is not None
    engine = make_engine(settings.database_url)
    if settings.auto_migrate:
        upgrade(engine)
    return Hub(settings=settings, engine=engine, sessions=make_sessionmaker(engine),
               blobs=BlobStore(settings.data_dir), hasher=PasswordHasher(settings),
               templates=_templates())


def create_app(settings: HubSettings | None = None) -> FastAPI:
    """Build the hub's ASGI application (see :func:`scrutiny.hub.create_app`).

    Everything that depends on the settings lives in ``app.state.hub``
    (:class:`Hub`); routes and middleware read it from there on each request.
    """
    from scrutiny.hub.routes import ROUTERS

    hub = build_hub(settings)
    app = FastAPI(
        title="scrutiny hub", version=__version__, docs_url=None, redoc_url=None,
        openapi_url="/openapi.json",
        description="Models, datasets, audits and their deliberation record. Every page "
        "`GET /x` has a JSON twin `GET /api/x` answering `{\"ok\": true, \"data\": ...}`; "
        "errors answer `{\"ok\": false, \"error\": {\"code\", \"message\", \"field\"}}`. "
        "Write endpoints take an `Authorization: Bearer` token.",
    )
    app.state.hub = hub
    _document_text_rule(app)
    app.add_exception_handler(HubError, _hub_error)
    app.add_exception_handler(ScrutinyError, _scrutiny_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
    from scrutiny.hub._gating import install

    install(app)  # the not-for-all-audiences interstitial
    for router in ROUTERS:
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.add_middleware(BodyLimit)
    app.add_middleware(SecurityHeaders)
    return app


def worker_app() -> FastAPI:
    """The application of one worker of ``scrutiny serve --workers N``.

    The parent process resolved the settings (data folder, database URL,
    secret key) into the ``SCRUTINY_*`` variables and upgraded the schema
    before starting the workers, so workers read the same settings and do not
    migrate concurrently.
    """
    settings = HubSettings.from_env().model_copy(update={"auto_migrate": False})
    return create_app(settings)

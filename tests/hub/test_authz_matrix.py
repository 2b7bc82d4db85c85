"""The authorisation matrix: every route of hub part 1 against every kind of caller.

One table, :data:`TABLE`, says for each route (method and path template) which
action it needs (:data:`scrutiny.hub._permissions.ACTIONS`, or ``anyone``,
``signed_in``, ``session``), what it is done on (a public repository, a
private one, the organisation, nothing) and what success answers. The test
sends a real request for every cell (route x target x caller) and compares
the status with :func:`expected`, which restates the rules of
``docs/guide/hub.md`` independently of the code:

* public repositories are readable by anyone; private ones by members of
  their organisation (any role) and site moderators; everyone else gets 404,
  exactly as for a repository that does not exist;
* writing needs a signed-in caller (401), a write scope (read tokens: 403)
  and the action's minimum role in the organisation (403); moderators read
  everything and write nothing they are not a member for;
* pages are fetched by signed-in browsers, their ``/api`` twins with a
  read-scoped token; forms are posted by browsers with the CSRF token; JSON
  writes are sent with a write token and with a read token. A denied write
  changes no row (the row counts of every table are compared).

Reads share one world per module (:func:`mworld`); each write cell gets
fresh things to act on (a new repository to delete, a new row to edit, a new
user to add), so cells never depend on each other.

Extending the table (hub part 2 and later): ``test_every_route_has_an_expectation``
fails for any route of :data:`MODULES` without a row. Add the module to
:data:`MODULES` (or write a matrix file of your own that imports :func:`expected`,
:data:`CALLERS` and :class:`Case`) and add one :class:`Case` per route: the
action, the target kinds and a ``prepare`` function that returns the path
parameters and the request's keyword arguments.
"""

from __future__ import annotations

import itertools
import json
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, inspect, select, table
from tests.hub.conftest import PASSWORD, ROLES, HubFactory, World, fast_settings

from scrutiny.hub._app import build_hub
from scrutiny.hub._permissions import ACTIONS, RANK
from scrutiny.hub.routes import api_routes

#: The route modules this matrix covers (part 1).
MODULES = frozenset(f"scrutiny.hub.routes.{m}" for m in (
    "search", "accounts", "tokens", "orgs", "repos", "files", "audits", "deliberation"))
#: Every kind of caller: anonymous, one per role, a moderator, a member of another organisation.
CALLERS: tuple[str | None, ...] = (None, *reversed(ROLES), "moderator", "outsider")
SEGMENTS = ("values", "conflicts", "evidence", "checklist", "signoffs")
SEGMENT_ACTION = {"values": "deliberation.manage", "conflicts": "deliberation.manage",
                  "evidence": "deliberation.evidence", "checklist": "deliberation.review",
                  "signoffs": "deliberation.signoff"}
ROWS = {
    "values": {"name": "Privacy", "owner": "DPO", "metric": "equal_opportunity"},
    "conflicts": {"values": ["Privacy", "Accuracy"], "description": "tension"},
    "evidence": {"kind": "interview", "summary": "notes"},
    "checklist": {"item": "consulted", "status": "done"},
    "signoffs": {"role": "legal reviewer"},
}
AUDIT = {"schema_version": "1.0", "title": "Matrix audit", "context": {"decision": "d"},
         "data": {"n_rows": 10}, "gates": [], "ranking": [], "guardrails": []}

#: What only members and moderators may ever see of the private repository.
SECRETS = {"card": "SECRET-CARD-7f3a", "title": "Hushhush model", "bytes": "SECRET-BYTES-91c2",
           "audit": "SECRET-AUDIT-55d1", "rows": "987654321", "delib": "SECRET-DELIB-3b8e",
           "tag": "consentful", "license": "apache-2.0"}
SECRET_CARD = (f"---\nlicense: {SECRETS['license']}\ntags: [{SECRETS['tag']}]\n---\n"
               f"# {SECRETS['title']}\n\n{SECRETS['card']}\n")
SECRET_AUDIT = {**AUDIT, "title": SECRETS["audit"], "data": {"n_rows": int(SECRETS["rows"])}}

_counter = itertools.count(1)


def _fresh(prefix: str) -> str:
    return f"{prefix}-{next(_counter)}"


# ---------------------------------------------------------------------------
# the rules, restated


def expected(action: str, target: str | None, who: str | None, scope: str) -> str:
    """``"ok"`` or the denial status the rules give ``who`` (with a ``scope`` credential).

    ``target`` is ``public``/``private`` (a repository), ``org`` or None.
    """
    member = who in ROLES
    reads_private = member or who == "moderator"
    if action == "anyone":
        return "ok"
    if target == "private" and not reads_private:
        return "404"
    if action == "repo.read":
        return "ok"
    if who is None:
        return "401"
    if action == "signed_in":
        return "ok"
    if action == "session":
        return "ok" if scope == "session" else "403"
    if action == "org.read_members":
        return "ok" if reads_private else "403"
    if scope == "read":
        return "403"
    needed = ACTIONS[action]
    if needed is None:
        return "ok"
    return "ok" if member and RANK[who] >= RANK[needed] else "403"  # type: ignore[index]


# ---------------------------------------------------------------------------
# the table


Prepared = tuple[dict[str, str], dict[str, Any]]  # path parameters, request keyword arguments


@dataclass(frozen=True)
class Case:
    """One row of the table: a route, the action it needs, and how to call it."""

    method: str
    path: str
    action: str
    targets: tuple[str | None, ...] = (None,)
    ok: int = 200
    prepare: Callable[[World, str | None, str | None], Prepared] | None = None
    label: str = ""
    anonymous: str | None = None  # overrides the rules for anonymous callers
    per_caller: bool = False  # prepare() depends on the caller
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str]:
        """The route this row is about."""
        return (self.method, self.path)

    @property
    def id(self) -> str:
        """A readable test id."""
        return f"{self.method} {self.path}{' ' + self.label if self.label else ''}"


REPO = ("public", "private")


def _repo_of(w: World, target: str | None) -> dict[str, str]:
    org, name = (w.public if target == "public" else w.private).split("/")
    return {"org": org, "name": name}


def _reading(w: World, target: str | None, who: str | None) -> Prepared:
    ids = w.extra[target] if target in ("public", "private") else {}
    return {**(_repo_of(w, target) if target in REPO else {"org": "acme"}),
            "number": "1", "fname": "data.txt", "username": w.users["owner"], **ids}, {}


def _throwaway(w: World, target: str | None) -> dict[str, str]:
    name = _fresh("tmp")
    w.hub.repo("acme", name, private=target == "private", by=w.users["owner"])
    return {"org": "acme", "name": name}


def _item(w: World, target: str | None, segment: str) -> str:
    owner = w.extra["owner_api"]
    r = owner.post(f"/api/repos/{'/'.join(_repo_of(w, target).values())}/deliberation/"
                   f"{segment}", json=ROWS[segment])
    assert r.status_code == 201, r.text
    return str(r.json()["data"]["id"])


def _uploaded(w: World, target: str | None) -> dict[str, str]:
    fname = _fresh("f") + ".txt"
    repo = _repo_of(w, target)
    r = w.extra["owner_api"].post(f"/api/repos/{repo['org']}/{repo['name']}/files",
                                  files=[("files", (fname, b"bytes"))])
    assert r.status_code == 201, r.text
    return {**repo, "fname": fname}


def _spare_member(w: World) -> str:
    name = _fresh("spare")
    w.hub.user(name)
    w.hub.member("acme", name, "viewer")
    return name


def _form(segment: str, row: dict[str, Any]) -> dict[str, str]:
    return {k: "\n".join(v) if isinstance(v, list) else v for k, v in row.items()}


def _files(name: str = "") -> dict[str, Any]:
    return {"files": [("files", (name or _fresh("up") + ".txt", b"content"))]}


def _tables() -> list[Case]:
    read = _reading
    page_reads = [
        ("/", "anyone", (None,)), ("/search", "anyone", (None,)),
        ("/signup", "anyone", (None,)), ("/signin", "anyone", (None,)),
        ("/account", "signed_in", (None,)), ("/users/{username}", "anyone", (None,)),
        ("/orgs", "anyone", (None,)), ("/orgs/new", "signed_in", (None,)),
        ("/orgs/{org}", "anyone", ("org",)), ("/orgs/{org}/members", "org.read_members", ("org",)),
        ("/repos/new", "signed_in", (None,)),
        ("/repos/{org}/{name}", "repo.read", REPO),
        ("/repos/{org}/{name}/edit", "repo.write", REPO),
        ("/repos/{org}/{name}/settings", "repo.admin", REPO),
        ("/repos/{org}/{name}/revisions", "repo.read", REPO),
        ("/repos/{org}/{name}/revisions/{number}", "repo.read", REPO),
        ("/repos/{org}/{name}/diff", "repo.read", REPO),
        ("/repos/{org}/{name}/files", "repo.read", REPO),
        ("/repos/{org}/{name}/files/{fname}", "repo.read", REPO),
        ("/repos/{org}/{name}/audits", "repo.read", REPO),
        ("/repos/{org}/{name}/audits/{number}", "repo.read", REPO),
        ("/repos/{org}/{name}/attributions", "repo.read", REPO),
        ("/repos/{org}/{name}/deliberation", "repo.read", REPO),
        ("/repos/{org}/{name}/activity", "repo.read", REPO),
        *((f"/repos/{{org}}/{{name}}/deliberation/{s}/{{item_id_{s}}}", "repo.read", REPO)
          for s in SEGMENTS),
    ]
    cases = []
    for path, action, targets in page_reads:
        route = _route_path(path)
        cases.append(Case("GET", route, action, targets, prepare=read, extra={"fill": path}))
        api = "/api/" if route == "/" else "/api" + route
        if route != "/repos/{org}/{name}/files/{fname}":  # its twin answers the metadata
            cases.append(Case("GET", api, action, targets, prepare=read,
                              extra={"fill": "/api/" if path == "/" else "/api" + path}))
    cases += [
        Case("GET", "/api/repos/{org}/{name}/files/{fname}", "repo.read", REPO, prepare=read,
             label="metadata", extra={"fill": "/repos/{org}/{name}/files/{fname}"}),
        Case("GET", "/repos/{org}/{name}/audits/{number}/report", "repo.read", REPO,
             prepare=read),
        Case("GET", "/api/health", "anyone", prepare=read),
    ]
    # --- accounts and tokens (forms, browsers only)
    cases += [
        Case("POST", "/signup", "anyone", ok=303, prepare=lambda w, t, who: ({}, {"data": {
            "username": _fresh("new"), "password": PASSWORD}})),
        Case("POST", "/signin", "anyone", ok=303, prepare=lambda w, t, who: ({}, {"data": {
            "username": w.users["member"], "password": PASSWORD}})),
        Case("POST", "/signout", "anyone", ok=303, prepare=lambda w, t, who: ({}, {})),
        Case("POST", "/account/tokens", "session", ok=201, prepare=lambda w, t, who: ({}, {
            "data": {"name": "ci", "scope": "read"}})),
        Case("POST", "/account/tokens/{token_id}/revoke", "session", ok=303,
             prepare=_own_token, per_caller=True),
    ]
    # --- organisations
    org = ("org",)
    cases += [
        Case("POST", "/orgs/new", "org.create", ok=303, prepare=lambda w, t, who: ({}, {
            "data": {"name": _fresh("org")}})),
        Case("POST", "/api/orgs", "org.create", ok=201, prepare=lambda w, t, who: ({}, {
            "json": {"name": _fresh("org")}})),
        Case("POST", "/orgs/{org}/members", "org.manage", org, ok=303,
             prepare=lambda w, t, who: ({"org": "acme"}, {"data": {
                 "username": _spare_member(w), "role": "member"}})),
        Case("POST", "/orgs/{org}/members/{username}/remove", "org.manage", org, ok=303,
             prepare=lambda w, t, who: ({"org": "acme", "username": _spare_member(w)}, {})),
        Case("PUT", "/api/orgs/{org}/members/{username}", "org.manage", org,
             prepare=lambda w, t, who: ({"org": "acme", "username": _spare_member(w)},
                                        {"json": {"role": "reviewer"}})),
        Case("DELETE", "/api/orgs/{org}/members/{username}", "org.manage", org,
             prepare=lambda w, t, who: ({"org": "acme", "username": _spare_member(w)}, {})),
    ]
    # --- repositories
    cases += [
        Case("POST", "/repos/new", "repo.create", org, ok=303, prepare=lambda w, t, who: (
            {}, {"data": {"org": "acme", "name": _fresh("r"), "kind": "model",
                          "visibility": "private"}})),
        Case("POST", "/api/repos", "repo.create", org, ok=201, prepare=lambda w, t, who: (
            {}, {"json": {"org": "acme", "name": _fresh("r")}})),
        Case("POST", "/repos/{org}/{name}/edit", "repo.write", REPO, ok=303,
             prepare=lambda w, t, who: (_repo_of(w, t), {"data": {"card": "# Edited"}})),
        Case("PUT", "/api/repos/{org}/{name}/card", "repo.write", REPO,
             prepare=lambda w, t, who: (_repo_of(w, t), {"json": {"card": "# Edited"}})),
        Case("POST", "/repos/{org}/{name}/settings", "repo.admin", REPO, ok=303,
             prepare=lambda w, t, who: (_throwaway(w, t), {"data": {
                 "visibility": "public" if t == "private" else "private"}})),
        Case("POST", "/repos/{org}/{name}/settings", "repo.admin", REPO, ok=303,
             label="delete", prepare=_delete_form),
        Case("PATCH", "/api/repos/{org}/{name}", "repo.admin", REPO,
             prepare=lambda w, t, who: (_throwaway(w, t), {"json": {
                 "private": t != "private"}})),
        Case("DELETE", "/api/repos/{org}/{name}", "repo.admin", REPO,
             prepare=lambda w, t, who: (_throwaway(w, t), {})),
    ]
    # --- files
    cases += [
        Case("POST", "/repos/{org}/{name}/files", "repo.write", REPO, ok=303,
             prepare=lambda w, t, who: (_repo_of(w, t), _files())),
        Case("POST", "/api/repos/{org}/{name}/files", "repo.write", REPO, ok=201,
             prepare=lambda w, t, who: (_repo_of(w, t), _files())),
        Case("POST", "/api/repos/{org}/{name}/push", "repo.write", REPO, ok=201,
             anonymous="401", prepare=lambda w, t, who: (_repo_of(w, t), _files())),
        Case("POST", "/repos/{org}/{name}/files/{fname}/delete", "repo.write", REPO, ok=303,
             prepare=lambda w, t, who: (_uploaded(w, t), {})),
        Case("DELETE", "/api/repos/{org}/{name}/files/{fname}", "repo.write", REPO,
             prepare=lambda w, t, who: (_uploaded(w, t), {})),
    ]
    # --- deliberation, one row per section
    for s in SEGMENTS:
        action = SEGMENT_ACTION[s]
        delete_action = "repo.admin" if s == "signoffs" else action  # another's sign-off
        cases += [
            Case("POST", "/repos/{org}/{name}/deliberation/{segment}", action, REPO, ok=303,
                 label=s, prepare=_section_form(s, create=True)),
            Case("POST", "/repos/{org}/{name}/deliberation/{segment}/{item_id}", action, REPO,
                 ok=409 if s == "signoffs" else 303, label=s,
                 prepare=_section_form(s, create=False)),
            Case("POST", "/repos/{org}/{name}/deliberation/{segment}/{item_id}/delete",
                 delete_action, REPO, ok=303, label=s,
                 prepare=lambda w, t, who, s=s: ({**_repo_of(w, t), "segment": s,
                                                  "item_id": _item(w, t, s)}, {})),
            Case("POST", f"/api/repos/{{org}}/{{name}}/deliberation/{s}", action, REPO,
                 ok=201, prepare=lambda w, t, who, s=s: (_repo_of(w, t), {"json": ROWS[s]})),
            Case("DELETE", f"/api/repos/{{org}}/{{name}}/deliberation/{s}/{{item_id}}",
                 delete_action, REPO, prepare=lambda w, t, who, s=s: (
                     {**_repo_of(w, t), "item_id": _item(w, t, s)}, {})),
        ]
        if s != "signoffs":
            cases.append(Case(
                "PUT", f"/api/repos/{{org}}/{{name}}/deliberation/{s}/{{item_id}}", action,
                REPO, prepare=lambda w, t, who, s=s: (
                    {**_repo_of(w, t), "item_id": _item(w, t, s)}, {"json": ROWS[s]})))
    return cases


def _route_path(path: str) -> str:
    for s in SEGMENTS:
        path = path.replace(f"{{item_id_{s}}}", "{item_id}")
    return path


def _own_token(w: World, target: str | None, who: str | None) -> Prepared:
    owner = w.users[who] if who else w.users["owner"]
    w.hub.token(owner, "read")
    with w.hub.db() as db:
        from scrutiny.hub._db import ApiToken, User

        token_id = db.scalar(select(func.max(ApiToken.id)).join(User).where(
            User.username == owner))
    return {"token_id": str(token_id)}, {}


def _delete_form(w: World, target: str | None, who: str | None) -> Prepared:
    repo = _throwaway(w, target)
    return repo, {"data": {"delete": repo["name"]}}


def _section_form(segment: str, *, create: bool) -> Callable[..., Prepared]:
    def prepare(w: World, target: str | None, who: str | None) -> Prepared:
        params = {**_repo_of(w, target), "segment": segment}
        if not create:
            params["item_id"] = _item(w, target, segment)
        return params, {"data": _form(segment, ROWS[segment])}

    return prepare


TABLE = _tables()


# ---------------------------------------------------------------------------
# the world, once per module


@pytest.fixture(scope="module")
def mworld(_app_shell: Any, _sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory,
           ) -> Iterator[World]:
    """:func:`~tests.hub.conftest.world` for the whole module, with an audit, a report, a
    file and a row per deliberation section in both repositories."""
    data_dir = tmp_path_factory.mktemp("matrix") / "hub"
    data_dir.mkdir()
    shutil.copyfile(_sqlite_template, data_dir / "hub.db")
    previous = _app_shell.state.hub
    _app_shell.state.hub = build_hub(fast_settings(data_dir, max_upload_bytes=64 * 1024,
                                                   max_request_bytes=512 * 1024))
    hub = HubFactory(_app_shell)
    w = World(hub)
    for role in ROLES:
        w.users[role] = f"{role}-user"
        hub.user(w.users[role])
    w.users["outsider"] = "outsider"
    hub.user("outsider")
    hub.org("other", members={"outsider": "owner"})
    w.users["moderator"] = "moderator"
    hub.user("moderator", moderator=True)
    hub.org("acme", members={w.users[r]: r for r in ROLES})
    hub.repo("acme", "open", by=w.users["owner"], card="# Open model\n")
    hub.repo("acme", "secret", private=True, by=w.users["owner"], card=SECRET_CARD)
    w.extra = {"owner_api": hub.api(w.users["owner"])}  # type: ignore[attr-defined]
    for target, full in (("public", w.public), ("private", w.private)):
        r = w.extra["owner_api"].post(f"/api/repos/{full}/files", files=[
            ("files", ("audit.json", json.dumps(AUDIT).encode())),
            ("files", ("report.html", b"<p>report</p>")),
            ("files", ("data.txt", b"data"))])
        assert r.status_code == 201, r.text
        w.extra[target] = {f"item_id_{s}": _item(w, target, s) for s in SEGMENTS}
    r = w.extra["owner_api"].post(f"/api/repos/{w.private}/files", files=[
        ("files", ("audit.json", json.dumps(SECRET_AUDIT).encode())),
        ("files", ("secret-data.txt", SECRETS["bytes"].encode()))])
    assert r.status_code == 201, r.text
    w.extra["secret_audit"] = str(r.json()["data"]["audit"])
    r = w.extra["owner_api"].post(f"/api/repos/{w.private}/deliberation/evidence",
                                  json={"kind": "interview", "summary": SECRETS["delib"]})
    assert r.status_code == 201, r.text
    yield w
    _app_shell.state.hub.engine.dispose()
    _app_shell.state.hub = previous


def _counts(w: World) -> tuple[int, ...]:
    """Rows per table (every table of the database, whatever the models say), in one query."""
    names = w.extra.get("tables")
    if names is None:
        names = w.extra["tables"] = inspect(w.hub.hub.engine).get_table_names()
    with w.hub.db() as db:
        return tuple(db.execute(select(*(select(func.count()).select_from(table(n))
                                         .scalar_subquery() for n in names))).one())


#: Routes after which a browser's session is no longer the one it had.
SESSION_CHANGING = frozenset({"/signin", "/signup", "/signout"})


def _client(w: World, who: str | None, scope: str, case: Case) -> Any:
    """A client for ``who`` (reused across cells unless the route changes the session)."""
    key = (who, scope)
    cache = w.extra.setdefault("clients", {})
    if case.path in SESSION_CHANGING or key not in cache:
        if who is None:
            client = w.hub.browser(None)
        else:
            client = w.hub.browser(w.users[who]) if scope == "session" else w.api(who, scope)
        if case.path in SESSION_CHANGING:
            return client
        cache[key] = client
    return cache[key]


def _status(case: Case, target: str | None, who: str | None, scope: str) -> int:
    verdict = expected(case.action, target, who, scope)
    if who is None and case.anonymous is not None:
        verdict = case.anonymous
    return case.ok if verdict == "ok" else int(verdict)


def _cells() -> list[Any]:
    return [pytest.param(case, target, id=f"{case.id} [{target or '-'}]")
            for case in TABLE for target in case.targets]


def _fill(template: str, params: dict[str, str]) -> str:
    import re

    return re.sub(r"\{(\w+)\}", lambda m: params[m.group(1)], template)


def test_every_route_has_an_expectation() -> None:
    routes = {(m, r.path) for r in api_routes() if r.endpoint.__module__ in MODULES
              for m in r.methods}
    table = {c.key for c in TABLE}
    assert routes - table == set(), "routes without a row in TABLE (see the module docstring)"
    assert table - routes == set(), "rows in TABLE for routes that do not exist"


@pytest.mark.parametrize(("case", "target"), _cells())
def test_route_answers_each_caller_as_the_rules_say(mworld: World, case: Case,
                                                    target: str | None) -> None:
    if case.method == "GET":
        scopes = ("read",) if case.path.startswith("/api") else ("session",)
    elif case.path.startswith("/api"):
        scopes = ("write", "read")
    else:
        scopes = ("session",)
    wrong = []
    prepared = None  # a denied call changes nothing, so what it acted on can be reused
    for who in CALLERS:
        for scope in scopes if who is not None else scopes[:1]:
            if prepared is None or case.per_caller:
                prepared = case.prepare(mworld, target, who) if case.prepare else ({}, {})
            params, kwargs = prepared[0], dict(prepared[1])
            url = _fill(case.extra.get("fill", case.path), params)
            client = _client(mworld, who, scope, case)
            want = _status(case, target, who, scope)
            before = _counts(mworld) if case.method != "GET" and want >= 400 else None
            if case.method == "POST" and not case.path.startswith("/api"):
                r = client.post_form(url, kwargs.pop("data", {}), **kwargs)
            else:
                r = client.request(case.method, url, follow_redirects=False, **kwargs)
            if r.status_code < 400 and case.method != "GET":
                prepared = None
            if r.status_code != want:
                wrong.append(f"{who or 'anonymous'} ({scope}): {r.status_code} != {want} "
                             f"{r.text[:160]!r}")
            elif want >= 400 and before is not None and _counts(mworld) != before:
                wrong.append(f"{who or 'anonymous'} ({scope}): denied with {want} but wrote")
    assert not wrong, "\n".join(wrong)


def test_the_matrix_covers_every_role_and_target() -> None:
    cells = sum(len(c.targets) for c in TABLE) * len(CALLERS)
    assert cells >= 1000
    assert {t for c in TABLE for t in c.targets} == {None, "org", "public", "private"}


# ---------------------------------------------------------------------------
# private content never leaks


def _leak_urls(w: World) -> list[str]:
    owner = w.users["owner"]
    urls = ["/", "/search", "/orgs", "/orgs/acme", "/orgs/acme/members", f"/users/{owner}",
            *(f"/search?{k}={v}" for k, v in (
                ("q", "secret"), ("q", "hushhush"), ("q", "acme"), ("q", SECRETS["card"]),
                ("tag", SECRETS["tag"]), ("license", SECRETS["license"]), ("kind", "model"),
                ("q", "%"), ("q", "_"), ("page", "2")))]
    params, _ = _reading(w, "public", None)
    for case in TABLE:
        if case.method == "GET" and "public" in case.targets:
            urls.append(_fill(case.extra.get("fill", case.path), params))
    urls += [f"/repos/{w.public}/files/{f}" for f in ("audit.json", "report.html", "data.txt")]
    urls += [u if u.startswith("/api") else "/api" + u for u in urls if not u.startswith(
        ("/api", f"/repos/{w.public}/files/", f"/repos/{w.public}/audits/1/report"))]
    return urls


def _private_urls(w: World) -> list[str]:
    params, _ = _reading(w, "private", None)
    urls = [_fill(c.extra.get("fill", c.path), params) for c in TABLE
            if c.method == "GET" and "private" in c.targets]
    audit = f"/repos/{w.private}/audits/{w.extra['secret_audit']}"
    return [*urls, f"/repos/{w.private}/files/secret-data.txt",
            f"/api/repos/{w.private}/files/secret-data.txt", audit, "/api" + audit,
            audit + "/report"]


@pytest.mark.parametrize("who", [None, "outsider"])
def test_private_content_never_leaks_to_those_who_may_not_read_it(mworld: World,
                                                                  who: str | None) -> None:
    clients = [mworld.browser(who)] if who is None else [mworld.browser(who),
                                                         mworld.api(who, "read")]
    markers = [v for k, v in SECRETS.items()]
    leaks = []
    for client in clients:
        for url in _leak_urls(mworld):
            r = client.get(url)
            assert r.status_code in (200, 401, 403), (url, r.status_code, r.text[:200])
            leaks += [(url, m) for m in [*markers, mworld.private, "secret-data"]
                      if m.lower() in r.text.lower() and m.lower() not in url.lower()]
        for url in _private_urls(mworld):
            r = client.get(url)
            assert r.status_code == 404, (url, r.status_code)
            leaks += [(url, m) for m in markers if m.lower() in r.text.lower()]
    assert not leaks
    from scrutiny.hub._db import Repository

    with mworld.hub.db() as db:
        public = db.scalar(select(func.count()).where(Repository.private.is_(False))) or 0
    for client in clients:
        facets = client.get("/api/search").json()["data"]
        assert facets["total"] == public
        assert SECRETS["tag"] not in facets["facets"]["tag"]
        assert SECRETS["license"] not in facets["facets"]["license"]
        assert sum(facets["facets"]["kind"].values()) == public


def test_private_content_is_there_for_members(mworld: World) -> None:
    """The leak test's markers are really stored (a member sees each of them)."""
    viewer = mworld.browser("viewer")
    seen = " ".join(viewer.get(u).text for u in [*_leak_urls(mworld), *_private_urls(mworld)])
    missing = [m for m in SECRETS.values() if m.lower() not in seen.lower()]
    assert not missing

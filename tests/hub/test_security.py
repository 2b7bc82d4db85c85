"""Attacks on the hub: forged forms, session fixation, script injection, path traversal,
oversized uploads and SQL injection.

What ``test_accounts.py``, ``test_files.py`` and ``test_repos.py`` already pin
(one CSRF form, sign-in rotation, one XSS card, three traversal names, the
413 of one upload, search probes on SQLite) is not repeated; this file runs
the same attacks over every form, a corpus of vectors, and both databases.
"""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, inspect, select, table
from tests.hub.conftest import PASSWORD, World, csrf_from
from tests.hub.test_authz_matrix import TABLE, _fill

from scrutiny.hub._security import PRESESSION_COOKIE, SESSION_COOKIE
from scrutiny.hub._validation import NAME_RE, REPO_RE

BOTH = pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)


def _counts(world: World) -> dict[str, int]:
    """Rows per table (every table of the database, whatever the models say), in one query;
    the table names are read once per world."""
    names: list[str] | None = getattr(world, "_tables", None)
    if names is None:
        names = inspect(world.hub.hub.engine).get_table_names()
        world._tables = names  # type: ignore[attr-defined]
    with world.hub.db() as db:
        row = db.execute(select(*(select(func.count()).select_from(table(n))
                                  .scalar_subquery() for n in names))).one()
    return dict(zip(names, (int(c or 0) for c in row), strict=True))


def _ready(world: World) -> World:
    world.extra = {"owner_api": world.api("owner")}  # type: ignore[attr-defined]
    return world


# ---------------------------------------------------------------------------
# CSRF: every state-changing form, and cookie-authenticated JSON writes

FORMS = [c for c in TABLE if c.method == "POST" and not c.path.startswith("/api")]
JSON_WRITES = [c for c in TABLE if c.method != "GET" and c.path.startswith("/api")]


@BOTH
def test_every_form_refuses_a_missing_forged_or_foreign_csrf_token(world: World,
                                                                   backend: str) -> None:
    w = _ready(world)
    assert len(FORMS) >= 25
    stranger = w.browser("member")
    anonymous = TestClient(w.hub.app)
    pre = csrf_from(anonymous.get("/signin").text)  # a valid token, but of another browser
    problems = []
    for case in FORMS:
        target = "public" if "public" in case.targets else case.targets[0]
        params, kwargs = case.prepare(w, target, "owner")
        url = _fill(case.path, params)
        data = kwargs.pop("data", {})
        owner = w.browser("owner")
        for label, token in (("missing", None), ("forged", "x" * 43), ("empty", ""),
                             ("other session", stranger.csrf), ("pre-session", pre),
                             ("truncated", owner.csrf[:-2])):
            before = _counts(w)
            sent = data if token is None else {**data, "csrf_token": token}
            r = owner.post(url, data=sent, follow_redirects=False, **kwargs)
            if r.status_code != 403 or "csrf_token" not in r.text:
                problems.append(f"{case.id} {label}: {r.status_code}")
            if _counts(w) != before:
                problems.append(f"{case.id} {label}: wrote despite the CSRF failure")
        r = owner.post_form(url, data, **kwargs)
        if r.status_code != case.ok:
            problems.append(f"{case.id} with the right token: {r.status_code} {r.text[:120]}")
    assert not problems, "\n".join(problems)


@BOTH
def test_cookie_authenticated_json_writes_need_the_csrf_header(world: World,
                                                               backend: str) -> None:
    w = _ready(world)
    owner, stranger = w.browser("owner"), w.browser("member")
    problems = []
    for case in JSON_WRITES:
        target = "public" if "public" in case.targets else case.targets[0]
        params, kwargs = case.prepare(w, target, "owner")
        before = _counts(w)
        for headers in ({}, {"X-CSRF-Token": "forged"}, {"X-CSRF-Token": stranger.csrf}):
            r = owner.request(case.method, _fill(case.path, params), headers=headers,
                              **kwargs)
            if r.status_code != 403 or r.json()["error"]["field"] != "csrf_token":
                problems.append(f"{case.id} {headers}: {r.status_code}")
        if _counts(w) != before:
            problems.append(f"{case.id}: wrote despite the CSRF failure")
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------------------
# session fixation (beyond test_accounts: sign-up, and the pre-session cookie)


def test_signup_rotates_a_planted_session_and_drops_the_pre_session(hub: Any) -> None:
    hub.user("victim")
    planted = hub.browser("victim").cookies.get(SESSION_COOKIE)
    client = TestClient(hub.app)
    client.cookies.set(SESSION_COOKIE, planted)
    token = csrf_from(client.get("/signup").text)
    r = client.post("/signup", data={"username": "newbie", "password": PASSWORD,
                                     "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
    fresh = r.cookies.get(SESSION_COOKIE)
    assert fresh and fresh != planted
    assert TestClient(hub.app, cookies={SESSION_COOKIE: planted}).get(
        "/api/account").status_code == 401
    assert TestClient(hub.app, cookies={SESSION_COOKIE: fresh}).get(
        "/api/account").json()["data"]["user"]["username"] == "newbie"


def test_the_pre_session_csrf_token_dies_at_sign_in(hub: Any) -> None:
    hub.user("alice")
    client = TestClient(hub.app)
    token = csrf_from(client.get("/signin").text)
    presession = client.cookies.get(PRESESSION_COOKIE)
    assert presession
    r = client.post("/signin", data={"username": "alice", "password": PASSWORD,
                                     "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
    assert 'scrutiny_csrf=""' in r.headers.get("set-cookie", "") or \
        "scrutiny_csrf=;" in r.headers.get("set-cookie", "")
    # the token bound to the pre-session does not authorise the signed-in session's forms
    client.cookies.set(SESSION_COOKIE, r.cookies.get(SESSION_COOKIE))
    r = client.post("/orgs/new", data={"name": "acme", "csrf_token": token},
                    follow_redirects=False)
    assert r.status_code == 403


# ---------------------------------------------------------------------------
# script injection in cards

XSS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    "<img src=\"x\" ONERROR=\"alert(1)\">",
    "<body onload=alert(1)>",
    "<svg onload=alert(1)><script>alert(1)</script></svg>",
    "<svg><a xlink:href=\"javascript:alert(1)\"><text>x</text></a></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<iframe src=\"javascript:alert(1)\"></iframe>",
    "<iframe srcdoc=\"<script>alert(1)</script>\"></iframe>",
    "<object data=\"data:text/html,<script>alert(1)</script>\"></object>",
    "<embed src=\"javascript:alert(1)\">",
    "<a href=\"javascript:alert(1)\">click</a>",
    "<a href=\"JaVaScRiPt:alert(1)\">click</a>",
    "<a href=\"  javascript:alert(1)\">click</a>",
    "<a href=\"java&#x09;script:alert(1)\">click</a>",
    "<a href=\"&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)\">x</a>",
    "<a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">x</a>",
    "<a href=\"vbscript:msgbox(1)\">x</a>",
    "[click](javascript:alert(1))",
    "[click](JAVASCRIPT:alert(1))",
    "[click](  javascript:alert(1) )",
    "[click](data:text/html,<script>alert(1)</script>)",
    "![x](javascript:alert(1))",
    "![x](x\" onerror=\"alert(1))",
    "[x](https://example.com\" onclick=\"alert(1))",
    "<div style=\"background:url(javascript:alert(1))\">x</div>",
    "<div style=\"width: expression(alert(1))\">x</div>",
    "<style>body{background:url(javascript:alert(1))}</style>",
    "<link rel=stylesheet href=javascript:alert(1)>",
    "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
    "<base href=\"javascript:alert(1)//\">",
    "<form action=\"javascript:alert(1)\"><button>x</button></form>",
    "<button formaction=\"javascript:alert(1)\">x</button>",
    "<input onfocus=alert(1) autofocus>",
    "<details open ontoggle=alert(1)>",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "<scr<script>ipt>alert(1)</script>",
    "<a href=\"https://example.com\" target=\"_blank\">ok</a>",
    "<!--<script>alert(1)</script>-->",
    "---\ntitle: \"<script>alert(1)</script>\"\ntags: [\"<img src=x onerror=alert(1)>\"]\n---\n",
]
BAD_SCHEMES = ("javascript:", "vbscript:", "data:")
URL_ATTRS = {"href", "src", "action", "formaction", "xlink:href", "data", "srcdoc", "poster",
             "background", "lowsrc", "dynsrc"}
BAD_TAGS = {"script", "iframe", "object", "embed", "style", "base", "meta", "form", "svg",
            "math", "frame", "frameset", "applet"}


class _Collector(HTMLParser):
    """Every start tag with its attributes (entities decoded, as a browser sees them)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


def _executable(html: str, *, chrome: set[tuple[str, str]]) -> list[str]:
    """What in ``html`` could run script: script-ish tags, event handlers, script URLs."""
    parser = _Collector()
    parser.feed(html)
    found = []
    for tag, attrs in parser.tags:
        if tag in BAD_TAGS and (tag, str(attrs)) not in chrome:
            found.append(f"<{tag}>")
        for raw_name, value in attrs:
            name = raw_name.lower()
            if name.startswith("on"):
                found.append(f"<{tag} {name}>")
            if name == "style":
                found.append(f"<{tag} style>")
            cleaned = "".join((value or "").split()).lower()
            if name in URL_ATTRS and cleaned.startswith(BAD_SCHEMES) and (
                    tag, str(attrs)) not in chrome:
                found.append(f"<{tag} {name}={value[:30]!r}>")
    return found


def _chrome(html: str) -> set[tuple[str, str]]:
    parser = _Collector()
    parser.feed(html)
    return {(tag, str(attrs)) for tag, attrs in parser.tags}


def test_the_detector_flags_the_raw_vectors() -> None:
    """The check below is not vacuous: unsanitised, most vectors are flagged."""
    flagged = [v for v in XSS if _executable(v, chrome=set())]
    assert len(flagged) >= 30


def test_no_injected_card_can_run_script_on_any_page(world: World) -> None:
    api = world.api("owner")
    pages = [f"/repos/{world.public}", f"/repos/{world.public}/revisions/2",
             f"/repos/{world.public}/diff", "/search", f"/orgs/{world.org}"]
    anonymous = world.browser(None)  # one anonymous browser reads every page
    chrome = set().union(*(_chrome(anonymous.get(p).text) for p in pages))
    problems = []
    for i, vector in enumerate(XSS):
        card = vector if vector.startswith("---") else f"# Card {i}\n\n{vector}\n"
        r = api.put(f"/api/repos/{world.public}/card", json={"card": card})
        assert r.status_code == 200, (vector, r.text)
        problems += [f"{vector!r} JSON: {p}" for p in _executable(
            r.json()["data"]["card"]["html"], chrome=set())]
        for page in pages:
            r = anonymous.get(page)
            assert r.status_code == 200
            csp = r.headers["content-security-policy"]
            assert "script-src 'self'" in csp and "unsafe-inline" not in csp
            assert "object-src 'none'" in csp and "base-uri 'none'" in csp
            problems += [f"{vector!r} on {page}: {p}" for p in _executable(r.text,
                                                                          chrome=chrome)]
    assert not problems, "\n".join(problems)
    assert len(XSS) >= 40


# ---------------------------------------------------------------------------
# path traversal in attachment names

TRAVERSAL = [
    "../evil.txt", "../../../../etc/passwd", "..\\..\\evil.txt", "..\\evil.txt",
    "/etc/passwd", "/tmp/evil.txt", "C:\\Windows\\evil.txt", "c:evil.txt", "\\\\server\\share",
    "a/../../evil.txt", "sub/evil.txt", "..", ".", "./evil.txt", "....//evil.txt",
    "..%2f..%2fevil.txt", "%2e%2e%2fevil.txt", "%2e%2e/evil.txt", "..%5cevil.txt",
    "evil.txt\x00.png", "\x00", "evil\n.txt", "\u2025/evil.txt", "\u2024\u2024/evil.txt",
    "\uff0e\uff0e\uff0fevil.txt", "..\u2215evil.txt", "..\u29f8evil.txt", ".htaccess",
    "~/evil.txt", "", " ",
]


def _files_outside(root: Path, data_dir: Path) -> set[Path]:
    return {p for p in root.rglob("*") if data_dir not in p.parents and p != data_dir}


def _multipart(name: str, fields: dict[str, str]) -> tuple[bytes, str]:
    """A multipart body with ``name`` as the file name, byte for byte (clients would
    percent-encode or refuse control characters; an attacker's client does not)."""
    boundary = "----scrutiny-test-boundary"
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
             .encode() for k, v in fields.items()]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="files"; '
                 f'filename="'.encode() + name.encode("utf-8", "surrogateescape") +
                 b'"\r\nContent-Type: application/octet-stream\r\n\r\nEVIL-BYTES\r\n')
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def _bare(name: str) -> bool:
    return not ("/" in name or "\\" in name or name.startswith(".") or ".." in name
                or any(ord(c) < 32 for c in name) or not name.strip())


@pytest.mark.parametrize("route", ["api", "form", "push"])
def test_traversal_names_never_write_outside_the_data_folder(world: World, route: str,
                                                             tmp_path: Path) -> None:
    """Each name is rejected (400/422), or stored as a bare name (multipart parsers keep
    only the last part of Windows paths); nothing lands outside the data folder."""
    data_dir = world.hub.hub.settings.data_dir
    outside = _files_outside(tmp_path, data_dir)
    owner, browser = world.api("owner"), world.browser("owner")
    url, listing, client, fields = {
        "api": (f"/api/repos/{world.public}/files", f"/api/repos/{world.public}/files",
                owner, {}),
        "push": (f"/api/repos/{world.org}/pushed/push", f"/api/repos/{world.org}/pushed/files",
                 owner, {}),
        "form": (f"/repos/{world.public}/files", f"/api/repos/{world.public}/files", browser,
                 {"csrf_token": browser.csrf}),
    }[route]
    problems = []
    for name in TRAVERSAL:
        before = _counts(world)
        body, ctype = _multipart(name, fields)
        r = client.post(url, content=body, headers={"content-type": ctype},
                        follow_redirects=False)
        if r.status_code in (201, 303):
            names = [f["name"] for f in owner.get(listing).json()["data"]["files"]]
            bad = [n for n in names if not _bare(n)]
            if bad:
                problems.append(f"{name!r} accepted via {route}: stored as {bad}")
        elif r.status_code not in (400, 422):
            problems.append(f"{name!r} via {route}: {r.status_code} {r.text[:100]}")
        elif _counts(world) != before:
            problems.append(f"{name!r} via {route}: rejected but rows were written")
    assert not problems, "\n".join(problems)
    assert _files_outside(tmp_path, data_dir) == outside
    leftovers = [p for p in data_dir.rglob("*") if p.name.startswith(".upload-")]
    assert not leftovers


@pytest.mark.parametrize("path", [
    "..%2F..%2Fhub.db", "%2e%2e%2fhub.db", "..%5Chub.db", "%00", "README.md%00.png",
    "%2e%2e", "blobs", "audit.json%2F..%2F..%2Fhub.db",
])
def test_traversal_in_download_and_delete_urls_is_404(world: World, path: str) -> None:
    owner = world.api("owner")
    before = _counts(world)
    for url in (f"/repos/{world.public}/files/{path}", f"/api/repos/{world.public}/files/{path}"):
        r = owner.get(url)
        assert r.status_code in (404, 422), (url, r.status_code)
        assert b"SQLite format" not in r.content
    r = owner.delete(f"/api/repos/{world.public}/files/{path}")
    assert r.status_code in (404, 405, 422), r.status_code
    assert _counts(world) == before


# ---------------------------------------------------------------------------
# oversized uploads (beyond test_files: the form, push, several files)


def _blobs(world: World) -> list[Path]:
    root = world.hub.hub.settings.data_dir / "blobs"
    return sorted(root.rglob("*")) if root.exists() else []


@pytest.mark.parametrize("route", ["form", "push", "second-file", "push-new-repo"])
def test_oversized_uploads_are_413_and_store_nothing(world: World, route: str) -> None:
    limit = world.hub.hub.settings.max_upload_bytes
    big = b"x" * (limit + 1)
    owner, browser = world.api("owner"), world.browser("owner")
    before, blobs = _counts(world), _blobs(world)
    if route == "form":
        r = browser.post_form(f"/repos/{world.public}/files", files=[("files", ("big.bin", big))])
    elif route == "push":
        r = owner.post(f"/api/repos/{world.public}/push", files=[("files", ("big.bin", big))])
    elif route == "push-new-repo":
        r = owner.post(f"/api/repos/{world.org}/fresh/push", files=[("files", ("big.bin", big))])
    else:
        r = owner.post(f"/api/repos/{world.public}/files", files=[
            ("files", ("small.txt", b"UNIQUE-SMALL-FILE")), ("files", ("big.bin", big))])
    assert r.status_code == 413, r.text[:200]
    assert _counts(world) == before
    new = [p for p in _blobs(world) if p not in blobs and p.is_file()]
    # the oversized file is never kept; a smaller file before it in the same request may
    # leave an unreferenced blob (content-addressed, so it cannot be removed safely here)
    assert all(p.stat().st_size <= limit for p in new)
    assert len(new) <= (1 if route == "second-file" else 0)
    assert not [p for p in _blobs(world) if p.name.startswith(".upload-")]
    if route == "push-new-repo":
        assert owner.get(f"/api/repos/{world.org}/fresh").status_code == 404


# ---------------------------------------------------------------------------
# SQL injection, on both databases

PROBES = [
    "' OR '1'='1", "' OR 1=1 --", "\" OR \"\"=\"", "'; DROP TABLE repositories; --",
    "'; DELETE FROM users; --", "1; UPDATE memberships SET role='owner'", "admin'--",
    "') OR ('a'='a", "' UNION SELECT username, password_hash FROM users --",
    "1' AND SLEEP(1) --", "'; SELECT pg_sleep(1); --", "\\'; --", "%", "_", "%%", "\\",
    "100%", "a_b", "[a-z]*", "*", "' COLLATE NOCASE --", "$$; DROP TABLE users; $$",
    "\u02bc OR 1=1", "secret",
]


def _search_all(client: TestClient) -> list[dict[str, Any]]:
    return client.get("/api/search").json()["data"]["results"]


@BOTH
def test_sql_injection_probes_are_plain_text(world: World, backend: str) -> None:
    owner, anon = world.api("owner"), world.browser(None)
    for i, title in enumerate(("It's 100% _real_ [a-z]*", "Quote \" and back\\slash")):
        r = owner.put(f"/api/repos/{world.org}/open{'-' + str(i) if i else ''}/card",
                      json={"card": f"# {title}\n"}) if i == 0 else owner.post(
            "/api/repos", json={"org": world.org, "name": "other", "private": False,
                                "card": f"# {title}\n"})
        assert r.status_code in (200, 201), r.text
    visible = _search_all(anon)
    before = _counts(world)
    problems = []
    for probe in PROBES:
        needle = probe.strip().lower()
        literal = sorted(r["full_name"] for r in visible if any(
            needle in (v or "").lower() for v in (r["name"], r["full_name"].split("/")[0],
                                                  r.get("title"))))
        r = anon.get("/api/search", params={"q": probe})
        assert r.status_code == 200, (probe, r.status_code)
        got = sorted(x["full_name"] for x in r.json()["data"]["results"])
        if got != literal:
            problems.append(f"q={probe!r}: {got} != {literal}")
        for key in ("tag", "license", "task", "kind"):
            r = anon.get("/api/search", params={key: probe})
            if r.status_code != 200 or r.json()["data"]["results"]:
                problems.append(f"{key}={probe!r}: {r.status_code}")
        for url in (f"/api/repos/{world.org}/{probe}", f"/api/orgs/{probe}",
                    f"/api/users/{probe}", f"/api/repos/{world.org}/open/diff?base={probe}",
                    f"/api/repos/{world.org}/open/files?rev={probe}",
                    f"/api/search?page={probe}"):
            r = owner.get(url)
            if r.status_code >= 500 or (r.status_code == 200 and "argon2" in r.text):
                problems.append(f"{url}: {r.status_code}")
        if NAME_RE.match(probe) or REPO_RE.match(probe):
            continue  # a valid name: creating it is fine (see below)
        for method, url, body in (
                ("POST", "/api/orgs", {"name": probe}),
                ("POST", "/api/repos", {"org": world.org, "name": probe}),
                ("POST", "/api/repos", {"org": probe, "name": "x"}),
                ("PUT", f"/api/orgs/{world.org}/members/{probe}", {"role": "owner"}),
                ("PUT", f"/api/orgs/{world.org}/members/viewer-user", {"role": probe}),
                ("DELETE", f"/api/orgs/{world.org}/members/{probe}", None)):
            r = owner.request(method, url, json=body)
            if r.status_code not in (404, 405, 409, 422):
                problems.append(f"{method} {url} {body}: {r.status_code} {r.text[:100]}")
    assert not problems, "\n".join(problems)
    assert _counts(world) == before
    # text fields keep the probe verbatim (stored as data, never run)
    for probe in PROBES:
        r = owner.post(f"/api/repos/{world.public}/deliberation/evidence",
                       json={"kind": "interview", "summary": probe, "source": probe})
        assert r.status_code == 201, (probe, r.text)
        assert r.json()["data"]["data"]["summary"] == probe
    r = owner.post("/api/orgs", json={"name": "probe-org", "display_name": PROBES[0],
                                      "description": PROBES[3]})
    assert r.status_code == 201
    org = owner.get("/api/orgs/probe-org").json()["data"]["org"]
    assert (org["display_name"], org["description"]) == (PROBES[0], PROBES[3])
    after = _counts(world)
    assert after["users"] == before["users"] and after["repositories"] == before["repositories"]
    assert after["memberships"] == before["memberships"] + 1


def test_json_bodies_with_injection_keys_and_types_are_422_not_500(world: World) -> None:
    owner = world.api("owner")
    before = _counts(world)
    for body in ({"card": {"$ne": ""}}, {"card": ["' OR 1=1"]}, {"card": None},
                 {"card": "x", "message": {"sql": "1=1"}}, {"card": "x", "extra": "' OR 1"}):
        r = owner.put(f"/api/repos/{world.public}/card", json=body)
        assert r.status_code == 422, (body, r.status_code)
    r = owner.put(f"/api/repos/{world.public}/card", content=b"{'card': 1}",
                  headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert _counts(world) == before
    assert json.loads(owner.get("/api/health").text)["ok"] is True

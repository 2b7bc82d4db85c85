"""The authorisation matrix of hub part 2's gating: roles x routes x gating states.

Callers: anonymous, one per role of the owning organisation, a site moderator,
and outsiders in every gating state (no request, pending, accepted,
rejected). For each caller every gated read (pages in a signed-in browser,
``/api`` twins with a read-scoped token) is compared with :func:`expected`,
which restates the rule of ``docs/guide/hub.md``: members of the organisation,
moderators and accepted users read the content; everyone else gets 401
(anonymous) or 403, and no response body anywhere (card page, access page,
search, home, organisation and user pages included) carries a gated file's
bytes or an audit's numbers. The new routes (access, review, gating
settings, preferences, acknowledgement) get a row each, and the
not-for-all-audiences interstitial is checked per route against
acknowledgement (none, session form, query parameter) and the content preference.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from tests.hub.conftest import ROLES
from tests.hub.test_audience import CONTENT, nfaa_repo
from tests.hub.test_gating import ANSWERS, GATED_SECRETS, make_gated

STATES = ("pending", "accepted", "rejected")
CALLERS: tuple[str | None, ...] = (None, *ROLES, "moderator", "outsider", *STATES)
#: Gated reads (relative to the repository), and whether they have an /api twin.
GATED_READS = {
    "/files": True, "/files/secret.txt": False, "/audits": True, "/audits/1": True,
    "/audits/1/report": False, "/attributions": True, "/deliberation": True,
    "/deliberation/evidence/{item}": True, "/activity": True, "/revisions": True,
    "/revisions/2": True, "/diff": True,
}
#: Reads that stay open under gating (the card and the access form), and site-wide pages.
OPEN_READS = ("", "/access")
SITE_READS = ("/", "/search?q=gated", "/orgs/acme", "/users/owner-user", "/users/outsider")


def expected(caller: str | None) -> int:
    """Status of a gated read for ``caller``: the rule of the docs, restated."""
    if caller in (*ROLES, "moderator", "accepted"):
        return 200
    return 401 if caller is None else 403


@pytest.fixture
def gworld(world: Any) -> Any:
    """The world, a manually gated repository ``acme/gated`` and one outsider per state."""
    full = make_gated(world, "manual")
    for state in STATES:
        world.users[state] = f"{state}-user"
        world.hub.user(f"{state}-user")
        r = world.api(state).post(f"/api/repos/{full}/access", json={"answers": ANSWERS})
        assert r.status_code == 201, r.text
        if state != "pending":
            r = world.api("owner").put(f"/api/repos/{full}/access/requests/{state}-user",
                                       json={"status": state, "reason": "not now"})
            assert r.status_code == 200, r.text
    from scrutiny.hub._db import DeliberationItem

    with world.hub.db() as db:
        world.item = db.scalar(select(DeliberationItem.id).where(
            DeliberationItem.kind == "evidence").order_by(DeliberationItem.id.desc()))
    world.gated = full
    return world


def _clients(world: Any, caller: str | None) -> tuple[Any, Any]:
    """A browser for pages and a read-token client for JSON (anonymous: the same browser)."""
    browser = world.browser(caller)
    return browser, (world.api(caller, "read") if caller else browser)


@pytest.mark.parametrize("caller", CALLERS)
def test_each_caller_against_every_gated_read_and_every_new_route(gworld, caller):
    """One world per caller: the gated reads first, then the new routes (which change it)."""
    _gated_reads(gworld, caller)
    _new_routes(gworld, caller)


def _gated_reads(gworld: Any, caller: str | None) -> None:
    """Gated content is read only by those with access, and leaks nowhere else."""
    browser, api = _clients(gworld, caller)
    base = f"/repos/{gworld.gated}"
    want = expected(caller)
    bodies = []
    for template, twin in GATED_READS.items():
        path = template.format(item=gworld.item)
        r = browser.get(base + path)
        assert r.status_code == want, (caller, path, r.text[:200])
        bodies.append(r.text)
        if twin:
            r = api.get("/api" + base + path)
            assert r.status_code == want, (caller, "/api" + path, r.text[:200])
            bodies.append(r.text)
            if want != 200:
                assert r.json()["error"]["field"] == "access"
    r = api.get(f"/api{base}/files/secret.txt")
    assert r.status_code == want, (caller, "file metadata")
    for path in OPEN_READS:
        for client, prefix in ((browser, ""), (api, "/api")):
            r = client.get(prefix + base + path)
            assert r.status_code == 200, (caller, prefix + path)
            bodies.append(r.text)
    for path in SITE_READS:
        bodies += [browser.get(path).text, api.get("/api" + path if path != "/" else "/api/").text]
    seen = " ".join(bodies)
    leaked = [k for k, v in GATED_SECRETS.items() if v in seen]
    if want == 200:
        assert not [k for k, v in GATED_SECRETS.items() if v not in seen], "markers not stored"
    else:
        assert not leaked, (caller, leaked)
        assert "The public card of a gated model." in seen  # the card stays visible


def _new_route_rows(world: Any) -> list[tuple[str, str, dict[str, Any], Any]]:
    """(method, path, request kwargs, expectation by caller) for each new route."""
    g = f"/repos/{world.gated}"

    def reviewers(c: str | None) -> int:
        return 200 if c in ("owner", "maintainer") else 401 if c is None else 403

    def owners(c: str | None) -> int:
        return 200 if c == "owner" else 401 if c is None else 403

    def signed_in(c: str | None) -> int:
        return 401 if c is None else 200

    def requesting(c: str | None) -> int:
        return 401 if c is None else 201 if c == "outsider" else 409

    return [
        ("GET", g + "/access", {}, lambda c: 200),
        ("GET", g + "/access/requests", {}, reviewers),
        ("GET", g + "/gating", {}, owners),
        ("GET", "/account/preferences", {}, signed_in),
        ("PUT", f"/api{g}/access/requests/pending-user", {"json": {"status": "pending"}},
         reviewers),
        ("PUT", f"/api{g}/gating", {"json": {"mode": "manual"}}, owners),
        ("PUT", "/api/account/preferences", {"json": {"show_nfaa_without_warning": False}},
         signed_in),
        ("POST", f"/api{g}/access", {"json": {"answers": ANSWERS}}, requesting),
    ]


def _new_routes(gworld: Any, caller: str | None) -> None:
    """Every new route answers each caller as documented."""
    browser, reader = _clients(gworld, caller)
    writer = gworld.api(caller) if caller else browser
    for method, path, kw, rule in _new_route_rows(gworld):
        if method == "GET":
            for client, p in ((browser, path), (writer, "/api" + path)):
                r = client.get(p)
                assert r.status_code == rule(caller), (caller, p, r.text[:200])
            if caller is not None and "/repos/" in path and not path.endswith("/access"):
                # review and settings pages need a write action: read tokens never see them
                assert reader.get("/api" + path).status_code == 403, (caller, path)
            elif caller is not None:
                assert reader.get("/api" + path).status_code == 200, (caller, path)
            continue
        if caller is not None:  # a read token may never write
            r = reader.request(method, path, **kw)
            assert r.status_code == 403 and r.json()["error"]["field"] == "token", (caller, path)
        r = writer.request(method, path, **kw)
        assert r.status_code == rule(caller), (caller, method, path, r.text[:200])
    # the acknowledgement form: anyone with the page's CSRF token; nobody without
    r = browser.post(f"/repos/{gworld.gated}/acknowledge", follow_redirects=False)
    assert r.status_code == 403
    r = browser.post_form(f"/repos/{gworld.gated}/acknowledge")
    assert r.status_code == 303


PREF = "pref"
NFAA_CALLERS = (None, "outsider", "owner", "moderator", PREF)
NFAA_PATHS = ("", "/files", "/audits", "/revisions", "/access")


@pytest.mark.parametrize("ack", ["none", "session", "param"])
def test_the_interstitial_per_route_caller_and_acknowledgement(world, ack):
    full = nfaa_repo(world)
    world.users[PREF] = "pref-user"
    world.hub.user("pref-user")
    r = world.api(PREF).put("/api/account/preferences", json={"show_nfaa_without_warning": True})
    assert r.status_code == 200
    for caller in NFAA_CALLERS:
        browser = world.browser(caller)
        if ack == "session":
            assert browser.post_form(f"/repos/{full}/acknowledge").status_code == 303
        query = "?acknowledge=not-for-all-audiences" if ack == "param" else ""
        warned = caller != PREF and ack == "none"
        for path in NFAA_PATHS:
            page = browser.get(f"/repos/{full}{path}{query}")
            assert page.status_code == 200, (caller, path)
            assert ("Content warning" in page.text) is warned, (caller, ack, path)
            data = browser.get(f"/api/repos/{full}{path}{query}").json()["data"]
            assert ("interstitial" in data) is warned, (caller, ack, path)
            if warned:
                assert CONTENT not in page.text and set(data) == {"interstitial"}
        if caller is not None and ack != "session":  # API tokens: the preference or the param
            token = world.api(caller, "read").get(f"/api/repos/{full}{query}").json()["data"]
            assert ("interstitial" in token) is (caller != PREF and ack == "none")


def test_the_interstitial_comes_before_the_gate(world):
    full = nfaa_repo(world, name="both")
    world.api("owner").put(f"/api/repos/{full}/gating", json={"mode": "manual"})
    anon = world.browser(None)
    r = anon.get(f"/api/repos/{full}/files")
    assert r.status_code == 200 and set(r.json()["data"]) == {"interstitial"}
    r = anon.get(f"/api/repos/{full}/files?acknowledge=not-for-all-audiences")
    assert r.status_code == 401 and r.json()["error"]["field"] == "access"

"""Accounts: sign-up, sign-in, sign-out, session rotation, CSRF, API tokens and scopes."""

from __future__ import annotations

from fastapi.testclient import TestClient

from scrutiny.hub._security import PRESESSION_COOKIE, SESSION_COOKIE

PASSWORD = "a long enough password"  # the factory's password (HubFactory.PASSWORD)


def csrf_from(html: str) -> str:
    from re import search

    return search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def _signup(client: TestClient, username: str = "alice", password: str = PASSWORD):
    token = csrf_from(client.get("/signup").text)
    return client.post("/signup", data={"username": username, "password": password,
                                        "display_name": "Alice A.", "csrf_token": token},
                       follow_redirects=False)


def test_signup_signs_in_and_shows_the_account(client):
    r = _signup(client)
    assert r.status_code == 303 and r.headers["location"] == "/account"
    assert client.cookies.get(SESSION_COOKIE)
    page = client.get("/account")
    assert page.status_code == 200 and "Alice A." in page.text
    data = client.get("/api/account").json()
    assert data["ok"] is True and data["data"]["user"]["username"] == "alice"


def test_signup_rejects_taken_names_bad_names_and_short_passwords(client, hub):
    hub.user("bob")
    r = _signup(client, "bob")
    assert r.status_code == 409 and "taken" in r.text
    r = _signup(client, "Bad Name!")
    assert r.status_code == 422 and "username" in r.text
    r = _signup(client, "carol", "short")
    assert r.status_code == 422 and "at least 8" in r.text


def test_signin_wrong_password_is_401_with_the_envelope_as_json(client, hub):
    hub.user("alice")
    token = csrf_from(client.get("/signin").text)
    r = client.post("/signin", data={"username": "alice", "password": "nope nope nope",
                                     "csrf_token": token},
                    headers={"Accept": "application/json"})
    assert r.status_code == 401
    assert r.json() == {"ok": False, "error": {
        "code": "unauthorized", "field": "password",
        "message": "password: wrong username or password. Check both and try again."}}


def test_signin_rotates_the_session_against_fixation(client, hub):
    hub.user("alice")
    victim = hub.browser("alice")  # an existing valid session token an attacker planted
    planted = victim.cookies.get(SESSION_COOKIE)
    client.cookies.set(SESSION_COOKIE, planted)
    token = csrf_from(client.get("/signin").text)
    r = client.post("/signin", data={"username": "alice", "password": PASSWORD,
                                     "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
    fresh = r.cookies.get(SESSION_COOKIE)
    assert fresh and fresh != planted
    # the planted session no longer authenticates anyone
    assert TestClient(client.app, cookies={SESSION_COOKIE: planted}).get(
        "/api/account").status_code == 401
    assert client.get("/api/account").json()["data"]["user"]["username"] == "alice"


def test_signin_with_an_unknown_planted_cookie_still_gets_a_new_token(client, hub):
    hub.user("alice")
    client.cookies.set(SESSION_COOKIE, "attacker-chosen-value")
    token = csrf_from(client.get("/signin").text)
    r = client.post("/signin", data={"username": "alice", "password": PASSWORD,
                                     "csrf_token": token}, follow_redirects=False)
    assert r.cookies.get(SESSION_COOKIE) not in (None, "attacker-chosen-value")


def test_signout_ends_the_session(hub):
    hub.user("alice")
    b = hub.browser("alice")
    token = b.cookies.get(SESSION_COOKIE)
    assert b.post_form("/signout").status_code == 303
    assert TestClient(b.app, cookies={SESSION_COOKIE: token}).get(
        "/api/account").status_code == 401


def test_forms_without_or_with_a_wrong_csrf_token_are_rejected(hub):
    hub.user("alice")
    b = hub.browser("alice")
    for data in ({}, {"csrf_token": "forged"}):
        r = b.post("/orgs/new", data={"name": "acme", **data}, follow_redirects=False)
        assert r.status_code == 403
        assert "csrf_token" in r.text
    # a token from another session does not work either
    hub.user("mallory")
    other = hub.browser("mallory")
    r = b.post("/orgs/new", data={"name": "acme", "csrf_token": other.csrf})
    assert r.status_code == 403
    assert b.post_form("/orgs/new", {"name": "acme"}).status_code == 303


def test_login_form_needs_the_pre_session_csrf_token(client, hub):
    hub.user("alice")
    r = client.post("/signin", data={"username": "alice", "password": PASSWORD})
    assert r.status_code == 403
    client.get("/signin")
    assert client.cookies.get(PRESESSION_COOKIE)


def test_cookie_authenticated_json_writes_need_the_csrf_header(hub):
    hub.user("alice")
    b = hub.browser("alice")
    r = b.post("/api/orgs", json={"name": "acme"})
    assert r.status_code == 403 and r.json()["error"]["field"] == "csrf_token"
    r = b.post("/api/orgs", json={"name": "acme"}, headers={"X-CSRF-Token": b.csrf})
    assert r.status_code == 201


def test_bearer_tokens_need_no_csrf_and_scopes_limit_them(world):
    reader = world.api("maintainer", "read")
    writer = world.api("maintainer", "write")
    assert reader.get(f"/api/repos/{world.private}").status_code == 200
    r = reader.put(f"/api/repos/{world.public}/card", json={"card": "# x"})
    assert r.status_code == 403 and "read" in r.json()["error"]["message"]
    assert writer.put(f"/api/repos/{world.public}/card", json={"card": "# x"}).status_code == 200


def test_invalid_bearer_tokens_are_401_even_on_public_pages(client):
    for header in ("Bearer nope", "Basic abc", "Bearer "):
        r = client.get("/api/search", headers={"Authorization": header})
        assert r.status_code == 401
        assert r.json()["error"]["field"] == "Authorization"
        assert r.headers["www-authenticate"] == "Bearer"


def test_tokens_are_created_shown_once_stored_hashed_and_revoked(hub):
    from sqlalchemy import select

    from scrutiny.hub._db import ApiToken

    hub.user("alice")
    b = hub.browser("alice")
    r = b.post_form("/account/tokens", {"name": "laptop", "scope": "write"})
    assert r.status_code == 201
    secret = r.text.split("data-copy>")[1].split("<")[0]
    with hub.db() as db:
        row = db.scalar(select(ApiToken))
    assert secret not in row.token_hash and len(row.token_hash) == 64
    api = TestClient(b.app, headers={"Authorization": f"Bearer {secret}"})
    assert api.get("/api/account").status_code == 200
    listed = b.get("/api/account").json()["data"]["tokens"]
    assert [t["name"] for t in listed] == ["laptop"] and "token_hash" not in listed[0]
    assert secret not in b.get("/account").text
    assert b.post_form(f"/account/tokens/{row.id}/revoke").status_code == 303
    assert api.get("/api/account").status_code == 401


def test_a_token_cannot_create_tokens(world):
    api = world.api("owner")
    r = api.post("/account/tokens", data={"name": "x", "scope": "write"})
    assert r.status_code == 403


def test_open_redirects_after_signin_are_refused(client, hub):
    hub.user("alice")
    token = csrf_from(client.get("/signin").text)
    r = client.post("/signin", data={"username": "alice", "password": PASSWORD,
                                     "csrf_token": token, "next": "//evil.example/x"},
                    follow_redirects=False)
    assert r.headers["location"] == "/account"


def test_user_profile_shows_work_on_visible_repositories_only(world):
    owner = world.api("owner")
    owner.put(f"/api/repos/{world.private}/card", json={"card": "# private change"})
    owner.put(f"/api/repos/{world.public}/card", json={"card": "# public change"})
    anon = world.browser(None).get(f"/api/users/{world.users['owner']}").json()["data"]
    assert {a["repo"] for a in anon["activity"]} == {world.public}
    member = world.browser("viewer").get(f"/api/users/{world.users['owner']}").json()["data"]
    assert {a["repo"] for a in member["activity"]} == {world.public, world.private}

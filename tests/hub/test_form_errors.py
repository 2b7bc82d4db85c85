"""Form errors a person can fix re-show the form: the message, the field, what was typed.

The status stays the error's (401, 409, 422) and JSON clients still get the
error envelope; the page is the form again, with the values sent (escaped, never
the password) and a working CSRF token, so correcting one field is enough.
"""

from __future__ import annotations

import html
import re

from fastapi.testclient import TestClient

PASSWORD = "a long enough password"  # the factory's password (HubFactory.PASSWORD)
TYPED_PASSWORD = "my secret passphrase 42"


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def _input(page: str, name: str) -> str:
    """The ``<input>`` (or ``<textarea>`` start tag) of a field."""
    m = re.search(rf'<(?:input|textarea)[^>]*\bname="{name}"[^>]*>', page)
    assert m, f"no field {name!r} on the page"
    return m.group(0)


def test_signup_with_a_taken_name_shows_the_form_again(client: TestClient, hub):
    hub.user("bob")
    token = _csrf(client.get("/signup").text)
    r = client.post("/signup", data={"username": "bob", "display_name": "Bob \"B\" <b>",
                                     "password": TYPED_PASSWORD, "csrf_token": token},
                    follow_redirects=False)
    assert r.status_code == 409
    page = r.text
    assert 'role="alert"' in page and "&#39;bob&#39; is taken" in page
    assert 'value="bob"' in _input(page, "username")
    assert 'aria-invalid="true"' in _input(page, "username")
    assert 'aria-invalid' not in _input(page, "display_name")
    # what was typed comes back escaped, the password never
    assert 'value="Bob &#34;B&#34; &lt;b&gt;"' in _input(page, "display_name")
    assert TYPED_PASSWORD not in page and 'value=' not in _input(page, "password")
    # the re-shown form works: fix the one field and submit
    r = client.post("/signup", data={"username": "bobby", "display_name": "Bob",
                                     "password": TYPED_PASSWORD, "csrf_token": _csrf(page)},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/account"


def test_signin_with_a_wrong_password_keeps_the_username_and_next(client: TestClient, hub):
    hub.user("alice")
    token = _csrf(client.get("/signin?next=/orgs/new").text)
    r = client.post("/signin", data={"username": "alice", "password": TYPED_PASSWORD,
                                     "next": "/orgs/new", "csrf_token": token},
                    follow_redirects=False)
    assert r.status_code == 401
    page = r.text
    assert "wrong username or password" in page
    assert 'value="alice"' in _input(page, "username")
    assert 'aria-invalid="true"' in _input(page, "password")
    assert 'value="/orgs/new"' in _input(page, "next")
    assert TYPED_PASSWORD not in page
    r = client.post("/signin", data={"username": "alice", "password": PASSWORD,
                                     "next": "/orgs/new", "csrf_token": _csrf(page)},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/orgs/new"


def test_new_organisation_with_a_bad_name_keeps_the_description(world):
    b = world.browser("owner")
    description = "Credit models for <script>alert(1)</script> the north."
    r = b.post_form("/orgs/new", {"name": "Not Valid!", "display_name": "North",
                                  "description": description})
    assert r.status_code == 422
    page = r.text
    assert 'aria-invalid="true"' in _input(page, "name")
    assert 'value="Not Valid!"' in _input(page, "name")
    assert "Credit models for &lt;script&gt;alert(1)&lt;/script&gt; the north." in page
    assert "<script>alert(1)</script>" not in page
    r = b.post("/orgs/new", data={"name": "north", "description": description,
                                  "csrf_token": _csrf(page)}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/orgs/north"


def test_new_repository_with_a_bad_name_keeps_every_choice(world):
    b = world.browser("owner")
    card = "---\nlicense: mit\n---\n# A dataset card\n"
    r = b.post_form("/repos/new", {"org": "acme", "name": "bad name", "kind": "dataset",
                                   "visibility": "public", "card": card})
    assert r.status_code == 422
    page = r.text
    assert 'aria-invalid="true"' in _input(page, "name")
    assert re.search(r'<option selected>acme</option>', page)
    assert re.search(r'value="dataset" checked', page)
    assert re.search(r'value="public" checked', page)
    assert "# A dataset card" in page
    r = b.post("/repos/new", data={"org": "acme", "name": "good-name", "kind": "dataset",
                                   "visibility": "public", "card": card,
                                   "csrf_token": _csrf(page)}, follow_redirects=False)
    assert r.status_code == 303
    repo = world.api("owner").get("/api/repos/acme/good-name").json()["data"]["repo"]
    assert repo["kind"] == "dataset" and repo["private"] is False


def test_json_clients_and_other_errors_are_unchanged(world, client: TestClient, hub):
    # a client that asks for JSON gets the envelope, not the form
    b = world.browser("owner")
    r = b.post_form("/orgs/new", {"name": "Not Valid!"}, headers={"Accept": "application/json"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "name"
    # errors that are not about what was typed keep the error page: a forged CSRF token
    r = b.post("/orgs/new", data={"name": "north", "csrf_token": "forged"},
               follow_redirects=False)
    assert r.status_code == 403 and 'name="description"' not in r.text
    # and anonymous posts are sent to sign in, not shown a form to fill
    token = _csrf(client.get("/signin").text)
    r = client.post("/orgs/new", data={"name": "north", "csrf_token": token},
                    follow_redirects=False)
    assert r.status_code == 401 and 'name="description"' not in r.text


def test_card_edit_with_a_bad_message_keeps_the_edited_card(world):
    b = world.browser("maintainer")
    card = "---\nlicense: mit\n---\n# Open credit model\n\nA long edit nobody wants to redo.\n"
    r = b.post_form(f"/repos/{world.public}/edit", {"card": card, "message": "x" * 501})
    assert r.status_code == 422
    page = r.text
    assert 'aria-invalid="true"' in _input(page, "message")
    assert "A long edit nobody wants to redo." in page
    before = world.api("maintainer").get(f"/api/repos/{world.public}").json()["data"]
    assert "A long edit" not in str(before)  # nothing was saved
    r = b.post(f"/repos/{world.public}/edit",
               data={"card": card, "message": "Explain", "csrf_token": _csrf(page)},
               follow_redirects=False)
    assert r.status_code == 303


def test_report_with_a_bad_reason_keeps_the_description(world):
    b = world.browser("outsider")
    r = b.post_form(f"/repos/{world.public}/report",
                    {"reason": "bogus", "description": "It labels <people> unfairly."})
    assert r.status_code == 422
    page = r.text
    assert "It labels &lt;people&gt; unfairly." in page
    r = b.post(f"/repos/{world.public}/report",
               data={"reason": "ethical", "description": "It labels people unfairly.",
                     "csrf_token": _csrf(page)}, follow_redirects=False)
    assert r.status_code == 303


def test_discussion_forms_come_back_in_the_right_place(world):
    b = world.browser("outsider")
    # a proposal that changes nothing is refused: the proposal form comes back open, filled
    current = b.get(f"/repos/{world.public}/discussions").text
    card = re.search(r'<textarea id="p-card"[^>]*>(.*?)</textarea>', current, re.S).group(1)
    r = b.post_form(f"/repos/{world.public}/discussions",
                    {"title": "Same card", "body": "Why not", "card": html.unescape(card)})
    assert r.status_code == 409
    page = r.text
    assert re.search(r'<details class="add" id="new-proposal" open>', page)
    assert 'id="new-discussion" open' not in page
    assert 'value="Same card"' in re.search(r'<input id="p-title"[^>]*>', page).group(0)
    assert 'value=' not in re.search(r'<input id="d-title"[^>]*>', page).group(0)
    # a discussion with a title over the limit: the discussion form comes back open, filled
    r = b.post_form(f"/repos/{world.public}/discussions",
                    {"title": "t" * 201, "body": "My careful comment."})
    assert r.status_code == 422
    page = r.text
    assert re.search(r'<details class="add" id="new-discussion" open>', page)
    assert re.search(r'<textarea id="d-body"[^>]*>My careful comment\.</textarea>', page)

"""Repositories: creation rules, private content hidden everywhere, safe cards, history."""

from __future__ import annotations

import re

import pytest

XSS_CARD = """---
license: mit
tags: [rigorous, "<script>alert(1)</script>"]
---
# Model <img src=x onerror="alert('title')">

<script>alert('script')</script>
<img src="x" onerror="alert('img')">
[click me](javascript:alert('link'))
<a href="javascript:alert('a')">raw link</a>
<a href="JaVaScRiPt:alert('mixed')">mixed case</a>
<iframe src="https://evil.example"></iframe>
<div onclick="alert('div')" style="background:url(javascript:alert(1))">hover</div>
<svg><script>alert('svg')</script></svg>
"""


def test_maintainer_creates_a_repository_and_it_shows_on_the_org_page(world):
    b = world.browser("maintainer")
    r = b.post_form("/repos/new", {"org": "acme", "name": "credit-v2", "kind": "dataset",
                                   "visibility": "public",
                                   "card": "---\nlicense: cc-by-4.0\n---\n# Credit data\n"})
    assert r.status_code == 303 and r.headers["location"] == "/repos/acme/credit-v2"
    data = b.get("/api/repos/acme/credit-v2").json()["data"]
    assert data["repo"]["kind"] == "dataset" and data["repo"]["license"] == "cc-by-4.0"
    assert data["repo"]["title"] == "Credit data"
    names = [r["name"] for r in b.get("/api/orgs/acme").json()["data"]["repos"]]
    assert "credit-v2" in names


@pytest.mark.parametrize(("who", "status"), [("member", 403), ("outsider", 403), (None, 401)])
def test_only_maintainers_and_owners_create_repositories(world, who, status):
    r = world.browser(who).post_form("/repos/new", {"org": "acme", "name": "x",
                                                    "kind": "model"})
    assert r.status_code == status


@pytest.mark.parametrize(("name", "fragment"), [
    ("Bad Name", "not a valid name"), ("-dash", "not a valid name"), ("a" * 97, "characters"),
    ("a..b", "'..'"), ("UPPER", "Did you mean 'upper'"),
])
def test_repository_names_are_validated_and_the_error_names_the_field(world, name, fragment):
    api = world.api("owner")
    r = api.post("/api/repos", json={"org": "acme", "name": name})
    assert r.status_code == 422
    err = r.json()["error"]
    assert err["field"] == "name" and fragment in err["message"]


def test_duplicate_repository_is_409(world):
    r = world.api("owner").post("/api/repos", json={"org": "acme", "name": "open"})
    assert r.status_code == 409 and r.json()["error"]["field"] == "name"


PRIVATE_PATHS = ["", "/files", "/revisions", "/revisions/1", "/diff", "/audits", "/attributions",
                 "/deliberation", "/activity", "/files/README.md"]


@pytest.mark.parametrize("suffix", PRIVATE_PATHS)
@pytest.mark.parametrize("who", [None, "outsider"])
def test_private_repositories_are_404_for_outsiders_in_pages_and_api(world, who, suffix):
    client = world.browser(who)
    for prefix in ("", "/api"):
        r = client.get(f"{prefix}/repos/{world.private}{suffix}")
        assert r.status_code == 404, (prefix, suffix, r.text[:200])
        # indistinguishable from a repository that does not exist
        missing = client.get(f"{prefix}/repos/acme/does-not-exist{suffix}")
        assert missing.status_code == 404
        if prefix:
            assert r.json()["error"]["message"] == missing.json()["error"]["message"].replace(
                "does-not-exist", "secret")


@pytest.mark.parametrize("who", ["viewer", "member", "reviewer", "maintainer", "owner",
                                 "moderator"])
def test_private_repositories_are_visible_to_members_and_moderators(world, who):
    client = world.browser(who)
    assert client.get(f"/repos/{world.private}").status_code == 200
    results = client.get("/api/search").json()["data"]["results"]
    assert world.private in {r["full_name"] for r in results}


@pytest.mark.parametrize("who", [None, "outsider"])
def test_search_home_and_org_pages_never_list_private_repositories(world, who):
    client = world.browser(who)
    for path in ("/api/search", "/api/search?q=secret", "/api/search?tag=consentful",
                 "/api/search?license=apache-2.0", "/api/", "/api/orgs/acme"):
        text = client.get(path).text
        assert "secret" not in text.replace('"q":"secret"', ""), path
    facets = client.get("/api/search").json()["data"]["facets"]
    assert "consentful" not in facets["tag"] and "apache-2.0" not in facets["license"]


def test_private_write_attempts_by_outsiders_are_404_not_403(world):
    api = world.api("outsider")
    assert api.put(f"/api/repos/{world.private}/card", json={"card": "x"}).status_code == 404
    assert api.put(f"/api/repos/{world.public}/card", json={"card": "x"}).status_code == 403


def test_card_is_sanitised_against_script_injection(world):
    api = world.api("owner")
    assert api.put(f"/api/repos/{world.public}/card", json={"card": XSS_CARD}).status_code == 200
    page = world.browser(None).get(f"/repos/{world.public}").text
    body = page.split('<article class="card-body">')[1].split("</article>")[0]
    lowered = body.lower()
    for bad in ("<script", "onerror", "onclick", "<iframe", "style="):
        assert bad not in lowered, bad
    assert not re.search(r"""(href|src)\s*=\s*["']?\s*javascript:""", lowered)
    # the title and the tag are shown as text, escaped
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page
    html = api.get(f"/api/repos/{world.public}").json()["data"]["card"]["html"].lower()
    assert "<script" not in html and "onerror" not in html
    assert not re.search(r"""(href|src)\s*=\s*["']?\s*javascript:""", html)


def test_card_metadata_feeds_search_filters(world):
    client = world.browser(None)
    hits = client.get("/api/search?tag=rigorous&license=mit&task=tabular-classification"
                      "&kind=model").json()["data"]
    assert [r["full_name"] for r in hits["results"]] == [world.public]
    assert client.get("/api/search?tag=inclusive").json()["data"]["total"] == 0
    assert client.get("/api/search?q=OPEN").json()["data"]["total"] == 1


@pytest.mark.parametrize("probe", [
    "' OR '1'='1", "'; DROP TABLE repositories; --", "\" OR 1=1 --", "%", "_", "\\",
    "1) UNION SELECT username, password_hash FROM users --", "secret' --",
])
def test_sql_injection_looking_queries_are_harmless(world, probe):
    client = world.browser(None)
    for params in ({"q": probe}, {"tag": probe}, {"license": probe}, {"task": probe},
                   {"kind": probe}):
        r = client.get("/api/search", params=params)
        assert r.status_code == 200
        assert r.json()["data"]["results"] == []  # matched literally: nothing has that text
        assert "$argon2" not in r.text
    assert client.get(f"/api/repos/acme/{probe}").status_code == 404
    assert client.get("/api/search").json()["data"]["total"] == 1  # the table is still there


def test_nul_characters_and_overlong_queries_are_422_not_500(client):
    assert client.get("/api/search", params={"q": "a\x00b"}).status_code == 422
    assert client.get("/api/search", params={"q": "x" * 201}).status_code == 422
    assert client.get("/api/search", params={"page": 0}).status_code == 422


def test_card_edits_make_revisions_with_a_diff(world):
    api = world.api("maintainer")
    r = api.put(f"/api/repos/{world.public}/card",
                json={"card": "---\nlicense: mit\n---\n# Open credit model\n\nVersion two.\n",
                      "message": "Say which version"})
    assert r.status_code == 200
    revs = api.get(f"/api/repos/{world.public}/revisions").json()["data"]["revisions"]
    assert [r["number"] for r in revs] == [2, 1]
    assert revs[0]["message"] == "Say which version"
    assert revs[0]["author"]["username"] == world.users["maintainer"]
    diff = api.get(f"/api/repos/{world.public}/diff?base=1&head=2").json()["data"]
    assert "+Version two." in diff["card_diff"]
    assert "-A public model." in diff["card_diff"]
    # tags left the card, so they leave the search index
    assert api.get("/api/search?tag=rigorous").json()["data"]["total"] == 0
    page = world.browser(None).get(f"/repos/{world.public}/diff").text
    assert 'class="d-add">+Version two.' in page
    assert api.get(f"/api/repos/{world.public}/revisions/1").json()["data"]["card"][
        "title"] == "Open credit model"
    assert api.get(f"/api/repos/{world.public}/revisions/9").status_code == 404


@pytest.mark.parametrize("who", ["reviewer", "member", "viewer"])
def test_card_edits_need_maintainer(world, who):
    r = world.api(who).put(f"/api/repos/{world.public}/card", json={"card": "# x"})
    assert r.status_code == 403
    assert "maintainer" in r.json()["error"]["message"]


def test_only_owners_change_visibility_and_delete(world):
    assert world.api("maintainer").patch(f"/api/repos/{world.public}",
                                         json={"private": True}).status_code == 403
    owner = world.browser("owner")
    assert owner.post_form(f"/repos/{world.public}/settings",
                           {"visibility": "private"}).status_code == 303
    assert world.browser(None).get(f"/repos/{world.public}").status_code == 404
    r = owner.post_form(f"/repos/{world.public}/settings", {"delete": "wrong"})
    assert r.status_code == 422
    assert owner.post_form(f"/repos/{world.public}/settings", {"delete": "open"}
                           ).status_code == 303
    assert owner.get(f"/repos/{world.public}").status_code == 404
    assert world.api("owner").delete(f"/api/repos/{world.private}").json()["ok"] is True

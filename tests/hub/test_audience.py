"""Not for all audiences: the interstitial in pages and JSON, acknowledgement, preferences."""

from __future__ import annotations

from typing import Any

import pytest

CONTENT = "NFAA-CARD-BODY-4d2e"


def nfaa_repo(world: Any, tag: str = "not-for-all-audiences", name: str = "nsfw") -> str:
    card = f"---\nlicense: mit\ntags: [{tag}, rigorous]\n---\n# Sensitive model\n\n{CONTENT}\n"
    return world.hub.repo("acme", name, private=False, card=card, by=world.users["owner"])


def _interstitial(body: dict[str, Any]) -> dict[str, Any] | None:
    data = body.get("data")
    return data.get("interstitial") if isinstance(data, dict) else None


@pytest.mark.parametrize("tag", ["not-for-all-audiences", "not_for_all_audiences",
                                 "Not-For-All-Audience", "NOT FOR ALL AUDIENCES"])
def test_every_spelling_shows_the_interstitial(world, tag):
    full = nfaa_repo(world, tag)
    r = world.browser(None).get(f"/api/repos/{full}")
    assert r.status_code == 200
    shown = _interstitial(r.json())
    assert shown is not None and shown["repo"] == full
    assert CONTENT not in r.text


def test_the_json_interstitial_has_no_content_until_acknowledged(world):
    full = nfaa_repo(world)
    anon = world.browser(None)
    for path in ("", "/files", "/audits", "/deliberation", "/revisions", "/activity"):
        r = anon.get(f"/api/repos/{full}{path}")
        assert r.status_code == 200, path
        body = r.json()
        assert body["ok"] is True and set(body["data"]) == {"interstitial"}, path
        assert body["data"]["interstitial"]["acknowledge_param"] == (
            "acknowledge=not-for-all-audiences")
        assert body["data"]["interstitial"]["next"] == f"/repos/{full}{path}"
    r = anon.get(f"/api/repos/{full}?acknowledge=not-for-all-audiences")
    assert r.json()["data"]["card"]["text"].count(CONTENT) == 1
    assert _interstitial(anon.get(f"/api/repos/{full}?acknowledge=yes").json()) is not None


def test_the_page_interstitial_and_its_acknowledgement(world):
    full = nfaa_repo(world)
    anon = world.browser(None)
    page = anon.get(f"/repos/{full}/files")
    assert page.status_code == 200 and "Content warning" in page.text
    assert CONTENT not in page.text and f'action="/repos/{full}/acknowledge"' in page.text
    csrf = world.hub.csrf_from(page.text)
    r = anon.post(f"/repos/{full}/acknowledge", data={"next": f"/repos/{full}/files"},
                  follow_redirects=False)
    assert r.status_code == 403  # no CSRF token
    r = anon.post(f"/repos/{full}/acknowledge",
                  data={"csrf_token": csrf, "next": "https://evil.example/"},
                  follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/repos/{full}"  # no open redirect
    assert CONTENT in anon.get(f"/repos/{full}").text
    assert "Content warning" not in anon.get(f"/repos/{full}/files").text
    assert _interstitial(anon.get(f"/api/repos/{full}/files").json()) is None
    # the acknowledgement is bound to this browser's session: a copied cookie does not work
    other = world.browser(None)
    other.cookies.set("scrutiny_nfaa", anon.cookies.get("scrutiny_nfaa"))
    assert "Content warning" in other.get(f"/repos/{full}").text
    # and to this repository
    second = nfaa_repo(world, name="nsfw2")
    assert "Content warning" in anon.get(f"/repos/{second}").text


def test_a_content_preference_removes_the_interstitial(world):
    full = nfaa_repo(world)
    viewer = world.browser("outsider")
    assert "Content warning" in viewer.get(f"/repos/{full}").text
    prefs = viewer.get("/account/preferences")
    assert prefs.status_code == 200 and 'name="show_nfaa_without_warning"' in prefs.text
    assert viewer.post_form("/account/preferences",
                            {"show_nfaa_without_warning": "on"}).status_code == 303
    assert CONTENT in viewer.get(f"/repos/{full}").text
    token = world.api("outsider", "read")
    assert CONTENT in token.get(f"/api/repos/{full}").text  # the user's tokens too
    data = token.get("/api/account/preferences").json()["data"]
    assert data["show_nfaa_without_warning"] is True
    assert viewer.post_form("/account/preferences", {}).status_code == 303  # unticked
    assert "Content warning" in viewer.get(f"/repos/{full}").text
    r = world.api("outsider").put("/api/account/preferences",
                                  json={"show_nfaa_without_warning": True})
    assert r.status_code == 200 and r.json()["data"]["show_nfaa_without_warning"] is True
    assert CONTENT in viewer.get(f"/repos/{full}").text


def test_preference_errors_and_anonymous_visitors(world):
    full = nfaa_repo(world)
    anon = world.browser(None)
    assert anon.get("/api/account/preferences").status_code == 401
    r = anon.put("/api/account/preferences", json={"show_nfaa_without_warning": True})
    assert r.status_code == 401
    assert _interstitial(anon.get(f"/api/repos/{full}").json()) is not None
    r = world.api("outsider").put("/api/account/preferences",
                                  json={"show_nfaa_without_warning": "yes"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "show_nfaa_without_warning"
    r = world.browser("outsider").post_form("/account/preferences",
                                            {"show_nfaa_without_warning": "maybe"})
    assert r.status_code == 422


def test_writes_and_search_are_not_stopped(world):
    full = nfaa_repo(world)
    r = world.api("owner").put(f"/api/repos/{full}/card",
                               json={"card": "---\ntags: [not-for-all-audiences]\n---\n# v2\n"})
    assert r.status_code == 200 and r.json()["data"]["card"]["title"] == "v2"
    hits = world.browser(None).get("/api/search?tag=not-for-all-audiences").json()["data"]
    assert [x["full_name"] for x in hits["results"]] == [full]


def test_a_repository_without_the_tag_has_no_interstitial(world):
    r = world.browser(None).get(f"/api/repos/{world.public}")
    assert _interstitial(r.json()) is None

"""Discussions: threads, comments, card change proposals, lock/hide, blocks, comment limits."""

from __future__ import annotations

import pytest

NFAA_CARD = ("---\nlicense: mit\ntags: [rigorous, not-for-all-audiences]\n"
             "pipeline_tag: tabular-classification\n---\n# Open credit model\n\nA public model.\n")
INJECTION = ('<script>alert("x")</script>\n\n<img src=x onerror="alert(1)">\n\n'
             '[click](javascript:alert(2)) <a href="javascript:alert(3)">a</a> **bold**')


def _open(world, who="outsider", title="Question", body="Is the data documented?"):
    r = world.api(who).post(f"/api/repos/{world.public}/discussions",
                            json={"title": title, "body": body})
    assert r.status_code == 201, r.text
    return r.json()["data"]


def _page(client, world, number):
    r = client.get(f"/api/repos/{world.public}/discussions/{number}")
    assert r.status_code == 200, r.text
    return r.json()["data"]


def _set(world, **limits):
    hub = world.hub.hub
    hub.settings = hub.settings.model_copy(update=limits)


def test_open_a_discussion_and_comment_with_the_forms(world):
    b = world.browser("outsider")
    page = b.get(f"/repos/{world.public}/discussions")
    assert page.status_code == 200 and 'href="/code-of-conduct"' in page.text
    r = b.post(f"/repos/{world.public}/discussions", data={"title": "t", "body": "b"},
               follow_redirects=False)
    assert r.status_code == 403 and "csrf_token" in r.text  # no CSRF token, no discussion
    r = b.post_form(f"/repos/{world.public}/discussions", {"title": "Data?", "body": "Hi"})
    assert r.status_code == 303 and r.headers["location"].endswith("/discussions/1")
    r = b.post_form(f"/repos/{world.public}/discussions/1/comments", {"body": "More *detail*"})
    assert r.status_code == 303 and "#comment-" in r.headers["location"]
    html = b.get(f"/repos/{world.public}/discussions/1").text
    assert "<em>detail</em>" in html and 'href="/code-of-conduct"' in html
    data = _page(world.browser(None), world, 1)
    assert [c["body"] for c in data["comments"]] == ["Hi", "More *detail*"]
    assert data["discussion"]["author"]["username"] == "outsider"
    assert data["can_comment"] is False and data["why_not"] == "Sign in to comment."
    listing = world.browser(None).get(f"/api/repos/{world.public}/discussions").json()["data"]
    assert [(d["number"], d["comments"]) for d in listing["discussions"]] == [(1, 2)]


def test_script_injection_in_comments_is_sanitised_everywhere(world):
    d = _open(world, body=INJECTION)
    world.api("member").post(f"/api/repos/{world.public}/discussions/{d['number']}/comments",
                             json={"body": INJECTION})
    data = _page(world.browser(None), world, d["number"])
    for c in data["comments"]:
        html = c["html"]
        assert "<script" not in html and "onerror" not in html and 'href="javascript' not in html
        assert "<strong>bold</strong>" in html and '<img src="x">' in html
    page = world.browser(None).get(f"/repos/{world.public}/discussions/{d['number']}").text
    assert "<script>alert" not in page and "onerror=" not in page
    assert 'href="javascript' not in page


def test_validation_errors_name_the_field(world):
    api = world.api("outsider")
    url = f"/api/repos/{world.public}/discussions"
    for body, field in [({"title": "", "body": "x"}, "title"), ({"title": "t"}, "body"),
                        ({"title": "t", "body": "nul \x00"}, "body"),
                        ({"title": "t", "body": "x", "extra": 1}, "extra")]:
        r = api.post(url, json=body)
        assert r.status_code == 422 and r.json()["error"]["field"] == field, r.text
    r = world.browser("outsider").post_form(f"/repos/{world.public}/discussions",
                                            {"title": "  ", "body": "x"})
    assert r.status_code == 422 and "title: required" in r.text
    assert api.get(f"/api/repos/{world.public}/discussions/99").status_code == 404


def test_a_card_change_proposal_is_reviewed_and_merged_crediting_the_proposer(world):
    r = world.api("outsider").post(f"/api/repos/{world.public}/discussions", json={
        "title": "Add not-for-all-audiences", "body": "Per the content policy.",
        "card": NFAA_CARD})
    assert r.status_code == 201 and r.json()["data"]["kind"] == "proposal"
    n = r.json()["data"]["number"]
    data = _page(world.browser("maintainer"), world, n)
    assert "+tags: [rigorous, not-for-all-audiences]" in data["card_diff"]
    assert data["can_merge"] is True
    assert _page(world.browser("reviewer"), world, n)["can_merge"] is False
    merge = f"/api/repos/{world.public}/discussions/{n}/merge"
    assert world.api("reviewer").post(merge).status_code == 403
    assert world.api("outsider").post(merge).status_code == 403
    r = world.api("maintainer").post(merge)
    assert r.status_code == 200, r.text
    rev = r.json()["data"]["revision"]
    ack = "?acknowledge=not-for-all-audiences"  # the merged tag puts up the interstitial
    repo = world.browser(None).get(f"/api/repos/{world.public}{ack}").json()["data"]
    assert "not-for-all-audiences" in repo["repo"]["tags"]
    assert repo["revision"]["number"] == rev and repo["revision"]["author"]["username"] == \
        "outsider"
    activity = world.browser(None).get(f"/api/repos/{world.public}/activity{ack}"
                                       ).json()["data"]
    actions = {(e["action"], e["user"]["username"]) for e in activity["entries"]}
    assert ("card.proposal", "outsider") in actions
    assert ("proposal.merge", "maintainer-user") in actions
    assert world.api("maintainer").post(merge).status_code == 409  # already merged
    same = world.api("outsider").post(f"/api/repos/{world.public}/discussions", json={
        "title": "again", "body": "x", "card": NFAA_CARD})
    assert same.status_code == 409 and same.json()["error"]["field"] == "card"
    # a plain discussion cannot be merged
    d = _open(world)
    r = world.api("owner").post(f"/api/repos/{world.public}/discussions/{d['number']}/merge")
    assert r.status_code == 409


def test_a_closed_proposal_cannot_be_merged_and_authors_may_close_their_own(world):
    r = world.api("outsider").post(f"/api/repos/{world.public}/discussions", json={
        "title": "p", "body": "b", "card": NFAA_CARD})
    n = r.json()["data"]["number"]
    url = f"/api/repos/{world.public}/discussions/{n}"
    assert world.api("member").patch(url, json={"status": "closed"}).status_code == 403
    assert world.api("outsider").patch(url, json={"status": "closed"}).status_code == 200
    assert world.api("outsider").patch(url, json={"locked": True}).status_code == 403
    assert world.api("owner").post(url + "/merge").status_code == 409


def test_locked_discussions_take_comments_only_from_maintainers_and_moderators(world):
    d = _open(world)
    url = f"/api/repos/{world.public}/discussions/{d['number']}"
    assert world.api("owner").patch(url, json={"locked": True}).json()["data"]["locked"]
    for who, status in [("outsider", 403), ("member", 403), ("reviewer", 403),
                        ("maintainer", 201), ("moderator", 201)]:
        r = world.api(who).post(url + "/comments", json={"body": "x"})
        assert r.status_code == status, (who, r.text)
    assert "locked" in _page(world.browser("outsider"), world, d["number"])["why_not"]


def test_hidden_comments_and_discussions_leave_only_a_placeholder(world):
    d = _open(world, body="SECRET-BODY")
    n = d["number"]
    world.api("member").post(f"/api/repos/{world.public}/discussions/{n}/comments",
                             json={"body": "OFFENSIVE-TEXT"})
    comments = _page(world.browser(None), world, n)["comments"]
    target = comments[1]["id"]
    r = world.api("moderator").patch(
        f"/api/repos/{world.public}/discussions/{n}/comments/{target}", json={"hidden": True})
    assert r.status_code == 200 and r.json()["data"]["hidden"] == "Hidden by a moderator."
    for who in (None, "viewer", "outsider"):
        client = world.browser(who)
        for path in (f"/api/repos/{world.public}/discussions/{n}",
                     f"/repos/{world.public}/discussions/{n}"):
            text = client.get(path).text
            assert "OFFENSIVE-TEXT" not in text and "Hidden by a moderator." in text, who
    seen = _page(world.browser("maintainer"), world, n)["comments"][1]
    assert seen["body"] == "OFFENSIVE-TEXT" and seen["hidden"]
    # the whole discussion, hidden by the owners
    url = f"/api/repos/{world.public}/discussions/{n}"
    r = world.api("owner").patch(url, json={"hidden": True})
    assert r.json()["data"]["hidden"] == "Hidden by the repository's maintainers."
    for who in (None, "member", "outsider"):
        client = world.browser(who)
        for path in (url, f"/repos/{world.public}/discussions/{n}",
                     f"/api/repos/{world.public}/discussions",
                     f"/repos/{world.public}/discussions"):
            text = client.get(path).text
            assert "SECRET-BODY" not in text and "Question" not in text, (who, path)
    assert world.api("outsider").post(url + "/comments", json={"body": "x"}).status_code == 403
    assert _page(world.browser("moderator"), world, n)["discussion"]["title"] == "Question"
    # only maintainers, owners and moderators hide
    for who in ("member", "reviewer", "outsider"):
        assert world.api(who).patch(url, json={"hidden": False}).status_code == 403


def test_blocking_hides_comments_and_stops_replies(world):
    mine = _open(world, who="member", title="Mine", body="by member")
    n = mine["number"]
    url = f"/api/repos/{world.public}/discussions/{n}/comments"
    assert world.api("outsider").post(url, json={"body": "RUDE"}).status_code == 201
    member = world.api("member")
    assert member.post("/api/users/outsider/block").status_code == 201
    assert member.post("/api/users/outsider/block").status_code == 201  # idempotent
    assert member.post("/api/users/member-user/block").status_code == 422
    assert member.post("/api/users/nobody-here/block").status_code == 404
    comments = _page(member, world, n)["comments"]
    assert comments[1]["hidden"] == "Hidden: you blocked this user." and comments[1]["body"] is None
    assert "RUDE" in str(_page(world.browser("viewer"), world, n))  # others still see it
    r = world.api("outsider").post(url, json={"body": "again"})
    assert r.status_code == 403 and "blocked you" in r.json()["error"]["message"]
    blocks = world.browser("member").get("/api/account/blocks").json()["data"]["blocks"]
    assert [b["user"]["username"] for b in blocks] == ["outsider"]
    assert member.delete("/api/users/outsider/block").status_code == 200
    assert world.api("outsider").post(url, json={"body": "sorry"}).status_code == 201
    assert world.browser(None).post("/api/users/outsider/block").status_code == 401


def test_comment_flooding_past_the_limit_is_429_with_retry_after(world):
    _set(world, comments_per_minute=3)
    d = _open(world)  # the new discussion counts as one
    api = world.api("outsider")
    url = f"/api/repos/{world.public}/discussions/{d['number']}/comments"
    assert [api.post(url, json={"body": f"c{i}"}).status_code for i in range(2)] == [201, 201]
    r = api.post(url, json={"body": "flood"})
    assert r.status_code == 429
    assert int(r.headers["retry-after"]) >= 1
    assert r.json() == {"ok": False, "error": {
        "code": "too_many_requests", "field": "comment",
        "message": r.json()["error"]["message"]}}
    assert "comments_per_minute" in r.json()["error"]["message"]
    page = world.browser("outsider").post_form(url.removeprefix("/api"), {"body": "x"})
    assert page.status_code == 429 and "Retry-After" in page.headers
    assert world.api("member").post(url, json={"body": "fine"}).status_code == 201  # per user
    count = len(_page(world.browser(None), world, d["number"])["comments"])
    assert count == 4


@pytest.mark.parametrize("who", [None, "outsider"])
def test_private_discussions_are_404(world, who):
    world.api("member").post(f"/api/repos/{world.private}/discussions",
                             json={"title": "t", "body": "b"})
    client = world.browser(who)
    for path in (f"/api/repos/{world.private}/discussions",
                 f"/api/repos/{world.private}/discussions/1",
                 f"/repos/{world.private}/discussions"):
        assert client.get(path).status_code == 404
    r = (world.api(who) if who else client).post(
        f"/api/repos/{world.private}/discussions/1/comments", json={"body": "x"})
    assert r.status_code == 404

"""The authorization matrix of the community routes: every role × route × state.

States of the public repository ``acme/open``: ``normal``, ``reduced`` (reduced
visibility), ``disabled``, plus a ``locked`` and a ``hidden`` discussion on a
normal repository, and the private repository. For each cell the expected
status is computed from the rules (:func:`expected`), every cell is requested,
and the bodies of refused or hidden answers are checked for leaks.
"""

from __future__ import annotations

import pytest

WHO = (None, "viewer", "member", "reviewer", "maintainer", "owner", "outsider", "moderator")
MEMBERS = {"viewer", "member", "reviewer", "maintainer", "owner"}
MANAGERS = {"maintainer", "owner"}
SECRET = "SECRET-THREAD-TEXT"


def _readable(who, state, private=False):
    if state == "disabled":
        return who in ("owner", "moderator")
    if private:
        return who in MEMBERS or who == "moderator"
    return True


def expected(route, who, state, private=False):
    """The status a route answers ``who`` on a repository in ``state``."""
    readable = _readable(who, state, private)
    if not readable:
        return 404
    if route in ("discussions", "discussion", "report_form", "api_discussions",
                 "api_discussion"):
        return 200
    if route == "log":
        if who is None:
            return 401
        return 200 if who in ("owner", "moderator") else 403
    if who is None:
        return 401
    if state == "disabled":
        return 403  # read-only, even for owners and moderators (except moderation itself)
    if route in ("comment", "discussion_create", "report"):
        if state == "locked" and route == "comment":
            return 201 if who in MANAGERS or who == "moderator" else 403
        if state == "hidden" and route == "comment":
            return 201 if who in MANAGERS or who == "moderator" else 403
        return 201
    if route in ("lock", "hide_comment"):
        return 200 if who in MANAGERS or who == "moderator" else 403
    if route == "merge":
        return 200 if who in MANAGERS else 403
    raise AssertionError(route)


def _setup(world, state):
    owner = world.api("owner")
    base = f"/api/repos/{world.public}/discussions"
    owner.post(base, json={"title": "Thread", "body": f"{SECRET} body"})
    if state == "locked":
        owner.patch(f"{base}/1", json={"locked": True})
    if state == "hidden":
        owner.patch(f"{base}/1", json={"hidden": True})
    if state in ("reduced", "disabled"):
        action = "reduce" if state == "reduced" else "disable"
        r = world.api("moderator").post(f"/api/repos/{world.public}/moderation",
                                        json={"action": action, "reason": "matrix"})
        assert r.status_code == 201


@pytest.mark.parametrize("state", ["normal", "reduced", "disabled", "locked", "hidden"])
def test_every_role_on_every_community_route(world, state):
    _setup(world, state)
    repo = f"/repos/{world.public}"
    reads = {
        "discussions": f"{repo}/discussions", "api_discussions": f"/api{repo}/discussions",
        "discussion": f"{repo}/discussions/1", "api_discussion": f"/api{repo}/discussions/1",
        "report_form": f"{repo}/report", "log": f"/api{repo}/moderation",
    }
    wrong = []
    for who in WHO:
        client = world.browser(who)
        for route, path in reads.items():
            r = client.get(path)
            want = expected(route, who, state)
            if r.status_code != want:
                wrong.append((who, route, r.status_code, want))
            sees_hidden = who in MANAGERS or who == "moderator"
            if (want == 404 or (state == "hidden" and not sees_hidden)) and SECRET in r.text:
                wrong.append((who, route, "leaks the thread"))
    assert not wrong, wrong


@pytest.mark.parametrize("state", ["normal", "reduced", "disabled", "locked", "hidden"])
def test_every_role_on_every_community_write(world, state):
    _setup(world, state)
    proposal = world.api("owner").post(f"/api/repos/{world.public}/discussions", json={
        "title": "p", "body": "b", "card": "# new card\n"}) if state != "disabled" else None
    base = f"/api/repos/{world.public}/discussions"
    wrong = []
    for who in WHO:
        client = world.api(who) if who else world.browser(None)
        writes = {
            "comment": ("post", f"{base}/1/comments", {"body": "hello"}),
            "discussion_create": ("post", base, {"title": "t", "body": "b"}),
            "report": ("post", f"/api/repos/{world.public}/reports",
                       {"reason": "other", "description": "d"}),
            "lock": ("patch", f"{base}/1", {"locked": state == "locked"}),
            "hide_comment": ("patch", f"{base}/1/comments/1", {"hidden": state == "hidden"}),
        }
        for route, (method, path, body) in writes.items():
            r = getattr(client, method)(path, json=body)
            want = expected(route, who, state)
            if r.status_code != want:
                wrong.append((who, route, r.status_code, want, r.text[:120]))
        if proposal is not None and who not in MANAGERS:
            r = client.post(f"{base}/{proposal.json()['data']['number']}/merge")
            if r.status_code != expected("merge", who, state):
                wrong.append((who, "merge", r.status_code))
    assert not wrong, wrong


@pytest.mark.parametrize("who", WHO)
def test_private_repository_community_routes(world, who):
    world.api("owner").post(f"/api/repos/{world.private}/discussions",
                            json={"title": "Private", "body": SECRET})
    client = world.browser(who)
    for path in (f"/repos/{world.private}/discussions", f"/api/repos/{world.private}/discussions/1",
                 f"/repos/{world.private}/report"):
        r = client.get(path)
        want = 200 if _readable(who, "normal", private=True) else 404
        assert r.status_code == want, (path, r.status_code)
        if want == 404:
            assert SECRET not in r.text and "Private" not in r.text
    writer = world.api(who) if who else client
    r = writer.post(f"/api/repos/{world.private}/reports", json={"reason": "other",
                                                                  "description": "d"})
    want = 201 if _readable(who, "normal", private=True) else 404
    assert r.status_code == want


@pytest.mark.parametrize("who", WHO)
def test_moderation_routes_by_role(world, who):
    world.api("moderator").post(f"/api/repos/{world.public}/moderation",
                                json={"action": "reduce", "reason": "first"})
    is_mod = who == "moderator"
    refused = 401 if who is None else 403
    client = world.api(who) if who else world.browser(None)
    r = client.post(f"/api/repos/{world.public}/moderation",
                    json={"action": "ask_private", "reason": "r"})
    assert r.status_code == (201 if is_mod else refused)
    for path in ("/api/moderation", "/moderation"):
        assert world.browser(who).get(path).status_code == (200 if is_mod else refused)
    r = client.post(f"/api/repos/{world.public}/appeals", json={"text": "appeal"})
    assert r.status_code == (201 if who == "owner" else refused)
    r = client.post("/api/moderation/appeals/1", json={"decision": "denied", "note": "n"})
    assert r.status_code == (404 if is_mod else refused)  # no appeal: the moderator is no owner

"""Reports, the moderation queue, the graduated responses, the log, appeals, rate limits,
forged moderation and a concurrency test."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from scrutiny.hub._ratelimit import RateLimiter

BOTH = pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)
REPORT = {"reason": "ethical", "description": "It scores people by postcode."}
INJECTION = '<script>alert("r")</script><img src=x onerror=alert(1)>'


def _set(world, **limits):
    hub = world.hub.hub
    hub.settings = hub.settings.model_copy(update=limits)


def _act(world, action, reason="per the content policy", repo=None, who="moderator", **kw):
    return world.api(who).post(f"/api/repos/{repo or world.public}/moderation",
                               json={"action": action, "reason": reason, **kw})


def _listed(client, name):
    hits = client.get("/api/search", params={"q": name}).json()["data"]["results"]
    home = client.get("/api/").json()["data"]["repos"]
    org = client.get("/api/orgs/acme").json()["data"]
    org_repos = org.get("repos", [])
    names = {r["full_name"] for r in hits} | {r["full_name"] for r in home} | {
        r["full_name"] for r in org_repos}
    return f"acme/{name}" in names


def test_a_repository_report_opens_a_public_discussion_the_owners_answer(world):
    r = world.api("outsider").post(f"/api/repos/{world.public}/reports", json=REPORT)
    assert r.status_code == 201, r.text
    report = r.json()["data"]
    assert report["target"] == "repo" and report["status"] == "open"
    thread = report["thread_url"]
    assert thread == f"/repos/{world.public}/discussions/1"
    public = world.browser(None).get("/api" + thread).json()["data"]
    assert public["discussion"]["kind"] == "report"
    assert public["discussion"]["title"] == "Report: Ethical issue"
    assert public["comments"][0]["body"] == REPORT["description"]
    r = world.api("owner").post(f"/api{thread}/comments", json={"body": "We will fix it."})
    assert r.status_code == 201
    assert world.api("outsider").get(f"/api/reports/{report['id']}").status_code == 200
    queue = world.api("moderator").get("/api/moderation").json()["data"]
    assert [q["id"] for q in queue["reports"]] == [report["id"]]


def test_report_form_and_injection_in_descriptions(world):
    b = world.browser("outsider")
    form = b.get(f"/repos/{world.public}/report")
    assert 'href="/code-of-conduct"' in form.text and "Ethical issue" in form.text
    r = b.post_form(f"/repos/{world.public}/report",
                    {"reason": "legal", "description": INJECTION})
    assert r.status_code == 303 and "/discussions/1" in r.headers["location"]
    for client in (world.browser(None), world.browser("moderator")):
        for path in (r.headers["location"], "/moderation", "/reports/1"):
            text = client.get(path).text
            assert "<script>alert" not in text and "<img src=x onerror" not in text
    assert "&lt;script&gt;" in world.browser("moderator").get("/reports/1").text
    bad = b.post_form(f"/repos/{world.public}/report", {"reason": "spam", "description": "x"})
    assert bad.status_code == 422 and "reason:" in bad.text
    r = world.api("outsider").post(f"/api/repos/{world.public}/reports",
                                   json={"reason": "spam", "description": "x"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "reason"
    r = world.api("outsider").post(f"/api/repos/{world.public}/reports",
                                   json={"reason": "other", "description": " "})
    assert r.status_code == 422 and r.json()["error"]["field"] == "description"


def test_a_comment_report_is_private_and_may_block_the_author(world):
    d = world.api("member").post(f"/api/repos/{world.public}/discussions",
                                 json={"title": "t", "body": "b"}).json()["data"]
    n = d["number"]
    c = world.api("outsider").post(f"/api/repos/{world.public}/discussions/{n}/comments",
                                   json={"body": "abusive"}).json()["data"]
    r = world.api("viewer").post(f"/api/repos/{world.public}/discussions/{n}/reports",
                                 json={**REPORT, "comment_id": c["id"], "block": True})
    assert r.status_code == 201, r.text
    rid = r.json()["data"]["id"]
    assert r.json()["data"]["target"] == "comment"
    for who in (None, "owner", "outsider", "member"):
        assert world.browser(who).get(f"/api/reports/{rid}").status_code == 404, who
        assert world.browser(who).get(f"/reports/{rid}").status_code == 404, who
    assert world.browser("viewer").get(f"/api/reports/{rid}").json()["data"]["report"][
        "status"] == "open"
    # no public thread was opened, nothing about it on the repository
    listing = world.browser(None).get(f"/api/repos/{world.public}/discussions").json()["data"]
    assert len(listing["discussions"]) == 1
    blocks = world.browser("viewer").get("/api/account/blocks").json()["data"]["blocks"]
    assert [b["user"]["username"] for b in blocks] == ["outsider"]
    # the moderator resolves it; the reporter reads the state
    mod = world.api("moderator")
    r = mod.post(f"/api/moderation/reports/{rid}", json={"status": "resolved",
                                                          "note": "Comment hidden."})
    assert r.status_code == 200
    state = world.browser("viewer").get(f"/api/reports/{rid}").json()["data"]["report"]
    assert state["status"] == "resolved" and state["resolution"] == "Comment hidden."
    assert world.api("moderator").get("/api/moderation").json()["data"]["reports"] == []
    r = world.api("viewer").post(f"/api/repos/{world.public}/discussions/{n}/reports",
                                 json={**REPORT, "comment_id": 999999})
    assert r.status_code == 404 and r.json()["error"]["field"] == "comment_id"


def test_the_graduated_responses_and_the_log_the_owner_reads(world):
    r = world.api("outsider").post(f"/api/repos/{world.public}/reports", json=REPORT)
    rid = r.json()["data"]["id"]
    # 1. reduced visibility: out of listings for non-members, reachable by URL
    r = _act(world, "reduce", "Flagged as high risk.", report_id=rid)
    assert r.status_code == 201, r.text
    for who, listed in [(None, False), ("outsider", False), ("viewer", True),
                        ("owner", True), ("moderator", True)]:
        assert _listed(world.browser(who), "open") is listed, who
        assert world.browser(who).get(f"/api/repos/{world.public}").status_code == 200
    report = world.api("moderator").get(f"/api/reports/{rid}").json()["data"]["report"]
    assert report["status"] == "resolved" and "Flagged as high risk." in report["resolution"]
    # 2. and 3. requests recorded for the owners
    assert _act(world, "ask_private", "Please make it private.").status_code == 201
    assert _act(world, "gate", "Gated while the owners respond.").status_code == 201
    repo = world.browser("owner").get(f"/api/repos/{world.public}").json()["data"]["repo"]
    assert repo["gated"] == "manual"  # the gating feature, switched on by the moderator
    log = world.browser("owner").get(f"/api/repos/{world.public}/moderation").json()["data"]
    assert log["state"] == "reduced" and log["ask_private"] and log["gate_requested"]
    assert [a["action"] for a in log["actions"]] == ["gate", "ask_private", "reduce"]
    assert log["actions"][2]["reason"] == "Flagged as high risk."
    assert log["actions"][2]["moderator"]["username"] == "moderator"
    assert log["can_appeal"] is True and log["can_act"] is False
    html = world.browser("owner").get(f"/repos/{world.public}/moderation").text
    assert "Flagged as high risk." in html and "make it private" in html
    # 4. disabled: hidden from everyone but the owners (read-only) and moderators
    assert _act(world, "disable", "Confirmed misuse.").status_code == 201
    for who in (None, "outsider", "viewer", "maintainer"):
        client = world.browser(who)
        for path in ("", "/files", "/files/README.md", "/discussions", "/discussions/1",
                     "/revisions", "/activity", "/deliberation", "/moderation"):
            for prefix in ("", "/api"):
                r = client.get(f"{prefix}/repos/{world.public}{path}")
                assert r.status_code == 404, (who, prefix, path, r.status_code)
                assert "Open credit model" not in r.text
        assert not _listed(client, "open")
    owner = world.browser("owner")
    page = owner.get(f"/repos/{world.public}")
    assert page.status_code == 200 and "A moderator disabled this repository" in page.text
    assert _listed(owner, "open") and _listed(world.browser("moderator"), "open")
    r = world.api("owner").put(f"/api/repos/{world.public}/card",
                               json={"card": "# changed", "message": "m"})
    assert r.status_code == 403 and "disabled" in r.json()["error"]["message"]
    r = world.api("owner").post(f"/api/repos/{world.public}/discussions",
                                json={"title": "t", "body": "b"})
    assert r.status_code == 403
    # restore
    assert _act(world, "restore", "Fixed by the owners.").status_code == 201
    assert _listed(world.browser(None), "open")
    log = world.browser("owner").get(f"/api/repos/{world.public}/moderation").json()["data"]
    assert log["state"] == "normal" and not log["ask_private"] and not log["gate_requested"]


def test_the_log_is_for_owners_and_moderators(world):
    _act(world, "reduce")
    url = f"/api/repos/{world.public}/moderation"
    assert world.browser(None).get(url).status_code == 401
    for who in ("maintainer", "member", "outsider"):
        r = world.browser(who).get(url)
        assert r.status_code == 403 and r.json()["error"]["field"] == "role", who
    for who in ("owner", "moderator"):
        assert world.browser(who).get(url).status_code == 200


def test_appeals_go_back_to_the_queue(world):
    r = world.api("owner").post(f"/api/repos/{world.public}/appeals", json={"text": "Why?"})
    assert r.status_code == 409  # nothing to appeal yet
    _act(world, "disable", "Misuse.")
    for who in ("maintainer", "outsider"):
        r = world.api(who).post(f"/api/repos/{world.public}/appeals", json={"text": "x"})
        assert r.status_code == 404, who  # disabled: invisible to them
    b = world.browser("owner")
    r = b.post_form(f"/repos/{world.public}/moderation/appeal", {"text": "We removed it."})
    assert r.status_code == 303
    r = world.api("owner").post(f"/api/repos/{world.public}/appeals", json={"text": "again"})
    assert r.status_code == 409
    queue = world.api("moderator").get("/api/moderation").json()["data"]
    assert [a["text"] for a in queue["appeals"]] == ["We removed it."]
    aid = queue["appeals"][0]["id"]
    assert world.api("owner").post(f"/api/moderation/appeals/{aid}", json={
        "decision": "granted", "note": "self-granted"}).status_code == 403
    r = world.api("moderator").post(f"/api/moderation/appeals/{aid}",
                                    json={"decision": "granted", "note": "Fixed."})
    assert r.status_code == 200 and r.json()["data"]["status"] == "granted"
    log = world.browser("owner").get(f"/api/repos/{world.public}/moderation").json()["data"]
    assert log["state"] == "normal" and log["actions"][0]["action"] == "restore"
    assert log["appeals"][0]["decision"] == "Fixed."
    assert world.browser(None).get(f"/api/repos/{world.public}").status_code == 200
    assert world.api("moderator").post(f"/api/moderation/appeals/{aid}", json={
        "decision": "denied", "note": "x"}).status_code == 409


@pytest.mark.parametrize("who", ["owner", "maintainer", "member", "outsider"])
def test_forged_moderation_actions_without_the_role_are_rejected(world, who):
    r = _act(world, "disable", who=who)
    assert r.status_code == 403 and r.json()["error"]["field"] == "role", r.text
    assert "site moderators only" in r.json()["error"]["message"]
    b = world.browser(who)
    r = b.post_form(f"/repos/{world.public}/moderation", {"action": "disable", "reason": "x"})
    assert r.status_code == 403
    assert b.get("/moderation").status_code == 403
    rid = world.api("outsider").post(f"/api/repos/{world.public}/reports",
                                     json=REPORT).json()["data"]["id"]
    r = world.api(who).post(f"/api/moderation/reports/{rid}", json={"status": "dismissed"})
    assert r.status_code in (403, 404)
    log = world.browser("moderator").get(f"/api/repos/{world.public}/moderation").json()
    assert log["data"]["actions"] == [] and log["data"]["state"] == "normal"


def test_moderator_forms_need_csrf_and_write_tokens(world):
    b = world.browser("moderator")
    r = b.post(f"/repos/{world.public}/moderation", data={"action": "disable", "reason": "x"},
               follow_redirects=False)
    assert r.status_code == 403 and "csrf_token" in r.text
    r = world.api("moderator", "read").post(f"/api/repos/{world.public}/moderation",
                                            json={"action": "disable", "reason": "x"})
    assert r.status_code == 403 and r.json()["error"]["field"] == "token"
    assert world.browser(None).post(f"/api/repos/{world.public}/moderation", json={
        "action": "disable", "reason": "x"}).status_code == 401
    r = b.post_form(f"/repos/{world.public}/moderation", {"action": "nuke", "reason": "x"})
    assert r.status_code == 422 and "action" in r.text
    r = b.post_form(f"/repos/{world.public}/moderation", {"action": "reduce", "reason": "ok"})
    assert r.status_code == 303
    assert world.browser("moderator").get("/moderation").status_code == 200


def test_report_flooding_past_the_limit_is_429(world):
    _set(world, reports_per_hour=2)
    api = world.api("outsider")
    url = f"/api/repos/{world.public}/reports"
    assert [api.post(url, json=REPORT).status_code for _ in range(2)] == [201, 201]
    r = api.post(url, json=REPORT)
    assert r.status_code == 429 and r.json()["error"]["field"] == "report"
    assert 3000 < int(r.headers["retry-after"]) <= 3600
    assert world.api("member").post(url, json=REPORT).status_code == 201
    queue = world.api("moderator").get("/api/moderation").json()["data"]
    assert len(queue["reports"]) == 3


def test_sign_in_flooding_past_the_limit_is_429(world):
    _set(world, signins_per_minute=3)
    b = world.hub.browser(None)
    codes = [b.post_form("/signin", {"username": "outsider", "password": "wrong"}).status_code
             for _ in range(3)]
    assert codes == [401, 401, 401]
    r = b.post_form("/signin", {"username": "outsider", "password": world.hub.PASSWORD})
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    assert "signins_per_minute" in r.text


def test_the_limiter_is_a_sliding_window():
    now = [0.0]
    lim = RateLimiter(clock=lambda: now[0])
    assert [lim.hit("b", "k", limit=2, window=10) for _ in range(2)] == [0.0, 0.0]
    assert lim.hit("b", "k", limit=2, window=10) == pytest.approx(10)
    assert lim.hit("b", "other", limit=2, window=10) == 0.0
    now[0] = 6.0
    assert lim.hit("b", "k", limit=2, window=10) == pytest.approx(4)
    now[0] = 10.5  # the first attempt left the window
    assert lim.hit("b", "k", limit=2, window=10) == 0.0


@BOTH
def test_many_users_report_and_comment_at_once_losing_and_duplicating_nothing(world, backend):
    n_users = 12
    names = [f"crowd-{i}" for i in range(n_users)]
    for name in names:
        world.hub.user(name)
    d = world.api("owner").post(f"/api/repos/{world.public}/discussions",
                                json={"title": "Open thread", "body": "go"}).json()["data"]
    clients = {name: world.hub.api(name) for name in names}
    barrier = threading.Barrier(n_users)

    def work(name):
        c = clients[name]
        barrier.wait()
        codes = [c.post(f"/api/repos/{world.public}/reports",
                        json={"reason": "other", "description": f"by {name}"}).status_code]
        for k in range(2):
            codes.append(c.post(f"/api/repos/{world.public}/discussions/{d['number']}/comments",
                                json={"body": f"{name} #{k}"}).status_code)
        return codes

    with ThreadPoolExecutor(n_users) as pool:
        results = list(pool.map(work, names))
    assert all(codes == [201, 201, 201] for codes in results), results
    queue = world.api("moderator").get("/api/moderation").json()["data"]["reports"]
    assert sorted(r["description"] for r in queue) == sorted(f"by {n}" for n in names)
    listing = world.browser(None).get(f"/api/repos/{world.public}/discussions").json()["data"]
    numbers = sorted(x["number"] for x in listing["discussions"])
    assert numbers == list(range(1, n_users + 2))  # one thread per report, no gaps or twins
    thread = world.browser(None).get(
        f"/api/repos/{world.public}/discussions/{d['number']}").json()["data"]
    bodies = sorted(c["body"] for c in thread["comments"])
    assert bodies == sorted(["go"] + [f"{n} #{k}" for n in names for k in range(2)])

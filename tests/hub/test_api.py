"""Every page has a JSON twin; one success envelope, one error envelope; OpenAPI; headers."""

from __future__ import annotations

import json
import re

import pytest

from scrutiny.hub.routes import api_routes

AUDIT = {
    "schema_version": "1.0", "title": "Tiny audit", "generated_at": "2026-11-24T00:00:00+00:00",
    "scrutiny_version": "0.1.0", "context": {"decision": "Who gets help"},
    "data": {"n_rows": 10}, "sensitive_features": [{"column": "sex", "justification": "law"}],
    "gates": [{"metric": "equal_opportunity", "status": "warn", "detail": "too big"}],
    "ranking": [{"metric": "true_positive_rate", "features": ["sex"], "difference": 0.2}],
    "guardrails": [], "deliberation": {"values": [{"name": "Privacy", "owner": "DPO",
                                                    "metric": None,
                                                    "qualitative_check": "audit only",
                                                    "description": None}]},
    "training_attribution": {"method": "disparity:equal_opportunity", "findings": [],
                             "drivers": [{"train_index": 1, "score": 0.1}]},
}


def _page_routes(app):
    return [r for r in api_routes() if "GET" in r.methods
            and not r.path.startswith("/api") and r.name not in ("download", "report")]


def _api_get_routes(app):
    return [r for r in api_routes() if "GET" in r.methods and r.path.startswith("/api")]


def test_every_page_route_has_a_json_twin(app):
    api_paths = {r.path for r in _api_get_routes(app)}
    pages = _page_routes(app)
    assert len(pages) >= 20
    missing = [r.path for r in pages if ("/api" + r.path if r.path != "/" else "/api/")
               not in api_paths]
    assert not missing


@pytest.fixture
def filled(world):
    """A world where every page has something to show; path parameters for each route."""
    owner = world.api("owner")
    r = owner.post(f"/api/repos/{world.public}/files", files=[
        ("files", ("audit.json", json.dumps(AUDIT).encode())),
        ("files", ("report.html", b"<html><body>report</body></html>"))])
    assert r.status_code == 201, r.text
    rows = {"conflicts": {"values": ["a", "b"], "description": "tension"},
            "evidence": {"kind": "interview", "summary": "notes"},
            "checklist": {"item": "consulted", "status": "done"},
            "signoffs": {"role": "legal reviewer"}}
    for segment, body in rows.items():
        assert owner.post(f"/api/repos/{world.public}/deliberation/{segment}",
                          json=body).status_code == 201
    ids = {s["segment"]: str(s["items"][0]["id"]) for s in owner.get(
        f"/api/repos/{world.public}/deliberation").json()["data"]["sections"]}
    # discussion #1 and report 1 (filed by the owner, who may then read it)
    r = owner.post(f"/api/repos/{world.public}/reports",
                   json={"reason": "other", "description": "a report"})
    assert r.status_code == 201, r.text
    return {"org": "acme", "name": "open", "number": "1", "ids": ids,
            "username": world.users["owner"], "fname": "audit.json", "report_id": "1"}


#: Pages only site moderators may open (the tests open them as the moderator).
MODERATOR_ONLY = {"moderation_queue", "api.moderation_queue"}


def _fill(path, filled):
    segment = re.search(r"deliberation/(\w+)/\{item_id\}", path)
    values = {**filled, "item_id": filled["ids"][segment.group(1)] if segment else ""}
    return re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], path)


def test_every_json_twin_answers_the_success_envelope(app, world, filled):
    client = world.browser("owner")
    moderator = world.browser("moderator")
    checked = 0
    for route in _api_get_routes(app):
        path = _fill(route.path, filled)
        r = (moderator if route.name in MODERATOR_ONLY else client).get(path)
        assert r.status_code == 200, (path, r.text[:300])
        body = r.json()
        assert set(body) == {"ok", "data"} and body["ok"] is True, path
        checked += 1
    assert checked >= 20


@pytest.mark.parametrize("who", ["owner", "viewer", None])
def test_every_page_renders_for_its_audience(app, world, filled, who):
    client = world.browser(who)
    rendered = 0
    for route in _page_routes(app):
        path = _fill(route.path, filled)
        r = (world.browser("moderator") if who == "owner" and route.name in MODERATOR_ONLY
             else client).get(path)
        if who != "owner" and route.name == "report_status" and r.status_code == 404:
            continue  # a report is for its reporter (here the owner) and moderators only
        if who != "owner" and r.status_code in (401, 403):  # edit forms, account pages
            assert route.name in ("account", "org_new", "repo_new", "repo_edit",
                                  "repo_settings", "members", "preferences", "gating",
                                  "access_requests", "moderation_queue", "moderation_log",
                                  "blocks"), path
            assert "text/html" in r.headers["content-type"]
            continue
        assert r.status_code == 200, (path, r.text[:300])
        assert r.headers["content-type"].startswith("text/html")
        html = r.text
        # CSP-compatible pages: no inline scripts, no inline styles, no event handlers
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), path
        assert not re.search(r"\sstyle=", html), path
        assert not re.search(r"\son[a-z]+=", html), path
        # no CDN or external font: nothing in the head is loaded from elsewhere
        assert not re.search(r"""(src|href)=["']https?://""", html.split("<main")[0]), path
        assert f'href="/api{path if path != "/" else "/"}' in html or path == "/", path
        # forms only for those who may use them
        if who is None:
            assert 'name="csrf_token"' not in html.split("<main")[1] or route.name in (
                "signin", "signup"), path
        rendered += 1
    assert rendered >= 15


def _is_envelope(body, code):
    assert set(body) == {"ok", "error"} and body["ok"] is False
    assert set(body["error"]) == {"code", "message", "field"}
    assert body["error"]["code"] == code and len(body["error"]["message"]) > 10
    return body["error"]


def test_every_error_status_answers_the_one_envelope(world):
    anon, owner, viewer = world.browser(None), world.api("owner"), world.api("viewer")
    cases = [
        (owner.post(f"/api/repos/{world.public}/files",
                    files=[("files", ("../x", b"x"))]), 400, "bad_request"),
        (anon.post("/api/orgs", json={"name": "x"}), 401, "unauthorized"),
        (viewer.put(f"/api/repos/{world.public}/card", json={"card": "x"}), 403, "forbidden"),
        (anon.get("/api/repos/acme/nothing"), 404, "not_found"),
        (anon.get("/api/no/such/route"), 404, "not_found"),
        (anon.delete("/api/search"), 405, "method_not_allowed"),
        (owner.post("/api/orgs", json={"name": "acme"}), 409, "conflict"),
        (owner.post(f"/api/repos/{world.public}/files",
                    files=[("files", ("big", b"0" * 70_000))]), 413, "payload_too_large"),
        (owner.post("/api/orgs", json={"name": "Not Valid"}), 422, "invalid"),
        (owner.post("/api/orgs", content=b"{broken", headers={"Content-Type":
                                                                "application/json"}),
         422, "invalid"),
        (owner.post("/api/orgs", json={"name": "x", "extra": 1}), 422, "invalid"),
        (owner.post("/api/orgs", json=[]), 422, "invalid"),
        (anon.get("/api/search?page=x"), 422, "invalid"),
    ]
    for response, status, code in cases:
        assert response.status_code == status, (status, response.text[:300])
        _is_envelope(response.json(), code)


def test_validation_errors_name_the_field_and_what_was_received(world):
    owner = world.api("owner")
    err = owner.post("/api/repos", json={"org": "acme", "name": "x", "kind": "robot"}).json()[
        "error"]
    assert err["field"] == "kind" and "robot" in err["message"]
    err = owner.post("/api/orgs", json={"name": "x", "surprise": 1}).json()["error"]
    assert err["field"] == "surprise" and "unknown field" in err["message"]
    err = world.browser(None).get("/api/search?page=0").json()["error"]
    assert err["field"] == "page" and "query parameter" in err["message"]


def test_html_errors_use_the_same_content_as_a_page(world):
    r = world.browser(None).get("/repos/acme/nothing")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert "No repository acme/nothing" in r.text and "not found" in r.text
    r = world.browser(None).get("/repos/acme/nothing", headers={"Accept": "application/json"})
    _is_envelope(r.json(), "not_found")


def test_openapi_document_describes_the_json_api(app, client):
    doc = client.get("/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    paths = doc["paths"]
    assert all(p.startswith("/api") for p in paths)
    assert "/api/repos/{org}/{name}/push" in paths and "/api/search" in paths
    for path, ops in paths.items():
        for method, op in ops.items():
            responses = op["responses"]
            for status in ("401", "403", "404", "422"):
                ref = responses[status]["content"]["application/json"]["schema"]["$ref"]
                assert ref.endswith("/ErrorEnvelope"), (path, method, status)
            ok = [s for s in responses if s.startswith("2")]
            assert ok, (path, method)
    assert client.get("/docs").status_code == 404  # no Swagger UI from a CDN
    assert doc["components"]["schemas"]["ErrorEnvelope"]["properties"]["ok"]


def test_security_headers_and_static_assets(client):
    r = client.get("/")
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("style-src")[0]
    assert "frame-ancestors 'none'" in csp
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["cache-control"] == "no-store"
    for asset in ("/static/hub.css", "/static/hub.js"):
        a = client.get(asset)
        assert a.status_code == 200 and "http" not in a.text.replace("https://", "").lower()[:0]
        assert "//cdn" not in a.text and "@import" not in a.text


def test_report_is_served_in_a_sandbox(world, filled):
    r = world.browser(None).get(f"/repos/{world.public}/audits/1/report")
    assert r.status_code == 200 and "report" in r.text
    csp = r.headers["content-security-policy"]
    assert csp.startswith("sandbox") and "script-src" not in csp and "default-src 'none'" in csp


def test_audit_pages_and_attribution_from_a_record(world, filled):
    anon = world.browser(None)
    audit = anon.get(f"/api/repos/{world.public}/audits/1").json()["data"]
    assert audit["detail"]["gates"][0]["status"] == "warn"
    assert audit["audit"]["gates"] == {"warn": 1} and audit["report_url"].endswith("/report")
    assert audit["detail"]["deliberation_counts"] == {"values": 1}
    results = anon.get(f"/api/repos/{world.public}/attributions").json()["data"]["results"]
    assert results[0]["method"] == "disparity:equal_opportunity" and results[0]["audit"] == 1
    page = anon.get(f"/repos/{world.public}/audits/1").text
    assert "Tiny audit" in page and "equal_opportunity" in page
    # pushing the same record again attaches a second audit but no duplicate rows
    r = world.api("owner").post(f"/api/repos/{world.public}/files", files=[
        ("files", ("audit.json", json.dumps(AUDIT).encode()))])
    assert r.json()["data"]["audit"] == 2 and r.json()["data"]["imported"]["value"] == 0


def test_health(client):
    data = client.get("/api/health").json()["data"]
    from scrutiny.hub._migrate import head_revision

    assert data["status"] == "ok" and data["schema_revision"] == head_revision()

"""Gated access: the card's gating form, requests, review, and what stays hidden until accepted."""

from __future__ import annotations

import json
from typing import Any

import pytest

from scrutiny.hub._errors import ValidationFailedError
from scrutiny.hub._gating import GateForm, parse_gate_form, validate_answers

GATED_CARD = """---
license: mit
tags: [rigorous]
extra_gated_heading: Ask for the credit model
extra_gated_prompt: Tell us who you are and why you need it.
extra_gated_button_content: Send my request
extra_gated_fields:
  Company: text
  Country: country
  Date of birth: date_picker
  Use:
    type: select
    options: [research, {label: Commercial use, value: commercial}]
  I agree to use it for research only: checkbox
---
# Gated credit model

The public card of a gated model.
"""
ANSWERS = {"Company": "Acme Research", "Country": "FR", "Date of birth": "1990-04-01",
           "Use": "research", "I agree to use it for research only": True}
#: What only those with access may ever see of the gated repository.
GATED_SECRETS = {"bytes": "GATED-BYTES-5e1f", "rows": "424242", "gap": "0.31415",
                 "delib": "GATED-DELIB-77aa", "score": "0.271828", "report": "GATED-REPORT-c0de"}
GATED_AUDIT = {
    "schema_version": "1.0", "title": "Gated audit", "context": {"decision": "credit"},
    "data": {"n_rows": 424242},
    "gates": [{"metric": "equal_opportunity", "status": "fail", "value": 0.31415}],
    "ranking": [], "guardrails": [],
    "deliberation": {"evidence": [{"kind": "interview", "summary": "GATED-DELIB-77aa"}]},
    "training_attribution": {"method": "influence", "findings": [],
                             "drivers": [{"train_index": 7, "score": 0.271828}]},
}


def make_gated(world: Any, mode: str = "manual", name: str = "gated") -> str:
    """A public gated repository of acme with a secret file, an audit and a report."""
    full = world.hub.repo("acme", name, private=False, card=GATED_CARD, by=world.users["owner"])
    owner = world.api("owner")
    r = owner.post(f"/api/repos/{full}/files", files=[
        ("files", ("secret.txt", GATED_SECRETS["bytes"].encode())),
        ("files", ("audit.json", json.dumps(GATED_AUDIT).encode())),
        ("files", ("report.html", f"<p>{GATED_SECRETS['report']}</p>".encode()))])
    assert r.status_code == 201, r.text
    r = owner.put(f"/api/repos/{full}/gating", json={"mode": mode})
    assert r.status_code == 200, r.text
    return full


def request_access(world: Any, full: str, who: str, answers: dict[str, Any] | None = None
                   ) -> Any:
    return world.api(who).post(f"/api/repos/{full}/access",
                               json={"answers": ANSWERS if answers is None else answers})


# ---------------------------------------------------------------------------
# the form, from the card


def test_the_form_is_read_from_the_cards_gating_fields():
    from scrutiny.hub._markdown import split_card

    form = parse_gate_form(split_card(GATED_CARD)[0], "acme/gated")
    assert form.error is None
    assert form.heading == "Ask for the credit model" and form.button == "Send my request"
    assert [(f.label, f.type) for f in form.fields] == [
        ("Company", "text"), ("Country", "country"), ("Date of birth", "date_picker"),
        ("Use", "select"), ("I agree to use it for research only", "checkbox")]
    assert form.fields[3].options == [("research", "research"), ("Commercial use", "commercial")]


@pytest.mark.parametrize(("meta", "field", "fragment"), [
    ({"extra_gated_fields": {"Company": "txt"}}, "extra_gated_fields", "'txt' is not a field"),
    ({"extra_gated_fields": {"Use": "select"}}, "extra_gated_fields", "needs options"),
    ({"extra_gated_fields": {"Use": {"type": "text", "options": ["a"]}}},
     "extra_gated_fields", "only select fields"),
    ({"extra_gated_fields": ["Company"]}, "extra_gated_fields", "must map"),
    ({"extra_gated_prompt": ["x"]}, "extra_gated_prompt", "expected non-empty text"),
])
def test_a_bad_gating_configuration_names_the_field(meta, field, fragment):
    form = parse_gate_form(meta)
    assert form.error is not None and form.error.startswith(field + ":"), form.error
    assert fragment in form.error


def test_enabling_gating_with_a_bad_card_is_refused_naming_the_field(world):
    bad = "---\nextra_gated_fields:\n  Company: txt\n---\n# x\n"
    full = world.hub.repo("acme", "badgate", card=bad, by=world.users["owner"])
    r = world.api("owner").put(f"/api/repos/{full}/gating", json={"mode": "manual"})
    assert r.status_code == 422
    err = r.json()["error"]
    assert err["field"] == "extra_gated_fields" and "'txt' is not a field type" in err["message"]
    assert "stays off" in err["message"]
    page = world.browser("owner").get(f"/repos/{full}/gating")
    assert page.status_code == 200 and "gating metadata is invalid" in page.text


@pytest.mark.parametrize(("answers", "field", "fragment"), [
    ({**ANSWERS, "Company": "  "}, "answers.Company", "required"),
    ({k: v for k, v in ANSWERS.items() if k != "Country"}, "answers.Country", "required"),
    ({**ANSWERS, "Country": "Atlantis"}, "answers.Country", "ISO 3166"),
    ({**ANSWERS, "Date of birth": "01/04/1990"}, "answers.Date of birth", "YYYY-MM-DD"),
    ({**ANSWERS, "Date of birth": "1990-02-31"}, "answers.Date of birth", "YYYY-MM-DD"),
    ({**ANSWERS, "Use": "military"}, "answers.Use", "'research', 'commercial'"),
    ({**ANSWERS, "I agree to use it for research only": False},
     "answers.I agree to use it for research only", "tick this box"),
    ({**ANSWERS, "Shoe size": "42"}, "answers.Shoe size", "not a field of this form"),
])
def test_answers_are_checked_per_field_type(answers, field, fragment):
    from scrutiny.hub._markdown import split_card

    form = parse_gate_form(split_card(GATED_CARD)[0])
    with pytest.raises(ValidationFailedError) as exc:
        validate_answers(form, answers)
    assert exc.value.field == field and fragment in exc.value.message


def test_answers_are_cleaned():
    from scrutiny.hub._markdown import split_card

    form = parse_gate_form(split_card(GATED_CARD)[0])
    clean = validate_answers(form, {**ANSWERS, "Country": "brazil", "Company": " Acme ",
                                    "I agree to use it for research only": "on"})
    assert clean["Country"] == "BR" and clean["Company"] == "Acme"
    assert clean["I agree to use it for research only"] is True
    assert validate_answers(GateForm("h", None, None, "b", []), {}) == {}


# ---------------------------------------------------------------------------
# requests and decisions


def test_manual_approval_pending_then_accepted_shows_the_files(world):
    full = make_gated(world)
    world.hub.user("pat")
    pat = world.hub.api("pat")
    assert pat.get(f"/api/repos/{full}/files").status_code == 403
    r = pat.post(f"/api/repos/{full}/access", json={"answers": ANSWERS})
    assert r.status_code == 201, r.text
    data = r.json()["data"]
    assert data["access"] == "pending" and data["request"]["answers"]["Country"] == "FR"
    r = pat.get(f"/api/repos/{full}/files")
    assert r.status_code == 403 and "pending" in r.json()["error"]["message"]
    assert r.json()["error"]["field"] == "access"
    listed = world.api("maintainer").get(f"/api/repos/{full}/access/requests").json()["data"]
    assert listed["counts"] == {"pending": 1, "accepted": 0, "rejected": 0}
    assert listed["requests"][0]["user"]["username"] == "pat"
    r = world.api("maintainer").put(f"/api/repos/{full}/access/requests/pat",
                                    json={"status": "accepted"})
    assert r.status_code == 200 and r.json()["data"]["decided_by"]["username"] == "maintainer-user"
    files = pat.get(f"/api/repos/{full}/files").json()["data"]["files"]
    assert "secret.txt" in {f["name"] for f in files}
    assert pat.get(f"/repos/{full}/files/secret.txt").content == GATED_SECRETS["bytes"].encode()
    assert pat.get(f"/api/repos/{full}/audits/1").json()["data"]["detail"]["n_rows"] == 424242
    assert request_access(world, full, "owner").status_code == 409  # members need none


def test_automatic_approval_accepts_at_once(world):
    full = make_gated(world, "automatic")
    r = request_access(world, full, "outsider")
    assert r.status_code == 201 and r.json()["data"]["access"] == "accepted"
    assert world.api("outsider", "read").get(f"/api/repos/{full}/audits").status_code == 200


def test_a_rejected_user_cannot_ask_again_and_sees_the_reason(world):
    full = make_gated(world)
    assert request_access(world, full, "outsider").status_code == 201
    r = world.api("owner").put(f"/api/repos/{full}/access/requests/outsider",
                               json={"status": "rejected", "reason": "Research use only."})
    assert r.status_code == 200 and r.json()["data"]["reason"] == "Research use only."
    again = request_access(world, full, "outsider")
    assert again.status_code == 409
    assert "cannot be made again" in again.json()["error"]["message"]
    assert "Research use only." in again.json()["error"]["message"]
    page = world.browser("outsider").get(f"/repos/{full}/access")
    assert "Reason: Research use only." in page.text and 'id="access-form"' not in page.text
    denied = world.api("outsider").get(f"/api/repos/{full}/files")
    assert denied.status_code == 403 and "rejected" in denied.json()["error"]["message"]


def test_decision_errors(world):
    full = make_gated(world)
    owner = world.api("owner")
    r = owner.put(f"/api/repos/{full}/access/requests/nobody", json={"status": "accepted"})
    assert r.status_code == 404 and r.json()["error"]["field"] == "username"
    r = owner.put(f"/api/repos/{full}/access/requests/x",
                  json={"status": "rejected", "reason": "x" * 201})
    assert r.status_code == 422 and r.json()["error"]["field"] == "reason"
    r = owner.put(f"/api/repos/{full}/access/requests/x", json={"status": "maybe"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "status"
    assert world.api("reviewer").put(f"/api/repos/{full}/access/requests/x",
                                     json={"status": "accepted"}).status_code == 403


def test_request_errors(world):
    full = make_gated(world)
    r = world.hub.api("outsider", "read").post(f"/api/repos/{full}/access",
                                               json={"answers": ANSWERS})
    assert r.status_code == 403 and r.json()["error"]["field"] == "token"
    r = world.browser(None).post(f"/api/repos/{full}/access", json={"answers": ANSWERS})
    assert r.status_code == 401
    r = request_access(world, full, "outsider", {**ANSWERS, "Country": "XX"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "answers.Country"
    r = world.api("outsider").post(f"/api/repos/{full}/access", json={"answers": {"a": [1]}})
    assert r.status_code == 422
    assert request_access(world, world.public, "outsider").status_code == 409  # not gated
    assert request_access(world, full, "moderator").status_code == 409
    assert request_access(world, full, "outsider").status_code == 201
    r = request_access(world, full, "outsider")
    assert r.status_code == 409 and "already pending" in r.json()["error"]["message"]


def test_switching_modes(world):
    full = make_gated(world)
    assert request_access(world, full, "outsider").status_code == 201
    owner = world.api("owner")
    assert owner.put(f"/api/repos/{full}/gating", json={"mode": "automatic"}).status_code == 200
    assert world.api("outsider").get(f"/api/repos/{full}/files").status_code == 200
    r = owner.put(f"/api/repos/{full}/gating", json={"mode": "off"})
    assert r.status_code == 200 and r.json()["data"]["mode"] is None
    assert world.browser(None).get(f"/api/repos/{full}/files").status_code == 200
    assert world.api("maintainer").put(f"/api/repos/{full}/gating",
                                       json={"mode": "manual"}).status_code == 403


def test_the_forms_work_in_a_browser_with_csrf(world):
    full = make_gated(world)
    outsider = world.browser("outsider")
    page = outsider.get(f"/repos/{full}/access")
    assert page.status_code == 200 and 'id="access-form"' in page.text
    assert "Ask for the credit model" in page.text and "Send my request" in page.text
    assert '<option value="FR">France</option>' in page.text
    fields = {"field-0": "Acme", "field-1": "FR", "field-2": "1990-04-01",
              "field-3": "commercial", "field-4": "on"}
    r = outsider.post(f"/repos/{full}/access", data=fields, follow_redirects=False)
    assert r.status_code == 403  # no CSRF token
    r = outsider.post_form(f"/repos/{full}/access", {**fields, "field-4": ""})
    assert r.status_code == 422 and "tick this box" in r.text
    r = outsider.post_form(f"/repos/{full}/access", fields)
    assert r.status_code == 303
    owner = world.browser("owner")
    review = owner.get(f"/repos/{full}/access/requests")
    assert 'id="request-outsider"' in review.text and "commercial" in review.text
    r = owner.post_form(f"/repos/{full}/access/requests/outsider", {"decision": "accept"})
    assert r.status_code == 303
    assert outsider.get(f"/repos/{full}/files").status_code == 200
    r = owner.post_form(f"/repos/{full}/access/requests/outsider", {"decision": "maybe"})
    assert r.status_code == 422 and "decision" in r.text
    r = owner.post_form(f"/repos/{full}/gating", {"mode": "sometimes"})
    assert r.status_code == 422
    assert owner.post_form(f"/repos/{full}/gating", {"mode": "off"}).status_code == 303


def test_the_card_page_stays_visible_without_the_content(world):
    full = make_gated(world)
    anon = world.browser(None)
    page = anon.get(f"/repos/{full}")
    assert page.status_code == 200 and "The public card of a gated model." in page.text
    assert 'id="gated-notice"' in page.text and "secret.txt" not in page.text
    data = anon.get(f"/api/repos/{full}").json()["data"]
    assert data["files"] == [] and data["latest_audit"] is None and data["counts"] == {}
    assert data["repo"]["gated"] == "manual" and "repo.read_gated" not in data["allowed"]
    member = world.api("viewer", "read").get(f"/api/repos/{full}").json()["data"]
    assert member["counts"]["audits"] == 1 and "repo.read_gated" in member["allowed"]
    owner_page = f"/api/users/{world.users['owner']}"
    hidden = anon.get(owner_page).json()["data"]["activity"]
    assert full not in {a["repo"] for a in hidden}  # the activity log is gated too
    shown = world.api("viewer", "read").get(owner_page).json()["data"]["activity"]
    assert full in {a["repo"] for a in shown}


def test_a_private_gated_repository_stays_invisible(world):
    world.api("owner").put(f"/api/repos/{world.private}/gating", json={"mode": "automatic"})
    assert world.browser("outsider").get(f"/repos/{world.private}/access").status_code == 404
    assert request_access(world, world.private, "outsider", {}).status_code == 404


@pytest.mark.parametrize("answers", [{"a\x00b": "x"}, {"a": "\x00"}, {"a": [1]}, {"": True},
                                     {str(i): "x" for i in range(51)}, {"a": "\ud800"}, 3])
def test_malformed_answers_are_refused_without_echoing_them(world, answers):
    full = make_gated(world)
    r = world.api("outsider").post(f"/api/repos/{full}/access",
                                   content=json.dumps({"answers": answers}),
                                   headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "answers"
    assert "\\u0000" not in r.text and "\\ud800" not in r.text

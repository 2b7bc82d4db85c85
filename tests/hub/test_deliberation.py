"""The deliberation record on the web: who may edit what, validation, and the activity log."""

from __future__ import annotations

import pytest

VALUE = {"name": "Privacy", "owner": "Data protection officer",
         "qualitative_check": "Sensitive features are only used for the audit."}
CONFLICT = {"values": ["Privacy", "Equal access"], "description": "Auditing needs sex and race.",
            "options": ["Collect with consent", "Do not audit"],
            "decision": "Collect with consent", "rationale": "Without it nobody sees who is "
            "missed.", "decided_by": "Programme lead", "decided_on": "2026-11-24"}
EVIDENCE = {"kind": "interview", "summary": "Advisers say part-time workers are missed."}
CHECK = {"item": "Affected people consulted", "status": "na", "note": "Internal pilot only."}
SIGNOFF = {"role": "Legal reviewer", "statement": "Fit for the pilot."}
BODIES = {"values": VALUE, "conflicts": CONFLICT, "evidence": EVIDENCE, "checklist": CHECK,
          "signoffs": SIGNOFF}

#: Which roles may add to each section (the rest get 403).
ALLOWED = {
    "values": {"owner", "maintainer"},
    "conflicts": {"owner", "maintainer"},
    "checklist": {"owner", "maintainer", "reviewer"},
    "signoffs": {"owner", "maintainer", "reviewer"},
    "evidence": {"owner", "maintainer", "reviewer", "member"},
}


@pytest.mark.parametrize("section", sorted(ALLOWED))
def test_each_section_is_editable_by_the_roles_allowed_to(world, section):
    wrong = []
    for who in ("owner", "maintainer", "reviewer", "member", "viewer", "moderator",
                "outsider"):
        r = world.api(who).post(f"/api/repos/{world.public}/deliberation/{section}",
                                json=BODIES[section])
        expected = 201 if who in ALLOWED[section] else 403
        if r.status_code != expected or (expected == 403 and r.json()["error"]["field"]
                                         != "role"):
            wrong.append((who, r.status_code, r.text[:200]))
    assert not wrong


def test_anonymous_and_read_tokens_cannot_edit(world):
    r = world.browser(None).post(f"/api/repos/{world.public}/deliberation/evidence",
                                 json=EVIDENCE)
    assert r.status_code == 401
    r = world.api("owner", "read").post(f"/api/repos/{world.public}/deliberation/evidence",
                                        json=EVIDENCE)
    assert r.status_code == 403 and r.json()["error"]["field"] == "token"


def test_private_deliberation_is_404_for_outsiders(world):
    r = world.api("outsider").post(f"/api/repos/{world.private}/deliberation/evidence",
                                   json=EVIDENCE)
    assert r.status_code == 404


@pytest.mark.parametrize(("section", "body", "field"), [
    ("values", {"name": "Privacy", "owner": "x"}, "metric"),  # neither metric nor check
    ("values", {"name": "Privacy"}, "owner"),
    ("conflicts", {**CONFLICT, "rationale": None}, "rationale"),  # decision, no rationale
    ("conflicts", {**CONFLICT, "values": ["only one"]}, "values"),
    ("checklist", {"item": "x", "status": "na"}, "note"),  # N/A without a reason
    ("evidence", {"kind": "gossip", "summary": "x"}, "kind"),
    ("evidence", {**EVIDENCE, "surprise": 1}, "surprise"),
    ("signoffs", {"role": ""}, "role"),
    ("evidence", {"kind": "interview", "summary": "nul \x00 byte"}, "summary"),
])
def test_invalid_rows_are_422_naming_the_field(world, section, body, field):
    r = world.api("owner").post(f"/api/repos/{world.public}/deliberation/{section}", json=body)
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert err["code"] == "invalid" and err["field"] == field, err


def test_signoff_records_the_signer_and_cannot_be_edited_only_withdrawn(world):
    reviewer = world.api("reviewer")
    r = reviewer.post(f"/api/repos/{world.public}/deliberation/signoffs", json=SIGNOFF)
    item = r.json()["data"]
    assert item["data"]["name"] == "Reviewer-User" and item["data"]["role"] == "Legal reviewer"
    assert item["data"]["signed_on"] and item["created_by"]["username"] == "reviewer-user"
    # a signer cannot put words in someone else's name
    r = reviewer.post(f"/api/repos/{world.public}/deliberation/signoffs",
                      json={**SIGNOFF, "name": "The CEO"})
    assert r.status_code == 422
    # no edits: PUT does not exist for sign-offs, the form route answers 409
    url = f"/api/repos/{world.public}/deliberation/signoffs/{item['id']}"
    assert reviewer.put(url, json=SIGNOFF).status_code == 405
    b = world.browser("reviewer")
    r = b.post_form(f"/repos/{world.public}/deliberation/signoffs/{item['id']}",
                    {"role": "CEO"})
    assert r.status_code == 409
    # another reviewer may not withdraw it; the signer and an owner may
    world.hub.user("second-reviewer")
    world.hub.member("acme", "second-reviewer", "reviewer")
    assert world.hub.api("second-reviewer").delete(url).status_code == 403
    assert reviewer.delete(url).status_code == 200
    r = world.api("reviewer").post(f"/api/repos/{world.public}/deliberation/signoffs",
                                   json=SIGNOFF)
    assert world.api("owner").delete(
        f"/api/repos/{world.public}/deliberation/signoffs/{r.json()['data']['id']}"
    ).status_code == 200


def test_editing_a_row_with_the_form_and_the_activity_log(world):
    maintainer = world.browser("maintainer")
    r = maintainer.post_form(f"/repos/{world.public}/deliberation/values",
                             {"name": "Privacy", "owner": "DPO",
                              "qualitative_check": "Only for the audit."})
    assert r.status_code == 303
    assert r.headers["location"].endswith("/deliberation#values")
    page = maintainer.get(f"/api/repos/{world.public}/deliberation").json()["data"]
    values = next(s for s in page["sections"] if s["kind"] == "value")
    assert values["can_edit"] is True and values["role_needed"] == "maintainer"
    item = values["items"][0]
    owner = world.browser("owner")
    r = owner.post_form(f"/repos/{world.public}/deliberation/values/{item['id']}",
                        {"name": "Privacy", "owner": "DPO", "metric": "none",
                         "qualitative_check": "Only for the audit, deleted after."})
    assert r.status_code == 303
    detail = owner.get(f"/api/repos/{world.public}/deliberation/values/{item['id']}"
                       ).json()["data"]
    assert detail["item"]["updated_by"]["username"] == "owner-user"
    assert [h["action"] for h in detail["history"]] == ["deliberation.value.edit",
                                                         "deliberation.value.add"]
    assert "metric, qualitative_check" in detail["history"][0]["summary"]
    # a reviewer sees the row but may not edit values
    reviewer = world.browser("reviewer")
    assert reviewer.get(f"/api/repos/{world.public}/deliberation/values/{item['id']}"
                        ).json()["data"]["can_edit"] is False
    r = reviewer.post_form(f"/repos/{world.public}/deliberation/values/{item['id']}",
                           {"name": "Nope", "owner": "x", "metric": "m"})
    assert r.status_code == 403
    world.api("member").post(f"/api/repos/{world.public}/deliberation/evidence", json=EVIDENCE)
    activity = world.browser(None).get(f"/api/repos/{world.public}/activity").json()["data"]
    people = {c["user"]["username"]: c["counts"] for c in activity["contributors"] if c["user"]}
    assert people["maintainer-user"]["value"] == 1 and people["owner-user"]["value"] == 1
    assert people["member-user"]["evidence"] == 1
    assert "Added a evidence" not in str(activity)  # summaries read naturally
    html = world.browser(None).get(f"/repos/{world.public}/activity").text
    assert "Who did the responsible-AI work" in html and "Member-User" in html


def test_deleting_rows_needs_the_section_role(world):
    r = world.api("maintainer").post(f"/api/repos/{world.public}/deliberation/values",
                                     json=VALUE)
    url = f"/api/repos/{world.public}/deliberation/values/{r.json()['data']['id']}"
    assert world.api("reviewer").delete(url).status_code == 403
    assert world.api("maintainer").delete(url).status_code == 200
    assert world.api("maintainer").delete(url).status_code == 404
    assert world.api("maintainer").get(
        f"/api/repos/{world.public}/deliberation/nope/1").status_code == 404

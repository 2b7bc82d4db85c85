"""Organisations and roles: creation, membership management by owners, the last owner."""

from __future__ import annotations

import pytest


def test_signed_in_users_create_organisations_and_become_owners(hub):
    hub.user("ada")
    api = hub.api("ada")
    r = api.post("/api/orgs", json={"name": "acme", "display_name": "Acme Corp"})
    assert r.status_code == 201
    assert r.json()["data"] == {"name": "acme", "display_name": "Acme Corp", "description": ""}
    data = api.get("/api/orgs/acme").json()["data"]
    assert data["role"] == "owner" and "org.manage" in data["allowed"]
    assert [m["role"] for m in data["members"]] == ["owner"]
    assert [o["name"] for o in api.get("/api/orgs").json()["data"]["orgs"]] == ["acme"]


@pytest.mark.parametrize(("name", "status"), [("new", 422), ("api", 422), ("Acme", 422),
                                              ("a" * 41, 422)])
def test_organisation_names_are_checked(hub, name, status):
    hub.user("ada")
    r = hub.api("ada").post("/api/orgs", json={"name": name})
    assert r.status_code == status and r.json()["error"]["field"] == "name"


def test_owners_manage_members_and_roles(world):
    owner = world.browser("owner")
    world.hub.user("newbie")
    r = owner.post_form("/orgs/acme/members", {"username": "newbie", "role": "reviewer"})
    assert r.status_code == 303
    members = {m["user"]["username"]: m["role"]
               for m in owner.get("/api/orgs/acme/members").json()["data"]["members"]}
    assert members["newbie"] == "reviewer"
    api = world.api("owner")
    assert api.put("/api/orgs/acme/members/newbie", json={"role": "maintainer"}).json()[
        "data"]["role"] == "maintainer"
    # the new role takes effect at once
    assert world.hub.api("newbie").put(f"/api/repos/{world.public}/card",
                                       json={"card": "# ok"}).status_code == 200
    assert api.delete("/api/orgs/acme/members/newbie").status_code == 200
    assert world.hub.api("newbie").get(f"/api/repos/{world.private}").status_code == 404
    activity = owner.get("/api/users/owner-user").json()["data"]["activity"]
    assert not [a for a in activity if a["action"].startswith("org.")]  # repository work only


@pytest.mark.parametrize("who", ["maintainer", "reviewer", "member", "viewer", "moderator",
                                 "outsider"])
def test_only_owners_manage_members(world, who):
    world.hub.user("newbie")
    r = world.api(who).put("/api/orgs/acme/members/newbie", json={"role": "owner"})
    assert r.status_code == 403
    assert "owner" in r.json()["error"]["message"]


def test_the_last_owner_cannot_leave_or_be_demoted(world):
    api = world.api("owner")
    r = api.put("/api/orgs/acme/members/owner-user", json={"role": "member"})
    assert r.status_code == 409 and "last owner" in r.json()["error"]["message"]
    assert api.delete("/api/orgs/acme/members/owner-user").status_code == 409
    api.put("/api/orgs/acme/members/maintainer-user", json={"role": "owner"})
    assert api.put("/api/orgs/acme/members/owner-user", json={"role": "member"}
                   ).status_code == 200


def test_member_lists_are_for_members_and_moderators(world):
    assert world.browser("viewer").get("/api/orgs/acme/members").status_code == 200
    assert world.browser("moderator").get("/api/orgs/acme/members").status_code == 200
    assert world.browser("outsider").get("/api/orgs/acme/members").status_code == 403
    assert world.browser(None).get("/api/orgs/acme/members").status_code == 401
    assert world.browser(None).get("/api/orgs/acme").json()["data"]["members"] is None


def test_unknown_users_roles_and_orgs(world):
    api = world.api("owner")
    r = api.put("/api/orgs/acme/members/ghost", json={"role": "member"})
    assert r.status_code == 404 and r.json()["error"]["field"] == "username"
    r = api.put("/api/orgs/acme/members/outsider", json={"role": "emperor"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "role"
    assert api.get("/api/orgs/nope").status_code == 404


def test_moderators_read_everything_but_write_nothing(world):
    mod = world.api("moderator")
    assert mod.get(f"/api/repos/{world.private}/deliberation").status_code == 200
    assert mod.put(f"/api/repos/{world.private}/card", json={"card": "x"}).status_code == 403
    assert mod.post(f"/api/repos/{world.private}/deliberation/evidence",
                    json={"kind": "other", "summary": "x"}).status_code == 403

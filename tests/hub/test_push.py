"""``scrutiny push`` against a real hub: uvicorn on a free loopback port, in a thread."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from tests.hub._live import free_port, serve

from scrutiny.cli import main


@dataclass
class LiveHub:
    """A running hub, the factory on its app, and its address."""

    url: str
    factory: Any


@pytest.fixture
def settings(settings):
    """The usual test settings, with the default upload limits (audit records are ~130 KB)."""
    return settings.model_copy(update={"max_upload_bytes": 20 * 2**20,
                                       "max_request_bytes": 100 * 2**20})


@pytest.fixture
def live(app, hub) -> Iterator[LiveHub]:
    """The test's hub served by uvicorn on 127.0.0.1 (a real HTTP server, in a thread)."""
    hub.user("ada", display_name="Ada Lovelace")
    hub.user("vic")
    hub.user("olga")
    hub.org("acme", members={"ada": "maintainer", "vic": "viewer"})
    with serve(app) as url:
        yield LiveHub(url, hub)


def _push(live: LiveHub, directory: Any, *args: str, token: str | None = None,
          env: dict[str, str] | None = None) -> Any:
    argv = ["push", str(directory), "--hub", live.url, *args]
    if token:
        argv += ["--token", token]
    return CliRunner().invoke(main, argv, env={"SCRUTINY_TOKEN": "", **(env or {})})


def test_push_the_demo_output_and_see_it_on_the_hub(live, demo_dir):
    token = live.factory.token("ada")
    res = _push(live, demo_dir, "--repo", "acme/income-model", "--message", "First audit",
                env={"SCRUTINY_TOKEN": token})
    assert res.exit_code == 0, res.output
    assert "to acme/income-model (created) as revision 2" in res.output
    assert "Not sent (not audit artefacts): model.skops" in res.output
    assert "Audit #1 attached; deliberation record: 2 value, 1 conflict, 1 evidence, " \
           "2 checklist." in res.output
    assert res.output.strip().endswith(f"{live.url}/repos/acme/income-model")

    web = httpx.Client(base_url=live.url, headers={"Authorization": f"Bearer {token}"})
    repo = web.get("/api/repos/acme/income-model").json()["data"]
    assert repo["repo"]["private"] is True and repo["repo"]["kind"] == "model"
    assert {f["name"] for f in repo["files"]} >= {"audit.json", "report.html", "audit.md",
                                                  "audit.yaml", "attribution.json"}
    assert repo["card"]["title"] and "income" in repo["card"]["text"].lower()  # from the audit
    audit = web.get("/api/repos/acme/income-model/audits/1").json()["data"]
    assert audit["audit"]["title"].startswith("Demo: income model")
    assert audit["detail"]["gates"][0]["metric"] == "equal_opportunity"
    assert audit["audit"]["uploaded_by"]["username"] == "ada"
    report = web.get("/repos/acme/income-model/audits/1/report")
    assert report.status_code == 200 and report.headers["content-security-policy"].startswith(
        "sandbox")
    delib = web.get("/api/repos/acme/income-model/deliberation").json()["data"]
    counts = {s["kind"]: len(s["items"]) for s in delib["sections"]}
    assert counts == {"value": 2, "conflict": 1, "evidence": 1, "checklist": 2, "signoff": 0}
    conflict = next(s for s in delib["sections"] if s["kind"] == "conflict")["items"][0]
    assert conflict["data"]["rationale"] and conflict["audit"] == 1
    results = web.get("/api/repos/acme/income-model/attributions").json()["data"]["results"]
    assert "attribution.json" in {r["name"] for r in results}
    activity = web.get("/api/repos/acme/income-model/activity").json()["data"]
    assert activity["contributors"][0]["user"]["username"] == "ada"
    for page in ("/repos/acme/income-model", "/repos/acme/income-model/audits/1",
                 "/repos/acme/income-model/deliberation", "/repos/acme/income-model/attributions",
                 "/repos/acme/income-model/activity", "/repos/acme/income-model/diff"):
        assert web.get(page).status_code == 200, page
    # an anonymous visitor cannot tell the private repository exists
    assert httpx.get(f"{live.url}/repos/acme/income-model").status_code == 404

    again = _push(live, demo_dir, "--repo", "acme/income-model", token=token)
    assert again.exit_code == 0, again.output
    assert "as revision 3" in again.output and "Audit #2" in again.output
    assert "no new rows" in again.output  # the same deliberation record is not duplicated
    diff = web.get("/api/repos/acme/income-model/diff").json()["data"]
    assert {f["change"] for f in diff["files"]} == {"unchanged"}


def test_push_public_dataset(live, tmp_path):
    folder = tmp_path / "card-only"
    folder.mkdir()
    (folder / "README.md").write_text("---\nlicense: cc-by-4.0\ntags: [inclusive]\n---\n"
                                      "# Dataset Card for survey\n", encoding="utf-8")
    res = _push(live, folder, "--repo", "acme/survey", "--kind", "dataset", "--public",
                token=live.factory.token("ada"))
    assert res.exit_code == 0, res.output
    hits = httpx.get(f"{live.url}/api/search?tag=inclusive&kind=dataset").json()["data"]
    assert [r["full_name"] for r in hits["results"]] == ["acme/survey"]


def test_push_errors_are_one_line_with_a_fix(live, demo_dir, tmp_path):
    ada = live.factory.token("ada")
    cases = [
        (_push(live, tmp_path / "missing", "--repo", "acme/x", token=ada), "is not a folder"),
        (_push(live, tmp_path, "--repo", "acme/x", token=ada), "holds none of"),
        (_push(live, demo_dir, "--repo", "acme", token=ada), "expected ORG/NAME"),
        (_push(live, demo_dir, "--repo", "acme/x"), "no API token"),
        (_push(live, demo_dir, "--repo", "acme/x", token="scr_wrong"), "HTTP 401"),
        (_push(live, demo_dir, "--repo", "acme/x", token=live.factory.token("vic")),
         "HTTP 403"),
        (_push(live, demo_dir, "--repo", "acme/x", token=live.factory.token("ada", "read")),
         "'read' scope"),
        (_push(live, demo_dir, "--repo", "acme/x", token=live.factory.token("olga")),
         "HTTP 404"),
        (_push(live, demo_dir, "--repo", "nobody/x", token=ada), "No organisation"),
    ]
    for res, fragment in cases:
        assert res.exit_code == 2, res.output
        assert fragment in res.output, res.output
        assert "Traceback" not in res.output
    assert "create one with write scope" in cases[4][0].output.lower()


def test_push_to_an_unreachable_hub(demo_dir):
    port = free_port()
    res = CliRunner().invoke(main, ["push", str(demo_dir), "--repo", "acme/x", "--hub",
                                    f"http://127.0.0.1:{port}", "--token", "t"])
    assert res.exit_code == 2
    assert "cannot reach the hub" in res.output and "scrutiny serve" in res.output


def test_push_warns_about_plain_http_to_remote_hosts():
    from scrutiny.hub._client import _insecure

    assert _insecure("http://hub.example.org")
    assert not _insecure("https://hub.example.org")
    assert not _insecure("http://127.0.0.1:8000") and not _insecure("http://localhost:8000")


def test_the_pushed_audit_json_is_the_demo_record(demo_dir):
    record = json.loads((demo_dir / "audit.json").read_text())
    assert record["deliberation"]["conflicts"][0]["decision"]

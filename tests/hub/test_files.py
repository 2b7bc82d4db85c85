"""Attachments: name checks against path traversal, size limits, safe downloads, reports."""

from __future__ import annotations

import json

import pytest

from scrutiny.hub._storage import clean_filename


@pytest.mark.parametrize("name", [
    "../../etc/passwd", "..", ".", "/etc/passwd", "a/b.txt", "..\\..\\windows\\win.ini",
    "C:\\boot.ini", "c:evil", "report\x00.html", "new\nline.txt", ".htaccess", "", "   ",
])
def test_path_like_or_hidden_names_are_rejected(name):
    with pytest.raises(Exception, match="file") as info:
        clean_filename(name)
    assert getattr(info.value, "status", None) == 400


@pytest.mark.parametrize(("name", "clean"), [
    ("report.html", "report.html"), ("my model (v2).json", "my model (v2).json"),
    ("résumé.md", "résumé.md"), ("a<b>c.txt", "a_b_c.txt"), ("x;rm -rf.txt", "x_rm -rf.txt"),
])
def test_ordinary_names_are_kept_or_normalised(name, clean):
    assert clean_filename(name) == clean


@pytest.mark.parametrize("name", ["../../etc/passwd", "/etc/passwd", "..\\x.txt"])
def test_uploads_with_traversal_names_are_400_and_store_nothing(world, name):
    api = world.api("maintainer")
    r = api.post(f"/api/repos/{world.public}/files", files=[("files", (name, b"x"))])
    assert r.status_code == 400
    assert r.json()["error"]["field"] == "files[0]"
    files = api.get(f"/api/repos/{world.public}/files").json()["data"]["files"]
    assert files == []
    # nothing outside the data folder was written
    assert not list(world.hub.hub.settings.data_dir.parent.glob("etc*"))


def test_oversized_upload_is_413_with_the_envelope(world):
    api = world.api("maintainer")
    limit = world.hub.hub.settings.max_upload_bytes
    r = api.post(f"/api/repos/{world.public}/files",
                 files=[("files", ("big.bin", b"0" * (limit + 1)))])
    assert r.status_code == 413
    body = r.json()
    assert body["ok"] is False and body["error"]["code"] == "payload_too_large"
    assert "big.bin" in body["error"]["message"] and str(limit) in body["error"]["message"]


def test_request_bodies_over_the_request_limit_are_413_before_parsing(world):
    api = world.api("maintainer")
    limit = world.hub.hub.settings.max_request_bytes
    files = [("files", (f"part{i}.bin", b"0" * 60_000)) for i in range(limit // 60_000 + 2)]
    r = api.post(f"/api/repos/{world.public}/files", files=files)
    assert r.status_code == 413 and r.json()["error"]["field"] == "body"
    # the same answer, as a page, for a browser form
    b = world.browser("maintainer")
    r = b.post(f"/repos/{world.public}/files", files=files, data={"csrf_token": b.csrf})
    assert r.status_code == 413 and "text/html" in r.headers["content-type"]


def test_streamed_bodies_without_a_length_are_counted_too(world):
    api = world.api("maintainer")
    limit = world.hub.hub.settings.max_request_bytes

    def chunks():
        for _ in range(limit // 65536 + 2):
            yield b"0" * 65536

    r = api.put(f"/api/repos/{world.public}/card", content=chunks(),
                 headers={"Content-Type": "application/json"})
    assert r.status_code == 413


def test_downloads_are_attachments_and_html_is_never_rendered(world):
    api = world.api("maintainer")
    payload = b"<html><script>alert(document.cookie)</script></html>"
    r = api.post(f"/api/repos/{world.public}/files",
                 files=[("files", ("evil.html", payload)), ("files", ("image.svg", payload)),
                        ("files", ("notes.txt", b"plain"))], data={"message": "attachments"})
    assert r.status_code == 201, r.text
    anon = world.browser(None)
    for name in ("evil.html", "image.svg"):
        d = anon.get(f"/repos/{world.public}/files/{name}")
        assert d.status_code == 200 and d.content == payload
        assert d.headers["content-type"] == "application/octet-stream"
        assert d.headers["content-disposition"].startswith("attachment;")
        assert d.headers["x-content-type-options"] == "nosniff"
        assert "sandbox" in d.headers["content-security-policy"]
    t = anon.get(f"/repos/{world.public}/files/notes.txt")
    assert t.headers["content-type"].startswith("text/plain") and t.content == b"plain"
    meta = anon.get(f"/api/repos/{world.public}/files/notes.txt").json()["data"]
    assert meta["file"]["size"] == 5 and len(meta["file"]["sha256"]) == 64
    assert anon.get(f"/repos/{world.public}/files/..%2F..%2Fetc%2Fpasswd").status_code == 404


def test_private_attachments_are_404_for_outsiders(world):
    world.api("owner").post(f"/api/repos/{world.private}/files",
                            files=[("files", ("data.csv", b"a,b\n1,2\n"))])
    assert world.browser("viewer").get(f"/repos/{world.private}/files/data.csv").status_code == 200
    for who in (None, "outsider"):
        c = world.browser(who)
        assert c.get(f"/repos/{world.private}/files/data.csv").status_code == 404
        assert c.get(f"/api/repos/{world.private}/files/data.csv").status_code == 404


def test_deleting_a_file_makes_a_revision_and_history_keeps_it(world):
    api = world.api("maintainer")
    api.post(f"/api/repos/{world.public}/files", files=[("files", ("a.txt", b"one\n"))])
    assert api.delete(f"/api/repos/{world.public}/files/a.txt").status_code == 200
    assert api.get(f"/api/repos/{world.public}/files").json()["data"]["files"] == []
    old = api.get(f"/api/repos/{world.public}/files?rev=2").json()["data"]["files"]
    assert [f["name"] for f in old] == ["a.txt"]
    assert world.browser(None).get(f"/repos/{world.public}/files/a.txt?rev=2").content == b"one\n"
    diff = api.get(f"/api/repos/{world.public}/diff").json()["data"]
    assert diff["files"] == [{"name": "a.txt", "change": "removed", "diff": ["--- a.txt@2",
                                                                             "+++ a.txt@3",
                                                                             "@@ -1 +0,0 @@",
                                                                             "-one"]}]


def test_browser_upload_form_adds_a_revision(world):
    b = world.browser("maintainer")
    r = b.post(f"/repos/{world.public}/files", data={"csrf_token": b.csrf, "message": "web"},
               files=[("files", ("notes.md", b"# notes\n"))], follow_redirects=False)
    assert r.status_code == 303
    assert "notes.md" in b.get(f"/repos/{world.public}/files").text


def test_invalid_audit_json_is_422_naming_the_file(world):
    api = world.api("maintainer")
    for content, fragment in ((b"{not json", "not valid JSON"), (b"[1, 2]", "audit record"),
                              (b'{"title": "x", "schema_version": "1.0", "v": NaN}', "NaN"),
                              (b"\xff\xfe", "UTF-8")):
        r = api.post(f"/api/repos/{world.public}/files",
                     files=[("files", ("audit.json", content))])
        assert r.status_code == 422, content
        assert r.json()["error"]["field"] == "audit.json" and fragment in r.json()["error"][
            "message"]
    bad = {"schema_version": "1.0", "title": "t",
           "deliberation": {"values": [{"name": "Privacy", "owner": "x"}]}}
    r = api.post(f"/api/repos/{world.public}/files",
                 files=[("files", ("audit.json", json.dumps(bad).encode()))])
    assert r.status_code == 422
    assert r.json()["error"]["field"].startswith("audit.json#deliberation.values[0]")

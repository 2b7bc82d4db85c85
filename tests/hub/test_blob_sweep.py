"""Unreferenced attachment files: what a failed upload leaves, and the sweep that removes it.

An upload stores each file's bytes before the revision naming them is
committed, so a request that fails in between (here: a later file over the
size limit) leaves a blob no revision refers to. ``sweep_blobs`` (and
``scrutiny serve --sweep-blobs``) deletes such files once they are old enough,
never a referenced one, and treats bytes uploaded again as new.
"""

from __future__ import annotations

import hashlib
import os
import time
import uuid

import pytest
from click.testing import CliRunner

from scrutiny.cli import main
from scrutiny.exceptions import ConfigError, InvalidParameterError
from scrutiny.hub import HubSettings, sweep_blobs
from scrutiny.hub._storage import BlobStore

BOTH = pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)
HOUR = 3600


def _age(path: os.PathLike[str] | str, seconds: float) -> None:
    past = time.time() - seconds
    os.utime(path, (past, past))


def _orphan(world) -> tuple[str, BlobStore]:
    """A failed two-file upload: the first file's bytes stay on disk, unreferenced."""
    hub = world.hub.hub
    small = f"orphan {uuid.uuid4().hex}".encode()
    api = world.api("maintainer")
    r = api.post(f"/api/repos/{world.public}/files",
                 files=[("files", ("small.txt", small)),
                        ("files", ("big.bin", b"0" * (hub.settings.max_upload_bytes + 1)))])
    assert r.status_code == 413
    names = [f["name"] for f in api.get(f"/api/repos/{world.public}/files").json()["data"]
             ["files"]]
    assert "small.txt" not in names  # no revision names it
    sha = hashlib.sha256(small).hexdigest()
    store = BlobStore(hub.settings.data_dir)
    assert store.path(sha).exists()  # but its bytes were stored
    return sha, store


@BOTH
def test_the_sweep_removes_what_a_failed_upload_left_and_nothing_referenced(world):
    settings = world.hub.hub.settings
    sha, store = _orphan(world)
    kept = f"kept {uuid.uuid4().hex}".encode()
    api = world.api("maintainer")
    assert api.post(f"/api/repos/{world.public}/files",
                    files=[("files", ("kept.txt", kept))]).status_code == 201
    kept_sha = hashlib.sha256(kept).hexdigest()

    # too recent: an upload in progress looks exactly like this
    res = sweep_blobs(settings, older_than=HOUR)
    assert sha not in res["removed"] and res["kept_recent"] >= 1
    assert store.path(sha).exists()

    _age(store.path(sha), 2 * HOUR)
    _age(store.path(kept_sha), 2 * HOUR)
    res = sweep_blobs(settings, older_than=HOUR, dry_run=True)
    assert res["dry_run"] is True and sha in res["removed"] and kept_sha not in res["removed"]
    assert store.path(sha).exists()  # a dry run deletes nothing

    res = sweep_blobs(settings, older_than=HOUR)
    assert sha in res["removed"] and res["removed_bytes"] >= len("orphan ") + 32
    assert not store.path(sha).exists()
    assert kept_sha not in res["removed"] and res["kept_referenced"] >= 1
    r = api.get(f"/repos/{world.public}/files/kept.txt")
    assert r.status_code == 200 and r.content == kept
    # a second sweep finds nothing more of ours
    assert sha not in sweep_blobs(settings, older_than=HOUR)["removed"]


def test_bytes_uploaded_again_count_as_new(world):
    """An old orphan whose bytes arrive again (upload stored, revision not yet committed)."""
    settings = world.hub.hub.settings
    sha, store = _orphan(world)
    _age(store.path(sha), 2 * HOUR)
    content = store.read(sha)
    assert store.put_bytes(content, limit=10**6, name="again.txt") == (sha, len(content))
    res = sweep_blobs(settings, older_than=HOUR)
    assert sha not in res["removed"] and store.path(sha).exists()


def test_stale_partial_uploads_are_removed_and_fresh_ones_kept(world):
    settings = world.hub.hub.settings
    store = BlobStore(settings.data_dir)
    store.root.mkdir(parents=True, exist_ok=True)
    stale, fresh = store.root / ".upload-stale", store.root / ".upload-fresh"
    stale.write_bytes(b"x" * 10)
    fresh.write_bytes(b"y" * 10)
    _age(stale, 2 * HOUR)
    res = sweep_blobs(settings, older_than=HOUR)
    assert ".upload-stale" in res["removed"] and not stale.exists()
    assert ".upload-fresh" not in res["removed"] and fresh.exists()


@pytest.mark.parametrize("bad", [-1, "an hour", None, True, float("nan")])
def test_bad_older_than_names_the_parameter(world, bad):
    with pytest.raises(InvalidParameterError, match="older_than") as info:
        sweep_blobs(world.hub.hub.settings, older_than=bad)
    assert repr(bad) in str(info.value)


def test_a_database_without_the_schema_is_a_config_error_and_deletes_nothing(tmp_path):
    data = tmp_path / "hub"
    store = BlobStore(data)
    sha, _ = store.put_bytes(b"bytes of an unknown hub", limit=1000, name="x")
    _age(store.path(sha), 2 * HOUR)
    settings = HubSettings(data_dir=data, database_url=f"sqlite:///{tmp_path / 'empty.db'}")
    with pytest.raises(ConfigError, match="migrate-only"):
        sweep_blobs(settings, older_than=HOUR)
    assert store.path(sha).exists()


def test_serve_sweep_blobs_command(world):
    settings = world.hub.hub.settings
    sha, store = _orphan(world)
    _age(store.path(sha), 2 * HOUR)
    args = ["serve", "--sweep-blobs", "--data-dir", str(settings.data_dir),
            "--database-url", settings.database_url]
    env = {"SCRUTINY_DATABASE_URL": ""}
    res = CliRunner().invoke(main, [*args, "--dry-run"], env=env)
    assert res.exit_code == 0, res.output
    assert "Would delete" in res.output and sha in res.output
    assert store.path(sha).exists()
    res = CliRunner().invoke(main, [*args, "--older-than", "60"], env=env)
    assert res.exit_code == 0, res.output
    assert "Deleted" in res.output and sha in res.output
    assert not store.path(sha).exists()


@pytest.mark.parametrize(("argv", "named"), [
    (["serve", "--dry-run"], "--dry-run"),
    (["serve", "--older-than", "10"], "--older-than"),
    (["serve", "--sweep-blobs", "--older-than", "-5"], "--older-than"),
    (["serve", "--sweep-blobs", "--migrate-only"], "--migrate-only"),
])
def test_serve_sweep_flags_bad_combinations_exit_2(argv, named):
    res = CliRunner().invoke(main, argv, env={"SCRUTINY_DATABASE_URL": ""})
    assert res.exit_code == 2
    assert named in res.output


@BOTH
def test_a_deleted_repositorys_files_are_freed_by_the_next_sweep(world):
    settings = world.hub.hub.settings
    world.hub.repo("acme", "doomed", by=world.users["owner"])
    content = f"doomed {uuid.uuid4().hex}".encode()
    owner = world.api("owner")
    r = owner.post("/api/repos/acme/doomed/files", files=[("files", ("f.txt", content))])
    assert r.status_code == 201
    sha = hashlib.sha256(content).hexdigest()
    store = BlobStore(settings.data_dir)
    _age(store.path(sha), 2 * HOUR)
    assert sha not in sweep_blobs(settings, older_than=HOUR)["removed"]  # still referenced
    assert owner.delete("/api/repos/acme/doomed").status_code == 200
    assert sha in sweep_blobs(settings, older_than=HOUR)["removed"]
    assert not store.path(sha).exists()

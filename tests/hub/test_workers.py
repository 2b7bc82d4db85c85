"""``scrutiny serve --workers N``: several processes, one schema migration, one secret key.

The real command in a subprocess, on SQLite and on PostgreSQL: the parent
migrates once and hands the workers the same settings, so a session and CSRF
token made by one worker are accepted by the others. Every request below opens
a new connection, so the kernel spreads them over the workers.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ._live import free_port

BOTH = pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)
PASSWORD = "correct horse battery staple"

pytestmark = pytest.mark.slow


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def _cpu_ticks(pids: list[int]) -> dict[int, int]:
    """User + system CPU time of each process, in clock ticks (/proc/PID/stat)."""
    out = {}
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        out[pid] = int(fields[11]) + int(fields[12])
    return out


@BOTH
def test_two_workers_share_sessions_and_migrate_once(tmp_path, database_url):
    import httpx

    port = free_port()
    log = tmp_path / "serve.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCRUTINY_")}
    if database_url:
        env["SCRUTINY_DATABASE_URL"] = database_url
    proc = subprocess.Popen(
        [sys.executable, "-c", "from scrutiny.cli import main; main()", "serve", "--workers",
         "2", "--port", str(port), "--data-dir", str(tmp_path / "hub")],
        stdout=log.open("wb"), stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, log.read_text()[-3000:]
            try:
                if httpx.get(f"{url}/api/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "no answer in 90 s:\n" + log.read_text()[-3000:]
            time.sleep(0.2)
        # give the second worker time to finish importing
        deadline = time.monotonic() + 60
        while len(_children(proc.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        children = _children(proc.pid)  # the workers (and multiprocessing's resource tracker)
        assert len(children) >= 2, "fewer than 2 worker processes"
        time.sleep(1.0)
        before = _cpu_ticks(children)

        fresh = httpx.Limits(max_keepalive_connections=0)  # a new connection per request
        with httpx.Client(base_url=url, limits=fresh, follow_redirects=False) as c:
            token = re.search(r'name="csrf_token" value="([^"]+)"',
                              c.get("/signup").text).group(1)
            r = c.post("/signup", data={"username": "alice", "password": PASSWORD,
                                        "display_name": "Alice", "csrf_token": token})
            assert r.status_code == 303, r.text[:300]
            for i in range(12):  # pages, JSON and CSRF-checked forms, worker after worker
                assert c.get("/api/account").json()["data"]["user"]["username"] == "alice"
                page = c.get("/orgs/new")
                token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
                r = c.post("/orgs/new", data={"name": f"org-{i}", "csrf_token": token})
                assert r.status_code == 303, (i, r.status_code, r.text[:300])
            for i in range(12):  # every organisation was stored once, whichever worker wrote it
                r = c.get(f"/api/orgs/org-{i}")
                assert r.status_code == 200 and r.json()["data"]["org"]["name"] == f"org-{i}"
        after = _cpu_ticks(children)
        busy = [pid for pid in children if after[pid] > before[pid]]
        assert len(busy) >= 2, f"requests did not reach two workers: {before} -> {after}"
        text = log.read_text()
        assert "Traceback" not in text, text[-3000:]
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:  # pragma: no cover - a stuck shutdown
            proc.kill()
            proc.wait()


@pytest.mark.parametrize("bad", ["0", "-1", "many"])
def test_workers_flag_rejects_bad_values(bad):
    from click.testing import CliRunner

    from scrutiny.cli import main

    res = CliRunner().invoke(main, ["serve", "--workers", bad], env={"SCRUTINY_DATABASE_URL": ""})
    assert res.exit_code == 2 and "--workers" in res.output

"""Bounded load test of the hub: ``scrutiny serve`` under concurrent readers and writers.

Starts ``scrutiny serve`` (one uvicorn worker, a subprocess) on a free loopback
port against a fresh database (PostgreSQL: a database created for the run and
dropped afterwards; SQLite: a file in a temporary folder), seeds one organisation,
``--repos`` repositories and one maintainer account with a write token per
simulated user, then runs ``--users`` simulated users (asyncio + httpx, no think
time) for ``--seconds`` seconds. Each user mixes reads (repository pages and
their JSON twins, deliberation pages, search) with writes through the JSON API
(qualitative evidence, values, card edits that make revisions, sign-offs).

Every write attempt carries a unique marker. Afterwards the database is read
directly and the run fails unless:

* no request failed (transport errors, 5xx or any status other than the expected
  success; a 409 "another change landed at the same moment" from two card edits
  racing for the same revision number is retried with a new marker and counted
  separately, because the client was told and nothing was stored);
* every acknowledged write is in the database exactly once (no write lost, none
  duplicated), with exactly one activity-log line, and no refused (409) attempt
  left a row behind.

It prints requests, throughput, p50/p95/p99 latency per kind and the server's
peak RSS (``VmHWM``)::

    .venv/bin/python benchmarks/bench_hub_load.py --users 50 --seconds 60 \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test
    .venv/bin/python benchmarks/bench_hub_load.py --database-url sqlite   # for comparison

``run_load`` is also used by ``tests/hub/test_load_smoke.py`` (10 users, ~5 s).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import math
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
#: Relative weights of the operations of a simulated user (reads first).
MIX: dict[str, int] = {
    "repo_page": 14, "repo_api": 14, "deliberation_page": 8, "deliberation_api": 8,
    "activity_page": 4, "search_page": 8, "search_api": 8,
    "evidence": 12, "value": 8, "card": 6, "signoff": 10,
}
WRITES = ("evidence", "value", "card", "signoff")
MAX_RETRIES = 10


@dataclass
class Stats:
    """What the simulated users saw."""

    latencies: dict[str, list[float]] = field(
        default_factory=lambda: collections.defaultdict(list))
    ok_writes: dict[str, list[str]] = field(default_factory=lambda: collections.defaultdict(list))
    refused: list[str] = field(default_factory=list)  # 409 markers (retried)
    errors: list[str] = field(default_factory=list)
    unsure: list[str] = field(default_factory=list)  # timed out: may or may not be stored


@dataclass
class Result:
    """A finished run: statistics, the database check and the server's peak memory."""

    stats: Stats
    seconds: float
    users: int
    database: str
    db_counts: dict[str, int]
    activity_counts: dict[str, int]
    problems: list[str]
    peak_rss_kib: int | None
    server_log_errors: list[str]

    @property
    def requests(self) -> int:
        return sum(len(v) for v in self.stats.latencies.values())

    def table(self) -> str:
        """A Markdown table: requests and latency percentiles per kind."""
        lines = ["| kind | requests | p50 ms | p95 ms | p99 ms | max ms |",
                 "|---|---:|---:|---:|---:|---:|"]
        for kind in sorted(self.stats.latencies, key=lambda k: (k in WRITES, k)):
            vals = sorted(self.stats.latencies[kind])
            lines.append(f"| {kind} | {len(vals)} | {_pct(vals, 50):.1f} | {_pct(vals, 95):.1f} "
                         f"| {_pct(vals, 99):.1f} | {vals[-1] * 1000:.1f} |")
        return "\n".join(lines)


def _pct(sorted_vals: list[float], q: float) -> float:
    """The q-th percentile (nearest rank) in milliseconds."""
    if not sorted_vals:
        return float("nan")
    k = max(0, min(len(sorted_vals) - 1, math.ceil(q / 100 * len(sorted_vals)) - 1))
    return sorted_vals[k] * 1000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ---------------------------------------------------------------------------
# database


def _fresh_database(url: str) -> tuple[str, Any]:
    """A fresh PostgreSQL database next to the one ``url`` names; returns its URL and a
    function that drops it."""
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    base = make_url(url)
    name = f"scrutiny_load_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT",
                             connect_args={"connect_timeout": 5})
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return base.set(database=name).render_as_string(hide_password=False), drop


def _seed(settings: Any, users: int, repos: int) -> tuple[list[str], list[str]]:
    """One organisation, ``repos`` repositories, ``users`` maintainers with write tokens."""
    from sqlalchemy import select

    from scrutiny.hub._app import build_hub
    from scrutiny.hub._content import create_repo
    from scrutiny.hub._context import Ctx
    from scrutiny.hub._db import ApiToken, Membership, Organisation, User
    from scrutiny.hub._security import TOKEN_PREFIX, Actor, new_token, sha256

    hub = build_hub(settings)  # migrates the schema
    tokens, names = [], []
    with hub.sessions() as db:
        org = Organisation(name="load", display_name="Load test", description="")
        db.add(org)
        password = hub.hasher.hash("not used: the users act with tokens")
        people = [User(username=f"user{i:03d}", display_name=f"User {i}",
                       password_hash=password, is_moderator=False) for i in range(users)]
        db.add_all(people)
        db.flush()
        for u in people:
            db.add(Membership(org_id=org.id, user_id=u.id, role="maintainer"))
            secret = new_token(TOKEN_PREFIX)
            db.add(ApiToken(user_id=u.id, name="load", token_hash=sha256(secret),
                            prefix=secret[:10], scope="write"))
            tokens.append(secret)
        db.commit()
        owner = db.scalar(select(User).where(User.username == "user000"))
        for i in range(repos):
            ctx = Ctx(request=None, db=db, hub=hub, actor=Actor(user=owner))  # type: ignore[arg-type]
            create_repo(ctx, org, f"model-{i:02d}", kind="model", private=i % 2 == 1,
                        card=f"---\nlicense: mit\ntags: [rigorous]\n---\n# Credit model {i}\n")
            names.append(f"load/model-{i:02d}")
        db.commit()
    hub.engine.dispose()
    return tokens, names


_MARK = re.compile(r"LM[0-9a-f]{6}-[a-z]+-\d{7}")


def _check_database(settings: Any, stats: Stats) -> tuple[dict[str, int], dict[str, int],
                                                         list[str]]:
    """Compare the acknowledged writes with what the database holds."""
    from sqlalchemy import select

    from scrutiny.hub._db import Activity, DeliberationItem, Revision, make_engine

    engine = make_engine(settings.database_url)
    stored: collections.Counter[str] = collections.Counter()
    logged: collections.Counter[str] = collections.Counter()
    with engine.connect() as conn:
        for data in conn.execute(select(DeliberationItem.data)).scalars():
            stored.update(set(_MARK.findall(str(data))))
        for message in conn.execute(select(Revision.message)).scalars():
            stored.update(set(_MARK.findall(message)))
        for summary in conn.execute(select(Activity.summary)).scalars():
            logged.update(set(_MARK.findall(summary)))
    engine.dispose()
    acked = collections.Counter(m for ms in stats.ok_writes.values() for m in ms)
    problems = []
    lost = sorted(set(acked) - set(stored) - set(stats.unsure))
    dup = sorted(m for m, n in stored.items() if n > 1)
    phantom = sorted(set(stored) - set(acked) - set(stats.unsure))
    if lost:
        problems.append(f"{len(lost)} acknowledged write(s) missing: {lost[:5]}")
    if dup:
        problems.append(f"{len(dup)} write(s) stored more than once: {dup[:5]}")
    if phantom:
        problems.append(f"{len(phantom)} stored row(s) never acknowledged (refused with 409 "
                        f"or unknown): {phantom[:5]}")
    if +logged != +stored:
        diff = (logged - stored) + (stored - logged)
        problems.append(f"activity log and stored writes differ for {len(diff)} marker(s): "
                        f"{sorted(diff)[:5]}")
    if any(n != 1 for n in acked.values()):
        problems.append("a marker was acknowledged twice (harness bug)")

    def by_kind(counter: collections.Counter[str]) -> dict[str, int]:
        out: collections.Counter[str] = collections.Counter()
        for m, n in counter.items():
            out[m.split("-")[1]] += n
        return {k: out.get(k, 0) for k in WRITES}

    return by_kind(stored), by_kind(logged), problems


# ---------------------------------------------------------------------------
# the server


def _rss_hwm(pid: int) -> int | None:
    """Peak resident set (VmHWM, KiB) of a process and its children."""
    total, found = 0, False
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.is_file():
        pids += [int(p) for p in children.read_text().split()]
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1])
                    found = True
        except OSError:
            continue
    return total if found else None


def _log_errors(text: str) -> list[str]:
    """5xx access-log lines, and the last line of each traceback, of the server's log."""
    out: list[str] = []
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if '" 5' in line and "HTTP/1.1" in line:
            out.append(line.strip())
        elif line.startswith("Traceback"):
            end = next((j for j in range(i + 1, len(lines))
                        if lines[j] and not lines[j].startswith((" ", "Traceback", "\n"))
                        and not lines[j].startswith(("During handling", "The above"))),
                       len(lines) - 1)
            out.append(f"{lines[end].strip()} (traceback at log line {i + 1})")
    return out


def _start_server(database_url: str, data_dir: Path, log: Path) -> tuple[subprocess.Popen[bytes],
                                                                         str]:
    import httpx

    port = _free_port()
    exe = Path(sys.executable).with_name("scrutiny")
    cmd = [str(exe)] if exe.is_file() else [sys.executable, "-c",
                                            "from scrutiny.cli import main; main()"]
    env = {**os.environ, "SCRUTINY_DATABASE_URL": database_url}
    proc = subprocess.Popen(
        [*cmd, "serve", "--host", "127.0.0.1", "--port", str(port), "--data-dir", str(data_dir)],
        stdout=log.open("wb"), stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            msg = f"scrutiny serve exited with {proc.returncode}:\n{log.read_text()[-2000:]}"
            raise RuntimeError(msg)
        try:
            if httpx.get(f"{url}/api/health", timeout=2).status_code == 200:
                return proc, url
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            msg = "scrutiny serve did not answer within 60 s"
            raise RuntimeError(msg)
        time.sleep(0.1)


# ---------------------------------------------------------------------------
# the simulated users


async def _user(n: int, url: str, token: str, repos: list[str], deadline: float, run: str,
                stats: Stats, counter: list[int]) -> None:
    import httpx

    rng = random.Random(n)
    kinds, weights = list(MIX), list(MIX.values())
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60) as client:
        while time.monotonic() < deadline:
            kind = rng.choices(kinds, weights)[0]
            repo = rng.choice(repos)
            if kind in WRITES:
                await _write(client, kind, repo, run, stats, counter, rng)
            else:
                await _read(client, kind, repo, stats, rng)


async def _timed(stats: Stats, kind: str, send: Any) -> Any:
    start = time.perf_counter()
    try:
        res = await send
    except Exception as exc:
        stats.errors.append(f"{kind}: {type(exc).__name__}: {exc}"[:300])
        return None
    stats.latencies[kind].append(time.perf_counter() - start)
    return res


async def _read(client: Any, kind: str, repo: str, stats: Stats, rng: random.Random) -> None:
    words = ["credit", "model", "load", "rigorous", "zzz"]
    path = {
        "repo_page": f"/repos/{repo}", "repo_api": f"/api/repos/{repo}",
        "deliberation_page": f"/repos/{repo}/deliberation",
        "deliberation_api": f"/api/repos/{repo}/deliberation",
        "activity_page": f"/repos/{repo}/activity",
        "search_page": f"/search?q={rng.choice(words)}",
        "search_api": f"/api/search?q={rng.choice(words)}&tag=rigorous",
    }[kind]
    res = await _timed(stats, kind, client.get(path))
    if res is not None and res.status_code != 200:
        stats.errors.append(f"{kind} {path}: HTTP {res.status_code} {res.text[:200]}")


async def _write(client: Any, kind: str, repo: str, run: str, stats: Stats, counter: list[int],
                 rng: random.Random) -> None:
    for _ in range(MAX_RETRIES):
        counter[0] += 1
        mark = f"LM{run}-{kind}-{counter[0]:07d}"
        base = f"/api/repos/{repo}"
        if kind == "card":
            send = client.put(f"{base}/card", json={
                "card": f"---\nlicense: mit\ntags: [rigorous]\n---\n# Credit model\n\n{mark}\n",
                "message": f"Load edit {mark}"})
            expected = 200
        else:
            path, body = {
                "evidence": ("evidence", {"kind": "interview", "summary": f"{mark} said so"}),
                "value": ("values", {"name": mark, "owner": "Load owner",
                                     "metric": "true_positive_rate"}),
                "signoff": ("signoffs", {"role": mark, "statement": "Signed under load."}),
            }[kind]
            send = client.post(f"{base}/deliberation/{path}", json=body)
            expected = 201
        try:
            res = await _timed(stats, kind, send)
        except BaseException:
            stats.unsure.append(mark)
            raise
        if res is None:
            stats.unsure.append(mark)  # transport error: the server may have stored it
            return
        if res.status_code == expected:
            stats.ok_writes[kind].append(mark)
            return
        if res.status_code == 409:
            stats.refused.append(mark)
            await asyncio.sleep(rng.uniform(0.005, 0.05))
            continue
        stats.unsure.append(mark)
        stats.errors.append(f"{kind} {repo}: HTTP {res.status_code} {res.text[:200]}")
        return
    stats.errors.append(f"{kind} {repo}: still 409 after {MAX_RETRIES} attempts")


async def _drive(url: str, tokens: list[str], repos: list[str], seconds: float, run: str
                 ) -> Stats:
    stats = Stats()
    counter = [0]
    deadline = time.monotonic() + seconds
    await asyncio.gather(*(_user(i, url, t, repos, deadline, run, stats, counter)
                           for i, t in enumerate(tokens)))
    return stats


# ---------------------------------------------------------------------------
# one run


def run_load(*, users: int = 50, seconds: float = 60.0, database_url: str = PG_DEFAULT,
             repos: int = 10, server_log: Path | None = None) -> Result:
    """Seed a fresh database, serve it, load it, check it; the database is dropped after.

    Parameters
    ----------
    users : int, default=50
        Concurrent simulated users (each its own maintainer account and token).
    seconds : float, default=60.0
        How long the users keep sending requests.
    database_url : str, default=PG_DEFAULT
        A PostgreSQL URL (a fresh database is created next to it and dropped
        afterwards), or ``"sqlite"`` for a file in a temporary folder.
    repos : int, default=10
        Repositories the users share (fewer means more card edits racing).
    server_log : Path or None, default=None
        Where to keep the server's log (it is deleted with the temporary folder otherwise).

    Returns
    -------
    Result
        Statistics, the per-kind counts found in the database and any problems.
    """
    from scrutiny.hub import HubSettings

    tmp = Path(tempfile.mkdtemp(prefix="scrutiny-load-"))
    drop = None
    proc = None
    try:
        if database_url == "sqlite" or database_url.startswith("sqlite"):
            url = f"sqlite:///{tmp / 'hub.db'}"
            shown = "SQLite (WAL, one file)"
        else:
            url, drop = _fresh_database(database_url)
            shown = f"PostgreSQL ({url.rsplit('/', 1)[-1]}, created and dropped)"
        settings = HubSettings(data_dir=tmp / "data", database_url=url, argon2_time_cost=1,
                               argon2_memory_cost=8, argon2_parallelism=1)
        tokens, names = _seed(settings, users, repos)
        log = tmp / "server.log"
        proc, base = _start_server(url, tmp / "data", log)
        run = uuid.uuid4().hex[:6]
        start = time.monotonic()
        stats = asyncio.run(_drive(base, tokens, names, seconds, run))
        elapsed = time.monotonic() - start
        peak = _rss_hwm(proc.pid)
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        text = log.read_text(errors="replace")
        if server_log is not None:
            shutil.copyfile(log, server_log)
        log_errors = _log_errors(text)
        stored, logged, problems = _check_database(settings, stats)
        return Result(stats=stats, seconds=elapsed, users=users, database=shown,
                      db_counts=stored, activity_counts=logged, problems=problems,
                      peak_rss_kib=peak, server_log_errors=log_errors)
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
        if drop is not None:
            drop()
        shutil.rmtree(tmp, ignore_errors=True)


def report(res: Result) -> str:
    """A plain-text summary of a run."""
    s = res.stats
    writes = {k: len(s.ok_writes.get(k, [])) for k in WRITES}
    rss = f"{res.peak_rss_kib / 1024:.0f} MiB" if res.peak_rss_kib else "unknown"
    lines = [
        f"database: {res.database}; {res.users} users for {res.seconds:.1f} s; server: "
        "`scrutiny serve` (1 uvicorn worker)",
        f"requests: {res.requests} ({res.requests / res.seconds:.0f}/s); acknowledged writes: "
        f"{sum(writes.values())} {writes}",
        f"in the database: {res.db_counts}; activity-log lines: {res.activity_counts}",
        f"409 conflicts retried: {len(s.refused)}; errors: {len(s.errors)}; "
        f"unsure writes: {len(s.unsure)}",
        f"server peak RSS (VmHWM): {rss}",
        "",
        res.table(),
    ]
    for e in s.errors[:10]:
        lines.append(f"ERROR {e}")
    for e in res.server_log_errors[:10]:
        lines.append(f"SERVER LOG {e}")
    for p in res.problems:
        lines.append(f"PROBLEM {p}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50, help="concurrent simulated users")
    parser.add_argument("--seconds", type=float, default=60.0, help="duration of the load")
    parser.add_argument("--repos", type=int, default=10, help="repositories the users share")
    parser.add_argument("--database-url", default=os.environ.get(
        "SCRUTINY_TEST_POSTGRES_URL", PG_DEFAULT),
        help="PostgreSQL URL (a fresh database is created beside it and dropped), or 'sqlite'")
    parser.add_argument("--server-log", type=Path, default=None, metavar="PATH",
                        help="keep the server's log (access lines, tracebacks) here")
    args = parser.parse_args(argv)
    print(f"load average before: {os.getloadavg()}; {os.cpu_count()} CPUs")
    res = run_load(users=args.users, seconds=args.seconds, database_url=args.database_url,
                   repos=args.repos, server_log=args.server_log)
    print(f"load average after: {os.getloadavg()}")
    print(report(res))
    ok = not res.stats.errors and not res.problems and not res.stats.unsure
    print("RESULT:", "OK (no errors, every write stored exactly once)" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

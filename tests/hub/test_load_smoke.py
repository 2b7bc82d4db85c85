"""The load harness of ``benchmarks/bench_hub_load.py``, short: correctness, not timings.

``scrutiny serve`` on a fresh PostgreSQL database, 10 simulated users for about
5 s mixing reads and writes; every acknowledged write must be in the database
exactly once, with one activity-log line, and no request may fail. The timings
are recorded by the benchmark itself (see ``benchmarks/README.md``).
PostgreSQL unreachable: skipped with the reason, failed with ``CI=true``.

Also: a burst of more concurrent requests than FastAPI has worker threads must not stall
on the database pool (a regression test for a stall the benchmark found at 100 users).
"""

from __future__ import annotations

import pytest
from benchmarks.bench_hub_load import WRITES, report, run_load
from tests.hub._live import serve
from tests.hub.conftest import postgres_url

pytestmark = pytest.mark.slow


def test_load_smoke_loses_and_duplicates_no_write():
    res = run_load(users=10, seconds=5, database_url=postgres_url(), repos=3)
    summary = report(res)
    assert not res.stats.errors, summary
    assert not res.stats.unsure, summary
    assert not res.problems, summary
    acked = {k: len(res.stats.ok_writes.get(k, [])) for k in WRITES}
    assert res.db_counts == acked, summary
    assert res.activity_counts == acked, summary
    assert sum(acked.values()) > 0 and res.requests > sum(acked.values()), summary
    assert not res.server_log_errors, summary


@pytest.fixture
def live_url(app):
    """The test's hub (SQLite) served by uvicorn on 127.0.0.1, in a thread."""
    with serve(app) as url:
        yield url


def test_a_burst_beyond_the_thread_pool_does_not_stall(world, live_url):
    """More concurrent requests than worker threads (40) while the pool has 15 connections:
    each request waits for a database slot without holding a thread, so none waits for
    the 30 s pool timeout (which used to answer 500 after a stall)."""
    import asyncio
    import time

    import httpx

    token = world.hub.token(world.users["owner"], "read")

    async def burst() -> list[int]:
        limits = httpx.Limits(max_connections=120)
        async with httpx.AsyncClient(base_url=live_url, timeout=25, limits=limits,
                                     headers={"Authorization": f"Bearer {token}"}) as client:
            paths = ["/api/repos/acme/secret", "/repos/acme/open/deliberation",
                     "/api/search?q=model"] * 40
            responses = await asyncio.gather(*(client.get(p) for p in paths))
        return [r.status_code for r in responses]

    start = time.monotonic()
    statuses = asyncio.run(burst())
    assert statuses == [200] * 120
    assert time.monotonic() - start < 25

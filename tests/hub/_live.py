"""A real hub for the tests that need one: uvicorn on a free loopback port, and Chromium.

``serve(app)`` runs the test's app under uvicorn in a thread and yields its
address; ``require_browser_tools()`` skips a browser test with the reason where
Playwright or Debian's Chromium is missing, except in CI (``CI=true``), where it
fails. Set-up: ``scripts/setup-browser-tests.sh``.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path(os.environ.get("SCRUTINY_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SETUP = "run scripts/setup-browser-tests.sh"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def serve(app: Any) -> Iterator[str]:
    """Serve ``app`` with uvicorn on 127.0.0.1 in a thread; yield its base URL."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def missing_browser_tools(*extra: tuple[Path, str]) -> list[str]:
    """What is missing to drive Chromium with Playwright (plus ``extra`` files: path, hint)."""
    out = []
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        out.append("the playwright Python package is not installed")
    if not CHROMIUM.is_file():
        out.append(f"Chromium is not at {CHROMIUM} (Debian package 'chromium')")
    out += [hint for path, hint in extra if not path.is_file()]
    return out


def require_browser_tools(*extra: tuple[Path, str]) -> None:
    """Skip with the reason, or fail in CI, when the browser tooling is missing."""
    missing = missing_browser_tools(*extra)
    if not missing:
        return
    msg = "browser test tooling missing: " + "; ".join(missing) + f" ({SETUP})"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(msg)
    pytest.skip(msg)

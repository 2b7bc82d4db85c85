"""Browser tooling shared by the tests that drive Debian's Chromium with Playwright.

``require_browser_tools(*extra)`` skips a test with the reason where Playwright,
Chromium (or an ``extra`` file such as axe-core) is missing, except in CI
(``CI=true``), where it fails. Set-up: ``scripts/setup-browser-tests.sh``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path(os.environ.get("SCRUTINY_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
AXE = Path(
    os.environ.get("SCRUTINY_AXE_PATH")
    or ROOT / ".cache" / "npm" / "node_modules" / "axe-core" / "axe.min.js"
)
#: the ``extra`` argument for tests that run axe-core
NEEDS_AXE = (AXE, f"axe-core is not at {AXE} (set SCRUTINY_AXE_PATH or npm install axe-core)")
SETUP = "run scripts/setup-browser-tests.sh"


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

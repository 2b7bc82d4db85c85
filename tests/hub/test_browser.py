"""The hub in a real browser: headless Chromium (Debian's package) driven by Playwright,
against a real uvicorn server on a free loopback port and a temporary SQLite database.

One journey, as a person would make it: sign up, create an organisation and a
repository through the forms, create an API token, push an audit folder with
``scrutiny push`` (a subprocess), then read the audit, its sandboxed report and the
card, sign the audit off on the deliberation page and find the sign-off in the
activity log. Also: a second browser context with JavaScript switched off signs
up, creates an organisation and adds evidence through the forms; no request
leaves 127.0.0.1; axe-core finds no serious or critical violation on the
repository, deliberation and search pages; screenshots are kept in
``test-artifacts/hub-*.png``.

Set-up: ``scripts/setup-browser-tests.sh``. Where a tool is missing the test is
skipped with the reason, except in CI (``CI=true``), where it fails.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from tests._browser import AXE, CHROMIUM, CHROMIUM_ARGS, NEEDS_AXE, require_browser_tools
from tests.hub._live import serve

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
PASSWORD = "correct horse battery staple"
REPO = "acme/income-model"


def _require_tools() -> None:
    require_browser_tools(NEEDS_AXE)


@pytest.fixture
def settings(settings):
    """The usual test settings, with the default upload limits (audit records are ~130 KB)."""
    return settings.model_copy(update={"max_upload_bytes": 20 * 2**20,
                                       "max_request_bytes": 100 * 2**20})


@pytest.fixture
def live_url(app) -> Iterator[str]:
    """The test's hub served by uvicorn on 127.0.0.1 (a real HTTP server, in a thread)."""
    with serve(app) as url:
        yield url


class Recorder:
    """Every request and websocket of a browser context; anything not on 127.0.0.1 is
    recorded and aborted."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.blocked: list[str] = []
        self.sockets: list[str] = []

    def attach(self, context: Any) -> Any:
        def guard(route: Any) -> None:
            url = route.request.url
            if urlsplit(url).hostname == "127.0.0.1" or url.startswith(("data:", "about:")):
                route.continue_()
            else:
                self.blocked.append(url)
                route.abort()

        context.route("**/*", guard)
        context.on("request", lambda r: self.requests.append(r.url))
        context.on("page", lambda p: p.on("websocket", lambda ws: self.sockets.append(ws.url)))
        return context


def _axe(page: Any) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the current page.

    The hub's CSP refuses inline scripts, so axe is evaluated through the DevTools
    protocol (which the page's policy does not govern) rather than added as a tag.
    """
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;0")
    violations = page.evaluate(
        """async () => {
            const r = await axe.run(document, {resultTypes: ['violations']});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))}));
        }"""
    )
    return [v for v in violations if v["impact"] in ("serious", "critical")]


def _push(url: str, directory: Path, token: str) -> subprocess.CompletedProcess[str]:
    """``scrutiny push`` as a separate process, as a user would run it."""
    script = Path(sys.executable).with_name("scrutiny")
    cmd = [str(script)] if script.is_file() else [
        sys.executable, "-c", "from scrutiny.cli import main; main()"]
    env = {k: v for k, v in os.environ.items() if k not in ("SCRUTINY_TOKEN", "SCRUTINY_HUB_URL")}
    return subprocess.run(
        [*cmd, "push", str(directory), "--repo", REPO, "--hub", url, "--token", token,
         "--message", "First audit"],
        capture_output=True, text=True, timeout=120, env=env, check=False)


def _submit(page: Any, button: str) -> None:
    """Click a submit button and wait for the page it leads to."""
    with page.expect_navigation():
        page.get_by_role("button", name=button).click()


def test_hub_journey_in_chromium(live_url, demo_dir):
    _require_tools()
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    rec = Recorder()
    axe: dict[str, list[dict[str, Any]]] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = rec.attach(browser.new_context(viewport={"width": 1200, "height": 900},
                                                     base_url=live_url))
            page = context.new_page()
            page.set_default_timeout(15_000)

            # sign up, then an organisation and a repository through the forms
            page.goto("/signup")
            page.fill("#username", "ada")
            page.fill("#display_name", "Ada Lovelace")
            page.fill("#password", PASSWORD)
            _submit(page, "Sign up")
            assert page.url.endswith("/account")
            page.goto("/orgs/new")
            page.fill("#name", "acme")
            page.fill("#display_name", "Acme Lending")
            _submit(page, "Create")
            assert page.url.endswith("/orgs/acme")
            page.goto("/repos/new")
            page.select_option("#org", "acme")
            page.fill("#name", "income-model")
            _submit(page, "Create")
            assert page.url.endswith(f"/repos/{REPO}")

            # an API token, created and shown once in the browser
            page.goto("/account")
            page.fill("#token-name", "laptop push")
            page.check("input[name=scope][value=write]")
            _submit(page, "Create token")
            token = page.locator("code.secret").inner_text().strip()
            assert token.startswith("scr_")
            assert page.locator("button.copy").count() == 1  # hub.js runs under the CSP

            # push an audit folder from the CLI
            res = _push(live_url, demo_dir, token)
            assert res.returncode == 0, res.stdout + res.stderr
            assert f"{live_url}/repos/{REPO}" in res.stdout

            # the card and the newest audit on the repository page
            page.goto(f"/repos/{REPO}")
            text = page.inner_text("main")
            assert "Newest audit" in text and "audit.json" in text and "report.html" in text
            assert page.get_by_role("heading", name="Model Card for income-model").is_visible()
            assert page.locator(".card, article").count() > 0
            page.screenshot(path=str(ARTIFACTS / "hub-repo.png"), full_page=True)
            axe["repo"] = _axe(page)

            # the audit's page, then its report under the sandboxing policy
            page.get_by_role("link", name="#1", exact=False).first.click()
            page.wait_for_url("**/audits/1")
            assert "Gates" in page.inner_text("main")
            with page.expect_navigation() as nav:
                page.get_by_role("link", name="Read the full report").click()
            report = nav.value
            assert report.status == 200
            assert report.headers["content-security-policy"].startswith("sandbox")
            assert page.locator("h1").count() == 1 and "Summary" in page.inner_text("body")
            cookie = page.evaluate(
                "() => { try { return document.cookie; } catch (e) { return e.name; } }")
            assert cookie == "SecurityError"  # an opaque origin: the hub's cookies are out of reach
            page.screenshot(path=str(ARTIFACTS / "hub-report.png"))

            # sign the audit off on the deliberation page
            page.goto(f"/repos/{REPO}/deliberation")
            section = page.locator("section#signoffs")
            assert "Nothing recorded yet" in section.inner_text()
            section.locator("#signoffs-new-role").fill("legal reviewer")
            section.locator("#signoffs-new-statement").fill("Fit for the pilot described.")
            with page.expect_navigation():
                section.get_by_role("button", name="Sign off as Ada Lovelace").click()
            assert "#signoffs" in page.url
            signed = page.locator("section#signoffs").inner_text()
            assert "legal reviewer" in signed and "Fit for the pilot described." in signed
            axe["deliberation"] = _axe(page)
            page.screenshot(path=str(ARTIFACTS / "hub-deliberation.png"), full_page=True)

            # ... and find it in the activity log
            page.goto(f"/repos/{REPO}/activity")
            log = page.inner_text("main")
            assert "Signed off: Ada Lovelace as legal reviewer" in log
            assert "Ada Lovelace" in page.locator("table, ol.activity").first.inner_text()

            # search finds the repository for its owner
            page.goto("/search?q=income")
            assert REPO in page.inner_text("main")
            axe["search"] = _axe(page)
            page.screenshot(path=str(ARTIFACTS / "hub-search.png"), full_page=True)
            context.close()

            # without JavaScript: sign up, create an organisation, add evidence
            plain = rec.attach(browser.new_context(java_script_enabled=False,
                                                   base_url=live_url))
            page = plain.new_page()
            page.set_default_timeout(15_000)
            page.goto("/signup")
            page.fill("#username", "bea")
            page.fill("#password", PASSWORD)
            _submit(page, "Sign up")
            page.goto("/orgs/new")
            page.fill("#name", "beacon")
            _submit(page, "Create")
            assert page.url.endswith("/orgs/beacon")
            with page.expect_navigation():
                page.locator("main").get_by_role("link", name="New repository").click()
            page.select_option("#org", "beacon")
            page.fill("#name", "survey")
            page.check("input[name=kind][value=dataset]")
            page.check("input[name=visibility][value=public]")
            _submit(page, "Create")
            assert page.url.endswith("/repos/beacon/survey")
            page.goto("/repos/beacon/survey/deliberation")
            evidence = page.locator("section#evidence")
            evidence.locator("#evidence-new-kind").select_option("interview")
            evidence.locator("#evidence-new-summary").fill("Survey staff read the form aloud.")
            with page.expect_navigation():
                evidence.get_by_role("button", name="Add").click()
            assert "Survey staff read the form aloud." in page.locator(
                "section#evidence").inner_text()
            page.goto("/account")
            page.fill("#token-name", "no script")
            _submit(page, "Create token")
            assert page.locator("code.secret").inner_text().startswith("scr_")
            assert page.locator("button.copy").count() == 0  # hub.js did not run
            plain.close()
        finally:
            browser.close()

    (ARTIFACTS / "hub-axe-results.json").write_text(json.dumps(axe, indent=2),
                                                    encoding="utf-8")
    hosts = {urlsplit(u).hostname for u in rec.requests if not u.startswith(("data:", "about:"))}
    assert hosts == {"127.0.0.1"}, f"requests left loopback: {hosts}"
    assert not rec.blocked, f"requests were attempted: {rec.blocked}"
    assert not rec.sockets, f"websockets were opened: {rec.sockets}"
    assert not any(axe.values()), f"serious or critical axe violations: {axe}"

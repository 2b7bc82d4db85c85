"""Reports and moderation in a real browser: headless Chromium (Debian's package) driven by
Playwright against the hub served by uvicorn.

A user reports a repository and lands on the public discussion it opened; a
moderator applies a graduated response with its reason; the owner signs in
and reads it in the moderation log. Where Playwright or Chromium is missing
the test is skipped with the reason, except in CI (``CI=true``), where it fails.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from tests._browser import CHROMIUM, CHROMIUM_ARGS, require_browser_tools
from tests.hub._live import serve

pytestmark = pytest.mark.slow

@pytest.fixture
def live(app: Any, world: Any) -> Iterator[str]:
    """The test's hub (with the standard world) served by uvicorn on 127.0.0.1."""
    with serve(app) as url:
        yield url


def _sign_in(browser: Any, url: str, username: str, password: str) -> Any:
    page = browser.new_context().new_page()
    page.goto(f"{url}/signin")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("form[action='/signin'] button[type=submit]")
    page.wait_for_url(f"{url}/account")
    return page


FILE_BYTES = "GATED-NOTES-7f3a"


def test_report_then_moderate_then_the_owner_reads_the_log(live, world):
    require_browser_tools()
    from playwright.sync_api import sync_playwright

    password = world.hub.PASSWORD
    upload = world.api("owner").post(f"/api/repos/{world.public}/files",
                                     files=[("files", ("notes.txt", FILE_BYTES.encode()))])
    assert upload.status_code == 201, upload.text
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            # a signed-in user reports the repository and sees the public discussion
            page = _sign_in(browser, live, "outsider", password)
            page.goto(f"{live}/repos/{world.public}/discussions")
            page.click("text=Report this repository")
            assert page.locator("a[href='/code-of-conduct']").count() >= 1
            page.select_option("#reason", "ethical")
            page.fill("#description", "It ranks applicants by postcode <b>unfairly</b>.")
            page.click("#report-form button[type=submit]")
            page.wait_for_url(f"{live}/repos/{world.public}/discussions/1")
            assert page.locator("h2").first.inner_text() == "#1 Report: Ethical issue"
            assert "ranks applicants by postcode" in page.inner_text(".comments")
            assert page.locator(".comments b").inner_text() == "unfairly"  # sanitised HTML

            # anyone sees it, signed in or not
            anon = browser.new_context().new_page()
            anon.goto(f"{live}/repos/{world.public}/discussions")
            assert "Report: Ethical issue" in anon.inner_text("main")

            # a moderator applies a graduated response with its reason
            mod = _sign_in(browser, live, "moderator", password)
            mod.goto(f"{live}/moderation")
            assert "Ethical issue" in mod.inner_text("main")
            mod.goto(f"{live}/repos/{world.public}/moderation")
            mod.select_option("#mod-action", "reduce")
            mod.fill("#mod-reason", "High-risk scoring; reduced while the owners respond.")
            mod.select_option("#mod-report", "1")
            mod.click("#moderation-form button[type=submit]")
            mod.wait_for_url(f"{live}/repos/{world.public}/moderation")
            assert "reduced" in mod.inner_text("#moderation-state")
            # ...and a second step up the ladder: gate it
            mod.select_option("#mod-action", "gate")
            mod.fill("#mod-reason", "Access only on request while the complaint is reviewed.")
            mod.click("#moderation-form button[type=submit]")
            mod.wait_for_url(f"{live}/repos/{world.public}/moderation")

            # the owner reads the log, with the reason
            owner = _sign_in(browser, live, world.users["owner"], password)
            owner.goto(f"{live}/repos/{world.public}")
            assert "reduced this repository's visibility" in owner.inner_text("main")
            owner.click("nav.tabs >> text=Moderation")
            log = owner.inner_text("#moderation-log")
            assert "reduce" in log and "High-risk scoring" in log and "Moderator" in log
            assert "Gate access" in log and "while the complaint is reviewed" in log
            # the gate is real: the outsider no longer gets the file, and is asked to request access
            download = page.request.get(f"{live}/repos/{world.public}/files/notes.txt")
            assert download.status == 403 and FILE_BYTES not in download.text()
            assert "/access" in download.text()
            assert owner.locator("#appeal-text").count() == 1
        finally:
            browser.close()

"""Not-for-all-audiences and gated access in a real browser: headless Chromium via Playwright.

The hub runs under uvicorn on a loopback port (as in ``test_push.py``); people
sign in through the sign-in form and use the pages as anyone would. Covered:
the interstitial appears and "View content" passes it; a content preference
removes it; a gated request is sent from the card's form, approved by a
maintainer, and the files appear; a rejected user sees the reason and cannot
ask again. Where playwright or Chromium is missing the tests are skipped with
the reason, except in CI (``CI=true``), where they fail.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from tests._browser import CHROMIUM, CHROMIUM_ARGS, require_browser_tools
from tests.hub._live import serve
from tests.hub.conftest import PASSWORD
from tests.hub.test_gating import GATED_CARD, GATED_SECRETS

pytestmark = pytest.mark.slow

NFAA_CARD = "---\ntags: [not_for_all_audiences]\n---\n# Sensitive model\n\nNFAA-VISIBLE-BODY\n"


@pytest.fixture
def live(app: Any, hub: Any) -> Iterator[str]:
    """The test's hub under uvicorn, with acme (ada owns it), two outsiders and the repos."""
    require_browser_tools()

    hub.user("ada")
    hub.user("olga")
    hub.user("rita")
    hub.org("acme", members={"ada": "owner"})
    hub.repo("acme", "nsfw", private=False, card=NFAA_CARD, by="ada")
    hub.repo("acme", "gated", private=False, card=GATED_CARD, by="ada")
    from fastapi.testclient import TestClient

    api = TestClient(app, headers={"Authorization": f"Bearer {hub.token('ada')}"})
    assert api.post("/api/repos/acme/gated/files", files=[
        ("files", ("secret.txt", GATED_SECRETS["bytes"].encode()))]).status_code == 201
    assert api.put("/api/repos/acme/gated/gating", json={"mode": "manual"}).status_code == 200
    with serve(app) as url:
        yield url


@pytest.fixture(scope="module")
def _chromium() -> Iterator[Any]:
    """One Chromium for the module (launching it costs about a second); each test gets
    its own browser contexts, hence its own cookies and storage."""
    require_browser_tools()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def browser(_chromium: Any, live: str) -> Iterator[Any]:
    """The module's Chromium; the contexts a test opens are closed after it."""
    before = list(_chromium.contexts)
    yield _chromium
    for context in _chromium.contexts:
        if context not in before:
            context.close()


def _person(browser: Any, live: str, username: str | None) -> Any:
    """A new browser context (its own cookies), signed in through the form unless None."""
    page = browser.new_context(base_url=live).new_page()
    page.set_default_timeout(10_000)
    if username:
        page.goto("/signin")
        page.fill("#username", username)
        page.fill("#password", PASSWORD)
        page.click("form.card-form button[type=submit]")
        page.wait_for_url("**/account")
    return page


def test_the_interstitial_and_the_content_preference(browser, live):
    anon = _person(browser, live, None)
    anon.goto("/repos/acme/nsfw")
    assert anon.get_by_role("heading", name="Content warning").is_visible()
    assert "NFAA-VISIBLE-BODY" not in anon.content()
    anon.get_by_role("button", name="View content").click()
    anon.wait_for_url("**/repos/acme/nsfw")
    assert anon.get_by_text("NFAA-VISIBLE-BODY").is_visible()

    olga = _person(browser, live, "olga")
    olga.goto("/repos/acme/nsfw/files")
    assert olga.get_by_role("heading", name="Content warning").is_visible()
    olga.get_by_role("link", name="content preferences").click()
    olga.check("#show-nfaa")
    olga.get_by_role("button", name="Save preferences").click()
    olga.wait_for_url("**/account/preferences")
    assert olga.is_checked("#show-nfaa")
    olga.goto("/repos/acme/nsfw")
    assert olga.get_by_text("NFAA-VISIBLE-BODY").is_visible()
    assert olga.get_by_role("heading", name="Content warning").count() == 0


def test_a_gated_request_is_approved_and_the_files_appear(browser, live):
    olga = _person(browser, live, "olga")
    olga.goto("/repos/acme/gated")
    assert olga.locator("#gated-notice").is_visible()
    assert "secret.txt" not in olga.content()
    olga.get_by_role("link", name="Request access").click()
    assert olga.get_by_role("heading", name="Ask for the credit model").is_visible()
    olga.get_by_label("Company").fill("Acme Research")
    olga.get_by_label("Country").select_option("FR")
    olga.get_by_label("Date of birth").fill("1990-04-01")
    olga.locator("select#field-3").select_option("research")
    olga.get_by_label("I agree to use it for research only").check()
    olga.get_by_role("button", name="Send my request").click()
    assert "pending" in olga.locator("#access-state").inner_text()
    olga.goto("/repos/acme/gated/files")
    assert "request is pending" in olga.content()

    ada = _person(browser, live, "ada")
    ada.goto("/repos/acme/gated/access/requests")
    row = ada.locator("#request-olga")
    assert "Acme Research" in row.inner_text()
    row.get_by_role("button", name="Accept").click()
    ada.wait_for_url("**/access/requests")
    assert "accepted" in ada.locator("#request-olga").inner_text()

    olga.goto("/repos/acme/gated/files")
    assert olga.get_by_role("link", name="secret.txt").is_visible()


def test_a_rejected_user_cannot_ask_again(browser, live):
    rita = _person(browser, live, "rita")
    rita.goto("/repos/acme/gated/access")
    rita.get_by_label("Company").fill("Rival Corp")
    rita.get_by_label("Country").select_option("BR")
    rita.get_by_label("Date of birth").fill("1985-12-24")
    rita.locator("select#field-3").select_option("commercial")
    rita.get_by_label("I agree to use it for research only").check()
    rita.get_by_role("button", name="Send my request").click()

    ada = _person(browser, live, "ada")
    ada.goto("/repos/acme/gated/access/requests")
    ada.get_by_label("Reason for rita").fill("Research use only.")
    ada.locator("#request-rita").get_by_role("button", name="Reject").click()
    ada.wait_for_url("**/access/requests")

    rita.goto("/repos/acme/gated/access")
    state = rita.locator("#access-state").inner_text()
    assert "rejected" in state and "Reason: Research use only." in state
    assert rita.locator("#access-form").count() == 0
    csrf = rita.locator("input[name=csrf_token]").first.get_attribute("value")
    again = rita.request.post(f"{live}/repos/acme/gated/access", form={
        "csrf_token": csrf, "field-0": "Rival Corp", "field-1": "BR",
        "field-2": "1985-12-24", "field-3": "research", "field-4": "on"})
    assert again.status == 409 and "cannot be made again" in again.text()

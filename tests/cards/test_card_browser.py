"""The model card's HTML view in a real browser: no network request, no serious a11y issue."""

from __future__ import annotations

import json

import pytest
from tests.report.test_browser import ARTIFACTS, AXE, _launch, _missing, _require_tools, _visit

pytestmark = pytest.mark.slow


def test_card_html_offline_and_accessible(tmp_path):
    _require_tools()
    if _missing():  # pragma: no cover - _require_tools skipped or failed already
        return
    from playwright.sync_api import sync_playwright
    from tests.golden.test_golden import GOLDEN as RECORD

    from scrutiny.cards import model_card_from_audit

    record = json.loads(RECORD.read_text(encoding="utf-8"))
    card = model_card_from_audit(record, model_id="compas-recidivism-risk",
                                 metadata={"license": "unknown", "language": ["en"]})
    page_path = tmp_path / "card.html"
    page_path.write_text(card.to_html(), encoding="utf-8")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = _launch(p)
        try:
            page, seen = _visit(browser, page_path)
            page.screenshot(path=str(ARTIFACTS / "card.png"), full_page=True)
            page.add_script_tag(path=str(AXE))
            axe = page.evaluate(
                """async () => {
                    const r = await axe.run(document, {resultTypes: ['violations']});
                    return {passes: r.passes.length,
                            violations: r.violations.map(v => ({id: v.id, impact: v.impact,
                                                                help: v.help}))};
                }"""
            )
            text = page.inner_text("body")
        finally:
            browser.close()
    remote = [u for u in seen["requests"] if not u.startswith(("file:", "data:", "about:"))]
    assert not remote and not seen["sockets"], remote
    assert "compas" in text.lower()
    assert axe["passes"] > 0
    bad = [v for v in axe["violations"] if v["impact"] in ("serious", "critical")]
    assert not bad, json.dumps(bad, indent=2)

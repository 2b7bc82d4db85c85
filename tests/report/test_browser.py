"""report.html in a real browser: headless Chromium (Debian's package) driven by Playwright.

Checks that the page makes no network request, that every chart is drawn with
data marks, that axe-core finds no serious or critical accessibility
violation, and keeps a full-page screenshot in ``test-artifacts/report.png``.

Set-up: ``scripts/setup-browser-tests.sh`` (chromium from apt, the playwright
Python package without any browser download, axe-core from npm). Where a tool
is missing the tests are skipped with the reason, except in CI
(``CI=true``), where they fail.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from tests._browser import (
    AXE,
    CHROMIUM,
    CHROMIUM_ARGS,
    NEEDS_AXE,
    missing_browser_tools,
    require_browser_tools,
)

from scrutiny.report import render_html

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = Path(__file__).parent / "fixtures" / "audit_sample.json"
ARTIFACTS = ROOT / "test-artifacts"


def _missing() -> list[str]:
    return missing_browser_tools(NEEDS_AXE)


def _require_tools() -> None:
    require_browser_tools(NEEDS_AXE)


def _launch(p: Any) -> Any:
    return p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


def _visit(browser: Any, path: Path) -> tuple[Any, dict[str, list[str]]]:
    """Open a local page; record every request and websocket, block any non-local one."""
    seen: dict[str, list[str]] = {"requests": [], "sockets": [], "blocked": []}
    context = browser.new_context(viewport={"width": 1100, "height": 900})

    def guard(route: Any) -> None:
        url = route.request.url
        if url.startswith(("file:", "data:", "about:")):
            route.continue_()
        else:
            seen["blocked"].append(url)
            route.abort()

    context.route("**/*", guard)
    page = context.new_page()
    page.on("request", lambda r: seen["requests"].append(r.url))
    page.on("websocket", lambda ws: seen["sockets"].append(ws.url))
    page.goto(path.as_uri(), wait_until="load")
    page.wait_for_timeout(300)
    return page, seen


@pytest.fixture(scope="module")
def session(tmp_path_factory) -> dict[str, Any]:
    """Open the fixture's report once; record requests, charts, headings and the axe result."""
    if _missing():
        return {}
    from playwright.sync_api import sync_playwright

    record = json.loads(FIXTURE.read_text(encoding="utf-8"))
    out = tmp_path_factory.mktemp("report")
    page_path = out / "report.html"
    page_path.write_text(render_html(record), encoding="utf-8")
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report.png"

    with sync_playwright() as p:
        browser = _launch(p)
        try:
            page, seen = _visit(browser, page_path)
            charts = page.evaluate(
                """() => Array.from(document.querySelectorAll('svg')).map(s => {
                    const r = s.getBoundingClientRect();
                    const marks = Array.from(s.querySelectorAll('.mark'));
                    const drawn = marks.filter(m => {
                        const b = m.getBoundingClientRect();
                        return (b.width > 0 || b.height > 0)
                            && getComputedStyle(m).visibility !== 'hidden';
                    });
                    const title = s.querySelector('title');
                    const desc = s.querySelector('desc');
                    return {id: s.id, width: r.width, height: r.height,
                            role: s.getAttribute('role'),
                            title: title ? title.textContent : '',
                            desc: desc ? desc.textContent : '',
                            marks: marks.length, drawn: drawn.length};
                })"""
            )
            headings = page.evaluate(
                """() => Array.from(document.querySelectorAll('h1,h2,h3,h4,h5,h6'))
                    .map(h => [Number(h.tagName[1]), h.textContent.trim()])"""
            )
            text = page.inner_text("body")
            page.screenshot(path=str(shot), full_page=True)
            page.add_script_tag(path=str(AXE))
            axe = page.evaluate(
                """async () => {
                    const r = await axe.run(document, {resultTypes: ['violations']});
                    return {version: axe.version,
                            passes: r.passes.length,
                            violations: r.violations.map(v => ({
                                id: v.id, impact: v.impact, help: v.help,
                                nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))}))};
                }"""
            )
        finally:
            browser.close()
    (ARTIFACTS / "axe-results.json").write_text(json.dumps(axe, indent=2), encoding="utf-8")
    return {**seen, "charts": charts, "headings": headings, "text": text, "axe": axe,
            "screenshot": shot, "record": record}


def test_no_network_request(session):
    _require_tools()
    assert session["requests"], "the page itself should be requested"
    remote = [u for u in session["requests"] if not u.startswith(("file:", "data:", "about:"))]
    assert not remote, f"the report requested {remote}"
    assert not session["blocked"], f"requests were attempted: {session['blocked']}"
    assert not session["sockets"], f"websockets were opened: {session['sockets']}"
    assert not [u for u in session["requests"] if u.startswith(("http:", "https:", "ws:", "wss:"))]


def test_every_chart_is_drawn_with_data_marks(session):
    _require_tools()
    charts = session["charts"]
    record = session["record"]
    n_levels = 1 + len(record["assessment"]["sensitive_features"])
    n_metrics = sum(len(r["metrics"]) for r in record["recommendation"]["recommended"])
    # one chart per recommended metric and group level, plus the ranking
    assert len(charts) == n_metrics * n_levels + 1
    for c in charts:
        assert c["width"] > 100 and c["height"] > 50, c
        assert c["role"] == "img", c
        assert c["title"].strip() and c["desc"].strip(), c
        assert c["marks"] > 0 and c["drawn"] == c["marks"], c


def test_screenshot_is_kept(session):
    _require_tools()
    shot = session["screenshot"]
    assert shot.is_file()
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert width >= 1000 and height > 3000  # the full page, not the first screen


def test_page_reads_complete_summary_first(session):
    _require_tools()
    headings = session["headings"]
    assert [h for h in headings if h[0] == 1] == [headings[0]]
    assert headings[1] == [2, "Summary"]
    levels = [h[0] for h in headings]
    assert all(b <= a + 1 for a, b in itertools.pairwise(levels)), headings
    text = session["text"]
    assert "53% of the Female group" in text  # numbers are there without any script


def test_axe_finds_no_serious_or_critical_violation(session):
    _require_tools()
    axe = session["axe"]
    assert axe["passes"] > 0, "axe-core did not run"
    bad = [v for v in axe["violations"] if v["impact"] in ("serious", "critical")]
    assert not bad, json.dumps(bad, indent=2)


def test_the_request_recorder_does_see_remote_requests(tmp_path):
    """Guard the guard: a page with remote resources is caught (and nothing leaves)."""
    _require_tools()
    from playwright.sync_api import sync_playwright

    page_path = tmp_path / "leaky.html"
    page_path.write_text(
        '<!DOCTYPE html><html lang="en"><head><title>t</title>'
        '<link rel="stylesheet" href="https://cdn.invalid/a.css"></head>'
        '<body><img src="http://example.invalid/x.png" alt="x"></body></html>',
        encoding="utf-8",
    )
    with sync_playwright() as p:
        browser = _launch(p)
        try:
            _, seen = _visit(browser, page_path)
        finally:
            browser.close()
    assert "https://cdn.invalid/a.css" in seen["blocked"]
    assert "http://example.invalid/x.png" in seen["requests"]

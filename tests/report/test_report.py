"""The audit report (HTML and Markdown) rendered from a sample audit record."""

from __future__ import annotations

import copy
import html as html_lib
import itertools
import json
import re
from importlib import resources
from pathlib import Path

import pytest

from scrutiny.report import _sentences as S
from scrutiny.report import render_html, render_markdown

FIXTURE = Path(__file__).parent / "fixtures" / "audit_sample.json"
XSS = "<script>alert(1)</script>"
VERDICT = re.compile(
    r"\b(is|are|was|were|be|been|being|not|looks|seems|appears|deemed|considered)\s+"
    r"(un)?(fair|biased)\b"
    r"|\bunfair\b|\bfairly\b",
    re.IGNORECASE,
)


@pytest.fixture(scope="module")
def record():
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def page(record):
    return render_html(record)


@pytest.fixture(scope="module")
def markdown(record):
    return render_markdown(record)


def _text(fragment: str) -> str:
    """Visible text of an HTML fragment, whitespace collapsed."""
    fragment = re.sub(r"<(style|title|desc)\b.*?</\1>", " ", fragment, flags=re.S)
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def _section(page: str, section_id: str) -> str:
    m = re.search(rf'<section id="{re.escape(section_id)}"[^>]*>(.*?)</section>', page, re.S)
    assert m, f"no section {section_id!r}"
    return m.group(1)


def _pct(x: float) -> str:
    """Independent percentage formatting for the assertions (whole percent from 10%)."""
    p = x * 100
    return f"{p:.0f}%" if p >= 10 else f"{p:.1f}%"


def _by_feature_group(record, feature, value):
    groups = record["assessment"]["by_feature"][feature]["groups"]
    return next(g for g in groups if g["features"][feature] == value)


# ---------------------------------------------------------------------------
# self-contained and offline


def test_page_is_self_contained(page):
    assert page.startswith("<!DOCTYPE html>")
    assert '<html lang="en">' in page
    attrs = re.findall(r'\b(?:src|href|action|poster|srcset|data)\s*=\s*["\']([^"\']*)', page, re.I)
    assert not [a for a in attrs if re.match(r"\s*(https?:|//|ws)", a, re.I)], attrs
    assert all(a.startswith("#") for a in re.findall(r'\bhref="([^"]*)"', page))
    assert not re.search(r"url\(\s*['\"]?\s*(https?:|//)", page, re.I)
    assert "@import" not in page
    assert "<script" not in page.lower()  # complete without JavaScript
    assert "<link" not in page.lower()
    assert "<img" not in page.lower()
    assert "<iframe" not in page.lower()
    assert not re.search(r"https?://", page)


def test_templates_are_package_data():
    root = resources.files("scrutiny.report") / "templates"
    assert (root / "report.html.j2").is_file()
    assert (root / "audit.md.j2").is_file()


# ---------------------------------------------------------------------------
# structure


def test_summary_comes_first_and_headings_are_ordered(page):
    headings = re.findall(r"<h([1-6])\b[^>]*>(.*?)</h\1>", page, re.S)
    levels = [int(h[0]) for h in headings]
    assert levels.count(1) == 1 and levels[0] == 1
    assert _text(headings[1][1]) == "Summary"
    assert all(b <= a + 1 for a, b in itertools.pairwise(levels))
    order = [page.index(f'<section id="{s}"') for s in
             ("summary", "context", "measures", "ranking", "guardrails", "deliberation", "method")]
    assert order == sorted(order)


def test_tables_have_scoped_headers_and_captions(page):
    tables = re.findall(r"<table>(.*?)</table>", page, re.S)
    assert len(tables) > 5
    for t in tables:
        assert "<caption>" in t
        ths = re.findall(r"<th\b([^>]*)>", t)
        assert ths and all('scope="' in a for a in ths), t[:200]


def test_every_recommended_criterion_has_a_section_with_drawn_charts(record, page):
    for rec in record["recommendation"]["recommended"]:
        sid = "criterion-" + rec["criterion"].replace("_", "-")
        body = _section(page, sid)
        assert rec["label"] in _text(body)
        svgs = re.findall(r"<svg\b(.*?)</svg>", body, re.S)
        # each metric of the criterion, for each feature alone and combined
        assert len(svgs) == len(rec["metrics"]) * (1 + len(record["sensitive_features"]))
        for svg in svgs:
            assert 'role="img"' in svg
            assert "<title " in svg and "<desc " in svg
            marks = re.findall(r'<(?:circle|rect|line)\b[^>]*class="mark\b', svg)
            assert len(marks) > 0
        assert "<table>" in body


def test_chart_descriptions_state_the_numbers(record, page):
    female = _by_feature_group(record, "sex", "Female")["metrics"]["true_positive_rate"]
    descs = re.findall(r"<desc [^>]*>(.*?)</desc>", page, re.S)
    by_sex = next(d for d in descs if d.startswith("True positive rate by sex."))
    lo, hi = female["ci"]
    assert f"Female: {_pct(female['value'])}, interval from {_pct(lo)} to {_pct(hi)}" in by_sex
    assert "5,421 people" in by_sex


def test_ranking_chart_and_table_follow_the_record(record, page):
    body = _section(page, "ranking")
    assert 'class="mark bar"' in body
    rows = re.findall(r"<tr><td>(\d+)</td><th scope=\"row\">(.*?)</th>", body)
    assert len(rows) == len(record["ranking"])
    first = record["ranking"][0]
    assert _text(rows[0][1]).startswith(S.humanize(S.metric_label(first["metric"])))


# ---------------------------------------------------------------------------
# sentences from the numbers


def test_sentences_state_the_real_numbers_with_intervals(record, page):
    f = _by_feature_group(record, "sex", "Female")["metrics"]["true_positive_rate"]
    m = _by_feature_group(record, "sex", "Male")["metrics"]["true_positive_rate"]
    expected = (
        "Among people whose true outcome is positive, the model identifies "
        f"{_pct(f['value'])} of the Female group (95% interval {_pct(f['ci'][0])}–"
        f"{_pct(f['ci'][1])}) and {_pct(m['value'])} of the Male group ({_pct(m['ci'][0])}–"
        f"{_pct(m['ci'][1])})."
    )
    assert expected in _text(page)
    overall = record["assessment"]["overall"]["true_positive_rate"]
    assert (f"the true positive rate is {_pct(overall['value'])} (95% interval "
            f"{_pct(overall['ci'][0])}–{_pct(overall['ci'][1])})") in _text(page)
    gap = record["assessment"]["by_feature"]["sex"]["disparities"]["true_positive_rate"]
    assert f"{gap['difference'] * 100:.1f} percentage points" in _text(page)


def test_sentences_are_interval_aware():
    groups = [
        S.GroupValue("A", 40, 0.50, (0.35, 0.65)),
        S.GroupValue("B", 45, 0.60, (0.45, 0.73)),
    ]
    text = S.comparison_sentence("true_positive_rate", groups, None, "95%")
    assert "cannot tell these groups apart with confidence" in text
    apart = [S.GroupValue("A", 4000, 0.50, (0.48, 0.52)),
             S.GroupValue("B", 4000, 0.60, (0.58, 0.62))]
    text = S.comparison_sentence("true_positive_rate", apart,
                                 {"difference": 0.1, "ci_difference": [0.07, 0.13]}, "95%")
    assert "do not overlap" in text and "10 percentage points" in text
    assert "cannot tell" not in text


def test_number_formatting():
    assert S.pct(0.5338983) == "53%"
    assert S.pct(0.0454545) == "4.5%"
    assert S.pct(0.0) == "0%" and S.pct(1.0) == "100%"
    assert S.pct(None) == "not defined"
    assert S.points(0.0665) == "6.7 percentage points"
    assert S.fmt_value("roc_auc", 0.8123) == "0.812"
    assert S.fmt_value("selection_count", 1234.0) == "1,234"


def test_primary_criterion_and_gate_are_in_the_summary(record, page):
    summary = _text(_section(page, "summary"))
    primary = next(r for r in record["recommendation"]["recommended"] if r["role"] == "primary")
    assert f"Main finding: {primary['label']}" in summary
    gate = record["gates"][0]
    assert "Threshold crossed (warning)" in summary
    assert f"at most {gate['max_difference'] * 100:.0f} percentage points" in summary
    assert f"The measured gap is {gate['difference'] * 100:.0f} percentage points" in summary
    assert "No one has signed off this audit yet." in summary
    assert "Affected people consulted" in summary  # the open checklist item
    assert record["deliberation"]["evidence"][0]["summary"] in summary
    assert record["recommendation"]["caveats"][0] in summary


# ---------------------------------------------------------------------------
# caveats beside the numbers


def _row(page: str, table_caption: str, group: str) -> str:
    table = next(t for t in re.findall(r"<table>(.*?)</table>", page, re.S)
                 if table_caption in t)
    return next(r for r in re.findall(r"<tr>(.*?)</tr>", table, re.S)
                if f'<th scope="row">{group}</th>' in r)


def test_caveats_sit_beside_the_flagged_numbers(record, page):
    caption = "Numbers behind the chart: true positive rate by sex and race together"
    tiny = next(g for g in record["assessment"]["groups"]
                if g["features"] == {"sex": "Female", "race": "Amer-Indian-Eskimo"})
    positives = round(tiny["count"] * tiny["metrics"]["base_rate"]["value"])
    row = _row(page, caption, "Female, Amer-Indian-Eskimo")
    assert _pct(tiny["metrics"]["true_positive_rate"]["value"]) in row
    assert 'class="flag"' in row
    assert f"{positives} people whose true outcome is positive" in _text(row)
    big = _row(page, caption, "Male, White")
    assert 'class="flag"' not in big
    # the chart marks the same group with a different shape, not only a colour
    svg = next(s for s in re.findall(r"<svg\b.*?</svg>", page, re.S)
               if "True positive rate by sex and race together</title>" in s)
    assert svg.count('class="mark dot caution"') == sum(
        1 for g in record["assessment"]["groups"]
        if S.caveat_for("true_positive_rate", g, small=30))
    assert "caution-mark" in svg


def test_small_group_flag_sits_beside_the_group_size(record):
    rec = copy.deepcopy(record)
    grp = _by_feature_group(rec, "race", "Other")
    grp["count"] = 12
    page = render_html(rec)
    row = _row(page, "Numbers behind the chart: true positive rate by race", "Other")
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
    assert "12" in cells[0] and "small group" in cells[0]
    assert "Small group: only 12 people" in cells[1]
    assert "small group" in render_markdown(rec)


# ---------------------------------------------------------------------------
# no verdicts


def test_no_fairness_verdict(page, markdown):
    for text in (_text(page), markdown):
        assert not VERDICT.search(text), VERDICT.search(text)
        assert "biased" not in text.lower()
    # criterion names that contain "fair" words are quoted as names, not verdicts
    assert "Demographic parity" in _text(page)


def test_verdict_pattern_catches_verdicts():
    for bad in ("The model is fair.", "This is unfair", "not fair to women", "seems biased"):
        assert VERDICT.search(bad), bad
    assert not VERDICT.search("fair by errors; Demographic parity; the fairness tree")


# ---------------------------------------------------------------------------
# markdown


def test_markdown_has_the_same_sections(page, markdown):
    h2_html = [_text(re.sub(r'<span class="role">(.*?)</span>', r"(\1)", h))
               for h in re.findall(r"<h2\b[^>]*>(.*?)</h2>", page, re.S)]
    h2_md = [line[3:].strip() for line in markdown.splitlines() if line.startswith("## ")]
    assert h2_md == h2_html
    assert markdown.startswith("# ")
    assert sum(1 for line in markdown.splitlines() if line.startswith("# ")) == 1


def test_markdown_states_the_same_numbers(record, markdown):
    f = _by_feature_group(record, "sex", "Female")["metrics"]["true_positive_rate"]
    assert (f"{_pct(f['value'])} of the Female group (95% interval {_pct(f['ci'][0])}–"
            f"{_pct(f['ci'][1])})") in markdown
    for entry in ("Equal access to help", "Collect them for audit only, with consent.",
                  "Demo programme lead", "Affected people consulted"):
        assert entry in markdown
    assert "No one has signed off this audit yet." in markdown


# ---------------------------------------------------------------------------
# escaping


@pytest.fixture(scope="module")
def hostile(record):
    rec = copy.deepcopy(record)
    rec["title"] = f"Audit {XSS}"
    rec["sensitive_features"][0]["justification"] = f"Because {XSS} | pipe"
    rec["deliberation"]["conflicts"][0]["rationale"] = f"{XSS} *not bold*"
    rec["deliberation"]["evidence"][0]["summary"] = f'{XSS} "quoted" & more'
    rec["deliberation"]["signoffs"] = [{"role": "Lead", "name": XSS, "signed_on": "2026-11-25",
                                        "statement": None}]
    for g in rec["assessment"]["by_feature"]["sex"]["groups"]:
        if g["features"]["sex"] == "Female":
            g["features"]["sex"] = XSS
    return rec


def test_html_escapes_record_text(hostile):
    page = render_html(hostile)
    assert XSS not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script" not in page.lower()
    # inside the charts too (group names are drawn as SVG text)
    svg = next(s for s in re.findall(r"<svg\b.*?</svg>", page, re.S)
               if "True positive rate by sex</title>" in s)
    assert "&lt;script&gt;" in svg and "<script" not in svg


def test_markdown_escapes_record_text(hostile):
    md = render_markdown(hostile)
    assert XSS not in md and "<script" not in md.lower()
    assert "Because &lt;script&gt;alert(1)&lt;/script&gt; \\| pipe |" in md  # a table cell
    assert "\\*not bold\\*" in md


# ---------------------------------------------------------------------------
# other shapes of record


def test_renders_without_intervals(record):
    rec = copy.deepcopy(record)
    rec["assessment"]["ci_level"] = None

    def strip(obj):
        if isinstance(obj, dict):
            for k in list(obj):
                if k in ("ci", "ci_difference", "ci_ratio"):
                    obj[k] = None
                else:
                    strip(obj[k])
        elif isinstance(obj, list):
            for x in obj:
                strip(x)

    strip(rec["assessment"])
    strip(rec["ranking"])
    strip(rec["gates"])
    page = render_html(rec)
    assert "95% interval" not in _text(page)
    assert "cannot say how much of the differences could be due to chance" in _text(page)
    assert render_markdown(rec)


def test_renders_a_minimal_record(record):
    rec = copy.deepcopy(record)
    feat = "sex"
    a = rec["assessment"]
    a["sensitive_features"] = [feat]
    a["groups"] = a["by_feature"][feat]["groups"]
    a["disparities"] = a["by_feature"][feat]["disparities"]
    a["by_feature"] = {}
    rec["sensitive_features"] = rec["sensitive_features"][:1]
    rec["ranking"] = [r for r in rec["ranking"] if r["level"] == "sex"]
    rec["gates"] = []
    rec["stakeholders"] = []
    rec["deliberation"] = {"values": [], "conflicts": [], "evidence": [], "checklist": [],
                           "signoffs": []}
    rec["guardrails"] = [{"code": "no_stakeholders", "severity": "caution",
                          "message": "No stakeholders are listed.", "where": "stakeholders"}]
    rec["recommendation"]["recommended"].append({
        "criterion": "auc_parity", "label": "Ranking quality parity (ROC AUC)",
        "metrics": ["roc_auc"], "role": "supporting", "rationale": "Asked for by the team."})
    page = render_html(rec)
    text = _text(page)
    assert "The team set no thresholds" in text
    assert "Caution: No stakeholders are listed." in text
    assert "not computed in this audit" in text
    assert "No qualitative evidence" in text
    md = render_markdown(rec)
    assert "## Ranking quality parity (ROC AUC) (Supporting measure)" in md


def test_package_exports():
    import scrutiny.report as report

    assert report.__all__ == ["render_html", "render_markdown"]


def test_context_says_who_decided(page, markdown):
    body = _text(_section(page, "context"))
    assert "Demo programme lead decided 1 value conflict: Equal access to help versus Privacy." \
        in body
    assert "Demo data scientist (Privacy)" in body
    assert "Demo programme lead decided 1 value conflict" in markdown


def test_score_metrics_are_drawn_on_their_own_scale(record):
    rec = copy.deepcopy(record)
    a = rec["assessment"]
    a["metrics"].append("roc_auc")
    levels = [a["groups"], *(v["groups"] for v in a["by_feature"].values())]
    for groups in levels:
        for i, g in enumerate(groups):
            v = 0.70 + 0.02 * i
            g["metrics"]["roc_auc"] = {"value": v, "ci": [v - 0.05, v + 0.05]}
    a["overall"]["roc_auc"] = {"value": 0.75, "ci": [0.74, 0.76]}
    rec["recommendation"]["recommended"].append({
        "criterion": "auc_parity", "label": "Ranking quality parity (ROC AUC)",
        "metrics": ["roc_auc"], "role": "supporting", "rationale": "Asked for by the team."})
    page = render_html(rec)
    body = _section(page, "criterion-auc-parity")
    svgs = re.findall(r"<svg\b.*?</svg>", body, re.S)
    assert len(svgs) == 3
    assert all(s.count('class="mark dot') >= 2 for s in svgs)
    assert "0.7 for the Female group (95% interval 0.65–0.75)" in _text(body)
    assert "100%" not in svgs[0]  # not a percentage axis

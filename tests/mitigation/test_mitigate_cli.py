"""``scrutiny mitigate``: real COMPAS rows, a saved pipeline, the report, guardrails, bad input."""

from __future__ import annotations

import copy
import html as html_lib
import itertools
import json
import re
from pathlib import Path

import numpy as np
import pytest
import yaml
from click.testing import CliRunner
from tests._browser import AXE, CHROMIUM, CHROMIUM_ARGS, NEEDS_AXE, require_browser_tools

from scrutiny.cli import main

from . import COMPAS_NUMERIC, compas_frame, single_blas_thread  # noqa: F401

pytestmark = pytest.mark.filterwarnings("ignore::Warning:fairlearn.*")
CATEGORICAL = ["c_charge_degree", "sex"]
FEATURES = [*COMPAS_NUMERIC, *CATEGORICAL]
VERDICT = re.compile(
    r"\b(is|are|was|were|be|been|being|not|looks|seems|appears|deemed|considered)\s+"
    r"(un)?(fair|biased)\b|\bunfair\b|\bfairly\b|\bbest\b|\brecommended (option|candidate)",
    re.IGNORECASE,
)
CANDIDATES = [{"name": "reweighing"}, {"name": "thresholds"},
              {"name": "influence_reweighting", "options": {"top_k": 40}}]


def _pipeline(clf):
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    pre = ColumnTransformer([("num", StandardScaler(), COMPAS_NUMERIC),
                             ("cat", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL)])
    return Pipeline([("pre", pre), ("clf", clf)])


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    """COMPAS (ProPublica filter) split 60/40 into train.csv / held.csv, and saved models."""
    import skops.io as sio
    from sklearn.linear_model import LogisticRegression
    from sklearn.naive_bayes import GaussianNB
    from sklearn.svm import LinearSVC

    root = tmp_path_factory.mktemp("mitigate")
    df = compas_frame()[[*FEATURES, "race", "two_year_recid"]].copy()
    df["race"] = df["race"].map({"African-American": "Black", "Caucasian": "White"})
    df["risk_band"] = np.asarray(df["priors_count"].clip(0, 2))  # a three-class label
    order = np.random.default_rng(0).permutation(len(df))
    n = len(df) * 6 // 10
    train, held = df.iloc[order[:n]], df.iloc[order[n:]]
    train.to_csv(root / "train.csv", index=False)
    held.to_csv(root / "held.csv", index=False)
    fit = {"lr": LogisticRegression(max_iter=2000), "svc": LinearSVC(),
           "bayes": GaussianNB()}
    for name, clf in fit.items():
        sio.dump(_pipeline(clf).fit(train[FEATURES], train["two_year_recid"]),
                 root / f"{name}.skops")
    return root


def _config(**over) -> dict:
    cfg = {
        "title": "COMPAS: mitigation candidates (test)",
        "context": {
            "decision": "Flag defendants for pre-trial review", "affected": "Defendants",
            "framing": "allocation", "fairness_goal": "errors", "intervention": "punitive",
            "concern": "not_in_need", "labels_trusted": False, "base_rates_trusted": False,
            "legal_constraints": ["Race may not be used as an input."],
        },
        "sensitive_features": [{"column": "race", "justification":
                                "Protected characteristic with documented disparities."}],
        "stakeholders": [{"name": "Review board", "role": "decision owner"}],
        "data": {"path": "held.csv", "y_true": "two_year_recid",
                 "model": {"path": "lr.skops"}},
        "training": {"path": "train.csv"},
        "assessment": {"n_boot": 200, "seed": 0},
        "mitigate": {"target": "equal_opportunity", "candidates": copy.deepcopy(CANDIDATES)},
    }
    cfg.update(over)
    return cfg


def _run(workdir: Path, cfg: dict, name: str) -> tuple[object, Path]:
    path = workdir / f"{name}.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False), encoding="utf-8")
    out = workdir / f"out-{name}"
    res = CliRunner().invoke(main, ["mitigate", str(path), "--out", str(out), "--no-progress"])
    return res, out


def _text(page: str) -> str:
    page = re.sub(r"<(style|title|desc)\b.*?</\1>", " ", page, flags=re.S)
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", page)).split())


@pytest.fixture(scope="module")
def first_run(workdir):
    """No prior assessment and no choice: the guardrail shows, nothing is chosen."""
    res, out = _run(workdir, _config(), "first")
    return res, out


def test_mitigate_writes_the_json_and_the_html_twin(first_run):
    res, out = first_run
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in out.iterdir()) == ["audit.yaml", "mitigation.html",
                                                     "mitigation.json"]
    assert not list(out.parent.glob(".out-first*"))  # no temporary folder left behind
    rec = json.loads((out / "mitigation.json").read_text())
    assert rec["kind"] == "scrutiny.mitigation"
    assert rec["target"]["name"] == "equal_opportunity"
    labels = [c["label"] for c in rec["candidates"]]
    assert labels == ["unmitigated", "reweighing", "thresholds", "influence_reweighting",
                      "influence_reweighting_random_control"]
    for c in rec["candidates"]:
        assert len(c["accuracy"]["ci"]) == 2
        assert all(len(g["ci"]) == 2 for g in c["gaps"].values())
        if c["role"] != "baseline":
            eff = c["effect"]["gaps"]["equal_opportunity"]
            assert eff["ci"][0] <= eff["ci"][1]
            assert eff["change"] == pytest.approx(
                c["gaps"]["equal_opportunity"]["value"]
                - rec["candidates"][0]["gaps"]["equal_opportunity"]["value"], abs=1e-12)
    assert rec["pareto_front"] and all(
        c["pareto"] == (c["label"] in rec["pareto_front"]) for c in rec["candidates"])
    assert rec["data"]["estimator"] == "Pipeline(ColumnTransformer, LogisticRegression)"
    assert rec["data"]["n_fit"] + rec["data"]["n_validation"] == rec["data"]["n_train"]
    # the thresholds narrow the gap they target on held-out rows
    thr = next(c for c in rec["candidates"] if c["label"] == "thresholds")
    assert thr["effect"]["gaps"]["equal_opportunity"]["change"] < 0
    assert thr["uses_group_at_prediction"]


def test_mitigation_before_assessment_is_a_guardrail_not_an_error(first_run):
    res, out = first_run
    rec = json.loads((out / "mitigation.json").read_text())
    codes = {g["code"]: g for g in rec["guardrails"]}
    assert codes["mitigation_before_assessment"]["severity"] == "warning"
    assert "group_at_prediction" in codes  # thresholds use race at decision time
    assert "Race may not be used as an input." in codes["group_at_prediction"]["message"]
    assert "No prior assessment is named" in " ".join(res.output.split())
    page = (out / "mitigation.html").read_text()
    assert "No prior assessment is named" in _text(page)


def test_the_command_never_picks_and_logs_the_open_decision(first_run):
    res, out = first_run
    rec = json.loads((out / "mitigation.json").read_text())
    assert rec["choice"] is None
    entry = rec["decision_log"][-1]
    assert entry["source"] == "mitigate.choice" and entry["decision"] is None
    assert entry["options"][0] == "unmitigated"
    page = (out / "mitigation.html").read_text()
    for text in (_text(page), res.output):
        assert not VERDICT.search(text), VERDICT.search(text)
    assert "does not pick" in _text(page)
    assert "scrutiny does not pick one" in " ".join(res.output.split())


def test_the_page_is_offline_and_shows_the_trade_off_with_intervals(first_run):
    _, out = first_run
    page = (out / "mitigation.html").read_text()
    rec = json.loads((out / "mitigation.json").read_text())
    assert page.startswith("<!DOCTYPE html>") and '<html lang="en">' in page
    assert "<script" not in page.lower() and "<link" not in page.lower()
    assert "<img" not in page.lower() and not re.search(r"https?://", page)
    assert all(a.startswith("#") for a in re.findall(r'\bhref="([^"]*)"', page))
    svg = re.findall(r"<svg\b.*?</svg>", page, re.S)
    assert len(svg) == 1 and 'role="img"' in svg[0]
    points = re.findall(r'class="mark point[^"]*"', svg[0])
    assert len(points) == len(rec["candidates"])
    assert svg[0].count('class="ci"') == 2 * len(rec["candidates"])  # both whiskers each
    assert ('class="frontier"' in svg[0]) == (len(rec["pareto_front"]) > 1)
    text = _text(page)
    thr = next(c for c in rec["candidates"] if c["label"] == "thresholds")
    change = thr["effect"]["gaps"]["equal_opportunity"]["change"] * 100
    # the effect size and its interval are stated in words
    assert re.search(r"thresholds .*?a change of \u2212" + f"{abs(change):.0f}"
                     + r" percentage points \(95% interval \u2212\d", text)
    assert "Does the targeting matter?" in text and "random rows" in text
    headings = re.findall(r"<h([1-6])\b", page)
    assert headings[0] == "1" and headings[1] == "2"
    assert all(int(b) <= int(a) + 1 for a, b in itertools.pairwise(headings))


def test_prior_assessment_and_choice_go_into_the_decision_log(workdir):
    from scrutiny.audit import run_audit

    audit_cfg = _config()
    del audit_cfg["training"], audit_cfg["mitigate"]
    audit_path = workdir / "audit-only.yaml"
    audit_path.write_text(yaml.safe_dump(audit_cfg), encoding="utf-8")
    run_audit(audit_path, workdir / "assessment")
    cfg = _config()
    cfg["mitigate"] = {
        "target": "equal_opportunity",
        "candidates": [{"name": "reweighing"}, {"name": "thresholds", "label": "race thresholds"}],
        "prior_assessment": "assessment/audit.json",
        "choice": {"candidate": "unmitigated", "rationale": "Group thresholds on race are not "
                   "lawful here; reweighing barely moves the gap.",
                   "decided_by": "Review board", "decided_on": "2026-12-01"},
    }
    cfg["conflicts"] = [{"values": ["Liberty", "Public safety"],
                         "description": "Fewer wrongful flags may mean more missed cases."}]
    res, out = _run(workdir, cfg, "chosen")
    assert res.exit_code == 0, res.output
    rec = json.loads((out / "mitigation.json").read_text())
    assert "mitigation_before_assessment" not in {g["code"] for g in rec["guardrails"]}
    assert rec["prior_assessment"]["path"] == "assessment/audit.json"
    assert rec["prior_assessment"]["title"] == cfg["title"]
    log = rec["decision_log"]
    assert [e["source"] for e in log] == ["conflicts[0]", "mitigate.choice"]
    assert log[-1]["decision"] == "unmitigated" and log[-1]["decided_by"] == "Review board"
    assert log[-1]["options"] == ["unmitigated", "reweighing", "race thresholds"]
    text = _text((out / "mitigation.html").read_text())
    assert "The team chose unmitigated (Review board, 2026-12-01)" in text
    assert "follows the assessment" in text
    assert "Recorded choice: unmitigated" in " ".join(res.output.split())


BAD = [
    ("unknown_mitigator", lambda c: c["mitigate"]["candidates"].append({"name": "reweighting"}),
     "mitigate.candidates[3].name: 'reweighting' is not a mitigator. Did you mean 'reweighing'"),
    ("thresholds_without_scores",
     lambda c: c["data"]["model"].update(path="svc.skops"),
     "mitigate.candidates[1] (thresholds): thresholds needs a model with predict_proba"),
    ("influence_on_a_non_convex_model",
     lambda c: c["data"]["model"].update(path="bayes.skops"),
     "mitigate.candidates[2] (influence_reweighting): influence_reweighting needs a convex"),
    ("multiclass", lambda c: c["training"].update(y_true="risk_band"),
     "training.y_true ('risk_band' in the training rows) holds 3 classes (a multiclass task); "
     "every scrutiny mitigator applies to binary classification only"),
    ("unsupported_constraint",
     lambda c: c["mitigate"]["candidates"][2].update(constraint="equalized_odds"),
     "mitigate.candidates[2] (influence_reweighting): influence_reweighting cannot target"),
    ("option_typo", lambda c: c["mitigate"]["candidates"][2].update(options={"topk": 3}),
     "mitigate.candidates[2].options.topk: influence_reweighting has no option 'topk'. Did "
     "you mean 'top_k'?"),
    ("unknown_choice", lambda c: c["mitigate"].update(
        choice={"candidate": "threshold", "rationale": "r", "decided_by": "me"}),
     "mitigate.choice.candidate: 'threshold' is not a candidate. Did you mean 'thresholds'?"),
    ("choice_without_rationale", lambda c: c["mitigate"].update(
        choice={"candidate": "thresholds", "decided_by": "me"}),
     "mitigate.choice.rationale: required"),
    ("no_training", lambda c: c.pop("training"), "training: scrutiny mitigate trains"),
    ("no_model", lambda c: (c.pop("training"),
                            c["data"].update(model=None, y_pred="two_year_recid")),
     "data.model: scrutiny mitigate needs the saved unmitigated model"),
    ("too_few_resamples", lambda c: c["assessment"].update(n_boot=0),
     "assessment.n_boot: scrutiny mitigate gives every change an interval"),
    ("prior_not_a_record", lambda c: c["mitigate"].update(prior_assessment="held.csv"),
     "mitigate.prior_assessment: 'held.csv' could not be read as JSON"),
    ("unknown_group_column", lambda c: c["mitigate"].update(sensitive_features=["sex"]),
     "mitigate.sensitive_features[0]: 'sex' is not one of the sensitive_features"),
]


@pytest.mark.parametrize(("case", "mutate", "message"), BAD, ids=[b[0] for b in BAD])
def test_bad_input_exits_2_with_one_line_and_no_folder(workdir, case, mutate, message):
    cfg = _config()
    mutate(cfg)
    res, out = _run(workdir, cfg, f"bad-{case}")
    assert res.exit_code == 2, res.output
    assert message in " ".join(res.output.split()), res.output
    assert res.output.startswith("Error: ") and res.output.count("\n") == 1
    assert not out.exists()
    assert not list(workdir.glob(f".out-bad-{case}*"))


def test_incompatible_model_error_names_a_candidate_that_applies(workdir):
    cfg = _config()
    cfg["data"]["model"]["path"] = "svc.skops"
    res, _ = _run(workdir, cfg, "svc")
    assert "Candidates that apply to this model: ['reweighing', 'exponentiated_gradient'" in \
        " ".join(res.output.split())


# --------------------------------------------------------------------------- real browser

@pytest.mark.slow
def test_mitigation_page_in_a_real_browser(first_run):
    """Same checks as tests/report/test_browser.py: no request, drawn marks, axe clean."""
    require_browser_tools(NEEDS_AXE)
    from playwright.sync_api import sync_playwright

    _, out = first_run
    requests: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1100, "height": 900})
            context.route("**/*", lambda r: r.continue_() if r.request.url.startswith(
                ("file:", "data:", "about:")) else r.abort())
            page = context.new_page()
            page.on("request", lambda r: requests.append(r.url))
            page.goto((out / "mitigation.html").as_uri(), wait_until="load")
            drawn = page.evaluate("""() => Array.from(document.querySelectorAll('svg .mark'))
                .filter(m => { const b = m.getBoundingClientRect();
                               return b.width > 0 && b.height > 0; }).length""")
            page.add_script_tag(path=str(AXE))
            bad = page.evaluate("""async () => (await axe.run(document))
                .violations.filter(v => ['serious', 'critical'].includes(v.impact))
                .map(v => v.id)""")
        finally:
            browser.close()
    rec = json.loads((out / "mitigation.json").read_text())
    assert not [u for u in requests if not u.startswith(("file:", "data:", "about:"))]
    assert drawn == len(rec["candidates"])
    assert not bad, bad

"""The metric recommendation: one table row per branch of the fairness tree and framing."""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

import pytest

from scrutiny.audit import CRITERION_METRICS, Context, recommend
from scrutiny.audit._recommend import CONTEXT_METRICS, CRITERION_LABELS, SCORE_ONLY

ROOT = Path(__file__).resolve().parents[2]
VERDICT = re.compile(r"\b(fair|unfair|fairly|unfairly)\b", re.IGNORECASE)

BASE = {
    "decision": "who is investigated for benefit fraud",
    "affected": "benefit claimants",
    "framing": "allocation",
    "intervention": "punitive",
    "labels_trusted": True,
}


def ctx(**kw):
    return Context(**{**BASE, **kw})


# id, context answers, primary criterion, also recommended, not recommended,
# text expected in the path or caveats
CASES = [
    # --- representation ----------------------------------------------------------------
    ("repr-equal-numbers",
     {"fairness_goal": "representation", "representation": "equal_numbers"},
     "equal_selection_parity", [], ["demographic_parity", "fpr_parity"],
     ["equal numbers"]),
    ("repr-proportional",
     {"fairness_goal": "representation", "representation": "proportional"},
     "demographic_parity", [], ["equal_selection_parity", "fpr_parity"],
     ["proportional"]),
    ("repr-assistive-ignores-intervention",
     {"fairness_goal": "representation", "representation": "proportional",
      "intervention": "assistive", "intervention_reach": "small_fraction"},
     "demographic_parity", [], ["recall_parity"], []),
    # --- errors, punitive ---------------------------------------------------------------
    ("punitive-everyone",
     {"fairness_goal": "errors", "concern": "everyone"},
     "fp_gs_parity", [], ["fdr_parity", "fpr_parity", "demographic_parity"],
     ["punitive", "among everyone"]),
    ("punitive-intervened",
     {"fairness_goal": "errors", "concern": "intervened"},
     "fdr_parity", [], ["fp_gs_parity", "fpr_parity"], ["intervened on"]),
    ("punitive-not-in-need",
     {"fairness_goal": "errors", "concern": "not_in_need"},
     "fpr_parity", [], ["fp_gs_parity", "fdr_parity"], ["not warranted"]),
    ("punitive-concern-not-given",
     {"fairness_goal": "errors"},
     "fpr_parity", [], ["fdr_parity"], ["have not said among whom"]),
    ("punitive-concern-of-assistive-branch",
     {"fairness_goal": "errors", "concern": "in_need"},
     "fpr_parity", [], ["fnr_parity"], ["does not apply to a punitive"]),
    # --- errors, assistive ----------------------------------------------------------------
    ("assistive-small-fraction",
     {"fairness_goal": "errors", "intervention": "assistive",
      "intervention_reach": "small_fraction"},
     "recall_parity", [], ["fnr_parity", "fn_gs_parity", "for_parity"], ["small fraction"]),
    ("assistive-small-fraction-ignores-concern",
     {"fairness_goal": "errors", "intervention": "assistive",
      "intervention_reach": "small_fraction", "concern": "everyone"},
     "recall_parity", [], ["fn_gs_parity"], []),
    ("assistive-most-everyone",
     {"fairness_goal": "errors", "intervention": "assistive",
      "intervention_reach": "most_in_need", "concern": "everyone"},
     "fn_gs_parity", [], ["for_parity", "fnr_parity", "recall_parity"], ["among everyone"]),
    ("assistive-most-not-intervened",
     {"fairness_goal": "errors", "intervention": "assistive",
      "intervention_reach": "most_in_need", "concern": "not_intervened"},
     "for_parity", [], ["fn_gs_parity", "fnr_parity"], ["do not receive help"]),
    ("assistive-most-in-need",
     {"fairness_goal": "errors", "intervention": "assistive",
      "intervention_reach": "most_in_need", "concern": "in_need"},
     "fnr_parity", [], ["fn_gs_parity", "for_parity"], ["actual need"]),
    ("assistive-reach-not-given",
     {"fairness_goal": "errors", "intervention": "assistive", "concern": "in_need"},
     "fnr_parity", [], ["recall_parity"], ["assumes most"]),
    ("assistive-concern-of-punitive-branch",
     {"fairness_goal": "errors", "intervention": "assistive",
      "intervention_reach": "most_in_need", "concern": "intervened"},
     "fnr_parity", [], ["fdr_parity"], ["does not apply to an assistive"]),
    # --- framing ------------------------------------------------------------------------
    ("framing-allocation",
     {"fairness_goal": "errors", "concern": "not_in_need"},
     "fpr_parity", [], ["accuracy_parity", "calibration_parity", "auc_parity"], []),
    ("framing-quality-of-service",
     {"fairness_goal": "errors", "concern": "not_in_need", "framing": "quality_of_service"},
     "fpr_parity", ["accuracy_parity", "calibration_parity", "auc_parity"], [],
     ["framing: quality_of_service"]),
    ("framing-both",
     {"fairness_goal": "errors", "intervention": "assistive",
      "intervention_reach": "small_fraction", "framing": "both"},
     "recall_parity", ["accuracy_parity", "calibration_parity", "auc_parity"], [],
     ["framing: both"]),
    ("framing-qos-representation",
     {"fairness_goal": "representation", "representation": "proportional",
      "framing": "quality_of_service"},
     "demographic_parity", ["accuracy_parity"], ["equal_selection_parity"], []),
    # --- fairness goal not chosen --------------------------------------------------------
    ("unsure-allocation",
     {"fairness_goal": "unsure", "concern": "intervened"},
     "fdr_parity", [], ["accuracy_parity"], ["following the errors branch"]),
    ("unsure-quality-of-service",
     {"fairness_goal": "unsure", "framing": "quality_of_service"},
     "accuracy_parity", ["calibration_parity", "auc_parity"], ["fpr_parity", "fdr_parity"],
     ["quality-of-service framing"]),
    ("unsure-both",
     {"fairness_goal": "unsure", "framing": "both", "intervention": "assistive",
      "intervention_reach": "most_in_need", "concern": "not_intervened"},
     "for_parity", ["accuracy_parity"], [], ["following the errors branch"]),
    # --- costlier error -----------------------------------------------------------------
    ("costlier-false-positive",
     {"fairness_goal": "errors", "intervention": "assistive",
      "intervention_reach": "most_in_need", "concern": "in_need",
      "costlier_error": "false_positive", "costlier_error_for": "people wrongly enrolled"},
     "fnr_parity", ["fpr_parity"], ["equalized_odds"], ["false positives cost more"]),
    ("costlier-false-negative",
     {"fairness_goal": "errors", "concern": "everyone", "costlier_error": "false_negative"},
     "fp_gs_parity", ["fnr_parity"], ["equalized_odds"], ["false negatives cost more"]),
    ("costlier-same-as-primary",
     {"fairness_goal": "errors", "concern": "not_in_need", "costlier_error": "false_positive"},
     "fpr_parity", [], ["fnr_parity"], ["false positives cost more"]),
    ("costlier-equal",
     {"fairness_goal": "errors", "concern": "intervened", "costlier_error": "equal"},
     "fdr_parity", ["equalized_odds"], ["fpr_parity", "fnr_parity"],
     ["both errors cost the same"]),
    ("costlier-unsure",
     {"fairness_goal": "errors", "concern": "intervened", "costlier_error": "unsure"},
     "fdr_parity", [], ["equalized_odds"], ["not said which error is costlier"]),
    # --- trust in labels and base rates --------------------------------------------------
    ("labels-untrusted",
     {"fairness_goal": "errors", "concern": "not_in_need", "labels_trusted": False},
     "fpr_parity", ["demographic_parity"], [], ["do not trust the recorded outcomes"]),
    ("labels-untrusted-representation",
     {"fairness_goal": "representation", "representation": "equal_numbers",
      "labels_trusted": False},
     "equal_selection_parity", [], ["demographic_parity"],
     ["representation criterion does not use them"]),
    ("base-rates-untrusted",
     {"fairness_goal": "errors", "concern": "not_in_need", "base_rates_trusted": False},
     "fpr_parity", [], ["predictive_parity"], ["do not trust the observed base rates"]),
    ("base-rates-untrusted-qos",
     {"fairness_goal": "errors", "concern": "not_in_need", "base_rates_trusted": False,
      "framing": "quality_of_service"},
     "fpr_parity", ["calibration_parity"], ["predictive_parity"], ["calibration inherit"]),
]


def _check_invariants(rec):
    everything = [i.criterion for i in rec.recommended + rec.not_recommended]
    assert sorted(everything) == sorted(CRITERION_METRICS), "each criterion exactly once"
    assert [i.role for i in rec.recommended].count("primary") == 1
    assert rec.recommended[0].role == "primary"
    assert all(i.role == "supporting" for i in rec.recommended[1:])
    assert all(i.role == "not_recommended" for i in rec.not_recommended)
    for item in rec.recommended + rec.not_recommended:
        assert item.label == CRITERION_LABELS[item.criterion]
        assert item.metrics == CRITERION_METRICS[item.criterion]
        assert isinstance(item.rationale, str)
        assert len(item.rationale.split()) >= 5, item
        assert item.rationale[0].isupper() and item.rationale.rstrip()[-1] in ".)", item
        assert not VERDICT.search(item.rationale), item.rationale
    for text in rec.caveats:
        assert text.strip()
        assert not VERDICT.search(text), text
    assert rec.path


@pytest.mark.parametrize(
    ("answers", "primary", "also", "rejected", "texts"),
    [c[1:] for c in CASES], ids=[c[0] for c in CASES],
)
def test_branch(answers, primary, also, rejected, texts):
    rec = recommend(ctx(**answers))
    _check_invariants(rec)
    assert rec.criteria[0] == primary
    for crit in also:
        assert crit in rec.criteria[1:], (crit, rec.criteria)
    not_rec = [i.criterion for i in rec.not_recommended]
    for crit in rejected:
        assert crit in not_rec, (crit, rec.criteria)
    blob = " ".join(rec.path + rec.caveats)
    for text in texts:
        assert text in blob, (text, blob)
    # metrics: the context metrics first, then every recommended criterion's metrics
    metrics = rec.metrics()
    assert metrics[: len(CONTEXT_METRICS)] == list(CONTEXT_METRICS)
    for item in rec.recommended:
        assert set(item.metrics) <= set(metrics)
    assert len(metrics) == len(set(metrics))
    no_score = rec.metrics(has_score=False)
    assert not set(no_score) & SCORE_ONLY
    assert set(CRITERION_METRICS[primary]) - SCORE_ONLY <= set(no_score)
    # stored in the audit record as JSON
    doc = json.loads(json.dumps(rec.to_dict()))
    assert doc["recommended"][0]["criterion"] == primary
    assert doc["recommended"][0]["rationale"] == rec.recommended[0].rationale
    assert {d["criterion"] for d in doc["not_recommended"]} == set(not_rec)
    assert doc["path"] == rec.path and doc["caveats"] == rec.caveats


# the Aequitas fairness tree: branch -> criterion -> metric
TREE = [
    ({"fairness_goal": "representation", "representation": "equal_numbers"},
     "equal_selection_parity", "selection_count"),
    ({"fairness_goal": "representation", "representation": "proportional"},
     "demographic_parity", "selection_rate"),
    ({"fairness_goal": "errors", "concern": "everyone"},
     "fp_gs_parity", "false_positives_per_person"),
    ({"fairness_goal": "errors", "concern": "intervened"},
     "fdr_parity", "false_discovery_rate"),
    ({"fairness_goal": "errors", "concern": "not_in_need"},
     "fpr_parity", "false_positive_rate"),
    ({"fairness_goal": "errors", "intervention": "assistive",
      "intervention_reach": "small_fraction"}, "recall_parity", "true_positive_rate"),
    ({"fairness_goal": "errors", "intervention": "assistive",
      "intervention_reach": "most_in_need", "concern": "everyone"},
     "fn_gs_parity", "false_negatives_per_person"),
    ({"fairness_goal": "errors", "intervention": "assistive",
      "intervention_reach": "most_in_need", "concern": "not_intervened"},
     "for_parity", "false_omission_rate"),
    ({"fairness_goal": "errors", "intervention": "assistive",
      "intervention_reach": "most_in_need", "concern": "in_need"},
     "fnr_parity", "false_negative_rate"),
]


@pytest.mark.parametrize(("answers", "criterion", "metric"), TREE,
                         ids=[t[1] for t in TREE])
def test_every_leaf_of_the_aequitas_tree(answers, criterion, metric):
    rec = recommend(ctx(**answers))
    assert rec.criteria[0] == criterion
    assert rec.recommended[0].metrics == (metric,)
    assert metric in rec.metrics(has_score=False)


def test_each_leaf_is_reached_by_exactly_one_branch():
    leaves = [t[1] for t in TREE]
    assert len(set(leaves)) == len(leaves) == 9


def test_scoping_guide_documents_every_leaf():
    text = (ROOT / "docs" / "guide" / "scoping.md").read_text()
    for _, criterion, metric in TREE:
        assert f"`{criterion}`" in text, criterion
        assert f"`{metric}`" in text, metric
    for criterion in CRITERION_METRICS:
        assert f"`{criterion}`" in text, criterion


def _all_contexts():
    fields = {
        "framing": ["allocation", "quality_of_service", "both"],
        "fairness_goal": ["representation", "errors", "unsure"],
        "representation": [None, "equal_numbers", "proportional"],
        "intervention": ["punitive", "assistive"],
        "intervention_reach": [None, "small_fraction", "most_in_need"],
        "concern": [None, "everyone", "intervened", "not_intervened", "in_need", "not_in_need"],
        "costlier_error": ["false_positive", "false_negative", "equal", "unsure"],
        "labels_trusted": [True, False],
        "base_rates_trusted": [True, False],
    }
    for values in itertools.product(*fields.values()):
        kw = dict(zip(fields, values, strict=True))
        if kw["fairness_goal"] == "representation" and kw["representation"] is None:
            continue  # rejected by the config
        yield kw


def test_invariants_hold_for_every_context():
    n = 0
    for kw in _all_contexts():
        rec = recommend(ctx(**kw))
        _check_invariants(rec)
        n += 1
    assert n > 10_000


def test_recommendation_does_not_depend_on_ignored_answers():
    # representation answers are ignored on the errors branch and vice versa
    a = recommend(ctx(fairness_goal="errors", concern="intervened"))
    b = recommend(ctx(fairness_goal="errors", concern="intervened",
                      representation="equal_numbers"))
    assert a.to_dict() == b.to_dict()
    c = recommend(ctx(fairness_goal="representation", representation="proportional"))
    d = recommend(ctx(fairness_goal="representation", representation="proportional",
                      concern="everyone", intervention_reach="most_in_need"))
    assert c.criteria == d.criteria


def test_costlier_error_for_is_quoted_in_the_rationale():
    rec = recommend(ctx(fairness_goal="errors", concern="everyone",
                        costlier_error="false_negative",
                        costlier_error_for="claimants wrongly cleared"))
    item = next(i for i in rec.recommended if i.criterion == "fnr_parity")
    assert "claimants wrongly cleared" in item.rationale

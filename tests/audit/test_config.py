"""Bad audit configs: each raises ConfigError naming the field path (and exits 2 in the CLI)."""

from __future__ import annotations

import copy

import pytest
import yaml
from click.testing import CliRunner

from scrutiny.audit import AuditConfig, dump_config, load_config, parse_config
from scrutiny.cli import main
from scrutiny.exceptions import ConfigError, ScrutinyError

VALID = {
    "title": "Benefit fraud triage",
    "context": {
        "decision": "Which benefit claims are sent for a fraud investigation",
        "affected": "Benefit claimants",
        "framing": "allocation",
        "fairness_goal": "errors",
        "intervention": "punitive",
        "concern": "not_in_need",
        "costlier_error": "false_positive",
        "costlier_error_for": "claimants wrongly investigated",
        "labels_trusted": False,
        "base_rates_trusted": False,
        "legal_constraints": ["Nationality may not be a model input."],
    },
    "sensitive_features": [
        {"column": "nationality", "justification": "Protected characteristic; past audits "
         "found more investigations of non-nationals."},
        {"column": "age_band", "justification": "Requested by the claimants' advisory panel.",
         "reference": "30-44"},
    ],
    "stakeholders": [
        {"name": "Fraud unit", "role": "decision owner"},
        {"name": "Claimants' advisory panel", "role": "affected people's representatives",
         "interest": "Being investigated only with reason"},
    ],
    "data": {"path": "claims.csv", "y_true": "fraud", "y_pred": "flagged", "y_score": "risk"},
    "assessment": {"min_group_size": 50, "n_boot": 200},
    "gates": [{"metric": "false_positive_rate", "max_difference": 0.05,
               "rationale": "Agreed with the advisory panel."}],
    "values": [{"name": "Due process", "owner": "Fraud unit", "metric": "fpr_parity"}],
    "conflicts": [{"values": ["Due process", "Recovery of public money"],
                   "description": "Fewer flags mean less recovered.",
                   "decision": "Cap the false positive rate gap.",
                   "rationale": "Wrongful investigations harm claimants.",
                   "decided_by": "Fraud unit", "decided_on": "2026-01-15"}],
    "evidence": [{"kind": "interview", "summary": "Claimants describe investigations as "
                  "stressful and stigmatising."}],
    "checklist": [{"item": "Appeal route exists", "status": "done"},
                  {"item": "Consent for special-category data", "status": "na",
                   "note": "No special-category data is processed."}],
    "signoffs": [{"role": "decision owner", "name": "A. Person", "signed_on": "2026-02-01"}],
}


def _with(path, value):
    """VALID with the value at a dotted path replaced (``...`` deletes the key)."""
    doc = copy.deepcopy(VALID)
    parts = [int(p) if p.isdigit() else p for p in path.split(".")]
    node = doc
    for p in parts[:-1]:
        node = node[p]
    if value is ...:
        del node[parts[-1]]
    else:
        node[parts[-1]] = value
    return doc


# id, the bad config, the field path its error must name, another expected fragment
BAD = [
    ("unknown-top-level-key", {**VALID, "titel": "x"}, "titel", "unknown key"),
    ("unknown-nested-key", _with("context.decison", "x"), "context.decison", "unknown key"),
    ("unknown-key-in-list-item", _with("sensitive_features.1.colum", "x"),
     "sensitive_features[1].colum", "unknown key"),
    ("unknown-key-deep", _with("data.model", {"path": "m.skops", "thresh": 0.3}),
     "data.model.thresh", "unknown key"),
    ("wrong-type-bool", _with("context.labels_trusted", "sometimes"),
     "context.labels_trusted", "boolean"),
    ("wrong-type-int", _with("assessment.n_boot", "many"), "assessment.n_boot", "integer"),
    ("wrong-type-list", _with("sensitive_features", "nationality"), "sensitive_features",
     "list"),
    ("wrong-type-mapping", _with("context", ["allocation"]), "context", "dictionary"),
    ("wrong-choice", _with("context.framing", "alloc"), "context.framing", "allocation"),
    ("out-of-range", _with("assessment.ci", 1.5), "assessment.ci", "less than 1"),
    ("missing-justification", _with("sensitive_features.0.justification", ...),
     "sensitive_features[0].justification", "required but missing"),
    ("empty-justification", _with("sensitive_features.1.justification", ""),
     "sensitive_features[1].justification", "at least 1 character"),
    ("no-sensitive-feature", _with("sensitive_features", []), "sensitive_features",
     "at least 1"),
    ("duplicate-sensitive-column", _with("sensitive_features.1.column", "nationality"),
     "sensitive_features", "once"),
    ("missing-title", _with("title", ...), "title", "required but missing"),
    ("missing-decision", _with("context.decision", ...), "context.decision",
     "required but missing"),
    ("missing-stakeholder-role", _with("stakeholders.0.role", ...), "stakeholders[0].role",
     "required but missing"),
    ("representation-without-answer", _with("context.fairness_goal", "representation"),
     "context", "representation is required"),
    ("na-without-note", _with("checklist.1.note", ...), "checklist[1]", "needs a note"),
    ("decision-without-rationale", _with("conflicts.0.rationale", ...), "conflicts[0]",
     "needs a rationale"),
    ("decision-without-decider", _with("conflicts.0.decided_by", ...), "conflicts[0]",
     "decided_by"),
    ("conflict-with-one-value", _with("conflicts.0.values", ["Due process"]),
     "conflicts[0].values", "at least 2"),
    ("two-data-sources", _with("data.sql", "select * from 'claims.csv'"), "data",
     "exactly one of path, sql or demo"),
    ("no-data-source", _with("data.path", ...), "data", "exactly one of path, sql or demo"),
    ("no-predictions", {**VALID, "data": {"path": "c.csv", "y_true": "fraud"}}, "data",
     "y_pred"),
    ("gate-without-threshold", _with("gates.0.max_difference", ...), "gates[0]",
     "max_difference"),
    ("value-not-operationalised", _with("values.0.metric", ...), "values[0]",
     "qualitative_check"),
    ("bad-date", _with("signoffs.0.signed_on", "soon"), "signoffs[0].signed_on", "date"),
    ("wrong-schema-version", {**VALID, "schema_version": "2.0"}, "schema_version", "1.0"),
]


@pytest.mark.parametrize(("doc", "path", "fragment"), [b[1:] for b in BAD],
                         ids=[b[0] for b in BAD])
def test_bad_config_names_the_path(doc, path, fragment):
    with pytest.raises(ConfigError) as info:
        parse_config(doc, source="'audit.yaml'")
    msg = str(info.value)
    assert f" {path}: " in msg, msg
    assert fragment in msg, msg
    assert isinstance(info.value, ScrutinyError) and isinstance(info.value, ValueError)


@pytest.mark.parametrize(("doc", "path", "fragment"), [b[1:] for b in BAD],
                         ids=[b[0] for b in BAD])
def test_bad_config_file_names_the_path(tmp_path, doc, path, fragment):
    p = tmp_path / "audit.yaml"
    p.write_text(yaml.safe_dump(doc, sort_keys=False))
    with pytest.raises(ConfigError) as info:
        load_config(p)
    msg = str(info.value)
    assert f" {path}: " in msg and str(p) in msg, msg


@pytest.mark.parametrize(("doc", "path"), [(b[1], b[2]) for b in BAD],
                         ids=[b[0] for b in BAD])
def test_bad_config_through_the_cli_exits_2_with_one_line(tmp_path, doc, path):
    answers = tmp_path / "answers.yaml"
    answers.write_text(yaml.safe_dump(doc, sort_keys=False))
    out = tmp_path / "audit.yaml"
    res = CliRunner().invoke(
        main, ["init", "--answers", str(answers), "--no-input", "--out", str(out), "--quiet"])
    assert res.exit_code == 2, res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), res.stderr
    assert path in lines[0], lines[0]
    assert not out.exists()


def test_every_problem_is_named_at_once():
    doc = _with("context.framing", "alloc")
    doc["sensitive_features"][0].pop("justification")
    doc["extra"] = 1
    with pytest.raises(ConfigError) as info:
        parse_config(doc)
    msg = str(info.value)
    for path in ("context.framing", "sensitive_features[0].justification", "extra"):
        assert path in msg, msg


def test_invalid_yaml_gives_the_line(tmp_path):
    p = tmp_path / "audit.yaml"
    p.write_text("title: x\ncontext:\n  decision: [unclosed\n  affected: y\n")
    with pytest.raises(ConfigError, match=r"not valid YAML at line \d+, column \d+"):
        load_config(p)


def test_tab_indentation_gives_the_line(tmp_path):
    p = tmp_path / "audit.yaml"
    p.write_text("title: x\ncontext:\n\tdecision: y\n")
    with pytest.raises(ConfigError, match="line 3"):
        load_config(p)


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match=r"does not exist.*scrutiny init"):
        load_config(tmp_path / "nope.yaml")


@pytest.mark.parametrize("text", ["- a\n- b\n", "just text\n", "", "42\n"])
def test_top_level_must_be_a_mapping(tmp_path, text):
    p = tmp_path / "audit.yaml"
    p.write_text(text)
    with pytest.raises(ConfigError, match="top level must be a mapping"):
        load_config(p)


def test_valid_config_round_trips(tmp_path):
    cfg = parse_config(VALID)
    text = dump_config(cfg)
    assert text.startswith("schema_version: '1.0'\n")
    p = tmp_path / "audit.yaml"
    p.write_text(text)
    again = load_config(p)
    assert again == cfg
    assert dump_config(again) == text
    assert again.sensitive_features[1].reference == "30-44"
    assert again.sensitive_features[0].reference is None
    assert again.conflicts[0].decided_on.isoformat() == "2026-01-15"


def test_minimal_config_round_trips_and_keeps_defaults_out(tmp_path):
    doc = {k: VALID[k] for k in ("title", "sensitive_features", "data")}
    doc["context"] = {k: VALID["context"][k] for k in
                      ("decision", "affected", "framing", "intervention", "labels_trusted")}
    cfg = parse_config(doc)
    text = dump_config(cfg)
    for default_key in ("assessment", "mitigation", "gates", "fairness_goal"):
        assert default_key not in text
    p = tmp_path / "audit.yaml"
    p.write_text(text)
    assert load_config(p) == cfg
    assert cfg.context.fairness_goal == "unsure"
    assert cfg.assessment.min_group_size == 30


def test_config_is_frozen():
    cfg = parse_config(VALID)
    with pytest.raises(Exception, match="frozen"):
        cfg.title = "other"  # type: ignore[misc]
    assert isinstance(cfg, AuditConfig)

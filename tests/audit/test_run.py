"""The audit runner: record content, guardrails, gates, atomic output, bad configs via the CLI."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from sklearn.linear_model import LogisticRegression

from scrutiny.audit import build_record, parse_config
from scrutiny.cli import main


def _data(tmp_path: Path, n: int = 800) -> Path:
    rng = np.random.default_rng(0)
    x = rng.normal(size=n)
    sex = rng.choice(["F", "M"], n)
    y = (x + (sex == "M") * 0.5 + rng.normal(size=n) > 0.3).astype(int)
    df = pd.DataFrame({
        "x": x, "x2": rng.normal(size=n), "sex": sex, "region": rng.choice(["n", "s", "e"], n),
        "label": y, "pred": (x > 0.2).astype(int), "score": 1 / (1 + np.exp(-x)),
    })
    path = tmp_path / "data.csv"
    df.to_csv(path, index=False)
    return path


def _config(**over) -> dict:
    cfg = {
        "title": "Test audit",
        "context": {
            "decision": "Who gets a call back", "affected": "Applicants",
            "framing": "allocation", "fairness_goal": "errors", "intervention": "assistive",
            "intervention_reach": "small_fraction", "labels_trusted": True,
        },
        "sensitive_features": [
            {"column": "sex", "justification": "Protected characteristic under equality law."},
            {"column": "region", "justification": "Regional offices serve different groups."},
        ],
        "stakeholders": [{"name": "A", "role": "owner"}],
        "data": {"path": "data.csv", "y_true": "label", "y_pred": "pred", "y_score": "score"},
        "assessment": {"n_boot": 200},
    }
    for k, v in over.items():
        cfg[k] = v
    return cfg


def _write(tmp_path: Path, cfg: dict) -> Path:
    path = tmp_path / "audit.yaml"
    path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    return path


def test_record_content(tmp_path):
    _data(tmp_path)
    rec = build_record(parse_config(_config()), base_dir=tmp_path)
    assert rec["schema_version"] == "1.0"
    assert rec["recommendation"]["recommended"][0]["criterion"] == "recall_parity"
    assert "true_positive_rate" in rec["assessment"]["metrics"]
    assert rec["data"]["n_rows"] == 800
    assert {g["features"]["sex"] for g in rec["assessment"]["groups"]} == {"F", "M"}
    lows = [r["ci_difference"][0] for r in rec["ranking"] if r["ci_difference"]]
    assert lows == sorted(lows, reverse=True)
    assert rec["guardrails"] == []


def test_guardrails(tmp_path):
    _data(tmp_path)
    cfg = _config(
        sensitive_features=[{"column": "sex", "justification": "TODO"}],
        assessment={"metrics": ["selection_rate"], "min_group_size": 500, "n_boot": 100},
        mitigation={"applied": True},
        stakeholders=[],
    )
    rec = build_record(parse_config(cfg), base_dir=tmp_path)
    codes = {g["code"] for g in rec["guardrails"]}
    assert {"single_metric", "weak_justification", "small_group",
            "mitigation_before_assessment", "no_stakeholders"} <= codes
    weak = next(g for g in rec["guardrails"] if g["code"] == "weak_justification")
    assert weak["where"] == "sensitive_features[0].justification"


def test_gates_and_check_command(tmp_path):
    _data(tmp_path)
    cfg = _config(gates=[
        {"metric": "equal_opportunity", "max_difference": 0.0, "severity": "fail"},
        {"metric": "selection_rate", "min_ratio": 0.0},
    ])
    path = _write(tmp_path, cfg)
    res = CliRunner().invoke(main, ["audit", "check", str(path)])
    assert res.exit_code == 1, res.output
    assert "equal_opportunity: fail" in res.output
    assert "selection_rate: pass" in res.output
    cfg["gates"][0]["severity"] = "warn"
    _write(tmp_path, cfg)
    res = CliRunner().invoke(main, ["audit", "check", str(path)])
    assert res.exit_code == 0, res.output
    assert "equal_opportunity: warn" in res.output


def test_check_reads_an_output_folder(tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "audit.json").write_text(json.dumps({"gates": [
        {"metric": "m", "status": "fail", "severity": "fail", "detail": "x"}]}))
    assert CliRunner().invoke(main, ["audit", "check", str(folder)]).exit_code == 1
    (folder / "audit.json").write_text("{not json")
    res = CliRunner().invoke(main, ["audit", "check", str(folder)])
    assert res.exit_code == 2 and "not valid JSON" in res.output


def test_model_from_skops_and_pickle_needs_trust(tmp_path):
    import skops.io as sio

    data = _data(tmp_path)
    df = pd.read_csv(data)
    model = LogisticRegression().fit(df[["x", "x2"]], df["label"])
    sio.dump(model, tmp_path / "model.skops")
    with (tmp_path / "model.pkl").open("wb") as fh:
        pickle.dump(model, fh)
    data_cfg = {"path": "data.csv", "y_true": "label",
                "model": {"path": "model.skops", "features": ["x", "x2"]}}
    rec = build_record(parse_config(_config(data=data_cfg)), base_dir=tmp_path)
    assert rec["data"]["prediction_source"].startswith("model model.skops")
    sr = {g["features"]["sex"]: g["metrics"]["selection_rate"]["value"]
          for g in rec["assessment"]["by_feature"]["sex"]["groups"]}
    pred = model.predict(df[["x", "x2"]])
    assert sr["F"] == pytest.approx(pred[df["sex"] == "F"].mean())
    data_cfg["model"] = {"path": "model.pkl", "format": "pickle", "features": ["x", "x2"]}
    path = _write(tmp_path, _config(data=data_cfg))
    out = tmp_path / "report"
    res = CliRunner().invoke(main, ["audit", str(path), "--out", str(out), "--no-progress"])
    assert res.exit_code == 2
    assert "data.model.format" in res.output and "--trust" in res.output
    assert not out.exists()
    rec = build_record(parse_config(_config(data=data_cfg)), base_dir=tmp_path, trust=True)
    assert rec["data"]["n_rows"] == 800


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda c: c.update(colour="blue"), "colour: unknown key"),
        (lambda c: c["context"].update(labels_trusted="perhaps"), "context.labels_trusted"),
        (lambda c: c["sensitive_features"][1].pop("justification"),
         "sensitive_features[1].justification: required"),
        (lambda c: c["sensitive_features"][0].update(column="gender"),
         "sensitive_features[0].column: Column 'gender'"),
        (lambda c: c["data"].update(y_true="lable"), "Did you mean 'label'"),
        (lambda c: c["data"].update(path="missing.csv"), "data.path"),
        (lambda c: c.update(data={"path": "data.csv", "y_true": "label",
                                  "model": {"path": "broken.skops"}}), "data.model.path"),
        (lambda c: c.update(gates=[{"metric": "nonsense", "max_difference": 0.1}]),
         "gates[0].metric"),
    ],
)
def test_bad_configs_exit_2_and_leave_no_output(tmp_path, mutate, message):
    _data(tmp_path)
    (tmp_path / "broken.skops").write_bytes(b"not a zip file")
    cfg = _config()
    mutate(cfg)
    path = _write(tmp_path, cfg)
    out = tmp_path / "report"
    res = CliRunner().invoke(main, ["audit", str(path), "--out", str(out), "--no-progress"])
    assert res.exit_code == 2, res.output
    assert message in res.output
    assert "Traceback" not in res.output
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".report")]


def test_demo_command_writes_a_rerunnable_audit(tmp_path):
    out = tmp_path / "demo"
    res = CliRunner().invoke(main, ["demo", "--out", str(out), "--no-progress"])
    assert res.exit_code == 0, res.output
    names = {p.name for p in out.iterdir()}
    assert names == {"report.html", "audit.json", "audit.md", "audit.yaml", "model.skops"}
    rec = json.loads((out / "audit.json").read_text())
    assert rec["data"]["n_rows"] == 16281
    assert rec["recommendation"]["recommended"][0]["criterion"] == "recall_parity"
    html = (out / "report.html").read_text()
    assert "Recall parity" in html and "<svg" in html
    again = tmp_path / "again"
    res = CliRunner().invoke(main, ["audit", str(out / "audit.yaml"), "--out", str(again),
                                    "--no-progress"])
    assert res.exit_code == 0, res.output
    rec2 = json.loads((again / "audit.json").read_text())
    assert rec2["assessment"]["groups"] == rec["assessment"]["groups"]


def test_rerun_replaces_output_only_when_complete(tmp_path):
    _data(tmp_path)
    path = _write(tmp_path, _config())
    out = tmp_path / "report"
    assert CliRunner().invoke(main, ["audit", str(path), "--out", str(out),
                                     "--no-progress"]).exit_code == 0
    before = (out / "audit.json").read_text()
    cfg = _config()
    cfg["data"]["y_true"] = "nope"
    _write(tmp_path, cfg)
    res = CliRunner().invoke(main, ["audit", str(path), "--out", str(out), "--no-progress"])
    assert res.exit_code == 2
    assert (out / "audit.json").read_text() == before  # the old result is untouched
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


@pytest.mark.parametrize("backend", ["pandas", "polars", "duckdb"])
def test_in_memory_data_in_any_backend(tmp_path, backend):
    data = _data(tmp_path)
    frame = pd.read_csv(data)
    if backend == "polars":
        import polars as pl

        frame = pl.from_pandas(frame).lazy()
    elif backend == "duckdb":
        import duckdb

        frame = duckdb.from_df(frame)
    cfg = parse_config(_config())
    ref = build_record(cfg, base_dir=tmp_path)
    rec = build_record(cfg, data=frame)
    assert rec["data"]["source"].startswith("in-memory")
    assert rec["assessment"]["groups"] == ref["assessment"]["groups"]


def test_training_examples_behind_the_gap(tmp_path):
    """Training data in the config adds attribution of the primary gap, shown via shareable
    columns only, with the predicted effect checked by retraining."""
    import skops.io as sio

    data = _data(tmp_path, n=1200)
    df = pd.read_csv(data)
    train, held = df.iloc[:700], df.iloc[700:]
    model = LogisticRegression().fit(train[["x", "x2"]], train["label"])
    sio.dump(model, tmp_path / "model.skops")
    train.to_csv(tmp_path / "train.csv", index=False)
    held.to_csv(tmp_path / "held.csv", index=False)
    cfg = _config(
        data={"path": "held.csv", "y_true": "label",
              "model": {"path": "model.skops", "features": ["x", "x2"]}},
        training={"path": "train.csv", "top_k": 10, "shareable": ["x"]},
    )
    rec = build_record(parse_config(cfg), base_dir=tmp_path)
    t = rec["training_attribution"]
    assert t["target"] == "equal_opportunity"  # the primary criterion is recall parity
    assert t["n_train"] == 700
    assert len(t["drivers"]) == 10
    assert all(set(d["shareable"]) == {"x"} for d in t["drivers"])  # nothing else is shown
    remove = t["actions"]["remove"]
    assert remove["actual_change"] is not None  # verified by retraining
    assert any(f["kind"] == "disparity_driver" for f in t["findings"])
    from scrutiny.report import render_html, render_markdown

    html = render_html(rec)
    assert 'id="training"' in html and "Training examples behind this disparity" in html
    assert "Training examples behind this disparity" in render_markdown(rec)


@pytest.mark.parametrize(
    ("training", "data", "message"),
    [
        ({"path": "train.csv"}, None, "training needs a model"),
        ({"path": "train.csv", "y_true": "nope"}, "model", "training.y_true"),
        ({"path": "train.csv", "demo": "adult"}, "model", "exactly one of path or demo"),
    ],
)
def test_bad_training_config(tmp_path, training, data, message):
    import skops.io as sio

    path = _data(tmp_path)
    df = pd.read_csv(path)
    df.to_csv(tmp_path / "train.csv", index=False)
    sio.dump(LogisticRegression().fit(df[["x", "x2"]], df["label"]), tmp_path / "m.skops")
    data_cfg = {"path": "data.csv", "y_true": "label", "y_pred": "pred"}
    if data == "model":
        data_cfg = {"path": "data.csv", "y_true": "label",
                    "model": {"path": "m.skops", "features": ["x", "x2"]}}
    cfg_path = _write(tmp_path, _config(data=data_cfg, training=training))
    res = CliRunner().invoke(main, ["audit", str(cfg_path), "--out", str(tmp_path / "r"),
                                    "--no-progress"])
    assert res.exit_code == 2, res.output
    assert message in res.output


def test_mitigation_choice_enters_the_audit_decision_log(tmp_path):
    _data(tmp_path)
    choice = {"candidate": "thresholds", "rationale": "Smallest gap for a 0.2-point accuracy cost.",
              "decided_by": "Programme lead", "decided_on": "2026-11-20"}
    cfg = _config(mitigate={"candidates": [{"name": "reweighing"}, {"name": "thresholds"}],
                            "choice": choice})
    rec = build_record(parse_config(cfg), base_dir=tmp_path)
    (entry,) = rec["deliberation"]["conflicts"]
    assert entry["decision"] == "thresholds"
    assert entry["options"] == ["unmitigated", "reweighing", "thresholds"]
    assert entry["rationale"] == choice["rationale"]
    assert entry["decided_on"] == "2026-11-20"
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["audit", str(_write(tmp_path, cfg)), "--out", str(out)])
    assert result.exit_code in (0, 1), result.output
    assert choice["rationale"] in (out / "report.html").read_text(encoding="utf-8")
    # Without a choice the audit record's log stays as the team wrote it.
    rec = build_record(parse_config(_config()), base_dir=tmp_path)
    assert rec["deliberation"]["conflicts"] == []

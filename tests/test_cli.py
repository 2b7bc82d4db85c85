"""The ``scrutiny`` command line, through click's runner (in process)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from scrutiny.cli import main
from scrutiny.datasets import load_adult
from scrutiny.fairness import assess


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def csv_file(tmp_path):
    rng = np.random.default_rng(1)
    n = 600
    df = pd.DataFrame({
        "label": rng.integers(0, 2, n),
        "pred": rng.integers(0, 2, n),
        "score": rng.random(n).round(4),
        "sex": rng.choice(["F", "M"], n),
        "race": rng.choice(["x", "y", "z"], n),
        "w": rng.random(n) + 0.5,
    })
    path = tmp_path / "preds.csv"
    df.to_csv(path, index=False)
    return path, df


def test_demo_runs_and_writes_the_documented_json(runner, tmp_path):
    out = tmp_path / "demo.json"
    res = runner.invoke(main, ["assess", "--demo", "--json", str(out)])
    assert res.exit_code == 0, res.output
    assert "Metrics by group" in res.output
    doc = json.loads(out.read_text())
    assert doc["n_rows"] == 16281
    g = doc["groups"][0]
    assert set(g) >= {"features", "count", "metrics"}
    assert set(g["features"]) == {"sex", "race"}
    m = g["metrics"]["selection_rate"]
    assert set(m) == {"value", "ci"} and len(m["ci"]) == 2
    d = doc["disparities"]["true_positive_rate"]
    assert {"difference", "ratio", "ci_difference"} <= set(d)
    assert all({"code", "message"} == set(w) for w in doc["warnings"])
    # the CLI computes exactly what the library computes
    df = load_adult(split="test")
    lib = assess("income", "prediction", y_score="score", data=df,
                 sensitive_features=["sex", "race"], random_state=0)
    assert doc["disparities"]["selection_rate"]["difference"] == pytest.approx(
        lib.difference("selection_rate"), abs=1e-12)
    assert sum(g["count"] for g in doc["groups"]) == 16281


def test_csv_and_parquet_give_same_numbers(runner, csv_file, tmp_path):
    path, df = csv_file
    pq = tmp_path / "preds.parquet"
    df.to_parquet(pq)
    outs = []
    for src in (path, pq):
        out = tmp_path / f"{src.suffix}.json"
        res = runner.invoke(main, [
            "assess", "--data", str(src), "--y-true", "label", "--y-pred", "pred",
            "--y-score", "score", "--sensitive", "sex,race", "--sample-weight", "w",
            "--reference", "sex=F", "--json", str(out), "--quiet",
        ])
        assert res.exit_code == 0, res.output
        outs.append(json.loads(out.read_text()))
    assert outs[0]["groups"] == outs[1]["groups"]
    assert outs[0]["by_feature"]["sex"]["disparities"]["selection_rate"]["to_reference"]


def test_json_to_stdout(runner, csv_file):
    path, _ = csv_file
    res = runner.invoke(main, ["assess", "--data", str(path), "--y-true", "label",
                               "--y-pred", "pred", "--sensitive", "sex", "--json", "-",
                               "--quiet", "--metrics", "selection_rate,tpr"])
    assert res.exit_code == 0
    doc = json.loads(res.stdout)
    assert doc["metrics"] == ["count", "selection_rate", "true_positive_rate"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--data", "nope.csv", "--y-true", "a", "--y-pred", "b", "--sensitive", "c"],
         "does not exist"),
        (["--data", "{csv}", "--y-true", "lable", "--y-pred", "pred", "--sensitive", "sex"],
         "Did you mean 'label'"),
        (["--data", "{csv}", "--y-true", "label", "--y-pred", "pred", "--sensitive", "sexx"],
         "Did you mean 'sex'"),
        (["--data", "{csv}", "--y-true", "label", "--y-pred", "pred", "--sensitive", "sex",
          "--metrics", "acuracy"], "Did you mean 'accuracy'"),
        (["--data", "{csv}", "--y-true", "label", "--y-pred", "pred", "--sensitive", "sex,race",
          "--reference", "F"], "--reference sex=F"),
        (["--data", "{csv}", "--y-true", "label", "--y-pred", "score", "--sensitive", "sex",
          "--task", "binary"], "continuous values"),
        (["--data", "{csv}", "--y-true", "race", "--y-pred", "race", "--sensitive", "sex",
          "--task", "binary"], "two classes"),
        (["--data", "{csv}", "--sensitive", "sex"], "--y-true is required"),
        (["--data", "{txt}", "--y-true", "a", "--y-pred", "b", "--sensitive", "c"],
         "cannot tell the format"),
        (["--data", "{csv}", "--y-true", "label", "--y-pred", "pred", "--sensitive", "sex",
          "--ci", "2"], "--ci must be between 0 and 1"),
    ],
)
def test_bad_input_exits_2_with_one_line(runner, csv_file, tmp_path, args, message):
    path, _ = csv_file
    txt = tmp_path / "data.xlsx"
    txt.write_text("x")
    args = [a.replace("{csv}", str(path)).replace("{txt}", str(txt)) for a in args]
    res = runner.invoke(main, ["assess", *args])
    assert res.exit_code == 2, res.output
    assert message in res.output
    assert "Traceback" not in res.output
    err_lines = [ln for ln in res.output.splitlines() if ln.startswith("Error")]
    assert len(err_lines) == 1


def test_debug_shows_the_exception(runner):
    res = runner.invoke(main, ["--debug", "assess", "--data", "nope.csv", "--y-true", "a",
                               "--y-pred", "b", "--sensitive", "c"])
    assert res.exit_code != 0
    assert res.exception is not None


def test_help_lists_every_option(runner):
    res = runner.invoke(main, ["assess", "--help"])
    assert res.exit_code == 0
    for flag in ("--data", "--y-true", "--y-pred", "--y-score", "--sensitive", "--metrics",
                 "--reference", "--json"):
        assert flag in res.output

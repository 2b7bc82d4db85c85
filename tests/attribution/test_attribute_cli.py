"""``scrutiny attribute`` through click's runner: the four modes and one-line errors."""

from __future__ import annotations

import json
import pickle
import re

import pandas as pd
import pytest
import skops.io as sio
from click.testing import CliRunner
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression

from scrutiny.cli import main

from ._data import adult_splits, single_blas_thread  # noqa: F401 - autouse fixture


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = adult_splits(5, n_train=600, n_eval=400, n_test=10)
    tmp = tmp_path_factory.mktemp("cli")
    names = [f"f_{c}".replace(" ", "_").replace("-", "_") for c in d.feature_names]
    train = pd.DataFrame(d.X_train, columns=names)
    query = pd.DataFrame(d.X_eval, columns=names)
    train["income"], query["income"] = d.y_train, d.y_eval
    train["sex"], query["sex"] = d.frame_train["sex"], d.frame_eval["sex"]
    train.to_csv(tmp / "train.csv", index=False)
    query.to_parquet(tmp / "query.parquet")
    model = LogisticRegression(max_iter=5000, tol=1e-10).fit(train[names], d.y_train)
    sio.dump(model, tmp / "model.skops")
    with (tmp / "model.pkl").open("wb") as fh:
        pickle.dump(model, fh)
    forest = RandomForestClassifier(n_estimators=15, random_state=0).fit(train[names],
                                                                       d.y_train)
    sio.dump(forest, tmp / "forest.skops")
    return tmp


def _run(args):
    return CliRunner().invoke(main, ["attribute", *args])


def _base(files, model="model.skops"):
    return ["--model", str(files / model), "--train", str(files / "train.csv"),
            "--label", "income"]


def test_attribute_default_writes_the_result_json(files, tmp_path):
    out = tmp_path / "results.json"
    res = _run([*_base(files), "--query", str(files / "query.parquet"), "--method",
                "influence", "--top-k", "3", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "influence: wrote" in res.output
    doc = json.loads(out.read_text())
    assert doc["method"] == "influence" and len(doc["queries"]) == 400
    assert len(doc["queries"][0]["helpful"]) == 3
    assert doc["sign_convention"].startswith("score > 0")


def test_attribute_forest_needs_trust_then_runs_knn_shapley_and_data_oob(files):
    args = [*_base(files, "forest.skops"), "--query", str(files / "query.parquet")]
    refused = _run([*args, "--method", "knn_shapley"])
    assert refused.exit_code == 2 and "sklearn.tree._tree.Tree" in refused.output
    res = _run([*args, "--trust", "--method", "knn_shapley", "--top-k", "2"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)  # no --out: the JSON goes to stdout
    assert doc["method"] == "knn_shapley" and len(doc["queries"][0]["helpful"]) == 2
    res = _run([*args, "--trust", "--method", "data_oob"])
    assert res.exit_code == 0, res.output
    assert len(json.loads(res.output)["queries"]) == 1


def test_attribute_label_issues_mode(files, tmp_path):
    pytest.importorskip("cleanlab")
    out = tmp_path / "labels.json"
    res = _run([*_base(files), "--label-issues", "--top-k", "5", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "[label_issue]" in res.output
    doc = json.loads(out.read_text())
    assert doc["method"] == "label_issues:loo_loss"
    assert len(doc["extras"]["side_by_side"]) == 5


def test_attribute_disparity_mode(files, tmp_path):
    out = tmp_path / "gap.json"
    res = _run([*_base(files), "--query", str(files / "query.parquet"), "--sensitive", "sex",
                "--target", "equal_opportunity", "--top-k", "10", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "[disparity_driver]" in res.output
    doc = json.loads(out.read_text())
    assert doc["method"] == "disparity:equal_opportunity"
    assert doc["extras"]["actions"]["remove"]["actual_change"] is not None
    quick = _run([*_base(files), "--query", str(files / "query.parquet"), "--sensitive", "sex",
                  "--target", "demographic_parity", "--no-verify"])
    assert quick.exit_code == 0, quick.output
    assert json.loads(quick.output)["extras"]["random_baseline"] is None


def test_pickle_needs_trust(files):
    res = _run([*_base(files, "model.pkl"), "--query", str(files / "query.parquet")])
    assert res.exit_code == 2
    assert "pickle" in res.output and "--trust" in res.output
    assert "Traceback" not in res.output
    ok = _run([*_base(files, "model.pkl"), "--query", str(files / "query.parquet"), "--trust",
               "--method", "influence", "--top-k", "1"])
    assert ok.exit_code == 0, ok.output


@pytest.mark.parametrize(("extra", "message"), [
    ([], "--query is required"),
    (["--query", "QUERY", "--method", "knn-shapley"], "'method'.*knn_shapley"),
    (["--query", "QUERY", "--method", "data_oob"], "does not apply.*bagging"),
    (["--query", "QUERY", "--sensitive", "sexx"], "sexx.*Did you mean 'sex'"),
    (["--query", "QUERY", "--features", "f_age,f_agee"], "f_agee"),
    (["--query", "QUERY", "--features", "f_age,income"], "label column"),
    (["--query", "QUERY", "--label-issues", "--sensitive", "sex"], "separate modes"),
    (["--query", "QUERY", "--top-k", "0"], "top-k"),
    (["--query", "missing.csv"], "does not exist"),
])
def test_attribute_bad_input_is_one_line_exit_2(files, extra, message):
    extra = [str(files / "query.parquet") if e == "QUERY" else e for e in extra]
    res = _run([*_base(files), *extra])
    assert res.exit_code == 2, res.output
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: ")
    assert re.search(message, lines[0]), lines[0]


def test_missing_model_file_and_bad_skops(files, tmp_path):
    res = _run(["--model", str(tmp_path / "nope.skops"), "--train", str(files / "train.csv"),
                "--label", "income", "--label-issues"])
    assert res.exit_code == 2 and "does not exist" in res.output
    bad = tmp_path / "bad.skops"
    bad.write_bytes(b"not a zip")
    res = _run(["--model", str(bad), "--train", str(files / "train.csv"), "--label", "income",
                "--label-issues"])
    assert res.exit_code == 2 and "not a readable skops file" in res.output


def test_help_lists_the_flags():
    res = CliRunner().invoke(main, ["attribute", "--help"])
    assert res.exit_code == 0
    for flag in ("--model", "--train", "--query", "--label", "--features", "--method",
                 "--top-k", "--label-issues", "--sensitive", "--target", "--no-verify",
                 "--seed", "--trust", "--out"):
        assert flag in res.output

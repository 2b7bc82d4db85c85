"""``scrutiny card model | dataset | validate`` through click's runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from scrutiny.cli import main
from scrutiny.datasets import adult_path

hf = pytest.importorskip("huggingface_hub")


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def audit_dir(tmp_path, compas_record):
    d = tmp_path / "audit"
    d.mkdir()
    (d / "audit.json").write_text(json.dumps(compas_record))
    return d


def test_card_model_writes_a_hub_card(runner, audit_dir, tmp_path, attribution_results):
    attr = tmp_path / "results.json"
    attr.write_text(json.dumps(attribution_results))
    out, html = tmp_path / "README.md", tmp_path / "card.html"
    res = runner.invoke(main, [
        "card", "model", "--from-audit", str(audit_dir), "--from-attribution", str(attr),
        "--out", str(out), "--html", str(html), "--model-id", "compas", "--license", "mit",
        "--language", "en", "--tag", "inclusive", "--library-name", "sklearn",
        "--base-model", "org/base", "--base-model-relation", "finetune",
        "--upstream-license", "org/base=creativeml-openrail-m", "--split", "test",
        "--revision", "r1", "--eval-dataset-id", "compas-two-years"])
    assert res.exit_code == 0, res.output
    assert "Warning: 'org/base' is licensed under creativeml-openrail-m" in res.output
    assert "completeness" in res.output
    card = hf.ModelCard(out.read_text())
    assert card.data.license == "mit"
    assert card.data.base_model == "org/base"
    assert card.data.eval_results[0].dataset_split == "test"
    assert card.data.eval_results[0].dataset_type == "compas-two-years"
    assert "Suspected label issues (42)" in card.text
    assert html.read_text().startswith("<!DOCTYPE html>")


def test_card_dataset(runner, tmp_path):
    out = tmp_path / "README.md"
    res = runner.invoke(main, ["card", "dataset", "--data", str(adult_path()), "--label",
                               "income", "--sensitive", "sex,race", "--name", "Adult",
                               "--license", "cc-by-4.0", "--out", str(out)])
    assert res.exit_code == 0, res.output
    card = hf.DatasetCard(out.read_text())
    assert card.data.size_categories == ["10K<n<100K"]
    assert card.data.pretty_name == "Adult"
    assert "**Rows by sex**" in card.text


def test_card_validate_exit_codes(runner, tmp_path, audit_dir):
    good = tmp_path / "good.md"
    runner.invoke(main, ["card", "model", "--from-audit", str(audit_dir), "--out", str(good),
                         "--license", "mit"])
    res = runner.invoke(main, ["card", "validate", str(good)])
    assert res.exit_code == 0, res.output
    assert "Completeness: 67% (10 of 15 required sections filled in)" in res.output
    assert "Metadata: valid" in res.output
    res = runner.invoke(main, ["card", "validate", str(good), "--min-completeness", "0.9"])
    assert res.exit_code == 1
    assert "below the required 90%" in res.output
    bad = tmp_path / "bad.md"
    bad.write_text("---\nlicense: apache2\nmodel-index: {name: m}\n---\n# Model Card for m\n")
    res = runner.invoke(main, ["card", "validate", str(bad)])
    assert res.exit_code == 1
    assert "license: 'apache2' is not a licence id" in res.output
    assert "model-index: input should be a valid list" in res.output
    res = runner.invoke(main, ["card", "validate", str(bad), "--json"])
    assert res.exit_code == 1
    report = json.loads(res.output)
    assert [e["field"] for e in report["errors"]] == ["license", "model-index"]


def test_usage_errors_exit_2(runner, tmp_path, audit_dir):
    out = tmp_path / "x.md"
    res = runner.invoke(main, ["card", "model", "--from-audit", str(audit_dir), "--out",
                               str(out), "--license", "apache2"])
    assert res.exit_code == 2
    assert "license: 'apache2' is not a licence id" in res.output
    res = runner.invoke(main, ["card", "model", "--from-audit", str(audit_dir), "--out",
                               str(out), "--upstream-license", "no-equals-sign"])
    assert res.exit_code == 2
    assert "--upstream-license: expected HUB_ID=LICENCE_ID" in res.output
    res = runner.invoke(main, ["card", "dataset", "--data", str(adult_path()), "--label",
                               "incme", "--out", str(out)])
    assert res.exit_code == 2
    assert "Did you mean 'income'" in res.output
    assert not out.exists()


@pytest.mark.parametrize("command", [["card", "model"], ["card", "dataset"],
                                     ["card", "validate"]])
def test_every_flag_is_documented(runner, command):
    doc = (Path(__file__).resolve().parents[2] / "docs" / "guide" / "cards.md").read_text()
    help_text = runner.invoke(main, [*command, "--help"]).output
    flags = {w.strip(",.") for w in help_text.split() if w.startswith("--") and len(w) > 3}
    missing = sorted(f for f in flags - {"--help"} if f not in doc)
    assert not missing, missing

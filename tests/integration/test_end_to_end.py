"""The whole path on the bundled demo: audit, attribution, model card read by the Hub's parser."""

from __future__ import annotations

import json
import os

import pytest
from click.testing import CliRunner

from scrutiny.cli import main


@pytest.mark.slow
def test_demo_audit_label_issues_and_card(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    runner = CliRunner()
    audit_dir = tmp_path / "demo"
    res = runner.invoke(main, ["demo", "--out", str(audit_dir), "--no-progress"])
    assert res.exit_code == 0, res.output

    # training rows for attribution: a small slice of the bundled data, with the
    # demo model's own feature columns
    from scrutiny.audit._demo import CATEGORICAL, NUMERIC
    from scrutiny.datasets import load_adult

    train = load_adult(split="train").head(400)
    train_path = tmp_path / "train.parquet"
    train[[*NUMERIC, *CATEGORICAL, "income"]].to_parquet(train_path)

    res = runner.invoke(main, ["attribute", "--model", str(audit_dir / "model.skops"),
                               "--train", str(train_path), "--label", "income",
                               "--label-issues", "--out", str(tmp_path / "issues.json")])
    assert res.exit_code == 0, res.output
    findings = json.loads((tmp_path / "issues.json").read_text())
    assert findings["findings"], findings.keys()

    card = tmp_path / "README.md"
    res = runner.invoke(main, ["card", "model", "--from-audit", str(audit_dir),
                               "--from-attribution", str(tmp_path / "issues.json"),
                               "--out", str(card)])
    assert res.exit_code == 0, res.output
    from huggingface_hub import ModelCard

    parsed = ModelCard.load(card)
    audit = json.loads((audit_dir / "audit.json").read_text())
    assert len(parsed.data.eval_results) >= len(audit["assessment"]["groups"])
    text = card.read_text()
    assert findings["findings"][0]["message"][:40] in " ".join(text.split())
    res = runner.invoke(main, ["card", "validate", str(card)])
    assert res.exit_code == 0, res.output
    assert os.environ["HF_HUB_OFFLINE"] == "1"

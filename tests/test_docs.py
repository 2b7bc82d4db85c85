"""The docs build in strict mode, mention every public name, and the examples run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import scrutiny.datasets
import scrutiny.exceptions
import scrutiny.fairness
import scrutiny.mitigation
from scrutiny.fairness import METRICS

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def _all_docs() -> str:
    return "\n".join(p.read_text() for p in DOCS.rglob("*.md"))


@pytest.mark.slow
def test_mkdocs_build_strict(tmp_path):
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    res = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(tmp_path / "site")],
        cwd=ROOT, capture_output=True, text=True, env=env,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    assert (tmp_path / "site" / "api" / "fairness" / "index.html").exists()


def test_every_public_name_is_documented():
    text = _all_docs()
    for mod in (scrutiny.fairness, scrutiny.datasets, scrutiny.mitigation):
        for name in mod.__all__:
            if name.isupper():
                continue
            assert name in text, f"{mod.__name__}.{name} is not mentioned in docs/"
    for name in scrutiny.exceptions.__all__:
        if name != "ScrutinyDeprecationWarning":
            assert name in text, name


def test_every_metric_is_documented():
    text = (DOCS / "concepts" / "metrics.md").read_text()
    for name in METRICS:
        assert f"`{name}`" in text, name


def test_every_cli_flag_is_documented():
    from click.testing import CliRunner

    from scrutiny.cli import main

    doc = (DOCS / "guide" / "cli.md").read_text()
    for command in (["assess"], ["audit", "run"], ["audit", "check"], ["demo"], ["attribute"],
                    ["mitigate"]):
        help_text = CliRunner().invoke(main, [*command, "--help"]).output
        flags = {w.strip(",.:)") for w in help_text.split() if w.startswith("--") and len(w) > 3}
        flags -= {"--help"}
        missing = sorted(f for f in flags if f not in doc)
        assert not missing, f"{command}: flags not in docs/guide/cli.md: {missing}"


def test_every_hub_cli_flag_setting_and_name_is_documented():
    from click.testing import CliRunner

    import scrutiny.hub
    from scrutiny.cli import main

    doc = (DOCS / "guide" / "hub.md").read_text()
    for command in (["serve"], ["push"]):
        help_text = CliRunner().invoke(main, [*command, "--help"]).output
        flags = {w.strip(",.:)") for w in help_text.split() if w.startswith("--") and len(w) > 3}
        flags -= {"--help"}
        missing = sorted(f for f in flags if f not in doc)
        assert not missing, f"{command}: flags not in docs/guide/hub.md: {missing}"
    for setting in scrutiny.hub.HubSettings.model_fields:
        assert f"`{setting}`" in doc or setting in doc, setting
    for variable in scrutiny.hub.ENV_VARS.values():
        assert f"`{variable}`" in doc, variable
    text = _all_docs()
    for name in scrutiny.hub.__all__:
        assert name in text, f"scrutiny.hub.{name} is not mentioned in docs/"


def test_readme_starts_with_two_commands():
    lines = (ROOT / "README.md").read_text().splitlines()
    block = lines[lines.index("```bash") + 1: lines.index("```")]
    assert len(block) == 2
    assert "scrutiny demo" in block[0]
    assert block[1] == "bash scripts/test.sh"
    assert block[1] in (ROOT / ".ci" / "run").read_text()
    assert "pytest" in (ROOT / "scripts" / "test.sh").read_text()


@pytest.mark.parametrize("script", sorted((ROOT / "examples").glob("*.py")), ids=lambda p: p.name)
def test_examples_run(script):
    res = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         cwd=ROOT, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.strip()


@pytest.mark.slow
@pytest.mark.parametrize("script", sorted((ROOT / "examples").glob("*/run.py")),
                         ids=lambda p: p.parent.name)
def test_worked_examples_run(script, tmp_path):
    if not (ROOT.parent / "shared" / "data").exists():
        pytest.skip("the worked examples read ../shared/data")
    out = tmp_path / "report"
    res = subprocess.run([sys.executable, str(script), "--out", str(out)], capture_output=True,
                         text=True, cwd=ROOT, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    for name in ("report.html", "audit.json", "audit.md", "audit.yaml"):
        assert (out / name).stat().st_size > 0
    record = json.loads((out / "audit.json").read_text())
    assert record["assessment"]["groups"]
    assert "README.md" in {p.name for p in script.parent.iterdir()}

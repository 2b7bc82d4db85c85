"""Golden file: the COMPAS worked example's audit.json.

Regenerate after an intended change with ``SCRUTINY_UPDATE_GOLDEN=1 pytest tests/golden``
and review the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from scrutiny.audit import build_record, load_config

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "compas_audit"
GOLDEN = Path(__file__).with_name("compas_audit.json")
SHARED = ROOT.parent / "shared" / "data" / "compas"


def _normalise(obj: Any) -> Any:
    if isinstance(obj, float):
        return float(f"{obj:.10g}")
    if isinstance(obj, dict):
        return {k: _normalise(v) for k, v in obj.items()
                if k not in ("generated_at", "scrutiny_version")}
    if isinstance(obj, list):
        return [_normalise(v) for v in obj]
    return obj


@pytest.mark.skipif(not SHARED.exists(), reason="needs ../shared/data/compas")
def test_compas_audit_json_matches_golden():
    record = build_record(load_config(EXAMPLE / "audit.yaml"), base_dir=EXAMPLE)
    got = _normalise(json.loads(json.dumps(record, default=str)))
    if os.environ.get("SCRUTINY_UPDATE_GOLDEN") == "1":
        GOLDEN.write_text(json.dumps(got, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    expected = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert got == expected

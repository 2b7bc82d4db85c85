"""Shared fixtures of the card tests. huggingface_hub never touches the network here."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

os.environ["HF_HUB_OFFLINE"] = "1"  # before huggingface_hub is imported anywhere

import pytest

ROOT = Path(__file__).resolve().parents[2]
COMPAS_RECORD = ROOT / "tests" / "golden" / "compas_audit.json"
SAMPLE_RECORD = ROOT / "tests" / "report" / "fixtures" / "audit_sample.json"


@pytest.fixture(scope="session")
def compas_record() -> dict[str, Any]:
    return json.loads(COMPAS_RECORD.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def sample_record() -> dict[str, Any]:
    return json.loads(SAMPLE_RECORD.read_text(encoding="utf-8"))


@pytest.fixture
def attribution_results() -> dict[str, Any]:
    return {
        "method": "knn_shapley",
        "findings": [
            {"kind": "label_issue", "message": "42 training rows look mislabelled.", "count": 42},
            {"kind": "undersampled_slice", "message": "Women over 60 are 0.4% of the data.",
             "count": None},
            {"kind": "surprise", "message": "An unknown kind is kept as other.", "count": 3},
        ],
        "scores": [[0.1, 0.2]],
    }

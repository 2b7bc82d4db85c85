"""The public surface of scrutiny.cards: names, docstrings, doctests, docs."""

from __future__ import annotations

import doctest
import inspect
from pathlib import Path

import pytest

import scrutiny.cards
from scrutiny.cards import _licenses, _metadata, _profile, _schema, _tags, _validate

ROOT = Path(__file__).resolve().parents[2]

PUBLIC = [
    "CARD_SCHEMA_VERSION", "ETHICS_TAGS", "LICENSES", "NFAA_TAG", "PLACEHOLDER",
    "RAIL_PASS_DOWN", "BiasRisksLimitations", "CO2Emissions", "CardIssue", "CardReport",
    "DatasetCard", "DatasetCardMetadata", "DatasetCreation", "DatasetDetails",
    "DatasetProfile", "DatasetUses", "EnvironmentalImpact", "EvalDataset", "EvalMetric",
    "EvalSource", "EvalTask", "Evaluation", "GatedField", "License", "ModelCard",
    "ModelCardMetadata", "ModelDetails", "ModelIndexEntry", "ModelIndexResult", "ModelUses",
    "RailLicenseWarning", "SectionStatus", "SelectOption", "TechnicalSpecifications",
    "TrainingDetails", "dataset_card_from_data", "get_license", "model_card_from_audit",
    "normalize_tags", "out_of_scope_from_licenses", "profile_dataset", "size_category",
    "validate_card",
]


def test_all_is_the_snapshot():
    assert sorted(scrutiny.cards.__all__) == sorted(PUBLIC)
    for name in PUBLIC:
        assert hasattr(scrutiny.cards, name), name


@pytest.mark.parametrize("name", [n for n in PUBLIC if not n.isupper() and n != "NFAA_TAG"])
def test_public_objects_have_numpydoc_docstrings(name):
    obj = getattr(scrutiny.cards, name)
    doc = inspect.getdoc(obj) or ""
    assert doc.strip(), name
    if inspect.isfunction(obj) and inspect.signature(obj).parameters:
        assert "Parameters\n----------" in doc, name
        assert "Returns\n-------" in doc, name
    if inspect.isclass(obj) and not issubclass(obj, Warning):
        # pydantic models list their fields as Attributes (their signature is **data)
        assert "Parameters\n----------" in doc or "Attributes\n----------" in doc, name


@pytest.mark.parametrize("module", [_licenses, _metadata, _profile, _schema, _tags,
                                    _validate],
                         ids=lambda m: m.__name__)
def test_doctests(module, monkeypatch):
    monkeypatch.chdir(ROOT)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_every_public_name_is_in_the_api_docs():
    text = (ROOT / "docs" / "api" / "cards.md").read_text(encoding="utf-8")
    for name in PUBLIC:
        assert f"::: scrutiny.cards.{name}" in text, name

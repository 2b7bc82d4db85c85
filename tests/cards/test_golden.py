"""Golden files: the COMPAS worked example's model card, as README.md and as HTML.

Built from ``tests/golden/compas_audit.json`` (the example's audit record).
Regenerate after an intended change with
``SCRUTINY_UPDATE_GOLDEN=1 pytest tests/cards/test_golden.py`` and review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from scrutiny.cards import ModelCard, model_card_from_audit, validate_card

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("SCRUTINY_UPDATE_GOLDEN") == "1"


@pytest.fixture(scope="module")
def compas_card(compas_record) -> ModelCard:
    return model_card_from_audit(
        compas_record,
        model_id="compas-recidivism-risk",
        metadata={"license": "unknown", "language": ["en"]},
        dataset_id="propublica/compas-two-years",
        dataset_name="COMPAS two-year recidivism (ProPublica, Broward County)",
    )


@pytest.mark.parametrize(("name", "render"), [
    ("compas_card.md", ModelCard.to_markdown),
    ("compas_card.html", ModelCard.to_html),
])
def test_compas_card_matches_golden(compas_card, name, render):
    got = render(compas_card)
    path = GOLDEN / name
    if UPDATE:
        path.write_text(got, encoding="utf-8")
    assert got == path.read_text(encoding="utf-8")


def test_golden_card_reads_back_and_validates(compas_card):
    text = (GOLDEN / "compas_card.md").read_text(encoding="utf-8")
    assert ModelCard.from_markdown(text) == compas_card
    report = validate_card(text)
    assert report.ok

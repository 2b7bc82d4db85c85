"""Every card scrutiny writes is read by huggingface_hub, and its eval results come back equal."""

from __future__ import annotations

import dataclasses
import warnings

import pyarrow as pa
import pytest

from scrutiny.cards import (
    DatasetCard,
    ModelCard,
    RailLicenseWarning,
    dataset_card_from_data,
    model_card_from_audit,
)
from scrutiny.datasets import adult_path

hf = pytest.importorskip("huggingface_hub")


def _hf_rows(card_data) -> list[dict]:
    return [{k: v for k, v in dataclasses.asdict(r).items() if v is not None}
            for r in card_data.eval_results or []]


def _model_cards(compas_record, sample_record, attribution_results):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RailLicenseWarning)
        yield "compas", model_card_from_audit(
            compas_record, model_id="compas-risk", metadata={"license": "unknown"},
            dataset_id="compas-two-years", dataset_split="test", dataset_revision="abc123")
        yield "sample+attribution", model_card_from_audit(
            sample_record, attribution=attribution_results,
            metadata={"license": "bigscience-openrail-m", "language": ["en"],
                      "base_model": ["org/a", "org/b"], "base_model_relation": "merge",
                      "datasets": ["scrutiny/adult"], "tags": ["not-for-all-audience"],
                      "co2_eq_emissions": {"emissions": 12.5, "source": "codecarbon",
                                           "training_type": "fine-tuning"},
                      "extra_gated_prompt": "Agree to use this model for audits only.",
                      "extra_gated_fields": {
                          "Company": "text", "Country": "country", "Date": "date_picker",
                          "Purpose": {"type": "select",
                                      "options": ["Research", {"label": "Other",
                                                               "value": "other"}]},
                          "I agree": "checkbox"}},
            upstream_licenses={"org/a": "creativeml-openrail-m"})
    yield "bare", ModelCard(model_id="bare")
    yield "other licence", ModelCard(model_id="custom", metadata={
        "license": "other", "license_name": "my-licence-1.0", "license_link": "LICENSE",
        "model-index": [{"name": "custom", "results": [{
            "task": {"type": "tabular-regression"},
            "dataset": {"type": "x", "name": "X", "args": {"n": 3}},
            "metrics": [{"type": "mse", "value": "1.5 ± 0.2", "verifyToken": "tok"},
                        {"type": "mae", "value": 3}],
            "source": {"url": "https://example.org", "name": "Example"}}]}]})


def test_every_model_card_parses_in_huggingface_hub(compas_record, sample_record,
                                                    attribution_results):
    for name, card in _model_cards(compas_record, sample_record, attribution_results):
        text = card.to_markdown()
        parsed = hf.ModelCard(text)  # raises on invalid metadata or model-index
        assert isinstance(parsed.data, hf.ModelCardData), name
        assert parsed.data.to_dict() == card.metadata.to_dict(), name
        rows = _hf_rows(parsed.data)
        assert rows == card.metadata.eval_results(), name
        assert all(isinstance(r, hf.EvalResult) for r in parsed.data.eval_results or []), name
        if card.metadata.model_index:
            assert parsed.data.model_name == card.metadata.model_index[0].name
        # huggingface_hub's own re-serialisation keeps everything
        again = hf.ModelCard(str(parsed))
        assert again.data.to_dict() == card.metadata.to_dict(), name
        # and scrutiny reads back what it wrote
        assert ModelCard.from_markdown(text) == card, name


def test_model_card_data_accepts_the_flattened_eval_results(compas_record):
    card = model_card_from_audit(compas_record, model_id="compas-risk")
    rows = card.metadata.eval_results()
    data = hf.ModelCardData(model_name="compas-risk",
                            eval_results=[hf.EvalResult(**r) for r in rows])
    assert data.to_dict()["model-index"] == card.metadata.to_dict()["model-index"]


def test_eval_values_read_back_equal_the_audit(compas_record):
    card = model_card_from_audit(compas_record, model_id="compas-risk", decimals=10)
    parsed = hf.ModelCard(card.to_markdown())
    by_name = {r.metric_name: r.metric_value for r in parsed.data.eval_results}
    groups = compas_record["assessment"]["by_feature"]["race"]["groups"]
    for g in groups:
        race = g["features"]["race"]
        value = g["metrics"]["false_positive_rate"]["value"]
        assert by_name[f"False positive rate (race = {race})"] == round(value, 10)
    gap = compas_record["assessment"]["disparities"]["false_positive_rate"]["difference"]
    assert by_name["False positive rate gap across race × sex (highest minus lowest group)"] == (
        round(gap, 10))


def _dataset_cards():
    yield "adult", dataset_card_from_data(
        adult_path(), label="income", sensitive_features=["sex", "race"], name="UCI Adult",
        metadata={"license": "cc-by-4.0", "tags": ["consentful"]})
    yield "tiny", dataset_card_from_data(
        pa.table({"y": [1, 0, 1], "g": ["a", "b", None]}), label="y", sensitive_features="g",
        metadata={"license": ["mit", "openrail"], "annotations_creators": "expert-generated",
                  "extra_gated_fields": {"Affiliation": "text"}})
    yield "bare", DatasetCard(name="bare")


def test_every_dataset_card_parses_in_huggingface_hub():
    for name, card in _dataset_cards():
        text = card.to_markdown()
        parsed = hf.DatasetCard(text)
        assert isinstance(parsed.data, hf.DatasetCardData), name
        assert parsed.data.to_dict() == card.metadata.to_dict(), name
        assert hf.DatasetCard(str(parsed)).data.to_dict() == card.metadata.to_dict(), name
        assert DatasetCard.from_markdown(text) == card, name


def test_scrutiny_reads_the_hub_template_cards():
    model = hf.ModelCard.from_template(hf.ModelCardData(license="mit", language="en"),
                                       model_id="tmpl", developers="Someone")
    card = ModelCard.from_markdown(str(model))
    assert card.model_id == "tmpl"
    assert card.details.developed_by == "Someone"
    assert card.metadata.license == "mit"
    assert card.uses.direct_use is None  # the template's placeholder
    dataset = hf.DatasetCard.from_template(hf.DatasetCardData(license="cc0-1.0"),
                                           pretty_name="Tmpl")
    dcard = DatasetCard.from_markdown(str(dataset))
    assert dcard.name == "Tmpl"
    assert dcard.structure is None

"""Card models: valid data is accepted, bad input raises errors naming the field."""

from __future__ import annotations

import pytest

from scrutiny.cards import (
    DatasetCard,
    DatasetCardMetadata,
    EvalMetric,
    GatedField,
    ModelCard,
    ModelCardMetadata,
    ModelDetails,
    ModelIndexEntry,
)
from scrutiny.exceptions import ConfigError, ScrutinyError


def _index(**overrides):
    result = {"task": {"type": "tabular-classification"},
              "dataset": {"type": "adult", "name": "Adult"},
              "metrics": [{"type": "accuracy", "value": 0.8}]}
    result.update(overrides)
    return [{"name": "m", "results": [result]}]


def test_metadata_accepts_the_hub_fields():
    meta = ModelCardMetadata(**{
        "language": "en", "license": "apache-2.0", "library_name": "sklearn",
        "tags": ["rigorous"], "datasets": "scrutiny/adult", "metrics": "accuracy",
        "base_model": "org/base", "base_model_relation": "finetune",
        "pipeline_tag": "tabular-classification", "co2_eq_emissions": 3.5,
        "extra_gated_prompt": "Tell us who you are.", "model-index": _index()})
    d = meta.to_dict()
    assert d["language"] == ["en"] and d["datasets"] == ["scrutiny/adult"]
    assert d["model-index"][0]["results"][0]["metrics"] == [{"type": "accuracy", "value": 0.8}]
    assert meta.eval_results() == [{
        "task_type": "tabular-classification", "dataset_type": "adult",
        "dataset_name": "Adult", "metric_type": "accuracy", "metric_value": 0.8}]


def test_errors_are_scrutiny_errors_and_value_errors():
    with pytest.raises(ConfigError) as exc:
        ModelCardMetadata(license="apache2")
    assert isinstance(exc.value, ScrutinyError)
    assert isinstance(exc.value, ValueError)


def test_unknown_licence_names_the_field_and_suggests():
    with pytest.raises(ConfigError, match=r"license: 'apache2' is not a licence id .*"
                       r"Did you mean 'apache-2.0'\?"):
        ModelCardMetadata(license="apache2")
    with pytest.raises(ConfigError, match=r"license: item 1: 'cc-by-5.0' is not a licence"):
        DatasetCardMetadata(license=["mit", "cc-by-5.0"])


def test_licence_other_needs_a_name():
    with pytest.raises(ConfigError, match="license_name: required when license is 'other'"):
        ModelCardMetadata(license="other")
    meta = ModelCardMetadata(license="other", license_name="llama3", license_link="LICENSE")
    assert meta.to_dict()["license_name"] == "llama3"


@pytest.mark.parametrize(("missing", "path"), [
    ("task.type", "model-index[0].results[0].task.type"),
    ("dataset.type", "model-index[0].results[0].dataset.type"),
    ("dataset.name", "model-index[0].results[0].dataset.name"),
    ("metrics.type", "model-index[0].results[0].metrics[0].type"),
    ("metrics.value", "model-index[0].results[0].metrics[0].value"),
])
def test_missing_required_eval_fields_name_the_path(missing, path):
    index = _index()
    part, key = missing.split(".")
    target = index[0]["results"][0][part]
    (target[0] if isinstance(target, list) else target).pop(key)
    with pytest.raises(ConfigError, match=rf"{__import__('re').escape(path)}: is required but "
                       "missing"):
        ModelCardMetadata(**{"model-index": index})


@pytest.mark.parametrize(("index", "path"), [
    ({"name": "m"}, "model-index: input should be a valid list"),
    ([], "model-index: list should have at least 1 item"),
    ([{"results": []}], "model-index[0].name: is required"),
    ([{"name": "m", "results": "x"}], "model-index[0].results: input should be a valid list"),
    ([{"name": "m", "results": [{"task": "t", "dataset": {"type": "d", "name": "D"},
                                 "metrics": [{"type": "a", "value": 1}]}]}],
     "model-index[0].results[0].task: input should be a valid dictionary"),
    (_index(metrics=[]), "model-index[0].results[0].metrics: list should have at least 1"),
    (_index(metrics=[{"type": "a", "value": True}]),
     "model-index[0].results[0].metrics[0].value: must be a number or a string"),
    (_index(metrics=[{"type": "a", "value": float("nan")}]),
     "model-index[0].results[0].metrics[0].value: must be a finite number"),
    (_index(metrics=[{"type": "a", "value": 1, "extra": 2}]),
     "model-index[0].results[0].metrics[0].extra: is not a field here"),
    (_index(source={"name": "no url"}), "model-index[0].results[0].source.url: is required"),
])
def test_malformed_model_index_names_the_path(index, path):
    with pytest.raises(ConfigError) as exc:
        ModelCardMetadata(**{"model-index": index})
    assert path in str(exc.value)


def test_every_problem_is_reported_at_once():
    with pytest.raises(ConfigError) as exc:
        ModelCardMetadata(**{"license": "nope", "base_model_relation": "merged",
                             "model-index": _index(dataset={"type": "d"})})
    text = str(exc.value)
    assert "license:" in text
    assert "base_model_relation:" in text
    assert "model-index[0].results[0].dataset.name" in text


def test_relation_needs_a_base_model():
    with pytest.raises(ConfigError, match="base_model_relation: 'adapter' needs base_model"):
        ModelCardMetadata(base_model_relation="adapter")


def test_gating_fields():
    meta = ModelCardMetadata(extra_gated_fields={
        "Company": "text", "Use": {"type": "select", "options": ["a", {"label": "B",
                                                                        "value": "b"}]},
        "Agree": {"type": "checkbox"}})
    assert meta.to_dict()["extra_gated_fields"]["Use"]["options"][1] == {"label": "B",
                                                                           "value": "b"}
    with pytest.raises(ConfigError, match="extra_gated_fields: field 'Use': a select field"):
        ModelCardMetadata(extra_gated_fields={"Use": "select"})
    with pytest.raises(ConfigError, match="field 'X': 'dropdown' is not a field type"):
        ModelCardMetadata(extra_gated_fields={"X": "dropdown"})
    with pytest.raises(ConfigError, match="only select fields take 'options'"):
        GatedField(type="text", options=["a"])


def test_co2_emissions_number_or_object():
    assert ModelCardMetadata(co2_eq_emissions=10).to_dict() == {"co2_eq_emissions": 10}
    assert ModelCardMetadata(co2_eq_emissions={"emissions": 1.5, "training_type":
                                               "fine-tuning"}).co2_eq_emissions.emissions == 1.5
    with pytest.raises(ConfigError, match=r"co2_eq_emissions.training_type"):
        ModelCardMetadata(co2_eq_emissions={"emissions": 1, "training_type": "inference"})


def test_tags_are_normalised_and_unknown_keys_kept():
    meta = ModelCardMetadata(tags=["Not-For-All-Audience", "not-for-all-audiences", "x"],
                             widget=[{"text": "hi"}])
    assert meta.to_dict() == {"tags": ["not-for-all-audiences", "x"],
                              "widget": [{"text": "hi"}]}


def test_dataset_enumerations():
    meta = DatasetCardMetadata(size_categories="1K<n<10K", annotations_creators="found")
    assert meta.size_categories == ["1K<n<10K"]
    with pytest.raises(ConfigError, match=r"size_categories\[0\]: input should be 'n<1K'"):
        DatasetCardMetadata(size_categories=["10k"])
    with pytest.raises(ConfigError, match=r"multilinguality\[0\]"):
        DatasetCardMetadata(multilinguality="bilingual")


def test_section_text_is_cleaned_and_checked_on_assignment():
    details = ModelDetails(description="  text \r\n more  \n", developed_by="a\n  b")
    assert details.description == "text\n more"
    assert details.developed_by == "a b"
    details.description = "[More Information Needed]"
    assert details.description is None
    with pytest.raises(ConfigError, match="ModelDetails: developed_by: must be text"):
        details.developed_by = 3
    card = ModelCard(model_id="m")
    with pytest.raises(ConfigError, match=r"uses.direct_use: must be Markdown text"):
        card.uses = {"direct_use": ["x"]}
    with pytest.raises(ConfigError, match=r"metadata.license: 'zz'"):
        card.metadata = {"license": "zz"}
    with pytest.raises(ConfigError, match="model_id: must be a non-empty one-line"):
        ModelCard(model_id="  ")
    with pytest.raises(ConfigError, match="name: is required"):
        DatasetCard()


def test_nested_models_alone():
    with pytest.raises(ConfigError, match="Invalid EvalMetric: value: is required"):
        EvalMetric(type="accuracy")
    entry = ModelIndexEntry.model_validate(_index()[0])
    assert entry.flatten()[0]["metric_type"] == "accuracy"
    with pytest.raises(ConfigError, match=r"Invalid ModelIndexEntry: results\[0\].task"):
        ModelIndexEntry.model_validate({"name": "m", "results": [{}]})

"""``validate_card``: metadata errors, warnings, and the completeness score."""

from __future__ import annotations

import pytest

from scrutiny.cards import (
    DatasetCard,
    ModelCard,
    model_card_from_audit,
    validate_card,
)
from scrutiny.exceptions import InvalidParameterError

hf = pytest.importorskip("huggingface_hub")


def _card(meta_yaml: str, body: str = "# Model Card for m\n") -> str:
    return f"---\n{meta_yaml}\n---\n\n{body}"


def _fields(report, severity):
    return [i.field for i in report.issues if i.severity == severity]


def test_a_built_card_is_valid(compas_record):
    report = validate_card(model_card_from_audit(compas_record, metadata={
        "license": "mit", "library_name": "sklearn"}))
    assert report.ok
    assert report.kind == "model"
    assert report.warnings == []
    assert 0.6 < report.completeness < 0.7
    assert "Training Hyperparameters" in report.placeholders
    assert "Out-of-Scope Use" not in report.placeholders


def test_unknown_licence_is_an_error():
    report = validate_card(_card("license: apache2\nlibrary_name: x"))
    assert not report.ok
    (err,) = report.errors
    assert err.field == "license"
    assert "Did you mean 'apache-2.0'" in err.message


def test_malformed_model_index_is_an_error():
    report = validate_card(_card("license: mit\nmodel-index:\n  name: m"))
    assert _fields(report, "error") == ["model-index"]
    report = validate_card(_card(
        "license: mit\nmodel-index:\n- name: m\n  results:\n  - task: {type: t}\n"
        "    dataset: {type: d}\n    metrics:\n    - {type: acc}"))
    assert _fields(report, "error") == ["model-index[0].results[0].dataset.name",
                                        "model-index[0].results[0].metrics[0].value"]
    assert all("is required but missing" in e.message for e in report.errors)


def test_yaml_syntax_error():
    report = validate_card(_card("license: [mit"))
    assert not report.ok
    assert report.errors[0].field == "metadata"
    assert "not valid YAML" in report.errors[0].message


def test_warnings():
    report = validate_card(_card(
        "licence: mit\nlanguage: [english]\npipeline_tag: classify\n"
        "tags: [not-for-all-audience]\nlicense_name: My Licence"))
    assert report.ok
    fields = _fields(report, "warning")
    for f in ("licence", "license", "language[0]", "pipeline_tag", "tags[0]", "library_name",
              "license_name"):
        assert f in fields, f
    licence = next(i for i in report.warnings if i.field == "licence")
    assert "Did you mean 'license'" in licence.message


def test_duplicate_results_warn():
    result = ("  - task: {type: t}\n    dataset: {type: d, name: D}\n"
              "    metrics: [{type: a, value: 1}]\n")
    report = validate_card(_card(f"license: mit\nmodel-index:\n- name: m\n  results:\n"
                                 f"{result}{result}"))
    assert "model-index[0].results[1]" in _fields(report, "warning")


def test_rail_licence_without_restrictions_warns():
    card = ModelCard(model_id="m", metadata={"license": "bigscience-openrail-m"})
    report = validate_card(card)
    assert "Out-of-Scope Use" in _fields(report, "warning")
    card.uses.out_of_scope_use = "The use restrictions of bigscience-openrail-m apply."
    assert "Out-of-Scope Use" not in _fields(validate_card(card), "warning")


def test_the_hub_templates_score_zero():
    text = str(hf.ModelCard.from_template(hf.ModelCardData(license="mit"), model_id="t"))
    report = validate_card(text)
    assert report.kind == "model"
    assert report.completeness == 0
    assert all(s.present for s in report.sections)
    dtext = str(hf.DatasetCard.from_template(hf.DatasetCardData(license="mit"),
                                             pretty_name="d"))
    dreport = validate_card(dtext)
    assert dreport.kind == "dataset"
    assert dreport.completeness == 0


def test_completeness_counts_required_sections_only():
    card = ModelCard(model_id="m", metadata={"license": "mit"},
                     uses={"direct_use": "x", "downstream_use": "optional"},
                     details={"developed_by": "me"})
    report = validate_card(card)
    required = report.required_sections
    assert report.completeness == pytest.approx(2 / len(required))
    assert "Direct Use" not in report.placeholders
    assert "Model Description" not in report.placeholders


def test_missing_sections_and_metadata():
    report = validate_card("# Model Card for m\n\n## Uses\n\n### Direct Use\n\nText.\n")
    assert "metadata" in _fields(report, "warning")
    assert "Out-of-Scope Use" in _fields(report, "warning")
    status = {s.title: s for s in report.sections}
    assert status["Direct Use"].present and not status["Direct Use"].placeholder
    assert not status["Model Card Contact"].present


def test_kind_is_guessed_or_given(tmp_path):
    dataset = DatasetCard(name="d").to_markdown()
    assert validate_card(dataset).kind == "dataset"
    assert validate_card("---\nsize_categories: [n<1K]\n---\n").kind == "dataset"
    path = tmp_path / "README.md"
    path.write_text(dataset)
    assert validate_card(path, kind="dataset").kind == "dataset"
    with pytest.raises(InvalidParameterError, match="'kind' parameter"):
        validate_card(dataset, kind="space")
    with pytest.raises(InvalidParameterError, match="cannot be read"):
        validate_card(tmp_path / "missing.md")


def test_report_format_and_dict():
    report = validate_card(_card("license: zz"))
    text = report.format()
    assert text.startswith("Errors (1):")
    assert "Completeness: 0%" in text
    d = report.to_dict()
    assert d["ok"] is False and d["errors"][0]["field"] == "license"

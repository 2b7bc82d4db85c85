"""A model card filled in from an audit record and attribution findings."""

from __future__ import annotations

import json
import warnings

import pytest

from scrutiny.cards import RailLicenseWarning, model_card_from_audit
from scrutiny.exceptions import ConfigError, InvalidParameterError


def test_disaggregated_results_go_into_model_index(compas_record):
    card = model_card_from_audit(compas_record, model_id="compas-risk", dataset_id="compas",
                                 dataset_split="test", dataset_revision="v1")
    (entry,) = card.metadata.model_index
    assert entry.name == "compas-risk"
    (result,) = entry.results
    assert result.task.type == "tabular-classification"
    assert (result.dataset.type, result.dataset.split, result.dataset.revision) == (
        "compas", "test", "v1")
    rows = {m.name: m for m in result.metrics}
    g = rows["False positive rate (race = Other)"]
    assert g.type == "false_positive_rate"
    assert g.value == 0.1331
    assert g.args == {"group": {"race": "Other"}, "n": 385, "ci": [0.0963, 0.181]}
    gap = rows["Selection rate gap across race × sex (highest minus lowest group)"]
    assert gap.type == "selection_rate_difference"
    assert gap.value == 0.5076
    assert gap.args["max_group"] == ["African-American", "Male"]
    assert rows["Base rate (overall)"].args["n"] == 6172
    # one metric per group per level, one gap per level, one overall value, per metric
    n_groups = 4 + 2 + 8
    assert len(result.metrics) == 3 * (n_groups + 3 + 1)
    assert card.metadata.metrics == ["false_positive_rate", "selection_rate", "base_rate"]
    assert card.metadata.pipeline_tag == "tabular-classification"
    assert "rigorous" in card.metadata.tags


def test_factors_results_and_summary(compas_record):
    card = model_card_from_audit(compas_record)
    ev = card.evaluation
    assert "**race**: African-American (n = 3,175)" in ev.factors
    assert "Reference group: Caucasian." in ev.factors
    assert "race × sex** (intersection): 8 groups" in ev.factors
    assert "| Caucasian (reference) | 2,103 | 22% (20%–24%)" in ev.results
    assert "**By race × sex**" in ev.results
    assert "**False positive rate parity** (primary" in ev.metrics
    assert "By race, the false positive rate differs by 29 percentage points" in ev.summary
    assert "was crossed" in ev.summary
    assert "DuckDB query (6,172 rows)" in ev.testing_data


def test_risks_and_recommendations_come_from_the_deliberation(compas_record):
    card = model_card_from_audit(compas_record)
    bias = card.bias.description
    assert "**Value conflicts**" in bias
    assert "Liberty vs Public safety" in bias
    assert "Keep one threshold and require human review" in bias
    assert "**Agreed thresholds crossed**" in bias
    assert "You do not trust the recorded outcomes" in bias  # caveats
    assert "Affected communities consulted (open)" in bias
    assert "ProPublica (2016) found" in bias  # qualitative evidence
    recs = card.bias.recommendations
    assert "Follow the decision on Liberty vs Public safety" in recs
    assert "exceeds the agreed threshold" in recs
    assert "race may not be used as an input" in card.uses.out_of_scope_use


def test_guardrails_go_into_risks(sample_record):
    record = dict(sample_record)
    record["guardrails"] = [{"code": "single_metric", "severity": "warning",
                             "message": "Only one metric is assessed.", "where": None}]
    card = model_card_from_audit(record)
    assert "**Guardrail warnings**" in card.bias.description
    assert "Warning: Only one metric is assessed." in card.bias.description
    assert "Resolve the guardrail warnings" in card.bias.recommendations
    assert card.metadata.library_name == "sklearn"  # the sample's model is a skops file
    assert card.details.developed_by == "Demo data scientist"


def test_attribution_findings_are_data_quality_findings(sample_record, attribution_results,
                                                        tmp_path):
    path = tmp_path / "results.json"
    path.write_text(json.dumps(attribution_results))
    card = model_card_from_audit(sample_record, attribution=path)
    bias = card.bias.description
    assert "**Data-quality findings** (training-data attribution, method `knn_shapley`)" in bias
    assert "Suspected label issues (42): 42 training rows look mislabelled." in bias
    assert "Undersampled slices: Women over 60" in bias
    assert "Other findings (3): An unknown kind is kept as other." in bias
    assert "3 data-quality findings" in card.training.data
    assert "relabel or remove confirmed errors" in card.bias.recommendations


@pytest.mark.parametrize(("results", "match"), [
    ({"findings": "x"}, "attribution.findings: must be a list"),
    ({"findings": [{"kind": "label_issue"}]}, r"attribution.findings\[0\].message"),
])
def test_bad_attribution_results(sample_record, results, match):
    with pytest.raises(ConfigError, match=match):
        model_card_from_audit(sample_record, attribution=results)


def test_attribution_file_must_hold_an_object(sample_record, tmp_path):
    path = tmp_path / "results.json"
    path.write_text("[1, 2]")
    with pytest.raises(ConfigError, match="attribution: the results must be a JSON object"):
        model_card_from_audit(sample_record, attribution=path)
    with pytest.raises(InvalidParameterError, match="is not a file"):
        model_card_from_audit(sample_record, attribution=tmp_path / "missing.json")


def test_attribution_without_findings_is_fine(sample_record):
    card = model_card_from_audit(sample_record, attribution={"method": "tracin"})
    assert card.training.data is None


def test_metadata_overrides_and_tags_merge(compas_record):
    card = model_card_from_audit(compas_record, metadata={
        "license": "mit", "library_name": "xgboost", "tags": ["inclusive"],
        "datasets": ["org/compas"]})
    assert card.metadata.license == "mit"
    assert card.metadata.library_name == "xgboost"
    assert card.metadata.tags[:2] == ["inclusive", "scrutiny"]
    assert card.metadata.model_index[0].results[0].dataset.type == "org/compas"
    with pytest.raises(ConfigError, match="license: 'MIT-0' is not a licence id"):
        model_card_from_audit(compas_record, metadata={"license": "MIT-0"})


def test_rail_base_model_warns_and_restricts(compas_record):
    with pytest.warns(RailLicenseWarning, match="'CompVis/stable-diffusion' is licensed under "
                      "creativeml-openrail-m"):
        card = model_card_from_audit(
            compas_record, metadata={"base_model": "CompVis/stable-diffusion"},
            upstream_licenses={"CompVis/stable-diffusion": "creativeml-openrail-m"})
    scope = card.uses.out_of_scope_use
    assert "`CompVis/stable-diffusion` is licensed under `creativeml-openrail-m`" in scope
    assert "administration of justice" in scope
    assert "must include the same use restrictions" in scope
    assert card.details.finetuned_from == "CompVis/stable-diffusion"


def test_own_rail_licence_restricts_without_warning(compas_record):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        card = model_card_from_audit(compas_record, metadata={"license": "openrail"})
    assert "This model is licensed under `openrail`" in card.uses.out_of_scope_use


def test_reads_folders_and_files(compas_record, tmp_path):
    (tmp_path / "audit.json").write_text(json.dumps(compas_record))
    assert model_card_from_audit(tmp_path) == model_card_from_audit(tmp_path / "audit.json")
    with pytest.raises(InvalidParameterError, match=r"has no audit.json"):
        model_card_from_audit(tmp_path / "..")
    with pytest.raises(InvalidParameterError, match="does not exist"):
        model_card_from_audit(tmp_path / "nope.json")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(ConfigError, match="is not valid JSON"):
        model_card_from_audit(tmp_path / "bad.json")


def test_bad_records(compas_record):
    with pytest.raises(ConfigError, match=r"audit.assessment: missing"):
        model_card_from_audit({"title": "x"})
    with pytest.raises(InvalidParameterError, match="'decimals' parameter"):
        model_card_from_audit(compas_record, decimals=-1)
    with pytest.raises(InvalidParameterError, match="'audit' parameter"):
        model_card_from_audit(3)  # type: ignore[arg-type]


def test_numpy_values_in_an_in_memory_record(compas_record):
    import copy

    import numpy as np

    record = copy.deepcopy(compas_record)
    group = record["assessment"]["by_feature"]["race"]["groups"][0]
    group["count"] = np.int64(group["count"])
    group["metrics"]["base_rate"]["value"] = np.float64(0.5)
    card = model_card_from_audit(record)
    assert "value: 0.5\n" in card.to_markdown()

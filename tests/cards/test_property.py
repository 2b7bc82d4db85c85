"""Property test: arbitrary valid card data survives write then parse unchanged.

Parsed by scrutiny (the whole card) and by huggingface_hub (metadata and
eval results).
"""

from __future__ import annotations

import dataclasses
import os
import re
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scrutiny.cards import (
    LICENSES,
    PLACEHOLDER,
    DatasetCard,
    DatasetCardMetadata,
    ModelCard,
    ModelCardMetadata,
)
from scrutiny.cards._metadata import (
    ANNOTATIONS_CREATORS,
    MULTILINGUALITY,
    SIZE_CATEGORIES,
)
from scrutiny.cards._validate import TASK_IDS

hf = pytest.importorskip("huggingface_hub")

# CARD_EXAMPLES=600 for a longer search (about 25 s)
SETTINGS = settings(max_examples=int(os.environ.get("CARD_EXAMPLES", "60")), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# --- text -------------------------------------------------------------------

_CHARS = st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp"))
_BULLET = re.compile(r"^\s*[-*+]\s+\*\*")


def _line_ok(line: str) -> bool:
    s = line.strip()
    return not (s.startswith(("#", "```", "~~~")) or "<!--" in s or _BULLET.match(line)
                or s == PLACEHOLDER)


one_line = st.text(_CHARS, min_size=1, max_size=30).filter(
    lambda s: s.strip() and "\n" not in s)
markdown = st.lists(st.text(_CHARS, max_size=40).filter(_line_ok), min_size=1,
                    max_size=4).map("\n".join)
maybe_text = st.none() | markdown
maybe_line = st.none() | one_line
ident = st.text(string.ascii_lowercase + string.digits + "-_./", min_size=1, max_size=20).filter(
    lambda s: s[0].isalnum())
yaml_text = st.text(_CHARS, min_size=1, max_size=40) | st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=20)

# --- metadata -----------------------------------------------------------------

finite = st.floats(allow_nan=False, allow_infinity=False, width=64)
scalar = st.one_of(finite, st.integers(-10**9, 10**9), yaml_text, st.booleans())
args = st.none() | st.dictionaries(ident, scalar | st.lists(scalar, max_size=3), max_size=3)
metric = st.fixed_dictionaries(
    {"type": ident, "value": st.one_of(finite, st.integers(-10**9, 10**9), yaml_text)},
    optional={"name": yaml_text, "config": ident, "args": args, "verifyToken": ident},
)


def _result(key):
    task_type, dataset_type, split = key
    return st.fixed_dictionaries(
        {"task": st.fixed_dictionaries({"type": st.just(task_type)},
                                       optional={"name": yaml_text}),
         "dataset": st.fixed_dictionaries(
             {"type": st.just(dataset_type), "name": yaml_text},
             optional={"revision": ident, "args": args}).map(
             lambda d: {**d, "split": split} if split else d),
         "metrics": st.lists(metric, min_size=1, max_size=3)},
        optional={"source": st.fixed_dictionaries({"url": ident},
                                                  optional={"name": yaml_text})},
    )


# huggingface_hub merges results sharing task, dataset, config, split and revision
result_keys = st.lists(st.tuples(st.sampled_from(sorted(TASK_IDS)), ident,
                                 st.none() | ident), min_size=1, max_size=3, unique=True)
model_index = result_keys.flatmap(
    lambda keys: st.tuples(*[_result(k) for k in keys])).map(list).flatmap(
    lambda results: st.builds(lambda n: [{"name": n, "results": results}], ident))
gated_fields = st.dictionaries(
    yaml_text.filter(str.strip),
    st.sampled_from(["text", "checkbox", "date_picker", "country"])
    | st.fixed_dictionaries({"type": st.just("select"), "options": st.lists(
        yaml_text | st.fixed_dictionaries({"label": yaml_text, "value": yaml_text}),
        min_size=1, max_size=3)}),
    max_size=3,
)
languages = st.lists(st.text(string.ascii_lowercase, min_size=2, max_size=3), min_size=1,
                     max_size=3)
licenses = st.sampled_from(sorted(LICENSES))
common = {
    "license_link": ident,
    "tags": st.lists(one_line, min_size=1, max_size=4),
    "extra_gated_prompt": yaml_text,
    "extra_gated_heading": yaml_text,
    "extra_gated_description": yaml_text,
    "extra_gated_button_content": yaml_text,
    "extra_gated_fields": gated_fields,
    "x_custom": yaml_text,
}


def _licensed(d: dict) -> dict:
    lic = d.get("license")
    ids = lic if isinstance(lic, list) else [lic]
    if "other" in ids:
        d["license_name"] = "my-licence"
    return d


model_meta = st.fixed_dictionaries({}, optional={
    **common,
    "language": languages,
    "license": licenses,
    "library_name": ident,
    "pipeline_tag": st.sampled_from(sorted(TASK_IDS)),
    "base_model": ident | st.lists(ident, min_size=1, max_size=3),
    "new_version": ident,
    "datasets": st.lists(ident, min_size=1, max_size=3),
    "metrics": st.lists(ident, min_size=1, max_size=3),
    "thumbnail": ident,
    "co2_eq_emissions": finite | st.fixed_dictionaries(
        {"emissions": finite}, optional={
            "source": yaml_text, "training_type": st.sampled_from(["pre-training",
                                                                    "fine-tuning"]),
            "geographical_location": yaml_text, "hardware_used": yaml_text}),
    "model-index": model_index,
}).map(_licensed).map(
    lambda d: {**d, "base_model_relation": "finetune"} if d.get("base_model") else d)

dataset_meta = st.fixed_dictionaries({}, optional={
    **common,
    "pretty_name": yaml_text,
    "language": languages,
    "license": licenses | st.lists(licenses, min_size=1, max_size=2),
    "annotations_creators": st.lists(st.sampled_from(ANNOTATIONS_CREATORS), min_size=1,
                                     max_size=2),
    "multilinguality": st.lists(st.sampled_from(MULTILINGUALITY), min_size=1, max_size=1),
    "size_categories": st.lists(st.sampled_from(SIZE_CATEGORIES), min_size=1, max_size=1),
    "source_datasets": st.lists(ident, min_size=1, max_size=2),
    "task_categories": st.lists(st.sampled_from(sorted(TASK_IDS)), min_size=1, max_size=2),
    "paperswithcode_id": ident,
}).map(_licensed)

# --- cards ----------------------------------------------------------------------


def _section(fields: dict[str, st.SearchStrategy]) -> st.SearchStrategy:
    return st.fixed_dictionaries({}, optional=fields)


model_cards = st.builds(
    lambda meta, **kw: ModelCard(metadata=meta, **kw),
    meta=model_meta,
    model_id=one_line,
    summary=maybe_text,
    details=_section({"description": markdown, "developed_by": one_line,
                      "funded_by": one_line, "model_type": one_line, "repository": one_line,
                      "finetuned_from": one_line}),
    uses=_section({"direct_use": markdown, "downstream_use": markdown,
                   "out_of_scope_use": markdown}),
    bias=_section({"description": markdown, "recommendations": markdown}),
    how_to_get_started=maybe_text,
    training=_section({"data": markdown, "procedure": markdown, "hyperparameters": markdown}),
    evaluation=_section({"testing_data": markdown, "factors": markdown, "results": markdown,
                         "summary": markdown}),
    environmental_impact=_section({"notes": markdown, "hardware_type": one_line,
                                   "carbon_emitted": one_line}),
    technical_specifications=_section({"architecture": markdown, "software": markdown}),
    citation=maybe_text,
    contact=maybe_text,
)

dataset_cards = st.builds(
    lambda meta, **kw: DatasetCard(metadata=meta, **kw),
    meta=dataset_meta,
    name=one_line,
    summary=maybe_text,
    details=_section({"description": markdown, "curated_by": one_line, "paper": one_line}),
    uses=_section({"direct_use": markdown, "out_of_scope_use": markdown}),
    structure=maybe_text,
    creation=_section({"curation_rationale": markdown, "source_data_producers": markdown,
                       "personal_and_sensitive_information": markdown}),
    bias=_section({"description": markdown}),
    glossary=maybe_text,
)


def _hf_rows(data) -> list[dict]:
    return [{k: v for k, v in dataclasses.asdict(r).items() if v is not None}
            for r in data.eval_results or []]


@SETTINGS
@given(card=model_cards)
def test_model_card_survives_write_then_parse(card):
    text = card.to_markdown()
    assert ModelCard.from_markdown(text) == card
    parsed = hf.ModelCard(text)
    assert parsed.data.to_dict() == card.metadata.to_dict()
    assert _hf_rows(parsed.data) == card.metadata.eval_results()
    assert ModelCardMetadata.model_validate(parsed.data.to_dict()) == card.metadata


@SETTINGS
@given(card=dataset_cards)
def test_dataset_card_survives_write_then_parse(card):
    text = card.to_markdown()
    assert DatasetCard.from_markdown(text) == card
    parsed = hf.DatasetCard(text)
    assert parsed.data.to_dict() == card.metadata.to_dict()
    assert DatasetCardMetadata.model_validate(parsed.data.to_dict()) == card.metadata

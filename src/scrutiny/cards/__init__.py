"""Model and dataset cards compatible with the Hugging Face Hub.

Build a :class:`ModelCard` from an audit with :func:`model_card_from_audit`
(disaggregated results go into ``model-index`` and the Evaluation section;
guardrails, value conflicts and decisions into Bias, Risks and Limitations),
or a :class:`DatasetCard` from data with :func:`dataset_card_from_data`.
Write them as ``README.md`` (:meth:`ModelCard.to_markdown`) or as a
self-contained HTML page (:meth:`ModelCard.to_html`), and check any card
offline with :func:`validate_card`. :data:`LICENSES` lists the Hub's licence
ids, with the use restrictions of the RAIL family; :data:`ETHICS_TAGS` the
Hub's six ethics categories.
"""

from __future__ import annotations

from scrutiny.cards._base import CARD_SCHEMA_VERSION, PLACEHOLDER
from scrutiny.cards._from_audit import model_card_from_audit
from scrutiny.cards._licenses import (
    LICENSES,
    RAIL_PASS_DOWN,
    License,
    RailLicenseWarning,
    get_license,
    out_of_scope_from_licenses,
)
from scrutiny.cards._metadata import (
    CO2Emissions,
    DatasetCardMetadata,
    EvalDataset,
    EvalMetric,
    EvalSource,
    EvalTask,
    GatedField,
    ModelCardMetadata,
    ModelIndexEntry,
    ModelIndexResult,
    SelectOption,
)
from scrutiny.cards._profile import (
    DatasetProfile,
    dataset_card_from_data,
    profile_dataset,
    size_category,
)
from scrutiny.cards._schema import (
    BiasRisksLimitations,
    DatasetCard,
    DatasetCreation,
    DatasetDetails,
    DatasetUses,
    EnvironmentalImpact,
    Evaluation,
    ModelCard,
    ModelDetails,
    ModelUses,
    TechnicalSpecifications,
    TrainingDetails,
)
from scrutiny.cards._tags import ETHICS_TAGS, NFAA_TAG, normalize_tags
from scrutiny.cards._validate import CardIssue, CardReport, SectionStatus, validate_card

__all__ = [
    "CARD_SCHEMA_VERSION",
    "ETHICS_TAGS",
    "LICENSES",
    "NFAA_TAG",
    "PLACEHOLDER",
    "RAIL_PASS_DOWN",
    "BiasRisksLimitations",
    "CO2Emissions",
    "CardIssue",
    "CardReport",
    "DatasetCard",
    "DatasetCardMetadata",
    "DatasetCreation",
    "DatasetDetails",
    "DatasetProfile",
    "DatasetUses",
    "EnvironmentalImpact",
    "EvalDataset",
    "EvalMetric",
    "EvalSource",
    "EvalTask",
    "Evaluation",
    "GatedField",
    "License",
    "ModelCard",
    "ModelCardMetadata",
    "ModelDetails",
    "ModelIndexEntry",
    "ModelIndexResult",
    "ModelUses",
    "RailLicenseWarning",
    "SectionStatus",
    "SelectOption",
    "TechnicalSpecifications",
    "TrainingDetails",
    "dataset_card_from_data",
    "get_license",
    "model_card_from_audit",
    "normalize_tags",
    "out_of_scope_from_licenses",
    "profile_dataset",
    "size_category",
    "validate_card",
]

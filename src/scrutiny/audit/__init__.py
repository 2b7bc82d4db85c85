"""The guided audit: scope the use context, get recommended metrics, run, report, decide.

Start with ``scrutiny init`` (or :class:`AuditConfig`), then ``scrutiny audit``
(or :func:`run_audit`).
"""

from __future__ import annotations

from scrutiny.audit._config import (
    Assessment,
    AuditConfig,
    ChecklistItem,
    Conflict,
    Context,
    DataSource,
    Evidence,
    Gate,
    Mitigate,
    Mitigation,
    MitigationCandidate,
    MitigationChoice,
    ModelSource,
    SensitiveFeature,
    SignOff,
    Stakeholder,
    TrainingData,
    Value,
    dump_config,
    load_config,
    parse_config,
)
from scrutiny.audit._recommend import CRITERION_METRICS, Item, Recommendation, recommend
from scrutiny.audit._run import AuditResult, build_record, run_audit

__all__ = [
    "CRITERION_METRICS",
    "Assessment",
    "AuditConfig",
    "AuditResult",
    "ChecklistItem",
    "Conflict",
    "Context",
    "DataSource",
    "Evidence",
    "Gate",
    "Item",
    "Mitigate",
    "Mitigation",
    "MitigationCandidate",
    "MitigationChoice",
    "ModelSource",
    "Recommendation",
    "SensitiveFeature",
    "SignOff",
    "Stakeholder",
    "TrainingData",
    "Value",
    "build_record",
    "dump_config",
    "load_config",
    "parse_config",
    "recommend",
    "run_audit",
]

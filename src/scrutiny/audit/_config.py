"""The audit configuration: one YAML file, validated by pydantic, shared by library and CLI.

Every model forbids unknown keys and is frozen. :func:`load_config` turns
pydantic's errors into :class:`~scrutiny.exceptions.ConfigError` messages that
name the field path (``sensitive_features[1].justification``), what was
received and how to fix it.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from scrutiny.exceptions import ConfigError

SCHEMA_VERSION = "1.0"

NonEmpty = Annotated[str, Field(min_length=1)]
Concern = Literal["everyone", "intervened", "not_intervened", "in_need", "not_in_need"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Stakeholder(_Model):
    """A person or group with a stake in the model, and their role in the audit."""

    name: NonEmpty
    role: NonEmpty
    interest: str | None = None


class Context(_Model):
    """The use context: what is decided, for whom, and which errors harm whom.

    The answers drive the metric recommendation (see :func:`recommend`).
    """

    decision: NonEmpty = Field(description="The decision the model informs.")
    affected: NonEmpty = Field(description="Who is affected by the decision.")
    framing: Literal["allocation", "quality_of_service", "both"] = Field(
        description="Allocation: the model hands out a resource or an intervention. Quality of "
        "service: the model works better or worse for some people."
    )
    fairness_goal: Literal["representation", "errors", "unsure"] = Field(
        "unsure",
        description="Fair by representation (who is selected) or by errors (who is wrong).",
    )
    representation: Literal["equal_numbers", "proportional"] | None = Field(
        None, description="For representation: equal numbers per group, or proportional."
    )
    intervention: Literal["punitive", "assistive"] = Field(
        description="Does a positive prediction lead to a punitive or an assistive intervention?"
    )
    intervention_reach: Literal["small_fraction", "most_in_need"] | None = Field(
        None, description="For assistive interventions: can it reach only a small fraction of "
        "those in need, or most of them?"
    )
    concern: Concern | None = Field(None, description="Among whom predictive equity matters most.")
    costlier_error: Literal["false_positive", "false_negative", "equal", "unsure"] = "unsure"
    costlier_error_for: str | None = Field(
        None, description="Who bears the costlier error, in the team's words."
    )
    labels_trusted: bool = Field(
        description="Are the recorded outcomes a trustworthy measure of the real outcome "
        "for every group?"
    )
    base_rates_trusted: bool = Field(
        True, description="Do the groups' observed base rates reflect reality (not, say, "
        "unequal policing or testing)?"
    )
    legal_constraints: list[NonEmpty] = Field(default_factory=list)

    @model_validator(mode="after")
    def _follow_ups(self) -> Context:
        if self.fairness_goal == "representation" and self.representation is None:
            msg = (
                "representation is required when fairness_goal is 'representation': answer "
                "'equal_numbers' or 'proportional'"
            )
            raise ValueError(msg)
        return self


class SensitiveFeature(_Model):
    """A column whose groups are compared, with the team's reason for looking at it."""

    column: NonEmpty
    justification: NonEmpty = Field(
        description="Why this feature is examined (legal protection, known harm, stakeholder "
        "request...)."
    )
    reference: str | int | float | bool | None = Field(
        None, description="A reference group chosen by the team; none by default."
    )


class ModelSource(_Model):
    """A saved scikit-learn model that produces the predictions."""

    path: NonEmpty
    format: Literal["skops", "pickle"] = "skops"
    features: list[NonEmpty] | None = Field(
        None, description="Input columns, in order; default: every column the model was fit on."
    )
    threshold: float = Field(0.5, gt=0, lt=1)


class DataSource(_Model):
    """Where the rows come from and which columns hold outcomes and predictions."""

    path: str | None = Field(None, description="CSV or Parquet file (relative to the config).")
    sql: str | None = Field(None, description="A DuckDB SQL query (may read files itself).")
    demo: Literal["adult"] | None = Field(None, description="The bundled demo data.")
    y_true: NonEmpty
    y_pred: str | None = None
    y_score: str | None = None
    model: ModelSource | None = None
    sample_weight: str | None = None
    pos_label: str | int | float | bool | None = None

    @model_validator(mode="after")
    def _one_source(self) -> DataSource:
        given = [k for k in ("path", "sql", "demo") if getattr(self, k)]
        if len(given) != 1:
            msg = (
                "exactly one of path, sql or demo is required; got "
                + (", ".join(given) if given else "none")
            )
            raise ValueError(msg)
        if not (self.y_pred or self.y_score or self.model):
            msg = "give y_pred (a column), y_score (a column) or model (a saved model)"
            raise ValueError(msg)
        if self.model and (self.y_pred or self.y_score):
            msg = "give either model or y_pred/y_score columns, not both"
            raise ValueError(msg)
        return self


class Assessment(_Model):
    """How the fairness engine runs."""

    metrics: list[NonEmpty] | None = Field(
        None, description="Override the recommended metrics (the guardrails still apply)."
    )
    min_group_size: int = Field(30, ge=0)
    ci: float = Field(0.95, gt=0, lt=1)
    n_boot: int = Field(1000, ge=0)
    seed: int = 0
    missing: Literal["error", "group"] = "error"
    correction: Literal["holm", "fdr_bh", "none"] = "holm"
    policy: Literal["four_fifths"] | None = None


class Gate(_Model):
    """A threshold the team agreed on. Gates warn by default; ``fail`` makes a check fail."""

    metric: NonEmpty = Field(description="A metric or criterion name (equalized_odds, ...).")
    max_difference: float | None = Field(None, ge=0)
    min_ratio: float | None = Field(None, ge=0, le=1)
    severity: Literal["warn", "fail"] = "warn"
    rationale: str | None = None

    @model_validator(mode="after")
    def _has_threshold(self) -> Gate:
        if self.max_difference is None and self.min_ratio is None:
            msg = "give max_difference and/or min_ratio"
            raise ValueError(msg)
        return self


class Value(_Model):
    """A value the team holds, who owns it, and how it is checked."""

    name: NonEmpty
    description: str | None = None
    owner: NonEmpty
    metric: str | None = Field(None, description="A metric or criterion that operationalises it.")
    qualitative_check: str | None = Field(None, description="Or a qualitative check.")

    @model_validator(mode="after")
    def _operationalised(self) -> Value:
        if not (self.metric or self.qualitative_check):
            msg = "say how the value is operationalised: metric or qualitative_check"
            raise ValueError(msg)
        return self


class Conflict(_Model):
    """Two or more values in tension, the options considered and what was decided."""

    values: list[NonEmpty] = Field(min_length=2)
    description: NonEmpty
    options: list[NonEmpty] = Field(default_factory=list)
    decision: str | None = None
    rationale: str | None = None
    decided_by: str | None = None
    decided_on: date | None = None

    @model_validator(mode="after")
    def _decision_needs_reasons(self) -> Conflict:
        if self.decision and not (self.rationale and self.decided_by):
            msg = "a decision needs a rationale and decided_by"
            raise ValueError(msg)
        return self


class Evidence(_Model):
    """Qualitative evidence, on an equal footing with the numbers."""

    kind: Literal["interview", "red_team", "stakeholder_feedback", "user_study", "other"]
    summary: NonEmpty
    source: str | None = None
    collected_on: date | None = None


class ChecklistItem(_Model):
    """A checklist item answered in free text; N/A needs a reason."""

    item: NonEmpty
    status: Literal["done", "open", "na"]
    note: str | None = None

    @model_validator(mode="after")
    def _na_needs_reason(self) -> ChecklistItem:
        if self.status == "na" and not self.note:
            msg = "status 'na' needs a note saying why the item does not apply"
            raise ValueError(msg)
        return self


class SignOff(_Model):
    """A named person, in a named role, signing the audit off."""

    role: NonEmpty
    name: NonEmpty
    signed_on: date
    statement: str | None = None


class Mitigation(_Model):
    """Whether the model under audit was already mitigated, and against which assessment."""

    applied: bool = False
    description: str | None = None
    prior_assessment: str | None = Field(
        None, description="Path of the audit.json that motivated the mitigation."
    )


class TrainingData(_Model):
    """Training rows of the model, to name the training examples behind a disparity."""

    path: str | None = Field(None, description="CSV or Parquet file (relative to the config).")
    demo: Literal["adult"] | None = Field(None, description="The bundled demo training split.")
    y_true: str | None = Field(None, description="Label column (default: data.y_true).")
    top_k: int = Field(20, ge=1, le=1000)
    shareable: list[NonEmpty] = Field(
        default_factory=list,
        description="Columns that may be shown for training examples in the report; no other "
        "column of a training row is ever shown.",
    )
    verify: bool = Field(True, description="Check the predicted effect by real retraining.")

    @model_validator(mode="after")
    def _one_source(self) -> TrainingData:
        if bool(self.path) == bool(self.demo):
            msg = "exactly one of path or demo is required"
            raise ValueError(msg)
        return self


#: the mitigators ``scrutiny mitigate`` can compare (names used in ``mitigate.candidates``)
MITIGATORS = (
    "reweighing",
    "thresholds",
    "exponentiated_gradient",
    "grid_search",
    "influence_reweighting",
    "influence_removal",
)
#: the gaps a mitigator can target
MITIGATION_TARGETS = (
    "demographic_parity",
    "equal_opportunity",
    "equalized_odds",
    "false_positive_rate_parity",
    "error_rate_parity",
)
Target = Literal[
    "demographic_parity",
    "equal_opportunity",
    "equalized_odds",
    "false_positive_rate_parity",
    "error_rate_parity",
]
#: what ``mitigate.choice.candidate`` names to keep the model as it is
UNMITIGATED = "unmitigated"


class MitigationCandidate(_Model):
    """One mitigator to train and compare, with its options."""

    name: NonEmpty = Field(description=f"The mitigator: one of {', '.join(MITIGATORS)}.")
    label: str | None = Field(
        None, description="A distinct name for this candidate in the report (default: name, "
        "or name_constraint when a mitigator appears twice)."
    )
    constraint: Target | None = Field(
        None, description="The gap this candidate narrows (default: mitigate.target when the "
        "mitigator supports it)."
    )
    options: dict[str, Any] = Field(
        default_factory=dict, description="Keyword arguments of the mitigator (grid_size, "
        "top_k, weight, eps...)."
    )

    @field_validator("name")
    @classmethod
    def _known(cls, v: str) -> str:
        if v not in MITIGATORS:
            import difflib

            close = difflib.get_close_matches(v, MITIGATORS, n=2, cutoff=0.5)
            hint = f"Did you mean {' or '.join(map(repr, close))}? " if close else ""
            msg = f"{v!r} is not a mitigator. {hint}Use one of {list(MITIGATORS)}"
            raise ValueError(msg)
        return v

    @field_validator("label")
    @classmethod
    def _not_reserved(cls, v: str | None) -> str | None:
        if v is not None and (not v.strip() or v.strip() == UNMITIGATED):
            msg = f"a label must be non-empty and not {UNMITIGATED!r} (that is the model as it is)"
            raise ValueError(msg)
        return v


class MitigationChoice(_Model):
    """The team's choice among the candidates, with its reasons (the tool never chooses)."""

    candidate: NonEmpty = Field(
        description=f"The label of the chosen candidate, or {UNMITIGATED!r} to keep the model."
    )
    rationale: NonEmpty = Field(description="Why, in the team's words: what was traded for what.")
    decided_by: NonEmpty
    decided_on: date | None = None


class Mitigate(_Model):
    """What ``scrutiny mitigate`` trains, compares and records.

    The candidates are trained on ``training`` rows (a share held out for
    validation) and evaluated on the held-out ``data`` rows, against the
    unmitigated model of ``data.model`` refitted on the same rows.
    """

    target: Target | None = Field(
        None, description="The gap on the chart's axis and the default constraint of every "
        "candidate; default: derived from the recommended criteria."
    )
    sensitive_features: list[NonEmpty] | None = Field(
        None, description="Which sensitive_features columns the mitigators use (intersected); "
        "default: all of them."
    )
    candidates: list[MitigationCandidate] | None = Field(
        None, min_length=1, description="The mitigators to compare; default: a set chosen "
        "for the target and the model."
    )
    validation_fraction: float = Field(
        0.25, gt=0, lt=0.9, description="Share of the training rows held out to fit group "
        "thresholds and to measure the gap for the influence methods."
    )
    random_controls: bool = Field(
        True, description="Also train, for each influence method, the same number of random "
        "rows re-weighted: a control that shows whether the targeting helps."
    )
    prior_assessment: str | None = Field(
        None, description="The audit.json whose findings motivate the mitigation (relative "
        "to the config); default: mitigation.prior_assessment."
    )
    choice: MitigationChoice | None = Field(
        None, description="The team's choice and rationale, recorded in the decision log."
    )

    def labels(self) -> list[str]:
        """The label of each candidate, in order (empty when the candidates are defaults)."""
        cands = self.candidates or []
        names = [c.name for c in cands]
        out = []
        for c in cands:
            if c.label:
                out.append(c.label.strip())
            elif names.count(c.name) == 1:
                out.append(c.name)
            else:
                out.append(f"{c.name}_{c.constraint or 'default'}")
        return out

    @model_validator(mode="after")
    def _distinct_and_chosen(self) -> Mitigate:
        labels = self.labels()
        for i, label in enumerate(labels):
            if label in labels[:i]:
                msg = (
                    f"candidates[{i}]: the label {label!r} is used twice. Give each candidate "
                    "a distinct label (label: ...) or, for the same mitigator, a different "
                    "constraint."
                )
                raise ValueError(msg)
        if self.choice is not None and labels and self.choice.candidate not in (
            *labels, UNMITIGATED
        ):
            import difflib

            known = [*labels, UNMITIGATED]
            close = difflib.get_close_matches(self.choice.candidate, known, n=1, cutoff=0.5)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            msg = (
                f"choice.candidate: {self.choice.candidate!r} is not a candidate.{hint} Name "
                f"one of {known}"
            )
            raise ValueError(msg)
        return self


class AuditConfig(_Model):
    """Everything ``scrutiny audit`` needs, plus the team's deliberation record."""

    schema_version: Literal["1.0"] = SCHEMA_VERSION
    title: NonEmpty
    context: Context
    sensitive_features: list[SensitiveFeature] = Field(min_length=1)
    stakeholders: list[Stakeholder] = Field(default_factory=list)
    data: DataSource
    assessment: Assessment = Assessment()
    gates: list[Gate] = Field(default_factory=list)
    values: list[Value] = Field(default_factory=list)
    conflicts: list[Conflict] = Field(default_factory=list)
    evidence: list[Evidence] = Field(default_factory=list)
    checklist: list[ChecklistItem] = Field(default_factory=list)
    signoffs: list[SignOff] = Field(default_factory=list)
    mitigation: Mitigation = Mitigation()
    training: TrainingData | None = Field(
        None, description="Training data: adds the training examples behind the main gap."
    )
    mitigate: Mitigate | None = Field(
        None, description="Candidates for ``scrutiny mitigate`` and the team's choice."
    )

    @model_validator(mode="after")
    def _training_needs_model(self) -> AuditConfig:
        if self.training is not None and self.data.model is None:
            msg = "training needs a model in data.model (attribution retrains it)"
            raise ValueError(msg)
        return self

    @model_validator(mode="after")
    def _mitigate_features(self) -> AuditConfig:
        if self.mitigate is None or self.mitigate.sensitive_features is None:
            return self
        cols = [f.column for f in self.sensitive_features]
        for i, c in enumerate(self.mitigate.sensitive_features):
            if c not in cols:
                msg = (
                    f"mitigate.sensitive_features[{i}]: {c!r} is not one of the "
                    f"sensitive_features columns {cols}. Name one of them."
                )
                raise ValueError(msg)
        return self

    @field_validator("sensitive_features")
    @classmethod
    def _distinct(cls, v: list[SensitiveFeature]) -> list[SensitiveFeature]:
        cols = [f.column for f in v]
        if len(set(cols)) != len(cols):
            msg = f"each column may appear once; got {cols}"
            raise ValueError(msg)
        return v


def _path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


_FIELD_FIRST = re.compile(r"^[a-z_]+(\[\d+\])?(\.[a-z_]+(\[\d+\])?)*: ")


def format_validation_error(exc: ValidationError, source: str) -> str:
    """One readable message per problem, each naming its field path."""
    lines = []
    for err in exc.errors():
        path = _path(tuple(p for p in err["loc"] if not str(p).startswith("function-after")))
        kind = err["type"]
        got = err.get("input")
        if kind == "extra_forbidden":
            text = f"{path}: unknown key. Remove it or check its spelling."
        elif kind == "missing":
            text = f"{path}: required but missing."
        else:
            msg = err["msg"].removeprefix("Value error, ")
            shown = repr(got) if not isinstance(got, dict | list) else type(got).__name__
            text = f"{path}: {msg} (got {shown})."
            if isinstance(got, dict) and _FIELD_FIRST.match(msg):
                # a check across fields that names its own field, relative to this path
                text = ("" if path == "(top level)" or msg.startswith(path + ".")
                        else f"{path}.") + msg.rstrip(".") + "."
        lines.append(text)
    return f"Invalid audit config {source}: " + " ".join(lines)


def parse_config(raw: Any, *, source: str = "") -> AuditConfig:
    """Validate a mapping (already parsed from YAML) as an :class:`AuditConfig`."""
    if not isinstance(raw, dict):
        msg = (
            f"Invalid audit config {source}: the top level must be a mapping of keys "
            f"(title, context, sensitive_features, data, ...). Got {type(raw).__name__}."
        )
        raise ConfigError(msg)
    try:
        return AuditConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, source)) from None


def load_config(path: str | Path) -> AuditConfig:
    """Read and validate an audit config YAML file.

    Parameters
    ----------
    path : str or Path
        The YAML file.

    Returns
    -------
    AuditConfig
        The validated configuration.

    Raises
    ------
    ConfigError
        The file is missing, is not YAML, or does not validate; the message names
        every offending field path.
    """
    import yaml

    p = Path(path)
    if not p.is_file():
        msg = f"Audit config {str(p)!r} does not exist. Create one with `scrutiny init`."
        raise ConfigError(msg)
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        msg = f"Audit config {str(p)!r} is not valid YAML{where}: {getattr(exc, 'problem', exc)}."
        raise ConfigError(msg) from None
    return parse_config(raw, source=repr(str(p)))


def dump_config(config: AuditConfig) -> str:
    """The config as YAML text (keys in declaration order, defaults left out)."""
    import yaml

    data = config.model_dump(mode="json", exclude_defaults=True)
    data = {"schema_version": SCHEMA_VERSION, **data}
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)

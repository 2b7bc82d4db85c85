"""``run_mitigation``: the ``scrutiny mitigate`` command as a function.

It reads the audit config (its ``mitigate`` section, ``training`` rows and
``data`` held-out rows with ``data.model``), runs :func:`compare_mitigations`,
adds the guardrails and the decision log, and writes ``mitigation.json``,
``mitigation.html`` and the config atomically: a failed run never leaves a
folder that looks like a result.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scrutiny import __version__
from scrutiny.audit._config import (
    UNMITIGATED,
    AuditConfig,
    Mitigate,
    dump_config,
    load_config,
)
from scrutiny.exceptions import ColumnNotFoundError, ConfigError, ScrutinyError
from scrutiny.mitigation._compare import (
    CRITERION_TARGET,
    TARGET_LABELS,
    resolve_candidates,
    run_comparison,
)

RECORD_KIND = "scrutiny.mitigation"
FILES = ("mitigation.html", "mitigation.json", "audit.yaml")
NOT_A_VERDICT = (
    "This comparison shows what each option changes and how certain each change is. It does "
    "not pick an option and does not say that any option makes the model acceptable: several "
    "options usually sit on the trade-off frontier, and choosing among them weighs accuracy "
    "against who bears the errors. That choice, and its reasons, belong to the people "
    "accountable for the model, in the decision log."
)


@dataclass
class MitigationResult:
    """What :func:`run_mitigation` produced: the record and where it was written.

    Attributes
    ----------
    record : dict
        The content of ``mitigation.json``: the comparison
        (:meth:`MitigationComparison.to_dict`) plus the title, context, target and
        its source, the prior assessment, guardrails and the decision log.
    out_dir : Path or None
        The output folder, or None when nothing was written.
    files : list of Path
        The files written.
    """

    record: dict[str, Any]
    out_dir: Path | None
    files: list[Path] = field(default_factory=list)


def _guardrail(code: str, severity: str, message: str, where: str | None = None) -> dict[str, Any]:
    return {"code": code, "severity": severity, "message": message, "where": where}


def _target(config: AuditConfig, mit: Mitigate) -> tuple[str, str]:
    """The target gap, and a sentence saying where it comes from."""
    from scrutiny.audit._recommend import CRITERION_LABELS, recommend

    if mit.target is not None:
        return mit.target, "chosen by the team in mitigate.target"
    rec = recommend(config.context)
    for i, crit in enumerate(rec.criteria):
        if crit in CRITERION_TARGET:
            role = "primary recommended criterion" if i == 0 else (
                "first recommended criterion a mitigator can target (the primary one, "
                f"{CRITERION_LABELS.get(rec.criteria[0], rec.criteria[0])}, has none)")
            return CRITERION_TARGET[crit], (
                f"derived from the {role}: {CRITERION_LABELS.get(crit, crit)}")
    return "equalized_odds", (
        "equalized odds by default: no recommended criterion is one a mitigator can target "
        "(set mitigate.target to choose)")


def _prior(config: AuditConfig, mit: Mitigate, base: Path) -> tuple[dict[str, Any] | None,
                                                                     list[dict[str, Any]]]:
    """The prior assessment's summary, or the guardrail saying there is none."""
    field_name = "mitigate.prior_assessment"
    given = mit.prior_assessment
    if given is None and config.mitigation.prior_assessment:
        given, field_name = config.mitigation.prior_assessment, "mitigation.prior_assessment"
    if given is None:
        return None, [_guardrail(
            "mitigation_before_assessment", "warning",
            "No prior assessment is named. Mitigating before assessing risks fixing the wrong "
            "problem: run `scrutiny audit` first, read its report with the people affected, "
            "and name its audit.json in mitigate.prior_assessment.", "mitigate.prior_assessment",
        )]
    path = Path(given)
    if not path.is_absolute():
        path = base / path
    if not path.is_file():
        return None, [_guardrail(
            "mitigation_before_assessment", "warning",
            f"The prior assessment {given!r} named in {field_name} does not exist (paths are "
            "relative to the config). Mitigating before assessing risks fixing the wrong "
            "problem: run `scrutiny audit` first and name its audit.json.", field_name,
        )]
    try:
        rec = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        msg = (f"{field_name}: {given!r} could not be read as JSON ({exc}). Name the "
               "audit.json written by `scrutiny audit`.")
        raise ConfigError(msg) from None
    if not isinstance(rec, dict) or "assessment" not in rec or "ranking" not in rec:
        msg = (f"{field_name}: {given!r} is not a scrutiny audit record (it has no "
               "'assessment' and 'ranking'). Name the audit.json written by `scrutiny audit`.")
        raise ConfigError(msg)
    # the most certain gap of a measure of the model (the base rate describes the data)
    top = next((r for r in rec.get("ranking") or [] if r.get("metric") != "base_rate"), None)
    return {
        "path": given,
        "title": rec.get("title"),
        "generated_at": rec.get("generated_at"),
        "largest_gap": top,
        "gates": [{"metric": g.get("metric"), "status": g.get("status")}
                  for g in rec.get("gates") or []],
    }, []


def _read_training(config: AuditConfig, base: Path) -> tuple[Any, str]:
    t = config.training
    if t is None:
        msg = ("training: scrutiny mitigate trains every candidate on the training rows; add a "
               "training section (training.path, a CSV or Parquet file, or training.demo).")
        raise ConfigError(msg)
    if t.demo:
        from scrutiny.datasets import load_adult

        return load_adult(split="train", backend="pyarrow"), "bundled UCI Adult demo data (train)"
    from scrutiny._utils.io import read_table

    path = Path(t.path or "")
    try:
        return read_table(path if path.is_absolute() else base / path,
                          option="training.path"), f"file {t.path}"
    except ScrutinyError as exc:
        raise ConfigError(str(exc)) from None


def _require(table: Any, columns: dict[str, str], what: str) -> None:
    for where, col in columns.items():
        if col not in table.column_names:
            err = ColumnNotFoundError.from_missing(col, table.column_names)
            msg = f"{where}: {err.message} (in the {what})"
            raise ConfigError(msg)


def _decision_log(config: AuditConfig, mit: Mitigate, labels: list[str],
                  target_label: str) -> list[dict[str, Any]]:
    log = [{**c.model_dump(mode="json"), "source": f"conflicts[{i}]"}
           for i, c in enumerate(config.conflicts)]
    choice = mit.choice
    entry: dict[str, Any] = {
        "values": ["Accuracy", f"A smaller {target_label}"],
        "description": "Which mitigation, if any, to adopt. The candidates trade accuracy "
        f"against the {target_label} and against other gaps; the comparison shows the "
        "trade-offs and does not choose.",
        "options": [UNMITIGATED, *labels],
        "decision": None, "rationale": None, "decided_by": None, "decided_on": None,
        "source": "mitigate.choice",
    }
    if choice is not None:
        entry.update(decision=choice.candidate, rationale=choice.rationale,
                     decided_by=choice.decided_by,
                     decided_on=choice.decided_on.isoformat() if choice.decided_on else None)
    log.append(entry)
    return log


def _guardrails(record: dict[str, Any], config: AuditConfig) -> list[dict[str, Any]]:
    out = []
    cands = [c for c in record["candidates"] if c["role"] == "candidate"]
    grouped = [c["label"] for c in cands if c["uses_group_at_prediction"]]
    if grouped:
        legal = config.context.legal_constraints
        extra = (" The config records legal constraints: " + "; ".join(legal) + ".") if legal \
            else ""
        out.append(_guardrail(
            "group_at_prediction", "caution",
            f"{', '.join(grouped)} use the sensitive feature when predicting (each group gets "
            "its own threshold). Check with legal counsel and the people affected whether "
            f"treating groups differently at decision time is acceptable here.{extra}",
            "mitigate.candidates",
        ))
    randomized = [c["label"] for c in cands if c["randomized"]]
    if randomized:
        out.append(_guardrail(
            "randomized_predictions", "caution",
            f"{', '.join(randomized)} give randomized predictions: two people with identical "
            "records can receive different decisions. The decision may be hard to explain or "
            "contest.", "mitigate.candidates",
        ))
    base = record["candidates"][0]
    for w in base.get("warnings") or []:
        if w["code"] in ("small_group", "empty_intersection", "undefined_metric"):
            out.append(_guardrail(w["code"], "caution", w["message"]))
    for s in record["skipped"]:
        out.append(_guardrail("candidate_skipped", "info",
                              f"{s['name']} was left out of the default set: {s['reason']}",
                              "mitigate.candidates"))
    return out


def build_mitigation_record(
    config: AuditConfig,
    *,
    trust: bool = False,
    base_dir: Path | None = None,
    progress: Any = None,
) -> dict[str, Any]:
    """Run the comparison described by the config and return the record (``mitigation.json``).

    Parameters
    ----------
    config : AuditConfig
        The validated configuration (its ``mitigate`` section may be absent:
        every default applies).
    trust : bool, default=False
        Allow a pickled model, or skops types outside the safe list.
    base_dir : Path, default=None
        Folder that relative paths in the config are resolved against.
    progress : rich.progress.Progress, default=None
        Where to report progress.

    Returns
    -------
    dict
        The mitigation record.
    """
    from scrutiny.audit._recommend import recommend
    from scrutiny.audit._run import _load_data, _load_model

    base = base_dir or Path.cwd()
    mit = config.mitigate or Mitigate()
    if config.data.model is None:
        msg = ("data.model: scrutiny mitigate needs the saved unmitigated model (data.model.path"
               "): each candidate refits a clone of it. Predictions in columns (data.y_pred) "
               "cannot be mitigated.")
        raise ConfigError(msg)
    train, train_source = _read_training(config, base)
    model = _load_model(config, base, trust=trust)
    with contextlib.chdir(base) if config.data.sql else contextlib.nullcontext():
        held, held_source = _load_data(config, base)
    features = config.data.model.features or [
        str(c) for c in getattr(model, "feature_names_in_", [])]
    if not features:
        msg = ("data.model.features: the model does not record its input columns; list them "
               "in the config.")
        raise ConfigError(msg)
    label = (config.training.y_true if config.training else None) or config.data.y_true
    sens = list(mit.sensitive_features or [f.column for f in config.sensitive_features])
    feat_where = {f"data.model.features[{i}]": c for i, c in enumerate(features)}
    sens_where = {}
    for c in sens:
        i = [f.column for f in config.sensitive_features].index(c)
        sens_where[f"sensitive_features[{i}].column"] = c
    _require(train, {"training.y_true" if config.training and config.training.y_true
                     else "data.y_true": label, **feat_where, **sens_where}, "training data")
    held_cols = {"data.y_true": config.data.y_true, **feat_where, **sens_where}
    if config.data.sample_weight:
        held_cols["data.sample_weight"] = config.data.sample_weight
    _require(held, held_cols, "held-out data")
    target, target_source = _target(config, mit)
    rec = recommend(config.context)
    prior, guards = _prior(config, mit, base)
    cand_where = "mitigate.candidates"
    labels = mit.labels() if mit.candidates else None
    try:
        resolved, _ = resolve_candidates(mit.candidates, target, model, where=cand_where,
                                         labels=labels)
    except ScrutinyError as exc:
        raise ConfigError(str(exc)) from None
    all_labels = [c.label for c in resolved]
    if mit.choice is not None and mit.choice.candidate not in (*all_labels, UNMITIGATED):
        msg = (f"mitigate.choice.candidate: {mit.choice.candidate!r} is not a candidate. Name "
               f"one of {[UNMITIGATED, *all_labels]}.")
        raise ConfigError(msg)
    a = config.assessment
    if a.n_boot < 50:
        msg = (f"assessment.n_boot: scrutiny mitigate gives every change an interval from "
               f"bootstrap resamples; set n_boot to at least 50 (1000 is the default). Got "
               f"{a.n_boot}.")
        raise ConfigError(msg)
    sw = held.column(config.data.sample_weight).to_numpy() if config.data.sample_weight \
        else None
    try:
        cmp = run_comparison(
            model, train.select(features).to_pandas(), train.column(label).to_pandas(),
            held.select(features).to_pandas(), held.column(config.data.y_true).to_pandas(),
            sensitive_features=train.select(sens).to_pandas(),
            sensitive_features_test=held.select(sens).to_pandas(),
            candidates=[c.model_dump() for c in mit.candidates] if mit.candidates else None,
            target=target, metrics=rec.metrics(has_score=False),
            validation_fraction=mit.validation_fraction, random_controls=mit.random_controls,
            pos_label=config.data.pos_label, sample_weight_test=sw, ci=a.ci,
            n_boot=a.n_boot, random_state=a.seed, min_group_size=a.min_group_size,
            where=cand_where, labels=labels, bar=progress, estimator_where="data.model",
        )
    except ConfigError:
        raise
    except ScrutinyError as exc:
        text = " ".join(str(exc).split())
        label_field = "training.y_true" if config.training and config.training.y_true \
            else "data.y_true"
        text = (text.replace("y (the training labels)",
                             f"{label_field} ({label!r} in the training rows)")
                .replace("y_test (the held-out labels)",
                         f"data.y_true ({config.data.y_true!r} in the held-out rows)"))
        if not text.startswith(("mitigate.", "data.", "training")):
            text = f"mitigate: {text}"
        raise ConfigError(text) from None
    body = cmp.to_dict()
    record: dict[str, Any] = {
        "kind": RECORD_KIND,
        **body,
        "scrutiny_version": __version__,
        "generated_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "title": config.title,
        "context": config.context.model_dump(mode="json"),
        "stakeholders": [s.model_dump(mode="json") for s in config.stakeholders],
        "sensitive_features": sens,
        "target": {**body["target"], "source": target_source},
        "data": {
            **body["data"],
            "training_source": train_source,
            "held_out_source": held_source,
            "y_true": config.data.y_true,
            "model": config.data.model.path,
            "estimator": _describe(model),
            "features": features,
        },
        "prior_assessment": prior,
    }
    record["guardrails"] = guards + _guardrails(record, config)
    record["decision_log"] = _decision_log(config, mit, [c["label"] for c in body["candidates"]
                                                         if c["role"] == "candidate"],
                                           TARGET_LABELS[target])
    record["choice"] = mit.choice.model_dump(mode="json") if mit.choice else None
    record["not_a_verdict"] = NOT_A_VERDICT
    return record


def _describe(model: Any) -> str:
    if hasattr(model, "steps"):
        return "Pipeline(" + ", ".join(type(s).__name__ for _, s in model.steps) + ")"
    return type(model).__name__


def write_mitigation_outputs(record: dict[str, Any], config: AuditConfig,
                             out_dir: Path) -> list[Path]:
    """Write mitigation.html, mitigation.json and audit.yaml atomically into ``out_dir``."""
    from scrutiny.report._mitigation import render_mitigation_html

    texts = {
        "mitigation.json": json.dumps(record, indent=2, allow_nan=False, default=str) + "\n",
        "mitigation.html": render_mitigation_html(record),
        "audit.yaml": dump_config(config),
    }
    from scrutiny._utils.io import write_folder_atomically

    out_dir = write_folder_atomically(out_dir, texts)
    return [out_dir / n for n in FILES]


def run_mitigation(
    config: AuditConfig | str | Path,
    out_dir: str | Path | None = None,
    *,
    trust: bool = False,
    progress: bool = False,
    base_dir: str | Path | None = None,
) -> MitigationResult:
    """Train the candidates of an audit config, compare them on held-out rows, write the report.

    The candidates are trained on the config's ``training`` rows and evaluated
    on its ``data`` rows against the unmitigated model of ``data.model``
    (refitted on the same rows). Nothing is chosen: the team's choice, when the
    config's ``mitigate.choice`` gives one, is recorded in the decision log.

    Parameters
    ----------
    config : AuditConfig, str or Path
        The configuration, or the path of its YAML file (relative paths inside
        it are resolved against the file's folder).
    out_dir : str or Path, default=None
        Where to write ``mitigation.html``, ``mitigation.json`` and
        ``audit.yaml``; the folder is replaced only when every file is written.
        None keeps the record in memory.
    trust : bool, default=False
        Allow loading a pickled model, or a skops file with untrusted types.
    progress : bool, default=False
        Show a progress bar while the candidates train.
    base_dir : str or Path, default=None
        Folder that relative paths in the config are resolved against; default
        the config file's folder, or the working directory for an ``AuditConfig``.

    Returns
    -------
    MitigationResult
        The record and the files written.

    Raises
    ------
    ConfigError
        The config is invalid; a candidate is unknown or cannot apply to the
        model or the task (the message names ``mitigate.candidates[i]`` and the
        mitigators that apply); data, columns or the model cannot be used.

    See Also
    --------
    compare_mitigations : The comparison on data already in memory.
    """
    from scrutiny.audit._run import _progress

    base = Path.cwd()
    if not isinstance(config, AuditConfig):
        path = Path(config)
        config = load_config(path)
        base = path.resolve().parent
    if base_dir is not None:
        base = Path(base_dir)
    with _progress(progress) as bar:
        record = build_mitigation_record(config, trust=trust, base_dir=base, progress=bar)
    files: list[Path] = []
    if out_dir is not None:
        files = write_mitigation_outputs(record, config, Path(out_dir))
    return MitigationResult(record, None if out_dir is None else Path(out_dir), files)


"""``run_audit``: load the data, get predictions, assess, apply guardrails, write the record.

Output goes to a temporary folder beside the target, which is moved into
place only when every file is written: a failed run never leaves something
that looks like a result.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from scrutiny import __version__
from scrutiny.audit._config import AuditConfig, dump_config, load_config
from scrutiny.audit._recommend import (
    CRITERION_LABELS,
    CRITERION_METRICS,
    SCORE_ONLY,
    recommend,
)
from scrutiny.exceptions import (
    ColumnNotFoundError,
    ConfigError,
    ScrutinyError,
    ScrutinyWarning,
)

RECORD_SCHEMA_VERSION = "1.0"
PLACEHOLDER_JUSTIFICATIONS = frozenset({"todo", "tbd", "n/a", "na", "none", "-", "?", "xxx"})
MIN_JUSTIFICATION = 15


@dataclass
class AuditResult:
    """What :func:`run_audit` produced: the record and where it was written."""

    record: dict[str, Any]
    out_dir: Path | None
    files: list[Path] = field(default_factory=list)

    @property
    def gates_failed(self) -> list[dict[str, Any]]:
        """Gates with severity ``fail`` whose threshold was crossed."""
        return [g for g in self.record["gates"] if g["status"] == "fail"]


# ---------------------------------------------------------------------------
# data and predictions


def _load_data(config: AuditConfig, base: Path) -> tuple[Any, str]:
    """The data as a pyarrow Table (or a DuckDB relation for SQL), and a description."""
    src = config.data
    if src.demo:
        from scrutiny.datasets import load_adult

        return load_adult(split="test", backend="pyarrow"), "bundled UCI Adult demo data (test)"
    if src.path:
        from scrutiny._utils.io import read_table

        path = Path(src.path)
        if not path.is_absolute():
            path = base / path
        if not path.exists():
            msg = (
                f"data.path: the file {str(path)!r} does not exist (paths are relative to the "
                "config file). Fix the path in the config."
            )
            raise ConfigError(msg)
        return read_table(path, option="data.path"), f"file {src.path}"
    from scrutiny._utils.deps import import_optional

    duckdb = import_optional("duckdb", purpose="data.sql")
    try:  # the caller keeps the config's folder as working directory (relative file paths)
        rel = duckdb.sql(src.sql)
        table = rel.arrow() if src.model else rel
        if hasattr(table, "read_all"):
            table = table.read_all()
    except duckdb.Error as exc:
        msg = f"data.sql: DuckDB could not run the query: {' '.join(str(exc).split())}"
        raise ConfigError(msg) from None
    return table, "DuckDB query"


def _columns(data: Any) -> list[str]:
    import narwhals as nw

    return list(nw.from_native(data).collect_schema().names())


def _check_columns(config: AuditConfig, columns: list[str]) -> None:
    src = config.data
    wanted = {
        "data.y_true": src.y_true,
        "data.y_pred": src.y_pred,
        "data.y_score": src.y_score,
        "data.sample_weight": src.sample_weight,
    }
    for i, f in enumerate(config.sensitive_features):
        wanted[f"sensitive_features[{i}].column"] = f.column
    if src.model and src.model.features:
        wanted.update({f"data.model.features[{i}]": c for i, c in enumerate(src.model.features)})
    for where, col in wanted.items():
        if col is not None and col not in columns:
            err = ColumnNotFoundError.from_missing(col, columns)
            msg = f"{where}: {err.message}"
            raise ConfigError(msg)


def _load_model(config: AuditConfig, base: Path, *, trust: bool) -> Any:
    m = config.data.model
    assert m is not None
    path = Path(m.path)
    if not path.is_absolute():
        path = base / path
    from scrutiny._utils.models import load_model

    return load_model(path, fmt=m.format, trust=trust, where="data.model.path",
                      format_field="data.model.format")


def _predict(config: AuditConfig, model: Any, table: Any) -> tuple[Any, str, str | None]:
    """Add prediction (and score) columns from a model; return the table and column names."""
    import pyarrow as pa

    m = config.data.model
    assert m is not None
    features = m.features or [str(c) for c in getattr(model, "feature_names_in_", [])]
    if not features:
        msg = (
            "data.model.features: the model does not record its input columns; list them in "
            "the config."
        )
        raise ConfigError(msg)
    _check_columns(
        config.model_copy(update={"data": config.data.model_copy(
            update={"model": m.model_copy(update={"features": features})})}),
        table.column_names,
    )
    frame = table.select(features).to_pandas()
    score_col = None
    try:
        if hasattr(model, "predict_proba"):
            proba = model.predict_proba(frame)
            classes = list(getattr(model, "classes_", range(proba.shape[1])))
            if proba.shape[1] != 2:
                msg = "data.model: only binary classifiers are supported by the audit for now."
                raise ConfigError(msg)
            pos = config.data.pos_label if config.data.pos_label is not None else classes[1]
            pos_idx = [str(c) for c in classes].index(str(pos))
            score = proba[:, pos_idx]
            pred = np.where(score >= m.threshold, classes[pos_idx], classes[1 - pos_idx])
            score_col = "__scrutiny_score"
            table = table.append_column(score_col, pa.array(score))
        else:
            pred = model.predict(frame)
    except ScrutinyError:
        raise
    except Exception as exc:
        msg = f"data.model: the model failed to predict on columns {features} ({exc})."
        raise ConfigError(msg) from None
    table = table.append_column("__scrutiny_pred", pa.array(np.asarray(pred)))
    return table, "__scrutiny_pred", score_col


# ---------------------------------------------------------------------------
# guardrails, ranking, gates


def _guardrail(code: str, severity: str, message: str, where: str | None = None) -> dict[str, Any]:
    return {"code": code, "severity": severity, "message": message, "where": where}


def _guardrails(config: AuditConfig, result: Any, metrics: list[str]) -> list[dict[str, Any]]:
    out = []
    real = [m for m in metrics if m != "count"]
    if len(real) <= 1:
        out.append(_guardrail(
            "single_metric", "warning",
            f"Only one metric ({', '.join(real) or 'none'}) is assessed. A single number hides "
            "trade-offs between errors and groups; keep the recommended set, or record why "
            "one metric is enough.", "assessment.metrics",
        ))
    for i, f in enumerate(config.sensitive_features):
        j = f.justification.strip()
        if j.lower() in PLACEHOLDER_JUSTIFICATIONS or len(j) < MIN_JUSTIFICATION:
            out.append(_guardrail(
                "weak_justification", "warning",
                f"The justification for examining {f.column!r} ({j!r}) is a placeholder or very "
                "short. Say why this feature matters here: legal protection, known harm, or a "
                "stakeholder's request.", f"sensitive_features[{i}].justification",
            ))
    for w in result.warnings:
        if w.code in ("small_group", "empty_intersection", "undefined_metric",
                      "missing_sensitive_value"):
            out.append(_guardrail(w.code, "caution", w.message))
    mit = config.mitigation
    if mit.applied and not mit.prior_assessment:
        out.append(_guardrail(
            "mitigation_before_assessment", "warning",
            "The config says a mitigation was applied but names no prior assessment. Mitigating "
            "before assessing risks fixing the wrong problem; record the audit that motivated "
            "it in mitigation.prior_assessment.", "mitigation",
        ))
    elif mit.applied and mit.prior_assessment and not Path(mit.prior_assessment).exists():
        out.append(_guardrail(
            "mitigation_before_assessment", "warning",
            f"The prior assessment {mit.prior_assessment!r} named for the mitigation does not "
            "exist.", "mitigation.prior_assessment",
        ))
    if not config.stakeholders:
        out.append(_guardrail(
            "no_stakeholders", "caution",
            "No stakeholders are listed. Record who is affected and who reviews the audit.",
            "stakeholders",
        ))
    return out


def _ranking(result: Any) -> list[dict[str, Any]]:
    """Disparities of every level, largest lower interval bound first."""
    rows = []
    for level_name, level in result.levels.items():
        for metric, d in level.disparities.items():
            if metric == "count" or not np.isfinite(d.difference):
                continue
            lo = d.ci_difference[0] if d.ci_difference else None
            rows.append({
                "metric": metric,
                "level": level_name,
                "features": level.level.feature_names,
                "difference": float(d.difference),
                "ci_difference": list(d.ci_difference) if d.ci_difference else None,
                "ratio": float(d.ratio) if np.isfinite(d.ratio) else None,
                "max_group": [_py(k) for k in d.max_group] if d.max_group else None,
                "min_group": [_py(k) for k in d.min_group] if d.min_group else None,
                "_key": lo if lo is not None else d.difference,
            })
    rows.sort(key=lambda r: -r["_key"])
    for r in rows:
        del r["_key"]
    return rows


def _py(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def _gate_metrics(config: AuditConfig) -> list[str]:
    """The metrics the configured gates need."""
    from scrutiny.fairness import CRITERIA
    from scrutiny.fairness._metrics import ALIASES

    out: list[str] = []
    for i, g in enumerate(config.gates):
        if g.metric not in CRITERIA and g.metric not in CRITERION_METRICS and (
            g.metric not in ALIASES
        ):
            import difflib

            known = sorted({*CRITERIA, *CRITERION_METRICS, *ALIASES.values()})
            close = difflib.get_close_matches(g.metric, known, n=3)
            hint = f" Did you mean {' or '.join(map(repr, close))}?" if close else ""
            msg = (
                f"gates[{i}].metric: {g.metric!r} is not a metric or criterion.{hint} "
                f"Known names: {known}."
            )
            raise ConfigError(msg)
        if g.metric in CRITERIA:
            out += CRITERIA[g.metric]
        elif g.metric in CRITERION_METRICS:
            out += CRITERION_METRICS[g.metric]
        else:
            out.append(ALIASES[g.metric])
    return list(dict.fromkeys(out))


def _gates(config: AuditConfig, result: Any) -> list[dict[str, Any]]:
    from scrutiny.fairness._metrics import ALIASES

    out = []
    for i, g in enumerate(config.gates):
        where = f"gates[{i}].metric"
        if g.metric in result.criteria:
            c = result.criteria[g.metric]
            diff, ratio, ci = c["difference"], c["ratio"], c.get("ci_difference")
        elif g.metric in CRITERION_METRICS and all(
            m in result.disparities for m in CRITERION_METRICS[g.metric]
        ):
            ds = [result.disparities[m] for m in CRITERION_METRICS[g.metric]]
            worst = max(ds, key=lambda d: d.difference)
            diff, ci = worst.difference, worst.ci_difference
            ratio = min(d.ratio for d in ds)
        elif ALIASES.get(g.metric, g.metric) in result.disparities:
            d = result.disparities[ALIASES.get(g.metric, g.metric)]
            diff, ratio, ci = d.difference, d.ratio, d.ci_difference
        else:
            known = sorted(set(result.criteria) | set(result.disparities))
            msg = f"{where}: {g.metric!r} was not assessed. Gate one of: {known}."
            raise ConfigError(msg)
        crossed = []
        if g.max_difference is not None and np.isfinite(diff) and diff > g.max_difference:
            crossed.append(f"difference {diff:.3f} > {g.max_difference}")
        if g.min_ratio is not None and np.isfinite(ratio) and ratio < g.min_ratio:
            crossed.append(f"ratio {ratio:.3f} < {g.min_ratio}")
        status = "pass" if not crossed else ("fail" if g.severity == "fail" else "warn")
        out.append({
            "metric": g.metric,
            "max_difference": g.max_difference,
            "min_ratio": g.min_ratio,
            "severity": g.severity,
            "rationale": g.rationale,
            "difference": float(diff) if np.isfinite(diff) else None,
            "ratio": float(ratio) if np.isfinite(ratio) else None,
            "ci_difference": list(ci) if ci else None,
            "status": status,
            "detail": "; ".join(crossed) or "within the agreed threshold",
        })
    return out


#: the primary criterion decides which gap the training examples are attributed to
_TARGET_OF = {
    "recall_parity": "equal_opportunity", "fnr_parity": "equal_opportunity",
    "equalized_odds": "equal_opportunity", "demographic_parity": "demographic_parity",
    "equal_selection_parity": "demographic_parity",
}


def _training_attribution(
    config: AuditConfig, base: Path, model: Any, eval_table: Any, rec: Any
) -> dict[str, Any]:
    """Name the training rows that drive the primary gap (verified by retraining)."""
    from scrutiny.attribution import attribute_disparity

    t = config.training
    if t is None or config.data.model is None:  # pragma: no cover - validated by the config
        msg = "training needs a model in data.model"
        raise ConfigError(msg)
    if t.demo:
        from scrutiny.datasets import load_adult

        train = load_adult(split="train", backend="pyarrow")
    else:
        from scrutiny._utils.io import read_table

        path = Path(t.path or "")
        train = read_table(path if path.is_absolute() else base / path, option="training.path")
    label = t.y_true or config.data.y_true
    features = config.data.model.features or [
        str(c) for c in getattr(model, "feature_names_in_", [])
    ]
    sens = [f.column for f in config.sensitive_features]
    for i, col in enumerate([label, *features, *t.shareable]):
        if col not in train.column_names:
            err = ColumnNotFoundError.from_missing(col, train.column_names)
            where = "training.y_true" if i == 0 else "training (model input or shareable)"
            msg = f"{where}: {err.message}"
            raise ConfigError(msg)
    primary = rec.criteria[0] if rec.criteria else ""
    target = _TARGET_OF.get(primary, "group_loss")
    train_sens = None
    if all(c in train.column_names for c in sens):
        train_sens = train.select(sens).to_pandas()
    try:
        res = attribute_disparity(
            model, train.select(features).to_pandas(), train.column(label).to_numpy(),
            eval_table.select(features).to_pandas(),
            eval_table.column(config.data.y_true).to_numpy(),
            sensitive_features=eval_table.select(sens).to_pandas(), target=target,
            top_k=t.top_k, verify=t.verify, random_state=config.assessment.seed,
            train_sensitive_features=train_sens, pos_label=config.data.pos_label,
        )
    except ScrutinyError as exc:
        msg = f"training: attributing the {target.replace('_', ' ')} gap failed: {exc}"
        raise ConfigError(msg) from None
    shown = train.select(t.shareable).to_pylist() if t.shareable else None
    drivers = []
    for d in res.extras.get("drivers") or []:
        row = {k: v for k, v in d.items() if k in ("train_index", "score", "group")}
        if shown is not None:
            row["shareable"] = shown[d["train_index"]]
        drivers.append(row)
    actions = res.extras.get("actions") or {}
    return {
        "target": target,
        "method": res.method,
        "n_train": train.num_rows,
        "gap": res.extras.get("gap"),
        "drivers": drivers,
        "actions": actions,
        "random_baseline": res.extras.get("random_baseline"),
        "findings": res.findings,
        "notes": res.notes,
        "shareable": list(t.shareable),
    }


# ---------------------------------------------------------------------------
# the run


@contextlib.contextmanager
def _progress(enabled: bool) -> Iterator[Any]:
    if not enabled:
        yield None
        return
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                  TimeElapsedColumn(), transient=False) as progress:
        yield progress


def build_record(
    config: AuditConfig,
    *,
    trust: bool = False,
    base_dir: Path | None = None,
    progress: Any = None,
    data: Any = None,
) -> dict[str, Any]:
    """Run the audit in memory and return the record (the content of ``audit.json``).

    Parameters
    ----------
    config : AuditConfig
        The validated configuration.
    trust : bool, default=False
        Allow a pickled model, or skops types outside the safe list.
    base_dir : Path, default=None
        Folder that relative paths in the config are resolved against.
    progress : rich.progress.Progress, default=None
        Where to report progress.
    data : DataFrame, default=None
        Data already in memory (pandas, polars, pyarrow, DuckDB, Dask, Spark...),
        used instead of ``config.data.path`` / ``sql`` / ``demo``.

    Returns
    -------
    dict
        The audit record.
    """
    base = base_dir or Path.cwd()
    if not config.data.sql or data is not None:
        return _build_record(config, trust=trust, base=base, progress=progress, frame=data)
    duckdb = __import__("duckdb")
    # SQL may name files relative to the config: run the lazy query from its folder
    with contextlib.chdir(base):
        try:
            return _build_record(config, trust=trust, base=base, progress=progress, frame=None)
        except duckdb.Error as exc:
            msg = f"data.sql: DuckDB could not run the query: {' '.join(str(exc).split())}"
            raise ConfigError(msg) from None


def _build_record(
    config: AuditConfig,
    *,
    trust: bool,
    base: Path,
    progress: Any,
    frame: Any,
) -> dict[str, Any]:
    from scrutiny.fairness import assess

    steps = ["Loading data", "Scoring", "Assessing groups", "Checking guardrails and gates"]
    task = progress.add_task(steps[0], total=len(steps)) if progress is not None else None

    def step(i: int) -> None:
        if progress is not None:
            progress.update(task, advance=1, description=steps[min(i, len(steps) - 1)])

    if frame is not None:
        data, source = frame, f"in-memory {type(frame).__module__.split('.')[0]} data"
    else:
        data, source = _load_data(config, base)
    columns = _columns(data)
    if not config.data.model:
        _check_columns(config, columns)
    step(1)
    y_pred, y_score = config.data.y_pred, config.data.y_score
    prediction_source = "columns"
    if config.data.model:
        model = _load_model(config, base, trust=trust)
        data, y_pred, y_score = _predict(config, model, data)
        prediction_source = f"model {config.data.model.path} ({config.data.model.format})"
        _check_columns(config, data.column_names)
    step(2)
    rec = recommend(config.context)
    metrics = list(config.assessment.metrics) if config.assessment.metrics else rec.metrics(
        has_score=y_score is not None
    )
    for m in _gate_metrics(config):  # gated metrics are always measured
        if m not in metrics and (y_score is not None or m not in SCORE_ONLY):
            metrics.append(m)
    refs = {f.column: f.reference for f in config.sensitive_features if f.reference is not None}
    a = config.assessment
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ScrutinyWarning)
        try:
            result = assess(
                config.data.y_true, y_pred, y_score=y_score,
                sample_weight=config.data.sample_weight,
                sensitive_features=[f.column for f in config.sensitive_features], data=data,
                metrics=metrics, pos_label=config.data.pos_label, reference=refs or None,
                ci=a.ci, n_boot=a.n_boot, random_state=a.seed,
                min_group_size=a.min_group_size, missing=a.missing, correction=a.correction,
                policy=a.policy,
            )
        except ScrutinyError as exc:
            msg = f"Assessing the data failed: {exc}"
            raise type(exc)(msg) from None
    step(3)
    guardrails = _guardrails(config, result, result.metrics)
    gates = _gates(config, result)
    step(4)
    training = None
    if config.training is not None:
        training = _training_attribution(config, base, model, data, rec)
    assessment = result.to_dict(include_tests=True)
    return {
        "schema_version": RECORD_SCHEMA_VERSION,
        "scrutiny_version": __version__,
        "generated_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "title": config.title,
        "context": config.context.model_dump(mode="json"),
        "stakeholders": [s.model_dump(mode="json") for s in config.stakeholders],
        "sensitive_features": [f.model_dump(mode="json") for f in config.sensitive_features],
        "data": {
            "source": source,
            "n_rows": result.n_rows,
            "y_true": config.data.y_true,
            "y_pred": config.data.y_pred,
            "y_score": config.data.y_score,
            "prediction_source": prediction_source,
            "pos_label": _py(result.pos_label),
        },
        "assessment_options": a.model_dump(mode="json"),
        "recommendation": rec.to_dict(),
        "criterion_metrics": {k: list(v) for k, v in CRITERION_METRICS.items()},
        "criterion_labels": dict(CRITERION_LABELS),
        "assessment": assessment,
        "ranking": _ranking(result),
        "guardrails": guardrails,
        "gates": gates,
        "deliberation": {
            "values": [v.model_dump(mode="json") for v in config.values],
            "conflicts": [c.model_dump(mode="json") for c in config.conflicts]
            + _mitigation_decision(config),
            "evidence": [e.model_dump(mode="json") for e in config.evidence],
            "checklist": [c.model_dump(mode="json") for c in config.checklist],
            "signoffs": [s.model_dump(mode="json") for s in config.signoffs],
        },
        "mitigation": config.mitigation.model_dump(mode="json"),
        **({"training_attribution": training} if training is not None else {}),
    }


def _mitigation_decision(config: AuditConfig) -> list[dict[str, Any]]:
    """The team's mitigation choice (``mitigate.choice``) as an entry of the decision log."""
    mit = config.mitigate
    if mit is None or mit.choice is None:
        return []
    choice = mit.choice
    options = [c.label or c.name for c in mit.candidates or []]
    return [{
        "values": ["Accuracy", "Smaller disparities"],
        "description": "Which mitigation, if any, to adopt (compared by `scrutiny mitigate`).",
        "options": ["unmitigated", *options] if options else [],
        "decision": choice.candidate,
        "rationale": choice.rationale,
        "decided_by": choice.decided_by,
        "decided_on": choice.decided_on.isoformat() if choice.decided_on else None,
    }]


def write_outputs(
    record: dict[str, Any],
    config: AuditConfig,
    out_dir: Path,
    *,
    extra_files: dict[str, Path] | None = None,
) -> list[Path]:
    """Write report.html, audit.json, audit.md (and the config) atomically into ``out_dir``.

    ``extra_files`` maps names inside ``out_dir`` to files copied in with the rest.
    """
    import json

    from scrutiny._utils.io import write_folder_atomically
    from scrutiny.report import render_html, render_markdown

    texts = {
        "audit.json": json.dumps(record, indent=2, allow_nan=False, default=str) + "\n",
        "audit.md": render_markdown(record),
        "report.html": render_html(record),
        "audit.yaml": dump_config(config),
    }
    out_dir = write_folder_atomically(out_dir, texts, extra_files)
    names = ["report.html", "audit.json", "audit.md", "audit.yaml", *(extra_files or {})]
    return [out_dir / n for n in names]


def run_audit(
    config: AuditConfig | str | Path,
    out_dir: str | Path | None = None,
    *,
    trust: bool = False,
    progress: bool = False,
    data: Any = None,
) -> AuditResult:
    """Run a guided audit and write its report.

    Parameters
    ----------
    config : AuditConfig, str or Path
        The configuration, or the path of its YAML file (relative paths inside it
        are resolved against the file's folder).
    out_dir : str or Path, default=None
        Where to write ``report.html``, ``audit.json``, ``audit.md`` and
        ``audit.yaml``. None keeps the record in memory only.
    trust : bool, default=False
        Allow loading a pickled model, or a skops file with untrusted types.
    progress : bool, default=False
        Show progress bars on the terminal.
    data : DataFrame, default=None
        Data already in memory, in any backend the fairness engine reads; it
        replaces the config's ``data.path`` / ``sql`` / ``demo``.

    Returns
    -------
    AuditResult
        The record and the files written.

    Raises
    ------
    ConfigError
        The config is invalid, or names data, columns or a model that cannot be used.
    """
    base = Path.cwd()
    if not isinstance(config, AuditConfig):
        path = Path(config)
        config = load_config(path)
        base = path.resolve().parent
    with _progress(progress) as bar:
        record = build_record(config, trust=trust, base_dir=base, progress=bar, data=data)
    files: list[Path] = []
    if out_dir is not None:
        files = write_outputs(record, config, Path(out_dir))
    return AuditResult(record, None if out_dir is None else Path(out_dir), files)

"""``model_card_from_audit``: a model card filled in from an audit record and attribution findings.

What goes where:

- per-group values, overall values and gaps of every measured metric become
  ``model-index`` metrics (one per group and per gap, with the group, its size
  and the interval in ``args``) and the tables of "Evaluation / Results";
- the sensitive features, their justifications and groups become
  "Evaluation / Factors"; the recommended measures and why, "Metrics";
- guardrail warnings, crossed gates, caveats, small groups, value conflicts,
  open checklist items, qualitative evidence and data-quality findings become
  "Bias, Risks, and Limitations"; decisions and what to do about the rest,
  "Recommendations";
- the use context becomes "Uses"; RAIL licences of the card or of upstream
  artefacts add their use restrictions to "Out-of-Scope Use".

Sections the audit cannot speak to (training procedure, environmental
impact, contact...) stay as ``[More Information Needed]``.
"""

from __future__ import annotations

import json
import math
import os
import re
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from scrutiny.cards._licenses import (
    RailLicenseWarning,
    get_license,
    out_of_scope_from_licenses,
)
from scrutiny.cards._metadata import ModelCardMetadata
from scrutiny.cards._schema import ModelCard
from scrutiny.exceptions import ConfigError, InvalidParameterError

__all__ = ["load_attribution", "load_audit", "model_card_from_audit"]

_TASKS = {"binary": "tabular-classification", "multiclass": "tabular-classification",
          "regression": "tabular-regression"}
_FINDING_KINDS = {"label_issue": "Suspected label issues",
                  "disparity_driver": "Training examples driving a disparity",
                  "undersampled_slice": "Undersampled slices",
                  "other": "Other findings"}
_FINDING_ADVICE = {
    "label_issue": "Review the suspected label issues and relabel or remove confirmed errors "
    "before retraining.",
    "disparity_driver": "Inspect the training examples that drive the disparity; check "
    "whether they reflect measurement or sampling problems.",
    "undersampled_slice": "Collect more data for the undersampled slices, or report their "
    "results with wide intervals and caution.",
}
_REQUIRED = ("title", "assessment")


# ---------------------------------------------------------------------------
# inputs


def _read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        msg = f"{what}: {str(path)!r} cannot be read ({exc.strerror or exc})."
        raise InvalidParameterError(msg) from None
    except json.JSONDecodeError as exc:
        msg = f"{what}: {str(path)!r} is not valid JSON (line {exc.lineno}: {exc.msg})."
        raise ConfigError(msg) from None


def load_audit(audit: Mapping[str, Any] | str | os.PathLike[str]) -> dict[str, Any]:
    """The audit record from a dict, an ``audit.json`` file or an audit output folder."""
    if isinstance(audit, Mapping):
        record = dict(audit)
    elif isinstance(audit, str | os.PathLike):
        path = Path(audit)
        if path.is_dir():
            path = path / "audit.json"
            if not path.exists():
                msg = (
                    f"audit: {str(path.parent)!r} has no audit.json. Pass the folder written "
                    "by `scrutiny audit CONFIG --out DIR`, or the audit.json file itself."
                )
                raise InvalidParameterError(msg)
        elif not path.exists():
            msg = f"audit: {str(path)!r} does not exist. Pass an audit folder or audit.json."
            raise InvalidParameterError(msg)
        record = _read_json(path, "audit")
    else:
        raise InvalidParameterError.from_value(
            "audit", "model_card_from_audit", "an audit record (dict), audit.json or its folder",
            type(audit).__name__)
    if not isinstance(record, dict):
        msg = f"audit: the record must be a JSON object, got {type(record).__name__}."
        raise ConfigError(msg)
    for key in _REQUIRED:
        if key not in record:
            msg = (
                f"audit.{key}: missing from the audit record. Pass the audit.json written by "
                "`scrutiny audit` (or the dict returned by scrutiny.audit.build_record)."
            )
            raise ConfigError(msg)
    if not isinstance(record["assessment"], dict):
        msg = "audit.assessment: must be an object (the assessment of the audit record)."
        raise ConfigError(msg)
    return record


def load_attribution(
    attribution: Mapping[str, Any] | str | os.PathLike[str],
) -> tuple[str | None, list[dict[str, Any]]]:
    """The attribution method and its data-quality findings (kind, message, count).

    Only ``method`` and ``findings`` are read; anything else in the file is
    ignored, and findings of unknown kinds are kept as ``other``.
    """
    if isinstance(attribution, Mapping):
        data: Any = dict(attribution)
    elif isinstance(attribution, str | os.PathLike):
        path = Path(attribution)
        if not path.is_file():
            msg = (
                f"attribution: {str(path)!r} is not a file. Pass the JSON written by "
                "`scrutiny attribute --out results.json`."
            )
            raise InvalidParameterError(msg)
        data = _read_json(path, "attribution")
    else:
        raise InvalidParameterError.from_value(
            "attribution", "model_card_from_audit", "attribution results (dict) or their JSON "
            "file", type(attribution).__name__)
    if not isinstance(data, dict):
        msg = f"attribution: the results must be a JSON object, got {type(data).__name__}."
        raise ConfigError(msg)
    findings = data.get("findings", [])
    if not isinstance(findings, list):
        msg = (
            f"attribution.findings: must be a list of findings, got {type(findings).__name__}."
        )
        raise ConfigError(msg)
    out = []
    for i, f in enumerate(findings):
        if not isinstance(f, dict) or not isinstance(f.get("message"), str) or not f[
                "message"].strip():
            msg = (
                f"attribution.findings[{i}].message: each finding needs a message (text). "
                f"Got {f!r}."
            )
            raise ConfigError(msg)
        kind = f.get("kind") if f.get("kind") in _FINDING_KINDS else "other"
        n = f.get("count")
        count = n if isinstance(n, int) and not isinstance(n, bool) else None
        out.append({"kind": kind, "message": " ".join(f["message"].split()), "count": count})
    method = data.get("method")
    return (str(method) if method is not None else None), out


# ---------------------------------------------------------------------------
# formatting helpers


def _finite(x: Any) -> float | None:
    if x is None or isinstance(x, bool):
        return None
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _round(x: Any, decimals: int) -> float | None:
    v = _finite(x)
    return None if v is None else round(v, decimals)


def _slug(text: str, limit: int = 64) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    if len(slug) > limit:
        slug = slug[:limit].rsplit("-", 1)[0]
    return slug or "model"


def _group(features: Mapping[str, Any]) -> str:
    return ", ".join(f"{k} = {v}" for k, v in features.items())


def _levels(a: dict[str, Any]) -> list[tuple[str, list[str], dict[str, Any]]]:
    """(label, features, level dict with groups and disparities) for each group level."""
    features = [str(f) for f in a.get("sensitive_features") or []]
    out = []
    by_feature = a.get("by_feature") or {}
    for f in features:
        if f in by_feature:
            out.append((f, [f], by_feature[f]))
    if len(features) > 1 or not out:
        out.append((" × ".join(features) or "all", features,
                    {"groups": a.get("groups") or [], "disparities": a.get("disparities") or {}}))
    return out


def _metric_order(record: dict[str, Any]) -> list[str]:
    a = record["assessment"]
    measured = [m for m in a.get("metrics") or [] if m != "count"]
    first = []
    for item in (record.get("recommendation") or {}).get("recommended") or []:
        first += [m for m in item.get("metrics") or [] if m in measured and m not in first]
    return first + [m for m in measured if m not in first]


def _roles(record: dict[str, Any]) -> dict[str, str]:
    roles: dict[str, str] = {}
    for item in (record.get("recommendation") or {}).get("recommended") or []:
        for m in item.get("metrics") or []:
            roles.setdefault(m, item.get("role") or "supporting")
    return roles


def _labels() -> Any:
    from scrutiny.report import _sentences

    return _sentences


def _bullets(items: list[str]) -> str:
    return "\n".join(f"- {i}" for i in items)


# ---------------------------------------------------------------------------
# model-index


def _model_index(record: dict[str, Any], *, model_id: str, task_type: str, dataset: dict[
        str, Any], decimals: int) -> list[dict[str, Any]]:
    s = _labels()
    a = record["assessment"]
    metrics: list[dict[str, Any]] = []
    order = _metric_order(record)
    overall = a.get("overall") or {}
    for m in order:
        o = overall.get(m) or {}
        v = _round(o.get("value"), decimals)
        if v is None:
            continue
        args: dict[str, Any] = {"group": "overall", "n": a.get("n_rows")}
        ci = o.get("ci")
        if ci and all(_finite(c) is not None for c in ci):
            args["ci"] = [_round(c, decimals) for c in ci]
        metrics.append({"type": m, "value": v, "name": f"{s.humanize(s.metric_label(m))} "
                        "(overall)", "args": {k: x for k, x in args.items() if x is not None}})
    for label, feats, level in _levels(a):
        for m in order:
            for g in level.get("groups") or []:
                gm = (g.get("metrics") or {}).get(m) or {}
                v = _round(gm.get("value"), decimals)
                if v is None:
                    continue
                args = {"group": dict(g.get("features") or {}), "n": g.get("count")}
                ci = gm.get("ci")
                if ci and all(_finite(c) is not None for c in ci):
                    args["ci"] = [_round(c, decimals) for c in ci]
                metrics.append({
                    "type": m, "value": v,
                    "name": f"{s.humanize(s.metric_label(m))} ({_group(g['features'])})",
                    "args": {k: x for k, x in args.items() if x is not None},
                })
            d = (level.get("disparities") or {}).get(m)
            diff = _round((d or {}).get("difference"), decimals)
            if d is None or diff is None:
                continue
            args = {"features": feats, "ratio": _round(d.get("ratio"), decimals),
                    "max_group": d.get("max_group"), "min_group": d.get("min_group")}
            ci = d.get("ci_difference")
            if ci and all(_finite(c) is not None for c in ci):
                args["ci"] = [_round(c, decimals) for c in ci]
            metrics.append({
                "type": f"{m}_difference", "value": diff,
                "name": f"{s.humanize(s.metric_label(m))} gap across {label} (highest minus "
                "lowest group)",
                "args": {k: x for k, x in args.items() if x is not None},
            })
    if not metrics:
        return []
    return _plain([{"name": model_id, "results": [{
        "task": {"type": task_type, "name": "Disaggregated fairness evaluation"},
        "dataset": {k: v for k, v in dataset.items() if v is not None},
        "metrics": metrics,
    }]}])


def _plain(obj: Any) -> Any:
    """Plain JSON types only (a record built in memory may hold NumPy scalars)."""
    def default(x: Any) -> Any:
        if hasattr(x, "item"):
            return x.item()
        if hasattr(x, "tolist"):
            return x.tolist()
        return str(x)

    return json.loads(json.dumps(obj, default=default))


# ---------------------------------------------------------------------------
# sections


def _testing_data(record: dict[str, Any]) -> str:
    s = _labels()
    d = record.get("data") or {}
    a = record["assessment"]
    n = d.get("n_rows", a.get("n_rows"))
    lines = [f"The audit evaluated the model's decisions on {d.get('source') or 'its data'} "
             f"({s.count(n)} rows)."]
    facts = []
    if d.get("y_true"):
        facts.append(f"true outcomes from column `{d['y_true']}`")
    if d.get("y_pred"):
        facts.append(f"decisions from column `{d['y_pred']}`")
    elif d.get("prediction_source"):
        facts.append(f"decisions from the {d['prediction_source']}")
    if d.get("y_score"):
        facts.append(f"scores from column `{d['y_score']}`")
    if facts:
        lines.append("It used " + ", ".join(facts) + ".")
    if d.get("pos_label") is not None:
        lines.append(f"The positive class is `{d['pos_label']}`.")
    return " ".join(lines)


def _factors(record: dict[str, Any]) -> str:
    s = _labels()
    a = record["assessment"]
    small = s.min_group_size(record)
    why = {f.get("column"): f for f in record.get("sensitive_features") or []}
    feats = [str(f) for f in a.get("sensitive_features") or []]
    out = [f"The evaluation is disaggregated by {len(feats)} sensitive "
           f"feature{'s' if len(feats) != 1 else ''}"
           + (", each alone and combined:" if len(feats) > 1 else ":")]
    items = []
    for label, level_feats, level in _levels(a):
        groups = level.get("groups") or []
        names = [f"{_group(g['features']) if len(level_feats) > 1 else s.group_name(g['features'])}"
                 f" (n = {s.count(g.get('count'))})" for g in groups]
        if len(level_feats) == 1:
            f = why.get(level_feats[0]) or {}
            text = f"**{label}**: {'; '.join(names)}."
            if f.get("justification"):
                text += f" Why it is examined: {f['justification']}"
            if f.get("reference") is not None:
                text += f" Reference group: {f['reference']}."
        else:
            sizes = [(g.get("count") or 0, g) for g in groups]
            text = f"**{label}** (intersection): {len(groups)} groups"
            if sizes:
                n, g = min(sizes, key=lambda t: t[0])
                text += f"; the smallest is {_group(g['features'])} (n = {s.count(n)})"
            text += "."
        items.append(text)
    out.append(_bullets(items))
    ctx = record.get("context") or {}
    if ctx.get("affected"):
        out.append(f"People affected: {ctx['affected']}.")
    out.append(f"Groups with fewer than {small} rows give unstable numbers; read their "
               "intervals.")
    return "\n\n".join(out)


def _metrics_text(record: dict[str, Any]) -> str:
    s = _labels()
    rec = record.get("recommendation") or {}
    ctx = record.get("context") or {}
    out = []
    facts = [f"{k.replace('_', ' ')}: {ctx[k]}" for k in (
        "framing", "fairness_goal", "intervention", "costlier_error") if ctx.get(k)]
    intro = "The measures were chosen with scrutiny's guided scoping of the use context"
    out.append(intro + (f" ({'; '.join(facts)})." if facts else "."))
    items = []
    for item in rec.get("recommended") or []:
        ms = ", ".join(f"`{m}`" for m in item.get("metrics") or [])
        items.append(f"**{item.get('label')}** ({item.get('role')}; {ms}): "
                     f"{item.get('rationale', '').strip()}")
    if items:
        out.append(_bullets(items))
    nr = [i.get("label") for i in rec.get("not_recommended") or [] if i.get("label")]
    if nr:
        out.append("Not recommended for this context (each with its reason in the audit "
                   "record): " + ", ".join(nr) + ".")
    a = record["assessment"]
    opts = record.get("assessment_options") or {}
    ci = s.level_text(a.get("ci_level"))
    text = (f"Every value comes with a {ci} interval; gaps between groups use "
            f"{a.get('n_boot') or opts.get('n_boot') or 'bootstrap'} bootstrap resamples.")
    if a.get("tests"):
        corr = (a["tests"] or {}).get("correction")
        text += f" Pairwise group tests are corrected for multiple comparisons ({corr})." \
            if corr else ""
    out.append(text)
    return "\n\n".join(out)


def _cell(metric: str, value: Any, ci: Any) -> str:
    s = _labels()
    if _finite(value) is None:
        return "not defined"
    return s.value_with_ci(metric, value, ci)


def _results(record: dict[str, Any]) -> str:
    s = _labels()
    a = record["assessment"]
    order = _metric_order(record)
    out = []
    overall = a.get("overall") or {}
    if overall:
        head = "| Measure | Overall |\n|---|---|"
        rows = [f"| {s.humanize(s.metric_label(m))} | "
                f"{_cell(m, (overall.get(m) or {}).get('value'), (overall.get(m) or {}).get('ci'))}"
                " |" for m in order if m in overall]
        out.append("**Overall**\n\n" + head + "\n" + "\n".join(rows))
    for label, feats, level in _levels(a):
        groups = level.get("groups") or []
        if not groups:
            continue
        head = "| Group | n | " + " | ".join(s.humanize(s.metric_label(m)) for m in order) + " |"
        rule = "|---|---|" + "---|" * len(order)
        rows = []
        for g in groups:
            gm = g.get("metrics") or {}
            name = _group(g["features"]) if len(feats) > 1 else s.group_name(g["features"])
            if g.get("is_reference"):
                name += " (reference)"
            cells = [_cell(m, (gm.get(m) or {}).get("value"), (gm.get(m) or {}).get("ci"))
                     for m in order]
            rows.append(f"| {_esc(name)} | {s.count(g.get('count'))} | " + " | ".join(cells)
                        + " |")
        out.append(f"**By {label}**\n\n" + "\n".join([head, rule, *rows]))
    ranking = record.get("ranking") or []
    if ranking:
        rows = []
        for r in ranking:
            m = r["metric"]
            ci = r.get("ci_difference")
            gap = s.fmt_diff(m, r.get("difference"))
            if s.ci_pair(ci):
                gap += f" ({s.fmt_ci(m, ci, diff=True)})"
            ratio = s.number(r.get("ratio")) if _finite(r.get("ratio")) is not None else "–"
            rows.append(
                f"| {s.humanize(s.metric_label(m))} | {' × '.join(r.get('features') or [])} | "
                f"{gap} | {ratio} | {_esc(s.group_name(r.get('max_group') or []))} | "
                f"{_esc(s.group_name(r.get('min_group') or []))} |")
        out.append("**Gaps between the highest and lowest group**, largest lower interval "
                   "bound first\n\n| Measure | Groups by | Gap | Ratio | Highest | Lowest |\n"
                   "|---|---|---|---|---|---|\n" + "\n".join(rows))
    gates = record.get("gates") or []
    if gates:
        items = []
        for g in gates:
            limits = []
            if g.get("max_difference") is not None:
                limits.append(f"gap at most {g['max_difference']}")
            if g.get("min_ratio") is not None:
                limits.append(f"ratio at least {g['min_ratio']}")
            text = (f"`{g['metric']}` ({' and '.join(limits) or 'no limit'}; severity "
                    f"{g.get('severity')}): **{g.get('status')}**, {g.get('detail')}.")
            if g.get("rationale"):
                text += f" Why this threshold: {g['rationale']}"
            items.append(text)
        out.append("**Agreed thresholds (gates)**\n\n" + _bullets(items))
    out.append("Each value above is also in the card's `model-index` metadata: one metric per "
               "group and per gap, with the group, its size and the interval in `args`.")
    return "\n\n".join(out)


def _esc(text: str) -> str:
    return text.replace("|", "\\|")


def _summary(record: dict[str, Any]) -> str:
    s = _labels()
    a = record["assessment"]
    roles = _roles(record)
    primary = [m for m, r in roles.items() if r == "primary"] or _metric_order(record)[:1]
    out = []
    ci = s.level_text(a.get("ci_level"))
    for m in primary:
        for label, _feats, level in _levels(a):
            d = (level.get("disparities") or {}).get(m)
            if not d or _finite(d.get("difference")) is None:
                continue
            groups = {tuple((g.get("features") or {}).values()): g
                      for g in level.get("groups") or []}
            hi = groups.get(tuple(d.get("max_group") or []))
            lo = groups.get(tuple(d.get("min_group") or []))

            def val(g: dict[str, Any] | None, metric: str = m) -> str:
                v = ((g or {}).get("metrics") or {}).get(metric, {}).get("value")
                return f", {s.fmt_value(metric, v)}" if _finite(v) is not None else ""

            text = (f"By {label}, the {s.metric_label(m)} differs by "
                    f"{s.fmt_diff(m, d['difference'])}")
            if s.ci_pair(d.get("ci_difference")):
                text += f" ({s.fmt_ci(m, d['ci_difference'], level=ci, diff=True)})"
            text += (f" between the highest group ({s.group_name(d.get('max_group') or [])}"
                     f"{val(hi)}) and the lowest ({s.group_name(d.get('min_group') or [])}"
                     f"{val(lo)}).")
            out.append(text)
    for g in record.get("gates") or []:
        if g.get("status") in ("warn", "fail"):
            out.append(f"The agreed threshold on `{g['metric']}` was crossed ({g.get('detail')}; "
                       f"severity {g.get('severity')}).")
        else:
            out.append(f"The agreed threshold on `{g['metric']}` holds ({g.get('detail')}).")
    out.append("These numbers describe differences in the evaluation data; they do not show "
               "their causes, and they do not say whether the model is fair: that judgement "
               "belongs to the people accountable for it.")
    return _bullets(out[:-1]) + "\n\n" + out[-1] if len(out) > 1 else out[0]


def _bias(record: dict[str, Any], findings: list[dict[str, Any]], method: str | None) -> str:
    s = _labels()
    a = record["assessment"]
    out = [f"From the fairness audit \"{record['title']}\". The gaps below were measured on the "
           "evaluation data; they do not establish their causes."]
    ranking = record.get("ranking") or []
    if ranking:
        items = []
        for r in ranking[:3]:
            m = r["metric"]
            text = (f"{s.humanize(s.metric_label(m))} by {' × '.join(r.get('features') or [])}: "
                    f"gap {s.fmt_diff(m, r.get('difference'))}")
            if s.ci_pair(r.get("ci_difference")):
                text += f" ({s.fmt_ci(m, r['ci_difference'], diff=True)})"
            text += (f" between {s.group_name(r.get('max_group') or [])} and "
                     f"{s.group_name(r.get('min_group') or [])}.")
            items.append(text)
        out.append("**Largest measured gaps**\n\n" + _bullets(items))
    crossed = [g for g in record.get("gates") or [] if g.get("status") in ("warn", "fail")]
    if crossed:
        out.append("**Agreed thresholds crossed**\n\n" + _bullets([
            f"`{g['metric']}`: {g.get('detail')} (severity {g.get('severity')})."
            for g in crossed]))
    guard = record.get("guardrails") or []
    if guard:
        out.append("**Guardrail warnings** (automatic checks of the audit's set-up)\n\n"
                   + _bullets([f"{g.get('severity', 'warning').capitalize()}: {g['message']}"
                               for g in guard]))
    caveats = (record.get("recommendation") or {}).get("caveats") or []
    if caveats:
        out.append("**Caveats on the measures**\n\n" + _bullets(list(caveats)))
    small = s.min_group_size(record)
    tiny = []
    for label, feats, level in _levels(a):
        for g in level.get("groups") or []:
            n = g.get("count")
            if isinstance(n, int | float) and n < small:
                name = _group(g["features"]) if len(feats) > 1 else s.group_name(g["features"])
                tiny.append(f"{name} ({label}): {s.count(n)} rows")
    if tiny:
        out.append(f"**Groups with fewer than {small} rows** (their numbers are unstable)\n\n"
                   + _bullets(tiny))
    warns = [w.get("message") for w in a.get("warnings") or [] if w.get("message")]
    if warns:
        out.append("**Warnings raised while assessing**\n\n" + _bullets(warns))
    delib = record.get("deliberation") or {}
    conflicts = delib.get("conflicts") or []
    if conflicts:
        items = []
        for c in conflicts:
            text = f"{' vs '.join(c.get('values') or [])}: {c.get('description', '').strip()}"
            if c.get("options"):
                text += f" Options considered: {'; '.join(c['options'])}."
            if c.get("decision"):
                who = f" by {c['decided_by']}" if c.get("decided_by") else ""
                when = f" on {c['decided_on']}" if c.get("decided_on") else ""
                text += f" Decided{who}{when}: {c['decision']}"
            else:
                text += " Not decided yet."
            items.append(text)
        out.append("**Value conflicts**\n\n" + _bullets(items))
    ctx = record.get("context") or {}
    if ctx.get("legal_constraints"):
        out.append("**Legal constraints recorded for this use**\n\n"
                   + _bullets(list(ctx["legal_constraints"])))
    open_items = [c for c in delib.get("checklist") or [] if c.get("status") != "done"]
    if open_items:
        out.append("**Open checklist items**\n\n" + _bullets([
            f"{c['item']} ({c.get('status')})" + (f": {c['note']}" if c.get("note") else "")
            for c in open_items]))
    evidence = delib.get("evidence") or []
    if evidence:
        out.append("**Qualitative evidence**\n\n" + _bullets([
            f"{e.get('kind', 'other').replace('_', ' ').capitalize()}: {e.get('summary')}"
            + (f" (source: {e['source']})" if e.get("source") else "") for e in evidence]))
    if findings:
        head = "**Data-quality findings**" + (
            f" (training-data attribution, method `{method}`)" if method else "")
        items = []
        for kind, label in _FINDING_KINDS.items():
            for f in (f for f in findings if f["kind"] == kind):
                count = f" ({f['count']})" if f["count"] is not None else ""
                items.append(f"{label}{count}: {f['message']}")
        out.append(head + "\n\n" + _bullets(items))
    if not delib.get("signoffs"):
        out.append("Nobody has signed the audit off yet.")
    return "\n\n".join(out)


def _recommendations(record: dict[str, Any], findings: list[dict[str, Any]]) -> str:
    items = []
    delib = record.get("deliberation") or {}
    for c in delib.get("conflicts") or []:
        if c.get("decision"):
            text = f"Follow the decision on {' vs '.join(c.get('values') or [])}: {c['decision']}"
            if c.get("rationale"):
                text += f" (why: {c['rationale']})"
            items.append(text)
    for g in record.get("gates") or []:
        if g.get("status") in ("warn", "fail"):
            items.append(f"The gap on `{g['metric']}` exceeds the agreed threshold: record a "
                         "justification, or mitigate and re-audit, before relying on the model.")
    if record.get("guardrails"):
        items.append("Resolve the guardrail warnings above (each says what to change in the "
                     "audit configuration) and re-run the audit.")
    open_items = [c["item"] for c in delib.get("checklist") or [] if c.get("status") != "done"]
    if open_items:
        items.append("Complete the open checklist items: " + "; ".join(open_items) + ".")
    for kind, advice in _FINDING_ADVICE.items():
        if any(f["kind"] == kind for f in findings):
            items.append(advice)
    mit = record.get("mitigation") or {}
    if mit.get("applied") and mit.get("description"):
        items.append(f"A mitigation was applied ({mit['description']}); keep its prior "
                     "assessment with this card.")
    items.append("Re-run the audit (`scrutiny audit`) after retraining, and whenever the "
                 "population or the decision changes.")
    return _bullets(items)


def _uses(record: dict[str, Any]) -> tuple[str | None, list[str]]:
    ctx = record.get("context") or {}
    direct = []
    if ctx.get("decision"):
        direct.append(f"Audited use: {ctx['decision']}")
    if ctx.get("affected"):
        direct.append(f"People affected: {ctx['affected']}.")
    if ctx.get("framing") or ctx.get("intervention"):
        bits = [f"framing: {ctx['framing']}"] if ctx.get("framing") else []
        if ctx.get("intervention"):
            bits.append(f"the intervention is {ctx['intervention']}")
        if ctx.get("costlier_error"):
            err = ctx["costlier_error"].replace("_", " ")
            who = f" ({ctx['costlier_error_for']})" if ctx.get("costlier_error_for") else ""
            bits.append(f"the costlier error is a {err}{who}")
        direct.append("Context: " + "; ".join(bits) + ".")
    scope = [
        "- Any decision other than the audited one, or the same decision for another "
        "population: the fairness evaluation covers only the context above.",
        f"- Use on data unlike the evaluation data ({(record.get('data') or {}).get('source')}) "
        "without a new audit.",
    ]
    for c in ctx.get("legal_constraints") or []:
        scope.append(f"- Any use that breaks this recorded constraint: {c}")
    return ("\n\n".join(direct) or None), scope


def _training_data(findings: list[dict[str, Any]], method: str | None) -> str | None:
    if not findings:
        return None
    kinds = {}
    for f in findings:
        kinds[f["kind"]] = kinds.get(f["kind"], 0) + 1
    parts = ", ".join(f"{n} × {_FINDING_KINDS[k].lower()}" for k, n in kinds.items())
    how = f" (method `{method}`)" if method else ""
    return (f"A training-data attribution analysis{how} reported {len(findings)} data-quality "
            f"finding{'s' if len(findings) != 1 else ''}: {parts}. They are listed under Bias, "
            "Risks, and Limitations.")


# ---------------------------------------------------------------------------
# the card


def model_card_from_audit(
    audit: Mapping[str, Any] | str | os.PathLike[str],
    *,
    model_id: str | None = None,
    attribution: Mapping[str, Any] | str | os.PathLike[str] | None = None,
    metadata: ModelCardMetadata | Mapping[str, Any] | None = None,
    upstream_licenses: Mapping[str, str] | None = None,
    dataset_id: str | None = None,
    dataset_name: str | None = None,
    dataset_split: str | None = None,
    dataset_revision: str | None = None,
    decimals: int = 4,
) -> ModelCard:
    """Build a model card from an audit record (and optionally attribution findings).

    Parameters
    ----------
    audit : dict, str or path-like
        The audit record (``scrutiny.audit.build_record``), its ``audit.json``,
        or the folder written by ``scrutiny audit``.
    model_id : str, default=None
        The model's name (title and ``model-index`` name); by default a slug
        of the audit's title.
    attribution : dict, str or path-like, default=None
        Attribution results (``scrutiny attribute --out results.json``); only
        their ``method`` and ``findings`` are read. The findings are listed
        under "Bias, Risks, and Limitations" and summarised in "Training Data".
    metadata : ModelCardMetadata or dict, default=None
        Metadata to set (licence, language, library, base model...). It
        overrides what the audit suggests; tags are merged.
    upstream_licenses : dict of str to str, default=None
        Licence id of each base model or dataset the model builds on, by Hub
        id. Those under a RAIL licence raise a :class:`RailLicenseWarning` and
        add their use restrictions to "Out-of-Scope Use".
    dataset_id : str, default=None
        The evaluation dataset's Hub id in ``model-index``; by default the
        first of ``metadata.datasets``, else a slug of the data source.
    dataset_name : str, default=None
        Its readable name; by default the audit's data source.
    dataset_split, dataset_revision : str, default=None
        The split and revision evaluated, to pin what the numbers describe.
    decimals : int, default=4
        Rounding of the values written into ``model-index``.

    Returns
    -------
    ModelCard
        The card; sections the audit cannot fill stay as placeholders.

    Raises
    ------
    ConfigError
        The record, the attribution results or the metadata are invalid (the
        message names the field).
    InvalidParameterError
        A file cannot be read, or an upstream licence id is unknown.

    See Also
    --------
    validate_card : check the card and get its completeness score.

    Examples
    --------
    >>> import json
    >>> from scrutiny.cards import model_card_from_audit
    >>> record = json.load(open("tests/golden/compas_audit.json"))  # doctest: +SKIP
    >>> card = model_card_from_audit(record, metadata={"license": "mit"})  # doctest: +SKIP
    >>> card.save("README.md")  # doctest: +SKIP
    """
    record = load_audit(audit)
    if not isinstance(decimals, int) or isinstance(decimals, bool) or not 0 <= decimals <= 12:
        raise InvalidParameterError.from_value(
            "decimals", "model_card_from_audit", "an int from 0 to 12", decimals)
    method, findings = load_attribution(attribution) if attribution is not None else (None, [])
    if isinstance(metadata, ModelCardMetadata):
        user_meta = metadata.model_dump(by_alias=True, exclude_unset=True)
    elif metadata is None:
        user_meta = {}
    elif isinstance(metadata, Mapping):
        user_meta = dict(metadata)
    else:
        raise InvalidParameterError.from_value(
            "metadata", "model_card_from_audit", "a ModelCardMetadata or a dict",
            type(metadata).__name__)
    user = ModelCardMetadata.model_validate(user_meta)  # errors name the field
    a = record["assessment"]
    title = str(record["title"])
    model_id = model_id or _slug(title)
    datasets = user.datasets or []
    source = str((record.get("data") or {}).get("source") or "evaluation data")
    eval_dataset = {
        "type": dataset_id or (datasets[0] if datasets else _slug(source)),
        "name": dataset_name or source,
        "split": dataset_split, "revision": dataset_revision,
    }
    task_type = _TASKS.get(str(a.get("task")), "tabular-classification")
    pred = str((record.get("data") or {}).get("prediction_source") or "")
    library = "sklearn" if "skops" in pred else None
    base: dict[str, Any] = {
        "library_name": library,
        "pipeline_tag": task_type,
        "tags": ["scrutiny", "fairness", "tabular", "rigorous"],
        "metrics": _metric_order(record),
        "model-index": _model_index(record, model_id=model_id, task_type=task_type,
                                    dataset=eval_dataset, decimals=decimals) or None,
    }
    merged = {k: v for k, v in base.items() if v}
    for key, value in user.model_dump(by_alias=True, exclude_none=True).items():
        merged[key] = [*(user.tags or []), *base["tags"]] if key == "tags" else value
    meta = ModelCardMetadata.model_validate(merged)

    direct, scope = _uses(record)
    own = meta.license if meta.license and (
        get_license(meta.license).is_rail or get_license(meta.license).pass_down) else None
    restrictions = out_of_scope_from_licenses(dict(upstream_licenses or {}), own_license=own,
                                              warn=False)
    for artefact, lid in (upstream_licenses or {}).items():
        lic = get_license(lid)
        if lic.is_rail:
            warnings.warn(
                f"{artefact!r} is licensed under {lic.id} ({lic.name}), a RAIL licence: this "
                "model must carry the same use restrictions. They were added to the card's "
                "Out-of-Scope Use section; review them.", RailLicenseWarning, stacklevel=2)
    if restrictions:
        scope += ["", *restrictions]

    ctx = record.get("context") or {}
    stakeholders = record.get("stakeholders") or []
    developers = [s["name"] for s in stakeholders if "develop" in str(s.get("role", "")).lower()]
    base_models = [meta.base_model] if isinstance(meta.base_model, str) else meta.base_model
    return ModelCard(
        model_id=model_id,
        metadata=meta,
        summary=(f"{title}. This card was written by scrutiny from the audit record; the "
                 "sections an audit cannot speak to are left for the team to fill in."),
        details={
            "description": ctx.get("decision") and (
                f"A {a.get('task', 'binary')} model used for this decision: {ctx['decision']}"),
            "developed_by": ", ".join(developers) or None,
            "model_type": f"{str(a.get('task', 'binary')).capitalize()} classifier"
            if a.get("task") in ("binary", "multiclass") else None,
            "finetuned_from": ", ".join(base_models or []) or None,
        },
        uses={"direct_use": direct, "out_of_scope_use": "\n".join(scope)},
        bias={"description": _bias(record, findings, method),
              "recommendations": _recommendations(record, findings)},
        training={"data": _training_data(findings, method)},
        evaluation={
            "testing_data": _testing_data(record),
            "factors": _factors(record),
            "metrics": _metrics_text(record),
            "results": _results(record),
            "summary": _summary(record),
        },
    )

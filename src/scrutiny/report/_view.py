"""From an audit record to the view both report templates render.

The HTML and Markdown reports show the same sections in the same order; they
differ only in markup (and the HTML one draws charts). Everything they say is
computed here from the record, so the two cannot drift apart.
"""

from __future__ import annotations

import re
from typing import Any

from scrutiny.report import _sentences as S
from scrutiny.report import _svg

NOT_A_VERDICT = (
    "This report describes differences between groups and how certain they are. It does not "
    "decide whether the model is acceptable: that judgement belongs to the people named under "
    "“Context and who decided”, with the deliberation record below."
)

FRAMING = {
    "allocation": "Allocation: the model helps decide who receives a resource or an "
    "intervention.",
    "quality_of_service": "Quality of service: the model may work better for some people "
    "than for others.",
    "both": "Both: the model allocates something, and how well it works may differ between "
    "people.",
}
GOAL = {
    "representation": "Who is selected (representation).",
    "errors": "Who the model gets wrong (errors).",
    "unsure": "Not decided yet.",
}
REPRESENTATION = {
    "equal_numbers": "Equal numbers selected in every group.",
    "proportional": "Selection in proportion to group size.",
}
INTERVENTION = {
    "punitive": "Punitive: a positive prediction leads to a sanction or a burden.",
    "assistive": "Assistive: a positive prediction leads to help or an opportunity.",
}
REACH = {
    "small_fraction": "The help can reach only a small fraction of the people who need it.",
    "most_in_need": "The help can reach most of the people who need it.",
}
CONCERN = {
    "everyone": "everyone",
    "intervened": "the people who receive the intervention",
    "not_intervened": "the people who do not receive the intervention",
    "in_need": "the people who need the intervention",
    "not_in_need": "the people who do not need the intervention",
}
COSTLIER = {
    "false_positive": "Wrongly marking someone as positive (a false positive).",
    "false_negative": "Missing someone whose true outcome is positive (a false negative).",
    "equal": "Both kinds of error cost about the same.",
    "unsure": "Not decided yet.",
}
CHECK_STATUS = {"done": ("✓", "Done"), "open": ("○", "Open"), "na": ("–", "Not applicable")}
SEVERITY = {"warning": "Warning", "caution": "Caution", "info": "Note"}
ROLE = {"primary": "Primary measure", "supporting": "Supporting measure"}
RANKING_CHART_MAX = 15
CORRECTION = {"holm": "Holm method", "fdr_bh": "Benjamini–Hochberg method", "none": "none"}


def _slug(text: str) -> str:
    s = re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-")
    return s or "section"


def _yes_no(v: Any) -> str:
    if v is None:
        return "Not stated"
    return "Yes" if v else "No"


def _text(v: Any) -> str:
    return "" if v is None else str(v)


class _Ids:
    """Document-unique ids."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def __call__(self, base: str) -> str:
        base = _slug(base)
        out, i = base, 2
        while out in self.used:
            out, i = f"{base}-{i}", i + 1
        self.used.add(out)
        return out


# ---------------------------------------------------------------------------
# levels and metrics


def _levels(record: dict[str, Any]) -> list[dict[str, Any]]:
    """The group levels: each sensitive feature alone, then their combination."""
    a = record.get("assessment") or {}
    feats = [str(f) for f in a.get("sensitive_features") or []]
    by_feature = a.get("by_feature") or {}
    out = []
    if len(feats) > 1:
        for f in feats:
            if f in by_feature:
                out.append({"key": f, "heading": f"By {f}", "words": f"by {f}",
                            "groups": by_feature[f].get("groups") or [],
                            "disparities": by_feature[f].get("disparities") or {}})
        words = " and ".join(feats) if len(feats) == 2 else ", ".join(feats)
        out.append({"key": "intersection", "heading": f"By {words} together",
                    "words": f"by {words} together",
                    "groups": a.get("groups") or [], "disparities": a.get("disparities") or {}})
    else:
        name = feats[0] if feats else "group"
        out.append({"key": "intersection", "heading": f"By {name}", "words": f"by {name}",
                    "groups": a.get("groups") or [], "disparities": a.get("disparities") or {}})
    return out


def _level_words(record: dict[str, Any], level: str, features: list[str] | None) -> str:
    if level == "intersection":
        feats = features or list((record.get("assessment") or {}).get("sensitive_features") or [])
        if len(feats) > 1:
            return "by " + (" and ".join(feats) if len(feats) == 2 else ", ".join(feats)) + \
                " together"
        return f"by {feats[0]}" if feats else "by group"
    return f"by {level}"


def _criterion_label(record: dict[str, Any], name: str) -> str:
    labels = record.get("criterion_labels") or {}
    if name in labels:
        return str(labels[name])
    if S.metric_spec(name) is not None:
        return S.humanize(S.metric_label(name))
    return S.humanize(name)


def _gate_metrics(record: dict[str, Any], name: str) -> list[str]:
    a = record.get("assessment") or {}
    crit = (a.get("criteria") or {}).get(name)
    if crit and crit.get("metrics"):
        return list(crit["metrics"])
    cm = (record.get("criterion_metrics") or {}).get(name)
    if cm:
        return list(cm)
    return [name]


def _caveat_summary(metric: str, values: list[S.GroupValue], level_words: str) -> str | None:
    flagged = [g for g in values if g.caveat]
    if not flagged:
        return None
    names = S.join_names([g.name for g in flagged])
    noun = "group" if len(flagged) == 1 else "groups"
    return (f"{S.humanize(S.metric_label(metric))} {level_words}: {len(flagged)} {noun} "
            f"({names}) rest on few people or have wide intervals; they are marked ⚠ beside "
            "their numbers.")


def _metric_level(
    record: dict[str, Any], metric: str, level: dict[str, Any], ids: _Ids, ci_level: str | None,
    small: int, gates: list[dict[str, Any]],
) -> dict[str, Any]:
    a = record.get("assessment") or {}
    overall = (a.get("overall") or {}).get(metric)
    values = S.group_values(metric, level["groups"], small=small)
    disparity = (level["disparities"] or {}).get(metric)
    sentences = [S.values_sentence(metric, values, ci_level)]
    ov = S.overall_sentence(metric, overall, ci_level)
    if ov:
        sentences.append(ov)
    comparison = S.comparison_sentence(metric, values, disparity, ci_level)
    sentences.append(comparison)
    ratio = S.ratio_sentence(metric, disparity)
    if ratio and S.is_percent(metric):
        sentences.append(ratio)
    caveat = S.caveat_sentence(metric, values)
    chart_id = ids(f"chart-{metric}-{level['key']}")
    percent = S.is_percent(metric)
    label = S.metric_label(metric)
    rows = []
    desc_parts = [f"{S.humanize(label)} {level['words']}. Dots show each group's measured value"
                  + (f"; lines show the {ci_level} interval" if ci_level else "") + "."]
    if overall and S.finite(overall.get("value")) is not None:
        desc_parts.append(
            f"Over everyone: {S.fmt_value(metric, overall.get('value'))}"
            + (f", interval from {S.fmt_value(metric, overall['ci'][0])} to "
               f"{S.fmt_value(metric, overall['ci'][1])}" if S.ci_pair(overall.get("ci")) else "")
            + "."
        )
    dot_rows = []
    for g in values:
        ci_text = S.fmt_ci(metric, g.ci) if g.ci else ""
        value_text = S.fmt_value(metric, g.value)
        rows.append({
            "name": g.name + (" (reference)" if g.is_reference else ""),
            "count": S.count(g.count),
            "small": g.count is not None and g.count < small,
            "value": value_text,
            "ci": ci_text,
            "caveat": g.caveat,
        })
        desc_parts.append(
            f"{g.name}: {value_text}"
            + (f", interval from {S.fmt_value(metric, g.ci[0])} to {S.fmt_value(metric, g.ci[1])}"
               if g.ci else "")
            + f", {S.count(g.count)} people"
            + (f". Read with care: {g.caveat}" if g.caveat else "")
            + "."
        )
        dot_rows.append(_svg.DotRow(
            label=g.name, sublabel=f"{S.count(g.count)} people", value=g.value,
            low=g.ci[0] if g.ci else None, high=g.ci[1] if g.ci else None,
            value_text=f"{value_text} ({ci_text})" if ci_text else value_text,
            caution=bool(g.caveat),
        ))
    title = f"{S.humanize(label)} {level['words']}"
    chart = _svg.dot_chart(
        dot_rows, chart_id=chart_id, title=title, desc=" ".join(desc_parts),
        axis_label=S.humanize(label) + (" (% of the group)" if percent else ""), percent=percent,
        overall=S.finite((overall or {}).get("value")),
        overall_text=S.fmt_value(metric, (overall or {}).get("value")),
        interval_label=f"{ci_level} interval" if ci_level else "interval",
    )
    level_gates = []
    if level["key"] == "intersection":
        level_gates = [g for g in gates if metric in g["metrics"]]
    return {
        "id": ids(f"{metric}-{level['key']}"),
        "heading": level["heading"],
        "sentences": sentences,
        "values_sentence": sentences[0],
        "comparison_sentence": comparison,
        "caveat": caveat,
        "chart": chart,
        "chart_id": chart_id,
        "chart_title": title,
        "rows": rows,
        "caveat_summary": _caveat_summary(metric, values, level["words"]),
        "gates": level_gates,
        "n_marks": sum(1 for g in values if g.value is not None),
    }


def _metric_view(
    record: dict[str, Any], metric: str, ids: _Ids, ci_level: str | None, small: int,
    gates: list[dict[str, Any]],
) -> dict[str, Any]:
    a = record.get("assessment") or {}
    spec = S.metric_spec(metric)
    assessed = metric in (a.get("metrics") or [])
    out: dict[str, Any] = {
        "metric": metric,
        "label": S.humanize(S.metric_label(metric)),
        "id": ids(f"metric-{metric}"),
        "meaning": S.humanize(spec.meaning) + "." if spec else None,
        "assumes": f"It assumes {spec.assumes}." if spec else None,
        "misleads": f"It can mislead {spec.misleads}." if spec else None,
        "assessed": assessed,
        "levels": [],
    }
    if assessed:
        out["levels"] = [_metric_level(record, metric, lvl, ids, ci_level, small, gates)
                         for lvl in _levels(record)]
    return out


# ---------------------------------------------------------------------------
# sections


def _gates_view(record: dict[str, Any], ci_level: str | None) -> list[dict[str, Any]]:
    out = []
    for g in record.get("gates") or []:
        name = str(g.get("metric"))
        metrics = _gate_metrics(record, name)
        label = _criterion_label(record, name)
        unit = metrics[0] if metrics else None
        metric_words = ", ".join(S.metric_label(m) for m in metrics)
        if metric_words and metric_words.lower() != label.lower():
            label = f"{label} ({metric_words})"
        out.append({
            "label": label,
            "name": name,
            "metrics": metrics,
            "status": g.get("status"),
            "status_text": S.gate_status_text(g.get("status")),
            "symbol": {"pass": "✓", "warn": "⚠", "fail": "✗"}.get(str(g.get("status")), "•"),
            "severity": g.get("severity"),
            "sentences": S.gate_sentences(g, label, unit, ci_level),
            "rationale": g.get("rationale"),
            "detail": g.get("detail"),
        })
    return out


def _context_view(record: dict[str, Any]) -> dict[str, Any]:
    c = record.get("context") or {}
    rows = [("Decision the model informs", _text(c.get("decision"))),
            ("Who is affected", _text(c.get("affected"))),
            ("Framing", FRAMING.get(c.get("framing"), S.humanize(_text(c.get("framing")))))]
    goal = c.get("fairness_goal")
    if goal:
        rows.append(("What matters most", GOAL.get(goal, S.humanize(goal))))
    if c.get("representation"):
        rows.append(("Representation goal", REPRESENTATION.get(
            c["representation"], S.humanize(c["representation"]))))
    if c.get("intervention"):
        rows.append(("Kind of intervention", INTERVENTION.get(
            c["intervention"], S.humanize(c["intervention"]))))
    if c.get("intervention_reach"):
        rows.append(("Reach of the intervention", REACH.get(
            c["intervention_reach"], S.humanize(c["intervention_reach"]))))
    if c.get("concern"):
        rows.append(("Among whom equity matters most",
                     S.humanize(CONCERN.get(c["concern"], c["concern"])) + "."))
    if c.get("costlier_error"):
        text = COSTLIER.get(c["costlier_error"], S.humanize(c["costlier_error"]))
        if c.get("costlier_error_for"):
            text += f" It falls on: {c['costlier_error_for']}."
        rows.append(("The costlier error", text))
    rows.append(("Are the recorded outcomes trusted for every group?",
                 _yes_no(c.get("labels_trusted"))))
    rows.append(("Do the groups' observed rates reflect reality?",
                 _yes_no(c.get("base_rates_trusted"))))
    sens = [{"column": _text(f.get("column")), "justification": _text(f.get("justification")),
             "reference": f.get("reference")} for f in record.get("sensitive_features") or []]
    stake = [{"name": _text(s.get("name")), "role": _text(s.get("role")),
              "interest": s.get("interest")} for s in record.get("stakeholders") or []]
    d = record.get("data") or {}
    mit = record.get("mitigation") or {}
    data_rows = [("Data", _text(d.get("source"))),
                 ("Number of rows (people)", S.count(d.get("n_rows"))),
                 ("Predictions from", _text(d.get("prediction_source"))),
                 ("Outcome column", _text(d.get("y_true")))]
    if d.get("pos_label") is not None:
        data_rows.append(("A positive outcome means",
                          f"{d.get('y_true')} = {d.get('pos_label')}"))
    if mit.get("applied"):
        data_rows.append(("Mitigation already applied",
                          _text(mit.get("description")) or "Yes (not described)"))
    return {"rows": rows, "legal": [str(x) for x in c.get("legal_constraints") or []],
            "sensitive": sens, "stakeholders": stake, "data_rows": data_rows,
            "who_decided": _who_decided(record)}


def _who_decided(record: dict[str, Any]) -> list[str]:
    """Who made which decision in the record, in sentences."""
    d = record.get("deliberation") or {}
    out = []
    decided: dict[str, list[str]] = {}
    for c in d.get("conflicts") or []:
        if c.get("decision"):
            who = _text(c.get("decided_by")) or "someone not named"
            pair = " versus ".join(str(x) for x in c.get("values") or [])
            decided.setdefault(who, []).append(pair)
    for who, items in decided.items():
        noun = "value conflict" if len(items) == 1 else "value conflicts"
        out.append(f"{who} decided {len(items)} {noun}: {'; '.join(items)}.")
    undecided = sum(1 for c in d.get("conflicts") or [] if not c.get("decision"))
    if undecided:
        out.append(f"{undecided} value conflict(s) are still undecided.")
    owners = [f"{_text(v.get('owner'))} ({_text(v.get('name'))})" for v in d.get("values") or []]
    if owners:
        out.append("Values and their owners: " + "; ".join(owners) + ".")
    signed = [f"{_text(x.get('name'))} ({_text(x.get('role'))}, {_text(x.get('signed_on'))})"
              for x in d.get("signoffs") or []]
    out.append("Signed off by: " + "; ".join(signed) + "." if signed
               else "No one has signed off this audit yet.")
    return out


def _ranking_view(record: dict[str, Any], ids: _Ids, ci_level: str | None) -> dict[str, Any]:
    rows = []
    for i, r in enumerate(record.get("ranking") or []):
        metric = str(r.get("metric"))
        words = _level_words(record, str(r.get("level")), r.get("features"))
        ci = S.ci_pair(r.get("ci_difference"))
        hi_g = S.group_name(r["max_group"]) if r.get("max_group") else "–"
        lo_g = S.group_name(r["min_group"]) if r.get("min_group") else "–"
        rows.append({
            "rank": i + 1,
            "metric": metric,
            "label": S.humanize(S.metric_label(metric)),
            "words": words,
            "difference": S.fmt_diff(metric, r.get("difference")),
            "difference_short": S.fmt_diff(metric, r.get("difference"), short=True),
            "ci": S.fmt_ci(metric, ci, diff=True).replace(" percentage points", "") if ci else "",
            "ratio": S.pct(r.get("ratio")) if S.finite(r.get("ratio")) is not None else "–",
            "high": hi_g,
            "low": lo_g,
            "_raw": r,
            "_ci": ci,
        })
    chart_rows = [r for r in rows if S.is_percent(r["metric"])][:RANKING_CHART_MAX]
    chart = None
    if chart_rows:
        desc = ["Gaps between the highest and lowest group, in the order of the table."]
        bars = []
        for r in chart_rows:
            raw = r["_raw"]
            ci = r["_ci"]
            desc.append(f"{r['label']} {r['words']}: gap of {r['difference']}"
                        + (f", interval {r['ci']}" if ci else "")
                        + f", between {r['high']} (highest) and {r['low']} (lowest).")
            bars.append(_svg.BarRow(
                label=f"{r['label']}, {r['words']}",
                sublabel=f"highest: {r['high']}; lowest: {r['low']}",
                value=float(raw["difference"]), low=ci[0] if ci else None,
                high=ci[1] if ci else None,
                value_text=r["difference_short"] + (f" ({r['ci']})" if ci else ""),
            ))
        chart = _svg.bar_chart(
            bars, chart_id=ids("chart-ranking"), title="Gaps between groups, ranked",
            desc=" ".join(desc), axis_label="Gap between the highest and lowest group "
            "(percentage points)", percent=True,
            interval_label=f"{ci_level} interval" if ci_level else "interval",
        )
    for r in rows:
        del r["_raw"], r["_ci"]
    return {"rows": rows, "chart": chart, "n_chart": len(chart_rows),
            "n_non_percent": sum(1 for r in rows if not S.is_percent(r["metric"]))}


def _deliberation_view(record: dict[str, Any]) -> dict[str, Any]:
    d = record.get("deliberation") or {}
    values = []
    for v in d.get("values") or []:
        checks = []
        if v.get("metric"):
            checks.append(f"Measured by: {_criterion_label(record, str(v['metric']))}")
        if v.get("qualitative_check"):
            checks.append(f"Checked by: {v['qualitative_check']}")
        values.append({"name": _text(v.get("name")), "description": _text(v.get("description")),
                       "owner": _text(v.get("owner")), "checks": checks})
    conflicts = []
    for i, c in enumerate(d.get("conflicts") or []):
        conflicts.append({
            "heading": f"Conflict {i + 1}: "
            + " versus ".join(str(x) for x in c.get("values") or []),
            "description": _text(c.get("description")),
            "options": [str(o) for o in c.get("options") or []],
            "decision": c.get("decision"),
            "rationale": c.get("rationale"),
            "decided_by": c.get("decided_by"),
            "decided_on": c.get("decided_on"),
        })
    evidence = [{"kind": S.humanize(_text(e.get("kind"))), "summary": _text(e.get("summary")),
                 "source": e.get("source"), "collected_on": e.get("collected_on")}
                for e in d.get("evidence") or []]
    checklist = []
    for c in d.get("checklist") or []:
        status = _text(c.get("status"))
        sym, word = CHECK_STATUS.get(status, ("•", S.humanize(status)))
        checklist.append({"item": _text(c.get("item")), "status": c.get("status"),
                          "symbol": sym, "status_text": word, "note": c.get("note")})
    signoffs = [{"name": _text(s.get("name")), "role": _text(s.get("role")),
                 "signed_on": _text(s.get("signed_on")), "statement": s.get("statement")}
                for s in d.get("signoffs") or []]
    return {"register": values, "conflicts": conflicts, "evidence": evidence,
            "checklist": checklist, "signoffs": signoffs}


def _training_view(record: dict[str, Any]) -> dict[str, Any] | None:
    """The training examples behind the main gap, if the audit was given training data."""
    t = record.get("training_attribution")
    if not t:
        return None
    remove = (t.get("actions") or {}).get("remove") or {}
    base = t.get("random_baseline") or {}
    shareable = [str(c) for c in t.get("shareable") or []]
    rows = []
    for d in (t.get("drivers") or [])[:10]:
        shown = d.get("shareable") or {}
        rows.append({
            "index": d.get("train_index"),
            "group": _text(d.get("group")) or "–",
            "values": [_text(shown.get(c)) for c in shareable],
        })
    gap = t.get("gap") or {}
    return {
        "target": S.humanize(_text(t.get("target"))),
        "n_train": t.get("n_train"),
        "high": _text(gap.get("high_group")),
        "low": _text(gap.get("low_group")),
        "k": remove.get("k"),
        "predicted": remove.get("newton_change"),
        "actual": remove.get("actual_change"),
        "random": base.get("mean_change"),
        "findings": [_text(f.get("message")) for f in t.get("findings") or []],
        "notes": [_text(n) for n in t.get("notes") or []],
        "shareable": shareable,
        "rows": rows,
    }


def _guardrails_view(record: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"code": _text(g.get("code")), "severity": _text(g.get("severity")),
             "severity_text": SEVERITY.get(_text(g.get("severity")),
                                           S.humanize(_text(g.get("severity")))),
             "message": _text(g.get("message")), "where": g.get("where")}
            for g in record.get("guardrails") or []]


def _method_view(record: dict[str, Any], ci_level: str | None, small: int) -> list[str]:
    a = record.get("assessment") or {}
    d = record.get("data") or {}
    n_groups = len(a.get("groups") or [])
    feats = [str(f) for f in a.get("sensitive_features") or []]
    notes = [
        f"The audit used {S.count(a.get('n_rows', d.get('n_rows')))} rows from the "
        f"{_text(d.get('source')) or 'data'} "
        f"and compared {n_groups} groups formed by {', '.join(feats) or 'the sensitive features'}"
        + (" (each feature alone is also shown)." if len(feats) > 1 else "."),
    ]
    if d.get("pos_label") is not None:
        notes.append(f"“Positive” means that {d.get('y_true')} is {d.get('pos_label')}: a positive "
                     "true outcome is the recorded outcome, a positive prediction is the model's.")
    if ci_level:
        notes.append(
            f"Every number comes with a {ci_level} interval: the range of values that are "
            "consistent with the data. For shares of people (rates), a group's interval is a "
            "Wilson score interval. Intervals of gaps between groups, and of other measures, "
            f"come from a bootstrap of the group counts ({S.count(a.get('n_boot'))} resamples)."
        )
        notes.append(
            "Overlapping intervals are a cautious reading: two groups whose intervals overlap "
            "may still differ, but this data alone cannot show it with confidence. The largest "
            "gap between many small groups is pushed up by chance alone, so read it together "
            "with each group's interval."
        )
    else:
        notes.append("Intervals were turned off for this audit, so the report cannot say how "
                     "much of each difference could be due to chance.")
    tests = a.get("tests") or {}
    correction = _text(tests.get("correction"))
    if tests.get("pairs"):
        notes.append(
            f"{S.count(len(tests['pairs']))} pairwise comparisons between groups, with p-values "
            "corrected for multiple comparisons "
            f"({CORRECTION.get(correction, correction)}), are in "
            "audit.json under assessment.tests."
        )
    notes.append(
        f"Groups with fewer than {small} people, and numbers that rest on fewer than {small} "
        "people (for example few people with a positive true outcome), are marked ⚠ beside "
        "the number they qualify."
    )
    notes.append(
        "Every number in this report is in audit.json, saved next to this file (record schema "
        f"{_text(record.get('schema_version'))}); audit.md holds the same report as plain text. "
        f"Generated by scrutiny {_text(record.get('scrutiny_version'))} on "
        f"{_text(record.get('generated_at'))}."
    )
    return notes


def _summary_view(
    record: dict[str, Any], criteria: list[dict[str, Any]], gates: list[dict[str, Any]],
    guardrails: list[dict[str, Any]], delib: dict[str, Any], small: int,
) -> dict[str, Any]:
    a = record.get("assessment") or {}
    c = record.get("context") or {}
    d = record.get("data") or {}
    feats = [str(f) for f in a.get("sensitive_features") or []]
    intro = []
    if c.get("decision"):
        decision = str(c["decision"]).strip()
        if len(decision) > 1 and decision[0].isupper() and decision[1].islower():
            decision = decision[0].lower() + decision[1:]
        intro.append(f"This audit looks at a model used for this decision: {decision}"
                     + ("" if decision.endswith((".", "!", "?")) else "."))
    intro.append(
        f"It covers {S.count(a.get('n_rows', d.get('n_rows')))} people and compares groups by "
        + (" and ".join(feats) if len(feats) <= 2 else ", ".join(feats))
        + (", each alone and combined." if len(feats) > 1 else ".")
    )
    primary = next((cr for cr in criteria if cr["role"] == "primary"), None)
    headline = None
    if primary is not None:
        findings = [{"heading": lvl["heading"], "anchor": lvl["id"],
                     "sentences": [lvl["values_sentence"], lvl["comparison_sentence"]]}
                    for m in primary["metrics"] for lvl in m["levels"]]
        headline = {"label": primary["label"], "anchor": primary["id"],
                    "meaning": primary["metrics"][0]["meaning"] if primary["metrics"] else None,
                    "findings": findings, "rationale": primary["rationale"]}
    supporting = [{"label": cr["label"], "anchor": cr["id"]} for cr in criteria
                  if cr["role"] != "primary"]
    caveats = []
    for g in guardrails:
        if g["severity"] in ("warning", "caution"):
            caveats.append(f"{g['severity_text']}: {g['message']}")
    for cav in (record.get("recommendation") or {}).get("caveats") or []:
        caveats.append(str(cav))
    if primary is not None:
        for m in primary["metrics"]:
            for lvl in m["levels"]:
                if lvl["caveat_summary"]:
                    caveats.append(lvl["caveat_summary"])
    open_items = [x["item"] for x in delib["checklist"] if x["status"] == "open"]
    if open_items:
        noun = "item is" if len(open_items) == 1 else "items are"
        caveats.append(f"{len(open_items)} checklist {noun} still open: {'; '.join(open_items)}.")
    if not delib["signoffs"]:
        caveats.append("No one has signed off this audit yet.")
    undecided = [x["heading"] for x in delib["conflicts"] if not x["decision"]]
    if undecided:
        caveats.append(f"{len(undecided)} value conflict(s) have no recorded decision.")
    return {"intro": intro, "headline": headline, "supporting": supporting, "gates": gates,
            "caveats": caveats, "evidence": delib["evidence"], "not_a_verdict": NOT_A_VERDICT}


def build_view(record: dict[str, Any]) -> dict[str, Any]:
    """Everything the templates show, computed from an audit record."""
    ids = _Ids()
    for reserved in ("main", "summary", "contents", "context", "measures", "ranking",
                     "training", "guardrails", "deliberation", "method"):
        ids(reserved)
    ci_level = S.fmt_ci_level(record)
    small = S.min_group_size(record)
    gates = _gates_view(record, ci_level)
    rec = record.get("recommendation") or {}
    criteria = []
    for r in rec.get("recommended") or []:
        name = str(r.get("criterion"))
        metrics = list(r.get("metrics") or (record.get("criterion_metrics") or {}).get(name) or [])
        cid = ids(f"criterion-{name}")
        criteria.append({
            "name": name,
            "id": cid,
            "label": _text(r.get("label")) or _criterion_label(record, name),
            "role": _text(r.get("role")),
            "role_text": ROLE.get(str(r.get("role")), S.humanize(_text(r.get("role")))),
            "rationale": _text(r.get("rationale")),
            "metrics": [_metric_view(record, m, ids, ci_level, small, gates) for m in metrics],
        })
    not_recommended = [{"label": _text(r.get("label"))
                        or _criterion_label(record, str(r.get("criterion"))),
                        "rationale": _text(r.get("rationale")),
                        "metrics": [S.metric_label(m) for m in r.get("metrics") or []]}
                       for r in rec.get("not_recommended") or []]
    guardrails = _guardrails_view(record)
    delib = _deliberation_view(record)
    summary = _summary_view(record, criteria, gates, guardrails, delib, small)
    contents = [("summary", "Summary"), ("context", "Context and who decided"),
                ("measures", "Which measures, and why")]
    contents += [(c["id"], c["label"]) for c in criteria]
    training = _training_view(record)
    contents += [("ranking", "All gaps, ranked")]
    if training is not None:
        contents += [("training", "Training examples behind this disparity")]
    contents += [("guardrails", "Guardrails"),
                 ("deliberation", "Deliberation record"), ("method", "How to read the numbers")]
    return {
        "title": _text(record.get("title")) or "Audit report",
        "generated_at": _text(record.get("generated_at")),
        "scrutiny_version": _text(record.get("scrutiny_version")),
        "ci_level": ci_level,
        "small": small,
        "summary": summary,
        "context": _context_view(record),
        "recommendation": {
            "recommended": criteria,
            "not_recommended": not_recommended,
            "path": [str(p) for p in rec.get("path") or []],
            "caveats": [str(x) for x in rec.get("caveats") or []],
        },
        "criteria": criteria,
        "gates": gates,
        "ranking": _ranking_view(record, ids, ci_level),
        "training": training,
        "guardrails": guardrails,
        "deliberation": delib,
        "method": _method_view(record, ci_level, small),
        "contents": contents,
    }

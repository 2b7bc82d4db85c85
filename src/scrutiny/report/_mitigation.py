"""``mitigation.html``: the accuracy-versus-gap trade-off of ``scrutiny mitigate``, offline.

The page is rendered from the mitigation record (the content of
``mitigation.json``, its JSON twin). Like the audit report it has inline CSS
and inline SVG only, escapes everything taken from the record, and states
numbers with their intervals in plain sentences. It never names a best
option: it shows the trade-off, marks the frontier, and records the team's
choice when there is one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from scrutiny.report import _sentences as S
from scrutiny.report import _svg
from scrutiny.report._svg import CAUTION, GRID, INK, MARK, MUTED, WIDTH, _e, _f

ROLE_TEXT = {"baseline": "unmitigated model", "candidate": "candidate",
             "control": "random control (not a candidate)"}
SEVERITY = {"warning": "Warning", "caution": "Caution", "info": "Note"}


# --------------------------------------------------------------------------- chart


@dataclass
class ScatterPoint:
    """One option in the trade-off chart."""

    number: str
    label: str
    x: float
    y: float
    x_low: float | None = None
    x_high: float | None = None
    y_low: float | None = None
    y_high: float | None = None
    kind: str = "candidate"  # "baseline", "candidate" or "control"
    on_front: bool = False


def _marker(p: ScatterPoint, cx: float, cy: float) -> str:
    common = f'data-x="{p.x:.6g}" data-y="{p.y:.6g}"'
    if p.kind == "baseline":
        r = 7.0
        pts = " ".join(f"{_f(a)},{_f(b)}" for a, b in (
            (cx, cy - r), (cx + r, cy), (cx, cy + r), (cx - r, cy)))
        return (f'<polygon class="mark point baseline" points="{pts}" fill="{INK}" '
                f'stroke="#ffffff" stroke-width="1" {common}/>')
    if p.kind == "control":
        s = 5.5
        return (f'<rect class="mark point control" x="{_f(cx - s)}" y="{_f(cy - s)}" '
                f'width="{_f(2 * s)}" height="{_f(2 * s)}" fill="#ffffff" stroke="{MUTED}" '
                f'stroke-width="2" {common}/>')
    if p.on_front:
        return (f'<circle class="mark point front" cx="{_f(cx)}" cy="{_f(cy)}" r="6" '
                f'fill="{MARK}" stroke="#ffffff" stroke-width="1" {common}/>')
    return (f'<circle class="mark point" cx="{_f(cx)}" cy="{_f(cy)}" r="6" fill="#ffffff" '
            f'stroke="{MARK}" stroke-width="2.2" {common}/>')


def _range(values: Sequence[float], pad: float, floor: float | None = None,
           ceil: float | None = None) -> tuple[float, float]:
    lo, hi = min(values), max(values)
    span = hi - lo or max(abs(hi), 0.01)
    lo, hi = lo - pad * span, hi + pad * span
    if floor is not None:
        lo = max(lo, floor)
    if ceil is not None:
        hi = min(hi, ceil)
    step = _svg._nice_step(hi - lo)
    return math.floor(lo / step) * step, math.ceil(hi / step) * step


#: label offsets tried in order (dx, dy of the text baseline start from the point)
_OFFSETS = [(9, -8), (9, 15), (-17, -8), (-17, 15), (-4, -13), (-4, 23), (20, 4), (-28, 4),
            (14, -24), (-30, -22), (14, 32), (-30, 32), (30, -14), (-44, -14), (30, 22),
            (-44, 22)]


def _place_labels(anchors: Sequence[tuple[float, float, str]],
                  box: tuple[float, float, float, float]) -> list[tuple[float, float, bool]]:
    """Greedy label placement: the first offset whose text box hits no marker or label."""
    size = 12.5
    marks = [(x - 7, y - 7, x + 7, y + 7) for x, y, _ in anchors]
    taken: list[tuple[float, float, float, float]] = []
    out = []

    def hits(r: tuple[float, float, float, float]) -> bool:
        return any(r[0] < q[2] and q[0] < r[2] and r[1] < q[3] and q[1] < r[3]
                   for q in (*marks, *taken))

    for x, y, text in anchors:
        w = _svg._text_width(text, size) + 2
        chosen = None
        for k, (dx, dy) in enumerate(_OFFSETS):
            tx, ty = x + dx, y + dy
            rect = (tx - 1, ty - 11, tx + w, ty + 2)
            inside = box[0] <= rect[0] and rect[2] <= box[2] + 20 and box[1] - 20 <= rect[1]
            if inside and not hits(rect):
                chosen = (tx, ty, k >= 6)
                taken.append(rect)
                break
        if chosen is None:
            tx, ty = x + _OFFSETS[0][0], y + _OFFSETS[0][1]
            taken.append((tx - 1, ty - 11, tx + w, ty + 2))
            chosen = (tx, ty, False)
        out.append(chosen)
    return out


def scatter_chart(
    points: Sequence[ScatterPoint],
    *,
    chart_id: str,
    title: str,
    desc: str,
    x_label: str,
    y_label: str,
    interval_label: str = "95% interval",
) -> str:
    """Accuracy (up) against a gap (right), with interval whiskers and the frontier.

    Parameters
    ----------
    points : sequence of ScatterPoint
        The options; ``x`` is a gap and ``y`` an accuracy, both proportions.
    chart_id : str
        A document-unique id.
    title, desc : str
        The accessible name and the numbers in words.
    x_label, y_label : str
        What the axes measure.
    interval_label : str
        What the whiskers are, for the legend.

    Returns
    -------
    str
        The ``<svg>`` element.
    """
    height = 470.0
    left, right, top, bottom = 74.0, 24.0, 78.0, 64.0
    x0, x1, y0, y1 = left, WIDTH - right, height - bottom, top
    xs = [v for p in points for v in (p.x, p.x_low, p.x_high) if v is not None]
    ys = [v for p in points for v in (p.y, p.y_low, p.y_high) if v is not None]
    xlo, xhi = _range([0.0, *xs], 0.05, floor=0.0, ceil=1.0)
    ylo, yhi = _range(ys, 0.15, floor=0.0, ceil=1.0)

    def sx(v: float) -> float:
        return x0 + (min(max(v, xlo), xhi) - xlo) / (xhi - xlo) * (x1 - x0)

    def sy(v: float) -> float:
        return y0 - (min(max(v, ylo), yhi) - ylo) / (yhi - ylo) * (y0 - y1)

    out = _svg._svg_open(chart_id, height, title, desc)
    # legend, two rows
    out.append('<g class="legend" font-size="12.5" aria-hidden="true">')
    lx, ly = x0, 16.0
    out.append(_marker(ScatterPoint("", "", 0, 0, kind="baseline"), lx, ly).replace(
        "mark point", "legend-mark"))
    out.append(f'<text x="{_f(lx + 12)}" y="{_f(ly + 4)}">unmitigated model</text>')
    lx += 150
    out.append(_marker(ScatterPoint("", "", 0, 0, on_front=True), lx, ly).replace(
        "mark point", "legend-mark"))
    out.append(f'<text x="{_f(lx + 12)}" y="{_f(ly + 4)}">candidate on the frontier</text>')
    lx += 196
    out.append(_marker(ScatterPoint("", "", 0, 0), lx, ly).replace("mark point",
                                                                   "legend-mark"))
    out.append(f'<text x="{_f(lx + 12)}" y="{_f(ly + 4)}">candidate off the frontier</text>')
    lx, ly = x0, 40.0
    out.append(_marker(ScatterPoint("", "", 0, 0, kind="control"), lx, ly).replace(
        "mark point", "legend-mark"))
    out.append(f'<text x="{_f(lx + 12)}" y="{_f(ly + 4)}">random control</text>')
    lx += 150
    out.append(f'<line x1="{_f(lx - 8)}" y1="{_f(ly)}" x2="{_f(lx + 20)}" y2="{_f(ly)}" '
               f'stroke="{CAUTION}" stroke-width="2" stroke-dasharray="6 4"/>')
    out.append(f'<text x="{_f(lx + 26)}" y="{_f(ly + 4)}">frontier</text>')
    lx += 110
    out.append(f'<line x1="{_f(lx - 8)}" y1="{_f(ly)}" x2="{_f(lx + 18)}" y2="{_f(ly)}" '
               f'stroke="{MARK}" stroke-width="1.5"/>')
    for cx in (lx - 8, lx + 18):
        out.append(f'<line x1="{_f(cx)}" y1="{_f(ly - 4)}" x2="{_f(cx)}" y2="{_f(ly + 4)}" '
                   f'stroke="{MARK}" stroke-width="1.5"/>')
    out.append(f'<text x="{_f(lx + 24)}" y="{_f(ly + 4)}">{_e(interval_label)}</text>')
    out.append("</g>")
    # axes and grid
    out.append(f'<g class="axis" font-size="12" fill="{MUTED}" aria-hidden="true">')
    for t in _svg._ticks(xlo, xhi):
        x = sx(t)
        out.append(f'<line x1="{_f(x)}" y1="{_f(y1)}" x2="{_f(x)}" y2="{_f(y0)}" '
                   f'stroke="{GRID}" stroke-width="1"/>')
        text = f"{t * 100:.0f}" if abs(t * 100 - round(t * 100)) < 1e-6 else f"{t * 100:.1f}"
        out.append(f'<text x="{_f(x)}" y="{_f(y0 + 16)}" text-anchor="middle">{_e(text)}'
                   "</text>")
    for t in _svg._ticks(ylo, yhi):
        y = sy(t)
        out.append(f'<line x1="{_f(x0)}" y1="{_f(y)}" x2="{_f(x1)}" y2="{_f(y)}" '
                   f'stroke="{GRID}" stroke-width="1"/>')
        text = f"{t * 100:.0f}%" if abs(t * 100 - round(t * 100)) < 1e-6 else f"{t * 100:.1f}%"
        out.append(f'<text x="{_f(x0 - 8)}" y="{_f(y + 4)}" text-anchor="end">{_e(text)}</text>')
    out.append(f'<text x="{_f((x0 + x1) / 2)}" y="{_f(y0 + 40)}" text-anchor="middle" '
               f'fill="{INK}">{_e(x_label)}</text>')
    out.append(f'<text transform="translate(16 {_f((y0 + y1) / 2)}) rotate(-90)" '
               f'text-anchor="middle" fill="{INK}">{_e(y_label)}</text>')
    out.append(f'<text x="{_f(x0 + 6)}" y="{_f(y1 - 6)}" font-size="11.5" fill="{MUTED}">'
               "\u2196 higher accuracy and a smaller gap</text>")
    out.append("</g>")
    # the frontier
    front = sorted((p for p in points if p.on_front), key=lambda p: p.x)
    if len(front) > 1:
        pts = " ".join(f"{_f(sx(p.x))},{_f(sy(p.y))}" for p in front)
        out.append(f'<polyline class="frontier" points="{pts}" fill="none" stroke="{CAUTION}" '
                   'stroke-width="2" stroke-dasharray="6 4" aria-hidden="true"/>')
    # points: controls below candidates below the unmitigated model, so it is never hidden;
    # numbers last, placed where they collide least (the unmitigated model's first)
    rank = {"control": 0, "candidate": 1, "baseline": 2}
    points = sorted(points, key=lambda p: rank.get(p.kind, 1))
    order = sorted(range(len(points)), key=lambda i: -rank.get(points[i].kind, 1))
    placed = _place_labels([(sx(points[i].x), sy(points[i].y), points[i].number)
                            for i in order], (x0, y1, x1, y0))
    labels = [placed[order.index(i)] for i in range(len(points))]
    for p in points:
        cx, cy = sx(p.x), sy(p.y)
        color = MUTED if p.kind == "control" else (INK if p.kind == "baseline" else MARK)
        out.append('<g class="option" aria-hidden="true">')
        if p.x_low is not None and p.x_high is not None:
            a, b = sx(p.x_low), sx(p.x_high)
            out.append(f'<line class="ci" x1="{_f(a)}" y1="{_f(cy)}" x2="{_f(b)}" y2="{_f(cy)}" '
                       f'stroke="{color}" stroke-width="1.5"/>')
            for c in (a, b):
                out.append(f'<line class="ci-cap" x1="{_f(c)}" y1="{_f(cy - 4)}" x2="{_f(c)}" '
                           f'y2="{_f(cy + 4)}" stroke="{color}" stroke-width="1.5"/>')
        if p.y_low is not None and p.y_high is not None:
            a, b = sy(p.y_low), sy(p.y_high)
            out.append(f'<line class="ci" x1="{_f(cx)}" y1="{_f(a)}" x2="{_f(cx)}" y2="{_f(b)}" '
                       f'stroke="{color}" stroke-width="1.5"/>')
            for c in (a, b):
                out.append(f'<line class="ci-cap" x1="{_f(cx - 4)}" y1="{_f(c)}" '
                           f'x2="{_f(cx + 4)}" y2="{_f(c)}" stroke="{color}" '
                           'stroke-width="1.5"/>')
        out.append(_marker(p, cx, cy))
        out.append("</g>")
    out.append('<g class="numbers" font-size="12.5" font-weight="600" aria-hidden="true">')
    for (cx, cy, text), (tx, ty, moved) in zip(
            ((sx(p.x), sy(p.y), p.number) for p in points), labels, strict=True):
        if moved:
            out.append(f'<line x1="{_f(cx)}" y1="{_f(cy)}" x2="{_f(tx + 3)}" y2="{_f(ty - 4)}" '
                       f'stroke="{MUTED}" stroke-width="0.8"/>')
            out.append(f'<rect x="{_f(tx - 2)}" y="{_f(ty - 11)}" '
                       f'width="{_f(_svg._text_width(text, 12.5) + 4)}" height="14" '
                       'fill="#ffffff" fill-opacity="0.85"/>')
        out.append(f'<text x="{_f(tx)}" y="{_f(ty)}" fill="{INK}">{_e(text)}</text>')
    out.append("</g>")
    out.append("</svg>")
    return "\n".join(out)


# --------------------------------------------------------------------------- sentences


def _pp(x: Any, *, signed: bool = True, unit: str = "percentage points") -> str:
    """A change of proportions in percentage points, never rounded to a misleading zero."""
    v = S.finite(x)
    if v is None:
        return "not defined"
    p = abs(v) * 100
    if p == 0:
        text = "0"
    elif p < 0.095:
        text = f"{p:.2f}"
    elif p < 10:
        text = f"{p:.1f}"
    else:
        text = f"{p:.0f}"
    sign = ("\u2212" if v < 0 else "+") if signed and p > 0 else ""
    return f"{sign}{text}" + (f" {unit}" if unit else "")


def _signed_points(x: Any) -> str:
    return _pp(x)


def _signed_short(x: Any) -> str:
    return "–" if S.finite(x) is None else _pp(x, unit="")


def _ci_points(ci: Any) -> str:
    pair = S.ci_pair(ci)
    if pair is None:
        return "no interval"
    return f"{_signed_short(pair[0])} to {_signed_short(pair[1])} points"


def _pct_ci(ci: Any) -> str:
    pair = S.ci_pair(ci)
    return "" if pair is None else f"{S.pct(pair[0])}–{S.pct(pair[1])}"


def _gap_ci(ci: Any) -> str:
    pair = S.ci_pair(ci)
    if pair is None:
        return ""
    return f"{S.points(pair[0], short=True).removesuffix(' pts')}–" \
        f"{S.points(pair[1], short=True)}"


def _direction(ci: Any, *, what: str, lower: str, higher: str) -> str:
    pair = S.ci_pair(ci)
    if pair is None:
        return f"No interval could be computed, so this data cannot say how certain the {what} " \
            "change is."
    if pair[1] < 0:
        return f"The whole interval is below zero: on these held-out rows the {what} is {lower}."
    if pair[0] > 0:
        return f"The whole interval is above zero: on these held-out rows the {what} is {higher}."
    return f"The interval includes zero: this data cannot show that the {what} changed."


def _effect_sentences(c: dict[str, Any], base: dict[str, Any], target: str, target_label: str,
                      level: str) -> list[str]:
    eff = c.get("effect") or {}
    g = eff.get("gaps", {}).get(target, {})
    a = eff.get("accuracy", {})
    before, after = base["gaps"][target]["value"], c["gaps"][target]["value"]
    out = [
        f"The {target_label} went from {S.points(before)} with the unmitigated model to "
        f"{S.points(after)}: a change of {_signed_points(g.get('change'))} ({level} interval "
        f"{_ci_points(g.get('ci'))}). "
        + _direction(g.get("ci"), what="gap", lower="smaller than with the unmitigated model",
                     higher="larger than with the unmitigated model"),
        f"Accuracy went from {S.pct(base['accuracy']['value'])} to "
        f"{S.pct(c['accuracy']['value'])}: a change of {_signed_points(a.get('change'))} "
        f"({level} interval {_ci_points(a.get('ci'))}). "
        + _direction(a.get("ci"), what="accuracy", lower="lower", higher="higher"),
    ]
    own = c.get("constraint")
    if own and own != target and own in eff.get("gaps", {}):
        from scrutiny.mitigation._compare import TARGET_LABELS

        og = eff["gaps"][own]
        out.append(
            f"It was built to narrow a different gap, the {TARGET_LABELS[own]}: that gap went "
            f"from {S.points(base['gaps'][own]['value'])} to "
            f"{S.points(c['gaps'][own]['value'])} ({_signed_points(og.get('change'))}; "
            f"{level} interval {_ci_points(og.get('ci'))})."
        )
    return out


# --------------------------------------------------------------------------- the view


def _option_name(c: dict[str, Any]) -> str:
    return "Unmitigated model" if c["role"] == "baseline" else str(c["label"])


def build_mitigation_view(record: dict[str, Any]) -> dict[str, Any]:
    """Everything ``mitigation.html.j2`` shows, computed from a mitigation record."""
    from scrutiny.mitigation._compare import TARGET_LABELS

    target = record["target"]["name"]
    target_label = TARGET_LABELS.get(target, S.humanize(target).lower())
    opts = record.get("options") or {}
    level = S.level_text(opts.get("ci"))
    cands = record["candidates"]
    base = cands[0]
    numbered = [{"n": str(i + 1), **c} for i, c in enumerate(cands)]
    rows, points, desc = [], [], [
        f"Accuracy against the {target_label} on held-out rows, one point per option; lines "
        f"show {level} intervals. Higher and further left is higher accuracy with a smaller "
        "gap."]
    for c in numbered:
        acc, gap = c["accuracy"], c["gaps"][target]
        eff = c.get("effect") or {}
        ge, ae = eff.get("gaps", {}).get(target, {}), eff.get("accuracy", {})
        rows.append({
            "n": c["n"], "name": _option_name(c), "role": ROLE_TEXT.get(c["role"], c["role"]),
            "description": c.get("description") or "",
            "constraint": TARGET_LABELS.get(c.get("constraint") or "", "–"),
            "accuracy": S.pct(acc["value"]), "accuracy_ci": _pct_ci(acc["ci"]),
            "accuracy_change": _pp(ae.get("change"), unit="pts") if eff else "–",
            "accuracy_change_ci": _ci_points(ae.get("ci")) if eff else "",
            "gap": S.points(gap["value"], short=True), "gap_ci": _gap_ci(gap["ci"]),
            "gap_change": _pp(ge.get("change"), unit="pts") if eff else "–",
            "gap_change_ci": _ci_points(ge.get("ci")) if eff else "",
            "front": "Yes" if c.get("pareto") else ("–" if c["role"] == "control" else "No"),
        })
        if acc["value"] is not None and gap["value"] is not None:
            ci_g, ci_a = S.ci_pair(gap["ci"]), S.ci_pair(acc["ci"])
            points.append(ScatterPoint(
                number=c["n"], label=_option_name(c), x=gap["value"], y=acc["value"],
                x_low=ci_g[0] if ci_g else None, x_high=ci_g[1] if ci_g else None,
                y_low=ci_a[0] if ci_a else None, y_high=ci_a[1] if ci_a else None,
                kind=c["role"], on_front=bool(c.get("pareto")),
            ))
            desc.append(
                f"{c['n']}, {_option_name(c)} ({ROLE_TEXT.get(c['role'], c['role'])}"
                + (", on the frontier" if c.get("pareto") else "")
                + f"): gap {S.points(gap['value'])}"
                + (f" (interval {_gap_ci(gap['ci'])})" if ci_g else "")
                + f", accuracy {S.pct(acc['value'])}"
                + (f" (interval {_pct_ci(acc['ci'])})" if ci_a else "") + "."
            )
    chart = scatter_chart(
        points, chart_id="chart-tradeoff", title=f"Accuracy against the {target_label}",
        desc=" ".join(desc), x_label=f"{S.humanize(target_label)}, in percentage points",
        y_label="Accuracy on held-out rows", interval_label=f"{level} interval")
    findings = []
    for c in numbered[1:]:
        heading = f"{c['n']}. {_option_name(c)}"
        if c["role"] == "control":
            heading += " (random control)"
        findings.append({"heading": heading, "description": c.get("description") or "",
                         "sentences": _effect_sentences(c, base, target, target_label, level)})
    controls = []
    for c in cands:
        if c["role"] != "control":
            continue
        of = next((x for x in cands if x["label"] == c.get("control_for")), None)
        if of is None:
            continue
        ge_of = (of.get("effect") or {}).get("gaps", {}).get(target, {})
        ge_c = (c.get("effect") or {}).get("gaps", {}).get(target, {})
        ae_of = (of.get("effect") or {}).get("accuracy", {})
        controls.append(
            f"{of['label']} acted on {c.get('rows_acted_on', 0)} training rows chosen by "
            f"influence and changed the {target_label} by {_signed_points(ge_of.get('change'))}"
            f" ({level} interval {_ci_points(ge_of.get('ci'))}); the same number of random rows "
            f"changed it by {_signed_points(ge_c.get('change'))} ({level} interval "
            f"{_ci_points(ge_c.get('ci'))}). Its accuracy changed by "
            f"{_signed_points(ae_of.get('change'))}.")
    metrics = list(record.get("metrics") or [])
    other = []
    for c in numbered:
        cells = []
        for m in metrics:
            d = c["disparities"].get(m) or {}
            e = (c.get("effect") or {}).get("disparities", {}).get(m)
            text = S.points(d.get("difference"), short=True) if S.is_percent(m) else \
                S.fmt_value(m, d.get("difference"))
            change = f"{_pp(e.get('change'), unit='pts')} ({_ci_points(e.get('ci'))})" if e \
                else ""
            cells.append({"value": text, "change": change})
        other.append({"n": c["n"], "name": _option_name(c), "cells": cells})
    groups = []
    from scrutiny.mitigation._compare import TARGET_METRICS

    for m in TARGET_METRICS.get(target, ()):
        names = [g["group"] for g in base["groups"].get(m, [])]
        grows = []
        for c in numbered:
            by = {g["group"]: g for g in c["groups"].get(m, [])}
            grows.append({"n": c["n"], "name": _option_name(c), "cells": [
                S.pct(by[n]["value"]) + (f" ({_pct_ci(by[n]['ci'])})" if S.ci_pair(
                    by[n]["ci"]) else "") if n in by else "–" for n in names]})
        groups.append({"metric": S.humanize(S.metric_label(m)), "groups": names,
                       "rows": grows})
    front = [next(_option_name(c) for c in cands if c["label"] == lab)
             for lab in record.get("pareto_front") or []]
    d = record.get("data") or {}
    n_cand = sum(1 for c in cands if c["role"] == "candidate")
    intro = [
        f"{n_cand} mitigation candidate{'s' if n_cand != 1 else ''} "
        f"{'were' if n_cand != 1 else 'was'} trained on {S.count(d.get('n_fit'))} training rows "
        f"and compared with the unmitigated model on {S.count(d.get('n_test'))} held-out rows, "
        f"by {', '.join(record.get('sensitive_features') or []) or 'group'}.",
        f"The gap on the chart is the {target_label}: {record['target'].get('source', '')}.",
    ]
    if front:
        intro.append(
            f"{len(front)} option{'s are' if len(front) != 1 else ' is'} on the trade-off "
            f"frontier (no other option has both higher accuracy and a smaller gap): "
            f"{S.join_names(front)}. Which of them to adopt is a judgement this page does not "
            "make.")
    choice = record.get("choice")
    decision = None
    if choice:
        decision = (f"The team chose {choice['candidate']}"
                    + (f" ({choice['decided_by']}" + (f", {choice['decided_on']}"
                                                      if choice.get("decided_on") else "") + ")")
                    + f". Their reasons: {choice['rationale']}")
    prior = record.get("prior_assessment")
    prior_text = None
    if prior:
        top = prior.get("largest_gap") or {}
        prior_text = (f"This mitigation follows the assessment “{prior.get('title')}” of "
                      f"{prior.get('generated_at')} ({prior.get('path')})."
                      + (f" Its most certain gap was in {S.metric_label(top['metric'])}: "
                         f"{S.fmt_diff(top['metric'], top.get('difference'))}."
                         if top.get("metric") else ""))
    guardrails = [{"severity": SEVERITY.get(g["severity"], S.humanize(g["severity"])),
                   "message": g["message"], "where": g.get("where")}
                  for g in record.get("guardrails") or []]
    log = []
    for i, entry in enumerate(record.get("decision_log") or []):
        log.append({
            "heading": f"Decision {i + 1}: " + " versus ".join(str(v) for v in entry["values"]),
            "description": entry.get("description") or "",
            "options": [str(o) for o in entry.get("options") or []],
            "decision": entry.get("decision"),
            "rationale": entry.get("rationale"),
            "decided_by": entry.get("decided_by"),
            "decided_on": entry.get("decided_on"),
            "source": entry.get("source"),
        })
    method = [
        *record.get("notes", []),
        f"Each accuracy and gap has a {level} interval from the fairness engine (Wilson "
        "intervals for rates; a bootstrap of the group counts for gaps, "
        f"{S.count(opts.get('n_boot'))} resamples).",
        f"Each change against the unmitigated model has a {level} paired bootstrap interval: "
        "the held-out rows were resampled and every option was scored on the same resample, "
        "so the interval reflects the change itself, not the uncertainty of each number "
        "separately.",
        "A gap is the largest minus the smallest group value. With few people in a group the "
        "gap is unstable; read it with its interval. Chance alone pushes the largest-minus-"
        "smallest of noisy group values up, so for a gap near zero the interval can sit above "
        "the measured value, and the interval of a change that brings a gap close to zero "
        "can reach above zero although the gap narrowed: the intervals are cautious about "
        "claiming that a gap closed.",
        "The frontier uses the measured values only. When intervals overlap, the data cannot "
        "order the options with confidence, and neighbouring options may swap places on new "
        "data.",
        "Every number on this page is in mitigation.json next to this file. Generated by "
        f"scrutiny {record.get('scrutiny_version')} on {record.get('generated_at')}.",
    ]
    return {
        "title": str(record.get("title") or "Mitigation comparison"),
        "generated_at": str(record.get("generated_at") or ""),
        "scrutiny_version": str(record.get("scrutiny_version") or ""),
        "level": level,
        "target_label": target_label,
        "intro": intro,
        "decision": decision,
        "prior": prior_text,
        "not_a_verdict": record.get("not_a_verdict") or "",
        "chart": chart,
        "rows": rows,
        "findings": findings,
        "controls": controls,
        "metrics": [S.humanize(S.metric_label(m)) for m in metrics],
        "other": other,
        "groups": groups,
        "guardrails": guardrails,
        "top_warnings": [g for g in guardrails if g["severity"] == "Warning"],
        "log": log,
        "method": method,
        "model": str(d.get("estimator") or ""),
        "data_rows": [
            ("Model", f"{d.get('estimator')} from {d.get('model')}"),
            ("Training rows", f"{S.count(d.get('n_train'))} from {d.get('training_source')}: "
             f"{S.count(d.get('n_fit'))} to fit, {S.count(d.get('n_validation'))} for "
             "validation"),
            ("Held-out rows", f"{S.count(d.get('n_test'))} from {d.get('held_out_source')}"),
            ("A positive outcome means", f"{d.get('y_true')} = {d.get('pos_label')}"),
            ("Groups", ", ".join(str(g) for g in d.get("groups") or [])),
        ],
    }


def render_mitigation_html(record: dict[str, Any]) -> str:
    """Render a mitigation record (``mitigation.json``) as a self-contained HTML page.

    Parameters
    ----------
    record : dict
        The record built by ``scrutiny mitigate`` (``run_mitigation``).

    Returns
    -------
    str
        The HTML page: summary, the trade-off chart and table, each option's
        changes in sentences, the random controls, other gaps, per-group values,
        guardrails, the decision log and method notes.
    """
    from scrutiny.report._html import _env

    return _env().get_template("mitigation.html.j2").render(v=build_mitigation_view(record))

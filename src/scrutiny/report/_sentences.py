"""Plain-language sentences generated from the numbers of an audit record.

Every sentence here is built from values in the record, never from a fixed
verdict. The wording follows three rules:

- numbers come with their interval ("53% (95% interval 49%–57%)");
- when intervals overlap, the sentence says that the data cannot tell the
  groups apart with confidence, instead of naming a "winner";
- no sentence calls a model or a result fair, unfair or biased: the report
  describes gaps and uncertainty, and people decide.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from scrutiny.fairness._metrics import MetricSpec, spec_for, split_class_metric

#: width above which an interval of a proportion is called wide (30 percentage points)
WIDE_INTERVAL = 0.30
DEFAULT_MIN_GROUP_SIZE = 30
#: groups listed one by one in a sentence; above this only the extremes are named
MAX_LISTED = 3

_DENOMINATOR_WORDS = {
    ("tp", "fn"): "people whose true outcome is positive",
    ("fp", "tn"): "people whose true outcome is negative",
    ("tp", "fp"): "people the model marks as positive",
    ("fn", "tn"): "people the model marks as negative",
    ("tp", "fp", "fn", "tn"): "people",
}

#: metric -> (framing clause, verb phrase) for "Framing, verb 53% of the X group ..."
_PHRASES: dict[str, tuple[str, str]] = {
    "true_positive_rate": ("Among people whose true outcome is positive", "the model identifies"),
    "false_negative_rate": ("Among people whose true outcome is positive", "the model misses"),
    "false_positive_rate": (
        "Among people whose true outcome is negative", "the model wrongly marks as positive"),
    "true_negative_rate": (
        "Among people whose true outcome is negative", "the model correctly marks as negative"),
    "selection_rate": ("", "the model gives the positive decision to"),
    "base_rate": ("", "the true outcome is positive for"),
    "precision": ("Among people the model marks as positive", "the true outcome is positive for"),
    "negative_predictive_value": (
        "Among people the model marks as negative", "the true outcome is negative for"),
    "false_discovery_rate": (
        "Among people the model marks as positive", "the true outcome is negative for"),
    "false_omission_rate": (
        "Among people the model marks as negative", "the true outcome is positive for"),
    "accuracy": ("", "the prediction is correct for"),
    "error_rate": ("", "the prediction is wrong for"),
    "false_positives_per_person": (
        "Counting everyone in the group", "the model wrongly marks as positive"),
    "false_negatives_per_person": (
        "Counting everyone in the group", "the model wrongly marks as negative"),
}

_PERCENT_EXTRA = frozenset({"balanced_accuracy"})


# ---------------------------------------------------------------------------
# metric facts


def metric_spec(metric: str) -> MetricSpec | None:
    """The registry entry of a metric (class suffix allowed), or None when unknown."""
    try:
        return spec_for(metric)
    except KeyError:
        return None


def metric_label(metric: str) -> str:
    """The metric's plain name, e.g. ``"true positive rate"`` (with its class, if any)."""
    base, cls = split_class_metric(metric)
    spec = metric_spec(base)
    label = spec.label if spec is not None else base.replace("_", " ")
    return f"{label} (class {cls})" if cls is not None else label


def is_percent(metric: str) -> bool:
    """True when the metric is a share of people, shown as a percentage."""
    spec = metric_spec(metric)
    return spec is not None and (spec.is_rate or spec.name in _PERCENT_EXTRA)


def humanize(name: str) -> str:
    """``"equal_opportunity"`` -> ``"Equal opportunity"``."""
    text = name.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


# ---------------------------------------------------------------------------
# numbers


def finite(x: Any) -> float | None:
    """A finite float, or None (for None, NaN, infinities and non-numbers)."""
    if x is None or isinstance(x, bool):
        return None
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _minus(text: str) -> str:
    return text.replace("-", "\u2212") if text.startswith("-") else text


def pct(x: Any) -> str:
    """A proportion as a percentage: ``0.5339 -> "53%"``, ``0.0455 -> "4.5%"``."""
    v = finite(x)
    if v is None:
        return "not defined"
    p = v * 100
    whole = round(p)
    if abs(p - whole) < 1e-9 or (abs(p) >= 10 and not 99.5 <= abs(p) < 100):
        text = f"{whole:.0f}"
    else:
        text = f"{p:.1f}"
    if text in ("-0", "-0.0"):
        text = text[1:]
    return _minus(text) + "%"


def number(x: Any) -> str:
    """A number with about three significant digits."""
    v = finite(x)
    if v is None:
        return "not defined"
    if abs(v) >= 1000:
        text = f"{v:,.0f}"
    elif v == 0:
        text = "0"
    else:
        text = f"{v:.3g}"
        if "e" in text:
            text = f"{v:.2e}"
    return _minus(text)


def count(n: Any) -> str:
    """A head count with thousands separators."""
    v = finite(n)
    return "unknown" if v is None else f"{v:,.0f}"


def fmt_value(metric: str, x: Any) -> str:
    """A metric value in the metric's unit."""
    if metric == "selection_count":
        v = finite(x)
        return "not defined" if v is None else f"{v:,.0f}"
    return pct(x) if is_percent(metric) else number(x)


def points(x: Any, *, short: bool = False) -> str:
    """A difference of proportions in percentage points."""
    v = finite(x)
    if v is None:
        return "not defined"
    p = abs(v) * 100
    text = f"{p:.0f}" if p >= 10 or abs(p - round(p)) < 1e-9 else f"{p:.1f}"
    sign = "\u2212" if v < 0 and text not in ("0", "0.0") else ""
    unit = "pts" if short else ("percentage point" if text == "1" else "percentage points")
    return f"{sign}{text} {unit}"


def fmt_diff(metric: str, x: Any, *, short: bool = False) -> str:
    """A gap between groups in the metric's unit (percentage points for shares)."""
    return points(x, short=short) if is_percent(metric) else fmt_value(metric, x)


def level_text(ci_level: Any) -> str:
    """``0.95 -> "95%"``."""
    v = finite(ci_level)
    if v is None:
        return "95%"
    p = v * 100
    return f"{p:.0f}%" if abs(p - round(p)) < 1e-9 else f"{p:.1f}%"


def ci_pair(ci: Any) -> tuple[float, float] | None:
    """A finite (low, high) pair, or None."""
    if not ci or len(ci) != 2:
        return None
    lo, hi = finite(ci[0]), finite(ci[1])
    return None if lo is None or hi is None else (lo, hi)


def fmt_ci(metric: str, ci: Any, *, level: str | None = None, diff: bool = False) -> str:
    """An interval: ``"49%–57%"``, or ``"95% interval 49%–57%"`` when ``level`` is given."""
    pair = ci_pair(ci)
    if pair is None:
        return "no interval"
    if diff and is_percent(metric):
        lo, hi = points(pair[0], short=True), points(pair[1])
        text = f"{lo.removesuffix(' pts')} to {hi}"
    else:
        text = f"{fmt_value(metric, pair[0])}\u2013{fmt_value(metric, pair[1])}"
    return f"{level} interval {text}" if level else text


def value_with_ci(metric: str, value: Any, ci: Any, *, level: str | None = None) -> str:
    """``"53% (95% interval 49%–57%)"`` or ``"53% (49%–57%)"``; just the value without interval."""
    v = fmt_value(metric, value)
    if ci_pair(ci) is None:
        return v
    return f"{v} ({fmt_ci(metric, ci, level=level)})"


# ---------------------------------------------------------------------------
# groups


def group_name(features: dict[str, Any] | Sequence[Any]) -> str:
    """A group's display name: its values joined by commas."""
    values = features.values() if isinstance(features, dict) else features
    return ", ".join(str(v) for v in values)


@dataclass
class GroupValue:
    """One group's value of one metric, with what qualifies it."""

    name: str
    count: int | None
    value: float | None
    ci: tuple[float, float] | None
    caveat: str | None = None
    is_reference: bool = False


def min_group_size(record: dict[str, Any]) -> int:
    """The size under which a group is called small (from the record, else the default 30)."""
    a = record.get("assessment") or {}
    v = finite((record.get("assessment_options") or {}).get("min_group_size"))
    if v is not None:
        return int(v)
    for w in a.get("warnings") or []:
        m = re.search(r"fewer than (\d+) rows", str(w.get("message", "")))
        if w.get("code") == "small_group" and m:
            return int(m.group(1))
    return DEFAULT_MIN_GROUP_SIZE


def denominator_estimate(metric: str, group: dict[str, Any]) -> tuple[float, str] | None:
    """About how many people a group's rate rests on, and who they are.

    Uses the group's row count with its base rate or selection rate (always
    in an audit record). Approximate when rows are weighted.
    """
    spec = metric_spec(metric)
    if spec is None or not spec.is_rate:
        return None
    n = finite(group.get("count"))
    if n is None:
        return None
    den = tuple(spec.denominator)
    words = _DENOMINATOR_WORDS.get(den)
    if words is None:
        return None
    metrics = group.get("metrics") or {}

    def val(name: str) -> float | None:
        return finite((metrics.get(name) or {}).get("value"))

    if den == ("tp", "fp", "fn", "tn"):
        return n, words
    if den in (("tp", "fn"), ("fp", "tn")):
        share = val("base_rate")
        if share is None:
            return None
        return (n * share if den == ("tp", "fn") else n * (1 - share)), words
    share = val("selection_rate")
    if share is None:
        return None
    return (n * share if den == ("tp", "fp") else n * (1 - share)), words


def caveat_for(metric: str, group: dict[str, Any], *, small: int) -> str | None:
    """Why one group's number should be read with care, or None."""
    n = finite(group.get("count"))
    m = (group.get("metrics") or {}).get(metric) or {}
    est = denominator_estimate(metric, group)
    behind = ""
    if est is not None and n is not None and est[0] < n:
        k = est[0]
        about = "about " if abs(k - round(k)) > 1e-6 else ""
        behind = f"{about}{count(k)} {est[1]}"
    if n is not None and n < small:
        text = f"Small group: only {count(n)} people (fewer than {small})"
        return text + (f"; the number rests on {behind}." if behind else ".")
    if finite(m.get("value")) is None:
        return "Not defined: nobody in this group is in the metric's denominator."
    if est is not None and est[0] < small:
        k = est[0]
        about = "about " if abs(k - round(k)) > 1e-6 else ""
        return f"Few people behind this number: {about}{count(k)} {est[1]}."
    pair = ci_pair(m.get("ci"))
    if pair is not None and is_percent(metric) and pair[1] - pair[0] > WIDE_INTERVAL:
        return (f"Wide interval: the true value could be anywhere from "
                f"{fmt_value(metric, pair[0])} to {fmt_value(metric, pair[1])}.")
    return None


def group_values(
    metric: str, groups: Sequence[dict[str, Any]], *, small: int
) -> list[GroupValue]:
    """The groups' values of one metric, with caveats, in the record's order."""
    out = []
    for g in groups:
        m = (g.get("metrics") or {}).get(metric)
        if m is None:
            continue
        out.append(GroupValue(
            name=group_name(g.get("features") or {}),
            count=int(g["count"]) if finite(g.get("count")) is not None else None,
            value=finite(m.get("value")),
            ci=ci_pair(m.get("ci")),
            caveat=caveat_for(metric, g, small=small),
            is_reference=bool(g.get("is_reference")),
        ))
    return out


# ---------------------------------------------------------------------------
# sentences


def _join(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    if len(items) == 2:
        return f"{items[0]} and {items[1]}"
    return ", ".join(items[:-1]) + f", and {items[-1]}"


def join_names(names: Sequence[str]) -> str:
    """Group names in a list: commas, or semicolons when a name has a comma itself."""
    sep = "; " if any("," in n for n in names) else ", "
    return sep.join(names)


def _sentence(text: str) -> str:
    text = text.strip()
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def _phrase(metric: str) -> tuple[str, str] | None:
    base, _ = split_class_metric(metric)
    return _PHRASES.get(base)


def _share_of(metric: str, g: GroupValue, level: str | None) -> str:
    """``"53% of the Female group (95% interval 49%–57%)"``."""
    v = fmt_value(metric, g.value)
    ci = f" ({fmt_ci(metric, g.ci, level=level)})" if g.ci else ""
    return f"{v} of the {g.name} group{ci}"


def _value_for(metric: str, g: GroupValue, level: str | None) -> str:
    """``"0.81 for the Female group (95% interval 0.78–0.84)"``."""
    v = fmt_value(metric, g.value)
    ci = f" ({fmt_ci(metric, g.ci, level=level)})" if g.ci else ""
    return f"{v} for the {g.name} group{ci}"


def values_sentence(
    metric: str, groups: Sequence[GroupValue], ci_level: str | None
) -> str:
    """One sentence stating the groups' values with their intervals.

    Three groups or fewer are all named; with more, the lowest and highest are.
    """
    defined = [g for g in groups if g.value is not None]
    if not defined:
        return f"The {metric_label(metric)} is not defined for any group."
    phrase = _phrase(metric)
    if len(defined) <= MAX_LISTED:
        chosen = defined
        fmt = _share_of if phrase else _value_for
        parts = [fmt(metric, g, ci_level if i == 0 else None) for i, g in enumerate(chosen)]
        body = _join(parts)
        if phrase:
            frame, verb = phrase
            text = f"{frame}, {verb} {body}" if frame else f"{verb} {body}"
        else:
            text = f"the {metric_label(metric)} is {body}"
        return _sentence(text)
    lo = min(defined, key=lambda g: g.value)  # type: ignore[arg-type, return-value]
    hi = max(defined, key=lambda g: g.value)  # type: ignore[arg-type, return-value]
    fmt = _share_of if phrase else _value_for
    span = f"from {fmt(metric, lo, ci_level)} to {fmt(metric, hi, None)}"
    tail = f", across {len(defined)} groups"
    if phrase:
        frame, verb = phrase
        text = f"{frame}, {verb} {span}{tail}" if frame else f"{verb} {span}{tail}"
    else:
        text = f"the {metric_label(metric)} ranges {span}{tail}"
    return _sentence(text)


def overall_sentence(
    metric: str, overall: dict[str, Any] | None, ci_level: str | None
) -> str | None:
    """``"Over everyone, the figure is 59% (95% interval 57%–61%)."``."""
    if not overall or finite(overall.get("value")) is None:
        return None
    return (f"Over everyone in the data, the {metric_label(metric)} is "
            f"{value_with_ci(metric, overall.get('value'), overall.get('ci'), level=ci_level)}.")


def _overlap_pair(groups: Sequence[GroupValue]) -> tuple[GroupValue, GroupValue] | None:
    """The two groups whose intervals are furthest apart, when some do not overlap."""
    with_ci = [g for g in groups if g.ci is not None and g.value is not None]
    if len(with_ci) < 2:
        return None
    low = min(with_ci, key=lambda g: g.ci[1])  # type: ignore[index]
    high = max(with_ci, key=lambda g: g.ci[0])  # type: ignore[index]
    if high.ci[0] > low.ci[1]:  # type: ignore[index]
        return low, high
    return None


def comparison_sentence(
    metric: str,
    groups: Sequence[GroupValue],
    disparity: dict[str, Any] | None,
    ci_level: str | None,
) -> str:
    """What the intervals allow one to say about the difference between groups."""
    defined = [g for g in groups if g.value is not None]
    if len(defined) < 2:
        return "There are not enough groups with a value to compare."
    if all(g.ci is None for g in defined):
        return ("No intervals were computed, so this report cannot say how much of the "
                "differences could be due to chance.")
    pair = _overlap_pair(defined)
    d = disparity or {}
    gap = ""
    if finite(d.get("difference")) is not None:
        ci = ci_pair(d.get("ci_difference"))
        ci_text = f" ({fmt_ci(metric, ci, level=ci_level, diff=True)})" if ci else ""
        gap = f"{fmt_diff(metric, d.get('difference'))}{ci_text}"
    if pair is None:
        if len(defined) == 2:
            text = ("The two intervals overlap, so the data cannot tell these groups apart "
                    "with confidence")
        else:
            text = ("All the intervals overlap, so the data cannot tell these groups apart "
                    "with confidence")
        if gap:
            text += f"; the measured gap between the highest and lowest value is {gap}"
        return _sentence(text)
    low, high = pair
    if len(defined) == 2:
        text = ("The two intervals do not overlap: the gap between the groups"
                + (f", {gap}," if gap else "")
                + " is larger than chance alone would be likely to produce in data of this size")
        return _sentence(text)
    text = (f"The intervals of the {low.name} group ({fmt_ci(metric, low.ci)}) and the "
            f"{high.name} group ({fmt_ci(metric, high.ci)}) do not overlap: these two groups "
            "differ by more than chance alone would be likely to produce")
    lo_val = min(defined, key=lambda g: g.value)  # type: ignore[arg-type, return-value]
    hi_val = max(defined, key=lambda g: g.value)  # type: ignore[arg-type, return-value]
    extremes_overlap = (lo_val.ci is not None and hi_val.ci is not None
                        and lo_val.ci[1] >= hi_val.ci[0])
    out = _sentence(text)
    if extremes_overlap and {lo_val.name, hi_val.name} != {low.name, high.name}:
        out += (f" The lowest ({lo_val.name}) and highest ({hi_val.name}) values come from "
                "groups with wide, overlapping intervals, so those two cannot be told apart "
                "with confidence.")
    if gap:
        out += f" The largest measured gap between two groups is {gap}."
    return out


def ratio_sentence(metric: str, disparity: dict[str, Any] | None) -> str | None:
    """``"Put as a ratio, the lowest value is 42% of the highest."``."""
    r = finite((disparity or {}).get("ratio"))
    if r is None:
        return None
    return f"Put as a ratio, the lowest value is {pct(r)} of the highest."


def caveat_sentence(metric: str, groups: Sequence[GroupValue]) -> str | None:
    """A sentence naming the groups whose numbers carry a caveat."""
    flagged = [g.name for g in groups if g.caveat]
    if not flagged:
        return None
    if len(flagged) == 1:
        return (f"Read the number for the {flagged[0]} group with care: it rests on few "
                "people or has a wide interval (see the note beside it).")
    return (f"Read the numbers for {len(flagged)} groups with care ({join_names(flagged)}): they "
            "rest on few people or have wide intervals (see the notes beside them).")


def gate_sentences(
    gate: dict[str, Any], label: str, metric_for_units: str | None, ci_level: str | None = "95%"
) -> list[str]:
    """What the team agreed for one gate, what was measured, and how sure the data are."""
    unit_metric = metric_for_units or ""
    percent = is_percent(unit_metric)
    out = []
    diff, ratio = finite(gate.get("difference")), finite(gate.get("ratio"))
    ci = ci_pair(gate.get("ci_difference"))
    max_d, min_r = finite(gate.get("max_difference")), finite(gate.get("min_ratio"))
    if max_d is not None:
        limit = points(max_d) if percent else number(max_d)
        measured = fmt_diff(unit_metric, diff) if percent else number(diff)
        if ci is None:
            ci_text = ""
        elif percent:
            ci_text = f" ({fmt_ci(unit_metric, ci, level=ci_level, diff=True)})"
        else:
            ci_text = f" ({ci_level or 'the'} interval {number(ci[0])} to {number(ci[1])})"
        out.append(f"The team agreed that the gap between groups in {label} should be at most "
                   f"{limit}. The measured gap is {measured}{ci_text}.")
        if diff is not None and ci is not None:
            if diff > max_d and ci[0] > max_d:
                out.append("Even the low end of the interval is above the agreed limit.")
            elif diff > max_d:
                out.append("The interval reaches below the limit, so the data cannot say for "
                           "sure that the true gap is above it.")
            elif ci[1] > max_d:
                out.append("The interval reaches above the limit, so the true gap may be "
                           "larger than agreed.")
    if min_r is not None:
        out.append(f"The team agreed that the lowest group's value should be at least "
                   f"{pct(min_r)} of the highest group's. It is {pct(ratio)}.")
    status = gate.get("status")
    if status == "pass":
        out.append("This is within the agreed threshold.")
    elif status in ("warn", "fail"):
        what = "makes the check fail" if status == "fail" else "raises a warning"
        out.append(f"This crosses the agreed threshold and {what}.")
    return out


def gate_status_text(status: Any) -> str:
    """A short status label for a gate."""
    return {
        "pass": "Within the agreed threshold",
        "warn": "Threshold crossed (warning)",
        "fail": "Threshold crossed (check fails)",
    }.get(str(status), str(status))


def fmt_ci_level(record: dict[str, Any]) -> str | None:
    """The interval level of the record as text, or None when intervals are off."""
    a = record.get("assessment") or {}
    if a.get("ci_level") is None:
        return None
    return level_text(a.get("ci_level"))

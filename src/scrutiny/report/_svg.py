"""Inline SVG charts for the report: no script, no external resource, readable without colour.

Two charts:

- :func:`dot_chart`: one row per group, a dot at the measured value and a
  whisker for its confidence interval, with the overall value as a dashed
  reference line. Groups whose number needs care get a hollow dot and a
  warning triangle (shape, not only colour).
- :func:`bar_chart`: the gaps between groups, largest first, each bar with the
  interval of the gap.

Every chart is ``role="img"`` with a ``<title>`` and a ``<desc>`` that states
its numbers in words, so a screen reader gets the same information as the eye.
All text is escaped here: the functions return markup ready to inline.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

WIDTH = 760
INK = "#1b1b1b"
MUTED = "#4a4a4a"
MARK = "#1f4e79"
CAUTION = "#8a4500"
GRID = "#d0d0d0"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _f(x: float) -> str:
    """A coordinate with at most one decimal."""
    text = f"{x:.1f}"
    return text[:-2] if text.endswith(".0") else text


@dataclass
class DotRow:
    """One group in a dot chart."""

    label: str
    sublabel: str
    value: float | None
    low: float | None = None
    high: float | None = None
    value_text: str = ""
    caution: bool = False


@dataclass
class BarRow:
    """One gap in the ranking chart."""

    label: str
    sublabel: str
    value: float
    low: float | None = None
    high: float | None = None
    value_text: str = ""


def _nice_step(span: float, target: int = 5) -> float:
    if span <= 0 or not math.isfinite(span):
        return 1.0
    raw = span / target
    mag = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * mag:
            return m * mag
    return 10 * mag  # pragma: no cover


def _domain(values: Sequence[float], *, percent: bool, from_zero: bool) -> tuple[float, float]:
    finite = [v for v in values if v is not None and math.isfinite(v)]
    if percent and not finite:
        return 0.0, 1.0
    if percent and all(0 <= v <= 1 for v in finite):
        hi = max(finite) if finite else 1.0
        return 0.0, 1.0 if hi > 0.5 or not from_zero else min(1.0, _ceil(hi, 0.1))
    if not finite:
        return 0.0, 1.0
    lo, hi = min(finite), max(finite)
    if from_zero or (lo >= 0 and lo <= 0.5 * hi):
        lo = min(lo, 0.0)
    if hi == lo:
        hi, lo = hi + (abs(hi) or 1) * 0.1, lo - (abs(lo) or 1) * 0.1
    step = _nice_step(hi - lo)
    return math.floor(lo / step) * step, math.ceil(hi / step) * step


def _ceil(x: float, step: float) -> float:
    return math.ceil(x / step - 1e-9) * step


def _ticks(lo: float, hi: float) -> list[float]:
    step = _nice_step(hi - lo)
    first = math.ceil(lo / step - 1e-9) * step
    out, t = [], first
    while t <= hi + step * 1e-6:
        out.append(round(t, 10))
        t += step
    return out


def _text_width(text: str, size: float) -> float:
    """A rough width of text in the system sans-serif font."""
    return len(text) * size * 0.56


def _truncate(text: str, size: float, width: float) -> str:
    if _text_width(text, size) <= width:
        return text
    n = max(3, int(width / (size * 0.56)) - 1)
    return text[:n] + "\u2026"


def _svg_open(chart_id: str, height: float, title: str, desc: str) -> list[str]:
    return [
        f'<svg class="chart" id="{_e(chart_id)}" '
        f'role="img" aria-labelledby="{_e(chart_id)}-title {_e(chart_id)}-desc" '
        f'viewBox="0 0 {WIDTH} {_f(height)}" width="{WIDTH}" height="{_f(height)}" '
        f'preserveAspectRatio="xMinYMin meet" font-family="{_e(FONT)}" fill="{INK}">',
        f'<title id="{_e(chart_id)}-title">{_e(title)}</title>',
        f'<desc id="{_e(chart_id)}-desc">{_e(desc)}</desc>',
    ]


def _warning_triangle(x: float, y: float, size: float = 11) -> str:
    """A warning triangle with an exclamation mark, drawn (no font needed)."""
    h = size * 0.9
    pts = " ".join(f"{_f(px)},{_f(py)}" for px, py in (
        (x, y - h / 2), (x + size / 2, y + h / 2), (x - size / 2, y + h / 2)))
    return (
        f'<g class="caution-mark" aria-hidden="true">'
        f'<polygon points="{pts}" fill="#ffd35c" stroke="{CAUTION}" stroke-width="1.4" '
        f'stroke-linejoin="round"/>'
        f'<line x1="{_f(x)}" y1="{_f(y - h / 6)}" x2="{_f(x)}" y2="{_f(y + h / 6)}" '
        f'stroke="{INK}" stroke-width="1.4"/>'
        f'<circle cx="{_f(x)}" cy="{_f(y + h / 3)}" r="0.8" fill="{INK}"/></g>'
    )


def dot_chart(
    rows: Sequence[DotRow],
    *,
    chart_id: str,
    title: str,
    desc: str,
    axis_label: str,
    percent: bool,
    overall: float | None = None,
    overall_text: str = "",
    interval_label: str = "95% interval",
) -> str:
    """Per-group dots with interval whiskers and the overall value as a reference line.

    Parameters
    ----------
    rows : sequence of DotRow
        The groups, top to bottom.
    chart_id : str
        A document-unique id (the title and description ids derive from it).
    title, desc : str
        The accessible name and the numbers in words.
    axis_label : str
        What the horizontal axis measures.
    percent : bool
        Values are proportions, drawn on a 0–100% axis.
    overall : float, optional
        The value over everyone, drawn as a dashed vertical line.
    overall_text : str
        How the overall value is written (e.g. ``"59%"``).
    interval_label : str
        What the whiskers are, for the legend.

    Returns
    -------
    str
        The ``<svg>`` element.
    """
    size, small = 14.0, 13.0
    label_w = max((_text_width(r.label, size) for r in rows), default=60)
    left = min(max(label_w + 24, 130), 300)
    value_w = max((_text_width(r.value_text, small) * 1.12 for r in rows), default=40) + 48
    right = min(max(value_w, 100), 230)
    x0, x1 = left, WIDTH - right
    top, row_h = 56.0, 38.0
    height = top + row_h * len(rows) + 50
    everything = [v for r in rows for v in (r.value, r.low, r.high) if v is not None]
    if overall is not None:
        everything.append(overall)
    lo, hi = _domain(everything, percent=percent, from_zero=percent)
    if percent:
        lo, hi = 0.0, 1.0

    def sx(v: float) -> float:
        v = min(max(v, lo), hi)
        return x0 + (v - lo) / (hi - lo) * (x1 - x0)

    out = _svg_open(chart_id, height, title, desc)
    # legend
    ly = 16.0
    out.append('<g class="legend" font-size="12.5" aria-hidden="true">')
    out.append(f'<circle cx="{_f(x0)}" cy="{_f(ly)}" r="5" fill="{MARK}"/>')
    out.append(f'<text x="{_f(x0 + 10)}" y="{_f(ly + 4)}">measured value</text>')
    lx = x0 + 122
    out.append(f'<line x1="{_f(lx)}" y1="{_f(ly)}" x2="{_f(lx + 26)}" y2="{_f(ly)}" '
               f'stroke="{MARK}" stroke-width="2"/>')
    for cx in (lx, lx + 26):
        out.append(f'<line x1="{_f(cx)}" y1="{_f(ly - 5)}" x2="{_f(cx)}" y2="{_f(ly + 5)}" '
                   f'stroke="{MARK}" stroke-width="2"/>')
    out.append(f'<text x="{_f(lx + 32)}" y="{_f(ly + 4)}">{_e(interval_label)}</text>')
    lx2 = lx + 46 + _text_width(interval_label, 12.5)
    if overall is not None:
        out.append(f'<line x1="{_f(lx2)}" y1="{_f(ly - 7)}" x2="{_f(lx2)}" y2="{_f(ly + 7)}" '
                   f'stroke="{MUTED}" stroke-width="1.6" stroke-dasharray="4 3"/>')
        out.append(f'<text x="{_f(lx2 + 6)}" y="{_f(ly + 4)}">everyone</text>')
        lx2 += 84
    if any(r.caution for r in rows):
        out.append(_warning_triangle(lx2 + 4, ly))
        out.append(f'<text x="{_f(lx2 + 14)}" y="{_f(ly + 4)}">read with care</text>')
    out.append("</g>")
    # grid and axis
    axis_y = top + row_h * len(rows) + 4
    out.append(f'<g class="axis" font-size="12" fill="{MUTED}" aria-hidden="true">')
    for t in _ticks(lo, hi):
        x = sx(t)
        label = f"{t * 100:.0f}%" if percent else f"{t:g}"
        out.append(f'<line x1="{_f(x)}" y1="{_f(top - 8)}" x2="{_f(x)}" y2="{_f(axis_y)}" '
                   f'stroke="{GRID}" stroke-width="1"/>')
        out.append(f'<text x="{_f(x)}" y="{_f(axis_y + 15)}" text-anchor="middle">'
                   f'{_e(label)}</text>')
    out.append(f'<text x="{_f((x0 + x1) / 2)}" y="{_f(axis_y + 34)}" text-anchor="middle" '
               f'fill="{INK}">{_e(axis_label)}</text>')
    out.append("</g>")
    # overall reference line
    if overall is not None and math.isfinite(overall):
        ox = sx(overall)
        out.append(f'<g class="overall" aria-hidden="true"><line x1="{_f(ox)}" y1="{_f(top - 8)}" '
                   f'x2="{_f(ox)}" y2="{_f(axis_y)}" stroke="{MUTED}" stroke-width="1.6" '
                   f'stroke-dasharray="4 3"/>'
                   f'<text x="{_f(ox + 4)}" y="{_f(top - 12)}" font-size="12" fill="{MUTED}">'
                   f'everyone {_e(overall_text)}</text></g>')
    # rows
    for i, r in enumerate(rows):
        cy = top + row_h * i + row_h / 2
        out.append('<g class="row" aria-hidden="true">')
        label = _truncate(r.label, size, left - 16)
        out.append(f'<text x="{_f(left - 12)}" y="{_f(cy - 1)}" text-anchor="end" '
                   f'font-size="{size:g}">{_e(label)}</text>')
        out.append(f'<text x="{_f(left - 12)}" y="{_f(cy + 13)}" text-anchor="end" '
                   f'font-size="11.5" fill="{MUTED}">{_e(r.sublabel)}</text>')
        if r.value is None:
            out.append(f'<text x="{_f(x0 + 4)}" y="{_f(cy + 4)}" font-size="11.5" '
                       f'fill="{MUTED}">not defined</text></g>')
            continue
        if r.low is not None and r.high is not None:
            a, b = sx(r.low), sx(r.high)
            out.append(f'<line class="mark ci" x1="{_f(a)}" y1="{_f(cy)}" x2="{_f(b)}" '
                       f'y2="{_f(cy)}" stroke="{MARK}" stroke-width="2"/>')
            for cx in (a, b):
                out.append(f'<line class="ci-cap" x1="{_f(cx)}" y1="{_f(cy - 6)}" x2="{_f(cx)}" '
                           f'y2="{_f(cy + 6)}" stroke="{MARK}" stroke-width="2"/>')
        vx = sx(r.value)
        if r.caution:
            out.append(f'<circle class="mark dot caution" cx="{_f(vx)}" cy="{_f(cy)}" r="5.5" '
                       f'fill="#ffffff" stroke="{CAUTION}" stroke-width="2.4" '
                       f'data-value="{r.value:.6g}"/>')
        else:
            out.append(f'<circle class="mark dot" cx="{_f(vx)}" cy="{_f(cy)}" r="5.5" '
                       f'fill="{MARK}" stroke="#ffffff" stroke-width="1" '
                       f'data-value="{r.value:.6g}"/>')
        tx = x1 + 32
        if r.caution:
            out.append(_warning_triangle(x1 + 18, cy, 13))
        out.append(f'<text x="{_f(tx)}" y="{_f(cy + 4.5)}" font-size="{small:g}">'
                   f'{_e(r.value_text)}</text>')
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out)


def bar_chart(
    rows: Sequence[BarRow],
    *,
    chart_id: str,
    title: str,
    desc: str,
    axis_label: str,
    percent: bool,
    interval_label: str = "95% interval",
) -> str:
    """Horizontal bars for gaps between groups, with interval whiskers.

    Each bar has its label on the line above it, so long names are never cut.

    Parameters
    ----------
    rows : sequence of BarRow
        The gaps, top to bottom (largest first).
    chart_id, title, desc, axis_label, percent, interval_label
        As in :func:`dot_chart`; with ``percent`` the axis is in percentage points.

    Returns
    -------
    str
        The ``<svg>`` element.
    """
    size, small = 13.5, 13.0
    value_w = max((_text_width(r.value_text, small) * 1.12 for r in rows), default=40) + 28
    right = min(max(value_w, 110), 240)
    x0, x1 = 8.0, WIDTH - right
    top, row_h = 44.0, 50.0
    height = top + row_h * len(rows) + 50
    vals = [v for r in rows for v in (r.value, r.low, r.high) if v is not None]
    hi = max([*vals, 0.0001])
    hi = min(_ceil(hi, 0.1), 1.0) if percent else _domain(vals, percent=False, from_zero=True)[1]
    lo = 0.0

    def sx(v: float) -> float:
        v = min(max(v, lo), hi)
        return x0 + (v - lo) / (hi - lo) * (x1 - x0)

    out = _svg_open(chart_id, height, title, desc)
    ly = 14.0
    out.append('<g class="legend" font-size="12.5" aria-hidden="true">')
    out.append(f'<rect x="{_f(x0)}" y="{_f(ly - 6)}" width="22" height="12" fill="#9fb9d6" '
               f'stroke="{MARK}"/>')
    out.append(f'<text x="{_f(x0 + 28)}" y="{_f(ly + 4)}">measured gap</text>')
    lx = x0 + 134
    out.append(f'<line x1="{_f(lx)}" y1="{_f(ly)}" x2="{_f(lx + 26)}" y2="{_f(ly)}" '
               f'stroke="{INK}" stroke-width="2"/>')
    for cx in (lx, lx + 26):
        out.append(f'<line x1="{_f(cx)}" y1="{_f(ly - 5)}" x2="{_f(cx)}" y2="{_f(ly + 5)}" '
                   f'stroke="{INK}" stroke-width="2"/>')
    out.append(f'<text x="{_f(lx + 32)}" y="{_f(ly + 4)}">{_e(interval_label)} of the gap</text>')
    out.append("</g>")
    axis_y = top + row_h * len(rows) + 2
    out.append(f'<g class="axis" font-size="12" fill="{MUTED}" aria-hidden="true">')
    for t in _ticks(lo, hi):
        x = sx(t)
        label = f"{t * 100:.0f}" if percent else f"{t:g}"
        out.append(f'<line x1="{_f(x)}" y1="{_f(top - 6)}" x2="{_f(x)}" y2="{_f(axis_y)}" '
                   f'stroke="{GRID}" stroke-width="1"/>')
        out.append(f'<text x="{_f(x)}" y="{_f(axis_y + 15)}" text-anchor="middle">'
                   f'{_e(label)}</text>')
    out.append(f'<text x="{_f((x0 + x1) / 2)}" y="{_f(axis_y + 36)}" text-anchor="middle" '
               f'fill="{INK}">{_e(axis_label)}</text>')
    out.append("</g>")
    for i, r in enumerate(rows):
        y = top + row_h * i
        cy = y + 32
        out.append('<g class="row" aria-hidden="true">')
        label = _truncate(r.label, size, WIDTH - x0 - 8)
        sub = _truncate(r.sublabel, 11.5, WIDTH - x0 - 16 - _text_width(label, size) * 1.08)
        out.append(f'<text x="{_f(x0)}" y="{_f(y + 14)}" font-size="{size:g}" '
                   f'font-weight="600">{_e(label)}'
                   f'<tspan font-size="11.5" font-weight="400" fill="{MUTED}" dx="10">'
                   f'{_e(sub)}</tspan></text>')
        w = max(sx(r.value) - x0, 1.5)
        out.append(f'<rect class="mark bar" x="{_f(x0)}" y="{_f(cy - 9)}" width="{_f(w)}" '
                   f'height="18" fill="#9fb9d6" stroke="{MARK}" stroke-width="1" '
                   f'data-value="{r.value:.6g}"/>')
        if r.low is not None and r.high is not None:
            a, b = sx(r.low), sx(r.high)
            out.append(f'<line class="ci" x1="{_f(a)}" y1="{_f(cy)}" x2="{_f(b)}" y2="{_f(cy)}" '
                       f'stroke="{INK}" stroke-width="2"/>')
            for cx in (a, b):
                out.append(f'<line class="ci-cap" x1="{_f(cx)}" y1="{_f(cy - 6)}" '
                           f'x2="{_f(cx)}" y2="{_f(cy + 6)}" stroke="{INK}" stroke-width="2"/>')
        out.append(f'<text x="{_f(x1 + 12)}" y="{_f(cy + 4.5)}" font-size="{small:g}">'
                   f'{_e(r.value_text)}</text>')
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out)

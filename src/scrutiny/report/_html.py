"""``render_html``: the audit record as one self-contained HTML page.

The page has inline CSS and inline SVG only: no script, no font, no image and
no stylesheet is fetched, so it opens offline and leaks nothing. Everything
taken from the record is escaped by Jinja's autoescaping; the charts escape
their own text (see :mod:`scrutiny.report._svg`).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import jinja2

from scrutiny.report._view import build_view


@lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("scrutiny.report", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )


def render_html(record: dict[str, Any]) -> str:
    """Render an audit record as a self-contained HTML report.

    Parameters
    ----------
    record : dict
        The audit record (the content of ``audit.json``), as built by
        ``scrutiny.audit.build_record``.

    Returns
    -------
    str
        The HTML page: summary first, then the context, the recommended measures
        with charts and tables, the ranked gaps, guardrails, the deliberation
        record and method notes.
    """
    return _env().get_template("report.html.j2").render(v=build_view(record))

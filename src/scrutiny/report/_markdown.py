"""``render_markdown``: the audit record as Markdown (``audit.md``).

Same sections and sentences as the HTML report (both come from
:func:`scrutiny.report._view.build_view`), without the charts: their numbers
are in the tables. Text from the record is escaped so that it cannot inject
HTML or break a table.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import jinja2

from scrutiny.report._view import build_view

_MD_SPECIAL = re.compile(r"([\\`*_\[\]#])")


def md(text: Any) -> str:
    """Escape text for Markdown prose: HTML characters and inline markup."""
    s = "" if text is None else str(text)
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", s)


def md_cell(text: Any) -> str:
    """Escape text for a Markdown table cell (also pipes and line breaks)."""
    return " ".join(md(text).replace("|", "\\|").split())


@lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("scrutiny.report", "templates"),
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["md"] = md
    env.filters["cell"] = md_cell
    return env


def render_markdown(record: dict[str, Any]) -> str:
    """Render an audit record as a Markdown report.

    Parameters
    ----------
    record : dict
        The audit record (the content of ``audit.json``).

    Returns
    -------
    str
        Markdown with the same sections as the HTML report.
    """
    text = _env().get_template("audit.md.j2").render(v=build_view(record))
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"

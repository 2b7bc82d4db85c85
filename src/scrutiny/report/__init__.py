"""The audit report: ``report.html`` (self-contained, offline, accessible) and ``audit.md``.

Both are rendered from the audit record (the content of ``audit.json``).
"""

from __future__ import annotations

from scrutiny.report._html import render_html
from scrutiny.report._markdown import render_markdown

__all__ = ["render_html", "render_markdown"]

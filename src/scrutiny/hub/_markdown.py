"""Render a card safely: YAML front matter split off as metadata, Markdown to sanitised HTML.

Markdown is rendered with markdown-it-py (CommonMark plus tables; raw HTML is
allowed through the parser) and the result is cleaned by nh3 with an
allow-list: no ``<script>``, no event-handler attributes such as
``onerror=``, no ``style``, and links only to ``http``, ``https`` and
``mailto`` URLs (``javascript:`` links lose their target). Links get
``rel="nofollow noopener noreferrer"``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

ALLOWED_TAGS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "details", "div", "dl", "dt",
    "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "ol", "p",
    "pre", "q", "s", "span", "strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot",
    "th", "thead", "tr", "ul",
})
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"align", "colspan", "rowspan"},
    "th": {"align", "colspan", "rowspan"},
    "ol": {"start"},
    "code": {"class"},
}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
_TITLE = re.compile(r"^#\s+(.+?)\s*#*\s*$", re.MULTILINE)


@dataclass
class RenderedCard:
    """A card split and rendered.

    Attributes
    ----------
    metadata : dict
        The YAML front matter (empty when there is none or it is invalid).
    html : str
        The Markdown body as sanitised HTML.
    title : str or None
        The first level-1 heading.
    problems : list of str
        Why the metadata could not be read, if it could not.
    """

    metadata: dict[str, Any]
    html: str
    title: str | None
    problems: list[str] = field(default_factory=list)


@lru_cache(maxsize=1)
def _parser() -> Any:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": True, "linkify": False}).enable("table").enable(
        "strikethrough")


def sanitize_html(html: str) -> str:
    """Clean HTML with the hub's allow-list (see the module docstring)."""
    import nh3

    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        attributes={k: set(v) for k, v in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        clean_content_tags={"script", "style"},
        link_rel="nofollow noopener noreferrer",
        strip_comments=True,
    )


def render_markdown(text: str) -> str:
    """Markdown to sanitised HTML."""
    return sanitize_html(_parser().render(text))


def split_card(text: str) -> tuple[dict[str, Any], str, list[str]]:
    """Front matter, body and problems of a card (invalid YAML is reported, not raised)."""
    from scrutiny.cards._render import FRONT_MATTER, split_front_matter
    from scrutiny.exceptions import ConfigError

    try:
        meta, body = split_front_matter(text)
    except ConfigError as exc:
        m = FRONT_MATTER.search(text)
        return {}, text[m.end():] if m else text, [str(exc)]
    return meta, body, []


def render_card(text: str) -> RenderedCard:
    """Split a card's metadata off and render its body safely.

    Parameters
    ----------
    text : str
        The card (``README.md``): optional YAML between ``---`` lines, then Markdown.

    Returns
    -------
    RenderedCard
        Metadata, sanitised HTML, title and any metadata problem.
    """
    meta, body, problems = split_card(text)
    m = _TITLE.search(body)
    return RenderedCard(meta, render_markdown(body), m.group(1) if m else None, problems)


def card_fields(text: str) -> tuple[str | None, str | None, str | None, list[str]]:
    """Title, licence, task and normalised tags of a card, for search.

    The licence is the first of ``license``; the task is ``pipeline_tag``
    (model cards) or the first of ``task_categories`` (dataset cards).
    """
    from scrutiny.cards import normalize_tags
    from scrutiny.exceptions import ScrutinyError

    meta, body, _ = split_card(text)
    m = _TITLE.search(body)
    lic = meta.get("license")
    lic = lic[0] if isinstance(lic, list) and lic else lic
    task = meta.get("pipeline_tag") or meta.get("task_categories")
    task = task[0] if isinstance(task, list) and task else task
    raw = meta.get("tags") or []
    raw = [raw] if isinstance(raw, str) else raw
    try:
        tags = normalize_tags([str(t) for t in raw if isinstance(t, str | int)])
    except ScrutinyError:
        tags = []
    tags = sorted({t[:100] for t in tags if t})
    return (m.group(1)[:200] if m else None,
            lic[:100] if isinstance(lic, str) else None,
            task[:100] if isinstance(task, str) else None, tags)

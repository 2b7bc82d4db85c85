"""Writing cards as ``README.md`` (YAML front matter + Markdown) and HTML, and reading them back.

The Markdown follows the Hub's card templates heading for heading, so a card
written here can be edited by hand, read by ``huggingface_hub`` and read back
by :meth:`ModelCard.from_markdown`. The HTML view is one self-contained page:
inline CSS, no script, nothing fetched; everything taken from the card is
escaped.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache
from typing import Any

import yaml

from scrutiny.cards._metadata import DatasetCardMetadata, ModelCardMetadata
from scrutiny.cards._schema import DatasetCard, ModelCard
from scrutiny.cards._sections import (
    META,
    PLACEHOLDER,
    REGISTRY,
    TITLE_PREFIX,
    SectionSpec,
    heading,
    split_body,
    split_bullets,
    strip_comments,
)
from scrutiny.exceptions import ConfigError

# The Hub's own pattern for the metadata block (as used by huggingface_hub).
FRONT_MATTER = re.compile(r"^(\s*---(?:\r\n|\r|\n))([\S\s]*?)((?:\r\n|\r|\n)---[ \t]*(\r\n|\n|$))")
_DEFAULT_NAME = {"model": "Model ID", "dataset": "Dataset Name"}


# ---------------------------------------------------------------------------
# YAML


class _Dumper(yaml.SafeDumper):
    """Block-style YAML; lists indented under their key, as the Hub writes them."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> Any:
        return super().increase_indent(flow, False)


_BREAKS = ("\x85", "\u2028", "\u2029", "\ufeff")


def _str_representer(dumper: yaml.SafeDumper, data: str) -> Any:
    if any(c in data for c in _BREAKS):
        # YAML reads these as line breaks unless they are escaped in double quotes
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style='"')
    style = "|" if "\n" in data and data == data.strip() and "\r" not in data else None
    if style and any(line != line.rstrip() for line in data.split("\n")):
        style = None  # trailing spaces do not survive a literal block
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _str_representer)


def dump_yaml(data: dict[str, Any]) -> str:
    """Dump card metadata as YAML: keys in order, Unicode kept, no line folding."""
    if not data:
        return "{}\n"
    text = yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True,
                     default_flow_style=False, width=10_000)
    if any(line.startswith(("---", "...")) for line in text.split("\n")):
        # a line starting with a document marker would end the front matter early
        text = yaml.dump(data, Dumper=yaml.SafeDumper, sort_keys=False, allow_unicode=True,
                         default_flow_style=True, width=10_000)
    return text


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """The metadata dict and the Markdown body of a card's text."""
    if not isinstance(text, str):
        msg = f"A card must be text (the content of README.md). Got {type(text).__name__}."
        raise ConfigError(msg)
    m = FRONT_MATTER.search(text)
    if not m:
        return {}, text
    try:
        data = yaml.safe_load(m.group(2))
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" (line {where.line + 2} of the file)" if where is not None else ""
        msg = (
            f"metadata: the YAML block between the --- lines is not valid YAML{line}: "
            f"{' '.join(str(getattr(exc, 'problem', exc)).split())}. Fix the YAML syntax."
        )
        raise ConfigError(msg) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        msg = (
            "metadata: the YAML block between the --- lines must be a mapping of keys to "
            f"values. Got a {type(data).__name__}."
        )
        raise ConfigError(msg)
    return {str(k): v for k, v in data.items()}, text[m.end():]


# ---------------------------------------------------------------------------
# Markdown


def _owner(card: Any, spec: SectionSpec) -> Any:
    obj = card
    for name in spec.owner:
        obj = getattr(obj, name)
    return obj


def _meta_value(card: Any, attr: str) -> str | None:
    meta = card.metadata
    name = attr.split(":", 1)[1]
    value = getattr(meta, name, None)
    if name == "license" and value == "other" and meta.license_name:
        return f"other ({meta.license_name})"
    if isinstance(value, list):
        return ", ".join(value) or None
    return value


def section_markdown(card: Any, spec: SectionSpec) -> str | None:
    """The Markdown under one heading, or None for a heading that only groups others."""
    if spec.text is None and not spec.bullets:
        return None
    owner = _owner(card, spec)
    text = getattr(owner, spec.text) if spec.text else None
    bullets = []
    for attr, label in spec.bullets:
        value = _meta_value(card, attr) if attr.startswith(META) else getattr(owner, attr)
        bullets.append(f"- **{label}:** {value or PLACEHOLDER}")
    parts = []
    if text:
        parts.append(text)
    elif not bullets:
        parts.append(PLACEHOLDER)
    if bullets:
        parts.append("\n".join(bullets))
    return "\n\n".join(parts)


def card_name(card: Any) -> str:
    """The name in the card's title."""
    return card.model_id if card.kind == "model" else card.name


def render_markdown(card: ModelCard | DatasetCard) -> str:
    """The card as a Hub ``README.md``."""
    meta = card.metadata.to_dict()
    lines = ["---", dump_yaml(meta).rstrip("\n"), "---", ""]
    # a trailing '#' would read as the heading's closing sequence: escape it
    title = re.sub(r"#+$", lambda m: "\\#" * len(m.group(0)), card_name(card))
    lines += [f"# {TITLE_PREFIX[card.kind]}{title}", ""]
    if card.summary:
        lines += [card.summary, ""]
    for spec in REGISTRY[card.kind]:
        lines += [f"{'#' * spec.level} {spec.title}", ""]
        body = section_markdown(card, spec)
        if body is not None:
            lines += [body, ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def _set(data: dict[str, Any], path: tuple[str, ...], key: str, value: Any) -> None:
    for name in path:
        data = data.setdefault(name, {})
    data[key] = value


def parse_card(text: str, *, kind: str) -> ModelCard | DatasetCard:
    """Read a card's text into a :class:`ModelCard` or :class:`DatasetCard`."""
    meta, body = split_front_matter(text)
    meta_cls = ModelCardMetadata if kind == "model" else DatasetCardMetadata
    metadata = meta_cls.model_validate(meta)
    title, summary, chunks = split_body(body, kind)
    data: dict[str, Any] = {"metadata": metadata, "summary": strip_comments(summary)}
    for spec, raw in chunks.items():
        content = strip_comments(raw)
        if spec.bullets:
            content, facts = split_bullets(spec, content)
            for attr, value in facts.items():
                if not attr.startswith(META):
                    _set(data, spec.owner, attr, value)
        if spec.text is not None:
            _set(data, spec.owner, spec.text, content)
    prefix = TITLE_PREFIX[kind]
    if title:
        title = re.sub(r"(\\#)+$", lambda m: "#" * (len(m.group(0)) // 2), title)
    if title and title.lower().startswith(prefix.lower()):
        title = title[len(prefix):]
    if not title or not title.strip():
        if kind == "model" and metadata.model_index:
            title = metadata.model_index[0].name
        elif kind == "dataset" and getattr(metadata, "pretty_name", None):
            title = metadata.pretty_name
        else:
            title = _DEFAULT_NAME[kind]
    if kind == "model":
        return ModelCard.model_validate({"model_id": title, **data})
    return DatasetCard.model_validate({"name": title, **data})


# ---------------------------------------------------------------------------
# Markdown → HTML (the subset scrutiny writes: paragraphs, lists, tables, code)

_CELL_SPLIT = re.compile(r"(?<!\\)\|")
_LIST = re.compile(r"^\s*[-*+]\s+")
_OLIST = re.compile(r"^\s*\d+[.)]\s+")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
_SAFE_URL = re.compile(r"^(https?://|mailto:|#|[\w./-]+$)", re.IGNORECASE)


def _inline(text: str) -> str:
    out = []
    for part in re.split(r"(`[^`]+`)", text):
        if len(part) >= 2 and part.startswith("`") and part.endswith("`"):
            out.append(f"<code>{html.escape(part[1:-1])}</code>")
            continue
        s = html.escape(part.replace("\\|", "|"))
        s = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", s)
        s = re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])", r"<em>\1</em>", s)

        def link(m: re.Match[str]) -> str:
            label, url = m.group(1), m.group(2)
            if _SAFE_URL.match(html.unescape(url)):
                return f'<a href="{url}">{label}</a>'
            return m.group(0)

        s = re.sub(r"\[([^\]]+)\]\(([^)\s]+)\)", link, s)
        out.append(s)
    return "".join(out)


def _cells(line: str) -> list[str]:
    line = line.strip()
    if line.startswith("|"):
        line = line[1:]
    if line.endswith("|") and not line.endswith("\\|"):
        line = line[:-1]
    return [c.strip() for c in _CELL_SPLIT.split(line)]


def markdown_to_html(text: str, *, heading_offset: int = 1) -> str:
    """Convert the Markdown subset of a card section to escaped HTML."""
    lines = strip_comments(text).split("\n")
    out: list[str] = []
    i, n = 0, len(lines)
    while i < n:
        line = lines[i]
        if not line.strip():
            i += 1
            continue
        if line.lstrip().startswith(("```", "~~~")):
            fence = line.lstrip()[:3]
            body = []
            i += 1
            while i < n and not lines[i].lstrip().startswith(fence):
                body.append(lines[i])
                i += 1
            i += 1
            out.append(f"<pre><code>{html.escape(chr(10).join(body))}</code></pre>")
            continue
        h = heading(line)
        if h is not None:
            level = min(h[0] + heading_offset, 6)
            out.append(f"<h{level}>{_inline(h[1])}</h{level}>")
            i += 1
            continue
        if line.lstrip().startswith("|") and i + 1 < n and _TABLE_RULE.match(lines[i + 1]):
            head = _cells(line)
            i += 2
            rows = []
            while i < n and lines[i].lstrip().startswith("|"):
                rows.append(_cells(lines[i]))
                i += 1
            thead = "".join(f'<th scope="col">{_inline(c)}</th>' for c in head)
            tbody = "".join(
                "<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in r) + "</tr>" for r in rows)
            out.append(f'<div class="table-scroll"><table><thead><tr>{thead}</tr></thead>'
                       f"<tbody>{tbody}</tbody></table></div>")
            continue
        for pattern, tag in ((_LIST, "ul"), (_OLIST, "ol")):
            if pattern.match(line):
                items: list[str] = []
                while i < n and lines[i].strip():
                    if pattern.match(lines[i]):
                        items.append(pattern.sub("", lines[i], count=1))
                    elif items:
                        items[-1] += " " + lines[i].strip()
                    else:
                        break
                    i += 1
                out.append(f"<{tag}>" + "".join(f"<li>{_inline(it)}</li>" for it in items)
                           + f"</{tag}>")
                break
        else:
            para = []
            while i < n and lines[i].strip() and heading(lines[i]) is None and not (
                _LIST.match(lines[i]) or _OLIST.match(lines[i])
                or lines[i].lstrip().startswith(("|", "```", "~~~"))
            ):
                para.append(lines[i].strip())
                i += 1
            if not para:  # a line no block rule took: show it as text
                para.append(lines[i].strip())
                i += 1
            out.append(f"<p>{_inline(' '.join(para))}</p>")
    return "\n".join(out)


# ---------------------------------------------------------------------------
# HTML view


@lru_cache(maxsize=1)
def _env() -> Any:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("scrutiny.cards", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )


def _meta_rows(meta: dict[str, Any]) -> list[dict[str, str]]:
    rows = []
    for key, value in meta.items():
        if key == "model-index":
            continue  # shown as a table
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            text = ", ".join(value)
        elif isinstance(value, dict | list):
            text = yaml.dump(value, Dumper=_Dumper, sort_keys=False, allow_unicode=True,
                             default_flow_style=False, width=10_000).rstrip()
        else:
            text = str(value)
        rows.append({"key": key, "value": text})
    return rows


def build_view(card: ModelCard | DatasetCard) -> dict[str, Any]:
    """Everything the HTML template shows, computed from the card."""
    from markupsafe import Markup

    from scrutiny.cards._licenses import LICENSES, RAIL_PASS_DOWN
    from scrutiny.cards._tags import ETHICS_TAGS, NFAA_TAG
    from scrutiny.cards._validate import validate_card

    text = render_markdown(card)
    report = validate_card(text, kind=card.kind)
    meta = card.metadata.to_dict()
    lic_ids = meta.get("license")
    lic_ids = lic_ids if isinstance(lic_ids, list) else [lic_ids] if lic_ids else []
    licenses = []
    for lid in lic_ids:
        lic = LICENSES[lid]
        licenses.append({
            "id": lic.id, "name": lic.name, "family": lic.family,
            "commercial": {True: "yes", False: "no", None: "depends"}[lic.commercial_use],
            "redistribution": {True: "yes", False: "no", None: "depends"}[lic.redistribution],
            "restrictions": list(lic.use_restrictions), "note": lic.note,
            "pass_down": RAIL_PASS_DOWN if lic.is_rail else (
                "Derivatives must pass on the use policy." if lic.pass_down else ""),
            "license_name": meta.get("license_name"), "license_link": meta.get("license_link"),
        })
    tags = [{"tag": t, "ethics": ETHICS_TAGS.get(t), "nfaa": t == NFAA_TAG}
            for t in meta.get("tags", [])]
    placeholders = {s.key for s in report.sections if s.placeholder}
    sections = []
    if card.summary:
        sections.append({"level": 2, "title": "Summary", "id": "summary",
                         "html": Markup(markdown_to_html(card.summary, heading_offset=2)),
                         "placeholder": False, "optional": False})
    for spec in REGISTRY[card.kind]:
        body = section_markdown(card, spec)
        sections.append({
            "level": spec.level, "title": spec.title,
            "id": re.sub(r"[^a-z0-9]+", "-", spec.title.lower()).strip("-"),
            "html": Markup(markdown_to_html(body, heading_offset=spec.level)) if body else "",
            "placeholder": spec.holds_content and spec.key in placeholders,
            "optional": spec.optional,
        })
    evals: dict[str, list[dict[str, Any]]] = {}
    if card.kind == "model":
        for row in card.metadata.eval_results():  # type: ignore[union-attr]
            where = f"{row.get('task_name') or row['task_type']} on {row['dataset_name']}"
            if row.get("dataset_split"):
                where += f" ({row['dataset_split']} split)"
            evals.setdefault(where, []).append(
                {"metric": row.get("metric_name") or row["metric_type"],
                 "type": row["metric_type"], "value": row["metric_value"]})
    return {
        "kind": card.kind, "kind_label": "Model card" if card.kind == "model" else "Dataset card",
        "title": f"{TITLE_PREFIX[card.kind]}{card_name(card)}",
        "meta_rows": _meta_rows(meta), "licenses": licenses, "tags": tags,
        "report": report, "sections": sections,
        "evals": [{"caption": k, "rows": v} for k, v in evals.items()],
        "n_evals": sum(len(v) for v in evals.values()),
        "gated": bool(meta.get("extra_gated_fields") or meta.get("extra_gated_prompt")),
    }


def render_html(card: ModelCard | DatasetCard) -> str:
    """The card as one self-contained HTML page."""
    return _env().get_template("card.html.j2").render(v=build_view(card))

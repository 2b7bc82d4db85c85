"""Rendering: README.md layout, reading it back, and the self-contained HTML view."""

from __future__ import annotations

import re

import pytest

from scrutiny.cards import DatasetCard, ModelCard, model_card_from_audit
from scrutiny.cards._render import markdown_to_html
from scrutiny.cards._sections import MODEL_SECTIONS
from scrutiny.exceptions import ConfigError


def test_readme_layout(compas_record):
    text = model_card_from_audit(compas_record, model_id="compas").to_markdown()
    assert text.startswith("---\n")
    assert "\n---\n\n# Model Card for compas\n" in text
    headings = [line for line in text.split("\n") if re.match(r"^#{2,4} ", line)]
    assert headings == [f"{'#' * s.level} {s.title}" for s in MODEL_SECTIONS]
    assert text.endswith("\n") and not text.endswith("\n\n")


def test_text_outside_the_template_stays_with_its_section():
    card = ModelCard(model_id="m", uses={"direct_use": "Intro.\n\n#### My own heading\n\n"
                                         "More.\n\n```\n## Uses\n```"})
    back = ModelCard.from_markdown(card.to_markdown())
    assert back.uses.direct_use == card.uses.direct_use


def test_template_comments_are_dropped():
    text = ("---\nlicense: mit\n---\n# Model Card for x\n\n## Uses\n\n### Direct Use\n\n"
            "<!-- guidance -->\nReal text.\n")
    assert ModelCard.from_markdown(text).uses.direct_use == "Real text."


def test_parse_errors_name_the_field():
    with pytest.raises(ConfigError, match="license: 'nope'"):
        ModelCard.from_markdown("---\nlicense: nope\n---\n# Model Card for x\n")
    with pytest.raises(ConfigError, match=r"metadata: the YAML block .* must be a mapping"):
        ModelCard.from_markdown("---\n- a\n---\n")
    card = ModelCard.from_markdown("no metadata, no title")
    assert card.model_id == "Model ID" and card.summary == "no metadata, no title"


def test_save_writes_markdown_or_html(tmp_path):
    card = DatasetCard(name="d", metadata={"license": "cc0-1.0"})
    md = card.save(tmp_path / "sub" / "README.md")
    html = card.save(tmp_path / "card.html")
    assert md.read_text().startswith("---\nlicense: cc0-1.0\n---")
    assert html.read_text().startswith("<!DOCTYPE html>")


def test_html_is_self_contained_and_escaped(compas_record):
    card = model_card_from_audit(compas_record, metadata={
        "license": "bigscience-openrail-m", "tags": ["not-for-all-audiences", "inclusive"],
        "extra_gated_fields": {"Company": "text"}})
    card.uses.direct_use = '<script>alert(1)</script> [link](javascript:alert(1)) **bold**'
    html = card.to_html()
    assert "<script" not in html.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'href="javascript' not in html
    assert "<strong>bold</strong>" in html
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)  # nothing fetched
    assert "<link" not in html and "@import" not in html
    assert "Completeness:" in html
    assert "BigScience OpenRAIL-M" in html and "Use restrictions" in html
    assert 'class="tag nfaa"' in html and 'class="tag ethics"' in html
    assert "evaluation results in <code>model-index</code>" in html
    assert "Access is gated" in html
    assert html.count("<table>") >= 5


def test_markdown_to_html_subset():
    html = markdown_to_html("Para *em* `co<de>`\nsame para\n\n- a\n- b\n\n1. x\n\n"
                            "| h \\| x | k |\n|---|---|\n| 1 | 2 |\n\n```\n<raw>\n```\n\n"
                            "#### Head\n[ok](https://example.org)")
    assert "<p>Para <em>em</em> <code>co&lt;de&gt;</code> same para</p>" in html
    assert "<ul><li>a</li><li>b</li></ul>" in html
    assert "<ol><li>x</li></ol>" in html
    assert '<th scope="col">h | x</th>' in html
    assert "<pre><code>&lt;raw&gt;</code></pre>" in html
    assert "<h5>Head</h5>" in html
    assert '<a href="https://example.org">ok</a>' in html

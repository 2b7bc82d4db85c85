"""Card tags: the Hub's six ethics categories and the not-for-all-audiences tag.

The six categories come from Hugging Face's ethics work ("Ethics &
Society"): lenses for describing what a project does for responsible ML,
written as lowercase tags. ``not-for-all-audiences`` makes the Hub show an
interstitial warning before a repository's content; one version of the Hub's
docs spells it without the final ``s``, and both spellings are normalised to
the canonical one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from scrutiny.exceptions import InvalidParameterError

__all__ = ["ETHICS_TAGS", "NFAA_TAG", "normalize_tags"]

#: The six ethics categories, each with what it means, in scrutiny's words.
ETHICS_TAGS: Mapping[str, str] = {
    "rigorous": "Built with care for failure cases: bias and fairness audits, privacy and "
    "security measures, and limitations told to technical and non-technical users.",
    "consentful": "Supports the self-determination of the people who use the technology or "
    "are affected by it.",
    "socially-conscious": "Supports social, environmental or scientific efforts.",
    "sustainable": "Makes machine learning more ecologically sustainable.",
    "inclusive": "Widens who builds the technology and who benefits from it.",
    "inquisitive": "Exposes inequities and power structures and prompts a rethink of how we "
    "relate to technology.",
}

#: The tag that puts a content warning in front of a repository on the Hub.
NFAA_TAG = "not-for-all-audiences"


def _key(tag: str) -> str:
    return re.sub(r"[\s_]+", "-", tag.strip().lower())


_VARIANTS = {
    "not-for-all-audience": NFAA_TAG,
    "not-for-all-audiences": NFAA_TAG,
    "nfaa": NFAA_TAG,
    "socially-concious": "socially-conscious",
    **{k: k for k in ETHICS_TAGS},
}


def normalize_tags(tags: Iterable[str] | str | None) -> list[str]:
    """Normalise card tags: canonical ethics and audience tags, no duplicates.

    Parameters
    ----------
    tags : iterable of str, str or None
        The tags as written. A single string is one tag.

    Returns
    -------
    list of str
        The tags in their first order without duplicates. The ethics
        categories and ``not-for-all-audiences`` are written canonically
        (lowercase, hyphenated, with the final ``s``: ``Not For All Audience``
        becomes ``not-for-all-audiences``); other tags are kept as written,
        with surrounding spaces removed.

    Raises
    ------
    InvalidParameterError
        A tag is not a string, or is empty.

    Examples
    --------
    >>> from scrutiny.cards import normalize_tags
    >>> normalize_tags(["not-for-all-audience", "Rigorous", "tabular", "rigorous"])
    ['not-for-all-audiences', 'rigorous', 'tabular']
    """
    if tags is None:
        return []
    if isinstance(tags, str):
        tags = [tags]
    out: list[str] = []
    for i, tag in enumerate(tags):
        if not isinstance(tag, str) or not tag.strip():
            msg = (
                f"tags[{i}]: a tag must be a non-empty string. Got {tag!r} instead. Remove it "
                "or write it as text."
            )
            raise InvalidParameterError(msg)
        canonical = _VARIANTS.get(_key(tag), tag.strip())
        if canonical not in out:
            out.append(canonical)
    return out

"""The Hugging Face Hub's licence ids, with what each allows and what it passes down.

The ids are the ones the Hub accepts in a card's ``license:`` field (its
"Licenses" documentation page). The descriptions, permissions and use
restrictions below are scrutiny's own short summaries, written for people who
fill in a card: they are a reminder of what to check, not legal advice and not
the licence text. Read the licence itself before relying on it.

Responsible AI Licences (RAIL, OpenRAIL) attach *use restrictions* to the
artefact (usually in an "Attachment A") and make them a condition of the
grant: whoever shares the artefact or a derivative of it must pass the same
restrictions on, as enforceable terms, with a copy of the licence. When a card
names a base model or a dataset under such a licence, scrutiny warns and
proposes the restrictions for the card's "Out-of-Scope Use" section.
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from scrutiny.exceptions import InvalidParameterError, ScrutinyWarning

__all__ = [
    "LICENSES",
    "RAIL_PASS_DOWN",
    "License",
    "RailLicenseWarning",
    "get_license",
    "out_of_scope_from_licenses",
]


class RailLicenseWarning(ScrutinyWarning):
    """A base model or dataset carries a RAIL licence whose use restrictions pass down."""

    code = "rail_license"


@dataclass(frozen=True)
class License:
    """One licence id the Hugging Face Hub accepts, with scrutiny's summary of it.

    Parameters
    ----------
    id : str
        The id written in a card's ``license:`` field, such as ``"apache-2.0"``.
    name : str
        The licence's full name.
    family : str
        One of ``"permissive"``, ``"copyleft"``, ``"creative-commons"``,
        ``"data"``, ``"rail"``, ``"custom"`` (a vendor's own terms, such as
        Llama or Gemma) and ``"unspecified"`` (``unknown`` and ``other``).
    commercial_use : bool or None
        Whether commercial use is allowed; None when it depends on the terms.
    redistribution : bool or None
        Whether the artefact may be shared again; None when it depends.
    use_restrictions : tuple of str
        The uses the licence forbids, paraphrased (empty for most licences).
    pass_down : bool
        Whether derivatives and redistributions must carry the same use
        restrictions (true for the RAIL family and for custom terms with an
        acceptable-use policy).
    note : str
        What else to check.

    Examples
    --------
    >>> from scrutiny.cards import get_license
    >>> lic = get_license("bigscience-openrail-m")
    >>> lic.is_rail, lic.pass_down, len(lic.use_restrictions)
    (True, True, 13)
    """

    id: str
    name: str
    family: str
    commercial_use: bool | None
    redistribution: bool | None
    use_restrictions: tuple[str, ...] = ()
    pass_down: bool = False
    note: str = ""

    @property
    def is_rail(self) -> bool:
        """True for the Responsible AI Licence family (RAIL, OpenRAIL)."""
        return self.family == "rail"


#: What every RAIL licence asks of whoever shares the artefact or builds on it.
RAIL_PASS_DOWN = (
    "Anyone who shares this artefact or a derivative of it (fine-tuned weights, merges, "
    "distilled models, applications) must include the same use restrictions as enforceable "
    "terms, give recipients a copy of the licence and keep its notices."
)

# Use restrictions, paraphrased. The OpenRAIL-M licences share a core list; the
# BigScience licences add two entries and BigCode's rewords several.
_LAW = "Any use that breaks an applicable law or regulation."
_MINORS = "Exploiting or harming minors in any way."
_FALSE_INFO = "Creating or spreading verifiably false information meant to harm others."
_PII = "Creating or spreading personal information that can be used to harm someone."
_DEFAME = "Defaming, disparaging or harassing others."
_AUTOMATED = (
    "Fully automated decisions that adversely affect a person's legal rights or create or "
    "change a binding obligation."
)
_SOCIAL = (
    "Discriminating against or harming people because of their social behaviour or their "
    "known or predicted personal or personality traits."
)
_VULNERABLE = (
    "Exploiting the vulnerabilities of a group (age, social, physical or mental traits) to "
    "distort a person's behaviour in a way likely to cause physical or psychological harm."
)
_PROTECTED = "Discriminating against people or groups on legally protected characteristics."
_MEDICAL = "Giving medical advice or interpreting medical results."
_JUSTICE = (
    "Uses in the administration of justice, law enforcement, immigration or asylum, such as "
    "predicting that a person will commit a crime or fraud."
)
_DISCLOSE = "Generating content without stating clearly that it is machine-generated."
_IMPERSONATE = "Impersonating, or trying to impersonate, other people."

_OPENRAIL_M_CORE = (_LAW, _MINORS, _FALSE_INFO, _PII, _DEFAME, _AUTOMATED, _SOCIAL,
                    _VULNERABLE, _PROTECTED, _MEDICAL, _JUSTICE)
_BIGSCIENCE = (_LAW, _MINORS, _FALSE_INFO, _PII, _DISCLOSE, _DEFAME, _IMPERSONATE, _AUTOMATED,
               _SOCIAL, _VULNERABLE, _PROTECTED, _MEDICAL, _JUSTICE)
_BIGCODE = (
    _LAW,
    _MINORS,
    _FALSE_INFO,
    _PII,
    "Creating or spreading malware, ransomware or other code meant to damage computer systems.",
    _DEFAME,
    "Impersonating others in order to deceive.",
    "Fully automated decisions that adversely affect a person's legal rights, without "
    "disclosing that the decision is machine-generated.",
    _SOCIAL,
    _VULNERABLE,
    _PROTECTED,
    "Medical advice or result interpretation meant to replace professional medical care.",
    "Fully automated decisions in the administration of justice, law enforcement, "
    "immigration or asylum.",
)

_AUP = ("The acceptable-use policy published with the licence (its prohibited uses).",)


def _permissive(id_: str, name: str, note: str = "") -> License:
    return License(id_, name, "permissive", True, True, note=note)


def _copyleft(id_: str, name: str) -> License:
    return License(id_, name, "copyleft", True, True,
                   note="Derivatives that are distributed must use the same licence.")


def _cc(id_: str, name: str) -> License:
    nc = "-nc" in id_
    nd = "-nd" in id_
    notes = ["Credit the creator."]
    if nc:
        notes.append("Non-commercial use only.")
    if nd:
        notes.append("Adapted versions may not be shared.")
    if "-sa" in id_:
        notes.append("Adaptations must be shared under the same licence.")
    return License(id_, name, "creative-commons", not nc, True, note=" ".join(notes))


def _rail(id_: str, name: str, restrictions: tuple[str, ...], note: str) -> License:
    return License(id_, name, "rail", True, True, restrictions, True, note)


def _custom(id_: str, name: str, note: str, *, commercial: bool | None = True) -> License:
    return License(id_, name, "custom", commercial, True, _AUP, True, note)


_ALL: tuple[License, ...] = (
    _permissive("apache-2.0", "Apache License 2.0"),
    _permissive("mit", "MIT License"),
    _rail("openrail", "OpenRAIL licence family", _OPENRAIL_M_CORE,
          "A family, not one text: the restrictions listed are the common OpenRAIL-M core; "
          "read the licence file in the repository for the exact list."),
    _rail("bigscience-openrail-m", "BigScience OpenRAIL-M", _BIGSCIENCE,
          "Royalty-free, with the use restrictions of its Attachment A."),
    _rail("creativeml-openrail-m", "CreativeML OpenRAIL-M", _OPENRAIL_M_CORE,
          "Used by Stable Diffusion v1; outputs are not claimed by the licensor."),
    _rail("bigscience-bloom-rail-1.0", "BigScience BLOOM RAIL 1.0", _BIGSCIENCE,
          "The first RAIL licence, written for the BLOOM model."),
    _rail("bigcode-openrail-m", "BigCode Open RAIL-M v1", _BIGCODE,
          "Also asks to keep the explanatory documentation (such as the model card) with "
          "the model; confirm the list against the licence agreement."),
    _rail("openrail++", "Open RAIL++-M", _OPENRAIL_M_CORE,
          "Used by Stable Diffusion XL; read its attachment for the exact list."),
    _permissive("afl-3.0", "Academic Free License v3.0"),
    _copyleft("artistic-2.0", "Artistic License 2.0"),
    _permissive("bsl-1.0", "Boost Software License 1.0"),
    _permissive("bsd", "BSD licence family"),
    _permissive("bsd-2-clause", "BSD 2-clause \"Simplified\" License"),
    _permissive("bsd-3-clause", "BSD 3-clause \"New\" or \"Revised\" License"),
    _permissive("bsd-3-clause-clear", "BSD 3-clause Clear License",
                "Grants no patent rights."),
    License("c-uda", "Computational Use of Data Agreement", "data", None, True,
            note="Data for computational analysis only; read the agreement for what may be "
            "shared."),
    License("cc", "Creative Commons licence family", "creative-commons", None, True,
            note="Name the exact Creative Commons licence where you can."),
    License("cc0-1.0", "Creative Commons Zero v1.0 Universal", "creative-commons", True, True,
            note="A public-domain dedication: no conditions."),
    _cc("cc-by-2.0", "Creative Commons Attribution 2.0"),
    _cc("cc-by-2.5", "Creative Commons Attribution 2.5"),
    _cc("cc-by-3.0", "Creative Commons Attribution 3.0"),
    _cc("cc-by-4.0", "Creative Commons Attribution 4.0"),
    _cc("cc-by-sa-3.0", "Creative Commons Attribution Share Alike 3.0"),
    _cc("cc-by-sa-4.0", "Creative Commons Attribution Share Alike 4.0"),
    _cc("cc-by-nc-2.0", "Creative Commons Attribution Non Commercial 2.0"),
    _cc("cc-by-nc-3.0", "Creative Commons Attribution Non Commercial 3.0"),
    _cc("cc-by-nc-4.0", "Creative Commons Attribution Non Commercial 4.0"),
    _cc("cc-by-nd-4.0", "Creative Commons Attribution No Derivatives 4.0"),
    _cc("cc-by-nc-nd-3.0", "Creative Commons Attribution Non Commercial No Derivatives 3.0"),
    _cc("cc-by-nc-nd-4.0", "Creative Commons Attribution Non Commercial No Derivatives 4.0"),
    _cc("cc-by-nc-sa-2.0", "Creative Commons Attribution Non Commercial Share Alike 2.0"),
    _cc("cc-by-nc-sa-3.0", "Creative Commons Attribution Non Commercial Share Alike 3.0"),
    _cc("cc-by-nc-sa-4.0", "Creative Commons Attribution Non Commercial Share Alike 4.0"),
    License("cdla-sharing-1.0", "Community Data License Agreement – Sharing 1.0", "data", True,
            True, note="Shared data must stay under the same agreement."),
    License("cdla-permissive-1.0", "Community Data License Agreement – Permissive 1.0", "data",
            True, True),
    License("cdla-permissive-2.0", "Community Data License Agreement – Permissive 2.0", "data",
            True, True),
    _permissive("wtfpl", "Do What The F*ck You Want To Public License"),
    _copyleft("ecl-2.0", "Educational Community License v2.0"),
    _copyleft("epl-1.0", "Eclipse Public License 1.0"),
    _copyleft("epl-2.0", "Eclipse Public License 2.0"),
    License("etalab-2.0", "Etalab Open License 2.0", "data", True, True,
            note="Credit the source and the date of last update."),
    _copyleft("eupl-1.1", "European Union Public License 1.1"),
    _copyleft("agpl-3.0", "GNU Affero General Public License v3.0"),
    _copyleft("gfdl", "GNU Free Documentation License family"),
    _copyleft("gpl", "GNU General Public License family"),
    _copyleft("gpl-2.0", "GNU General Public License v2.0"),
    _copyleft("gpl-3.0", "GNU General Public License v3.0"),
    _copyleft("lgpl", "GNU Lesser General Public License family"),
    _copyleft("lgpl-2.1", "GNU Lesser General Public License v2.1"),
    _copyleft("lgpl-3.0", "GNU Lesser General Public License v3.0"),
    _permissive("isc", "ISC License"),
    _copyleft("lppl-1.3c", "LaTeX Project Public License v1.3c"),
    _copyleft("ms-pl", "Microsoft Public License"),
    _copyleft("mpl-2.0", "Mozilla Public License 2.0"),
    License("odc-by", "Open Data Commons Attribution License family", "data", True, True,
            note="Credit the source."),
    License("odbl", "Open Database License family", "data", True, True,
            note="Shared adapted databases must stay under the same licence."),
    _copyleft("osl-3.0", "Open Software License 3.0"),
    _permissive("postgresql", "PostgreSQL License"),
    _copyleft("ofl-1.1", "SIL Open Font License 1.1"),
    _permissive("ncsa", "University of Illinois/NCSA Open Source License"),
    _permissive("unlicense", "The Unlicense"),
    _permissive("zlib", "zlib License"),
    License("pddl", "Open Data Commons Public Domain Dedication and License", "data", True,
            True, note="A public-domain dedication for data."),
    _copyleft("lgpl-lr", "Lesser General Public License For Linguistic Resources"),
    License("deepfloyd-if-license", "DeepFloyd IF Research License Agreement", "custom",
            False, None, _AUP, True,
            "Research, non-commercial use only; read the agreement before sharing anything "
            "derived from the model."),
    _custom("llama2", "Llama 2 Community License Agreement",
            "Very large services need a separate licence from Meta; derivatives carry the "
            "acceptable-use policy."),
    _custom("llama3", "Llama 3 Community License Agreement",
            "Very large services need a separate licence from Meta; derivatives carry the "
            "acceptable-use policy and naming rules."),
    _custom("llama3.1", "Llama 3.1 Community License Agreement",
            "As for llama3."),
    _custom("llama3.2", "Llama 3.2 Community License Agreement",
            "As for llama3."),
    _custom("llama3.3", "Llama 3.3 Community License Agreement",
            "As for llama3."),
    _custom("gemma", "Gemma Terms of Use",
            "Derivatives carry the prohibited-use policy, passed on as enforceable terms."),
    License("apple-ascl", "Apple Sample Code License", "custom", True, True,
            note="Read the licence text for the conditions of reuse."),
    License("apple-amlr", "Apple Machine Learning Research Model License", "custom", False,
            None, note="Research use only."),
    License("unknown", "Unknown", "unspecified", None, None,
            note="Nobody can tell what is allowed: find out and name the licence."),
    License("other", "Other", "unspecified", None, None,
            note="Give license_name (a short slug) and license_link (a URL or a LICENSE "
            "file in the repository)."),
)

#: Every licence id the Hub accepts, mapped to its :class:`License` entry.
LICENSES: Mapping[str, License] = {lic.id: lic for lic in _ALL}


def get_license(license_id: str) -> License:
    """Look up a Hub licence id.

    Parameters
    ----------
    license_id : str
        A licence id as written in a card, such as ``"mit"`` or
        ``"bigcode-openrail-m"``. Case and surrounding spaces are ignored.

    Returns
    -------
    License
        The entry, with its family, permissions and use restrictions.

    Raises
    ------
    InvalidParameterError
        The id is not one the Hub accepts; the message suggests the closest ids.

    See Also
    --------
    LICENSES : every entry.

    Examples
    --------
    >>> from scrutiny.cards import get_license
    >>> get_license("Apache-2.0").name
    'Apache License 2.0'
    """
    if not isinstance(license_id, str):
        raise InvalidParameterError.from_value(
            "license_id", "get_license", "a Hub licence id (a string)", license_id)
    key = license_id.strip().lower()
    if key in LICENSES:
        return LICENSES[key]
    msg = f"license_id: {unknown_license_message(license_id)}"
    raise InvalidParameterError(msg)


def unknown_license_message(value: object) -> str:
    """The message for a licence id the Hub does not know, with the closest ids."""
    close = difflib.get_close_matches(str(value).strip().lower(), list(LICENSES), n=3,
                                      cutoff=0.6)
    hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return (
        f"{value!r} is not a licence id the Hugging Face Hub accepts.{hint} Use an id from "
        "scrutiny.cards.LICENSES, or license: other with license_name and license_link for a "
        "licence the Hub does not list."
    )


def out_of_scope_from_licenses(
    licenses: Mapping[str, str] | Iterable[tuple[str, str]],
    *,
    own_license: str | None = None,
    subject: str = "this model",
    warn: bool = True,
) -> list[str]:
    """Propose "Out-of-Scope Use" lines for artefacts under licences that restrict use.

    Parameters
    ----------
    licenses : mapping of str to str
        Each upstream artefact (a base model or a dataset, by Hub id) mapped to
        its licence id.
    own_license : str, default=None
        The licence of the card's own artefact, whose restrictions bind its
        users too (no warning is emitted for it).
    subject : str, default="this model"
        How the lines name the card's artefact (``"this dataset"`` for a
        dataset card).
    warn : bool, default=True
        Emit a :class:`RailLicenseWarning` for each upstream artefact under a
        RAIL licence.

    Returns
    -------
    list of str
        Markdown lines: for each RAIL licence, the artefacts under it, its use
        restrictions and (once) the pass-down obligation; for custom terms
        with an acceptable-use policy, a pointer to it. Empty when nothing
        restricts use.

    Raises
    ------
    InvalidParameterError
        A licence id is not one the Hub accepts.

    Examples
    --------
    >>> import warnings
    >>> from scrutiny.cards import RAIL_PASS_DOWN, out_of_scope_from_licenses
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     lines = out_of_scope_from_licenses({"bigscience/bloom": "bigscience-bloom-rail-1.0"})
    >>> lines[0].split(" (")[0]
    '`bigscience/bloom` is licensed under `bigscience-bloom-rail-1.0`'
    >>> lines[-1] == RAIL_PASS_DOWN
    True
    """
    items = list(licenses.items()) if isinstance(licenses, Mapping) else list(licenses)
    grouped: dict[str, list[str]] = {}
    if own_license is not None:
        grouped.setdefault(get_license(own_license).id, []).append(subject[:1].upper()
                                                                    + subject[1:])
    for artefact, license_id in items:
        lic = get_license(license_id)
        if lic.is_rail and warn:
            warnings.warn(
                f"{artefact!r} is licensed under {lic.id} ({lic.name}), a RAIL licence: "
                "anything built on it must carry the same use restrictions. Propose them in "
                "the card's Out-of-Scope Use section and review them.",
                RailLicenseWarning, stacklevel=2,
            )
        grouped.setdefault(lic.id, []).append(f"`{artefact}`")
    lines: list[str] = []
    any_rail = False
    for license_id, artefacts in grouped.items():
        lic = LICENSES[license_id]
        who = " and ".join(artefacts)
        verb = "is" if len(artefacts) == 1 else "are"
        if lic.is_rail:
            any_rail = True
            lines.append(f"{who} {verb} licensed under `{lic.id}` ({lic.name}). Its use "
                         f"restrictions apply here too; do not use {subject} for:")
            lines.extend(f"- {r}" for r in lic.use_restrictions)
            lines.append("")
        elif lic.pass_down and lic.use_restrictions:
            lines.append(f"{who} {verb} licensed under `{lic.id}` ({lic.name}): the uses its "
                         "acceptable-use policy prohibits are out of scope here too, and the "
                         f"policy must be passed on with {subject}.")
            lines.append("")
    if any_rail:
        lines.append(RAIL_PASS_DOWN)
    while lines and not lines[-1]:
        lines.pop()
    return lines

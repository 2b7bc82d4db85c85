"""The licence knowledge base and the ethics / audience tags."""

from __future__ import annotations

import re
import warnings

import pytest

from scrutiny.cards import (
    ETHICS_TAGS,
    LICENSES,
    NFAA_TAG,
    RAIL_PASS_DOWN,
    RailLicenseWarning,
    get_license,
    normalize_tags,
    out_of_scope_from_licenses,
)
from scrutiny.exceptions import InvalidParameterError, ScrutinyWarning

RAIL_FAMILY = {"openrail", "openrail++", "bigscience-openrail-m", "creativeml-openrail-m",
               "bigscience-bloom-rail-1.0", "bigcode-openrail-m"}
# ids listed on the Hub's "Licenses" page that the knowledge base must know
HUB_IDS = {
    "apache-2.0", "mit", "afl-3.0", "artistic-2.0", "bsl-1.0", "bsd", "bsd-2-clause",
    "bsd-3-clause", "bsd-3-clause-clear", "c-uda", "cc", "cc0-1.0", "cc-by-2.0", "cc-by-2.5",
    "cc-by-3.0", "cc-by-4.0", "cc-by-sa-3.0", "cc-by-sa-4.0", "cc-by-nc-2.0", "cc-by-nc-3.0",
    "cc-by-nc-4.0", "cc-by-nd-4.0", "cc-by-nc-nd-3.0", "cc-by-nc-nd-4.0", "cc-by-nc-sa-2.0",
    "cc-by-nc-sa-3.0", "cc-by-nc-sa-4.0", "cdla-sharing-1.0", "cdla-permissive-1.0",
    "cdla-permissive-2.0", "wtfpl", "ecl-2.0", "epl-1.0", "epl-2.0", "etalab-2.0", "eupl-1.1",
    "agpl-3.0", "gfdl", "gpl", "gpl-2.0", "gpl-3.0", "lgpl", "lgpl-2.1", "lgpl-3.0", "isc",
    "lppl-1.3c", "ms-pl", "mpl-2.0", "odc-by", "odbl", "osl-3.0", "postgresql", "ofl-1.1",
    "ncsa", "unlicense", "zlib", "pddl", "lgpl-lr", "deepfloyd-if-license", "llama2", "llama3",
    "gemma", "unknown", "other", *RAIL_FAMILY,
}


def test_the_hub_ids_are_known_and_well_formed():
    assert set(LICENSES) >= HUB_IDS
    for lid, lic in LICENSES.items():
        assert lid == lic.id
        assert re.fullmatch(r"[a-z0-9][a-z0-9.+-]*", lid), lid
        assert lic.family in {"permissive", "copyleft", "creative-commons", "data", "rail",
                              "custom", "unspecified"}


def test_rail_entries_carry_restrictions_and_pass_down():
    rail = {lid for lid, lic in LICENSES.items() if lic.is_rail}
    assert rail == RAIL_FAMILY
    for lid in rail:
        lic = LICENSES[lid]
        assert lic.pass_down
        assert len(lic.use_restrictions) >= 11, lid
    assert len(LICENSES["creativeml-openrail-m"].use_restrictions) == 11
    assert len(LICENSES["bigscience-bloom-rail-1.0"].use_restrictions) == 13
    assert any("malware" in r for r in LICENSES["bigcode-openrail-m"].use_restrictions)
    assert not LICENSES["mit"].use_restrictions
    assert LICENSES["cc-by-nc-4.0"].commercial_use is False


def test_get_license_is_lenient_on_case_and_strict_on_ids():
    assert get_license(" MIT ").id == "mit"
    with pytest.raises(InvalidParameterError, match=r"license_id: 'gpl3' is not a licence id.*"
                       "Did you mean .*'gpl-3.0'"):
        get_license("gpl3")
    with pytest.raises(InvalidParameterError):
        get_license(3)  # type: ignore[arg-type]


def test_rail_upstream_warns_and_proposes_restrictions():
    with pytest.warns(RailLicenseWarning, match="'bigcode/starcoder' is licensed under "
                      "bigcode-openrail-m"):
        lines = out_of_scope_from_licenses({"bigcode/starcoder": "bigcode-openrail-m",
                                            "org/x": "mit"})
    assert issubclass(RailLicenseWarning, ScrutinyWarning)
    assert lines[0].startswith("`bigcode/starcoder` is licensed under `bigcode-openrail-m`")
    assert lines[1:14] == [f"- {r}" for r in LICENSES["bigcode-openrail-m"].use_restrictions]
    assert lines[-1] == RAIL_PASS_DOWN
    assert not any("org/x" in line for line in lines)


def test_own_and_custom_licences():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning for the card's own licence
        lines = out_of_scope_from_licenses({"meta/llama": "llama3"}, own_license="openrail++",
                                           subject="this dataset")
    assert lines[0].startswith("This dataset is licensed under `openrail++`")
    assert any("`meta/llama` is licensed under `llama3`" in line for line in lines)
    assert out_of_scope_from_licenses({"a": "apache-2.0"}) == []
    with pytest.raises(InvalidParameterError, match="not a licence id"):
        out_of_scope_from_licenses({"a": "apache"})


def test_six_ethics_categories():
    assert list(ETHICS_TAGS) == ["rigorous", "consentful", "socially-conscious", "sustainable",
                                 "inclusive", "inquisitive"]


@pytest.mark.parametrize("variant", ["not-for-all-audience", "not-for-all-audiences",
                                     "Not For All Audiences", "not_for_all_audience",
                                     " NOT-FOR-ALL-AUDIENCE "])
def test_nfaa_variants_are_normalised(variant):
    assert normalize_tags([variant, "tabular"]) == [NFAA_TAG, "tabular"]


def test_normalize_tags():
    assert normalize_tags("Socially Conscious") == ["socially-conscious"]
    assert normalize_tags(["Fairness", "Fairness", " rigorous"]) == ["Fairness", "rigorous"]
    assert normalize_tags(None) == []
    with pytest.raises(InvalidParameterError, match=r"tags\[1\]: a tag must be a non-empty"):
        normalize_tags(["a", ""])

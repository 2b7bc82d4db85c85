"""``import scrutiny`` stays light; the public API is what __all__ says."""

from __future__ import annotations

import subprocess
import sys

import scrutiny.fairness

HEAVY = ["pandas", "polars", "pyarrow", "sklearn", "torch", "fastapi", "duckdb", "dask",
         "pyspark", "scipy", "narwhals", "fairlearn"]


def test_import_scrutiny_is_light():
    code = (
        "import sys, scrutiny, scrutiny.exceptions\n"
        f"heavy = [m for m in {HEAVY!r} if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == ""


def test_assess_on_numpy_does_not_import_other_backends():
    code = (
        "import sys, numpy as np\n"
        "from scrutiny.fairness import assess\n"
        "assess(np.array([0,1,1,0]), np.array([0,1,0,0]), sensitive_features=np.array([1,1,2,2]),"
        " min_group_size=0, ci=None)\n"
        "print(','.join(m for m in ['polars','duckdb','dask','pyspark','sklearn','torch']"
        " if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-W", "ignore", "-c", code], capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == ""


def test_public_api_snapshot():
    assert sorted(scrutiny.fairness.__all__) == sorted([
        "CRITERIA", "METRICS", "Disparity", "FairnessResult", "GroupRow", "WarningRecord",
        "assess", "demographic_parity_difference", "demographic_parity_ratio",
        "equal_opportunity_difference", "equalized_odds_difference", "equalized_odds_ratio",
    ])
    for name in scrutiny.fairness.__all__:
        assert hasattr(scrutiny.fairness, name)

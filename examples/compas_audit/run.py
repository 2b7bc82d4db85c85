"""Run the COMPAS worked example: python examples/compas_audit/run.py --out DIR."""

from __future__ import annotations

import argparse
from pathlib import Path

from scrutiny.audit import run_audit

HERE = Path(__file__).resolve().parent

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--out", default=str(HERE / "_out"))
args = parser.parse_args()

result = run_audit(HERE / "audit.yaml", args.out)
for row in result.record["ranking"][:5]:
    print(row["metric"], row["features"], round(row["difference"], 3), row["ci_difference"])
print("report:", Path(args.out) / "report.html")

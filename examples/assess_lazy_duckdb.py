"""Assess data that lives in DuckDB: the group-by runs inside DuckDB.

Run: python examples/assess_lazy_duckdb.py   (needs: pip install duckdb)
"""

from __future__ import annotations

import duckdb

from scrutiny.datasets import load_adult
from scrutiny.fairness import assess

table = load_adult(backend="pyarrow")  # stands in for a table already in your warehouse
con = duckdb.connect()
con.register("adult", table)
relation = con.sql("SELECT income, prediction, sex, race FROM adult WHERE split = 'test'")

result = assess("income", "prediction", data=relation, sensitive_features=["sex"],
                metrics=["selection_rate", "true_positive_rate", "false_positive_rate"],
                random_state=0)
for g in result.groups:
    print(g.features, g.count, {m: round(g.value(m), 3) for m in result.metrics if m != "count"})
print("demographic parity difference:", round(result.difference("selection_rate"), 4))

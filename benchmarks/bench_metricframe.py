"""Benchmark 1: per-group metrics, scrutiny vs Fairlearn MetricFrame vs AIF360.

Default: 1M rows, 2 sensitive columns (3 x 4 = 12 intersectional groups), the
seven metrics accuracy, precision, recall (true_positive_rate), selection_rate,
false_positive_rate, false_negative_rate and count.

* scrutiny: ``assess(y_true, y_pred, sensitive_features=<2-column pandas
  DataFrame>, metrics=[...], ci=None)`` (and with the default ``ci=0.95``,
  1000 bootstrap replicates). scrutiny also computes each feature alone, the
  overall values and the disparities; the peers are not asked to.
* Fairlearn: ``MetricFrame(metrics={...}, y_true, y_pred,
  sensitive_features=<the same DataFrame>)`` (it also computes overall values).
* AIF360: what a user does to get every intersectional group's values: build
  one ``BinaryLabelDataset`` (numeric protected attributes) and its predicted
  copy once, then one ``ClassificationMetric`` per group with that group as
  ``privileged_groups`` (the other groups as ``unprivileged_groups``), calling
  the seven metric methods with ``privileged=True``. Timed end to end,
  dataset construction included.

Values of every group and metric are asserted equal within 1e-9 between all
three libraries and an exact NumPy bincount.

Run: ``python benchmarks/bench_metricframe.py`` (``--quick`` for a smoke run).
"""

from __future__ import annotations

import argparse
import logging
import warnings
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
from common import (
    METRICS,
    best_of,
    col_names,
    compare,
    confusion_cells,
    fairlearn_table,
    fmt_bytes,
    fmt_ratio,
    fmt_time,
    footer,
    group_keys,
    header,
    make_data,
    parse_sizes,
    print_table,
    scrutiny_table,
    table_from_cells,
    traced_peak,
    verdict,
)


def fairlearn_metrics() -> dict[str, Any]:
    from fairlearn.metrics import (
        count,
        false_negative_rate,
        false_positive_rate,
        selection_rate,
        true_positive_rate,
    )
    from sklearn.metrics import accuracy_score, precision_score

    return {
        "accuracy": accuracy_score,
        "precision": partial(precision_score, zero_division=np.nan),
        "true_positive_rate": true_positive_rate,
        "selection_rate": selection_rate,
        "false_positive_rate": false_positive_rate,
        "false_negative_rate": false_negative_rate,
        "count": count,
    }


def run_fairlearn(y_true: np.ndarray, y_pred: np.ndarray, sf: pd.DataFrame) -> Any:
    from fairlearn.metrics import MetricFrame

    return MetricFrame(
        metrics=fairlearn_metrics(), y_true=y_true, y_pred=y_pred, sensitive_features=sf
    )


def run_aif360(
    data: dict[str, np.ndarray], sizes: list[int]
) -> dict[tuple, dict[str, float]]:
    from aif360.datasets import BinaryLabelDataset
    from aif360.metrics import ClassificationMetric

    names = col_names(sizes)
    df = pd.DataFrame({**{n: data[n] for n in names}, "label": data["y_true"]})
    ds = BinaryLabelDataset(
        df=df, label_names=["label"], protected_attribute_names=names,
        favorable_label=1, unfavorable_label=0,
    )
    pred = ds.copy(deepcopy=True)
    pred.labels = data["y_pred"].astype(np.float64).reshape(-1, 1)
    keys = group_keys(sizes)
    out: dict[tuple, dict[str, float]] = {}
    for key in keys:
        priv = [dict(zip(names, key, strict=True))]
        unpriv = [dict(zip(names, k, strict=True)) for k in keys if k != key]
        cm = ClassificationMetric(ds, pred, unprivileged_groups=unpriv, privileged_groups=priv)
        out[key] = {
            "accuracy": float(cm.accuracy(privileged=True)),
            "precision": float(cm.precision(privileged=True)),
            "true_positive_rate": float(cm.recall(privileged=True)),
            "selection_rate": float(cm.selection_rate(privileged=True)),
            "false_positive_rate": float(cm.false_positive_rate(privileged=True)),
            "false_negative_rate": float(cm.false_negative_rate(privileged=True)),
            "count": float(cm.num_instances(privileged=True)),
        }
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--groups", default="3x4", help="categories per sensitive column (3x4)")
    p.add_argument("--repeat", type=int, default=7, help="timed runs of scrutiny (best kept)")
    p.add_argument("--peer-repeat", type=int, default=3, help="timed runs of each peer")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-aif360", action="store_true")
    p.add_argument("--no-fairlearn", action="store_true")
    p.add_argument("--no-memory", action="store_true", help="skip the tracemalloc runs")
    p.add_argument("--quick", action="store_true", help="100k rows, 1 peer run")
    args = p.parse_args()
    if args.quick:
        args.rows, args.repeat, args.peer_repeat = 100_000, 3, 1
    sizes = parse_sizes(args.groups)
    names = col_names(sizes)
    header("Benchmark 1: per-group metrics vs Fairlearn MetricFrame and AIF360", args,
           ("fairlearn", "aif360", "pandas", "scikit-learn"))
    logging.getLogger().setLevel(logging.ERROR)  # AIF360's optional-dependency notices
    warnings.simplefilter("ignore")

    from scrutiny.fairness import assess

    data = make_data(args.rows, sizes, args.seed)
    y_true, y_pred = data["y_true"], data["y_pred"]
    sf = pd.DataFrame({n: data[n] for n in names})
    expected = table_from_cells(confusion_cells(data, sizes), sizes)
    print(f"rows: {args.rows:,}; intersectional groups: {len(expected)}; metrics: {METRICS}")

    def scr(ci: float | None) -> Any:
        return assess(y_true, y_pred, sensitive_features=sf, metrics=METRICS, ci=ci,
                      random_state=0)

    runs: dict[str, tuple[float, int | None]] = {}
    t_none = best_of(lambda: scr(None), args.repeat, warmup=1)
    diff = {"scrutiny ci=None": compare(scrutiny_table(t_none.result, names), expected,
                                        "scrutiny vs bincount")}
    runs["scrutiny ci=None"] = (t_none.best, None)
    t_ci = best_of(lambda: scr(0.95), args.repeat, warmup=1)
    diff["scrutiny ci=0.95"] = compare(scrutiny_table(t_ci.result, names), expected,
                                       "scrutiny ci=0.95 vs bincount")
    runs["scrutiny ci=0.95 (1000 boot)"] = (t_ci.best, None)
    if not args.no_fairlearn:
        t_fl = best_of(lambda: run_fairlearn(y_true, y_pred, sf), args.peer_repeat)
        fl = fairlearn_table(t_fl.result.by_group)
        diff["Fairlearn"] = compare(fl, expected, "Fairlearn vs bincount")
        compare(scrutiny_table(t_none.result, names), fl, "scrutiny vs Fairlearn")
        runs["Fairlearn MetricFrame"] = (t_fl.best, None)
    if not args.no_aif360:
        t_aif = best_of(lambda: run_aif360(data, sizes), args.peer_repeat)
        diff["AIF360"] = compare(t_aif.result, expected, "AIF360 vs bincount")
        compare(scrutiny_table(t_none.result, names), t_aif.result, "scrutiny vs AIF360")
        runs["AIF360 ClassificationMetric x G"] = (t_aif.best, None)

    if not args.no_memory:
        mem_fns = {
            "scrutiny ci=None": lambda: scr(None),
            "scrutiny ci=0.95 (1000 boot)": lambda: scr(0.95),
            "Fairlearn MetricFrame": lambda: run_fairlearn(y_true, y_pred, sf),
            "AIF360 ClassificationMetric x G": lambda: run_aif360(data, sizes),
        }
        for k in list(runs):
            runs[k] = (runs[k][0], traced_peak(mem_fns[k]))

    base = runs["scrutiny ci=None"][0]
    rows = []
    for k, (t, mem) in runs.items():
        rows.append([k, fmt_time(t), fmt_ratio(t / base), fmt_bytes(mem)])
    print_table(["implementation", "best time", "time / scrutiny ci=None",
                 "peak traced memory"], rows,
                f"{args.rows:,} rows, {len(expected)} groups, 7 metrics")
    print("max |difference| to exact bincount values: "
          + ", ".join(f"{k}: {v:.1e}" for k, v in diff.items()) + "  (tolerance 1e-9)")
    footer()

    targets = []
    if "Fairlearn MetricFrame" in runs:
        r = runs["Fairlearn MetricFrame"][0] / base
        targets.append(["scrutiny ci=None >= 100x faster than Fairlearn MetricFrame",
                        fmt_ratio(r), verdict(r >= 100)])
        r2 = runs["Fairlearn MetricFrame"][0] / runs["scrutiny ci=0.95 (1000 boot)"][0]
        targets.append(["(info) scrutiny ci=0.95 vs Fairlearn without intervals",
                        fmt_ratio(r2), "-"])
    if "AIF360 ClassificationMetric x G" in runs:
        r = runs["AIF360 ClassificationMetric x G"][0] / base
        targets.append(["scrutiny ci=None >= 10x faster than AIF360", fmt_ratio(r),
                        verdict(r >= 10)])
        r2 = runs["AIF360 ClassificationMetric x G"][0] / runs["scrutiny ci=0.95 (1000 boot)"][0]
        targets.append(["(info) scrutiny ci=0.95 vs AIF360 without intervals",
                        fmt_ratio(r2), "-"])
    if targets:
        print_table(["target", "speed-up", "verdict"], targets, "targets")


if __name__ == "__main__":
    main()

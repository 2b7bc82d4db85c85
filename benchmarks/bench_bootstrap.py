"""Benchmark 2: bootstrap confidence intervals, scrutiny vs Fairlearn MetricFrame.

Part A (default 100k rows, 2 sensitive columns 5 x 8 = 40 groups, the seven
metrics): time per bootstrap replicate.

* Fairlearn: ``MetricFrame(..., n_boot=K, ci_quantiles=[0.025, 0.975],
  random_state=0)`` with a small K (default 5; each replicate re-runs every
  metric on resampled rows), divided by K;
* scrutiny: ``assess(..., ci=0.95, n_boot=1000, random_state=0)`` divided by
  1000 (replicates resample per-group confusion counts, not rows).

Both "total / replicates" and the marginal cost "(with - without intervals) /
replicates" are reported; the target (>= 1000x) is judged on total /
replicates. Point estimates are asserted equal (1e-9) to an exact bincount;
interval values are not compared (different resampling schemes and RNGs).

Part B (default 10M rows, same 40 groups): scrutiny alone with 1000
replicates; target < 5 s.

Run: ``python benchmarks/bench_bootstrap.py`` (``--quick`` for a smoke run).
"""

from __future__ import annotations

import argparse
import warnings
from typing import Any

import pandas as pd
from bench_metricframe import fairlearn_metrics
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
    header,
    make_data,
    parse_sizes,
    print_table,
    scrutiny_table,
    table_from_cells,
    traced_peak,
    verdict,
)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=100_000, help="rows of part A")
    p.add_argument("--large-rows", type=int, default=10_000_000, help="rows of part B")
    p.add_argument("--groups", default="5x8", help="categories per sensitive column (5x8)")
    p.add_argument("--n-boot", type=int, default=1000, help="scrutiny replicates")
    p.add_argument("--fairlearn-n-boot", type=int, default=5, help="Fairlearn replicates")
    p.add_argument("--repeat", type=int, default=5, help="timed runs of scrutiny")
    p.add_argument("--peer-repeat", type=int, default=2, help="timed runs of Fairlearn")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-fairlearn", action="store_true", help="part B only")
    p.add_argument("--no-large", action="store_true", help="part A only")
    p.add_argument("--no-memory", action="store_true", help="skip the tracemalloc runs")
    p.add_argument("--quick", action="store_true", help="20k / 1M rows, 2 Fairlearn replicates")
    args = p.parse_args()
    if args.quick:
        args.rows, args.large_rows, args.fairlearn_n_boot = 20_000, 1_000_000, 2
        args.repeat, args.peer_repeat = 3, 1
    sizes = parse_sizes(args.groups)
    names = col_names(sizes)
    header("Benchmark 2: bootstrap intervals vs Fairlearn MetricFrame(n_boot=...)", args,
           ("fairlearn", "pandas", "scikit-learn"))
    warnings.simplefilter("ignore")

    from fairlearn.metrics import MetricFrame

    from scrutiny.fairness import assess

    def scr(data: dict[str, Any], sf: Any, ci: float | None) -> Any:
        return assess(data["y_true"], data["y_pred"], sensitive_features=sf, metrics=METRICS,
                      ci=ci, n_boot=args.n_boot, random_state=0)

    if not args.no_fairlearn:
        data = make_data(args.rows, sizes, args.seed)
        sf = pd.DataFrame({n: data[n] for n in names})
        expected = table_from_cells(confusion_cells(data, sizes), sizes)
        print(f"\npart A: {args.rows:,} rows, {len(expected)} groups")
        k = args.fairlearn_n_boot

        def fl(n_boot: int | None) -> Any:
            extra = {} if n_boot is None else {
                "n_boot": n_boot, "ci_quantiles": [0.025, 0.975], "random_state": 0
            }
            return MetricFrame(metrics=fairlearn_metrics(), y_true=data["y_true"],
                               y_pred=data["y_pred"], sensitive_features=sf, **extra)

        s0 = best_of(lambda: scr(data, sf, None), args.repeat, warmup=1)
        s1 = best_of(lambda: scr(data, sf, 0.95), args.repeat, warmup=1)
        f0 = best_of(lambda: fl(None), args.peer_repeat)
        f1 = best_of(lambda: fl(k), args.peer_repeat)
        for name, t in [("scrutiny ci=None", s0.result), ("scrutiny ci=0.95", s1.result)]:
            compare(scrutiny_table(t, names), expected, f"{name} vs bincount")
        for name, t in [("Fairlearn", f0.result), ("Fairlearn n_boot", f1.result)]:
            compare(fairlearn_table(t.by_group), expected, f"{name} vs bincount")
        if len(f1.result.by_group_ci) != 2:
            raise AssertionError("Fairlearn returned no bootstrap quantiles")
        print("point estimates: scrutiny and Fairlearn equal to exact bincount values (1e-9)")
        mem = {}
        if not args.no_memory:
            mem = {
                "s0": traced_peak(lambda: scr(data, sf, None)),
                "s1": traced_peak(lambda: scr(data, sf, 0.95)),
                "f0": traced_peak(lambda: fl(None)),
                "f1": traced_peak(lambda: fl(k)),
            }
        fl_per = f1.best / k
        fl_marg = max(f1.best - f0.best, 0.0) / k
        sc_per = s1.best / args.n_boot
        sc_marg = max(s1.best - s0.best, 0.0) / args.n_boot
        rows = [
            ["scrutiny ci=None", "0", fmt_time(s0.best), "-", "-", fmt_bytes(mem.get("s0"))],
            [f"scrutiny ci=0.95, n_boot={args.n_boot}", str(args.n_boot), fmt_time(s1.best),
             fmt_time(sc_per), fmt_time(sc_marg), fmt_bytes(mem.get("s1"))],
            ["Fairlearn MetricFrame", "0", fmt_time(f0.best), "-", "-",
             fmt_bytes(mem.get("f0"))],
            [f"Fairlearn MetricFrame n_boot={k}", str(k), fmt_time(f1.best), fmt_time(fl_per),
             fmt_time(fl_marg), fmt_bytes(mem.get("f1"))],
        ]
        print_table(["implementation", "replicates", "best time", "time / replicate",
                     "marginal / replicate", "peak traced memory"], rows,
                    f"part A: {args.rows:,} rows, {len(expected)} groups, 7 metrics")
        ratio = fl_per / sc_per
        ratio_m = fl_marg / sc_marg if sc_marg > 0 else float("inf")
        print_table(["target", "value", "verdict"], [
            ["per-replicate speed-up >= 1000x (total / replicates)", fmt_ratio(ratio),
             verdict(ratio >= 1000)],
            ["(info) marginal per-replicate speed-up", fmt_ratio(ratio_m), "-"],
        ], "part A target")

    if not args.no_large:
        n = args.large_rows
        data = make_data(n, sizes, args.seed + 1)
        sf = {nm: data[nm] for nm in names}
        expected = table_from_cells(confusion_cells(data, sizes), sizes)
        print(f"\npart B: {n:,} rows, {len(expected)} groups (sensitive features as a dict "
              "of int8 arrays)")
        first = best_of(lambda: scr(data, sf, 0.95), 1)
        s0 = best_of(lambda: scr(data, sf, None), args.repeat)
        s1 = best_of(lambda: scr(data, sf, 0.95), args.repeat)
        compare(scrutiny_table(s1.result, names), expected, "scrutiny 10M vs bincount")
        boot_part = max(s1.best - s0.best, 0.0)
        mem1 = None if args.no_memory else traced_peak(lambda: scr(data, sf, 0.95))
        rows = [
            ["scrutiny ci=None", fmt_time(s0.best), "-", "-"],
            [f"scrutiny ci=0.95, n_boot={args.n_boot} (first call)", fmt_time(first.best),
             "-", "-"],
            [f"scrutiny ci=0.95, n_boot={args.n_boot}", fmt_time(s1.best),
             fmt_time(boot_part), fmt_bytes(mem1)],
        ]
        print_table(["run", "best time", "of which intervals", "peak traced memory"], rows,
                    f"part B: {n:,} rows, {len(expected)} groups")
        print_table(["target", "value", "verdict"], [
            [f"{n:,} rows with {args.n_boot} replicates < 5 s", fmt_time(s1.best),
             verdict(s1.best < 5)],
        ], "part B target")
    footer()


if __name__ == "__main__":
    main()

"""Shared helpers of the benchmark scripts: data, timing, memory, checks, tables.

Every benchmark runs scrutiny and its peer in one process, on the same arrays,
and reports the best of N wall-clock runs (``time.perf_counter``). Memory is
measured separately from timing (tracing slows code down):

* ``traced_peak`` runs a function once under :mod:`tracemalloc`, which sees
  Python objects and NumPy/pandas buffers (NumPy reports its allocations to
  tracemalloc) but not memory that native engines (Arrow, DuckDB, polars)
  allocate on their own;
* ``run_child`` runs a command in a subprocess and reads that child's own
  ``ru_maxrss`` (``os.wait4``), the peak resident set of the whole process,
  native engines included.
"""

from __future__ import annotations

import datetime
import gc
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

DATE = "2026-11-24"

#: The seven metrics of the issue, as passed to ``scrutiny.fairness.assess``.
METRICS = [
    "accuracy",
    "precision",
    "recall",
    "selection_rate",
    "false_positive_rate",
    "false_negative_rate",
    "count",
]
#: The names scrutiny reports them under (``recall`` is an alias).
CANONICAL = [
    "accuracy",
    "precision",
    "true_positive_rate",
    "selection_rate",
    "false_positive_rate",
    "false_negative_rate",
    "count",
]

TOL = 1e-9


# ---------------------------------------------------------------------------
# data


def parse_sizes(text: str) -> list[int]:
    """``"3x4"`` -> ``[3, 4]`` (categories per sensitive column)."""
    sizes = [int(p) for p in text.lower().split("x") if p]
    if not sizes or min(sizes) < 1:
        msg = f"bad group sizes {text!r}; use e.g. 3x4"
        raise SystemExit(msg)
    return sizes


def col_names(sizes: Sequence[int]) -> list[str]:
    """Names of the sensitive columns: s0, s1, ..."""
    return [f"s{i}" for i in range(len(sizes))]


def _group_rates(n_groups: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Per intersectional group: base rate and error rate (fixed by the seed)."""
    rng = np.random.default_rng([seed, 12345])
    base = rng.uniform(0.2, 0.6, n_groups)
    err = rng.uniform(0.1, 0.35, n_groups)
    return base, err


def make_data(
    n: int, sizes: Sequence[int], seed: int = 0, *, chunk: int = 0
) -> dict[str, np.ndarray]:
    """Pre-encoded synthetic data: int8 sensitive codes, int8 0/1 labels.

    Sensitive columns are uniform over their categories; within each
    intersectional group the outcome has its own base rate and the
    prediction its own error rate, so metric values differ between groups.
    ``chunk`` (rows) selects an independent stream for chunked generation.
    """
    rng = np.random.default_rng([seed, chunk])
    out: dict[str, np.ndarray] = {}
    flat = np.zeros(n, dtype=np.intp)
    for name, k in zip(col_names(sizes), sizes, strict=True):
        codes = rng.integers(0, k, n, dtype=np.int8)
        out[name] = codes
        flat *= k
        flat += codes
    base, err = _group_rates(int(np.prod(sizes)), seed)
    y_true = rng.random(n, dtype=np.float32) < base.astype(np.float32)[flat]
    flip = rng.random(n, dtype=np.float32) < err.astype(np.float32)[flat]
    out["y_true"] = y_true.view(np.int8)
    out["y_pred"] = (y_true ^ flip).view(np.int8)
    return out


def confusion_cells(data: dict[str, np.ndarray], sizes: Sequence[int]) -> np.ndarray:
    """Exact per-group confusion counts, shape (G, 2, 2) = [group, true, pred]."""
    idx = np.zeros(len(data["y_true"]), dtype=np.intp)
    for name, k in zip(col_names(sizes), sizes, strict=True):
        idx *= k
        idx += data[name]
    idx *= 4
    idx += data["y_true"].astype(np.intp) * 2
    idx += data["y_pred"]
    g = int(np.prod(sizes))
    return np.bincount(idx, minlength=g * 4).reshape(g, 2, 2)


def metrics_from_cells(cells: np.ndarray) -> dict[str, np.ndarray]:
    """The seven metrics from confusion counts [..., true, pred] (NaN for 0/0)."""
    c = cells.astype(np.float64)
    tn, fp, fn, tp = c[..., 0, 0], c[..., 0, 1], c[..., 1, 0], c[..., 1, 1]
    n = tn + fp + fn + tp

    def div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        out = np.full(np.shape(a), np.nan)
        np.divide(a, b, out=out, where=b != 0)
        return out

    return {
        "accuracy": div(tp + tn, n),
        "precision": div(tp, tp + fp),
        "true_positive_rate": div(tp, tp + fn),
        "selection_rate": div(tp + fp, n),
        "false_positive_rate": div(fp, fp + tn),
        "false_negative_rate": div(fn, fn + tp),
        "count": n,
    }


def group_keys(sizes: Sequence[int]) -> list[tuple[int, ...]]:
    """All intersectional keys in row-major order (same order as confusion_cells)."""
    return [tuple(int(v) for v in k) for k in np.ndindex(*sizes)]


def table_from_cells(cells: np.ndarray, sizes: Sequence[int]) -> dict[tuple, dict[str, float]]:
    """{group key: {metric: value}} from per-group confusion counts."""
    vals = metrics_from_cells(cells)
    return {
        key: {m: float(vals[m][j]) for m in CANONICAL}
        for j, key in enumerate(group_keys(sizes))
        if cells[j].sum() > 0
    }


# ---------------------------------------------------------------------------
# extracting per-group values from each library


def scrutiny_table(result: Any, names: Sequence[str]) -> dict[tuple, dict[str, float]]:
    """{group key: {metric: value}} of a FairnessResult's intersectional groups."""
    out = {}
    for g in result.groups:
        key = tuple(int(g.features[n]) for n in names)
        out[key] = {m: float(g.value(m)) for m in CANONICAL}
    return out


def fairlearn_table(by_group: Any) -> dict[tuple, dict[str, float]]:
    """{group key: {metric: value}} of a Fairlearn ``MetricFrame.by_group``."""
    out = {}
    for key, row in by_group.iterrows():
        k = tuple(int(v) for v in (key if isinstance(key, tuple) else (key,)))
        out[k] = {m: float(row[m]) for m in CANONICAL}
    return out


def compare(
    a: dict[tuple, dict[str, float]],
    b: dict[tuple, dict[str, float]],
    what: str,
    tol: float = TOL,
) -> float:
    """Assert both tables hold the same groups and values within ``tol``; return max diff."""
    if set(a) != set(b):
        msg = f"{what}: group keys differ: {sorted(set(a) ^ set(b))[:5]}"
        raise AssertionError(msg)
    worst = 0.0
    for key in a:
        for m in CANONICAL:
            x, y = a[key][m], b[key][m]
            if np.isnan(x) and np.isnan(y):
                continue
            d = abs(x - y)
            if not d <= tol:
                msg = f"{what}: {m} of group {key}: {x!r} != {y!r} (diff {d:.3g})"
                raise AssertionError(msg)
            worst = max(worst, d)
    return worst


# ---------------------------------------------------------------------------
# timing and memory


@dataclass
class Timing:
    """Best-of-N wall-clock times of one callable."""

    best: float
    times: list[float]
    result: Any

    @property
    def median(self) -> float:
        return float(np.median(self.times))


def best_of(fn: Callable[[], Any], repeat: int, *, warmup: int = 0) -> Timing:
    """Run ``fn`` ``warmup`` + ``repeat`` times; keep the best of the timed runs."""
    result = None
    for _ in range(warmup):
        result = fn()
    times = []
    for _ in range(max(1, repeat)):
        gc.collect()
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return Timing(min(times), times, result)


def traced_peak(fn: Callable[[], Any]) -> int:
    """Peak bytes allocated (tracemalloc: Python + NumPy) during one call of ``fn``."""
    gc.collect()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base, _ = tracemalloc.get_traced_memory()
        fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak - base


def self_maxrss() -> int:
    """Peak resident set size of this process so far, in bytes (Linux: KiB units)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def vm_hwm() -> int | None:
    """Peak resident set of this process's current address space (``VmHWM``), in bytes.

    Unlike ``ru_maxrss``, it starts afresh at ``exec``: a child forked from a
    big parent does not inherit the parent's size. Linux only (None elsewhere).
    """
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


@dataclass
class ChildRun:
    """A finished subprocess: exit code, output and its own peak RSS."""

    returncode: int
    stdout: str
    stderr: str
    maxrss: int  # bytes
    wall: float
    how: str  # how maxrss was measured

    def json(self) -> Any:
        """The last stdout line, parsed as JSON."""
        lines = [ln for ln in self.stdout.splitlines() if ln.strip()]
        return json.loads(lines[-1])


TIME = "/usr/bin/time"


def run_child(cmd: Sequence[str], env: dict[str, str] | None = None) -> ChildRun:
    """Run ``cmd`` in a subprocess; return its output and its peak RSS.

    On Linux a child's ``ru_maxrss`` includes the resident size of the process
    that forked it (it is carried over through fork and exec), so ``cmd`` is
    launched through ``/usr/bin/time`` (a tiny process) when it exists and its
    ``%M`` (the child's ``ru_maxrss`` as ``wait4`` reports it) is read back.
    Without it, ``os.wait4``'s ``ru_maxrss`` is returned: an upper bound that
    includes this (parent) process's size.
    """
    with (
        tempfile.TemporaryFile("w+") as out,
        tempfile.TemporaryFile("w+") as err,
        tempfile.NamedTemporaryFile("r", suffix=".time") as tf,
    ):
        use_time = os.access(TIME, os.X_OK)
        full = [TIME, "-f", "%M", "-o", tf.name, *cmd] if use_time else list(cmd)
        t0 = time.perf_counter()
        proc = subprocess.Popen(full, stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        maxrss, how = usage.ru_maxrss * 1024, "os.wait4 ru_maxrss (includes parent at fork)"
        if use_time:
            lines = [ln for ln in tf.read().splitlines() if ln.strip().isdigit()]
            if lines:
                maxrss, how = int(lines[-1]) * 1024, "/usr/bin/time %M (child ru_maxrss)"
        return ChildRun(proc.returncode, out.read(), err.read(), maxrss, wall, how)


# ---------------------------------------------------------------------------
# output


def fmt_time(s: float) -> str:
    """Seconds, human-readable."""
    if s != s:  # NaN
        return "-"
    if s >= 1:
        return f"{s:.2f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.1f} ms"
    return f"{s * 1e6:.1f} us"


def fmt_bytes(b: float | None) -> str:
    """Bytes, human-readable (binary units)."""
    if b is None:
        return "-"
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(b) < 1024 or unit == "GiB":
            return f"{b:.0f} {unit}" if unit == "B" else f"{b:.1f} {unit}"
        b /= 1024
    return f"{b:.1f} GiB"  # pragma: no cover


def fmt_ratio(x: float) -> str:
    """A speed ratio."""
    if x != x:
        return "-"
    return f"{x:,.0f}x" if x >= 100 else f"{x:.1f}x"


def print_table(headers: Sequence[str], rows: Iterable[Sequence[Any]], title: str = "") -> None:
    """A Markdown table (also readable in a terminal)."""
    rows = [[str(c) for c in r] for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    if title:
        print(f"\n### {title}\n")
    print("| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |")
    print()


def verdict(ok: bool) -> str:
    """MET / MISSED."""
    return "MET" if ok else "MISSED"


def _version(mod: str) -> str:
    try:
        from importlib.metadata import version

        return version(mod)
    except Exception:  # best effort
        return "n/a"


def machine_info(packages: Sequence[str] = ()) -> str:
    """One line: CPU, cores, RAM, Python and package versions, date."""
    cpu = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        ram = f"{pages / 2**30:.0f} GiB RAM"
    except (ValueError, OSError):
        ram = "RAM unknown"
    pkgs = ", ".join(f"{p} {_version(p)}" for p in ("scrutiny", "numpy", *packages))
    return (
        f"{cpu}, {os.cpu_count()} cores, {ram}; Python {platform.python_version()}; {pkgs}; "
        f"run {datetime.date.today().isoformat()} (recorded as {DATE})"
    )


def header(title: str, args: Any, packages: Sequence[str] = ()) -> None:
    """Print what is run, on what."""
    print(f"# {title}")
    print(f"command: {' '.join([os.path.basename(sys.executable), *sys.argv])}")
    print(f"machine: {machine_info(packages)}")
    print(f"args: {vars(args)}")
    print(f"scrutiny source digest: {source_digest()}")
    print(f"load average at start: {load()}")


def source_digest() -> str:
    """sha256 (12 hex digits) of scrutiny's installed ``*.py`` files: which code was timed."""
    import hashlib
    from pathlib import Path

    try:
        import scrutiny
    except ImportError:
        return "n/a"
    root = Path(scrutiny.__file__).parent
    h = hashlib.sha256()
    for f in sorted(root.rglob("*.py")):
        h.update(str(f.relative_to(root)).encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:12]


def load() -> str:
    """The 1/5/15-minute load averages (other processes share these cores)."""
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def footer() -> None:
    """Process peak RSS and load at the end."""
    print(f"process peak RSS (ru_maxrss): {fmt_bytes(self_maxrss())}; "
          f"load average at end: {load()}")

"""Time ``scrutiny demo`` end to end (the README's main job): target under 60 s on 2 cores.

Runs the command in fresh subprocesses (cold start: imports, model training, audit,
report), best and worst of N, and prints peak memory of the child.

    .venv/bin/python benchmarks/bench_demo.py --runs 3
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    scrutiny = Path(sys.executable).with_name("scrutiny")
    times, peaks = [], []
    for _ in range(args.runs):
        out = Path(tempfile.mkdtemp()) / "demo"
        start = time.perf_counter()
        res = subprocess.run(
            ["/usr/bin/time", "-f", "%M", str(scrutiny), "demo", "--out", str(out),
             "--no-progress"],
            capture_output=True, text=True, check=True, cwd=ROOT,
        )
        times.append(time.perf_counter() - start)
        peaks.append(int(res.stderr.strip().splitlines()[-1]) / 1024)
        assert (out / "report.html").stat().st_size > 0
        shutil.rmtree(out.parent)
    print(f"scrutiny demo: best {min(times):.2f} s, worst {max(times):.2f} s over {args.runs} "
          f"runs; peak RSS {max(peaks):.0f} MiB; target < 60 s: "
          f"{'met' if max(times) < 60 else 'MISSED'}")


if __name__ == "__main__":
    main()

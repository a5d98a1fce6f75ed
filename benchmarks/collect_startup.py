"""Startup cost of the Gate 1 suites: wall time of `pytest suites/gate1 --collect-only` (target < 2 s).

Run from the repository root: `python benchmarks/collect_startup.py [--runs N]`. Prints each run and a
last line `collect_startup median_s=<s> runs=<n> tests=<n>`.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def one_run() -> tuple[float, int]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "suites/gate1", "--collect-only", "-q"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"collection failed:\n{done.stdout}\n{done.stderr}")
    match = re.search(r"(\d+) tests? collected", done.stdout)
    return elapsed, int(match.group(1)) if match else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    one_run()  # warm the bytecode cache, as every run after the first one in a checkout is
    times = []
    tests = 0
    for index in range(args.runs):
        elapsed, tests = one_run()
        times.append(elapsed)
        print(f"run {index + 1}: {elapsed:.2f} s")
    print(f"collect_startup median_s={statistics.median(times):.2f} runs={args.runs} tests={tests}")


if __name__ == "__main__":
    main()

"""Wall time of the in-process tests, `pytest tests -m "not lab"` (target < 30 s on 2 cores).

Run from the repository root: `python benchmarks/quick_tests.py [--runs N] [--profile dev|ci]`. Prints each run
and a last line `quick_tests median_s=<s> runs=<n> tests=<n> profile=<name>` (wall time of the whole pytest
process, start-up included; `dev` is the Hypothesis profile a plain `pytest` uses, `ci` the one tox uses).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def one_run(profile: str) -> tuple[float, int]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "tests", "-m", "not lab", "-q", "-p", "no:cacheprovider"],
        cwd=ROOT,
        env={**os.environ, "HYPOTHESIS_PROFILE": profile},
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"the tests failed:\n{done.stdout[-3000:]}\n{done.stderr[-2000:]}")
    match = re.search(r"(\d+) passed", done.stdout)
    return elapsed, int(match.group(1)) if match else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--profile", choices=("dev", "ci"), default="dev")
    args = parser.parse_args()
    times = []
    tests = 0
    for index in range(args.runs):
        elapsed, tests = one_run(args.profile)
        times.append(elapsed)
        print(f"run {index + 1}: {elapsed:.1f} s, {tests} passed")
    print(f"quick_tests median_s={statistics.median(times):.1f} runs={args.runs} tests={tests} profile={args.profile}")


if __name__ == "__main__":
    main()

"""Wall time of the in-process tests, `pytest tests -m "not lab"` (target < 30 s on 2 cores).

Run from the repository root: `python benchmarks/quick_tests.py [--runs N] [--profile dev|ci]`. Prints each run
(wall time, the pytest process's CPU time with its children's, the load average when it started) and a last line
`quick_tests median_s=<s> cpu_s=<s> runs=<n> tests=<n> profile=<name>` (medians; wall time of the whole pytest
process, start-up included; `dev` is the Hypothesis profile a plain `pytest` uses, `ci` the one tox uses). On a
shared machine the CPU time is the steadier figure.

pytest keeps its assertion-rewritten test modules as bytecode in __pycache__; with PYTHONDONTWRITEBYTECODE set it
cannot write them, and a checkout without them rewrites every module on every run (about 5 s more). The script says
so when that is the case.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def rewrite_cache_missing() -> bool:
    """PYTHONDONTWRITEBYTECODE is set and no test module has pytest's rewritten bytecode yet."""
    return bool(os.environ.get("PYTHONDONTWRITEBYTECODE")) and not any((ROOT / "tests").rglob("*-pytest-*.pyc"))


def one_run(profile: str) -> tuple[float, float, int]:
    started = time.perf_counter()
    cpu_before = children_cpu_s()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "tests", "-m", "not lab", "-q", "-p", "no:cacheprovider"],
        cwd=ROOT,
        env={**os.environ, "HYPOTHESIS_PROFILE": profile},
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    cpu = children_cpu_s() - cpu_before
    if done.returncode != 0:
        sys.exit(f"the tests failed:\n{done.stdout[-3000:]}\n{done.stderr[-2000:]}")
    match = re.search(r"(\d+) passed", done.stdout)
    return elapsed, cpu, int(match.group(1)) if match else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--profile", choices=("dev", "ci"), default="dev")
    args = parser.parse_args()
    if rewrite_cache_missing():
        print("note: PYTHONDONTWRITEBYTECODE is set and tests/ has no pytest bytecode: every module is rewritten")
    times, cpus = [], []
    tests = 0
    for index in range(args.runs):
        load = os.getloadavg()[0]
        elapsed, cpu, tests = one_run(args.profile)
        times.append(elapsed)
        cpus.append(cpu)
        print(f"run {index + 1}: {elapsed:.1f} s, cpu {cpu:.1f} s, load {load:.2f}, {tests} passed")
    print(
        f"quick_tests median_s={statistics.median(times):.1f} cpu_s={statistics.median(cpus):.1f} runs={args.runs} "
        f"tests={tests} profile={args.profile}"
    )


if __name__ == "__main__":
    main()

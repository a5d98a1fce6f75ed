"""Main job time: `pytest suites/gate1 --target local` as CI runs it, with the wall time of each suite file.

A suite's time is the sum of its tests' setup, call and teardown (pytest's JUnit "time"), so a lab a module
fixture starts counts in the suite that first needs it. Target (issue 16): the whole run <= 120 s on a quiet
2-core machine. The load average at the start and the end is printed: on a shared machine it explains the spread.
Run: .tox/harness/bin/python benchmarks/main_job.py [extra pytest arguments]
Last line: `main_job seconds=...`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def suite_times(junit: Path) -> dict[str, float]:
    times: dict[str, float] = defaultdict(float)
    for case in ET.parse(junit).getroot().iter("testcase"):
        module = (case.get("classname") or "?").split(".")
        name = next((part for part in module if part.startswith("test_")), module[-1])
        times[name] += float(case.get("time") or 0.0)
    return dict(times)


def main(extra: list[str]) -> int:
    with tempfile.TemporaryDirectory(prefix="dbc-main-job-") as tmp:
        junit = Path(tmp) / "junit.xml"
        argv = [
            sys.executable,
            "-m",
            "pytest",
            "suites/gate1",
            "--target",
            "local",
            "-q",
            "-p",
            "no:cacheprovider",
            f"--junitxml={junit}",
            f"--gate1-report={Path(tmp) / 'gate1.html'}",
            *extra,
        ]
        load_before = os.getloadavg()[0]
        started = time.monotonic()
        done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, check=False)
        elapsed = time.monotonic() - started
        load_after = os.getloadavg()[0]
        tail = done.stdout.strip().splitlines()[-3:]
        print("\n".join(tail))
        if not junit.exists():
            print(done.stderr[-2000:], file=sys.stderr)
            return 1
        times = suite_times(junit)
        for name, seconds in sorted(times.items(), key=lambda item: -item[1]):
            print(f"{name:32} {seconds:7.1f} s")
    # Start-up, collection, the report and stopping the labs: the run's time that no suite's tests account for.
    print(f"{'outside the suites':32} {elapsed - sum(times.values()):7.1f} s")
    print(f"pytest exit {done.returncode}; cores {os.cpu_count()}, load average {load_before:.1f} -> {load_after:.1f}")
    print(f"main_job seconds={elapsed:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

"""How long the local apps lab takes to start (target: under 15 s), and its parts: MariaDB initialised and
accepting the application user, both WordPress processes listening, Traefik routing; then one restart cycle
(database and both WordPress) and the time to stop and remove everything.

Usage: .venv/bin/python benchmarks/apps_lab.py [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from contextlib import ExitStack
from pathlib import Path

from dbc_validate.labs.app_stack import provide_local_apps
from dbc_validate.manifests.model import load_manifest_set

ROOT = Path(__file__).resolve().parents[1]
TARGET_S = 15.0


def one_run(manifests: Path) -> tuple[float, float, float]:
    ms = load_manifest_set(manifests)
    with ExitStack() as stack:
        began = time.perf_counter()
        lab = provide_local_apps(ms, ROOT, stack, lambda line: None)
        started = time.perf_counter() - began
        began = time.perf_counter()
        lab.restart()
        restarted = time.perf_counter() - began
        began = time.perf_counter()
    stopped = time.perf_counter() - began
    return started, restarted, stopped


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--manifests", type=Path, default=ROOT / "manifests" / "overlays" / "kind")
    args = parser.parse_args()
    runs = [one_run(args.manifests) for _ in range(args.runs)]
    for index, (started, restarted, stopped) in enumerate(runs, 1):
        print(f"run {index}: lab start {started:.1f} s, restart {restarted:.1f} s, stop and cleanup {stopped:.1f} s")
    starts = [r[0] for r in runs]
    verdict = "met" if max(starts) < TARGET_S else "NOT met"
    print(
        f"lab start: median {statistics.median(starts):.1f} s, max {max(starts):.1f} s over {len(runs)} run(s); "
        f"target < {TARGET_S:.0f} s {verdict}"
    )
    return 0 if max(starts) < TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())

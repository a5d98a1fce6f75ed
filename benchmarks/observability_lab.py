"""How long the local observability lab takes to start (target: under 10 s) and to stop, on the project's set.

"Started" means every scrape pool (the set's monitors mapped onto the stand-ins, plus node exporter) has been
scraped once; Prometheus 2.42 publishes its targets about 5 s after it is ready, which dominates. After each
run the script checks that no process of the lab is left.
Usage: .venv/bin/python benchmarks/observability_lab.py [--runs N] [--manifests PATH]
"""

from __future__ import annotations

import argparse
import statistics
import time
from contextlib import ExitStack
from pathlib import Path

from dbc_validate.labs.observability_lab import provide_observability_lab
from dbc_validate.manifests.model import load_manifest_set

ROOT = Path(__file__).resolve().parents[1]
TARGET_S = 10.0


def leftovers(folder: str) -> int:
    count = 0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                count += folder in (entry / "cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--manifests", type=Path, default=ROOT / "manifests" / "overlays" / "kind")
    args = parser.parse_args()
    manifests = load_manifest_set(args.manifests)
    starts, stops = [], []
    for run in range(1, args.runs + 1):
        began = time.monotonic()
        with ExitStack() as stack:
            lab = provide_observability_lab(manifests, stack, lambda _line: None)
            started = time.monotonic()
            folder = str(lab.directory)
        stopped = time.monotonic()
        starts.append(started - began)
        stops.append(stopped - started)
        print(
            f"run {run}: start {starts[-1]:.2f} s ({len(lab.jobs)} job(s) + node exporter all scraped), "
            f"stop {stops[-1]:.2f} s, processes left: {leftovers(folder)}"
        )
    verdict = "met" if max(starts) < TARGET_S else "NOT met"
    print(
        f"start median {statistics.median(starts):.2f} s, max {max(starts):.2f} s (target < {TARGET_S:.0f} s: "
        f"{verdict}); stop median {statistics.median(stops):.2f} s"
    )


if __name__ == "__main__":
    main()

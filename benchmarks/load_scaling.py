"""Load scaling: requests per second through the local Traefik lab, one Locust process against a master + 2 workers.

Both drive the split fixture's route with the same number of users, as fast as responses come back, for the
same time; the figure is the completed requests the deciding process counted divided by the time load ran.
Target (issue 16): ratio >= 1.5 on 2 cores. The lab's backends and Traefik share those cores with Locust, so
the ratio says as much about the machine as about Locust.
Run: .tox/harness/bin/python benchmarks/load_scaling.py [--seconds 20] [--users 16] [--workers 2]
Last line: `load_scaling single_rps=... distributed_rps=... ratio=...`.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from dbc_validate.labs.traefik_proxy import provide_local_traefik
from dbc_validate.manifests.model import load_manifest_set
from dbc_validate.manifests.traefik_routes import http_routes
from dbc_validate.probes.load_topology import LoadTopology
from dbc_validate.probes.locust_runner import LoadGenerator
from dbc_validate.progress import stderr_progress

ROOT = Path(__file__).resolve().parents[1]
UNBOUNDED_RATE = 1_000_000.0  # requests/s: the soak job's pacing never waits


def requests_per_second(endpoint, topology: LoadTopology, users: int, seconds: float, folder: Path) -> float:
    route = endpoint.routes[0]
    job = {
        "mode": "soak",
        "base_url": endpoint.base_url,
        "path": "/",
        "host_header": route.hosts[0] if route.hosts else "",
        "users": users,
        "rate_per_s": UNBOUNDED_RATE,
        "window_s": 1.0,
        "max_seconds": seconds,
    }
    load = LoadGenerator(job, folder, "load", topology).start()
    requests = failures = 0
    started = ended = None
    try:
        while load.alive():
            for event in load.events():
                if event["event"] == "started":
                    started = event["t"]
                elif event["event"] == "window":
                    requests += event["requests"]
                    failures += event["failures"]
                    ended = event["t"]
                elif event["event"] == "error":
                    raise RuntimeError(event["message"])
            time.sleep(0.2)
    finally:
        load.stop()
    if started is None or ended is None:
        raise RuntimeError(f"no load window reported: {load.failure()}")
    elapsed = ended - started
    stderr_progress(f"{topology.describe()}: {requests} requests ({failures} failed) in {elapsed:.1f} s")
    return requests / elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="load time per configuration (default 20)")
    parser.add_argument("--users", type=int, default=16, help="concurrent users in both configurations (default 16)")
    parser.add_argument("--workers", type=int, default=2, help="local workers beside the master (default 2)")
    args = parser.parse_args()
    routes = http_routes(load_manifest_set(ROOT / "fixtures" / "split" / "70-30"))
    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="dbc-load-scaling-") as tmp:
        endpoint = provide_local_traefik(routes, stack, stderr_progress).endpoint()
        single = requests_per_second(endpoint, LoadTopology(), args.users, args.seconds, Path(tmp) / "single")
        spread = requests_per_second(
            endpoint, LoadTopology(workers=args.workers), args.users, args.seconds, Path(tmp) / "spread"
        )
    print(f"cores {os.cpu_count()}, load average {os.getloadavg()[0]:.1f}")
    print(f"load_scaling single_rps={single:.0f} distributed_rps={spread:.0f} ratio={spread / single:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Load scaling: requests per second through the local Traefik lab, one Locust process against a master + 2 workers.

Both drive the split fixture's route with the same number of users, as fast as responses come back, for the
same time; the figure is the completed requests the deciding process counted divided by the time load ran.
Target (issue 16): ratio >= 1.5 on 2 cores. The lab's backends and Traefik share those cores with Locust, so
the ratio says as much about the machine as about Locust: each configuration also prints the CPU time per request
of the load generator and of the lab (measured: the processes' CPU time over the run), and the ceiling those
imply (derived: with every core busy, N cores serve at most N / (CPU per request of everything) requests/s, while
one Locust process gives at most 1 / (its CPU per request)).
Run: .tox/harness/bin/python benchmarks/load_scaling.py [--seconds 20] [--users 16] [--workers 2]
Last line: `load_scaling single_rps=... distributed_rps=... ratio=...`.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import psutil

from dbc_validate.labs.traefik_proxy import TraefikLab, provide_local_traefik
from dbc_validate.manifests.model import load_manifest_set
from dbc_validate.manifests.traefik_routes import http_routes
from dbc_validate.probes.load_topology import LoadTopology
from dbc_validate.probes.locust_runner import LoadGenerator
from dbc_validate.progress import stderr_progress

ROOT = Path(__file__).resolve().parents[1]
UNBOUNDED_RATE = 1_000_000.0  # requests/s: the soak job's pacing never waits


def cpu_seconds(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            times = psutil.Process(pid).cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system + times.children_user + times.children_system
    return total


def load_pids() -> list[int]:
    """This process's children running Locust (the load generator: one process, or a master and its workers)."""
    return [c.pid for c in psutil.Process().children(recursive=True) if "locust" in " ".join(_cmdline(c))]


def _cmdline(process: psutil.Process) -> list[str]:
    try:
        return process.cmdline()
    except psutil.NoSuchProcess:
        return []


@dataclass
class Run:
    rps: float
    requests: int
    load_cpu_s: float
    traefik_cpu_s: float
    backends_cpu_s: float

    def per_request_us(self, cpu_s: float) -> float:
        return cpu_s / max(self.requests, 1) * 1e6

    def describe(self) -> str:
        load, traefik, backends = (
            self.per_request_us(x) for x in (self.load_cpu_s, self.traefik_cpu_s, self.backends_cpu_s)
        )
        return (
            f"{self.rps:.0f} requests/s; CPU per request (measured): load generator {load:.0f} us, "
            f"Traefik {traefik:.0f} us, backends {backends:.0f} us"
        )

    def ceiling_ratio(self, cores: int) -> float:
        """Derived: requests/s with every core busy, over one Locust process's own limit (at least 1)."""
        everything = self.load_cpu_s + self.traefik_cpu_s + self.backends_cpu_s
        all_cores = cores * self.requests / everything if everything else 0.0
        one_process = self.requests / self.load_cpu_s if self.load_cpu_s else 0.0
        return all_cores / min(one_process, all_cores) if one_process and all_cores else 0.0


def requests_per_second(
    endpoint, lab: TraefikLab, topology: LoadTopology, users: int, seconds: float, folder: Path
) -> Run:
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
    traefik_pids = [lab.process.pid] if lab.process and lab.process.pid else []
    backend_pids = [b.process.pid for b in lab.backends if b.process.pid]
    lab_before = (cpu_seconds(traefik_pids), cpu_seconds(backend_pids))
    load_cpu: dict[int, float] = {}
    try:
        while load.alive():
            for pid in load_pids():  # read while they run: an exited process's CPU time is gone
                load_cpu[pid] = cpu_seconds([pid])
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
    # CPU figures cover the whole process lifetimes (start-up too), requests only the load windows: a little high.
    return Run(
        requests / elapsed,
        requests,
        sum(load_cpu.values()),
        cpu_seconds(traefik_pids) - lab_before[0],
        cpu_seconds(backend_pids) - lab_before[1],
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="load time per configuration (default 20)")
    parser.add_argument("--users", type=int, default=16, help="concurrent users in both configurations (default 16)")
    parser.add_argument("--workers", type=int, default=2, help="local workers beside the master (default 2)")
    args = parser.parse_args()
    routes = http_routes(load_manifest_set(ROOT / "fixtures" / "split" / "70-30"))
    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="dbc-load-scaling-") as tmp:
        lab = provide_local_traefik(routes, stack, stderr_progress)
        endpoint = lab.endpoint()
        single = requests_per_second(endpoint, lab, LoadTopology(), args.users, args.seconds, Path(tmp) / "single")
        spread = requests_per_second(
            endpoint, lab, LoadTopology(workers=args.workers), args.users, args.seconds, Path(tmp) / "spread"
        )
    cores = os.cpu_count() or 1
    print(f"cores {cores}, load average {os.getloadavg()[0]:.1f}")
    print(f"one process:           {single.describe()}")
    print(f"master + {args.workers} worker(s):  {spread.describe()}")
    print(
        f"ceiling on this machine (derived from the one-process CPU split): ratio <= {single.ceiling_ratio(cores):.2f}"
    )
    print(
        f"load_scaling single_rps={single.rps:.0f} distributed_rps={spread.rps:.0f} ratio={spread.rps / single.rps:.2f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

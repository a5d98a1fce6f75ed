"""The in-cluster load's command lines and locustfile, run by the stock `locust` CLI on this machine (standing in
for the pods) against the Traefik lab, read through the master's web API: a reader that reattaches reports what
ran while nobody watched, and a soak interrupted and resumed with `--load-in-cluster` records that stretch."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from helpers import ROOT

from dbc_validate.capabilities import ComponentHealth, InClusterLoadHandle, IngressEndpoint, ResourceUse
from dbc_validate.cluster.load_in_cluster import API_PORT, MASTER, WORKER, WORKER_PORT, InClusterLoad, load_objects
from dbc_validate.cluster.pins import load_pins
from dbc_validate.labs.traefik_proxy import provide_local_traefik
from dbc_validate.manifests.model import load_manifest_set
from dbc_validate.manifests.traefik_routes import http_routes
from dbc_validate.probes.load_topology import LoadTopology
from dbc_validate.probes.locust_master_api import MasterApiLoad, parse_totals, read_totals
from dbc_validate.probes.soak.plan import SoakPlan
from dbc_validate.probes.soak.runner import run_soak
from dbc_validate.probes.soak.store import SoakStore
from dbc_validate.tools.binaries import environment_scripts_dir
from dbc_validate.tools.processes import LabProcess, free_ports, wait_for_port

TEST_IMAGE = "docker.io/locustio/locust:2.47.0@sha256:" + "0" * 64


@dataclass
class LocalMaster:
    url: str
    endpoint: IngressEndpoint


def container(docs: list[dict], name: str) -> dict:
    deployment = next(d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == name)
    return deployment["spec"]["template"]["spec"]["containers"][0]


def pod_argv(spec: dict, folder: Path, replace: dict[str, str]) -> list[str]:
    args = [replace.get(a, a) for a in spec["args"]]
    args[args.index("-f") + 1] = str(folder / "locustfile.py")
    return [str(environment_scripts_dir() / "locust"), *args]


@pytest.fixture(scope="module")
def local_master(tmp_path_factory) -> Iterator[LocalMaster]:
    """The generated master and worker pods' command lines, run here; the master's API on a local port."""
    folder = tmp_path_factory.mktemp("locust")
    routes = http_routes(load_manifest_set(ROOT / "fixtures" / "split" / "70-30"))
    with ExitStack() as stack:
        endpoint = provide_local_traefik(routes, stack, lambda m: None).endpoint()
        load = InClusterLoad(TEST_IMAGE, endpoint.base_url, routes[0].hosts[0], workers=1, users=2, rate_per_s=20)
        docs = load_objects(load, load_pins().traefik)
        configmap = next(d for d in docs if d["kind"] == "ConfigMap")
        (folder / "locustfile.py").write_text(configmap["data"]["locustfile.py"])
        worker_port, api_port = free_ports(2)
        master_spec, worker_spec = container(docs, MASTER), container(docs, WORKER)
        env = dict(os.environ) | {e["name"]: e["value"] for e in master_spec["env"]} | {"HOME": str(folder)}
        replace = {
            f"--master-bind-port={WORKER_PORT}": f"--master-bind-port={worker_port}",
            f"--web-port={API_PORT}": f"--web-port={api_port}",
            f"--master-host={MASTER}.{load.namespace}.svc": "--master-host=127.0.0.1",
            f"--master-port={WORKER_PORT}": f"--master-port={worker_port}",
        }
        for name, spec in (("master", master_spec), ("worker", worker_spec)):
            process = LabProcess(
                f"locust-{name}", pod_argv(spec, folder, replace), log_path=folder / f"{name}.log", env=env
            )
            process.start()
            stack.callback(process.stop)
        assert wait_for_port(api_port, timeout_s=60), (folder / "master.log").read_text()[-2000:]
        url = f"http://127.0.0.1:{api_port}"
        deadline = time.monotonic() + 60
        while read_totals(url).requests == 0:  # the worker joined and reported (every 3 s)
            assert time.monotonic() < deadline, (folder / "master.log").read_text()[-2000:]
            time.sleep(0.5)
        yield LocalMaster(url, endpoint)


def window_events(load: MasterApiLoad, seconds: float) -> list[dict]:
    events: list[dict] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        events += list(load.events())
        time.sleep(1.0)
    return events


def test_the_pods_command_lines_load_the_ingress_and_a_reattached_reader_reports_the_unwatched_stretch(local_master):
    first = MasterApiLoad(local_master.url)
    watched = window_events(first, 6)
    assert watched[0]["event"] == "started"
    windows = [e for e in watched if e["event"] == "window"]
    assert sum(w["requests"] for w in windows) > 0 and sum(w["failures"] for w in windows) == 0, watched
    last_totals = windows[-1]["totals"]
    first.stop()  # the harness goes away; the master and worker go on

    time.sleep(4)
    again = MasterApiLoad(local_master.url, since=(last_totals[0], last_totals[1]))
    reattached = next(e for e in window_events(again, 2.5) if e["event"] == "reattached")
    # 20 requests/s for about 4 s nobody watched: counted by the master, reported on reattaching.
    assert 20 <= reattached["requests"] <= 200 and reattached["failures"] == 0 and not reattached["master_restarted"]


@dataclass
class StandInSubject:
    """A cluster soak subject whose in-cluster load is the local master (the API double runs no pods)."""

    master: LocalMaster
    cleanups: list[bool] = field(default_factory=list)
    description: str = "stand-in cluster"
    default_duration_s: float = 4.0
    restart_counts: dict[str, int] = field(default_factory=lambda: {"web-0": 1, "web-1": 0})  # pods' restartCount
    restart_counts_persist: bool = True

    @property
    def endpoint(self) -> IngressEndpoint:
        return self.master.endpoint

    @property
    def route(self):
        return self.master.endpoint.routes[0]

    def health(self, now: float) -> list:
        return [ComponentHealth(name, True, count, False) for name, count in self.restart_counts.items()]

    def resources(self) -> ResourceUse:
        return ResourceUse(None, None)

    def in_cluster_load(self, workers: int, users: int, rate_per_s: float, keep: bool = False) -> InClusterLoadHandle:
        return InClusterLoadHandle(self.master.url, "local stand-in master", lambda: self.cleanups.append(True) or True)


class StopAfter:
    """A clock whose sleeps end the segment (as Ctrl-C would) after `n` samples."""

    def __init__(self, n: int) -> None:
        self.left = n

    def __call__(self, seconds: float) -> None:
        if self.left == 0:
            raise KeyboardInterrupt
        self.left -= 1
        time.sleep(seconds)


def test_a_soak_with_in_cluster_load_resumes_and_records_what_ran_while_the_harness_was_away(local_master, tmp_path):
    subject = StandInSubject(local_master)
    plan = SoakPlan(root=tmp_path, duration_s=4.0, interval_s=1.0, load=LoadTopology(in_cluster=True))
    with pytest.raises(KeyboardInterrupt):
        run_soak(subject, plan, lambda line: None, sleep=StopAfter(2))
    assert subject.cleanups == []  # interrupted: the in-cluster load stays for the resume
    run_id = next(tmp_path.iterdir()).name
    time.sleep(4)  # longer than the workers' 3 s report interval: the master counts load nobody samples
    # Meanwhile web-0 restarted twice and web-1 was replaced by web-2: the cluster's counters say so on resume.
    subject.restart_counts = {"web-0": 3, "web-2": 0}
    lines: list[str] = []
    result = run_soak(
        subject,
        SoakPlan(
            root=tmp_path,
            duration_s=None,
            interval_s=1.0,
            resume=run_id,
            load=LoadTopology(in_cluster=True),
            prometheus_url="http://127.0.0.1:9",  # named: the resume asks it about the gap (too short to read)
        ),
        lines.append,
    )
    assert result.summary.covered_s >= 4.0 - 0.05 and len(result.summary.segments) == 2
    segments = [r for r in SoakStore.open(tmp_path, run_id).records() if r["type"] == "segment"]
    unwatched = segments[1]["unwatched_load"]
    assert unwatched["requests"] > 0 and unwatched["failures"] == 0, unwatched
    assert any("ran on while the harness was away" in line for line in lines)
    assert subject.cleanups == [True]  # completed: cleaned up
    # Restarts nobody watched count against the run (a fresh baseline at the resume would have hidden them).
    assert result.summary.restarts == 2
    (gap,) = result.summary.gaps
    assert gap.meanwhile is not None and gap.meanwhile.restarted == {"web-0": 2}
    assert gap.meanwhile.new_components == ("web-2",)
    assert "2 restart(s) (web-0 +2)" in gap.describe() and any("while unwatched, 2 restart(s)" in x for x in lines)
    assert gap.metrics is not None and gap.metrics.error == "the gap holds no whole query step of 60 s"
    assert gap.describe().endswith("; not read from http://127.0.0.1:9: the gap holds no whole query step of 60 s")


def test_totals_come_from_the_aggregated_row_and_the_current_percentiles():
    report = {
        "stats": [
            {"name": "/", "num_requests": 5, "num_failures": 1},
            {"name": "Aggregated", "num_requests": 7, "num_failures": 2},
        ],
        "current_response_time_percentiles": {"response_time_percentile_0.5": 12, "response_time_percentile_0.95": 40},
        "state": "running",
        "user_count": 4,
        "workers": [{"id": "a"}, {"id": "b"}],
    }
    totals = parse_totals(report)
    assert (totals.requests, totals.failures, totals.p50_ms, totals.p95_ms, totals.workers) == (7, 2, 12, 40, 2)

"""The in-cluster load's command lines and locustfile, run by the stock `locust` CLI on this machine (standing in
for the pods), read through the master's web API; a reader that reattaches reports what ran while nobody watched."""

from __future__ import annotations

import os
import time
from contextlib import ExitStack
from pathlib import Path

from helpers import ROOT

from dbc_validate.cluster.load_in_cluster import API_PORT, MASTER, WORKER, WORKER_PORT, InClusterLoad, load_objects
from dbc_validate.cluster.pins import load_pins
from dbc_validate.labs.traefik_proxy import provide_local_traefik
from dbc_validate.manifests.model import load_manifest_set
from dbc_validate.manifests.traefik_routes import http_routes
from dbc_validate.probes.locust_master_api import MasterApiLoad, parse_totals
from dbc_validate.tools.binaries import environment_scripts_dir
from dbc_validate.tools.processes import LabProcess, free_ports, wait_for_port

TEST_IMAGE = "docker.io/locustio/locust:2.47.0@sha256:" + "0" * 64


def container(docs: list[dict], name: str) -> dict:
    deployment = next(d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == name)
    return deployment["spec"]["template"]["spec"]["containers"][0]


def pod_argv(spec: dict, folder: Path, replace: dict[str, str]) -> list[str]:
    args = [replace.get(a, a) for a in spec["args"]]
    args[args.index("-f") + 1] = str(folder / "locustfile.py")
    return [str(environment_scripts_dir() / "locust"), *args]


def window_events(load: MasterApiLoad, seconds: float) -> list[dict]:
    events: list[dict] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        events += list(load.events())
        time.sleep(1.0)
    return events


def test_the_pods_command_lines_load_the_ingress_and_a_reattached_reader_reports_the_unwatched_stretch(tmp_path):
    routes = http_routes(load_manifest_set(ROOT / "fixtures" / "split" / "70-30"))
    with ExitStack() as stack:
        endpoint = provide_local_traefik(routes, stack, lambda m: None).endpoint()
        load = InClusterLoad(TEST_IMAGE, endpoint.base_url, routes[0].hosts[0], workers=1, users=2, rate_per_s=20)
        docs = load_objects(load, load_pins().traefik)
        configmap = next(d for d in docs if d["kind"] == "ConfigMap")
        (tmp_path / "locustfile.py").write_text(configmap["data"]["locustfile.py"])
        worker_port, api_port = free_ports(2)
        master_spec, worker_spec = container(docs, MASTER), container(docs, WORKER)
        env = {e["name"]: e["value"] for e in master_spec["env"]} | {"HOME": str(tmp_path)}
        replace = {
            f"--master-bind-port={WORKER_PORT}": f"--master-bind-port={worker_port}",
            f"--web-port={API_PORT}": f"--web-port={api_port}",
            f"--master-host={MASTER}.{load.namespace}.svc": "--master-host=127.0.0.1",
            f"--master-port={WORKER_PORT}": f"--master-port={worker_port}",
        }
        base = dict(os.environ) | env
        master = LabProcess(
            "locust-master", pod_argv(master_spec, tmp_path, replace), log_path=tmp_path / "m.log", env=base
        )
        worker = LabProcess(
            "locust-worker", pod_argv(worker_spec, tmp_path, replace), log_path=tmp_path / "w.log", env=base
        )
        master.start()
        stack.callback(master.stop)
        worker.start()
        stack.callback(worker.stop)
        assert wait_for_port(api_port, timeout_s=60, alive=master.alive), master.log_tail()
        url = f"http://127.0.0.1:{api_port}"

        first = MasterApiLoad(url)
        watched = window_events(first, 6)
        assert watched[0]["event"] == "started"
        windows = [e for e in watched if e["event"] == "window"]
        requests = sum(w["requests"] for w in windows)
        assert requests > 0 and sum(w["failures"] for w in windows) == 0, (watched, master.log_tail())
        last_totals = windows[-1]["totals"]
        first.stop()  # the harness goes away; the master and worker go on

        time.sleep(4)
        again = MasterApiLoad(url, since=(last_totals[0], last_totals[1]))
        events = window_events(again, 2.5)
        reattached = next(e for e in events if e["event"] == "reattached")
        # 20 requests/s for about 4 s nobody watched: counted by the master, reported on reattaching.
        assert (
            20 <= reattached["requests"] <= 200 and reattached["failures"] == 0 and not reattached["master_restarted"]
        )


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

"""Locust's distributed mode through the real Traefik: a master with local workers, and a worker joining from
"another machine" (a process started by hand with the documented command line), give the one-process verdicts."""

from __future__ import annotations

import time
from contextlib import ExitStack
from pathlib import Path

import pytest
from helpers import ROOT

from dbc_validate.analysis.split_check import required_split
from dbc_validate.criteria import by_id
from dbc_validate.labs.traefik_proxy import provide_local_traefik
from dbc_validate.manifests.model import load_manifest_set
from dbc_validate.manifests.traefik_routes import http_routes
from dbc_validate.probes.load_topology import LoadTopology
from dbc_validate.probes.locust_runner import LoadGenerator, worker_argv
from dbc_validate.probes.split_load import SplitMeasurement, SplitSettings, measure_split
from dbc_validate.stats import Outcome
from dbc_validate.tools.processes import LabProcess, free_ports

FIXTURES = ROOT / "fixtures" / "split"
GATE1_SPLIT = required_split(by_id("applications.traffic_split").threshold)


@pytest.fixture(scope="module")
def traefik_70_30():
    with ExitStack() as stack:
        routes = http_routes(load_manifest_set(FIXTURES / "70-30"))
        yield provide_local_traefik(routes, stack, lambda message: None).endpoint()


def measure(endpoint, load: LoadTopology, tmp_path: Path) -> SplitMeasurement:
    settings = SplitSettings(load=load)
    return measure_split(endpoint, endpoint.routes[0], GATE1_SPLIT, lambda m: None, settings, directory=tmp_path)


def test_two_local_workers_give_the_one_process_verdict_on_70_30(traefik_70_30, tmp_path):
    single = measure(traefik_70_30, LoadTopology(), tmp_path / "single")
    spread = measure(traefik_70_30, LoadTopology(workers=2), tmp_path / "spread")
    assert single.decision.outcome is spread.decision.outcome is Outcome.ACCEPT, (single.verdict(), spread.verdict())
    assert spread.passed and spread.hypothesis.in_flight == 2 * 2 * 4
    assert spread.requests == spread.decision.requests  # the master counted every outcome it decided on
    assert "Locust master + 2 local worker(s)" in spread.method()
    # Traefik served every counted request, plus at most the in-flight figure the WRR bound allowed for.
    assert spread.server_counts is not None
    for variant, count in spread.counts.items():
        assert count <= spread.server_counts[variant] <= count + spread.hypothesis.in_flight
    assert set(spread.as_measurements()) == set(single.as_measurements())


def test_two_local_workers_give_the_one_process_verdict_on_50_50(tmp_path):
    with ExitStack() as stack:
        routes = http_routes(load_manifest_set(FIXTURES / "50-50"))
        endpoint = provide_local_traefik(routes, stack, lambda message: None).endpoint()
        single = measure(endpoint, LoadTopology(), tmp_path / "single")
        spread = measure(endpoint, LoadTopology(workers=2), tmp_path / "spread")
    assert single.decision.outcome is spread.decision.outcome is Outcome.REJECT
    assert "does not match 70/30" in spread.verdict()


def test_a_worker_started_by_hand_joins_the_bound_master(traefik_70_30, tmp_path):
    port = free_ports(1)[0]
    remote = LabProcess("remote-worker", worker_argv("127.0.0.1", port), log_path=tmp_path / "remote.log").start()
    try:
        m = measure(traefik_70_30, LoadTopology(master_bind=("127.0.0.1", port), expect_remote=1), tmp_path / "m")
    finally:
        remote.stop(timeout_s=5.0)
    assert m.passed, m.verdict()
    assert m.hypothesis.in_flight == 1 * 2 * 4


def test_a_master_whose_workers_never_join_is_a_load_failure_naming_the_address(traefik_70_30, tmp_path):
    port = free_ports(1)[0]
    load = LoadTopology(master_bind=("127.0.0.1", port), expect_remote=2, join_timeout_s=2.0)
    m = measure(traefik_70_30, load, tmp_path)
    assert not m.passed
    assert f"only 0 of 2 Locust worker(s) joined the master on 127.0.0.1:{port}" in m.verdict()


def test_the_soak_load_with_two_workers_reports_windows_from_the_master(traefik_70_30, tmp_path):
    route = traefik_70_30.routes[0]
    job = {
        "mode": "soak",
        "base_url": traefik_70_30.base_url,
        "path": "/",
        "host_header": route.hosts[0],
        "users": 4,
        "rate_per_s": 20.0,
        "window_s": 1.0,
        "max_seconds": 6.0,
    }
    load = LoadGenerator(job, tmp_path, "soak", LoadTopology(workers=2)).start()
    events: list[dict] = []
    deadline = time.monotonic() + 60
    try:
        while load.alive() and time.monotonic() < deadline:
            events += list(load.events())
            time.sleep(0.2)
        events += list(load.events())
    finally:
        load.stop()
    windows = [e for e in events if e["event"] == "window"]
    assert [e["event"] for e in events][:3] == ["waiting", "workers", "started"], events[:3]
    requests = sum(w["requests"] for w in windows)
    assert windows and requests > 0 and sum(w["failures"] for w in windows) == 0
    # 20 requests/s spread over both workers for about 6 s: the master's totals add up the workers' share.
    assert 40 <= requests <= 160, requests
    assert all(len(w["latencies_ms"]) == w["requests"] for w in windows)

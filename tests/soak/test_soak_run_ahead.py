"""The soak run as a capability: which local soaks run ahead, the sampling default, and the run handle's outcome."""

from __future__ import annotations

import threading

import pytest
from helpers import ROOT

from dbc_validate.capabilities import Capability
from dbc_validate.probes.load_topology import LoadTopology
from dbc_validate.probes.soak.plan import SoakPlan, sample_interval
from dbc_validate.probes.soak.run_handle import SoakRun, stoppable_sleep
from dbc_validate.probes.soak.runner import SoakResult
from dbc_validate.settings import Settings
from dbc_validate.targets.local import AHEAD_SOAK_MAX_S, LocalTarget, soak_runs_ahead


def plan(**fields) -> SoakPlan:
    return SoakPlan(root=ROOT / "unused", **{"duration_s": None, **fields})


@pytest.mark.parametrize(
    ("interval", "planned", "expected"),
    [
        (None, 10.0, 5.0),  # the local default run: two samples
        (None, 20.0, 10.0),
        (None, 48 * 3600.0, 10.0),
        (None, 0.0, 10.0),  # nothing planned yet (a resume reads the run's own plan)
        (2.0, 10.0, 2.0),  # given: always that
        (30.0, 48 * 3600.0, 30.0),
    ],
)
def test_the_default_interval_gives_every_run_at_least_two_samples(interval, planned, expected):
    assert sample_interval(plan(interval_s=interval), planned) == expected


@pytest.mark.parametrize(
    ("fields", "ahead"),
    [
        ({}, True),  # the local default (10 s): proves the machinery while the labs start
        ({"duration_s": AHEAD_SOAK_MAX_S}, True),
        ({"duration_s": AHEAD_SOAK_MAX_S + 1}, False),  # a long soak waits for its suite (Ctrl-C, resume)
        ({"duration_s": 48 * 3600.0}, False),
        ({"resume": "20261203-100000-abcd"}, False),
        ({"mode": "retrospective", "prometheus_url": "http://127.0.0.1:9090"}, False),
        ({"load": LoadTopology(in_cluster=True)}, False),
    ],
)
def test_only_a_short_fresh_active_local_soak_runs_ahead(fields, ahead):
    assert soak_runs_ahead(plan(**fields)) is ahead


def test_the_local_target_starts_the_soak_run_in_the_background_only_when_it_runs_ahead(tmp_path):
    short = LocalTarget(Settings(root=ROOT, report_html=tmp_path / "gate1.html"), lambda line: None)
    long = LocalTarget(
        Settings(root=ROOT, report_html=tmp_path / "gate1.html", soak_duration_s=3600.0), lambda line: None
    )
    assert Capability.SOAK_RUN in short.background_capabilities
    assert Capability.SOAK_RUN not in long.background_capabilities
    assert Capability.SOAK in long.background_capabilities  # its lab still starts early
    assert short.capability_scopes()[Capability.SOAK_RUN] is short.capability_scopes()[Capability.SOAK]


def result_stub() -> SoakResult:
    return SoakResult(None, None, ROOT, plan(), False, 0.0)  # type: ignore[arg-type]


def test_a_run_done_ahead_hands_its_result_and_overlap_note_to_the_suite():
    calls = []
    run = SoakRun(lambda: calls.append(1) or result_stub(), overlap="ran beside the lab starts").run_now()
    first, second = run.result(), run.result()
    assert calls == [1] and first is second and first.overlap == "ran beside the lab starts"


def test_a_run_on_demand_runs_once_in_the_callers_thread():
    threads = []
    run = SoakRun(lambda: threads.append(threading.get_ident()) or result_stub())
    assert threads == []  # nothing runs until the suite asks
    run.result()
    run.result()
    assert threads == [threading.get_ident()]


@pytest.mark.parametrize("ahead", [True, False])
def test_a_failed_or_interrupted_run_raises_the_same_exception_on_every_call(ahead):
    error = KeyboardInterrupt("stopped")

    def fails() -> SoakResult:
        raise error

    run = SoakRun(fails)
    if ahead:
        run.run_now()  # a background start: the exception waits for the suite
    for _ in range(2):
        with pytest.raises(KeyboardInterrupt) as raised:
            run.result()
        assert raised.value is error


def test_a_stoppable_sleep_sleeps_until_the_session_stops_then_raises():
    stopping = threading.Event()
    sleep = stoppable_sleep(stopping)
    sleep(0.01)  # not stopping: an ordinary sleep
    stopping.set()
    with pytest.raises(KeyboardInterrupt):
        sleep(60.0)

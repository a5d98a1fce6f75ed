"""The local soak subject on real processes: restarts, crash-loops, CPU and memory, a soak that sees a crash."""

from __future__ import annotations

import sys
import threading
import time
from contextlib import ExitStack
from pathlib import Path

from helpers import ROOT

from dbc_validate.labs.soak_subject import LocalSoakSubject, ProcessMeter, ProcessSupervisor
from dbc_validate.labs.traefik_proxy import provide_local_traefik
from dbc_validate.manifests.model import load_manifest_set
from dbc_validate.manifests.traefik_routes import http_routes
from dbc_validate.probes.soak.plan import SoakPlan
from dbc_validate.probes.soak.runner import run_soak
from dbc_validate.tools.processes import LabProcess

FIXTURE = ROOT / "fixtures" / "split" / "70-30"


def process(tmp_path: Path, name: str, code: str) -> LabProcess:
    return LabProcess(name, [sys.executable, "-c", code], log_path=tmp_path / f"{name}.log")


def wait_dead(p: LabProcess, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while p.alive() and time.monotonic() < deadline:
        time.sleep(0.02)


def test_a_process_that_keeps_crashing_is_restarted_and_flagged_as_crash_looping(tmp_path):
    crashing = process(tmp_path, "crasher", "import sys; sys.exit(3)").start()
    supervisor = ProcessSupervisor([("crasher", crashing)], backoff_base_s=0.0)
    readings = []
    try:
        for step in range(4):
            wait_dead(crashing)
            readings.append(supervisor.check(float(step))[0])
    finally:
        crashing.stop()
    assert [r.restarts for r in readings] == [1, 2, 3, 4]
    assert not readings[0].up and "exited with code 3" in readings[0].detail
    assert [r.crashlooping for r in readings] == [False, False, True, True]


def test_back_off_delays_the_next_restart(tmp_path):
    crashing = process(tmp_path, "crasher", "import sys; sys.exit(1)").start()
    supervisor = ProcessSupervisor([("crasher", crashing)], backoff_base_s=100.0)
    try:
        wait_dead(crashing)
        assert supervisor.check(0.0)[0].restarts == 1  # the first restart is immediate
        wait_dead(crashing)
        waiting = supervisor.check(1.0)[0]
        assert waiting.restarts == 1 and "waiting in back-off" in waiting.detail
        assert supervisor.check(101.0)[0].restarts == 2
    finally:
        crashing.stop()


def test_a_healthy_process_is_up_without_restarts_and_is_metered(tmp_path):
    steady = process(tmp_path, "steady", "import time\nx = bytearray(30 * 2**20)\nwhile True: time.sleep(0.1)").start()
    try:
        time.sleep(0.5)
        (reading,) = ProcessSupervisor([("steady", steady)]).check(0.0)
        assert reading.up and reading.restarts == 0 and not reading.crashlooping
        meter = ProcessMeter()
        use = meter.measure([steady.pid])
        assert use.memory_mb is not None and use.memory_mb > 30
        assert meter.measure([]).memory_mb == 0
    finally:
        steady.stop()


def test_a_soak_sees_a_backend_crash_as_errors_a_restart_and_a_component_down(tmp_path):
    with ExitStack() as stack:
        lab = provide_local_traefik(http_routes(load_manifest_set(FIXTURE)), stack, lambda m: None, "crash-lab")
        subject = LocalSoakSubject(lab, backoff_base_s=0.5)
        killer = threading.Timer(1.5, lab.backends[0].process.kill)
        stack.callback(killer.cancel)

        def kill_once_sampling(message: str) -> None:
            if " started: " in message:  # the segment began: the baseline is taken, the load runs
                killer.start()

        plan = SoakPlan(root=tmp_path / "soak", duration_s=7.0, interval_s=1.0, rate_per_s=20.0)
        result = run_soak(subject, plan, kill_once_sampling)
    s = result.summary
    assert s.restarts >= 1
    assert any(name.startswith("backend dirtbikechina/wordpress-prod") for name in s.down)
    assert s.failures > 0 and s.error_rate is not None and s.error_rate > 0
    assert "502" in s.first_error or "503" in s.first_error
    assert abs(s.covered_s - 7.0) < 0.5 and [seg.ended for seg in s.segments] == ["completed"]

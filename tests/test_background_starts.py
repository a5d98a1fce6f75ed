"""Background lab starts: results and errors reach the fixture unchanged, started processes live until the target
stops, progress lines are written by the main thread only, the failover lab waits for every start, and Ctrl-C
during a start still stops everything it started."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Mapping
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from dbc_validate.capabilities import Capability, CapabilityUnavailable
from dbc_validate.errors import InputError
from dbc_validate.progress import MainThreadProgress
from dbc_validate.scope import Scope
from dbc_validate.settings import Settings
from dbc_validate.targets.background import BackgroundStarts
from dbc_validate.targets.base import Provider, Target
from dbc_validate.tools.processes import LabProcess


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (ProcessLookupError, FileNotFoundError):
        return False


@pytest.mark.parametrize("error", [CapabilityUnavailable("mariadb is not installed"), InputError("broken", "fix it")])
def test_a_provider_error_is_raised_unchanged_where_the_fixture_waits(error):
    starts = BackgroundStarts()
    stack = ExitStack()

    def provider(stack: ExitStack) -> Any:
        raise error

    starts.start(Capability.APPS, provider, stack)
    with pytest.raises(type(error)) as raised:
        starts.result(Capability.APPS)
    assert raised.value is error  # same message, same type: NOT_RUN stays NOT_RUN, ERROR stays ERROR
    stack.close()
    starts.release()


def test_a_process_started_in_the_background_lives_until_the_target_stops_it(tmp_path):
    # PR_SET_PDEATHSIG follows the forking thread: a thread that ended after the start would kill its lab.
    starts = BackgroundStarts()
    stack = ExitStack()

    def provider(stack: ExitStack) -> LabProcess:
        process = LabProcess("sleeper", ["sleep", "60"], log_path=tmp_path / "log").start()
        stack.callback(process.kill)
        return process

    starts.start(Capability.SOAK, provider, stack)
    process = starts.result(Capability.SOAK)
    time.sleep(0.2)  # a SIGKILL sent at the end of the forking thread would have landed by now
    assert process.pid is not None and alive(process.pid)
    stack.close()
    starts.release()
    assert not alive(process.pid)


def test_background_progress_lines_are_written_by_the_main_thread_in_order():
    written: list[tuple[str, bool]] = []
    progress = MainThreadProgress(
        lambda line: written.append((line, threading.current_thread() is threading.main_thread()))
    )
    worker = threading.Thread(target=lambda: [progress(f"lab: step {i}") for i in range(3)])
    worker.start()
    worker.join()
    assert written == []  # queued, not written from the worker
    progress("main line")
    assert [line for line, _ in written] == ["lab: step 0", "lab: step 1", "lab: step 2", "main line"]
    assert all(main for _, main in written)


class SlowTarget(Target):
    """Two slow labs and a failover lab, each recording when it started and ended."""

    name = "slow"
    scope = Scope.LOCAL
    background_capabilities = frozenset({Capability.APPS, Capability.OBSERVABILITY})

    def __init__(self, settings: Settings, events: list[str], delay_s: float) -> None:
        super().__init__(settings, lambda line: None)
        self.events = events
        self.delay_s = delay_s

    def capability_scopes(self) -> Mapping[Capability, Scope]:
        return {c: Scope.LOCAL for c in (Capability.APPS, Capability.OBSERVABILITY, Capability.FAILOVER_LAB)}

    def providers(self) -> Mapping[Capability, Provider]:
        return {c: self._lab(c) for c in self.capability_scopes()}

    def _lab(self, capability: Capability) -> Provider:
        def provide(stack: ExitStack) -> str:
            self.events.append(f"{capability.value} start")
            time.sleep(self.delay_s if capability is not Capability.FAILOVER_LAB else 0)
            stack.callback(self.events.append, f"{capability.value} stopped")
            self.events.append(f"{capability.value} up")
            return capability.value

        return provide


def test_the_failover_lab_waits_until_every_background_start_has_ended(tmp_path):
    events: list[str] = []
    target = SlowTarget(Settings(root=tmp_path), events, delay_s=0.2)
    started = target.start_in_background([Capability.FAILOVER_LAB, Capability.OBSERVABILITY, Capability.APPS])
    assert started == [Capability.OBSERVABILITY, Capability.APPS]  # the failover lab is not a background start
    assert target.provide(Capability.FAILOVER_LAB) == "failover_lab"
    failover = events.index("failover_lab start")
    assert {"apps up", "observability up"} <= set(events[:failover])
    assert target.provide(Capability.APPS) == "apps"
    target.stop()
    assert set(events[-3:]) == {"apps stopped", "observability stopped", "failover_lab stopped"}


def test_the_labs_started_in_the_background_stop_at_the_same_time():
    # Each stop waits for the other: they pass the barrier only when they run concurrently.
    barrier = threading.Barrier(2, timeout=10)
    starts, stack = BackgroundStarts(), ExitStack()
    for capability in (Capability.APPS, Capability.SOAK):
        starts.start(capability, lambda stack: stack.callback(barrier.wait), stack)
    starts.wait_all()
    starts.stop_all()
    assert not barrier.broken
    stack.close()
    starts.release()


def test_stopping_during_a_start_waits_for_it_and_stops_what_it_started(tmp_path):
    events: list[str] = []
    target = SlowTarget(Settings(root=tmp_path), events, delay_s=0.2)
    target.start_in_background([Capability.APPS])
    target.stop()  # as after Ctrl-C: the start is still under way
    assert events == ["apps start", "apps up", "apps stopped"]


SLOW_LAB_CONFTEST = """
import os, signal, time
from pathlib import Path

from dbc_validate.targets.local import LocalTarget
from dbc_validate.tools.processes import LabProcess


def slow_observability(self, stack):
    process = LabProcess("sleeper", ["sleep", "120"], log_path=Path("sleeper.log")).start()
    stack.callback(process.kill)
    Path("sleeper.pid").write_text(str(process.pid))
    os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C while this start is still under way
    time.sleep(1.5)
    return "stack"


LocalTarget._observability = slow_observability
"""

SLOW_LAB_TESTS = """
import time

import pytest


@pytest.mark.gate1("security.rbac")
def test_static(manifest_set):
    time.sleep(5)


@pytest.mark.gate1("observability.prometheus_targets")
def test_live(observability):
    pass
"""


def test_ctrl_c_during_a_background_start_stops_what_it_started(pytester):
    pytester.makepyprojecttoml('[tool.pytest.ini_options]\naddopts = "-p no:cacheprovider"\n')
    (pytester.path / "manifests").mkdir()
    (pytester.path / "manifests" / "set.yaml").write_text("apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n")
    pytester.makeconftest(SLOW_LAB_CONFTEST)
    pytester.makepyfile(test_slow=SLOW_LAB_TESTS)
    result = pytester.runpytest_subprocess("--target", "local", timeout=60)
    output = result.stdout.str() + result.stderr.str()
    assert result.ret == pytest.ExitCode.INTERRUPTED, output
    assert "starting in the background: observability" in output
    pid = int((pytester.path / "sleeper.pid").read_text())
    assert not alive(pid), output
    assert (pytester.path / "reports" / "gate1.json").exists()

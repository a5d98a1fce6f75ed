"""Interrupts: the first Ctrl-C/SIGTERM stops the run, later ones wait until the report is written and the
labs are stopped; what finished before the interrupt stays in the report, short of the gate."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from helpers import criterion

from dbc_validate.criteria import CATALOG
from dbc_validate.evidence import EvidenceRecorder, TestEvidence
from dbc_validate.plugin import mark_interrupted
from dbc_validate.probes import failover_trials
from dbc_validate.probes.soak.plan import resume_command
from dbc_validate.report.build import RunInfo, build_report
from dbc_validate.report.verdict import Outcome, TestResult
from dbc_validate.scope import Scope
from dbc_validate.session import Gate1Session, TestRecord
from dbc_validate.settings import Settings
from dbc_validate.tools.interrupts import CleanupAbandoned, InterruptGuard


def test_the_first_signal_interrupts_and_later_ones_are_deferred_until_the_user_insists():
    guard = InterruptGuard(abandon_after=2)
    with pytest.raises(KeyboardInterrupt):
        guard.handle(signal.SIGINT, None)
    guard.handle(signal.SIGINT, None)  # deferred
    guard.handle(signal.SIGTERM, None)  # deferred
    with pytest.raises(CleanupAbandoned):
        guard.handle(signal.SIGINT, None)
    assert guard.deferred == 3


def test_the_report_writing_is_never_abandoned():
    guard = InterruptGuard(abandon_after=0)
    guard.start_stopping()  # a run finishing normally: the first signal is deferred too
    with guard.protected():
        for _ in range(5):
            guard.handle(signal.SIGINT, None)
    with pytest.raises(CleanupAbandoned):
        guard.handle(signal.SIGINT, None)


def test_the_guard_installs_only_over_default_handlers_and_restores_them():
    previous = signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        guard = InterruptGuard()
        guard.install()
        assert signal.getsignal(signal.SIGTERM) == guard.handle
        guard.uninstall()
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # someone else's choice is left alone
        other = InterruptGuard()
        other.install()
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_IGN
        other.uninstall()
    finally:
        signal.signal(signal.SIGTERM, previous)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["suites/gate1", "--target", "local"], "pytest suites/gate1 --target local --soak-resume R1"),
        (["-k", "soak and not x", "--soak-resume", "OLD"], "pytest -k 'soak and not x' --soak-resume R1"),
        (["--soak-resume=OLD", "--soak-duration", "2h"], "pytest --soak-duration 2h --soak-resume R1"),
    ],
)
def test_the_resume_command_repeats_the_run_with_the_run_id(args, expected):
    assert resume_command(args, "R1") == expected


SLOW_TEARDOWN = """
import os, signal, time
from pathlib import Path

import pytest

@pytest.fixture(scope="session")
def slow_lab():
    yield
    # The cleanup is under way: a second Ctrl-C arrives, then the cleanup goes on for a while.
    os.kill(os.getpid(), signal.SIGNUM)
    time.sleep(0.5)
    Path("teardown-finished").write_text("yes")

@pytest.mark.gate1("security.rbac")
def test_interrupted(manifest_set, slow_lab):
    os.kill(os.getpid(), signal.SIGNUM)
    time.sleep(5)
"""


@pytest.mark.parametrize("signum", ["SIGINT", "SIGTERM"])
def test_a_second_ctrl_c_during_the_cleanup_neither_loses_the_report_nor_stops_the_cleanup(pytester, signum):
    pytester.makepyprojecttoml('[tool.pytest.ini_options]\naddopts = "-p no:cacheprovider"\n')
    (pytester.path / "manifests").mkdir()
    (pytester.path / "manifests" / "set.yaml").write_text("apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n")
    pytester.makepyfile(test_interrupt=SLOW_TEARDOWN.replace("SIGNUM", signum))
    # In a subprocess: the signals go to the inner pytest only.
    result = pytester.runpytest_subprocess("--target", "local", timeout=120)
    output = result.stdout.str() + result.stderr.str()
    assert result.ret == pytest.ExitCode.INTERRUPTED, output
    assert (pytester.path / "teardown-finished").exists(), output
    assert "Traceback" not in output
    result.stderr.fnmatch_lines([f"dbc_validate: {signum} deferred: writing the report and stopping the labs*"])
    report = (pytester.path / "reports" / "gate1.json").read_text()
    assert (pytester.path / "reports" / "gate1.html").exists()
    assert '"verdict": "INCOMPLETE"' in report


def test_a_failover_interrupt_keeps_the_finished_trials_short_of_the_gate():
    sink = TestEvidence()
    recorder = EvidenceRecorder(("databases.failover",), sink)
    recorder.measure("trials", 2)
    recorder.threshold(True, "max write gap 12.0 s < 30 s")
    recorder.interrupted("2 of 3 trials before the interrupt")
    test = TestResult("t::failover", ("databases.failover",), Outcome.INTERRUPTED, Scope.LOCAL, sink.interrupted)
    run = RunInfo("local", "local", "s", "f", "0")
    report = build_report(CATALOG, [test], {"t::failover": sink}, run)
    failover = criterion(report, "databases.failover")
    assert failover["status"] == "PASSED_BELOW_GATE"
    assert failover["short_of"][0] == "interrupted: 2 of 3 trials before the interrupt"
    assert failover["measured"] == {"trials": 2}
    assert report["verdict"] == "INCOMPLETE"


def test_an_interrupt_between_trials_carries_the_finished_ones(monkeypatch):
    finished = object()
    calls = []

    def trial(backend, index, **kwargs):
        calls.append(index)
        if index == 3:
            raise KeyboardInterrupt
        return finished

    class Backend:
        description = "a stand-in backend"

    monkeypatch.setattr(failover_trials, "run_trial", trial)
    with pytest.raises(failover_trials.TrialsInterrupted) as stopped:
        failover_trials.run_trials(Backend(), 5)
    assert calls == [1, 2, 3]
    assert stopped.value.run.trials == (finished, finished)
    assert stopped.value.done == "2 of 5 trials before the interrupt"
    assert isinstance(stopped.value, KeyboardInterrupt)  # pytest still sees an interrupt


STOPPED_MARKER = """
from pathlib import Path

import pytest

from dbc_validate.plugin import gate1_session

@pytest.mark.gate1("security.rbac")
def test_x(manifest_set, request):
    # stands in for a lab: the target stops it with everything the providers started
    gate1_session(request.config).target._stack.callback(lambda: Path("lab-stopped").write_text("yes"))
"""


def test_a_report_bug_still_stops_the_labs_and_fails_the_run(pytester, monkeypatch):
    def broken(report, html):
        raise RuntimeError("a bug while writing the report")

    monkeypatch.setattr("dbc_validate.plugin.write_report", broken)
    pytester.makepyprojecttoml('[tool.pytest.ini_options]\naddopts = "-p no:cacheprovider"\n')
    (pytester.path / "manifests").mkdir()
    (pytester.path / "manifests" / "set.yaml").write_text("apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n")
    pytester.makepyfile(test_lab=STOPPED_MARKER)
    result = pytester.runpytest("--target", "local")
    assert result.ret == pytest.ExitCode.INTERNAL_ERROR
    assert (pytester.path / "lab-stopped").read_text() == "yes"
    assert "a bug while writing the report" in result.stdout.str() + result.stderr.str()


def test_finished_trials_that_already_missed_the_threshold_make_the_interrupted_test_a_failure():
    """A measured failure stays a failure: an interrupt cannot soften a 41 s write gap into "short of the gate"."""
    state = Gate1Session(settings=Settings(root=Path(".")), progress=lambda line: None)
    for nodeid, failed in (("t::missed", "trial 2: write gap 41.0 s >= 30 s"), ("t::fine", "")):
        state.records[nodeid] = TestRecord(nodeid, ("databases.failover",), ())
        state.evidence[nodeid] = TestEvidence()
        EvidenceRecorder(("databases.failover",), state.evidence[nodeid]).interrupted("2 of 3 trials", failed)
    mark_interrupted(state)
    missed, fine = state.records["t::missed"], state.records["t::fine"]
    assert (missed.outcome, missed.message) == (Outcome.FAILED, "trial 2: write gap 41.0 s >= 30 s (2 of 3 trials)")
    assert (fine.outcome, fine.message) == (Outcome.INTERRUPTED, "2 of 3 trials")

"""The pytest plugin: Gate 1 options, markers, capability fixtures, outcome collection, report at the end.

Loaded by the `pytest11` entry point (`-p no:dbc_validate` disables it) in every pytest session, it stays
inert unless the session is a Gate 1 run: options and markers are registered, but nothing is resolved,
no signal handler installed and no file written. It activates at configure time when the run evidently
means it (a dbc_validate option on the command line, or a path under suites/gate1), else at collection
when a test marked `gate1` appears.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

from dbc_validate.capabilities import Capability, CapabilityUnavailable
from dbc_validate.criteria import IDS, Criterion, UnknownCriterion, by_id, criteria_of
from dbc_validate.durations import format_duration
from dbc_validate.errors import InputError, ManifestError
from dbc_validate.evidence import EvidenceRecorder, TestEvidence
from dbc_validate.options import add_options, given_on_command_line, resolve_settings
from dbc_validate.progress import MainThreadProgress, terminal_progress
from dbc_validate.report.html import write_report
from dbc_validate.report.verdict import Outcome
from dbc_validate.session import Gate1Session, TestRecord
from dbc_validate.tools.interrupts import CleanupAbandoned, InterruptGuard

SESSION_KEY = pytest.StashKey[Gate1Session]()
GUARD_KEY = pytest.StashKey[InterruptGuard]()  # SIGINT/SIGTERM handling of an active session, undone at unconfigure
GATE1_SUITES = ("suites", "gate1")
MARKERS = {
    "gate1": "gate1(criterion_id, ...): the Gate 1 criteria this test proves (ids from dbc_validate.criteria)",
    "static": "decided from the rendered manifest set alone",
    "live": "needs a live cluster",
    "destructive": "kills pods or processes, or changes state (kubeconfig target needs --allow-destructive)",
    "soak": "long-running stability test (see --soak-duration)",
}
USAGE_EXIT = pytest.ExitCode.USAGE_ERROR
LONG_RUN_S = 300.0  # runs at least this long say so at the start
CREATES_A_CLUSTER = ("kind", "k3d")  # targets whose session creates the cluster: one per xdist worker would clash
STOP_PREFIX = "dbc_validate: "  # the harness's own pytest.exit messages start with it
WORKER_OUTPUT_KEY = "dbc_validate"  # a pytest-xdist worker's records and evidence, in its workeroutput


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def under_gate1_suites(arg: str, invocation_dir: Path) -> bool:
    """Whether a command-line path (node ids allowed) lies in a suites/gate1 folder."""
    parts = (invocation_dir / arg.split("::")[0]).resolve().parts
    return any(parts[i : i + 2] == GATE1_SUITES for i in range(len(parts) - 1))


def evidently_gate1(config: pytest.Config) -> bool:
    """A run that means the harness before anything is collected: so bad options stop it at once."""
    invocation_dir = Path(config.invocation_params.dir)
    return given_on_command_line(config) or any(under_gate1_suites(arg, invocation_dir) for arg in config.args)


def activate(config: pytest.Config) -> Gate1Reporter:
    """Resolve the settings (pytest.UsageError for a bad value), start the session's state, guard the signals.

    CI timeouts send SIGTERM: like Ctrl-C it interrupts the run, and neither can break the cleanup after it."""
    # Background lab starts report progress too: their lines are written by the main thread (see MainThreadProgress).
    state = Gate1Session(resolve_settings(config), MainThreadProgress(terminal_progress(config)))
    config.stash[SESSION_KEY] = state
    guard = InterruptGuard()
    guard.install()
    config.stash[GUARD_KEY] = guard
    reporter = Gate1Reporter(state, guard, config)
    config.pluginmanager.register(reporter, "dbc_validate_reporter")
    return reporter


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    # tryfirst: bad options (an --html path under a file) stop the run before other plugins act on them.
    for name, help_text in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {help_text}")
    if evidently_gate1(config):
        activate(config)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # tryfirst: the reporter must hold its records before -k/-m deselect some of them.
    if SESSION_KEY in config.stash or not any(item.get_closest_marker("gate1") for item in items):
        return
    reporter = activate(config)
    reporter.pytest_collection_modifyitems(items)  # registered during this hook: pluggy will not call it now
    terminal = config.pluginmanager.get_plugin("terminalreporter")
    if terminal is not None:
        for line in reporter.pytest_report_header(config):
            terminal.write_line(line)


def pytest_unconfigure(config: pytest.Config) -> None:
    guard = config.stash.get(GUARD_KEY, None)
    if guard is not None:
        guard.uninstall()
        del config.stash[GUARD_KEY]


def stop_from_here() -> Generator[None, Any, Any]:
    """A hook wrapper's body: the harness's own pytest.exit inside the hook is raised again from the wrapper, unchained,
    with the same message and exit code. pytest renders an exit's whole traceback though it prints only the message;
    from a fixture that is some 40 frames whose source files it parses (0.3 s per stop, 0.05-0.1 s from here)."""
    try:
        return (yield)
    except pytest.exit.Exception as exc:
        if not str(exc.msg).startswith(STOP_PREFIX):
            raise
        stop = exc
    raise pytest.exit.Exception(stop.msg, stop.returncode) from None


def is_xdist_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """pytest-xdist controller: keep a finished worker's Gate 1 output for the merge at session finish."""
    output = (getattr(node, "workeroutput", None) or {}).get(WORKER_OUTPUT_KEY)
    if output is None:
        return
    config = node.config
    if SESSION_KEY not in config.stash:
        activate(config)  # a run the controller could not tell was Gate 1: only workers collect under xdist
    config.pluginmanager.get_plugin("dbc_validate_reporter").worker_outputs.append(output)


def gate1_session(config: pytest.Config) -> Gate1Session:
    if SESSION_KEY not in config.stash:
        raise pytest.UsageError(
            "dbc_validate is inactive in this session: its fixtures serve tests marked gate1(...) "
            "(add the marker, or run the Gate 1 suites)"
        )
    return config.stash[SESSION_KEY]


def marker_problems(item: pytest.Item) -> list[str]:
    problems = []
    for marker in item.iter_markers("gate1"):
        if not marker.args:
            problems.append(f"{item.nodeid}: gate1 marker without a criterion id; valid ids: {', '.join(IDS)}")
        for arg in marker.args:
            if not isinstance(arg, str) or arg not in IDS:
                problems.append(f"{item.nodeid}: {UnknownCriterion(str(arg))}")
    return problems


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Generator[None, pytest.CollectReport, Any]:
    # An unknown criterion id is a collection error of the module that carries it, naming the valid ids.
    report = yield
    if report.passed:
        problems = [p for node in report.result if isinstance(node, pytest.Item) for p in marker_problems(node)]
        if problems:
            report.outcome = "failed"
            report.longrepr = "\n".join(problems)
            report.result = []
    return report


def outcome_message(report: pytest.TestReport) -> str:
    """The skip reason, or the failure's one-line message, of a test report."""
    if report.skipped and isinstance(report.longrepr, tuple):
        return str(report.longrepr[2]).removeprefix("Skipped: ")
    if hasattr(report, "wasxfail"):
        return f"expected failure: {report.wasxfail}"
    crash = getattr(report.longrepr, "reprcrash", None)
    if crash is not None and getattr(crash, "message", None):
        return str(crash.message)
    return str(report.longrepr or "")[-2000:]


def record_phase(record: TestRecord, report: pytest.TestReport) -> None:
    """Fold one phase report (setup, call, teardown) into the test's outcome."""
    record.duration_s += report.duration
    if report.when == "setup":
        if report.failed:
            record.outcome, record.message = Outcome.ERROR, outcome_message(report)
        elif report.skipped:
            record.outcome, record.message = Outcome.SKIPPED, outcome_message(report)
    elif report.when == "call":
        if report.failed:
            record.outcome, record.message = Outcome.FAILED, outcome_message(report)
        elif report.skipped:
            record.outcome, record.message = Outcome.SKIPPED, outcome_message(report)
        else:
            record.outcome, record.message = Outcome.PASSED, ""
    elif report.when == "teardown" and report.failed and record.outcome is not Outcome.FAILED:
        record.outcome, record.message = Outcome.ERROR, "teardown: " + outcome_message(report)


def mark_interrupted(state: Gate1Session) -> None:
    """After an interrupt: a test that had recorded partial evidence is INTERRUPTED (its evidence is kept and
    judged short of the gate) or FAILED when that evidence already fails; the others that did not run say why."""
    state.notes.append("the run was interrupted: tests that did not run are NOT_RUN")
    for record in state.records.values():
        if record.outcome is not Outcome.NOT_RUN or record.deselected:
            continue
        evidence = state.evidence.get(record.nodeid)
        if evidence is not None and evidence.failed_before_interrupt:
            record.outcome = Outcome.FAILED
            record.message = f"{evidence.failed_before_interrupt} ({evidence.interrupted})"
        elif evidence is not None and evidence.interrupted:
            record.outcome, record.message = Outcome.INTERRUPTED, evidence.interrupted
        elif record.message == "not run":
            record.message = "not run: the session was interrupted"


class Gate1Reporter:
    """The stateful half of the plugin, registered per session so nested pytest runs stay separate."""

    def __init__(self, state: Gate1Session, guard: InterruptGuard, config: pytest.Config) -> None:
        self.state = state
        self.guard = guard
        self.config = config
        self.gave_up = False  # the user abandoned the cleanup (interrupting it again and again)
        self.summary: tuple[str, Path, Path, dict[str, Any]] | None = None
        self.report_error: str | None = None
        # pytest-xdist controller: the workers' outputs, and the reports it saw, kept for tests whose worker
        # died before sending its output (xdist reports such a crash as the test's failure).
        self.worker_outputs: list[str] = []
        self.controller_reports: dict[str, list[pytest.TestReport]] = {}

    def pytest_report_header(self, config: pytest.Config) -> list[str]:
        return [f"dbc_validate: target {self.state.choice.name} ({self.state.choice.why})"]

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        capability_names = {c.value for c in Capability}
        for item in items:
            criteria = criteria_of(item)
            if criteria:
                caps = tuple(Capability(n) for n in getattr(item, "fixturenames", ()) if n in capability_names)
                self.state.records[item.nodeid] = TestRecord(item.nodeid, criteria, caps)

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        for item in items:
            record = self.state.records.get(item.nodeid)
            if record is not None:
                record.message = "deselected (-k/-m); run the whole suite to include it"
                record.deselected = True

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        # A pytest-xdist controller collects nothing: check the target once here, before workers start,
        # so bad input is one line and exit 4 as without -n (a worker's exit would crash xdist).
        if self.config.pluginmanager.has_plugin("dsession") and not session.config.option.collectonly:
            if self.state.choice.name in CREATES_A_CLUSTER:
                self.state.aborted_by_input = "xdist with a cluster-creating target"
                pytest.exit(
                    f"{STOP_PREFIX}target {self.state.choice.name} creates one cluster per session, and each "
                    "pytest-xdist worker is a session; fix: run the cluster tier without -n",
                    returncode=USAGE_EXIT,
                )
            self.preflight()

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        if not self.state.records or session.config.option.collectonly:
            return
        self.preflight()
        # Slow labs start now, while the static suites run (not per xdist worker: each would start every lab).
        if not is_xdist_worker(self.config):
            started = self.state.start_in_background()
            if started:
                self.state.progress(f"starting in the background: {', '.join(c.value for c in started)}")

    def preflight(self) -> None:
        try:
            self.state.target.preflight()
        except InputError as exc:
            self.state.aborted_by_input = str(exc)
            pytest.exit(f"{STOP_PREFIX}{exc}", returncode=USAGE_EXIT)
        seconds, parts = self.state.duration_estimate()
        if seconds >= LONG_RUN_S:
            self.state.progress(f"this run takes about {format_duration(seconds)} ({parts})")

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        # Before any fixture starts anything: an existing cluster only loses pods with --allow-destructive.
        if item.get_closest_marker("destructive") is not None and item.nodeid in self.state.records:
            reason = self.state.target.destructive_refusal()
            if reason:
                pytest.skip(reason)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        flush = getattr(self.state.progress, "flush", None)
        if flush is not None:  # lines of the background lab starts, written between tests
            flush()
        record = self.state.records.get(report.nodeid)
        if record is not None:
            record_phase(record, report)
        elif self.config.pluginmanager.has_plugin("dsession"):  # records arrive with the workers' outputs
            self.controller_reports.setdefault(report.nodeid, []).append(report)

    def merge_workers(self) -> None:
        """pytest-xdist controller: one session's records and evidence from the workers' outputs."""
        self.state.merge_worker_outputs(self.worker_outputs)
        for nodeid, reports in self.controller_reports.items():
            record = self.state.records.get(nodeid)
            if record is not None and record.outcome is Outcome.NOT_RUN and not record.deselected:
                for report in reports:
                    record_phase(record, report)

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_collection(self, session: pytest.Session) -> Generator[None, Any, Any]:
        return (yield from stop_from_here())

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> Generator[None, Any, Any]:
        return (yield from stop_from_here())

    def pytest_keyboard_interrupt(self) -> None:
        # The run is stopping: from now on a second Ctrl-C/SIGTERM waits for the report and the labs' stop.
        self.guard.start_stopping()

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> Generator[None, Any, Any]:
        # The report is written before any teardown (fixtures, labs): whatever interrupts the cleanup, it exists.
        self.guard.start_stopping()
        failure: Exception | None = None
        with self.guard.protected():
            try:
                self.write_report(session, exitstatus)
            except Exception as exc:  # raised once the labs are stopped: a report bug must not leak a lab
                failure = exc
        try:
            result = yield
        except CleanupAbandoned:
            self.abandoned(session, "fixture teardown")
            result = None
        finally:
            if not self.gave_up:
                self.stop_labs(session)
        if failure is not None:
            raise failure
        return result

    def stop_labs(self, session: pytest.Session) -> None:
        try:
            self.state.stop()
        except CleanupAbandoned:
            self.abandoned(session, "the labs' stop")
        except Exception as exc:  # a lab that fails to stop must not turn a finished run into a traceback
            self.state.progress(f"stopping the labs failed: {type(exc).__name__}: {exc}")

    def abandoned(self, session: pytest.Session, what: str) -> None:
        self.gave_up = True
        self.state.progress(f"cleanup abandoned during {what} at the user's insistence: labs may still be running")
        session.exitstatus = pytest.ExitCode.INTERRUPTED

    def write_report(self, session: pytest.Session, exitstatus: int) -> None:
        state = self.state
        if is_xdist_worker(session.config):
            # The controller merges every worker's output and writes the one report.
            session.config.workeroutput[WORKER_OUTPUT_KEY] = state.worker_output()
            return
        if self.worker_outputs:
            self.merge_workers()
        if not state.records or session.config.option.collectonly or state.aborted_by_input:
            return
        if exitstatus == pytest.ExitCode.INTERRUPTED:
            mark_interrupted(state)
        try:
            report = state.report()
            json_path, html_path = write_report(report, state.settings.report_html)
        except Exception as exc:  # a harness bug must not hide the test results: say it and fail the run
            self.report_error = f"{type(exc).__name__}: {exc}"
            session.exitstatus = pytest.ExitCode.INTERNAL_ERROR
            raise
        self.summary = (report["verdict"], html_path, json_path, report)
        if state.settings.require_go and report["verdict"] != "GO" and session.exitstatus == 0:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.summary is None:
            return
        verdict, html_path, json_path, report = self.summary
        counts: dict[str, int] = {}
        for c in report["criteria"]:
            counts[c["status"]] = counts.get(c["status"], 0) + 1
        figures = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
        terminalreporter.write_sep("=", "dbc_validate Gate 1", bold=True)
        markup = {"GO": {"green": True}, "NO-GO": {"red": True}}.get(verdict, {"yellow": True})
        terminalreporter.write_line(f"Gate 1 verdict: {verdict} ({figures})", bold=True, **markup)
        terminalreporter.write_line(f"report: {html_path} (data: {json_path})")


# ---- fixtures ---------------------------------------------------------------------------------------


def _capability_fixture(capability: Capability) -> Any:
    def provide(request: pytest.FixtureRequest) -> Any:
        state = gate1_session(request.config)
        try:
            return state.provide(capability)
        except CapabilityUnavailable as exc:
            pytest.skip(str(exc))
        except ManifestError as exc:
            state.aborted_by_input = str(exc)
            pytest.exit(f"{STOP_PREFIX}{exc}", returncode=USAGE_EXIT)
        except InputError as exc:
            # The target offers the capability but failed to provide it: an ERROR of the test, never a skip.
            pytest.fail(f"{capability.value} could not be provided: {exc}", pytrace=False)

    provide.__doc__ = f"Capability {capability.value!r} of the selected target (skips only when not offered)."
    return pytest.fixture(scope="session", name=capability.value)(provide)


manifest_set = _capability_fixture(Capability.MANIFEST_SET)
postgres = _capability_fixture(Capability.POSTGRES)
failover_lab = _capability_fixture(Capability.FAILOVER_LAB)
ingress = _capability_fixture(Capability.INGRESS)
cluster = _capability_fixture(Capability.CLUSTER)
soak = _capability_fixture(Capability.SOAK)
soak_run = _capability_fixture(Capability.SOAK_RUN)
apps = _capability_fixture(Capability.APPS)
observability = _capability_fixture(Capability.OBSERVABILITY)


@pytest.fixture
def gate1_evidence(request: pytest.FixtureRequest) -> EvidenceRecorder:
    """Record measurements, chart series and threshold verdicts for this test's Gate 1 criteria."""
    criteria = criteria_of(request.node)
    if not criteria:
        raise pytest.UsageError(f"{request.node.nodeid} uses gate1_evidence but has no gate1(...) marker")
    state = gate1_session(request.config)
    sink = state.evidence.setdefault(request.node.nodeid, TestEvidence())
    return EvidenceRecorder(criteria, sink)


@pytest.fixture(scope="session")
def gate1_interrupted_evidence(request: pytest.FixtureRequest) -> Callable[[str], EvidenceRecorder]:
    """For a wider-scoped fixture interrupted mid-measurement (the soak): a recorder for one criterion's partial
    evidence, kept with the first test carrying that criterion that has not finished (call its `interrupted`)."""
    state = gate1_session(request.config)

    def recorder(criterion_id: str) -> EvidenceRecorder:
        waiting = [r for r in state.records.values() if criterion_id in r.criteria and r.outcome is Outcome.NOT_RUN]
        chosen = next((r for r in waiting if not r.deselected), None)
        if chosen is None:
            raise ValueError(f"no unfinished test carries gate1({criterion_id!r}) in this run")
        return EvidenceRecorder((criterion_id,), state.evidence.setdefault(chosen.nodeid, TestEvidence()))

    return recorder


@pytest.fixture
def gate1_criterion(request: pytest.FixtureRequest) -> Criterion:
    """The test's single Gate 1 criterion, thresholds overridden from ini options."""
    criteria = criteria_of(request.node)
    if len(criteria) != 1:
        raise pytest.UsageError(f"{request.node.nodeid}: gate1_criterion needs exactly one gate1 id, found {criteria}")
    return by_id(criteria[0], gate1_session(request.config).settings.catalog)


@pytest.fixture(scope="session")
def gate1_settings(request: pytest.FixtureRequest) -> Any:
    """The resolved harness settings (target, paths, options)."""
    return gate1_session(request.config).settings


@pytest.fixture(scope="session")
def gate1_progress(request: pytest.FixtureRequest) -> Any:
    """A callable printing a live progress line (visible even while output is captured)."""
    return gate1_session(request.config).progress


def iter_records(config: pytest.Config) -> Iterator[TestRecord]:
    yield from gate1_session(config).records.values()

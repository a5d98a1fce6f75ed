"""Gate 1: the system stays stable under steady load: no errors, no restarts or crash-loops, CPU/memory headroom.

One soak run (--soak-duration, default 10 s on the local target, run ahead while the other labs start; Gate 1
needs 48 h at cluster scope) feeds the three criteria. Samples land in reports/soak/<run-id>/samples.jsonl;
`--soak-resume <run-id>` continues an interrupted run and the report stitches its segments, showing the gaps.
`--soak-mode retrospective` judges the last --soak-duration (default 48 h) of a Prometheus's history instead
(--soak-prometheus).
"""

from __future__ import annotations

import pytest

from dbc_validate.analysis.soak_summary import chart_lines, record_charts
from dbc_validate.criteria import by_id
from dbc_validate.errors import InputError
from dbc_validate.probes.soak.plan import resume_command
from dbc_validate.probes.soak.runner import SoakInterrupted, SoakResult

pytestmark = pytest.mark.soak


@pytest.fixture(scope="module")
def soak_result(request, soak_run, gate1_settings, gate1_interrupted_evidence) -> SoakResult:
    try:
        return soak_run.result()  # the local target may have run a short soak ahead, while its labs started
    except InputError as exc:
        pytest.exit(f"dbc_validate: {exc}", returncode=pytest.ExitCode.USAGE_ERROR)
    except SoakInterrupted as stopped:
        # The samples so far stay in the report, short of the gate, with the command that continues the run.
        command = resume_command(request.config.invocation_params.args, stopped.result.summary.run_id)
        required_s = float(by_id("stability.soak", gate1_settings.catalog).threshold.value) * 3600
        evidence = gate1_interrupted_evidence("stability.soak")
        _record_soak(stopped.result, required_s, evidence)
        evidence.measure("resume_command", command)
        evidence.note(f"continue this run with: {command}")
        evidence.interrupted(f"{stopped}; resume with --soak-resume {stopped.result.summary.run_id}")
        raise


def _record_soak(result: SoakResult, required_s: float, evidence) -> None:
    """The error-rate criterion's figures, from a finished soak or from the samples of an interrupted one."""
    s, plan = result.summary, result.plan
    evidence.measure("run_id", s.run_id)
    evidence.measure("covered_time", s.covered_against(required_s), label="soak time covered, of the gate's")
    evidence.measure("covered_h", round(s.covered_s / 3600, 4), "h", label="soak time covered")
    evidence.measure("samples", s.samples, label="samples taken")
    evidence.measure("segments", len(s.segments))
    evidence.measure("gaps", [g.describe() for g in s.gaps])
    evidence.measure("requests", s.requests, label="requests sent over the run")
    error_rate = None if s.error_rate is None else round(s.error_rate * 100, 4)
    evidence.measure("error_rate_percent", error_rate, "%", label="error rate over the run")
    limit = round(plan.error_rate_max * 100, 4)
    evidence.configured("error_rate_max_percent", limit, "%", label="error-rate limit (--soak-error-rate-max)")
    evidence.measure("latency_p95_max_ms", s.p95_ms_max, "ms", label=f"latency p95, worst of {s.samples} samples")
    evidence.note(f"soak subject: {s.subject}; samples in {result.samples_path}")
    if result.overlap:
        evidence.note(f"the soak {result.overlap}")
    for segment in s.segments:
        evidence.note(f"segment {segment.index}: {segment.samples} samples, ended {segment.ended}")
    _charts(result, "soak", evidence)
    evidence.threshold(s.covered_s >= required_s, f"covered time {s.covered_against(required_s)}")


def _charts(result: SoakResult, topic: str, evidence, limit_percent: float = 70.0) -> None:
    record_charts(chart_lines(result.summary, result.series, limit_percent), topic, evidence)


@pytest.mark.gate1("stability.soak")
def test_soak_error_rate_stays_under_the_limit_for_the_covered_time(soak, soak_result, gate1_criterion, gate1_evidence):
    s, plan = soak_result.summary, soak_result.plan
    required_s = float(gate1_criterion.threshold.value) * 3600
    _record_soak(soak_result, required_s, gate1_evidence)
    findings = soak_result.findings
    if findings is not None:
        gate1_evidence.measure("window_coverage_percent", findings.coverage_percent, "%")
        for line in findings.notes():
            gate1_evidence.note(line)
        assert not findings.hiding_gaps_h, (
            f"the history has no data from {findings.describe_gaps(findings.hiding_gaps_h)}: a crash-loop or an "
            f"outage could hide there, so the window's stability cannot be judged"
        )
    assert s.requests > 0, f"no request reached {s.subject} during the soak"
    assert s.error_rate is not None and s.error_rate <= plan.error_rate_max, (
        f"error rate {s.failures}/{s.requests} = {(s.error_rate or 0) * 100:.3f} % exceeds "
        f"{plan.error_rate_max * 100:g} % (first error: {s.first_error or 'none recorded'})"
    )


@pytest.mark.gate1("stability.no_crashloops")
def test_no_component_restarted_or_crash_looped_during_the_soak(soak, soak_result, gate1_evidence):
    s = soak_result.summary
    gate1_evidence.measure("restarts", s.restarts)
    gate1_evidence.measure("crashloops", s.crashloops)
    gate1_evidence.measure("seen_down", s.down)
    gate1_evidence.measure("watched", soak.description if soak_result.findings is None else s.subject)
    _charts(soak_result, "crashloops", gate1_evidence)
    first = soak_result.findings.first_restart_h if soak_result.findings is not None else {}
    when = "; first restart " + ", ".join(f"{k} at hour {h:.1f}" for k, h in first.items()) if first else ""
    assert not s.crashloops, f"crash-looping during the soak: {', '.join(s.crashloops)}{when}"
    assert s.restarts == 0 and not s.down, f"{s.restarts} restart(s) during the soak{when}; seen down: {s.down}"


@pytest.mark.gate1("stability.resource_headroom")
def test_cpu_and_memory_stay_under_the_headroom_limit(soak, soak_result, gate1_criterion, gate1_evidence):
    s, plan = soak_result.summary, soak_result.plan
    limit = float(gate1_criterion.threshold.value)
    over = f"peak over the run's {s.samples} samples"
    gate1_evidence.measure("cpu_peak_percent", s.cpu_peak_percent, "%", label=f"CPU, {over}")
    gate1_evidence.measure("memory_peak_percent", s.memory_peak_percent, "%", label=f"memory, {over}")
    gate1_evidence.configured(
        "judged_against",
        f"limits where the subject has them, else {plan.cpu_budget_cores:g} core(s) and "
        f"{plan.memory_budget_mb:g} MiB (--soak-cpu-budget, --soak-memory-budget)",
    )
    _charts(soak_result, "resources", gate1_evidence, limit)
    peaks = {"CPU": s.cpu_peak_percent, "memory": s.memory_peak_percent}
    met = all(v is not None and v < limit for v in peaks.values())
    detail = ", ".join(f"peak {k} {'—' if v is None else f'{v:.1f}'} %" for k, v in peaks.items())
    gate1_evidence.threshold(met, f"{detail} (limit {limit:g} %)")
    assert met, f"{detail}: Gate 1 requires both under {limit:g} %"

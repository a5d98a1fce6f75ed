"""Gate 1 `databases.failover`: repeated primary failures under a running writer (Patroni lab locally, CNPG on
clusters): write gap per trial against the threshold, acknowledged writes lost, a timeline chart per trial."""

from __future__ import annotations

from typing import Any

import pytest

from dbc_validate.analysis.cnpg_topology import durability_of_set
from dbc_validate.analysis.failover_log import judge_losses, judge_write_gaps
from dbc_validate.probes.failover_trials import FailoverRun, TrialsInterrupted, trial_chart, trial_notes

pytestmark = [pytest.mark.gate1("databases.failover"), pytest.mark.destructive]


def _seconds(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _record_run(run: FailoverRun, evidence: Any, prefix: str) -> None:
    summary = run.summary
    kind = prefix.rstrip("_") or "failover"
    of = f"of {summary.trials} {kind} trial(s)"
    evidence.measure(f"{prefix}trials", summary.trials, label=f"{kind} trials run")
    evidence.measure(f"{prefix}write_gap_p50_s", _seconds(summary.write_gap.p50), "s", label=f"write gap, median {of}")
    evidence.measure(f"{prefix}write_gap_p95_s", _seconds(summary.write_gap.p95), "s", label=f"write gap, p95 {of}")
    evidence.measure(f"{prefix}write_gap_max_s", _seconds(summary.write_gap.max), "s", label=f"write gap, worst {of}")
    evidence.measure(
        f"{prefix}fault_to_new_primary_max_s",
        _seconds(summary.fault_to_new_primary.max),
        "s",
        label=f"fault to new primary, worst {of}",
    )
    evidence.measure(f"{prefix}acked_writes_lost", summary.acked_writes_lost, label=f"acknowledged writes lost, {of}")
    evidence.measure(f"{prefix}duplicate_writes", summary.duplicates, label=f"duplicate writes, {of}")
    for outcome in run.trials:
        for series in trial_chart(outcome):
            evidence.series(series.name, **series.as_kwargs())
    for note in trial_notes(run.trials):
        evidence.note(note)


def _keep_interrupted(stopped: TrialsInterrupted, evidence: Any, threshold_s: float, prefix: str) -> None:
    """The trials that finished before Ctrl-C/SIGTERM stay in the report: short of the gate, or FAIL when one of
    them already missed the threshold."""
    if not stopped.run.trials:
        return
    _record_run(stopped.run, evidence, prefix)
    gaps = judge_write_gaps(stopped.run.figures, threshold_s)
    evidence.threshold(gaps.ok, f"{prefix.rstrip('_') or 'failover'} so far: {gaps.detail}")
    evidence.interrupted(stopped.done, "" if gaps.ok else gaps.detail)


def test_primary_loss_resumes_writes_under_threshold_without_losing_promised_writes(
    failover_lab: Any, manifest_set: Any, gate1_criterion: Any, gate1_evidence: Any, gate1_progress: Any
) -> None:
    threshold_s = float(gate1_criterion.threshold.value)
    durability = durability_of_set(manifest_set)
    for note in failover_lab.notes:
        gate1_evidence.note(note)
    gate1_progress(f"failover: {failover_lab.default_trials} primary failure(s) on {failover_lab.description}")
    try:
        run = failover_lab.run_trials()
    except TrialsInterrupted as stopped:
        _keep_interrupted(stopped, gate1_evidence, threshold_s, "")
        raise
    _record_run(run, gate1_evidence, "")
    gaps = judge_write_gaps(run.figures, threshold_s)
    losses = judge_losses(run.figures, durability.synchronous and durability.required, durability.describe())
    gate1_evidence.threshold(gaps.ok, gaps.detail)
    gate1_evidence.note(losses.detail)
    assert gaps.ok, gaps.detail
    assert losses.ok, losses.detail


def test_switchover_resumes_writes_under_threshold_without_losing_writes(
    failover_lab: Any, gate1_criterion: Any, gate1_evidence: Any, gate1_progress: Any
) -> None:
    threshold_s = float(gate1_criterion.threshold.value)
    gate1_progress(f"failover: one switchover on {failover_lab.description}")
    try:
        run = failover_lab.run_trials(1, graceful=True)
    except TrialsInterrupted as stopped:
        _keep_interrupted(stopped, gate1_evidence, threshold_s, "switchover_")
        raise
    _record_run(run, gate1_evidence, "switchover_")
    gaps = judge_write_gaps(run.figures, threshold_s)
    # A switchover hands over cleanly: any lost acknowledged write is a defect, whatever the durability.
    losses = judge_losses(run.figures, True, "a switchover promises no loss")
    gate1_evidence.threshold(gaps.ok, f"switchover: {gaps.detail}")
    assert gaps.ok, gaps.detail
    assert losses.ok, losses.detail

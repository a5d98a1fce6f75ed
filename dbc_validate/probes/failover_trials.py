"""Failover trials: healthy cluster -> writer running -> fault -> watch the topology -> recovery -> read back.

The same sequence drives the local Patroni lab and a CloudNativePG cluster; each supplies a backend.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from dbc_validate.analysis.failover_log import (
    FailoverSummary,
    TrialFigures,
    TrialLog,
    analyse_trial,
    cumulative_series,
    merge_close_events,
    parse_writer_log,
    short_label,
    summarise,
    timeline_events,
)
from dbc_validate.capabilities import FailoverBackend, TopologyEvent, WriterHandle
from dbc_validate.errors import InputError

Progress = Callable[[str], None]
CHART_LABEL_CHARS = 32  # longer rotated labels run out of the 2.6 in high chart


@dataclass(frozen=True)
class TrialPlan:
    """Timing of one trial (seconds)."""

    warmup_acks: int = 20  # acknowledged writes before the fault, so "last ack before" is meaningful
    warmup_timeout_s: float = 30.0
    window_s: float = 90.0  # longest wait for the new primary and resumed writes after the fault
    tail_s: float = 1.0  # keep writing this long after writes resumed
    poll_s: float = 0.2
    heal_timeout_s: float = 120.0


@dataclass(frozen=True)
class TrialOutcome:
    log: TrialLog
    figures: TrialFigures
    wall_s: float  # healthy cluster to healthy cluster, read-back included
    writer_log: str = field(repr=False, default="")


@dataclass(frozen=True)
class FailoverRun:
    description: str
    trials: tuple[TrialOutcome, ...]

    @property
    def figures(self) -> list[TrialFigures]:
        return [t.figures for t in self.trials]

    @property
    def summary(self) -> FailoverSummary:
        return summarise(self.figures)


class TrialsInterrupted(KeyboardInterrupt):
    """Ctrl-C/SIGTERM during the trials: still an interrupt, carrying the trials that finished before it."""

    def __init__(self, run: FailoverRun, planned: int) -> None:
        super().__init__(f"{len(run.trials)} of {planned} trials before the interrupt")
        self.run = run
        self.planned = planned

    @property
    def done(self) -> str:
        return str(self.args[0])


class WriterSetupError(InputError):
    """The writer could not write before any fault: nothing would be measured."""


def _warm_up(writer: WriterHandle, plan: TrialPlan, description: str) -> None:
    deadline = time.monotonic() + plan.warmup_timeout_s
    while writer.acks < plan.warmup_acks:
        if time.monotonic() > deadline:
            log = writer.stop()
            last = [line for line in log.splitlines() if line.startswith("attempt")][-1:]
            raise WriterSetupError(
                f"the writer got {writer.acks} acknowledged writes in {plan.warmup_timeout_s:.0f} s on {description} "
                f"before any fault (last attempt: {last[0] if last else 'none'})",
                "check that the read-write endpoint accepts connections (credentials, NetworkPolicy, Service)",
            )
        time.sleep(0.05)


def run_trial(
    backend: FailoverBackend, index: int, *, graceful: bool = False, plan: TrialPlan | None = None, progress: Progress
) -> TrialOutcome:
    plan = plan or TrialPlan()
    begin = time.monotonic()
    backend.wait_healthy(plan.heal_timeout_s)
    first = backend.observe()
    if first is None or first.primary is None:
        raise RuntimeError(f"{backend.description}: no primary before trial {index}")
    old = first.primary
    run_id = f"t{index}-{secrets.token_hex(4)}"
    writer = backend.start_writer(run_id)
    topology: list[TopologyEvent] = [first]
    new_primary_at: float | None = None
    resumed_until: float | None = None
    try:
        _warm_up(writer, plan, backend.description)
        fault_at, fault = backend.inject(old, graceful)
        progress(f"trial {index}: {fault} {old}; watching the topology")
        while time.time() < fault_at + plan.window_s:
            seen = backend.observe()
            if seen is not None and seen.summary != topology[-1].summary:
                topology.append(seen)
                progress(f"trial {index}: +{seen.at - fault_at:.1f} s {seen.label}")
            if seen is not None and new_primary_at is None and seen.primary not in (None, old):
                new_primary_at = seen.at
                if not graceful:
                    backend.recover(old)
            # Writes count as resumed once acknowledged after the new primary showed up: acknowledgements
            # between the fault and then can still come from the old primary (a pod's grace period).
            if resumed_until is None and new_primary_at is not None and writer.last_ack > new_primary_at:
                resumed_until = time.time() + plan.tail_s
            if resumed_until is not None and time.time() >= resumed_until:
                break
            time.sleep(plan.poll_s)
        window_end = time.time()
    finally:
        text = writer.stop()
    if new_primary_at is None and not graceful:
        backend.recover(old)
    backend.wait_healthy(plan.heal_timeout_s)
    parsed = parse_writer_log(text)
    present = parsed.present if parsed.present is not None else backend.present(run_id)
    log = TrialLog(index, fault, old, fault_at, parsed.attempts, tuple(topology), present, window_end)
    figures = analyse_trial(log)
    wall = time.monotonic() - begin
    gap = f"{figures.write_gap_s:.1f} s" if figures.write_gap_s is not None else "no recovery"
    progress(
        f"trial {index}: write gap {gap}, new primary {figures.new_primary}, "
        f"{len(figures.lost)} acknowledged write(s) lost, {len(figures.duplicates)} duplicate(s), {wall:.1f} s wall"
    )
    return TrialOutcome(log, figures, wall, text)


def run_trials(
    backend: FailoverBackend,
    count: int,
    *,
    graceful: bool = False,
    plan: TrialPlan | None = None,
    progress: Progress = lambda message: None,
) -> FailoverRun:
    outcomes: list[TrialOutcome] = []
    for index in range(1, count + 1):
        progress(f"failover trial {index}/{count} on {backend.description}")
        try:
            outcomes.append(run_trial(backend, index, graceful=graceful, plan=plan, progress=progress))
        except KeyboardInterrupt as exc:
            raise TrialsInterrupted(FailoverRun(backend.description, tuple(outcomes)), count) from exc
    return FailoverRun(backend.description, tuple(outcomes))


def trial_count(raw: Any, default: int) -> int:
    """--failover-trials as an int >= 1 (None: the target's default); InputError otherwise."""
    if raw is None or raw == "":
        return default
    try:
        value = int(str(raw).strip())
    except ValueError:
        value = 0
    if value < 1:
        raise InputError(f"--failover-trials must be a whole number >= 1, got {raw!r}", "pass e.g. --failover-trials 3")
    return value


@dataclass(frozen=True)
class ChartSeries:
    """Arguments for gate1_evidence.series(...) (one chart per trial: `group`)."""

    name: str
    x: list[float]
    y: list[float | None]
    kind: str
    group: str
    labels: list[str] = field(default_factory=list)
    y_label: str = ""
    x_label: str = "s since the fault"

    def as_kwargs(self) -> dict[str, Any]:
        return {
            "x": self.x,
            "y": self.y,
            "kind": self.kind,
            "group": self.group,
            "labels": self.labels,
            "y_label": self.y_label,
            "x_label": self.x_label,
        }


def trial_chart(outcome: TrialOutcome) -> list[ChartSeries]:
    """A trial's timeline: acknowledged writes (cumulative, flat during the gap) and the trial's events.

    Failed attempts are left out of the chart (they outnumber acknowledged writes tenfold during a gap and
    would flatten the curve); their count and kinds are in the trial's note.
    """
    log, figures = outcome.log, outcome.figures
    gap = f"gap {figures.write_gap_s:.1f} s" if figures.write_gap_s is not None else "no recovery"
    group = f"trial {log.index}: {log.fault} {log.old_primary} -> {figures.new_primary or '?'} ({gap})"
    acked_x, acked_y = cumulative_series(log.attempts, log.fault_at, acked=True)
    span = max([*acked_x, 1.0]) - min([*acked_x, 0.0])
    events = merge_close_events(timeline_events(log, figures), min_separation_s=span / 40)
    series = [
        ChartSeries("acknowledged writes", acked_x, list(acked_y), "step", group, y_label="acknowledged writes"),
        ChartSeries(
            "events",
            [e.at_s for e in events],
            [None] * len(events),
            "events",
            group,
            labels=[short_label(e.label, CHART_LABEL_CHARS) for e in events],
        ),
    ]
    return [s for s in series if s.x]


def trial_notes(outcomes: Sequence[TrialOutcome]) -> list[str]:
    """One line per trial for the report."""
    notes = []
    for o in outcomes:
        f = o.figures
        gap = f"{f.write_gap_s:.2f} s" if f.write_gap_s is not None else "writes did not resume"
        promoted = f"{f.fault_to_new_primary_s:.2f} s" if f.fault_to_new_primary_s is not None else "not seen"
        kinds = ", ".join(f"{k} {n}" for k, n in f.error_kinds.items()) or "none"
        notes.append(
            f"trial {f.index} ({f.fault} {f.old_primary}): write gap {gap}; new primary {f.new_primary} after "
            f"{promoted}; {f.acknowledged} acknowledged, {len(f.lost)} lost, {len(f.duplicates)} duplicated, "
            f"{f.unacknowledged_present} written despite an error; {f.errors} failed attempts ({kinds}); "
            f"{o.wall_s:.1f} s wall"
        )
    return notes


@dataclass
class FailoverLab:
    """What the `failover_lab` fixture gives a suite: N trials on whatever backend the target has."""

    backend: FailoverBackend
    default_trials: int
    progress: Progress
    plan: TrialPlan = field(default_factory=TrialPlan)
    notes: list[str] = field(default_factory=list)  # how the stand-in relates to the declared cluster

    @property
    def description(self) -> str:
        return self.backend.description

    def run_trials(self, count: int | None = None, *, graceful: bool = False) -> FailoverRun:
        return run_trials(
            self.backend, count or self.default_trials, graceful=graceful, plan=self.plan, progress=self.progress
        )

"""Run (or resume) a soak: steady Locust load, one durable sample per interval, a progress line per sample.

The sampler keeps only running totals (its memory stays flat however long the soak runs); everything the
report needs is read back from samples.jsonl at the end, so a resumed run is stitched from the file.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dbc_validate import __version__
from dbc_validate.analysis.retrospective_soak import RetrospectiveFindings
from dbc_validate.analysis.soak_summary import (
    LoadWindow,
    SoakSeries,
    SoakSummary,
    build_sample,
    restarts_meanwhile,
    summarize,
)
from dbc_validate.analysis.split_check import request_path
from dbc_validate.capabilities import InClusterLoadHandle, SoakSubject
from dbc_validate.durations import format_duration
from dbc_validate.errors import InputError
from dbc_validate.probes.locust_master_api import MasterApiLoad
from dbc_validate.probes.locust_runner import LoadGenerator
from dbc_validate.probes.soak.plan import SoakPlan, sample_interval
from dbc_validate.probes.soak.prometheus_history import read_gap
from dbc_validate.probes.soak.store import SoakStore
from dbc_validate.progress import Throttled
from dbc_validate.tools.processes import lab_directory

LOAD_WINDOW_S = 1.0
COVERED_TOLERANCE_S = 0.05  # sample times are kept to the millisecond: their sum may fall short by a hair


@dataclass
class SoakResult:
    summary: SoakSummary
    series: SoakSeries
    samples_path: Path
    plan: SoakPlan
    resumed: bool
    segment_ran_s: float  # time this call sampled (0 when the run was already complete)
    findings: RetrospectiveFindings | None = None  # a retrospective soak's gaps and onsets, in window hours
    overlap: str = ""  # what else ran on the machine meanwhile, when the run was done ahead of its suite


class SoakInterrupted(KeyboardInterrupt):
    """Ctrl-C/SIGTERM during the soak: still an interrupt, carrying what the samples on disk cover so far."""

    def __init__(self, result: SoakResult) -> None:
        s = result.summary
        super().__init__(
            f"soak {s.run_id}: {format_duration(s.covered_s)} of {format_duration(s.planned_s)} covered "
            f"({s.samples} samples) before the interrupt"
        )
        self.result = result


def _fmt(value: float | None, unit: str) -> str:
    return "—" if value is None else f"{value:.1f}{unit}"


class Sampler:
    """Takes one sample per call from the load's events, the subject's health and its resource use."""

    def __init__(
        self,
        subject: SoakSubject,
        worker: LoadGenerator | MasterApiLoad,
        plan: SoakPlan,
        segment: int,
        start: float,
        carried: Mapping[str, int] | None = None,
    ) -> None:
        self.subject = subject
        self.worker = worker
        self.plan = plan
        self.segment = segment
        self.last_t = start
        now = {c.name: c.restarts for c in subject.health(start)}
        # Resuming a subject whose counters outlive the harness: count from what the last sample saw, so restarts
        # while nobody watched are counted, not hidden in a fresh baseline.
        self.meanwhile = restarts_meanwhile(carried, now) if carried else None
        self.baseline = {name: (carried or {}).get(name, count) for name, count in now.items()}
        self.last_counts: dict[str, int] | None = None
        subject.resources()  # sets the CPU baseline: the first sample then covers exactly one interval
        self.requests = 0
        self.failures = 0
        self.load_restarts = 0
        self.load_totals: list[int] | None = None  # an in-cluster master's cumulative counters, for a resume

    def take(self, now: float) -> dict[str, Any]:
        load = LoadWindow()
        for event in self.worker.events():
            if event.get("event") == "window":
                load.add(event)
                self.load_totals = event.get("totals") or self.load_totals
        if not self.worker.alive():
            # The load generator is the harness, not the system under test: restart it and say so.
            self.load_restarts += 1
            self.worker.start()
        components = self.subject.health(now)
        use = self.subject.resources()
        record = build_sample(
            segment=self.segment,
            t=now,
            dt=now - self.last_t,
            load=load,
            components=components,
            baseline_restarts=self.baseline,
            cpu_cores=use.cpu_cores,
            memory_mb=use.memory_mb,
            cpu_limit_cores=use.cpu_limit_cores or self.plan.cpu_budget_cores,
            memory_limit_mb=use.memory_limit_mb or self.plan.memory_budget_mb,
        )
        if self.load_restarts:
            record["load_restarts"] = self.load_restarts
        if self.load_totals is not None:
            record["load_totals"] = self.load_totals
        counts = {c.name: c.restarts for c in components}
        if counts != self.last_counts:  # only when they change: a 48 h run would repeat them 17,280 times
            record["restart_counts"] = counts
            self.last_counts = counts
        self.last_t = now
        self.requests += load.requests
        self.failures += load.failures
        return record


def _wait_for_load(
    worker: LoadGenerator | MasterApiLoad,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
    timeout_s: float = 60.0,
) -> float:
    """Until the load generator runs (so the first sample sees load); returns the time it started.

    A master someone else runs (the in-cluster load) may not answer yet although its pod is Ready (the API port
    opens a moment after the container starts): a refused read before the deadline means "not yet", not "dead"."""
    deadline = clock() + timeout_s
    patient = isinstance(worker, MasterApiLoad)
    failure = ""
    while clock() < deadline:
        for event in worker.events():
            if event.get("event") == "started":
                return clock()
            if event.get("event") == "error":
                worker.stop()
                raise RuntimeError(f"the soak's load generator failed: {event.get('message')}")
        if not worker.alive():
            if not patient:
                raise RuntimeError(worker.failure())
            failure = worker.failure()
            sleep(0.5)
            worker.start()  # a new port-forward if the old one exited on the refused connection
        sleep(0.05)
    worker.stop()
    raise RuntimeError(
        f"the soak's load generator did not start within {timeout_s:.0f} s{': ' + failure if failure else ''}"
    )


def _open_store(plan: SoakPlan, now: float) -> tuple[SoakStore, SoakSummary | None]:
    if plan.resume:
        store = SoakStore.open(plan.root, plan.resume)
        store.repair_tail()
        previous, _ = summarize(store.run_id, store.records())
        return store, previous
    return SoakStore.create(plan.root, now), None


def _last_recorded(store: SoakStore, key: str) -> Any:
    """The value of `key` in the last sample that recorded one (None: no sample did)."""
    last = None
    for record in store.records():
        if record.get("type") == "sample" and record.get(key) is not None:
            last = record[key]
    return last


def _last_restart_counts(store: SoakStore) -> dict[str, int] | None:
    """Each component's restart counter as the run's samples last recorded it."""
    last = _last_recorded(store, "restart_counts")
    return {str(k): int(v) for k, v in last.items()} if isinstance(last, dict) else None


def _last_load_totals(store: SoakStore) -> tuple[int, int] | None:
    """The in-cluster master's counters as the last recorded sample saw them."""
    last = _last_recorded(store, "load_totals")
    return (int(last[0]), int(last[1])) if last else None


def _in_cluster_load(
    subject: SoakSubject, plan: SoakPlan, since: tuple[int, int] | None
) -> tuple[MasterApiLoad, InClusterLoadHandle]:
    provide = getattr(subject, "in_cluster_load", None)  # only cluster soak subjects offer it
    if provide is None:
        raise InputError(
            "--load-in-cluster needs a cluster target: the local target has no cluster to run the load in",
            "pass --target kind, k3d or kubeconfig, or leave out --load-in-cluster",
        )
    handle = provide(
        workers=plan.load.in_cluster_workers, users=plan.users, rate_per_s=plan.rate_per_s, keep=plan.load.keep
    )
    return MasterApiLoad(handle.api_url, since, handle.reconnect), handle


def run_soak(
    subject: SoakSubject,
    plan: SoakPlan,
    progress: Callable[[str], None],
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> SoakResult:
    """Sample until the run's covered time reaches its planned duration; resumable after any interruption."""
    start = clock()
    store, previous = _open_store(plan, start)
    planned = plan.duration_s or (previous.planned_s if previous else 0.0) or subject.default_duration_s
    covered_before = previous.covered_s if previous else 0.0
    remaining = planned - covered_before
    segment = len(previous.segments) if previous else 0
    resumed = previous is not None
    if remaining <= COVERED_TOLERANCE_S:
        progress(f"soak {store.run_id}: already covers {format_duration(covered_before)} of {format_duration(planned)}")
        summary, series = summarize(store.run_id, store.records())
        return SoakResult(summary, series, store.path, plan, resumed, 0.0)
    host = subject.route.hosts[0] if subject.route.hosts else ""
    job = {
        "mode": "soak",
        "base_url": subject.endpoint.base_url,
        "path": request_path(subject.route),
        "host_header": host,
        "users": plan.load.users(plan.users),
        "rate_per_s": plan.rate_per_s,
        "window_s": LOAD_WINDOW_S,
        "max_seconds": remaining + 120,  # bounded even if this process dies without stopping it
    }
    handle: InClusterLoadHandle | None = None
    worker: LoadGenerator | MasterApiLoad
    if plan.load.in_cluster:
        worker, handle = _in_cluster_load(subject, plan, _last_load_totals(store) if resumed else None)
    else:
        worker = LoadGenerator(job, lab_directory("soak-load"), f"load-{segment}", plan.load).start()
    join_s = plan.load.join_timeout_s if plan.load.distributed or plan.load.in_cluster else 0.0
    try:
        start = _wait_for_load(worker, clock, sleep, 60.0 + join_s)
    except BaseException:  # Ctrl-C or a stop while Locust starts: nothing may keep sending load
        worker.stop()
        raise
    interval = sample_interval(plan, planned)
    unwatched = getattr(worker, "unwatched", None)
    persist = resumed and getattr(subject, "restart_counts_persist", False)
    sampler = Sampler(subject, worker, plan, segment, start, _last_restart_counts(store) if persist else None)
    meanwhile = sampler.meanwhile
    # The cluster's own history of the gap, when the user named its Prometheus (--soak-prometheus).
    metrics = None
    if previous is not None and previous.segments and plan.prometheus_url:
        metrics = read_gap(plan.prometheus_url, previous.segments[-1].last, start)
    store.append(
        {
            "type": "segment",
            "segment": segment,
            "t": round(start, 3),
            "planned_s": planned,
            "interval_s": interval,
            "subject": subject.description,
            "route": f"{host or subject.route.match} on {subject.endpoint.base_url}",
            "resumed": resumed,
            "harness_version": __version__,
            "load": plan.load.describe() if handle is None else handle.description,
            **({"unwatched_load": unwatched} if unwatched else {}),
            **({"restarts_meanwhile": meanwhile.as_record()} if meanwhile else {}),
            **({"gap_metrics": metrics.as_record()} if metrics else {}),
        }
    )
    if meanwhile and meanwhile.describe():
        progress(f"soak {store.run_id}: while unwatched, {meanwhile.describe()}")
    if metrics:
        progress(f"soak {store.run_id}: the gap before this segment: {metrics.describe()}")
    if unwatched:
        progress(
            f"soak {store.run_id}: the in-cluster load ran on while the harness was away: {unwatched['requests']} "
            f"requests, {unwatched['failures']} failed (counted by the Locust master; not sampled, so not covered)"
        )
    verb = "resuming" if resumed else "started"
    progress(
        f"soak {store.run_id} {verb}: {format_duration(remaining)} to cover (of {format_duration(planned)}), "
        f"a sample every {format_duration(interval)} into {store.path}; "
        f"after an interruption continue with --soak-resume {store.run_id}"
    )
    covered = covered_before
    reason = "interrupted"
    stopped: KeyboardInterrupt | None = None
    # One line per sample, but no more than about 200 over the whole run (48 h at 10 s would be 17,280).
    report = Throttled(progress, max(interval, planned / 200) - 0.5)
    try:
        while planned - covered > COVERED_TOLERANCE_S:
            due = sampler.last_t + min(interval, planned - covered)
            sleep(max(0.0, due - clock()))
            record = sampler.take(clock())
            store.append(record)
            covered += record["dt"]
            report(
                f"soak {store.run_id}: {format_duration(covered)} of {format_duration(planned)} covered, "
                f"{format_duration(max(0.0, planned - covered))} left; last sample {record['requests']} requests, "
                f"{record['failures']} failed, p95 {_fmt(record['p95_ms'], ' ms')}, "
                f"CPU {_fmt(record['cpu_percent'], ' %')}, memory {_fmt(record['memory_percent'], ' %')} of budget, "
                f"{record['restarts']} restart(s); errors so far {sampler.failures} of {sampler.requests}"
            )
        reason = "completed"
    except KeyboardInterrupt as exc:
        stopped = exc
    finally:
        report.flush()
        worker.stop()
        if handle is not None and reason == "completed":
            handle.cleanup()
        store.append({"type": "end", "segment": segment, "t": round(clock(), 3), "reason": reason})
        store.close()
    summary, series = summarize(store.run_id, store.records())
    result = SoakResult(summary, series, store.path, plan, resumed, clock() - start)
    if stopped is not None:
        raise SoakInterrupted(result) from stopped
    return result

"""Retrospective soak (pure): judge a window of the cluster's Prometheus history as if a soak had sampled it.

Range-query results (one value per step, absent where the TSDB holds nothing) become the same segment/sample/end
records an active soak writes, so `soak_summary.summarize` stitches them, shows the gaps and draws the charts.
A step without any scraped `up` sample is not covered: it is shown as a gap, never filled. Restart counters are
turned into per-step restarts here (a counter that drops means a new container: its value counts), and a
container restarted CRASHLOOP_RESTARTS times within CRASHLOOP_WINDOW_S is crash-looping from that step on.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dbc_validate.analysis.soak_summary import CRASHLOOP_WINDOW_S, GapMetrics, crashlooping, summarize

STEPS_S = (60, 120, 300, 600, 900, 1800, 3600)
MAX_STEPS = 1000  # points per chart line and per query (Prometheus refuses more than 11,000)
HIDING_GAP_S = CRASHLOOP_WINDOW_S  # a gap this long could hold a whole crash-loop unseen

# PromQL per figure; {step} is the query step in seconds. Names are kube-state-metrics, cAdvisor, node exporter
# and Traefik metrics as a kube-prometheus-stack cluster exposes them.
QUERIES: dict[str, str] = {
    "coverage": "sum(count_over_time(up[{step}s]))",
    "restarts": "sum by (namespace, pod, container) (kube_pod_container_status_restarts_total)",
    "not_ready": 'sum by (namespace, pod) (kube_pod_status_ready{{condition="false"}})',
    "container_cpu": (
        'max(sum by (namespace, pod, container) (rate(container_cpu_usage_seconds_total{{container!=""}}[5m]))'
        " / on (namespace, pod, container) "
        'sum by (namespace, pod, container) (kube_pod_container_resource_limits{{resource="cpu"}})) * 100'
    ),
    "container_memory": (
        'max(sum by (namespace, pod, container) (container_memory_working_set_bytes{{container!=""}})'
        " / on (namespace, pod, container) "
        'sum by (namespace, pod, container) (kube_pod_container_resource_limits{{resource="memory"}})) * 100'
    ),
    "node_cpu": '(1 - min(avg by (instance) (rate(node_cpu_seconds_total{{mode="idle"}}[5m])))) * 100',
    "node_memory": "max(1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes) * 100",
    "requests": "sum(increase(traefik_service_requests_total[{step}s]))",
    "errors": 'sum(increase(traefik_service_requests_total{{code=~"5.."}}[{step}s]))',
    "p50": (
        "histogram_quantile(0.5, sum by (le) (rate(traefik_service_request_duration_seconds_bucket[{step}s]))) * 1000"
    ),
    "p95": (
        "histogram_quantile(0.95, sum by (le) (rate(traefik_service_request_duration_seconds_bucket[{step}s]))) * 1000"
    ),
}
# One series per label set: {label set: {step time: value}}. Label sets are sorted (name, value) tuples.
Series = dict[tuple[tuple[str, str], ...], dict[float, float]]


def query_step(window_s: float, interval_s: float) -> int:
    """The coarsest useful step: at least the sampling interval and a minute, at most MAX_STEPS points."""
    for step in STEPS_S:
        if step >= interval_s and window_s / step <= MAX_STEPS:
            return step
    return STEPS_S[-1]


GAP_MIN_INTERVAL_S = 60.0  # a resumed run's gap is read at 1 min steps or coarser, as the queries' rates need


def gap_window(start: float, end: float) -> tuple[float, float, int] | None:
    """The whole query steps inside a gap from `start` to `end`: (first, last, step), or None when none fits."""
    step = query_step(end - start, GAP_MIN_INTERVAL_S)
    first, last = start - start % step + step, end - end % step
    return (first, last, step) if last - first >= step else None


def step_times(start: float, end: float, step: float) -> list[float]:
    """The evaluation times of a range query: each step judges the interval that ends at it."""
    times, t = [], start + step
    while t <= end + 1e-6:
        times.append(round(t, 3))
        t += step
    return times


def label_name(labels: tuple[tuple[str, str], ...]) -> str:
    values = dict(labels)
    parts = [values.get(k) for k in ("namespace", "pod", "container") if values.get(k)]
    return "/".join(parts) if parts else ",".join(f"{k}={v}" for k, v in labels) or "(all)"


@dataclass
class History:
    """Range-query results over one window."""

    start: float
    end: float
    step: float
    results: Mapping[str, Series]  # query name -> series

    def total(self, name: str, t: float) -> float | None:
        """The single-series value of query `name` at step `t` (None when absent)."""
        series = self.results.get(name) or {}
        values = [points[t] for points in series.values() if t in points]
        return values[0] if values else None


@dataclass
class RetrospectiveFindings:
    """What the window shows, in hours since its start, for the assertion messages and the report."""

    gaps_h: list[tuple[float, float]] = field(default_factory=list)  # uncovered stretches
    hiding_gaps_h: list[tuple[float, float]] = field(default_factory=list)  # long enough to hide a crash-loop
    first_restart_h: dict[str, float] = field(default_factory=dict)
    crashloop_from_h: dict[str, float] = field(default_factory=dict)
    not_ready_from_h: dict[str, float] = field(default_factory=dict)
    covered_steps: int = 0
    steps: int = 0

    @property
    def coverage_percent(self) -> float:
        return round(self.covered_steps / self.steps * 100, 2) if self.steps else 0.0

    def describe_gaps(self, gaps: list[tuple[float, float]] | None = None) -> str:
        chosen = self.gaps_h if gaps is None else gaps
        return ", ".join(f"hour {a:.1f} to hour {b:.1f} ({b - a:.1f} h)" for a, b in chosen)

    def notes(self) -> list[str]:
        lines = [f"window coverage: {self.covered_steps} of {self.steps} steps ({self.coverage_percent:g} %)"]
        if self.gaps_h:
            lines.append(f"no data in the TSDB from {self.describe_gaps()} (shown as gaps, not filled)")
        lines += [f"{name}: first restart at hour {h:.1f}" for name, h in self.first_restart_h.items()]
        lines += [f"{name}: crash-looping from hour {h:.1f}" for name, h in self.crashloop_from_h.items()]
        lines += [f"{name}: not ready from hour {h:.1f}" for name, h in self.not_ready_from_h.items()]
        return lines


def _restart_deltas(series: Series, times: list[float]) -> dict[str, dict[float, int]]:
    """Restarts per container per step, from the cumulative counters (a drop is a new container)."""
    deltas: dict[str, dict[float, int]] = {}
    for labels, points in series.items():
        name = label_name(labels)
        previous: float | None = None
        for t in times:
            if t not in points:
                continue
            value = points[t]
            if previous is not None:
                change = value - previous if value >= previous else value
                if change > 0:
                    deltas.setdefault(name, {})[t] = deltas.get(name, {}).get(t, 0) + round(change)
            previous = value
    return deltas


def _peak(*values: float | None) -> float | None:
    present = [v for v in values if v is not None]
    return round(max(present), 2) if present else None


def history_records(
    history: History, subject: str, planned_s: float
) -> tuple[list[dict[str, Any]], RetrospectiveFindings]:
    """Segment/sample/end records for `soak_summary.summarize`, and the findings with their hours."""
    times = step_times(history.start, history.end, history.step)
    findings = RetrospectiveFindings(steps=len(times))

    def hour(t: float) -> float:
        """Hours from the window start to the end of the step at `t` (the step saw the event by then)."""
        return round((t - history.start) / 3600, 2)

    def step_start_hour(t: float) -> float:
        return round((t - history.step - history.start) / 3600, 2)

    restarts = _restart_deltas(history.results.get("restarts") or {}, times)
    restart_times: dict[str, list[float]] = {}
    not_ready = history.results.get("not_ready") or {}
    records: list[dict[str, Any]] = []
    segment, covered_run, in_gap, cumulative = -1, False, False, 0

    def open_segment(at: float) -> None:
        nonlocal segment, cumulative
        segment += 1
        cumulative = 0
        records.append(
            {
                "type": "segment",
                "segment": segment,
                "t": at,
                "planned_s": planned_s,
                "interval_s": history.step,
                "subject": subject,
                "scope": "cluster",
                "resumed": segment > 0,
            }
        )

    if times and (history.total("coverage", times[0]) or 0) <= 0:
        # The window opens on a gap: an empty first segment keeps the chart's and the findings' hours aligned.
        open_segment(history.start)
        records.append({"type": "end", "segment": segment, "t": history.start, "reason": "no data after"})
    for t in times:
        covered = (history.total("coverage", t) or 0) > 0
        if not covered:
            if covered_run:
                records.append({"type": "end", "segment": segment, "t": t - history.step, "reason": "no data after"})
            # A gap is the whole steps without a single `up` sample: from the start of the first to the end of the last.
            if in_gap:
                findings.gaps_h[-1] = (findings.gaps_h[-1][0], hour(t))
            else:
                findings.gaps_h.append((step_start_hour(t), hour(t)))
            covered_run, in_gap = False, True
            continue
        in_gap = False
        if not covered_run:
            open_segment(t - history.step)
            covered_run = True
        findings.covered_steps += 1
        crashloops, down = [], []
        for name, per_step in restarts.items():
            count = per_step.get(t, 0)
            if count:
                cumulative += count
                restart_times.setdefault(name, []).extend([t] * count)
                findings.first_restart_h.setdefault(name, hour(t))
            seen = restart_times.get(name, [])
            if name not in findings.crashloop_from_h and crashlooping(seen, t):
                # The loop began with the first of the restarts that make it one, not at the step that counted them.
                findings.crashloop_from_h[name] = hour(min(r for r in seen if t - r <= CRASHLOOP_WINDOW_S))
            if name in findings.crashloop_from_h:
                crashloops.append(f"{name} (from hour {findings.crashloop_from_h[name]:.1f})")
        for labels, points in not_ready.items():
            if points.get(t, 0) > 0:
                name = label_name(labels)
                findings.not_ready_from_h.setdefault(name, hour(t))
                down.append(f"{name} (not ready from hour {findings.not_ready_from_h[name]:.1f})")
        requests = history.total("requests", t)
        errors = history.total("errors", t) or 0.0
        n = round(requests) if requests is not None else 0
        records.append(
            {
                "type": "sample",
                "segment": segment,
                "t": t,
                "dt": history.step,
                "requests": n,
                "failures": round(errors),
                "error_rate": round(errors / requests, 6) if requests else None,
                "p50_ms": _peak(history.total("p50", t)),
                "p95_ms": _peak(history.total("p95", t)),
                "cpu_percent": _peak(history.total("container_cpu", t), history.total("node_cpu", t)),
                "memory_percent": _peak(history.total("container_memory", t), history.total("node_memory", t)),
                "restarts": cumulative,
                "crashloops": crashloops,
                "down": down,
                "first_error": "",
            }
        )
    if covered_run:
        records.append({"type": "end", "segment": segment, "t": times[-1], "reason": "completed"})
    findings.hiding_gaps_h = [(a, b) for a, b in findings.gaps_h if (b - a) * 3600 >= HIDING_GAP_S]
    return records, findings


def gap_metrics(history: History, source: str) -> GapMetrics:
    """What `history` (the cluster's metrics over a gap in a run's samples) says happened in that gap."""
    records, findings = history_records(history, "gap", history.end - history.start)
    summary, _ = summarize("gap", records)

    def when(hours: float) -> str:  # a clock time: "hours since" would count from a query step, not the gap
        return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(history.start + hours * 3600))

    return GapMetrics(
        source=source,
        coverage_percent=findings.coverage_percent,
        steps=findings.steps,
        step_s=history.step,
        cpu_peak_percent=summary.cpu_peak_percent,
        memory_peak_percent=summary.memory_peak_percent,
        crashloops=tuple(f"{name} (from {when(h)})" for name, h in findings.crashloop_from_h.items()),
        not_ready=tuple(f"{name} (from {when(h)})" for name, h in findings.not_ready_from_h.items()),
        restarts=summary.restarts,
    )

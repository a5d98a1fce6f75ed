"""Soak decisions from recorded samples: segments stitched, gaps, covered time, peaks, crash-loops (pure).

A soak run is a file of JSON records (see probes/soak/store.py): a "segment" record each time the run
starts or resumes, one "sample" per interval (each covering the time since the previous one) and an "end"
record when a segment stops cleanly. A segment without its end record was killed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from dbc_validate.capabilities import HttpRoute
from dbc_validate.durations import format_duration
from dbc_validate.stats import MAX_POINTS, downsample, percentile

# A component restarted this many times within the window is crash-looping (Kubernetes shows
# CrashLoopBackOff after repeated restarts with growing back-off).
CRASHLOOP_RESTARTS = 3
CRASHLOOP_WINDOW_S = 600.0
BACKOFF_CAP_S = 300.0


def crashlooping(
    restart_times: Sequence[float],
    now: float,
    window_s: float = CRASHLOOP_WINDOW_S,
    threshold: int = CRASHLOOP_RESTARTS,
) -> bool:
    """True when at least `threshold` restarts happened within the last `window_s` seconds."""
    return sum(1 for t in restart_times if now - t <= window_s) >= threshold


def restart_delay(restarts_so_far: int, base_s: float = 10.0, cap_s: float = BACKOFF_CAP_S) -> float:
    """Back-off before the next restart, as a kubelet does: immediately, then base, 2x base, ... up to the cap."""
    if restarts_so_far <= 0:
        return 0.0
    return min(base_s * 2 ** (restarts_so_far - 1), cap_s)


@dataclass(frozen=True)
class Segment:
    index: int
    started: float  # epoch seconds
    last: float  # time of its last record
    samples: int
    covered_s: float
    ended: str  # "completed", "interrupted", or "killed" (no end record: SIGKILL, crash, reboot)


@dataclass(frozen=True)
class RestartsMeanwhile:
    """Restarts between a run's last sample and its resume, read from counters the subject keeps (a pod's
    restartCount); components seen only after the gap were replaced meanwhile, their predecessors' restarts unknown."""

    restarted: dict[str, int] = field(default_factory=dict)  # component -> restarts during the gap
    new_components: tuple[str, ...] = ()

    @property
    def restarts(self) -> int:
        return sum(self.restarted.values())

    def describe(self) -> str:
        parts = []
        if self.restarted:
            parts.append(
                f"{self.restarts} restart(s) ({', '.join(f'{k} +{v}' for k, v in sorted(self.restarted.items()))}), "
                "from the components' own restart counters"
            )
        if self.new_components:
            parts.append(
                f"new since the last sample (replaced meanwhile? their predecessors' restarts are unknown): "
                f"{', '.join(self.new_components)}"
            )
        return "; ".join(parts)

    def as_record(self) -> dict[str, Any]:
        return {"restarted": self.restarted, "new_components": list(self.new_components)}

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> RestartsMeanwhile:
        restarted = {str(k): int(v) for k, v in (record.get("restarted") or {}).items()}
        return cls(restarted, tuple(str(n) for n in record.get("new_components") or ()))


def restarts_meanwhile(before: Mapping[str, int], now: Mapping[str, int]) -> RestartsMeanwhile:
    """What the counters say happened between two readings (`before`: the last sample's, `now`: at the resume)."""
    restarted = {name: count - before[name] for name, count in now.items() if name in before and count > before[name]}
    # A counter lower than before belongs to a new pod of the same name (a StatefulSet's): replaced, too.
    replaced = sorted(name for name, count in now.items() if name not in before or count < before[name])
    return RestartsMeanwhile(restarted, tuple(replaced))


@dataclass(frozen=True)
class GapMetrics:
    """What the cluster's Prometheus recorded over a gap in the run's own samples (read on resume; not covered
    time, since the harness did not sample it, but its restarts, crash-loops and peaks count against the run)."""

    source: str  # the Prometheus URL
    coverage_percent: float  # of the gap's query steps with any scraped sample
    steps: int
    step_s: float
    cpu_peak_percent: float | None = None
    memory_peak_percent: float | None = None
    crashloops: tuple[str, ...] = ()
    not_ready: tuple[str, ...] = ()
    restarts: int = 0
    error: str = ""  # the read failed: the gap stays unobserved

    def describe(self) -> str:
        if self.error:
            return f"not read from {self.source}: {self.error}"
        peaks = ", ".join(
            f"{name} peak {value:.1f} %"
            for name, value in (("CPU", self.cpu_peak_percent), ("memory", self.memory_peak_percent))
            if value is not None
        )
        parts = [
            f"the cluster's metrics ({self.source}) cover {self.coverage_percent:g} % of its {self.steps} "
            f"step(s) of {format_duration(self.step_s)}",
            f"{self.restarts} restart(s)",
        ]
        parts += [peaks] if peaks else []
        parts += [f"crash-looping: {', '.join(self.crashloops)}"] if self.crashloops else []
        parts += [f"not ready: {', '.join(self.not_ready)}"] if self.not_ready else []
        return "; ".join(parts)

    def as_record(self) -> dict[str, Any]:
        record = {k: v for k, v in self.__dict__.items() if v not in (None, "", ())}
        return {**record, "crashloops": list(self.crashloops), "not_ready": list(self.not_ready)}

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> GapMetrics:
        return cls(
            source=str(record.get("source") or ""),
            coverage_percent=float(record.get("coverage_percent") or 0.0),
            steps=int(record.get("steps") or 0),
            step_s=float(record.get("step_s") or 0.0),
            cpu_peak_percent=record.get("cpu_peak_percent"),
            memory_peak_percent=record.get("memory_peak_percent"),
            crashloops=tuple(str(n) for n in record.get("crashloops") or ()),
            not_ready=tuple(str(n) for n in record.get("not_ready") or ()),
            restarts=int(record.get("restarts") or 0),
            error=str(record.get("error") or ""),
        )


@dataclass(frozen=True)
class Gap:
    at_s: float  # seconds after the run's start
    length_s: float
    before_segment: int
    # An in-cluster load runs on while nobody samples: its master's counts for the gap, when the resume read them.
    unwatched_requests: int | None = None
    unwatched_failures: int | None = None
    meanwhile: RestartsMeanwhile | None = None  # when the subject's restart counters outlived the harness
    metrics: GapMetrics | None = None  # when the resume read the cluster's Prometheus over the gap

    def describe(self) -> str:
        text = f"{format_duration(self.length_s)} unobserved before segment {self.before_segment}"
        if self.unwatched_requests is not None:
            text += (
                f" (the in-cluster load ran on meanwhile: {self.unwatched_requests} requests, "
                f"{self.unwatched_failures} failed, counted by the Locust master; not sampled, so not covered)"
            )
        if self.meanwhile is not None:
            quiet = "no restart, by the components' own restart counters"
            text += f"; meanwhile: {self.meanwhile.describe() or quiet}"
        if self.metrics is not None:
            text += f"; {self.metrics.describe()}"
        return text


@dataclass
class SoakSeries:
    """Columns for the charts: x in seconds since the run's start; None breaks a line at a gap."""

    x: list[float] = field(default_factory=list)
    p50_ms: list[float | None] = field(default_factory=list)
    p95_ms: list[float | None] = field(default_factory=list)
    error_percent: list[float | None] = field(default_factory=list)
    cpu_percent: list[float | None] = field(default_factory=list)
    memory_percent: list[float | None] = field(default_factory=list)
    restarts: list[float | None] = field(default_factory=list)

    def _columns(self) -> list[list[Any]]:
        return [
            self.x,
            self.p50_ms,
            self.p95_ms,
            self.error_percent,
            self.cpu_percent,
            self.memory_percent,
            self.restarts,
        ]

    def add(self, x: float, *values: float | None) -> None:
        for column, value in zip(self._columns(), (x, *values), strict=True):
            column.append(value)

    def break_at(self, x: float) -> None:
        self.add(x, *([None] * 6))


@dataclass
class SoakSummary:
    run_id: str
    planned_s: float = 0.0
    interval_s: float = 0.0
    subject: str = ""
    scope: str = ""
    started: float | None = None
    segments: list[Segment] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)
    covered_s: float = 0.0
    samples: int = 0
    requests: int = 0
    failures: int = 0
    p50_ms_median: float | None = None
    p95_ms_max: float | None = None
    cpu_peak_percent: float | None = None
    memory_peak_percent: float | None = None
    restarts: int = 0
    crashloops: list[str] = field(default_factory=list)
    down: list[str] = field(default_factory=list)  # components seen down at some sample
    first_error: str = ""
    error_rate_max: float | None = None  # the worst single sample's error rate

    @property
    def error_rate(self) -> float | None:
        return self.failures / self.requests if self.requests else None

    @property
    def remaining_s(self) -> float:
        return max(0.0, self.planned_s - self.covered_s)

    def covered_against(self, required_s: float) -> str:
        share = self.covered_s / required_s * 100 if required_s else 0.0
        return f"{format_duration(self.covered_s)} of {required_s / 3600:g} h ({share:.2f} %)"


def _peak(current: float | None, value: Any) -> float | None:
    if value is None:
        return current
    return float(value) if current is None else max(current, float(value))


def _count_gap_metrics(summary: SoakSummary, metrics: GapMetrics) -> None:
    """A gap's metrics count against the run: peaks, crash-loops and pods not ready (their restarts are counted
    from the components' own counters, so they are not added twice)."""
    summary.cpu_peak_percent = _peak(summary.cpu_peak_percent, metrics.cpu_peak_percent)
    summary.memory_peak_percent = _peak(summary.memory_peak_percent, metrics.memory_peak_percent)
    for name in metrics.crashloops:
        if name not in summary.crashloops:
            summary.crashloops.append(name)
    for name in metrics.not_ready:
        if name not in summary.down:
            summary.down.append(name)


def summarize(run_id: str, records: Iterable[Mapping[str, Any]]) -> tuple[SoakSummary, SoakSeries]:
    """Stitch a run's records into one summary and chart columns (one pass; records in file order)."""
    summary = SoakSummary(run_id)
    series = SoakSeries()
    p50s: list[float] = []
    current: dict[str, Any] | None = None
    segments: list[dict[str, Any]] = []
    restarts_by_segment: dict[int, int] = {}
    for record in records:
        kind = record.get("type")
        t = float(record.get("t", 0.0))
        if kind == "segment":
            if summary.started is None:
                summary.started = t
                summary.planned_s = float(record.get("planned_s") or 0.0)
                summary.subject = str(record.get("subject") or "")
                summary.scope = str(record.get("scope") or "")
            summary.planned_s = float(record.get("planned_s") or summary.planned_s)
            summary.interval_s = float(record.get("interval_s") or summary.interval_s)
            gap_metrics = GapMetrics.from_record(record["gap_metrics"]) if record.get("gap_metrics") else None
            if current is not None:
                series.break_at(current["last"] - summary.started)
                gap = t - current["last"]
                unwatched = record.get("unwatched_load") or {}
                summary.gaps.append(
                    Gap(
                        current["last"] - summary.started,
                        max(gap, 0.0),
                        int(record["segment"]),
                        unwatched.get("requests"),
                        unwatched.get("failures"),
                        RestartsMeanwhile.from_record(record["restarts_meanwhile"])
                        if record.get("restarts_meanwhile") is not None
                        else None,
                        gap_metrics,
                    )
                )
                if gap_metrics is not None:
                    _count_gap_metrics(summary, gap_metrics)
            current = {"index": int(record["segment"]), "started": t, "last": t, "samples": 0, "covered": 0.0}
            current["ended"] = "killed"
            segments.append(current)
        elif kind == "sample" and current is not None and summary.started is not None:
            current["samples"] += 1
            current["covered"] += float(record.get("dt") or 0.0)
            current["last"] = t
            summary.samples += 1
            summary.requests += int(record.get("requests") or 0)
            summary.failures += int(record.get("failures") or 0)
            summary.first_error = summary.first_error or str(record.get("first_error") or "")
            rate = record.get("error_rate")
            summary.error_rate_max = _peak(summary.error_rate_max, rate)
            summary.p95_ms_max = _peak(summary.p95_ms_max, record.get("p95_ms"))
            summary.cpu_peak_percent = _peak(summary.cpu_peak_percent, record.get("cpu_percent"))
            summary.memory_peak_percent = _peak(summary.memory_peak_percent, record.get("memory_percent"))
            if record.get("p50_ms") is not None:
                p50s.append(float(record["p50_ms"]))
            restarts_by_segment[current["index"]] = int(record.get("restarts") or 0)
            for name in record.get("crashloops") or []:
                if name not in summary.crashloops:
                    summary.crashloops.append(str(name))
            for name in record.get("down") or []:
                if name not in summary.down:
                    summary.down.append(str(name))
            series.add(
                t - summary.started,
                record.get("p50_ms"),
                record.get("p95_ms"),
                None if rate is None else float(rate) * 100,
                record.get("cpu_percent"),
                record.get("memory_percent"),
                float(sum(restarts_by_segment.values())),
            )
        elif kind == "end" and current is not None:
            current["ended"] = str(record.get("reason") or "completed")
            current["last"] = max(current["last"], t)
    summary.segments = [
        Segment(s["index"], s["started"], s["last"], s["samples"], s["covered"], s["ended"]) for s in segments
    ]
    summary.covered_s = sum(s.covered_s for s in summary.segments)
    summary.restarts = sum(restarts_by_segment.values())
    if p50s:
        p50s.sort()
        summary.p50_ms_median = p50s[len(p50s) // 2]
    return summary, series


def time_axis(span_s: float) -> tuple[float, str]:
    """Divisor and label for a chart's x axis covering `span_s` seconds."""
    if span_s >= 6 * 3600:
        return 3600.0, "hours since the soak started"
    if span_s >= 600:
        return 60.0, "minutes since the soak started"
    return 1.0, "seconds since the soak started"


@dataclass
class LoadWindow:
    """Requests the load generator reported since the previous sample."""

    requests: int = 0
    failures: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    first_error: str = ""
    # A load that reports percentiles instead of latencies (a Locust master's API): the window's worst of each.
    p50_ms: float | None = None
    p95_ms: float | None = None

    def add(self, event: Mapping[str, Any]) -> None:
        self.requests += int(event.get("requests") or 0)
        self.failures += int(event.get("failures") or 0)
        self.latencies_ms.extend(float(v) for v in event.get("latencies_ms") or [])
        self.first_error = self.first_error or str(event.get("first_error") or "")
        self.p50_ms = _peak(self.p50_ms, event.get("p50_ms"))
        self.p95_ms = _peak(self.p95_ms, event.get("p95_ms"))


def _percent_of(used: float | None, limit: float | None) -> float | None:
    if used is None or not limit:
        return None
    return round(used / limit * 100, 2)


def build_sample(
    *,
    segment: int,
    t: float,
    dt: float,
    load: LoadWindow,
    components: Sequence[Any],
    baseline_restarts: Mapping[str, int],
    cpu_cores: float | None,
    memory_mb: float | None,
    cpu_limit_cores: float,
    memory_limit_mb: float,
) -> dict[str, Any]:
    """One sample record; `components` are ComponentHealth readings, restarts counted from the baseline."""
    p50 = percentile(load.latencies_ms, 50) if load.latencies_ms else load.p50_ms
    p95 = percentile(load.latencies_ms, 95) if load.latencies_ms else load.p95_ms
    restarts = sum(max(0, c.restarts - baseline_restarts.get(c.name, 0)) for c in components)
    return {
        "type": "sample",
        "segment": segment,
        "t": round(t, 3),
        "dt": round(dt, 3),
        "requests": load.requests,
        "failures": load.failures,
        "error_rate": round(load.failures / load.requests, 6) if load.requests else None,
        "p50_ms": None if p50 is None else round(p50, 2),
        "p95_ms": None if p95 is None else round(p95, 2),
        "cpu_cores": None if cpu_cores is None else round(cpu_cores, 4),
        "memory_mb": None if memory_mb is None else round(memory_mb, 2),
        "cpu_percent": _percent_of(cpu_cores, cpu_limit_cores),
        "memory_percent": _percent_of(memory_mb, memory_limit_mb),
        "restarts": restarts,
        "crashloops": [c.name for c in components if c.crashlooping],
        "down": [c.name for c in components if not c.up],
        "first_error": load.first_error[:300],
    }


@dataclass(frozen=True)
class ChartLine:
    """One series for the report, ready for gate1_evidence.series(...)."""

    topic: str  # "soak" | "crashloops" | "resources": which criterion's charts it belongs to
    name: str
    x: list[float]
    y: list[float | None]
    group: str
    y_label: str
    x_label: str
    kind: str = "line"
    labels: tuple[str, ...] = ()


def chart_lines(summary: SoakSummary, series: SoakSeries, limit_percent: float) -> list[ChartLine]:
    """Latency, error rate, restarts, CPU and memory over time; resumes marked where the run was stitched."""
    span = series.x[-1] if series.x else 0.0
    divisor, x_label = time_axis(span)
    x = [v / divisor for v in series.x]
    resumes = [(g.at_s + g.length_s) / divisor for g in summary.gaps]  # where each resumed segment starts on the chart
    resume_labels = tuple(f"resumed after {format_duration(g.length_s)}" for g in summary.gaps)

    def line(topic: str, name: str, y: list[float | None], group: str, y_label: str, kind: str = "line") -> ChartLine:
        # A chart cannot show more points than it has pixels: keep each bucket's extremes and every gap, so a
        # 48 h run (17,280 samples) stays light in gate1.json. The full samples stay in samples.jsonl.
        xs, ys = downsample(x, y, MAX_POINTS)
        return ChartLine(topic, name, [round(v, 5) for v in xs], ys, group, y_label, x_label, kind)

    def marks(topic: str, group: str) -> list[ChartLine]:
        if not resumes:
            return []
        return [
            ChartLine(topic, "resumed", resumes, [None] * len(resumes), group, "", x_label, "events", resume_labels)
        ]

    limit = [limit_percent if v is not None else None for v in series.cpu_percent]
    return [
        line("soak", "latency p50", series.p50_ms, "soak: latency", "ms"),
        line("soak", "latency p95", series.p95_ms, "soak: latency", "ms"),
        *marks("soak", "soak: latency"),
        line("soak", "error rate", series.error_percent, "soak: error rate", "% of requests"),
        *marks("soak", "soak: error rate"),
        line("crashloops", "restarts (cumulative)", series.restarts, "soak: restarts", "restarts", "step"),
        *marks("crashloops", "soak: restarts"),
        line("resources", "CPU", series.cpu_percent, "soak: CPU and memory", "% of limit or budget"),
        line("resources", "memory", series.memory_percent, "soak: CPU and memory", "% of limit or budget"),
        line("resources", f"limit {limit_percent:g} %", limit, "soak: CPU and memory", "% of limit or budget"),
        *marks("resources", "soak: CPU and memory"),
    ]


def record_charts(lines: Sequence[ChartLine], topic: str, evidence: Any) -> None:
    """Hand the lines of one topic to a gate1_evidence recorder (its `series` method)."""
    for line in lines:
        if line.topic == topic:
            evidence.series(
                line.name,
                line.x,
                line.y,
                x_label=line.x_label,
                y_label=line.y_label,
                kind=line.kind,
                labels=line.labels,
                group=line.group,
            )


def pick_route(routes: tuple[HttpRoute, ...] | list[HttpRoute]) -> HttpRoute | None:
    """The route a soak drives: the first split route (prod and stage both under load), else the first served."""
    served = [r for r in routes if r.backends]
    return next((r for r in served if r.is_split), served[0] if served else None)

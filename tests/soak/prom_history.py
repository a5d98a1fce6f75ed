"""48 h of a small cluster's metrics as OpenMetrics text for `promtool tsdb create-blocks-from openmetrics`.

Scenarios: "healthy"; "crashloop" (web-0 restarts every 150 s and is not ready from `event_hour` on); "gap" (no
sample at all for `gap_hours` from `event_hour`). Hours count from the window start (`end - hours`); one hour of
history before it feeds the 5-minute rates of the first steps. Timestamps are in seconds (promtool reads
milliseconds as seconds, silently), every series in time order, and the text ends with `# EOF`.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from dbc_validate.tools.binaries import find_program

PODS = ("web-0", "web-1", "forum-0")
LIMIT_CPU_CORES = 0.5
LIMIT_MEMORY_BYTES = 512 * 2**20
NODE_MEMORY_BYTES = 8 * 2**30
BUCKETS = (0.05, 0.1, 0.3, 1.2, 5.0)
REQUESTS_PER_S = 10.0
ERRORS_PER_S = 0.005  # 0.05 % of requests


@dataclass(frozen=True)
class Scenario:
    name: str
    event_hour: float = 30.0
    gap_hours: float = 6.0

    def missing(self, hour: float) -> bool:
        return self.name == "gap" and self.event_hour <= hour < self.event_hour + self.gap_hours

    def crashlooping(self, pod: str, hour: float) -> bool:
        return self.name == "crashloop" and pod == "web-0" and hour >= self.event_hour


def _labels(**labels: str) -> str:
    return "{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}"


def _family(name: str, kind: str, series: list[tuple[str, Callable[[float, float], float]]], times) -> Iterator[str]:
    yield f"# TYPE {name} {kind}"
    for t, hour in times:
        for sample, value in series:
            yield f"{sample} {value(t, hour):.6g} {t:.0f}"


def history_lines(scenario: Scenario, end: float, hours: float = 48.0, step_s: int = 60) -> Iterator[str]:
    window_start = end - hours * 3600
    first = window_start - 3600
    times = [
        (t, (t - window_start) / 3600)
        for t in (first + i * step_s for i in range(int((end - first) / step_s) + 1))
        if not scenario.missing((t - window_start) / 3600)
    ]
    crash_start = window_start + scenario.event_hour * 3600

    def restarts(pod: str) -> Callable[[float, float], float]:
        return lambda t, hour: (t - crash_start) // 150 + 1 if scenario.crashlooping(pod, hour) else 0.0

    targets = [("kube-state-metrics", "ksm:8080"), ("node", "node-1:9100"), ("traefik", "traefik:9100")]
    yield from _family(
        "up", "gauge", [(f"up{_labels(job=j, instance=i)}", lambda t, h: 1.0) for j, i in targets], times
    )
    c = "kube_pod_container_status_restarts"
    yield from _family(
        c,
        "counter",
        [(f"{c}_total{_labels(namespace='dbc', pod=p, container=p[:-2])}", restarts(p)) for p in PODS],
        times,
    )
    ready = []
    for pod in PODS:

        def not_ready(t, hour, pod=pod):
            return 1.0 if scenario.crashlooping(pod, hour) else 0.0

        ready.append((f"kube_pod_status_ready{_labels(namespace='dbc', pod=pod, condition='false')}", not_ready))
        ready.append(
            (
                f"kube_pod_status_ready{_labels(namespace='dbc', pod=pod, condition='true')}",
                lambda t, h, f=not_ready: 1 - f(t, h),
            )
        )
    yield from _family("kube_pod_status_ready", "gauge", ready, times)
    limits = []
    for pod in PODS:
        base = {"namespace": "dbc", "pod": pod, "container": pod[:-2]}
        limits.append(
            (
                f"kube_pod_container_resource_limits{_labels(**base, resource='cpu', unit='core')}",
                lambda t, h: LIMIT_CPU_CORES,
            )
        )
        limits.append(
            (
                f"kube_pod_container_resource_limits{_labels(**base, resource='memory', unit='byte')}",
                lambda t, h: LIMIT_MEMORY_BYTES,
            )
        )
    yield from _family("kube_pod_container_resource_limits", "gauge", limits, times)
    cpu = "container_cpu_usage_seconds"
    yield from _family(
        cpu,
        "counter",
        [
            (f"{cpu}_total{_labels(namespace='dbc', pod=p, container=p[:-2])}", lambda t, h: (t - first) * 0.1)
            for p in PODS
        ],
        times,
    )
    mem = "container_memory_working_set_bytes"
    yield from _family(
        mem,
        "gauge",
        [
            (f"{mem}{_labels(namespace='dbc', pod=p, container=p[:-2])}", lambda t, h: 150 * 2**20 + (t % 600) * 2**14)
            for p in PODS
        ],
        times,
    )
    yield from _family(
        "node_cpu_seconds",
        "counter",
        [
            (
                f"node_cpu_seconds_total{_labels(instance='node-1:9100', cpu='0', mode='idle')}",
                lambda t, h: (t - first) * 0.7,
            )
        ],
        times,
    )
    yield from _family(
        "node_memory_MemAvailable_bytes",
        "gauge",
        [(f"node_memory_MemAvailable_bytes{_labels(instance='node-1:9100')}", lambda t, h: NODE_MEMORY_BYTES * 0.6)],
        times,
    )
    yield from _family(
        "node_memory_MemTotal_bytes",
        "gauge",
        [(f"node_memory_MemTotal_bytes{_labels(instance='node-1:9100')}", lambda t, h: NODE_MEMORY_BYTES)],
        times,
    )
    service = "dbc-web-80@kubernetes"
    r = "traefik_service_requests"
    yield from _family(
        r,
        "counter",
        [
            (f"{r}_total{_labels(service=service, code='200')}", lambda t, h: (t - first) * REQUESTS_PER_S),
            (f"{r}_total{_labels(service=service, code='500')}", lambda t, h: (t - first) * ERRORS_PER_S),
        ],
        times,
    )
    d = "traefik_service_request_duration_seconds"
    shares = (0.6, 0.9, 0.99, 1.0, 1.0)  # cumulative share of requests under each bucket's bound
    histogram = [
        (f"{d}_bucket{_labels(service=service, le=str(le))}", lambda t, h, s=s: (t - first) * REQUESTS_PER_S * s)
        for le, s in zip(BUCKETS, shares, strict=True)
    ]
    histogram += [
        (f"{d}_bucket{_labels(service=service, le='+Inf')}", lambda t, h: (t - first) * REQUESTS_PER_S),
        (f"{d}_count{_labels(service=service)}", lambda t, h: (t - first) * REQUESTS_PER_S),
        (f"{d}_sum{_labels(service=service)}", lambda t, h: (t - first) * REQUESTS_PER_S * 0.06),
    ]
    yield from _family(d, "histogram", histogram, times)
    yield "# EOF"


def write_history(path: Path, scenario: Scenario, end: float, hours: float = 48.0) -> Path:
    with open(path, "w", encoding="utf-8") as handle:
        for line in history_lines(scenario, end, hours):
            handle.write(line + "\n")
    return path


def backfilled(tmp_path: Path, scenario: Scenario, end: float, hours: float = 48.0) -> Path:
    """A TSDB holding `scenario`'s history up to `end` (promtool), and a prometheus.yml beside it."""
    history = write_history(tmp_path / f"{scenario.name}.om", scenario, end, hours)
    tsdb = tmp_path / "tsdb"
    done = subprocess.run(
        [find_program("promtool"), "tsdb", "create-blocks-from", "openmetrics", "-q", str(history), str(tsdb)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    history.unlink()
    (tmp_path / "prometheus.yml").write_text("global: {scrape_interval: 1m}\n")
    return tsdb

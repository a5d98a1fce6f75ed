"""Measure a route's traffic split through a real Traefik: Locust drives requests until the sequential test decides.

Client side: per-variant counts from the marker response header. Server side, where Traefik's metrics are
reachable: `traefik_service_requests_total` of the route's leaf services, scraped before and after.
"""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from dbc_validate.analysis.split_check import (
    RequiredSplit,
    declared_split,
    format_split,
    marker_header,
    marker_mismatches,
    request_path,
    variant_labels,
)
from dbc_validate.analysis.split_verdict import SplitSides, SplitVerdict, judge_split
from dbc_validate.analysis.traefik_metrics import METRIC, exported, service_request_totals, variant_counts
from dbc_validate.capabilities import BACKEND_HEADER, HttpRoute, IngressEndpoint
from dbc_validate.probes.load_topology import LoadTopology
from dbc_validate.probes.locust_runner import LoadGenerator
from dbc_validate.progress import Throttled
from dbc_validate.stats import (
    Outcome,
    SplitDecision,
    SplitHypothesis,
    decide_counts,
    wilson_interval,
    wrr_interval,
)
from dbc_validate.tools.processes import lab_directory

CONFIDENCE = 0.99


@dataclass(frozen=True)
class SplitSettings:
    delta: float = 0.05  # smallest deviation of a share (65/35 against 70/30) that must be caught
    alpha: float = 0.01
    beta: float = 0.01
    users: int = 4  # concurrent Locust users per load process (one process: also the requests in flight)
    max_requests: int = 20_000
    max_seconds: float = 120.0
    load: LoadTopology = field(default_factory=LoadTopology)


@dataclass
class SplitMeasurement:
    route: str
    host: str
    required: dict[str, Fraction]
    declared: dict[str, Fraction]
    hypothesis: SplitHypothesis
    decision: SplitDecision
    counts: dict[str, int]
    failures: int = 0
    first_error: str = ""
    elapsed_s: float = 0.0
    server_counts: dict[str, int] | None = None
    server_decision: SplitDecision | None = None
    problems: list[str] = field(default_factory=list)  # marker mismatches, worker failures
    load: LoadTopology = field(default_factory=LoadTopology)
    notes: list[str] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return sum(self.counts.values())

    def share(self) -> dict[str, float]:
        n = self.requests
        return {v: round(c / n, 4) if n else 0.0 for v, c in self.counts.items()}

    def interval(self) -> dict[str, list[float]]:
        """Wilson interval (model-free) of each variant's share."""
        n = self.requests
        return {v: [round(x, 4) for x in wilson_interval(c, n, CONFIDENCE)] for v, c in self.counts.items()}

    def wrr_interval(self) -> dict[str, list[float]] | None:
        """Shares a healthy Traefik could have been configured with, given the counts (None: replicas unknown)."""
        bound = self.hypothesis.bound
        if bound is None:
            return None
        n = self.requests
        return {v: [round(x, 4) for x in wrr_interval(c, n, bound)] for v, c in self.counts.items()}

    def sides(self) -> SplitSides:
        h = self.hypothesis
        return SplitSides(
            self.decision, self.counts, self.failures, self.server_decision, self.server_counts, h.bound, h.delta
        )

    def judged(self) -> SplitVerdict:
        """Both sides: the client's decision, failed requests, and Traefik's counts where its metrics answered."""
        return judge_split(self.sides())

    @property
    def passed(self) -> bool:
        return self.judged().passed and not self.problems

    def method(self) -> str:
        h = self.hypothesis
        parts = ["sequential"]
        if h.bound is not None:
            parts.append(
                f"Traefik WRR bound ±{h.bound:.1f} requests ({h.replicas} replica(s), {h.in_flight} in flight) +"
            )
        if self.load.distributed:
            parts.append(f"load: {self.load.describe()};")
        parts.append(f"SPRT alpha={h.alpha:g} beta={h.beta:g}, tolerance {h.delta * 100:g} points;")
        if self.decision.decided_by:
            parts.append(f"decided by {self.decision.decided_by} after {self.decision.requests} requests;")
        else:
            parts.append("undecided;")
        parts.append(f"interval: Wilson {CONFIDENCE:.0%}")
        return " ".join(parts)

    def verdict(self) -> str:
        """One sentence for the report and the assertion message."""
        observed = format_split(self.share())
        required = format_split(self.required)
        declared = format_split(self.declared)
        labels = "/".join(self.required)
        if self.problems:
            return f"{self.route}: " + "; ".join(self.problems)
        judged = self.judged()
        if self.decision.outcome is Outcome.ACCEPT and not judged.passed:
            return f"{self.route}: measured {labels} {observed} over {self.requests} requests, but " + "; ".join(
                judged.problems
            )
        if self.decision.outcome is Outcome.ACCEPT:
            return f"{self.route}: measured {labels} {observed} over {self.requests} requests matches {required}"
        if self.decision.outcome is Outcome.REJECT:
            why = f"measured {labels} {observed} over {self.requests} requests does not match {required}"
            if declared != required:
                why += f": the manifests declare {declared}"
            return f"{self.route}: {why} ({self.decision.reason})"
        return (
            f"{self.route}: undecided after {self.requests} requests and {self.elapsed_s:.0f} s "
            f"({self.failures} failed{': ' + self.first_error if self.first_error else ''})"
        )

    def as_measurements(self) -> dict[str, Any]:
        """The figures the report shows for applications.traffic_split."""
        return {
            "share": self.share(),
            "interval": self.interval(),
            "requests": self.requests,
            "method": self.method(),
            "counts": dict(self.counts),
            "server_counts": self.server_counts if self.server_counts is not None else "metrics not reachable",
            "failed_requests": self.failures,
            "declared_share": {k: round(float(v), 4) for k, v in self.declared.items()},
        }

    def details(self) -> list[str]:
        """Lines for the report's details: the decision, the WRR interval, the server's own verdict."""
        lines = [f"{self.route}: {self.decision.outcome.value}: {self.decision.reason or 'no decision'}"]
        wrr = self.wrr_interval()
        if wrr is not None:
            lines.append(f"{self.route}: shares a healthy Traefik could have been configured with: {wrr}")
        if self.server_counts is not None and self.server_decision is not None:
            lines.append(
                f"{self.route}: server side (traefik_service_requests_total on the leaf services) "
                f"{self.server_counts}, client side (marker header) {self.counts}: "
                f"{self.server_decision.outcome.value} on the server's counts"
            )
        return lines + self.notes


def _scrape(url: str | None) -> dict[str, float] | None:
    if not url:
        return None
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return service_request_totals(response.read().decode("utf-8", "replace"))
    except OSError:
        return None


def _run_worker(
    job: dict[str, Any], directory: Path, progress: Callable[[str], None], timeout_s: float, load: LoadTopology
) -> dict:
    worker = LoadGenerator(job, directory, "split", load).start()
    throttled = Throttled(progress, 5.0)
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            for event in worker.events():
                if event.get("event") in ("result", "error"):
                    return event
                if event.get("event") == "progress":
                    throttled(f"split: {event['requests']} requests so far {event['counts']}")
                elif event.get("event") == "waiting":
                    progress(f"split: Locust master on {event['bind']} waits for {event['expect_workers']} worker(s)")
            if not worker.alive():
                for event in worker.events():
                    if event.get("event") in ("result", "error"):
                        return event
                return {"event": "error", "message": worker.failure()}
            time.sleep(0.05)
        return {"event": "error", "message": f"the Locust worker gave no result within {timeout_s:.0f} s"}
    finally:
        worker.stop()


def measure_split(
    endpoint: IngressEndpoint,
    route: HttpRoute,
    required: RequiredSplit,
    progress: Callable[[str], None],
    settings: SplitSettings | None = None,
    directory: Path | None = None,
) -> SplitMeasurement:
    """Drive `route` on `endpoint` until the sequential test decides whether it splits as `required`."""
    settings = settings or SplitSettings()
    try:
        labels = variant_labels(route, required)
    except ValueError as exc:  # the manifests' variants cannot be told apart: a finding, not a crash
        labels, unplaced = {v: v for v in route.shares()}, str(exc)
    else:
        unplaced = ""
    marker = marker_header(route)
    hypothesis = SplitHypothesis(
        dict(required.shares),
        delta=settings.delta,
        alpha=settings.alpha,
        beta=settings.beta,
        replicas=endpoint.replicas,
        in_flight=settings.load.in_flight(settings.users),
    )
    host = route.hosts[0] if route.hosts else ""
    measurement = SplitMeasurement(
        route=route.source,
        host=host,
        required=dict(required.shares),
        declared=declared_split(route, labels),
        hypothesis=hypothesis,
        decision=SplitDecision(Outcome.CONTINUE, 0),
        counts={},
        notes=list(endpoint.notes),
        load=settings.load,
    )
    if unplaced:
        measurement.problems.append(unplaced)
        return measurement
    if marker is None:
        measurement.problems.append(
            "the route's backends carry no common variant marker header; give each Service a headers "
            "Middleware (customResponseHeaders, e.g. X-Dbc-Variant: prod) in services[].middlewares"
        )
        return measurement
    job = {
        "mode": "split",
        "base_url": endpoint.base_url,
        "path": request_path(route),
        "host_header": host,
        "marker_header": marker,
        "backend_header": BACKEND_HEADER,
        "users": settings.load.users(settings.users),
        "window": settings.load.window(settings.users),
        "in_flight": hypothesis.in_flight,
        "max_requests": settings.max_requests,
        "max_seconds": settings.max_seconds,
        "labels": labels,
        "hypothesis": {
            "shares": {k: str(v) for k, v in required.shares.items()},
            "delta": settings.delta,
            "alpha": settings.alpha,
            "beta": settings.beta,
            "replicas": endpoint.replicas,
        },
    }
    progress(
        f"split: driving {host or route.match} on {endpoint.base_url} with {settings.load.describe()} "
        f"({hypothesis.describe()})"
    )
    before = _scrape(endpoint.metrics_url)
    timeout_s = settings.max_seconds + 60 + (settings.load.join_timeout_s if settings.load.distributed else 0)
    result = _run_worker(job, directory or lab_directory("split"), progress, timeout_s, settings.load)
    after = _scrape(endpoint.metrics_url)
    if result.get("event") == "error":
        measurement.problems.append(f"load generation failed: {result.get('message')}")
        return measurement
    counts = {k: int(v) for k, v in result["counts"].items()}
    measurement.counts = {v: counts.pop(v, 0) for v in required.shares} | counts
    measurement.decision = SplitDecision(
        Outcome(result["outcome"]), int(result["requests"]), result["decided_by"], result["reason"]
    )
    measurement.failures = int(result["failures"])
    measurement.first_error = str(result["first_error"])
    measurement.elapsed_s = float(result["elapsed_s"])
    measurement.problems += marker_mismatches(result.get("pairs") or {}, route)
    leaves = endpoint.leaf_services.get(route.source)
    named = {labels.get(v, v): s for v, s in (leaves or {}).items()}
    if before is not None and after is not None and named and not exported(after, named):
        measurement.notes.append(
            f"{route.source}: Traefik's metrics have no {METRIC} series for the leaf services "
            f"{sorted(s for services in named.values() for s in services)}: server-side counts are not available, "
            "the verdict rests on the client's counts"
        )
    elif before is not None and after is not None and named:
        server = variant_counts(before, after, named)
        measurement.server_counts = server
        measurement.server_decision = decide_counts(hypothesis, server)
    progress(f"split: {measurement.verdict()}")
    return measurement

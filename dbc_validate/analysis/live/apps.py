"""Application criteria from live answers: WordPress through Traefik (how an answer is judged), logs and metrics
visible for every application pod."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from dbc_validate.analysis.findings import Finding, finding
from dbc_validate.analysis.live.pods import Obj, is_ready, name_of, namespace_of
from dbc_validate.capabilities import HttpRoute

TRAEFIK_NO_ROUTE = "404 page not found"
WORDPRESS_DB_ERROR = "Error establishing a database connection"


def app_hosts(routes: Sequence[HttpRoute], app: str = "wordpress") -> list[str]:
    """Hosts of the routes that send traffic to a Service whose name mentions `app` (else every host)."""
    chosen = [h for r in routes for h in r.hosts if any(app in b.name for b in r.backends)]
    if not chosen:
        chosen = [h for r in routes for h in r.hosts]
    return sorted(set(chosen))


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    body: str  # the first few kilobytes
    location: str = ""


def route_findings(host: str, answer: HttpAnswer) -> list[Finding]:
    """Did the app answer through Traefik for `host`? A redirect counts (a fresh WordPress redirects to
    its installer, which it only does after reaching its database)."""
    subject = f"http://{host}/ via Traefik"
    if answer.status == 404 and TRAEFIK_NO_ROUTE in answer.body:
        return [finding("live.app", subject, "Traefik has no route for this Host header")]
    if answer.status in (502, 503, 504):
        return [finding("live.app", subject, f"HTTP {answer.status}: Traefik reached no healthy backend")]
    if WORDPRESS_DB_ERROR in answer.body:
        return [finding("live.app", subject, f"HTTP {answer.status}: WordPress cannot reach its database")]
    if not 200 <= answer.status < 400:
        return [finding("live.app", subject, f"HTTP {answer.status}")]
    return []


def visibility_findings(pods: Sequence[Obj], log_lines: Mapping[str, int], pod_metrics: Sequence[Obj]) -> list[Finding]:
    """Every ready application pod has log output and a metrics-API sample."""
    with_metrics = {(namespace_of(m), name_of(m)) for m in pod_metrics}
    findings = []
    for pod in pods:
        if not is_ready(pod):
            continue
        key = f"{namespace_of(pod)}/{name_of(pod)}"
        subject = f"Pod/{key}"
        if log_lines.get(key, 0) == 0:
            findings.append(finding("live.app", subject, "no log line from any container"))
        if (namespace_of(pod), name_of(pod)) not in with_metrics:
            findings.append(finding("live.app", subject, "no sample in the metrics API (metrics.k8s.io)"))
    return findings

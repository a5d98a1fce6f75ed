"""Application criteria from live answers: WordPress through Traefik, its database reachable, data on a
PVC surviving a pod restart, logs and metrics visible for every application pod."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from dbc_validate.analysis.findings import Finding, finding
from dbc_validate.analysis.live.pods import Obj, is_ready, name_of, namespace_of, workload_of
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


def database_findings(host: str, answer: HttpAnswer) -> list[Finding]:
    """WordPress proves its database connection by answering anything but its database error page."""
    subject = f"WordPress behind {host}"
    if WORDPRESS_DB_ERROR in answer.body:
        return [finding("live.app", subject, "reports 'Error establishing a database connection'")]
    if answer.status >= 500 or (answer.status == 404 and TRAEFIK_NO_ROUTE in answer.body):
        return [finding("live.app", subject, f"HTTP {answer.status}: cannot tell whether the database is reachable")]
    return []


@dataclass(frozen=True)
class PersistenceTarget:
    namespace: str
    pod: str
    container: str
    mount_path: str
    claim: str
    workload: str


def persistence_target(pods: Sequence[Obj], pvcs: Sequence[Obj]) -> PersistenceTarget | None:
    """A ready pod of a controller-managed workload with a writable mount backed by a Bound PVC.

    StatefulSet pods come first (their PVC follows the pod's identity across a restart), then pods of
    Deployments; bare pods are never chosen since deleting them would not bring them back.
    """
    bound = {(namespace_of(p), name_of(p)) for p in pvcs if (p.get("status") or {}).get("phase") == "Bound"}
    candidates: list[tuple[int, PersistenceTarget]] = []
    for pod in pods:
        owners = (pod.get("metadata") or {}).get("ownerReferences") or []
        if not owners or not is_ready(pod):
            continue
        rank = 0 if owners[0].get("kind") == "StatefulSet" else 1
        spec = pod.get("spec") or {}
        claims = {
            v["name"]: v["persistentVolumeClaim"]["claimName"]
            for v in spec.get("volumes") or []
            if v.get("persistentVolumeClaim")
        }
        for c in spec.get("containers") or []:
            for m in c.get("volumeMounts") or []:
                claim = claims.get(m.get("name"))
                if claim and not m.get("readOnly") and (namespace_of(pod), claim) in bound:
                    target = PersistenceTarget(
                        namespace_of(pod), name_of(pod), c["name"], m["mountPath"], claim, workload_of(pod)
                    )
                    candidates.append((rank, target))
    candidates.sort(key=lambda item: (item[0], item[1].namespace, item[1].pod))
    return candidates[0][1] if candidates else None


def replacement_pod(pods: Sequence[Obj], target: PersistenceTarget, old_uid: str) -> Obj | None:
    """The ready pod that replaced the deleted one: same workload, a different uid, mounting the claim."""
    for pod in pods:
        if namespace_of(pod) != target.namespace or workload_of(pod) != target.workload:
            continue
        if (pod.get("metadata") or {}).get("uid") == old_uid or not is_ready(pod):
            continue
        claims = {
            (v.get("persistentVolumeClaim") or {}).get("claimName")
            for v in (pod.get("spec") or {}).get("volumes") or []
        }
        if target.claim in claims:
            return pod
    return None


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

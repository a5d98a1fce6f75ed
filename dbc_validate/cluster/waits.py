"""Poll the cluster until what was applied is ready, printing progress; fail fast on states that never heal.
The loop and the clock live here; what "ready" and "failed" mean is decided in analysis.live.readiness."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from dbc_validate.analysis.findings import brief_report
from dbc_validate.analysis.live.pods import is_ready, name_of, namespace_of, pod_problems
from dbc_validate.analysis.live.readiness import WaitStatus, wait_status
from dbc_validate.cluster.kubectl import ClusterError, Kubectl
from dbc_validate.progress import Throttled

# Resource names kubectl understands for the kinds whose readiness a deploy waits for.
WAITED_RESOURCES = (
    "deployments.apps",
    "statefulsets.apps",
    "daemonsets.apps",
    "jobs.batch",
    "clusters.postgresql.cnpg.io",
    "sealedsecrets.bitnami.com",
)
_KIND_OF = {
    "deployments.apps": "Deployment",
    "statefulsets.apps": "StatefulSet",
    "daemonsets.apps": "DaemonSet",
    "jobs.batch": "Job",
    "clusters.postgresql.cnpg.io": "Cluster",
    "sealedsecrets.bitnami.com": "SealedSecret",
}


class WaitFailed(ClusterError):
    def __init__(self, message: str, status: WaitStatus) -> None:
        super().__init__(message)
        self.status = status


def snapshot(kubectl: Kubectl, namespaces: Sequence[str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Waited-for objects and pods of `namespaces`."""
    objects: list[dict[str, Any]] = []
    pods: list[dict[str, Any]] = []
    for ns in namespaces:
        for resource in WAITED_RESOURCES:
            for item in kubectl.items(resource, ns, missing_ok=True):
                item["kind"] = _KIND_OF[resource]
                objects.append(item)
        pods += kubectl.items("pods", ns)
    return objects, pods


def wait_ready(
    kubectl: Kubectl,
    namespaces: Sequence[str],
    expected: Sequence[str],
    progress: Callable[[str], None],
    timeout_s: float = 900.0,
    poll_s: float = 5.0,
    what: str = "objects",
) -> WaitStatus:
    """Wait until every waited-for object in `namespaces` (and every `expected` ref) is ready."""
    start = time.monotonic()
    not_ready_since: dict[str, float] = {}
    throttled = Throttled(progress, interval_s=15.0)
    while True:
        objects, pods = snapshot(kubectl, namespaces)
        now = time.monotonic()
        findings = []
        for pod in pods:
            key = f"{namespace_of(pod)}/{name_of(pod)}"
            if is_ready(pod):
                not_ready_since.pop(key, None)
                continue
            since = not_ready_since.setdefault(key, now)
            findings += pod_problems(pod, persisted_s=now - since)
        status = wait_status(objects, findings, expected)
        elapsed = now - start
        if status.failed:
            throttled.flush()
            raise WaitFailed(f"{what} cannot become ready:\n{brief_report(status.failures)}", status)
        if status.done:
            throttled.flush()
            progress(f"{what}: {status.ready_count}/{status.total} ready after {elapsed:.0f} s")
            return status
        if elapsed > timeout_s:
            throttled.flush()
            raise WaitFailed(
                f"{what} not ready after {timeout_s:.0f} s; still pending: " + "; ".join(status.pending[:8]), status
            )
        throttled(f"{what}: " + status.progress_line(elapsed))
        time.sleep(poll_s)

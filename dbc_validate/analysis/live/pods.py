"""What a live Pod's status means: readiness, container states, the workload it belongs to, crash loops."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dbc_validate.analysis.findings import Finding, finding

Obj = Mapping[str, Any]

# Waiting reasons that never resolve by themselves: fail the wait at once.
TERMINAL_WAITING = frozenset(
    {"CreateContainerConfigError", "CreateContainerError", "InvalidImageName", "ErrImageNeverPull"}
)
# Waiting reasons that may be transient (a pull retried, a container restarting): fail only if they persist.
BACKOFF_WAITING = frozenset({"CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull", "RunContainerError"})


def meta(obj: Obj) -> Mapping[str, Any]:
    return obj.get("metadata") or {}


def name_of(obj: Obj) -> str:
    return str(meta(obj).get("name", ""))


def namespace_of(obj: Obj) -> str:
    return str(meta(obj).get("namespace", ""))


def ref(obj: Obj) -> str:
    """ "Kind/namespace/name" (or "Kind/name" for cluster-scoped objects)."""
    kind = obj.get("kind", "Object")
    ns = namespace_of(obj)
    return f"{kind}/{ns}/{name_of(obj)}" if ns else f"{kind}/{name_of(obj)}"


def labels_of(obj: Obj) -> Mapping[str, str]:
    return meta(obj).get("labels") or {}


def condition(obj: Obj, kind: str) -> Mapping[str, Any] | None:
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if cond.get("type") == kind:
            return cond
    return None


def condition_true(obj: Obj, kind: str) -> bool:
    cond = condition(obj, kind)
    return cond is not None and str(cond.get("status")) == "True"


@dataclass(frozen=True)
class ContainerState:
    """One container's status, flattened from containerStatuses / initContainerStatuses."""

    name: str
    role: str  # "container" | "init" | "ephemeral"
    ready: bool
    running: bool
    restarts: int
    waiting_reason: str | None
    terminated_reason: str | None
    exit_code: int | None
    last_terminated_reason: str | None
    last_exit_code: int | None


def _state(status: Mapping[str, Any], role: str) -> ContainerState:
    state = status.get("state") or {}
    last = (status.get("lastState") or {}).get("terminated") or {}
    waiting = state.get("waiting")
    terminated = state.get("terminated")
    return ContainerState(
        name=str(status.get("name", "")),
        role=role,
        ready=bool(status.get("ready")),
        running="running" in state,
        restarts=int(status.get("restartCount") or 0),
        waiting_reason=(waiting or {}).get("reason") if waiting is not None else None,
        terminated_reason=(terminated or {}).get("reason") if terminated is not None else None,
        exit_code=(terminated or {}).get("exitCode") if terminated is not None else None,
        last_terminated_reason=last.get("reason"),
        last_exit_code=last.get("exitCode"),
    )


def container_states(pod: Obj) -> list[ContainerState]:
    status = pod.get("status") or {}
    states = [_state(s, "init") for s in status.get("initContainerStatuses") or []]
    states += [_state(s, "container") for s in status.get("containerStatuses") or []]
    states += [_state(s, "ephemeral") for s in status.get("ephemeralContainerStatuses") or []]
    return states


def phase(pod: Obj) -> str:
    return str((pod.get("status") or {}).get("phase", "Unknown"))


def is_ready(pod: Obj) -> bool:
    return phase(pod) == "Running" and condition_true(pod, "Ready")


def is_finished(pod: Obj) -> bool:
    return phase(pod) in ("Succeeded", "Failed")


def pod_ip(pod: Obj) -> str | None:
    return (pod.get("status") or {}).get("podIP") or None


def workload_of(pod: Obj) -> str:
    """The pod's workload identity "namespace/name": its owning object, following ReplicaSet -> Deployment.

    CloudNativePG instance pods belong to their Cluster (label cnpg.io/cluster); a Job created by a
    CronJob is reported as the Job (its pods are transient). A bare pod is its own workload.
    """
    ns = namespace_of(pod)
    labels = labels_of(pod)
    if "cnpg.io/cluster" in labels and labels.get("cnpg.io/podRole", "instance") == "instance":
        return f"{ns}/{labels['cnpg.io/cluster']}"
    owners = [o for o in meta(pod).get("ownerReferences") or [] if o.get("controller", True)]
    if not owners:
        return f"{ns}/{name_of(pod)}"
    owner = owners[0]
    owner_name = str(owner.get("name", ""))
    template_hash = labels.get("pod-template-hash")
    if owner.get("kind") == "ReplicaSet" and template_hash and owner_name.endswith("-" + template_hash):
        # A Deployment names its ReplicaSets "<deployment>-<pod-template-hash>".
        return f"{ns}/{owner_name[: -len(template_hash) - 1]}"
    return f"{ns}/{owner_name}"


def pods_by_workload(pods: Iterable[Obj]) -> dict[str, list[Obj]]:
    grouped: dict[str, list[Obj]] = {}
    for pod in pods:
        grouped.setdefault(workload_of(pod), []).append(pod)
    return grouped


def pod_problems(pod: Obj, persisted_s: float, grace_s: float = 120.0) -> list[Finding]:
    """Why this pod will not become ready by waiting longer (empty when waiting may still help).

    `persisted_s` is how long the caller has seen this pod not ready; back-off states only count as
    failures once they persist longer than `grace_s` (an image pull or a first crash can recover).
    """
    if is_finished(pod) and phase(pod) == "Succeeded":
        return []
    findings: list[Finding] = []
    subject = f"Pod/{namespace_of(pod)}/{name_of(pod)}"
    scheduled = condition(pod, "PodScheduled")
    if scheduled is not None and str(scheduled.get("status")) == "False" and persisted_s > grace_s:
        findings.append(
            finding("live.pod", subject, f"not scheduled: {scheduled.get('message') or scheduled.get('reason')}")
        )
    for c in container_states(pod):
        where = f"{subject} ({c.role} {c.name})"
        if c.waiting_reason in TERMINAL_WAITING:
            findings.append(finding("live.pod", where, f"waiting: {c.waiting_reason}"))
        elif c.waiting_reason in BACKOFF_WAITING and persisted_s > grace_s:
            findings.append(finding("live.pod", where, f"waiting: {c.waiting_reason} for more than {grace_s:.0f} s"))
    if phase(pod) == "Failed":
        findings.append(
            finding("live.pod", subject, f"pod failed: {(pod.get('status') or {}).get('reason') or 'see its events'}")
        )
    return findings


def restart_counts(pods: Iterable[Obj]) -> dict[str, int]:
    """Restart count per "namespace/pod/container" (init containers included)."""
    return {
        f"{namespace_of(p)}/{name_of(p)}/{c.name}": c.restarts
        for p in pods
        for c in container_states(p)
        if c.role != "ephemeral"
    }


def crashloop_findings(pods: Sequence[Obj], baseline: Mapping[str, int] | None = None) -> list[Finding]:
    """Containers crash-looping now, or restarted since `baseline` (restart counts taken earlier).

    Without a baseline every restart with a non-zero last exit counts, because nothing tells a restart
    during bootstrap from one during the run.
    """
    findings: list[Finding] = []
    for pod in pods:
        if is_finished(pod):
            continue
        for c in container_states(pod):
            if c.role == "ephemeral":
                continue
            key = f"{namespace_of(pod)}/{name_of(pod)}/{c.name}"
            subject = f"Pod/{namespace_of(pod)}/{name_of(pod)} ({c.role} {c.name})"
            if c.waiting_reason == "CrashLoopBackOff":
                findings.append(finding("live.pod", subject, f"CrashLoopBackOff after {c.restarts} restarts"))
                continue
            before = None if baseline is None else baseline.get(key, 0)
            if before is not None and c.restarts > before:
                last = c.last_terminated_reason or "unknown reason"
                findings.append(
                    finding(
                        "live.pod", subject, f"restarted {c.restarts - before} time(s) during the run (last: {last})"
                    )
                )
            elif before is None and c.restarts > 0 and (c.last_exit_code or 0) != 0:
                findings.append(
                    finding("live.pod", subject, f"{c.restarts} restart(s), last exit code {c.last_exit_code}")
                )
    return findings


@dataclass(frozen=True)
class ContainerHealth:
    """One container as a soak watches it: up (its pod Ready and it ready), restartCount, crash-looping."""

    name: str  # "namespace/pod/container"
    up: bool
    restarts: int
    crashlooping: bool
    detail: str = ""


def container_health(pods: Iterable[Obj]) -> list[ContainerHealth]:
    """A reading per regular container of every pod still meant to run (finished Job pods are left out); a pod
    without container statuses yet (pending, unschedulable) is one reading, down."""
    readings: list[ContainerHealth] = []
    for pod in pods:
        if is_finished(pod):
            continue
        where = f"{namespace_of(pod)}/{name_of(pod)}"
        states = [c for c in container_states(pod) if c.role == "container"]
        if not states:
            scheduled = condition(pod, "PodScheduled") or {}
            why = scheduled.get("message") or scheduled.get("reason") or "no container status yet"
            readings.append(ContainerHealth(where, False, 0, False, f"{phase(pod)}: {why}"))
            continue
        pod_ready = is_ready(pod)
        for c in states:
            detail = c.waiting_reason or (f"last exit: {c.last_terminated_reason}" if c.last_terminated_reason else "")
            if not pod_ready and not detail:
                detail = f"pod {phase(pod)}, not Ready"
            readings.append(
                ContainerHealth(
                    f"{where}/{c.name}",
                    up=pod_ready and c.ready,
                    restarts=c.restarts,
                    crashlooping=c.waiting_reason == "CrashLoopBackOff",
                    detail=detail,
                )
            )
    return readings

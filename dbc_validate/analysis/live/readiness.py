"""When a deployed object is ready, failed for good, or still worth waiting for; and the wait's verdict."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from dbc_validate.analysis.findings import Finding, finding
from dbc_validate.analysis.live.pods import Obj, condition, condition_true, ref

CNPG_HEALTHY_PHASE = "Cluster in healthy state"


@dataclass(frozen=True)
class Readiness:
    ready: bool
    detail: str
    failed: bool = False  # will not become ready by waiting


def _generation_seen(obj: Obj) -> bool:
    status = obj.get("status") or {}
    generation = (obj.get("metadata") or {}).get("generation")
    observed = status.get("observedGeneration")
    return generation is None or observed is None or int(observed) >= int(generation)


def deployment_readiness(obj: Obj) -> Readiness:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    want = int(spec.get("replicas", 1))
    updated, available = int(status.get("updatedReplicas") or 0), int(status.get("availableReplicas") or 0)
    progressing = condition(obj, "Progressing")
    if progressing is not None and progressing.get("reason") == "ProgressDeadlineExceeded":
        return Readiness(False, "rollout exceeded its progress deadline", failed=True)
    ready = _generation_seen(obj) and updated >= want and available >= want
    return Readiness(ready, f"{available}/{want} available, {updated} updated")


def statefulset_readiness(obj: Obj) -> Readiness:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    want = int(spec.get("replicas", 1))
    ready_n = int(status.get("readyReplicas") or 0)
    current, update = status.get("currentRevision"), status.get("updateRevision")
    rolled = update is None or current == update or int(status.get("updatedReplicas") or 0) >= want
    ready = _generation_seen(obj) and ready_n >= want and rolled
    return Readiness(ready, f"{ready_n}/{want} ready" + ("" if rolled else ", rollout in progress"))


def daemonset_readiness(obj: Obj) -> Readiness:
    status = obj.get("status") or {}
    want = int(status.get("desiredNumberScheduled") or 0)
    ready_n = int(status.get("numberReady") or 0)
    return Readiness(_generation_seen(obj) and ready_n >= want, f"{ready_n}/{want} ready")


def job_readiness(obj: Obj) -> Readiness:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    if condition_true(obj, "Failed"):
        cond = condition(obj, "Failed") or {}
        return Readiness(False, f"job failed: {cond.get('reason')}: {cond.get('message', '')}".strip(), failed=True)
    want = int(spec.get("completions", 1) or 1)
    done = int(status.get("succeeded") or 0)
    return Readiness(condition_true(obj, "Complete") or done >= want, f"{done}/{want} completions")


def cnpg_cluster_readiness(obj: Obj) -> Readiness:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    want = int(spec.get("instances", 1))
    ready_n = int(status.get("readyInstances") or 0)
    phase = str(status.get("phase", "no phase yet"))
    ready = phase == CNPG_HEALTHY_PHASE and ready_n >= want
    return Readiness(ready, f"{ready_n}/{want} instances ready, phase {phase!r}")


def sealed_secret_readiness(obj: Obj) -> Readiness:
    cond = condition(obj, "Synced")
    if cond is None:
        return Readiness(False, "not unsealed yet (no Synced condition)")
    if str(cond.get("status")) == "True":
        return Readiness(True, "Synced")
    # The controller retries, but a wrong key or a scope mismatch never heals: report it as failed.
    return Readiness(False, f"Synced=False: {cond.get('message') or cond.get('reason')}", failed=True)


def pvc_readiness(obj: Obj) -> Readiness:
    phase = str((obj.get("status") or {}).get("phase", "Pending"))
    if phase == "Lost":
        return Readiness(False, "PVC lost its volume", failed=True)
    return Readiness(phase == "Bound", phase)


def crd_readiness(obj: Obj) -> Readiness:
    return Readiness(condition_true(obj, "Established"), "established" if condition_true(obj, "Established") else "")


READINESS = {
    "Deployment": deployment_readiness,
    "StatefulSet": statefulset_readiness,
    "DaemonSet": daemonset_readiness,
    "Job": job_readiness,
    "Cluster": cnpg_cluster_readiness,  # postgresql.cnpg.io
    "SealedSecret": sealed_secret_readiness,
    "CustomResourceDefinition": crd_readiness,
}
# Kinds a deploy waits for, in the order their readiness is reported.
WAITED_KINDS = tuple(READINESS)


def readiness(obj: Obj) -> Readiness | None:
    """Readiness of a kind the deploy waits for, None for kinds that are ready once applied."""
    kind = obj.get("kind")
    if kind == "Cluster" and not str(obj.get("apiVersion", "")).startswith("postgresql.cnpg.io/"):
        return None
    check = READINESS.get(str(kind))
    return check(obj) if check else None


@dataclass(frozen=True)
class WaitStatus:
    done: bool
    failures: tuple[Finding, ...]
    pending: tuple[str, ...]  # "Deployment/prod/wordpress: 0/1 available"
    ready_count: int
    total: int
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return bool(self.failures)

    def progress_line(self, elapsed_s: float) -> str:
        head = f"waiting for readiness: {self.ready_count}/{self.total} ready after {elapsed_s:.0f} s"
        if self.pending:
            head += "; pending: " + ", ".join(self.pending[:4]) + (" ..." if len(self.pending) > 4 else "")
        return head


def wait_status(
    objects: Sequence[Obj], pod_findings: Sequence[Finding] = (), expected: Sequence[str] = ()
) -> WaitStatus:
    """Fold the readiness of every waited-for object (and problems of their pods) into one status.

    `expected` lists refs ("Kind/ns/name") that must exist; one not found yet is pending, not ready.
    """
    failures: list[Finding] = list(pod_findings)
    pending: list[str] = []
    ready_count = 0
    total = 0
    seen = {ref(o) for o in objects}
    for obj in objects:
        r = readiness(obj)
        if r is None:
            continue
        total += 1
        if r.failed:
            failures.append(finding("live.not-ready", ref(obj), r.detail))
        elif r.ready:
            ready_count += 1
        else:
            pending.append(f"{ref(obj)}: {r.detail}")
    for missing in (e for e in expected if e not in seen):
        total += 1
        pending.append(f"{missing}: not found yet")
    return WaitStatus(
        done=not pending and not failures,
        failures=tuple(failures),
        pending=tuple(pending),
        ready_count=ready_count,
        total=total,
    )


def by_ref(objects: Sequence[Obj]) -> Mapping[str, Obj]:
    return {ref(o): o for o in objects}

"""Infrastructure criteria from live objects: nodes Ready, control-plane quorum, PVCs bound by a class."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from dbc_validate.analysis.findings import Finding, finding
from dbc_validate.analysis.live.pods import Obj, condition, is_ready, labels_of, name_of, namespace_of

CONTROL_PLANE_LABELS = ("node-role.kubernetes.io/control-plane", "node-role.kubernetes.io/master")
ETCD_ROLE_LABEL = "node-role.kubernetes.io/etcd"  # k3s servers running embedded etcd
DEFAULT_CLASS_ANNOTATION = "storageclass.kubernetes.io/is-default-class"


@dataclass(frozen=True)
class NodeReport:
    total: int
    ready: int
    control_plane: tuple[str, ...]
    findings: tuple[Finding, ...]


def is_control_plane(node: Obj) -> bool:
    labels = labels_of(node)
    return any(label in labels for label in CONTROL_PLANE_LABELS)


def node_report(nodes: Sequence[Obj]) -> NodeReport:
    """Every node must be Ready, schedulable, and free of memory/disk/PID pressure."""
    findings: list[Finding] = []
    ready = 0
    for node in nodes:
        subject = f"Node/{name_of(node)}"
        cond = condition(node, "Ready")
        if cond is not None and str(cond.get("status")) == "True":
            ready += 1
        else:
            why = "no Ready condition" if cond is None else f"Ready={cond.get('status')} ({cond.get('reason')})"
            findings.append(finding("live.node", subject, why))
        for pressure in ("MemoryPressure", "DiskPressure", "PIDPressure"):
            p = condition(node, pressure)
            if p is not None and str(p.get("status")) == "True":
                findings.append(finding("live.node", subject, f"{pressure}: {p.get('message') or p.get('reason')}"))
        if (node.get("spec") or {}).get("unschedulable"):
            findings.append(finding("live.node", subject, "cordoned (spec.unschedulable)"))
    if not nodes:
        findings.append(finding("live.node", "cluster", "the API lists no nodes"))
    control_plane = tuple(name_of(n) for n in nodes if is_control_plane(n))
    return NodeReport(len(nodes), ready, control_plane, tuple(findings))


@dataclass(frozen=True)
class QuorumVerdict:
    applies: bool  # False on a single server: there is no quorum to keep
    members: int
    healthy: int
    reason: str

    @property
    def has_quorum(self) -> bool:
        return self.healthy > self.members // 2


def quorum_verdict(nodes: Sequence[Obj], etcd_pods: Sequence[Obj], readyz: str | None) -> QuorumVerdict:
    """Whether the etcd members keep a majority.

    Members are etcd static pods (kubeadm/kind, label component=etcd) when there are any, else the
    k3s servers labelled with the etcd role, else the control-plane nodes. A member is healthy when its
    pod (or node) is Ready; the API server's `/readyz?verbose` line `[+]etcd ok` is required as well.
    `readyz` None means the call failed: etcd's health is unknown, and unknown is never healthy.
    """
    if etcd_pods:
        members, healthy = len(etcd_pods), sum(1 for p in etcd_pods if is_ready(p))
        source = "etcd pods"
    else:
        servers = [n for n in nodes if ETCD_ROLE_LABEL in labels_of(n)] or [n for n in nodes if is_control_plane(n)]
        members = len(servers)
        healthy = sum(1 for n in servers if str((condition(n, "Ready") or {}).get("status")) == "True")
        source = "etcd-role nodes" if any(ETCD_ROLE_LABEL in labels_of(n) for n in nodes) else "control-plane nodes"
    if members <= 1:
        return QuorumVerdict(
            False, members, healthy, f"{members} control-plane member ({source}): a single server has no quorum"
        )
    etcd_ok = readyz is not None and "[+]etcd ok" in readyz
    if not etcd_ok:
        healthy = min(healthy, members // 2)
    unknown = "/readyz could not be read: etcd health unknown"
    problem = unknown if readyz is None else "/readyz does not report [+]etcd ok"
    reason = f"{healthy}/{members} {source} healthy" + ("" if etcd_ok else f"; {problem}")
    return QuorumVerdict(True, members, healthy, reason)


def default_storage_class(classes: Sequence[Obj]) -> str | None:
    for sc in classes:
        annotations = (sc.get("metadata") or {}).get("annotations") or {}
        if str(annotations.get(DEFAULT_CLASS_ANNOTATION, "")).lower() == "true":
            return name_of(sc)
    return None


def pvc_findings(pvcs: Sequence[Obj], classes: Sequence[Obj], expected_class: str | None) -> list[Finding]:
    """Each PVC Bound to a volume, through a class that exists (and is `expected_class` when given)."""
    known = {name_of(sc): sc for sc in classes}
    default = default_storage_class(classes)
    findings: list[Finding] = []
    for pvc in pvcs:
        subject = f"PersistentVolumeClaim/{namespace_of(pvc)}/{name_of(pvc)}"
        spec, status = pvc.get("spec") or {}, pvc.get("status") or {}
        cls = spec.get("storageClassName") or default
        if cls is None:
            findings.append(
                finding("live.storage", subject, "no storageClassName and the cluster has no default class")
            )
        elif cls not in known:
            findings.append(finding("live.storage", subject, f"storage class {cls!r} does not exist"))
        elif expected_class and cls != expected_class:
            findings.append(finding("live.storage", subject, f"provisioned by {cls!r}, expected {expected_class!r}"))
        if status.get("phase") != "Bound":
            findings.append(finding("live.storage", subject, f"phase {status.get('phase', 'Pending')}, not Bound"))
        elif not spec.get("volumeName"):
            findings.append(finding("live.storage", subject, "Bound but names no volume"))
    return findings


def pvc_summary(pvcs: Sequence[Obj]) -> Mapping[str, int]:
    phases: dict[str, int] = {}
    for pvc in pvcs:
        phase = str((pvc.get("status") or {}).get("phase", "Pending"))
        phases[phase] = phases.get(phase, 0) + 1
    return phases

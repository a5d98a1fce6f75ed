"""The order a manifest set is applied in: phases that respect dependencies, and what cannot be applied
because the API group it needs is not served (for example ServiceMonitors without the Prometheus Operator)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from dbc_validate.manifests.model import K8sObject

# Groups every conformant cluster serves; anything else comes from a CRD an add-on installs.
BUILTIN_GROUPS = frozenset(
    {
        "",
        "apps",
        "batch",
        "policy",
        "autoscaling",
        "rbac.authorization.k8s.io",
        "networking.k8s.io",
        "storage.k8s.io",
        "scheduling.k8s.io",
        "apiextensions.k8s.io",
        "admissionregistration.k8s.io",
        "coordination.k8s.io",
        "discovery.k8s.io",
        "node.k8s.io",
        "certificates.k8s.io",
    }
)

# Phase name, kinds in apply order, why the phase comes where it does.
PHASES: tuple[tuple[str, tuple[str, ...], str], ...] = (
    (
        "foundation",
        (
            "Namespace",
            "CustomResourceDefinition",
            "PriorityClass",
            "StorageClass",
            "ClusterRole",
            "ClusterRoleBinding",
            "ServiceAccount",
            "Role",
            "RoleBinding",
            "LimitRange",
            "ResourceQuota",
            "NetworkPolicy",
            "ConfigMap",
            "Secret",
            "SealedSecret",
            "PersistentVolumeClaim",
            "Service",
            "PodDisruptionBudget",
            "Middleware",
            "ServersTransport",
            "TLSOption",
        ),
        "namespaces, identities and policies exist before any pod starts, so no pod runs unprotected and "
        "every secret a pod mounts is there",
    ),
    (
        "databases",
        ("Cluster", "Pooler", "ScheduledBackup", "StatefulSet"),
        "the databases come up before the applications that connect to them",
    ),
    (
        "applications",
        (
            "Deployment",
            "DaemonSet",
            "Job",
            "CronJob",
            "HorizontalPodAutoscaler",
            "TraefikService",
            "IngressRoute",
            "Ingress",
        ),
        "applications, their bootstrap jobs and their routes, once their databases are ready",
    ),
    (
        "monitoring",
        ("ServiceMonitor", "PodMonitor", "PrometheusRule"),
        "scrape configuration, only where the Prometheus Operator serves its CRDs",
    ),
)
_RANK = {
    kind: (phase_index, kind_index)
    for phase_index, (_, kinds, _) in enumerate(PHASES)
    for kind_index, kind in enumerate(kinds)
}
_APPLICATIONS = 2


@dataclass(frozen=True)
class Phase:
    name: str
    why: str
    objects: tuple[K8sObject, ...]


@dataclass(frozen=True)
class ApplyPlan:
    phases: tuple[Phase, ...]
    skipped: tuple[tuple[K8sObject, str], ...]  # object, why it is not applied

    @property
    def ordered(self) -> list[K8sObject]:
        return [o for p in self.phases for o in p.objects]


def _rank(obj: K8sObject) -> tuple[int, int]:
    if obj.kind == "Cluster" and obj.group != "postgresql.cnpg.io":
        return (_APPLICATIONS, 99)
    return _RANK.get(obj.kind, (_APPLICATIONS, 99))


def apply_plan(objects: Sequence[K8sObject], served_groups: Iterable[str]) -> ApplyPlan:
    """Objects grouped into phases (stable within a kind), and those whose API group is not served."""
    served = set(BUILTIN_GROUPS) | set(served_groups)
    skipped = tuple(
        (o, f"API group {o.group!r} is not served on this cluster (its add-on is not installed)")
        for o in objects
        if o.group not in served
    )
    skipped_ids = {id(o) for o, _ in skipped}
    kept = [o for o in objects if id(o) not in skipped_ids]
    order = sorted(range(len(kept)), key=lambda i: (_rank(kept[i]), i))
    phases = []
    for index, (name, _, why) in enumerate(PHASES):
        members = tuple(kept[i] for i in order if _rank(kept[i])[0] == index)
        if members:
            phases.append(Phase(name, why, members))
    return ApplyPlan(tuple(phases), skipped)

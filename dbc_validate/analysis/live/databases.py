"""Database criteria from live objects: a CloudNativePG Cluster healthy, a MySQL StatefulSet healthy."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dbc_validate.analysis.findings import Finding, finding
from dbc_validate.analysis.live.pods import Obj, crashloop_findings, is_ready, labels_of, name_of, namespace_of
from dbc_validate.analysis.live.readiness import CNPG_HEALTHY_PHASE, statefulset_readiness

MYSQL_IMAGE_HINTS = ("mysql", "mariadb", "percona")


@dataclass(frozen=True)
class CnpgHealth:
    cluster: str
    instances: int
    ready_instances: int
    primary: str | None
    findings: tuple[Finding, ...]

    @property
    def healthy(self) -> bool:
        return not self.findings


def cnpg_health(cluster: Obj, pods: Sequence[Obj], min_instances: int) -> CnpgHealth:
    """A CNPG Cluster is healthy when its phase says so, every instance is ready, there is exactly one
    primary pod and it is the `currentPrimary` the operator targets, and it has at least `min_instances`."""
    name, ns = name_of(cluster), namespace_of(cluster)
    subject = f"Cluster/{ns}/{name}"
    spec, status = cluster.get("spec") or {}, cluster.get("status") or {}
    want = int(spec.get("instances", 1))
    ready_n = int(status.get("readyInstances") or 0)
    findings: list[Finding] = []
    if want < min_instances:
        findings.append(
            finding("live.database", subject, f"declares {want} instances, Gate 1 needs at least {min_instances}")
        )
    phase = status.get("phase")
    if phase != CNPG_HEALTHY_PHASE:
        findings.append(finding("live.database", subject, f"phase {phase!r}, not {CNPG_HEALTHY_PHASE!r}"))
    if ready_n < want:
        findings.append(finding("live.database", subject, f"{ready_n}/{want} instances ready"))
    current, target = status.get("currentPrimary"), status.get("targetPrimary")
    if current and target and current != target:
        findings.append(
            finding("live.database", subject, f"primary is moving: currentPrimary {current}, targetPrimary {target}")
        )
    mine = [p for p in pods if namespace_of(p) == ns and labels_of(p).get("cnpg.io/cluster") == name]
    instance_pods = [p for p in mine if labels_of(p).get("cnpg.io/podRole", "instance") == "instance"]
    primaries = [p for p in instance_pods if labels_of(p).get("cnpg.io/instanceRole") == "primary"]
    if len(primaries) != 1:
        findings.append(
            finding(
                "live.database", subject, f"{len(primaries)} pods labelled cnpg.io/instanceRole=primary, expected 1"
            )
        )
    elif current and name_of(primaries[0]) != current:
        findings.append(
            finding("live.database", subject, f"primary pod {name_of(primaries[0])} is not currentPrimary {current}")
        )
    for pod in instance_pods:
        if not is_ready(pod):
            findings.append(finding("live.database", f"Pod/{ns}/{name_of(pod)}", "instance pod not Ready"))
    findings.extend(crashloop_findings(instance_pods, baseline=None))
    return CnpgHealth(f"{ns}/{name}", want, ready_n, current, tuple(findings))


def is_mysql_statefulset(sts: Obj) -> bool:
    containers = ((((sts.get("spec") or {}).get("template") or {}).get("spec") or {}).get("containers")) or []
    for c in containers:
        image = str(c.get("image", "")).rsplit("/", 1)[-1].split(":", 1)[0].split("@", 1)[0].lower()
        if any(image.startswith(hint) for hint in MYSQL_IMAGE_HINTS):
            return True
    return False


def statefulset_pods(sts: Obj, pods: Sequence[Obj]) -> list[Obj]:
    """Pods owned by this StatefulSet (ownerReference), in ordinal order."""
    ns, name = namespace_of(sts), name_of(sts)
    owned = [
        p
        for p in pods
        if namespace_of(p) == ns
        and any(
            o.get("kind") == "StatefulSet" and o.get("name") == name for o in p["metadata"].get("ownerReferences") or []
        )
    ]
    return sorted(owned, key=name_of)


def statefulset_health(sts: Obj, pods: Sequence[Obj], baseline: dict[str, int] | None = None) -> list[Finding]:
    """Findings that keep a StatefulSet from being healthy: replicas not ready, rollout stuck, PVC
    templates absent (a database without persistent storage), pods not Ready or crash-looping."""
    subject = f"StatefulSet/{namespace_of(sts)}/{name_of(sts)}"
    findings: list[Finding] = []
    r = statefulset_readiness(sts)
    if not r.ready:
        findings.append(finding("live.database", subject, r.detail))
    if not (sts.get("spec") or {}).get("volumeClaimTemplates"):
        findings.append(
            finding("live.database", subject, "no volumeClaimTemplates: the data does not live on a PersistentVolume")
        )
    own = statefulset_pods(sts, pods)
    want = int((sts.get("spec") or {}).get("replicas", 1))
    if len(own) < want:
        findings.append(finding("live.database", subject, f"{len(own)} pods found, {want} declared"))
    for pod in own:
        if not is_ready(pod):
            findings.append(finding("live.database", f"Pod/{namespace_of(pod)}/{name_of(pod)}", "not Ready"))
    findings.extend(crashloop_findings(own, baseline))
    return findings

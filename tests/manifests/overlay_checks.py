"""Small readers the manifest-set tests share: where things are, pod specs, the bootstrap SQL chain, fixtures."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

from dbc_validate.manifests.model import K8sObject, ManifestSet

ROOT = Path(__file__).resolve().parents[2]
MANIFESTS = ROOT / "manifests"
OVERLAYS = ("kind", "k3d", "prod")
APP_NAMESPACES = ("prod", "stage", "infra")
BOOTSTRAP_SQL = MANIFESTS / "base" / "databases" / "discourse-bootstrap.sql"

_POD_TEMPLATE_PATHS: Mapping[str, tuple[str, ...]] = {
    "Pod": ("spec",),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}


def load_fixture(name: str) -> Any:
    return yaml.safe_load((ROOT / "fixtures" / name).read_text(encoding="utf-8"))


def pod_specs(manifests: ManifestSet) -> Iterator[tuple[K8sObject, Mapping[str, Any]]]:
    """(workload, pod spec) for every object that carries a pod template."""
    for obj in manifests.of_kind(*_POD_TEMPLATE_PATHS):
        spec: Any = obj.body
        for key in _POD_TEMPLATE_PATHS[obj.kind]:
            spec = (spec or {}).get(key)
        yield obj, spec or {}


def containers_of(pod_spec: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [*(pod_spec.get("initContainers") or []), *(pod_spec.get("containers") or [])]


def hardening_problems(pod_spec: Mapping[str, Any]) -> list[str]:
    """What a pod spec lacks of: non-root, no privilege escalation, capabilities dropped, seccomp RuntimeDefault."""
    pod_sc = pod_spec.get("securityContext") or {}
    problems = []
    for container in containers_of(pod_spec):
        sc = container.get("securityContext") or {}
        name = container.get("name", "?")
        if sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot")) is not True:
            problems.append(f"{name}: runAsNonRoot is not true")
        if sc.get("runAsUser", pod_sc.get("runAsUser")) == 0:
            problems.append(f"{name}: runAsUser 0")
        if sc.get("allowPrivilegeEscalation") is not False:
            problems.append(f"{name}: allowPrivilegeEscalation is not false")
        if "ALL" not in ((sc.get("capabilities") or {}).get("drop") or []):
            problems.append(f"{name}: capabilities do not drop ALL")
        seccomp = (sc.get("seccompProfile") or pod_sc.get("seccompProfile") or {}).get("type")
        if seccomp not in ("RuntimeDefault", "Localhost"):
            problems.append(f"{name}: no RuntimeDefault seccomp profile")
    return problems


def bootstrap_sql(manifests: ManifestSet, cluster: str = "postgres-cluster", namespace: str = "infra") -> str:
    """The SQL the CNPG Cluster runs after initdb: Cluster -> postInitApplicationSQLRefs -> ConfigMap data."""
    obj = manifests.get("Cluster", cluster, namespace)
    if obj is None:
        raise LookupError(f"no Cluster {namespace}/{cluster}")
    refs = ((obj.spec.get("bootstrap") or {}).get("initdb") or {}).get("postInitApplicationSQLRefs") or {}
    config_refs = refs.get("configMapRefs") or []
    if len(config_refs) != 1:
        raise LookupError(f"expected one configMapRef, found {len(config_refs)}")
    name, key = config_refs[0].get("name"), config_refs[0].get("key")
    config_map = manifests.get("ConfigMap", str(name), namespace)
    if config_map is None:
        raise LookupError(f"ConfigMap {namespace}/{name} is not in the set")
    data = config_map.body.get("data") or {}
    if key not in data:
        raise LookupError(f"ConfigMap {namespace}/{name} has no key {key!r}")
    return str(data[key])


def secret_refs(manifests: ManifestSet) -> set[tuple[str, str, str | None]]:
    """(namespace, secret, key) referenced by workloads and by custom resources; key None for envFrom."""
    refs: set[tuple[str, str, str | None]] = set()
    for obj, spec in pod_specs(manifests):
        for container in containers_of(spec):
            for env in container.get("env") or []:
                ref = (env.get("valueFrom") or {}).get("secretKeyRef")
                if ref:
                    refs.add((str(obj.namespace), ref["name"], ref["key"]))
            for source in container.get("envFrom") or []:
                if source.get("secretRef"):
                    refs.add((str(obj.namespace), source["secretRef"]["name"], None))
    for store in manifests.of_kind("ObjectStore"):
        for ref in ((store.spec.get("configuration") or {}).get("s3Credentials") or {}).values():
            refs.add((str(store.namespace), ref["name"], ref["key"]))
    return refs

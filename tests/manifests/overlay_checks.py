"""Small readers the manifest-set tests share: where things are, pod specs, the bootstrap SQL chain, fixtures."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import yaml
from helpers import ROOT

from dbc_validate.manifests.model import K8sObject, ManifestSet
from dbc_validate.resources import read_text

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
    return yaml.safe_load(read_text(name))  # runtime configuration shipped as package data


def pod_specs(manifests: ManifestSet) -> Iterator[tuple[K8sObject, Mapping[str, Any]]]:
    """(workload, pod spec) for every object that carries a pod template."""
    for obj in manifests.of_kind(*_POD_TEMPLATE_PATHS):
        spec: Any = obj.body
        for key in _POD_TEMPLATE_PATHS[obj.kind]:
            spec = (spec or {}).get(key)
        yield obj, spec or {}


def containers_of(pod_spec: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [*(pod_spec.get("initContainers") or []), *(pod_spec.get("containers") or [])]


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

"""Small builders of Kubernetes objects (as dicts) for the analysis tests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from helpers import ROOT

from dbc_validate.manifests.model import ManifestSet, to_object

BAD = ROOT / "fixtures" / "analysis" / "bad"
GOOD = ROOT / "fixtures" / "analysis" / "good"


def manifest_set(*docs: Mapping[str, Any]) -> ManifestSet:
    """A ManifestSet of the given objects, as if rendered from YAML."""
    return ManifestSet(Path("test"), "yaml", tuple(to_object(d, f"doc {i}") for i, d in enumerate(docs)))


def namespace(name: str, **labels: str) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if labels:
        meta["labels"] = dict(labels)
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": meta}


def ports(*specs: tuple[int, str] | tuple[int, str, str] | int) -> list[dict[str, Any]]:
    """ports(8080, (53, "UDP"), (8080, "TCP", "http")) -> container ports."""
    result = []
    for spec in specs:
        number, protocol, name = (spec, "TCP", None) if isinstance(spec, int) else (*spec, None)[:3]
        port: dict[str, Any] = {"containerPort": number, "protocol": protocol}
        if name:
            port["name"] = name
        result.append(port)
    return result


def deployment(
    ns: str, name: str, labels: Mapping[str, str] | None = None, container_ports: Sequence[Any] = (), **spec: Any
) -> dict[str, Any]:
    labels = dict(labels or {"app": name})
    pod_spec = {"containers": [{"name": name, "image": "example/app:1.0", "ports": ports(*container_ports)}], **spec}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"selector": {"matchLabels": labels}, "template": {"metadata": {"labels": labels}, "spec": pod_spec}},
    }


def netpol(ns: str, name: str, spec: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": ns},
        "spec": dict(spec),
    }


def cnpg_cluster(ns: str, name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "postgresql.cnpg.io/v1",
        "kind": "Cluster",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"instances": 3, **spec},
    }

"""Typed view of rendered Kubernetes objects: identity, labels and the raw body, plus the set they form."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dbc_validate.errors import ManifestError
from dbc_validate.manifests.render import Document, Rendered, render

# Kinds without a namespace; everything else defaults to namespace "default".
CLUSTER_SCOPED_KINDS = frozenset(
    {
        "Namespace",
        "Node",
        "PersistentVolume",
        "StorageClass",
        "ClusterRole",
        "ClusterRoleBinding",
        "CustomResourceDefinition",
        "PriorityClass",
        "ValidatingWebhookConfiguration",
        "MutatingWebhookConfiguration",
        "APIService",
        "CSIDriver",
        "IngressClass",
        "RuntimeClass",
        "ClusterIssuer",
        "VolumeSnapshotClass",
    }
)


@dataclass(frozen=True)
class K8sObject:
    api_version: str
    kind: str
    name: str
    namespace: str | None  # None for cluster-scoped kinds
    body: Mapping[str, Any] = field(repr=False, compare=False, hash=False)
    origin: str = field(default="", compare=False)

    @property
    def group(self) -> str:
        return self.api_version.split("/", 1)[0] if "/" in self.api_version else ""

    @property
    def metadata(self) -> Mapping[str, Any]:
        return self.body.get("metadata") or {}

    @property
    def labels(self) -> Mapping[str, str]:
        return self.metadata.get("labels") or {}

    @property
    def annotations(self) -> Mapping[str, str]:
        return self.metadata.get("annotations") or {}

    @property
    def spec(self) -> Mapping[str, Any]:
        return self.body.get("spec") or {}

    @property
    def ref(self) -> str:
        """ "Kind/namespace/name", or "Kind/name" when cluster-scoped."""
        return f"{self.kind}/{self.namespace}/{self.name}" if self.namespace else f"{self.kind}/{self.name}"


@dataclass(frozen=True)
class ManifestSet:
    """Every object of a rendered manifest set, in document order."""

    source: Path
    method: str
    objects: tuple[K8sObject, ...]

    def __iter__(self) -> Iterator[K8sObject]:
        return iter(self.objects)

    def __len__(self) -> int:
        return len(self.objects)

    def of_kind(self, *kinds: str, group: str | None = None) -> list[K8sObject]:
        return [o for o in self.objects if o.kind in kinds and (group is None or o.group == group)]

    def get(self, kind: str, name: str, namespace: str | None = None) -> K8sObject | None:
        for obj in self.objects:
            if obj.kind == kind and obj.name == name and obj.namespace == namespace:
                return obj
        return None

    @property
    def namespaces(self) -> list[str]:
        """Namespaces declared by Namespace objects or used by namespaced objects, sorted."""
        names = {o.name for o in self.of_kind("Namespace")}
        names.update(o.namespace for o in self.objects if o.namespace)
        return sorted(names)


def _objects_of(doc: Document) -> Iterable[tuple[Mapping[str, Any], str]]:
    data = doc.data
    if isinstance(data, Mapping) and str(data.get("kind", "")).endswith("List") and "items" in data:
        items = data.get("items") or []
        if not isinstance(items, list):
            raise ManifestError(f"{doc.origin}: a {data['kind']}'s items is not a list", "write items as a YAML list")
        for index, item in enumerate(items):
            yield item, f"{doc.origin} item {index}"
    else:
        yield data, doc.origin


def to_object(data: Any, origin: str) -> K8sObject:
    if not isinstance(data, Mapping):
        raise ManifestError(
            f"{origin}: a document is a {type(data).__name__}, not a Kubernetes object",
            "each YAML document must be a mapping with apiVersion, kind and metadata.name",
        )
    missing = [key for key in ("apiVersion", "kind") if not data.get(key)]
    metadata = data.get("metadata") or {}
    if not isinstance(metadata, Mapping):
        raise ManifestError(f"{origin}: metadata is not a mapping", "write metadata as a YAML mapping")
    if not (metadata.get("name") or metadata.get("generateName")):
        missing.append("metadata.name")
    if missing:
        raise ManifestError(
            f"{origin}: object without {', '.join(missing)}",
            "every Kubernetes object needs apiVersion, kind and metadata.name",
        )
    kind = str(data["kind"])
    namespace = None if kind in CLUSTER_SCOPED_KINDS else str(metadata.get("namespace") or "default")
    name = str(metadata.get("name") or metadata.get("generateName"))
    return K8sObject(str(data["apiVersion"]), kind, name, namespace, data, origin)


def build_set(rendered: Rendered) -> ManifestSet:
    objects = tuple(to_object(data, origin) for doc in rendered.documents for data, origin in _objects_of(doc))
    return ManifestSet(rendered.path, rendered.method, objects)


def load_manifest_set(path: Path) -> ManifestSet:
    """Render and parse `path`; raises ManifestError (one line, with the fix) for unusable input, including a
    set without any Kubernetes object (an empty file would otherwise pass every check)."""
    manifests = build_set(render(path))
    if not manifests.objects:
        raise ManifestError(
            f"no Kubernetes objects in {path}",
            "point at YAML that declares Kubernetes objects (apiVersion, kind, metadata.name)",
        )
    return manifests

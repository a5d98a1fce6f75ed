"""How Kubernetes would run a workload of the manifest set: the env a container gets from its Secrets, the
volume behind a path, the Services and pods that belong to it. Pure: objects and Secret values in."""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dbc_validate.analysis.live.templates import pod_spec_of
from dbc_validate.manifests.model import K8sObject, ManifestSet

SecretValues = Mapping[str, Mapping[str, str]]  # "namespace/name" -> key -> value


@dataclass(frozen=True)
class VolumeUse:
    """The volume behind a path in a container: a claim survives a pod restart, anything else does not."""

    key: str  # identity of the storage: two mounts with the same key share files ("pvc prod/wordpress-files")
    persistent: bool
    description: str  # "PVC prod/wordpress-files", "emptyDir uploads", "the container's own filesystem"


def secret_values_in_set(ms: ManifestSet) -> dict[str, dict[str, str]]:
    """Plain Secrets the set itself carries (stringData wins over data, as the API server does)."""
    values: dict[str, dict[str, str]] = {}
    for secret in ms.of_kind("Secret"):
        data = {
            k: base64.b64decode(str(v)).decode("utf-8", "replace") for k, v in (secret.body.get("data") or {}).items()
        }
        data.update({k: str(v) for k, v in (secret.body.get("stringData") or {}).items()})
        values[f"{secret.namespace}/{secret.name}"] = data
    return values


def container_env(container: Mapping[str, Any], namespace: str, secrets: SecretValues) -> dict[str, str]:
    """The environment Kubernetes would give `container`: envFrom first, then env (which wins).

    A key of a Secret that has no value here is left out, as the kubelet would refuse to start the container;
    the caller reports the missing variable."""
    env: dict[str, str] = {}
    for source in container.get("envFrom") or []:
        ref = source.get("secretRef")
        if ref:
            prefix = str(source.get("prefix") or "")
            env.update({prefix + k: v for k, v in secrets.get(f"{namespace}/{ref['name']}", {}).items()})
    for item in container.get("env") or []:
        name = str(item["name"])
        if "value" in item:
            env[name] = str(item["value"])
            continue
        ref = (item.get("valueFrom") or {}).get("secretKeyRef")
        if ref:
            value = secrets.get(f"{namespace}/{ref['name']}", {}).get(str(ref["key"]))
            if value is not None:
                env[name] = value
    return env


def volume_at(obj: K8sObject, container: Mapping[str, Any], path: str) -> VolumeUse:
    """The volume whose mount covers `path` in `container` (the deepest mount wins)."""
    spec = pod_spec_of(obj) or {}
    volumes = {str(v.get("name")): v for v in spec.get("volumes") or []}
    templates = {str((t.get("metadata") or {}).get("name")) for t in obj.spec.get("volumeClaimTemplates") or []}
    best: Mapping[str, Any] | None = None
    for mount in container.get("volumeMounts") or []:
        mount_path = str(mount.get("mountPath", "")).rstrip("/")
        covers = (path == mount_path or path.startswith(mount_path + "/")) and not mount.get("subPath")
        if covers and (best is None or len(mount_path) > len(str(best.get("mountPath", "")).rstrip("/"))):
            best = mount
    ns = obj.namespace or "default"
    if best is None:
        return VolumeUse(f"container {obj.ref}", False, f"the container's own filesystem (no volume at {path})")
    name = str(best.get("name"))
    if name in templates:
        return VolumeUse(f"pvc {ns}/{name}-{obj.name}", True, f"PVC from volumeClaimTemplate {name}")
    volume = volumes.get(name, {})
    claim = (volume.get("persistentVolumeClaim") or {}).get("claimName")
    if claim:
        return VolumeUse(f"pvc {ns}/{claim}", True, f"PVC {ns}/{claim}")
    kind = next((k for k in volume if k != "name"), "unknown volume")
    return VolumeUse(f"{kind} {obj.ref}/{name}", False, f"{kind} volume {name!r}")


def _selects(selector: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def _template_labels(obj: K8sObject) -> Mapping[str, str]:
    return ((obj.spec.get("template") or {}).get("metadata") or {}).get("labels") or {}


def workloads_behind(ms: ManifestSet, namespace: str, service: str) -> list[K8sObject]:
    """Deployments and StatefulSets whose pods the Service selects."""
    svc = ms.get("Service", service, namespace)
    if svc is None:
        return []
    selector = svc.spec.get("selector") or {}
    return [
        w
        for w in ms.of_kind("Deployment", "StatefulSet")
        if w.namespace == namespace and _selects(selector, _template_labels(w))
    ]


def services_of(ms: ManifestSet, workload: K8sObject) -> tuple[str, ...]:
    labels = _template_labels(workload)
    return tuple(
        f"{s.namespace}/{s.name}"
        for s in ms.of_kind("Service")
        if s.namespace == workload.namespace and _selects(s.spec.get("selector") or {}, labels)
    )


def label_selector(workload: K8sObject) -> str:
    """`-l` argument selecting the workload's pods (its spec.selector.matchLabels)."""
    labels = (workload.spec.get("selector") or {}).get("matchLabels") or {}
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


def restart_complete(old_uids: Sequence[str], pods: Sequence[Mapping[str, Any]], want: int) -> bool:
    """Every pod deleted has been replaced: `want` ready pods, none of them one of the deleted ones."""
    fresh = [p for p in pods if (p.get("metadata") or {}).get("uid") not in old_uids]
    ready = [
        p
        for p in fresh
        if any(
            c.get("type") == "Ready" and c.get("status") == "True"
            for c in (p.get("status") or {}).get("conditions") or []
        )
        and not (p.get("metadata") or {}).get("deletionTimestamp")
    ]
    return len(ready) >= want and len(fresh) == len(pods)

"""Where a declared object keeps the pod spec it will run (Pod, workload template, CronJob job template)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dbc_validate.manifests.model import K8sObject

WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job")


def pod_spec_of(obj: K8sObject) -> Mapping[str, Any] | None:
    """The pod spec `obj` runs, or None for objects that run no pod."""
    if obj.kind == "Pod":
        return obj.spec
    if obj.kind == "CronJob":
        return (((obj.spec.get("jobTemplate") or {}).get("spec") or {}).get("template") or {}).get("spec")
    if obj.kind in WORKLOAD_KINDS:
        return (obj.spec.get("template") or {}).get("spec")
    return None

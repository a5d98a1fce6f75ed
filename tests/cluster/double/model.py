"""The double's vocabulary: served resource types, API errors as Status bodies, the version it reports."""

from __future__ import annotations

import time
from dataclasses import dataclass

SERVER_VERSION = {
    "major": "1",
    "minor": "33",
    "gitVersion": "v1.33.1-test-double",
    "gitCommit": "0" * 40,
    "gitTreeState": "clean",
    "buildDate": "2025-01-01T00:00:00Z",
    "goVersion": "go1.24",
    "compiler": "gc",
    "platform": "linux/amd64",
}


@dataclass
class Res:
    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool = True
    short: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")

    @property
    def gv(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version


SUB_KINDS = {
    "status": None,
    "log": "Pod",
    "exec": "PodExecOptions",
    "portforward": "PodPortForwardOptions",
    "ephemeralcontainers": None,
    "scale": "Scale",
}
SUB_VERBS = {
    "status": ["get", "patch", "update"],
    "ephemeralcontainers": ["get", "patch", "update"],
    "log": ["get"],
    "exec": ["create", "get"],
    "portforward": ["create", "get"],
    "scale": ["get", "patch", "update"],
}

CORE = [
    Res("", "v1", "namespaces", "Namespace", False, ("ns",), ("status",)),
    Res("", "v1", "nodes", "Node", False, ("no",), ("status",)),
    Res("", "v1", "pods", "Pod", True, ("po",), ("status", "log", "exec", "portforward", "ephemeralcontainers")),
    Res("", "v1", "services", "Service", True, ("svc",), ("status",)),
    Res("", "v1", "endpoints", "Endpoints", True, ("ep",)),
    Res("", "v1", "configmaps", "ConfigMap", True, ("cm",)),
    Res("", "v1", "secrets", "Secret", True),
    Res("", "v1", "serviceaccounts", "ServiceAccount", True, ("sa",)),
    Res("", "v1", "events", "Event", True, ("ev",)),
    Res("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", True, ("pvc",), ("status",)),
    Res("", "v1", "persistentvolumes", "PersistentVolume", False, ("pv",), ("status",)),
    Res("apps", "v1", "deployments", "Deployment", True, ("deploy",), ("status", "scale")),
    Res("apps", "v1", "statefulsets", "StatefulSet", True, ("sts",), ("status", "scale")),
    Res("apps", "v1", "daemonsets", "DaemonSet", True, ("ds",), ("status",)),
    Res("apps", "v1", "replicasets", "ReplicaSet", True, ("rs",), ("status", "scale")),
    Res("batch", "v1", "jobs", "Job", True, (), ("status",)),
    Res("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", True, ("netpol",)),
    Res("networking.k8s.io", "v1", "ingresses", "Ingress", True, ("ing",), ("status",)),
    Res("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", True, ("pdb",), ("status",)),
    Res("rbac.authorization.k8s.io", "v1", "roles", "Role"),
    Res("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding"),
    Res("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", False),
    Res("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", False),
    Res("storage.k8s.io", "v1", "storageclasses", "StorageClass", False, ("sc",)),
    Res(
        "apiextensions.k8s.io",
        "v1",
        "customresourcedefinitions",
        "CustomResourceDefinition",
        False,
        ("crd", "crds"),
        ("status",),
    ),
    Res("authorization.k8s.io", "v1", "subjectaccessreviews", "SubjectAccessReview", False, (), (), ("create",)),
    Res(
        "authorization.k8s.io", "v1", "selfsubjectaccessreviews", "SelfSubjectAccessReview", False, (), (), ("create",)
    ),
    Res("metrics.k8s.io", "v1beta1", "nodes", "NodeMetrics", False, (), (), ("get", "list")),
    Res("metrics.k8s.io", "v1beta1", "pods", "PodMetrics", True, (), (), ("get", "list")),
]


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def status_obj(code: int, reason: str, message: str, details: dict | None = None) -> dict:
    body = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure" if code >= 400 else "Success",
        "message": message,
        "reason": reason,
        "code": code,
    }
    if details:
        body["details"] = details
    return body


class ApiError(Exception):
    def __init__(self, code: int, reason: str, message: str, details: dict | None = None):
        super().__init__(message)
        self.body = status_obj(code, reason, message, details)
        self.code = code


def object_not_found(plural: str, group: str, name: str) -> ApiError:
    """The API server's 404 for a named object: `pods "x" not found`, `clusters.postgresql.cnpg.io "x" not found`."""
    resource = f"{plural}.{group}" if group else plural
    return ApiError(404, "NotFound", f'{resource} "{name}" not found', {"name": name, "group": group, "kind": plural})


# ---------------------------------------------------------------------------------------------------------
# patches

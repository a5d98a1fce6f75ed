"""Add-on manifests the harness writes or adjusts before applying them: the Traefik workload, the upstream
Traefik RBAC bound to the harness's ServiceAccount, metrics-server made to accept kind's kubelet certificates,
and the Namespace an add-on needs before the manifest set is applied."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

TRAEFIK_NAME = "traefik"
TRAEFIK_UPSTREAM_ROLE = "traefik-ingress-controller"
TRAEFIK_UID = 65532
# Entrypoints and their container ports, as fixtures/addons.yaml declares the Traefik pod.
TRAEFIK_PORTS = (("web", 8000), ("websecure", 8443), ("traefik", 8080), ("metrics", 9100))


def namespace_object(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def traefik_objects(
    namespace: str, image: str, args: Sequence[str], labels: Mapping[str, str], node_port: int
) -> list[dict[str, Any]]:
    """ServiceAccount, binding to the upstream ClusterRole, Deployment and NodePort Service of Traefik.

    The pod satisfies the restricted Pod Security profile (its namespace may enforce it): non-root uid,
    no privilege escalation, all capabilities dropped, RuntimeDefault seccomp, unprivileged ports.
    """
    selector = dict(labels) or {"app.kubernetes.io/name": TRAEFIK_NAME}
    meta = {"name": TRAEFIK_NAME, "namespace": namespace, "labels": selector}
    container = {
        "name": TRAEFIK_NAME,
        "image": image,
        "args": list(args),
        "ports": [{"name": name, "containerPort": port, "protocol": "TCP"} for name, port in TRAEFIK_PORTS],
        "readinessProbe": {"httpGet": {"path": "/ping", "port": "traefik"}, "periodSeconds": 5},
        "livenessProbe": {"httpGet": {"path": "/ping", "port": "traefik"}, "periodSeconds": 10},
        "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}},
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "runAsUser": TRAEFIK_UID,
            "runAsGroup": TRAEFIK_UID,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
    }
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": dict(meta)},
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": f"{TRAEFIK_UPSTREAM_ROLE}-{namespace}", "labels": selector},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": TRAEFIK_UPSTREAM_ROLE},
            "subjects": [{"kind": "ServiceAccount", "name": TRAEFIK_NAME, "namespace": namespace}],
        },
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": dict(meta),
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": selector},
                "template": {
                    "metadata": {"labels": selector},
                    "spec": {
                        "serviceAccountName": TRAEFIK_NAME,
                        "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
                        "containers": [container],
                    },
                },
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": dict(meta),
            "spec": {
                "type": "NodePort",
                "selector": selector,
                "ports": [
                    {"name": "web", "port": 80, "targetPort": "web", "nodePort": node_port, "protocol": "TCP"},
                    {"name": "metrics", "port": 9100, "targetPort": "metrics", "protocol": "TCP"},
                ],
            },
        },
    ]


def without_upstream_binding(docs: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The upstream RBAC file minus its ClusterRoleBinding to a ServiceAccount in `default`: the harness
    binds the ClusterRole to its own ServiceAccount instead (see traefik_objects)."""
    return [
        copy.deepcopy(dict(d))
        for d in docs
        if not (
            d.get("kind") == "ClusterRoleBinding" and (d.get("metadata") or {}).get("name") == TRAEFIK_UPSTREAM_ROLE
        )
    ]


def with_kubelet_insecure_tls(docs: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """metrics-server's components.yaml with --kubelet-insecure-tls added to its container (kind's
    kubelets serve self-signed certificates that metrics-server would otherwise refuse)."""
    result = []
    for doc in docs:
        doc = copy.deepcopy(dict(doc))
        if doc.get("kind") == "Deployment" and (doc.get("metadata") or {}).get("name") == "metrics-server":
            for c in doc["spec"]["template"]["spec"]["containers"]:
                args = c.setdefault("args", [])
                if "--kubelet-insecure-tls" not in args:
                    args.append("--kubelet-insecure-tls")
        result.append(doc)
    return result


def service_proxy_path(service: Mapping[str, Any], path: str, scheme: str = "http") -> str:
    """The API server proxy path to `path` on a Service's first port (how kubeseal fetches the cert)."""
    meta = service.get("metadata") or {}
    ports = (service.get("spec") or {}).get("ports") or []
    if not ports:
        raise ValueError(f"Service {meta.get('namespace')}/{meta.get('name')} exposes no port")
    port = ports[0].get("name") or ports[0].get("port")
    return f"/api/v1/namespaces/{meta.get('namespace')}/services/{scheme}:{meta.get('name')}:{port}/proxy{path}"

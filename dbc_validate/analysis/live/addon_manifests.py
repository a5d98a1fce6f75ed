"""Add-on manifests the harness writes or adjusts before applying them: the Traefik workload (from
dbc_validate/data/traefik-install.yaml), the upstream Traefik RBAC bound to the install's ServiceAccount, metrics-server
made to accept kind's kubelet certificates, and the Namespace an add-on needs before the manifest set is applied."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from dbc_validate.analysis.live.traefik_install import TraefikInstall

# The ClusterRole of Traefik's upstream RBAC file (kubernetes-crd-rbac.yml), which binds it to a ServiceAccount
# in namespace "default"; the harness binds it to the install's own ServiceAccount instead.
TRAEFIK_UPSTREAM_ROLE = "traefik-ingress-controller"
PROBE_PERIODS_S = {"readiness": 5, "liveness": 10}


def namespace_object(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def _probe(spec: Mapping[str, Any], kind: str) -> dict[str, Any]:
    extra = {k: v for k, v in spec.items() if k not in ("path", "port")}
    return {"httpGet": {"path": spec["path"], "port": spec["port"]}, "periodSeconds": PROBE_PERIODS_S[kind]} | extra


def traefik_objects(install: TraefikInstall) -> list[dict[str, Any]]:
    """ServiceAccount, binding to the upstream ClusterRole, Deployment and Service of Traefik, all from
    dbc_validate/data/traefik-install.yaml (labels, ports, arguments, probes, security contexts, resources).

    The settings file asks for the restricted Pod Security profile (its namespace may enforce it): non-root
    uid, no privilege escalation, all capabilities dropped, RuntimeDefault seccomp, unprivileged ports.
    """
    labels = install.pod_labels
    meta = {"name": install.deployment, "namespace": install.namespace, "labels": dict(labels)}
    container: dict[str, Any] = {
        "name": "traefik",
        "image": install.image,
        "args": list(install.args),
        "ports": [{"name": p.name, "containerPort": p.container_port, "protocol": p.protocol} for p in install.ports],
        **{f"{kind}Probe": _probe(spec, kind) for kind, spec in install.probes.items() if kind in PROBE_PERIODS_S},
        "resources": copy.deepcopy(dict(install.resources)),
        "securityContext": copy.deepcopy(dict(install.security_context)),
    }
    service_ports = []
    for p in install.ports:
        port = {"name": p.name, "port": p.service_port, "targetPort": p.name, "protocol": p.protocol}
        if p.node_port and install.service_type == "NodePort":
            port["nodePort"] = p.node_port
        service_ports.append(port)
    return [
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": install.service_account, "namespace": install.namespace, "labels": dict(labels)},
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": f"{TRAEFIK_UPSTREAM_ROLE}-{install.namespace}", "labels": dict(labels)},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": TRAEFIK_UPSTREAM_ROLE},
            "subjects": [{"kind": "ServiceAccount", "name": install.service_account, "namespace": install.namespace}],
        },
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": dict(meta),
            "spec": {
                "replicas": install.replicas,
                "selector": {"matchLabels": dict(labels)},
                "template": {
                    "metadata": {"labels": dict(labels)},
                    "spec": {
                        "serviceAccountName": install.service_account,
                        "securityContext": copy.deepcopy(dict(install.pod_security_context)),
                        "containers": [container],
                    },
                },
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": install.service_name, "namespace": install.namespace, "labels": dict(labels)},
            "spec": {"type": install.service_type, "selector": dict(labels), "ports": service_ports},
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

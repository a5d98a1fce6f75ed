"""Stand-ins for the add-on manifests a kind/k3d deploy downloads (nothing is reachable from the test machines):
the objects of each pinned release that the harness and its checks rely on, nothing more. A pytest plugin
(`-p double.addons`) serves them in place of the download; it is test equipment, never loaded by a real run."""

from __future__ import annotations

from typing import Any

import pytest

from .crds import ADDON_CRDS


def deployment(namespace: str, name: str, labels: dict, sa: str, ports: list[tuple[str, int]], args=None) -> dict:
    container: dict[str, Any] = {"name": name, "image": f"registry.example/{name}:double"}
    container["ports"] = [{"name": n, "containerPort": p, "protocol": "TCP"} for n, p in ports]
    if args is not None:
        container["args"] = list(args)
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {"serviceAccountName": sa, "containers": [container]}},
        },
    }


def service(namespace: str, name: str, labels: dict, port: int) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"selector": labels, "ports": [{"name": "http", "port": port, "targetPort": port}]},
    }


def account(namespace: str, name: str) -> dict:
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name, "namespace": namespace}}


def crds_of(group: str) -> list[dict]:
    return [c for c in ADDON_CRDS if c["spec"]["group"] == group]


SEALED = {"name": "sealed-secrets-controller"}
CNPG = {"app.kubernetes.io/name": "cloudnative-pg"}
METRICS = {"k8s-app": "metrics-server"}
STAND_INS = {
    # bitnami-labs/sealed-secrets releases/download/v0.36.4/controller.yaml (names as dbc_validate/data/addons.yaml)
    "sealed-secrets": [
        *crds_of("bitnami.com"),
        account("kube-system", "sealed-secrets-controller"),
        deployment("kube-system", "sealed-secrets-controller", SEALED, "sealed-secrets-controller", [("http", 8080)]),
        service("kube-system", "sealed-secrets-controller", SEALED, 8080),
    ],
    # cloudnative-pg releases/cnpg-1.29.2.yaml
    "cnpg-": [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "cnpg-system"}},
        *crds_of("postgresql.cnpg.io"),
        account("cnpg-system", "cnpg-manager"),
        deployment("cnpg-system", "cnpg-controller-manager", CNPG, "cnpg-manager", [("metrics", 8080)]),
    ],
    # kubernetes-sigs/metrics-server releases/download/v0.8.1/components.yaml (the harness patches its args)
    "metrics-server": [
        account("kube-system", "metrics-server"),
        deployment(
            "kube-system", "metrics-server", METRICS, "metrics-server", [("https", 10250)], ["--secure-port=10250"]
        ),
    ],
    # traefik/traefik v3.7 docs/content/reference/dynamic-configuration/kubernetes-crd-definition-v1.yml and -rbac.yml
    "kubernetes-crd-definition": crds_of("traefik.io"),
    "kubernetes-crd-rbac": [
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": "traefik-ingress-controller"},
            "rules": [
                {
                    "apiGroups": [""],
                    "resources": ["services", "endpoints", "secrets"],
                    "verbs": ["get", "list", "watch"],
                }
            ],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": "traefik-ingress-controller"},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": "traefik-ingress-controller",
            },
            "subjects": [{"kind": "ServiceAccount", "name": "traefik-ingress-controller", "namespace": "default"}],
        },
    ],
}


def stand_in(url: str, timeout_s: float = 60.0) -> list[dict[str, Any]]:
    """The stand-in for a pinned add-on URL; an unknown URL fails as an unreachable download would."""
    from dbc_validate.cluster.kubectl import ClusterError

    for marker, docs in STAND_INS.items():
        if marker in url:
            return [dict(d) for d in docs]
    raise ClusterError(f"cannot download {url}: test double has no stand-in for it")


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    from dbc_validate.cluster import deploy

    deploy.fetch_documents = stand_in

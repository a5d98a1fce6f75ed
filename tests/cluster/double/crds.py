"""The CustomResourceDefinitions of the add-ons the manifest set uses, as the double serves them: group, kind,
plural, scope and the status subresource (the schema is left open; the shapes of the objects the double writes
for them are in controller.py, each beside its source)."""

from __future__ import annotations

from typing import Any


def crd(group: str, version: str, kind: str, plural: str, short: tuple[str, ...] = (), status: bool = True) -> dict:
    served = {"name": version, "served": True, "storage": True}
    served["schema"] = {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}
    if status:
        served["subresources"] = {"status": {}}
    names: dict[str, Any] = {"kind": kind, "plural": plural, "singular": kind.lower(), "listKind": f"{kind}List"}
    if short:
        names["shortNames"] = list(short)
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{group}"},
        "spec": {"group": group, "names": names, "scope": "Namespaced", "versions": [served]},
    }


ADDON_CRDS = [
    # CloudNativePG API reference, postgresql.cnpg.io/v1 Cluster (status subresource; `kubectl get clusters`):
    # https://cloudnative-pg.io/documentation/current/cloudnative-pg.v1/#postgresql-cnpg-io-v1-Cluster
    crd("postgresql.cnpg.io", "v1", "Cluster", "clusters"),
    # Traefik v3 Kubernetes CRD provider, traefik.io/v1alpha1 (the traefik.containo.us group is gone in v3):
    # https://doc.traefik.io/traefik/reference/routing-configuration/kubernetes/crd/http/ingressroute/
    crd("traefik.io", "v1alpha1", "IngressRoute", "ingressroutes", status=False),
    # https://doc.traefik.io/traefik/reference/routing-configuration/http/middlewares/overview/
    crd("traefik.io", "v1alpha1", "Middleware", "middlewares", status=False),
    crd("traefik.io", "v1alpha1", "TraefikService", "traefikservices", status=False),
    # Sealed Secrets README ("SealedSecret ... status"), bitnami.com/v1alpha1 SealedSecret:
    # https://github.com/bitnami-labs/sealed-secrets#sealedsecrets-as-templates-for-secrets
    crd("bitnami.com", "v1alpha1", "SealedSecret", "sealedsecrets"),
    # Prometheus Operator API reference, monitoring.coreos.com/v1 ServiceMonitor (spec.selector, spec.endpoints):
    # https://prometheus-operator.dev/docs/api-reference/api/#monitoring.coreos.com/v1.ServiceMonitor
    crd("monitoring.coreos.com", "v1", "ServiceMonitor", "servicemonitors", ("smon",), status=False),
    # The same reference, monitoring.coreos.com/v1 PodMonitor and PrometheusRule (the set's monitoring component):
    # https://prometheus-operator.dev/docs/api-reference/api/#monitoring.coreos.com/v1.PodMonitor
    crd("monitoring.coreos.com", "v1", "PodMonitor", "podmonitors", ("pmon",), status=False),
    # https://prometheus-operator.dev/docs/api-reference/api/#monitoring.coreos.com/v1.PrometheusRule
    crd("monitoring.coreos.com", "v1", "PrometheusRule", "prometheusrules", ("promrule",), status=False),
]

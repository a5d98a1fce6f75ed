"""NetworkPolicies the harness adds, for their lifetime only, to let a pod of its own cross a default-deny (pure).

A harness pod (the failover writer) needs egress to the pods it talks to and to kube-dns, and those pods need
an ingress rule admitting it. Both policies select by the harness pod's own labels, so no other flow changes.
An ingress policy also isolates the pods it selects: on pods no ingress policy isolated yet it would cut every
other client off, so it is added only when the destination pods are isolated for ingress already.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dbc_validate.analysis.live.pods import Obj, labels_of, namespace_of
from dbc_validate.analysis.netpol.policy import INGRESS, parse_policies
from dbc_validate.manifests.model import to_object

API_VERSION = "networking.k8s.io/v1"
KUBE_DNS_NAMESPACE = "kube-system"
KUBE_DNS_LABELS = {"k8s-app": "kube-dns"}  # CoreDNS on kind and k3s, as the NetworkPolicy engine models it
DNS_PORT = 53
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
# What marks every object the harness makes in a cluster (`kubectl get pods,networkpolicies,namespaces -A -l
# app.kubernetes.io/part-of=dbc-validate` finds what a killed harness could not remove).
HARNESS_LABELS = {"app.kubernetes.io/part-of": "dbc-validate", "app.kubernetes.io/managed-by": "dbc-validate"}


@dataclass(frozen=True)
class HarnessPath:
    """A harness pod that must reach pods of its own namespace on one TCP port."""

    namespace: str
    pod: str  # the harness pod's name; its policies are named after it
    pod_labels: Mapping[str, str]  # labels only that pod carries
    destination_labels: Mapping[str, str]  # labels every destination pod carries
    port: int

    @property
    def egress_name(self) -> str:
        return f"{self.pod}-egress"

    @property
    def ingress_name(self) -> str:
        return f"{self.pod}-ingress"


def _policy(path: HarnessPath, name: str, selector: Mapping[str, str], spec: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": path.namespace, "labels": dict(HARNESS_LABELS)},
        "spec": {"podSelector": {"matchLabels": dict(selector)}, **spec},
    }


def harness_policies(path: HarnessPath, destinations_isolated: bool) -> list[dict[str, Any]]:
    """The policies that let `path.pod` reach its destinations on `path.port` and ask kube-dns (53 UDP and TCP).

    The egress policy always comes (it selects the harness pod alone); the ingress policy on the destination pods
    only when `destinations_isolated` (see the module docstring).
    """
    tcp = {"protocol": "TCP", "port": path.port}
    egress = _policy(
        path,
        path.egress_name,
        path.pod_labels,
        {
            "policyTypes": ["Egress"],
            "egress": [
                {"to": [{"podSelector": {"matchLabels": dict(path.destination_labels)}}], "ports": [tcp]},
                {
                    "to": [
                        {
                            "namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: KUBE_DNS_NAMESPACE}},
                            "podSelector": {"matchLabels": dict(KUBE_DNS_LABELS)},
                        }
                    ],
                    "ports": [{"protocol": "UDP", "port": DNS_PORT}, {"protocol": "TCP", "port": DNS_PORT}],
                },
            ],
        },
    )
    if not destinations_isolated:
        return [egress]
    ingress = _policy(
        path,
        path.ingress_name,
        path.destination_labels,
        {
            "policyTypes": ["Ingress"],
            "ingress": [{"from": [{"podSelector": {"matchLabels": dict(path.pod_labels)}}], "ports": [tcp]}],
        },
    )
    return [egress, ingress]


def isolated_for_ingress(policies: Sequence[Obj], pods: Sequence[Obj]) -> bool:
    """Whether some policy of `policies` (NetworkPolicy objects as the API returns them) isolates every pod of
    `pods` for ingress. No pods: False (an ingress policy would then isolate whatever comes later)."""
    objects = tuple(to_object({**p, "apiVersion": API_VERSION, "kind": "NetworkPolicy"}, "live") for p in policies)
    parsed, _rejected = parse_policies(objects)  # the API server never stores a policy it would reject
    ingress = [p for p in parsed if p.rules(INGRESS) is not None]
    return bool(pods) and all(any(p.selects(namespace_of(pod), labels_of(pod)) for p in ingress) for pod in pods)

"""Benchmark: the NetworkPolicy engine's full expected matrix on a synthetic cluster.

200 workloads in 20 namespaces with 100 NetworkPolicies (default deny, DNS, tiered app paths, cross-namespace
peers with matchExpressions, ipBlock egress), plus kube-dns and the add-ons. Times building the model and
computing every flow. Target: under 2 s and 300 MB here.
Last line: `netpol_matrix seconds=<s> flows=<n> peak_mb=<m>` (peak_mb = the process's peak resident set).

Run: .venv/bin/python benchmarks/netpol_matrix.py
"""

from __future__ import annotations

import random
import resource
import time
from pathlib import Path
from typing import Any

from dbc_validate.analysis.netpol import build_model, expected_matrix
from dbc_validate.manifests.model import ManifestSet, to_object

NAMESPACES = 20
WORKLOADS_PER_NAMESPACE = 10
TIERS = ("web", "api", "db")
TIER_PORTS = {"web": [(8080, "http")], "api": [(9000, "grpc"), (9090, "metrics")], "db": [(5432, "postgresql")]}


def _deployment(ns: str, name: str, tier: str) -> dict[str, Any]:
    labels = {"app": name, "tier": tier}
    ports = [{"containerPort": p, "name": n, "protocol": "TCP"} for p, n in TIER_PORTS[tier]]
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": name, "image": "app:1", "ports": ports}]},
            },
        },
    }


def _policy(ns: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": ns},
        "spec": spec,
    }


def _tier(tier: str) -> dict[str, Any]:
    return {"matchLabels": {"tier": tier}}


def synthetic_set(seed: int = 42) -> ManifestSet:
    rng = random.Random(seed)
    docs: list[dict[str, Any]] = []
    for n in range(NAMESPACES):
        ns = f"ns{n:02d}"
        docs.append(
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns, "labels": {"team": f"t{n % 4}"}}}
        )
        for w in range(WORKLOADS_PER_NAMESPACE):
            docs.append(_deployment(ns, f"w{w}", TIERS[w % 3]))
        friends = sorted(rng.sample([f"ns{i:02d}" for i in range(NAMESPACES) if i != n], 3))
        docs += [
            _policy(ns, "default-deny", {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}),
            _policy(
                ns,
                "allow-dns",
                {
                    "podSelector": {},
                    "policyTypes": ["Egress"],
                    "egress": [
                        {
                            "to": [
                                {
                                    "namespaceSelector": {
                                        "matchLabels": {"kubernetes.io/metadata.name": "kube-system"}
                                    },
                                    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                                }
                            ],
                            "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}],
                        }
                    ],
                },
            ),
            _policy(
                ns,
                "web",
                {
                    "podSelector": _tier("web"),
                    "policyTypes": ["Ingress", "Egress"],
                    "ingress": [
                        {
                            "from": [
                                {
                                    "namespaceSelector": {
                                        "matchLabels": {"kubernetes.io/metadata.name": "ingress-system"}
                                    },
                                    "podSelector": {"matchLabels": {"app.kubernetes.io/name": "traefik"}},
                                }
                            ],
                            "ports": [{"port": "http"}],
                        }
                    ],
                    "egress": [{"to": [{"podSelector": _tier("api")}], "ports": [{"port": "grpc"}]}],
                },
            ),
            _policy(
                ns,
                "api",
                {
                    "podSelector": _tier("api"),
                    "policyTypes": ["Ingress", "Egress"],
                    "ingress": [
                        {"from": [{"podSelector": _tier("web")}], "ports": [{"port": 9000}]},
                        {
                            "from": [
                                {
                                    "namespaceSelector": {
                                        "matchExpressions": [
                                            {"key": "kubernetes.io/metadata.name", "operator": "In", "values": friends}
                                        ]
                                    },
                                    "podSelector": {
                                        "matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["db"]}]
                                    },
                                }
                            ],
                            "ports": [{"port": 9000, "endPort": 9100}],
                        },
                    ],
                    "egress": [
                        {"to": [{"podSelector": _tier("db")}], "ports": [{"port": "postgresql"}]},
                        {
                            "to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8"]}}],
                            "ports": [{"port": 443}],
                        },
                    ],
                },
            ),
            _policy(
                ns,
                "db",
                {
                    "podSelector": _tier("db"),
                    "policyTypes": ["Ingress"],
                    "ingress": [{"from": [{"podSelector": _tier("api")}], "ports": [{"port": 5432}]}],
                },
            ),
        ]
    objects = tuple(to_object(doc, f"synthetic {i}") for i, doc in enumerate(docs))
    return ManifestSet(Path("synthetic"), "yaml", objects)


def main() -> None:
    manifests = synthetic_set()
    workloads = len(manifests.of_kind("Deployment"))
    policies = len(manifests.of_kind("NetworkPolicy"))
    start = time.perf_counter()
    model = build_model(manifests)
    flows = expected_matrix(model)
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux
    allowed = sum(f.allowed for f in flows)
    print(
        f"synthetic set: {workloads} workloads, {NAMESPACES} namespaces, {policies} policies (+ kube-dns and add-ons)"
    )
    print(f"flows allowed: {allowed}, denied: {len(flows) - allowed}")
    print(f"netpol_matrix seconds={seconds:.3f} flows={len(flows)} peak_mb={peak_mb:.1f}")


if __name__ == "__main__":
    main()

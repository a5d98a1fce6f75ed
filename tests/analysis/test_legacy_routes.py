"""Legacy traefik.containo.us routes: besides the group error, every ingress rule judges them like traefik.io ones."""

from __future__ import annotations

from typing import Any

import pytest
from analysis_builders import deployment, manifest_set, netpol

from dbc_validate.analysis import analyze
from dbc_validate.manifests.traefik_routes import LEGACY_TRAEFIK_GROUP, TRAEFIK_GROUP, http_routes


def route(
    group: str, services: list[dict[str, Any]], middlewares: list[dict[str, str]] | None = None
) -> dict[str, Any]:
    entry: dict[str, Any] = {"match": "Host(`www.example.com`)", "kind": "Rule", "services": services}
    if middlewares:
        entry["middlewares"] = middlewares
    return {
        "apiVersion": f"{group}/v1alpha1",
        "kind": "IngressRoute",
        "metadata": {"name": "www", "namespace": "demo"},
        "spec": {"entryPoints": ["web"], "routes": [entry]},
    }


def service(ns: str, name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"selector": {"app": name}, "ports": [{"port": 80, "targetPort": 8080}]},
    }


def backends() -> list[dict[str, Any]]:
    return [
        deployment("demo", "web", container_ports=[8080]),
        service("demo", "web"),
        netpol("demo", "deny", {"podSelector": {}, "policyTypes": ["Ingress"]}),
    ]


SPLIT = [
    {"name": "web", "port": 80, "weight": 50},
    {"name": "gone", "namespace": "other", "port": 80, "weight": 50},
]


@pytest.mark.parametrize("group", [TRAEFIK_GROUP, LEGACY_TRAEFIK_GROUP])
def test_a_route_gets_every_ingress_finding_whatever_its_group(group: str):
    result = analyze(manifest_set(*backends(), route(group, SPLIT)))
    rules = {f.rule for f in result.of_category("ingress")}
    expected = {
        "ingress.split-mismatch",
        "ingress.cross-namespace",
        "ingress.missing-service",
        "ingress.backend-blocked",
    }
    if group == LEGACY_TRAEFIK_GROUP:
        expected.add("ingress.legacy-traefik-group")
    assert rules == expected


def test_legacy_routes_resolve_middlewares_of_their_own_group_and_stay_out_of_the_served_routes():
    legacy_middleware = {
        "apiVersion": f"{LEGACY_TRAEFIK_GROUP}/v1alpha1",
        "kind": "Middleware",
        "metadata": {"name": "marker", "namespace": "demo"},
        "spec": {"headers": {"customResponseHeaders": {"X-Variant": "prod"}}},
    }
    docs = [
        *backends(),
        legacy_middleware,
        route(LEGACY_TRAEFIK_GROUP, [{"name": "web", "port": 80}], [{"name": "marker"}]),
    ]
    ms = manifest_set(*docs)
    assert http_routes(ms) == []  # Traefik v3 serves none of them: the lab and the split check do not see them
    [legacy] = http_routes(ms, include_legacy=True)
    assert legacy.problems == () and legacy.middlewares[0].name == "marker"
    unresolved = analyze(ms).of_rule("ingress.unresolved-reference")
    assert unresolved == []


def test_an_admitted_backend_is_not_blocked():
    admit = netpol(
        "demo",
        "traefik",
        {
            "podSelector": {},
            "ingress": [
                {
                    "from": [
                        {
                            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-system"}},
                            "podSelector": {"matchLabels": {"app.kubernetes.io/name": "traefik"}},
                        }
                    ]
                }
            ],
        },
    )
    result = analyze(manifest_set(*backends(), admit, route(TRAEFIK_GROUP, [{"name": "web", "port": 80}])))
    assert not result.of_rule("ingress.backend-blocked")

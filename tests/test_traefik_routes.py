"""The Traefik route model: hosts, weights (nested too), per-service markers, unresolved references."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import yaml

from dbc_validate.manifests.model import ManifestSet, to_object
from dbc_validate.manifests.traefik_routes import hosts_of, http_routes, legacy_objects


def manifest_set(*docs: str) -> ManifestSet:
    objects = tuple(to_object(d, "test") for doc in docs for d in yaml.safe_load_all(doc))
    return ManifestSet(Path("."), "yaml", objects)


def middleware(name: str, namespace: str, variant: str) -> str:
    return f"""
apiVersion: traefik.io/v1alpha1
kind: Middleware
metadata: {{name: {name}, namespace: {namespace}}}
spec:
  headers:
    customResponseHeaders: {{X-Dbc-Variant: {variant}}}
"""


SPLIT = """
apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: {name: www, namespace: ingress-system}
spec:
  entryPoints: [web]
  routes:
    - match: Host(`www.dirtbikechina.com`) || Host(`dirtbikechina.com`)
      services:
        - {name: wordpress, namespace: prod, port: 8080, weight: 70,
           middlewares: [{name: variant-prod, namespace: prod}]}
        - {name: wordpress, namespace: stage, port: 8080, weight: 30,
           middlewares: [{name: variant-stage, namespace: stage}]}
"""


def test_weighted_services_give_shares_and_markers() -> None:
    ms = manifest_set(SPLIT, middleware("variant-prod", "prod", "prod"), middleware("variant-stage", "stage", "stage"))
    (route,) = http_routes(ms)
    assert route.hosts == ("www.dirtbikechina.com", "dirtbikechina.com")
    assert route.shares() == {"prod": Fraction(7, 10), "stage": Fraction(3, 10)}
    assert route.is_split and route.problems == ()
    assert route.backends[0].service_ref == "prod/wordpress" and route.backends[0].port == 8080


def test_without_markers_the_variant_is_the_service() -> None:
    (route,) = http_routes(manifest_set(SPLIT))
    assert set(route.shares()) == {"prod/wordpress", "stage/wordpress"}
    assert any("variant-prod" in p for p in route.problems)


def test_nested_traefik_services_multiply_weights_and_default_weight_is_one() -> None:
    doc = """
apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: {name: r, namespace: apps}
spec:
  routes:
    - match: Host(`a.example`)
      services: [{name: outer, kind: TraefikService}]
---
apiVersion: traefik.io/v1alpha1
kind: TraefikService
metadata: {name: outer, namespace: apps}
spec:
  weighted:
    services:
      - {name: inner, kind: TraefikService, weight: 3}
      - {name: c, port: 80}
---
apiVersion: traefik.io/v1alpha1
kind: TraefikService
metadata: {name: inner, namespace: apps}
spec:
  weighted:
    services: [{name: a, port: 80, weight: 1}, {name: b, port: 80, weight: 1}]
"""
    (route,) = http_routes(manifest_set(doc))
    assert route.shares() == {"apps/a": Fraction(3, 8), "apps/b": Fraction(3, 8), "apps/c": Fraction(1, 4)}


def test_a_missing_traefik_service_is_a_problem_not_a_crash() -> None:
    doc = """
apiVersion: traefik.io/v1alpha1
kind: IngressRoute
metadata: {name: r, namespace: apps}
spec:
  routes: [{match: "Host(`a`)", services: [{name: ghost, kind: TraefikService}]}]
"""
    (route,) = http_routes(manifest_set(doc))
    assert route.backends == () and "ghost" in route.problems[0]


def test_v2_group_objects_are_reported_as_legacy_and_not_routed() -> None:
    legacy = SPLIT.replace("traefik.io/v1alpha1", "traefik.containo.us/v1alpha1")
    ms = manifest_set(legacy)
    assert http_routes(ms) == []
    assert [o.ref for o in legacy_objects(ms)] == ["IngressRoute/ingress-system/www"]


def test_hosts_are_read_from_every_host_matcher() -> None:
    assert hosts_of("Host(`a.b`) && PathPrefix(`/x`) || Host(`c.d`, `e.f`)") == ("a.b", "c.d", "e.f")

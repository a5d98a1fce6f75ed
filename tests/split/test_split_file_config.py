"""The manifests' routes as a Traefik file-provider configuration, and what the split check compares (pure)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
from helpers import ROOT

from dbc_validate.analysis.split_check import (
    declared_split,
    format_split,
    marker_header,
    marker_mismatches,
    request_path,
    required_split,
    split_routes,
    variant_labels,
)
from dbc_validate.analysis.traefik_file_config import (
    backend_key,
    distinct_backends,
    file_config,
    static_config,
)
from dbc_validate.analysis.traefik_metrics import service_request_totals, variant_counts
from dbc_validate.capabilities import IngressEndpoint
from dbc_validate.criteria import Threshold, by_id
from dbc_validate.manifests.model import build_set, load_manifest_set
from dbc_validate.manifests.render import Document, Rendered
from dbc_validate.manifests.traefik_routes import http_routes
from dbc_validate.probes.split_load import measure_split

FIXTURES = ROOT / "fixtures" / "split"
GATE1_SPLIT = required_split(by_id("applications.traffic_split").threshold)


def routes_of(name: str):
    return http_routes(load_manifest_set(FIXTURES / name))


def routes_from(*docs: dict):
    rendered = Rendered(Path("inline"), "yaml", tuple(Document(d, f"inline:{i}") for i, d in enumerate(docs)))
    return http_routes(build_set(rendered))


def middleware(name: str, value: str, namespace: str = "web") -> dict:
    return {
        "apiVersion": "traefik.io/v1alpha1",
        "kind": "Middleware",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"headers": {"customResponseHeaders": {"X-Dbc-Variant": value}}},
    }


def ingress_route(services: list[dict], **route: object) -> dict:
    return {
        "apiVersion": "traefik.io/v1alpha1",
        "kind": "IngressRoute",
        "metadata": {"name": "www", "namespace": "web"},
        "spec": {
            "entryPoints": ["websecure"],
            "routes": [{"match": "Host(`a.example`)", "services": services, **route}],
        },
    }


def urls_for(routes) -> dict[str, str]:
    return {backend_key(b): f"http://127.0.0.1:{9000 + i}/" for i, b in enumerate(distinct_backends(routes))}


def test_the_70_30_fixture_becomes_a_weighted_service_with_markers_and_the_manifest_rule():
    routes = routes_of("70-30")
    config = file_config(routes, urls_for(routes))
    http = config.dynamic["http"]
    (router,) = http["routers"].values()
    assert router == {"rule": "Host(`www.dirtbikechina.com`)", "entryPoints": ["web"], "service": "r0-split"}
    weighted = http["services"]["r0-split"]["weighted"]["services"]
    assert [(s["name"], s["weight"]) for s in weighted] == [
        ("r0-dirtbikechina-wordpress-prod-80", 7),
        ("r0-dirtbikechina-wordpress-stage-80", 3),
    ]
    prod = http["services"]["r0-dirtbikechina-wordpress-prod-80"]
    assert prod["loadBalancer"]["servers"] == [{"url": "http://127.0.0.1:9000/"}]
    (marker,) = prod["middlewares"]
    assert http["middlewares"][marker] == {"headers": {"customResponseHeaders": {"X-Dbc-Variant": "prod"}}}
    assert config.leaf_services(routes[0].source) == {
        "prod": ("r0-dirtbikechina-wordpress-prod-80@file",),
        "stage": ("r0-dirtbikechina-wordpress-stage-80@file",),
    }
    assert config.omitted == ()


def test_changing_a_weight_in_the_manifests_changes_the_local_weights():
    routes = routes_of("50-50")
    weighted = file_config(routes, urls_for(routes)).dynamic["http"]["services"]["r0-split"]["weighted"]["services"]
    assert [s["weight"] for s in weighted] == [1, 1]


def test_nested_traefik_services_are_flattened_into_their_shares():
    nested = {
        "apiVersion": "traefik.io/v1alpha1",
        "kind": "TraefikService",
        "metadata": {"name": "canary", "namespace": "web"},
        "spec": {
            "weighted": {"services": [{"name": "a", "port": 80, "weight": 1}, {"name": "b", "port": 80, "weight": 1}]}
        },
    }
    routes = routes_from(
        nested,
        ingress_route(
            [{"name": "c", "port": 80, "weight": 2}, {"name": "canary", "kind": "TraefikService", "weight": 2}]
        ),
    )
    weighted = file_config(routes, urls_for(routes)).dynamic["http"]["services"]["r0-split"]["weighted"]["services"]
    assert sorted(s["weight"] for s in weighted) == [1, 1, 2]


def test_what_the_local_lab_does_not_reproduce_is_listed():
    routes = routes_from(
        middleware("m", "x"),
        ingress_route(
            [{"name": "a", "port": 80, "weight": 0}, {"name": "b", "port": 80}, {"name": "b", "port": 80}],
            middlewares=[{"name": "redirect"}],
        ),
    )
    config = file_config(routes, urls_for(routes))
    omitted = " ".join(config.omitted)
    assert "route-level middlewares (web/redirect)" in omitted
    assert "websecure" in omitted
    weighted = config.dynamic["http"]["services"]["r0-split"]["weighted"]["services"]
    assert [s["weight"] for s in weighted] == [1]  # a (weight 0) dropped, b listed twice merged


def test_a_route_without_positive_weights_is_not_served():
    routes = routes_from(ingress_route([{"name": "a", "port": 80, "weight": 0}]))
    config = file_config(routes, urls_for(routes))
    assert config.dynamic["http"]["routers"] == {}
    assert "no backend with a positive weight" in config.omitted[0]


def test_static_config_keeps_the_lab_offline_and_exposes_ping_api_and_metrics():
    static = static_config(8080, 8081, "/tmp/d.yml")
    assert static["global"] == {"checkNewVersion": False, "sendAnonymousUsage": False}
    assert static["entryPoints"]["web"]["address"] == "127.0.0.1:8080"
    assert static["metrics"]["prometheus"]["entryPoint"] == "traefik"
    assert static["providers"]["file"]["filename"] == "/tmp/d.yml"


def test_required_split_comes_from_the_gate1_threshold():
    assert GATE1_SPLIT.shares == {"prod": Fraction(7, 10), "stage": Fraction(3, 10)}
    custom = required_split(Threshold("prod/stage split", "==", "60/40", "", "gate1_traffic_split"))
    assert custom.shares == {"prod": Fraction(3, 5), "stage": Fraction(2, 5)}
    for bad in ("70", "70/30/0", "a/b", "0/0"):
        with pytest.raises(ValueError):
            required_split(Threshold("prod/stage split", "==", bad, "", "gate1_traffic_split"))


def test_variants_map_to_the_required_labels_and_declared_shares_follow_the_manifest():
    (route,) = split_routes(routes_of("50-50"))
    labels = variant_labels(route, GATE1_SPLIT)
    assert labels == {"prod": "prod", "stage": "stage"}
    assert declared_split(route, labels) == {"prod": Fraction(1, 2), "stage": Fraction(1, 2)}
    assert marker_header(route) == "X-Dbc-Variant"
    assert format_split({"prod": Fraction(7, 10), "stage": Fraction(3, 10)}) == "70/30"


def test_unmarked_backends_have_no_marker_and_cannot_be_mapped_when_ambiguous():
    routes = routes_from(
        ingress_route([{"name": "wp-prod", "port": 80, "weight": 7}, {"name": "wp-prod-2", "port": 80, "weight": 3}])
    )
    (route,) = split_routes(routes)
    assert marker_header(route) is None
    with pytest.raises(ValueError, match="cannot tell which variant is 'prod'"):
        variant_labels(route, GATE1_SPLIT)


def test_a_route_without_a_split_is_not_a_split_route():
    assert split_routes(routes_from(ingress_route([{"name": "a", "port": 80}]))) == []


def test_marker_mismatch_is_caught_when_a_marker_sits_on_the_wrong_service():
    (route,) = routes_of("70-30")
    good = {"prod <- dirtbikechina/wordpress-prod:80": 70, "stage <- dirtbikechina/wordpress-stage:80": 30}
    assert marker_mismatches(good, route) == []
    bad = {"prod <- dirtbikechina/wordpress-stage:80": 30, "prod <- ?": 5}
    (problem,) = marker_mismatches(bad, route)
    assert "wordpress-stage:80 (variant stage) carried marker 'prod'" in problem


def test_service_request_totals_sum_codes_and_methods_per_leaf_service():
    text = "\n".join(
        [
            "# HELP traefik_service_requests_total How many HTTP requests",
            "# TYPE traefik_service_requests_total counter",
            'traefik_service_requests_total{code="200",method="GET",protocol="http",service="prod@file"} 140',
            'traefik_service_requests_total{code="502",method="GET",protocol="http",service="prod@file"} 2',
            'traefik_service_requests_total{code="200",method="GET",protocol="http",service="stage@file"} 60',
            'traefik_entrypoint_requests_total{code="200",entrypoint="web"} 202',
        ]
    )
    totals = service_request_totals(text)
    assert totals == {"prod@file": 142.0, "stage@file": 60.0}
    counts = variant_counts({"prod@file": 100.0}, totals, {"prod": ("prod@file",), "stage": ("stage@file",)})
    assert counts == {"prod": 42, "stage": 60}


def test_request_path_follows_the_rule():
    (route,) = routes_of("70-30")
    assert request_path(route) == "/"
    (prefixed,) = routes_from(ingress_route([{"name": "a", "port": 80}], match="Host(`a`) && PathPrefix(`/blog`)"))
    assert request_path(prefixed) == "/blog"


def test_the_probe_reports_variants_it_cannot_place_or_count_before_sending_load(tmp_path):
    unmarked = routes_from(
        ingress_route([{"name": "wp-a", "port": 80, "weight": 7}, {"name": "wp-b", "port": 80, "weight": 3}])
    )
    endpoint = IngressEndpoint("a record only: no request is sent", "http://127.0.0.1:9", tuple(unmarked), replicas=1)
    m = measure_split(endpoint, unmarked[0], GATE1_SPLIT, lambda message: None, directory=tmp_path)
    assert not m.passed and m.requests == 0
    assert "cannot tell which variant is 'prod'" in m.verdict()
    labelled = routes_from(
        ingress_route([{"name": "wp-prod", "port": 80, "weight": 7}, {"name": "wp-stage", "port": 80, "weight": 3}])
    )
    m = measure_split(endpoint, labelled[0], GATE1_SPLIT, lambda message: None, directory=tmp_path)
    assert "no common variant marker header" in m.verdict()

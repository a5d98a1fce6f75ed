"""The www route: 70/30 between prod and stage with a variant marker, and the Traefik install it relies on."""

from __future__ import annotations

from fractions import Fraction

from overlay_checks import load_fixture

from dbc_validate.manifests.model import ManifestSet
from dbc_validate.manifests.traefik_routes import http_routes, legacy_objects


def test_www_route_splits_70_30_between_prod_and_stage_with_variant_markers(kind_set: ManifestSet):
    routes = [r for r in http_routes(kind_set) if "www.dirtbikechina.com" in r.hosts]
    assert len(routes) == 1
    route = routes[0]
    assert route.problems == ()
    assert route.entry_points == ("web",)
    assert route.shares() == {"prod": Fraction(7, 10), "stage": Fraction(3, 10)}
    by_variant = {b.variant: b for b in route.backends}
    assert by_variant["prod"].service_ref == "prod/wordpress"
    assert by_variant["stage"].service_ref == "stage/wordpress"
    assert by_variant["prod"].marker == {"X-Dbc-Variant": "prod"}
    assert by_variant["stage"].marker == {"X-Dbc-Variant": "stage"}
    assert route.middlewares == (), "markers belong to the service entries, not to the whole route"
    assert legacy_objects(kind_set) == []


def test_route_backends_are_services_that_select_the_live_wordpress(kind_set: ManifestSet):
    (route,) = [r for r in http_routes(kind_set) if "www.dirtbikechina.com" in r.hosts]
    for backend in route.backends:
        service = kind_set.get("Service", backend.name, backend.namespace)
        assert service is not None, backend.service_ref
        assert backend.port in {p["port"] for p in service.spec["ports"]}
        selector = service.spec["selector"]
        deployments = [
            d
            for d in kind_set.of_kind("Deployment")
            if d.namespace == backend.namespace and selector.items() <= d.spec["template"]["metadata"]["labels"].items()
        ]
        assert [d.name for d in deployments] == ["wordpress-blue"]


def test_traefik_install_serves_the_routes_entry_point_across_namespaces():
    traefik = load_fixture("traefik-install.yaml")["traefik"]
    assert traefik["version"].startswith("v3.7.")
    assert traefik["image"].endswith(":" + traefik["version"])
    assert traefik["namespace"] == "ingress-system"
    args = set(traefik["args"])
    assert "--providers.kubernetesCRD.allowCrossNamespace=true" in args
    assert f"--entryPoints.web.address=:{traefik['ports']['web']['containerPort']}/tcp" in args
    assert "--metrics.prometheus.entryPoint=metrics" in args
    assert traefik["ports"]["web"]["containerPort"] >= 1024, "an unprivileged port needs no capability"
    assert traefik["securityContext"]["capabilities"]["drop"] == ["ALL"]
    assert traefik["podSecurityContext"]["runAsNonRoot"] is True


def test_wordpress_policy_admits_exactly_the_traefik_pods_the_install_labels(kind_set: ManifestSet):
    labels = load_fixture("traefik-install.yaml")["traefik"]["podLabels"]
    for namespace in ("prod", "stage"):
        policy = kind_set.get("NetworkPolicy", "wordpress", namespace)
        (rule,) = policy.spec["ingress"]
        (peer,) = rule["from"]
        assert peer["namespaceSelector"] == {"matchLabels": {"kubernetes.io/metadata.name": "ingress-system"}}
        assert peer["podSelector"] == {"matchLabels": labels}

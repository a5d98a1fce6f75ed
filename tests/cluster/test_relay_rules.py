"""Which port-forwards the double relays to a local endpoint (double/relay.py), and when Traefik's metrics can
cross-check a split (the leaf services exported or not)."""

from __future__ import annotations

import pytest
from double import relay
from double.store import Double

from dbc_validate.analysis.traefik_metrics import exported

TRAEFIK_LABELS = {"app.kubernetes.io/name": "traefik"}


def _double() -> Double:
    d = Double()
    d.put("", "namespaces", None, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "edge"}})
    ports = [{"name": "web", "containerPort": 8000}, {"name": "metrics", "containerPort": 9100}]
    pod = {"metadata": {"name": "traefik-abc", "labels": TRAEFIK_LABELS}}
    pod["spec"] = {"containers": [{"name": "traefik", "image": "traefik", "ports": ports}]}
    d.put("", "pods", "edge", pod)
    d.put("", "pods", "edge", {"metadata": {"name": "other", "labels": {"app": "x"}}, "spec": {"containers": []}})
    service = {"metadata": {"name": "traefik"}, "spec": {"selector": TRAEFIK_LABELS}}
    service["spec"]["ports"] = [{"port": 80, "targetPort": "web"}, {"port": 9100, "targetPort": 9100}, {"port": 81}]
    d.put("", "services", "edge", service)
    return d


def test_a_service_rule_matches_its_selected_pods_on_the_container_port_its_target_port_names():
    d = _double()
    web = relay.Relay("edge", "svc/traefik", 80, ("127.0.0.1", 1))
    assert web.matches(d, "edge", "traefik-abc", 8000)
    assert not web.matches(d, "edge", "traefik-abc", 80)  # kubectl forwards to the container port, not the Service's
    assert not web.matches(d, "edge", "other", 8000)  # not selected by the Service
    assert not web.matches(d, "prod", "traefik-abc", 8000)
    assert relay.Relay("edge", "svc/traefik", 9100, ("127.0.0.1", 2)).matches(d, "edge", "traefik-abc", 9100)
    assert relay.Relay("edge", "svc/traefik", 81, ("127.0.0.1", 3)).matches(d, "edge", "traefik-abc", 81)
    assert not relay.Relay("edge", "svc/missing", 80, ("127.0.0.1", 4)).matches(d, "edge", "traefik-abc", 8000)


def test_relays_come_before_the_scenario_backend_and_leave_the_rest_to_it():
    d = _double()
    d.route_forward = lambda ns, pod, port: ("127.0.0.1", 9) if port == 8000 else None
    relay.install(d, [relay.Relay("e*", "pod/traefik-*", 8000, ("127.0.0.1", 5))])
    assert d.route_forward is not None
    assert d.route_forward("edge", "traefik-abc", 8000) == ("127.0.0.1", 5)
    assert d.route_forward("edge", "other", 8000) == ("127.0.0.1", 9)
    assert d.route_forward("edge", "other", 5432) is None
    with pytest.raises(ValueError, match="pod/<glob> or svc/<name>"):
        relay.Relay("edge", "deploy/traefik", 80, ("127.0.0.1", 6)).matches(d, "edge", "traefik-abc", 80)


def test_the_split_cross_check_needs_at_least_one_leaf_series():
    leaves = {"prod": ("prod-wordpress-80@kubernetescrd",), "stage": ("stage-wordpress-80@kubernetescrd",)}
    assert not exported({"prod-wordpress-80@file": 180.0}, leaves)
    assert exported({"prod-wordpress-80@kubernetescrd": 0.0}, leaves)  # a series at zero is a count, not a naming gap
    assert not exported({}, leaves)

"""The kubeconfig target finds the observability stack a cluster already runs, by its charts' Service labels."""

from __future__ import annotations

from dbc_validate.analysis.live.observability_discovery import discover
from dbc_validate.cluster.access import Observability


def svc(name, namespace, labels, ports, headless=False):
    spec = {"ports": [{"name": n, "port": p} for n, p in ports]}
    if headless:
        spec["clusterIP"] = "None"
    return {"kind": "Service", "metadata": {"name": name, "namespace": namespace, "labels": labels}, "spec": spec}


KPS = [
    svc("kps-prometheus", "observability", {"app": "kube-prometheus-stack-prometheus"}, [("http-web", 9090)]),
    svc("prometheus-operated", "observability", {"operated-prometheus": "true"}, [("web", 9090)], headless=True),
    svc("kps-grafana", "observability", {"app.kubernetes.io/name": "grafana"}, [("http-web", 80)]),
    svc("loki", "logging", {"app.kubernetes.io/name": "loki"}, [("http-metrics", 3100), ("grpc", 9095)]),
    svc("loki-headless", "logging", {"app.kubernetes.io/name": "loki"}, [("http-metrics", 3100)], headless=True),
    svc("loki-memberlist", "logging", {"app.kubernetes.io/name": "loki"}, [("tcp", 7946)]),
    svc("web", "prod", {"app": "wordpress"}, [("http", 80)]),
]


def test_a_kube_prometheus_stack_and_a_loki_chart_are_found_with_their_api_ports():
    assert discover(KPS) == {
        "prometheus": "observability/kps-prometheus:9090",
        "grafana": "observability/kps-grafana:80",
        "loki": "logging/loki:3100",
    }


def test_nothing_is_found_in_a_cluster_without_a_stack():
    assert discover(KPS[-1:]) == {}
    assert Observability.discovered({}) is None


def test_a_component_in_another_namespace_is_reached_there():
    stack = Observability.discovered(discover(KPS))
    assert stack is not None and stack.namespace == "observability"
    assert stack.proxy(stack.prometheus, "/-/ready") == (
        "/api/v1/namespaces/observability/services/http:kps-prometheus:9090/proxy/-/ready"
    )
    assert stack.proxy(stack.loki, "/ready") == "/api/v1/namespaces/logging/services/http:loki:3100/proxy/ready"


def test_a_missing_grafana_keeps_the_chart_default_in_prometheus_namespace():
    stack = Observability.discovered({"prometheus": "mon/prometheus-operated:9090"})
    assert stack.proxy(stack.grafana, "/api/health") == (
        "/api/v1/namespaces/mon/services/http:kube-prometheus-stack-grafana:80/proxy/api/health"
    )


def test_the_installed_stack_keeps_its_paths():
    stack = Observability()
    assert stack.proxy(stack.prometheus, "/x") == (
        "/api/v1/namespaces/monitoring/services/http:kube-prometheus-stack-prometheus:9090/proxy/x"
    )

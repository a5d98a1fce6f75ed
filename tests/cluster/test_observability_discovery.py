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


class _Fake:
    """A Kubectl stand-in that says which proxy path it was asked for."""

    def raw(self, path):
        return f"proxy {path}"


def test_a_component_given_a_url_is_asked_directly_the_others_through_the_proxy(tmp_path):
    import http.server
    import threading

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = f"direct {self.path}".encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        stack = Observability().with_urls({"prometheus": url})
        assert stack.fetch(_Fake(), "prometheus", "/api/v1/alerts") == "direct /api/v1/alerts"
        assert stack.fetch(_Fake(), "loki", "/ready").startswith(
            "proxy /api/v1/namespaces/monitoring/services/http:loki"
        )
    finally:
        server.shutdown()


def test_a_url_that_does_not_answer_is_a_cluster_error_without_its_password():
    import pytest

    from dbc_validate.cluster.kubectl import ClusterError

    stack = Observability().with_urls({"grafana": "http://admin:s3cret@127.0.0.1:9/"})
    with pytest.raises(ClusterError) as caught:
        stack.fetch(_Fake(), "grafana", "/api/health")
    assert "s3cret" not in str(caught.value) and "grafana at" in str(caught.value)


def test_the_url_options_are_checked_and_collected(tmp_path):
    import pytest

    from dbc_validate.options import _http_url
    from dbc_validate.settings import Settings

    assert _http_url(" https://prom.example:9090 ", tmp_path) == "https://prom.example:9090"
    for bad in ("ftp://x", "prom:9090", "http://"):
        with pytest.raises(ValueError, match="http"):
            _http_url(bad, tmp_path)
    settings = Settings(tmp_path, prometheus_url="http://p", loki_url="http://l")
    assert settings.observability_urls == {"prometheus": "http://p", "loki": "http://l"}

"""The kubeconfig target finds the observability stack a cluster already runs, by its charts' Service labels."""

from __future__ import annotations

import http.server

from helpers import http_server

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
    svc("kps-alertmanager", "observability", {"app": "kube-prometheus-stack-alertmanager"}, [("http-web", 9093)]),
    svc("alertmanager-operated", "observability", {}, [("web", 9093), ("tcp-mesh", 9094)], headless=True),
    svc("kps-grafana", "observability", {"app.kubernetes.io/name": "grafana"}, [("http-web", 80)]),
    svc("loki", "logging", {"app.kubernetes.io/name": "loki"}, [("http-metrics", 3100), ("grpc", 9095)]),
    svc("loki-headless", "logging", {"app.kubernetes.io/name": "loki"}, [("http-metrics", 3100)], headless=True),
    svc("loki-memberlist", "logging", {"app.kubernetes.io/name": "loki"}, [("tcp", 7946)]),
    svc("web", "prod", {"app": "wordpress"}, [("http", 80)]),
]


def test_a_kube_prometheus_stack_and_a_loki_chart_are_found_with_their_api_ports():
    assert discover(KPS) == {
        "prometheus": "observability/kps-prometheus:9090",
        "alertmanager": "observability/kps-alertmanager:9093",
        "grafana": "observability/kps-grafana:80",
        "loki": "logging/loki:3100",
    }


def test_nothing_is_found_in_a_cluster_without_a_stack_and_the_reason_fits_the_target():
    assert discover(KPS[-1:]) == {}
    stack = Observability.from_search({}, installed=False)
    assert not stack.found_anything and not stack.has("prometheus")
    on_kubeconfig = stack.missing_reason("prometheus", "kubeconfig")
    assert "--prometheus-url URL" in on_kubeconfig and "app=kube-prometheus-stack-prometheus" in on_kubeconfig
    assert "--with-observability" not in on_kubeconfig
    assert "--with-observability" in stack.missing_reason("prometheus", "kind")
    refused = Observability.from_search({}, False, "Services could not be listed in every namespace: Forbidden")
    assert "Forbidden" in refused.missing_reason("loki", "kubeconfig")


def test_a_component_in_another_namespace_is_reached_there():
    stack = Observability.from_search(discover(KPS), installed=False)
    assert stack.proxy_path("prometheus", "/-/ready") == (
        "/api/v1/namespaces/observability/services/http:kps-prometheus:9090/proxy/-/ready"
    )
    assert stack.proxy_path("loki", "/ready") == "/api/v1/namespaces/logging/services/http:loki:3100/proxy/ready"


def test_a_component_not_found_in_a_cluster_it_was_not_installed_on_is_absent_not_guessed():
    stack = Observability.from_search({"prometheus": "mon/prometheus-operated:9090"}, installed=False)
    assert stack.has("prometheus") and not stack.has("grafana") and not stack.has("loki")
    assert "no grafana found" in stack.missing_reason("grafana", "kubeconfig")


def test_the_installed_stack_keeps_the_chart_names_where_discovery_finds_nothing():
    stack = Observability.from_search({}, installed=True)
    assert stack.proxy_path("prometheus", "/x") == (
        "/api/v1/namespaces/monitoring/services/http:kube-prometheus-stack-prometheus:9090/proxy/x"
    )
    assert stack.service("alertmanager") == ("monitoring", "kube-prometheus-stack-alertmanager", 9093)
    found = Observability.from_search({"prometheus": "obs/prom:9090"}, installed=True)
    assert found.service("prometheus") == ("obs", "prom", 9090)


class _Fake:
    """A Kubectl stand-in that says which proxy path it was asked for."""

    def raw(self, path):
        return f"proxy {path}"


def test_a_component_given_a_url_is_asked_directly_the_others_through_the_proxy(tmp_path):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = f"direct {self.path}".encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    with http_server(Handler) as server:
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        stack = Observability.from_search({}, installed=True).with_urls({"prometheus": url})
        assert stack.fetch(_Fake(), "prometheus", "/api/v1/alerts") == "direct /api/v1/alerts"
        assert stack.fetch(_Fake(), "loki", "/ready").startswith(
            "proxy /api/v1/namespaces/monitoring/services/http:loki"
        )


def test_a_url_that_does_not_answer_is_a_cluster_error_without_its_password():
    import pytest

    from dbc_validate.cluster.kubectl import ClusterError

    stack = Observability().with_urls({"grafana": "http://admin:s3cret@127.0.0.1:9/"})
    assert "s3cret" not in stack.where("grafana")
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


class _Secrets:
    """A Kubectl stand-in for `get secret` and `get services -A`: answers, refuses (RBAC) or has nothing."""

    def __init__(self, secret=None, refuse: str = "", services=()):
        self.secret, self.refuse, self.services, self.asked = secret, refuse, list(services), []

    def get(self, resource, name, namespace=None):
        from dbc_validate.cluster.kubectl import ClusterError

        self.asked.append((resource, name, namespace))
        if self.refuse:
            raise ClusterError(f"kubectl get {resource} {name} failed: {self.refuse}")
        return self.secret

    def items(self, resource, namespace=None, **_):
        from dbc_validate.cluster.kubectl import ClusterError

        if self.refuse:
            raise ClusterError(f"kubectl get {resource} failed: {self.refuse}")
        return self.services


def _grafana_secret(**data):
    import base64

    encoded = {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}
    return {"kind": "Secret", "metadata": {"name": "kps-grafana", "namespace": "observability"}, "data": encoded}


def test_grafana_login_comes_from_the_chart_secret_beside_its_service_and_is_never_shown():
    from dbc_validate.cluster.observability_stack import grafana_login

    stack = Observability.from_search(discover(KPS), installed=False)
    kubectl = _Secrets(_grafana_secret(**{"admin-user": "root", "admin-password": "pw-9f3"}))
    login = grafana_login(kubectl, stack, installed_password="")
    assert (login.user, login.password, login.reason) == ("root", "pw-9f3", "")
    assert kubectl.asked == [("secret", "kps-grafana", "observability")]
    assert "pw-9f3" not in repr(login)
    assert grafana_login(kubectl, stack, installed_password="set-by-harness").password == "set-by-harness"


def test_grafana_login_unknown_says_what_is_missing():
    from dbc_validate.cluster.observability_stack import grafana_login

    stack = Observability.from_search(discover(KPS), installed=False)
    refused = grafana_login(_Secrets(refuse='secrets "kps-grafana" is forbidden'), stack, "")
    assert "cannot read Secret observability/kps-grafana (needs get on secrets in observability)" in refused.reason
    assert "forbidden" in refused.reason
    assert "no Secret observability/kps-grafana" in grafana_login(_Secrets(None), stack, "").reason
    no_key = grafana_login(_Secrets(_grafana_secret(**{"admin-user": "admin"})), stack, "")
    assert "no key admin-password" in no_key.reason
    nothing = Observability.from_search({}, installed=False)
    assert "no Grafana Service" in grafana_login(_Secrets(), nothing, "").reason


def test_every_cluster_target_finds_its_stack_the_same_way():
    from dbc_validate.cluster.access import find_observability

    lines: list[str] = []
    found = find_observability(_Secrets(services=KPS), "kubeconfig", False, {"loki": "http://loki:3100"}, lines.append)
    assert found.service("prometheus") == ("observability", "kps-prometheus", 9090)
    assert found.service("loki") is None and found.urls == {"loki": "http://loki:3100"}
    assert "kubeconfig: found prometheus at observability/kps-prometheus:9090" in lines
    refused = find_observability(_Secrets(refuse="forbidden"), "kubeconfig", False, {}, lines.append)
    assert not refused.found_anything and "forbidden" in refused.search_note
    installed = find_observability(_Secrets(services=[]), "kind", True, {}, lines.append)
    assert installed.service("prometheus") == ("monitoring", "kube-prometheus-stack-prometheus", 9090)

"""Gate 1 observability criteria, live, on the stack every cluster target finds the same way (the one the harness
installed with --with-observability, or the charts' Service labels in any namespace, or --prometheus-url and
friends): every target Prometheus has is up, no critical alert firing now, Grafana serving dashboards, Loki logs.
No stack found: NOT_RUN with the reason; a stack found or named that does not answer: ERROR."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from dbc_validate.analysis.findings import brief_report
from dbc_validate.analysis.live.observability import (
    critical_alerts,
    grafana_findings,
    loki_findings,
    loki_query,
    prometheus_target_findings,
)
from dbc_validate.cluster.kubectl import ClusterError
from dbc_validate.cluster.observability_stack import grafana_login

pytestmark = pytest.mark.live


def _component(cluster, component: str, ready_path: str):
    """The stack, once `component` answers `ready_path`: skip when it was not found, ERROR when it does not answer."""
    stack = cluster.observability
    if not stack.has(component):
        pytest.skip(stack.missing_reason(component, cluster.target))
    try:
        stack.fetch(cluster.kubectl, component, ready_path)
    except ClusterError as exc:
        pytest.fail(f"{component} at {stack.where(component)} does not answer {ready_path}: {exc}", pytrace=False)
    return stack


@pytest.fixture(scope="module")
def stack(cluster):
    return _component(cluster, "prometheus", "/-/ready")


@pytest.fixture(scope="module")
def grafana(cluster):
    return _component(cluster, "grafana", "/api/health")


@pytest.fixture(scope="module")
def loki(cluster):
    return _component(cluster, "loki", "/ready")


def _json(cluster, component, path):
    return json.loads(cluster.observability.fetch(cluster.kubectl, component, path))


@pytest.mark.gate1("observability.prometheus_targets")
def test_prometheus_scrapes_every_target(cluster, stack, gate1_evidence):
    targets = _json(cluster, "prometheus", "/api/v1/targets?state=active")
    findings = prometheus_target_findings(targets)
    gate1_evidence.measure("active_targets", len((targets.get("data") or {}).get("activeTargets") or []))
    gate1_evidence.threshold(not findings, f"{len(findings)} target(s) not up")
    assert not findings, brief_report(findings)


@pytest.mark.gate1("observability.no_critical_alerts")
def test_no_critical_alert_is_firing(cluster, stack, gate1_evidence):
    findings = critical_alerts(_json(cluster, "prometheus", "/api/v1/alerts"))
    gate1_evidence.threshold(not findings, f"{len(findings)} critical alert(s) firing")
    assert not findings, brief_report(findings)


@pytest.mark.gate1("observability.grafana_dashboards")
def test_grafana_serves_its_dashboards(cluster, grafana, gate1_evidence):
    health = _json(cluster, "grafana", "/api/health")
    installed = cluster.record.grafana_password if cluster.record is not None else ""
    login = grafana_login(cluster.kubectl, grafana, installed)
    if login.reason:
        pytest.skip(f"nothing to check: Grafana's dashboards need its admin login: {login.reason}")
    if "grafana" in grafana.urls:
        search = grafana.fetch(cluster.kubectl, "grafana", "/api/search", headers=login.header())
    else:
        search = _search_inside_grafana_pod(cluster, grafana, login)
    findings = grafana_findings(health, json.loads(search))
    gate1_evidence.threshold(not findings, "Grafana healthy with dashboards")
    assert not findings, brief_report(findings)


def _search_inside_grafana_pod(cluster, grafana, login) -> str:
    # The API server's service proxy does not forward our credentials: ask from inside the Grafana pod.
    namespace, _, _ = grafana.service("grafana")
    pods = cluster.kubectl.items("pods", namespace, selector="app.kubernetes.io/name=grafana")
    if not pods:
        pytest.fail(f"no Grafana pod (app.kubernetes.io/name=grafana) in {namespace}", pytrace=False)
    auth = login.header()["Authorization"]
    result = cluster.kubectl.exec(
        namespace, pods[0]["metadata"]["name"], "grafana",
        ["wget", "-q", "-O", "-", "--header", f"Authorization: {auth}", "http://127.0.0.1:3000/api/search"],
    )  # fmt: skip
    assert result.returncode == 0, "Grafana /api/search failed inside its pod"
    return result.stdout


@pytest.mark.gate1("observability.loki_logs")
def test_loki_returns_application_logs(cluster, loki, gate1_evidence):
    namespace = cluster.app_namespaces[0]
    query = loki_query(namespace)
    answer = _json(cluster, "loki", f"/loki/api/v1/query_range?query={quote(query)}&limit=10")
    findings = loki_findings(answer, namespace)
    gate1_evidence.threshold(not findings, f"Loki returned lines for {query}")
    assert not findings, brief_report(findings)

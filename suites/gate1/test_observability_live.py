"""Gate 1 observability criteria, live, when the stack is installed (--with-observability on kind/k3d,
or already present on a kubeconfig cluster): Prometheus targets up, Grafana dashboards, Loki logs, alerts."""

from __future__ import annotations

import base64
import json

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

pytestmark = pytest.mark.live


@pytest.fixture(scope="module")
def stack(cluster):
    if cluster.observability is None:
        pytest.skip("the observability stack is not installed: pass --with-observability (kind/k3d)")
    try:
        cluster.observability.fetch(cluster.kubectl, "prometheus", "/-/ready")
    except ClusterError as exc:
        pytest.skip(f"no Prometheus answers in namespace {cluster.observability.namespace}: {exc}")
    return cluster.observability


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
def test_grafana_serves_its_dashboards(cluster, stack, gate1_evidence):
    health = _json(cluster, "grafana", "/api/health")
    password = cluster.record.grafana_password if cluster.record is not None else ""
    if not password:
        pytest.skip("the Grafana admin password is only known when the harness installed the stack")
    auth = base64.b64encode(f"admin:{password}".encode()).decode()
    # The API server's service proxy does not forward our credentials: ask from inside the Grafana pod.
    pods = cluster.kubectl.items("pods", stack.namespace, selector="app.kubernetes.io/name=grafana")
    if not pods:
        pytest.fail("no Grafana pod found")
    result = cluster.kubectl.exec(
        stack.namespace, pods[0]["metadata"]["name"], "grafana",
        ["wget", "-q", "-O", "-", "--header", f"Authorization: Basic {auth}", "http://127.0.0.1:3000/api/search"],
    )  # fmt: skip
    assert result.returncode == 0, "Grafana /api/search failed inside its pod"
    findings = grafana_findings(health, json.loads(result.stdout))
    gate1_evidence.threshold(not findings, "Grafana healthy with dashboards")
    assert not findings, brief_report(findings)


@pytest.mark.gate1("observability.loki_logs")
def test_loki_returns_application_logs(cluster, stack, gate1_evidence):
    namespace = cluster.app_namespaces[0]
    query = loki_query(namespace)
    from urllib.parse import quote

    answer = _json(cluster, "loki", f"/loki/api/v1/query_range?query={quote(query)}&limit=10")
    findings = loki_findings(answer, namespace)
    gate1_evidence.threshold(not findings, f"Loki returned lines for {query}")
    assert not findings, brief_report(findings)

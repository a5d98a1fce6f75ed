"""Observability analysis: which Prometheus takes which monitor, the predicted targets, and each way they break."""

from __future__ import annotations

import json
from typing import Any

import pytest
from analysis_builders import cnpg_cluster, deployment, manifest_set, netpol

from dbc_validate.analysis import analyze
from dbc_validate.analysis.monitoring import dashboards, prometheus_instances
from dbc_validate.analysis.netpol import build_model
from dbc_validate.analysis.observability import PromQLVerdicts
from dbc_validate.analysis.promql_text import expression_errors, expressions_rule_file, promql_of
from dbc_validate.analysis.scrape_targets import predict_targets

RELEASE = {"release": "kube-prometheus-stack"}


def service(ns: str, name: str, selector: dict[str, str], ports: list[dict[str, Any]], **labels: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": ns, "labels": labels or dict(selector)},
        "spec": {"selector": selector, "ports": ports},
    }


def monitor(
    kind: str, ns: str, name: str, spec: dict[str, Any], labels: dict[str, str] | None = None
) -> dict[str, Any]:
    meta = {"name": name, "namespace": ns, "labels": RELEASE if labels is None else labels}
    return {"apiVersion": "monitoring.coreos.com/v1", "kind": kind, "metadata": meta, "spec": spec}


def smon(ns: str = "demo", port: str = "metrics", labels: dict[str, str] | None = None, **spec: Any) -> dict[str, Any]:
    body = {"selector": {"matchLabels": {"app": "web"}}, "endpoints": [{"port": port}], **spec}
    return monitor("ServiceMonitor", ns, "web", body, labels)


def web() -> list[dict[str, Any]]:
    return [
        deployment("demo", "web", container_ports=[(8080, "TCP", "http"), (9100, "TCP", "metrics")]),
        service("demo", "web", {"app": "web"}, [{"name": "metrics", "port": 9100, "targetPort": "metrics"}]),
    ]


def rules_of(*docs: dict[str, Any], promql: PromQLVerdicts | None = None) -> set[str]:
    result = analyze(manifest_set(*docs), promql=promql or PromQLVerdicts("test"))
    return {f.rule for f in result.of_category("observability")}


def test_the_default_stack_takes_a_labelled_service_monitor_and_predicts_its_target():
    prediction = predict_targets(build_model(manifest_set(*web(), smon())))
    assert not prediction.findings
    [target] = prediction.targets
    assert (target.prometheus, target.workload, target.port, target.path) == (
        "monitoring/kube-prometheus-stack-prometheus",
        "demo/web",
        9100,
        "/metrics",
    )
    assert target.job == "web" and target.allowed


def test_an_unlabelled_monitor_is_taken_only_when_nil_uses_helm_values_is_false():
    unlabelled = smon(labels={})
    assert "observability.monitor-not-selected" in rules_of(*web(), unlabelled)
    values = "prometheus:\n  prometheusSpec:\n    serviceMonitorSelectorNilUsesHelmValues: false\n"
    chart = {
        "apiVersion": "helm.cattle.io/v1",
        "kind": "HelmChart",
        "metadata": {"name": "monitoring", "namespace": "kube-system"},
        "spec": {"chart": "kube-prometheus-stack", "targetNamespace": "monitoring", "valuesContent": values},
    }
    assert rules_of(*web(), unlabelled, chart) == set()
    [instance] = prometheus_instances(manifest_set(chart))
    assert instance.id == "monitoring/monitoring-kube-prometheus-prometheus"  # fullname truncated to 26


def test_a_prometheus_cr_without_selectors_takes_nothing_and_with_empty_ones_only_its_namespace():
    def prometheus(spec: dict[str, Any]) -> dict[str, Any]:
        meta = {"name": "main", "namespace": "monitoring"}
        return {"apiVersion": "monitoring.coreos.com/v1", "kind": "Prometheus", "metadata": meta, "spec": spec}

    assert "observability.monitor-not-selected" in rules_of(*web(), smon(), prometheus({}))
    own_namespace_only = prometheus({"serviceMonitorSelector": {}})
    assert "observability.monitor-not-selected" in rules_of(*web(), smon(), own_namespace_only)
    everywhere = prometheus({"serviceMonitorSelector": {}, "serviceMonitorNamespaceSelector": {}})
    assert rules_of(*web(), smon(), everywhere) == set()


def test_a_monitor_elsewhere_needs_a_namespace_selector():
    elsewhere = smon(ns="monitoring")
    assert rules_of(*web(), elsewhere) == {"observability.monitor-selects-nothing"}
    assert rules_of(*web(), smon(ns="monitoring", namespaceSelector={"matchNames": ["demo"]})) == set()
    assert rules_of(*web(), smon(ns="monitoring", namespaceSelector={"any": True})) == set()


def test_port_names_and_exporters_are_checked_against_the_real_ports():
    assert rules_of(*web(), smon(port="http-metrics")) == {"observability.port-not-found"}
    to_nowhere = service("demo", "web", {"app": "web"}, [{"name": "metrics", "port": 9187, "targetPort": 9187}])
    assert rules_of(web()[0], to_nowhere, smon()) == {"observability.exporter-missing"}
    pod_monitor = monitor(
        "PodMonitor",
        "demo",
        "web",
        {"selector": {"matchLabels": {"app": "web"}}, "podMetricsEndpoints": [{"port": "prom"}]},
    )
    assert rules_of(web()[0], pod_monitor) == {"observability.port-not-found"}


def test_cnpg_metrics_through_its_services_are_not_found_but_a_pod_monitor_works():
    cluster = cnpg_cluster("infra", "pg")
    on_rw = monitor(
        "ServiceMonitor",
        "infra",
        "pg",
        {"selector": {"matchLabels": {"cnpg.io/cluster": "pg"}}, "endpoints": [{"port": "metrics"}]},
    )
    assert rules_of(cluster, on_rw) == {"observability.port-not-found"}
    pods = monitor(
        "PodMonitor",
        "infra",
        "pg",
        {"selector": {"matchLabels": {"cnpg.io/cluster": "pg"}}, "podMetricsEndpoints": [{"port": "metrics"}]},
    )
    [target] = predict_targets(build_model(manifest_set(cluster, pods))).targets
    assert target.port == 9187 and len(target.pods) == 3


def test_a_default_deny_blocks_the_scrape_until_prometheus_is_admitted():
    deny = netpol("demo", "deny", {"podSelector": {}, "policyTypes": ["Ingress"]})
    assert rules_of(*web(), smon(), deny) == {"observability.scrape-blocked"}
    admit = netpol(
        "demo",
        "prometheus",
        {
            "podSelector": {"matchLabels": {"app": "web"}},
            "ingress": [
                {
                    "from": [
                        {
                            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}},
                            "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}},
                        }
                    ],
                    "ports": [{"port": 9100}],
                }
            ],
        },
    )
    assert rules_of(*web(), smon(), deny, admit) == set()
    # The Prometheus pods are in the model, so the admitting peer matches something.
    assert not analyze(manifest_set(*web(), smon(), deny, admit)).of_rule("network-policy.peer-matches-nothing")


def _rule(labels: dict[str, str] | None = None, alert_labels: dict[str, str] | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {"alert": "Down", "expr": "up == 0"}
    if alert_labels is not None:
        entry["labels"] = alert_labels
    return monitor("PrometheusRule", "demo", "web", {"groups": [{"name": "g", "rules": [entry]}]}, labels)


def test_rules_need_the_release_label_and_a_severity():
    assert rules_of(_rule(alert_labels={"severity": "critical"})) == set()
    assert rules_of(_rule(alert_labels={})) == {"observability.alert-without-severity"}
    assert rules_of(_rule(labels={}, alert_labels={"severity": "critical"})) == {"observability.rules-not-selected"}


def test_promtool_verdicts_become_findings_and_their_absence_an_info():
    rule = _rule(alert_labels={"severity": "critical"})
    verdicts = PromQLVerdicts("promtool 2.42.0", (("PrometheusRule/demo/web", ("bad expr",)),))
    assert rules_of(rule, promql=verdicts) == {"observability.rule-invalid"}
    result = analyze(manifest_set(rule))
    assert [f.rule for f in result.of_category("observability")] == ["observability.promql-not-checked"]


def _dashboard(text: str) -> dict[str, Any]:
    meta = {"name": "d", "namespace": "demo", "labels": {"grafana_dashboard": "1"}}
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": {"d.json": text, "notes.txt": "x"}}


def test_dashboard_queries_are_found_in_rows_and_checked_after_variable_substitution():
    board = {
        "title": "D",
        "panels": [
            {"title": "Rate", "targets": [{"refId": "A", "expr": 'rate(x_total{ns=~"$ns"}[$__rate_interval])'}]},
            {"type": "row", "panels": [{"title": "Inner", "targets": [{"refId": "B", "expr": "sum(up"}]}]},
        ],
    }
    [found] = dashboards(manifest_set(_dashboard(json.dumps(board))))
    assert [q.expr for q in found.queries] == ['rate(x_total{ns=~".*"}[5m])', "sum(up"]
    verdicts = PromQLVerdicts("promtool", (), (("sum(up", "unclosed left parenthesis"),))
    assert rules_of(_dashboard(json.dumps(board)), promql=verdicts) == {"observability.dashboard-invalid"}
    assert rules_of(_dashboard("{not json")) == {"observability.dashboard-invalid"}


@pytest.mark.parametrize(
    ("grafana", "promql"),
    [
        ("rate(a[$__rate_interval])", "rate(a[5m])"),
        ("rate(a[${__interval}])", "rate(a[5m])"),
        ("max_over_time(a[$__range:$step])", "max_over_time(a[5m:5m])"),
        ('a{job="$job", pod=~"[[pod]]"}', 'a{job=".*", pod=~".*"}'),
        ("a", "a"),
    ],
)
def test_grafana_variables_are_replaced(grafana: str, promql: str):
    assert promql_of(grafana) == promql


def test_expression_errors_map_promtool_lines_back_to_expressions():
    text = expressions_rule_file(["up", 'sum(x{a="b"}'])
    assert 'expr: "sum(x{a=\\"b\\"}"' in text
    stderr = '5:11: group "expressions", rule 2, "e1": could not parse expression: 1:9: parse error: unclosed'
    assert expression_errors(stderr, 2) == [None, "could not parse expression: 1:9: parse error: unclosed"]


def test_the_projects_overlay_predicts_its_targets_without_findings(kind_set):
    prediction = predict_targets(build_model(kind_set))
    assert {(t.workload, t.port) for t in prediction.targets} == {
        ("infra/postgres-cluster", 9187),
        ("ingress-system/traefik", 9100),
    }
    assert all(t.allowed for t in prediction.targets)
    assert analyze(kind_set, promql=PromQLVerdicts("test")).of_category("observability") == []

"""Observability criteria decided from the manifest set: the predicted scrape targets, the alerting rules and the
dashboards, and the log path Promtail -> Loki (static scope; the local lab and the cluster prove them on a running
stack)."""

from __future__ import annotations

import pytest

from dbc_validate.analysis import analyze
from dbc_validate.analysis.findings import failure_report
from dbc_validate.analysis.log_shipping import Component, log_shipping_problems
from dbc_validate.analysis.monitoring import dashboards, monitors, rule_resources
from dbc_validate.analysis.netpol import build_model
from dbc_validate.analysis.scrape_targets import predict_targets
from dbc_validate.cluster.access import SYSTEM_NAMESPACES
from dbc_validate.cluster.pins import load_pins
from dbc_validate.probes.promql_check import check_promql

pytestmark = pytest.mark.static

TARGET_RULES = (
    "observability.monitor-not-selected",
    "observability.monitor-selects-nothing",
    "observability.port-not-found",
    "observability.exporter-missing",
    "observability.scrape-blocked",
)
ALERT_RULES = ("observability.rules-not-selected", "observability.rule-invalid", "observability.alert-without-severity")


_VERDICTS: dict[int, tuple[object, object]] = {}


def _observability(manifest_set):
    # promtool runs once per manifest set for the whole module (the set object is kept alive with its verdicts).
    kept = _VERDICTS.get(id(manifest_set))
    if kept is None or kept[0] is not manifest_set:
        kept = _VERDICTS[id(manifest_set)] = (manifest_set, check_promql(manifest_set))
    return analyze(manifest_set, promql=kept[1])


def _record_unchecked(result, gate1_evidence) -> None:
    for unchecked in result.of_rule("observability.promql-not-checked"):
        gate1_evidence.note(f"{unchecked.message}; {unchecked.fix}")


@pytest.mark.gate1("observability.prometheus_targets")
def test_every_monitor_gives_targets_prometheus_can_scrape(manifest_set, gate1_evidence):
    if not monitors(manifest_set):
        pytest.skip("nothing to check: the set has no ServiceMonitor or PodMonitor")
    prediction = predict_targets(build_model(manifest_set))
    problems = _observability(manifest_set).of_rule(*TARGET_RULES)
    gate1_evidence.measure("predicted_targets", len(prediction.targets))
    for target in prediction.targets:
        gate1_evidence.note(target.describe())
    gate1_evidence.threshold(
        bool(prediction.targets) and not problems,
        f"{len(prediction.targets)} predicted target(s), {len(problems)} problem(s)",
    )
    assert not problems, failure_report(problems, "Prometheus would miss targets")
    assert prediction.targets, "the monitors predict no scrape target"


@pytest.mark.gate1("observability.no_critical_alerts")
def test_alerting_rules_load_parse_and_carry_a_severity(manifest_set, gate1_evidence):
    resources = rule_resources(manifest_set)
    if not resources:
        pytest.skip("nothing to check: the set has no PrometheusRule")
    result = _observability(manifest_set)
    _record_unchecked(result, gate1_evidence)
    problems = result.of_rule(*ALERT_RULES)
    alerts = sum(r.alert for res in resources for r in res.rules)
    gate1_evidence.measure("alerting_rules", alerts)
    gate1_evidence.threshold(not problems, f"{alerts} alerting rule(s), {len(problems)} problem(s)")
    assert not problems, failure_report(problems, "alerting rules would not be evaluated as written")


@pytest.mark.gate1("observability.grafana_dashboards")
def test_dashboards_parse_with_their_queries(manifest_set, gate1_evidence):
    boards = dashboards(manifest_set)
    if not boards:
        pytest.skip("nothing to check: the set has no ConfigMap labelled grafana_dashboard")
    result = _observability(manifest_set)
    _record_unchecked(result, gate1_evidence)
    problems = result.of_rule("observability.dashboard-invalid")
    queries = sum(len(b.queries) for b in boards)
    gate1_evidence.measure("dashboard_queries", queries)
    gate1_evidence.threshold(not problems and queries > 0, f"{len(boards)} dashboard(s), {queries} panel query(ies)")
    assert not problems, failure_report(problems, "dashboards would not render")
    assert queries, "the dashboards have no panel query"


@pytest.mark.gate1("observability.loki_logs")
def test_promtail_ships_the_application_namespaces_to_loki(manifest_set, gate1_evidence):
    pins = load_pins()
    components = {
        name: Component(addon.name, addon.namespace, addon.values)
        for name in ("loki", "promtail")
        if (addon := pins.addon(name)) is not None
    }
    namespaces = [ns for ns in manifest_set.namespaces if ns not in SYSTEM_NAMESPACES]
    if not namespaces:
        pytest.skip("nothing to check: the set has no application namespace")
    problems = log_shipping_problems(components.get("loki"), components.get("promtail"), namespaces)
    gate1_evidence.note("Loki has no local stand-in: whether logs arrive is checked only on a cluster")
    gate1_evidence.measure("application_namespaces", len(namespaces))
    gate1_evidence.threshold(not problems, "; ".join(problems) or f"Promtail -> Loki keeps {', '.join(namespaces)}")
    assert not problems, "\n".join(problems)

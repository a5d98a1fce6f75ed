"""Observability criteria on a running Prometheus (the `observability` capability: locally a lab of Debian's
Prometheus, Alertmanager and exporters built from the set; on a cluster the stack its one finder found), judged
against what the set predicts: its targets up, no critical alert, its dashboards with data."""

from __future__ import annotations

import pytest

from dbc_validate.analysis.findings import brief_report
from dbc_validate.analysis.live.observability import critical_alerts
from dbc_validate.analysis.monitoring import dashboards
from dbc_validate.analysis.observability_checks import (
    exporter_findings,
    pool_findings,
    query_findings,
    rule_health_findings,
)
from dbc_validate.probes.prometheus_queries import get_json, query_dashboards, wait_rules_evaluated


def _notes(observability, gate1_evidence) -> None:
    gate1_evidence.note(observability.description)
    for note in observability.notes:
        gate1_evidence.note(note)


@pytest.mark.gate1("observability.prometheus_targets")
def test_every_expected_target_is_scraped_and_up(observability, gate1_evidence):
    if not observability.expected_pools:
        pytest.skip("nothing to check: the set's monitors give no target this stack can stand in for")
    _notes(observability, gate1_evidence)
    prometheus = observability.prometheus_url
    targets = get_json(prometheus, "/api/v1/targets?state=active")
    findings = pool_findings(targets, observability.expected_pools)
    findings += exporter_findings(get_json(prometheus, "/api/v1/query?query=pg_up"))
    active = (targets.get("data") or {}).get("activeTargets") or []
    gate1_evidence.measure("expected_scrape_pools", len(observability.expected_pools))
    gate1_evidence.measure("active_targets_up", sum(t.get("health") == "up" for t in active))
    gate1_evidence.threshold(not findings, f"{len(findings)} expected target(s) missing or not up")
    assert not findings, brief_report(findings)


@pytest.mark.gate1("observability.no_critical_alerts")
def test_no_critical_alert_fires_once_the_rules_ran_twice(observability, gate1_evidence):
    _notes(observability, gate1_evidence)
    prometheus = observability.prometheus_url
    groups = wait_rules_evaluated(prometheus, intervals=2, timeout_s=30 * observability.evaluation_interval_s)
    rules = get_json(prometheus, "/api/v1/rules")
    findings = rule_health_findings(rules) + critical_alerts(get_json(prometheus, "/api/v1/alerts"))
    gate1_evidence.measure("rule_groups_evaluated", len(groups))
    if observability.alertmanager_url:
        wired = get_json(prometheus, "/api/v1/alertmanagers")
        gate1_evidence.measure("alertmanagers", len((wired.get("data") or {}).get("activeAlertmanagers") or []), None)
    gate1_evidence.threshold(not findings, f"{len(findings)} critical alert(s) firing or rule(s) failing")
    assert not findings, brief_report(findings)


@pytest.mark.gate1("observability.grafana_dashboards")
def test_every_dashboard_query_returns_series(observability, manifest_set, gate1_evidence):
    boards = dashboards(manifest_set)
    if not boards:
        pytest.skip("nothing to check: the set has no ConfigMap labelled grafana_dashboard")
    _notes(observability, gate1_evidence)
    for component, reason in observability.absent.items():
        if component == "grafana":
            gate1_evidence.note(reason)
    answers = query_dashboards(observability.prometheus_url, boards)
    findings = query_findings(answers)
    gate1_evidence.measure("panel_queries", len(answers))
    gate1_evidence.measure("panel_queries_with_series", len(answers) - len(findings))
    gate1_evidence.threshold(not findings and bool(answers), f"{len(findings)} of {len(answers)} queries without data")
    assert answers, "the dashboards have no panel query"
    assert not findings, brief_report(findings)


@pytest.mark.gate1("applications.logs_metrics_visible")
def test_metrics_of_every_monitored_component_are_visible(observability, gate1_evidence):
    if not observability.expected_pools:
        pytest.skip("nothing to check: the set's monitors give no target this stack can stand in for")
    for component, reason in observability.absent.items():
        if component == "loki":
            gate1_evidence.note(f"metrics half only: {reason}")
    answer = get_json(observability.prometheus_url, "/api/v1/query?query=count+by+(job)+(up+%3D%3D+1)")
    visible = {s["metric"].get("job") for s in (answer.get("data") or {}).get("result") or []}
    targets = get_json(observability.prometheus_url, "/api/v1/targets?state=active")
    jobs = {
        t["labels"].get("job")
        for t in (targets.get("data") or {}).get("activeTargets") or []
        if t.get("scrapePool") in observability.expected_pools
    }
    missing = sorted(j for j in jobs if j not in visible) or ([] if jobs else ["every expected job"])
    gate1_evidence.measure("jobs_with_metrics", len(jobs & visible))
    gate1_evidence.threshold(not missing, f"jobs without metrics: {', '.join(missing) or 'none'}")
    assert not missing, f"no metrics visible for job(s) {', '.join(missing)}"

"""Observability rules: scrape targets (scrape_targets.py), rule groups, alerts' severity and dashboards. Pure.

PromQL and rule files are judged by the real `promtool`, which is I/O: its verdicts come in as data
(`PromQLVerdicts`, made by probes/promql_check.py). Without them the rules that need promtool say "not checked".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from dbc_validate.analysis.cluster_model import ClusterModel
from dbc_validate.analysis.findings import Finding, finding
from dbc_validate.analysis.monitoring import dashboards, prometheus_instances, rule_resources
from dbc_validate.analysis.scrape_targets import predict_targets, selection_summary


@dataclass(frozen=True)
class PromQLVerdicts:
    """What promtool said: per PrometheusRule ref its error lines, per expression its error (absent: it parsed)."""

    checker: str  # e.g. "promtool 2.42.0"
    rule_errors: tuple[tuple[str, tuple[str, ...]], ...] = ()
    expression_errors: tuple[tuple[str, str], ...] = ()

    @property
    def rules(self) -> Mapping[str, tuple[str, ...]]:
        return dict(self.rule_errors)

    @property
    def expressions(self) -> Mapping[str, str]:
        return dict(self.expression_errors)


def rule_findings(model: ClusterModel, verdicts: PromQLVerdicts | None) -> list[Finding]:
    manifests = model.manifests
    if manifests is None:
        return []
    instances = prometheus_instances(manifests)
    findings = []
    for resource in rule_resources(manifests):
        obj = resource.obj
        labels = model.namespace_labels(obj.namespace or "default")
        if not any(p.selects(obj, labels) for p in instances):
            how = selection_summary(instances, "PrometheusRule")
            findings.append(finding("observability.rules-not-selected", obj.ref, f"no Prometheus loads it: {how}"))
        for rule in resource.rules:
            if rule.alert and not rule.labels.get("severity"):
                message = f"group {rule.group!r} alert {rule.name!r} has no severity label"
                findings.append(finding("observability.alert-without-severity", obj.ref, message))
        if verdicts is not None:
            for line in verdicts.rules.get(obj.ref, ()):
                findings.append(finding("observability.rule-invalid", obj.ref, f"{verdicts.checker}: {line}"))
    return findings


def dashboard_findings(model: ClusterModel, verdicts: PromQLVerdicts | None) -> list[Finding]:
    if model.manifests is None:
        return []
    findings = []
    for dashboard in dashboards(model.manifests):
        if dashboard.problem:
            findings.append(finding("observability.dashboard-invalid", dashboard.obj.ref, dashboard.problem))
            continue
        if verdicts is None:
            continue
        for query in dashboard.queries:
            error = verdicts.expressions.get(query.expr)
            if error:
                message = f"{query.where}: {query.expr!r} does not parse ({verdicts.checker}: {error})"
                findings.append(finding("observability.dashboard-invalid", dashboard.obj.ref, message))
    return findings


def unchecked_findings(model: ClusterModel, verdicts: PromQLVerdicts | None) -> list[Finding]:
    """One info finding when there was PromQL to check and promtool did not check it."""
    if verdicts is not None or model.manifests is None:
        return []
    rules = rule_resources(model.manifests)
    queries = sum(len(d.queries) for d in dashboards(model.manifests))
    if not rules and not queries:
        return []
    what = f"{len(rules)} PrometheusRule(s) and {queries} dashboard query(ies)"
    obj = rules[0].obj.ref if rules else dashboards(model.manifests)[0].obj.ref
    return [finding("observability.promql-not-checked", obj, f"{what} not checked: promtool is not available")]


def observability_findings(model: ClusterModel, verdicts: PromQLVerdicts | None = None) -> list[Finding]:
    """Scrape-target, rule and dashboard findings of the set in `model`."""
    return [
        *predict_targets(model).findings,
        *rule_findings(model, verdicts),
        *dashboard_findings(model, verdicts),
        *unchecked_findings(model, verdicts),
    ]

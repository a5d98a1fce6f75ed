"""Judging a running Prometheus against what the set expects: scrape pools up, rules evaluated, no critical
alert firing, dashboard queries returning series. Pure: API answers (parsed JSON) in, findings out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dbc_validate.analysis.findings import Finding, finding

RULE = "live.observability"


def _data(answer: Mapping[str, Any]) -> Mapping[str, Any]:
    return answer.get("data") or {} if answer.get("status") == "success" else {}


def pool_findings(targets: Mapping[str, Any], expected: Mapping[str, str]) -> list[Finding]:
    """Every expected scrape pool has targets and all of them are up (/api/v1/targets answer)."""
    if targets.get("status") != "success":
        return [finding(RULE, "Prometheus", f"/api/v1/targets answered status {targets.get('status')!r}")]
    by_pool: dict[str, list[Mapping[str, Any]]] = {}
    for target in _data(targets).get("activeTargets") or []:
        by_pool.setdefault(str(target.get("scrapePool")), []).append(target)
    findings = []
    for pool, meaning in sorted(expected.items()):
        active = by_pool.get(pool, [])
        if not active:
            findings.append(finding(RULE, f"scrape pool {pool}", f"missing from Prometheus: no target for {meaning}"))
        for target in active:
            if target.get("health") != "up":
                error = target.get("lastError") or "never scraped"
                message = f"{target.get('scrapeUrl')} is {target.get('health')}: {error} ({meaning})"
                findings.append(finding(RULE, f"scrape pool {pool}", message))
    return findings


def exporter_findings(pg_up: Mapping[str, Any]) -> list[Finding]:
    """postgres exporters answer HTTP 200 with the database down: their pg_up must be 1 too."""
    findings = []
    for series in _data(pg_up).get("result") or []:
        value = (series.get("value") or [None, None])[1]
        if value != "1":
            labels = series.get("metric") or {}
            message = f"pg_up is {value}: the exporter answers but cannot reach its database"
            findings.append(finding(RULE, f"job {labels.get('job')} {labels.get('instance')}", message))
    return findings


def evaluation_times(rules: Mapping[str, Any]) -> dict[str, str]:
    """Group name -> lastEvaluation from /api/v1/rules (groups never evaluated are absent)."""
    result = {}
    for group in _data(rules).get("groups") or []:
        last = str(group.get("lastEvaluation") or "")
        if last and not last.startswith("0001"):
            result[f"{group.get('file')}:{group.get('name')}"] = last
    return result


def rule_health_findings(rules: Mapping[str, Any]) -> list[Finding]:
    """Rules Prometheus could not evaluate (health err) fail: an alert that errors never fires."""
    findings = []
    for group in _data(rules).get("groups") or []:
        for rule in group.get("rules") or []:
            if rule.get("health") == "err":
                where = f"rule group {group.get('name')}"
                findings.append(finding(RULE, where, f"{rule.get('name')}: {rule.get('lastError')}"))
    return findings


@dataclass(frozen=True)
class QueryAnswer:
    where: str  # "ConfigMap/ns/name dashboard.json panel 'x' target A"
    expr: str
    answer: Mapping[str, Any]  # the /api/v1/query JSON (an error answer included)


def query_findings(answers: Sequence[QueryAnswer]) -> list[Finding]:
    """Each dashboard query executed and returned at least one series."""
    findings = []
    for item in answers:
        obj, _, where = item.where.partition(" ")
        if item.answer.get("status") != "success":
            message = f"{where}: {item.expr!r} failed: {item.answer.get('error') or item.answer.get('status')}"
            findings.append(finding(RULE, obj, message))
        elif not (_data(item.answer).get("result")):
            findings.append(finding(RULE, obj, f"{where}: {item.expr!r} returns no series"))
    return findings

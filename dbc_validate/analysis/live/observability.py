"""Observability criteria from the stack's own APIs: Prometheus targets and alerts, Grafana, Loki."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dbc_validate.analysis.findings import Finding, finding

# Alerts that fire by design (a dead man's switch proving the alerting pipeline works).
ALWAYS_FIRING = frozenset({"Watchdog", "InfoInhibitor"})


def prometheus_target_findings(targets: Mapping[str, Any]) -> list[Finding]:
    """Every active target of /api/v1/targets must have health "up"."""
    if targets.get("status") != "success":
        return [
            finding("live.observability", "Prometheus", f"/api/v1/targets answered status {targets.get('status')!r}")
        ]
    active = (targets.get("data") or {}).get("activeTargets") or []
    if not active:
        return [finding("live.observability", "Prometheus", "no active scrape targets")]
    findings = []
    for t in active:
        if t.get("health") != "up":
            job = (t.get("labels") or {}).get("job", "?")
            findings.append(
                finding(
                    "live.observability",
                    f"target {job} {t.get('scrapeUrl', '')}",
                    f"{t.get('health')}: {t.get('lastError', '')}",
                )
            )
    return findings


def critical_alerts(alerts: Mapping[str, Any]) -> list[Finding]:
    """Firing alerts labelled severity=critical in /api/v1/alerts (by-design alerts excluded)."""
    if alerts.get("status") != "success":
        return [finding("live.observability", "Prometheus", f"/api/v1/alerts answered status {alerts.get('status')!r}")]
    findings = []
    for a in (alerts.get("data") or {}).get("alerts") or []:
        labels = a.get("labels") or {}
        firing_critical = a.get("state") == "firing" and labels.get("severity") == "critical"
        if firing_critical and labels.get("alertname") not in ALWAYS_FIRING:
            summary = (a.get("annotations") or {}).get("summary", "")
            findings.append(finding("live.observability", f"alert {labels.get('alertname')}", f"firing: {summary}"))
    return findings


def grafana_findings(health: Mapping[str, Any], dashboards: Sequence[Mapping[str, Any]]) -> list[Finding]:
    """Grafana's /api/health says the database is ok and /api/search lists at least one dashboard."""
    findings = []
    if health.get("database") != "ok":
        findings.append(finding("live.observability", "Grafana", f"/api/health database: {health.get('database')!r}"))
    if not [d for d in dashboards if d.get("type") == "dash-db"]:
        findings.append(finding("live.observability", "Grafana", "/api/search lists no dashboard"))
    return findings


def loki_findings(query: Mapping[str, Any], namespace: str) -> list[Finding]:
    """A Loki query_range over the namespace's streams returned at least one log line."""
    if query.get("status") != "success":
        return [finding("live.observability", "Loki", f"query answered status {query.get('status')!r}")]
    result = (query.get("data") or {}).get("result") or []
    lines = sum(len(stream.get("values") or []) for stream in result)
    if lines == 0:
        return [finding("live.observability", "Loki", f"no log line from namespace {namespace} in the queried window")]
    return []


def loki_query(namespace: str) -> str:
    return '{namespace="' + namespace + '"}'

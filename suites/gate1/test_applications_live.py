"""Gate 1 application criteria, live: logs and metrics visible for every application pod. WordPress access,
its database and persistent storage are checked over the `apps` capability in test_app_stack.py (local lab and
clusters alike)."""

from __future__ import annotations

import pytest

from dbc_validate.analysis.findings import brief_report
from dbc_validate.analysis.live.apps import visibility_findings

pytestmark = pytest.mark.live


@pytest.mark.gate1("applications.logs_metrics_visible")
def test_every_application_pod_has_logs_and_metrics(cluster, gate1_evidence):
    pods = cluster.in_namespaces("pods")
    lines = {
        f"{p['metadata']['namespace']}/{p['metadata']['name']}": len(
            cluster.kubectl.logs(p["metadata"]["namespace"], p["metadata"]["name"], tail=20).splitlines()
        )
        for p in pods
    }
    findings = visibility_findings(pods, lines, cluster.pod_metrics())
    gate1_evidence.measure("pods", len(pods))
    gate1_evidence.threshold(not findings, f"{len(pods)} pods, {len(findings)} without logs or metrics")
    assert not findings, brief_report(findings)

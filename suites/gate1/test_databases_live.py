"""Gate 1 database criteria, live: the CloudNativePG cluster healthy. MySQL is checked over the `apps` capability
in test_app_stack.py, where a cluster's StatefulSet health is part of databases.mysql_healthy."""

from __future__ import annotations

import pytest

from dbc_validate.analysis.findings import brief_report
from dbc_validate.analysis.live.databases import cnpg_health

pytestmark = pytest.mark.live


@pytest.mark.gate1("databases.cnpg_healthy")
def test_cloudnativepg_cluster_is_healthy_with_enough_instances(cluster, gate1_criterion, gate1_evidence):
    clusters = cluster.in_namespaces("clusters.postgresql.cnpg.io", missing_ok=True)
    if not clusters:
        pytest.fail("no CloudNativePG Cluster in the deployed namespaces")
    pods = cluster.in_namespaces("pods")
    minimum = int(gate1_criterion.threshold.value)
    healths = [cnpg_health(c, pods, minimum) for c in clusters]
    for h in healths:
        gate1_evidence.measure(f"{h.cluster}_ready_instances", h.ready_instances)
    findings = [f for h in healths for f in h.findings]
    gate1_evidence.threshold(
        not findings, "; ".join(f"{h.cluster}: {h.ready_instances}/{h.instances} ready" for h in healths)
    )
    assert not findings, brief_report(findings)

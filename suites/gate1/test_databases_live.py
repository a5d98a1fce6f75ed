"""Gate 1 database criteria, live: the CloudNativePG cluster and the MySQL StatefulSet healthy."""

from __future__ import annotations

import pytest

from dbc_validate.analysis.findings import brief_report
from dbc_validate.analysis.live.databases import cnpg_health, is_mysql_statefulset, statefulset_health

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


@pytest.mark.gate1("databases.mysql_healthy")
def test_mysql_statefulset_is_ready_on_persistent_storage(cluster, gate1_evidence):
    statefulsets = [s for s in cluster.in_namespaces("statefulsets.apps") if is_mysql_statefulset(s)]
    if not statefulsets:
        pytest.fail("no StatefulSet running a MySQL/MariaDB image in the deployed namespaces")
    pods = cluster.in_namespaces("pods")
    baseline = cluster.record.baseline_restarts if cluster.record is not None else None
    findings = [f for s in statefulsets for f in statefulset_health(s, pods, baseline)]
    gate1_evidence.measure("mysql_statefulsets", len(statefulsets))
    gate1_evidence.threshold(not findings, f"{len(statefulsets)} StatefulSet(s), {len(findings)} problems")
    assert not findings, brief_report(findings)

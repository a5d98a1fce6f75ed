"""Gate 1 infrastructure criteria, live: nodes Ready, control-plane quorum, PVCs bound by the storage class."""

from __future__ import annotations

import pytest

from dbc_validate.analysis.findings import brief_report
from dbc_validate.analysis.live.infrastructure import node_report, pvc_findings, pvc_summary, quorum_verdict

pytestmark = pytest.mark.live


@pytest.mark.gate1("infrastructure.nodes_ready")
def test_every_node_is_ready_without_pressure(cluster, gate1_evidence):
    report = node_report(cluster.items("nodes"))
    gate1_evidence.measure("nodes", report.total)
    gate1_evidence.measure("nodes_ready", report.ready)
    gate1_evidence.measure("control_plane_nodes", len(report.control_plane))
    gate1_evidence.threshold(not report.findings, f"{report.ready}/{report.total} nodes Ready")
    assert not report.findings, brief_report(report.findings)


@pytest.mark.gate1("infrastructure.control_plane_quorum")
def test_control_plane_keeps_etcd_quorum(cluster, gate1_evidence, gate1_settings):
    nodes = cluster.items("nodes")
    etcd_pods = [
        p for p in cluster.items("pods", "kube-system") if p["metadata"].get("labels", {}).get("component") == "etcd"
    ]
    verdict = quorum_verdict(nodes, etcd_pods, cluster.readyz())
    if not verdict.applies:
        dev = " on a quick dev cluster (--servers 1); run without it for 3" if gate1_settings.servers == 1 else ""
        pytest.skip(f"quorum does not apply: {verdict.reason}{dev} (Gate 1 asks for 3 servers in production)")
    gate1_evidence.measure("etcd_members", verdict.members)
    gate1_evidence.measure("etcd_members_healthy", verdict.healthy)
    gate1_evidence.threshold(verdict.has_quorum, verdict.reason)
    assert verdict.has_quorum, verdict.reason


@pytest.mark.gate1("infrastructure.storage_provisioning")
def test_every_claim_is_bound_through_the_expected_storage_class(cluster, gate1_evidence):
    pvcs = cluster.in_namespaces("persistentvolumeclaims")
    if not pvcs:
        pytest.fail("the deployed stack has no PersistentVolumeClaim: nothing proves storage provisioning")
    findings = pvc_findings(pvcs, cluster.items("storageclasses"), cluster.storage_class)
    gate1_evidence.measure("pvcs", pvc_summary(pvcs))
    gate1_evidence.threshold(not findings, f"{len(pvcs)} PVCs, {len(findings)} problems")
    assert not findings, brief_report(findings)

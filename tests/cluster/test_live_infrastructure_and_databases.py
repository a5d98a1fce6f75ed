"""Nodes, quorum, PVCs, CNPG and MySQL health decided on recorded-shape objects."""

from __future__ import annotations

from cluster_fixtures import obj, objs

from dbc_validate.analysis.live.databases import cnpg_health, is_mysql_statefulset, statefulset_health
from dbc_validate.analysis.live.infrastructure import node_report, pvc_findings, quorum_verdict
from dbc_validate.analysis.live.pods import restart_counts

CNPG_PODS = ("cnpg_primary", "cnpg_replica_2", "cnpg_replica_3")


def test_a_ready_node_passes_and_unknown_pressured_cordoned_nodes_do_not():
    good = node_report([obj("nodes", "ready_control_plane")])
    assert good.findings == () and good.ready == 1 and good.control_plane == ("dbc-gate1-control-plane",)
    bad = node_report(objs("nodes", "ready_control_plane", "not_ready_worker", "pressured_cordoned"))
    problems = [str(f) for f in bad.findings]
    assert bad.ready == 2
    assert any("Node/worker-2: Ready=Unknown" in p for p in problems)
    assert any("DiskPressure" in p for p in problems) and any("cordoned" in p for p in problems)


def test_an_empty_node_list_is_a_finding():
    assert node_report([]).findings


def test_quorum_does_not_apply_to_a_single_server():
    verdict = quorum_verdict([obj("nodes", "ready_control_plane")], [], "[+]etcd ok")
    assert not verdict.applies and "single server" in verdict.reason


def test_three_k3s_servers_with_one_down_keep_quorum():
    nodes = objs("nodes", "k3s_server_1", "k3s_server_2", "k3s_server_3_down")
    verdict = quorum_verdict(nodes, [], "[+]ping ok\n[+]etcd ok\nreadyz check passed")
    assert verdict.applies and verdict.members == 3 and verdict.healthy == 2 and verdict.has_quorum
    assert "etcd-role nodes" in verdict.reason


def test_two_servers_down_lose_quorum_and_a_failing_etcd_check_counts():
    down = obj("nodes", "k3s_server_3_down")
    second = obj("nodes", "k3s_server_2")
    second["status"]["conditions"][0]["status"] = "False"
    assert not quorum_verdict([obj("nodes", "k3s_server_1"), second, down], [], None).has_quorum
    all_up = objs("nodes", "k3s_server_1", "k3s_server_2")
    assert not quorum_verdict(all_up, [], "[-]etcd failed: reason withheld").has_quorum


def test_a_failed_readyz_call_never_counts_as_healthy():
    nodes = objs("nodes", "k3s_server_1", "k3s_server_2")
    assert quorum_verdict(nodes, [], "[+]etcd ok").has_quorum
    unknown = quorum_verdict(nodes, [], None)
    assert not unknown.has_quorum and "/readyz could not be read" in unknown.reason


def test_bound_claims_through_the_expected_class_pass():
    classes = objs("storage", "class_standard_default", "class_longhorn")
    pvcs = objs("storage", "pvc_bound_default_class", "pvc_bound_no_class")
    assert pvc_findings(pvcs, classes, "standard") == []


def test_wrong_class_missing_class_and_pending_claims_are_findings():
    classes = objs("storage", "class_standard_default", "class_longhorn")
    findings = [str(f) for f in pvc_findings([obj("storage", "pvc_pending_missing_class")], classes, None)]
    assert any("'longhorn-fast' does not exist" in f for f in findings)
    assert any("phase Pending" in f for f in findings)
    wrong = pvc_findings([obj("storage", "pvc_bound_default_class")], classes, "longhorn")
    assert "expected 'longhorn'" in wrong[0].message


def test_healthy_cnpg_cluster_with_three_instances_passes():
    health = cnpg_health(obj("workloads", "cnpg_healthy"), objs("pods", *CNPG_PODS), 3)
    assert health.healthy and health.primary == "postgres-cluster-1"


def test_failing_over_cnpg_cluster_is_unhealthy_for_every_reason_it_shows():
    health = cnpg_health(obj("workloads", "cnpg_failing_over"), objs("pods", *CNPG_PODS), 3)
    problems = " | ".join(f.message for f in health.findings)
    assert "Failing over" in problems and "2/3 instances ready" in problems and "primary is moving" in problems


def test_one_instance_is_below_the_gate_and_two_primaries_are_wrong():
    one = cnpg_health(obj("workloads", "cnpg_one_instance"), [obj("pods", "cnpg_primary")], 3)
    assert "declares 1 instances, Gate 1 needs at least 3" in one.findings[0].message
    split_brain = objs("pods", *CNPG_PODS)
    split_brain[1]["metadata"]["labels"]["cnpg.io/instanceRole"] = "primary"
    health = cnpg_health(obj("workloads", "cnpg_healthy"), split_brain, 3)
    assert any("2 pods labelled" in f.message for f in health.findings)


def test_mysql_statefulsets_are_recognised_by_image():
    assert is_mysql_statefulset(obj("workloads", "statefulset_mysql_ready"))
    assert is_mysql_statefulset(obj("workloads", "statefulset_mysql_no_pvc_unready"))
    assert not is_mysql_statefulset(obj("workloads", "statefulset_redis"))


def test_healthy_mysql_statefulset_passes_with_its_bootstrap_restart_in_the_baseline():
    pods = [obj("pods", "mysql_ready")]
    assert statefulset_health(obj("workloads", "statefulset_mysql_ready"), pods, restart_counts(pods)) == []


def test_unready_mysql_without_claim_templates_is_unhealthy():
    findings = statefulset_health(obj("workloads", "statefulset_mysql_no_pvc_unready"), [obj("pods", "mysql_ready")])
    problems = " | ".join(f.message for f in findings)
    assert "no volumeClaimTemplates" in problems and "1/2 ready" in problems and "1 pods found, 2 declared" in problems

"""security.network_policies, decided from the manifest set with the NetworkPolicy engine."""

from __future__ import annotations

import pytest

from dbc_validate.analysis import analyze
from dbc_validate.analysis.findings import Severity, failure_report
from dbc_validate.analysis.netpol import build_model, expected_matrix

pytestmark = [pytest.mark.static, pytest.mark.gate1("security.network_policies")]


def test_policies_are_valid_and_keep_dns_and_database_paths_open(manifest_set, gate1_evidence):
    result = analyze(manifest_set)
    errors = result.of_category("network-policy", severity=Severity.ERROR)
    for note in result.warnings("network-policy"):
        gate1_evidence.note(note)
    flows = expected_matrix(build_model(manifest_set))
    if not result.summary["workloads"] and not errors:
        # The model adds the cluster's own workloads (DNS, Traefik): flows among those alone prove nothing.
        pytest.skip("nothing to check: the set has no workload, so no flow of its own to allow or deny")
    allowed = sum(f.allowed for f in flows)
    gate1_evidence.measure("expected_flows", len(flows), None)
    gate1_evidence.measure("expected_flows_allowed", allowed, None)
    gate1_evidence.measure("expected_flows_denied", len(flows) - allowed, None)
    gate1_evidence.threshold(not errors, f"{len(errors)} NetworkPolicy error(s); {allowed}/{len(flows)} flows allowed")
    assert not errors, failure_report(errors, "NetworkPolicies are invalid or block required traffic")


def test_every_workload_namespace_denies_unlisted_traffic_by_default(manifest_set, gate1_evidence):
    result = analyze(manifest_set)
    if not result.summary["namespaces"]:
        pytest.skip("nothing to check: the set has no namespace with workloads")
    open_namespaces = result.of_rule("network-policy.no-default-deny")
    gate1_evidence.threshold(
        not open_namespaces, f"{len(open_namespaces)} namespace(s) with workloads lack a default-deny policy"
    )
    assert not open_namespaces, failure_report(open_namespaces, "namespaces let unlisted traffic through")

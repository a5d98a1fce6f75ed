"""security.rbac, decided from the manifest set: no workload identity can read secrets or escalate."""

from __future__ import annotations

import pytest

from dbc_validate.analysis import analyze
from dbc_validate.analysis.findings import Severity, failure_report

RBAC_KINDS = ("Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding")
pytestmark = [pytest.mark.static, pytest.mark.gate1("security.rbac")]


def test_no_service_account_can_read_secrets_escalate_or_use_wildcards(manifest_set, gate1_evidence):
    result = analyze(manifest_set)
    if not result.summary["workloads"] and not manifest_set.of_kind(*RBAC_KINDS):
        pytest.skip("nothing to check: the set has no workload and no Role, ClusterRole or binding")
    errors = result.of_category("rbac", severity=Severity.ERROR)
    for note in result.warnings("rbac"):
        gate1_evidence.note(note)
    gate1_evidence.measure("rbac_errors", len(errors), None)
    gate1_evidence.threshold(not errors, f"{len(errors)} RBAC error(s)")
    assert not errors, failure_report(errors, "RBAC grants more than workloads need")

"""security.non_root, decided from the manifest set: every container complies with Pod Security restricted."""

from __future__ import annotations

import pytest

from dbc_validate.analysis import analyze
from dbc_validate.analysis.findings import Severity, failure_report

pytestmark = [pytest.mark.static, pytest.mark.gate1("security.non_root")]


def test_every_container_is_declared_non_root_under_pss_restricted(manifest_set, gate1_evidence):
    result = analyze(manifest_set)
    violations = result.of_category("pod-security", severity=Severity.ERROR)
    containers = result.summary["containers"]
    gate1_evidence.measure("containers_checked", containers, None)
    gate1_evidence.measure("pod_security_violations", len(violations), None)
    gate1_evidence.threshold(
        containers > 0 and not violations,
        f"{len(violations)} Pod Security restricted violation(s) in {containers} container(s)",
    )
    assert containers > 0, f"the manifest set {manifest_set.source} declares no container: nothing proves non-root"
    assert not violations, failure_report(violations, "containers break Pod Security restricted")


def test_every_workload_namespace_enforces_pss_restricted(manifest_set, gate1_evidence):
    result = analyze(manifest_set)
    if not result.summary["namespaces"]:
        pytest.skip("nothing to check: the set has no namespace with workloads")
    problems = result.of_category("namespace", severity=Severity.ERROR)
    for note in result.warnings("namespace"):
        gate1_evidence.note(note)
    gate1_evidence.threshold(not problems, f"{len(problems)} namespace(s) with workloads enforce no Pod Security level")
    assert not problems, failure_report(problems, "namespaces run workloads without Pod Security enforcement")

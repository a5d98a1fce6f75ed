"""Gate 1 security.non_root, live: every running container's effective securityContext and real uid."""

from __future__ import annotations

import pytest

from dbc_validate.analysis.findings import brief_report
from dbc_validate.analysis.live.non_root import non_root_findings, running_containers

pytestmark = pytest.mark.live


@pytest.mark.gate1("security.non_root")
def test_every_running_container_has_a_non_zero_uid(cluster, gate1_evidence, gate1_progress):
    containers = running_containers(cluster.in_namespaces("pods"))
    if not containers:
        pytest.fail(f"no running container in {', '.join(cluster.app_namespaces)}")
    gate1_progress(f"non-root: reading the uid inside {len(containers)} running container(s)")
    observed = {c.subject: cluster.uid_of(c.namespace, c.pod, c.container) for c in containers}
    findings = non_root_findings(containers, observed)
    gate1_evidence.measure("containers", len(containers))
    gate1_evidence.measure("uid_observed", sum(1 for o in observed.values() if o.uid is not None))
    gate1_evidence.threshold(not findings, f"{len(containers) - len(findings)}/{len(containers)} proven non-root")
    assert not findings, brief_report(findings)

"""Gate 1 security.sealed_secrets, live: every SealedSecret Synced and unsealed into its Secret (on kind
and k3d the values are the ones the harness generated and sealed at deploy time, compared by digest)."""

from __future__ import annotations

import pytest

from dbc_validate.analysis.findings import brief_report
from dbc_validate.analysis.live.secrets import sealed_secret_findings

pytestmark = pytest.mark.live


@pytest.mark.gate1("security.sealed_secrets")
def test_every_sealed_secret_is_unsealed_into_its_secret(cluster, gate1_evidence):
    sealed = cluster.in_namespaces("sealedsecrets.bitnami.com", missing_ok=True)
    if not sealed:
        pytest.fail("no SealedSecret in the deployed namespaces (is the Sealed Secrets controller installed?)")
    secrets = cluster.in_namespaces("secrets")
    expected = cluster.record.secret_digests if cluster.record is not None else None
    findings = sealed_secret_findings(sealed, secrets, expected)
    gate1_evidence.measure("sealed_secrets", len(sealed))
    gate1_evidence.measure("values_compared", sum(len(v) for v in (expected or {}).values()))
    gate1_evidence.threshold(not findings, f"{len(sealed)} SealedSecrets, {len(findings)} problems")
    assert not findings, brief_report(findings)

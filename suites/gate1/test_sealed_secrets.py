"""security.sealed_secrets, decided from the manifest set: secrets are committed only as SealedSecrets."""

from __future__ import annotations

import pytest

from dbc_validate.analysis import analyze
from dbc_validate.analysis.findings import Severity, failure_report

pytestmark = [pytest.mark.static, pytest.mark.gate1("security.sealed_secrets")]


def test_no_plaintext_secret_is_committed_and_every_sealed_secret_is_encrypted(manifest_set, gate1_evidence):
    sealed = manifest_set.of_kind("SealedSecret", group="bitnami.com")
    result = analyze(manifest_set)
    errors = result.of_category("secrets", severity=Severity.ERROR)
    if not sealed and not manifest_set.of_kind("Secret") and not errors:
        # Minimum evidence: with no secret at all, "no secret is unsealed" proves nothing.
        pytest.skip("nothing to check: the set has no SealedSecret or Secret")
    for note in result.warnings("secrets"):
        gate1_evidence.note(note)
    gate1_evidence.measure("sealed_secrets", len(sealed), None)
    gate1_evidence.measure("plain_secrets_with_data", len(result.of_rule("secrets.plain-secret")), None)
    gate1_evidence.threshold(not errors, f"{len(errors)} secret error(s)")
    assert not errors, failure_report(errors, "secrets are committed unsealed")

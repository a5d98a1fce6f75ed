"""Namespaces enforce Pod Security "restricted"; the analyzer (PSS restricted, images, RBAC, ...) finds no error."""

from __future__ import annotations

import pytest
from overlay_checks import OVERLAYS, pod_specs

from dbc_validate.analysis import analyze
from dbc_validate.analysis.findings import Severity
from dbc_validate.manifests.model import ManifestSet

PSS_MODES = ("enforce", "audit", "warn")


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_namespace_enforces_audits_and_warns_restricted(overlay: str, overlay_sets: dict[str, ManifestSet]):
    namespaces = overlay_sets[overlay].of_kind("Namespace")
    assert namespaces
    for ns in namespaces:
        for mode in PSS_MODES:
            assert ns.labels.get(f"pod-security.kubernetes.io/{mode}") == "restricted", f"{ns.name}: {mode}"
        assert ns.labels.get("environment"), f"{ns.name} has no environment label"


# Which warnings the overlays may carry, and why (README "The manifest set"): the route crosses namespaces by
# design (Traefik runs with allowCrossNamespace), and on kind/k3d the harness generates the Secrets at deploy
# time (manifests/deploy-time-secrets.yaml) instead of committing SealedSecrets.
EXPLAINED_WARNINGS = {
    "kind": {"ingress.cross-namespace", "secrets.unresolved-reference"},
    "k3d": {"ingress.cross-namespace", "secrets.unresolved-reference"},
    "prod": {"ingress.cross-namespace"},
}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_analyzer_finds_no_error_and_only_explained_warnings(overlay: str, overlay_sets: dict[str, ManifestSet]):
    result = analyze(overlay_sets[overlay])
    assert [f.describe() for f in result.errors] == []
    unexplained = [
        f.describe()
        for f in result.findings
        if f.severity is Severity.WARNING and f.rule not in EXPLAINED_WARNINGS[overlay]
    ]
    assert unexplained == []


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_workload_has_its_own_service_account_without_a_token(overlay: str, overlay_sets: dict[str, ManifestSet]):
    workloads = list(pod_specs(overlay_sets[overlay]))
    assert len(workloads) >= 3
    for obj, spec in workloads:
        assert spec.get("automountServiceAccountToken") is False, f"{obj.ref} mounts an API token it does not use"
        assert spec.get("serviceAccountName") not in (None, "default"), f"{obj.ref} has no ServiceAccount of its own"

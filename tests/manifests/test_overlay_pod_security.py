"""Namespaces enforce Pod Security "restricted"; every container is non-root, drops ALL, and uses a pinned image."""

from __future__ import annotations

import pytest
from overlay_checks import OVERLAYS, containers_of, hardening_problems, pod_specs

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


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_container_runs_non_root_and_drops_all_capabilities(overlay: str, overlay_sets: dict[str, ManifestSet]):
    workloads = list(pod_specs(overlay_sets[overlay]))
    assert len(workloads) >= 3
    for obj, spec in workloads:
        assert hardening_problems(spec) == [], obj.ref
        assert spec.get("automountServiceAccountToken") is False, f"{obj.ref} mounts an API token it does not use"
        assert spec.get("serviceAccountName") not in (None, "default"), f"{obj.ref} has no ServiceAccount of its own"


def test_hardening_check_catches_root_and_missing_drops():
    bad = {
        "securityContext": {"runAsUser": 0},
        "initContainers": [{"name": "init", "securityContext": {"allowPrivilegeEscalation": False}}],
        "containers": [{"name": "app", "securityContext": {"capabilities": {"drop": ["NET_RAW"]}}}],
    }
    problems = hardening_problems(bad)
    assert "init: runAsNonRoot is not true" in problems
    assert "app: runAsUser 0" in problems
    assert "app: capabilities do not drop ALL" in problems
    assert "app: allowPrivilegeEscalation is not false" in problems
    assert "init: no RuntimeDefault seccomp profile" in problems


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_image_is_pinned_to_a_version_tag(overlay: str, overlay_sets: dict[str, ManifestSet]):
    images = [c["image"] for _, spec in pod_specs(overlay_sets[overlay]) for c in containers_of(spec)]
    images.append(overlay_sets[overlay].get("Cluster", "postgres-cluster", "infra").spec["imageName"])
    for image in images:
        name, _, tag = image.rpartition(":")
        assert name and tag and tag != "latest" and "/" not in tag, f"{image} is not pinned to a tag"

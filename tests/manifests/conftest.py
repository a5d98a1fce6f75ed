"""Shared fixtures for the manifest-set tests: each overlay rendered once per session with kubectl kustomize."""

from __future__ import annotations

import pytest
from overlay_checks import MANIFESTS, OVERLAYS

from dbc_validate.manifests.model import ManifestSet, load_manifest_set


@pytest.fixture(scope="session")
def overlay_sets() -> dict[str, ManifestSet]:
    return {name: load_manifest_set(MANIFESTS / "overlays" / name) for name in OVERLAYS}


@pytest.fixture(scope="session")
def kind_set(overlay_sets: dict[str, ManifestSet]) -> ManifestSet:
    return overlay_sets["kind"]

"""Shared fixtures for the manifest-set tests: each overlay rendered once per session with kubectl kustomize."""

from __future__ import annotations

import pytest
from overlay_checks import MANIFESTS, OVERLAYS

from dbc_validate.manifests.model import ManifestSet, load_manifest_set


@pytest.fixture(scope="session")
def overlay_sets(kind_set: ManifestSet) -> dict[str, ManifestSet]:
    """Every overlay; kind's is the session's one rendering from tests/conftest.py."""
    others = {name: load_manifest_set(MANIFESTS / "overlays" / name) for name in OVERLAYS if name != "kind"}
    return {"kind": kind_set, **others}

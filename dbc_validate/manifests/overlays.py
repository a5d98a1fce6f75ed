"""Which manifest set a target judges when none is given: its overlay under manifests/overlays/, else manifests/."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

# The overlay each target deploys or judges: local labs stand in for a kind cluster; kubeconfig judges production.
DEFAULT_OVERLAYS: Mapping[str, str] = {"local": "kind", "kind": "kind", "k3d": "k3d", "kubeconfig": "prod"}


def default_manifests(root: Path, target: str) -> Path:
    """root/manifests/overlays/<the target's overlay> if that folder exists, else root/manifests."""
    overlay = DEFAULT_OVERLAYS.get(target, "")
    folder = root / "manifests" / "overlays" / overlay
    return folder if overlay and folder.is_dir() else root / "manifests"

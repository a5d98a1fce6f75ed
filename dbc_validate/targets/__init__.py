"""Targets: where the suites run (local stand-ins, kind, k3d, an existing cluster) and what each offers."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from dbc_validate.targets.base import Capability, CapabilityUnavailable, Target

if TYPE_CHECKING:
    from dbc_validate.settings import Settings

__all__ = ["Capability", "CapabilityUnavailable", "Target", "make_target"]


def make_target(name: str, settings: Settings, progress: Callable[[str], None]) -> Target:
    from dbc_validate.targets.k3d import K3dTarget
    from dbc_validate.targets.kind import KindTarget
    from dbc_validate.targets.kubeconfig import KubeconfigTarget
    from dbc_validate.targets.local import LocalTarget

    classes: dict[str, type[Target]] = {
        "local": LocalTarget,
        "kind": KindTarget,
        "k3d": K3dTarget,
        "kubeconfig": KubeconfigTarget,
    }
    return classes[name](settings, progress)

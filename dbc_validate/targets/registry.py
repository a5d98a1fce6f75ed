"""The target classes by name: what `--target NAME` makes."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from dbc_validate.targets.base import Target
from dbc_validate.targets.k3d import K3dTarget
from dbc_validate.targets.kind import KindTarget
from dbc_validate.targets.kubeconfig import KubeconfigTarget
from dbc_validate.targets.local import LocalTarget

if TYPE_CHECKING:
    from dbc_validate.settings import Settings

TARGET_CLASSES: dict[str, type[Target]] = {
    "local": LocalTarget,
    "kind": KindTarget,
    "k3d": K3dTarget,
    "kubeconfig": KubeconfigTarget,
}


def make_target(name: str, settings: Settings, progress: Callable[[str], None]) -> Target:
    return TARGET_CLASSES[name](settings, progress)

"""The k3d target: a throwaway k3s cluster in Docker (bundled Traefik disabled) with the stack deployed."""

from __future__ import annotations

import shutil

from dbc_validate.cluster.lifecycle import K3dCli
from dbc_validate.targets.cluster import ThrowawayClusterTarget


class K3dTarget(ThrowawayClusterTarget):
    name = "k3d"

    def make_cli(self) -> object:
        return K3dCli(self.cluster_name, shutil.which("k3d") or "k3d")

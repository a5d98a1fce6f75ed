"""The kind target: a throwaway kind cluster (node image pinned by digest) with the stack deployed onto it."""

from __future__ import annotations

import shutil

from dbc_validate.cluster.lifecycle import KindCli
from dbc_validate.targets.cluster import ThrowawayClusterTarget


class KindTarget(ThrowawayClusterTarget):
    name = "kind"

    def make_cli(self) -> object:
        return KindCli(self.cluster_name, shutil.which("kind") or "kind")

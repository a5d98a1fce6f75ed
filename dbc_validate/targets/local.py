"""The local target: the manifest set plus real local services standing in for the cluster's."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import ExitStack
from typing import Any

from dbc_validate.scope import Scope
from dbc_validate.targets.base import Capability, Provider, Target


class LocalTarget(Target):
    name = "local"
    scope = Scope.LOCAL
    # The local stand-ins model a dev cluster, so the kind overlay is what they judge by default.
    default_overlay = "kind"

    def capability_scopes(self) -> Mapping[Capability, Scope]:
        return {
            Capability.MANIFEST_SET: Scope.STATIC,
            Capability.FAILOVER_LAB: Scope.LOCAL,
        }

    def providers(self) -> Mapping[Capability, Provider]:
        return {
            Capability.MANIFEST_SET: lambda stack: self.manifest_set(),
            Capability.FAILOVER_LAB: self._failover_lab,
        }

    def _failover_lab(self, stack: ExitStack) -> Any:
        from dbc_validate.probes.failover_patroni import provide_patroni_failover_lab

        return provide_patroni_failover_lab(stack, self)

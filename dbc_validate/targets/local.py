"""The local target: the manifest set plus real local services standing in for the cluster's."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import ExitStack
from typing import Any

from dbc_validate.scope import Scope
from dbc_validate.targets.base import Capability, Provider, Target
from dbc_validate.targets.postgres_capability import provide_postgres


class LocalTarget(Target):
    name = "local"
    scope = Scope.LOCAL
    # The local stand-ins model a dev cluster, so the kind overlay is what they judge by default.

    def capability_scopes(self) -> Mapping[Capability, Scope]:
        return {
            Capability.MANIFEST_SET: Scope.STATIC,
            Capability.POSTGRES: Scope.LOCAL,
            Capability.INGRESS: Scope.LOCAL,
            Capability.SOAK: Scope.LOCAL,
            Capability.FAILOVER_LAB: Scope.LOCAL,
        }

    def providers(self) -> Mapping[Capability, Provider]:
        return {
            Capability.MANIFEST_SET: lambda stack: self.manifest_set(),
            Capability.POSTGRES: lambda stack: provide_postgres(self, stack),
            Capability.INGRESS: self._ingress,
            Capability.SOAK: self._soak,
            Capability.FAILOVER_LAB: self._failover_lab,
        }

    def _ingress(self, stack: ExitStack) -> Any:
        from dbc_validate.labs.traefik_proxy import local_ingress

        return local_ingress(self, stack)

    def _soak(self, stack: ExitStack) -> Any:
        from dbc_validate.probes.soak.local_subject import local_soak

        return local_soak(self, stack)

    def _failover_lab(self, stack: ExitStack) -> Any:
        from dbc_validate.probes.failover_patroni import provide_patroni_failover_lab

        return provide_patroni_failover_lab(stack, self)

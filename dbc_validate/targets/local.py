"""The local target: the manifest set plus real local services standing in for the cluster's."""

from __future__ import annotations

import importlib.metadata
from collections.abc import Mapping
from contextlib import ExitStack

from dbc_validate.analysis.cnpg_topology import durability_of_set
from dbc_validate.capabilities import (
    Capability,
    CapabilityUnavailable,
    IngressEndpoint,
    ObservabilityStack,
    PostgresCapability,
)
from dbc_validate.errors import MissingBinary
from dbc_validate.labs.app_stack import LocalAppStack, provide_local_apps
from dbc_validate.labs.observability_lab import provide_observability_lab
from dbc_validate.labs.patroni_cluster import PatroniCluster, PatroniTiming, mirrored_sync
from dbc_validate.labs.postgres_binaries import find_pg_binaries
from dbc_validate.labs.soak_subject import LocalSoakSubject, local_soak
from dbc_validate.labs.traefik_proxy import provide_local_traefik
from dbc_validate.manifests.traefik_routes import http_routes
from dbc_validate.probes.failover_patroni import PatroniBackend
from dbc_validate.probes.failover_trials import FailoverLab, trial_count
from dbc_validate.scope import Scope
from dbc_validate.targets.base import Provider, Target
from dbc_validate.targets.postgres_capability import provide_postgres

DEFAULT_LOCAL_TRIALS = 3


class LocalTarget(Target):
    name = "local"
    scope = Scope.LOCAL
    # Every lab here starts in the background once the run knows it needs it (the failover trials wait for all).
    background_capabilities = frozenset(
        {
            Capability.APPS,
            Capability.POSTGRES,
            Capability.FAILOVER_LAB,
            Capability.OBSERVABILITY,
            Capability.SOAK,
            Capability.INGRESS,
        }
    )
    # The local stand-ins model a dev cluster, so the kind overlay is what they judge by default.

    def capability_scopes(self) -> Mapping[Capability, Scope]:
        return {
            Capability.MANIFEST_SET: Scope.STATIC,
            Capability.POSTGRES: Scope.LOCAL,
            Capability.INGRESS: Scope.LOCAL,
            Capability.SOAK: Scope.LOCAL,
            Capability.FAILOVER_LAB: Scope.LOCAL,
            Capability.APPS: Scope.LOCAL,
            Capability.OBSERVABILITY: Scope.LOCAL,
        }

    def providers(self) -> Mapping[Capability, Provider]:
        return {
            Capability.MANIFEST_SET: lambda stack: self.manifest_set(),
            Capability.POSTGRES: self._postgres,
            Capability.INGRESS: self._ingress,
            Capability.SOAK: self._soak,
            Capability.FAILOVER_LAB: self._failover_lab,
            Capability.APPS: self._apps,
            Capability.OBSERVABILITY: self._observability,
        }

    def _postgres(self, stack: ExitStack) -> PostgresCapability:
        return provide_postgres(
            list(self.settings.postgres_dsns),
            self.settings.postgres_image,
            self.settings.postgres_bin,
            self.manifest_set,
            stack,
            self.progress,
            self.versions,
        )

    def _ingress(self, stack: ExitStack) -> IngressEndpoint:
        """A Traefik lab serving the manifest set's routes."""
        lab = provide_local_traefik(http_routes(self.manifest_set()), stack, self.progress)
        self.versions["traefik"] = lab.version
        self.versions["locust"] = importlib.metadata.version("locust")
        return lab.endpoint()

    def _soak(self, stack: ExitStack) -> LocalSoakSubject:
        subject = local_soak(http_routes(self.manifest_set()), stack, self.progress)
        self.versions["traefik"] = subject.lab.version
        return subject

    def _apps(self, stack: ExitStack) -> LocalAppStack:
        """MariaDB and one WordPress per variant of the set's split route, behind a Traefik lab."""
        try:
            lab = provide_local_apps(self.manifest_set(), self.settings.root, stack, self.progress)
        except MissingBinary as exc:  # packages not installed: nothing could be checked here (NOT_RUN), not broken
            raise CapabilityUnavailable(f"the apps lab cannot start: {exc.problem}; install with: {exc.fix}") from None
        self.versions["mariadb (apps lab)"] = lab.database.version
        self.versions["wordpress (apps lab)"] = f"{lab.wordpress_version} (Debian)"
        return lab

    def _observability(self, stack: ExitStack) -> ObservabilityStack:
        """Prometheus + Alertmanager + exporters configured from the set's monitors and rules."""
        lab = provide_observability_lab(self.manifest_set(), stack, self.progress)
        self.versions.update(lab.versions)
        return lab.stack_record()

    def _failover_lab(self, stack: ExitStack) -> FailoverLab:
        """The Patroni lab mirroring the set's declared replication; stopped and removed through `stack`."""
        trials = trial_count(self.settings.failover_trials, DEFAULT_LOCAL_TRIALS)
        durability = durability_of_set(self.manifest_set())
        binaries = find_pg_binaries()
        lab = PatroniCluster(binaries, timing=PatroniTiming(), sync=mirrored_sync(durability), progress=self.progress)
        stack.callback(lab.stop)  # registered before start: an interrupted start is cleaned up too
        lab.start()
        self.versions["patroni"] = importlib.metadata.version("patroni")
        self.versions["postgresql (failover lab)"] = f"{binaries.major} ({binaries.source})"
        timing = lab.timing
        notes = [
            f"local stand-in: {lab.sync.describe()} mirroring {durability.describe()}",
            f"Patroni ttl {timing.ttl} s, loop_wait {timing.loop_wait} s, retry_timeout {timing.retry_timeout} s: "
            "a killed leader is replaced once its lock expires, so local write gaps sit near the ttl (Patroni's "
            "minimum is 20 s); they prove the harness and the declared replication, not CloudNativePG's timing",
            f"lab started in {lab.started_in_s:.1f} s",
        ]
        return FailoverLab(PatroniBackend(lab), trials, self.progress, notes=notes)

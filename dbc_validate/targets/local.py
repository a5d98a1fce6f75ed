"""The local target: the manifest set plus real local services standing in for the cluster's."""

from __future__ import annotations

import importlib.metadata
from collections.abc import Callable, Mapping
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
from dbc_validate.labs.soak_subject import LOCAL_DEFAULT_DURATION_S, LocalSoakSubject, local_soak
from dbc_validate.labs.traefik_proxy import provide_local_traefik
from dbc_validate.manifests.traefik_routes import http_routes
from dbc_validate.probes.failover_patroni import PatroniBackend
from dbc_validate.probes.failover_trials import FailoverLab, trial_count
from dbc_validate.probes.soak.plan import SoakPlan, soak_plan
from dbc_validate.probes.soak.run_handle import SoakRun, run_planned_soak, stoppable_sleep
from dbc_validate.scope import Scope
from dbc_validate.settings import Settings
from dbc_validate.targets.base import Provider, Target
from dbc_validate.targets.postgres_capability import provide_postgres

DEFAULT_LOCAL_TRIALS = 3
# Every lab here starts in the background once the run knows it needs it (the failover trials wait for all).
LAB_CAPABILITIES = frozenset(
    {
        Capability.APPS,
        Capability.POSTGRES,
        Capability.FAILOVER_LAB,
        Capability.OBSERVABILITY,
        Capability.SOAK,
        Capability.INGRESS,
    }
)
AHEAD_SOAK_MAX_S = 60.0  # a soak this short runs ahead, beside the lab starts; a longer one waits for its suite
AHEAD_SOAK_OVERLAP = (
    "ran ahead, in the background while the other labs started and the static suites ran (the failover trials "
    "waited for it to end): its error rate, restarts and CPU/memory are its own lab's, but its latency figures "
    "include that contention for the machine"
)


def soak_runs_ahead(plan: SoakPlan) -> bool:
    """Whether the local soak runs in the background before its suite: only the short active run that proves the
    machinery. A long run, a resumed one and a retrospective one wait for the suite, where Ctrl-C reports what
    they covered and how to resume."""
    duration = plan.duration_s if plan.duration_s is not None else LOCAL_DEFAULT_DURATION_S
    return plan.mode == "active" and plan.resume is None and not plan.load.in_cluster and duration <= AHEAD_SOAK_MAX_S


class LocalTarget(Target):
    name = "local"
    scope = Scope.LOCAL

    def __init__(self, settings: Settings, progress: Callable[[str], None]) -> None:
        super().__init__(settings, progress)
        ahead = soak_runs_ahead(soak_plan(settings))
        self.background_capabilities = LAB_CAPABILITIES | ({Capability.SOAK_RUN} if ahead else set())

    def capability_scopes(self) -> Mapping[Capability, Scope]:
        return {
            Capability.MANIFEST_SET: Scope.STATIC,
            Capability.POSTGRES: Scope.LOCAL,
            Capability.INGRESS: Scope.LOCAL,
            Capability.SOAK: Scope.LOCAL,
            Capability.SOAK_RUN: Scope.LOCAL,
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
            Capability.SOAK_RUN: self.soak_run,
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

    def soak_run(self, stack: ExitStack) -> SoakRun:
        """A short soak runs now (a background start, so it overlaps the other labs' starts); others on demand."""
        plan = soak_plan(self.settings)
        if not soak_runs_ahead(plan):
            return super().soak_run(stack)
        sleep = stoppable_sleep(self._stopping)
        run = SoakRun(lambda: run_planned_soak(plan, self._soak_subject, self.progress, sleep), AHEAD_SOAK_OVERLAP)
        return run.run_now()

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

"""Cluster targets (kind, k3d, an existing kubeconfig): prerequisites checked before anything runs, the
`cluster` capability (API access) and the table of the capabilities made from it (postgres, failover_lab,
ingress, soak)."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar

from dbc_validate.analysis.live.cluster_ingress import HostAddress, mapped_host_port
from dbc_validate.analysis.live.safety import destructive_refusal
from dbc_validate.analysis.live.secrets import SecretPlan
from dbc_validate.capabilities import Capability
from dbc_validate.cluster.access import ClusterAccess, find_observability
from dbc_validate.cluster.app_stack import cluster_apps
from dbc_validate.cluster.cluster_config import render, with_servers
from dbc_validate.cluster.cnpg_failover import cnpg_failover_backend
from dbc_validate.cluster.deploy import Deployer, deploy_secret_plan
from dbc_validate.cluster.diagnostics import collect_bundle
from dbc_validate.cluster.kubectl import ClusterError, Kubectl
from dbc_validate.cluster.lifecycle import bring_up
from dbc_validate.cluster.observability_stack import cluster_observability
from dbc_validate.cluster.pins import Pins, cluster_config_path, load_pins, read_yaml
from dbc_validate.cluster.postgres_instances import cluster_postgres
from dbc_validate.cluster.soak_subject import cluster_soak
from dbc_validate.cluster.traefik_endpoint import cluster_ingress
from dbc_validate.errors import InputError, MissingBinary
from dbc_validate.probes.failover_trials import FailoverLab, trial_count
from dbc_validate.scope import Scope
from dbc_validate.targets.base import Provider, Target
from dbc_validate.tools.binaries import INSTALL_HINTS, find_program
from dbc_validate.tools.container_engine import EngineProbe, probe_container_engine
from dbc_validate.tools.processes import lab_directory

DEFAULT_CLUSTER_TRIALS = 3
HELM_HINT = "install helm (https://helm.sh/docs/intro/install/) and put it on PATH, or drop --with-observability"

# A capability a cluster offers besides the manifest set and the API: factory(access, stack) returns the
# fixture's value, made from the API access; it registers its cleanup on `stack` (or on access.stack, the same
# target stack). Each factory is thin I/O over pure decisions in analysis.live.
ClusterCapabilityFactory = Callable[[ClusterAccess, ExitStack], Any]


def provide_cnpg_failover_lab(access: ClusterAccess, stack: ExitStack) -> FailoverLab:
    """The `failover_lab` capability of kind, k3d and kubeconfig: failover trials over the set's CNPG Cluster.

    Refuses an existing cluster without --allow-destructive (the plugin skips the suite there first).
    """
    refusal = access.destructive_refusal()
    if refusal:
        raise InputError(refusal, "pass --allow-destructive if this cluster may lose pods")
    trials = trial_count(access.failover_trials, DEFAULT_CLUSTER_TRIALS)
    backend = cnpg_failover_backend(access.kubectl, access.manifest_set, stack, access.progress)
    return FailoverLab(backend, trials, access.progress, notes=backend.notes())


def missing_prerequisites(
    target: str,
    engine: EngineProbe,
    which: Callable[[str], str | None],
    kubeconfig_exists: bool,
    with_observability: bool = False,
    kubeconfig: Path | None = None,
) -> list[InputError]:
    """What keeps `target` from running on this machine (pure: probes are passed in)."""
    problems: list[InputError] = []
    if target in ("kind", "k3d"):
        if not engine.engine_answers:
            what = (
                f"{engine.client} client found but no container engine answers ({engine.detail})"
                if engine.client
                else "no container engine (docker or podman) found"
            )
            problems.append(
                MissingBinary(
                    f"target {target} needs a container engine: {what}",
                    INSTALL_HINTS["docker"] + ", or use --target local",
                )
            )
        if which(target) is None:
            problems.append(
                MissingBinary(f"target {target} needs the {target} CLI, which is not on PATH", INSTALL_HINTS[target])
            )
        if with_observability and which("helm") is None:
            problems.append(MissingBinary("--with-observability needs the helm CLI, which is not on PATH", HELM_HINT))
    if target == "kubeconfig" and not kubeconfig_exists:
        # A path that was given but is wrong is a different mistake from giving none: name it.
        given = "none was found"
        if kubeconfig is not None:
            given = f"the kubeconfig {kubeconfig} {'is not a file' if kubeconfig.exists() else 'does not exist'}"
        problems.append(
            InputError(
                f"target kubeconfig needs a kubeconfig file and {given}",
                "pass --kubeconfig PATH or set KUBECONFIG",
            )
        )
    return problems


def combined(problems: list[InputError]) -> InputError:
    """All problems in one line: every thing missing, then every fix (no fix repeated)."""
    first = problems[0]
    fixes: list[str] = []
    for p in problems:
        if p.fix not in fixes:
            fixes.append(p.fix)
    return type(first)("; ".join(p.problem for p in problems), "; ".join(fixes))


class ClusterTarget(Target):
    """A live cluster. Subclasses say how to reach it (`connect`); the API access is made once per run."""

    scope = Scope.CLUSTER
    # The providers table of kind, k3d and kubeconfig beyond the manifest set and the API: one entry per
    # capability, factory(access, stack). failover_lab refuses kubeconfig without --allow-destructive itself.
    capability_factories: ClassVar[Mapping[Capability, ClusterCapabilityFactory]] = MappingProxyType(
        {
            Capability.POSTGRES: cluster_postgres,
            Capability.FAILOVER_LAB: provide_cnpg_failover_lab,
            Capability.INGRESS: cluster_ingress,
            Capability.SOAK: cluster_soak,
            Capability.APPS: cluster_apps,
            Capability.OBSERVABILITY: cluster_observability,
        }
    )

    def __init__(self, settings: Any, progress: Callable[[str], None]) -> None:
        super().__init__(settings, progress)
        self._access: ClusterAccess | None = None
        self._failure: Exception | None = None

    @property
    def with_observability(self) -> bool:
        return self.settings.with_observability

    @property
    def cluster_name(self) -> str:
        return self.settings.cluster_name

    def capability_scopes(self) -> Mapping[Capability, Scope]:
        return cluster_capability_scopes(self.capability_factories)

    def providers(self) -> Mapping[Capability, Provider]:
        providers: dict[Capability, Provider] = {
            Capability.MANIFEST_SET: lambda stack: self.manifest_set(),
            Capability.CLUSTER: self.cluster_access,
        }
        for capability, factory in self.capability_factories.items():
            providers[capability] = lambda stack, f=factory: f(self.cluster_access(stack), stack)
        if Capability.SOAK in self.capability_factories:
            providers[Capability.SOAK_RUN] = self.soak_run
        return providers

    def pins(self) -> Pins:

        return load_pins()

    def preflight(self) -> None:
        """Missing tools first (the most likely problem on a fresh machine), then safety, paths and pins."""
        kubeconfig = self.settings.kubeconfig
        engine = probe_container_engine() if self.name in ("kind", "k3d") else EngineProbe(None, False, "")
        problems = missing_prerequisites(
            self.name,
            engine,
            shutil.which,
            kubeconfig is not None and kubeconfig.is_file(),
            self.with_observability,
            kubeconfig,
        )
        if problems:
            raise combined(problems)
        self.safety_checks()
        super().preflight()
        self.pins()  # a malformed pins file is bad input: say so before anything starts

    def safety_checks(self) -> None:
        """Refusals decided before anything touches the cluster (the kubeconfig target refuses prod)."""
        return None

    def destructive_refusal(self) -> str | None:

        return destructive_refusal(self.name, self.settings.allow_destructive)

    def cluster_access(self, stack: ExitStack) -> ClusterAccess:
        """The API access object, made once (a failure is remembered, not retried by every fixture)."""
        if self._failure is not None:
            raise self._failure
        if self._access is None:
            try:
                self._access = self.connect(stack)
            except Exception as exc:
                self._failure = exc
                raise
        return self._access

    def connect(self, stack: ExitStack) -> ClusterAccess:
        raise NotImplementedError

    def diagnostics_folder(self) -> Path:
        return self.settings.report_html.parent


def cluster_capability_scopes(
    factories: Mapping[Capability, ClusterCapabilityFactory] = ClusterTarget.capability_factories,
) -> dict[Capability, Scope]:
    """What a cluster target offers: the manifest set (static), the API and its providers table (cluster)."""
    scopes = {Capability.MANIFEST_SET: Scope.STATIC, Capability.CLUSTER: Scope.CLUSTER}
    scopes.update({c: Scope.CLUSTER for c in factories})
    if Capability.SOAK in factories:
        scopes[Capability.SOAK_RUN] = Scope.CLUSTER
    return scopes


class DeployFailed(Exception):
    """The deploy onto a throwaway cluster failed; the message names the diagnostics bundle."""


class ThrowawayClusterTarget(ClusterTarget):
    """kind or k3d: a cluster the harness creates (or reuses by name), deploys onto, and deletes."""

    cli_tool = ""

    def make_cli(self) -> Any:
        raise NotImplementedError

    def preflight(self) -> None:
        super().preflight()
        self.ingress_address()  # a cluster config that does not expose Traefik is bad input: say so first
        self.secret_plan()  # a Secret a workload needs and the deploy would not provide: say so before creating

    def secret_plan(self) -> SecretPlan:
        """The test secrets the deploy generates (the set's deploy-time-secrets.yaml, filtered by this target's
        name as the overlay); raises InputError for a Secret a workload reads that nothing provides."""

        return deploy_secret_plan(self.manifest_set(), self.settings.root, self.name)

    def ingress_address(self) -> HostAddress:
        """The host address the cluster config maps to Traefik's web NodePort (package data traefik-install.yaml)."""

        pins = self.pins()
        config = pins.clusters[self.name].config
        node_port = pins.traefik.port("web").node_port
        if node_port is None:
            raise InputError(
                "dbc_validate/data/traefik-install.yaml gives the web port no nodePort",
                "set traefik.ports.web.nodePort (the kind/k3d config maps it to a host port)",
            )
        mapped = read_yaml(cluster_config_path(pins.clusters[self.name])) or {}
        return mapped_host_port(self.name, mapped, node_port, config)

    def connect(self, stack: ExitStack) -> ClusterAccess:

        pins = self.pins()
        pin = pins.clusters[self.name]
        cli = self.make_cli()
        kubeconfig = lab_directory(f"{self.name}-kubeconfig") / "kubeconfig"
        ms = self.manifest_set()
        secrets = self.secret_plan()
        config = lab_directory(f"{self.name}-config") / f"{self.name}-config.yaml"
        packaged = read_yaml(cluster_config_path(pin)) or {}
        config.write_text(render(with_servers(self.name, packaged, self.settings.servers)), encoding="utf-8")
        bring_up(
            cli,
            config,
            pin.node_image,
            self.settings.keep_cluster,
            kubeconfig,
            stack,
            self.progress,
        )
        self.versions.update({self.name: cli.version(), "node_image": pin.node_image})
        kubectl = Kubectl(find_program("kubectl"), kubeconfig)
        deployer = Deployer(kubectl, cli, pins, self.name, self.settings.root, self.with_observability, self.progress)
        try:
            record = deployer.deploy(ms, secrets)
        except ClusterError as exc:
            bundle, warnings = collect_bundle(kubectl, ms.namespaces, self.diagnostics_folder())
            recent = f"; latest warnings: {' | '.join(warnings[-3:])}" if warnings else ""
            raise DeployFailed(
                f"deploy onto {self.name} cluster {cli.name!r} failed: {exc}; diagnostics: {bundle}{recent}"
            ) from None
        self.versions.update({f"addon {name}": version for name, version in record.addons.items()})
        access = ClusterAccess(
            self.name,
            kubectl,
            ms,
            pins,
            record,
            True,
            self.progress,
            stack,
            self.ingress_address(),
            self.versions,
            failover_trials=self.settings.failover_trials,
        )
        access.observability = find_observability(
            kubectl, self.name, record.observability, self.settings.observability_urls, self.progress
        )
        return access

"""Cluster targets (kind, k3d, an existing kubeconfig): prerequisites checked before anything runs."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping

from dbc_validate.errors import InputError, MissingBinary
from dbc_validate.scope import Scope
from dbc_validate.targets.base import Capability, Provider, Target
from dbc_validate.targets.selection import EngineProbe, probe_container_engine
from dbc_validate.tools import INSTALL_HINTS


def missing_prerequisites(
    target: str, engine: EngineProbe, which: Callable[[str], str | None], kubeconfig_exists: bool
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
    if target == "kubeconfig" and not kubeconfig_exists:
        problems.append(
            InputError(
                "target kubeconfig needs a kubeconfig file and none was found",
                "pass --kubeconfig PATH or set KUBECONFIG",
            )
        )
    return problems


class ClusterTarget(Target):
    scope = Scope.CLUSTER

    def capability_scopes(self) -> Mapping[Capability, Scope]:
        return {Capability.MANIFEST_SET: Scope.STATIC}

    def providers(self) -> Mapping[Capability, Provider]:
        return {Capability.MANIFEST_SET: lambda stack: self.manifest_set()}

    def preflight(self) -> None:
        super().preflight()
        kubeconfig = self.settings.kubeconfig
        engine = probe_container_engine() if self.name in ("kind", "k3d") else EngineProbe(None, False, "")
        problems = missing_prerequisites(
            self.name, engine, shutil.which, kubeconfig is not None and kubeconfig.is_file()
        )
        if problems:
            first = problems[0]
            extra = "".join(f"; also: {p.problem}" for p in problems[1:])
            raise type(first)(first.problem + extra, first.fix)


class KindTarget(ClusterTarget):
    name = "kind"
    default_overlay = "kind"


class K3dTarget(ClusterTarget):
    name = "k3d"
    default_overlay = "k3d"


class KubeconfigTarget(ClusterTarget):
    name = "kubeconfig"
    default_overlay = "prod"

"""The kubeconfig target: an existing cluster, judged as it is (nothing is deployed), read-only unless
--allow-destructive, and never a production context unless --allow-prod-context."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from dbc_validate.analysis.live.safety import current_context, prod_context_refusal
from dbc_validate.cluster.access import ClusterAccess, find_observability
from dbc_validate.cluster.kubectl import Kubectl
from dbc_validate.errors import InputError
from dbc_validate.targets.cluster import ClusterTarget
from dbc_validate.tools.binaries import find_program

if TYPE_CHECKING:
    from dbc_validate.analysis.live.safety import KubeContext
    from dbc_validate.cluster.access import ClusterAccess


def read_context(path: Path) -> KubeContext:
    """The context a kubeconfig file selects; InputError if unreadable (its content is never shown)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise InputError(f"cannot read kubeconfig {path}: {type(exc).__name__}", "pass a valid kubeconfig") from None
    if not isinstance(data, dict):
        raise InputError(f"kubeconfig {path} is not a mapping", "pass a valid kubeconfig")
    return current_context(data)


class KubeconfigTarget(ClusterTarget):
    name = "kubeconfig"

    def context(self) -> KubeContext:
        path = self.settings.kubeconfig
        if path is None:
            raise InputError("target kubeconfig needs a kubeconfig file", "pass --kubeconfig PATH or set KUBECONFIG")
        return read_context(path)

    def safety_checks(self) -> None:
        refusal = prod_context_refusal(self.context(), self.settings.allow_prod_context)
        if refusal is not None:
            raise refusal

    def connect(self, stack: ExitStack) -> ClusterAccess:
        context = self.context()
        kubectl = Kubectl(find_program("kubectl"), self.settings.kubeconfig, context.name)
        version = kubectl.json(["version"], timeout_s=30.0)
        self.versions["kubernetes"] = str((version.get("serverVersion") or {}).get("gitVersion", "unknown"))
        self.versions["context"] = context.name
        self.progress(f"kubeconfig: context {context.name!r} (read-only; nothing is deployed)")
        access = ClusterAccess(
            self.name,
            kubectl,
            self.manifest_set(),
            self.pins(),
            None,
            self.settings.allow_destructive,
            self.progress,
            stack,
            versions=self.versions,
            failover_trials=self.settings.failover_trials,
        )
        access.observability = find_observability(
            kubectl, self.name, False, self.settings.observability_urls, self.progress
        )
        return access

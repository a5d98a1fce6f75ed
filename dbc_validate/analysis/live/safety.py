"""Safety switches decided before anything touches a cluster: production contexts, destructive tests on
an existing cluster, and whether a kind/k3d cluster is created, reused and deleted."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dbc_validate.errors import InputError

PROD_MARKER = "prod"


@dataclass(frozen=True)
class KubeContext:
    name: str
    cluster: str
    server: str
    namespace: str


def current_context(kubeconfig: Mapping[str, Any], override: str | None = None) -> KubeContext:
    """The context the kubeconfig selects (or `override`), with its cluster entry; InputError if absent."""
    name = override or kubeconfig.get("current-context")
    if not name:
        raise InputError("the kubeconfig selects no current-context", "run `kubectl config use-context NAME` first")
    contexts = {c.get("name"): c.get("context") or {} for c in kubeconfig.get("contexts") or []}
    if name not in contexts:
        known = ", ".join(sorted(str(k) for k in contexts if k)) or "none"
        raise InputError(
            f"kubeconfig context {name!r} does not exist (contexts: {known})", "select an existing context"
        )
    ctx = contexts[name]
    clusters = {c.get("name"): c.get("cluster") or {} for c in kubeconfig.get("clusters") or []}
    cluster_name = str(ctx.get("cluster", ""))
    server = str((clusters.get(cluster_name) or {}).get("server", ""))
    return KubeContext(str(name), cluster_name, server, str(ctx.get("namespace", "default")))


def prod_context_refusal(context: KubeContext, allow_prod: bool) -> InputError | None:
    """Refuse a context (or its cluster entry) whose name contains "prod" unless explicitly allowed."""
    if allow_prod:
        return None
    for what, value in (("context", context.name), ("cluster", context.cluster)):
        if PROD_MARKER in value.lower():
            return InputError(
                f"kubeconfig {what} {value!r} looks like production (its name contains {PROD_MARKER!r})",
                "select another context, or pass --allow-prod-context to run the read-only checks against it",
            )
    return None


def destructive_refusal(target: str, allow_destructive: bool) -> str | None:
    """Why a destructive test must not run here (None: it may). Only an existing cluster is protected:
    kind and k3d clusters are throwaway clusters the harness created."""
    if target == "kubeconfig" and not allow_destructive:
        return (
            "destructive test (it deletes pods or creates objects) refused on an existing cluster; "
            "pass --allow-destructive to run it on target kubeconfig"
        )
    return None


@dataclass(frozen=True)
class Lifecycle:
    create: bool
    delete_at_end: bool
    say: str


def lifecycle(name: str, exists: bool, keep_cluster: bool) -> Lifecycle:
    """Reuse a cluster of that name when there is one; delete at the end unless --keep-cluster."""
    start = f"reusing existing cluster {name!r}" if exists else f"creating cluster {name!r}"
    end = "kept at the end (--keep-cluster)" if keep_cluster else "deleted at the end, also after Ctrl-C or a failure"
    return Lifecycle(create=not exists, delete_at_end=not keep_cluster, say=f"{start}; {end}")

"""Which targets may run destructive tests (kill pods, fail over databases): the one rule, in one place (pure)."""

from __future__ import annotations

FIX = "pass --allow-destructive (or ini dbc_allow_destructive = true) if this cluster may lose pods"


def destructive_refusal(target: str, allow_destructive: bool) -> str | None:
    """Why a destructive test must not run on `target`, or None when it may.

    kind and k3d clusters are created and deleted by the harness and local labs are its own, so only an
    existing cluster reached through a kubeconfig needs the explicit permission.
    """
    if target == "kubeconfig" and not allow_destructive:
        return "refusing a destructive test on an existing cluster (target kubeconfig) without --allow-destructive"
    return None

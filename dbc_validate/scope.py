"""Evidence scopes (static < local < cluster) and how they compare."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Scope(StrEnum):
    """Where a piece of evidence was obtained; later members are stronger."""

    STATIC = "static"  # from the rendered manifest set alone
    LOCAL = "local"  # from real local services standing in for the cluster's
    CLUSTER = "cluster"  # from a live cluster


_RANK = {Scope.STATIC: 1, Scope.LOCAL: 2, Scope.CLUSTER: 3}


def rank(scope: Scope | None) -> int:
    return 0 if scope is None else _RANK[scope]


def strongest(scopes: Iterable[Scope | None]) -> Scope | None:
    """The strongest scope among `scopes`, or None when there is none."""
    best: Scope | None = None
    for scope in scopes:
        if rank(scope) > rank(best):
            best = scope
    return best


def reaches(scope: Scope | None, required: Scope) -> bool:
    """True when evidence at `scope` is at least as strong as `required`."""
    return rank(scope) >= rank(required)

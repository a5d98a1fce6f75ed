"""What a soak watches: the `soak` capability's value, whichever target provides it.

Local: the Traefik lab's processes (alive, restarts, CPU and memory against a configured budget).
Cluster: the pods (status, restartCount, CrashLoopBackOff) and the metrics API against their limits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from dbc_validate.manifests.traefik_routes import HttpRoute
from dbc_validate.probes.ingress_endpoint import IngressEndpoint


@dataclass(frozen=True)
class ComponentHealth:
    name: str
    up: bool
    restarts: int  # since the subject started watching (a pod's restartCount on a cluster)
    crashlooping: bool
    detail: str = ""


@dataclass(frozen=True)
class ResourceUse:
    """Use summed over the watched components; limits None means "judge against the configured budget"."""

    cpu_cores: float | None
    memory_mb: float | None
    cpu_limit_cores: float | None = None
    memory_limit_mb: float | None = None


class SoakSubject(Protocol):
    description: str
    endpoint: IngressEndpoint  # where the steady load goes
    route: HttpRoute  # the route the load drives (its first host is sent as Host header)
    default_duration_s: float

    def health(self, now: float) -> list[ComponentHealth]:
        """One reading per component; may restart a dead local process (counted as a restart)."""
        ...

    def resources(self) -> ResourceUse:
        """CPU (since the previous call) and memory in use now."""
        ...


def pick_route(routes: tuple[HttpRoute, ...] | list[HttpRoute]) -> HttpRoute | None:
    """The route a soak drives: the first split route (prod and stage both under load), else the first served."""
    served = [r for r in routes if r.backends]
    return next((r for r in served if r.is_split), served[0] if served else None)

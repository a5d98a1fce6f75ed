"""The `ingress` capability on a cluster: the cluster's Traefik, reached through the target's port mapping
(kind/k3d) or a port-forward (an existing cluster), described by the same IngressEndpoint record the local
Traefik lab fills, so the split and soak probes cannot tell the difference.

Thin: the host port, the replica count and the leaf service names are decided in analysis.live.cluster_ingress.
"""

from __future__ import annotations

import importlib.metadata
import urllib.error
import urllib.request
from contextlib import ExitStack
from typing import TYPE_CHECKING

from dbc_validate.analysis.live.cluster_ingress import (
    LOOPBACK,
    image_version,
    leaf_services,
    ready_replicas,
    traefik_replicas,
)
from dbc_validate.analysis.traefik_metrics import METRIC
from dbc_validate.capabilities import IngressEndpoint
from dbc_validate.cluster.kubectl import ClusterError
from dbc_validate.manifests.traefik_routes import http_routes

if TYPE_CHECKING:
    from dbc_validate.cluster.access import ClusterAccess


def _metrics_url(access: ClusterAccess) -> tuple[str | None, str]:
    """A port-forward to Traefik's metrics port when it serves Prometheus text; else None and why."""
    install = access.pins.traefik
    port = install.metrics_port
    if port is None:
        return None, "the Traefik install serves no Prometheus metrics: server-side counts are not available"
    try:
        local = access.port_forward(
            install.namespace, f"svc/{install.service_name}", port.service_port, "traefik-metrics"
        )
        url = f"http://{LOOPBACK}:{local}/metrics"
        with urllib.request.urlopen(url, timeout=10) as response:
            text = response.read(2_000_000).decode("utf-8", "replace")
    except (ClusterError, OSError, urllib.error.URLError) as exc:
        return None, f"Traefik's metrics are not reachable ({exc}): server-side counts are not available"
    if "traefik_" not in text:
        return None, f"{url} answered without Traefik metrics: server-side counts are not available"
    note = "" if METRIC in text else f"{METRIC} is not exported yet (it appears with the first request)"
    return url, note


def cluster_ingress(access: ClusterAccess, stack: ExitStack) -> IngressEndpoint:
    """The cluster's Traefik serving the manifest set's IngressRoutes."""
    del stack  # port-forwards are registered on the access's stack (the target's)
    install = access.pins.traefik
    deployment = access.kubectl.get("deployment", install.deployment, install.namespace)
    where = f"{install.namespace}/{install.deployment}"
    if deployment is None:
        raise ClusterError(f"no Traefik Deployment {where} on the {access.target} cluster")
    if ready_replicas(deployment) < 1:
        raise ClusterError(f"Traefik Deployment {where} has no ready replica")
    access.versions["traefik"] = image_version(deployment)
    access.versions["locust"] = importlib.metadata.version("locust")
    routes = http_routes(access.manifest_set)
    address = access.ingress_address()
    metrics_url, metrics_note = _metrics_url(access)
    replicas = traefik_replicas(deployment)
    how = "port mapping" if access.target in ("kind", "k3d") else "kubectl port-forward"
    notes = [f"Traefik reached at {address.url} through the {access.target} {how}"]
    notes += [metrics_note] if metrics_note else []
    notes += [f"{r.source}: {'; '.join(r.problems)}" for r in routes if r.problems]
    return IngressEndpoint(
        description=(
            f"Traefik {access.versions['traefik']} on the {access.target} cluster ({where}, {replicas} replica(s))"
        ),
        base_url=address.url,
        routes=tuple(routes),
        replicas=replicas,
        metrics_url=metrics_url,
        leaf_services={r.source: leaf_services(r) for r in routes},
        notes=tuple(notes),
    )

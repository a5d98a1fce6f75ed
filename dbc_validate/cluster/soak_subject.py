"""The cluster targets' `soak` capability: steady load through the cluster's Traefik while the pods of the
manifest set's namespaces (and Traefik's) are watched through the API.

Health per container from pod status (Ready, restartCount, CrashLoopBackOff); resources from the metrics
API, the container closest to its CPU limit and the one closest to its memory limit (Gate 1 asks every
container to stay under the threshold). Thin: the readings are decided in analysis.live (pods, headroom).
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import ExitStack
from typing import TYPE_CHECKING

from dbc_validate.analysis.live.headroom import container_loads, heaviest
from dbc_validate.analysis.live.pods import container_health
from dbc_validate.analysis.soak_summary import pick_route
from dbc_validate.analysis.split_check import request_path
from dbc_validate.capabilities import ComponentHealth, InClusterLoadHandle, IngressEndpoint, ResourceUse
from dbc_validate.cluster.kubectl import ClusterError
from dbc_validate.cluster.load_in_cluster import (
    API_PORT,
    MASTER,
    NAMESPACE,
    InClusterLoad,
    cleanup,
    deploy_objects,
    ingress_url,
    load_objects,
    pinned_image,
)
from dbc_validate.cluster.traefik_endpoint import cluster_ingress
from dbc_validate.cluster.waits import wait_ready
from dbc_validate.errors import InputError
from dbc_validate.tools.processes import wait_for_port

if TYPE_CHECKING:
    from dbc_validate.cluster.access import ClusterAccess

CLUSTER_DEFAULT_DURATION_S = 48 * 3600.0  # Gate 1's soak
API_COMPONENT = "kubernetes API server"


class MasterForward:
    """The in-cluster master's API through `kubectl port-forward`, forwarded again once kubectl has exited: it exits
    when a connection to the pod is refused (a master not listening yet, or restarting), and a soak runs for days."""

    def __init__(self, access: ClusterAccess) -> None:
        self.access = access
        self.port: int | None = None

    def url(self) -> str:
        if self.port is None or not wait_for_port(self.port, timeout_s=0.5):
            self.port = self.access.port_forward(NAMESPACE, f"svc/{MASTER}", API_PORT, "locust-master-api")
        return f"http://127.0.0.1:{self.port}"


class ClusterSoakSubject:
    def __init__(self, access: ClusterAccess, endpoint: IngressEndpoint, namespaces: Sequence[str]) -> None:
        route = pick_route(endpoint.routes)
        if route is None:
            raise InputError(
                "the manifest set has no traefik.io IngressRoute with a backend Service for the soak's load",
                "add the IngressRoute the soak should drive, or pass --manifests",
            )
        self.access = access
        self.endpoint = endpoint
        self.route = route
        self.namespaces = list(namespaces)
        self.default_duration_s = CLUSTER_DEFAULT_DURATION_S
        # Restart counts are the pods' restartCount: the cluster keeps counting while no harness watches.
        self.restart_counts_persist = True
        self.description = (
            f"pods of namespaces {', '.join(self.namespaces)} on the {access.target} cluster (Ready, restartCount, "
            f"CrashLoopBackOff; metrics API against container limits), load through {endpoint.description}"
        )

    def _pods(self) -> list[dict]:
        return self.access.in_namespaces("pods", self.namespaces)

    def health(self, now: float) -> list[ComponentHealth]:
        del now  # the kubelet keeps the restart history; nothing to time here
        try:
            readings = container_health(self._pods())
        except ClusterError as exc:
            # The API server is part of the system under test: not being able to ask it is an outage.
            return [ComponentHealth(API_COMPONENT, False, 0, False, str(exc))]
        return [ComponentHealth(r.name, r.up, r.restarts, r.crashlooping, r.detail) for r in readings]

    def in_cluster_load(
        self, workers: int, users: int, rate_per_s: float, keep: bool = False, image: str | None = None
    ) -> InClusterLoadHandle:
        """Deploy (or find again: applying is idempotent) the in-cluster load and reach its master's API."""
        traefik = self.access.pins.traefik
        host = self.route.hosts[0] if self.route.hosts else ""
        url = ingress_url(traefik)
        load = InClusterLoad(image or pinned_image(), url, host, request_path(self.route), workers, users, rate_per_s)
        kubectl = self.access.kubectl
        deploy_objects(kubectl, load_objects(load, traefik))
        wait_ready(kubectl, [NAMESPACE], [], lambda _line: None, timeout_s=300.0, poll_s=2.0, what="in-cluster load")
        forward = MasterForward(self.access)
        return InClusterLoadHandle(
            api_url=forward.url(),
            description=f"in-cluster Locust master + {workers} worker(s) in namespace {NAMESPACE}, load to {url}",
            cleanup=lambda: cleanup(kubectl, NAMESPACE, keep=keep),
            reconnect=forward.url,
        )

    def resources(self) -> ResourceUse:
        try:
            loads = container_loads(self.access.pod_metrics(self.namespaces), self._pods())
        except ClusterError:
            return ResourceUse(None, None)  # no metrics API answer: this sample has no figure (shown as a gap)
        worst = heaviest(loads)
        cpu, memory = worst.cpu, worst.memory
        return ResourceUse(
            cpu_cores=cpu.cpu_cores if cpu else None,
            memory_mb=memory.memory_bytes / 2**20 if memory else None,
            cpu_limit_cores=cpu.cpu_limit_cores if cpu else None,
            memory_limit_mb=(memory.memory_limit_bytes or 0) / 2**20 if memory else None,
        )


def cluster_soak(access: ClusterAccess, stack: ExitStack) -> ClusterSoakSubject:
    """Load through the cluster's Traefik; the pods of the set's namespaces and Traefik's are watched."""
    endpoint = cluster_ingress(access, stack)
    namespaces = list(dict.fromkeys([*access.app_namespaces, access.pins.traefik.namespace]))
    return ClusterSoakSubject(access, endpoint, namespaces)

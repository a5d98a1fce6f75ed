"""How the harness reaches the cluster's Traefik and reads it (pure): the host port a kind/k3d config maps to
Traefik's web NodePort, the Traefik replicas balancing a route, and the names Traefik's kubernetescrd provider
gives a route's leaf services in its metrics."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dbc_validate.analysis.live.pods import Obj
from dbc_validate.capabilities import Backend, HttpRoute
from dbc_validate.errors import InputError

KUBERNETESCRD = "@kubernetescrd"
_NOT_ALPHANUMERIC = re.compile(r"[\W_]+")
LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class HostAddress:
    address: str
    port: int

    @property
    def url(self) -> str:
        return f"http://{self.address}:{self.port}"


def _host(listen: Any) -> str:
    """Where to connect on this machine: a wildcard listen address is reached on the loopback."""
    text = str(listen or "").strip()
    return LOOPBACK if text in ("", "0.0.0.0", "::") else text


def _kind_mappings(config: Mapping[str, Any]) -> list[tuple[str, int, int]]:
    found = []
    for node in config.get("nodes") or []:
        for m in (node or {}).get("extraPortMappings") or []:
            if str(m.get("protocol") or "TCP").upper() == "TCP" and m.get("containerPort") and m.get("hostPort"):
                found.append((_host(m.get("listenAddress")), int(m["hostPort"]), int(m["containerPort"])))
    return found


def _k3d_mappings(config: Mapping[str, Any]) -> list[tuple[str, int, int]]:
    """k3d's `ports: [{port: "[HOST:][HOSTPORT:]CONTAINERPORT[/PROTOCOL]"}]` (as `k3d cluster create -p`)."""
    found = []
    for entry in config.get("ports") or []:
        spec, _, protocol = str((entry or {}).get("port", "")).partition("/")
        if protocol and protocol.lower() != "tcp":
            continue
        parts = spec.split(":")
        if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
            found.append((_host(parts[0]), int(parts[1]), int(parts[2])))
        elif len(parts) == 2 and parts[0].isdigit() and parts[1].isdigit():
            found.append((LOOPBACK, int(parts[0]), int(parts[1])))
    return found


def mapped_host_port(target: str, config: Mapping[str, Any], node_port: int, origin: str) -> HostAddress:
    """The host address a kind or k3d cluster config maps to `node_port` (Traefik's web NodePort)."""
    mappings = _kind_mappings(config) if target == "kind" else _k3d_mappings(config)
    for host, host_port, container_port in mappings:
        if container_port == node_port:
            return HostAddress(host, host_port)
    how = (
        "an extraPortMappings entry {containerPort: %d, hostPort: 8080, listenAddress: 127.0.0.1}"
        if target == "kind"
        else 'a ports entry {port: "127.0.0.1:8080:%d"}'
    )
    raise InputError(
        f"{origin} maps no host port to Traefik's web NodePort {node_port} "
        f"(it maps {[f'{h}:{p}->{c}' for h, p, c in mappings] or 'nothing'})",
        f"add {how % node_port}, or change the web nodePort in dbc_validate/data/traefik-install.yaml",
    )


def traefik_replicas(deployment: Obj) -> int:
    """How many Traefik instances may be balancing a route: the most of desired, current and ready replicas
    (during a rollout old and new pods both serve, each with its own round-robin schedule)."""
    spec = deployment.get("spec") or {}
    status = deployment.get("status") or {}
    return max(
        int(spec.get("replicas", 1) or 0), int(status.get("replicas") or 0), int(status.get("readyReplicas") or 0)
    )


def ready_replicas(deployment: Obj) -> int:
    return int((deployment.get("status") or {}).get("readyReplicas") or 0)


def image_version(deployment: Obj) -> str:
    """The tag of the Deployment's first container image ("v3.7.15"), or "unknown"."""
    containers = ((((deployment.get("spec") or {}).get("template") or {}).get("spec") or {}).get("containers")) or []
    image = str(containers[0].get("image", "")) if containers else ""
    name = image.split("@", 1)[0]
    return name.rsplit(":", 1)[1] if ":" in name.rsplit("/", 1)[-1] else "unknown"


def normalize(name: str) -> str:
    """Traefik's provider.Normalize: every run of characters other than letters and digits becomes one "-"."""
    return "-".join(part for part in _NOT_ALPHANUMERIC.split(name) if part)


def leaf_service_name(backend: Backend) -> str:
    """The name Traefik's kubernetescrd provider gives a Kubernetes Service it balances to, as it appears in
    `traefik_service_requests_total{service=...}`: `<namespace>-<service>-<port>@kubernetescrd`
    (`<namespace>-<service>@kubernetescrd` when the route names no port)."""
    parts = [backend.namespace, backend.name]
    if backend.port not in (None, "", 0):
        parts.append(str(backend.port))
    return normalize("-".join(parts)) + KUBERNETESCRD


def leaf_services(route: HttpRoute) -> dict[str, tuple[str, ...]]:
    """Metric names of a route's leaf services per variant (backends of one variant are summed)."""
    result: dict[str, tuple[str, ...]] = {}
    for backend in route.backends:
        name = leaf_service_name(backend)
        if name not in result.get(backend.variant, ()):
            result[backend.variant] = (*result.get(backend.variant, ()), name)
    return result

"""Turn the manifests' Traefik routes into a Traefik v3 file-provider configuration for the local lab.

Each route becomes a router with the manifest's own rule and a weighted service; each backend Service becomes
a leaf service pointing at a local server URL, carrying its variant marker as a service-level headers
middleware (Traefik v3.7). So the local Traefik splits exactly as the manifests declare. Pure: data in, data out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from dbc_validate.capabilities import Backend, HttpRoute
from dbc_validate.stats import integer_weights

ENTRY_POINT = "web"
ADMIN_ENTRY_POINT = "traefik"  # ping, API and Prometheus metrics
PROVIDER_SUFFIX = "@file"
_UNSAFE = re.compile(r"[^a-z0-9]+")


def backend_key(backend: Backend) -> str:
    """Identity of the Kubernetes Service a backend stands for: "namespace/name:port"."""
    return f"{backend.namespace}/{backend.name}:{backend.port if backend.port is not None else ''}"


def distinct_backends(routes: Sequence[HttpRoute]) -> list[Backend]:
    """One Backend per distinct Service (first seen first): each gets one local server."""
    seen: dict[str, Backend] = {}
    for route in routes:
        for backend in route.backends:
            seen.setdefault(backend_key(backend), backend)
    return list(seen.values())


def _slug(*parts: object) -> str:
    return "-".join(s for s in (_UNSAFE.sub("-", str(p).lower()).strip("-") for p in parts) if s)


@dataclass(frozen=True)
class LeafService:
    name: str  # file-provider service name (metrics label is name + "@file")
    variant: str
    backend: str  # backend_key of the Service it replaces
    weight: int
    marker: Mapping[str, str]

    @property
    def metric_label(self) -> str:
        return self.name + PROVIDER_SUFFIX


@dataclass(frozen=True)
class RouterPlan:
    route: HttpRoute
    router: str
    service: str  # the weighted parent
    leaves: tuple[LeafService, ...]


@dataclass(frozen=True)
class FileConfig:
    """The dynamic configuration plus what the harness needs to read the run (leaf names, what was left out)."""

    dynamic: dict[str, Any]
    routers: tuple[RouterPlan, ...]
    omitted: tuple[str, ...] = field(default=())  # manifest features the local lab does not reproduce

    def leaf_services(self, route_source: str) -> dict[str, tuple[str, ...]]:
        """Metric labels of the leaf services per variant for one route."""
        result: dict[str, tuple[str, ...]] = {}
        for plan in self.routers:
            if plan.route.source == route_source:
                for leaf in plan.leaves:
                    result[leaf.variant] = (*result.get(leaf.variant, ()), leaf.metric_label)
        return result


def _merged(backends: Sequence[Backend]) -> list[tuple[Backend, Fraction]]:
    # The same Service listed twice in one route receives the sum of its shares.
    shares: dict[str, Fraction] = {}
    first: dict[str, Backend] = {}
    for backend in backends:
        key = backend_key(backend)
        first.setdefault(key, backend)
        shares[key] = shares.get(key, Fraction(0)) + backend.share
    return [(first[key], share) for key, share in shares.items() if share > 0]


def file_config(routes: Sequence[HttpRoute], urls: Mapping[str, str]) -> FileConfig:
    """The dynamic configuration serving `routes`, each backend replaced by `urls[backend_key(backend)]`."""
    routers: dict[str, Any] = {}
    services: dict[str, Any] = {}
    middlewares: dict[str, Any] = {}
    plans: list[RouterPlan] = []
    omitted: list[str] = []
    for index, route in enumerate(routes):
        merged = _merged(route.backends)
        if not merged:
            omitted.append(f"{route.source}: no backend with a positive weight; not served")
            continue
        if route.middlewares:
            names = ", ".join(f"{m.namespace}/{m.name}" for m in route.middlewares)
            omitted.append(f"{route.source}: route-level middlewares ({names}) are not reproduced locally")
        foreign = [e for e in route.entry_points if e != ENTRY_POINT]
        if foreign:
            omitted.append(f"{route.source}: entry points {', '.join(foreign)} served on the local '{ENTRY_POINT}'")
        prefix = f"r{index}"
        parent = _slug(prefix, "split")
        weights = integer_weights([share for _, share in merged])
        leaves = []
        for (backend, _), weight in zip(merged, weights, strict=True):
            name = _slug(prefix, backend.namespace, backend.name, backend.port)
            leaf: dict[str, Any] = {"loadBalancer": {"servers": [{"url": urls[backend_key(backend)]}]}}
            if backend.marker:
                marker_name = _slug(name, "marker")
                middlewares[marker_name] = {"headers": {"customResponseHeaders": dict(backend.marker)}}
                leaf["middlewares"] = [marker_name]
            services[name] = leaf
            leaves.append(LeafService(name, backend.variant, backend_key(backend), weight, dict(backend.marker)))
        services[parent] = {"weighted": {"services": [{"name": x.name, "weight": x.weight} for x in leaves]}}
        router = _slug(prefix, route.source)
        routers[router] = {"rule": route.match, "entryPoints": [ENTRY_POINT], "service": parent}
        plans.append(RouterPlan(route, router, parent, tuple(leaves)))
    http: dict[str, Any] = {"routers": routers, "services": services}
    if middlewares:
        http["middlewares"] = middlewares
    return FileConfig({"http": http}, tuple(plans), tuple(omitted))


def static_config(web_port: int, admin_port: int, dynamic_path: str, host: str = "127.0.0.1") -> dict[str, Any]:
    """Traefik's static configuration: the web entry point, an admin entry point with ping, API and metrics.

    Version checks and usage statistics are off: the lab must not talk to anything but loopback.
    """
    return {
        "global": {"checkNewVersion": False, "sendAnonymousUsage": False},
        "entryPoints": {
            ENTRY_POINT: {"address": f"{host}:{web_port}"},
            ADMIN_ENTRY_POINT: {"address": f"{host}:{admin_port}"},
        },
        "ping": {"entryPoint": ADMIN_ENTRY_POINT},
        "api": {"insecure": True, "dashboard": False},
        "metrics": {"prometheus": {"entryPoint": ADMIN_ENTRY_POINT, "addServicesLabels": True}},
        "providers": {"file": {"filename": dynamic_path, "watch": False}},
        "log": {"level": "INFO", "noColor": True},
    }

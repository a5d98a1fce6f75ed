"""Port-forwards that reach real local services: a rule maps a forward target (`pod/<glob>` or `svc/<name>` and a
port, as `kubectl port-forward` names them) to a local endpoint, so the data plane behind the double is a real lab
(a PostgreSQL for the CNPG instances, the Traefik lab for the cluster's Traefik) instead of a scripted answer."""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .store import Double

Endpoint = tuple[str, int]


@dataclass(frozen=True)
class Relay:
    """`kubectl port-forward -n <namespace> <target> L:<port>` reaches `endpoint`. For `svc/NAME`, `port` is the
    Service port: the forward matches the pods the Service selects on the container port its targetPort names."""

    namespace: str
    target: str
    port: int
    endpoint: Endpoint

    def matches(self, double: Double, ns: str, pod: str, container_port: int) -> bool:
        if not fnmatch.fnmatchcase(ns, self.namespace):
            return False
        kind, _, name = self.target.partition("/")
        if kind == "pod":
            return container_port == self.port and fnmatch.fnmatchcase(pod, name)
        if kind in ("svc", "service"):
            found = double.store.get(("", "pods", ns, pod))
            service = double.store.get(("", "services", ns, name))
            if found is None or service is None:
                return False
            return container_port in service_ports(service, found, self.port)
        raise ValueError(f"relay target {self.target!r}: expected pod/<glob> or svc/<name>")


def selects(service: dict[str, Any], pod: dict[str, Any]) -> bool:
    selector = (service.get("spec") or {}).get("selector") or {}
    labels = (pod.get("metadata") or {}).get("labels") or {}
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def service_ports(service: dict[str, Any], pod: dict[str, Any], port: int) -> set[int]:
    """The container ports of `pod` that Service port `port` leads to (targetPort by number or by name; kubectl
    resolves it the same way before it opens the forward), none when the Service does not select the pod."""
    if not selects(service, pod):
        return set()
    named = {
        p["name"]: int(p["containerPort"])
        for c in (pod.get("spec") or {}).get("containers") or []
        for p in c.get("ports") or []
        if p.get("name")
    }
    found = set()
    for entry in (service.get("spec") or {}).get("ports") or []:
        if int(entry.get("port", 0)) != port:
            continue
        target = entry.get("targetPort", port)
        resolved = named.get(target) if isinstance(target, str) else int(target)
        if resolved is not None:
            found.add(resolved)
    return found


def install(double: Double, relays: Sequence[Relay]) -> None:
    """Put `relays` in front of whatever the scenario routes (its scripted HTTP backend): first match wins."""
    scripted: Callable[[str, str, int], tuple | None] | None = double.route_forward

    def route(ns: str, pod: str, port: int) -> tuple | None:
        for relay in relays:
            if relay.matches(double, ns, pod, port):
                return relay.endpoint
        return scripted(ns, pod, port) if scripted else None

    double.route_forward = route

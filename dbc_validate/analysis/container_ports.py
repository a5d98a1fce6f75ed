"""Container ports as a pod spec declares them, shared by the cluster model and the add-on descriptions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dbc_validate.manifests.fields import listing, mapping


@dataclass(frozen=True)
class ContainerPort:
    port: int
    protocol: str = "TCP"
    name: str | None = None
    host_port: int | None = None


def as_int(value: Any, default: int) -> int:
    """`value` as an int, or `default` when it is missing or not a number."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def container_ports(raw: Any) -> tuple[ContainerPort, ...]:
    ports = []
    for item in listing(raw):
        item = mapping(item)
        number = as_int(item.get("containerPort"), 0)
        if number > 0:
            host = as_int(item.get("hostPort"), 0)
            name = item.get("name")
            protocol = str(item.get("protocol") or "TCP").upper()
            ports.append(ContainerPort(number, protocol, str(name) if name else None, host or None))
    return tuple(ports)

"""NetworkPolicy port matchers: number, range (port..endPort) or named port, per protocol."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

PROTOCOLS = ("TCP", "UDP", "SCTP")

# Resolves a named port on the destination pod: (name, protocol) -> port number, or None.
NamedPortResolver = Callable[[str, str], "int | None"]


class PortError(ValueError):
    """A port entry the API server would reject."""


@dataclass(frozen=True)
class PortMatcher:
    protocol: str = "TCP"
    port: int | str | None = None  # None: every port of the protocol
    end_port: int | None = None

    def matches(self, port: int, protocol: str, resolve: NamedPortResolver | None) -> bool:
        if protocol != self.protocol:
            return False
        if self.port is None:
            return True
        if isinstance(self.port, str):
            # A named port means the port the destination pod declares under that name and protocol.
            return resolve is not None and resolve(self.port, protocol) == port
        if self.end_port is not None:
            return self.port <= port <= self.end_port
        return port == self.port

    def describe(self) -> str:
        if self.port is None:
            return f"any/{self.protocol}"
        if self.end_port is not None:
            return f"{self.port}-{self.end_port}/{self.protocol}"
        return f"{self.port}/{self.protocol}"


def parse_port(raw: Any, where: str) -> PortMatcher:
    """A PortMatcher from a NetworkPolicyPort; raises PortError like the API server's validation would."""
    if not isinstance(raw, Mapping):
        raise PortError(f"{where} is not a mapping")
    protocol = str(raw.get("protocol") or "TCP")
    if protocol not in PROTOCOLS:
        raise PortError(f"{where}: protocol {protocol!r} is not one of {', '.join(PROTOCOLS)}")
    port = raw.get("port")
    end_port = raw.get("endPort")
    if isinstance(port, str) and port.isdigit():
        port = int(port)
    if port is not None and not isinstance(port, int | str):
        raise PortError(f"{where}: port must be a number or a name")
    if isinstance(port, int) and not 1 <= port <= 65535:
        raise PortError(f"{where}: port {port} is outside 1-65535")
    if end_port is not None:
        if not isinstance(port, int):
            raise PortError(f"{where}: endPort needs a numeric port")
        if not isinstance(end_port, int) or end_port < port or end_port > 65535:
            raise PortError(f"{where}: endPort {end_port!r} must be a number between port and 65535")
    return PortMatcher(protocol, port, end_port)

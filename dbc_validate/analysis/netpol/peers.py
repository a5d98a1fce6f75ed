"""Flow endpoints and NetworkPolicy peers: pod peers (namespaceSelector AND podSelector) and ipBlocks."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dbc_validate.analysis.netpol.selectors import LabelSelector, SelectorError, parse_selector

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class PeerError(ValueError):
    """A peer the API server would reject."""


@dataclass(frozen=True)
class Endpoint:
    """One end of a flow: a pod (namespace + labels) or, when `ip` is set, an address outside the cluster."""

    name: str
    namespace: str | None = None
    namespace_labels: Mapping[str, str] = field(default_factory=dict, hash=False)
    labels: Mapping[str, str] = field(default_factory=dict, hash=False)
    ip: IPAddress | None = None

    @property
    def is_pod(self) -> bool:
        return self.ip is None


def external(address: str) -> Endpoint:
    """An endpoint outside the cluster; raises ValueError when `address` is not an IP address."""
    return Endpoint(name=address, ip=ipaddress.ip_address(address))


@dataclass(frozen=True)
class PodPeer:
    """Pods matched by a namespaceSelector AND a podSelector; a missing namespaceSelector means the
    policy's own namespace, a missing podSelector means every pod of the selected namespaces."""

    namespace_selector: LabelSelector | None
    pod_selector: LabelSelector | None

    def matches(self, endpoint: Endpoint, policy_namespace: str) -> bool:
        if not endpoint.is_pod:
            return False  # pods never match an address: outside traffic needs an ipBlock
        if self.namespace_selector is None:
            if endpoint.namespace != policy_namespace:
                return False
        elif not self.namespace_selector.matches(endpoint.namespace_labels):
            return False
        return self.pod_selector is None or self.pod_selector.matches(endpoint.labels)

    def matches_namespace(self, namespace: str, labels: Mapping[str, str], policy_namespace: str) -> bool:
        if self.namespace_selector is None:
            return namespace == policy_namespace
        return self.namespace_selector.matches(labels)

    @property
    def all_namespaces(self) -> bool:
        return self.namespace_selector is not None and self.namespace_selector.selects_all

    def describe(self) -> str:
        parts = []
        if self.namespace_selector is not None:
            parts.append(f"namespaceSelector {self.namespace_selector.describe()}")
        if self.pod_selector is not None:
            parts.append(f"podSelector {self.pod_selector.describe()}")
        return " AND ".join(parts)


@dataclass(frozen=True)
class IPBlockPeer:
    """Addresses in `cidr` minus `excepts`. Pod addresses are deliberately not matched (see REFERENCE)."""

    cidr: IPNetwork
    excepts: tuple[IPNetwork, ...] = ()

    def matches(self, endpoint: Endpoint, policy_namespace: str) -> bool:
        ip = endpoint.ip
        if ip is None or ip.version != self.cidr.version or ip not in self.cidr:
            return False
        return not any(ip in excluded for excluded in self.excepts)

    def describe(self) -> str:
        excepts = f" except {', '.join(map(str, self.excepts))}" if self.excepts else ""
        return f"ipBlock {self.cidr}{excepts}"


Peer = PodPeer | IPBlockPeer


def _network(value: Any, where: str) -> IPNetwork:
    try:
        return ipaddress.ip_network(str(value), strict=False)
    except ValueError:
        raise PeerError(f"{where}: {value!r} is not a CIDR") from None


def _optional_selector(raw: Mapping[str, Any], key: str, where: str) -> LabelSelector | None:
    value = raw.get(key)
    return None if value is None else parse_selector(value, f"{where}.{key}")


def parse_peer(raw: Any, where: str) -> Peer:
    if not isinstance(raw, Mapping):
        raise PeerError(f"{where} is not a mapping")
    # A null selector is an absent one (the API's nil pointer); {} is a selector that matches everything.
    has_selectors = raw.get("podSelector") is not None or raw.get("namespaceSelector") is not None
    if raw.get("ipBlock") is not None:
        if has_selectors:
            raise PeerError(f"{where}: ipBlock cannot be combined with podSelector or namespaceSelector")
        block = raw["ipBlock"]
        if not isinstance(block, Mapping) or not block.get("cidr"):
            raise PeerError(f"{where}.ipBlock needs a cidr")
        cidr = _network(block["cidr"], f"{where}.ipBlock.cidr")
        excepts = tuple(_network(e, f"{where}.ipBlock.except") for e in block.get("except") or [])
        for excluded in excepts:
            if excluded.version != cidr.version or not excluded.subnet_of(cidr):  # type: ignore[arg-type]
                raise PeerError(f"{where}.ipBlock: except {excluded} is not inside cidr {cidr}")
        return IPBlockPeer(cidr, excepts)
    if not has_selectors:
        raise PeerError(f"{where}: a peer needs podSelector, namespaceSelector or ipBlock")
    try:
        namespace_selector = _optional_selector(raw, "namespaceSelector", where)
        pod_selector = _optional_selector(raw, "podSelector", where)
    except SelectorError as exc:
        raise PeerError(str(exc)) from None
    return PodPeer(namespace_selector, pod_selector)

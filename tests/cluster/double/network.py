"""The double's data plane between pods: a CNI that enforces the stored NetworkPolicies (networking.k8s.io/v1
semantics, written here independently of the harness's engine), or one that enforces nothing."""

from __future__ import annotations

import ipaddress
from typing import Any

Obj = dict[str, Any]


def selects(selector: Obj | None, labels: dict[str, str]) -> bool:
    """A LabelSelector (matchLabels and matchExpressions); an empty selector selects everything."""
    selector = selector or {}
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for e in selector.get("matchExpressions") or []:
        key, op, values = e["key"], e["operator"], e.get("values") or []
        ok = {
            "In": key in labels and labels[key] in values,
            "NotIn": key not in labels or labels[key] not in values,
            "Exists": key in labels,
            "DoesNotExist": key not in labels,
        }[op]
        if not ok:
            return False
    return True


def _labels(obj: Obj) -> dict[str, str]:
    return (obj.get("metadata") or {}).get("labels") or {}


def _ns(obj: Obj) -> str:
    return (obj.get("metadata") or {}).get("namespace", "")


def _types(policy: Obj) -> list[str]:
    spec = policy.get("spec") or {}
    return spec.get("policyTypes") or (["Ingress", "Egress"] if "egress" in spec else ["Ingress"])


def _peer_matches(peer: Obj, policy_ns: str, other: Obj, namespaces: dict[str, Obj]) -> bool:
    if "ipBlock" in peer:
        ip = (other.get("status") or {}).get("podIP")
        block = peer["ipBlock"]
        if not ip or ipaddress.ip_address(ip) not in ipaddress.ip_network(block["cidr"]):
            return False
        return not any(ipaddress.ip_address(ip) in ipaddress.ip_network(x) for x in block.get("except") or [])
    if "namespaceSelector" in peer:
        ns_labels = _labels(namespaces.get(_ns(other), {}))
        if not selects(peer["namespaceSelector"], ns_labels):
            return False
    elif _ns(other) != policy_ns:
        return False
    return "podSelector" not in peer or selects(peer["podSelector"], _labels(other))


def _port_matches(rule_ports: list | None, port: int, protocol: str, destination: Obj) -> bool:
    if not rule_ports:
        return True
    for p in rule_ports:
        if str(p.get("protocol", "TCP")).upper() != protocol:
            continue
        want = p.get("port")
        if want is None:
            return True
        if isinstance(want, str) and not want.isdigit():
            named = [
                cp["containerPort"]
                for c in (destination.get("spec") or {}).get("containers") or []
                for cp in c.get("ports") or []
                if cp.get("name") == want and str(cp.get("protocol", "TCP")).upper() == protocol
            ]
            if port in named:
                return True
            continue
        if int(want) <= port <= int(p.get("endPort") or want):
            return True
    return False


def _direction_allows(
    direction: str, policies: list[Obj], subject: Obj, other: Obj, port: int, protocol: str, nss: dict
) -> bool:
    """Does every policy isolating `subject` in `direction` leave the flow with `other` allowed by one rule?"""
    key, peers_key = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
    destination = subject if direction == "Ingress" else other
    isolating = [
        p
        for p in policies
        if _ns(p) == _ns(subject)
        and direction in _types(p)
        and selects((p.get("spec") or {}).get("podSelector"), _labels(subject))
    ]
    if not isolating:
        return True
    for policy in isolating:
        for rule in (policy.get("spec") or {}).get(key) or []:
            peers = rule.get(peers_key)
            if peers is not None and not any(_peer_matches(x, _ns(policy), other, nss) for x in peers):
                continue
            if _port_matches(rule.get("ports"), port, protocol, destination):
                return True
    return False


def allowed(source: Obj, destination: Obj, port: int, protocol: str, policies: list[Obj], nss: dict) -> bool:
    """A flow passes when the source's egress and the destination's ingress both allow it."""
    return _direction_allows("Egress", policies, source, destination, port, protocol, nss) and _direction_allows(
        "Ingress", policies, destination, source, port, protocol, nss
    )

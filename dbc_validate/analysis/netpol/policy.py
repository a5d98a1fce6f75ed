"""NetworkPolicy objects as data: which pods a policy isolates, in which direction, and its rules.

Semantics (networking.k8s.io/v1): policyTypes omitted means Ingress, plus Egress when the egress list is
not empty; a rule without peers admits every peer, a rule without ports every port.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dbc_validate.analysis.netpol.peers import Endpoint, Peer, PeerError, parse_peer
from dbc_validate.analysis.netpol.ports import NamedPortResolver, PortError, PortMatcher, parse_port
from dbc_validate.analysis.netpol.selectors import LabelSelector, SelectorError, parse_selector
from dbc_validate.manifests.model import K8sObject

INGRESS, EGRESS = "Ingress", "Egress"
PEER_KEY = {INGRESS: "from", EGRESS: "to"}


class PolicyError(ValueError):
    """A NetworkPolicy the API server would reject: it never exists in the cluster."""


@dataclass(frozen=True)
class Rule:
    direction: str  # Ingress | Egress
    index: int
    peers: tuple[Peer, ...] | None  # None: every peer (pods and addresses)
    ports: tuple[PortMatcher, ...] | None  # None: every port and protocol

    def admits_peer(self, peer: Endpoint, policy_namespace: str) -> bool:
        return self.peers is None or any(p.matches(peer, policy_namespace) for p in self.peers)

    def admits_port(self, port: int, protocol: str, resolve: NamedPortResolver | None) -> bool:
        return self.ports is None or any(m.matches(port, protocol, resolve) for m in self.ports)


@dataclass(frozen=True)
class Policy:
    namespace: str
    name: str
    pod_selector: LabelSelector
    ingress: tuple[Rule, ...] | None  # None: the policy does not isolate ingress
    egress: tuple[Rule, ...] | None  # None: the policy does not isolate egress

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.name}"

    def rules(self, direction: str) -> tuple[Rule, ...] | None:
        return self.ingress if direction == INGRESS else self.egress

    def selects(self, namespace: str, labels: Mapping[str, str]) -> bool:
        return namespace == self.namespace and self.pod_selector.matches(labels)

    def rule_ref(self, rule: Rule) -> str:
        return f"{self.ref} {PEER_KEY[rule.direction]}-rule {rule.index}"


def policy_types(spec: Mapping[str, Any]) -> tuple[str, ...]:
    declared = spec.get("policyTypes")
    if declared:
        return tuple(str(t) for t in declared)
    return (INGRESS, EGRESS) if spec.get("egress") else (INGRESS,)


def _rules(raw: Any, direction: str, where: str) -> tuple[Rule, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise PolicyError(f"{where} is not a list")
    rules = []
    for index, item in enumerate(raw):
        here = f"{where}[{index}]"
        item = item or {}
        if not isinstance(item, Mapping):
            raise PolicyError(f"{here} is not a mapping")
        raw_peers = item.get(PEER_KEY[direction])
        raw_ports = item.get("ports")
        try:
            peers = tuple(parse_peer(p, f"{here}.{PEER_KEY[direction]}[{i}]") for i, p in enumerate(raw_peers or []))
            ports = tuple(parse_port(p, f"{here}.ports[{i}]") for i, p in enumerate(raw_ports or []))
        except (PeerError, PortError) as exc:
            raise PolicyError(str(exc)) from None
        rules.append(Rule(direction, index, peers or None, ports or None))
    return tuple(rules)


def parse_policy(obj: K8sObject) -> Policy:
    """The policy `obj` declares; raises PolicyError (naming the field) when the API server would reject it."""
    spec = obj.spec
    types = policy_types(spec)
    unknown = [t for t in types if t not in (INGRESS, EGRESS)]
    if unknown:
        raise PolicyError(f"spec.policyTypes: {', '.join(unknown)} is not Ingress or Egress")
    try:
        selector = parse_selector(spec.get("podSelector") or {}, "spec.podSelector")
    except SelectorError as exc:
        raise PolicyError(str(exc)) from None
    ingress = _rules(spec.get("ingress"), INGRESS, "spec.ingress")
    egress = _rules(spec.get("egress"), EGRESS, "spec.egress")
    return Policy(
        namespace=obj.namespace or "default",
        name=obj.name,
        pod_selector=selector,
        ingress=ingress if INGRESS in types else None,
        egress=egress if EGRESS in types else None,
    )


def parse_policies(objects: tuple[K8sObject, ...]) -> tuple[tuple[Policy, ...], tuple[tuple[K8sObject, str], ...]]:
    """(valid policies, (object, problem) for each policy the API server would reject)."""
    policies, problems = [], []
    for obj in objects:
        try:
            policies.append(parse_policy(obj))
        except PolicyError as exc:
            problems.append((obj, str(exc)))
    return tuple(policies), tuple(problems)

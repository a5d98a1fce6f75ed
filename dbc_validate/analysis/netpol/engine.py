"""The NetworkPolicy engine: is a flow allowed, and why. Pure; compiled once per ClusterModel.

A flow from a source to a destination on port/protocol is allowed when the source's egress AND the
destination's ingress both allow it. A pod selected by no policy of a direction is open in that
direction; otherwise the union of the selecting policies' rules decides. An address outside the cluster
(e.g. "8.8.8.8") has no policies of its own and is matched only by ipBlock peers.

Contract: `allowed(model, src, dst, port, protocol) -> Decision(allowed, explanation)`, where src and dst
are workload ids "namespace/name" (or an IP address for outside the cluster). A workload with several
distinct pods (a CloudNativePG Cluster) is judged pod by pod; `allowed` is True only when every pod pair
is allowed, and the explanation lists each pair.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any

from dbc_validate.analysis.cluster_model import ClusterModel, Workload
from dbc_validate.analysis.netpol.peers import Endpoint, external
from dbc_validate.analysis.netpol.policy import EGRESS, INGRESS, Policy, Rule, parse_policies
from dbc_validate.analysis.netpol.ports import PROTOCOLS, NamedPortResolver


class UnknownEndpoint(KeyError):
    """Neither a workload of the model nor an IP address; the message lists the known workloads."""

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True)
class SideVerdict:
    """One side of a flow: the source's egress or the destination's ingress."""

    direction: str  # "Egress" (judged on the source pod) | "Ingress" (judged on the destination pod)
    pod: str  # "namespace/pod" or the outside address
    applies: bool  # False for an outside address: no policy governs it
    isolated_by: tuple[str, ...]  # policies ("ns/name") selecting the pod for this direction
    admitted_by: tuple[str, ...]  # rules ("ns/name to-rule 0") admitting the flow

    @property
    def allowed(self) -> bool:
        return not self.applies or not self.isolated_by or bool(self.admitted_by)

    def describe(self) -> str:
        side = f"{self.direction.lower()} of {self.pod}"
        if not self.applies:
            return f"{side}: outside the cluster, no policy applies"
        if not self.isolated_by:
            return f"{side}: not isolated (no policy selects it for {self.direction}), so open"
        isolated = f"isolated by {', '.join(self.isolated_by)}"
        if self.admitted_by:
            return f"{side}: {isolated}; admitted by {', '.join(self.admitted_by)}"
        return f"{side}: {isolated}; no rule admits this flow"

    def as_dict(self) -> dict[str, Any]:
        return {
            "direction": self.direction,
            "pod": self.pod,
            "policies_apply": self.applies,
            "isolated_by": list(self.isolated_by),
            "admitted_by": list(self.admitted_by),
            "allowed": self.allowed,
        }


@dataclass(frozen=True)
class PairVerdict:
    source_pod: str
    destination_pod: str
    egress: SideVerdict
    ingress: SideVerdict

    @property
    def allowed(self) -> bool:
        return self.egress.allowed and self.ingress.allowed


@dataclass(frozen=True)
class Explanation:
    source: str
    destination: str
    port: int
    protocol: str
    pairs: tuple[PairVerdict, ...]

    @property
    def allowed(self) -> bool:
        return bool(self.pairs) and all(p.allowed for p in self.pairs)

    def text(self) -> str:
        verdict = "allowed" if self.allowed else "denied"
        if len(self.pairs) > 1 and len({p.allowed for p in self.pairs}) > 1:
            verdict = "denied for some pods"
        lines = [f"{self.source} -> {self.destination} {self.port}/{self.protocol}: {verdict}"]
        for pair in self.pairs:
            if len(self.pairs) > 1:
                state = "allowed" if pair.allowed else "denied"
                lines.append(f"  pod {pair.source_pod} -> pod {pair.destination_pod}: {state}")
            lines.append(f"    {pair.egress.describe()}")
            lines.append(f"    {pair.ingress.describe()}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.text()

    def as_dict(self) -> dict[str, Any]:
        return {
            "text": self.text(),
            "pairs": [
                {
                    "source_pod": p.source_pod,
                    "destination_pod": p.destination_pod,
                    "allowed": p.allowed,
                    "egress": p.egress.as_dict(),
                    "ingress": p.ingress.as_dict(),
                }
                for p in self.pairs
            ],
        }


@dataclass(frozen=True)
class Decision:
    allowed: bool
    explanation: Explanation

    @property
    def partial(self) -> bool:
        """Some pod pairs allowed and some denied (e.g. only the primary of a CNPG cluster reachable)."""
        return len({p.allowed for p in self.explanation.pairs}) > 1


@dataclass(frozen=True)
class _PodRef:
    workload: Workload | None  # None for an outside address
    endpoint: Endpoint
    index: int  # position in the compiled index; -1 for an outside address


class CompiledPolicies:
    """Policies parsed once and indexed by the pods they select, with peer sets precomputed per rule."""

    def __init__(self, model: ClusterModel) -> None:
        self.model = model
        self.policies, self.invalid = parse_policies(model.network_policies)
        self.pods: list[_PodRef] = []
        self.pods_of: dict[str, list[_PodRef]] = {}
        for workload in model.workloads:
            refs = self.pods_of.setdefault(workload.id, [])
            ns_labels = model.namespace_labels(workload.namespace)
            for pod in workload.pods:
                endpoint = Endpoint(f"{workload.namespace}/{pod.name}", workload.namespace, ns_labels, pod.labels)
                ref = _PodRef(workload, endpoint, len(self.pods))
                self.pods.append(ref)
                refs.append(ref)
        self.selecting: dict[str, list[list[Policy]]] = {INGRESS: [], EGRESS: []}
        for ref in self.pods:
            for direction in (INGRESS, EGRESS):
                self.selecting[direction].append(
                    [
                        p
                        for p in self.policies
                        if p.rules(direction) is not None
                        and p.selects(ref.endpoint.namespace or "", ref.endpoint.labels)
                    ]
                )
        self._peer_sets: dict[int, frozenset[int]] = {}
        self._resolvers: dict[int, NamedPortResolver] = {}
        # Per direction and pod: None when no policy isolates it, else its rules with the pods each admits,
        # and the union of those pods (a flow to a pod outside it is denied without looking at ports).
        self.side_rules: dict[str, list[list[tuple[Policy, Rule, frozenset[int]]] | None]] = {}
        self.reach: dict[str, list[frozenset[int]]] = {}
        for direction in (INGRESS, EGRESS):
            rules_of, reach_of = [], []
            for policies in self.selecting[direction]:
                rules = [(p, r, self.peer_set(p, r)) for p in policies for r in p.rules(direction) or ()]
                rules_of.append(rules if policies else None)
                reach_of.append(frozenset().union(*(members for _, _, members in rules)))
            self.side_rules[direction], self.reach[direction] = rules_of, reach_of

    # -- lookups ----------------------------------------------------------------------------------

    def endpoints(self, name: str) -> list[_PodRef]:
        """The pods of workload `name` ("ns/name"), or an outside address; raises UnknownEndpoint."""
        if name in self.pods_of:
            return self.pods_of[name]
        try:
            return [_PodRef(None, external(name), -1)]
        except ValueError:
            known = ", ".join(sorted(self.pods_of))
            raise UnknownEndpoint(
                f"unknown workload {name!r}: give namespace/name (known: {known}) or an IP address"
            ) from None

    def selected_pods(self, policy: Policy) -> list[_PodRef]:
        return [r for r in self.pods if policy.selects(r.endpoint.namespace or "", r.endpoint.labels)]

    def peer_set(self, policy: Policy, rule: Rule) -> frozenset[int]:
        """Indexes of the pods that `rule`'s peers match (every pod when the rule names no peer)."""
        key = id(rule)
        cached = self._peer_sets.get(key)
        if cached is None:
            cached = frozenset(r.index for r in self.pods if rule.admits_peer(r.endpoint, policy.namespace))
            self._peer_sets[key] = cached
        return cached

    def resolver(self, ref: _PodRef) -> NamedPortResolver | None:
        if ref.workload is None:
            return None
        key = id(ref.workload)
        if key not in self._resolvers:
            self._resolvers[key] = ref.workload.named_port
        return self._resolvers[key]

    # -- judging ----------------------------------------------------------------------------------

    def _admits(self, policy: Policy, rule: Rule, peer: _PodRef, port: int, protocol: str, dst: _PodRef) -> bool:
        if peer.index >= 0:
            if peer.index not in self.peer_set(policy, rule):
                return False
        elif not rule.admits_peer(peer.endpoint, policy.namespace):
            return False
        return rule.admits_port(port, protocol, self.resolver(dst))

    def side_allows(self, direction: str, pod: _PodRef, peer: _PodRef, port: int, protocol: str) -> bool:
        """Fast yes/no for one side (no explanation): used for whole matrices."""
        if pod.index < 0:
            return True
        rules = self.side_rules[direction][pod.index]
        if rules is None:
            return True
        if peer.index >= 0 and peer.index not in self.reach[direction][pod.index]:
            return False
        dst = peer if direction == EGRESS else pod
        return any(self._admits(p, rule, peer, port, protocol, dst) for p, rule, _ in rules)

    def side(self, direction: str, pod: _PodRef, peer: _PodRef, port: int, protocol: str) -> SideVerdict:
        if pod.index < 0:
            return SideVerdict(direction, pod.endpoint.name, False, (), ())
        policies = self.selecting[direction][pod.index]
        dst = peer if direction == EGRESS else pod
        admitted = tuple(
            p.rule_ref(rule)
            for p in policies
            for rule in p.rules(direction) or ()
            if self._admits(p, rule, peer, port, protocol, dst)
        )
        return SideVerdict(direction, pod.endpoint.name, True, tuple(p.ref for p in policies), admitted)

    def pairs(self, source: str, destination: str) -> list[tuple[_PodRef, _PodRef]]:
        return pod_pairs(self.endpoints(source), self.endpoints(destination), source == destination)

    def flow_allowed(self, pairs: list[tuple[_PodRef, _PodRef]], port: int, protocol: str) -> bool:
        return all(
            self.side_allows(EGRESS, s, d, port, protocol) and self.side_allows(INGRESS, d, s, port, protocol)
            for s, d in pairs
        )

    def decide(self, source: str, destination: str, port: int, protocol: str) -> Decision:
        verdicts = tuple(
            PairVerdict(
                s.endpoint.name,
                d.endpoint.name,
                self.side(EGRESS, s, d, port, protocol),
                self.side(INGRESS, d, s, port, protocol),
            )
            for s, d in self.pairs(source, destination)
        )
        explanation = Explanation(source, destination, port, protocol, verdicts)
        return Decision(explanation.allowed, explanation)


def pod_pairs(sources: list[_PodRef], destinations: list[_PodRef], same: bool) -> list[tuple[_PodRef, _PodRef]]:
    """Every (source pod, destination pod); within one workload of several pods, a pod to another pod."""
    if same and len(sources) > 1:
        return [(s, d) for s in sources for d in destinations if s.index != d.index]
    return [(s, d) for s in sources for d in destinations]


_COMPILED: weakref.WeakKeyDictionary[ClusterModel, CompiledPolicies] = weakref.WeakKeyDictionary()


def compiled(model: ClusterModel) -> CompiledPolicies:
    """The model's policies compiled once (cached per model object)."""
    index = _COMPILED.get(model)
    if index is None:
        index = CompiledPolicies(model)
        _COMPILED[model] = index
    return index


def normalize_protocol(protocol: str) -> str:
    value = protocol.upper()
    if value not in PROTOCOLS:
        raise ValueError(f"protocol {protocol!r} is not one of {', '.join(PROTOCOLS)}")
    return value


def allowed(model: ClusterModel, src: str, dst: str, port: int, protocol: str = "TCP") -> Decision:
    """Whether `src` may open a connection to `dst` on port/protocol, with the reason.

    src/dst: "namespace/name" of a workload, or an IP address outside the cluster. Raises UnknownEndpoint
    for anything else and ValueError for a bad protocol.
    """
    return compiled(model).decide(src, dst, int(port), normalize_protocol(protocol))

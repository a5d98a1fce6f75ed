"""Network-policy findings, decided with the engine (which pods a policy selects, which flows it admits).

Nothing here pattern-matches YAML: "DNS is blocked" means the engine denies the flow to kube-dns, "a peer
matches nothing" means no namespace or pod of the model (the set, kube-dns and the add-ons) matches it.
"""

from __future__ import annotations

from collections.abc import Iterator

from dbc_validate.analysis.cluster_model import ClusterModel, Workload
from dbc_validate.analysis.findings import Finding, finding
from dbc_validate.analysis.netpol.engine import CompiledPolicies, Decision, compiled
from dbc_validate.analysis.netpol.peers import PodPeer
from dbc_validate.analysis.netpol.policy import EGRESS, INGRESS, PEER_KEY, Policy, Rule

KUBE_DNS = "kube-system/kube-dns"
CNPG_STATUS_PORT = 8000
POSTGRES_PORT = 5432


def denial_reason(decision: Decision) -> str:
    """The sides that deny the first denied pod pair, in one line."""
    for pair in decision.explanation.pairs:
        if not pair.allowed:
            sides = [s.describe() for s in (pair.egress, pair.ingress) if not s.allowed]
            return "; ".join(sides)
    return "allowed"


def _policy_ref(policy: Policy) -> str:
    return f"NetworkPolicy/{policy.namespace}/{policy.name}"


def _rules(policy: Policy) -> Iterator[Rule]:
    yield from policy.ingress or ()
    yield from policy.egress or ()


def _where(rule: Rule, peer_index: int | None = None) -> str:
    key = PEER_KEY[rule.direction]
    base = f"{rule.direction.lower()}[{rule.index}]"
    return f"{base}.{key}[{peer_index}]" if peer_index is not None else base


def _unmatched_peers(model: ClusterModel, index: CompiledPolicies, policy: Policy) -> Iterator[Finding]:
    for rule in _rules(policy):
        for number, peer in enumerate(rule.peers or ()):
            if not isinstance(peer, PodPeer):
                continue
            where = _where(rule, number)
            namespaces = [
                name
                for name, ns in model.namespaces.items()
                if peer.matches_namespace(name, ns.labels, policy.namespace)
            ]
            if not namespaces:
                selector = peer.namespace_selector.describe() if peer.namespace_selector else ""
                hint = ""
                if peer.namespace_selector and any(r.key == "name" for r in peer.namespace_selector.requirements):
                    hint = " (namespaces carry kubernetes.io/metadata.name; nothing sets a 'name' label)"
                message = f"{where}: namespaceSelector {selector} matches no namespace{hint}"
                yield finding("network-policy.peer-matches-nothing", _policy_ref(policy), message)
            elif not any(peer.matches(ref.endpoint, policy.namespace) for ref in index.pods):
                message = f"{where}: {peer.describe()} matches no pod in {', '.join(namespaces)}"
                yield finding("network-policy.peer-matches-nothing", _policy_ref(policy), message)


def _undeclared_named_ports(index: CompiledPolicies, policy: Policy) -> Iterator[Finding]:
    for rule in _rules(policy):
        named = [m for m in rule.ports or () if isinstance(m.port, str)]
        if not named:
            continue
        if rule.direction == INGRESS:
            targets = index.selected_pods(policy)  # a named port is resolved on the destination pod
        else:
            members = index.peer_set(policy, rule)
            targets = [ref for ref in index.pods if ref.index in members]
        workloads = {id(ref.workload): ref.workload for ref in targets if ref.workload is not None}
        if not workloads:
            continue  # a rule that reaches no pod is reported as matching nothing
        for matcher in named:
            if not any(w.named_port(str(matcher.port), matcher.protocol) for w in workloads.values()):
                who = ", ".join(sorted(w.id for w in workloads.values()))
                message = (
                    f"{_where(rule)}: port {matcher.port!r}/{matcher.protocol} is declared by none of the "
                    f"destination pods ({who}), so the rule admits nothing on it"
                )
                yield finding("network-policy.named-port-undeclared", _policy_ref(policy), message)


def _internet_egress_by_namespace_selector(index: CompiledPolicies, policy: Policy) -> Iterator[Finding]:
    for rule in policy.egress or ():
        for number, peer in enumerate(rule.peers or ()):
            if not (isinstance(peer, PodPeer) and peer.all_namespaces):
                continue
            if peer.pod_selector is not None and not peer.pod_selector.selects_all:
                continue
            served = {(p.port, p.protocol) for ref in index.pods if ref.workload for p in ref.workload.ports}
            outside = [
                m.describe()
                for m in rule.ports or ()
                if isinstance(m.port, int) and not any(m.matches(port, proto, None) for port, proto in served)
            ]
            if outside:
                message = (
                    f"{_where(rule, number)}: namespaceSelector {{}} allows {', '.join(outside)} to every pod, and no "
                    "pod listens there: the traffic is meant for outside the cluster, which a namespaceSelector "
                    "never matches"
                )
                yield finding("network-policy.internet-egress-namespace-selector", _policy_ref(policy), message)


def _dns(model: ClusterModel, index: CompiledPolicies, workload: Workload) -> Iterator[Finding]:
    refs = index.endpoints(workload.id)
    if not model.has(KUBE_DNS) or not any(index.selecting[EGRESS][ref.index] for ref in refs):
        return
    blocked = []
    reason = ""
    for protocol in ("UDP", "TCP"):
        decision = index.decide(workload.id, KUBE_DNS, 53, protocol)
        if not decision.allowed:
            blocked.append(f"53/{protocol}")
            reason = reason or denial_reason(decision)
    if blocked:
        message = f"{workload.id} cannot resolve names: {KUBE_DNS} {' and '.join(blocked)} denied ({reason})"
        yield finding("network-policy.dns-blocked", workload.ref, message)


def _cnpg(model: ClusterModel, index: CompiledPolicies, cluster: Workload) -> Iterator[Finding]:
    checks = [
        (
            operator,
            CNPG_STATUS_PORT,
            "network-policy.cnpg-operator-blocked",
            f"the operator {operator.id} cannot reach {cluster.id} on {CNPG_STATUS_PORT}/TCP, so it cannot see the "
            "instances' status or fail over",
        )
        for operator in model.workloads
        if operator.role == "cnpg-operator"
    ]
    if len(cluster.pods) > 1:
        what = f"instances of {cluster.id} cannot reach each other on {POSTGRES_PORT}/TCP: replicas cannot stream"
        checks.append((cluster, POSTGRES_PORT, "network-policy.cnpg-replication-blocked", what))
    for source, port, rule, what in checks:
        decision = index.decide(source.id, cluster.id, port, "TCP")
        if not decision.allowed:
            yield finding(rule, cluster.ref, f"{what} ({denial_reason(decision)})")


def _default_deny(model: ClusterModel, policies: tuple[Policy, ...]) -> Iterator[Finding]:
    for name in sorted({w.namespace for w in model.manifest_workloads}):
        missing = [
            direction
            for direction in (INGRESS, EGRESS)
            if not any(
                p.namespace == name and p.pod_selector.selects_all and p.rules(direction) is not None for p in policies
            )
        ]
        if missing:
            namespace = model.namespaces[name]
            ref = namespace.obj.ref if namespace.obj is not None else f"Namespace/{name}"
            message = (
                f"no policy with podSelector {{}} isolates namespace {name} for {' and '.join(missing)}: a workload "
                "added there is open by default"
            )
            yield finding("network-policy.no-default-deny", ref, message)


def network_policy_findings(model: ClusterModel) -> list[Finding]:
    index = compiled(model)
    findings = [finding("network-policy.invalid", obj.ref, problem) for obj, problem in index.invalid]
    for policy in index.policies:
        if not index.selected_pods(policy):
            message = (
                f"podSelector {policy.pod_selector.describe()} selects no pod in namespace {policy.namespace}, "
                "so the policy protects nothing"
            )
            findings.append(finding("network-policy.selects-nothing", _policy_ref(policy), message))
        findings.extend(_unmatched_peers(model, index, policy))
        findings.extend(_undeclared_named_ports(index, policy))
        findings.extend(_internet_egress_by_namespace_selector(index, policy))
    for workload in model.manifest_workloads:
        findings.extend(_dns(model, index, workload))
        if workload.operator_managed:
            findings.extend(_cnpg(model, index, workload))
    findings.extend(_default_deny(model, index.policies))
    return findings

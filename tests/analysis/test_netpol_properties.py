"""Properties of the NetworkPolicy engine over generated clusters and policies (Hypothesis)."""

from __future__ import annotations

import copy
from typing import Any

from analysis_builders import deployment, manifest_set, namespace, netpol
from hypothesis import given
from hypothesis import strategies as st

from dbc_validate.analysis.netpol import allowed, build_model, expected_matrix
from dbc_validate.analysis.netpol.engine import compiled
from dbc_validate.analysis.netpol.policy import EGRESS, INGRESS

NAMESPACES = ("a", "b")
KEYS = ("app", "tier")
VALUES = ("x", "y")
PORTS = ((80, "TCP", "http"), (53, "UDP", "dns"))

labels = st.dictionaries(st.sampled_from(KEYS), st.sampled_from(VALUES), max_size=2)
match_labels = st.dictionaries(st.sampled_from(KEYS), st.sampled_from(VALUES), max_size=1)
expression = st.one_of(
    st.builds(
        lambda k, v: {"key": k, "operator": "In", "values": v},
        st.sampled_from(KEYS),
        st.lists(st.sampled_from(VALUES), min_size=1, max_size=2, unique=True),
    ),
    st.builds(
        lambda k, v: {"key": k, "operator": "NotIn", "values": v},
        st.sampled_from(KEYS),
        st.lists(st.sampled_from(VALUES), min_size=1, max_size=2, unique=True),
    ),
    st.builds(lambda k: {"key": k, "operator": "Exists"}, st.sampled_from(KEYS)),
    st.builds(lambda k: {"key": k, "operator": "DoesNotExist"}, st.sampled_from(KEYS)),
)
selector = st.one_of(
    st.builds(lambda m: {"matchLabels": m}, match_labels),
    st.builds(lambda e: {"matchExpressions": e}, st.lists(expression, max_size=1)),
)
peer = st.one_of(
    st.builds(lambda s: {"podSelector": s}, selector),
    st.builds(lambda s: {"namespaceSelector": s}, selector),
    st.builds(lambda n, p: {"namespaceSelector": n, "podSelector": p}, selector, selector),
    st.just({"ipBlock": {"cidr": "0.0.0.0/0"}}),
)
port = st.one_of(
    st.builds(lambda p: {"port": p[0], "protocol": p[1]}, st.sampled_from(PORTS)),
    st.builds(lambda p: {"port": p[2], "protocol": p[1]}, st.sampled_from(PORTS)),
    st.just({"protocol": "UDP"}),
)
rule = st.fixed_dictionaries({}, optional={"peers": st.lists(peer, max_size=2), "ports": st.lists(port, max_size=2)})


def _rule(direction: str, raw: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    if "peers" in raw:
        result["from" if direction == INGRESS else "to"] = raw["peers"]
    if "ports" in raw:
        result["ports"] = raw["ports"]
    return result


@st.composite
def policy_spec(draw: Any) -> tuple[str, dict[str, Any]]:
    types = draw(st.sampled_from([[INGRESS], [EGRESS], [INGRESS, EGRESS]]))
    spec: dict[str, Any] = {"podSelector": draw(selector), "policyTypes": types}
    for direction in types:
        key = "ingress" if direction == INGRESS else "egress"
        spec[key] = [_rule(direction, r) for r in draw(st.lists(rule, max_size=2))]
    return draw(st.sampled_from(NAMESPACES)), spec


@st.composite
def cluster(draw: Any) -> dict[str, Any]:
    namespaces = [namespace(ns, **draw(labels)) for ns in NAMESPACES]
    workloads = [
        deployment(draw(st.sampled_from(NAMESPACES)), f"w{i}", draw(labels) or {"app": "x"}, PORTS)
        for i in range(draw(st.integers(2, 4)))
    ]
    policies = [netpol(ns, f"p{i}", spec) for i, (ns, spec) in enumerate(draw(st.lists(policy_spec(), max_size=4)))]
    return {"namespaces": namespaces, "workloads": workloads, "policies": policies}


def _model(parts: dict[str, Any]):
    return build_model(manifest_set(*parts["namespaces"], *parts["workloads"], *parts["policies"]), addons=())


def _allowed_flows(model) -> set[tuple[str, str, int, str]]:
    return {(f.source, f.destination, f.port, f.protocol) for f in expected_matrix(model) if f.allowed}


@given(cluster())
def test_a_pod_selected_by_no_policy_in_a_direction_is_open_in_it(parts):
    model = _model(parts)
    index = compiled(model)
    for source in model.workloads:
        for target in model.workloads:
            for number, protocol, _ in PORTS:
                decision = allowed(model, source.id, target.id, number, protocol)
                for pair in decision.explanation.pairs:
                    if not pair.egress.isolated_by:
                        assert pair.egress.allowed
                    if not pair.ingress.isolated_by:
                        assert pair.ingress.allowed
    # and the index agrees with the explanations about who is isolated
    for ref in index.pods:
        for direction in (INGRESS, EGRESS):
            expected = any(
                p.rules(direction) is not None and p.selects(ref.endpoint.namespace, ref.endpoint.labels)
                for p in index.policies
            )
            assert bool(index.selecting[direction][ref.index]) is expected


@given(cluster(), st.data())
def test_adding_a_rule_never_removes_an_allowed_flow(parts, data):
    if not parts["policies"]:
        return
    before = _allowed_flows(_model(parts))
    grown = copy.deepcopy(parts)
    target = data.draw(st.sampled_from(grown["policies"]))
    direction = data.draw(st.sampled_from(target["spec"]["policyTypes"]))
    key = "ingress" if direction == INGRESS else "egress"
    target["spec"].setdefault(key, []).append(_rule(direction, data.draw(rule)))
    assert before <= _allowed_flows(_model(grown))


@given(cluster(), st.sampled_from(NAMESPACES))
def test_an_empty_ingress_policy_isolates_every_pod_it_selects(parts, ns):
    deny = netpol(ns, "deny-all-ingress", {"podSelector": {}, "policyTypes": [INGRESS]})
    others = [
        p for p in parts["policies"] if p["metadata"]["namespace"] != ns or INGRESS not in p["spec"]["policyTypes"]
    ]
    model = _model({**parts, "policies": [*others, deny]})
    for flow in expected_matrix(model):
        if flow.destination.startswith(f"{ns}/"):
            assert not flow.allowed, flow


@given(labels, labels, labels, selector, selector)
def test_selectors_are_anded_inside_a_peer_and_ored_across_peers(ns_labels, client_labels, _unused, ns_sel, pod_sel):
    from dbc_validate.analysis.netpol.selectors import parse_selector

    client_labels = client_labels or {"app": "x"}
    base = [
        namespace("a"),
        namespace("b", **ns_labels),
        deployment("a", "server", {"role": "server"}, [80]),
        deployment("b", "client", client_labels),
    ]

    def reach(peers: list[dict[str, Any]]) -> bool:
        policy = netpol("a", "p", {"podSelector": {"matchLabels": {"role": "server"}}, "ingress": [{"from": peers}]})
        return allowed(build_model(manifest_set(*base, policy), addons=()), "b/client", "a/server", 80).allowed

    ns_match = parse_selector(ns_sel).matches({**ns_labels, "kubernetes.io/metadata.name": "b"})
    pod_match = parse_selector(pod_sel).matches(client_labels)
    assert reach([{"namespaceSelector": ns_sel, "podSelector": pod_sel}]) is (ns_match and pod_match)
    # a bare podSelector peer means the policy's namespace (a), where the client is not
    assert reach([{"namespaceSelector": ns_sel}, {"podSelector": pod_sel}]) is ns_match


@given(cluster(), st.randoms(use_true_random=False))
def test_the_order_of_policies_and_objects_does_not_matter(parts, random):
    shuffled = {key: list(value) for key, value in parts.items()}
    for value in shuffled.values():
        random.shuffle(value)
    assert _allowed_flows(_model(parts)) == _allowed_flows(_model(shuffled))

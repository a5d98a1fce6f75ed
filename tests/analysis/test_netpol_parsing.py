"""Policy semantics as data: selectors, ports, peers and policies parsed (or refused) like the API server does."""

from __future__ import annotations

import pytest
from analysis_builders import deployment, manifest_set, netpol

from dbc_validate.analysis.netpol import allowed, build_model
from dbc_validate.analysis.netpol.engine import compiled
from dbc_validate.analysis.netpol.peers import IPBlockPeer, PeerError, PodPeer, parse_peer
from dbc_validate.analysis.netpol.policy import EGRESS, INGRESS, PolicyError, parse_policy, policy_types
from dbc_validate.analysis.netpol.ports import PortError, PortMatcher, parse_port
from dbc_validate.analysis.netpol.selectors import SelectorError, parse_selector
from dbc_validate.manifests.model import to_object


@pytest.mark.parametrize(
    ("raw", "labels", "expected"),
    [
        (None, {}, True),
        ({}, {"a": "1"}, True),
        ({"matchLabels": {"a": "1"}}, {"a": "1", "b": "2"}, True),
        ({"matchLabels": {"a": "1", "b": "2"}}, {"a": "1"}, False),
        ({"matchLabels": {"a": "1"}, "matchExpressions": [{"key": "b", "operator": "Exists"}]}, {"a": "1"}, False),
    ],
)
def test_selector_requirements_are_anded(raw, labels, expected):
    assert parse_selector(raw).matches(labels) is expected


@pytest.mark.parametrize(
    "raw",
    [
        {"matchExpressions": [{"key": "a", "operator": "Equals", "values": ["1"]}]},
        {"matchExpressions": [{"key": "a", "operator": "In"}]},
        {"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["1"]}]},
        {"matchExpressions": [{"operator": "Exists"}]},
        {"matchLabels": ["a"]},
    ],
)
def test_selectors_the_api_server_rejects_are_errors(raw):
    with pytest.raises(SelectorError):
        parse_selector(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"port": 80}, PortMatcher("TCP", 80)),
        ({"port": "80", "protocol": "UDP"}, PortMatcher("UDP", 80)),
        ({"port": "http"}, PortMatcher("TCP", "http")),
        ({"protocol": "SCTP"}, PortMatcher("SCTP", None)),
        ({"port": 1000, "endPort": 2000}, PortMatcher("TCP", 1000, 2000)),
    ],
)
def test_ports_parse_with_tcp_as_the_default_protocol(raw, expected):
    assert parse_port(raw, "p") == expected


@pytest.mark.parametrize(
    "raw",
    [
        {"port": 80, "protocol": "ICMP"},
        {"port": 0},
        {"port": "http", "endPort": 90},
        {"port": 100, "endPort": 90},
        {"endPort": 90},
    ],
)
def test_ports_the_api_server_rejects_are_errors(raw):
    with pytest.raises(PortError):
        parse_port(raw, "p")


def test_peers_parse_into_pod_peers_and_ip_blocks():
    peer = parse_peer({"namespaceSelector": {}, "podSelector": {"matchLabels": {"a": "b"}}}, "p")
    assert isinstance(peer, PodPeer) and peer.all_namespaces
    block = parse_peer({"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}}, "p")
    assert isinstance(block, IPBlockPeer) and str(block.excepts[0]) == "10.1.0.0/16"


def test_a_null_namespace_selector_is_absent_and_an_empty_one_matches_every_namespace():
    null = parse_peer({"namespaceSelector": None, "podSelector": {}}, "p")
    assert isinstance(null, PodPeer) and null.namespace_selector is None
    empty = parse_peer({"namespaceSelector": {}}, "p")
    assert isinstance(empty, PodPeer) and empty.all_namespaces


@pytest.mark.parametrize(
    "raw",
    [
        {},
        {"podSelector": None},
        {"ipBlock": {"cidr": "10.0.0.0/8"}, "podSelector": {}},
        {"ipBlock": {"cidr": "10.0.0.0/8", "except": ["192.168.0.0/16"]}},
        {"ipBlock": {"cidr": "not-a-cidr"}},
        {"ipBlock": {}},
    ],
)
def test_peers_the_api_server_rejects_are_errors(raw):
    with pytest.raises(PeerError):
        parse_peer(raw, "p")


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({}, (INGRESS,)),
        ({"egress": []}, (INGRESS,)),
        ({"egress": [{}]}, (INGRESS, EGRESS)),
        ({"policyTypes": ["Egress"], "ingress": [{}]}, (EGRESS,)),
    ],
)
def test_policy_types_default_like_the_api_server(spec, expected):
    assert policy_types(spec) == expected


def test_a_rule_without_peers_or_ports_admits_everything():
    policy = parse_policy(to_object(netpol("ns", "p", {"podSelector": {}, "ingress": [{}]}), "t"))
    (rule,) = policy.ingress
    assert rule.peers is None and rule.ports is None
    assert policy.egress is None  # not isolating egress at all


def test_an_invalid_policy_is_reported_and_does_not_exist_for_the_engine():
    bad = netpol("ns", "bad", {"podSelector": {}, "policyTypes": ["Ingress", "Sideways"]})
    model = build_model(
        manifest_set(deployment("ns", "a", None, [80]), deployment("ns", "b", None, [80]), bad), addons=()
    )
    index = compiled(model)
    assert index.policies == () and [obj.name for obj, _ in index.invalid] == ["bad"]
    assert allowed(model, "ns/a", "ns/b", 80, "TCP").allowed
    with pytest.raises(PolicyError, match="Sideways"):
        parse_policy(to_object(bad, "t"))

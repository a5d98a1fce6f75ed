"""The NetworkPolicy engine against truth tables built from the Kubernetes documentation's examples."""

from __future__ import annotations

import pytest
from analysis_builders import cnpg_cluster, deployment, manifest_set, namespace, netpol

from dbc_validate.analysis.netpol import allowed, build_model

# --- "The NetworkPolicy resource" example (concepts/services-networking/network-policies) -------------

DOCS_EXAMPLE = netpol(
    "default",
    "test-network-policy",
    {
        "podSelector": {"matchLabels": {"role": "db"}},
        "policyTypes": ["Ingress", "Egress"],
        "ingress": [
            {
                "from": [
                    {"ipBlock": {"cidr": "172.17.0.0/16", "except": ["172.17.1.0/24"]}},
                    {"namespaceSelector": {"matchLabels": {"project": "myproject"}}},
                    {"podSelector": {"matchLabels": {"role": "frontend"}}},
                ],
                "ports": [{"protocol": "TCP", "port": 6379}],
            }
        ],
        "egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/24"}}], "ports": [{"protocol": "TCP", "port": 5978}]}],
    },
)


@pytest.fixture(scope="module")
def docs_model():
    return build_model(
        manifest_set(
            namespace("default"),
            namespace("myproject", project="myproject"),
            namespace("otherns"),
            deployment("default", "db", {"role": "db"}, [6379]),
            deployment("default", "frontend", {"role": "frontend"}, [80]),
            deployment("default", "other", {"role": "other"}, [80]),
            deployment("myproject", "client", {"role": "anything"}, [80]),
            deployment("otherns", "frontend", {"role": "frontend"}, [80]),
            DOCS_EXAMPLE,
        ),
        addons=(),
    )


@pytest.mark.parametrize(
    ("src", "dst", "port", "protocol", "expected"),
    [
        ("default/frontend", "default/db", 6379, "TCP", True),  # podSelector peer, policy's own namespace
        ("default/other", "default/db", 6379, "TCP", False),  # no peer matches role=other
        ("myproject/client", "default/db", 6379, "TCP", True),  # namespaceSelector peer: every pod there
        ("otherns/frontend", "default/db", 6379, "TCP", False),  # a bare podSelector never leaves its namespace
        ("172.17.0.5", "default/db", 6379, "TCP", True),  # ipBlock cidr
        ("172.17.1.5", "default/db", 6379, "TCP", False),  # ipBlock except
        ("default/frontend", "default/db", 6380, "TCP", False),  # port not listed
        ("default/frontend", "default/db", 6379, "UDP", False),  # protocol not listed
        ("default/db", "10.0.0.7", 5978, "TCP", True),  # egress ipBlock + port
        ("default/db", "10.0.0.7", 5979, "TCP", False),
        ("default/db", "10.0.1.7", 5978, "TCP", False),  # outside the egress cidr
        ("default/db", "default/frontend", 80, "TCP", False),  # egress isolated: pods are not in any ipBlock
        ("default/frontend", "default/other", 80, "TCP", True),  # neither side isolated
    ],
)
def test_docs_example_policy_truth_table(docs_model, src, dst, port, protocol, expected):
    decision = allowed(docs_model, src, dst, port, protocol)
    assert decision.allowed is expected, decision.explanation.text()


def test_explanation_names_the_isolating_policy_and_the_admitting_rule(docs_model):
    decision = allowed(docs_model, "default/frontend", "default/db", 6379, "TCP")
    (pair,) = decision.explanation.pairs
    assert pair.ingress.isolated_by == ("default/test-network-policy",)
    assert pair.ingress.admitted_by == ("default/test-network-policy from-rule 0",)
    assert pair.egress.isolated_by == ()  # frontend is selected by no policy: open for egress
    denied = allowed(docs_model, "default/other", "default/db", 6379, "TCP")
    assert "no rule admits this flow" in denied.explanation.text()


# --- default policies ("Default policies" section) ------------------------------------------------------


def _pair_model(*policies):
    return build_model(
        manifest_set(
            namespace("default"),
            deployment("default", "a", {"app": "a"}, [80]),
            deployment("default", "b", {"app": "b"}, [80]),
            *policies,
        ),
        addons=(),
    )


DEFAULT_POLICIES = {
    "default-deny-ingress": {"podSelector": {}, "policyTypes": ["Ingress"]},
    "allow-all-ingress": {"podSelector": {}, "ingress": [{}], "policyTypes": ["Ingress"]},
    "default-deny-egress": {"podSelector": {}, "policyTypes": ["Egress"]},
    "allow-all-egress": {"podSelector": {}, "egress": [{}], "policyTypes": ["Egress"]},
    "default-deny-all": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
}


@pytest.mark.parametrize(
    ("policies", "expected"),
    [
        ((), True),
        (("default-deny-ingress",), False),
        (("allow-all-ingress",), True),
        (("default-deny-ingress", "allow-all-ingress"), True),  # allowed = union of selecting policies
        (("default-deny-egress",), False),
        (("allow-all-egress",), True),
        (("default-deny-egress", "allow-all-egress"), True),
        (("default-deny-all",), False),
        (("default-deny-all", "allow-all-ingress"), False),  # egress still denied: both sides must allow
        (("default-deny-all", "allow-all-ingress", "allow-all-egress"), True),
    ],
)
def test_default_policies_truth_table(policies, expected):
    model = _pair_model(*(netpol("default", name, DEFAULT_POLICIES[name]) for name in policies))
    assert allowed(model, "default/a", "default/b", 80, "TCP").allowed is expected


def test_deny_ingress_leaves_egress_to_other_namespaces_open():
    model = build_model(
        manifest_set(
            deployment("default", "a", {"app": "a"}, [80]),
            deployment("other", "c", {"app": "c"}, [80]),
            netpol("default", "deny", DEFAULT_POLICIES["default-deny-ingress"]),
        ),
        addons=(),
    )
    assert allowed(model, "default/a", "other/c", 80, "TCP").allowed
    assert not allowed(model, "other/c", "default/a", 80, "TCP").allowed


# --- policyTypes defaulting -----------------------------------------------------------------------------


def test_omitted_policy_types_isolate_egress_only_when_egress_rules_exist():
    ingress_only = {"podSelector": {"matchLabels": {"app": "a"}}, "ingress": [{}]}
    assert allowed(_pair_model(netpol("default", "p", ingress_only)), "default/a", "default/b", 80, "TCP").allowed
    empty_egress = {**ingress_only, "egress": []}  # an empty list does not add Egress
    assert allowed(_pair_model(netpol("default", "p", empty_egress)), "default/a", "default/b", 80, "TCP").allowed
    with_egress = {**ingress_only, "egress": [{"ports": [{"port": 443}]}]}
    model = _pair_model(netpol("default", "p", with_egress))
    assert not allowed(model, "default/a", "default/b", 80, "TCP").allowed
    assert allowed(model, "default/a", "default/b", 443, "TCP").allowed


def test_ingress_rules_are_ignored_when_policy_types_lists_only_egress():
    spec = {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{}], "ingress": [{"ports": [{"port": 1}]}]}
    assert allowed(_pair_model(netpol("default", "p", spec)), "default/a", "default/b", 80, "TCP").allowed


# --- AND vs OR peers ("Behavior of to and from selectors") ------------------------------------------------


@pytest.fixture(scope="module")
def alice_namespaces():
    return (
        namespace("default"),
        namespace("alice", user="alice"),
        namespace("bob", user="bob"),
        deployment("default", "server", {"app": "server"}, [80]),
        deployment("alice", "client", {"role": "client"}, [80]),
        deployment("alice", "web", {"role": "web"}, [80]),
        deployment("bob", "client", {"role": "client"}, [80]),
        deployment("default", "client", {"role": "client"}, [80]),
    )


AND_PEER = [
    {"namespaceSelector": {"matchLabels": {"user": "alice"}}, "podSelector": {"matchLabels": {"role": "client"}}}
]
OR_PEERS = [
    {"namespaceSelector": {"matchLabels": {"user": "alice"}}},
    {"podSelector": {"matchLabels": {"role": "client"}}},
]


@pytest.mark.parametrize(
    ("peers", "src", "expected"),
    [
        (AND_PEER, "alice/client", True),
        (AND_PEER, "alice/web", False),  # namespace matches, pod does not
        (AND_PEER, "bob/client", False),  # pod matches, namespace does not
        (AND_PEER, "default/client", False),
        (OR_PEERS, "alice/client", True),
        (OR_PEERS, "alice/web", True),  # any pod of alice's namespaces
        (OR_PEERS, "bob/client", False),  # the bare podSelector means the policy's namespace only
        (OR_PEERS, "default/client", True),
    ],
)
def test_and_within_a_peer_or_across_peers(alice_namespaces, peers, src, expected):
    policy = netpol("default", "p", {"podSelector": {"matchLabels": {"app": "server"}}, "ingress": [{"from": peers}]})
    model = build_model(manifest_set(*alice_namespaces, policy), addons=())
    assert allowed(model, src, "default/server", 80, "TCP").allowed is expected


def test_empty_namespace_selector_matches_every_namespace_but_no_address(alice_namespaces):
    policy = netpol(
        "default",
        "p",
        {"podSelector": {"matchLabels": {"app": "server"}}, "ingress": [{"from": [{"namespaceSelector": {}}]}]},
    )
    model = build_model(manifest_set(*alice_namespaces, policy), addons=())
    assert allowed(model, "bob/client", "default/server", 80, "TCP").allowed
    assert not allowed(model, "203.0.113.9", "default/server", 80, "TCP").allowed


def test_namespace_targeted_by_its_immutable_name_label():
    def model_with(selector):
        policy = netpol("prod", "p", {"podSelector": {}, "ingress": [{"from": [{"namespaceSelector": selector}]}]})
        return build_model(
            manifest_set(
                namespace("prod"),
                namespace("infra"),
                deployment("prod", "web", {"app": "web"}, [80]),
                deployment("infra", "job", {"app": "job"}, [80]),
                policy,
            ),
            addons=(),
        )

    by_metadata_name = model_with({"matchLabels": {"kubernetes.io/metadata.name": "infra"}})
    assert allowed(by_metadata_name, "infra/job", "prod/web", 80, "TCP").allowed
    by_name = model_with({"matchLabels": {"name": "infra"}})  # nothing sets a `name` label
    assert not allowed(by_name, "infra/job", "prod/web", 80, "TCP").allowed


# --- matchExpressions -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "src", "expected"),
    [
        ({"key": "tier", "operator": "In", "values": ["web", "api"]}, "default/api", True),
        ({"key": "tier", "operator": "In", "values": ["web"]}, "default/api", False),
        ({"key": "tier", "operator": "NotIn", "values": ["web"]}, "default/api", True),
        ({"key": "tier", "operator": "NotIn", "values": ["web"]}, "default/untiered", True),  # key absent matches
        ({"key": "tier", "operator": "Exists"}, "default/untiered", False),
        ({"key": "tier", "operator": "DoesNotExist"}, "default/untiered", True),
        ({"key": "tier", "operator": "DoesNotExist"}, "default/api", False),
    ],
)
def test_match_expressions_truth_table(expression, src, expected):
    model = build_model(
        manifest_set(
            deployment("default", "server", {"app": "server"}, [80]),
            deployment("default", "api", {"tier": "api"}, [80]),
            deployment("default", "untiered", {"app": "untiered"}, [80]),
            netpol(
                "default",
                "p",
                {
                    "podSelector": {"matchLabels": {"app": "server"}},
                    "ingress": [{"from": [{"podSelector": {"matchExpressions": [expression]}}]}],
                },
            ),
        ),
        addons=(),
    )
    assert allowed(model, src, "default/server", 80, "TCP").allowed is expected


# --- ports ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("port", "expected"), [(31999, False), (32000, True), (32500, True), (32768, True), (32769, False)]
)
def test_end_port_range_is_inclusive(port, expected):
    model = build_model(
        manifest_set(
            deployment("default", "a", {"app": "a"}),
            netpol(
                "default",
                "multi-port-egress",
                {
                    "podSelector": {"matchLabels": {"app": "a"}},
                    "policyTypes": ["Egress"],
                    "egress": [
                        {
                            "to": [{"ipBlock": {"cidr": "10.0.0.0/24"}}],
                            "ports": [{"protocol": "TCP", "port": 32000, "endPort": 32768}],
                        }
                    ],
                },
            ),
        ),
        addons=(),
    )
    assert allowed(model, "default/a", "10.0.0.9", port, "TCP").allowed is expected


def test_named_port_is_resolved_on_each_destination_pod():
    model = build_model(
        manifest_set(
            deployment("default", "client", {"app": "client"}),
            deployment("default", "web1", {"tier": "web"}, [(8080, "TCP", "http")]),
            deployment("default", "web2", {"tier": "web"}, [(9090, "TCP", "http"), (8080, "TCP", "admin")]),
            netpol(
                "default",
                "p",
                {"podSelector": {"matchLabels": {"tier": "web"}}, "ingress": [{"ports": [{"port": "http"}]}]},
            ),
        ),
        addons=(),
    )
    assert allowed(model, "default/client", "default/web1", 8080, "TCP").allowed
    assert allowed(model, "default/client", "default/web2", 9090, "TCP").allowed
    assert not allowed(model, "default/client", "default/web2", 8080, "TCP").allowed  # 8080 is "admin" there


def test_named_port_in_egress_is_resolved_on_the_destination():
    model = build_model(
        manifest_set(
            deployment("default", "client", {"app": "client"}),
            deployment("default", "db", {"app": "db"}, [(5432, "TCP", "postgresql")]),
            netpol(
                "default",
                "p",
                {
                    "podSelector": {"matchLabels": {"app": "client"}},
                    "policyTypes": ["Egress"],
                    "egress": [{"ports": [{"port": "postgresql"}]}],
                },
            ),
        ),
        addons=(),
    )
    assert allowed(model, "default/client", "default/db", 5432, "TCP").allowed
    assert not allowed(model, "default/client", "192.0.2.1", 5432, "TCP").allowed  # an address has no port names


def test_protocol_defaults_to_tcp_so_dns_needs_udp_listed():
    model = build_model(
        manifest_set(
            deployment("default", "a", {"app": "a"}),
            netpol(
                "default", "dns", {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{"ports": [{"port": 53}]}]}
            ),
        ),
        addons=(),
    )
    assert allowed(model, "default/a", "kube-system/kube-dns", 53, "TCP").allowed
    assert not allowed(model, "default/a", "kube-system/kube-dns", 53, "UDP").allowed


def test_ip_block_never_matches_pods():
    model = build_model(
        manifest_set(
            deployment("default", "a", {"app": "a"}),
            deployment("other", "b", {"app": "b"}, [80]),
            netpol(
                "default",
                "p",
                {
                    "podSelector": {},
                    "policyTypes": ["Egress"],
                    "egress": [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]}],
                },
            ),
        ),
        addons=(),
    )
    assert allowed(model, "default/a", "198.51.100.4", 80, "TCP").allowed
    assert not allowed(model, "default/a", "other/b", 80, "TCP").allowed


def test_a_flow_needs_both_the_source_egress_and_the_destination_ingress():
    model = build_model(
        manifest_set(
            deployment("a", "client", {"app": "client"}),
            deployment("b", "server", {"app": "server"}, [80]),
            netpol("a", "egress", {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{}]}),
            netpol("b", "deny", {"podSelector": {}, "policyTypes": ["Ingress"]}),
        ),
        addons=(),
    )
    decision = allowed(model, "a/client", "b/server", 80, "TCP")
    assert not decision.allowed
    (pair,) = decision.explanation.pairs
    assert pair.egress.allowed and not pair.ingress.allowed


def test_a_policy_selecting_only_the_primary_makes_the_cluster_partially_reachable():
    model = build_model(
        manifest_set(
            deployment("infra", "app", {"app": "app"}),
            cnpg_cluster("infra", "pg"),
            netpol(
                "infra",
                "deny",
                {"podSelector": {"matchLabels": {"cnpg.io/instanceRole": "replica"}}, "policyTypes": ["Ingress"]},
            ),
        ),
        addons=(),
    )
    decision = allowed(model, "infra/app", "infra/pg", 5432, "TCP")
    assert not decision.allowed and decision.partial
    reachable = {p.destination_pod: p.allowed for p in decision.explanation.pairs}
    assert reachable == {"infra/pg-1": True, "infra/pg-2": False, "infra/pg-3": False}

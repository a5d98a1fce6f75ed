"""The NetworkPolicy baseline of each application namespace, and the app-path truth table's consistency.

Whether the policies allow exactly the table's flows is judged by the NetworkPolicy engine in
tests/analysis/test_app_paths.py and in the Gate 1 suite test_network_app_paths.py; here the table is
checked to be well formed and to name the Gate 1 app paths.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from overlay_checks import APP_NAMESPACES, OVERLAYS, load_fixture

from dbc_validate.manifests.model import ManifestSet

PATHS = load_fixture("app_paths.yaml")["paths"]


def _peers(policy_spec: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for direction, side in (("ingress", "from"), ("egress", "to")):
        for rule in policy_spec.get(direction) or []:
            yield from rule.get(side) or []


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_app_namespace_denies_by_default_and_allows_dns_over_udp_and_tcp(
    overlay: str, overlay_sets: dict[str, ManifestSet]
):
    manifests = overlay_sets[overlay]
    for namespace in APP_NAMESPACES:
        deny = manifests.get("NetworkPolicy", "default-deny", namespace).spec
        assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
        dns = manifests.get("NetworkPolicy", "allow-dns", namespace).spec
        assert dns["podSelector"] == {}
        (rule,) = dns["egress"]
        assert rule["to"] == [
            {
                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
            }
        ]
        assert {(p["protocol"], p["port"]) for p in rule["ports"]} == {("UDP", 53), ("TCP", 53)}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_no_policy_peer_selects_every_namespace(overlay: str, overlay_sets: dict[str, ManifestSet]):
    for policy in overlay_sets[overlay].of_kind("NetworkPolicy"):
        for peer in _peers(dict(policy.spec)):
            selector = peer.get("namespaceSelector")
            assert selector is None or selector, f"{policy.ref}: namespaceSelector {{}} matches every namespace"


def test_app_path_table_is_well_formed_and_unique():
    keys = set()
    for entry in PATHS:
        assert set(entry) == {"from", "to", "port", "protocol", "allowed", "why"}, entry
        assert entry["protocol"] in ("TCP", "UDP") and isinstance(entry["port"], int)
        assert isinstance(entry["allowed"], bool) and entry["why"].strip()
        key = (entry["from"], entry["to"], entry["port"], entry["protocol"])
        assert key not in keys, f"duplicate entry {key}"
        keys.add(key)
    assert any(e["allowed"] for e in PATHS) and any(not e["allowed"] for e in PATHS)


def test_app_path_table_contains_the_gate1_app_paths():
    table = {(e["from"], e["to"], e["port"], e["protocol"]): e["allowed"] for e in PATHS}
    must_allow = [
        ("ingress-system/traefik", "prod/wordpress-blue", 8080, "TCP"),
        ("ingress-system/traefik", "stage/wordpress-blue", 8080, "TCP"),
        ("prod/wordpress-blue", "infra/mysql", 3306, "TCP"),
        ("stage/wordpress-blue", "infra/mysql", 3306, "TCP"),
        ("cnpg-system/cnpg-controller-manager", "infra/postgres-cluster", 8000, "TCP"),
        ("infra/postgres-cluster", "infra/postgres-cluster", 5432, "TCP"),
    ]
    must_allow += [
        (src, "kube-system/kube-dns", 53, proto)
        for src in ("prod/wordpress-blue", "stage/wordpress-blue", "infra/mysql", "infra/postgres-cluster")
        for proto in ("UDP", "TCP")
    ]
    must_deny = [
        ("stage/wordpress-blue", "prod/wordpress-blue", 8080, "TCP"),
        ("ingress-system/traefik", "infra/mysql", 3306, "TCP"),
        ("infra/postgres-cluster", "infra/mysql", 3306, "TCP"),
        ("prod/wordpress-blue", "infra/postgres-cluster", 5432, "TCP"),
    ]
    assert [f for f in must_allow if table.get(f) is not True] == []
    assert [f for f in must_deny if table.get(f) is not False] == []
    # "anything except WordPress -> MySQL": every flow to MySQL the table allows comes from WordPress.
    assert {e["from"] for e in PATHS if e["to"] == "infra/mysql" and e["allowed"]} == {
        "prod/wordpress-blue",
        "stage/wordpress-blue",
    }

"""Secrets: none in plaintext; every reference is in the deploy-time contract; prod seals exactly that contract."""

from __future__ import annotations

import pytest
from overlay_checks import MANIFESTS, OVERLAYS, secret_refs

from dbc_validate.manifests.deploy_time_secrets import parse_deploy_time_secrets
from dbc_validate.manifests.model import ManifestSet

# The harness's own parser: it refuses unknown value names and operator-supplied values on kind/k3d.
CONTRACT = parse_deploy_time_secrets(
    (MANIFESTS / "deploy-time-secrets.yaml").read_text(encoding="utf-8"), "manifests/deploy-time-secrets.yaml"
)


def _contract_for(overlay: str) -> dict[tuple[str, str], set[str]]:
    return {(s.namespace, s.name): set(s.data) for s in CONTRACT.for_overlay(overlay)}


def test_both_sides_of_the_wordpress_database_password_are_one_declared_value():
    mysql = next(s for s in CONTRACT.secrets if s.name == "mysql")
    wordpress = [s for s in CONTRACT.secrets if s.name == "wordpress"]
    assert {s.namespace for s in wordpress} == {"prod", "stage"}
    for secret in wordpress:
        assert secret.data["WORDPRESS_DB_PASSWORD"] == mysql.data["password"] == "wordpress-db-password"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_contains_no_plaintext_secret(overlay: str, overlay_sets: dict[str, ManifestSet]):
    assert overlay_sets[overlay].of_kind("Secret") == []


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_secret_reference_is_in_the_deploy_time_contract(overlay: str, overlay_sets: dict[str, ManifestSet]):
    contract = _contract_for(overlay)
    refs = secret_refs(overlay_sets[overlay])
    assert refs
    for namespace, name, key in refs:
        assert (namespace, name) in contract, f"{namespace}/{name} is referenced but not in the contract"
        assert key is None or key in contract[(namespace, name)], f"{namespace}/{name} has no key {key}"
    assert {(ns, name) for ns, name, _ in refs} == set(contract), "the contract lists a secret nothing uses"


def test_prod_seals_exactly_the_contract_with_strict_scope(overlay_sets: dict[str, ManifestSet]):
    sealed = {
        (o.namespace, o.name): set(o.spec["encryptedData"])
        for o in overlay_sets["prod"].of_kind("SealedSecret", group="bitnami.com")
    }
    assert sealed == _contract_for("prod")
    for obj in overlay_sets["prod"].of_kind("SealedSecret"):
        template = obj.spec["template"]["metadata"]
        assert (template["namespace"], template["name"]) == (obj.namespace, obj.name)
        assert "sealedsecrets.bitnami.com/cluster-wide" not in obj.annotations
        assert "sealedsecrets.bitnami.com/namespace-wide" not in obj.annotations

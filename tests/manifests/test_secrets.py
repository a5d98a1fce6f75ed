"""Secrets: none in plaintext; every reference is in the deploy-time contract; prod seals exactly that contract."""

from __future__ import annotations

import pytest
import yaml
from overlay_checks import MANIFESTS, OVERLAYS, secret_refs

from dbc_validate.manifests.model import ManifestSet

CONTRACT = yaml.safe_load((MANIFESTS / "deploy-time-secrets.yaml").read_text(encoding="utf-8"))


def _contract_for(overlay: str) -> dict[tuple[str, str], set[str]]:
    return {(s["namespace"], s["name"]): set(s["data"]) for s in CONTRACT["secrets"] if overlay in s["overlays"]}


def test_contract_names_only_declared_values_and_generates_every_test_cluster_value():
    values = CONTRACT["values"]
    for secret in CONTRACT["secrets"]:
        for key, value in secret["data"].items():
            assert value in values, f"{secret['namespace']}/{secret['name']}.{key} names unknown value {value}"
            if {"kind", "k3d"} & set(secret["overlays"]):
                assert values[value]["generated"], f"{value} is needed on test clusters but cannot be generated"
    # Both sides of the WordPress database password are one value.
    mysql = next(s for s in CONTRACT["secrets"] if s["name"] == "mysql")
    wordpress = [s for s in CONTRACT["secrets"] if s["name"] == "wordpress"]
    assert {s["namespace"] for s in wordpress} == {"prod", "stage"}
    for secret in wordpress:
        assert secret["data"]["WORDPRESS_DB_PASSWORD"] == mysql["data"]["password"]


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
